//! Parameter mappings as an admin writes them (`append:header.x` = `$request.header.y`,
//! `overwrite:path` = `/v2/$request.path.id`, `overwrite:statuscode` = `404`), parsed as
//! the admin API validates them and compiled for a stage as a node does, then rendered
//! from a request whose every value is client text.
//!
//! Input: lines `KEY<TAB>VALUE` (requestParameters), `STATUS<TAB>KEY<TAB>VALUE`
//! (responseParameters) and `s:NAME=VALUE` (the stage's variables).
#![no_main]

use std::collections::BTreeMap;

use http::HeaderValue;
use libfuzzer_sys::fuzz_target;
use portico_data_plane::config::parameter_mapping::{MappedValue, MappingSpec};
use portico_model::{ContextVar, MappingSource, parse_status_override};
use portico_proto::{Integration, IntegrationType, ResponseParameters, Stage};

/// A request whose every value is the same client text.
struct Client<'a>(&'a str);

impl MappingSource for Client<'_> {
    fn request_header(&self, _: &str) -> Option<&str> {
        Some(self.0)
    }
    fn request_querystring(&self, _: &str) -> Option<&str> {
        Some(self.0)
    }
    fn path_param(&self, _: &str) -> Option<&str> {
        Some(self.0)
    }
    fn request_path(&self) -> &str {
        self.0
    }
    fn response_header(&self, _: &str) -> Option<&str> {
        Some(self.0)
    }
    fn context(&self, _: ContextVar, out: &mut String) {
        out.push_str(self.0);
    }
    fn stage_variable(&self, _: &str) -> Option<&str> {
        None
    }
    fn authorizer(&self, _: bool, _: &str, out: &mut String) -> bool {
        out.push_str(self.0);
        true
    }
}

fn render(value: &MappedValue, client: &Client<'_>) {
    let text = match value {
        MappedValue::Static(text, header) => {
            assert_eq!(header.is_some(), HeaderValue::from_str(text).is_ok());
            text.to_string()
        }
        MappedValue::RequestId => return,
        MappedValue::Dynamic(v) => {
            let mut out = String::new();
            v.render(client, &mut out);
            out
        }
    };
    let _ = HeaderValue::try_from(text.as_str());
    let _ = parse_status_override(&text);
}

fn stage_and_integration(input: &str) -> (Stage, Integration) {
    let mut request = BTreeMap::new();
    let mut response: BTreeMap<u32, BTreeMap<String, String>> = BTreeMap::new();
    let mut stage_variables = BTreeMap::new();
    for line in input.split('\n') {
        if let Some(pair) = line.strip_prefix("s:") {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            stage_variables.insert(name.to_string(), value.to_string());
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        match fields[..] {
            [key, value] => {
                request.insert(key.to_string(), value.to_string());
            }
            [status, key, value] => {
                // Keyed as the proto keys them; a status AWS refuses stays out of range.
                let status = status.parse().unwrap_or(u32::MAX);
                response
                    .entry(status)
                    .or_default()
                    .insert(key.to_string(), value.to_string());
            }
            _ => {}
        }
    }
    let integration = Integration {
        integration_id: "i1".into(),
        integration_type: IntegrationType::HttpProxy as i32,
        uri: "http://backend.internal/".into(),
        request_parameters: request,
        response_parameters: response
            .into_iter()
            .map(|(status_code, parameters)| ResponseParameters {
                status_code,
                parameters,
            })
            .collect(),
        ..Default::default()
    };
    let stage = Stage {
        api_id: "api0000001".into(),
        stage_name: "prod".into(),
        stage_variables,
        ..Default::default()
    };
    (stage, integration)
}

fuzz_target!(|input: &str| {
    let (stage, integration) = stage_and_integration(input);
    let Ok(spec) = MappingSpec::try_from(&integration) else {
        return;
    };
    let Some(compiled) = spec.for_stage(&stage) else {
        return;
    };
    let client = Client("client \"text\" \r\n\0 ünïcode %2F/..");
    for h in compiled.request.headers.iter() {
        render(&h.value, &client);
    }
    for q in compiled.request.query.iter() {
        render(&q.value, &client);
    }
    if let Some(path) = &compiled.request.path {
        render(path, &client);
    }
    for status in compiled.response.iter() {
        assert!(compiled.for_status(status.status).is_some());
        for h in status.headers.iter() {
            render(&h.value, &client);
        }
        if let Some(code) = &status.status_code {
            render(code, &client);
        }
    }
});
