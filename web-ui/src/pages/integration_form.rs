use leptos::prelude::*;
use portico_model::{DEFAULT_TIMEOUT_MILLIS, INTEGRATION_HTTP_PROXY, Integration};
use serde_json::json;

use super::{current_api_id, method_options};
use crate::client::segment;
use crate::components::resource_form::{FormState, FormTarget, ResourceForm};
use crate::components::select_field::SelectField;
use crate::components::text_field::TextField;

/// Creates an HTTP proxy integration, or edits `existing`: URI, method and timeout.
#[component]
pub fn IntegrationForm(
    #[prop(into)] id_prefix: String,
    existing: Option<Integration>,
    on_saved: Callback<()>,
) -> impl IntoView {
    let api_id = current_api_id();
    let uri = RwSignal::new(
        existing
            .as_ref()
            .map(|i| i.integration_uri.clone())
            .unwrap_or_default(),
    );
    let method = RwSignal::new(
        existing
            .as_ref()
            .map_or("ANY".to_owned(), |i| i.integration_method.clone()),
    );
    let timeout = RwSignal::new(
        existing
            .as_ref()
            .map_or(DEFAULT_TIMEOUT_MILLIS, |i| i.timeout_in_millis)
            .to_string(),
    );
    let description = RwSignal::new(
        existing
            .as_ref()
            .and_then(|i| i.description.clone())
            .unwrap_or_default(),
    );
    let state = FormState::new(&[
        "integrationUri",
        "integrationMethod",
        "timeoutInMillis",
        "description",
    ]);
    let errors = state.errors;
    let integration_id = existing.as_ref().map(|i| i.integration_id.clone());
    let editing = integration_id.is_some();
    let on_submit = Callback::new({
        let state = state.clone();
        move |()| {
            let timeout_in_millis = match timeout.get_untracked().trim().parse::<u32>() {
                Ok(t) => t,
                Err(_) => {
                    errors.set(crate::client::ApiFailure::invalid(
                        "timeoutInMillis",
                        "timeoutInMillis must be a whole number of milliseconds",
                    ));
                    return;
                }
            };
            let mut body = json!({
                "integrationType": INTEGRATION_HTTP_PROXY,
                "integrationUri": uri.get_untracked().trim(),
                "integrationMethod": method.get_untracked(),
                "timeoutInMillis": timeout_in_millis,
            });
            let d = description.get_untracked();
            if !d.is_empty() || editing {
                body["description"] = json!(d);
            }
            let base = format!("/v2/apis/{}/integrations", segment(&api_id));
            let to = match &integration_id {
                Some(id) => FormTarget::Save(format!("{base}/{}", segment(id))),
                None => {
                    body["payloadFormatVersion"] = json!("1.0");
                    FormTarget::Create(base)
                }
            };
            state.send(to, body, move |_: Integration| {
                if !editing {
                    uri.set(String::new());
                    description.set(String::new());
                }
                on_saved.run(());
            });
        }
    });
    let options = method_options(true);
    let label = if editing {
        "Save integration"
    } else {
        "Create integration"
    };
    view! {
        <ResourceForm class="integration-form" state submit_label=label on_submit>
            <TextField
                id=format!("{id_prefix}-uri")
                label="Integration URI"
                field="integrationUri"
                value=uri
                errors
                placeholder="http://127.0.0.1:3000/notes/{id}"
                hint="http(s) URL; {param} and ${stageVariables.name} are filled in per request"
                required=true
            />
            <SelectField
                id=format!("{id_prefix}-method")
                label="Method"
                field="integrationMethod"
                value=method
                errors
                options
            />
            <TextField
                id=format!("{id_prefix}-timeout")
                label="Timeout (ms)"
                field="timeoutInMillis"
                value=timeout
                errors
                input_type="number"
                hint="50 to 30000"
            />
            <TextField
                id=format!("{id_prefix}-description")
                label="Description"
                field="description"
                value=description
                errors
            />
        </ResourceForm>
    }
}
