//! Rules that every write path (REST, console) applies before anything is stored.
use std::collections::BTreeMap;

use crate::{
    CONNECTION_INTERNET, CONNECTION_VPC_LINK, CreateIntegration, DEFAULT_STAGE,
    DEFAULT_TIMEOUT_MILLIS, HttpMethod, INTEGRATION_AWS_PROXY, INTEGRATION_HTTP_PROXY,
    LambdaFunctionArn, PAYLOAD_FORMAT_VERSIONS, PrivateIntegrationUri, TlsConfig, UriTemplate,
    ValidationError, parse_request_parameters, parse_response_parameters, validate_tls_config,
};

pub fn validate_api_name(name: &str) -> Result<(), ValidationError> {
    let len = name.chars().count();
    if len == 0 || len > 128 {
        return Err(ValidationError::new(
            "name",
            "API name must be between 1 and 128 characters",
        ));
    }
    Ok(())
}

pub fn validate_description(field: &'static str, d: &str) -> Result<(), ValidationError> {
    if d.chars().count() > 1024 {
        return Err(ValidationError::new(
            field,
            "Description must be at most 1024 characters",
        ));
    }
    Ok(())
}

pub fn validate_protocol_type(p: &str) -> Result<(), ValidationError> {
    match p {
        "HTTP" => Ok(()),
        "WEBSOCKET" => Err(ValidationError::new(
            "protocolType",
            "WEBSOCKET APIs are not supported; use HTTP",
        )),
        other => Err(ValidationError::new(
            "protocolType",
            format!("Invalid protocolType '{other}': must be HTTP"),
        )),
    }
}

/// Stage names become the first path segment of invoke URLs, so they are limited to
/// characters that need no escaping there.
pub fn validate_stage_name(name: &str) -> Result<(), ValidationError> {
    if name == DEFAULT_STAGE {
        return Ok(());
    }
    // `.` and `..` would be folded away as path segments of the invoke URL.
    let ok = !name.is_empty()
        && name.len() <= 128
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~'));
    if !ok {
        return Err(ValidationError::new(
            "stageName",
            format!(
                "Invalid stage name '{name}': use '$default' or 1 to 128 letters, digits, '-', '_', '.' and '~' (not '.' or '..' alone)"
            ),
        ));
    }
    Ok(())
}

pub fn validate_stage_variables(vars: &BTreeMap<String, String>) -> Result<(), ValidationError> {
    for (name, value) in vars {
        let name_ok = !name.is_empty()
            && name.len() <= 64
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !name_ok {
            return Err(ValidationError::new(
                "stageVariables",
                format!(
                    "Invalid stage variable name '{name}': use 1 to 64 letters, digits and '_'"
                ),
            ));
        }
        let value_ok = value.len() <= 2048
            && value.chars().all(|c| {
                c.is_ascii_alphanumeric()
                    || matches!(
                        c,
                        '-' | '.' | '_' | '~' | ':' | '/' | '?' | '#' | '&' | '=' | ','
                    )
            });
        if !value_ok {
            return Err(ValidationError::new(
                "stageVariables",
                format!(
                    "Invalid value for stage variable '{name}': at most 2048 letters, digits and -._~:/?#&=,"
                ),
            ));
        }
    }
    Ok(())
}

/// A route target is `integrations/{integrationId}`; returns the id.
pub fn parse_route_target(target: &str) -> Result<&str, ValidationError> {
    match target.strip_prefix("integrations/") {
        Some(id) if !id.is_empty() && !id.contains('/') => Ok(id),
        _ => Err(ValidationError::new(
            "target",
            format!("Invalid target '{target}': expected 'integrations/{{integrationId}}'"),
        )),
    }
}

pub fn validate_timeout(ms: u32) -> Result<(), ValidationError> {
    if !(50..=30_000).contains(&ms) {
        return Err(ValidationError::new(
            "timeoutInMillis",
            format!("timeoutInMillis must be between 50 and 30000, got {ms}"),
        ));
    }
    Ok(())
}

/// The checked and defaulted fields of an integration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrationSpec {
    pub integration_type: String,
    pub integration_uri: String,
    pub integration_method: String,
    pub payload_format_version: String,
    pub timeout_in_millis: u32,
    pub connection_type: String,
    pub connection_id: Option<String>,
    pub tls_config: Option<TlsConfig>,
    pub request_parameters: BTreeMap<String, String>,
    pub response_parameters: BTreeMap<String, BTreeMap<String, String>>,
}

