"""A small implementation of AWS Lambda's synchronous Invoke API that runs real Python
handlers, for Portico's end-to-end tests and benchmark.

    python3 lambda_server.py --port 0 --handlers lambda_handlers \
        [--access-key AK --secret-key SK [--session-token TOKEN]] [--region us-east-1] \
        [--account-id 123456789012] [--no-verify] [--log-requests]

On start it prints one line, {"port": N}, on stdout, then serves on 127.0.0.1 until it
gets SIGTERM or SIGINT. Everything else it says goes to stderr.

Routes:
    POST   /2015-03-31/functions/{FunctionName}/invocations[?Qualifier=Q]   (Invoke)
    GET    /_recorded[?function=NAME]   {"invocations": [...], "verified": N, "rejected": M,
                                         "connections": C}
    DELETE /_recorded                   forget the invocations and zero both counters

Invoke requests are checked for an AWS Signature Version 4 (service "lambda"), which is
recomputed with botocore's own signer. The events are checked against aws-lambda-powertools'
pydantic models of API Gateway's proxy events (payload 2.0 and 1.0) and of its Lambda
authorizer events (type "REQUEST", payload 2.0 and 1.0) and recorded with the validation
errors; an invalid event is still passed to the handler.
"""
import argparse
import collections
import datetime
import hashlib
import hmac
import importlib
import importlib.util
import json
import os
import re
import signal
import sys
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lambda_runtime_types import RawPayload, Throttle  # noqa: E402

# Lambda's quotas: 6 MB (6,291,456 bytes) for a synchronous request payload, and the
# response payload limit Lambda reports in its error message.
MAX_REQUEST_PAYLOAD = 6 * 1024 * 1024
MAX_RESPONSE_PAYLOAD = 6291556
# Bodies above the limit up to this size are read and dropped so the connection stays usable.
MAX_DRAIN = 64 * 1024 * 1024
MAX_CLOCK_SKEW = datetime.timedelta(minutes=5)
FUNCTION_TIMEOUT_MS = 30_000
RECORD_LIMIT = 500
SIGV4_TIMESTAMP = "%Y%m%dT%H%M%SZ"

INVOKE_PATH = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations/?$")
NAME = r"[a-zA-Z0-9\-_.]+"
QUALIFIER = r"\$LATEST|[a-zA-Z0-9\-_]+"
QUALIFIER_RE = re.compile(rf"^(?:{QUALIFIER})$")
# Lambda's FunctionName forms: name, name:qualifier, account:function:name[:qualifier],
# arn:PARTITION:lambda:REGION:ACCOUNT:function:name[:qualifier].
FUNCTION_RE = re.compile(
    rf"^(?:arn:(?P<partition>aws[a-zA-Z-]*):lambda:"
    rf"(?P<region>[a-z]{{2}}(?:-gov|-iso[a-z]?)?-[a-z]+-\d):)?"
    rf"(?:(?P<account>\d{{12}}):function:)?"
    rf"(?P<name>{NAME})(?::(?P<qualifier>{QUALIFIER}))?$"
)
# The pattern Lambda quotes in its ValidationException.
FUNCTION_PATTERN_TEXT = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?"
    r"(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?"
)
SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)
INVALID_TOKEN = "The security token included in the request is invalid."


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


class ApiError(Exception):
    """An error answered in Lambda's restJson shape: x-amzn-ErrorType header + JSON body."""

    def __init__(self, status, error_type, message, body=None):
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.body = body if body is not None else {"Type": "User", "message": message}


def auth_error(error_type, message):
    return ApiError(403, error_type, message, {"message": message})


