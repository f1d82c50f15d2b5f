//! A stage's access logs: `AccessLogSettings` as AWS takes them on create/update_stage,
//! and the parsed form of its `Format`, which the control plane checks on every write
//! and each proxy node compiles once per snapshot.
//!
//! The rules are AWS's ("Customize HTTP API access logs", http-api-logging-variables.html,
//! and `AccessLogSettings` in the API reference): the format is one line of text with
//! `$context` variables, it must use `$context.requestId` or `$context.extendedRequestId`,
//! and a variable AWS does not define is refused. The destination is a CloudWatch Logs
//! log-group ARN; Portico writes the group's lines to `{access-log-dir}/{NAME}.log` on
//! every node, so the name also has to make a safe relative file path.

use serde::{Deserialize, Serialize};

use crate::{ContextVar, ValidationError};

const FORMAT_FIELD: &str = "accessLogSettings.format";
const DESTINATION_FIELD: &str = "accessLogSettings.destinationArn";

/// Longer formats are refused: a line is rendered per request.
pub const MAX_FORMAT_LEN: usize = 10_000;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessLogSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

impl AccessLogSettings {
    /// Settings with neither field given turn access logging off, as an empty
    /// `AccessLogSettings` does on AWS.
    pub fn is_off(&self) -> bool {
        self.destination_arn.as_deref().is_none_or(str::is_empty)
            && self.format.as_deref().is_none_or(str::is_empty)
    }
}

/// A variable of the access log format that is filled in per request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogVar {
    /// A variable that parameter mappings can read too.
    Context(ContextVar),
    /// `$context.authorizer.claims.NAME` (a JWT claim, `claim`) or
    /// `$context.authorizer.NAME` (a Lambda authorizer's context value or principalId).
    Authorizer { claim: bool, name: String },
    /// `$context.authorizer.error`.
    AuthorizerError,
    /// The status code of the response the client got.
    Status,
    /// The response payload length in bytes.
    ResponseLength,
    /// Milliseconds from the request's arrival to the end of its response.
    ResponseLatency,
    /// Milliseconds the integration took, from the request sent to the response head.
    IntegrationLatency,
    /// The status the integration answered with.
    IntegrationStatus,
    /// The error the integration call failed with (connection refused, timeout, …).
    IntegrationErrorMessage,
    /// `$context.error.message`: the gateway's own error message.
    ErrorMessage,
    /// `$context.error.messageString`: that message in double quotes.
    ErrorMessageString,
    /// `$context.error.responseType`.
    ErrorResponseType,
    /// Request plus response bytes.
    DataProcessed,
    /// `$context.customDomain.basePathMatched`: the API mapping key the request matched.
    BasePathMatched,
    /// The W3C trace id (32 hex digits) the request ran under. Portico's: HTTP APIs on
    /// AWS have no trace variable.
    TraceId,
    /// A variable AWS defines that has no value on a self-hosted gateway (Cognito
    /// identities, AWS account ids, AWS endpoint request ids): always `-`.
    Unavailable(&'static str),
}

/// The variables AWS defines for HTTP API access logs that Portico can never fill: they
/// are accepted, so a format copied from AWS keeps working, and written as `-`.
const UNAVAILABLE: [&str; 11] = [
    "awsEndpointRequestId",
    "awsEndpointRequestId2",
    "identity.accountId",
    "identity.caller",
    "identity.cognitoAuthenticationProvider",
    "identity.cognitoAuthenticationType",
    "identity.cognitoIdentityId",
    "identity.cognitoIdentityPoolId",
    "identity.principalOrgId",
    "identity.userArn",
    "integration.requestId",
];

impl LogVar {
    fn from_name(name: &str) -> Option<LogVar> {
        if let Some(var) = ContextVar::from_name(name) {
            return Some(LogVar::Context(var));
        }
        Some(match name {
            "authorizer.error" => LogVar::AuthorizerError,
            "status" => LogVar::Status,
            "responseLength" => LogVar::ResponseLength,
            "responseLatency" => LogVar::ResponseLatency,
            "integrationLatency" | "integration.latency" => LogVar::IntegrationLatency,
            "integrationStatus" | "integration.status" | "integration.integrationStatus" => {
                LogVar::IntegrationStatus
            }
            "integrationErrorMessage" | "integration.error" => LogVar::IntegrationErrorMessage,
            "error.message" => LogVar::ErrorMessage,
            "error.messageString" => LogVar::ErrorMessageString,
            "error.responseType" => LogVar::ErrorResponseType,
            "dataProcessed" => LogVar::DataProcessed,
            "customDomain.basePathMatched" => LogVar::BasePathMatched,
            "traceId" => LogVar::TraceId,
            other => LogVar::Unavailable(UNAVAILABLE.into_iter().find(|u| *u == other)?),
        })
    }

    /// Whether the value is only known once the response body has been sent.
    pub fn at_end(&self) -> bool {
        matches!(
            self,
            LogVar::ResponseLength | LogVar::ResponseLatency | LogVar::DataProcessed
        )
    }
}

/// One piece of a parsed format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogPart {
    Static(String),
    Var(LogVar),
}

