-- Admin identity: users (argon2id password hashes), their access keys (secrets sealed with
-- the master key, AEAD), console sessions (revocable), and the audit log of every change.

CREATE TABLE users (
    user_name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    -- PHC string ($argon2id$…); NULL means the user cannot log in with a password.
    password_hash TEXT,
    disabled BIGINT NOT NULL,
    created_date TEXT NOT NULL
);

CREATE TABLE access_keys (
    access_key_id TEXT PRIMARY KEY,
    user_name TEXT NOT NULL REFERENCES users (user_name) ON DELETE CASCADE,
    -- base64(nonce || ciphertext) of the secret, sealed under the master key with the
    -- key id as associated data. The plain secret is needed to check SigV4 signatures.
    sealed_secret TEXT NOT NULL,
    created_date TEXT NOT NULL,
    last_used_date TEXT
);

CREATE TABLE sessions (
    session_id TEXT PRIMARY KEY,
    user_name TEXT NOT NULL REFERENCES users (user_name) ON DELETE CASCADE,
    created_date TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked BIGINT NOT NULL
);

CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    -- "access-key:PKIA…", "session", "bootstrap"
    via TEXT NOT NULL,
    source TEXT NOT NULL,
    action TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL
);
