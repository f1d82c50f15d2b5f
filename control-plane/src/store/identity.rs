//! Queries for users, access keys, sessions and the audit log.
use portico_model::{AccessKey, AuditEntry, User};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, StoreTx};

/// A user row with what only the service layer may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub user_name: String,
    pub role: String,
    pub password_hash: Option<String>,
    pub disabled: bool,
    pub created_date: String,
}

impl UserRecord {
    pub fn to_user(&self) -> User {
        User {
            user_name: self.user_name.clone(),
            role: self.role.clone(),
            disabled: self.disabled,
            has_password: self.password_hash.is_some(),
            created_date: self.created_date.clone(),
        }
    }
}

fn user_record(r: &AnyRow) -> Result<UserRecord, StoreError> {
    Ok(UserRecord {
        user_name: r.try_get(0)?,
        role: r.try_get(1)?,
        password_hash: r.try_get(2)?,
        disabled: r.try_get::<i64, _>(3)? != 0,
        created_date: r.try_get(4)?,
    })
}

/// What authenticating an access key needs.
#[derive(Debug, Clone)]
pub struct KeyForAuth {
    pub user_name: String,
    pub role: String,
    pub disabled: bool,
    pub sealed_secret: String,
    pub last_used_date: Option<String>,
}

/// What authenticating a session needs.
#[derive(Debug, Clone)]
pub struct SessionForAuth {
    pub user_name: String,
    pub role: String,
    pub disabled: bool,
    pub revoked: bool,
    pub expires_at: i64,
}

/// One audit record to write, in the transaction of the change it describes.
#[derive(Debug, Clone)]
pub struct AuditRecord<'a> {
    pub at: &'a str,
    pub actor: &'a str,
    pub via: &'a str,
    pub source: &'a str,
    pub action: &'a str,
    pub resource_type: &'a str,
    pub resource_id: &'a str,
}

const USER_COLUMNS: &str = "user_name, role, password_hash, disabled, created_date";

impl StoreTx {
    /// Inserts the user unless the name is taken; says whether it did.
    pub async fn insert_user(&mut self, user: &UserRecord) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO users (user_name, role, password_hash, disabled, created_date)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_name) DO NOTHING",
        )
        .bind(&user.user_name)
        .bind(&user.role)
        .bind(user.password_hash.clone())
        .bind(i64::from(user.disabled))
        .bind(&user.created_date)
        .execute(&mut *self.tx)
        .await
        .map_err(StoreError::from_sqlx)?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn update_user(&mut self, user: &UserRecord) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE users SET role = $2, password_hash = $3, disabled = $4 WHERE user_name = $1",
        )
        .bind(&user.user_name)
        .bind(&user.role)
        .bind(user.password_hash.clone())
        .bind(i64::from(user.disabled))
        .execute(&mut *self.tx)
        .await
        .map_err(StoreError::from_sqlx)?;
        Ok(())
    }

    pub async fn get_user(&mut self, user_name: &str) -> Result<Option<UserRecord>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE user_name = $1");
        let row = sqlx::query(&sql)
            .bind(user_name)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(user_record).transpose()
    }

    pub async fn list_users(&mut self) -> Result<Vec<UserRecord>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY user_name");
        let rows = sqlx::query(&sql).fetch_all(&mut *self.tx).await?;
        rows.iter().map(user_record).collect()
    }

    pub async fn delete_user(&mut self, user_name: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM users WHERE user_name = $1")
            .bind(user_name)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn count_active_admins(&mut self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0")
            .fetch_one(&mut *self.tx)
            .await?;
        Ok(row.try_get::<i64, _>(0)?)
    }

    pub async fn insert_access_key(
        &mut self,
        key: &AccessKey,
        sealed_secret: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO access_keys (access_key_id, user_name, sealed_secret, created_date)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&key.access_key_id)
        .bind(&key.user_name)
        .bind(sealed_secret)
        .bind(&key.created_date)
        .execute(&mut *self.tx)
        .await
        .map_err(StoreError::from_sqlx)?;
        Ok(())
    }

    pub async fn list_access_keys(
        &mut self,
        user_name: &str,
    ) -> Result<Vec<AccessKey>, StoreError> {
        let rows = sqlx::query(
            "SELECT access_key_id, user_name, created_date, last_used_date FROM access_keys
             WHERE user_name = $1 ORDER BY created_date, access_key_id",
        )
        .bind(user_name)
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AccessKey {
                    access_key_id: r.try_get(0)?,
                    user_name: r.try_get(1)?,
                    created_date: r.try_get(2)?,
                    last_used_date: r.try_get(3)?,
                    secret_access_key: None,
                })
            })
            .collect()
    }

    pub async fn delete_access_key(
        &mut self,
        user_name: &str,
        id: &str,
    ) -> Result<bool, StoreError> {
        let done =
            sqlx::query("DELETE FROM access_keys WHERE user_name = $1 AND access_key_id = $2")
                .bind(user_name)
                .bind(id)
                .execute(&mut *self.tx)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn insert_session(
        &mut self,
        session_id: &str,
        user_name: &str,
        created_date: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (session_id, user_name, created_date, expires_at, revoked)
             VALUES ($1, $2, $3, $4, 0)",
        )
        .bind(session_id)
        .bind(user_name)
        .bind(created_date)
        .bind(expires_at)
        .execute(&mut *self.tx)
        .await
        .map_err(StoreError::from_sqlx)?;
        Ok(())
    }

    /// Revokes the session; says whether it was live.
    pub async fn revoke_session(&mut self, session_id: &str) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE sessions SET revoked = 1 WHERE session_id = $1 AND revoked = 0")
                .bind(session_id)
                .execute(&mut *self.tx)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Revokes every session of the user (disabled, deleted, new password).
    pub async fn revoke_sessions_of(&mut self, user_name: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET revoked = 1 WHERE user_name = $1")
            .bind(user_name)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    pub async fn insert_audit(&mut self, record: &AuditRecord<'_>) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit_log (at, actor, via, source, action, resource_type, resource_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(record.at)
        .bind(record.actor)
        .bind(record.via)
        .bind(record.source)
        .bind(record.action)
        .bind(record.resource_type)
        .bind(record.resource_id)
        .execute(&mut *self.tx)
        .await
        .map_err(StoreError::from_sqlx)?;
        Ok(())
    }

    /// Audit entries newest first, before `before` (exclusive) when given.
    pub async fn list_audit(
        &mut self,
        before: Option<u64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, via, source, action, resource_type, resource_id FROM audit_log
             WHERE seq < $1 ORDER BY seq DESC LIMIT $2",
        )
        .bind(before.map_or(i64::MAX, |b| b as i64))
        .bind(i64::from(limit))
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    seq: r.try_get::<i64, _>(0)? as u64,
                    at: r.try_get(1)?,
                    actor: r.try_get(2)?,
                    via: r.try_get(3)?,
                    source: r.try_get(4)?,
                    action: r.try_get(5)?,
                    resource_type: r.try_get(6)?,
                    resource_id: r.try_get(7)?,
                })
            })
            .collect()
    }
}

