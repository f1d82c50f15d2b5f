"""Self-test of lambda_server.py against botocore's real Lambda client (loopback only).

    python3 tests/e2e/lambda_server_selftest.py

Starts lambda_server.py (three times: plain keys, with a session token, unsigned), invokes
it with boto3 and with hand-built signed requests, and checks each answer is Lambda's.
Prints one JSON object on stdout ({"ok": true, "checks": [...]}) and exits 0 on success,
1 on the first failed check (the traceback and the servers' stderr go to stderr).
"""
import base64
import contextlib
import datetime
import http.client
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from unittest import mock
from urllib.parse import urlsplit

import boto3
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from lambda_handlers import PNG_1X1  # noqa: E402

AK, SK, TOKEN = "AKIDEXAMPLE", "secret", "session-token-for-tests"
REGION = "us-east-1"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:"
INVOKE = "/2015-03-31/functions/{}/invocations"
TIME_LIMIT = 240  # seconds for the whole run

# The sample events of "Working with AWS Lambda proxy integrations for HTTP APIs", with
# values of our own.
SAMPLE_V2 = {
    "version": "2.0",
    "routeKey": "POST /notes/{id}",
    "rawPath": "/dev/notes/42",
    "rawQueryString": "tag=a&tag=b&limit=5",
    "cookies": ["session=abc123", "theme=dark"],
    "headers": {"content-type": "application/json", "x-forwarded-for": "198.51.100.7", "x-tags": "one,two"},
    "queryStringParameters": {"tag": "a,b", "limit": "5"},
    "requestContext": {
        "accountId": "123456789012",
        "apiId": "a1b2c3d4e5",
        "authorizer": {"jwt": {"claims": {"sub": "user-1", "scope": "notes/write"}, "scopes": ["notes/write"]}},
        "domainName": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
        "domainPrefix": "a1b2c3d4e5",
        "http": {
            "method": "POST",
            "path": "/dev/notes/42",
            "protocol": "HTTP/1.1",
            "sourceIp": "198.51.100.7",
            "userAgent": "selftest/1.0",
        },
        "requestId": "Ab1Cd2Ef3Gh4=",
        "routeKey": "POST /notes/{id}",
        "stage": "dev",
        "time": "05/Jan/2024:10:20:30 +0000",
        "timeEpoch": 1704450030123,
    },
    "body": '{"text": "hello"}',
    "pathParameters": {"id": "42"},
    "isBase64Encoded": False,
    "stageVariables": {"env": "dev"},
}

SAMPLE_V1 = {
    "version": "1.0",
    "resource": "/notes/{id}",
    "path": "/dev/notes/42",
    "httpMethod": "GET",
    "headers": {"accept": "application/json", "x-tags": "two"},
    "multiValueHeaders": {"accept": ["application/json"], "x-tags": ["one", "two"]},
    "queryStringParameters": {"tag": "b", "limit": "5"},
    "multiValueQueryStringParameters": {"tag": ["a", "b"], "limit": ["5"]},
    "requestContext": {
        "accountId": "123456789012",
        "apiId": "a1b2c3d4e5",
        "authorizer": {"claims": None, "scopes": None},
        "domainName": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
        "domainPrefix": "a1b2c3d4e5",
        "extendedRequestId": "Xy9Zw8=",
        "httpMethod": "GET",
        "identity": {
            "accessKey": None,
            "accountId": None,
            "caller": None,
            "cognitoAuthenticationProvider": None,
            "cognitoAuthenticationType": None,
            "cognitoIdentityId": None,
            "cognitoIdentityPoolId": None,
            "principalOrgId": None,
            "sourceIp": "198.51.100.7",
            "user": None,
            "userAgent": "selftest/1.0",
            "userArn": None,
        },
        "path": "/dev/notes/42",
        "protocol": "HTTP/1.1",
        "requestId": "Xy9Zw8=",
        "requestTime": "05/Jan/2024:10:20:30 +0000",
        "requestTimeEpoch": 1704450030123,
        "resourceId": None,
        "resourcePath": "/notes/{id}",
        "stage": "dev",
    },
    "pathParameters": {"id": "42"},
    "stageVariables": {"env": "dev"},
    "body": None,
    "isBase64Encoded": False,
}

