//! The part of the integration form that only a Lambda proxy integration (`AWS_PROXY`)
//! has, and the body it sends.
use leptos::prelude::*;
use portico_model::{INTEGRATION_AWS_PROXY, LambdaFunctionArn, PAYLOAD_FORMAT_VERSIONS};
use serde_json::{Value, json};

use crate::client::ApiFailure;
use crate::components::form_errors::FormErrors;
use crate::components::select_field::SelectField;
use crate::components::text_field::TextField;

/// What a new Lambda integration sends its function: the event HTTP APIs were made with.
pub(crate) const DEFAULT_PAYLOAD_FORMAT: &str = "2.0";

const ARN_HINT: &str = "arn:aws:lambda:REGION:ACCOUNT_ID:function:NAME, with :ALIAS or \
    :VERSION to pin one; API Gateway's …/functions/ARN/invocations form is accepted too";
const PAYLOAD_HINT: &str = "2.0: the HTTP API event, and the function may answer with just \
    a body. 1.0: the REST API event, with multi-value headers and query strings.";

/// The function's ARN, in the same `uri` the HTTP fields use, and the event format it is
/// sent. `drops_mappings`: the integration being edited holds parameter mappings, which a
/// Lambda integration cannot keep, so saving it as one removes them.
#[component]
pub fn LambdaFields(
    id_prefix: String,
    uri: RwSignal<String>,
    payload: RwSignal<String>,
    errors: FormErrors,
    drops_mappings: bool,
) -> impl IntoView {
    // The default first.
    let options = PAYLOAD_FORMAT_VERSIONS
        .iter()
        .rev()
        .map(|v| ((*v).to_owned(), (*v).to_owned()))
        .collect();
    view! {
        <TextField
            id=format!("{id_prefix}-uri")
            label="Lambda function ARN"
            field="integrationUri"
            value=uri
            errors
            placeholder="arn:aws:lambda:us-east-1:123456789012:function:notes_get"
            hint=ARN_HINT
            required=true
        />
        <SelectField
            id=format!("{id_prefix}-payload")
            label="Payload format version"
            field="payloadFormatVersion"
            value=payload
            errors
            options
            hint=PAYLOAD_HINT
        />
        {drops_mappings
            .then(|| {
                view! {
                    <div class="field drops-mappings" role="note">
                        <p class="hint">
                            "Saving this as a Lambda integration removes its parameter \
                             mappings: Lambda integrations take none."
                        </p>
                    </div>
                }
            })}
    }
}

/// The body that creates or saves a Lambda integration. The ARN is read with the parser
/// the admin API uses, so a bad one is shown beside its field, in the same words, before
/// anything is sent.
pub(crate) fn lambda_body(
    uri: &str,
    payload: &str,
    timeout_in_millis: u32,
) -> Result<Value, ApiFailure> {
    LambdaFunctionArn::parse_integration_uri(uri)
        .map_err(|e| ApiFailure::invalid(e.field, e.message))?;
    Ok(json!({
        "integrationType": INTEGRATION_AWS_PROXY,
        "integrationUri": uri,
        "payloadFormatVersion": payload,
        "timeoutInMillis": timeout_in_millis,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_good_arn_is_sent_as_typed() {
        let arn = "arn:aws:lambda:us-east-1:123456789012:function:notes_get:live";
        assert_eq!(
            lambda_body(arn, "1.0", 5000).expect("valid"),
            json!({
                "integrationType": "AWS_PROXY",
                "integrationUri": arn,
                "payloadFormatVersion": "1.0",
                "timeoutInMillis": 5000,
            })
        );
    }

    #[test]
    fn a_bad_arn_is_an_error_beside_the_uri() {
        let err = lambda_body("arn:aws:lambda:us-east-1:123:function:x", "2.0", 5000)
            .expect_err("short account id");
        assert_eq!(err.field.as_deref(), Some("integrationUri"));
        assert!(err.message.contains("12 digits"), "{}", err.message);
    }
}
