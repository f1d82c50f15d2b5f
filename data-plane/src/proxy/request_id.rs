//! `$context.requestId`: one id per request, made when the request arrives and sent back
//! in the `apigw-requestid` header of every response, the gateway's own errors included,
//! as AWS HTTP APIs do, so that a client's report can be matched with the node's logs.
//! (Access logs and mapping expressions read the same id.)

use std::cell::RefCell;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::BytesMut;
use http::{HeaderName, HeaderValue};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

pub const APIGW_REQUEST_ID: HeaderName = HeaderName::from_static("apigw-requestid");

/// Random bytes per id: 96 bits, so ids from every node of a fleet do not collide.
const RANDOM_BYTES: usize = 12;
/// Their base64 text, without padding (12 bytes are 16 characters exactly).
const TEXT_LEN: usize = 16;
/// Header values are cut from chunks of this size, so that a request's id costs no
/// allocation of its own (one chunk serves 256 requests).
const CHUNK_BYTES: usize = 256 * TEXT_LEN;

/// Per worker thread: a fast generator seeded once from the OS-seeded thread generator
/// (ids need to be unique, not secret), and the chunk header values are cut from.
struct IdSource {
    rng: SmallRng,
    chunk: BytesMut,
}

thread_local! {
    static IDS: RefCell<IdSource> = RefCell::new(IdSource {
        rng: SmallRng::from_rng(&mut rand::rng()),
        chunk: BytesMut::new(),
    });
}

/// An id in AWS's style: base64 text, held inline.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RequestId([u8; TEXT_LEN]);

impl RequestId {
    pub fn new() -> Self {
        let random: [u8; RANDOM_BYTES] = IDS.with_borrow_mut(|ids| ids.rng.random());
        let mut text = [0u8; TEXT_LEN];
        // 12 bytes always encode to exactly 16 characters.
        let _ = STANDARD.encode_slice(random, &mut text);
        RequestId(text)
    }

    pub fn as_str(&self) -> &str {
        // Base64's alphabet is ASCII.
        std::str::from_utf8(&self.0).unwrap_or("-")
    }

    /// The id as a header value, sharing this thread's current chunk.
    pub fn header_value(&self) -> HeaderValue {
        let bytes = IDS.with_borrow_mut(|ids| {
            if ids.chunk.capacity() - ids.chunk.len() < TEXT_LEN {
                ids.chunk = BytesMut::with_capacity(CHUNK_BYTES);
            }
            ids.chunk.extend_from_slice(&self.0);
            ids.chunk.split_to(TEXT_LEN).freeze()
        });
        HeaderValue::from_maybe_shared(bytes).unwrap_or_else(|_| HeaderValue::from_static("-"))
    }
}

impl Default for RequestId {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn ids_are_base64_header_values_and_do_not_repeat() {
        let ids: HashSet<String> = (0..10_000)
            .map(|_| RequestId::new().as_str().to_string())
            .collect();
        assert_eq!(ids.len(), 10_000);
        for id in ids.iter().take(100) {
            assert_eq!(id.len(), TEXT_LEN);
            assert!(STANDARD.decode(id).is_ok(), "{id}");
        }
        // Header values cut from one chunk and across chunks keep their own ids.
        let made: Vec<(RequestId, HeaderValue)> = (0..600)
            .map(|_| {
                let id = RequestId::new();
                (id, id.header_value())
            })
            .collect();
        for (id, value) in &made {
            assert_eq!(value.to_str().expect("ASCII"), id.as_str());
        }
    }
}
