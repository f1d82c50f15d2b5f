//! What a deploy or a rollback would change on a stage, as the admin API's
//! `GET /portico/apis/{apiId}/diff` tells it, shown before the stage is changed.
use leptos::prelude::*;
use portico_model::{ApiDiff, ChangeKind, ResourceChange};
use serde_json::Value;

use crate::client::{AdminClient, ApiFailure, segment};

/// Asks what serving `to` (a deployment id, or `current` for what a deploy would freeze)
/// changes for a stage that serves `from`.
pub(crate) async fn load_diff(
    client: &AdminClient,
    api_id: &str,
    from: &str,
    to: &str,
) -> Result<ApiDiff, ApiFailure> {
    client
        .get(&format!(
            "/portico/apis/{}/diff?from={}&to={}",
            segment(api_id),
            segment(from),
            segment(to)
        ))
        .await
}

/// Each kind that changed, with its changes, in the order the page lists them.
fn groups(diff: &ApiDiff) -> Vec<(&'static str, &'static str, Vec<ResourceChange>)> {
    [
        ("routes", "Routes", diff.routes.clone()),
        ("integrations", "Integrations", diff.integrations.clone()),
        ("authorizers", "Authorizers", diff.authorizers.clone()),
        ("cors", "CORS", diff.cors.iter().cloned().collect()),
    ]
    .into_iter()
    .filter(|(_, _, changes)| !changes.is_empty())
    .collect()
}

/// The change as the admin API spells it.
fn change_name(kind: ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Added => "ADDED",
        ChangeKind::Removed => "REMOVED",
        ChangeKind::Changed => "CHANGED",
    }
}

/// A field's value in a line of text: strings as they are, nothing as a dash, anything
/// else as compact JSON.
pub(crate) fn shown(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "—".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// The changes, grouped by kind: an added or removed resource by its key alone, a changed
/// one with each field's value before and after.
#[component]
pub fn DiffSummary(diff: ApiDiff) -> impl IntoView {
    let groups = groups(&diff);
    if diff.unchanged || groups.is_empty() {
        return view! {
            <p class="no-changes">"No changes: the stage would serve the same routes, integrations, authorizers and CORS."</p>
        }
        .into_any();
    }
    groups
        .into_iter()
        .map(|(kind, title, changes)| {
            let items = changes.into_iter().map(change_item).collect_view();
            view! {
                <div class="diff-group" data-kind=kind>
                    <h4>{title}</h4>
                    <ul class="plain changes">{items}</ul>
                </div>
            }
        })
        .collect_view()
        .into_any()
}

fn change_item(change: ResourceChange) -> impl IntoView {
    let name = change_name(change.change);
    let badge = match change.change {
        ChangeKind::Added => "badge ok",
        ChangeKind::Removed => "badge bad",
        ChangeKind::Changed => "badge warn",
    };
    // An added or removed resource lists every field; its key says enough.
    let fields = (change.change == ChangeKind::Changed && !change.fields.is_empty()).then(|| {
        let rows = change
            .fields
            .into_iter()
            .map(|f| {
                view! {
                    <li data-field=f.field.clone()>
                        <span class="mono field-name">{f.field.clone()}</span>
                        ": "
                        <span class="mono before">{shown(f.before.as_ref())}</span>
                        " → "
                        <span class="mono after">{shown(f.after.as_ref())}</span>
                    </li>
                }
            })
            .collect_view();
        view! { <ul class="fields">{rows}</ul> }
    });
    view! {
        <li class="change" data-change=name data-key=change.key.clone()>
            <span class=badge>{name}</span>
            " "
            <span class="mono change-key">{change.key.clone()}</span>
            {fields}
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_read_as_text() {
        assert_eq!(shown(None), "—");
        assert_eq!(shown(Some(&Value::Null)), "—");
        assert_eq!(shown(Some(&json!("integrations/abc"))), "integrations/abc");
        assert_eq!(
            shown(Some(&json!(["read", "write"]))),
            r#"["read","write"]"#
        );
        assert_eq!(shown(Some(&json!(30000))), "30000");
    }

    #[test]
    fn only_kinds_with_changes_are_listed() {
        let diff: ApiDiff = serde_json::from_value(json!({
            "from": "a1", "to": "current", "unchanged": false,
            "routes": [{"change": "CHANGED", "key": "GET /notes",
                "fields": [{"field": "target", "before": "integrations/x", "after": null}]}],
            "integrations": [],
            "authorizers": [],
            "cors": {"change": "REMOVED", "key": "cors", "fields": []}
        }))
        .expect("the diff's shape");
        let kinds: Vec<&str> = groups(&diff).iter().map(|(k, _, _)| *k).collect();
        assert_eq!(kinds, ["routes", "cors"]);
        assert_eq!(change_name(diff.routes[0].change), "CHANGED");
    }
}
