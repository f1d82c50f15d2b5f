//! The integration URI of a Lambda proxy integration, in both forms AWS accepts for
//! `AWS_PROXY`: the function's ARN (`arn:aws:lambda:REGION:ACCOUNT:function:NAME`, with an
//! optional `:ALIAS` or `:VERSION`) and API Gateway's service form
//! (`arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/FUNCTION_ARN/invocations`).
//! One parser for the admin API, which refuses bad URIs, and the nodes, which call what
//! it parses, so the two cannot disagree.
//!
//! Names follow the Lambda API's rules (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html):
//! a function name is 1–64 letters, digits, `-` or `_`; a qualifier is `$LATEST`, a
//! version number, or an alias of 1–128 letters, digits, `-` or `_` that is not only digits.

use std::fmt;

use crate::ValidationError;

pub const INVOKE_PATH_PREFIX: &str = "path/2015-03-31/functions/";
pub const INVOKE_PATH_SUFFIX: &str = "/invocations";

/// A Lambda function, as an integration names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LambdaFunctionArn {
    pub partition: String,
    pub region: String,
    pub account_id: String,
    pub function_name: String,
    /// An alias or version (`$LATEST`, `3`, `live`).
    pub qualifier: Option<String>,
}

impl LambdaFunctionArn {
    /// Parses either form of an `AWS_PROXY` integration URI.
    pub fn parse_integration_uri(uri: &str) -> Result<Self, ValidationError> {
        let invalid = |why: &str| {
            ValidationError::new(
                "integrationUri",
                format!(
                    "Invalid integrationUri '{uri}': {why}. Use a Lambda function ARN \
                     (arn:aws:lambda:REGION:ACCOUNT_ID:function:NAME[:ALIAS]) or \
                     arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/FUNCTION_ARN/invocations"
                ),
            )
        };
        let parts: Vec<&str> = uri.splitn(6, ':').collect();
        match parts.as_slice() {
            ["arn", partition, "apigateway", region, "lambda", path] => {
                check_partition(partition).map_err(|w| invalid(&w))?;
                check_region(region).map_err(|w| invalid(&w))?;
                let inner = path
                    .strip_prefix(INVOKE_PATH_PREFIX)
                    .and_then(|p| p.strip_suffix(INVOKE_PATH_SUFFIX))
                    .ok_or_else(|| {
                        invalid(
                            "an API Gateway service URI for Lambda has the path \
                             path/2015-03-31/functions/FUNCTION_ARN/invocations",
                        )
                    })?;
                Self::parse_function_arn(inner).map_err(|w| invalid(&w))
            }
            ["arn", _, "lambda", ..] => Self::parse_function_arn(uri).map_err(|w| invalid(&w)),
            ["arn", _, service, ..] => Err(invalid(&format!(
                "'{service}' is not Lambda; AWS_PROXY integrations call Lambda functions"
            ))),
            _ => Err(invalid("it is not an ARN")),
        }
    }

    /// Parses `arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`; the error
    /// says which piece is wrong.
    pub fn parse_function_arn(arn: &str) -> Result<Self, String> {
        let parts: Vec<&str> = arn.split(':').collect();
        let (partition, region, account, kind, name, qualifier) = match parts.as_slice() {
            ["arn", p, "lambda", r, a, k, n] => (*p, *r, *a, *k, *n, None),
            ["arn", p, "lambda", r, a, k, n, q] => (*p, *r, *a, *k, *n, Some(*q)),
            _ => {
                return Err(format!(
                    "'{arn}' is not a Lambda function ARN \
                     (arn:aws:lambda:REGION:ACCOUNT_ID:function:NAME[:ALIAS])"
                ));
            }
        };
        check_partition(partition)?;
        check_region(region)?;
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("the account id '{account}' must be 12 digits"));
        }
        if kind != "function" {
            return Err(format!("'{kind}' must be 'function'"));
        }
        if name.is_empty() || name.len() > 64 || !name.bytes().all(name_byte) {
            return Err(format!(
                "the function name '{name}' must be 1 to 64 letters, digits, '-' or '_'"
            ));
        }
        if let Some(q) = qualifier {
            let version = !q.is_empty() && q.bytes().all(|b| b.is_ascii_digit());
            let alias = !q.is_empty()
                && q.len() <= 128
                && q.bytes().all(name_byte)
                && !q.bytes().all(|b| b.is_ascii_digit());
            if !(q == "$LATEST" || version || alias) {
                return Err(format!(
                    "the qualifier '{q}' must be $LATEST, a version number, or an alias of \
                     up to 128 letters, digits, '-' or '_'"
                ));
            }
        }
        Ok(LambdaFunctionArn {
            partition: partition.to_string(),
            region: region.to_string(),
            account_id: account.to_string(),
            function_name: name.to_string(),
            qualifier: qualifier.map(str::to_string),
        })
    }
}

