//! Who calls the admin API and what they may do: roles and the `Caller` every service
//! call carries, the master key that seals access-key secrets, argon2id password hashing,
//! session tokens, SigV4 verification and login throttling. Authentication itself (which
//! of these a request uses) happens in `admin::auth`.
mod login_throttle;
mod password;
mod secrets;
mod session;

use std::fmt;

pub use login_throttle::LoginThrottle;
pub use password::PasswordHasher;
pub use secrets::{MasterKey, MasterKeyError};
pub use session::{SessionClaims, SessionKeys};

use portico_model::{ROLE_ADMIN, ROLE_EDITOR, ROLE_INVOKER, ROLE_VIEWER};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything.
    Admin,
    /// APIs and everything under them; not users or keys.
    Editor,
    /// Read only.
    Viewer,
    /// Calls AWS_IAM routes with its access keys; no admin API at all.
    Invoker,
}

/// What a call needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    Read,
    EditApis,
    ManageIdentity,
    /// Changing cluster settings (`PATCH /portico/settings`), which every node serves.
    ManageCluster,
    /// Calling the APIs' AWS_IAM routes (`execute-api:Invoke`), checked on the nodes.
    InvokeApis,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            ROLE_ADMIN => Some(Role::Admin),
            ROLE_EDITOR => Some(Role::Editor),
            ROLE_VIEWER => Some(Role::Viewer),
            ROLE_INVOKER => Some(Role::Invoker),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => ROLE_ADMIN,
            Role::Editor => ROLE_EDITOR,
            Role::Viewer => ROLE_VIEWER,
            Role::Invoker => ROLE_INVOKER,
        }
    }

    pub fn allows(self, permission: Permission) -> bool {
        matches!(
            (self, permission),
            (Role::Admin, _)
                | (
                    Role::Editor,
                    Permission::Read | Permission::EditApis | Permission::InvokeApis
                )
                | (Role::Viewer, Permission::Read)
                | (Role::Invoker, Permission::InvokeApis)
        )
    }
}

/// How a caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMethod {
    AccessKey(String),
    Session(String),
    /// Portico itself, at first start.
    Bootstrap,
}

impl fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthMethod::AccessKey(id) => write!(f, "access-key:{id}"),
            AuthMethod::Session(_) => f.write_str("session"),
            AuthMethod::Bootstrap => f.write_str("bootstrap"),
        }
    }
}

/// The authenticated caller of a service call: who, with which role, from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_name: String,
    pub role: Role,
    /// The client's address, or "-" when there is none.
    pub source: String,
    pub via: AuthMethod,
}

impl Caller {
    /// Portico acting on its own behalf (first-start bootstrap, tests).
    pub fn bootstrap() -> Caller {
        Caller {
            user_name: "portico".into(),
            role: Role::Admin,
            source: "-".into(),
            via: AuthMethod::Bootstrap,
        }
    }

    pub fn can(&self, permission: Permission) -> bool {
        self.role.allows(permission)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_allow_what_the_issue_says() {
        use Permission::*;
        let table = [
            (Role::Admin, [true, true, true, true, true]),
            (Role::Editor, [true, true, false, true, false]),
            (Role::Viewer, [true, false, false, false, false]),
            (Role::Invoker, [false, false, false, true, false]),
        ];
        for (role, expected) in table {
            let got = [
                role.allows(Read),
                role.allows(EditApis),
                role.allows(ManageIdentity),
                role.allows(InvokeApis),
                role.allows(ManageCluster),
            ];
            assert_eq!(got, expected, "{role:?}");
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
