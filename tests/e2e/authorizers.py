"""Builds an API guarded by authorizers on Portico with the real boto3 client: a JWT
authorizer on an OIDC issuer, Lambda REQUEST authorizers (simple and IAM policy
responses, payload 2.0 and 1.0, cached and not), and routes that use them. Checks that
every bad authorizer and route is refused with a BadRequestException naming the field,
with nothing stored.

    python3 authorizers.py configure --endpoint http://127.0.0.1:9000 --issuer URL \
        --upstream http://127.0.0.1:PORT

Prints one JSON object on stdout.
"""
import argparse
import json

from notes_api import client, expect_error

ACCOUNT = "123456789012"


def function_uri(name, region="us-east-1"):
    arn = f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}"
    return f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/invocations"


def configure(args):
    gw = client(args.endpoint)
    api_id = gw.create_api(Name="guarded", ProtocolType="HTTP")["ApiId"]
    echo = gw.create_integration(
        ApiId=api_id, IntegrationType="AWS_PROXY", PayloadFormatVersion="2.0",
        IntegrationUri=f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:echo_event",
    )["IntegrationId"]
    echo_v1 = gw.create_integration(
        ApiId=api_id, IntegrationType="AWS_PROXY", PayloadFormatVersion="1.0",
        IntegrationUri=f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:echo_event",
    )["IntegrationId"]
    # The claim reaches an HTTP backend through parameter mapping.
    http = gw.create_integration(
        ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationMethod="ANY",
        IntegrationUri=f"{args.upstream}/backend",
        RequestParameters={
            "overwrite:header.x-user": "$context.authorizer.claims.sub",
            "overwrite:header.x-tier": "$context.authorizer.tier",
        },
        PayloadFormatVersion="1.0",
    )["IntegrationId"]

    jwt = gw.create_authorizer(
        ApiId=api_id, Name="oidc", AuthorizerType="JWT",
        IdentitySource=["$request.header.Authorization"],
        JwtConfiguration={"Issuer": args.issuer, "Audience": ["notes-app", "other-app"]},
    )
    simple = gw.create_authorizer(
        ApiId=api_id, Name="simple", AuthorizerType="REQUEST",
        AuthorizerUri=function_uri("authorizer_simple"),
        AuthorizerPayloadFormatVersion="2.0", EnableSimpleResponses=True,
        IdentitySource=["$request.header.Authorization"], AuthorizerResultTtlInSeconds=300,
    )
    policy_v1 = gw.create_authorizer(
        ApiId=api_id, Name="policy-v1", AuthorizerType="REQUEST",
        AuthorizerUri=function_uri("authorizer_policy"),
        AuthorizerPayloadFormatVersion="1.0",
        IdentitySource=["$request.header.Authorization"], AuthorizerResultTtlInSeconds=0,
    )
    policy_v2 = gw.create_authorizer(
        ApiId=api_id, Name="policy-v2", AuthorizerType="REQUEST",
        AuthorizerUri=function_uri("authorizer_policy"),
        AuthorizerPayloadFormatVersion="2.0", EnableSimpleResponses=False,
        IdentitySource=["$request.header.Authorization", "$request.querystring.tenant"],
        AuthorizerResultTtlInSeconds=60,
    )

    def route(key, target, **auth):
        return gw.create_route(ApiId=api_id, RouteKey=key, Target=f"integrations/{target}", **auth)

    route("GET /open", echo)
    route("GET /jwt", echo, AuthorizationType="JWT", AuthorizerId=jwt["AuthorizerId"])
    route("GET /jwt/v1", echo_v1, AuthorizationType="JWT", AuthorizerId=jwt["AuthorizerId"])
    route("GET /jwt/backend", http, AuthorizationType="JWT", AuthorizerId=jwt["AuthorizerId"])
    route("GET /jwt/scoped", echo, AuthorizationType="JWT", AuthorizerId=jwt["AuthorizerId"],
          AuthorizationScopes=["notes/read"])
    route("GET /simple", echo, AuthorizationType="CUSTOM", AuthorizerId=simple["AuthorizerId"])
    route("GET /simple/backend", http, AuthorizationType="CUSTOM",
          AuthorizerId=simple["AuthorizerId"])
    route("GET /policy/v1", echo_v1, AuthorizationType="CUSTOM",
          AuthorizerId=policy_v1["AuthorizerId"])
    route("GET /policy/v2", echo, AuthorizationType="CUSTOM", AuthorizerId=policy_v2["AuthorizerId"])
    gw.create_stage(ApiId=api_id, StageName="prod", AutoDeploy=True)

    errors = {}
    before = len(gw.get_authorizers(ApiId=api_id)["Items"])
    bad_authorizers = {
        "jwt_http_issuer": dict(
            AuthorizerType="JWT", IdentitySource=["$request.header.Authorization"],
            JwtConfiguration={"Issuer": "http://issuer.example.com", "Audience": ["a"]}),
        "jwt_no_audience": dict(
            AuthorizerType="JWT", IdentitySource=["$request.header.Authorization"],
            JwtConfiguration={"Issuer": args.issuer, "Audience": []}),
        "jwt_two_sources": dict(
            AuthorizerType="JWT",
            IdentitySource=["$request.header.Authorization", "$request.header.X"],
            JwtConfiguration={"Issuer": args.issuer, "Audience": ["a"]}),
        "jwt_with_uri": dict(
            AuthorizerType="JWT", IdentitySource=["$request.header.Authorization"],
            JwtConfiguration={"Issuer": args.issuer, "Audience": ["a"]},
            AuthorizerUri=function_uri("authorizer_simple")),
        "request_no_uri": dict(
            AuthorizerType="REQUEST", IdentitySource=["$request.header.Authorization"],
            AuthorizerPayloadFormatVersion="2.0"),
        "request_bad_uri": dict(
            AuthorizerType="REQUEST", IdentitySource=["$request.header.Authorization"],
            AuthorizerUri="arn:aws:lambda:us-east-1:1:function:x",
            AuthorizerPayloadFormatVersion="2.0"),
        "request_no_version": dict(
            AuthorizerType="REQUEST", IdentitySource=["$request.header.Authorization"],
            AuthorizerUri=function_uri("authorizer_simple")),
        "request_simple_v1": dict(
            AuthorizerType="REQUEST", IdentitySource=["$request.header.Authorization"],
            AuthorizerUri=function_uri("authorizer_simple"),
            AuthorizerPayloadFormatVersion="1.0", EnableSimpleResponses=True),
        "request_ttl_3601": dict(
            AuthorizerType="REQUEST", IdentitySource=["$request.header.Authorization"],
            AuthorizerUri=function_uri("authorizer_simple"),
            AuthorizerPayloadFormatVersion="2.0", AuthorizerResultTtlInSeconds=3601),
        "request_cache_without_source": dict(
            AuthorizerType="REQUEST", IdentitySource=[],
            AuthorizerUri=function_uri("authorizer_simple"),
            AuthorizerPayloadFormatVersion="2.0", AuthorizerResultTtlInSeconds=60),
        "bad_identity_source": dict(
            AuthorizerType="REQUEST", IdentitySource=["Authorization"],
            AuthorizerUri=function_uri("authorizer_simple"),
            AuthorizerPayloadFormatVersion="2.0"),
        "bad_type": dict(AuthorizerType="TOKEN", IdentitySource=["$request.header.A"]),
    }
    for name, fields in bad_authorizers.items():
        errors[name] = expect_error(
            "BadRequestException",
            lambda f=fields: gw.create_authorizer(ApiId=api_id, Name="bad", **f))
    errors["route_jwt_without_authorizer"] = expect_error(
        "BadRequestException",
        lambda: route("GET /bad1", echo, AuthorizationType="JWT"))
    errors["route_jwt_with_lambda_authorizer"] = expect_error(
        "BadRequestException",
        lambda: route("GET /bad2", echo, AuthorizationType="JWT",
                      AuthorizerId=simple["AuthorizerId"]))
    errors["route_unknown_authorizer"] = expect_error(
        "BadRequestException",
        lambda: route("GET /bad3", echo, AuthorizationType="CUSTOM", AuthorizerId="nope"))
    errors["route_scopes_on_custom"] = expect_error(
        "BadRequestException",
        lambda: route("GET /bad4", echo, AuthorizationType="CUSTOM",
                      AuthorizerId=simple["AuthorizerId"], AuthorizationScopes=["a"]))
    errors["route_iam"] = expect_error(
        "BadRequestException", lambda: route("GET /bad5", echo, AuthorizationType="AWS_IAM"))
    errors["delete_used_authorizer"] = expect_error(
        "ConflictException",
        lambda: gw.delete_authorizer(ApiId=api_id, AuthorizerId=jwt["AuthorizerId"]))
    after = len(gw.get_authorizers(ApiId=api_id)["Items"])
    keys = sorted(r["RouteKey"] for r in gw.get_routes(ApiId=api_id)["Items"])

    # Update merges, as AWS's UpdateAuthorizer.
    updated = gw.update_authorizer(ApiId=api_id, AuthorizerId=policy_v2["AuthorizerId"],
                                   AuthorizerResultTtlInSeconds=30)
    scoped = next(r for r in gw.get_routes(ApiId=api_id)["Items"]
                  if r["RouteKey"] == "GET /jwt/scoped")
    print(json.dumps({
        "apiId": api_id,
        "authorizers": {"jwt": jwt, "simple": simple, "policyV1": policy_v1,
                        "policyV2": policy_v2},
        "updated": updated,
        "scopedRoute": scoped,
        "errors": errors,
        "authorizersBefore": before,
        "authorizersAfter": after,
        "routeKeys": keys,
    }, default=str))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("step", choices=["configure"])
    p.add_argument("--endpoint", required=True)
    p.add_argument("--issuer", required=True)
    p.add_argument("--upstream", required=True)
    args = p.parse_args()
    configure(args)


if __name__ == "__main__":
    main()
