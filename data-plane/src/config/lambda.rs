//! A Lambda proxy integration as the request path uses it: the function's Invoke API path
//! and its region's AWS endpoint worked out once per deployment, the stage's variables
//! once per stage, so a request only builds its event.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderValue;
use http::uri::{Authority, PathAndQuery};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use portico_model::{DEFAULT_TIMEOUT_MILLIS, LambdaFunctionArn, ValidationError};
use portico_proto::Integration;

/// What a URI path label may carry unencoded, as the AWS SDKs encode one: the unreserved
/// characters. A function ARN's `:` and `$LATEST`'s `$` are encoded.
const PATH_LABEL: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The event shape the function gets and the response shape it answers with
/// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadFormat {
    V1,
    V2,
}

/// Why a deployment's Lambda integration cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LambdaSpecError {
    #[error("{0}")]
    InvalidUri(ValidationError),
    #[error("invalid payload format version '{0}' (use 1.0 or 2.0)")]
    PayloadFormat(String),
    #[error("cannot build the Lambda Invoke URI: {0}")]
    InvokeUri(String),
}

/// A deployment's Lambda integration, the same for every stage that serves it.
#[derive(Debug)]
pub struct LambdaFunction {
    pub integration_id: String,
    pub arn: LambdaFunctionArn,
    pub payload: PayloadFormat,
    /// The function's answer must have arrived within this, event building and all.
    pub timeout: Duration,
    /// `/2015-03-31/functions/{function ARN}/invocations`, the ARN percent-encoded as the
    /// AWS SDKs send it.
    pub invoke_path: PathAndQuery,
    /// `lambda.{region}.amazonaws.com`: where the function lives when the node has no
    /// `--lambda-endpoint`.
    pub aws_authority: Authority,
    /// The same, as the `Host` header.
    pub aws_host: HeaderValue,
}

impl TryFrom<&Integration> for LambdaFunction {
    type Error = LambdaSpecError;

    fn try_from(i: &Integration) -> Result<Self, Self::Error> {
        let timeout = match i.timeout_millis {
            0 => Duration::from_millis(u64::from(DEFAULT_TIMEOUT_MILLIS)),
            ms => Duration::from_millis(u64::from(ms)),
        };
        LambdaFunction::new(
            &i.integration_id,
            &i.uri,
            &i.payload_format_version,
            timeout,
        )
    }
}

impl LambdaFunction {
    /// A function called by `id` (an integration's or an authorizer's) through `uri`
    /// (a function ARN or API Gateway's invocation URI), with events of `payload`.
    pub fn new(
        id: &str,
        uri: &str,
        payload: &str,
        timeout: Duration,
    ) -> Result<Self, LambdaSpecError> {
        let arn =
            LambdaFunctionArn::parse_integration_uri(uri).map_err(LambdaSpecError::InvalidUri)?;
        let payload = match payload {
            "1.0" => PayloadFormat::V1,
            "2.0" => PayloadFormat::V2,
            other => return Err(LambdaSpecError::PayloadFormat(other.to_string())),
        };
        let function = utf8_percent_encode(&arn.to_string(), PATH_LABEL).to_string();
        let invoke_path =
            PathAndQuery::try_from(format!("/2015-03-31/functions/{function}/invocations"))
                .map_err(|e| LambdaSpecError::InvokeUri(e.to_string()))?;
        // Each partition's DNS suffix, as the AWS SDKs' endpoint rules give it.
        let domain = match arn.partition.as_str() {
            "aws-cn" => "amazonaws.com.cn",
            "aws-iso" => "c2s.ic.gov",
            "aws-iso-b" => "sc2s.sgov.gov",
            "aws-eusc" => "amazonaws.eu",
            _ => "amazonaws.com",
        };
        let aws_authority = Authority::try_from(format!("lambda.{}.{domain}", arn.region))
            .map_err(|e| LambdaSpecError::InvokeUri(e.to_string()))?;
        let aws_host = HeaderValue::from_str(aws_authority.as_str())
            .map_err(|e| LambdaSpecError::InvokeUri(e.to_string()))?;
        Ok(LambdaFunction {
            integration_id: id.to_string(),
            arn,
            payload,
            timeout,
            invoke_path,
            aws_authority,
            aws_host,
        })
    }
}

/// A Lambda integration on one stage.
#[derive(Debug, Clone)]
pub struct LambdaIntegration {
    pub function: Arc<LambdaFunction>,
    /// The event's `stageVariables`; `None` when the stage has none.
    pub stage_variables: Option<Arc<BTreeMap<String, String>>>,
}

impl LambdaIntegration {
    pub fn for_stage(function: &Arc<LambdaFunction>, stage: &portico_proto::Stage) -> Self {
        LambdaIntegration {
            function: function.clone(),
            stage_variables: (!stage.stage_variables.is_empty())
                .then(|| Arc::new(stage.stage_variables.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use portico_proto::IntegrationType;

    use super::*;

    fn integration(uri: &str, payload: &str) -> Integration {
        Integration {
            integration_id: "l1".into(),
            integration_type: IntegrationType::AwsProxy as i32,
            uri: uri.into(),
            method: "POST".into(),
            payload_format_version: payload.into(),
            ..Default::default()
        }
    }

    /// The path boto3 sends for `invoke(FunctionName=<ARN>)`: the ARN as one encoded label.
    #[test]
    fn invoke_path_and_endpoint_as_the_sdks_build_them() {
        let f = LambdaFunction::try_from(&integration(
            "arn:aws:lambda:eu-west-2:123456789012:function:notes_get:$LATEST",
            "2.0",
        ))
        .expect("valid");
        assert_eq!(
            f.invoke_path.as_str(),
            "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aeu-west-2%3A123456789012%3Afunction%3Anotes_get%3A%24LATEST/invocations"
        );
        assert_eq!(f.aws_authority.as_str(), "lambda.eu-west-2.amazonaws.com");
        assert_eq!(f.payload, PayloadFormat::V2);
        assert_eq!(f.timeout, Duration::from_secs(30));

        let cn = LambdaFunction::try_from(&integration(
            "arn:aws:apigateway:cn-north-1:lambda:path/2015-03-31/functions/arn:aws-cn:lambda:cn-north-1:123456789012:function:f/invocations",
            "1.0",
        ))
        .expect("valid");
        assert_eq!(
            cn.aws_authority.as_str(),
            "lambda.cn-north-1.amazonaws.com.cn"
        );
        assert_eq!(cn.payload, PayloadFormat::V1);
    }

    #[test]
    fn refuses_what_the_admin_api_refuses() {
        assert!(matches!(
            LambdaFunction::try_from(&integration("http://h/x", "2.0")),
            Err(LambdaSpecError::InvalidUri(_))
        ));
        assert!(matches!(
            LambdaFunction::try_from(&integration(
                "arn:aws:lambda:us-east-1:123456789012:function:f",
                "3.0"
            )),
            Err(LambdaSpecError::PayloadFormat(_))
        ));
    }
}