pub fn validate_integration(input: &CreateIntegration) -> Result<IntegrationSpec, ValidationError> {
    let (uri, method, payload) = match input.integration_type.as_str() {
        INTEGRATION_HTTP_PROXY => http_proxy_fields(input)?,
        INTEGRATION_AWS_PROXY => lambda_fields(input)?,
        "MOCK" | "HTTP" | "AWS" => {
            return Err(ValidationError::new(
                "integrationType",
                format!(
                    "integrationType '{}' is not supported yet; use HTTP_PROXY or AWS_PROXY",
                    input.integration_type
                ),
            ));
        }
        other => {
            return Err(ValidationError::new(
                "integrationType",
                format!("Invalid integrationType '{other}'"),
            ));
        }
    };
    let timeout = input.timeout_in_millis.unwrap_or(DEFAULT_TIMEOUT_MILLIS);
    validate_timeout(timeout)?;
    let (connection, connection_id, tls_config) = connection_fields(input)?;
    if let Some(d) = &input.description {
        validate_description("description", d)?;
    }
    let request_parameters = input.request_parameters.clone().unwrap_or_default();
    parse_request_parameters(&request_parameters)?;
    let response_parameters = input.response_parameters.clone().unwrap_or_default();
    parse_response_parameters(&response_parameters)?;
    if input.integration_type == INTEGRATION_AWS_PROXY {
        // Lambda proxy integrations take no parameter mapping on AWS (only the AWS
        // service integrations with a subtype do): the function shapes its own response.
        if !request_parameters.is_empty() {
            return Err(ValidationError::new(
                "requestParameters",
                "requestParameters are not supported for AWS_PROXY integrations with a Lambda function",
            ));
        }
        if !response_parameters.is_empty() {
            return Err(ValidationError::new(
                "responseParameters",
                "responseParameters are not supported for AWS_PROXY integrations with a Lambda function",
            ));
        }
    }
    Ok(IntegrationSpec {
        integration_type: input.integration_type.clone(),
        integration_uri: uri,
        integration_method: method,
        payload_format_version: payload,
        timeout_in_millis: timeout,
        connection_type: connection.to_string(),
        connection_id,
        tls_config,
        request_parameters,
        response_parameters,
    })
}

/// How the integration reaches its backend: over the internet, or through a VPC link
/// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-private.html).
/// Whether the link exists is the control plane's check.
fn connection_fields(
    input: &CreateIntegration,
) -> Result<(&'static str, Option<String>, Option<TlsConfig>), ValidationError> {
    let connection = match input
        .connection_type
        .as_deref()
        .unwrap_or(CONNECTION_INTERNET)
    {
        CONNECTION_INTERNET => CONNECTION_INTERNET,
        CONNECTION_VPC_LINK => CONNECTION_VPC_LINK,
        other => {
            return Err(ValidationError::new(
                "connectionType",
                format!("Invalid connectionType '{other}': use INTERNET or VPC_LINK"),
            ));
        }
    };
    let connection_id = input.connection_id.clone().filter(|id| !id.is_empty());
    if connection == CONNECTION_INTERNET {
        if connection_id.is_some() {
            return Err(ValidationError::new(
                "connectionId",
                "connectionId is only for VPC_LINK integrations (set connectionType to VPC_LINK)",
            ));
        }
        if input.tls_config.is_some() {
            return Err(ValidationError::new(
                "tlsConfig",
                "tlsConfig is only for private integrations (connectionType VPC_LINK)",
            ));
        }
        return Ok((connection, None, None));
    }
    if input.integration_type != INTEGRATION_HTTP_PROXY {
        return Err(ValidationError::new(
            "connectionType",
            "connectionType VPC_LINK is for HTTP_PROXY integrations",
        ));
    }
    if connection_id.is_none() {
        return Err(ValidationError::new(
            "connectionId",
            "connectionId is required for VPC_LINK integrations: the VPC link's id",
        ));
    }
    if let Some(tls) = &input.tls_config {
        validate_tls_config(tls)?;
    }
    Ok((connection, connection_id, input.tls_config.clone()))
}

