"""Configures the request policies (CORS, parameter mapping, throttling) with the real
boto3 client, and checks that every bad value is refused the way AWS refuses it, with
nothing stored.

    python3 policies.py configure --endpoint http://127.0.0.1:9000 --upstream 127.0.0.1:8080
    python3 policies.py throttle --endpoint … --api-id ID --stage dev --route-key "GET /x" \
        --rate 50 --burst 20
    python3 policies.py delete-cors --endpoint … --api-id ID

Prints one JSON object on stdout.
"""
import argparse
import json
import sys

from notes_api import client, expect_error

ORIGIN = "https://app.example.com"

CORS = {
    "AllowOrigins": [ORIGIN],
    "AllowMethods": ["GET", "POST"],
    "AllowHeaders": ["content-type", "x-api-key"],
    "ExposeHeaders": ["x-upstream", "x-mapped"],
    "MaxAge": 300,
    "AllowCredentials": True,
}

# "Transform API requests and responses for HTTP APIs": each kind of key and value.
REQUEST_PARAMETERS = {
    "overwrite:header.x-gateway-stage": "$context.stage",
    "append:header.x-request-id": "$context.requestId",
    "overwrite:header.x-route": "${context.routeKey} from ${context.identity.sourceIp}",
    "append:header.x-env": "env-${stageVariables.env}",
    "overwrite:header.x-renamed": "$request.header.x-original",
    "remove:header.x-original": "''",
    "remove:header.x-secret": "''",
    "overwrite:querystring.page": "$request.header.x-page",
    "remove:querystring.debug": "''",
    "append:querystring.note": "$request.path.id",
}

RESPONSE_PARAMETERS = {
    "200": {
        "overwrite:statuscode": "202",
        "append:header.x-mapped": "from-$response.header.x-upstream",
        "remove:header.x-upstream": "''",
    }
}


