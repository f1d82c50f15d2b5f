use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use portico_model::Api;
use serde_json::json;

use crate::client::AdminClient;
use crate::components::error_banner::ErrorBanner;
use crate::components::form_errors::FormErrors;
use crate::components::text_field::TextField;

/// Creates an HTTP API and opens it.
#[component]
pub fn CreateApiForm(client: AdminClient) -> impl IntoView {
    let navigate = use_navigate();
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let errors = FormErrors::new(&["name", "description"]);
    let busy = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        busy.set(true);
        let mut body = json!({ "name": name.get_untracked(), "protocolType": "HTTP" });
        let d = description.get_untracked();
        if !d.is_empty() {
            body["description"] = json!(d);
        }
        let (client, navigate) = (client.clone(), navigate.clone());
        leptos::task::spawn_local(async move {
            let result = client.post::<Api>("/v2/apis", body).await;
            busy.set(false);
            match result {
                Ok(api) => navigate(&format!("/apis/{}", api.api_id), Default::default()),
                Err(e) => errors.set(e),
            }
        });
    };
    view! {
        <section class="card">
            <h2>"Create an HTTP API"</h2>
            <form on:submit=on_submit>
                <ErrorBanner failure=errors.general()/>
                <div class="form-grid">
                    <TextField id="api-name" label="Name" field="name" value=name errors required=true/>
                    <TextField id="api-description" label="Description" field="description" value=description errors/>
                </div>
                <button type="submit" class="primary" disabled=move || busy.get()>"Create API"</button>
            </form>
        </section>
    }
}
