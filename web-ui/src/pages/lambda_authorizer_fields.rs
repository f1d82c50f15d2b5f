//! The part of the authorizer form that only a Lambda (REQUEST) authorizer has: the
//! function, the event it is sent, how it answers and how long its answer is kept.
use leptos::prelude::*;
use portico_model::PAYLOAD_FORMAT_VERSIONS;

use crate::components::checkbox_field::CheckboxField;
use crate::components::form_errors::FormErrors;
use crate::components::select_field::SelectField;
use crate::components::text_field::TextField;

const ARN_HINT: &str = "arn:aws:lambda:REGION:ACCOUNT_ID:function:NAME (with :ALIAS or \
    :VERSION to pin one), or API Gateway's …/functions/ARN/invocations form";
const PAYLOAD_HINT: &str = "2.0: the HTTP API authorizer event. 1.0: the REST API one, \
    answered with an IAM policy.";
const SIMPLE_HINT: &str = "The function answers {\"isAuthorized\": true|false, \"context\": \
    {…}} instead of an IAM policy";
const TTL_HINT: &str = "0 (call the function every time) to 3600; answers are cached by \
    the identity sources";

#[component]
pub fn LambdaAuthorizerFields(
    id_prefix: String,
    uri: RwSignal<String>,
    payload: RwSignal<String>,
    simple: RwSignal<bool>,
    ttl: RwSignal<String>,
    errors: FormErrors,
) -> impl IntoView {
    // The default first.
    let options = PAYLOAD_FORMAT_VERSIONS
        .iter()
        .rev()
        .map(|v| ((*v).to_owned(), (*v).to_owned()))
        .collect();
    let simple_id = format!("{id_prefix}-simple");
    view! {
        <TextField
            id=format!("{id_prefix}-uri")
            label="Lambda function ARN or invocation URI"
            field="authorizerUri"
            value=uri
            errors
            placeholder="arn:aws:lambda:us-east-1:123456789012:function:authorize"
            hint=ARN_HINT
            required=true
        />
        <SelectField
            id=format!("{id_prefix}-payload")
            label="Payload format version"
            field="authorizerPayloadFormatVersion"
            value=payload
            errors
            options
            hint=PAYLOAD_HINT
        />
        <Show when=move || payload.with(|p| p == "2.0")>
            <CheckboxField
                id=simple_id.clone()
                label="Simple responses"
                field="enableSimpleResponses"
                value=simple
                errors
                hint=SIMPLE_HINT
            />
        </Show>
        <TextField
            id=format!("{id_prefix}-ttl")
            label="Result TTL (seconds)"
            field="authorizerResultTtlInSeconds"
            value=ttl
            errors
            input_type="number"
            hint=TTL_HINT
        />
    }
}
