//! The HTTP_PROXY integration: forward the request to the integration's URI and stream
//! both bodies through, as AWS does: hop-by-hop headers dropped, `Host` set to the
//! upstream, `X-Forwarded-*` added, the client's query string appended.

use std::error::Error as StdError;

use http::header::{CONNECTION, CONTENT_LENGTH, HOST, HeaderName, HeaderValue};
use http::request::Parts;
use http::{HeaderMap, Request, Response, Uri, Version};
use http_body::Body;
use http_body_util::{LengthLimitError, Limited};

use super::{MAX_BODY_BYTES, declared_length};
use crate::config::integration::{HttpProxyIntegration, host_header_for};
use crate::upstream::pool::{RequestBody, UpstreamError, UpstreamPool, UpstreamResponseBody};

/// Why a request could not be forwarded; the proxy turns each into its AWS answer.
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    #[error("the request body exceeds {MAX_BODY_BYTES} bytes")]
    PayloadTooLarge,
    #[error("no response head from upstream within {0:?}")]
    Timeout(std::time::Duration),
    /// The cause is the source, not the message, so a chain shows it once.
    #[error("upstream request failed")]
    Upstream(#[source] UpstreamError),
    #[error("the upstream's response was refused")]
    Refused(#[source] RefusedResponse),
}

/// An upstream response head that hyper's client accepts but the node does not pass on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RefusedResponse {
    /// AWS's payload quota holds for responses too; a declared length says so before any
    /// of the body has gone to the client.
    #[error("the response declares {0} bytes, past the {MAX_BODY_BYTES}-byte payload quota")]
    TooLarge(u64),
    /// `Content-Length` beside `Transfer-Encoding` (RFC 9112 §6.3: "ought to be handled
    /// as an error", a sign of response splitting). Passed on, the client would be told
    /// a length the body does not have.
    #[error("the response declares both Content-Length and Transfer-Encoding")]
    AmbiguousLength,
}

static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
static X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1), besides
/// the ones `Connection` itself lists and every `Proxy-*`.
const HOP_BY_HOP: [HeaderName; 5] = [
    CONNECTION,
    HeaderName::from_static("keep-alive"),
    http::header::TE,
    http::header::TRAILER,
    http::header::TRANSFER_ENCODING,
];

/// Sends the request upstream and waits for the response head (bounded by the
/// integration's timeout); the response body is left to stream. The request body goes
/// as it arrives, cut off past the AWS limit.
pub async fn forward<B>(
    pool: &UpstreamPool<Limited<B>>,
    integration: &HttpProxyIntegration,
    upstream_uri: Uri,
    mut parts: Parts,
    body: B,
    client_ip: &HeaderValue,
    forwarded_host: Option<HeaderValue>,
) -> Result<Response<UpstreamResponseBody<Limited<B>>>, ForwardError>
where
    Limited<B>: RequestBody,
{
    if declared_length(&parts.headers).is_some_and(|len| len > MAX_BODY_BYTES as u64) {
        return Err(ForwardError::PayloadTooLarge);
    }

    let host = match integration.uri.host_header() {
        Some(h) => Some(h.clone()),
        None => upstream_uri
            .authority()
            .and_then(|a| host_header_for(a.as_str())),
    };
    prepare(
        &mut parts,
        client_ip,
        host,
        forwarded_host,
        integration.method.as_ref(),
    );
    parts.uri = upstream_uri;
    let request = Request::from_parts(parts, Limited::new(body, MAX_BODY_BYTES));

    match tokio::time::timeout(integration.timeout, pool.send(request)).await {
        Err(_elapsed) => Err(ForwardError::Timeout(integration.timeout)),
        Ok(Err(e)) if caused_by_body_limit(&e) => Err(ForwardError::PayloadTooLarge),
        Ok(Err(e)) => Err(ForwardError::Upstream(e)),
        Ok(Ok(mut response)) => {
            // The timeout bounds each wait for more of the body too, not only the head.
            response.body_mut().set_read_timeout(integration.timeout);
            finish(response)
        }
    }
}

/// The request's head as every HTTP hop sends it: hop-by-hop headers dropped,
/// `X-Forwarded-*`, `Host` (unless a mapping set one), the integration's method, HTTP/1.1.
/// Returns whether `Host` is the one given (not a mapping's).
pub(super) fn prepare(
    parts: &mut Parts,
    client_ip: &HeaderValue,
    host: Option<HeaderValue>,
    forwarded_host: Option<HeaderValue>,
    method: Option<&http::Method>,
) -> bool {
    forwarding_headers(&mut parts.headers, client_ip);
    let headers = &mut parts.headers;
    // The client's Host was taken off before mapping, so a Host here is one that the
    // integration's request mapping set, and it wins.
    let ours = !headers.contains_key(HOST);
    if ours {
        match host {
            Some(h) => headers.insert(HOST, h),
            None => headers.remove(HOST),
        };
    }
    match forwarded_host {
        Some(h) => headers.insert(X_FORWARDED_HOST.clone(), h),
        None => headers.remove(&X_FORWARDED_HOST),
    };
    if let Some(m) = method {
        parts.method = m.clone();
    }
    // A new hop: whatever the client spoke, the upstream gets HTTP/1.1.
    parts.version = Version::HTTP_11;
    ours
}

