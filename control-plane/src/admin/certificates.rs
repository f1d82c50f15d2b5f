//! The ACM API on the admin endpoint, so `boto3.client("acm", endpoint_url=…)` and
//! `aws acm … --endpoint-url …` import and manage the certificates custom domains serve.
//! ACM speaks AWS's JSON 1.1 protocol: `POST /` with `X-Amz-Target:
//! CertificateManager.<Operation>`, PascalCase members, blobs in base64, errors as
//! `{"__type": code, "message"}` with status 400. Beside it, Portico's own
//! `POST /portico/certificates/self-signed` for development certificates.
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use base64::Engine;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use portico_model::SelfSignedRequest;

use super::extract::AwsJson;
use super::{AdminState, ApiError};
use crate::identity::Caller;
use crate::service::{CertificateImport, ServiceError};

/// The target prefix botocore sends for ACM.
pub const ACM_TARGET_PREFIX: &str = "CertificateManager.";
/// Where [`acm_on_root`] sends ACM's `POST /`, so that `/` stays the console's.
const ACM_PATH: &str = "/portico/acm";

/// Marks a request [`acm_on_root`] moved: its signature covers `/` and ACM's signing
/// name.
#[derive(Debug, Clone, Copy)]
pub struct AcmCall;

/// ACM's calls all go to `POST /`, which is also the console's home: the admin listener
/// runs this before routing, moving calls that carry ACM's `X-Amz-Target` to their own
/// path.
pub fn acm_on_root(mut request: axum::extract::Request) -> axum::extract::Request {
    let is_acm = request.method() == http::Method::POST
        && request.uri().path() == "/"
        && request
            .headers()
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with(ACM_TARGET_PREFIX));
    if is_acm {
        let moved = match request.uri().query() {
            Some(q) => format!("{ACM_PATH}?{q}"),
            None => ACM_PATH.to_string(),
        };
        if let Ok(uri) = moved.parse() {
            *request.uri_mut() = uri;
            request.extensions_mut().insert(AcmCall);
        }
    }
    request
}

pub fn router() -> Router<AdminState> {
    Router::new()
        .route(ACM_PATH, post(acm))
        .route("/portico/certificates/self-signed", post(self_signed))
}

/// An ACM error in the JSON 1.1 shape botocore reads.
#[derive(Debug)]
struct AcmError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl AcmError {
    fn validation(message: impl Into<String>) -> Self {
        AcmError {
            status: StatusCode::BAD_REQUEST,
            code: "ValidationException",
            message: message.into(),
        }
    }
}

impl From<ServiceError> for AcmError {
    fn from(e: ServiceError) -> Self {
        let (status, code) = match &e {
            ServiceError::Invalid(v) if v.field == "CertificateArn" => {
                (StatusCode::BAD_REQUEST, "InvalidArnException")
            }
            ServiceError::Invalid(_) | ServiceError::BadRequest(_) => {
                (StatusCode::BAD_REQUEST, "ValidationException")
            }
            ServiceError::NotFound(_) => (StatusCode::BAD_REQUEST, "ResourceNotFoundException"),
            ServiceError::Conflict(_) => (StatusCode::BAD_REQUEST, "ResourceInUseException"),
            ServiceError::Forbidden(_) => (StatusCode::BAD_REQUEST, "AccessDeniedException"),
            ServiceError::TooManyRequests { .. } => {
                (StatusCode::BAD_REQUEST, "ThrottlingException")
            }
            ServiceError::Unauthorized(_) => (StatusCode::FORBIDDEN, "AccessDeniedException"),
            ServiceError::Unavailable(_) | ServiceError::Store(_) => {
                // The admin API's own answer logs the details and hides them.
                let api = ApiError::from(e).into_response();
                return AcmError {
                    status: api.status(),
                    code: "ServiceUnavailableException",
                    message: "The service is unavailable; try again later".into(),
                };
            }
        };
        let message = match e {
            ServiceError::Invalid(v) => v.message,
            other => other.to_string(),
        };
        AcmError {
            status,
            code,
            message,
        }
    }
}