/// A parsed access log format: static text and variables, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFormat {
    pub parts: Vec<LogPart>,
}

impl LogFormat {
    /// Parses a format as AWS reads one: `$context.NAME`, where NAME is letters, digits,
    /// `.` and `_` (a trailing `.` is punctuation). Any other `$` is text.
    pub fn parse(format: &str) -> Result<LogFormat, ValidationError> {
        if format.trim().is_empty() {
            return Err(ValidationError::new(
                FORMAT_FIELD,
                "Access log format must not be empty",
            ));
        }
        if format.len() > MAX_FORMAT_LEN {
            return Err(ValidationError::new(
                FORMAT_FIELD,
                format!("Access log format must be at most {MAX_FORMAT_LEN} characters"),
            ));
        }
        if format.contains(char::is_control) {
            return Err(ValidationError::new(
                FORMAT_FIELD,
                "Access log format must be a single line without control characters",
            ));
        }
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut rest = format;
        while let Some(pos) = rest.find("$context.") {
            text.push_str(&rest[..pos]);
            let body = &rest[pos + "$context.".len()..];
            let n = body
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_'))
                .unwrap_or(body.len());
            let name = body[..n].trim_end_matches('.');
            let var = parse_name(name)?;
            if !text.is_empty() {
                parts.push(LogPart::Static(std::mem::take(&mut text)));
            }
            parts.push(LogPart::Var(var));
            rest = &body[name.len()..];
        }
        text.push_str(rest);
        if !text.is_empty() {
            parts.push(LogPart::Static(text));
        }
        let has_id = parts.iter().any(|p| {
            matches!(
                p,
                LogPart::Var(LogVar::Context(
                    ContextVar::RequestId | ContextVar::ExtendedRequestId
                ))
            )
        });
        if !has_id {
            return Err(ValidationError::new(
                FORMAT_FIELD,
                "Access log format must include $context.requestId or $context.extendedRequestId",
            ));
        }
        Ok(LogFormat { parts })
    }
}

fn parse_name(name: &str) -> Result<LogVar, ValidationError> {
    if let Some(rest) = name.strip_prefix("authorizer.")
        && rest != "error"
    {
        let (claim, field) = match rest.strip_prefix("claims.") {
            Some(claim) => (true, claim),
            None => (false, rest),
        };
        if !field.is_empty() && field != "claims" {
            return Ok(LogVar::Authorizer {
                claim,
                name: field.to_string(),
            });
        }
    }
    LogVar::from_name(name).ok_or_else(|| {
        ValidationError::new(
            FORMAT_FIELD,
            format!("Invalid variable name in access log format: $context.{name}"),
        )
    })
}

/// The log group a destination ARN names: `arn:aws:logs:REGION:ACCOUNT:log-group:NAME`,
/// optionally ending in `:*` as the CloudWatch console copies it.
pub fn log_group_name(arn: &str) -> Result<&str, ValidationError> {
    let invalid = |why: &str| {
        ValidationError::new(
            DESTINATION_FIELD,
            format!("Invalid destinationArn '{arn}': {why}"),
        )
    };
    let fields: Vec<&str> = arn.splitn(6, ':').collect();
    let [scheme, partition, service, region, account, resource] = fields[..] else {
        return Err(invalid(
            "expected arn:aws:logs:REGION:ACCOUNT:log-group:NAME",
        ));
    };
    if scheme != "arn" || !partition.starts_with("aws") {
        return Err(invalid(
            "expected arn:aws:logs:REGION:ACCOUNT:log-group:NAME",
        ));
    }
    if service == "firehose" {
        return Err(invalid(
            "Portico writes access logs to log-group files; Kinesis Data Firehose streams are not supported",
        ));
    }
    if service != "logs" {
        return Err(invalid("access logs go to a CloudWatch Logs log group"));
    }
    if region.is_empty()
        || !region
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(invalid("the region is missing or malformed"));
    }
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("the account id must be 12 digits"));
    }
    let Some(name) = resource.strip_prefix("log-group:") else {
        return Err(invalid("the resource must be log-group:NAME"));
    };
    let name = name.strip_suffix(":*").unwrap_or(name);
    if name.is_empty() || name.len() > 512 {
        return Err(invalid("the log group name must be 1 to 512 characters"));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/' | b'#'))
    {
        return Err(invalid(
            "a log group name may only contain letters, digits and . - _ / #",
        ));
    }
    // The name becomes a file path under the node's access-log directory.
    if name.split('/').any(|s| s == "." || s == "..") {
        return Err(invalid(
            "a log group name may not contain '.' or '..' path segments",
        ));
    }
    Ok(name)
}

