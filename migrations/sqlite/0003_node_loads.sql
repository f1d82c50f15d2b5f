-- What each connected proxy node last reported of its throttled traffic, written by the
-- replica it is connected to, so that every replica divides the cluster-wide limits over
-- all nodes, whichever replica they talk to. `load` is JSON: limit key → requests/second.
-- Rows older than a few seconds belong to nodes that are gone and are ignored.
CREATE TABLE node_loads (
    node_id TEXT PRIMARY KEY,
    reported_at_ms BIGINT NOT NULL,
    load TEXT NOT NULL
);
