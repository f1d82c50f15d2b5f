//! The JWT authorizer's token checks, as a client's `Authorization` header reaches them,
//! against a fixed key set (the authorize phase's test keys).
//!
//! Input: the header's value; or `signed` on the first line, then a JOSE header and
//! claims on one line each, which are signed with the Ed25519 test key so that the
//! checks behind the signature (claims, dates, audience, scopes) see fuzzed JSON too.
#![no_main]

use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::jwk::JwkSet;
use libfuzzer_sys::fuzz_target;
use portico_data_plane::config::authorizers::JwtAuthorizer;
use portico_data_plane::proxy::phases::authorize::jwt::verify;
use portico_data_plane::runtime::jwks::{IssuerKeys, KeySet};
use portico_model::IdentitySource;
use ring::signature::Ed25519KeyPair;

const ISSUER: &str = "https://issuer.example.com";
const JWKS: &str = include_str!("../../data-plane/src/proxy/phases/authorize/testdata/jwks.json");
const ED25519: &str =
    include_str!("../../data-plane/src/proxy/phases/authorize/testdata/ed25519.pem");

struct Fixture {
    authorizer: JwtAuthorizer,
    signer: Ed25519KeyPair,
    runtime: tokio::runtime::Runtime,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let jwks: JwkSet = serde_json::from_str(JWKS).expect("jwks.json");
        let pem: String = ED25519
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        let der = STANDARD.decode(pem).expect("PEM body");
        Fixture {
            authorizer: JwtAuthorizer {
                authorizer_id: "fuzz".into(),
                source: IdentitySource::Header("authorization".into()),
                issuer: ISSUER.into(),
                audience: ["app".to_string()].into(),
                keys: IssuerKeys::with_keys(ISSUER, KeySet::from_jwks(&jwks)),
            },
            signer: Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der).expect("Ed25519 key"),
            // A kid the set lacks waits for a refetch that never comes: on a paused
            // clock that wait takes no time.
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .start_paused(true)
                .build()
                .expect("runtime"),
        }
    })
}

fuzz_target!(|input: &str| {
    let f = fixture();
    let token = match input.strip_prefix("signed\n") {
        Some(rest) => {
            let (header, claims) = rest.split_once('\n').unwrap_or((rest, ""));
            let signed = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(header),
                URL_SAFE_NO_PAD.encode(claims)
            );
            let signature = f.signer.sign(signed.as_bytes());
            format!("Bearer {signed}.{}", URL_SAFE_NO_PAD.encode(signature))
        }
        None => input.to_string(),
    };
    let scopes = ["read".to_string()];
    for route_scopes in [&[][..], &scopes[..]] {
        let _ = f
            .runtime
            .block_on(verify(&f.authorizer, route_scopes, Some(&token)));
    }
});
