//! Users, access keys, console sessions, the audit log and first-start bootstrap.
use portico_model::{
    AccessKey, AuditEntry, CreateUser, Identity, LoginResponse, Page, ROLE_ADMIN, UpdateUser, User,
    validate_password, validate_role, validate_user_name,
};
use rand::Rng;

use super::{
    AdminService, Change, ListParams, ServiceError, ServiceResult, allow, new_id, now, record,
};
use crate::identity::{AuthMethod, Caller, Permission, Role, SessionClaims};
use crate::identity::{LoginThrottle, MasterKey, PasswordHasher, SessionKeys};
use crate::store::{Store, StoreError, UserRecord};

/// What the identity side of the service needs, shared by every clone.
#[derive(Clone)]
pub struct IdentityContext {
    pub master_key: MasterKey,
    pub hasher: PasswordHasher,
    pub sessions: SessionKeys,
    pub throttle: std::sync::Arc<LoginThrottle>,
    pub session_ttl: chrono::TimeDelta,
}

impl IdentityContext {
    pub fn new(master_key: MasterKey) -> Self {
        IdentityContext {
            sessions: SessionKeys::new(&master_key),
            master_key,
            hasher: PasswordHasher::new(),
            throttle: std::sync::Arc::new(LoginThrottle::new()),
            session_ttl: chrono::TimeDelta::hours(12),
        }
    }
}

fn user_not_found(name: &str) -> ServiceError {
    ServiceError::NotFound(format!("Invalid user identifier specified {name}"))
}

fn new_access_key_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut rng = rand::rng();
    let tail: String = (0..16)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("PKIA{tail}")
}

fn new_secret() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut rng = rand::rng();
    (0..40)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

fn valid_access_key_id(id: &str) -> bool {
    (16..=128).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric())
}

impl AdminService {
    pub fn whoami(&self, caller: &Caller) -> Identity {
        Identity {
            user_name: caller.user_name.clone(),
            role: caller.role.as_str().to_string(),
            via: caller.via.to_string(),
        }
    }

    pub async fn create_user(&self, caller: &Caller, input: CreateUser) -> ServiceResult<User> {
        allow(caller, Permission::ManageIdentity)?;
        validate_user_name(&input.user_name)?;
        validate_role(&input.role)?;
        if let Some(p) = &input.password {
            validate_password(p)?;
        }
        let password_hash = match &input.password {
            Some(p) => Some(self.identity.hasher.hash(p).await),
            None => None,
        };
        let user = UserRecord {
            user_name: input.user_name,
            role: input.role,
            password_hash,
            disabled: false,
            created_date: now(),
        };
        let mut tx = self.store.write_unversioned().await?;
        if !tx.insert_user(&user).await? {
            return Err(ServiceError::Conflict(format!(
                "User {} already exists",
                user.user_name
            )));
        }
        self.commit_unversioned(
            tx,
            caller,
            Change::new("CreateUser", "user", user.user_name.clone()),
        )
        .await?;
        Ok(user.to_user())
    }

    pub async fn list_users(&self, caller: &Caller) -> ServiceResult<Page<User>> {
        allow(caller, Permission::Read)?;
        let mut tx = self.store.read().await?;
        let items = tx
            .list_users()
            .await?
            .iter()
            .map(UserRecord::to_user)
            .collect();
        Ok(Page {
            items,
            next_token: None,
        })
    }

    pub async fn get_user(&self, caller: &Caller, name: &str) -> ServiceResult<User> {
        allow(caller, Permission::Read)?;
        let mut tx = self.store.read().await?;
        tx.get_user(name)
            .await?
            .map(|u| u.to_user())
            .ok_or_else(|| user_not_found(name))
    }

    pub async fn update_user(
        &self,
        caller: &Caller,
        name: &str,
        input: UpdateUser,
    ) -> ServiceResult<User> {
        allow(caller, Permission::ManageIdentity)?;
        if let Some(r) = &input.role {
            validate_role(r)?;
        }
        if let Some(p) = &input.password {
            validate_password(p)?;
        }
        let password_hash = match &input.password {
            Some(p) => Some(self.identity.hasher.hash(p).await),
            None => None,
        };
        let mut tx = self.store.write_unversioned().await?;
        let mut user = tx
            .get_user(name)
            .await?
            .ok_or_else(|| user_not_found(name))?;
        let was_active_admin = user.role == ROLE_ADMIN && !user.disabled;
        if let Some(r) = input.role {
            user.role = r;
        }
        if let Some(d) = input.disabled {
            user.disabled = d;
        }
        let new_password = password_hash.is_some();
        if password_hash.is_some() {
            user.password_hash = password_hash;
        }
        let still_active_admin = user.role == ROLE_ADMIN && !user.disabled;
        if was_active_admin && !still_active_admin && tx.count_active_admins().await? <= 1 {
            return Err(ServiceError::BadRequest(
                "This is the last active admin; make another admin first".into(),
            ));
        }
        tx.update_user(&user).await?;
        if user.disabled || new_password {
            tx.revoke_sessions_of(name).await?;
        }
        self.commit_unversioned(
            tx,
            caller,
            Change::new("UpdateUser", "user", name.to_string()),
        )
        .await?;
        Ok(user.to_user())
    }

