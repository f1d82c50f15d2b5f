//! What changes between two deployments of an API (or a deployment and the API as it is
//! now): `GET /portico/apis/{apiId}/diff`, shown by the console before a deploy or a
//! rollback. Portico's own; AWS has no such call.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::DeployedApi;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiDiff {
    pub from: String,
    pub to: String,
    pub unchanged: bool,
    /// By route key.
    pub routes: Vec<ResourceChange>,
    /// By integration id.
    pub integrations: Vec<ResourceChange>,
    /// By authorizer name.
    pub authorizers: Vec<ResourceChange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors: Option<ResourceChange>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceChange {
    pub change: ChangeKind,
    pub key: String,
    /// The fields that differ (all of them for an added or removed resource).
    pub fields: Vec<FieldChange>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldChange {
    pub field: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// The resource as JSON fields, without the ones that only identify it.
fn fields<T: Serialize>(value: &T, ignore: &[&str]) -> BTreeMap<String, Value> {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => map
            .into_iter()
            .filter(|(k, _)| !ignore.contains(&k.as_str()))
            .collect(),
        _ => BTreeMap::new(),
    }
}

fn compare(
    key: String,
    before: Option<BTreeMap<String, Value>>,
    after: Option<BTreeMap<String, Value>>,
) -> Option<ResourceChange> {
    let change = match (&before, &after) {
        (None, None) => return None,
        (None, Some(_)) => ChangeKind::Added,
        (Some(_), None) => ChangeKind::Removed,
        (Some(b), Some(a)) if a == b => return None,
        _ => ChangeKind::Changed,
    };
    let before = before.unwrap_or_default();
    let after = after.unwrap_or_default();
    let mut names: Vec<&String> = before.keys().chain(after.keys()).collect();
    names.sort();
    names.dedup();
    let fields = names
        .into_iter()
        .filter(|n| before.get(*n) != after.get(*n))
        .map(|n| FieldChange {
            field: n.clone(),
            before: before.get(n).cloned(),
            after: after.get(n).cloned(),
        })
        .collect();
    Some(ResourceChange {
        change,
        key,
        fields,
    })
}

fn changes(
    before: BTreeMap<String, BTreeMap<String, Value>>,
    mut after: BTreeMap<String, BTreeMap<String, Value>>,
) -> Vec<ResourceChange> {
    let mut out = Vec::new();
    for (key, b) in before {
        let a = after.remove(&key);
        out.extend(compare(key, Some(b), a));
    }
    for (key, a) in after {
        out.extend(compare(key, None, Some(a)));
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out
}

/// The changes from `before` to `after`, named `from` and `to`.
pub fn diff_deployed(from: &str, before: &DeployedApi, to: &str, after: &DeployedApi) -> ApiDiff {
    let routes = |d: &DeployedApi| {
        d.routes
            .iter()
            .map(|r| (r.route_key.clone(), fields(r, &["routeId", "routeKey"])))
            .collect()
    };
    let integrations = |d: &DeployedApi| {
        d.integrations
            .iter()
            .map(|i| (i.integration_id.clone(), fields(i, &["integrationId"])))
            .collect()
    };
    let authorizers = |d: &DeployedApi| {
        d.authorizers
            .iter()
            .map(|a| (a.name.clone(), fields(a, &["authorizerId", "name"])))
            .collect()
    };
    let cors = compare(
        "cors".to_string(),
        before.cors.as_ref().map(|c| fields(c, &[])),
        after.cors.as_ref().map(|c| fields(c, &[])),
    );
    let diff = ApiDiff {
        from: from.to_string(),
        to: to.to_string(),
        unchanged: false,
        routes: changes(routes(before), routes(after)),
        integrations: changes(integrations(before), integrations(after)),
        authorizers: changes(authorizers(before), authorizers(after)),
        cors,
    };
    ApiDiff {
        unchanged: diff.routes.is_empty()
            && diff.integrations.is_empty()
            && diff.authorizers.is_empty()
            && diff.cors.is_none(),
        ..diff
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Route;

    fn route(id: &str, key: &str, target: &str) -> Route {
        Route {
            route_id: id.into(),
            route_key: key.into(),
            target: Some(format!("integrations/{target}")),
            authorization_type: "NONE".into(),
            authorizer_id: None,
            authorization_scopes: vec![],
            api_key_required: false,
            operation_name: None,
        }
    }

    fn deployed(routes: Vec<Route>) -> DeployedApi {
        DeployedApi {
            routes,
            integrations: vec![],
            authorizers: vec![],
            cors: None,
        }
    }

    #[test]
    fn routes_are_compared_by_key() {
        let before = deployed(vec![
            route("r1", "GET /a", "i1"),
            route("r2", "GET /b", "i1"),
        ]);
        let after = deployed(vec![
            route("r9", "GET /a", "i2"),
            route("r3", "GET /c", "i1"),
        ]);
        let d = diff_deployed("d1", &before, "current", &after);
        assert!(!d.unchanged);
        let summary: Vec<(ChangeKind, &str)> = d
            .routes
            .iter()
            .map(|c| (c.change, c.key.as_str()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (ChangeKind::Changed, "GET /a"),
                (ChangeKind::Removed, "GET /b"),
                (ChangeKind::Added, "GET /c")
            ]
        );
        // A new route id alone is no change; the target is.
        assert_eq!(d.routes[0].fields.len(), 1);
        assert_eq!(d.routes[0].fields[0].field, "target");
        assert!(diff_deployed("a", &before, "b", &before).unchanged);
    }
}
