//! Each JWT issuer's signing keys, fetched ahead of the requests that need them.
//!
//! A compile asks the registry for an issuer's [`IssuerKeys`]; the first asker starts a
//! background task that reads the issuer's OIDC discovery document
//! (`{issuer}/.well-known/openid-configuration` → `jwks_uri`), then the key set, and
//! keeps it fresh. Requests only read the current key set (one atomic load). A token
//! whose `kid` is not in it may ask for one refetch, at most once per
//! [`REFETCH_MIN_INTERVAL`] per issuer, and waits a bounded time for it: that is how a
//! rotated key is picked up without a redeploy. When the issuer is down the keys it gave
//! last keep working.
//!
//! Keys are held by the configs that use them; the registry and the task hold them
//! weakly, so an issuer no config names any more stops being fetched.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use foldhash::HashMap;
use http::{Request, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full, Limited};
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm};
use ring::signature::{self as sig, RsaPublicKeyComponents, UnparsedPublicKey};
use serde::Deserialize;
use tokio::sync::{Notify, watch};

use crate::upstream::pool::UpstreamPool;

/// How often a key set is read again when nothing asks sooner (AWS caches for 2 hours).
pub const REFRESH_EVERY: Duration = Duration::from_secs(60 * 60);
/// After a failed fetch, the next try comes this soon (then doubles up to the refresh).
const RETRY_FIRST: Duration = Duration::from_secs(1);
/// An unknown `kid` asks for a refetch at most this often per issuer, so a stream of
/// tokens with made-up `kid`s cannot turn the node into a load on the issuer.
pub const REFETCH_MIN_INTERVAL: Duration = Duration::from_secs(10);
/// How long a request with an unknown `kid` waits for the refetch it asked for.
pub const REFETCH_WAIT: Duration = Duration::from_secs(3);
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Discovery documents and key sets are small; anything larger is refused.
const MAX_DOCUMENT_BYTES: usize = 512 * 1024;

/// One verification key, with the one algorithm it may be used with (RFC 8725 §3.1: the
/// key, not the token, decides the algorithm). Signatures are checked with ring, the
/// crypto the node's TLS already uses: an RS256 verification takes tens of microseconds
/// there against hundreds with jsonwebtoken's pure-Rust RSA.
pub struct VerificationKey {
    pub algorithm: Algorithm,
    key: PublicKey,
}

enum PublicKey {
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
    /// An uncompressed EC point (`04 || x || y`).
    Ec(Vec<u8>),
    Ed25519(Vec<u8>),
}

impl VerificationKey {
    /// Whether `signature` (a JWS signature, already base64url-decoded) signs `message`
    /// (`header.payload`) under this key's algorithm. ring refuses RSA keys under 2048 bits.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let rsa = |params: &'static sig::RsaParameters, n: &[u8], e: &[u8]| {
            RsaPublicKeyComponents { n, e }
                .verify(params, message, signature)
                .is_ok()
        };
        match (&self.key, self.algorithm) {
            (PublicKey::Rsa { n, e }, Algorithm::RS256) => {
                rsa(&sig::RSA_PKCS1_2048_8192_SHA256, n, e)
            }
            (PublicKey::Rsa { n, e }, Algorithm::RS384) => {
                rsa(&sig::RSA_PKCS1_2048_8192_SHA384, n, e)
            }
            (PublicKey::Rsa { n, e }, Algorithm::RS512) => {
                rsa(&sig::RSA_PKCS1_2048_8192_SHA512, n, e)
            }
            (PublicKey::Rsa { n, e }, Algorithm::PS256) => {
                rsa(&sig::RSA_PSS_2048_8192_SHA256, n, e)
            }
            (PublicKey::Rsa { n, e }, Algorithm::PS384) => {
                rsa(&sig::RSA_PSS_2048_8192_SHA384, n, e)
            }
            (PublicKey::Rsa { n, e }, Algorithm::PS512) => {
                rsa(&sig::RSA_PSS_2048_8192_SHA512, n, e)
            }
            (PublicKey::Ec(point), Algorithm::ES256) => {
                UnparsedPublicKey::new(&sig::ECDSA_P256_SHA256_FIXED, point)
                    .verify(message, signature)
                    .is_ok()
            }
            (PublicKey::Ec(point), Algorithm::ES384) => {
                UnparsedPublicKey::new(&sig::ECDSA_P384_SHA384_FIXED, point)
                    .verify(message, signature)
                    .is_ok()
            }
            (PublicKey::Ed25519(x), Algorithm::EdDSA) => UnparsedPublicKey::new(&sig::ED25519, x)
                .verify(message, signature)
                .is_ok(),
            _ => false,
        }
    }
}

