use leptos::prelude::*;
use portico_model::{Integration, Route};
use serde_json::json;

use super::current_api_id;
use crate::client::{AdminClient, segment};
use crate::components::error_banner::ErrorBanner;
use crate::components::form_errors::FormErrors;
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
    let client = AdminClient::new();
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
    let errors = FormErrors::new(&["routeKey", "target"]);
    let busy = RwSignal::new(false);
    let route_id = existing.as_ref().map(|r| r.route_id.clone());
    let editing = route_id.is_some();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        busy.set(true);
        let mut body = json!({ "routeKey": route_key.get_untracked().trim() });
        // On edit an empty target is sent: that is how the API removes it.
        let t = target.get_untracked();
        if !t.is_empty() || editing {
            body["target"] = json!(t);
        }
        let routes = format!("/v2/apis/{}/routes", segment(&api_id));
        let client = client.clone();
        let route_id = route_id.clone();
        leptos::task::spawn_local(async move {
            let result = match route_id {
                Some(id) => {
                    client
                        .patch::<Route>(&format!("{routes}/{}", segment(&id)), body)
                        .await
                }
                None => client.post::<Route>(&routes, body).await,
            };
            busy.set(false);
            match result {
                Ok(_) => {
                    if !editing {
                        route_key.set(String::new());
                    }
                    on_saved.run(());
                }
                Err(e) => errors.set(e),
            }
        });
    };
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
    view! {
        <form class="route-form" on:submit=on_submit>
            <ErrorBanner failure=errors.general()/>
            <div class="form-grid">
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
            </div>
            <button type="submit" class="primary" disabled=move || busy.get()>
                {if editing { "Save route" } else { "Create route" }}
            </button>
        </form>
    }
}
