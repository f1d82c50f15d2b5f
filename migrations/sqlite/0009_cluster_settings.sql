-- Settings that shape the snapshot and so must be one value for every replica (today the
-- execute-api endpoint). Written through the admin API in a versioned write, read in the
-- same transaction as the rest of the snapshot source, so a version and its settings
-- always agree.
CREATE TABLE cluster_settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- The Nodes list shows nodes seen recently; older ones are history.
CREATE INDEX nodes_last_seen ON nodes (last_seen);
