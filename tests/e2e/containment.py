"""The steps of the containment test, each one call of the real boto3 client.

    python3 containment.py bad-api --endpoint URL --upstream HOST:PORT
    python3 containment.py notes-api --endpoint URL --upstream HOST:PORT
    python3 containment.py remove-bad --endpoint URL --api-id ID
    python3 containment.py add-route --endpoint URL --api-id ID --route-key KEY --upstream HOST:PORT
    python3 containment.py stage --endpoint URL --api-id ID --stage NAME

Each prints one JSON object: the API id, and the stage and its deployment as get_stage
and get_deployment return them.
"""
import argparse
import json

from notes_api import client


def stage_report(gw, api_id, stage_name):
    stage = gw.get_stage(ApiId=api_id, StageName=stage_name)
    deployment = gw.get_deployment(ApiId=api_id, DeploymentId=stage["DeploymentId"])
    stage.pop("ResponseMetadata", None)
    deployment.pop("ResponseMetadata", None)
    return {"apiId": api_id, "stage": stage, "deployment": deployment}


def http_integration(gw, api_id, uri):
    return gw.create_integration(
        ApiId=api_id,
        IntegrationType="HTTP_PROXY",
        IntegrationUri=uri,
        IntegrationMethod="ANY",
        PayloadFormatVersion="1.0",
    )["IntegrationId"]


def bad_api(gw, upstream):
    """An API whose auto-deploy stage lacks the variable one integration needs."""
    api_id = gw.create_api(Name="bad", ProtocolType="HTTP")["ApiId"]
    bad = http_integration(gw, api_id, "http://${stageVariables.missing}/x")
    good = http_integration(gw, api_id, f"http://{upstream}/ok")
    gw.create_route(ApiId=api_id, RouteKey="GET /x", Target=f"integrations/{bad}")
    gw.create_route(ApiId=api_id, RouteKey="GET /ok", Target=f"integrations/{good}")
    gw.create_stage(ApiId=api_id, StageName="dev", AutoDeploy=True)
    return stage_report(gw, api_id, "dev")


def notes_api(gw, upstream):
    api_id = gw.create_api(Name="notes", ProtocolType="HTTP")["ApiId"]
    notes = http_integration(gw, api_id, f"http://{upstream}/notes")
    gw.create_route(ApiId=api_id, RouteKey="GET /notes", Target=f"integrations/{notes}")
    gw.create_stage(ApiId=api_id, StageName="dev", AutoDeploy=True)
    return stage_report(gw, api_id, "dev")


def remove_bad(gw, api_id):
    """Deletes the route to the broken integration, then the integration."""
    routes = gw.get_routes(ApiId=api_id)["Items"]
    route = next(r for r in routes if r["RouteKey"] == "GET /x")
    gw.delete_route(ApiId=api_id, RouteId=route["RouteId"])
    integration_id = route["Target"].split("/", 1)[1]
    gw.delete_integration(ApiId=api_id, IntegrationId=integration_id)
    return stage_report(gw, api_id, "dev")


def add_route(gw, api_id, route_key, upstream):
    path = route_key.split(" ", 1)[1]
    target = http_integration(gw, api_id, f"http://{upstream}{path}")
    gw.create_route(ApiId=api_id, RouteKey=route_key, Target=f"integrations/{target}")
    # The API's last change in the test: through its OpenAPI export and back (issue #17).
    # Only this API: the other one may be held at a damaged deployment right now.
    from roundtrip import check_roundtrip, validate_document
    check_roundtrip(gw, validate_document, only=[api_id])
    return stage_report(gw, api_id, "dev")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("command")
    p.add_argument("--endpoint", required=True)
    p.add_argument("--upstream")
    p.add_argument("--api-id")
    p.add_argument("--route-key")
    p.add_argument("--stage", default="dev")
    a = p.parse_args()
    gw = client(a.endpoint)
    if a.command == "bad-api":
        out = bad_api(gw, a.upstream)
    elif a.command == "notes-api":
        out = notes_api(gw, a.upstream)
    elif a.command == "remove-bad":
        out = remove_bad(gw, a.api_id)
    elif a.command == "add-route":
        out = add_route(gw, a.api_id, a.route_key, a.upstream)
    elif a.command == "stage":
        out = stage_report(gw, a.api_id, a.stage)
    else:
        raise SystemExit(f"unknown command {a.command}")
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    main()
