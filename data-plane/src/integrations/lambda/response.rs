//! The function's output read as AWS reads it for each payload format
//! (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html#http-api-develop-integrations-lambda.response):
//!
//! - 2.0: an object with `statusCode` is a response (`headers`, `multiValueHeaders`,
//!   `cookies` as `Set-Cookie` headers, `body`, `isBase64Encoded`); any other JSON is the
//!   body of a 200 `application/json` response (a JSON string's text, anything else as
//!   the function wrote it).
//! - 1.0: the output must be such a response object; `cookies` is not a 1.0 field and is
//!   ignored.
//!
//! Where `headers` and `multiValueHeaders` name the same header, the latter's values
//! win, as AWS documents for 1.0. A response with a body and no `Content-Type` gets
//! `text/plain; charset=utf-8`. Anything else is an invalid response, which the
//! client sees as AWS's 500.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue, SET_COOKIE};
use http::{HeaderMap, Response, StatusCode};
use serde_json::{Map, Value};

use crate::config::lambda::PayloadFormat;
use crate::integrations::http_proxy::strip_hop_by_hop;
use crate::proxy::body::ProxyBody;

/// Why the function's output is not a response; the text goes to the log
/// (`$context.integrationErrorMessage`), never to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid Lambda response: {0}")]
pub struct InvalidResponse(pub String);

fn invalid(why: impl Into<String>) -> InvalidResponse {
    InvalidResponse(why.into())
}

pub fn read(format: PayloadFormat, payload: Bytes) -> Result<Response<ProxyBody>, InvalidResponse> {
    let value: Value = serde_json::from_slice(&payload)
        .map_err(|e| invalid(format!("the function's output is not JSON ({e})")))?;
    match (format, value) {
        (_, Value::Object(map)) if map.contains_key("statusCode") => structured(format, map),
        (PayloadFormat::V1, _) => Err(invalid(
            "payload format 1.0 needs an object with statusCode",
        )),
        (PayloadFormat::V2, Value::String(text)) => Ok(inferred(Bytes::from(text))),
        (PayloadFormat::V2, _) => Ok(inferred(payload)),
    }
}

/// 2.0's answer for output without `statusCode`.
fn inferred(body: Bytes) -> Response<ProxyBody> {
    let mut response = Response::new(ProxyBody::local(body));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn structured(
    format: PayloadFormat,
    mut map: Map<String, Value>,
) -> Result<Response<ProxyBody>, InvalidResponse> {
    let status = status_code(map.get("statusCode").unwrap_or(&Value::Null))?;
    let mut headers = HeaderMap::new();
    if let Some(single) = present(map.get("headers")) {
        let Value::Object(single) = single else {
            return Err(invalid("headers must be an object"));
        };
        for (name, value) in single {
            headers.insert(header_name(name)?, header_value(name, value)?);
        }
    }
    if let Some(multi) = present(map.get("multiValueHeaders")) {
        let Value::Object(multi) = multi else {
            return Err(invalid("multiValueHeaders must be an object"));
        };
        for (name, values) in multi {
            let Value::Array(values) = values else {
                return Err(invalid(format!("multiValueHeaders.{name} must be a list")));
            };
            let name_ = header_name(name)?;
            headers.remove(&name_);
            for v in values {
                headers.append(name_.clone(), header_value(name, v)?);
            }
        }
    }
    // `cookies` is a 2.0 field; in 1.0 output it is one more unknown field, ignored.
    if let Some(cookies) = present(map.get("cookies")).filter(|_| format == PayloadFormat::V2) {
        let Value::Array(cookies) = cookies else {
            return Err(invalid("cookies must be a list of strings"));
        };
        for c in cookies {
            headers.append(SET_COOKIE, header_value("cookies", c)?);
        }
    }
    let base64 = match present(map.get("isBase64Encoded")) {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(invalid("isBase64Encoded must be true or false")),
    };
    let body = match map.remove("body") {
        None | Some(Value::Null) => Bytes::new(),
        Some(Value::String(text)) if base64 => Bytes::from(
            STANDARD
                .decode(text.trim())
                .map_err(|e| invalid(format!("body is not base64 ({e})")))?,
        ),
        Some(Value::String(text)) => Bytes::from(text),
        Some(_) => return Err(invalid("body must be a string")),
    };
    // The gateway frames the message itself.
    strip_hop_by_hop(&mut headers);
    headers.remove(http::header::CONTENT_LENGTH);
    if !body.is_empty() && !headers.contains_key(CONTENT_TYPE) {
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
    }
    let mut response = Response::new(ProxyBody::local(body));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    Ok(response)
}

fn present(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| !v.is_null())
}

/// A number, or a string of digits, from 200 to 599: a 1xx is no final answer, and
/// hyper would turn it into a 500 of its own.
fn status_code(v: &Value) -> Result<StatusCode, InvalidResponse> {
    let code = match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    code.and_then(|c| u16::try_from(c).ok())
        .filter(|c| (200..=599).contains(c))
        .and_then(|c| StatusCode::from_u16(c).ok())
        .ok_or_else(|| invalid(format!("statusCode {v} is not a status from 200 to 599")))
}

fn header_name(name: &str) -> Result<HeaderName, InvalidResponse> {
    HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| invalid(format!("'{name}' is not a header name")))
}

