//! The console's pages, one component per file; `*_form` files hold the form a page
//! uses for both creating and editing its resource.
pub mod api_create_form;
pub mod api_edit_form;
pub mod api_export;
pub mod api_layout;
pub mod api_mapping_form;
pub mod api_overview;
pub mod api_tags;
pub mod apis;
pub mod authorizer_form;
pub mod authorizers;
pub mod budget_form;
pub mod certificate_forms;
pub mod certificates;
pub mod cors;
pub mod cors_form;
pub mod deployment_diff;
pub mod deployments;
pub mod domain;
pub mod domains;
pub mod execute_api_endpoint_form;
pub mod http_fields;
pub mod import;
pub mod import_review;
pub mod integration_form;
pub mod integrations;
pub mod jwt_fields;
pub mod lambda_authorizer_fields;
pub mod lambda_fields;
pub mod login;
pub mod monitor;
pub mod nodes;
pub mod not_found;
pub mod pricing_form;
pub mod private_fields;
pub mod route_form;
pub mod routes;
pub mod stage_deployment;
pub mod stage_form;
pub mod stage_serving;
pub mod stage_throttling;
pub mod stages;
pub mod test_invoke;
pub mod throttle_override;
pub mod truststores;
pub mod usage;
pub mod vpc_link;
pub mod vpc_link_health;
pub mod vpc_link_target_rows;
pub mod vpc_link_targets_form;
pub mod vpc_links;

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use portico_model::{Api, DEFAULT_STAGE, Route};

/// The `:api_id` of the page being shown.
pub(crate) fn current_api_id() -> String {
    use_params_map()
        .get_untracked()
        .get("api_id")
        .unwrap_or_default()
}

/// Where clients call `stage` of `api`: AWS's invoke URL.
pub(crate) fn invoke_url(api: &Api, stage: &str) -> String {
    let base = api.api_endpoint.clone().unwrap_or_default();
    if stage == DEFAULT_STAGE {
        format!("{base}/")
    } else {
        format!("{base}/{stage}")
    }
}

/// How often pages that show what changes by itself (nodes, what they serve) ask again.
const LIVE_REFRESH: std::time::Duration = std::time::Duration::from_secs(2);

/// A counter that goes up every `LIVE_REFRESH` in the browser (never on the server) until
/// the page goes: a resource that tracks it loads again at that pace.
pub(crate) fn live_tick() -> RwSignal<u64> {
    tick_every(LIVE_REFRESH)
}

