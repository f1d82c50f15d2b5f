-- What keeps the control plane's create paths O(1) in an API's size (issue #19).

-- A route's key normalised so that two keys AWS treats as the same route get the same
-- string (`GET /a/{id}` and `GET /a/{x}`: `GET /a/{}`); unique per API. SQL cannot parse
-- route keys, so rows from before this migration are left NULL here and filled in by the
-- store when it opens (control-plane/src/store/route_match_keys.rs). NULLs never collide.
ALTER TABLE routes ADD COLUMN match_key TEXT;
CREATE UNIQUE INDEX routes_match_key_unique ON routes (api_id, match_key);

-- 1 when the integration's URI names a stage variable (`${stageVariables.…}`): the only
-- integrations whose upstream a stage write can change.
ALTER TABLE integrations ADD COLUMN uses_stage_variables BIGINT NOT NULL DEFAULT 0;
UPDATE integrations SET uses_stage_variables = 1
    WHERE json_extract(body, '$.integrationUri') LIKE '%${stageVariables.%';
CREATE INDEX integrations_by_stage_variables ON integrations (api_id, uses_stage_variables);

-- The order an API's deployments were made in (1, 2, …): pruning keeps the newest.
-- Existing rows are numbered by their creation date, ties by id.
ALTER TABLE deployments ADD COLUMN created_order BIGINT NOT NULL DEFAULT 0;
UPDATE deployments SET created_order = (
    SELECT COUNT(*) FROM deployments d2
    WHERE d2.api_id = deployments.api_id
      AND (json_extract(d2.body, '$.createdDate') < json_extract(deployments.body, '$.createdDate')
           OR (json_extract(d2.body, '$.createdDate') = json_extract(deployments.body, '$.createdDate')
               AND d2.deployment_id <= deployments.deployment_id))
);
CREATE INDEX deployments_by_created_order ON deployments (api_id, created_order);

-- Stages by the deployment they serve: pruning and DeleteDeployment ask which stages use one.
CREATE INDEX stages_by_deployment ON stages (api_id, deployment_id);