/// A JWK's base64url field; padded values are taken too.
fn b64(field: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(field.trim_end_matches('=')).ok()
}

impl std::fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VerificationKey({:?})", self.algorithm)
    }
}

/// An issuer's keys by `kid`.
#[derive(Debug, Default)]
pub struct KeySet {
    keys: HashMap<String, Arc<VerificationKey>>,
}

impl KeySet {
    pub fn get(&self, kid: &str) -> Option<&Arc<VerificationKey>> {
        self.keys.get(kid)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The usable signing keys of a JWK set. Keys without a `kid`, keys for encryption,
    /// and keys whose algorithm is symmetric or unknown are left out: a JWT authorizer
    /// verifies with public keys only.
    pub fn from_jwks(set: &JwkSet) -> KeySet {
        let mut keys = HashMap::default();
        for jwk in &set.keys {
            let Some(kid) = jwk.common.key_id.clone() else {
                continue;
            };
            if let Some(key) = verification_key(jwk) {
                keys.insert(kid, Arc::new(key));
            }
        }
        KeySet { keys }
    }
}

fn verification_key(jwk: &Jwk) -> Option<VerificationKey> {
    use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, PublicKeyUse};
    if matches!(
        jwk.common.public_key_use,
        Some(PublicKeyUse::Encryption | PublicKeyUse::Other(_))
    ) {
        return None;
    }
    let declared = match jwk.common.key_algorithm {
        None => None,
        Some(KeyAlgorithm::RS256) => Some(Algorithm::RS256),
        Some(KeyAlgorithm::RS384) => Some(Algorithm::RS384),
        Some(KeyAlgorithm::RS512) => Some(Algorithm::RS512),
        Some(KeyAlgorithm::PS256) => Some(Algorithm::PS256),
        Some(KeyAlgorithm::PS384) => Some(Algorithm::PS384),
        Some(KeyAlgorithm::PS512) => Some(Algorithm::PS512),
        Some(KeyAlgorithm::ES256) => Some(Algorithm::ES256),
        Some(KeyAlgorithm::ES384) => Some(Algorithm::ES384),
        Some(KeyAlgorithm::EdDSA) => Some(Algorithm::EdDSA),
        // HS*, encryption algorithms, anything else: never a verification key here.
        Some(_) => return None,
    };
    let (algorithm, key) = match (&jwk.algorithm, declared) {
        (AlgorithmParameters::RSA(rsa), declared) => {
            // Without `alg`, an RSA key is taken for RS256, the algorithm OIDC requires.
            let algorithm = match declared {
                Some(a) if is_rsa(a) => a,
                None => Algorithm::RS256,
                Some(_) => return None,
            };
            let key = PublicKey::Rsa {
                n: b64(&rsa.n)?,
                e: b64(&rsa.e)?,
            };
            (algorithm, key)
        }
        (AlgorithmParameters::EllipticCurve(ec), declared) => {
            let (by_curve, len) = match ec.curve {
                EllipticCurve::P256 => (Algorithm::ES256, 32),
                EllipticCurve::P384 => (Algorithm::ES384, 48),
                _ => return None,
            };
            if declared.is_some_and(|d| d != by_curve) {
                return None;
            }
            let (x, y) = (b64(&ec.x)?, b64(&ec.y)?);
            if x.len() != len || y.len() != len {
                return None;
            }
            let mut point = Vec::with_capacity(1 + 2 * len);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            (by_curve, PublicKey::Ec(point))
        }
        (AlgorithmParameters::OctetKeyPair(okp), declared) => {
            if okp.curve != EllipticCurve::Ed25519
                || declared.is_some_and(|d| d != Algorithm::EdDSA)
            {
                return None;
            }
            let x = b64(&okp.x)?;
            if x.len() != 32 {
                return None;
            }
            (Algorithm::EdDSA, PublicKey::Ed25519(x))
        }
        _ => return None,
    };
    Some(VerificationKey { algorithm, key })
}

