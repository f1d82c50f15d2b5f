//! An integration's parameter mappings as the request path uses them: parsed once by the
//! same parser the admin API validated them with (`portico_model::parse_*_parameters`),
//! with the stage's variables filled in and static values made into header values when
//! the stage compiles, so a request only renders what depends on it.
use std::collections::BTreeMap;
use std::sync::Arc;

use http::{HeaderName, HeaderValue};
use portico_model::{
    ContextVar, MappingAction, MappingValue, RequestTarget, ResponseTarget, ValidationError,
    ValuePart, parse_request_parameters, parse_response_parameters,
};
use portico_proto::{Integration, Stage};

/// A mapping value for one stage: fixed text (kept as a header value when it is one),
/// the request's id alone (whose header value every response already has), or parts a
/// request fills in.
#[derive(Debug, Clone)]
pub enum MappedValue {
    Static(Box<str>, Option<HeaderValue>),
    RequestId,
    Dynamic(MappingValue),
}

impl MappedValue {
    /// What is the same for every request of the stage is filled in now: its variables
    /// (AWS renders one the stage does not define as empty text), `$context.stage` and
    /// `$context.apiId`.
    fn for_stage(value: &MappingValue, stage: &Stage) -> MappedValue {
        let mut parts: Vec<ValuePart> = Vec::with_capacity(value.parts.len());
        for part in &value.parts {
            let part = match part {
                ValuePart::StageVariable(name) => {
                    ValuePart::Static(stage.stage_variables.get(name).cloned().unwrap_or_default())
                }
                ValuePart::Context(ContextVar::Stage) => {
                    ValuePart::Static(stage.stage_name.clone())
                }
                ValuePart::Context(ContextVar::ApiId) => ValuePart::Static(stage.api_id.clone()),
                other => other.clone(),
            };
            match (parts.last_mut(), part) {
                (Some(ValuePart::Static(prev)), ValuePart::Static(next)) => prev.push_str(&next),
                (_, part) => parts.push(part),
            }
        }
        if let [ValuePart::Context(ContextVar::RequestId | ContextVar::ExtendedRequestId)] =
            parts.as_slice()
        {
            return MappedValue::RequestId;
        }
        let value = MappingValue { parts };
        match value.as_static() {
            Some(text) => MappedValue::Static(text.into(), HeaderValue::from_str(text).ok()),
            None => MappedValue::Dynamic(value),
        }
    }
}

#[derive(Debug, Clone)]
pub struct HeaderMapping {
    pub action: MappingAction,
    pub name: HeaderName,
    pub value: MappedValue,
}

#[derive(Debug, Clone)]
pub struct QueryMapping {
    pub action: MappingAction,
    pub name: Box<str>,
    pub value: MappedValue,
}

/// `requestParameters`, for one stage.
#[derive(Debug, Clone, Default)]
pub struct RequestMapping {
    pub headers: Box<[HeaderMapping]>,
    pub query: Box<[QueryMapping]>,
    pub path: Option<MappedValue>,
}

impl RequestMapping {
    pub fn is_empty(&self) -> bool {
        self.headers.is_empty() && self.query.is_empty() && self.path.is_none()
    }
}

/// `responseParameters` for one status code, for one stage.
#[derive(Debug, Clone)]
pub struct StatusMapping {
    pub status: u16,
    pub headers: Box<[HeaderMapping]>,
    pub status_code: Option<MappedValue>,
}

/// An integration's mappings as parsed from the deployment, before any stage.
#[derive(Debug, Clone, Default)]
pub struct MappingSpec {
    request: Vec<portico_model::RequestParameter>,
    response: Vec<portico_model::ResponseMapping>,
}

fn header_name(name: &str) -> Result<HeaderName, ValidationError> {
    HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
        ValidationError::new(
            "requestParameters",
            format!("Invalid header name '{name}' in a mapping"),
        )
    })
}

impl TryFrom<&Integration> for MappingSpec {
    type Error = ValidationError;

    fn try_from(i: &Integration) -> Result<Self, ValidationError> {
        let request = parse_request_parameters(&i.request_parameters)?;
        let response: BTreeMap<String, BTreeMap<String, String>> = i
            .response_parameters
            .iter()
            .map(|r| (r.status_code.to_string(), r.parameters.clone()))
            .collect();
        let response = parse_response_parameters(&response)?;
        // Header names were checked by the parser; make sure they are ours too.
        for p in &request {
            if let RequestTarget::Header(name) = &p.target {
                header_name(name)?;
            }
        }
        for m in &response {
            for p in &m.parameters {
                if let ResponseTarget::Header(name) = &p.target {
                    header_name(name)?;
                }
            }
        }
        Ok(MappingSpec { request, response })
    }
}

