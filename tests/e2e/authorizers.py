"""Builds an API guarded by authorizers on Portico with the real boto3 client: a JWT
authorizer on an OIDC issuer, Lambda REQUEST authorizers (simple and IAM policy
responses, payload 2.0 and 1.0, cached and not), and routes that use them. Checks that
every bad authorizer and route is refused with a BadRequestException naming the field,
with nothing stored.

    python3 authorizers.py configure --endpoint http://127.0.0.1:9000 --issuer URL \
        --upstream http://127.0.0.1:PORT
    python3 authorizers.py invoke --proxy http://127.0.0.1:8000 --host API.execute-api.localhost \
        --path /prod/iam [--method POST --body TEXT] [--key K --secret S] [--tamper]
    python3 authorizers.py admin --endpoint URL --method PATCH --path /portico/users/U --body JSON

`configure` also makes the users whose keys sign AWS_IAM calls: "svc" (role invoker)
and "vic" (role viewer). `invoke` signs with botocore's own SigV4 signer for
`execute-api`, as an AWS SDK calls an IAM-guarded API. Prints one JSON object on stdout.
"""
import argparse
import json
import os
import urllib.error
import urllib.request

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from notes_api import client, expect_error

ACCOUNT = "123456789012"


def function_uri(name, region="us-east-1"):
    arn = f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}"
    return f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/invocations"


def send(method, url, headers, data):
    req = urllib.request.Request(url, data=data or None, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def signed(method, url, key, secret, service, host=None, body=b"", region="us-east-1"):
    """Headers botocore's SigV4 signer makes for the request."""
    headers = {"Content-Type": "application/json"}
    if host:
        headers["Host"] = host
    req = AWSRequest(method=method, url=url, data=body, headers=headers)
    SigV4Auth(Credentials(key, secret), service, region).add_auth(req)
    return dict(req.prepare().headers)


def admin(endpoint, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else b""
    url = endpoint + path
    headers = signed(method, url, os.environ["PORTICO_ADMIN_ACCESS_KEY_ID"],
                     os.environ["PORTICO_ADMIN_SECRET_ACCESS_KEY"], "apigateway", body=data)
    status, text = send(method, url, headers, data)
    return status, json.loads(text) if text else None


def invoke(args):
    body = args.body.encode() if args.body is not None else b""
    url = args.proxy + args.path
    port = args.proxy.rsplit(":", 1)[1]
    host = f"{args.host}:{port}"
    headers = {"Host": host, "Content-Type": "application/json"}
    if args.key:
        headers = signed(args.method, f"http://{host}{args.path}", args.key, args.secret,
                         args.service, host=host, body=body)
    # Same length, one byte changed: the signed Content-Length still holds.
    sent = body[:-1] + (b"!" if body[-1:] != b"!" else b"?") if args.tamper else body
    status, text = send(args.method, url, headers, sent)
    print(json.dumps({"status": status, "body": text}))


def configure(args):
    gw = client(args.endpoint)
    users = {}
    for name, role in [("svc", "invoker"), ("vic", "viewer")]:
        status, made = admin(args.endpoint, "POST", "/portico/users", {"userName": name, "role": role})
        assert status == 201, (status, made)
        status, key = admin(args.endpoint, "POST", f"/portico/users/{name}/access-keys")
        assert status == 201, (status, key)
        users[name] = {"key": key["accessKeyId"], "secret": key["secretAccessKey"]}
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
    http_iam = gw.create_integration(
        ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationMethod="ANY",
        IntegrationUri=f"{args.upstream}/backend",
        RequestParameters={
            "overwrite:header.x-caller": "$context.identity.user",
            "overwrite:header.x-access-key": "$context.identity.accessKey",
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
    route("ANY /iam", http_iam, AuthorizationType="AWS_IAM")
    route("GET /iam/lambda", echo, AuthorizationType="AWS_IAM")
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
    errors["route_iam_with_authorizer"] = expect_error(
        "BadRequestException",
        lambda: route("GET /bad5", echo, AuthorizationType="AWS_IAM",
                      AuthorizerId=simple["AuthorizerId"]))
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
    # The API and its authorizers through its OpenAPI export and back (issue #17).
    from roundtrip import check_roundtrip, validate_document
    roundtrip = check_roundtrip(gw, validate_document)
    print(json.dumps({
        "roundtrip": roundtrip,
        "apiId": api_id,
        "authorizers": {"jwt": jwt, "simple": simple, "policyV1": policy_v1,
                        "policyV2": policy_v2},
        "updated": updated,
        "scopedRoute": scoped,
        "errors": errors,
        "authorizersBefore": before,
        "authorizersAfter": after,
        "routeKeys": keys,
        "users": users,
    }, default=str))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("step", choices=["configure", "invoke", "admin"])
    p.add_argument("--endpoint")
    p.add_argument("--issuer")
    p.add_argument("--upstream")
    p.add_argument("--proxy")
    p.add_argument("--host")
    p.add_argument("--path")
    p.add_argument("--method", default="GET")
    p.add_argument("--body")
    p.add_argument("--key")
    p.add_argument("--secret")
    p.add_argument("--service", default="execute-api")
    p.add_argument("--tamper", action="store_true")
    args = p.parse_args()
    if args.step == "configure":
        configure(args)
    elif args.step == "invoke":
        invoke(args)
    else:
        status, body = admin(args.endpoint, args.method, args.path,
                             json.loads(args.body) if args.body else None)
        print(json.dumps({"status": status, "body": body}))


if __name__ == "__main__":
    main()