/// The checks create_stage and update_stage make; `Ok(None)` turns logging off.
pub fn validate_access_log_settings(
    settings: &AccessLogSettings,
) -> Result<Option<(String, LogFormat)>, ValidationError> {
    if settings.is_off() {
        return Ok(None);
    }
    let Some(arn) = settings
        .destination_arn
        .as_deref()
        .filter(|a| !a.is_empty())
    else {
        return Err(ValidationError::new(
            DESTINATION_FIELD,
            "destinationArn is required when a format is given",
        ));
    };
    let group = log_group_name(arn)?;
    let Some(format) = settings.format.as_deref().filter(|f| !f.is_empty()) else {
        return Err(ValidationError::new(
            FORMAT_FIELD,
            "format is required when a destinationArn is given",
        ));
    };
    Ok(Some((group.to_string(), LogFormat::parse(format)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// http-api-logging-variables.html: the JSON format AWS's console offers parses, with
    /// each variable in place.
    #[test]
    fn parses_the_formats_aws_offers() {
        let json = r#"{ "requestId":"$context.requestId", "ip": "$context.identity.sourceIp", "requestTime":"$context.requestTime", "httpMethod":"$context.httpMethod","routeKey":"$context.routeKey", "status":"$context.status","protocol":"$context.protocol", "responseLength":"$context.responseLength" }"#;
        let f = LogFormat::parse(json).expect("json");
        let vars: Vec<&LogVar> = f
            .parts
            .iter()
            .filter_map(|p| match p {
                LogPart::Var(v) => Some(v),
                LogPart::Static(_) => None,
            })
            .collect();
        assert_eq!(vars.len(), 8);
        assert_eq!(vars[0], &LogVar::Context(ContextVar::RequestId));
        assert_eq!(vars[7], &LogVar::ResponseLength);
        let clf = "$context.identity.sourceIp - - [$context.requestTime] \"$context.httpMethod $context.routeKey $context.protocol\" $context.status $context.responseLength $context.requestId";
        let f = LogFormat::parse(clf).expect("clf");
        assert_eq!(
            f.parts[0],
            LogPart::Var(LogVar::Context(ContextVar::SourceIp))
        );
        assert_eq!(f.parts[1], LogPart::Static(" - - [".into()));
        // Claims, Lambda context values, and variables AWS has but Portico cannot fill.
        let f = LogFormat::parse(
            "$context.requestId $context.authorizer.claims.sub $context.authorizer.tenant $context.authorizer.error $context.identity.cognitoIdentityId $context.integration.error.",
        )
        .expect("authorizer");
        assert!(f.parts.contains(&LogPart::Var(LogVar::Authorizer {
            claim: true,
            name: "sub".into()
        })));
        assert!(f.parts.contains(&LogPart::Var(LogVar::AuthorizerError)));
        assert!(f.parts.contains(&LogPart::Var(LogVar::Unavailable(
            "identity.cognitoIdentityId"
        ))));
        assert_eq!(f.parts.last(), Some(&LogPart::Static(".".into())));
    }

    /// AccessLogSettings (API reference): the format must include $context.requestId;
    /// AWS also accepts extendedRequestId. Unknown variables are refused by name.
    #[test]
    fn refuses_what_aws_refuses() {
        let e = LogFormat::parse("$context.status").expect_err("no id");
        assert!(e.message.contains("$context.requestId"), "{}", e.message);
        assert!(LogFormat::parse("$context.extendedRequestId").is_ok());
        let e = LogFormat::parse("$context.requestId $context.nope").expect_err("unknown");
        assert_eq!(e.field, "accessLogSettings.format");
        assert!(e.message.contains("$context.nope"), "{}", e.message);
        assert!(LogFormat::parse("$context.requestId\n").is_err());
        assert!(LogFormat::parse("   ").is_err());
    }

    #[test]
    fn destination_must_be_a_log_group() {
        assert_eq!(
            log_group_name("arn:aws:logs:us-east-1:123456789012:log-group:/aws/apigw/notes:*"),
            Ok("/aws/apigw/notes")
        );
        assert_eq!(
            log_group_name("arn:aws:logs:eu-west-1:123456789012:log-group:notes-dev"),
            Ok("notes-dev")
        );
        for bad in [
            "notes",
            "arn:aws:s3:::bucket",
            "arn:aws:firehose:us-east-1:123456789012:deliverystream/amazon-apigateway-x",
            "arn:aws:logs:us-east-1:1234:log-group:x",
            "arn:aws:logs:us-east-1:123456789012:log-stream:x",
            "arn:aws:logs:us-east-1:123456789012:log-group:../../etc/passwd",
            "arn:aws:logs:us-east-1:123456789012:log-group:a b",
            "arn:aws:logs:us-east-1:123456789012:log-group:",
        ] {
            let e = log_group_name(bad).expect_err(bad);
            assert_eq!(e.field, "accessLogSettings.destinationArn", "{bad}");
        }
    }

    #[test]
    fn both_fields_or_neither() {
        assert_eq!(
            validate_access_log_settings(&AccessLogSettings::default()),
            Ok(None)
        );
        let only_arn = AccessLogSettings {
            destination_arn: Some("arn:aws:logs:us-east-1:123456789012:log-group:x".into()),
            format: None,
        };
        assert_eq!(
            validate_access_log_settings(&only_arn)
                .expect_err("no format")
                .field,
            "accessLogSettings.format"
        );
        let both = AccessLogSettings {
            format: Some("$context.requestId".into()),
            ..only_arn
        };
        let (group, _) = validate_access_log_settings(&both)
            .expect("valid")
            .expect("on");
        assert_eq!(group, "x");
    }
}