fn is_rsa(a: Algorithm) -> bool {
    matches!(
        a,
        Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512
    )
}

/// Tokens of one issuer whose signature and dates have been checked, by the token's text,
/// so that a client that sends the same token again (every request of its session) costs
/// a hash lookup rather than a signature check. An entry counts only while its key is
/// still the issuer's key for its `kid` and its `exp` is ahead; the audience and scopes,
/// which depend on the authorizer and the route, are checked at every request.
const MAX_VERIFIED: usize = 10_000;

/// A token that passed the signature and date checks.
#[derive(Debug)]
pub struct VerifiedToken {
    pub claims: serde_json::Map<String, serde_json::Value>,
    pub scopes: Vec<String>,
    /// `exp`, in seconds since the epoch.
    pub exp: f64,
    kid: Box<str>,
    key: Arc<VerificationKey>,
}

impl VerifiedToken {
    pub fn new(
        claims: serde_json::Map<String, serde_json::Value>,
        scopes: Vec<String>,
        exp: f64,
        kid: &str,
        key: Arc<VerificationKey>,
    ) -> Self {
        VerifiedToken {
            claims,
            scopes,
            exp,
            kid: kid.into(),
            key,
        }
    }
}

/// One issuer's keys as this node has them, shared by every config that names it.
#[derive(Debug)]
pub struct IssuerKeys {
    pub issuer: Box<str>,
    keys: ArcSwap<KeySet>,
    verified: Mutex<HashMap<Box<str>, Arc<VerifiedToken>>>,
    /// Bumped after every fetch attempt, so a waiting request sees it finish.
    fetched: watch::Sender<u64>,
    /// Wakes the task for an early refetch; shared with the task, which waits on it
    /// without holding the keys.
    refetch: Arc<Notify>,
    /// When an early refetch was last asked for, in ms since `epoch`; 0 never.
    last_refetch: AtomicU64,
    epoch: Instant,
}

impl IssuerKeys {
    fn new(issuer: &str) -> Self {
        IssuerKeys {
            issuer: issuer.into(),
            keys: ArcSwap::from_pointee(KeySet::default()),
            verified: Mutex::default(),
            fetched: watch::channel(0).0,
            refetch: Arc::new(Notify::new()),
            last_refetch: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }

    /// An issuer's keys as given, with no fetch task behind them (tests, benches).
    pub fn with_keys(issuer: &str, keys: KeySet) -> Arc<Self> {
        let this = IssuerKeys::new(issuer);
        this.install(keys);
        Arc::new(this)
    }

    /// `token` as verified before, if its key is still the issuer's and it has not
    /// expired (`not_after` is now less the clock-skew leeway).
    pub fn verified(&self, token: &str, not_after: f64) -> Option<Arc<VerifiedToken>> {
        let found = self
            .verified
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(token)
            .cloned()?;
        let key_current = self
            .keys
            .load()
            .get(&found.kid)
            .is_some_and(|k| Arc::ptr_eq(k, &found.key));
        (key_current && found.exp >= not_after).then_some(found)
    }

    /// Remembers a token that passed the signature and date checks.
    pub fn remember(&self, token: &str, verified: Arc<VerifiedToken>, not_after: f64) {
        let mut cache = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= MAX_VERIFIED {
            cache.retain(|_, t| t.exp >= not_after);
            if cache.len() >= MAX_VERIFIED {
                cache.clear();
            }
        }
        cache.insert(token.into(), verified);
    }

    /// The key set as last fetched.
    pub fn current(&self) -> Arc<KeySet> {
        self.keys.load_full()
    }

    /// The key for `kid`, refetching the key set once if it is not there and no refetch
    /// was asked for in the last [`REFETCH_MIN_INTERVAL`].
    pub async fn key(&self, kid: &str) -> Option<Arc<VerificationKey>> {
        if let Some(key) = self.keys.load().get(kid) {
            return Some(key.clone());
        }
        if !self.may_refetch() {
            return None;
        }
        let mut fetched = self.fetched.subscribe();
        fetched.mark_unchanged();
        self.refetch.notify_one();
        // A node without a background runtime (the control plane's check) never
        // fetches; the wait then just runs out.
        let _ = tokio::time::timeout(REFETCH_WAIT, fetched.changed()).await;
        self.keys.load().get(kid).cloned()
    }

    fn may_refetch(&self) -> bool {
        // +1 so that 0 keeps meaning "never".
        let now = self.epoch.elapsed().as_millis() as u64 + 1;
        let min = REFETCH_MIN_INTERVAL.as_millis() as u64;
        let last = self.last_refetch.load(Ordering::Relaxed);
        if last != 0 && now.saturating_sub(last) < min {
            return false;
        }
        self.last_refetch
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    }

    pub(crate) fn install(&self, keys: KeySet) {
        self.keys.store(Arc::new(keys));
    }
}

/// Every issuer's keys on this node, by issuer URL.
#[derive(Debug, Default)]
pub struct JwksRegistry {
    issuers: Mutex<HashMap<String, Weak<IssuerKeys>>>,
    /// Where fetch tasks run; `None` compiles (the control plane's check) fetch nothing.
    background: Option<tokio::runtime::Handle>,
}

impl JwksRegistry {
    pub fn with_background(handle: tokio::runtime::Handle) -> Self {
        JwksRegistry {
            issuers: Mutex::default(),
            background: Some(handle),
        }
    }