impl MappingSpec {
    pub fn is_empty(&self) -> bool {
        self.request.is_empty() && self.response.is_empty()
    }

    /// The mappings for `stage`. `None` when there are none at all, so an integration
    /// without mappings costs a request nothing.
    pub fn for_stage(&self, stage: &Stage) -> Option<Arc<CompiledMappings>> {
        if self.is_empty() {
            return None;
        }
        let mut headers = Vec::new();
        let mut query = Vec::new();
        let mut path = None;
        for p in &self.request {
            let value = MappedValue::for_stage(&p.value, stage);
            match &p.target {
                RequestTarget::Header(name) => {
                    if let Ok(name) = HeaderName::from_bytes(name.as_bytes()) {
                        headers.push(HeaderMapping {
                            action: p.action,
                            name,
                            value,
                        });
                    }
                }
                RequestTarget::QueryString(name) => query.push(QueryMapping {
                    action: p.action,
                    name: name.as_str().into(),
                    value,
                }),
                RequestTarget::Path => path = Some(value),
            }
        }
        let response = self
            .response
            .iter()
            .map(|m| {
                let mut headers = Vec::new();
                let mut status_code = None;
                for p in &m.parameters {
                    let value = MappedValue::for_stage(&p.value, stage);
                    match &p.target {
                        ResponseTarget::Header(name) => {
                            if let Ok(name) = HeaderName::from_bytes(name.as_bytes()) {
                                headers.push(HeaderMapping {
                                    action: p.action,
                                    name,
                                    value,
                                });
                            }
                        }
                        ResponseTarget::StatusCode => status_code = Some(value),
                    }
                }
                StatusMapping {
                    status: m.status,
                    headers: headers.into(),
                    status_code,
                }
            })
            .collect();
        Some(Arc::new(CompiledMappings {
            request: RequestMapping {
                headers: headers.into(),
                query: query.into(),
                path,
            },
            response,
        }))
    }
}

#[derive(Debug, Clone, Default)]
pub struct CompiledMappings {
    pub request: RequestMapping,
    /// By status code, ascending.
    pub response: Box<[StatusMapping]>,
}

impl CompiledMappings {
    pub fn for_status(&self, status: u16) -> Option<&StatusMapping> {
        self.response
            .binary_search_by_key(&status, |m| m.status)
            .ok()
            .map(|i| &self.response[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(request: &[(&str, &str)], response: &[(u32, &[(&str, &str)])]) -> MappingSpec {
        let i = Integration {
            request_parameters: request
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            response_parameters: response
                .iter()
                .map(|(s, p)| portico_proto::ResponseParameters {
                    status_code: *s,
                    parameters: p
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                })
                .collect(),
            ..Default::default()
        };
        MappingSpec::try_from(&i).expect("valid")
    }

    #[test]
    fn stage_variables_are_filled_in_when_the_stage_compiles() {
        let s = spec(
            &[
                ("overwrite:header.x-env", "env-${stageVariables.env}"),
                ("append:querystring.v", "$request.header.x-v"),
            ],
            &[],
        );
        let stage = Stage {
            api_id: "a1".into(),
            stage_name: "prod".into(),
            stage_variables: [("env".to_string(), "prod".to_string())].into(),
            ..Default::default()
        };
        let m = s.for_stage(&stage).expect("some");
        match &m.request.headers[0].value {
            MappedValue::Static(text, Some(h)) => {
                assert_eq!(&**text, "env-prod");
                assert_eq!(h, "env-prod");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(m.request.query[0].value, MappedValue::Dynamic(_)));
    }

    #[test]
    fn no_mappings_cost_nothing() {
        assert!(spec(&[], &[]).for_stage(&Stage::default()).is_none());
    }

    #[test]
    fn response_mappings_are_found_by_status() {
        let s = spec(
            &[],
            &[
                (404, &[("overwrite:statuscode", "200")]),
                (200, &[("remove:header.server", "''")]),
            ],
        );
        let m = s.for_stage(&Stage::default()).unwrap();
        assert_eq!(m.for_status(200).unwrap().headers.len(), 1);
        assert!(m.for_status(404).unwrap().status_code.is_some());
        assert!(m.for_status(500).is_none());
    }

    #[test]
    fn a_bad_mapping_is_refused_by_the_same_parser_as_the_admin_api() {
        let i = Integration {
            request_parameters: [("append:header.connection".to_string(), "x".to_string())].into(),
            ..Default::default()
        };
        let e = MappingSpec::try_from(&i).unwrap_err();
        assert_eq!(e.field, "requestParameters");
    }
}