/// URI, method and payload format version of an HTTP proxy integration.
fn http_proxy_fields(
    input: &CreateIntegration,
) -> Result<(String, String, String), ValidationError> {
    let uri = input.integration_uri.as_deref().ok_or_else(|| {
        ValidationError::new(
            "integrationUri",
            "integrationUri is required for HTTP_PROXY",
        )
    })?;
    if input.connection_type.as_deref() == Some(CONNECTION_VPC_LINK) {
        PrivateIntegrationUri::parse(uri)?;
    } else {
        UriTemplate::parse(uri)?;
    }
    let method = input.integration_method.as_deref().unwrap_or("ANY");
    if method != "ANY" && HttpMethod::parse(method).is_none() {
        return Err(ValidationError::new(
            "integrationMethod",
            format!("Invalid integrationMethod '{method}'"),
        ));
    }
    let payload = input.payload_format_version.as_deref().unwrap_or("1.0");
    if payload != "1.0" {
        return Err(ValidationError::new(
            "payloadFormatVersion",
            "HTTP_PROXY integrations use payloadFormatVersion 1.0",
        ));
    }
    Ok((uri.to_string(), method.to_string(), payload.to_string()))
}

/// The same for a Lambda proxy integration
/// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html):
/// the URI names a function, the payload format version is required from an SDK or the
/// CLI, and the function is always invoked with POST.
fn lambda_fields(input: &CreateIntegration) -> Result<(String, String, String), ValidationError> {
    let uri = input.integration_uri.as_deref().ok_or_else(|| {
        ValidationError::new(
            "integrationUri",
            "integrationUri is required for AWS_PROXY: the Lambda function's ARN",
        )
    })?;
    LambdaFunctionArn::parse_integration_uri(uri)?;
    let method = input.integration_method.as_deref().unwrap_or("POST");
    if method != "POST" {
        return Err(ValidationError::new(
            "integrationMethod",
            format!(
                "Invalid integrationMethod '{method}': AWS_PROXY integrations invoke the Lambda function with POST"
            ),
        ));
    }
    let payload = match input.payload_format_version.as_deref() {
        None => {
            return Err(ValidationError::new(
                "payloadFormatVersion",
                "payloadFormatVersion is required for AWS_PROXY integrations: 1.0 or 2.0",
            ));
        }
        Some(v) if PAYLOAD_FORMAT_VERSIONS.contains(&v) => v,
        Some(v) => {
            return Err(ValidationError::new(
                "payloadFormatVersion",
                format!("Invalid payloadFormatVersion '{v}': use 1.0 or 2.0"),
            ));
        }
    };
    Ok((uri.to_string(), method.to_string(), payload.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_names() {
        for ok in ["dev", "prod-2", "$default", "v1.0", "a_b", "...", ".x"] {
            validate_stage_name(ok).unwrap();
        }
        // "." and ".." would be folded away as invoke-URL path segments.
        for bad in [
            "",
            "a/b",
            "has space",
            "$other",
            ".",
            "..",
            &"x".repeat(129),
        ] {
            assert_eq!(validate_stage_name(bad).unwrap_err().field, "stageName");
        }
    }

    #[test]
    fn stage_variables() {
        let mut v = BTreeMap::new();
        v.insert("backend".to_string(), "127.0.0.1:8080".to_string());
        validate_stage_variables(&v).unwrap();
        v.insert("bad name".to_string(), "x".to_string());
        assert!(validate_stage_variables(&v).is_err());
        let mut v = BTreeMap::new();
        v.insert("ok".to_string(), "spa ce".to_string());
        assert!(validate_stage_variables(&v).is_err());
    }

    #[test]
    fn integrations_default_like_aws() {
        let spec = validate_integration(&CreateIntegration {
            integration_type: "HTTP_PROXY".into(),
            integration_uri: Some("http://127.0.0.1:8080/notes".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(spec.integration_method, "ANY");
        assert_eq!(spec.timeout_in_millis, 30_000);
        assert_eq!(spec.payload_format_version, "1.0");
        let err = validate_integration(&CreateIntegration {
            integration_type: "HTTP_PROXY".into(),
            integration_uri: Some("http://h/".into()),
            timeout_in_millis: Some(40_000),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(err.field, "timeoutInMillis");
        let err = validate_integration(&CreateIntegration {
            integration_type: "HTTP_PROXY".into(),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(err.field, "integrationUri");
    }

    /// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-private.html:
    /// a private integration names its VPC link and a URL or a listener / service ARN.
    #[test]
    fn private_integrations() {
        let private = |f: &dyn Fn(&mut CreateIntegration)| {
            let mut input = CreateIntegration {
                integration_type: "HTTP_PROXY".into(),
                integration_uri: Some("https://orders.internal/v1".into()),
                connection_type: Some("VPC_LINK".into()),
                connection_id: Some("vl1".into()),
                ..Default::default()
            };
            f(&mut input);
            validate_integration(&input)
        };
        let spec = private(&|_| {}).expect("valid");
        assert_eq!(spec.connection_type, "VPC_LINK");
        assert_eq!(spec.connection_id.as_deref(), Some("vl1"));
        let arn = "arn:aws:elasticloadbalancing:us-east-2:123456789012:listener/app/lb/1/2";
        assert!(private(&|i| i.integration_uri = Some(arn.into())).is_ok());
        let tls = TlsConfig {
            server_name_to_verify: Some("orders.example.com".into()),
        };
        assert!(private(&|i| i.tls_config = Some(tls.clone())).is_ok());
        for (field, change) in [
            (
                "connectionId",
                &(|i: &mut CreateIntegration| i.connection_id = None)
                    as &dyn Fn(&mut CreateIntegration),
            ),
            ("connectionType", &|i| {
                i.connection_type = Some("PRIVATE".into())
            }),
            ("connectionId", &|i| {
                i.connection_type = Some("INTERNET".into())
            }),
            ("integrationUri", &|i| {
                i.integration_uri = Some("orders.internal".into())
            }),
            ("tlsConfig", &|i| {
                i.tls_config = Some(TlsConfig {
                    server_name_to_verify: Some("no such name".into()),
                })
            }),
        ] {
            assert_eq!(private(change).expect_err(field).field, field);
        }
        let internet_tls = validate_integration(&CreateIntegration {
            integration_type: "HTTP_PROXY".into(),
            integration_uri: Some("https://h/".into()),
            tls_config: Some(TlsConfig::default()),
            ..Default::default()
        });
        assert_eq!(internet_tls.expect_err("tls").field, "tlsConfig");
        let lambda = validate_integration(&CreateIntegration {
            integration_type: "AWS_PROXY".into(),
            integration_uri: Some("arn:aws:lambda:us-east-1:123456789012:function:f".into()),
            payload_format_version: Some("2.0".into()),
            connection_type: Some("VPC_LINK".into()),
            connection_id: Some("vl1".into()),
            ..Default::default()
        });
        assert_eq!(lambda.expect_err("lambda").field, "connectionType");
    }

    /// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html:
    /// an SDK must name the payload format version; Lambda is invoked with POST.
    #[test]
    fn lambda_integrations() {
        let lambda = |f: &dyn Fn(&mut CreateIntegration)| {
            let mut input = CreateIntegration {
                integration_type: "AWS_PROXY".into(),
                integration_uri: Some(
                    "arn:aws:lambda:us-east-1:123456789012:function:notes_get".into(),
                ),
                payload_format_version: Some("2.0".into()),
                ..Default::default()
            };
            f(&mut input);
            validate_integration(&input)
        };
        let spec = lambda(&|_| {}).expect("valid");
        assert_eq!(spec.integration_method, "POST");
        assert_eq!(spec.timeout_in_millis, 30_000);
        assert_eq!(
            lambda(&|i| i.payload_format_version = Some("1.0".into()))
                .expect("1.0")
                .payload_format_version,
            "1.0"
        );
        for (field, change) in [
            (
                "payloadFormatVersion",
                &(|i: &mut CreateIntegration| i.payload_format_version = None)
                    as &dyn Fn(&mut CreateIntegration),
            ),
            ("payloadFormatVersion", &|i| {
                i.payload_format_version = Some("3.0".into())
            }),
            ("integrationUri", &|i| i.integration_uri = None),
            ("integrationUri", &|i| {
                i.integration_uri = Some("http://h/x".into())
            }),
            ("integrationMethod", &|i| {
                i.integration_method = Some("GET".into())
            }),
            ("timeoutInMillis", &|i| i.timeout_in_millis = Some(49)),
            ("timeoutInMillis", &|i| i.timeout_in_millis = Some(30_001)),
            ("requestParameters", &|i| {
                i.request_parameters =
                    Some(BTreeMap::from([("overwrite:header.x".into(), "y".into())]))
            }),
        ] {
            assert_eq!(lambda(change).expect_err(field).field, field);
        }
    }

    #[test]
    fn route_targets() {
        assert_eq!(parse_route_target("integrations/abc123").unwrap(), "abc123");
        assert!(parse_route_target("abc123").is_err());
        assert!(parse_route_target("integrations/").is_err());
    }
}
