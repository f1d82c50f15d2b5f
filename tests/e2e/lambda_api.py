"""Builds the notes API on Lambda (AWS_PROXY integrations) on Portico with the real boto3
client, checks that every bad Lambda integration is refused the way AWS refuses it with
nothing stored, and invokes lambda_server.py directly with boto3's Lambda client.

    python3 lambda_api.py configure --endpoint http://127.0.0.1:9000 [--region us-east-1]
    python3 lambda_api.py invoke-direct --port 9100 --function notes_get --payload '{}' \
        [--qualifier Q] [--access-key AK --secret-key SK [--session-token T]] [--region us-east-1]

Prints one JSON object on stdout.
"""
import argparse
import json
import os
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from notes_api import client, expect_error

ACCOUNT = "123456789012"


def function_arn(name, region="us-east-1"):
    return f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}"


def gateway_form(arn, region="us-east-1"):
    return f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/invocations"


# Integration name -> (function, payload format version, extra create_integration arguments).
V2_FUNCTIONS = [
    "notes_get", "notes_post", "echo_event", "plain_string", "plain_object", "with_cookies",
    "binary", "echo_binary", "raises", "garbage", "bad_status", "big_status", "sleepy", "throttled",
]
V1_FUNCTIONS = ["echo_event", "notes_get", "v1_shape", "plain_object"]

ROUTES = {
    "GET /notes": "notes_get",
    "POST /notes": "notes_post",
    "GET /notes/{id}": "notes_get",
    "ANY /v2/echo/{proxy+}": "echo_event",
    "GET /v2/gateway-form": "echo_event_gateway_form",
    "GET /v2/qualified": "echo_event_qualified",
    "GET /v2/string": "plain_string",
    "GET /v2/object": "plain_object",
    "GET /v2/cookies": "with_cookies",
    "GET /v2/binary": "binary",
    "POST /v2/binary": "echo_binary",
    "GET /v2/raises": "raises",
    "GET /v2/garbage": "garbage",
    "GET /v2/bad-status": "bad_status",
    "GET /v2/big-status": "big_status",
    "GET /v2/sleepy": "sleepy",
    "GET /v2/throttled": "throttled",
    "GET /v2/missing": "missing_fn",
    "ANY /v1/echo/{proxy+}": "v1_echo_event",
    "GET /v1/notes": "v1_notes_get",
    "GET /v1/shape": "v1_v1_shape",
    "GET /v1/object": "v1_plain_object",
    "$default": "echo_event",
}


def lax_client(endpoint, region):
    """client(endpoint) without botocore's client-side parameter checks.

    botocore refuses TimeoutInMillis below the model's minimum (50) before sending
    anything; this client sends it, so what is tested is Portico's refusal. Same
    credentials as notes_api.client().
    """
    return boto3.client(
        "apigatewayv2",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=os.environ.get("PORTICO_ADMIN_ACCESS_KEY_ID", "PKIATESTKEY"),
        aws_secret_access_key=os.environ.get("PORTICO_ADMIN_SECRET_ACCESS_KEY", "test-secret"),
        config=Config(retries={"max_attempts": 1}, parameter_validation=False),
    )


def all_items(call, **kwargs):
    items, token = [], None
    while True:
        page = call(**kwargs, **({"NextToken": token} if token else {}))
        items.extend(page.get("Items", []))
        token = page.get("NextToken")
        if not token:
            return items


