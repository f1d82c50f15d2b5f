use leptos::prelude::*;
use portico_model::{Api, CORS_MAX_AGE_LIMIT, Cors};
use serde_json::json;

use super::{CurrentApi, parse_list};
use crate::client::{ApiFailure, segment};
use crate::components::checkbox_field::CheckboxField;
use crate::components::checkbox_group::CheckboxGroup;
use crate::components::resource_form::{FormState, FormTarget, ResourceForm};
use crate::components::text_area_field::TextAreaField;
use crate::components::text_field::TextField;

/// The methods `allowMethods` takes, in the AWS console's order.
const METHODS: &[&str] = &[
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "*",
];

/// Sets an API's whole CORS configuration, starting from `api`'s; made once the API is
/// loaded, so the server-rendered form already holds its values. `saved` says when the
/// last save went through.
#[component]
pub fn CorsForm(api: Api, saved: RwSignal<bool>) -> impl IntoView {
    let CurrentApi { reload, .. } = expect_context::<CurrentApi>();
    let cors = api.cors_configuration.clone().unwrap_or_default();
    let lines = |list: &Option<Vec<String>>| list.clone().unwrap_or_default().join("\n");
    let origins = RwSignal::new(lines(&cors.allow_origins));
    let headers = RwSignal::new(lines(&cors.allow_headers));
    let expose = RwSignal::new(lines(&cors.expose_headers));
    // The API takes methods in any case; the boxes are upper case.
    let stored_methods = cors.allow_methods.clone().unwrap_or_default();
    let methods = RwSignal::new(
        METHODS
            .iter()
            .filter(|m| stored_methods.iter().any(|s| s.eq_ignore_ascii_case(m)))
            .map(|m| m.to_string())
            .collect::<Vec<_>>(),
    );
    let max_age = RwSignal::new(cors.max_age.map(|a| a.to_string()).unwrap_or_default());
    let credentials = RwSignal::new(cors.allow_credentials.unwrap_or(false));
    let state = FormState::new(&[
        "allowOrigins",
        "allowHeaders",
        "allowMethods",
        "exposeHeaders",
        "maxAge",
        "allowCredentials",
    ]);
    let errors = state.errors;
    let path = format!("/v2/apis/{}", segment(&api.api_id));
    let on_submit = Callback::new({
        let state = state.clone();
        move |()| {
            saved.set(false);
            let max_age = match max_age.get_untracked().trim() {
                "" => None,
                age => match age.parse::<i32>() {
                    Ok(a) => Some(a),
                    Err(_) => {
                        return errors.set(ApiFailure::invalid(
                            "maxAge",
                            format!(
                                "maxAge must be a whole number of seconds, from -1 to {CORS_MAX_AGE_LIMIT}"
                            ),
                        ));
                    }
                },
            };
            let methods = methods.get_untracked();
            // The whole configuration replaces the stored one; empty lists are left out.
            let cors = Cors {
                allow_origins: parse_list(&origins.get_untracked()),
                allow_headers: parse_list(&headers.get_untracked()),
                allow_methods: (!methods.is_empty()).then_some(methods),
                expose_headers: parse_list(&expose.get_untracked()),
                max_age,
                allow_credentials: Some(credentials.get_untracked()),
            };
            let body = json!({ "corsConfiguration": cors });
            state.send(FormTarget::Save(path.clone()), body, move |_: Api| {
                saved.set(true);
                reload.bump();
            });
        }
    });
    view! {
        <ResourceForm class="cors-form" state submit_label="Save CORS" on_submit>
            <TextAreaField
                id="cors-allow-origins"
                label="Access-Control-Allow-Origin"
                field="allowOrigins"
                value=origins
                errors
                placeholder="https://app.example.com"
                hint="Origins allowed to call the API: scheme://host[:port], scheme://* or *"
                rows=3
            />
            <TextAreaField
                id="cors-allow-headers"
                label="Access-Control-Allow-Headers"
                field="allowHeaders"
                value=headers
                errors
                placeholder="content-type"
                hint="Request headers a caller may send, or *"
                rows=3
            />
            <CheckboxGroup
                id="cors-allow-methods"
                label="Access-Control-Allow-Methods"
                field="allowMethods"
                options=METHODS
                value=methods
                errors
                hint="Methods a caller may use; * allows every method"
            />
            <TextAreaField
                id="cors-expose-headers"
                label="Access-Control-Expose-Headers"
                field="exposeHeaders"
                value=expose
                errors
                placeholder="x-request-id"
                hint="Response headers the caller's script may read, or *"
                rows=3
            />
            <TextField
                id="cors-max-age"
                label="Access-Control-Max-Age"
                field="maxAge"
                value=max_age
                errors
                input_type="number"
                placeholder="300"
                hint="Seconds a browser may cache a preflight's answer: -1 (not at all) to 86400"
            />
            <CheckboxField
                id="cors-allow-credentials"
                label="Access-Control-Allow-Credentials"
                field="allowCredentials"
                value=credentials
                errors
                hint="Lets callers send cookies and authorization; not with origin *"
            />
        </ResourceForm>
    }
}
