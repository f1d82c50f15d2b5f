//! A JWT authorizer's checks, as AWS makes them ("Controlling access to HTTP APIs with
//! JWT authorizers",
//! https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html):
//! the `kid` names one of the issuer's keys, the signature verifies with it, `iss` is the
//! issuer, `aud` (or `client_id` when there is no `aud`) is one of the audiences, `exp` is
//! ahead, `nbf` and `iat` are behind; a route with scopes needs one of them in `scope` or
//! `scp`. RFC 8725's rules hold: the key decides the algorithm (never `none`, never HMAC
//! with a public key), `jku`/`x5u`/`jwk` headers are never followed, and clock skew is
//! bounded by [`JWT_LEEWAY_SECONDS`]. jsonwebtoken parses the header and the JWKs; ring
//! checks the signature (`runtime::jwks::VerificationKey`).
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::decode_header;
use serde_json::{Map, Value};

use crate::config::authorizers::{JWT_ALGORITHMS, JWT_LEEWAY_SECONDS, JwtAuthorizer};
use crate::proxy::context::Authorized;
use crate::proxy::error::ProxyError;
use crate::runtime::jwks::VerifiedToken;

fn unauthorized(why: &'static str) -> ProxyError {
    ProxyError::InvalidToken(why)
}

/// A NumericDate claim (RFC 7519 §2: seconds, maybe fractional); `None` when absent,
/// an error when it is there but not a number.
fn date(claims: &Map<String, Value>, name: &'static str) -> Result<Option<f64>, ProxyError> {
    match claims.get(name) {
        None => Ok(None),
        Some(v) => v
            .as_f64()
            .map(Some)
            .ok_or(unauthorized("a date claim is not a number")),
    }
}

/// The token's claims and scopes when it passes every check.
pub async fn verify(
    a: &JwtAuthorizer,
    route_scopes: &[String],
    source: Option<&str>,
) -> Result<Authorized, ProxyError> {
    let source = source.ok_or(unauthorized(""))?;
    // AWS takes the token with or without the "Bearer " scheme.
    let token = match source.get(..7) {
        Some(scheme) if scheme.eq_ignore_ascii_case("bearer ") => source[7..].trim_start(),
        _ => source,
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let not_after = now - JWT_LEEWAY_SECONDS as f64;
    let token = match a.keys.verified(token, not_after) {
        Some(seen) => seen,
        None => {
            let checked = Arc::new(check_token(a, token, now).await?);
            a.keys.remember(token, checked.clone(), not_after);
            checked
        }
    };
    let claims = &token.claims;
    let audience_ok = match claims.get("aud") {
        Some(Value::String(aud)) => a.audience.iter().any(|x| x == aud),
        Some(Value::Array(auds)) => auds
            .iter()
            .filter_map(Value::as_str)
            .any(|aud| a.audience.iter().any(|x| x == aud)),
        Some(_) => false,
        // AWS: client_id counts only when there is no aud.
        None => claims
            .get("client_id")
            .and_then(Value::as_str)
            .is_some_and(|id| a.audience.iter().any(|x| x == id)),
    };
    if !audience_ok {
        return Err(unauthorized("the token does not have a valid audience"));
    }
    if !route_scopes.is_empty() && !route_scopes.iter().any(|s| token.scopes.contains(s)) {
        return Err(ProxyError::Forbidden(
            "the token has none of the route's scopes",
        ));
    }
    Ok(Authorized::Jwt(token))
}

/// The signature and date checks, which hold for the token (without `Bearer `) whatever
/// route it is sent to; `now` in seconds since the epoch. What [`verify`] does for a
/// token it has not seen.
pub async fn check_token(
    a: &JwtAuthorizer,
    token: &str,
    now: f64,
) -> Result<VerifiedToken, ProxyError> {
    // A JWS in compact form: exactly three parts.
    let not_a_jwt = || unauthorized("the token is not a JWT");
    let (signed, signature) = token.rsplit_once('.').ok_or_else(not_a_jwt)?;
    let (_, payload) = signed.split_once('.').ok_or_else(not_a_jwt)?;
    if payload.contains('.') {
        return Err(not_a_jwt());
    }
    // `none` and any algorithm jsonwebtoken does not know fail here.
    let header = decode_header(token).map_err(|_| not_a_jwt())?;
    if !JWT_ALGORITHMS.contains(&header.alg) {
        return Err(unauthorized(
            "the token's algorithm is not an asymmetric one",
        ));
    }
    let kid = header
        .kid
        .as_deref()
        .ok_or(unauthorized("the token has no kid"))?;
    let key = a.keys.key(kid).await.ok_or(unauthorized(
        "the token's kid is not one of the issuer's keys",
    ))?;
    // The key decides: an RS256 key never verifies an HS256 or ES256 token.
    if key.algorithm != header.alg {
        return Err(unauthorized("the token's algorithm is not its key's"));
    }
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| not_a_jwt())?;
    if !key.verify(signed.as_bytes(), &signature) {
        return Err(unauthorized("the token has an invalid signature"));
    }
    let claims: Map<String, Value> = URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or_else(not_a_jwt)?;
    let leeway = JWT_LEEWAY_SECONDS as f64;
    if claims.get("iss").and_then(Value::as_str) != Some(a.issuer.as_str()) {
        return Err(unauthorized("the token does not have a valid issuer"));
    }
    let exp = match date(&claims, "exp")? {
        None => return Err(unauthorized("the token has no exp")),
        Some(exp) if exp < now - leeway => return Err(unauthorized("the token has expired")),
        Some(exp) => exp,
    };
    if date(&claims, "nbf")?.is_some_and(|nbf| nbf > now + leeway) {
        return Err(unauthorized("the token is not valid yet"));
    }
    if date(&claims, "iat")?.is_some_and(|iat| iat > now + leeway) {
        return Err(unauthorized("the token was issued in the future"));
    }
    let scopes = token_scopes(&claims);
    Ok(VerifiedToken::new(claims, scopes, exp, kid, key))
}

