use std::collections::BTreeMap;

use leptos::prelude::*;
use portico_model::{
    CONNECTION_INTERNET, CONNECTION_VPC_LINK, DEFAULT_TIMEOUT_MILLIS, INTEGRATION_AWS_PROXY,
    INTEGRATION_HTTP_PROXY, Integration, VpcLink,
};
use serde_json::{Value, json};

use super::current_api_id;
use super::http_fields::HttpFields;
use super::lambda_fields::{DEFAULT_PAYLOAD_FORMAT, LambdaFields, lambda_body};
use super::private_fields::{PrivateFields, PrivateInput, private_body};
use crate::client::{ApiFailure, segment};
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

/// The form's third kind besides the two integration types: an `HTTP_PROXY` integration
/// through a VPC link, as the AWS console's "Private resource" target.
pub(crate) const KIND_PRIVATE: &str = "PRIVATE";

/// What the type drop-down shows for `integration`.
fn kind_of(integration: &Integration) -> String {
    if integration.connection_type == CONNECTION_VPC_LINK {
        KIND_PRIVATE.to_owned()
    } else {
        integration.integration_type.clone()
    }
}

/// Creates an integration, or edits `existing`: an HTTP backend (URI, method, and the
/// parameter mappings applied to its requests and responses), a private resource through
/// a VPC link (one of `links`, a URL or ARN, TLS to the target, and the same mappings),
/// or a Lambda function (ARN and payload format version), each with a timeout.
#[component]
pub fn IntegrationForm(
    #[prop(into)] id_prefix: String,
    existing: Option<Integration>,
    links: Resource<Result<Vec<VpcLink>, ApiFailure>>,
    on_saved: Callback<()>,
) -> impl IntoView {
    let api_id = current_api_id();
    let stored_as = |kind: &str| existing.as_ref().filter(|i| i.integration_type == kind);
    let kind = RwSignal::new(
        existing
            .as_ref()
            .map_or(INTEGRATION_HTTP_PROXY.to_owned(), kind_of),
    );
    let lambda = Memo::new(move |_| kind.with(|k| k == INTEGRATION_AWS_PROXY));
    let private = Memo::new(move |_| kind.with(|k| k == KIND_PRIVATE));
    let was_private = existing
        .as_ref()
        .is_some_and(|i| i.connection_type == CONNECTION_VPC_LINK);
    let connection_id = RwSignal::new(
        existing
            .as_ref()
            .and_then(|i| i.connection_id.clone())
            .unwrap_or_default(),
    );
    let stored_tls = existing.as_ref().and_then(|i| i.tls_config.clone());
    let had_tls = was_private && stored_tls.is_some();
    let tls = RwSignal::new(stored_tls.is_some());
    let server_name = RwSignal::new(
        stored_tls
            .and_then(|t| t.server_name_to_verify)
            .unwrap_or_default(),
    );
    let uri = RwSignal::new(
        existing
            .as_ref()
            .map(|i| i.integration_uri.clone())
            .unwrap_or_default(),
    );
    // Each type's own stored value, so that switching type starts from that type's default
    // (a Lambda integration's POST is no default for an HTTP backend).
    let method = RwSignal::new(
        stored_as(INTEGRATION_HTTP_PROXY)
            .map_or("ANY".to_owned(), |i| i.integration_method.clone()),
    );
    let payload = RwSignal::new(
        stored_as(INTEGRATION_AWS_PROXY).map_or(DEFAULT_PAYLOAD_FORMAT.to_owned(), |i| {
            i.payload_format_version.clone()
        }),
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
    let drops_mappings = existing
        .as_ref()
        .is_some_and(|i| !i.request_parameters.is_empty() || !i.response_parameters.is_empty());
    let request_rows = MappingRows::request(&stored_request.clone().unwrap_or_default());
    let response_rows = MappingRows::response(&stored_response.clone().unwrap_or_default());
    let state = FormState::new(&[
        "integrationType",
        "integrationUri",
        "connectionId",
        "tlsConfig",
        "tls",
        "integrationMethod",
        "payloadFormatVersion",
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
            let is_lambda = lambda.get_untracked();
            let is_private = private.get_untracked();
            // Both editors are checked, so that every row to fix is marked at once.
            if !is_lambda && !(request_rows.check() & response_rows.check()) {
                return;
            }
            let timeout_in_millis = match timeout.get_untracked().trim().parse::<u32>() {
                Ok(t) => t,
                Err(_) => {
                    errors.set(ApiFailure::invalid(
                        "timeoutInMillis",
                        "timeoutInMillis must be a whole number of milliseconds",
                    ));
                    return;
                }
            };
            let typed_uri = uri.get_untracked().trim().to_owned();
            let mut body = if is_lambda {
                match lambda_body(&typed_uri, &payload.get_untracked(), timeout_in_millis) {
                    Ok(body) => body,
                    Err(e) => {
                        errors.set(e);
                        return;
                    }
                }
            } else if is_private {
                let input = PrivateInput {
                    uri: typed_uri,
                    method: method.get_untracked(),
                    connection_id: connection_id.get_untracked(),
                    tls: tls.get_untracked(),
                    had_tls,
                    server_name: server_name.get_untracked(),
                    timeout_in_millis,
                };
                match private_body(&input) {
                    Ok(body) => body,
                    Err(e) => {
                        errors.set(e);
                        return;
                    }
                }
            } else {
                json!({
                    "integrationType": INTEGRATION_HTTP_PROXY,
                    "integrationUri": typed_uri,
                    "integrationMethod": method.get_untracked(),
                    "timeoutInMillis": timeout_in_millis,
                })
            };
            // An edit that takes a private integration back onto the internet says so: the
            // API then drops its link and TLS settings.
            if was_private && !is_private {
                body["connectionType"] = json!(CONNECTION_INTERNET);
            }
            let d = description.get_untracked();
            if !d.is_empty() || editing {
                body["description"] = json!(d);
            }
            if is_lambda {
                drop_mappings(&mut body, stored_request.as_ref(), stored_response.as_ref());
            } else {
                let request = request_rows.request_body(stored_request.as_ref());
                if !request.is_empty() {
                    body["requestParameters"] = json!(request);
                }
                let response = response_rows.response_body(stored_response.as_ref());
                if !response.is_empty() {
                    body["responseParameters"] = json!(response);
                }
            }
            let base = format!("/v2/apis/{}/integrations", segment(&api_id));
            let to = match &integration_id {
                Some(id) => FormTarget::Save(format!("{base}/{}", segment(id))),
                None => {
                    if !is_lambda {
                        body["payloadFormatVersion"] = json!("1.0");
                    }
                    FormTarget::Create(base)
                }
            };
            state.send(to, body, move |_: Integration| {
                if !editing {
                    uri.set(String::new());
                    server_name.set(String::new());
                    tls.set(false);
                    description.set(String::new());
                    request_rows.clear();
                    response_rows.clear();
                }
                on_saved.run(());
            });
        }
    });
    let label = if editing {
        "Save integration"
    } else {
        "Create integration"
    };
    let types = vec![
        (INTEGRATION_HTTP_PROXY.to_owned(), "HTTP URI".to_owned()),
        (
            KIND_PRIVATE.to_owned(),
            "Private resource via VPC link".to_owned(),
        ),
        (
            INTEGRATION_AWS_PROXY.to_owned(),
            "Lambda function".to_owned(),
        ),
    ];
    let backend = {
        let id_prefix = id_prefix.clone();
        move || {
            let id_prefix = id_prefix.clone();
            if lambda.get() {
                view! { <LambdaFields id_prefix uri payload errors drops_mappings/> }.into_any()
            } else if private.get() {
                view! {
                    <PrivateFields id_prefix uri method connection_id tls server_name links errors/>
                }
                .into_any()
            } else {
                view! { <HttpFields id_prefix uri method errors/> }.into_any()
            }
        }
    };
    view! {
        <ResourceForm class="integration-form" state submit_label=label on_submit>
            <SelectField
                id=format!("{id_prefix}-type")
                label="Integration type"
                field="integrationType"
                value=kind
                errors
                options=types
            />
            {backend}
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
            <Show when=move || !lambda.get()>
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
            </Show>
        </ResourceForm>
    }
}

/// Adds to a Lambda integration's `body` the removal of every mapping the integration
/// held as an HTTP one: the admin API refuses a Lambda integration that keeps any.
fn drop_mappings(
    body: &mut Value,
    request: Option<&BTreeMap<String, String>>,
    response: Option<&BTreeMap<String, BTreeMap<String, String>>>,
) {
    if let Some(request) = request.filter(|m| !m.is_empty()) {
        let gone: BTreeMap<&str, &str> = request.keys().map(|k| (k.as_str(), "")).collect();
        body["requestParameters"] = json!(gone);
    }
    if let Some(response) = response.filter(|m| !m.is_empty()) {
        let gone: BTreeMap<&str, Value> =
            response.keys().map(|s| (s.as_str(), json!({}))).collect();
        body["responseParameters"] = json!(gone);
    }
}