# The sample events of "Working with AWS Lambda authorizers for HTTP APIs" (REQUEST type),
# with values of our own and the token in the Authorization header (the identity source
# is that header and the query's "key").
ROUTE_ARN = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/dev/GET/notes/42"


def auth_event_v2(token="allow"):
    headers = {"x-forwarded-for": "198.51.100.7", "user-agent": "selftest/1.0"}
    if token is not None:
        headers["authorization"] = token
    return {
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": ROUTE_ARN,
        "identitySource": [token or "", "v1"],
        "routeKey": "GET /notes/{id}",
        "rawPath": "/dev/notes/42",
        "rawQueryString": "key=v1&tag=a&tag=b",
        "cookies": ["session=abc123"],
        "headers": headers,
        "queryStringParameters": {"key": "v1", "tag": "a,b"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "a1b2c3d4e5",
            "domainName": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "a1b2c3d4e5",
            "http": {
                "method": "GET",
                "path": "/dev/notes/42",
                "protocol": "HTTP/1.1",
                "sourceIp": "198.51.100.7",
                "userAgent": "selftest/1.0",
            },
            "requestId": "Ab1Cd2Ef3Gh4=",
            "routeKey": "GET /notes/{id}",
            "stage": "dev",
            "time": "05/Jan/2024:10:20:30 +0000",
            "timeEpoch": 1704450030123,
        },
        "pathParameters": {"id": "42"},
        "stageVariables": {"env": "dev"},
    }


def auth_event_v1(token="allow", header_name="Authorization"):
    """Payload 1.0 keeps header names as sent; identitySource is one comma-joined string."""
    headers = {"Accept": "application/json", "User-Agent": "selftest/1.0"}
    if token is not None:
        headers[header_name] = token
    identity = f"{token or ''},v1"
    return {
        "version": "1.0",
        "type": "REQUEST",
        "methodArn": ROUTE_ARN,
        "identitySource": identity,
        "authorizationToken": identity,
        "resource": "/notes/{id}",
        "path": "/dev/notes/42",
        "httpMethod": "GET",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {"key": "v1", "tag": "b"},
        "multiValueQueryStringParameters": {"key": ["v1"], "tag": ["a", "b"]},
        "requestContext": dict(SAMPLE_V1["requestContext"], authorizer=None),
        "pathParameters": {"id": "42"},
        "stageVariables": {"env": "dev"},
    }


CHECKS = []


def check(name, condition, detail=None):
    if not condition:
        raise AssertionError(f"{name}: {detail!r}")
    CHECKS.append(name)


class Server:
    def __init__(self, *extra):
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "lambda_server.py"), "--port", "0",
             "--handlers", "lambda_handlers", *extra],
            cwd=HERE, stdout=subprocess.PIPE, stderr=self.stderr,
        )
        ready, _, _ = select.select([self.proc.stdout], [], [], 60)
        line = self.proc.stdout.readline() if ready else b""
        if not line:
            self.proc.kill()
            raise AssertionError(f"server did not start: {self.errors()}")
        self.first_line = line.decode()
        self.port = json.loads(line)["port"]

    def errors(self):
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                return self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return None
        return self.proc.returncode

    def recorded(self, method="GET", path="/_recorded"):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request(method, path)
        resp = conn.getresponse()
        data = json.loads(resp.read())
        conn.close()
        return data


def lam(port, key=AK, secret=SK, token=None, unsigned=False):
    cfg = Config(retries={"max_attempts": 1}, read_timeout=20, connect_timeout=5)
    if unsigned:
        cfg = cfg.merge(Config(signature_version=UNSIGNED))
    return boto3.client(
        "lambda", endpoint_url=f"http://127.0.0.1:{port}", region_name=REGION,
        aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token, config=cfg,
    )


