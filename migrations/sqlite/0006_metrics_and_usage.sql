-- Traffic as nodes report it (MetricsReport), added up per API, stage, route key (empty:
-- no route matched) and minute (Unix seconds), for the console's Monitor tab and
-- GET /portico/apis/{apiId}/metrics. l0..l15 and i0..i15 are the request and integration
-- latency histograms over portico_model::LATENCY_BOUNDS_MS. Rows older than the retention
-- are pruned.
CREATE TABLE metric_minutes (
    api_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    route_key TEXT NOT NULL,
    minute BIGINT NOT NULL,
    requests BIGINT NOT NULL,
    c4xx BIGINT NOT NULL,
    c5xx BIGINT NOT NULL,
    throttled BIGINT NOT NULL,
    unauthorized BIGINT NOT NULL,
    bytes_in BIGINT NOT NULL,
    bytes_out BIGINT NOT NULL,
    latency_sum REAL NOT NULL,
    integration_sum REAL NOT NULL,
    l0 BIGINT NOT NULL DEFAULT 0,
    l1 BIGINT NOT NULL DEFAULT 0,
    l2 BIGINT NOT NULL DEFAULT 0,
    l3 BIGINT NOT NULL DEFAULT 0,
    l4 BIGINT NOT NULL DEFAULT 0,
    l5 BIGINT NOT NULL DEFAULT 0,
    l6 BIGINT NOT NULL DEFAULT 0,
    l7 BIGINT NOT NULL DEFAULT 0,
    l8 BIGINT NOT NULL DEFAULT 0,
    l9 BIGINT NOT NULL DEFAULT 0,
    l10 BIGINT NOT NULL DEFAULT 0,
    l11 BIGINT NOT NULL DEFAULT 0,
    l12 BIGINT NOT NULL DEFAULT 0,
    l13 BIGINT NOT NULL DEFAULT 0,
    l14 BIGINT NOT NULL DEFAULT 0,
    l15 BIGINT NOT NULL DEFAULT 0,
    i0 BIGINT NOT NULL DEFAULT 0,
    i1 BIGINT NOT NULL DEFAULT 0,
    i2 BIGINT NOT NULL DEFAULT 0,
    i3 BIGINT NOT NULL DEFAULT 0,
    i4 BIGINT NOT NULL DEFAULT 0,
    i5 BIGINT NOT NULL DEFAULT 0,
    i6 BIGINT NOT NULL DEFAULT 0,
    i7 BIGINT NOT NULL DEFAULT 0,
    i8 BIGINT NOT NULL DEFAULT 0,
    i9 BIGINT NOT NULL DEFAULT 0,
    i10 BIGINT NOT NULL DEFAULT 0,
    i11 BIGINT NOT NULL DEFAULT 0,
    i12 BIGINT NOT NULL DEFAULT 0,
    i13 BIGINT NOT NULL DEFAULT 0,
    i14 BIGINT NOT NULL DEFAULT 0,
    i15 BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (api_id, stage, route_key, minute)
);
CREATE INDEX metric_minutes_by_minute ON metric_minutes (minute);

-- Requests and bytes per API per calendar month (UTC, YYYY-MM), kept for the usage view
-- after the minutes are pruned.
CREATE TABLE api_usage_months (
    api_id TEXT NOT NULL,
    month TEXT NOT NULL,
    requests BIGINT NOT NULL,
    bytes_in BIGINT NOT NULL,
    bytes_out BIGINT NOT NULL,
    PRIMARY KEY (api_id, month)
);

-- The operator's price table (one row, JSON of portico_model::Pricing).
CREATE TABLE price_table (
    id INTEGER PRIMARY KEY,
    body TEXT NOT NULL
);

CREATE TABLE budgets (
    api_id TEXT PRIMARY KEY REFERENCES apis (api_id) ON DELETE CASCADE,
    body TEXT NOT NULL
);

-- Each notification of a budget fires once per month: the key makes the first replica
-- to insert the alert the one that delivers it. `body` is the BudgetAlert as JSON,
-- updated with the webhook's delivery.
CREATE TABLE budget_alerts (
    api_id TEXT NOT NULL,
    month TEXT NOT NULL,
    notification_type TEXT NOT NULL,
    threshold REAL NOT NULL,
    fired_at_ms BIGINT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (api_id, month, notification_type, threshold)
);