impl Store {
    pub async fn key_for_auth(
        &self,
        access_key_id: &str,
    ) -> Result<Option<KeyForAuth>, StoreError> {
        let row = sqlx::query(
            "SELECT u.user_name, u.role, u.disabled, k.sealed_secret, k.last_used_date
             FROM access_keys k JOIN users u ON u.user_name = k.user_name
             WHERE k.access_key_id = $1",
        )
        .bind(access_key_id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(KeyForAuth {
                user_name: r.try_get(0)?,
                role: r.try_get(1)?,
                disabled: r.try_get::<i64, _>(2)? != 0,
                sealed_secret: r.try_get(3)?,
                last_used_date: r.try_get(4)?,
            })
        })
        .transpose()
    }

    /// Every enabled user's access keys, with the user's role: what the nodes' IAM
    /// authorizer is told about (`grpc::invoke_keys`).
    pub async fn keys_of_enabled_users(&self) -> Result<Vec<(String, KeyForAuth)>, StoreError> {
        let rows = sqlx::query(
            "SELECT k.access_key_id, u.user_name, u.role, u.disabled, k.sealed_secret, k.last_used_date
             FROM access_keys k JOIN users u ON u.user_name = k.user_name
             WHERE u.disabled = 0
             ORDER BY k.access_key_id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok((
                    r.try_get(0)?,
                    KeyForAuth {
                        user_name: r.try_get(1)?,
                        role: r.try_get(2)?,
                        disabled: r.try_get::<i64, _>(3)? != 0,
                        sealed_secret: r.try_get(4)?,
                        last_used_date: r.try_get(5)?,
                    },
                ))
            })
            .collect()
    }

    pub async fn touch_access_key(&self, access_key_id: &str, at: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE access_keys SET last_used_date = $2 WHERE access_key_id = $1")
            .bind(access_key_id)
            .bind(at)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn session_for_auth(
        &self,
        session_id: &str,
    ) -> Result<Option<SessionForAuth>, StoreError> {
        let row = sqlx::query(
            "SELECT u.user_name, u.role, u.disabled, s.revoked, s.expires_at
             FROM sessions s JOIN users u ON u.user_name = s.user_name
             WHERE s.session_id = $1",
        )
        .bind(session_id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(SessionForAuth {
                user_name: r.try_get(0)?,
                role: r.try_get(1)?,
                disabled: r.try_get::<i64, _>(2)? != 0,
                revoked: r.try_get::<i64, _>(3)? != 0,
                expires_at: r.try_get(4)?,
            })
        })
        .transpose()
    }
}
