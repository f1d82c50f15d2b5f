use leptos::prelude::*;
use portico_model::Api;
use serde_json::json;

use super::CurrentApi;
use crate::client::{AdminClient, segment};
use crate::components::error_banner::ErrorBanner;
use crate::components::form_errors::FormErrors;
use crate::components::text_field::TextField;

/// Renames an API or changes its description; made once the API is loaded, so the
/// server-rendered form already holds its values.
#[component]
pub fn ApiEditForm(api: Api) -> impl IntoView {
    let CurrentApi { reload, .. } = expect_context::<CurrentApi>();
    let client = AdminClient::new();
    let name = RwSignal::new(api.name.clone());
    let description = RwSignal::new(api.description.clone().unwrap_or_default());
    let errors = FormErrors::new(&["name", "description"]);
    let saved = RwSignal::new(false);
    let path = format!("/v2/apis/{}", segment(&api.api_id));
    let on_save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        saved.set(false);
        let body =
            json!({ "name": name.get_untracked(), "description": description.get_untracked() });
        let (client, path) = (client.clone(), path.clone());
        leptos::task::spawn_local(async move {
            match client.patch::<Api>(&path, body).await {
                Ok(_) => {
                    saved.set(true);
                    reload.bump();
                }
                Err(e) => errors.set(e),
            }
        });
    };
    view! {
        <form on:submit=on_save>
            <ErrorBanner failure=errors.general()/>
            <div class="form-grid">
                <TextField id="api-edit-name" label="Name" field="name" value=name errors required=true/>
                <TextField id="api-edit-description" label="Description" field="description" value=description errors/>
            </div>
            <button type="submit" class="primary">"Save"</button>
            <span class="saved" role="status">{move || saved.get().then_some("Saved")}</span>
        </form>
    }
}