class LambdaContext:
    """The part of the Python runtime's context object handlers use."""

    def __init__(self, function_name, invoked_function_arn, request_id):
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = invoked_function_arn
        self.aws_request_id = request_id
        self.memory_limit_in_mb = 128
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = time.strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + FUNCTION_TIMEOUT_MS / 1000

    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class _SignedHeadersSigV4(SigV4Auth):
    """botocore's SigV4Auth, fed exactly the headers the client says it signed.

    botocore's own headers_to_sign() drops a fixed list of headers a client never signs
    (user-agent, expect, transfer-encoding, x-amzn-trace-id, ...) and adds host from the
    URL. AWS verifies whatever SignedHeaders names, so the verifier uses that list as is;
    canonical_headers(), signed_headers(), canonical_request(), string_to_sign() and
    signature() are botocore's unchanged.
    """

    def __init__(self, credentials, service_name, region_name, signed_names):
        super().__init__(credentials, service_name, region_name)
        self._signed_names = signed_names

    def headers_to_sign(self, request):
        header_map = HTTPHeaders()
        for name in self._signed_names:
            for value in request.headers.get_all(name) or []:
                header_map[name] = value
        return header_map


class Verifier:
    def __init__(self, access_key, secret_key, session_token, region, service="lambda"):
        self.access_key = access_key
        self.secret_key = secret_key
        self.session_token = session_token
        self.region = region
        self.service = service

    def verify(self, method, raw_target, headers, body):
        """Raises ApiError (403) unless the request carries a valid SigV4 signature."""
        authorization = headers.get("Authorization")
        if not authorization:
            raise auth_error("MissingAuthenticationTokenException", "Missing Authentication Token")
        algorithm, _, rest = authorization.strip().partition(" ")
        fields = {}
        for part in rest.split(","):
            key, eq, value = part.strip().partition("=")
            if eq:
                fields[key.strip()] = value.strip()
        missing = [k for k in ("Credential", "SignedHeaders", "Signature") if k not in fields]
        if algorithm != "AWS4-HMAC-SHA256" or missing:
            raise auth_error(
                "IncompleteSignatureException",
                " ".join(f"Authorization header requires '{k}' parameter." for k in missing)
                + (f" Unsupported algorithm: {algorithm}." if algorithm != "AWS4-HMAC-SHA256" else "")
                + f" Authorization={authorization}",
            )
        scope = fields["Credential"].split("/")
        if len(scope) != 5:
            raise auth_error(
                "IncompleteSignatureException",
                f"Credential must have exactly 5 slash-delimited elements, e.g. "
                f"keyid/date/region/service/term, got '{fields['Credential']}'",
            )
        access_key, scope_date, scope_region, scope_service, terminator = scope
        signed_names = fields["SignedHeaders"].split(";")
        if "host" not in signed_names:
            raise auth_error(
                "IncompleteSignatureException",
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
            )
        amz_date = headers.get("X-Amz-Date")
        if not amz_date:
            raise auth_error(
                "IncompleteSignatureException",
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
                f"Authorization={authorization}",
            )
        if "x-amz-date" not in signed_names:
            raise auth_error("InvalidSignatureException", "'X-Amz-Date' must be a 'SignedHeader'.")
        try:
            when = datetime.datetime.strptime(amz_date, SIGV4_TIMESTAMP).replace(tzinfo=datetime.timezone.utc)
        except ValueError:
            raise auth_error(
                "IncompleteSignatureException",
                f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'. See http://en.wikipedia.org/wiki/ISO_8601",
            ) from None
        now = datetime.datetime.now(datetime.timezone.utc)
        if when < now - MAX_CLOCK_SKEW:
            earliest = (now - MAX_CLOCK_SKEW).strftime(SIGV4_TIMESTAMP)
            raise auth_error(
                "InvalidSignatureException",
                f"Signature expired: {amz_date} is now earlier than {earliest} "
                f"({now.strftime(SIGV4_TIMESTAMP)} - 5 min.)",
            )
        if when > now + MAX_CLOCK_SKEW:
            latest = (now + MAX_CLOCK_SKEW).strftime(SIGV4_TIMESTAMP)
            raise auth_error(
                "InvalidSignatureException",
                f"Signature not yet current: {amz_date} is still later than {latest} "
                f"({now.strftime(SIGV4_TIMESTAMP)} + 5 min.)",
            )
        if access_key != self.access_key:
            raise auth_error("UnrecognizedClientException", INVALID_TOKEN)
        if scope_date != amz_date[:8]:
            raise auth_error(
                "InvalidSignatureException",
                f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                f"'{scope_date}' != '{amz_date[:8]}', from '{amz_date}'.",
            )
        if scope_region != self.region:
            raise auth_error(
                "InvalidSignatureException",
                f"Credential should be scoped to a valid region, not '{scope_region}'. ",
            )
        if scope_service != self.service:
            raise auth_error(
                "InvalidSignatureException",
                f"Credential should be scoped to correct service: '{self.service}'. ",
            )
        if terminator != "aws4_request":
            raise auth_error(
                "InvalidSignatureException",
                f"Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'. ",
            )
        token = headers.get("X-Amz-Security-Token")
        if self.session_token is not None or token is not None:
            if token is None or self.session_token is None or not hmac.compare_digest(
                token.encode(), self.session_token.encode()
            ):
                raise auth_error("UnrecognizedClientException", INVALID_TOKEN)
            if "x-amz-security-token" not in signed_names:
                raise auth_error("InvalidSignatureException", "'X-Amz-Security-Token' must be a 'SignedHeader'.")
        content_sha = headers.get("X-Amz-Content-SHA256")
        if content_sha is not None and content_sha != hashlib.sha256(body).hexdigest():
            raise auth_error(
                "InvalidSignatureException",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            )

        canonical, string_to_sign, expected = self.compute(
            method, raw_target, headers, body, signed_names, amz_date
        )
        if not hmac.compare_digest(expected.encode(), fields["Signature"].encode()):
            raise auth_error(
                "InvalidSignatureException",
                f"{SIGNATURE_MISMATCH}\n\nThe Canonical String for this request should have been\n"
                f"'{canonical}'\n\nThe String-to-Sign should have been\n'{string_to_sign}'\n",
            )

    def compute(self, method, raw_target, headers, body, signed_names, amz_date):
        """botocore's canonical request, string to sign and signature for the request.

        The URL path is used exactly as it came on the wire (still percent-encoded):
        SigV4Auth.canonical_request() takes urlsplit(url).path, removes dot segments and
        empty segments, and percent-encodes it again (quote(path, safe='/~')) -- the
        "encode twice" rule of every service but S3, which is what botocore's client does
        with the already-encoded URL it sends. The query is decoded into (name, value)
        pairs and passed as AWSRequest.params, so botocore's
        _canonical_query_string_params() URI-encodes each name and value
        (quote(x, safe='-_.~')) and sorts the pairs -- the spec's canonical query string,
        which AWS rebuilds on its side the same way, whatever encoding the client chose
        for the URL.
        """
        parts = urlsplit(raw_target)
        host = headers.get("Host", "")
        url = f"http://{host}{parts.path}"
        params = parse_qsl(parts.query, keep_blank_values=True) if parts.query else None
        request = AWSRequest(method=method, url=url, data=body, params=params)
        for name in signed_names:
            for value in headers.get_all(name) or []:
                request.headers[name] = value
        request.context["timestamp"] = amz_date
        signer = _SignedHeadersSigV4(
            Credentials(self.access_key, self.secret_key, self.session_token),
            self.service,
            self.region,
            signed_names,
        )
        canonical = signer.canonical_request(request)
        string_to_sign = signer.string_to_sign(request, canonical)
        return canonical, string_to_sign, signer.signature(string_to_sign, request)


