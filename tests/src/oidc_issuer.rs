//! `e2e/oidc_issuer.py`, an OpenID Connect issuer on a free loopback port for the JWT
//! authorizer tests: discovery and a JWKS (RSA, EC and Ed25519 keys) a gateway fetches
//! like Cognito's, plus test-only routes to mint tokens (RFC 8725 attack tokens too),
//! rotate keys, take discovery and JWKS down, and count how often they were fetched.
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::lambda_functions::e2e_dir;
use crate::process::Proc;

pub struct OidcIssuer {
    pub proc: Proc,
    pub port: u16,
    /// `http://127.0.0.1:{port}{path}`, no trailing slash: the `iss` of minted tokens and
    /// the value a JWT authorizer's `issuer` is configured with.
    pub issuer: String,
}

impl OidcIssuer {
    /// Starts the issuer under `path` (`/us-east-1_TestPool` looks like a Cognito pool;
    /// `""` puts it at the root) and waits until it serves.
    pub fn start(path: &str) -> Self {
        let mut child = Command::new("python3")
            .arg(e2e_dir().join("oidc_issuer.py"))
            .args(["--port", "0", "--path", path])
            .current_dir(e2e_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 oidc_issuer.py (pip install 'PyJWT[crypto]' cryptography)");
        let stdout = child.stdout.take().expect("stdout");
        // It prints its port and issuer once it can serve, then nothing more; if it dies
        // first, the line is empty and the parse below says so.
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the OIDC issuer's first line");
        let ready: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("the OIDC issuer said {line:?}: {e}"));
        let port = ready["port"].as_u64().expect("port") as u16;
        let issuer = ready["issuer"].as_str().expect("issuer").to_string();
        OidcIssuer {
            proc: Proc::adopt("oidc_issuer.py", child),
            port,
            issuer,
        }
    }

    fn url(&self, route: &str) -> String {
        format!("http://127.0.0.1:{}{route}", self.port)
    }

    /// POSTs `body` to a test-only route and returns its JSON answer; anything but 200
    /// fails the test, since a fixture that misbehaves must not pass for the gateway.
    async fn post(&self, route: &str, body: Value) -> Value {
        let response = crate::http_client()
            .post(self.url(route))
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {route} to the OIDC issuer: {e}"));
        let status = response.status();
        let text = response.text().await.expect("the OIDC issuer's answer");
        assert!(status.is_success(), "POST {route} {body}: {status} {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("POST {route} said {text:?}: {e}"))
    }

    /// A token signed with the current key of `alg` (RS256, RS384, RS512, ES256, ES384,
    /// EdDSA, or an attack: none, HS256-with-rsa-public-key, RS256-untrusted, RS256-jku).
    /// `claims` are added to the defaults iss, iat, exp (an hour ahead) and sub.
    pub async fn mint(&self, alg: &str, claims: Value) -> String {
        self.mint_with(json!({"alg": alg, "claims": claims})).await
    }

    /// A token from a full `/_mint` body: `alg`, `claims`, and optionally `header` (extra
    /// header fields), `kid` (an override; null leaves kid out) and `omit` (default
    /// claims to leave out), for tokens a well-behaved issuer would not send.
    pub async fn mint_with(&self, body: Value) -> String {
        let answer = self.post("/_mint", body).await;
        answer["token"].as_str().expect("token").to_string()
    }

    /// Replaces the key of `alg` with a new one under a new kid, which it returns; the old
    /// key stays in the JWKS only when `keep_old`. Checks that a gateway refetches the
    /// JWKS for an unknown kid.
    pub async fn rotate(&self, alg: &str, keep_old: bool) -> String {
        let answer = self
            .post("/_rotate", json!({"alg": alg, "keep_old": keep_old}))
            .await;
        answer["kid"].as_str().expect("kid").to_string()
    }

    /// Discovery and JWKS answer 503 from now on (minting still works): an outage.
    pub async fn down(&self) {
        self.post("/_down", json!({})).await;
    }

    /// Ends the outage of [`OidcIssuer::down`].
    pub async fn up(&self) {
        self.post("/_up", json!({})).await;
    }

    /// How many GETs of (discovery, JWKS) it has served, 503s included: shows whether a
    /// gateway caches them or fetches on every request.
    pub async fn counts(&self) -> (u64, u64) {
        let counts: Value = crate::http_client()
            .get(self.url("/_counts"))
            .send()
            .await
            .expect("GET /_counts")
            .json()
            .await
            .expect("counts JSON");
        (
            counts["discovery"].as_u64().expect("discovery count"),
            counts["jwks"].as_u64().expect("jwks count"),
        )
    }

    /// Zeroes both counts.
    pub async fn reset_counts(&self) {
        self.post("/_counts/reset", json!({})).await;
    }
}
