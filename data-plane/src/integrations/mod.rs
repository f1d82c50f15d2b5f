//! What a matched route calls: `HTTP_PROXY` (`http_proxy.rs`), private resources through
//! a VPC link (`vpc_link.rs`) and Lambda functions through the Invoke API (`lambda/`).
pub mod http_proxy;
pub mod lambda;
pub mod vpc_link;

use bytes::Bytes;
use http::HeaderMap;
use http::header::CONTENT_LENGTH;
use http_body::Body;
use http_body_util::{BodyExt, LengthLimitError, Limited};

/// Largest request body an integration is sent, as in AWS HTTP APIs (10 MB).
pub const MAX_BODY_BYTES: usize = 10_485_760;

/// The request's `Content-Length`, when it declares one that parses.
pub fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Why a body could not be read whole.
pub enum ReadError {
    TooLarge,
    Failed(Box<dyn std::error::Error + Send + Sync>),
}

/// Reads a body to its end, refusing it once it passes `limit` bytes: for what is a whole
/// message rather than a stream: a Lambda event's body, a function's output, a body a
/// SigV4 signature covers.
pub async fn read_to_end<B>(body: B, limit: usize) -> Result<Bytes, ReadError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<LengthLimitError>() => Err(ReadError::TooLarge),
        Err(e) => Err(ReadError::Failed(e)),
    }
}
