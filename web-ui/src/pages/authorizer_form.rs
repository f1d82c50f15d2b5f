//! The form that creates and edits an authorizer, and the body it sends.
use leptos::prelude::*;
use portico_model::{
    AUTHORIZER_JWT, AUTHORIZER_REQUEST, Authorizer, CreateAuthorizer, JwtConfiguration,
    validate_authorizer,
};
use serde_json::Value;

use super::jwt_fields::JwtFields;
use super::lambda_authorizer_fields::LambdaAuthorizerFields;
use super::{current_api_id, parse_list};
use crate::client::{ApiFailure, segment};
use crate::components::resource_form::{FormState, FormTarget, ResourceForm};
use crate::components::select_field::SelectField;
use crate::components::text_area_field::TextAreaField;
use crate::components::text_field::TextField;

/// Where a new authorizer reads the caller's identity: as on AWS.
pub(crate) const DEFAULT_IDENTITY_SOURCE: &str = "$request.header.Authorization";
/// How long a new Lambda authorizer's answer is kept, as the AWS console proposes.
const DEFAULT_TTL_SECONDS: u32 = 300;
const DEFAULT_AUTHORIZER_PAYLOAD: &str = "2.0";

const IDENTITY_HINT: &str = "One per line: $request.header.NAME or \
    $request.querystring.NAME (a JWT authorizer takes exactly one); Lambda authorizers may \
    also use $context.NAME and $stageVariables.NAME";

/// What the form holds, as typed.
#[derive(Debug, Clone, Default)]
pub(crate) struct AuthorizerInput {
    pub name: String,
    pub kind: String,
    pub identity_source: String,
    pub issuer: String,
    pub audience: String,
    pub uri: String,
    pub payload: String,
    pub simple: bool,
    pub ttl: String,
    /// A stored Lambda authorizer's role, which the form does not show: kept as it is.
    pub credentials_arn: Option<String>,
}

/// The body that creates or saves the authorizer. It is checked with the rules the admin
/// API applies, so a mistake is shown beside its field, in the same words, before
/// anything is sent; every field of its type is sent, so a save replaces them all.
pub(crate) fn authorizer_body(input: &AuthorizerInput) -> Result<Value, ApiFailure> {
    let jwt = input.kind == AUTHORIZER_JWT;
    let ttl = if jwt {
        None
    } else {
        Some(input.ttl.trim().parse::<u32>().map_err(|_| {
            ApiFailure::invalid(
                "authorizerResultTtlInSeconds",
                "authorizerResultTtlInSeconds must be a whole number of seconds, from 0 to 3600",
            )
        })?)
    };
    let issuer = input.issuer.trim();
    let uri = input.uri.trim();
    let request = CreateAuthorizer {
        name: input.name.trim().to_owned(),
        authorizer_type: input.kind.clone(),
        identity_source: Some(parse_list(&input.identity_source).unwrap_or_default()),
        jwt_configuration: jwt.then(|| JwtConfiguration {
            audience: parse_list(&input.audience).unwrap_or_default(),
            issuer: (!issuer.is_empty()).then(|| issuer.to_owned()),
        }),
        authorizer_uri: (!jwt && !uri.is_empty()).then(|| uri.to_owned()),
        authorizer_payload_format_version: (!jwt).then(|| input.payload.clone()),
        // Simple responses exist only in the 2.0 format; the box is hidden for 1.0.
        enable_simple_responses: (!jwt).then(|| input.simple && input.payload == "2.0"),
        authorizer_result_ttl_in_seconds: ttl,
        authorizer_credentials_arn: input.credentials_arn.clone().filter(|_| !jwt),
    };
    let checked = validate_authorizer(String::new(), &request)
        .map_err(|e| ApiFailure::invalid(e.field, e.message))?;
    let mut body = serde_json::to_value(&checked).map_err(|e| {
        ApiFailure::invalid("authorizer", format!("the authorizer can't be sent: {e}"))
    })?;
    if let Some(fields) = body.as_object_mut() {
        fields.remove("authorizerId");
    }
    Ok(body)
}

