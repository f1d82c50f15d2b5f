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
}
