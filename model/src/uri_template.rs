use std::collections::BTreeMap;

use crate::ValidationError;

/// One piece of an integration URI template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UriPart {
    Literal(String),
    /// `{name}` or `${request.path.name}`: the request's path parameter.
    PathParam(String),
    /// `${stageVariables.name}`: the stage's variable.
    StageVariable(String),
}

/// A parsed integration URI such as `http://notes.internal:8080/notes/{id}` or
/// `https://${stageVariables.backend}/{proxy}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriTemplate {
    pub parts: Vec<UriPart>,
}

fn name_ok(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
}

impl UriTemplate {
    pub fn parse(uri: &str) -> Result<Self, ValidationError> {
        let err = |m: String| ValidationError::new("integrationUri", m);
        if !(uri.starts_with("http://") || uri.starts_with("https://")) {
            return Err(err(format!(
                "Invalid integration URI '{uri}': it must be an absolute http:// or https:// URI"
            )));
        }
        if uri.len() > 2048 {
            return Err(err("Integration URI must be at most 2048 characters".into()));
        }
        if let Some(c) = uri.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return Err(err(format!(
                "Invalid integration URI '{uri}': character {c:?} is not allowed"
            )));
        }
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = uri;
        while let Some(pos) = rest.find(['{', '$']) {
            let (before, tail) = rest.split_at(pos);
            literal.push_str(before);
            if let Some(after) = tail.strip_prefix("${") {
                let Some(end) = after.find('}') else {
                    return Err(err(format!(
                        "Invalid integration URI '{uri}': '${{' is not closed"
                    )));
                };
                let expr = &after[..end];
                let part = if let Some(name) = expr.strip_prefix("stageVariables.") {
                    UriPart::StageVariable(name.to_string())
                } else if let Some(name) = expr.strip_prefix("request.path.") {
                    UriPart::PathParam(name.to_string())
                } else {
                    return Err(err(format!(
                        "Invalid integration URI '{uri}': unsupported variable '${{{expr}}}' (use ${{stageVariables.name}} or ${{request.path.name}})"
                    )));
                };
                let name = match &part {
                    UriPart::StageVariable(n) | UriPart::PathParam(n) => n,
                    UriPart::Literal(_) => unreachable!(),
                };
                if !name_ok(name) {
                    return Err(err(format!(
                        "Invalid integration URI '{uri}': bad variable name in '${{{expr}}}'"
                    )));
                }
                flush(&mut literal, &mut parts);
                parts.push(part);
                rest = &after[end + 1..];
            } else if let Some(after) = tail.strip_prefix('{') {
                let Some(end) = after.find('}') else {
                    return Err(err(format!(
                        "Invalid integration URI '{uri}': '{{' is not closed"
                    )));
                };
                let name = after[..end].trim_end_matches('+');
                if !name_ok(name) {
                    return Err(err(format!(
                        "Invalid integration URI '{uri}': bad path parameter '{{{}}}'",
                        &after[..end]
                    )));
                }
                flush(&mut literal, &mut parts);
                parts.push(UriPart::PathParam(name.to_string()));
                rest = &after[end + 1..];
            } else {
                // A lone '$' is an ordinary character.
                literal.push('$');
                rest = &tail[1..];
            }
        }
        literal.push_str(rest);
        flush(&mut literal, &mut parts);
        let template = UriTemplate { parts };
        template.check_authority(uri)?;
        Ok(template)
    }

    /// The host must be there: either literally or from a stage variable.
    fn check_authority(&self, uri: &str) -> Result<(), ValidationError> {
        if let Some(UriPart::Literal(first)) = self.parts.first() {
            let after_scheme = first.split_once("://").map(|(_, a)| a).unwrap_or("");
            let host_is_variable = after_scheme.is_empty() && self.parts.len() > 1;
            if !host_is_variable && (after_scheme.is_empty() || after_scheme.starts_with('/')) {
                return Err(ValidationError::new(
                    "integrationUri",
                    format!("Invalid integration URI '{uri}': it has no host"),
                ));
            }
        }
        Ok(())
    }

    pub fn path_params(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            UriPart::PathParam(n) => Some(n.as_str()),
            _ => None,
        })
    }

    pub fn stage_variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            UriPart::StageVariable(n) => Some(n.as_str()),
            _ => None,
        })
    }

    /// The template as one stage serves it: each stage variable replaced by the stage's
    /// value, or by nothing when the stage does not define it, as AWS renders it. Path
    /// parameters stay placeholders until a request fills them.
    pub fn for_stage(&self, stage_variables: &BTreeMap<String, String>) -> UriTemplate {
        self.substitute(
            |name| Some(stage_variables.get(name).cloned().unwrap_or_default()),
            |_| None,
        )
    }

    /// Fills in what is known: `stage_var` and `path_param` return `None` for a value
    /// that is not known yet, which stays a placeholder in the result.
    pub fn substitute(
        &self,
        mut stage_var: impl FnMut(&str) -> Option<String>,
        mut path_param: impl FnMut(&str) -> Option<String>,
    ) -> UriTemplate {
        let mut parts = Vec::with_capacity(self.parts.len());
        let mut literal = String::new();
        for part in &self.parts {
            let value = match part {
                UriPart::Literal(l) => Some(l.clone()),
                UriPart::StageVariable(n) => stage_var(n),
                UriPart::PathParam(n) => path_param(n),
            };
            match value {
                Some(v) => literal.push_str(&v),
                None => {
                    flush(&mut literal, &mut parts);
                    parts.push(part.clone());
                }
            }
        }
        flush(&mut literal, &mut parts);
        UriTemplate { parts }
    }
}

