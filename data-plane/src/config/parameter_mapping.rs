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

/// One header mapping. The header name is parsed once, when the deployment compiles
/// (`V` = [`MappingValue`]); each stage then gets its own copy with its values filled in
/// (`V` = [`MappedValue`]).
#[derive(Debug, Clone)]
pub struct HeaderMapping<V = MappedValue> {
    pub action: MappingAction,
    pub name: HeaderName,
    pub value: V,
}

#[derive(Debug, Clone)]
pub struct QueryMapping<V = MappedValue> {
    pub action: MappingAction,
    pub name: Box<str>,
    pub value: V,
}

/// `requestParameters`.
#[derive(Debug, Clone)]
pub struct RequestMapping<V = MappedValue> {
    pub headers: Box<[HeaderMapping<V>]>,
    pub query: Box<[QueryMapping<V>]>,
    pub path: Option<V>,
}

impl<V> RequestMapping<V> {
    pub fn is_empty(&self) -> bool {
        self.headers.is_empty() && self.query.is_empty() && self.path.is_none()
    }
}

/// `responseParameters` for one status code.
#[derive(Debug, Clone)]
pub struct StatusMapping<V = MappedValue> {
    pub status: u16,
    pub headers: Box<[HeaderMapping<V>]>,
    pub status_code: Option<V>,
}

/// An integration's mappings as parsed from the deployment, before any stage.
#[derive(Debug, Clone)]
pub struct MappingSpec {
    request: RequestMapping<MappingValue>,
    response: Vec<StatusMapping<MappingValue>>,
}

fn header(
    field: &'static str,
    action: MappingAction,
    name: &str,
    value: &MappingValue,
) -> Result<HeaderMapping<MappingValue>, ValidationError> {
    // The parser checked the name; `HeaderName` must take it too.
    let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
        ValidationError::new(field, format!("Invalid header name '{name}' in a mapping"))
    })?;
    Ok(HeaderMapping {
        action,
        name,
        value: value.clone(),
    })
}

impl TryFrom<&Integration> for MappingSpec {
    type Error = ValidationError;

    fn try_from(i: &Integration) -> Result<Self, ValidationError> {
        let mut headers = Vec::new();
        let mut query = Vec::new();
        let mut path = None;
        for p in parse_request_parameters(&i.request_parameters)? {
            match &p.target {
                RequestTarget::Header(name) => {
                    headers.push(header("requestParameters", p.action, name, &p.value)?)
                }
                RequestTarget::QueryString(name) => query.push(QueryMapping {
                    action: p.action,
                    name: name.as_str().into(),
                    value: p.value,
                }),
                RequestTarget::Path => path = Some(p.value),
            }
        }
        let response: BTreeMap<String, BTreeMap<String, String>> = i
            .response_parameters
            .iter()
            .map(|r| (r.status_code.to_string(), r.parameters.clone()))
            .collect();
        let mut statuses = Vec::new();
        for m in parse_response_parameters(&response)? {
            let mut headers = Vec::new();
            let mut status_code = None;
            for p in m.parameters {
                match &p.target {
                    ResponseTarget::Header(name) => {
                        headers.push(header("responseParameters", p.action, name, &p.value)?)
                    }
                    ResponseTarget::StatusCode => status_code = Some(p.value),
                }
            }
            statuses.push(StatusMapping {
                status: m.status,
                headers: headers.into(),
                status_code,
            });
        }
        Ok(MappingSpec {
            request: RequestMapping {
                headers: headers.into(),
                query: query.into(),
                path,
            },
            response: statuses,
        })
    }
}

fn headers_for_stage(
    headers: &[HeaderMapping<MappingValue>],
    stage: &Stage,
) -> Box<[HeaderMapping]> {
    headers
        .iter()
        .map(|h| HeaderMapping {
            action: h.action,
            name: h.name.clone(),
            value: MappedValue::for_stage(&h.value, stage),
        })
        .collect()
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
        let request = RequestMapping {
            headers: headers_for_stage(&self.request.headers, stage),
            query: self
                .request
                .query
                .iter()
                .map(|q| QueryMapping {
                    action: q.action,
                    name: q.name.clone(),
                    value: MappedValue::for_stage(&q.value, stage),
                })
                .collect(),
            path: self
                .request
                .path
                .as_ref()
                .map(|v| MappedValue::for_stage(v, stage)),
        };
        let response = self
            .response
            .iter()
            .map(|m| StatusMapping {
                status: m.status,
                headers: headers_for_stage(&m.headers, stage),
                status_code: m
                    .status_code
                    .as_ref()
                    .map(|v| MappedValue::for_stage(v, stage)),
            })
            .collect();
        Some(Arc::new(CompiledMappings { request, response }))
    }
}

#[derive(Debug, Clone)]
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
