//! Authorizers and how routes use them, as AWS HTTP APIs have them: JWT authorizers
//! (an OIDC issuer and its audiences), Lambda REQUEST authorizers, and the route's
//! `authorizationType` (`NONE`, `JWT`, `CUSTOM`, `AWS_IAM`) with its authorizer and
//! scopes. The rules are AWS's "Controlling and managing access to an HTTP API"
//! (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-access-control.html)
//! and the CreateAuthorizer reference.
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::{LambdaFunctionArn, PAYLOAD_FORMAT_VERSIONS, ValidationError};

pub const AUTHORIZER_JWT: &str = "JWT";
/// A Lambda authorizer: AWS calls it REQUEST (it reads the request's identity sources).
pub const AUTHORIZER_REQUEST: &str = "REQUEST";
pub const AUTHORIZATION_JWT: &str = "JWT";
/// A route guarded by a Lambda (REQUEST) authorizer.
pub const AUTHORIZATION_CUSTOM: &str = "CUSTOM";
pub const AUTHORIZATION_AWS_IAM: &str = "AWS_IAM";
/// AWS's ceiling for `authorizerResultTtlInSeconds`.
pub const MAX_AUTHORIZER_TTL_SECONDS: u32 = 3600;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JwtConfiguration {
    #[serde(default)]
    pub audience: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Authorizer {
    pub authorizer_id: String,
    pub name: String,
    pub authorizer_type: String,
    #[serde(default)]
    pub identity_source: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt_configuration: Option<JwtConfiguration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_payload_format_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_simple_responses: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_result_ttl_in_seconds: Option<u32>,
    /// Kept as sent; nodes call the function with their own credentials (README).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_credentials_arn: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateAuthorizer {
    pub name: String,
    pub authorizer_type: String,
    pub identity_source: Option<Vec<String>>,
    pub jwt_configuration: Option<JwtConfiguration>,
    pub authorizer_uri: Option<String>,
    pub authorizer_payload_format_version: Option<String>,
    pub enable_simple_responses: Option<bool>,
    pub authorizer_result_ttl_in_seconds: Option<u32>,
    pub authorizer_credentials_arn: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateAuthorizer {
    pub name: Option<String>,
    pub authorizer_type: Option<String>,
    pub identity_source: Option<Vec<String>>,
    pub jwt_configuration: Option<JwtConfiguration>,
    pub authorizer_uri: Option<String>,
    pub authorizer_payload_format_version: Option<String>,
    pub enable_simple_responses: Option<bool>,
    pub authorizer_result_ttl_in_seconds: Option<u32>,
    pub authorizer_credentials_arn: Option<String>,
}

impl UpdateAuthorizer {
    /// AWS's update: each field sent replaces the stored one.
    pub fn merge(self, current: Authorizer) -> CreateAuthorizer {
        let same_type = self
            .authorizer_type
            .as_ref()
            .is_none_or(|t| *t == current.authorizer_type);
        // Fields of the other kind do not carry over a change of type.
        fn keep<T>(same_type: bool, v: Option<T>) -> Option<T> {
            if same_type { v } else { None }
        }
        CreateAuthorizer {
            name: self.name.unwrap_or(current.name),
            authorizer_type: self.authorizer_type.unwrap_or(current.authorizer_type),
            identity_source: self.identity_source.or(Some(current.identity_source)),
            jwt_configuration: self
                .jwt_configuration
                .or(keep(same_type, current.jwt_configuration)),
            authorizer_uri: self
                .authorizer_uri
                .or(keep(same_type, current.authorizer_uri)),
            authorizer_payload_format_version: self
                .authorizer_payload_format_version
                .or(keep(same_type, current.authorizer_payload_format_version)),
            enable_simple_responses: self
                .enable_simple_responses
                .or(keep(same_type, current.enable_simple_responses)),
            authorizer_result_ttl_in_seconds: self
                .authorizer_result_ttl_in_seconds
                .or(keep(same_type, current.authorizer_result_ttl_in_seconds)),
            authorizer_credentials_arn: self
                .authorizer_credentials_arn
                .or(keep(same_type, current.authorizer_credentials_arn)),
        }
    }
}

/// Where a request's identity is read from: AWS's identity-source expressions.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IdentitySource {
    /// `$request.header.NAME`, NAME lowercased (headers compare case-insensitively).
    Header(String),
    /// `$request.querystring.NAME`.
    QueryString(String),
    /// `$context.NAME`.
    Context(String),
    /// `$stageVariables.NAME`.
    StageVariable(String),
}

impl IdentitySource {
    pub fn parse(expr: &str) -> Result<Self, ValidationError> {
        let bad = |why: &str| {
            ValidationError::new(
                "identitySource",
                format!("Invalid identity source '{expr}': {why}"),
            )
        };
        let name_of = |rest: &str| -> Result<String, ValidationError> {
            if rest.is_empty() || rest.chars().any(|c| c.is_whitespace() || c == ',') {
                return Err(bad("the name is empty or holds spaces or commas"));
            }
            Ok(rest.to_string())
        };
        if let Some(rest) = expr.strip_prefix("$request.header.") {
            Ok(IdentitySource::Header(name_of(rest)?.to_ascii_lowercase()))
        } else if let Some(rest) = expr.strip_prefix("$request.querystring.") {
            Ok(IdentitySource::QueryString(name_of(rest)?))
        } else if let Some(rest) = expr.strip_prefix("$context.") {
            Ok(IdentitySource::Context(name_of(rest)?))
        } else if let Some(rest) = expr.strip_prefix("$stageVariables.") {
            Ok(IdentitySource::StageVariable(name_of(rest)?))
        } else {
            Err(bad(
                "use $request.header.NAME, $request.querystring.NAME, $context.NAME or $stageVariables.NAME",
            ))
        }
    }
}

fn name_ok(name: &str) -> Result<(), ValidationError> {
    let len = name.chars().count();
    if len == 0 || len > 128 {
        return Err(ValidationError::new(
            "name",
            "Authorizer name must be between 1 and 128 characters",
        ));
    }
    Ok(())
}

fn only_for_request(field: &'static str, set: bool) -> Result<(), ValidationError> {
    if set {
        return Err(ValidationError::new(
            field,
            format!("{field} is supported only for REQUEST (Lambda) authorizers"),
        ));
    }
    Ok(())
}

/// An issuer is an `https` URL; `http` only on a loopback host, for tests and local
/// development (an `http` issuer elsewhere would let the network forge its keys).
pub fn validate_issuer(issuer: &str) -> Result<(), ValidationError> {
    let bad = |why: String| {
        ValidationError::new(
            "jwtConfiguration.issuer",
            format!("Invalid issuer '{issuer}': {why}"),
        )
    };
    let (scheme, rest) = issuer
        .split_once("://")
        .ok_or_else(|| bad("expected an https:// URL".into()))?;
    let authority = rest.split('/').next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') {
        return Err(bad("the URL needs a host and no user name".into()));
    }
    if issuer.contains(['?', '#']) || issuer.chars().any(|c| c.is_whitespace()) {
        return Err(bad(
            "the URL can't hold a query, a fragment or spaces".into()
        ));
    }
    match scheme {
        "https" => Ok(()),
        "http" if is_loopback_authority(authority) => Ok(()),
        "http" => Err(bad(
            "http:// issuers are accepted only on loopback (127.0.0.0/8, ::1, localhost); use https://".into(),
        )),
        other => Err(bad(format!("scheme '{other}' is not https"))),
    }
}