class State:
    def __init__(self, functions, verifier, region, account_id):
        self.functions = functions
        self.verifier = verifier
        self.region = region
        self.account_id = account_id
        self.lock = threading.Lock()
        self.invocations = collections.deque(maxlen=RECORD_LIMIT)
        self.verified = 0
        self.rejected = 0
        # Connections accepted: fewer than calls when the client keeps them alive.
        self.connections = 0
        from aws_lambda_powertools.utilities.parser.models import (
            APIGatewayProxyEventModel,
            APIGatewayProxyEventV2Model,
            ApiGatewayAuthorizerRequest,
            ApiGatewayAuthorizerRequestV2,
            ApiGatewayAuthorizerToken,
        )

        self.model_v1 = APIGatewayProxyEventModel
        self.model_v2 = APIGatewayProxyEventV2Model
        self.authorizer_v1 = ApiGatewayAuthorizerRequest
        self.authorizer_v2 = ApiGatewayAuthorizerRequestV2
        self.authorizer_token = ApiGatewayAuthorizerToken

    def schema_errors(self, event):
        is_dict = isinstance(event, dict)
        version = event.get("version") if is_dict else None
        kind = event.get("type") if is_dict else None
        if kind == "REQUEST":
            # A Lambda authorizer's event: 2.0 carries routeArn and identitySource as a
            # list, 1.0 (REST API's shape) methodArn and identitySource as one
            # comma-joined string, which powertools' 1.0 model does not look at.
            model = self.authorizer_v2 if version == "2.0" else self.authorizer_v1
        elif kind == "TOKEN":
            model = self.authorizer_token
        else:
            model = self.model_v2 if version == "2.0" else self.model_v1
        try:
            model.model_validate(event)
        except Exception as e:  # noqa: BLE001 - pydantic's ValidationError (or a validator's)
            return str(e)
        if kind == "REQUEST" and version != "2.0":
            for field in ("identitySource", "authorizationToken"):
                if field in event and not isinstance(event[field], str):
                    return f"{field}: a payload 1.0 authorizer event carries a string, got {event[field]!r}"
        return None

    def record(self, entry):
        with self.lock:
            self.invocations.append(entry)

    def count(self, ok):
        with self.lock:
            if ok:
                self.verified += 1
            else:
                self.rejected += 1

    def snapshot(self, function=None):
        with self.lock:
            items = [r for r in self.invocations if function is None or r["function"] == function]
            return {"invocations": items, "verified": self.verified, "rejected": self.rejected,
                    "connections": self.connections}

    def clear(self):
        with self.lock:
            self.invocations.clear()
            self.verified = 0
            self.rejected = 0
            self.connections = 0

    def connected(self):
        with self.lock:
            self.connections += 1


