-- Imported certificates (ACM's shape in `body`), their PEM, and the private key sealed
-- with the master key.
CREATE TABLE certificates (
    certificate_arn TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    certificate_pem TEXT NOT NULL,
    chain_pem TEXT NOT NULL,
    sealed_key TEXT NOT NULL
);

-- CA bundles that mutual TLS checks client certificates against.
CREATE TABLE truststores (
    name TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    bundle_pem TEXT NOT NULL
);

CREATE TABLE domain_names (
    domain_name TEXT PRIMARY KEY,
    certificate_arn TEXT NOT NULL REFERENCES certificates (certificate_arn),
    truststore_name TEXT REFERENCES truststores (name),
    body TEXT NOT NULL
);

-- A mapping goes with its domain, and with the API or stage it points at.
CREATE TABLE api_mappings (
    domain_name TEXT NOT NULL REFERENCES domain_names (domain_name) ON DELETE CASCADE,
    api_mapping_id TEXT NOT NULL,
    api_mapping_key TEXT NOT NULL,
    api_id TEXT NOT NULL,
    stage_name TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (domain_name, api_mapping_id),
    CONSTRAINT api_mappings_key_unique UNIQUE (domain_name, api_mapping_key),
    FOREIGN KEY (api_id, stage_name) REFERENCES stages (api_id, stage_name) ON DELETE CASCADE
);
CREATE INDEX api_mappings_by_stage ON api_mappings (api_id, stage_name);