fn name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

fn check_partition(p: &str) -> Result<(), String> {
    match p {
        "aws" | "aws-cn" | "aws-us-gov" | "aws-iso" | "aws-iso-b" | "aws-eusc" => Ok(()),
        _ => Err(format!("'{p}' is not an AWS partition")),
    }
}

/// `us-east-1`, `ap-southeast-2`, `us-gov-west-1`, `cn-north-1`: letters and hyphens,
/// then a number.
fn check_region(r: &str) -> Result<(), String> {
    let ok = r.rsplit_once('-').is_some_and(|(area, n)| {
        !n.is_empty()
            && n.bytes().all(|b| b.is_ascii_digit())
            && area.contains('-')
            && area
                .split('-')
                .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
    });
    if ok {
        Ok(())
    } else {
        Err(format!("'{r}' is not an AWS region such as us-east-1"))
    }
}

/// The function's full ARN, qualifier included: what the Invoke API is called with.
impl fmt::Display for LambdaFunctionArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:lambda:{}:{}:function:{}",
            self.partition, self.region, self.account_id, self.function_name
        )?;
        if let Some(q) = &self.qualifier {
            write!(f, ":{q}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_aws_accepts() {
        let plain = LambdaFunctionArn::parse_integration_uri(
            "arn:aws:lambda:us-east-1:123456789012:function:notes_get",
        )
        .expect("function ARN");
        assert_eq!(plain.region, "us-east-1");
        assert_eq!(plain.account_id, "123456789012");
        assert_eq!(plain.function_name, "notes_get");
        assert_eq!(plain.qualifier, None);
        let service = LambdaFunctionArn::parse_integration_uri(
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-2:123456789012:function:notes_get:live/invocations",
        )
        .expect("service form");
        assert_eq!(service.region, "eu-west-2");
        assert_eq!(service.qualifier.as_deref(), Some("live"));
        assert_eq!(
            service.to_string(),
            "arn:aws:lambda:eu-west-2:123456789012:function:notes_get:live"
        );
        for q in ["$LATEST", "7", "prod-2", "a_b"] {
            let arn = format!("arn:aws:lambda:us-gov-west-1:123456789012:function:f:{q}");
            assert_eq!(
                LambdaFunctionArn::parse_integration_uri(&arn)
                    .expect(q)
                    .qualifier
                    .as_deref(),
                Some(q)
            );
        }
    }

    #[test]
    fn refusals_name_the_piece() {
        for (uri, piece) in [
            ("not-an-arn", "not an ARN"),
            ("arn:aws:s3:::bucket", "'s3' is not Lambda"),
            ("arn:aws:lambda:us-east-1:123:function:f", "12 digits"),
            (
                "arn:aws:lambda:us-east-1:123456789012:function:",
                "function name",
            ),
            ("arn:aws:lambda:us-east-1:123456789012:layer:f", "'layer'"),
            ("arn:aws:lambda:useast1:123456789012:function:f", "region"),
            (
                "arn:aws:lambda:us-east-1:123456789012:function:f:$NOPE",
                "qualifier",
            ),
            (
                "arn:aws:lambda:us-east-1:123456789012:function:f:a:b",
                "not a Lambda function ARN",
            ),
            (
                "arn:nope:lambda:us-east-1:123456789012:function:f",
                "partition",
            ),
            (
                "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:f/oops",
                "path/2015-03-31/functions/FUNCTION_ARN/invocations",
            ),
            (
                "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/not-an-arn/invocations",
                "not a Lambda function ARN",
            ),
        ] {
            let err = LambdaFunctionArn::parse_integration_uri(uri).expect_err(uri);
            assert_eq!(err.field, "integrationUri");
            assert!(err.message.contains(piece), "{uri}: {}", err.message);
        }
        let name = format!(
            "arn:aws:lambda:us-east-1:123456789012:function:{}",
            "f".repeat(65)
        );
        assert!(LambdaFunctionArn::parse_integration_uri(&name).is_err());
    }
}