fn is_loopback_authority(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The checked fields of an authorizer, ready to store.
pub fn validate_authorizer(
    authorizer_id: String,
    input: &CreateAuthorizer,
) -> Result<Authorizer, ValidationError> {
    name_ok(&input.name)?;
    let identity_source = input.identity_source.clone().unwrap_or_default();
    for expr in &identity_source {
        IdentitySource::parse(expr)?;
    }
    match input.authorizer_type.as_str() {
        AUTHORIZER_JWT => {
            for (field, set) in [
                ("authorizerUri", input.authorizer_uri.is_some()),
                (
                    "authorizerPayloadFormatVersion",
                    input.authorizer_payload_format_version.is_some(),
                ),
                (
                    "enableSimpleResponses",
                    input.enable_simple_responses.is_some(),
                ),
                (
                    "authorizerResultTtlInSeconds",
                    input.authorizer_result_ttl_in_seconds.is_some(),
                ),
                (
                    "authorizerCredentialsArn",
                    input.authorizer_credentials_arn.is_some(),
                ),
            ] {
                only_for_request(field, set)?;
            }
            // AWS: "a single entry that specifies where to extract the JWT from".
            let [source] = identity_source.as_slice() else {
                return Err(ValidationError::new(
                    "identitySource",
                    "A JWT authorizer takes exactly one identity source, such as $request.header.Authorization",
                ));
            };
            if !matches!(
                IdentitySource::parse(source)?,
                IdentitySource::Header(_) | IdentitySource::QueryString(_)
            ) {
                return Err(ValidationError::new(
                    "identitySource",
                    format!(
                        "Invalid identity source '{source}': a JWT is read from a header or a query string parameter"
                    ),
                ));
            }
            let Some(jwt) = &input.jwt_configuration else {
                return Err(ValidationError::new(
                    "jwtConfiguration",
                    "A JWT authorizer needs jwtConfiguration with an issuer and an audience",
                ));
            };
            let Some(issuer) = &jwt.issuer else {
                return Err(ValidationError::new(
                    "jwtConfiguration.issuer",
                    "jwtConfiguration.issuer is required",
                ));
            };
            validate_issuer(issuer)?;
            if jwt.audience.is_empty() || jwt.audience.iter().any(|a| a.is_empty()) {
                return Err(ValidationError::new(
                    "jwtConfiguration.audience",
                    "jwtConfiguration.audience needs at least one non-empty entry: a token's aud or client_id must match one",
                ));
            }
            Ok(Authorizer {
                authorizer_id,
                name: input.name.clone(),
                authorizer_type: AUTHORIZER_JWT.to_string(),
                identity_source,
                jwt_configuration: Some(jwt.clone()),
                authorizer_uri: None,
                authorizer_payload_format_version: None,
                enable_simple_responses: None,
                authorizer_result_ttl_in_seconds: None,
                authorizer_credentials_arn: None,
            })
        }
        AUTHORIZER_REQUEST => {
            if input.jwt_configuration.is_some() {
                return Err(ValidationError::new(
                    "jwtConfiguration",
                    "jwtConfiguration is supported only for JWT authorizers",
                ));
            }
            let Some(uri) = &input.authorizer_uri else {
                return Err(ValidationError::new(
                    "authorizerUri",
                    "A REQUEST authorizer needs authorizerUri: its Lambda function's ARN or invocation URI",
                ));
            };
            LambdaFunctionArn::parse_integration_uri(uri)
                .map_err(|e| ValidationError::new("authorizerUri", e.message))?;
            let Some(version) = &input.authorizer_payload_format_version else {
                return Err(ValidationError::new(
                    "authorizerPayloadFormatVersion",
                    "authorizerPayloadFormatVersion is required for Lambda authorizers: 1.0 or 2.0",
                ));
            };
            if !PAYLOAD_FORMAT_VERSIONS.contains(&version.as_str()) {
                return Err(ValidationError::new(
                    "authorizerPayloadFormatVersion",
                    format!("Invalid authorizerPayloadFormatVersion '{version}': use 1.0 or 2.0"),
                ));
            }
            let simple = input.enable_simple_responses.unwrap_or(false);
            if simple && version != "2.0" {
                return Err(ValidationError::new(
                    "enableSimpleResponses",
                    "enableSimpleResponses is supported only with authorizerPayloadFormatVersion 2.0",
                ));
            }
            let ttl = input.authorizer_result_ttl_in_seconds.unwrap_or(0);
            if ttl > MAX_AUTHORIZER_TTL_SECONDS {
                return Err(ValidationError::new(
                    "authorizerResultTtlInSeconds",
                    format!(
                        "authorizerResultTtlInSeconds must be between 0 and {MAX_AUTHORIZER_TTL_SECONDS}, got {ttl}"
                    ),
                ));
            }
            // The identity sources are the cache key: without one, every caller would
            // share the first caller's answer.
            if ttl > 0 && identity_source.is_empty() {
                return Err(ValidationError::new(
                    "identitySource",
                    "identitySource is required when authorizerResultTtlInSeconds is above 0 (it is the cache key)",
                ));
            }
            if let Some(arn) = &input.authorizer_credentials_arn
                && !(arn.starts_with("arn:") && arn.contains(":iam::") && arn.contains(":role/"))
            {
                return Err(ValidationError::new(
                    "authorizerCredentialsArn",
                    format!("Invalid authorizerCredentialsArn '{arn}': expected an IAM role ARN"),
                ));
            }
            Ok(Authorizer {
                authorizer_id,
                name: input.name.clone(),
                authorizer_type: AUTHORIZER_REQUEST.to_string(),
                identity_source,
                jwt_configuration: None,
                authorizer_uri: Some(uri.clone()),
                authorizer_payload_format_version: Some(version.clone()),
                enable_simple_responses: Some(simple),
                authorizer_result_ttl_in_seconds: Some(ttl),
                authorizer_credentials_arn: input.authorizer_credentials_arn.clone(),
            })
        }
        other => Err(ValidationError::new(
            "authorizerType",
            format!("Invalid authorizerType '{other}': use JWT or REQUEST"),
        )),
    }
}

/// How a route is guarded, checked against the API's authorizers: `authorizers` finds one
/// by id and gives its type.
pub fn validate_route_authorization(
    authorization_type: &str,
    authorizer_id: Option<&str>,
    scopes: &[String],
    authorizer_type_of: impl Fn(&str) -> Option<String>,
) -> Result<(), ValidationError> {
    let wants = match authorization_type {
        crate::AUTHORIZATION_NONE | AUTHORIZATION_AWS_IAM => None,
        AUTHORIZATION_JWT => Some(AUTHORIZER_JWT),
        AUTHORIZATION_CUSTOM => Some(AUTHORIZER_REQUEST),
        other => {
            return Err(ValidationError::new(
                "authorizationType",
                format!("Invalid authorizationType '{other}': use NONE, JWT, CUSTOM or AWS_IAM"),
            ));
        }
    };
    if !scopes.is_empty() && authorization_type != AUTHORIZATION_JWT {
        return Err(ValidationError::new(
            "authorizationScopes",
            "authorizationScopes are supported only with authorizationType JWT",
        ));
    }
    if scopes.iter().any(|s| s.is_empty() || s.contains(' ')) {
        return Err(ValidationError::new(
            "authorizationScopes",
            "each authorization scope is one non-empty word",
        ));
    }
    match (wants, authorizer_id) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(ValidationError::new(
            "authorizerId",
            format!(
                "authorizerId can't be set with authorizationType {authorization_type}; use JWT or CUSTOM"
            ),
        )),
        (Some(_), None) => Err(ValidationError::new(
            "authorizerId",
            format!("authorizationType {authorization_type} needs an authorizerId"),
        )),
        (Some(wanted), Some(id)) => match authorizer_type_of(id) {
            None => Err(ValidationError::new(
                "authorizerId",
                format!("Invalid authorizer identifier specified {id}"),
            )),
            Some(t) if t == wanted => Ok(()),
            Some(t) => Err(ValidationError::new(
                "authorizerId",
                format!(
                    "authorizer {id} is a {t} authorizer; authorizationType {authorization_type} needs a {wanted} authorizer"
                ),
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(issuer: &str, audience: &[&str]) -> CreateAuthorizer {
        CreateAuthorizer {
            name: "cognito".into(),
            authorizer_type: "JWT".into(),
            identity_source: Some(vec!["$request.header.Authorization".into()]),
            jwt_configuration: Some(JwtConfiguration {
                audience: audience.iter().map(|s| s.to_string()).collect(),
                issuer: Some(issuer.into()),
            }),
            ..Default::default()
        }
    }

    fn lambda() -> CreateAuthorizer {
        CreateAuthorizer {
            name: "lambda".into(),
            authorizer_type: "REQUEST".into(),
            identity_source: Some(vec!["$request.header.Authorization".into()]),
            authorizer_uri: Some(
                "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:auth/invocations".into(),
            ),
            authorizer_payload_format_version: Some("2.0".into()),
            enable_simple_responses: Some(true),
            authorizer_result_ttl_in_seconds: Some(300),
            ..Default::default()
        }
    }

    fn field(input: &CreateAuthorizer) -> &'static str {
        validate_authorizer("a".into(), input)
            .expect_err("should be refused")
            .field
    }

    #[test]
    fn issuers_are_https_or_loopback_http() {
        for ok in [
            "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc",
            "http://127.0.0.1:8080/pool",
            "http://[::1]:9/x",
            "http://localhost:3000",
        ] {
            assert!(validate_issuer(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://example.com/pool",
            "http://10.0.0.1/",
            "ftp://127.0.0.1/",
            "cognito",
            "https:///x",
            "https://u@h/",
            "https://h/?q",
        ] {
            assert!(validate_issuer(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn jwt_authorizers_take_one_source_an_issuer_and_an_audience() {
        let a = validate_authorizer("a1".into(), &jwt("https://issuer.example", &["app"]))
            .expect("valid");
        assert_eq!(a.authorizer_type, "JWT");
        assert_eq!(a.authorizer_result_ttl_in_seconds, None);
        assert_eq!(
            field(&jwt("https://issuer.example", &[])),
            "jwtConfiguration.audience"
        );
        assert_eq!(
            field(&jwt("http://issuer.example", &["a"])),
            "jwtConfiguration.issuer"
        );
        let mut two = jwt("https://i", &["a"]);
        two.identity_source = Some(vec!["$request.header.A".into(), "$request.header.B".into()]);
        assert_eq!(field(&two), "identitySource");
        let mut ctx = jwt("https://i", &["a"]);
        ctx.identity_source = Some(vec!["$context.requestId".into()]);
        assert_eq!(field(&ctx), "identitySource");
        let mut uri = jwt("https://i", &["a"]);
        uri.authorizer_uri = lambda().authorizer_uri;
        assert_eq!(field(&uri), "authorizerUri");
        let mut no_config = jwt("https://i", &["a"]);
        no_config.jwt_configuration = None;
        assert_eq!(field(&no_config), "jwtConfiguration");
    }

    #[test]
    fn lambda_authorizers_follow_aws_rules() {
        let a = validate_authorizer("a2".into(), &lambda()).expect("valid");
        assert_eq!(a.enable_simple_responses, Some(true));
        let mut v1_simple = lambda();
        v1_simple.authorizer_payload_format_version = Some("1.0".into());
        assert_eq!(field(&v1_simple), "enableSimpleResponses");
        let mut no_version = lambda();
        no_version.authorizer_payload_format_version = None;
        assert_eq!(field(&no_version), "authorizerPayloadFormatVersion");
        let mut long = lambda();
        long.authorizer_result_ttl_in_seconds = Some(3601);
        assert_eq!(field(&long), "authorizerResultTtlInSeconds");
        let mut cached_without_source = lambda();
        cached_without_source.identity_source = Some(vec![]);
        assert_eq!(field(&cached_without_source), "identitySource");
        cached_without_source.authorizer_result_ttl_in_seconds = Some(0);
        assert!(validate_authorizer("a".into(), &cached_without_source).is_ok());
        let mut bad_uri = lambda();
        bad_uri.authorizer_uri = Some("arn:aws:lambda:us-east-1:1:function:x".into());
        assert_eq!(field(&bad_uri), "authorizerUri");
        let mut bad_source = lambda();
        bad_source.identity_source = Some(vec!["Authorization".into()]);
        assert_eq!(field(&bad_source), "identitySource");
        let mut other = lambda();
        other.authorizer_type = "TOKEN".into();
        assert_eq!(field(&other), "authorizerType");
    }

    #[test]
    fn identity_sources_parse() {
        assert_eq!(
            IdentitySource::parse("$request.header.Authorization").expect("ok"),
            IdentitySource::Header("authorization".into())
        );
        assert_eq!(
            IdentitySource::parse("$request.querystring.Token").expect("ok"),
            IdentitySource::QueryString("Token".into())
        );
        assert!(IdentitySource::parse("$request.header.").is_err());
        assert!(IdentitySource::parse("$request.body.x").is_err());
    }

    #[test]
    fn routes_name_an_authorizer_of_the_right_kind() {
        let types = |id: &str| match id {
            "j1" => Some("JWT".to_string()),
            "l1" => Some("REQUEST".to_string()),
            _ => None,
        };
        let check = |t: &str, id: Option<&str>, scopes: &[&str]| {
            let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
            validate_route_authorization(t, id, &scopes, types).map_err(|e| e.field)
        };
        assert_eq!(check("NONE", None, &[]), Ok(()));
        assert_eq!(check("AWS_IAM", None, &[]), Ok(()));
        assert_eq!(check("JWT", Some("j1"), &["notes/read"]), Ok(()));
        assert_eq!(check("CUSTOM", Some("l1"), &[]), Ok(()));
        assert_eq!(check("JWT", Some("l1"), &[]), Err("authorizerId"));
        assert_eq!(check("JWT", None, &[]), Err("authorizerId"));
        assert_eq!(check("JWT", Some("nope"), &[]), Err("authorizerId"));
        assert_eq!(check("NONE", Some("j1"), &[]), Err("authorizerId"));
        assert_eq!(
            check("CUSTOM", Some("l1"), &["s"]),
            Err("authorizationScopes")
        );
        assert_eq!(check("COGNITO", None, &[]), Err("authorizationType"));
    }
}
