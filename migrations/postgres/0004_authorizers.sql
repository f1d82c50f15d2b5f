-- JWT and Lambda (REQUEST) authorizers; routes name them by id in their body.
CREATE TABLE authorizers (
    api_id TEXT NOT NULL REFERENCES apis (api_id) ON DELETE CASCADE,
    authorizer_id TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (api_id, authorizer_id)
);
