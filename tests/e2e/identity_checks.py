"""Admin identity checked with the real AWS clients (boto3, awscli) against a running
Portico control plane. Needs ADMIN_KEY / ADMIN_SECRET (the bootstrap key) in the
environment; the endpoint is the first argument. Prints JSON with what it created,
including secrets, so the caller can check none of them is stored in plain text.
"""
import datetime
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from unittest import mock

import boto3
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

EP = sys.argv[1]
AK = os.environ["ADMIN_KEY"]
SK = os.environ["ADMIN_SECRET"]


def gw(key, secret, region="eu-central-1", **config):
    return boto3.client(
        "apigatewayv2",
        endpoint_url=EP,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}, **config),
    )


def expect_error(name, call):
    try:
        call()
    except Exception as e:  # noqa: BLE001 - botocore builds the class from the error type
        code = getattr(e, "response", {}).get("Error", {}).get("Code")
        assert code == name, f"expected {name}, got {code}: {e}"
        return str(e)
    raise AssertionError(f"expected {name}, but the call succeeded")


def signed(method, path, body=None, key=AK, secret=SK, when=None, tamper=None):
    """A request signed by botocore's own SigV4 signer, sent with urllib."""
    data = json.dumps(body).encode() if body is not None else b""
    req = AWSRequest(method=method, url=EP + path, data=data, headers={"Content-Type": "application/json"})
    signer = SigV4Auth(Credentials(key, secret), "apigateway", "us-east-1")
    if when is not None:
        with mock.patch("botocore.auth.get_current_datetime", return_value=when):
            signer.add_auth(req)
    else:
        signer.add_auth(req)
    prepared = req.prepare()
    sent = tamper if tamper is not None else data
    r = urllib.request.Request(prepared.url, data=sent or None, method=method, headers=dict(prepared.headers))
    try:
        with urllib.request.urlopen(r, timeout=10) as resp:
            raw = resp.read()
            return resp.status, resp.headers.get("x-amzn-ErrorType"), json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        raw = e.read()
        return e.code, e.headers.get("x-amzn-ErrorType"), json.loads(raw) if raw else None


def aws_cli(key, secret, *args):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret,
               AWS_DEFAULT_REGION="ap-southeast-2", AWS_EC2_METADATA_DISABLED="true")
    return subprocess.run(["aws", "apigatewayv2", "--endpoint-url", EP, "--output", "json", *args],
                          env=env, capture_output=True, text=True, timeout=60)


out = {}

# The bootstrap key works from any region, with boto3 and with the CLI.
gw(AK, SK).get_apis()
gw(AK, SK, region="us-west-2").get_apis()
cli = aws_cli(AK, SK, "get-apis")
assert cli.returncode == 0, cli.stderr
cli = aws_cli(AK, "wrong-secret-wrong-secret", "get-apis")
assert cli.returncode != 0 and "InvalidSignatureException" in cli.stderr, cli.stderr

# Refusals, in AWS's words.
out["wrong_secret"] = expect_error("InvalidSignatureException", lambda: gw(AK, "wrong-secret-wrong-secret").get_apis())
out["unknown_key"] = expect_error("UnrecognizedClientException", lambda: gw("PKIAUNKNOWNUNKNOWN12", SK).get_apis())
out["unsigned"] = expect_error(
    "MissingAuthenticationTokenException", lambda: gw("x", "y", signature_version=UNSIGNED).get_apis()
)
stale = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(minutes=20)
status, etype, body = signed("GET", "/v2/apis", when=stale)
assert (status, etype) == (403, "InvalidSignatureException"), (status, etype, body)
assert "Signature expired" in body["message"], body
original = {"name": "tamper", "protocolType": "HTTP"}
status, etype, body = signed("POST", "/v2/apis", original, tamper=json.dumps({"name": "tampez", "protocolType": "HTTP"}).encode())
assert (status, etype) == (403, "InvalidSignatureException"), (status, etype, body)

# Users and keys, made by the admin.
for name, role in [("vera", "viewer"), ("eddie", "editor")]:
    status, _, body = signed("POST", "/portico/users", {"userName": name, "role": role, "password": f"{name} has a long password"})
    assert status == 201 and body["role"] == role, body
    status, _, key = signed("POST", f"/portico/users/{name}/access-keys")
    assert status == 201 and key["secretAccessKey"], key
    out[name] = {"key": key["accessKeyId"], "secret": key["secretAccessKey"], "password": f"{name} has a long password"}
status, _, listed = signed("GET", "/portico/users/vera/access-keys")
assert status == 200 and "secretAccessKey" not in listed["items"][0], listed

vera, eddie = out["vera"], out["eddie"]
gw(vera["key"], vera["secret"]).get_apis()
out["viewer_create"] = expect_error(
    "AccessDeniedException", lambda: gw(vera["key"], vera["secret"]).create_api(Name="nope", ProtocolType="HTTP")
)
api = gw(eddie["key"], eddie["secret"]).create_api(Name="by-editor", ProtocolType="HTTP")
out["editor_api"] = api["ApiId"]
status, etype, _ = signed("POST", "/portico/users", {"userName": "mallory", "role": "admin"}, key=eddie["key"], secret=eddie["secret"])
assert (status, etype) == (403, "AccessDeniedException"), (status, etype)

# Rotation: the old key stops working, the new one works.
status, _, rotated = signed("POST", f"/portico/users/eddie/access-keys/{eddie['key']}/rotate")
assert status == 201, rotated
expect_error("UnrecognizedClientException", lambda: gw(eddie["key"], eddie["secret"]).get_apis())
gw(rotated["accessKeyId"], rotated["secretAccessKey"]).get_apis()
out["eddie_rotated"] = {"key": rotated["accessKeyId"], "secret": rotated["secretAccessKey"]}

# A disabled user's keys stop working.
status, _, _ = signed("PATCH", "/portico/users/vera", {"disabled": True})
assert status == 200
expect_error("AccessDeniedException", lambda: gw(vera["key"], vera["secret"]).get_apis())

# The audit log says who did what, how and from where.
status, _, audit = signed("GET", "/portico/audit?maxResults=50")
assert status == 200, audit
created = [e for e in audit["items"] if e["action"] == "CreateApi"]
assert created and created[0]["actor"] == "eddie", audit
assert created[0]["via"] == f"access-key:{eddie['key']}", created[0]
assert created[0]["source"] == "127.0.0.1", created[0]
assert created[0]["resourceId"] == out["editor_api"], created[0]

json.dump(out, sys.stdout)