    pub async fn delete_user(&self, caller: &Caller, name: &str) -> ServiceResult<()> {
        allow(caller, Permission::ManageIdentity)?;
        let mut tx = self.store.write_unversioned().await?;
        let user = tx
            .get_user(name)
            .await?
            .ok_or_else(|| user_not_found(name))?;
        if user.role == ROLE_ADMIN && !user.disabled && tx.count_active_admins().await? <= 1 {
            return Err(ServiceError::BadRequest(
                "This is the last active admin; make another admin first".into(),
            ));
        }
        tx.delete_user(name).await?;
        self.commit_unversioned(
            tx,
            caller,
            Change::new("DeleteUser", "user", name.to_string()),
        )
        .await?;
        Ok(())
    }

    pub async fn create_access_key(
        &self,
        caller: &Caller,
        user_name: &str,
    ) -> ServiceResult<AccessKey> {
        allow(caller, Permission::ManageIdentity)?;
        let mut tx = self.store.write_unversioned().await?;
        tx.get_user(user_name)
            .await?
            .ok_or_else(|| user_not_found(user_name))?;
        let key = self
            .add_access_key(&mut tx, user_name, new_access_key_id(), new_secret())
            .await?;
        self.commit_unversioned(
            tx,
            caller,
            Change::new("CreateAccessKey", "accessKey", key.access_key_id.clone()),
        )
        .await?;
        Ok(key)
    }

    async fn add_access_key(
        &self,
        tx: &mut crate::store::StoreTx,
        user_name: &str,
        id: String,
        secret: String,
    ) -> ServiceResult<AccessKey> {
        let key = AccessKey {
            access_key_id: id,
            user_name: user_name.to_string(),
            created_date: now(),
            last_used_date: None,
            secret_access_key: None,
        };
        let sealed = self.identity.master_key.seal(&key.access_key_id, &secret);
        tx.insert_access_key(&key, &sealed).await?;
        Ok(AccessKey {
            secret_access_key: Some(secret),
            ..key
        })
    }

    pub async fn list_access_keys(
        &self,
        caller: &Caller,
        user_name: &str,
    ) -> ServiceResult<Page<AccessKey>> {
        allow(caller, Permission::Read)?;
        let mut tx = self.store.read().await?;
        tx.get_user(user_name)
            .await?
            .ok_or_else(|| user_not_found(user_name))?;
        Ok(Page {
            items: tx.list_access_keys(user_name).await?,
            next_token: None,
        })
    }

    /// Replaces the key with a new one (new id and secret) in one step.
    pub async fn rotate_access_key(
        &self,
        caller: &Caller,
        user_name: &str,
        id: &str,
    ) -> ServiceResult<AccessKey> {
        allow(caller, Permission::ManageIdentity)?;
        let mut tx = self.store.write_unversioned().await?;
        if !tx.delete_access_key(user_name, id).await? {
            return Err(ServiceError::NotFound(format!(
                "Invalid access key identifier specified {id}"
            )));
        }
        let key = self
            .add_access_key(&mut tx, user_name, new_access_key_id(), new_secret())
            .await?;
        self.commit_unversioned(
            tx,
            caller,
            Change::new(
                "RotateAccessKey",
                "accessKey",
                format!("{id} -> {}", key.access_key_id),
            ),
        )
        .await?;
        Ok(key)
    }

    pub async fn delete_access_key(
        &self,
        caller: &Caller,
        user_name: &str,
        id: &str,
    ) -> ServiceResult<()> {
        allow(caller, Permission::ManageIdentity)?;
        let mut tx = self.store.write_unversioned().await?;
        if !tx.delete_access_key(user_name, id).await? {
            return Err(ServiceError::NotFound(format!(
                "Invalid access key identifier specified {id}"
            )));
        }
        self.commit_unversioned(
            tx,
            caller,
            Change::new("DeleteAccessKey", "accessKey", id.to_string()),
        )
        .await?;
        Ok(())
    }