def parse_function(raw, qualifier_param, region, account_id):
    """(name, qualifier, arn) from Invoke's FunctionName path label and Qualifier param."""
    name_text = unquote(raw)
    m = FUNCTION_RE.match(name_text) if len(name_text) <= 256 else None
    if not m:
        raise ApiError(
            400,
            "ValidationException",
            f"1 validation error detected: Value '{name_text}' at 'functionName' failed to satisfy "
            f"constraint: Member must satisfy regular expression pattern: {FUNCTION_PATTERN_TEXT}",
        )
    qualifier = m.group("qualifier")
    if qualifier_param is not None:
        if not QUALIFIER_RE.match(qualifier_param):
            raise ApiError(
                400,
                "ValidationException",
                f"1 validation error detected: Value '{qualifier_param}' at 'qualifier' failed to satisfy "
                f"constraint: Member must satisfy regular expression pattern: ({QUALIFIER})",
            )
        if qualifier is not None and qualifier != qualifier_param:
            raise ApiError(
                400,
                "InvalidParameterValueException",
                "The derived qualifier from the function name does not match the specified qualifier.",
            )
        qualifier = qualifier_param
    name = m.group("name")
    arn = (
        f"arn:{m.group('partition') or 'aws'}:lambda:{m.group('region') or region}:"
        f"{m.group('account') or account_id}:function:{name}"
    )
    if qualifier:
        arn += f":{qualifier}"
    return name, qualifier, arn


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle on, the body waits for the
    # client's delayed ACK (40 ms). Go's net/http, which the Lambda emulator uses, sets
    # TCP_NODELAY too.
    disable_nagle_algorithm = True
    server_version = "portico-lambda-server/1"
    sys_version = ""
    state: State = None
    log_requests = False

    def setup(self):
        super().setup()
        self.state.connected()

    def log_message(self, fmt, *args):  # noqa: D102 - stderr, and only when asked
        if self.log_requests:
            log(f"{self.address_string()} - {fmt % args}")

    # -- plumbing -----------------------------------------------------------------
    def send(self, status, body, headers=None, content_type="application/json"):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def send_error_response(self, err, request_id):
        self.send(
            err.status,
            err.body,
            {"x-amzn-ErrorType": err.error_type, "x-amzn-RequestId": request_id},
        )

    def read_body(self):
        """The request body, or None when it was too big (the connection then closes
        if the body could not be drained)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks, size = [], 0
            while True:
                line = self.rfile.readline(65537)
                length = int(line.split(b";")[0].strip() or b"0", 16)
                if length == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                size += length
                if size > MAX_DRAIN:
                    self.close_connection = True
                    return None
                chunks.append(self.rfile.read(length))
                self.rfile.readline(3)
            body = b"".join(chunks)
        else:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_DRAIN:
                self.close_connection = True
                return None
            body = self.rfile.read(length) if length else b""
        return body if len(body) <= MAX_REQUEST_PAYLOAD else None

    # -- routes ---------------------------------------------------------------------
    def do_GET(self):
        parts = urlsplit(self.path)
        if parts.path == "/_recorded":
            function = dict(parse_qsl(parts.query)).get("function")
            self.send(200, self.state.snapshot(function))
        else:
            self.read_body()
            self.unknown()

    def do_DELETE(self):
        self.read_body()
        if urlsplit(self.path).path == "/_recorded":
            self.state.clear()
            self.send(200, {"cleared": True})
        else:
            self.unknown()

    def do_PUT(self):
        self.read_body()
        self.unknown()

    do_PATCH = do_OPTIONS = do_PUT

    def unknown(self):
        self.send_error_response(
            ApiError(404, "UnknownOperationException", "Unknown operation"),
            str(uuid.uuid4()),
        )

    def do_POST(self):
        request_id = str(uuid.uuid4())
        try:
            self.invoke(request_id)
        except ApiError as err:
            self.send_error_response(err, request_id)

    def invoke(self, request_id):
        parts = urlsplit(self.path)
        body = self.read_body()
        m = INVOKE_PATH.match(parts.path)
        if not m:
            raise ApiError(404, "UnknownOperationException", "Unknown operation")
        if body is None:
            raise ApiError(
                413,
                "RequestEntityTooLargeException",
                f"Request must be smaller than {MAX_REQUEST_PAYLOAD} bytes for the InvokeFunction operation",
            )
        state = self.state
        if state.verifier is not None:
            try:
                state.verifier.verify(self.command, self.path, self.headers, body)
            except ApiError as err:
                state.count(False)
                log(f"rejected {self.command} {self.path}: {err.error_type}: {err}")
                raise
            state.count(True)

        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        name, qualifier, arn = parse_function(
            m.group(1), query.get("Qualifier"), state.region, state.account_id
        )
        invocation_type = self.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if invocation_type != "RequestResponse":
            raise ApiError(
                400,
                "InvalidParameterValueException",
                f"Unsupported invocation type {invocation_type}: this server runs RequestResponse only.",
            )
        handler = state.functions.get(name)
        if handler is None:
            raise ApiError(404, "ResourceNotFoundException", f"Function not found: {arn}")
        try:
            event = json.loads(body.decode("utf-8"), parse_constant=_reject_constant) if body else {}
        except (UnicodeDecodeError, ValueError) as e:
            raise ApiError(
                400,
                "InvalidRequestContentException",
                f"Could not parse request body into json: Could not parse payload into json: {e}",
            ) from None

        state.record(
            {
                "function": name,
                "qualifier": qualifier,
                "invoked_function_arn": arn,
                "request_id": request_id,
                "event": event,
                "schema_errors": state.schema_errors(event),
            }
        )
        headers = {"X-Amz-Executed-Version": "$LATEST", "x-amzn-RequestId": request_id}
        started = time.monotonic()
        context = LambdaContext(name, arn, request_id)
        try:
            result = handler(event, context)
            if isinstance(result, RawPayload):
                payload = bytes(result)
            else:
                try:
                    payload = json.dumps(result).encode()
                except (TypeError, ValueError) as e:
                    payload = json.dumps(
                        {
                            "errorMessage": f"Unable to marshal response: {e}",
                            "errorType": "Runtime.MarshalError",
                            "requestId": request_id,
                            "stackTrace": [],
                        }
                    ).encode()
                    headers["X-Amz-Function-Error"] = "Unhandled"
        except Throttle:
            raise ApiError(
                429,
                "TooManyRequestsException",
                "Rate Exceeded.",
                {
                    "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
                    "Type": "User",
                    "message": "Rate Exceeded.",
                },
            ) from None
        except Exception as e:  # noqa: BLE001 - an unhandled function error, as Lambda reports it
            frames = traceback.extract_tb(e.__traceback__)[1:]
            payload = json.dumps(
                {
                    "errorMessage": str(e),
                    "errorType": type(e).__name__,
                    "requestId": request_id,
                    "stackTrace": traceback.format_list(frames),
                }
            ).encode()
            headers["X-Amz-Function-Error"] = "Unhandled"
        if len(payload) > MAX_RESPONSE_PAYLOAD:
            payload = json.dumps(
                {
                    "errorMessage": f"Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE_PAYLOAD} bytes).",
                    "errorType": "Function.ResponseSizeTooLarge",
                }
            ).encode()
            headers["X-Amz-Function-Error"] = "Unhandled"
        if self.headers.get("X-Amz-Log-Type") == "Tail":
            import base64

            ms = (time.monotonic() - started) * 1000
            tail = (
                f"START RequestId: {request_id} Version: $LATEST\n"
                f"END RequestId: {request_id}\n"
                f"REPORT RequestId: {request_id}\tDuration: {ms:.2f} ms\tBilled Duration: {int(ms) + 1} ms\t"
                f"Memory Size: 128 MB\tMax Memory Used: 128 MB\t\n"
            )
            headers["X-Amz-Log-Result"] = base64.b64encode(tail.encode()).decode()
        self.send(200, payload, headers)


def _reject_constant(name):
    raise ValueError(f"Non-standard token '{name}'")


def load_functions(spec):
    if spec.endswith(".py") or os.sep in spec:
        path = os.path.abspath(spec)
        sys.path.insert(0, os.path.dirname(path))
        module_spec = importlib.util.spec_from_file_location(
            os.path.splitext(os.path.basename(path))[0], path
        )
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
    else:
        module = importlib.import_module(spec)
    functions = getattr(module, "FUNCTIONS", None)
    if not isinstance(functions, dict):
        raise SystemExit(f"{spec} has no module-level FUNCTIONS dict")
    return functions


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--handlers", default="lambda_handlers", help="module name or path of a .py file")
    p.add_argument("--access-key")
    p.add_argument("--secret-key")
    p.add_argument("--session-token")
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--account-id", default="123456789012", help="for ARNs of functions invoked by name")
    p.add_argument("--no-verify", action="store_true", help="accept requests without checking signatures")
    p.add_argument("--log-requests", action="store_true", help="log every request on stderr")
    a = p.parse_args()
    if not a.no_verify and not (a.access_key and a.secret_key):
        p.error("--access-key and --secret-key are required unless --no-verify")

    verifier = None if a.no_verify else Verifier(a.access_key, a.secret_key, a.session_token, a.region)
    Handler.state = State(load_functions(a.handlers), verifier, a.region, a.account_id)
    Handler.log_requests = a.log_requests

    server = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    server.daemon_threads = True
    server.block_on_close = False

    def stop(signum, _frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    port = server.server_address[1]
    sys.stdout.write(json.dumps({"port": port}) + "\n")
    sys.stdout.flush()
    log(
        f"lambda server on 127.0.0.1:{port}, {len(Handler.state.functions)} functions, "
        f"signatures {'not checked' if a.no_verify else 'checked'}"
    )
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
