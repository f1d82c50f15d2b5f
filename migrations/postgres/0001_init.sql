-- Portico's configuration store. The same schema in both dialects (migrations/postgres,
-- migrations/sqlite): resources are kept as their AWS-shaped JSON document (`body`) plus
-- the columns that keys, uniqueness and lookups need.

-- One row. Every configuration write bumps snapshot_version inside its own transaction,
-- so all control-plane replicas sharing this database agree on version numbers and the
-- order of writes.
CREATE TABLE cluster_state (
    id BIGINT PRIMARY KEY,
    snapshot_version BIGINT NOT NULL
);
INSERT INTO cluster_state (id, snapshot_version) VALUES (1, 0);

CREATE TABLE apis (
    api_id TEXT PRIMARY KEY,
    body TEXT NOT NULL
);

CREATE TABLE integrations (
    api_id TEXT NOT NULL REFERENCES apis (api_id) ON DELETE CASCADE,
    integration_id TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (api_id, integration_id)
);

CREATE TABLE routes (
    api_id TEXT NOT NULL REFERENCES apis (api_id) ON DELETE CASCADE,
    route_id TEXT NOT NULL,
    route_key TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (api_id, route_id),
    CONSTRAINT routes_route_key_unique UNIQUE (api_id, route_key)
);

-- `frozen` is the DeployedApi (routes and integrations) as they were when deployed.
CREATE TABLE deployments (
    api_id TEXT NOT NULL REFERENCES apis (api_id) ON DELETE CASCADE,
    deployment_id TEXT NOT NULL,
    body TEXT NOT NULL,
    frozen TEXT NOT NULL,
    PRIMARY KEY (api_id, deployment_id)
);

CREATE TABLE stages (
    api_id TEXT NOT NULL REFERENCES apis (api_id) ON DELETE CASCADE,
    stage_name TEXT NOT NULL,
    deployment_id TEXT,
    auto_deploy BIGINT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (api_id, stage_name)
);

-- Proxy nodes as the replica they are connected to last reported them.
CREATE TABLE nodes (
    node_id TEXT PRIMARY KEY,
    address TEXT NOT NULL,
    applied_version BIGINT NOT NULL,
    last_status TEXT,
    last_error TEXT,
    rejected_version BIGINT,
    connected BIGINT NOT NULL,
    control_plane TEXT NOT NULL,
    last_seen TEXT NOT NULL
);
