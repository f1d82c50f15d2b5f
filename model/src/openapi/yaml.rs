//! The YAML an export is written as. serde_yaml_ng gives the document's order (its
//! mappings keep insertion order); the text is written here because its plain scalars are
//! YAML 1.2's: `2026-12-01T10:00:00Z` or `2024-01-01` come back as dates, not strings,
//! from YAML 1.1 readers such as PyYAML. Every string is double-quoted, as in AWS's own
//! YAML exports, and keys are quoted unless they cannot be read as anything but a string.
use serde::Serialize;
use serde_yaml_ng::Value;

pub fn to_yaml<T: Serialize>(value: &T) -> Result<String, serde_yaml_ng::Error> {
    let value = serde_yaml_ng::to_value(value)?;
    let mut out = String::new();
    match &value {
        Value::Mapping(m) if !m.is_empty() => mapping(&mut out, m, 0),
        Value::Sequence(s) if !s.is_empty() => sequence(&mut out, s, 0),
        other => {
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
    Ok(out)
}

fn quoted(s: &str) -> String {
    // A JSON string is a YAML double-quoted scalar: the same escapes.
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{}\"", s.escape_default()))
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => quoted(s),
        Value::Sequence(_) => "[]".into(),
        Value::Mapping(_) => "{}".into(),
        Value::Tagged(t) => scalar(&t.value),
    }
}

/// Words YAML 1.1 reads as booleans or null.
const SPECIAL: [&str; 22] = [
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
    "False", "FALSE", "on", "On", "ON", "off", "null", "~",
];

fn key(k: &Value) -> String {
    match k {
        Value::String(s) => {
            let plain = s
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '_' | '/' | '$'))
                && s.chars().all(|c| {
                    c.is_ascii_alphanumeric()
                        || matches!(c, '_' | '-' | '.' | '/' | '$' | '{' | '}' | '+')
                })
                && !SPECIAL.contains(&s.as_str());
            if plain { s.clone() } else { quoted(s) }
        }
        other => quoted(&scalar(other)),
    }
}

fn untagged(v: &Value) -> &Value {
    match v {
        Value::Tagged(t) => untagged(&t.value),
        other => other,
    }
}

fn mapping(out: &mut String, m: &serde_yaml_ng::Mapping, indent: usize) {
    for (k, v) in m {
        out.push_str(&" ".repeat(indent));
        out.push_str(&key(k));
        out.push(':');
        match untagged(v) {
            Value::Mapping(child) if !child.is_empty() => {
                out.push('\n');
                mapping(out, child, indent + 2);
            }
            Value::Sequence(child) if !child.is_empty() => {
                out.push('\n');
                sequence(out, child, indent);
            }
            other => {
                out.push(' ');
                out.push_str(&scalar(other));
                out.push('\n');
            }
        }
    }
}

fn sequence(out: &mut String, s: &[Value], indent: usize) {
    for item in s {
        out.push_str(&" ".repeat(indent));
        out.push('-');
        match untagged(item) {
            Value::Mapping(child) if !child.is_empty() => {
                // The first entry on the dash's line, the rest under it.
                let mut nested = String::new();
                mapping(&mut nested, child, indent + 2);
                out.push(' ');
                out.push_str(nested.trim_start());
            }
            Value::Sequence(child) if !child.is_empty() => {
                out.push('\n');
                sequence(out, child, indent + 2);
            }
            other => {
                out.push(' ');
                out.push_str(&scalar(other));
                out.push('\n');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_stay_strings_and_the_text_reads_back() {
        let doc = serde_json::json!({
            "openapi": "3.0.1",
            "info": { "version": "2026-12-01T10:00:00Z", "title": "a \"quoted\"\nname" },
            "paths": { "/pets/{id}": { "get": { "responses": {} } }, "/$default": {} },
            "list": [ { "a": 1, "b": [true, "on"] }, [], "x" ],
            "200": "no",
            "yes": null
        });
        let text = to_yaml(&doc).unwrap();
        assert!(text.contains("version: \"2026-12-01T10:00:00Z\""), "{text}");
        assert!(text.contains("\"200\": \"no\""), "{text}");
        assert!(text.contains("\"yes\": null"), "{text}");
        let back: serde_json::Value = serde_yaml_ng::from_str(&text).unwrap();
        assert_eq!(back, doc, "{text}");
    }
}