    /// Checks a user name and password and opens a session. Failures are throttled per
    /// user and per source before any hashing happens.
    pub async fn login(
        &self,
        user_name: &str,
        password: &str,
        source: &str,
    ) -> ServiceResult<LoginResponse> {
        if let Err(retry_after) = self.identity.throttle.begin(user_name, source) {
            return Err(ServiceError::TooManyRequests {
                message: "Too many failed logins; try again later".into(),
                retry_after,
            });
        }
        let user = {
            let mut tx = self.store.read().await?;
            tx.get_user(user_name).await?
        };
        let usable = user.as_ref().filter(|u| !u.disabled);
        let hash = usable.and_then(|u| u.password_hash.as_deref());
        let ok = self.identity.hasher.verify(password, hash).await;
        let (Some(user), true) = (usable, ok) else {
            tracing::warn!(user = %user_name, %source, "failed login");
            return Err(ServiceError::Unauthorized(
                "Invalid user name or password".into(),
            ));
        };
        self.identity.throttle.succeeded(user_name, source);
        let role = Role::parse(&user.role).unwrap_or(Role::Viewer);
        let issued = chrono::Utc::now();
        let expires = issued + self.identity.session_ttl;
        let claims = SessionClaims {
            sub: user.user_name.clone(),
            sid: new_id(24),
            csrf: new_id(32),
            iat: issued.timestamp(),
            exp: expires.timestamp(),
        };
        let caller = Caller {
            user_name: user.user_name.clone(),
            role,
            source: source.to_string(),
            via: AuthMethod::Session(claims.sid.clone()),
        };
        let mut tx = self.store.write_unversioned().await?;
        tx.insert_session(&claims.sid, &user.user_name, &now(), claims.exp)
            .await?;
        self.commit_unversioned(
            tx,
            &caller,
            Change::new("Login", "session", user.user_name.clone()),
        )
        .await?;
        Ok(LoginResponse {
            token: self.identity.sessions.issue(&claims),
            expires_at: expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            csrf_token: claims.csrf,
            user_name: user.user_name.clone(),
            role: user.role.clone(),
        })
    }

    pub async fn logout(&self, caller: &Caller) -> ServiceResult<()> {
        let AuthMethod::Session(session_id) = &caller.via else {
            return Err(ServiceError::BadRequest(
                "Only a console session can log out".into(),
            ));
        };
        let mut tx = self.store.write_unversioned().await?;
        tx.revoke_session(session_id).await?;
        self.commit_unversioned(
            tx,
            caller,
            Change::new("Logout", "session", caller.user_name.clone()),
        )
        .await?;
        Ok(())
    }

    pub async fn list_audit(
        &self,
        caller: &Caller,
        params: ListParams,
    ) -> ServiceResult<Page<AuditEntry>> {
        allow(caller, Permission::Read)?;
        let limit = params.limit()?;
        let before = match params.after()? {
            Some(t) => Some(
                t.parse::<u64>()
                    .map_err(|_| ServiceError::BadRequest("Invalid nextToken".into()))?,
            ),
            None => None,
        };
        let mut tx = self.store.read().await?;
        let mut items = tx.list_audit(before, limit + 1).await?;
        // Newest first: the token is the last sequence number shown.
        let next_token = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().map(|e| {
                base64::Engine::encode(
                    &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                    e.seq.to_string(),
                )
            })
        } else {
            None
        };
        Ok(Page { items, next_token })
    }
}

/// What bootstrap made up and must show once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BootstrapCredentials {
    pub generated_password: Option<String>,
    pub generated_access_key: Option<(String, String)>,
}

/// On a store with no users, creates `admin` with `password` (or a generated one) and an
/// access key `key` (or a generated one). Several replicas may race here: one wins, the
/// others find the user there. Returns what was generated, when this call created it.
pub async fn bootstrap_admin(
    store: &Store,
    identity: &IdentityContext,
    password: Option<String>,
    key: Option<(String, String)>,
) -> ServiceResult<Option<BootstrapCredentials>> {
    {
        let mut tx = store.read().await?;
        if !tx.list_users().await?.is_empty() {
            return Ok(None);
        }
    }
    if let Some(p) = &password {
        validate_password(p)?;
    }
    if let Some((id, secret)) = &key
        && (!valid_access_key_id(id) || secret.len() < 16)
    {
        return Err(ServiceError::BadRequest(
            "PORTICO_ADMIN_ACCESS_KEY_ID must be 16 to 128 letters and digits, and the secret at least 16 characters".into(),
        ));
    }
    let mut out = BootstrapCredentials::default();
    let password = password.unwrap_or_else(|| {
        let p = new_secret().replace(['+', '/'], "x")[..24].to_string();
        out.generated_password = Some(p.clone());
        p
    });
    let (key_id, secret) = key.unwrap_or_else(|| {
        let k = (new_access_key_id(), new_secret());
        out.generated_access_key = Some(k.clone());
        k
    });
    let admin = UserRecord {
        user_name: "admin".into(),
        role: ROLE_ADMIN.into(),
        password_hash: Some(identity.hasher.hash(&password).await),
        disabled: false,
        created_date: now(),
    };
    let caller = Caller::bootstrap();
    let mut tx = store.write_unversioned().await?;
    if !tx.insert_user(&admin).await? {
        return Ok(None);
    }
    let access_key = AccessKey {
        access_key_id: key_id.clone(),
        user_name: admin.user_name.clone(),
        created_date: now(),
        last_used_date: None,
        secret_access_key: None,
    };
    tx.insert_access_key(&access_key, &identity.master_key.seal(&key_id, &secret))
        .await
        .map_err(|e| match e {
            StoreError::Unique(_) => {
                ServiceError::Conflict(format!("Access key {key_id} already exists"))
            }
            other => other.into(),
        })?;
    record(
        &mut tx,
        &caller,
        &Change::new("CreateUser", "user", admin.user_name.clone()),
    )
    .await?;
    record(
        &mut tx,
        &caller,
        &Change::new("CreateAccessKey", "accessKey", key_id),
    )
    .await?;
    tx.commit().await?;
    Ok(Some(out))
}
