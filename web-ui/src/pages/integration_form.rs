use leptos::prelude::*;
use portico_model::{DEFAULT_TIMEOUT_MILLIS, INTEGRATION_HTTP_PROXY, Integration};
use serde_json::json;

use super::{current_api_id, method_options};
use crate::client::segment;
use crate::components::mapping_editor::MappingEditor;
use crate::components::mapping_rows::MappingRows;
use crate::components::resource_form::{FormState, FormTarget, ResourceForm};
use crate::components::select_field::SelectField;
use crate::components::text_field::TextField;

const REQUEST_HINT: &str = "Key: append:, overwrite: or remove: with header.NAME or \
    querystring.NAME, or overwrite:path. Value: $request.header.NAME, \
    $request.querystring.NAME, $request.path, $context.requestId, ${stageVariables.NAME} or \
    static text; a remove: key takes '' (left empty, it is filled in).";
const RESPONSE_HINT: &str = "By the backend's status code (200 to 599). Key: append:, \
    overwrite: or remove: with header.NAME, or overwrite:statuscode. Value: \
    $response.header.NAME, $context.requestId, ${stageVariables.NAME} or static text.";

/// Creates an HTTP proxy integration, or edits `existing`: URI, method, timeout, and the
/// parameter mappings applied to its requests and responses.
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
    // What an edit started from: the mappings its rows no longer hold are sent for removal.
    let stored_request = existing.as_ref().map(|i| i.request_parameters.clone());
    let stored_response = existing.as_ref().map(|i| i.response_parameters.clone());
    let request_rows = MappingRows::request(&stored_request.clone().unwrap_or_default());
    let response_rows = MappingRows::response(&stored_response.clone().unwrap_or_default());
    let state = FormState::new(&[
        "integrationUri",
        "integrationMethod",
        "timeoutInMillis",
        "description",
        "requestParameters",
        "responseParameters",
    ]);
    let errors = state.errors;
    let integration_id = existing.as_ref().map(|i| i.integration_id.clone());
    let editing = integration_id.is_some();
    let on_submit = Callback::new({
        let state = state.clone();
        move |()| {
            // Both editors are checked, so that every row to fix is marked at once.
            let rows_ok = request_rows.check() & response_rows.check();
            if !rows_ok {
                return;
            }
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
            let request = request_rows.request_body(stored_request.as_ref());
            if !request.is_empty() {
                body["requestParameters"] = json!(request);
            }
            let response = response_rows.response_body(stored_response.as_ref());
            if !response.is_empty() {
                body["responseParameters"] = json!(response);
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
                    request_rows.clear();
                    response_rows.clear();
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
            <MappingEditor
                label="Request parameter mapping"
                field="requestParameters"
                rows=request_rows
                errors
                key_placeholder="append:header.x-source"
                value_placeholder="$request.header.x-id"
                hint=REQUEST_HINT
            />
            <MappingEditor
                label="Response parameter mapping"
                field="responseParameters"
                rows=response_rows
                errors
                key_placeholder="overwrite:header.x-served-by"
                value_placeholder="$context.requestId"
                hint=RESPONSE_HINT
            />
        </ResourceForm>
    }
}
