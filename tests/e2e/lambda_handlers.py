"""The Lambda functions lambda_server.py runs for Portico's tests: the notes API of the
guide on Lambda, and functions that answer every shape (and misshape) of response a
gateway has to handle.

Each handler takes (event, context) as on Lambda. Events of payload format 2.0 and 1.0
are told apart by event["version"] ("2.0" / "1.0").
"""
import base64
import itertools
import json
import struct
import threading
import time
import zlib

from lambda_runtime_types import RawPayload, Throttle

JSON = {"content-type": "application/json"}

_notes = {}
_notes_lock = threading.Lock()
_ids = itertools.count(1)


def _png_1x1():
    """A valid 1x1 PNG (one opaque red RGBA pixel)."""

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)  # width, height, depth 8, RGBA
    pixels = zlib.compress(b"\x00" + b"\xff\x00\x00\xff")  # filter byte "none", then RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


PNG_1X1 = _png_1x1()


def _response(status, body, headers=JSON):
    return {"statusCode": status, "headers": dict(headers), "body": json.dumps(body)}


def _path_parameter(event, name):
    return (event.get("pathParameters") or {}).get(name)


def _query_parameter(event, name, default=None):
    return (event.get("queryStringParameters") or {}).get(name, default)


def _body_bytes(event):
    body = event.get("body")
    if body is None:
        return b""
    if event.get("isBase64Encoded"):
        return base64.b64decode(body)
    return body.encode("utf-8")


def notes_get(event, context):
    note_id = _path_parameter(event, "id")
    with _notes_lock:
        if note_id is None:
            return _response(200, list(_notes.values()))
        note = _notes.get(note_id)
    if note is None:
        return _response(404, {"message": "note not found"})
    return _response(200, note)


def notes_post(event, context):
    try:
        data = json.loads(_body_bytes(event) or b"null")
    except ValueError:
        return _response(400, {"message": "body is not JSON"})
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        return _response(400, {"message": 'expected {"text": "..."}'})
    with _notes_lock:
        note = {"id": str(next(_ids)), "text": data["text"]}
        _notes[note["id"]] = note
    return _response(201, note)


def echo_event(event, context):
    return _response(200, event)


def whoami(event, context):
    """The context object the server gave the handler."""
    return {
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "aws_request_id": context.aws_request_id,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "remaining_time_in_millis": context.get_remaining_time_in_millis(),
    }


def plain_string(event, context):
    return "Hello from Lambda!"


def plain_object(event, context):
    return {"message": "Hello from Lambda!"}


def with_cookies(event, context):
    return {
        "statusCode": 201,
        "cookies": ["a=1; Path=/", "b=2; HttpOnly"],
        "headers": {"x-single": "one"},
        "multiValueHeaders": {"x-multi": ["m1", "m2"]},
        "body": "cookies set",
    }


def binary(event, context):
    return {
        "statusCode": 200,
        "headers": {"content-type": "image/png"},
        "body": base64.b64encode(PNG_1X1).decode("ascii"),
        "isBase64Encoded": True,
    }


def echo_binary(event, context):
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/octet-stream"},
        "body": base64.b64encode(_body_bytes(event)).decode("ascii"),
        "isBase64Encoded": True,
    }


def raises(event, context):
    raise ValueError("boom")


def garbage(event, context):
    return RawPayload(b"not json {")


def bad_status(event, context):
    return {"statusCode": "abc", "body": "x"}


def big_status(event, context):
    return {"statusCode": 700}


def sleepy(event, context):
    try:
        seconds = float(_query_parameter(event, "seconds", "3"))
    except ValueError:
        seconds = 3.0
    seconds = min(max(seconds, 0.0), 10.0)
    time.sleep(seconds)
    return _response(200, {"slept": seconds})


def throttled(event, context):
    raise Throttle()


def v1_shape(event, context):
    return {
        "statusCode": 202,
        "headers": {"x-single": "s"},
        "multiValueHeaders": {"x-multi": ["a", "b"]},
        "body": "v1",
    }



# -- Lambda authorizers (REQUEST type; "Working with AWS Lambda authorizers for HTTP APIs").
# The token is the Authorization header's value, an optional "Bearer " before it.


def _authorization_token(event):
    """The Authorization header, looked up without regard to case (payload 2.0 lower-cases
    header names, 1.0 keeps them as sent)."""
    for name, value in (event.get("headers") or {}).items():
        if name.lower() == "authorization" and isinstance(value, str):
            return value[len("Bearer "):] if value.startswith("Bearer ") else value
    return None


def _resource_arn(event):
    """The ARN a policy answers for: routeArn (payload 2.0) or methodArn (1.0)."""
    return event.get("routeArn") or event.get("methodArn") or ""


def _policy(effect, resource, context=None):
    response = {
        "principalId": "user-42",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
    }
    if context is not None:
        response["context"] = context
    return response


def authorizer_simple(event, context):
    """A simple response (payload 2.0, EnableSimpleResponses): "allow" is authorized with a
    context of every value type, "boom" is a function error, anything else is refused."""
    token = _authorization_token(event)
    if token == "allow":
        return {"isAuthorized": True, "context": {"user": "alice", "tier": "gold", "quota": 7, "admin": False}}
    if token == "boom":
        raise RuntimeError("authorizer failed")
    return {"isAuthorized": False}


def authorizer_policy(event, context):
    """An IAM policy response (payload 1.0 or 2.0): "allow" allows this route, "wildcard"
    the whole API (arn up to the api id, then /*), "other" only DELETE /nowhere of this
    stage, "deny" and anything else deny this route, "boom" is a function error."""
    token = _authorization_token(event)
    arn = _resource_arn(event)
    granted = {"user": "bob", "plan": "pro"}
    if token == "allow":
        return _policy("Allow", arn, granted)
    if token == "wildcard":
        return _policy("Allow", arn.split("/", 1)[0] + "/*", granted)
    if token == "other":
        api, _, rest = arn.partition("/")
        stage = rest.split("/", 1)[0]
        return _policy("Allow", f"{api}/{stage}/DELETE/nowhere", granted)
    if token == "boom":
        raise RuntimeError("authorizer failed")
    return _policy("Deny", arn)


def authorizer_echo(event, context):
    """Authorizes everything and hands back the identity values it got, comma-joined (2.0
    sends a list, 1.0 one comma-joined string)."""
    source = event.get("identitySource")
    if isinstance(source, list):
        identity = ",".join(str(v) for v in source)
    else:
        identity = "" if source is None else str(source)
    return {"isAuthorized": True, "context": {"identity": identity}}


FUNCTIONS = {
    "notes_get": notes_get,
    "notes_post": notes_post,
    "echo_event": echo_event,
    "whoami": whoami,
    "plain_string": plain_string,
    "plain_object": plain_object,
    "with_cookies": with_cookies,
    "binary": binary,
    "echo_binary": echo_binary,
    "raises": raises,
    "garbage": garbage,
    "bad_status": bad_status,
    "big_status": big_status,
    "sleepy": sleepy,
    "throttled": throttled,
    "v1_shape": v1_shape,
    "authorizer_simple": authorizer_simple,
    "authorizer_policy": authorizer_policy,
    "authorizer_echo": authorizer_echo,
}