/// The upstream's response head as the client gets it, or why it must not reach it.
/// Dropping a refused response closes its connection: its body was never read.
pub(super) fn finish<T: Body>(mut response: Response<T>) -> Result<Response<T>, ForwardError> {
    // The body's size hint is hyper's framing of it: exact for a `Content-Length` body,
    // open for chunked or close-delimited ones, so the common case reads no header.
    let hint = response.body().size_hint();
    match hint.exact() {
        Some(len) if len > MAX_BODY_BYTES as u64 => {
            return Err(ForwardError::Refused(RefusedResponse::TooLarge(len)));
        }
        None if response.headers().contains_key(CONTENT_LENGTH) => {
            return Err(ForwardError::Refused(RefusedResponse::AmbiguousLength));
        }
        _ => {}
    }
    strip_hop_by_hop(response.headers_mut());
    // The upstream's HTTP version is its own hop's, like its hop-by-hop headers: a
    // client speaks HTTP/1.1 (or h2) with the gateway even when the backend answers
    // in HTTP/1.0, as nginx and AWS answer. (hyper still answers an HTTP/1.0 client
    // in HTTP/1.0.)
    *response.version_mut() = Version::HTTP_11;
    Ok(response)
}

pub(super) fn caused_by_body_limit(err: &(dyn StdError + 'static)) -> bool {
    let mut cause = Some(err);
    while let Some(e) = cause {
        if e.is::<LengthLimitError>() {
            return true;
        }
        cause = e.source();
    }
    false
}

/// Removes hop-by-hop headers. Only allocates when a `Connection` header names other
/// headers in more than one line, or when `Proxy-*` headers are present.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // One pass comparing the names present is much cheaper than hashing every name
    // that might be: most messages carry none, or only `Connection: keep-alive`.
    let (mut connection, mut others) = (0, false);
    for name in headers.keys() {
        if name == CONNECTION {
            connection = headers.get_all(CONNECTION).iter().count();
        } else if is_hop_by_hop(name) {
            others = true;
        }
    }
    match connection {
        0 => {}
        1 => {
            if let Some(listed) = headers.remove(CONNECTION) {
                remove_listed(headers, &listed);
            }
        }
        _ => {
            let listed: Vec<HeaderValue> = headers.get_all(CONNECTION).iter().cloned().collect();
            headers.remove(CONNECTION);
            for v in &listed {
                remove_listed(headers, v);
            }
        }
    }
    if !others {
        return;
    }
    for name in &HOP_BY_HOP {
        headers.remove(name);
    }
    headers.remove(http::header::UPGRADE);
    if headers.keys().any(|k| k.as_str().starts_with("proxy-")) {
        let proxy: Vec<HeaderName> = headers
            .keys()
            .filter(|k| k.as_str().starts_with("proxy-"))
            .cloned()
            .collect();
        for name in proxy {
            headers.remove(name);
        }
    }
}

fn is_hop_by_hop(name: &HeaderName) -> bool {
    HOP_BY_HOP.contains(name)
        || name == http::header::UPGRADE
        || name.as_str().starts_with("proxy-")
}

fn remove_listed(headers: &mut HeaderMap, listed: &HeaderValue) {
    let Ok(listed) = listed.to_str() else { return };
    for name in listed.split(',') {
        let name = name.trim();
        if !name.is_empty() {
            headers.remove(name);
        }
    }
}

/// A non-empty `X-Forwarded-For` line the request arrived with.
fn earlier(v: &HeaderValue) -> Option<&str> {
    v.to_str().ok().map(str::trim).filter(|v| !v.is_empty())
}

/// What every integration is told of the hop: hop-by-hop headers dropped, the client's
/// address added to `X-Forwarded-For`, and the protocol it spoke.
pub fn forwarding_headers(headers: &mut HeaderMap, client_ip: &HeaderValue) {
    strip_hop_by_hop(headers);
    append_forwarded_for(headers, client_ip);
    headers.insert(X_FORWARDED_PROTO.clone(), HeaderValue::from_static("http"));
}

