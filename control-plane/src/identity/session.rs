//! Console sessions as signed tokens (HS256 under a key derived from the master key, so
//! every replica accepts every session). A token names its session row; logging out
//! revokes the row, so a stolen token dies with the session even before it expires.
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

use super::MasterKey;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClaims {
    /// The user name.
    pub sub: String,
    /// The session id (a row in `sessions`).
    pub sid: String,
    /// The CSRF token cookie-authenticated changes must echo in `X-CSRF-Token`.
    pub csrf: String,
    pub iat: i64,
    pub exp: i64,
}

#[derive(Clone)]
pub struct SessionKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl SessionKeys {
    pub fn new(master: &MasterKey) -> Self {
        let secret = master.derive("portico session tokens v1");
        SessionKeys {
            encoding: EncodingKey::from_secret(&secret),
            decoding: DecodingKey::from_secret(&secret),
        }
    }

    pub fn issue(&self, claims: &SessionClaims) -> String {
        encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .unwrap_or_else(|e| unreachable!("HS256 signing of our own claims: {e}"))
    }

    /// The claims of a token this control plane signed and that has not expired.
    pub fn verify(&self, token: &str) -> Option<SessionClaims> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        decode::<SessionClaims>(token, &self.decoding, &validation)
            .ok()
            .map(|d| d.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> SessionClaims {
        SessionClaims {
            sub: "admin".into(),
            sid: "s1".into(),
            csrf: "c1".into(),
            iat: 0,
            exp,
        }
    }

    #[test]
    fn verifies_only_its_own_unexpired_tokens() {
        let keys = SessionKeys::new(&MasterKey::generate());
        let later = chrono::Utc::now().timestamp() + 3600;
        let token = keys.issue(&claims(later));
        assert_eq!(keys.verify(&token), Some(claims(later)));
        assert!(keys.verify(&keys.issue(&claims(1))).is_none(), "expired");
        let other = SessionKeys::new(&MasterKey::generate());
        assert!(other.verify(&token).is_none(), "another master key");
        let mut tampered = token.clone();
        tampered.pop();
        assert!(keys.verify(&tampered).is_none());
    }
}
