//! The part of the authorizer form that only a JWT authorizer has: the issuer whose keys
//! sign its tokens and the audiences a token may be for.
use leptos::prelude::*;

use crate::components::form_errors::FormErrors;
use crate::components::text_area_field::TextAreaField;
use crate::components::text_field::TextField;

const ISSUER_HINT: &str = "The token's iss: an https:// URL whose \
    /.well-known/openid-configuration names its keys (http:// only on loopback), such as \
    https://cognito-idp.REGION.amazonaws.com/POOL_ID";
const AUDIENCE_HINT: &str = "One per line: a token's aud (or Cognito's client_id) must \
    match one, such as the app client ID";

#[component]
pub fn JwtFields(
    id_prefix: String,
    issuer: RwSignal<String>,
    audience: RwSignal<String>,
    errors: FormErrors,
) -> impl IntoView {
    view! {
        <TextField
            id=format!("{id_prefix}-issuer")
            label="Issuer URL"
            field="jwtConfiguration.issuer"
            value=issuer
            errors
            placeholder="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example"
            hint=ISSUER_HINT
            required=true
        />
        <TextAreaField
            id=format!("{id_prefix}-audience")
            label="Audience"
            field="jwtConfiguration.audience"
            value=audience
            errors
            placeholder="console-app"
            hint=AUDIENCE_HINT
            rows=2
        />
    }
}