impl IntoResponse for AcmError {
    fn into_response(self) -> Response {
        let mut r = (
            self.status,
            Json(json!({"__type": self.code, "message": self.message})),
        )
            .into_response();
        r.headers_mut()
            .insert("x-amzn-ErrorType", HeaderValue::from_static(self.code));
        r.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-amz-json-1.1"),
        );
        r
    }
}

fn input<T: DeserializeOwned>(body: &Bytes) -> Result<T, AcmError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| AcmError::validation(format!("Invalid request: {e}")))
}

/// A blob member: base64 of PEM text.
fn pem_blob(field: &str, value: &str) -> Result<String, AcmError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .map_err(|_| AcmError::validation(format!("{field} is not base64-encoded")))?;
    String::from_utf8(bytes).map_err(|_| AcmError::validation(format!("{field} is not PEM text")))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ImportInput {
    certificate_arn: Option<String>,
    certificate: String,
    private_key: String,
    certificate_chain: Option<String>,
    #[serde(default)]
    tags: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ArnInput {
    certificate_arn: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct ListInput {
    max_items: Option<u32>,
    next_token: Option<String>,
    /// Only certificates in these statuses (ISSUED, EXPIRED: what an import can be).
    #[serde(default)]
    certificate_statuses: Vec<String>,
}

async fn acm(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(operation) = target.strip_prefix(ACM_TARGET_PREFIX) else {
        return ApiError::NotFound(format!(
            "No resource at POST /{}",
            if target.is_empty() {
                String::new()
            } else {
                format!(" (X-Amz-Target {target})")
            }
        ))
        .into_response();
    };
    match answer(&s, &caller, operation, &body).await {
        Ok(v) => {
            let mut r = Json(v).into_response();
            r.headers_mut().insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-amz-json-1.1"),
            );
            r
        }
        Err(e) => e.into_response(),
    }
}

async fn answer(
    s: &AdminState,
    caller: &Caller,
    operation: &str,
    body: &Bytes,
) -> Result<Value, AcmError> {
    match operation {
        "ImportCertificate" => {
            let i: ImportInput = input(body)?;
            if !i.tags.is_empty() {
                return Err(AcmError::validation(
                    "Tags on certificates are not supported by Portico yet",
                ));
            }
            let import = CertificateImport {
                certificate_arn: i.certificate_arn,
                certificate: pem_blob("Certificate", &i.certificate)?,
                private_key: pem_blob("PrivateKey", &i.private_key)?,
                certificate_chain: i
                    .certificate_chain
                    .as_deref()
                    .map(|c| pem_blob("CertificateChain", c))
                    .transpose()?,
            };
            let arn = s.service.import_certificate(caller, import).await?;
            Ok(json!({ "CertificateArn": arn }))
        }
        "DescribeCertificate" => {
            let i: ArnInput = input(body)?;
            let d = s
                .service
                .describe_certificate(caller, &i.certificate_arn)
                .await?;
            Ok(json!({ "Certificate": d }))
        }
        "ListCertificates" => {
            let i: ListInput = input(body)?;
            let (mut items, next) = s
                .service
                .list_certificates(caller, i.max_items, i.next_token.as_deref())
                .await?;
            if !i.certificate_statuses.is_empty() {
                items.retain(|c| i.certificate_statuses.contains(&c.status));
            }
            let mut out = json!({ "CertificateSummaryList": items });
            if let Some(next) = next {
                out["NextToken"] = Value::String(next);
            }
            Ok(out)
        }
        "DeleteCertificate" => {
            let i: ArnInput = input(body)?;
            s.service
                .delete_certificate(caller, &i.certificate_arn)
                .await?;
            Ok(json!({}))
        }
        other => Err(AcmError {
            status: StatusCode::BAD_REQUEST,
            code: "UnknownOperationException",
            message: format!(
                "Portico's ACM implements ImportCertificate, DescribeCertificate, ListCertificates and DeleteCertificate, not {other}"
            ),
        }),
    }
}

async fn self_signed(
    State(s): State<AdminState>,
    Extension(caller): Extension<Caller>,
    AwsJson(input): AwsJson<SelfSignedRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let arn = s
        .service
        .create_self_signed_certificate(&caller, input)
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "certificateArn": arn }))))
}