/// Strings, numbers and booleans, as the AWS SDKs' response types allow.
fn header_value(name: &str, v: &Value) -> Result<HeaderValue, InvalidResponse> {
    let text = match v {
        Value::String(s) => HeaderValue::from_str(s),
        Value::Number(n) => HeaderValue::from_str(&n.to_string()),
        Value::Bool(b) => Ok(HeaderValue::from_static(if *b { "true" } else { "false" })),
        _ => return Err(invalid(format!("the value of {name} must be a string"))),
    };
    text.map_err(|_| invalid(format!("the value of {name} cannot be sent in a header")))
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    async fn answer(format: PayloadFormat, output: &str) -> (u16, HeaderMap, String) {
        let response = read(format, Bytes::from(output.to_string())).expect("valid");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (status, headers, String::from_utf8_lossy(&body).into_owned())
    }

    /// The table "Lambda function output / API Gateway interpretation" of the page above.
    #[tokio::test]
    async fn v2_infers_a_response_from_other_json() {
        let (status, headers, body) = answer(PayloadFormat::V2, r#""Hello from Lambda!""#).await;
        assert_eq!((status, body.as_str()), (200, "Hello from Lambda!"));
        assert_eq!(headers[CONTENT_TYPE], "application/json");
        let output = r#"{ "message": "Hello from Lambda!" }"#;
        let (status, headers, body) = answer(PayloadFormat::V2, output).await;
        assert_eq!((status, body.as_str()), (200, output));
        assert_eq!(headers[CONTENT_TYPE], "application/json");
        assert_eq!(answer(PayloadFormat::V2, "[1,2]").await.2, "[1,2]");
    }

    #[tokio::test]
    async fn v2_response_with_cookies_and_both_header_maps() {
        let output = r#"{"statusCode": 201, "cookies": ["a=1; Path=/", "b=2"],
            "headers": {"x-one": "1", "x-both": "single", "x-num": 5},
            "multiValueHeaders": {"x-both": ["m1", "m2"]},
            "body": "made", "isBase64Encoded": false}"#;
        let (status, headers, body) = answer(PayloadFormat::V2, output).await;
        assert_eq!((status, body.as_str()), (201, "made"));
        let all = |n: &str| -> Vec<&str> {
            headers
                .get_all(n)
                .iter()
                .map(|v| v.to_str().expect("ascii"))
                .collect()
        };
        assert_eq!(all("set-cookie"), ["a=1; Path=/", "b=2"]);
        assert_eq!(all("x-both"), ["m1", "m2"]);
        assert_eq!(all("x-one"), ["1"]);
        assert_eq!(all("x-num"), ["5"]);
        assert_eq!(all("content-type"), ["text/plain; charset=utf-8"]);
    }

    #[tokio::test]
    async fn base64_bodies_are_decoded() {
        let output = r#"{"statusCode": 200, "headers": {"content-type": "image/png"},
            "body": "iVBORw0KGgo=", "isBase64Encoded": true}"#;
        let response = read(PayloadFormat::V1, Bytes::from(output)).expect("valid");
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        assert_eq!(&body[..], b"\x89PNG\r\n\x1a\n");
    }

    #[test]
    fn what_is_not_a_response() {
        for (format, output, why) in [
            (PayloadFormat::V2, "not json {", "not JSON"),
            (
                PayloadFormat::V1,
                r#"{"message": "hi"}"#,
                "needs an object with statusCode",
            ),
            (
                PayloadFormat::V1,
                r#""hi""#,
                "needs an object with statusCode",
            ),
            (PayloadFormat::V2, r#"{"statusCode": "abc"}"#, "statusCode"),
            (PayloadFormat::V2, r#"{"statusCode": 700}"#, "statusCode"),
            (
                PayloadFormat::V2,
                r#"{"statusCode": 200, "body": {"a": 1}}"#,
                "body must be a string",
            ),
            (
                PayloadFormat::V2,
                r#"{"statusCode": 200, "headers": []}"#,
                "headers must be an object",
            ),
            (
                PayloadFormat::V2,
                r#"{"statusCode": 200, "headers": {"bad name": "x"}}"#,
                "header name",
            ),
            (
                PayloadFormat::V2,
                r#"{"statusCode": 200, "body": "%%", "isBase64Encoded": true}"#,
                "base64",
            ),
            (PayloadFormat::V2, r#"{"statusCode": 101}"#, "statusCode"),
        ] {
            let err = read(format, Bytes::from(output)).expect_err(output);
            assert!(err.0.contains(why), "{output}: {err}");
        }
    }

    #[tokio::test]
    async fn fields_of_the_other_format_are_ignored() {
        let (status, headers, _) = answer(
            PayloadFormat::V1,
            r#"{"statusCode": 200, "cookies": ["a=1"]}"#,
        )
        .await;
        assert_eq!(status, 200);
        assert!(headers.get("set-cookie").is_none());
    }

    #[tokio::test]
    async fn status_codes_may_be_strings_and_framing_is_the_gateways() {
        let output = r#"{"statusCode": "404", "headers": {"content-length": "99",
            "transfer-encoding": "chunked", "content-type": "application/json"}, "body": "{}"}"#;
        let (status, headers, body) = answer(PayloadFormat::V1, output).await;
        assert_eq!((status, body.as_str()), (404, "{}"));
        assert!(headers.get("transfer-encoding").is_none());
        assert!(headers.get("content-length").is_none());
        assert_eq!(headers[CONTENT_TYPE], "application/json");
    }
}