fn flush(literal: &mut String, parts: &mut Vec<UriPart>) {
    if !literal.is_empty() {
        parts.push(UriPart::Literal(std::mem::take(literal)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> UriPart {
        UriPart::Literal(s.into())
    }

    #[test]
    fn parses_placeholders() {
        let t = UriTemplate::parse("http://h:8080/notes/{id}?x=${stageVariables.v}").unwrap();
        assert_eq!(
            t.parts,
            vec![
                lit("http://h:8080/notes/"),
                UriPart::PathParam("id".into()),
                lit("?x="),
                UriPart::StageVariable("v".into()),
            ]
        );
        let t = UriTemplate::parse("https://${stageVariables.host}/{proxy+}").unwrap();
        assert_eq!(
            t.parts,
            vec![
                lit("https://"),
                UriPart::StageVariable("host".into()),
                lit("/"),
                UriPart::PathParam("proxy".into()),
            ]
        );
        let t = UriTemplate::parse("http://h/${request.path.id}/$x").unwrap();
        assert_eq!(
            t.parts,
            vec![
                lit("http://h/"),
                UriPart::PathParam("id".into()),
                lit("/$x")
            ]
        );
    }

    #[test]
    fn rejects_bad_uris() {
        for (uri, fragment) in [
            ("ftp://h/x", "absolute http"),
            ("/relative", "absolute http"),
            ("http:///x", "no host"),
            ("http://h/{id", "not closed"),
            ("http://h/${stageVariables.x", "not closed"),
            ("http://h/${context.x}", "unsupported variable"),
            ("http://h/a b", "not allowed"),
            ("http://h/{}", "bad path parameter"),
        ] {
            let e = UriTemplate::parse(uri).expect_err(uri);
            assert!(e.message.contains(fragment), "{uri}: {}", e.message);
        }
    }

    #[test]
    fn substitutes_known_values_and_keeps_the_rest() {
        let t = UriTemplate::parse("http://${stageVariables.h}/n/{id}/${stageVariables.missing}")
            .unwrap();
        let s = t.substitute(|n| (n == "h").then(|| "backend:81".to_string()), |_| None);
        assert_eq!(
            s.parts,
            vec![
                lit("http://backend:81/n/"),
                UriPart::PathParam("id".into()),
                lit("/"),
                UriPart::StageVariable("missing".into()),
            ]
        );
        let full = s.substitute(|_| Some(String::new()), |n| Some(format!("<{n}>")));
        assert_eq!(full.parts, vec![lit("http://backend:81/n/<id>/")]);
    }
}