def configure(gw, upstream):
    # Bad CORS is refused and nothing is stored.
    errors = {
        "cors_credentials": expect_error(
            "BadRequestException",
            lambda: gw.create_api(
                Name="bad",
                ProtocolType="HTTP",
                CorsConfiguration={"AllowOrigins": ["*"], "AllowCredentials": True},
            ),
        ),
        "cors_max_age": expect_error(
            "BadRequestException",
            lambda: gw.create_api(
                Name="bad", ProtocolType="HTTP", CorsConfiguration={"MaxAge": 86401}
            ),
        ),
        "cors_method": expect_error(
            "BadRequestException",
            lambda: gw.create_api(
                Name="bad", ProtocolType="HTTP", CorsConfiguration={"AllowMethods": ["FETCH"]}
            ),
        ),
        "cors_origin": expect_error(
            "BadRequestException",
            lambda: gw.create_api(
                Name="bad", ProtocolType="HTTP", CorsConfiguration={"AllowOrigins": ["example.com/x"]}
            ),
        ),
    }
    assert not [a for a in gw.get_apis()["Items"] if a["Name"] == "bad"], "nothing stored"

    api = gw.create_api(Name="policies", ProtocolType="HTTP", CorsConfiguration=CORS)
    api_id = api["ApiId"]
    assert api["CorsConfiguration"] == CORS, api["CorsConfiguration"]
    errors["cors_update"] = expect_error(
        "BadRequestException",
        lambda: gw.update_api(ApiId=api_id, CorsConfiguration={"AllowOrigins": ["*"], "AllowCredentials": True}),
    )
    assert gw.get_api(ApiId=api_id)["CorsConfiguration"] == CORS, "a refused update changes nothing"

    # Bad mappings are refused, naming the key, and nothing is stored.
    def integration(request=None, response=None):
        args = dict(
            ApiId=api_id,
            IntegrationType="HTTP_PROXY",
            IntegrationUri=f"http://{upstream}/notes/{{id}}",
            IntegrationMethod="ANY",
            PayloadFormatVersion="1.0",
        )
        if request is not None:
            args["RequestParameters"] = request
        if response is not None:
            args["ResponseParameters"] = response
        return gw.create_integration(**args)

    for name, request, response in [
        ("reserved_header", {"append:header.connection": "x"}, None),
        ("append_path", {"append:path": "/x"}, None),
        ("unknown_action", {"rename:header.x": "y"}, None),
        ("body", {"append:header.x": "$request.body.name"}, None),
        ("unknown_context", {"append:header.x": "$context.nope"}, None),
        ("status_code", None, {"700": {"overwrite:statuscode": "200"}}),
        ("response_request_value", None, {"200": {"append:header.x": "$request.header.y"}}),
    ]:
        errors[f"mapping_{name}"] = expect_error(
            "BadRequestException", lambda: integration(request, response)
        )
    assert gw.get_integrations(ApiId=api_id)["Items"] == [], "nothing stored"

    notes = integration(REQUEST_PARAMETERS, RESPONSE_PARAMETERS)
    assert notes["RequestParameters"] == REQUEST_PARAMETERS, notes
    assert notes["ResponseParameters"] == RESPONSE_PARAMETERS, notes
    # AWS's update: a key sent with an empty value is removed, the others kept.
    updated = gw.update_integration(
        ApiId=api_id,
        IntegrationId=notes["IntegrationId"],
        RequestParameters={"append:header.x-temporary": "", "append:header.x-added": "yes"},
    )
    assert updated["RequestParameters"] == {**REQUEST_PARAMETERS, "append:header.x-added": "yes"}, updated
    errors["mapping_update"] = expect_error(
        "BadRequestException",
        lambda: gw.update_integration(
            ApiId=api_id,
            IntegrationId=notes["IntegrationId"],
            RequestParameters={"overwrite:header.content-length": "1"},
        ),
    )
    plain = integration()
    for key, target in [
        ("GET /notes/{id}", notes),
        ("POST /notes/{id}", notes),
        ("GET /limited", plain),
        ("GET /open", plain),
    ]:
        gw.create_route(ApiId=api_id, RouteKey=key, Target=f"integrations/{target['IntegrationId']}")

    # Throttling: bad values refused, the route's setting over the stage's default.
    errors["throttle_negative"] = expect_error(
        "BadRequestException",
        lambda: gw.create_stage(
            ApiId=api_id, StageName="dev", DefaultRouteSettings={"ThrottlingRateLimit": -1.0}
        ),
    )
    errors["throttle_unknown_route"] = expect_error(
        "NotFoundException",
        lambda: gw.create_stage(
            ApiId=api_id,
            StageName="dev",
            RouteSettings={"GET /nope": {"ThrottlingBurstLimit": 1, "ThrottlingRateLimit": 1.0}},
        ),
    )
    assert gw.get_stages(ApiId=api_id)["Items"] == [], "nothing stored"
    stage = gw.create_stage(
        ApiId=api_id,
        StageName="dev",
        AutoDeploy=True,
        StageVariables={"env": "test"},
        DefaultRouteSettings={"ThrottlingBurstLimit": 1000, "ThrottlingRateLimit": 1000.0},
        RouteSettings={"GET /limited": {"ThrottlingBurstLimit": 5, "ThrottlingRateLimit": 1.0}},
    )
    assert stage["RouteSettings"]["GET /limited"]["ThrottlingBurstLimit"] == 5, stage
    errors["throttle_update_negative"] = expect_error(
        "BadRequestException",
        lambda: gw.update_stage(
            ApiId=api_id,
            StageName="dev",
            RouteSettings={"GET /limited": {"ThrottlingBurstLimit": -5}},
        ),
    )
    return {
        "apiId": api_id,
        "deploymentId": stage["DeploymentId"],
        "errors": errors,
    }


def throttle(gw, api_id, stage, route_key, rate, burst):
    updated = gw.update_stage(
        ApiId=api_id,
        StageName=stage,
        RouteSettings={route_key: {"ThrottlingBurstLimit": burst, "ThrottlingRateLimit": rate}},
    )
    return {"deploymentId": updated.get("DeploymentId"), "routeSettings": updated["RouteSettings"]}


def delete_cors(gw, api_id):
    gw.delete_cors_configuration(ApiId=api_id)
    api = gw.get_api(ApiId=api_id)
    assert "CorsConfiguration" not in api, api
    missing = expect_error("NotFoundException", lambda: gw.delete_cors_configuration(ApiId=api_id))
    # The test's last change: every API on the server through its OpenAPI export and back
    # (issue #17).
    from roundtrip import check_roundtrip, validate_document
    return {"deleted": True, "again": missing, "roundtrip": check_roundtrip(gw, validate_document)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("command", choices=["configure", "throttle", "delete-cors"])
    p.add_argument("--endpoint", required=True)
    p.add_argument("--upstream")
    p.add_argument("--api-id")
    p.add_argument("--stage")
    p.add_argument("--route-key")
    p.add_argument("--rate", type=float)
    p.add_argument("--burst", type=int)
    a = p.parse_args()
    gw = client(a.endpoint)
    if a.command == "configure":
        out = configure(gw, a.upstream)
    elif a.command == "throttle":
        out = throttle(gw, a.api_id, a.stage, a.route_key, a.rate, a.burst)
    else:
        out = delete_cors(gw, a.api_id)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