def configure(gw, lax, region):
    api = gw.create_api(Name="notes-lambda", ProtocolType="HTTP", Description="The notes API on Lambda")
    api_id = api["ApiId"]

    integrations = {}

    def lambda_integration(name, uri, version, **extra):
        created = gw.create_integration(
            ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=uri, PayloadFormatVersion=version, **extra
        )
        assert created["IntegrationType"] == "AWS_PROXY", created
        assert created["IntegrationUri"] == uri, created
        assert created["PayloadFormatVersion"] == version, created
        if "TimeoutInMillis" in extra:
            assert created["TimeoutInMillis"] == extra["TimeoutInMillis"], created
        integrations[name] = created["IntegrationId"]

    for fn in V2_FUNCTIONS:
        extra = {"TimeoutInMillis": 1000} if fn == "sleepy" else {}
        lambda_integration(fn, function_arn(fn, region), "2.0", **extra)
    lambda_integration("echo_event_gateway_form", gateway_form(function_arn("echo_event", region), region), "2.0")
    lambda_integration("echo_event_qualified", function_arn("echo_event", region) + ":live", "2.0")
    for fn in V1_FUNCTIONS:
        lambda_integration(f"v1_{fn}", function_arn(fn, region), "1.0")
    lambda_integration("missing_fn", function_arn("missing_fn", region), "2.0")

    routes = {}
    for key, integration in ROUTES.items():
        r = gw.create_route(ApiId=api_id, RouteKey=key, Target=f"integrations/{integrations[integration]}")
        routes[key] = r["RouteId"]

    gw.create_stage(ApiId=api_id, StageName="dev", AutoDeploy=True, StageVariables={"env": "dev"})
    assert gw.get_stage(ApiId=api_id, StageName="dev")["AutoDeploy"] is True

    # Quick create with a Lambda target: one AWS_PROXY integration, payload 2.0.
    quick = gw.create_api(Name="quick-lambda", ProtocolType="HTTP", Target=function_arn("echo_event", region))
    quick_items = all_items(gw.get_integrations, ApiId=quick["ApiId"])
    assert len(quick_items) == 1, quick_items
    quick_integration = {
        "IntegrationId": quick_items[0]["IntegrationId"],
        "IntegrationType": quick_items[0]["IntegrationType"],
        "PayloadFormatVersion": quick_items[0].get("PayloadFormatVersion"),
        "IntegrationUri": quick_items[0].get("IntegrationUri"),
    }
    assert quick_integration["IntegrationType"] == "AWS_PROXY", quick_integration
    assert quick_integration["PayloadFormatVersion"] == "2.0", quick_integration

    # Refusals, with nothing stored.
    expected = len(all_items(gw.get_integrations, ApiId=api_id))
    assert expected == len(integrations), (expected, integrations)

    def create(client=gw, **args):
        base = dict(
            ApiId=api_id,
            IntegrationType="AWS_PROXY",
            IntegrationUri=function_arn("echo_event", region),
            PayloadFormatVersion="2.0",
        )
        base.update(args)
        return client.create_integration(**{k: v for k, v in base.items() if v is not None})

    bad = BadRequests()
    for name, uri in [
        ("arn_short_account", f"arn:aws:lambda:{region}:123:function:x"),
        ("arn_no_name", f"arn:aws:lambda:{region}:{ACCOUNT}:function:"),
        ("arn_s3", "arn:aws:s3:::bucket"),
        ("arn_not_an_arn", "not-an-arn"),
        ("arn_gateway_form_bad_path",
         f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function_arn('f', region)}/oops"),
    ]:
        bad.expect(name, lambda uri=uri: create(IntegrationUri=uri))
    bad.expect("missing_uri", lambda: create(IntegrationUri=None))
    bad.expect("payload_3_0", lambda: create(PayloadFormatVersion="3.0"))
    bad.expect("payload_missing", lambda: create(PayloadFormatVersion=None))
    bad.expect("timeout_49", lambda: create(client=lax, TimeoutInMillis=49))
    bad.expect("timeout_30001", lambda: create(TimeoutInMillis=30001))
    bad.expect("method_get", lambda: create(IntegrationMethod="GET"))
    bad.expect("request_parameters", lambda: create(RequestParameters={"overwrite:header.x": "y"}))
    bad.expect(
        "update_payload_9",
        lambda: gw.update_integration(
            ApiId=api_id, IntegrationId=integrations["echo_event"], PayloadFormatVersion="9"
        ),
    )
    kept = gw.get_integration(ApiId=api_id, IntegrationId=integrations["echo_event"])
    assert kept["PayloadFormatVersion"] == "2.0", f"a refused update changes nothing: {kept}"
    bad.expect(
        "quick_create_no_name",
        lambda: gw.create_api(
            Name="quick-lambda-bad", ProtocolType="HTTP", Target=f"arn:aws:lambda:{region}:{ACCOUNT}:function:"
        ),
    )
    stored = len(all_items(gw.get_integrations, ApiId=api_id))
    assert stored == expected, f"refused integrations were stored: {stored} != {expected}"
    leaked = [a["Name"] for a in all_items(gw.get_apis) if a["Name"].startswith("quick-lambda-bad")]
    assert not leaked, f"a refused quick create was stored: {leaked}"

    # Every API built here through its OpenAPI export and back (issue #17).
    from roundtrip import check_roundtrip, validate_document
    roundtrip = check_roundtrip(gw, validate_document)

    return {
        "roundtrip": roundtrip,
        "apiId": api_id,
        "apiEndpoint": api.get("ApiEndpoint"),
        "quickApiId": quick["ApiId"],
        "quickIntegration": quick_integration,
        "integrations": integrations,
        "routes": routes,
        "errors": bad.errors,
        "stored_after_refusals": stored,
        "expected_integrations": expected,
    }