/// Appends the client's address to any `X-Forwarded-For` the request already carries.
fn append_forwarded_for(headers: &mut HeaderMap, client_ip: &HeaderValue) {
    if headers
        .get_all(&X_FORWARDED_FOR)
        .iter()
        .all(|v| earlier(v).is_none())
    {
        headers.insert(X_FORWARDED_FOR.clone(), client_ip.clone());
        return;
    }
    let mut value = String::new();
    for prev in headers.get_all(&X_FORWARDED_FOR).iter().filter_map(earlier) {
        value.push_str(prev);
        value.push_str(", ");
    }
    value.push_str(client_ip.to_str().unwrap_or_default());
    if let Ok(v) = HeaderValue::try_from(value) {
        headers.insert(X_FORWARDED_FOR.clone(), v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_hop_by_hop_headers() {
        let mut h = HeaderMap::new();
        for (k, v) in [
            ("connection", "keep-alive, X-Secret"),
            ("connection", "x-other"),
            ("keep-alive", "timeout=5"),
            ("x-secret", "1"),
            ("x-other", "1"),
            ("proxy-authorization", "Basic x"),
            ("proxy-connection", "keep-alive"),
            ("te", "trailers"),
            ("trailer", "x-t"),
            ("transfer-encoding", "chunked"),
            ("upgrade", "websocket"),
            ("x-kept", "yes"),
            ("content-type", "text/plain"),
        ] {
            h.append(HeaderName::from_static(k), HeaderValue::from_static(v));
        }
        strip_hop_by_hop(&mut h);
        let mut left: Vec<_> = h.keys().map(|k| k.as_str()).collect();
        left.sort();
        assert_eq!(left, ["content-type", "x-kept"]);
    }

    #[test]
    fn strips_connection_and_what_it_lists_when_nothing_else_is_hop_by_hop() {
        for lines in [&["keep-alive, X-Secret"][..], &["x-secret", "close"][..]] {
            let mut h = HeaderMap::new();
            for v in lines {
                h.append(CONNECTION, HeaderValue::from_static(v));
            }
            h.append("x-secret", HeaderValue::from_static("1"));
            h.append("x-kept", HeaderValue::from_static("yes"));
            strip_hop_by_hop(&mut h);
            let left: Vec<_> = h.keys().map(|k| k.as_str()).collect();
            assert_eq!(left, ["x-kept"], "Connection: {lines:?}");
        }
        let mut untouched = HeaderMap::new();
        untouched.append("x-kept", HeaderValue::from_static("yes"));
        strip_hop_by_hop(&mut untouched);
        assert_eq!(untouched.len(), 1);
    }

    #[test]
    fn appends_to_forwarded_for() {
        let mut h = HeaderMap::new();
        append_forwarded_for(&mut h, &HeaderValue::from_static("10.0.0.1"));
        assert_eq!(h[&X_FORWARDED_FOR], "10.0.0.1");
        h.append(X_FORWARDED_FOR.clone(), HeaderValue::from_static("1.2.3.4"));
        append_forwarded_for(&mut h, &HeaderValue::from_static("10.0.0.2"));
        assert_eq!(h[&X_FORWARDED_FOR], "10.0.0.1, 1.2.3.4, 10.0.0.2");
    }

    /// A body framed as hyper frames a response's: `Some(len)` for `Content-Length`,
    /// `None` for chunked or close-delimited.
    struct Framed(Option<u64>);

    impl Body for Framed {
        type Data = bytes::Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, Self::Error>>> {
            std::task::Poll::Ready(None)
        }

        fn size_hint(&self) -> http_body::SizeHint {
            self.0
                .map_or_else(http_body::SizeHint::new, http_body::SizeHint::with_exact)
        }
    }

    fn response(
        framing: Option<u64>,
        headers: &[(&'static str, &'static str)],
    ) -> Response<Framed> {
        let mut r = Response::new(Framed(framing));
        for (k, v) in headers {
            r.headers_mut()
                .append(HeaderName::from_static(k), HeaderValue::from_static(v));
        }
        r
    }

    #[test]
    fn refuses_bodies_past_the_quota_and_lengths_beside_chunking() {
        let quota = MAX_BODY_BYTES as u64;
        let over = finish(response(Some(quota + 1), &[("content-length", "10485761")]));
        assert!(matches!(
            over,
            Err(ForwardError::Refused(RefusedResponse::TooLarge(n))) if n == quota + 1
        ));
        assert!(finish(response(Some(quota), &[("content-length", "10485760")])).is_ok());
        // hyper framed the body as chunked (Transfer-Encoding wins), yet a length is
        // declared: the client would be told one the body does not have.
        let both = finish(response(
            None,
            &[("content-length", "3"), ("transfer-encoding", "chunked")],
        ));
        assert!(matches!(
            both,
            Err(ForwardError::Refused(RefusedResponse::AmbiguousLength))
        ));
        let chunked = finish(response(None, &[("transfer-encoding", "chunked")]))
            .unwrap_or_else(|e| panic!("a chunked response passes: {e}"));
        assert!(chunked.headers().is_empty(), "{:?}", chunked.headers());
        // A response to HEAD (and 204, 304) has no body whatever length it declares.
        assert!(finish(response(Some(0), &[("content-length", "99999999999")])).is_ok());
    }

    #[tokio::test]
    async fn finds_the_body_limit_in_an_error_chain() {
        use http_body_util::{BodyExt, Full};

        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] Box<dyn StdError + Send + Sync>);
        let limited = Limited::new(Full::new(bytes::Bytes::from_static(b"abc")), 1)
            .collect()
            .await
            .expect_err("over the limit");
        assert!(caused_by_body_limit(&Outer(limited)));
        assert!(!caused_by_body_limit(&Outer("other".into())));
    }
}