    /// The issuer's keys, starting their fetch task the first time an issuer is named.
    pub fn issuer(&self, issuer: &str) -> Arc<IssuerKeys> {
        let mut issuers = self.issuers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(keys) = issuers.get(issuer).and_then(Weak::upgrade) {
            return keys;
        }
        issuers.retain(|_, w| w.strong_count() > 0);
        let keys = Arc::new(IssuerKeys::new(issuer));
        issuers.insert(issuer.to_string(), Arc::downgrade(&keys));
        if let Some(handle) = &self.background {
            handle.spawn(keep_fresh(Arc::downgrade(&keys)));
        }
        keys
    }
}

#[derive(Debug, thiserror::Error)]
enum FetchError {
    #[error("bad URL {0:?} (an https issuer's keys must be at an https URL)")]
    Url(String),
    #[error("{0}")]
    Http(String),
    #[error("answered {0}")]
    Status(StatusCode),
    #[error("not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("timed out after {FETCH_TIMEOUT:?}")]
    Timeout,
    #[error("the discovery document's issuer {found:?} is not {expected:?}")]
    IssuerMismatch { found: String, expected: String },
    #[error("the key set holds no usable signing key")]
    NoKeys,
}

#[derive(Deserialize)]
struct Discovery {
    issuer: Option<String>,
    jwks_uri: String,
}

async fn get_json<T: serde::de::DeserializeOwned>(
    client: &UpstreamPool<Full<Bytes>>,
    url: &str,
) -> Result<T, FetchError> {
    let uri: Uri = url.parse().map_err(|_| FetchError::Url(url.into()))?;
    let host = uri
        .authority()
        .ok_or_else(|| FetchError::Url(url.into()))?
        .to_string();
    let request = Request::get(uri)
        .header(header::HOST, host)
        .header(header::ACCEPT, "application/json")
        .header(header::USER_AGENT, "portico-proxy")
        .body(Full::new(Bytes::new()))
        .map_err(|e| FetchError::Http(e.to_string()))?;
    let exchange = async {
        let response = client
            .send(request)
            .await
            .map_err(|e| FetchError::Http(crate::error_chain::ErrorChain(&e).to_string()))?;
        let status = response.status();
        let body = Limited::new(response.into_body(), MAX_DOCUMENT_BYTES)
            .collect()
            .await
            .map_err(|e| FetchError::Http(e.to_string()))?
            .to_bytes();
        if !status.is_success() {
            return Err(FetchError::Status(status));
        }
        Ok(serde_json::from_slice(&body)?)
    };
    tokio::time::timeout(FETCH_TIMEOUT, exchange)
        .await
        .map_err(|_| FetchError::Timeout)?
}

/// Discovery, then the key set.
async fn fetch(client: &UpstreamPool<Full<Bytes>>, issuer: &str) -> Result<KeySet, FetchError> {
    let discovery_url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let discovery: Discovery = get_json(client, &discovery_url).await?;
    // OIDC Discovery §4.3: the document must name the issuer it was fetched for.
    if let Some(found) = discovery.issuer
        && found.trim_end_matches('/') != issuer.trim_end_matches('/')
    {
        return Err(FetchError::IssuerMismatch {
            found,
            expected: issuer.into(),
        });
    }
    // Keys from an https issuer come over https too, whatever its document says.
    if issuer.starts_with("https://") && !discovery.jwks_uri.starts_with("https://") {
        return Err(FetchError::Url(discovery.jwks_uri));
    }
    let set: JwkSet = get_json(client, &discovery.jwks_uri).await?;
    let keys = KeySet::from_jwks(&set);
    if keys.is_empty() {
        return Err(FetchError::NoKeys);
    }
    Ok(keys)
}

/// Fetches an issuer's keys until no config holds them any more.
async fn keep_fresh(keys: Weak<IssuerKeys>) {
    let client = match UpstreamPool::<Full<Bytes>>::new() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the JWKS client");
            return;
        }
    };
    let mut retry = RETRY_FIRST;
    loop {
        let Some(issuer) = keys.upgrade() else {
            return;
        };
        let wait = match fetch(&client, &issuer.issuer).await {
            Ok(set) => {
                tracing::info!(issuer = %issuer.issuer, keys = set.len(), "fetched the issuer's signing keys");
                issuer.install(set);
                retry = RETRY_FIRST;
                REFRESH_EVERY
            }
            Err(e) => {
                let kept = issuer.current().len();
                tracing::warn!(issuer = %issuer.issuer, kept, "cannot fetch the issuer's signing keys: {e}");
                let wait = retry;
                retry = (retry * 2).min(REFRESH_EVERY);
                wait
            }
        };
        issuer.fetched.send_modify(|n| *n += 1);
        // Hold the keys only weakly while waiting, so a dropped issuer ends the task.
        let refetch = issuer.refetch.clone();
        let notified = refetch.notified();
        let weak = Arc::downgrade(&issuer);
        drop(issuer);
        tokio::select! {
            _ = notified => {}
            _ = tokio::time::sleep(wait) => {}
            _ = gone(weak) => return,
        }
    }
}