class BadRequests:
    def __init__(self):
        self.errors = {}

    def expect(self, name, call):
        self.errors[name] = expect_error("BadRequestException", call)


def invoke_direct(a):
    lam = boto3.client(
        "lambda",
        endpoint_url=f"http://127.0.0.1:{a.port}",
        region_name=a.region,
        aws_access_key_id=a.access_key or os.environ.get("AWS_ACCESS_KEY_ID"),
        aws_secret_access_key=a.secret_key or os.environ.get("AWS_SECRET_ACCESS_KEY"),
        aws_session_token=a.session_token or os.environ.get("AWS_SESSION_TOKEN"),
        config=Config(retries={"max_attempts": 1}, read_timeout=60),
    )
    args = {"FunctionName": a.function, "Payload": a.payload.encode()}
    if a.qualifier:
        args["Qualifier"] = a.qualifier
    try:
        r = lam.invoke(**args)
    except ClientError as e:  # Lambda's API errors (throttled, not found, bad signature) as data
        return {
            "StatusCode": e.response["ResponseMetadata"]["HTTPStatusCode"],
            "FunctionError": None,
            "Error": {"Code": e.response["Error"]["Code"], "Message": e.response["Error"].get("Message")},
            "Payload": None,
        }
    raw = r["Payload"].read()
    try:
        payload = json.loads(raw)
    except ValueError:
        payload = raw.decode("utf-8", errors="replace")
    return {
        "StatusCode": r["StatusCode"],
        "FunctionError": r.get("FunctionError"),
        "ExecutedVersion": r.get("ExecutedVersion"),
        "Payload": payload,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=["configure", "invoke-direct"])
    p.add_argument("--endpoint", help="Portico's admin endpoint (configure)")
    p.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    p.add_argument("--port", type=int, help="lambda_server.py's port (invoke-direct)")
    p.add_argument("--function", help="FunctionName: a name, name:qualifier or ARN (invoke-direct)")
    p.add_argument("--qualifier")
    p.add_argument("--payload", default="{}", help="JSON event (invoke-direct)")
    p.add_argument("--access-key", help="default: $AWS_ACCESS_KEY_ID")
    p.add_argument("--secret-key", help="default: $AWS_SECRET_ACCESS_KEY")
    p.add_argument("--session-token", help="default: $AWS_SESSION_TOKEN")
    a = p.parse_args()
    if a.command == "configure":
        if not a.endpoint:
            p.error("configure needs --endpoint")
        os.environ["AWS_DEFAULT_REGION"] = a.region  # client() signs for this region
        out = configure(client(a.endpoint), lax_client(a.endpoint, a.region), a.region)
    else:
        if a.port is None or not a.function:
            p.error("invoke-direct needs --port and --function")
        out = invoke_direct(a)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
