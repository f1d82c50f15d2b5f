//! W3C Trace Context (https://www.w3.org/TR/trace-context/): every request runs under a
//! trace. A valid `traceparent` from the client is continued (same trace id, the
//! client's span as the parent); otherwise a new trace starts. The integration gets
//! `traceparent` naming the gateway's own span, and the access log's `$context.traceId`
//! shows the trace id.

use http::HeaderValue;
use http::header::HeaderName;

pub static TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

const SAMPLED: u8 = 0x01;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceContext {
    pub trace_id: [u8; 16],
    /// The client's span, when the client sent one.
    pub parent_span_id: Option<[u8; 8]>,
    /// The gateway's span for this request.
    pub span_id: [u8; 8],
    pub flags: u8,
}

impl TraceContext {
    /// Continues the client's trace, or starts one.
    pub fn for_request(traceparent: Option<&HeaderValue>) -> Self {
        let span_id = nonzero_id::<8>();
        match traceparent.and_then(|v| parse(v.as_bytes())) {
            Some((trace_id, parent, flags)) => TraceContext {
                trace_id,
                parent_span_id: Some(parent),
                span_id,
                flags,
            },
            None => TraceContext {
                trace_id: nonzero_id::<16>(),
                parent_span_id: None,
                span_id,
                flags: SAMPLED,
            },
        }
    }

    pub fn sampled(&self) -> bool {
        self.flags & SAMPLED != 0
    }

    /// `traceparent` for the integration: version 00, this trace, the gateway's span.
    pub fn header_value(&self) -> HeaderValue {
        let mut out = [0u8; 55];
        out[..3].copy_from_slice(b"00-");
        hex_into(&self.trace_id, &mut out[3..35]);
        out[35] = b'-';
        hex_into(&self.span_id, &mut out[36..52]);
        out[52] = b'-';
        hex_into(&[self.flags], &mut out[53..55]);
        // Hex digits and dashes are always a valid header value.
        HeaderValue::from_bytes(&out).unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// The trace id as 32 lowercase hex digits.
    pub fn write_trace_id(&self, out: &mut String) {
        let mut buf = [0u8; 32];
        hex_into(&self.trace_id, &mut buf);
        out.extend(buf.iter().map(|&b| b as char));
    }
}

fn nonzero_id<const N: usize>() -> [u8; N] {
    loop {
        let id: [u8; N] = rand::random();
        if id.iter().any(|&b| b != 0) {
            return id;
        }
    }
}

fn hex_into(bytes: &[u8], out: &mut [u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, b) in bytes.iter().enumerate() {
        out[2 * i] = HEX[usize::from(b >> 4)];
        out[2 * i + 1] = HEX[usize::from(b & 0xf)];
    }
}

fn unhex<const N: usize>(s: &[u8]) -> Option<[u8; N]> {
    if s.len() != 2 * N {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        // The spec allows lowercase only.
        _ => None,
    };
    let mut out = [0u8; N];
    for (i, pair) in s.chunks_exact(2).enumerate() {
        out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

/// `version-traceid-parentid-flags`, as the spec reads it: version `ff` is invalid, a
/// later version may carry more fields after the four it knows, and all-zero ids are
/// invalid.
fn parse(v: &[u8]) -> Option<([u8; 16], [u8; 8], u8)> {
    let mut fields = v.split(|&b| b == b'-');
    let version = unhex::<1>(fields.next()?)?[0];
    let trace_id = unhex::<16>(fields.next()?)?;
    let parent = unhex::<8>(fields.next()?)?;
    let flags = unhex::<1>(fields.next()?)?[0];
    let extra = fields.next();
    if version == 0xff || (version == 0 && extra.is_some()) {
        return None;
    }
    if trace_id == [0; 16] || parent == [0; 8] {
        return None;
    }
    Some((trace_id, parent, flags))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spec's own example header is continued: same trace, new span, same flags.
    #[test]
    fn continues_a_valid_traceparent() {
        let h = HeaderValue::from_static("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        let t = TraceContext::for_request(Some(&h));
        let mut id = String::new();
        t.write_trace_id(&mut id);
        assert_eq!(id, "0af7651916cd43dd8448eb211c80319c");
        assert_eq!(
            t.parent_span_id,
            Some([0xb7, 0xad, 0x6b, 0x71, 0x69, 0x20, 0x33, 0x31])
        );
        assert!(t.sampled());
        let out = t.header_value();
        let out = out.to_str().expect("ascii");
        assert!(out.starts_with("00-0af7651916cd43dd8448eb211c80319c-"));
        assert!(out.ends_with("-01"));
        assert_ne!(&out[36..52], "b7ad6b7169203331", "the gateway's own span");
    }

    #[test]
    fn starts_a_trace_for_anything_invalid() {
        for bad in [
            "",
            "00-00000000000000000000000000000000-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
            "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",
            "00-0af7651916cd43dd8448eb211c8031-b7ad6b7169203331-01",
        ] {
            let h = HeaderValue::from_str(bad).expect("header");
            let t = TraceContext::for_request(Some(&h));
            assert_eq!(t.parent_span_id, None, "{bad:?}");
            assert_ne!(t.trace_id, [0; 16]);
        }
        // A later version's extra fields are allowed.
        let h = HeaderValue::from_static(
            "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-what-next",
        );
        assert!(TraceContext::for_request(Some(&h)).parent_span_id.is_some());
    }
}