/// `scope` (space-separated, RFC 8693) or `scp` (a list, or a string like `scope`).
fn token_scopes(claims: &Map<String, Value>) -> Vec<String> {
    let words = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
    match claims.get("scope").or_else(|| claims.get("scp")) {
        Some(Value::String(s)) => words(s),
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect(),
        _ => Vec::new(),
    }
}

/// The JWT authorizer's rules as AWS states them ("Controlling access to HTTP APIs with
/// JWT authorizers",
/// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html)
/// and RFC 8725's ("JSON Web Token Best Current Practices"): the key named by `kid`
/// decides the algorithm, `none` and HMAC never verify, `jku`/`x5u`/`jwk` headers are
/// never followed, `iss`/`aud`/`client_id`/`exp`/`nbf`/`iat` hold within
/// [`JWT_LEEWAY_SECONDS`], and a route's scopes need one of them in `scope` or `scp`.
///
/// The keys under `testdata/` were made once for these tests (RSA private keys in PKCS#1
/// PEM, EC and Ed25519 in PKCS#8 PEM) and `jwks.json` holds their public halves.
#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Instant, SystemTime, UNIX_EPOCH};

    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use jsonwebtoken::jwk::JwkSet;
    use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
    use portico_model::IdentitySource;
    use serde_json::{Map, Value, json};

    use super::verify;
    use crate::config::authorizers::{JWT_LEEWAY_SECONDS, JwtAuthorizer};
    use crate::proxy::context::Authorized;
    use crate::proxy::error::ProxyError;
    use crate::runtime::jwks::{IssuerKeys, KeySet, REFETCH_WAIT};

    const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_portico";
    const AUDIENCE: &str = "app-client-1";
    const SECOND_AUDIENCE: &str = "app-client-2";

    const JWKS: &str = include_str!("testdata/jwks.json");
    const RSA_256: &str = include_str!("testdata/rsa-256.pem");
    const RSA_256_PUBLIC: &str = include_str!("testdata/rsa-256.pub.pem");
    const RSA_384: &str = include_str!("testdata/rsa-384.pem");
    const RSA_512: &str = include_str!("testdata/rsa-512.pem");
    const EC_P256: &str = include_str!("testdata/ec-p256.pem");
    const EC_P384: &str = include_str!("testdata/ec-p384.pem");
    const ED25519: &str = include_str!("testdata/ed25519.pem");

    /// The DER inside a PEM (the crate is built without jsonwebtoken's `use_pem`).
    fn der(pem: &str) -> Vec<u8> {
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        STANDARD.decode(body).expect("PEM body")
    }

    /// The private key and the `kid` of its public half in `jwks.json`, by algorithm.
    fn signing_key(alg: Algorithm) -> (EncodingKey, &'static str) {
        match alg {
            Algorithm::RS256 => (EncodingKey::from_rsa_der(&der(RSA_256)), "rsa-256"),
            Algorithm::RS384 => (EncodingKey::from_rsa_der(&der(RSA_384)), "rsa-384"),
            Algorithm::RS512 => (EncodingKey::from_rsa_der(&der(RSA_512)), "rsa-512"),
            Algorithm::ES256 => (EncodingKey::from_ec_der(&der(EC_P256)), "ec-p256"),
            Algorithm::ES384 => (EncodingKey::from_ec_der(&der(EC_P384)), "ec-p384"),
            Algorithm::EdDSA => (EncodingKey::from_ed_der(&der(ED25519)), "ed25519"),
            other => panic!("no test key for {other:?}"),
        }
    }

    fn jwks() -> JwkSet {
        serde_json::from_str(JWKS).expect("jwks.json")
    }

    fn authorizer() -> JwtAuthorizer {
        let keys = KeySet::from_jwks(&jwks());
        assert_eq!(keys.len(), 6, "every test key is a usable verification key");
        authorizer_with(IssuerKeys::with_keys(ISSUER, keys))
    }

    fn authorizer_with(keys: Arc<IssuerKeys>) -> JwtAuthorizer {
        JwtAuthorizer {
            authorizer_id: "jwt-auth".into(),
            source: IdentitySource::Header("authorization".into()),
            issuer: ISSUER.into(),
            audience: [AUDIENCE.to_string(), SECOND_AUDIENCE.to_string()].into(),
            keys,
        }
    }

    fn now() -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_secs() as i64
    }

    const LEEWAY: i64 = JWT_LEEWAY_SECONDS as i64;

    /// A token's claims that pass every check, changed by `changes` (a `null` removes).
    fn claims(changes: Value) -> Value {
        let now = now();
        let mut claims = json!({
            "sub": "user-1",
            "iss": ISSUER,
            "aud": AUDIENCE,
            "exp": now + 300,
            "nbf": now - 5,
            "iat": now - 5,
            "scope": "notes/read other",
        });
        let map = claims.as_object_mut().expect("object");
        for (name, value) in changes.as_object().expect("changes are an object") {
            if value.is_null() {
                map.remove(name);
            } else {
                map.insert(name.clone(), value.clone());
            }
        }
        claims
    }

    fn header(alg: Algorithm, kid: &str) -> Header {
        let mut header = Header::new(alg);
        header.kid = Some(kid.into());
        header
    }

    /// Signed with `alg`'s test key, under that key's `kid`.
    fn token(alg: Algorithm, claims: &Value) -> String {
        let (key, kid) = signing_key(alg);
        encode(&header(alg, kid), claims, &key).expect("sign")
    }

    fn b64(json: &Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(json).expect("json"))
    }

    async fn check(route_scopes: &[&str], source: Option<&str>) -> Result<Authorized, ProxyError> {
        let scopes: Vec<String> = route_scopes.iter().map(|s| s.to_string()).collect();
        verify(&authorizer(), &scopes, source).await
    }

    #[track_caller]
    fn passes(result: Result<Authorized, ProxyError>) -> (Map<String, Value>, Vec<String>) {
        match result {
            Ok(Authorized::Jwt(token)) => (token.claims.clone(), token.scopes.clone()),
            other => panic!("expected the token to pass, got {other:?}"),
        }
    }

    #[track_caller]
    fn unauthorized(result: Result<Authorized, ProxyError>) {
        match result {
            Err(e @ ProxyError::InvalidToken(_)) => assert_eq!(e.spec().status, 401),
            other => panic!("expected 401 Unauthorized, got {other:?}"),
        }
    }

    #[track_caller]
    fn forbidden(result: Result<Authorized, ProxyError>) {
        match result {
            Err(e @ ProxyError::Forbidden(_)) => assert_eq!(e.spec().status, 403),
            other => panic!("expected 403 Forbidden, got {other:?}"),
        }
    }

    // Valid tokens.

    #[tokio::test]
    async fn valid_rs256_token_passes_with_its_claims_and_scopes() {
        let claims = claims(json!({}));
        let jwt = token(Algorithm::RS256, &claims);
        let (got, scopes) = passes(check(&[], Some(&jwt)).await);
        assert_eq!(Value::Object(got), claims);
        assert_eq!(scopes, ["notes/read", "other"]);
    }

    #[tokio::test]
    async fn valid_rs256_token_passes_with_the_bearer_scheme() {
        let jwt = token(Algorithm::RS256, &claims(json!({})));
        for source in [format!("Bearer {jwt}"), format!("bearer {jwt}")] {
            let (got, scopes) = passes(check(&[], Some(&source)).await);
            assert_eq!(got["sub"], "user-1");
            assert_eq!(scopes, ["notes/read", "other"]);
        }
    }

    #[tokio::test]
    async fn valid_rs384_token_passes() {
        let jwt = token(Algorithm::RS384, &claims(json!({})));
        passes(check(&[], Some(&jwt)).await);
    }

    #[tokio::test]
    async fn valid_rs512_token_passes() {
        let jwt = token(Algorithm::RS512, &claims(json!({})));
        passes(check(&[], Some(&jwt)).await);
    }

    #[tokio::test]
    async fn valid_es256_token_passes() {
        let jwt = token(Algorithm::ES256, &claims(json!({})));
        passes(check(&[], Some(&jwt)).await);
    }

    #[tokio::test]
    async fn valid_es384_token_passes() {
        let jwt = token(Algorithm::ES384, &claims(json!({})));
        passes(check(&[], Some(&jwt)).await);
    }

    #[tokio::test]
    async fn valid_eddsa_token_passes() {
        let jwt = token(Algorithm::EdDSA, &claims(json!({})));
        passes(check(&[], Some(&jwt)).await);
    }

    // Times: exp, nbf, iat, within the leeway.

    #[tokio::test]
    async fn expired_token_is_unauthorized() {
        let jwt = token(
            Algorithm::RS256,
            &claims(json!({"exp": now() - LEEWAY - 30})),
        );
        unauthorized(check(&[], Some(&jwt)).await);
    }

    #[tokio::test]
    async fn token_expired_within_the_leeway_passes() {
        let jwt = token(
            Algorithm::RS256,
            &claims(json!({"exp": now() - LEEWAY + 30})),
        );
        passes(check(&[], Some(&jwt)).await);
    }

    #[tokio::test]
    async fn token_without_exp_is_unauthorized() {
        let jwt = token(Algorithm::RS256, &claims(json!({"exp": null})));
        unauthorized(check(&[], Some(&jwt)).await);
    }

    #[tokio::test]
    async fn token_not_yet_valid_is_unauthorized() {
        let jwt = token(
            Algorithm::RS256,
            &claims(json!({"nbf": now() + LEEWAY + 30})),
        );
        unauthorized(check(&[], Some(&jwt)).await);
    }

    #[tokio::test]
    async fn token_valid_from_within_the_leeway_passes() {
        let jwt = token(
            Algorithm::RS256,
            &claims(json!({"nbf": now() + LEEWAY - 30})),
        );
        passes(check(&[], Some(&jwt)).await);
    }

    #[tokio::test]
    async fn token_issued_in_the_future_is_unauthorized() {
        let jwt = token(
            Algorithm::RS256,
            &claims(json!({"iat": now() + LEEWAY + 30})),
        );
        unauthorized(check(&[], Some(&jwt)).await);
    }

    #[tokio::test]
    async fn token_issued_ahead_within_the_leeway_passes() {
        let jwt = token(
            Algorithm::RS256,
            &claims(json!({"iat": now() + LEEWAY - 30})),
        );
        passes(check(&[], Some(&jwt)).await);
    }

    // Issuer.

    #[tokio::test]
    async fn wrong_issuer_is_unauthorized() {
        let jwt = token(
            Algorithm::RS256,
            &claims(json!({"iss": "https://other-issuer.example.com"})),
        );
        unauthorized(check(&[], Some(&jwt)).await);
    }

    #[tokio::test]
    async fn missing_issuer_is_unauthorized() {
        let jwt = token(Algorithm::RS256, &claims(json!({"iss": null})));
        unauthorized(check(&[], Some(&jwt)).await);
    }

    // Audience and client_id.

    #[tokio::test]
    async fn wrong_audience_is_unauthorized() {
        let jwt = token(Algorithm::RS256, &claims(json!({"aud": "someone-else"})));
        unauthorized(check(&[], Some(&jwt)).await);
    }

    #[tokio::test]
    async fn audience_list_with_one_accepted_audience_passes() {
        let jwt = token(
            Algorithm::RS256,
            &claims(json!({"aud": ["someone-else", SECOND_AUDIENCE]})),
        );
        passes(check(&[], Some(&jwt)).await);
    }

    #[tokio::test]
    async fn matching_client_id_without_aud_passes() {
        let jwt = token(
            Algorithm::RS256,
            &claims(json!({"aud": null, "client_id": AUDIENCE})),
        );
        passes(check(&[], Some(&jwt)).await);
    }

    #[tokio::test]
    async fn other_client_id_without_aud_is_unauthorized() {
        let jwt = token(
            Algorithm::RS256,
            &claims(json!({"aud": null, "client_id": "someone-else"})),
        );
        unauthorized(check(&[], Some(&jwt)).await);
    }

    #[tokio::test]
    async fn no_aud_and_no_client_id_is_unauthorized() {
        let jwt = token(Algorithm::RS256, &claims(json!({"aud": null})));
        unauthorized(check(&[], Some(&jwt)).await);
    }

    #[tokio::test]
    async fn wrong_aud_is_unauthorized_even_with_a_matching_client_id() {
        // AWS: client_id is read only when the token has no aud.
        let jwt = token(
            Algorithm::RS256,
            &claims(json!({"aud": "someone-else", "client_id": AUDIENCE})),
        );
        unauthorized(check(&[], Some(&jwt)).await);
    }

    // Signatures.

    #[tokio::test]
    async fn signature_by_another_key_under_the_same_kid_is_unauthorized() {
        let (other_key, _) = signing_key(Algorithm::RS384);
        let jwt = encode(
            &header(Algorithm::RS256, "rsa-256"),
            &claims(json!({})),
            &other_key,
        )
        .expect("sign");
        unauthorized(check(&[], Some(&jwt)).await);
    }

    #[tokio::test]
    async fn tampered_payload_is_unauthorized() {
        let jwt = token(Algorithm::RS256, &claims(json!({})));
        let [head, _, signature] =
            <[&str; 3]>::try_from(jwt.split('.').collect::<Vec<_>>()).expect("three parts");
        let forged = claims(json!({"sub": "admin", "scope": "notes/read notes/admin"}));
        let tampered = format!("{head}.{}.{signature}", b64(&forged));
        passes(check(&[], Some(&jwt)).await);
        unauthorized(check(&[], Some(&tampered)).await);
    }

    #[tokio::test]
    async fn alg_none_token_is_unauthorized() {
        // RFC 8725 §2.1, §3.1: an unsecured JWT is never accepted.
        let claims = claims(json!({}));
        for alg in ["none", "None", "NONE"] {
            let head = b64(&json!({"alg": alg, "kid": "rsa-256", "typ": "JWT"}));
            let jwt = format!("{head}.{}.", b64(&claims));
            unauthorized(check(&[], Some(&jwt)).await);
        }
    }

    #[tokio::test]
    async fn hs256_token_keyed_with_the_rsa_public_key_is_unauthorized() {
        // RFC 8725 §2.1: the public key used as an HMAC secret (key confusion).
        let secret = EncodingKey::from_secret(RSA_256_PUBLIC.as_bytes());
        let jwt = encode(
            &header(Algorithm::HS256, "rsa-256"),
            &claims(json!({})),
            &secret,
        )
        .expect("sign");
        unauthorized(check(&[], Some(&jwt)).await);
    }

    #[tokio::test]
    async fn es256_token_under_the_rsa_key_kid_is_unauthorized() {
        // RFC 8725 §3.1: the key, not the header, decides the algorithm.
        let (ec_key, _) = signing_key(Algorithm::ES256);
        let jwt = encode(
            &header(Algorithm::ES256, "rsa-256"),
            &claims(json!({})),
            &ec_key,
        )
        .expect("sign");
        unauthorized(check(&[], Some(&jwt)).await);
    }

    #[tokio::test]
    async fn rs384_token_under_the_rs256_key_kid_is_unauthorized() {
        // Same key family, other algorithm: still not the key's algorithm.
        let (key, _) = signing_key(Algorithm::RS256);
        let jwt = encode(
            &header(Algorithm::RS384, "rsa-256"),
            &claims(json!({})),
            &key,
        )
        .expect("sign");
        unauthorized(check(&[], Some(&jwt)).await);
    }

    #[tokio::test]
    async fn unknown_kid_is_unauthorized() {
        let a = authorizer();
        let (key, _) = signing_key(Algorithm::RS256);
        let jwt = encode(
            &header(Algorithm::RS256, "rotated-away"),
            &claims(json!({})),
            &key,
        )
        .expect("sign");
        // The first unknown kid asks for a refetch; with no fetch task the wait runs out.
        unauthorized(verify(&a, &[], Some(&jwt)).await);
        // Within the refetch interval the next is refused at once.
        let started = Instant::now();
        unauthorized(verify(&a, &[], Some(&jwt)).await);
        assert!(started.elapsed() < REFETCH_WAIT);
    }

    #[tokio::test]
    async fn token_without_kid_is_unauthorized() {
        let (key, _) = signing_key(Algorithm::RS256);
        let jwt = encode(&Header::new(Algorithm::RS256), &claims(json!({})), &key).expect("sign");
        unauthorized(check(&[], Some(&jwt)).await);
    }

    #[tokio::test]
    async fn jku_and_x5u_headers_are_ignored() {
        // RFC 8725 §3.10: key URLs in the header are not followed (there is no fetcher
        // here to follow them); the issuer's own key still verifies the token.
        let (key, kid) = signing_key(Algorithm::RS256);
        let mut header = header(Algorithm::RS256, kid);
        header.jku = Some("https://attacker.example/jwks.json".into());
        header.x5u = Some("https://attacker.example/cert.pem".into());
        let jwt = encode(&header, &claims(json!({})), &key).expect("sign");
        passes(check(&[], Some(&jwt)).await);
    }

    #[tokio::test]
    async fn embedded_jwk_header_is_not_trusted() {
        // Signed by a key the token itself carries, under the issuer key's kid.
        let (attacker_key, _) = signing_key(Algorithm::RS384);
        let mut attacker_jwk = jwks()
            .find("rsa-384")
            .expect("rsa-384 in jwks.json")
            .clone();
        attacker_jwk.common.key_id = Some("rsa-256".into());
        attacker_jwk.common.key_algorithm = Some(jsonwebtoken::jwk::KeyAlgorithm::RS256);
        let mut header = header(Algorithm::RS256, "rsa-256");
        header.jwk = Some(attacker_jwk);
        let jwt = encode(&header, &claims(json!({})), &attacker_key).expect("sign");
        unauthorized(check(&[], Some(&jwt)).await);
    }

    // No token, not a token.

    #[tokio::test]
    async fn no_token_is_unauthorized() {
        unauthorized(check(&[], None).await);
    }

    #[tokio::test]
    async fn garbage_token_is_unauthorized() {
        for garbage in [
            "",
            "Bearer ",
            "Bearer",
            "not-a-jwt",
            "a.b.c",
            "...",
            "Basic dXNlcjpwYXNz",
        ] {
            unauthorized(check(&[], Some(garbage)).await);
        }
    }

    // Route scopes.

    #[tokio::test]
    async fn scope_claim_grants_a_route_scope() {
        let jwt = token(
            Algorithm::RS256,
            &claims(json!({"scope": "notes/read other"})),
        );
        let (_, scopes) = passes(check(&["notes/read"], Some(&jwt)).await);
        assert_eq!(scopes, ["notes/read", "other"]);
    }

    #[tokio::test]
    async fn scp_claim_grants_a_route_scope() {
        let jwt = token(
            Algorithm::RS256,
            &claims(json!({"scope": null, "scp": ["notes/write"]})),
        );
        let (_, scopes) = passes(check(&["notes/write"], Some(&jwt)).await);
        assert_eq!(scopes, ["notes/write"]);
    }

    #[tokio::test]
    async fn token_without_the_routes_scopes_is_forbidden() {
        let jwt = token(
            Algorithm::RS256,
            &claims(json!({"scope": "notes/read other"})),
        );
        forbidden(check(&["notes/write", "notes/admin"], Some(&jwt)).await);
        let unscoped = token(Algorithm::RS256, &claims(json!({"scope": null})));
        forbidden(check(&["notes/read"], Some(&unscoped)).await);
    }

    #[tokio::test]
    async fn route_scope_must_match_a_whole_scope() {
        let jwt = token(
            Algorithm::RS256,
            &claims(json!({"scope": "notes/read-only notes"})),
        );
        forbidden(check(&["notes/read"], Some(&jwt)).await);
    }

    #[tokio::test]
    async fn route_without_scopes_ignores_the_tokens_scopes() {
        for changes in [
            json!({"scope": null}),
            json!({"scope": "unrelated"}),
            json!({"scope": null, "scp": ["x", "y"]}),
        ] {
            let jwt = token(Algorithm::RS256, &claims(changes));
            passes(check(&[], Some(&jwt)).await);
        }
    }

    /// A token seen before is taken from the issuer's cache of verified tokens, with
    /// its audience and the route's scopes still checked, and only while its key is the
    /// issuer's: a rotation that drops the key drops the token too.
    #[tokio::test]
    async fn verified_tokens_are_cached_until_their_key_goes() {
        let a = authorizer();
        let jwt = token(Algorithm::RS256, &claims(json!({"scope": "notes/read"})));
        let first = verify(&a, &[], Some(&jwt)).await;
        let second = verify(&a, &[], Some(&jwt)).await;
        match (first, second) {
            (Ok(Authorized::Jwt(one)), Ok(Authorized::Jwt(two))) => {
                assert!(Arc::ptr_eq(&one, &two), "the second check is a cache hit")
            }
            other => panic!("{other:?}"),
        }
        let scoped = verify(&a, &["notes/write".to_string()], Some(&jwt)).await;
        assert!(matches!(scoped, Err(ProxyError::Forbidden(_))));
        let other = JwtAuthorizer {
            audience: ["someone-else".to_string()].into(),
            ..authorizer_with(a.keys.clone())
        };
        unauthorized(verify(&other, &[], Some(&jwt)).await);
        a.keys.install(KeySet::default());
        unauthorized(verify(&a, &[], Some(&jwt)).await);
    }
}
