//! Integration URI templates as an admin writes them (`https://${stageVariables.host}/
//! items/{id}`), rendered for a stage, then filled in for a request as the integrate
//! phase does.
//!
//! Input: the template on the first line, then `s:NAME=VALUE` (a stage variable),
//! `p:NAME=VALUE` (a path parameter, still percent-encoded) or `q:QUERY` lines.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use portico_data_plane::config::integration::UpstreamUri;
use portico_model::UriTemplate;

fuzz_target!(|input: &str| {
    let mut lines = input.split('\n');
    let template = lines.next().unwrap_or_default();
    let mut stage_variables = BTreeMap::new();
    let mut params = Vec::new();
    let mut query = None;
    for line in lines {
        if let Some(q) = line.strip_prefix("q:") {
            query = Some(q);
        } else if let Some((kind, pair)) = line.split_at_checked(2) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            match kind {
                "s:" => {
                    stage_variables.insert(name.to_string(), value.to_string());
                }
                "p:" => params.push((name, value)),
                _ => {}
            }
        }
    }
    let Ok(parsed) = UriTemplate::parse(template) else {
        return;
    };
    let _ = parsed.path_params().count();
    let rendered = parsed.for_stage(&stage_variables);
    assert_eq!(
        rendered.stage_variables().count(),
        0,
        "every variable has a value"
    );
    let Ok(uri) = UpstreamUri::render(&parsed, &stage_variables) else {
        return;
    };
    let _ = uri.host_header();
    let param = |name: &str| params.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
    if let Ok(built) = uri.build(param, query) {
        // A URI that rendered for the stage always has a scheme and a host.
        assert!(
            matches!(built.scheme_str(), Some("http" | "https")),
            "{built}"
        );
        assert!(built.authority().is_some(), "{built}");
    }
});
