//! What one JWT authorizer check costs a request once the issuer's keys are cached: the
//! authorize phase's `jwt::verify` on a good token (the `Bearer ` scheme stripped, the
//! header decoded, the key found by `kid`, the signature verified, `iss`, `exp`, `nbf`,
//! `iat` and `aud` checked, the claims parsed), for RS256 (a 2048-bit key), ES256 and
//! EdDSA. Run with `cargo bench -p portico-data-plane --bench jwt_verify`; `bench/run`
//! reports it next to its policies row, whose API verifies an RS256 token per request.
//!
//! The keys are the authorize phase's test fixtures (`src/proxy/phases/authorize/testdata/`:
//! RSA private keys in PKCS#1 PEM, EC and Ed25519 in PKCS#8 PEM, their public halves in
//! `jwks.json`), so the bench verifies with the same kind of key set a node fetches.
use std::hint::black_box;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use portico_data_plane::config::authorizers::JwtAuthorizer;
use portico_data_plane::proxy::context::Authorized;
use portico_data_plane::proxy::phases::authorize::jwt::{check_token, verify};
use portico_data_plane::runtime::jwks::{IssuerKeys, KeySet};
use portico_model::IdentitySource;
use serde_json::json;

const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_portico";
const AUDIENCE: &str = "bench";

const JWKS: &str = include_str!("../src/proxy/phases/authorize/testdata/jwks.json");
const RSA_256: &str = include_str!("../src/proxy/phases/authorize/testdata/rsa-256.pem");
const EC_P256: &str = include_str!("../src/proxy/phases/authorize/testdata/ec-p256.pem");
const ED25519: &str = include_str!("../src/proxy/phases/authorize/testdata/ed25519.pem");

/// The DER inside a PEM (the crate is built without jsonwebtoken's `use_pem`).
fn der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body).expect("PEM body")
}

fn authorizer() -> JwtAuthorizer {
    let jwks: JwkSet = serde_json::from_str(JWKS).expect("jwks.json");
    JwtAuthorizer {
        authorizer_id: "bench-jwt".into(),
        source: IdentitySource::Header("authorization".into()),
        issuer: ISSUER.into(),
        audience: [AUDIENCE.to_string()].into(),
        keys: IssuerKeys::with_keys(ISSUER, KeySet::from_jwks(&jwks)),
    }
}

/// `Authorization: Bearer …` as a client sends it: a token signed with `alg`'s fixture
/// key under its `kid`, with the claims an issuer such as Cognito puts in an access token.
fn bearer(alg: Algorithm) -> String {
    let (key, kid) = match alg {
        Algorithm::RS256 => (EncodingKey::from_rsa_der(&der(RSA_256)), "rsa-256"),
        Algorithm::ES256 => (EncodingKey::from_ec_der(&der(EC_P256)), "ec-p256"),
        Algorithm::EdDSA => (EncodingKey::from_ed_der(&der(ED25519)), "ed25519"),
        other => panic!("no bench key for {other:?}"),
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    let claims = json!({
        "sub": "user-1",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + 86_400,
        "scope": "openid profile",
    });
    let mut header = Header::new(alg);
    header.kid = Some(kid.into());
    format!("Bearer {}", encode(&header, &claims, &key).expect("sign"))
}

fn verification(c: &mut Criterion) {
    let authorizer = authorizer();
    // The keys are in the set, so `verify` never waits: a current-thread runtime with
    // no I/O or timers only drives it to its end.
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("jwt_verify");
    for (name, alg) in [
        ("RS256", Algorithm::RS256),
        ("ES256", Algorithm::ES256),
        ("EdDSA", Algorithm::EdDSA),
    ] {
        let source = bearer(alg);
        // The bench measures a verification that passes, not an early refusal.
        match rt.block_on(verify(&authorizer, &[], Some(&source))) {
            Ok(Authorized::Jwt(_)) => {}
            other => panic!("the {name} token does not verify: {other:?}"),
        }
        // A token the node has not seen: the signature and the claims checked.
        let token = source.trim_start_matches("Bearer ");
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_secs_f64();
        group.bench_function(name, |b| {
            b.iter(|| rt.block_on(check_token(black_box(&authorizer), black_box(token), now)))
        });
        // The same token again, as every later request of a client's session: found in
        // the issuer's cache of verified tokens, its audience checked.
        group.bench_function(format!("{name}-seen"), |b| {
            b.iter(|| {
                rt.block_on(verify(
                    black_box(&authorizer),
                    &[],
                    Some(black_box(source.as_str())),
                ))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, verification);
criterion_main!(benches);