/// Creates an authorizer, or edits `existing`: a JWT one (an OIDC issuer and the
/// audiences its tokens may be for) or a Lambda (REQUEST) one (a function, the event it
/// is sent, and how long its answer is kept).
#[component]
pub fn AuthorizerForm(
    #[prop(into)] id_prefix: String,
    existing: Option<Authorizer>,
    on_saved: Callback<()>,
) -> impl IntoView {
    let api_id = current_api_id();
    let stored_as = |kind: &str| existing.as_ref().filter(|a| a.authorizer_type == kind);
    let jwt_config = stored_as(AUTHORIZER_JWT).and_then(|a| a.jwt_configuration.clone());
    let lambda = stored_as(AUTHORIZER_REQUEST);
    let name = RwSignal::new(
        existing
            .as_ref()
            .map(|a| a.name.clone())
            .unwrap_or_default(),
    );
    let kind = RwSignal::new(
        existing
            .as_ref()
            .map_or(AUTHORIZER_JWT.to_owned(), |a| a.authorizer_type.clone()),
    );
    let is_jwt = Memo::new(move |_| kind.with(|k| k == AUTHORIZER_JWT));
    let identity_source = RwSignal::new(
        existing
            .as_ref()
            .map_or(DEFAULT_IDENTITY_SOURCE.to_owned(), |a| {
                a.identity_source.join("\n")
            }),
    );
    let issuer = RwSignal::new(
        jwt_config
            .as_ref()
            .and_then(|j| j.issuer.clone())
            .unwrap_or_default(),
    );
    let audience = RwSignal::new(
        jwt_config
            .as_ref()
            .map(|j| j.audience.join("\n"))
            .unwrap_or_default(),
    );
    let uri = RwSignal::new(
        lambda
            .and_then(|a| a.authorizer_uri.clone())
            .unwrap_or_default(),
    );
    let payload = RwSignal::new(
        lambda
            .and_then(|a| a.authorizer_payload_format_version.clone())
            .unwrap_or_else(|| DEFAULT_AUTHORIZER_PAYLOAD.to_owned()),
    );
    let simple = RwSignal::new(lambda.is_none_or(|a| a.enable_simple_responses == Some(true)));
    let ttl = RwSignal::new(
        lambda
            .map_or(Some(DEFAULT_TTL_SECONDS), |a| {
                a.authorizer_result_ttl_in_seconds
            })
            .unwrap_or(0)
            .to_string(),
    );
    let credentials_arn = lambda.and_then(|a| a.authorizer_credentials_arn.clone());
    let state = FormState::new(&[
        "name",
        "authorizerType",
        "identitySource",
        "jwtConfiguration.issuer",
        "jwtConfiguration.audience",
        "authorizerUri",
        "authorizerPayloadFormatVersion",
        "enableSimpleResponses",
        "authorizerResultTtlInSeconds",
    ]);
    let errors = state.errors;
    let authorizer_id = existing.as_ref().map(|a| a.authorizer_id.clone());
    let editing = authorizer_id.is_some();
    let on_submit = Callback::new({
        let state = state.clone();
        move |()| {
            let input = AuthorizerInput {
                name: name.get_untracked(),
                kind: kind.get_untracked(),
                identity_source: identity_source.get_untracked(),
                issuer: issuer.get_untracked(),
                audience: audience.get_untracked(),
                uri: uri.get_untracked(),
                payload: payload.get_untracked(),
                simple: simple.get_untracked(),
                ttl: ttl.get_untracked(),
                credentials_arn: credentials_arn.clone(),
            };
            let body = match authorizer_body(&input) {
                Ok(body) => body,
                Err(e) => return errors.set(e),
            };
            let base = format!("/v2/apis/{}/authorizers", segment(&api_id));
            let to = match &authorizer_id {
                Some(id) => FormTarget::Save(format!("{base}/{}", segment(id))),
                None => FormTarget::Create(base),
            };
            state.send(to, body, move |_: Authorizer| {
                if !editing {
                    name.set(String::new());
                    issuer.set(String::new());
                    audience.set(String::new());
                    uri.set(String::new());
                }
                on_saved.run(());
            });
        }
    });
    let label = if editing {
        "Save authorizer"
    } else {
        "Create authorizer"
    };
    let types = vec![
        (AUTHORIZER_JWT.to_owned(), "JWT".to_owned()),
        (AUTHORIZER_REQUEST.to_owned(), "Lambda (REQUEST)".to_owned()),
    ];
    let settings = {
        let id_prefix = id_prefix.clone();
        move || {
            let id_prefix = id_prefix.clone();
            if is_jwt.get() {
                view! { <JwtFields id_prefix issuer audience errors/> }.into_any()
            } else {
                view! { <LambdaAuthorizerFields id_prefix uri payload simple ttl errors/> }
                    .into_any()
            }
        }
    };
    view! {
        <ResourceForm class="authorizer-form" state submit_label=label on_submit>
            <TextField
                id=format!("{id_prefix}-name")
                label="Name"
                field="name"
                value=name
                errors
                placeholder="cognito"
                required=true
            />
            <SelectField
                id=format!("{id_prefix}-type")
                label="Authorizer type"
                field="authorizerType"
                value=kind
                errors
                options=types
            />
            <TextAreaField
                id=format!("{id_prefix}-identity-source")
                label="Identity source"
                field="identitySource"
                value=identity_source
                errors
                placeholder=DEFAULT_IDENTITY_SOURCE
                hint=IDENTITY_HINT
                rows=2
            />
            {settings}
        </ResourceForm>
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn jwt() -> AuthorizerInput {
        AuthorizerInput {
            name: " cognito ".into(),
            kind: "JWT".into(),
            identity_source: DEFAULT_IDENTITY_SOURCE.into(),
            issuer: "https://issuer.example/pool".into(),
            audience: "app\n\nother\n".into(),
            // Lambda fields left from switching type are not sent.
            uri: "arn:aws:lambda:us-east-1:123456789012:function:auth".into(),
            payload: "2.0".into(),
            simple: true,
            ttl: "300".into(),
            credentials_arn: None,
        }
    }

    fn lambda() -> AuthorizerInput {
        AuthorizerInput {
            kind: "REQUEST".into(),
            issuer: String::new(),
            audience: String::new(),
            credentials_arn: Some("arn:aws:iam::123456789012:role/invoke".into()),
            ..jwt()
        }
    }

    #[test]
    fn a_jwt_authorizer_sends_its_issuer_and_audiences_only() {
        assert_eq!(
            authorizer_body(&jwt()).expect("valid"),
            json!({
                "name": "cognito",
                "authorizerType": "JWT",
                "identitySource": ["$request.header.Authorization"],
                "jwtConfiguration": {
                    "audience": ["app", "other"],
                    "issuer": "https://issuer.example/pool",
                },
            })
        );
    }

    #[test]
    fn a_lambda_authorizer_sends_its_function_format_and_ttl() {
        assert_eq!(
            authorizer_body(&lambda()).expect("valid"),
            json!({
                "name": "cognito",
                "authorizerType": "REQUEST",
                "identitySource": ["$request.header.Authorization"],
                "authorizerUri": "arn:aws:lambda:us-east-1:123456789012:function:auth",
                "authorizerPayloadFormatVersion": "2.0",
                "enableSimpleResponses": true,
                "authorizerResultTtlInSeconds": 300,
                "authorizerCredentialsArn": "arn:aws:iam::123456789012:role/invoke",
            })
        );
        // 1.0 has no simple responses, whatever the hidden box says.
        let v1 = AuthorizerInput {
            payload: "1.0".into(),
            ..lambda()
        };
        assert_eq!(
            authorizer_body(&v1).expect("valid")["enableSimpleResponses"],
            false
        );
    }

    #[test]
    fn mistakes_name_their_field() {
        let field = |input: AuthorizerInput| {
            authorizer_body(&input)
                .expect_err("refused")
                .field
                .expect("a field")
        };
        let not_loopback = AuthorizerInput {
            issuer: "http://issuer.example/pool".into(),
            ..jwt()
        };
        assert_eq!(field(not_loopback), "jwtConfiguration.issuer");
        let no_audience = AuthorizerInput {
            audience: " \n".into(),
            ..jwt()
        };
        assert_eq!(field(no_audience), "jwtConfiguration.audience");
        let two_sources = AuthorizerInput {
            identity_source: "$request.header.A\n$request.header.B".into(),
            ..jwt()
        };
        assert_eq!(field(two_sources), "identitySource");
        let no_name = AuthorizerInput {
            name: "  ".into(),
            ..jwt()
        };
        assert_eq!(field(no_name), "name");
        let typo = AuthorizerInput {
            ttl: "5m".into(),
            ..lambda()
        };
        assert_eq!(field(typo), "authorizerResultTtlInSeconds");
        let long = AuthorizerInput {
            ttl: "3601".into(),
            ..lambda()
        };
        assert_eq!(field(long), "authorizerResultTtlInSeconds");
        let no_function = AuthorizerInput {
            uri: String::new(),
            ..lambda()
        };
        assert_eq!(field(no_function), "authorizerUri");
    }
}
