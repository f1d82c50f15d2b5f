//! Portico's own admin resources under `/portico/…`: users, their access keys, console
//! sessions and the audit log.
use serde::{Deserialize, Serialize};

use crate::ValidationError;

pub const ROLE_ADMIN: &str = "admin";
pub const ROLE_EDITOR: &str = "editor";
pub const ROLE_VIEWER: &str = "viewer";
/// A service account: its access keys may call AWS_IAM routes, and nothing of the admin API.
pub const ROLE_INVOKER: &str = "invoker";
pub const ROLES: [&str; 4] = [ROLE_ADMIN, ROLE_EDITOR, ROLE_VIEWER, ROLE_INVOKER];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub user_name: String,
    pub role: String,
    pub disabled: bool,
    /// Whether the user can log in to the console (has a password).
    pub has_password: bool,
    pub created_date: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateUser {
    pub user_name: String,
    pub role: String,
    pub password: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateUser {
    pub role: Option<String>,
    pub disabled: Option<bool>,
    pub password: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessKey {
    pub access_key_id: String,
    pub user_name: String,
    pub created_date: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_date: Option<String>,
    /// Only in the answer that creates (or rotates) the key: it is never shown again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_access_key: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoginRequest {
    pub user_name: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginResponse {
    /// A bearer token (`Authorization: Bearer …`) for scripts; the console uses the cookie.
    pub token: String,
    pub expires_at: String,
    /// Echo it in `X-CSRF-Token` on cookie-authenticated changes.
    pub csrf_token: String,
    pub user_name: String,
    pub role: String,
}

/// Who is calling, as the admin API sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    pub user_name: String,
    pub role: String,
    /// "access-key:<id>", "session" or "bootstrap".
    pub via: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub seq: u64,
    pub at: String,
    pub actor: String,
    pub via: String,
    pub source: String,
    pub action: String,
    pub resource_type: String,
    pub resource_id: String,
}

pub fn validate_user_name(name: &str) -> Result<(), ValidationError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'));
    if !ok {
        return Err(ValidationError::new(
            "userName",
            "User name must be 1 to 64 letters, digits, '-', '_', '.' or '@'",
        ));
    }
    Ok(())
}

pub fn validate_role(role: &str) -> Result<(), ValidationError> {
    if ROLES.contains(&role) {
        Ok(())
    } else {
        Err(ValidationError::new(
            "role",
            format!("Invalid role '{role}': use admin, editor, viewer or invoker"),
        ))
    }
}

/// OWASP's minimum for passwords without other factors; long passphrases welcome.
pub fn validate_password(password: &str) -> Result<(), ValidationError> {
    let len = password.chars().count();
    if !(12..=256).contains(&len) {
        return Err(ValidationError::new(
            "password",
            "Password must be between 12 and 256 characters",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_rules() {
        validate_user_name("ops.alice@example").unwrap();
        assert!(validate_user_name("has space").is_err());
        validate_role("editor").unwrap();
        assert_eq!(validate_role("root").unwrap_err().field, "role");
        assert!(validate_password("short").is_err());
        validate_password("correct horse battery").unwrap();
    }
}
