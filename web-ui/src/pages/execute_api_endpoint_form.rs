use leptos::prelude::*;
use portico_model::ClusterSettings;
use serde_json::json;

use crate::client::AdminClient;
use crate::components::error_banner::ErrorBanner;
use crate::components::form_errors::FormErrors;
use crate::components::text_field::TextField;

/// The execute-api endpoint every replica serves (a cluster setting in the store):
/// shown, and changed for the whole fleet with `PATCH /portico/settings`.
#[component]
pub fn ExecuteApiEndpointForm(settings: ClusterSettings) -> impl IntoView {
    let client = AdminClient::new();
    let endpoint = RwSignal::new(settings.execute_api_endpoint);
    let errors = FormErrors::new(&["executeApiEndpoint"]);
    let saved = RwSignal::new(false);
    let on_save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        saved.set(false);
        let body = json!({ "executeApiEndpoint": endpoint.get_untracked() });
        let client = client.clone();
        leptos::task::spawn_local(async move {
            match client
                .patch::<ClusterSettings>("/portico/settings", body)
                .await
            {
                Ok(s) => {
                    endpoint.set(s.execute_api_endpoint);
                    saved.set(true);
                }
                Err(e) => errors.set(e),
            }
        });
    };
    view! {
        <form id="settings-form" on:submit=on_save>
            <ErrorBanner failure=errors.general()/>
            <div class="form-grid">
                <TextField
                    id="execute-api-endpoint"
                    label="Execute-api endpoint"
                    field="executeApiEndpoint"
                    value=endpoint
                    errors
                    required=true
                    placeholder="https://execute-api.example.com"
                    hint="Each API is served at {scheme}://{apiId}.{domain}[:{port}]. One value for every control-plane replica; nodes receive it with the next configuration version."
                />
            </div>
            <button type="submit" class="primary">"Save"</button>
            <span class="saved" role="status">{move || saved.get().then_some("Saved")}</span>
        </form>
    }
}
