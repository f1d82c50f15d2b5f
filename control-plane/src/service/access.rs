//! Who may do what: the one check every service call starts with.
use super::{ServiceError, ServiceResult};
use crate::identity::{Caller, Permission};

/// Refuses the call unless the caller's role allows `permission`.
pub(crate) fn allow(caller: &Caller, permission: Permission) -> ServiceResult<()> {
    if caller.can(permission) {
        return Ok(());
    }
    let what = match permission {
        Permission::Read => "read the configuration",
        Permission::EditApis => "change APIs",
        Permission::ManageIdentity => "manage users and access keys",
        Permission::ManageCluster => "change cluster settings",
        Permission::InvokeApis => "invoke APIs",
    };
    Err(ServiceError::Forbidden(format!(
        "User {} (role {}) is not authorized to {what}",
        caller.user_name,
        caller.role.as_str()
    )))
}