/// A counter that goes up every `period` in the browser (never on the server) until the
/// component that made it goes.
pub(crate) fn tick_every(period: std::time::Duration) -> RwSignal<u64> {
    let tick = RwSignal::new(0u64);
    #[cfg(feature = "hydrate")]
    {
        let handle = set_interval_with_handle(move || tick.update(|t| *t += 1), period);
        on_cleanup(move || {
            if let Ok(h) = handle {
                h.clear();
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = period;
    tick
}

/// This month in UTC (`YYYY-MM`), the month usage and budgets are counted in.
pub(crate) fn this_month() -> String {
    chrono::Utc::now().format("%Y-%m").to_string()
}

/// Whether `text` is a month as `<input type="month">` and the admin API write it.
pub(crate) fn is_month(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 7
        && b[4] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || c.is_ascii_digit())
        && matches!(
            text.get(5..7).and_then(|m| m.parse::<u8>().ok()),
            Some(1..=12)
        )
}

/// A counter that pages bump after a change so their lists load again.
#[derive(Clone, Copy)]
pub(crate) struct Reload(RwSignal<u32>);

impl Reload {
    pub fn new() -> Self {
        Reload(RwSignal::new(0))
    }
    pub fn bump(&self) {
        self.0.update(|n| *n += 1);
    }
    pub fn track(&self) -> u32 {
        self.0.get()
    }
}

/// The API whose pages are open, loaded once by `ApiLayout` for all of them.
#[derive(Clone, Copy)]
pub(crate) struct CurrentApi {
    pub api: Resource<Result<Api, crate::client::ApiFailure>>,
    pub reload: Reload,
}

/// Reads `name<separator>value` lines (stage variables, headers); blank lines are
/// skipped, and a line without the separator is an error about `field`.
pub(crate) fn parse_pairs(
    text: &str,
    separator: char,
    field: &str,
) -> Result<BTreeMap<String, String>, crate::client::ApiFailure> {
    let mut pairs = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some((name, value)) = line.split_once(separator) else {
            let shape = if separator == ':' {
                "name: value"
            } else {
                "name=value"
            };
            return Err(crate::client::ApiFailure::invalid(
                field,
                format!("Line {} is not {shape}", n + 1),
            ));
        };
        pairs.insert(name.trim().to_owned(), value.trim().to_owned());
    }
    Ok(pairs)
}

/// Reads a list typed one value per line or separated by commas (origins, header
/// names); blank entries are skipped, and an empty list is `None`, so it is not sent.
pub(crate) fn parse_list(text: &str) -> Option<Vec<String>> {
    let items: Vec<String> = text
        .split(['\n', ','])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    (!items.is_empty()).then_some(items)
}

/// `(value, label)` options for a method drop-down, `ANY` first when routes may use it.
pub(crate) fn method_options(with_any: bool) -> Vec<(String, String)> {
    let any = with_any.then_some("ANY");
    any.into_iter()
        .chain(portico_model::HttpMethod::ALL.iter().map(|m| m.as_str()))
        .map(|m| (m.to_owned(), m.to_owned()))
        .collect()
}

/// An API's `kind` resources (`integrations`, `authorizers`) with its routes, sorted,
/// for the pages that show which routes use each.
pub(crate) async fn with_routes<T: serde::de::DeserializeOwned>(
    client: &crate::client::AdminClient,
    api: &str,
    kind: &str,
) -> Result<(Vec<T>, Vec<Route>), crate::client::ApiFailure> {
    let items = client
        .get::<portico_model::Page<T>>(&format!("{api}/{kind}?maxResults=500"))
        .await?
        .items;
    let mut routes = client
        .get::<portico_model::Page<Route>>(&format!("{api}/routes?maxResults=500"))
        .await?
        .items;
    sort_routes(&mut routes);
    Ok((items, routes))
}

/// Routes as people read them: by path, then method, with `$default` last.
pub(crate) fn sort_routes(routes: &mut [Route]) {
    routes.sort_by_cached_key(|r| match r.route_key.split_once(' ') {
        Some((method, path)) => (false, path.to_owned(), method.to_owned()),
        None => (true, r.route_key.clone(), String::new()),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_split_on_lines_and_commas() {
        assert_eq!(
            parse_list("https://a.example\n  https://b.example, http://localhost:3000 ,\n\n"),
            Some(vec![
                "https://a.example".to_owned(),
                "https://b.example".to_owned(),
                "http://localhost:3000".to_owned(),
            ])
        );
        assert_eq!(parse_list(" \n , "), None);
    }

    #[test]
    fn months_are_year_dash_month() {
        assert!(is_month("2026-12"));
        assert!(is_month(&this_month()));
        assert!(!is_month("2026-13"));
        assert!(!is_month("2026-00"));
        assert!(!is_month("2026-1"));
        assert!(!is_month("26-12-01"));
        assert!(!is_month(""));
    }

    #[test]
    fn routes_sort_by_path_then_method() {
        let mut routes: Vec<Route> = [
            "$default",
            "POST /notes",
            "GET /notes/{id}",
            "GET /notes",
            "ANY /a",
        ]
        .iter()
        .map(|k| Route {
            route_id: "r".into(),
            route_key: k.to_string(),
            target: None,
            authorization_type: "NONE".into(),
            authorizer_id: None,
            authorization_scopes: Vec::new(),
            api_key_required: false,
            operation_name: None,
        })
        .collect();
        sort_routes(&mut routes);
        let keys: Vec<&str> = routes.iter().map(|r| r.route_key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "ANY /a",
                "GET /notes",
                "POST /notes",
                "GET /notes/{id}",
                "$default"
            ]
        );
    }
}