/// Resolves once nothing but the registry's weak pointers are left.
async fn gone(keys: Weak<IssuerKeys>) {
    loop {
        tokio::time::sleep(Duration::from_secs(30)).await;
        if keys.strong_count() == 0 {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(json: serde_json::Value) -> JwkSet {
        serde_json::from_value(json).expect("JWK set")
    }

    #[test]
    fn only_public_signing_keys_with_a_kid_are_kept() {
        let keys = KeySet::from_jwks(&set(serde_json::json!({"keys": [
            {"kty": "RSA", "kid": "rsa", "alg": "RS256", "use": "sig",
             "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw",
             "e": "AQAB"},
            {"kty": "RSA", "alg": "RS256", "n": "AQAB", "e": "AQAB"},
            {"kty": "oct", "kid": "hmac", "alg": "HS256", "k": "c2VjcmV0"},
            {"kty": "EC", "kid": "ec", "crv": "P-256",
             "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
             "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
            {"kty": "EC", "kid": "ec-mislabelled", "alg": "ES384", "crv": "P-256",
             "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
             "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
            {"kty": "OKP", "kid": "ed", "crv": "Ed25519",
             "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
        ]})));
        assert_eq!(keys.get("rsa").map(|k| k.algorithm), Some(Algorithm::RS256));
        assert_eq!(keys.get("ec").map(|k| k.algorithm), Some(Algorithm::ES256));
        assert_eq!(keys.get("ed").map(|k| k.algorithm), Some(Algorithm::EdDSA));
        assert!(
            keys.get("hmac").is_none(),
            "symmetric keys are never verification keys"
        );
        assert!(keys.get("ec-mislabelled").is_none());
        assert_eq!(keys.len(), 3);
    }

    #[tokio::test]
    async fn refetches_are_rate_limited() {
        let keys = IssuerKeys::new("https://issuer.example");
        assert!(keys.may_refetch());
        assert!(
            !keys.may_refetch(),
            "a second ask within the interval is refused"
        );
        // Within the interval an unknown kid is refused at once, without waiting.
        let started = Instant::now();
        assert!(keys.key("nope").await.is_none());
        assert!(started.elapsed() < REFETCH_WAIT);
    }
}
