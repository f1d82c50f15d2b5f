use leptos::prelude::*;
use portico_model::{Integration, Route};
use serde_json::json;

use super::current_api_id;
use crate::client::segment;
use crate::components::resource_form::{FormState, FormTarget, ResourceForm};
use crate::components::select_field::SelectField;
use crate::components::text_field::TextField;

/// Creates a route, or edits `existing`: its route key and the integration it targets.
#[component]
pub fn RouteForm(
    #[prop(into)] id_prefix: String,
    existing: Option<Route>,
    integrations: Vec<Integration>,
    on_saved: Callback<()>,
) -> impl IntoView {
    let api_id = current_api_id();
    let route_key = RwSignal::new(
        existing
            .as_ref()
            .map(|r| r.route_key.clone())
            .unwrap_or_default(),
    );
    let target = RwSignal::new(
        existing
            .as_ref()
            .and_then(|r| r.target.clone())
            .or_else(|| {
                integrations
                    .first()
                    .map(|i| format!("integrations/{}", i.integration_id))
            })
            .unwrap_or_default(),
    );
    let state = FormState::new(&["routeKey", "target"]);
    let errors = state.errors;
    let route_id = existing.as_ref().map(|r| r.route_id.clone());
    let editing = route_id.is_some();
    let on_submit = Callback::new({
        let state = state.clone();
        move |()| {
            let mut body = json!({ "routeKey": route_key.get_untracked().trim() });
            // On edit an empty target is sent: that is how the API removes it.
            let t = target.get_untracked();
            if !t.is_empty() || editing {
                body["target"] = json!(t);
            }
            let routes = format!("/v2/apis/{}/routes", segment(&api_id));
            let to = match &route_id {
                Some(id) => FormTarget::Save(format!("{routes}/{}", segment(id))),
                None => FormTarget::Create(routes),
            };
            state.send(to, body, move |_: Route| {
                if !editing {
                    route_key.set(String::new());
                }
                on_saved.run(());
            });
        }
    });
    let mut options = vec![(String::new(), "No integration".to_owned())];
    options.extend(integrations.into_iter().map(|i| {
        (
            format!("integrations/{}", i.integration_id),
            format!(
                "{} {} ({})",
                i.integration_method, i.integration_uri, i.integration_id
            ),
        )
    }));
    let label = if editing {
        "Save route"
    } else {
        "Create route"
    };
    view! {
        <ResourceForm class="route-form" state submit_label=label on_submit>
            <TextField
                id=format!("{id_prefix}-route-key")
                label="Route key"
                field="routeKey"
                value=route_key
                errors
                placeholder="GET /notes/{id}"
                hint="METHOD /path with {param} or a final {proxy+}, ANY for every method, or $default"
                required=true
            />
            <SelectField
                id=format!("{id_prefix}-target")
                label="Integration"
                field="target"
                value=target
                errors
                options
            />
        </ResourceForm>
    }
}