def error_code(call):
    try:
        call()
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"].get("Message"), e.response
    raise AssertionError("the call succeeded")


def invoke_json(client, **kw):
    r = client.invoke(**kw)
    raw = r["Payload"].read()
    return r, raw


class _AllHeadersSigV4(SigV4Auth):
    """Signs every header given, even those botocore never signs (user-agent, ...)."""

    def headers_to_sign(self, request):
        m = HTTPHeaders()
        for name, value in request.headers.items():
            if name.lower() != "authorization":
                m[name.lower()] = value
        return m


def signed(port, path, body, *, key=AK, secret=SK, token=None, when=None, headers=None,
           params=None, signer_cls=SigV4Auth):
    """Signs a POST with botocore (at time `when` if given); returns (target, headers)."""
    req = AWSRequest(
        method="POST", url=f"http://127.0.0.1:{port}{path}", data=body,
        headers={"Host": f"127.0.0.1:{port}", "Content-Type": "application/json", **(headers or {})},
        params=params,
    )
    signer = signer_cls(Credentials(key, secret, token), "lambda", REGION)
    patch = mock.patch("botocore.auth.get_current_datetime", return_value=when) if when else contextlib.nullcontext()
    with patch:
        signer.add_auth(req)
    prepared = req.prepare()
    parts = urlsplit(prepared.url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    return target, dict(prepared.headers.items())


def send(conn, target, headers, body):
    conn.request("POST", target, body=body, headers=headers)
    resp = conn.getresponse()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()


def main_checks():
    server = Server("--access-key", AK, "--secret-key", SK)
    token_server = Server("--access-key", AK, "--secret-key", SK, "--session-token", TOKEN)
    open_server = Server("--no-verify")
    servers = [server, token_server, open_server]
    try:
        run(server, token_server, open_server)
    except BaseException:
        for s in servers:
            print(f"--- server on {s.port} stderr ---\n{s.errors()}", file=sys.stderr)
        raise
    finally:
        rcs = [s.stop() for s in servers]
    check("sigterm_exits_cleanly", rcs == [0, 0, 0], rcs)
    s = Server("--no-verify")
    check("sigint_exits_cleanly", s.stop(signal.SIGINT) == 0)


def run(server, token_server, open_server):
    port = server.port
    check("prints_port_line", server.first_line == json.dumps({"port": port}) + "\n", server.first_line)
    c = lam(port)

    # Handlers run, by bare name, name:qualifier, ?Qualifier, partial and full ARN.
    r, raw = invoke_json(c, FunctionName="plain_object", Payload=b"{}")
    check("bare_name", r["StatusCode"] == 200 and json.loads(raw) == {"message": "Hello from Lambda!"}, raw)
    check("executed_version", r["ExecutedVersion"] == "$LATEST", r)
    check("no_function_error", "FunctionError" not in r, r)
    h = r["ResponseMetadata"]["HTTPHeaders"]
    check("content_type_json", h.get("content-type") == "application/json", h)
    check("request_id_header", len(h.get("x-amzn-requestid", "")) == 36, h)
    for fn, qualifier, arn in [
        ("whoami", None, ARN + "whoami"),
        ("whoami:live", None, ARN + "whoami:live"),
        ("whoami", "live", ARN + "whoami:live"),
        ("whoami", "$LATEST", ARN + "whoami:$LATEST"),
        ("123456789012:function:whoami", None, ARN + "whoami"),
        (ARN + "whoami", None, ARN + "whoami"),
        (ARN + "whoami:live", "live", ARN + "whoami:live"),
        (ARN + "whoami:$LATEST", None, ARN + "whoami:$LATEST"),  # the path Portico builds
        ("arn:aws:lambda:eu-west-1:210987654321:function:whoami", None,
         "arn:aws:lambda:eu-west-1:210987654321:function:whoami"),
    ]:
        kw = {"Qualifier": qualifier} if qualifier else {}
        r, raw = invoke_json(c, FunctionName=fn, Payload=b'{"k": 1}', **kw)
        ctx = json.loads(raw)
        check(f"invoke[{fn}|{qualifier}]", ctx["invoked_function_arn"] == arn and ctx["function_name"] == "whoami"
              and ctx["function_version"] == "$LATEST" and ctx["memory_limit_in_mb"] == 128
              and 0 < ctx["remaining_time_in_millis"] <= 30000
              and ctx["aws_request_id"] == r["ResponseMetadata"]["RequestId"], ctx)
    code, msg, _ = error_code(lambda: c.invoke(FunctionName="whoami:a", Qualifier="b", Payload=b"{}"))
    check("qualifier_conflict", code == "InvalidParameterValueException", (code, msg))
    code, msg, _ = error_code(lambda: c.invoke(FunctionName="bad name!", Payload=b"{}"))
    check("malformed_name", code == "ValidationException", (code, msg))

    # Payload shapes.
    r, raw = invoke_json(c, FunctionName="plain_string", Payload=b"{}")
    check("plain_string", json.loads(raw) == "Hello from Lambda!", raw)
    r, raw = invoke_json(c, FunctionName="garbage", Payload=b"{}")
    check("garbage_raw_bytes", raw == b"not json {" and "FunctionError" not in r, raw)
    r, raw = invoke_json(c, FunctionName="binary", Payload=b"{}")
    out = json.loads(raw)
    check("binary_png", out["isBase64Encoded"] is True and base64.b64decode(out["body"]) == PNG_1X1
          and PNG_1X1.startswith(b"\x89PNG\r\n\x1a\n") and out["headers"]["content-type"] == "image/png", out)
    blob = bytes(range(256))
    r, raw = invoke_json(c, FunctionName="echo_binary", Payload=json.dumps(
        {"body": base64.b64encode(blob).decode(), "isBase64Encoded": True}).encode())
    check("echo_binary", base64.b64decode(json.loads(raw)["body"]) == blob, raw[:100])
    r, raw = invoke_json(c, FunctionName="notes_post", Payload=json.dumps(
        {"version": "2.0", "body": base64.b64encode(b'{"text": "first"}').decode(), "isBase64Encoded": True}).encode())
    created = json.loads(raw)
    note = json.loads(created["body"])
    check("notes_post", created["statusCode"] == 201 and note["text"] == "first", created)
    r, raw = invoke_json(c, FunctionName="notes_get", Payload=json.dumps(
        {"version": "1.0", "pathParameters": {"id": note["id"]}}).encode())
    check("notes_get_one_v1", json.loads(json.loads(raw)["body"]) == note, raw)
    r, raw = invoke_json(c, FunctionName="notes_get", Payload=b'{"version": "2.0"}')
    check("notes_get_list", note in json.loads(json.loads(raw)["body"]), raw)
    r, raw = invoke_json(c, FunctionName="notes_get", Payload=b'{"version": "2.0", "pathParameters": {"id": "nope"}}')
    check("notes_get_missing", json.loads(raw)["statusCode"] == 404
          and json.loads(json.loads(raw)["body"]) == {"message": "note not found"}, raw)
    r, raw = invoke_json(c, FunctionName="sleepy", Payload=b'{"queryStringParameters": {"seconds": "0.2"}}')
    check("sleepy", json.loads(raw)["statusCode"] == 200, raw)

    # Function errors, throttling, unknown functions, bad requests.
    r, raw = invoke_json(c, FunctionName="raises", Payload=b"{}")
    err = json.loads(raw)
    check("unhandled_error", r["StatusCode"] == 200 and r.get("FunctionError") == "Unhandled"
          and err["errorMessage"] == "boom" and err["errorType"] == "ValueError"
          and err["requestId"] == r["ResponseMetadata"]["RequestId"]
          and any("raise ValueError" in line for line in err["stackTrace"]), (r, err))
    try:
        c.invoke(FunctionName="throttled", Payload=b"{}")
        raise AssertionError("throttled succeeded")
    except c.exceptions.TooManyRequestsException as e:
        check("throttled", e.response["ResponseMetadata"]["HTTPStatusCode"] == 429
              and e.response.get("Reason") == "ReservedFunctionConcurrentInvocationLimitExceeded"
              and e.response["Error"]["Message"] == "Rate Exceeded.", e.response)
    try:
        c.invoke(FunctionName=ARN + "missing_fn", Payload=b"{}")
        raise AssertionError("missing function succeeded")
    except c.exceptions.ResourceNotFoundException as e:
        check("not_found", e.response["ResponseMetadata"]["HTTPStatusCode"] == 404
              and e.response["Error"]["Message"] == f"Function not found: {ARN}missing_fn"
              and e.response.get("Type") == "User", e.response)
    code, msg, _ = error_code(lambda: c.invoke(FunctionName="missing_fn", Qualifier="live", Payload=b"{}"))
    check("not_found_qualified", code == "ResourceNotFoundException" and msg.endswith("function:missing_fn:live"), msg)
    code, msg, _ = error_code(lambda: c.invoke(FunctionName="echo_event", Payload=b"not json {"))
    check("bad_json", code == "InvalidRequestContentException"
          and msg.startswith("Could not parse request body into json"), (code, msg))
    r, raw = invoke_json(c, FunctionName="echo_event")
    check("empty_payload_is_empty_object", json.loads(json.loads(raw)["body"]) == {}, raw)
    for kind in ("Event", "DryRun"):
        code, msg, _ = error_code(lambda: c.invoke(FunctionName="echo_event", InvocationType=kind, Payload=b"{}"))
        check(f"invocation_type_{kind}", code == "InvalidParameterValueException", (code, msg))
    r, raw = invoke_json(c, FunctionName="plain_object", LogType="Tail", Payload=b"{}")
    check("log_tail", b"REPORT RequestId" in base64.b64decode(r["LogResult"]), r.get("LogResult"))
    at_limit = b'"' + b"a" * (6 * 1024 * 1024 - 2) + b'"'
    r, raw = invoke_json(c, FunctionName="plain_object", Payload=at_limit)
    check("payload_at_6mb", r["StatusCode"] == 200, r["StatusCode"])
    code, msg, resp = error_code(lambda: c.invoke(FunctionName="plain_object", Payload=at_limit[:-1] + b'a"'))
    check("payload_over_6mb", code == "RequestEntityTooLargeException"
          and resp["ResponseMetadata"]["HTTPStatusCode"] == 413, (code, msg))

    # Signatures.
    server.recorded("DELETE")
    lam(port).invoke(FunctionName="plain_object", Payload=b"{}")
    code, msg, resp = error_code(lambda: lam(port, secret="wrong").invoke(FunctionName="plain_object", Payload=b"{}"))
    check("wrong_secret", code == "InvalidSignatureException" and resp["ResponseMetadata"]["HTTPStatusCode"] == 403
          and msg.startswith("The request signature we calculated does not match"), (code, msg))
    code, msg, resp = error_code(lambda: lam(port, key="AKIDOTHER").invoke(FunctionName="plain_object", Payload=b"{}"))
    check("wrong_access_key", code == "UnrecognizedClientException"
          and resp["ResponseMetadata"]["HTTPStatusCode"] == 403, (code, msg))
    code, msg, resp = error_code(lambda: lam(port, unsigned=True).invoke(FunctionName="plain_object", Payload=b"{}"))
    check("unsigned", code == "MissingAuthenticationTokenException"
          and resp["ResponseMetadata"]["HTTPStatusCode"] == 403, (code, msg))
    code, msg, _ = error_code(lambda: lam(port, token="unexpected").invoke(FunctionName="plain_object", Payload=b"{}"))
    check("token_not_configured", code == "UnrecognizedClientException", (code, msg))
    rec = server.recorded()
    check("counters", rec["verified"] == 1 and rec["rejected"] == 4, {k: rec[k] for k in ("verified", "rejected")})
    check("recorded_only_verified", [i["function"] for i in rec["invocations"]] == ["plain_object"], rec["invocations"])

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    path = INVOKE.format("plain_object")
    for name, when, fragment in [
        ("expired", now - datetime.timedelta(minutes=6), "Signature expired"),
        ("future", now + datetime.timedelta(minutes=6), "Signature not yet current"),
    ]:
        target, headers = signed(port, path, b"{}", when=when)
        status, h, body = send(conn, target, headers, b"{}")
        check(f"clock_{name}", status == 403 and h["x-amzn-errortype"] == "InvalidSignatureException"
              and fragment in json.loads(body)["message"], (status, body))
    target, headers = signed(port, path, b"{}", when=now - datetime.timedelta(minutes=4))
    status, h, body = send(conn, target, headers, b"{}")
    check("clock_within_5min", status == 200, (status, body))
    target, headers = signed(port, path, b'{"a":1}')
    status, h, body = send(conn, target, headers, b'{"a":2}')
    check("tampered_body", status == 403 and "The Canonical String for this request should have been"
          in json.loads(body)["message"], (status, body))
    target, headers = signed(port, path, b"{}", headers={"X-Amz-Content-SHA256": "0" * 64})
    status, h, body = send(conn, target, headers, b"{}")
    check("content_sha_mismatch", status == 403 and h["x-amzn-errortype"] == "InvalidSignatureException", body)
    target, headers = signed(port, path, b"{}", headers={"X-Amz-Content-SHA256": __import__("hashlib").sha256(b"{}").hexdigest()})
    status, h, body = send(conn, target, headers, b"{}")
    check("content_sha_signed", status == 200, body)
    # ':' left raw in the path (canonical URI then has %3A) and %3A on the wire (%253A): both verify.
    target, headers = signed(port, INVOKE.format(ARN + "plain_object"), b"{}")
    check("raw_colon_target", ":" in target, target)
    status, h, body = send(conn, target, headers, b"{}")
    check("raw_colon_path", status == 200, (status, body))
    # A spec-canonical query (Qualifier=%24LATEST) for a URL that carries '$' raw.
    target, headers = signed(port, path, b"{}", params={"Qualifier": "$LATEST"})
    check("encoded_query_target", target.endswith("?Qualifier=%24LATEST"), target)
    status, h, body = send(conn, target.replace("%24", "$"), headers, b"{}")
    check("raw_query_value", status == 200, (status, body))
    # A client that signs user-agent (botocore never does) is verified over what it signed.
    target, headers = signed(port, path, b"{}", headers={"User-Agent": "portico/1"}, signer_cls=_AllHeadersSigV4)
    check("user_agent_signed", "user-agent" in headers["Authorization"], headers["Authorization"])
    status, h, body = send(conn, target, headers, b"{}")
    check("signed_user_agent", status == 200, (status, body))
    # Chunked request body.
    target, headers = signed(port, path, b'{"x": 1}')
    headers.pop("Content-Length", None)
    conn.request("POST", target, body=iter([b'{"x"', b": 1}"]), headers=headers, encode_chunked=True)
    resp = conn.getresponse()
    check("chunked_body", resp.status == 200, (resp.status, resp.read()))
    resp.read()
    conn.close()

    # Keep-alive: requests (good and refused) share one connection.
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    target, headers = signed(port, path, b"{}")
    status1, h1, _ = send(conn, target, headers, b"{}")
    sock = conn.sock
    target, headers = signed(port, INVOKE.format("missing_fn"), b"{}")
    status2, h2, _ = send(conn, target, headers, b"{}")
    target, headers = signed(port, INVOKE.format("whoami"), b"{}")
    status3, h3, _ = send(conn, target, headers, b"{}")
    check("keep_alive", (status1, status2, status3) == (200, 404, 200) and sock is not None and conn.sock is sock
          and all(h.get("connection") != "close" and "content-length" in h for h in (h1, h2, h3)), (status1, status2, status3))
    conn.close()

    # Session tokens.
    tp = token_server.port
    r, raw = invoke_json(lam(tp, token=TOKEN), FunctionName="plain_object", Payload=b"{}")
    check("token_ok", r["StatusCode"] == 200, r)
    for name, token in [("token_missing", None), ("token_wrong", "other-token")]:
        code, msg, resp = error_code(lambda: lam(tp, token=token).invoke(FunctionName="plain_object", Payload=b"{}"))
        check(name, code == "UnrecognizedClientException" and resp["ResponseMetadata"]["HTTPStatusCode"] == 403, (code, msg))
    conn = http.client.HTTPConnection("127.0.0.1", tp, timeout=10)
    target, headers = signed(tp, path, b"{}")
    headers["X-Amz-Security-Token"] = TOKEN
    status, h, body = send(conn, target, headers, b"{}")
    check("token_unsigned", status == 403 and h["x-amzn-errortype"] == "InvalidSignatureException", body)
    conn.close()
    check("token_counters", token_server.recorded()["verified"] == 1, token_server.recorded()["verified"])

    # --no-verify accepts unsigned requests.
    r, raw = invoke_json(lam(open_server.port, unsigned=True), FunctionName="plain_object", Payload=b"{}")
    check("no_verify", r["StatusCode"] == 200 and open_server.recorded()["verified"] == 0, r)

    # Schema check with powertools' models.
    server.recorded("DELETE")
    for name, event in [("v2", SAMPLE_V2), ("v1", SAMPLE_V1)]:
        r, raw = invoke_json(c, FunctionName=ARN + "echo_event", Payload=json.dumps(event).encode())
        check(f"echo_{name}", json.loads(json.loads(raw)["body"]) == event, raw[:200])
    broken_v2 = {k: v for k, v in SAMPLE_V2.items() if k != "requestContext"}
    broken_v1 = dict(SAMPLE_V1, httpMethod="FETCH")
    invoke_json(c, FunctionName="echo_event", Payload=json.dumps(broken_v2).encode())
    invoke_json(c, FunctionName="echo_event", Payload=json.dumps(broken_v1).encode())
    rec = server.recorded()
    items = rec["invocations"]
    check("recorded_four", len(items) == 4 and all(i["function"] == "echo_event" for i in items), items)
    check("schema_v2_valid", items[0]["schema_errors"] is None and items[0]["event"] == SAMPLE_V2, items[0]["schema_errors"])
    check("schema_v1_valid", items[1]["schema_errors"] is None and items[1]["event"] == SAMPLE_V1, items[1]["schema_errors"])
    check("schema_v2_invalid", "requestContext" in (items[2]["schema_errors"] or ""), items[2]["schema_errors"])
    check("schema_v1_invalid", "httpMethod" in (items[3]["schema_errors"] or ""), items[3]["schema_errors"])
    check("record_fields", items[0]["invoked_function_arn"] == ARN + "echo_event" and items[0]["qualifier"] is None
          and len(items[0]["request_id"]) == 36, items[0])
    check("recorded_filter", len(server.recorded(path="/_recorded?function=nope")["invocations"]) == 0)
    authorizer_checks(server, c)
    server.recorded("DELETE")
    cleared = server.recorded()
    # The GET that reads the record came on a connection of its own, counted after clearing.
    check("cleared", cleared == {"invocations": [], "verified": 0, "rejected": 0, "connections": 1}, cleared)


def authorizer_checks(server, c):
    """The Lambda authorizer handlers, on 2.0 and 1.0 events, and the schema check of
    authorizer events."""
    server.recorded("DELETE")

    def call(function, event):
        r, raw = invoke_json(c, FunctionName=function, Payload=json.dumps(event).encode())
        return r.get("FunctionError"), json.loads(raw)

    allowed = {"isAuthorized": True, "context": {"user": "alice", "tier": "gold", "quota": 7, "admin": False}}
    check("auth_simple_allow", call("authorizer_simple", auth_event_v2("allow")) == (None, allowed))
    check("auth_simple_bearer", call("authorizer_simple", auth_event_v2("Bearer allow")) == (None, allowed))
    check("auth_simple_v1_header_case", call("authorizer_simple", auth_event_v1("allow", "AUTHORIZATION"))
          == (None, allowed))
    for token in ("deny", "whatever", None):
        check(f"auth_simple_{token}", call("authorizer_simple", auth_event_v2(token)) == (None, {"isAuthorized": False}))
    error, body = call("authorizer_simple", auth_event_v2("boom"))
    check("auth_simple_boom", error == "Unhandled" and body["errorType"] == "RuntimeError", body)

    def policy(effect, resource, context=True):
        p = {"principalId": "user-42", "policyDocument": {"Version": "2012-10-17", "Statement": [
            {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}]}}
        if context:
            p["context"] = {"user": "bob", "plan": "pro"}
        return p

    api = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5"
    for name, make in [("v2", auth_event_v2), ("v1", auth_event_v1)]:
        for token, expected in [
            ("allow", policy("Allow", ROUTE_ARN)),
            ("wildcard", policy("Allow", api + "/*")),
            ("other", policy("Allow", api + "/dev/DELETE/nowhere")),
            ("deny", policy("Deny", ROUTE_ARN, context=False)),
            ("whatever", policy("Deny", ROUTE_ARN, context=False)),
        ]:
            got = call("authorizer_policy", make(token))
            check(f"auth_policy_{name}_{token}", got == (None, expected), got)
        error, body = call("authorizer_policy", make("boom"))
        check(f"auth_policy_{name}_boom", error == "Unhandled" and body["errorType"] == "RuntimeError", body)
    check("auth_echo_v2", call("authorizer_echo", auth_event_v2("tok")) ==
          (None, {"isAuthorized": True, "context": {"identity": "tok,v1"}}))
    check("auth_echo_v1", call("authorizer_echo", auth_event_v1("tok")) ==
          (None, {"isAuthorized": True, "context": {"identity": "tok,v1"}}))

    items = server.recorded()["invocations"]
    check("auth_recorded", len(items) == 21 and {i["function"] for i in items}
          == {"authorizer_simple", "authorizer_policy", "authorizer_echo"}, len(items))
    bad = [(i["function"], i["event"].get("version"), i["schema_errors"]) for i in items if i["schema_errors"]]
    check("auth_schema_valid", not bad, bad)
    check("auth_recorded_filter", len(server.recorded(path="/_recorded?function=authorizer_echo")["invocations"]) == 2)

    # Authorizer events the models refuse.
    server.recorded("DELETE")
    no_route_arn = {k: v for k, v in auth_event_v2().items() if k != "routeArn"}
    no_method_arn = {k: v for k, v in auth_event_v1().items() if k != "methodArn"}
    list_identity_v1 = dict(auth_event_v1(), identitySource=["allow", "v1"])
    string_identity_v2 = dict(auth_event_v2(), identitySource="allow,v1")
    for event in (no_route_arn, no_method_arn, list_identity_v1, string_identity_v2):
        call("authorizer_echo", event)
    errors = [i["schema_errors"] or "" for i in server.recorded()["invocations"]]
    check("auth_schema_v2_route_arn", "routeArn" in errors[0], errors[0])
    check("auth_schema_v1_method_arn", "methodArn" in errors[1], errors[1])
    check("auth_schema_v1_identity_string", "identitySource" in errors[2], errors[2])
    check("auth_schema_v2_identity_list", "identitySource" in errors[3], errors[3])


def main():
    def timeout(signum, frame):
        raise TimeoutError(f"self-test took more than {TIME_LIMIT}s")

    signal.signal(signal.SIGALRM, timeout)
    signal.alarm(TIME_LIMIT)
    started = time.monotonic()
    try:
        main_checks()
    except BaseException:  # noqa: BLE001 - report and fail
        traceback.print_exc()
        json.dump({"ok": False, "checks": CHECKS}, sys.stdout)
        print()
        sys.exit(1)
    json.dump({"ok": True, "checks": CHECKS, "seconds": round(time.monotonic() - started, 1)}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
