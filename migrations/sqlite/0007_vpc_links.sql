-- VPC links: AWS's VpcLink shape in `body`, and the private targets behind the link,
-- which are Portico's own (PUT /portico/vpclinks/{id}/targets): the JSON of
-- portico_model::VpcLinkTargets, NULL until the first PUT.
CREATE TABLE vpc_links (
    vpc_link_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    targets TEXT
);

-- Each target endpoint's health as each node last reported it (TargetHealthReport). A
-- report replaces all of its node's rows. No foreign key to vpc_links: a report that
-- races a link's deletion must not fail the node's whole report; deleting a link deletes
-- its rows, and a stray row is overwritten by the node's next report.
CREATE TABLE vpc_link_target_health (
    node_id TEXT NOT NULL,
    vpc_link_id TEXT NOT NULL,
    target TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT NOT NULL,
    updated TEXT NOT NULL,
    PRIMARY KEY (node_id, vpc_link_id, target, endpoint)
);
CREATE INDEX vpc_link_target_health_by_link ON vpc_link_target_health (vpc_link_id);
