//! SigV4 as the admin API and the nodes' IAM authorizer read it: the `Authorization`
//! header, then the canonical request built from the rest of what the client sent and
//! the signature checked with a known secret.
//!
//! Input: the `Authorization` header on the first line, then the method, the raw path
//! and the raw query (`-` for none) on one line each, then `name: value` header lines, a
//! blank line and the body.
#![no_main]

use chrono::{DateTime, Utc};
use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;
use portico_sigv4::{SigV4Authorization, SignedRequest, date_key, verify, verify_with_date_key};

/// AWS's SigV4 test suite signs at 2015-08-30T12:36:00Z with this secret.
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_440_938_160, 0).unwrap_or_default()
}

fuzz_target!(|input: &str| {
    let (head, body) = input.split_once("\n\n").unwrap_or((input, ""));
    let mut lines = head.split('\n');
    let header = lines.next().unwrap_or_default();
    let Ok(auth) = SigV4Authorization::parse(header) else {
        return;
    };
    let _ = auth.scope();
    let method = lines.next().unwrap_or("GET");
    let raw_path = lines.next().unwrap_or("/");
    let raw_query = lines.next().filter(|q| *q != "-");
    let mut headers = HeaderMap::new();
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.trim().as_bytes()),
            HeaderValue::from_str(value.trim_start()),
        ) {
            headers.append(name, value);
        }
    }
    let request = SignedRequest {
        method,
        raw_path,
        raw_query,
        headers: &headers,
        body: body.as_bytes(),
    };
    let with_secret = verify(&auth, &request, &auth.service, SECRET, now());
    let with_date_key = verify_with_date_key(
        &auth,
        &request,
        &auth.service,
        &date_key(SECRET, &auth.date),
        now(),
    );
    assert_eq!(with_secret, with_date_key);
});
