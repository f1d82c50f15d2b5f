"""Observability on Portico, end to end: a stage's access logs, the node's Prometheus
endpoint, W3C trace context and OTLP spans, the control plane's per-minute series, the
usage report and its price table, and budgets with their webhook alerts. Everything is
configured with the real boto3 client (`apigatewayv2`) and the admin API (`/portico/…`,
SigV4-signed by botocore), and the traffic is real HTTP through a real node.

    python3 observability.py selftest
    python3 observability.py run

`run` takes where everything is from the environment (the Rust test sets it):

    PORTICO_OBS_ENDPOINT              the admin API, http://127.0.0.1:PORT
    PORTICO_OBS_PROXY                 the node's HTTP listener, 127.0.0.1:PORT
    PORTICO_OBS_METRICS               the node's --metrics-addr, 127.0.0.1:PORT
    PORTICO_OBS_ACCESS_LOG_DIR        the node's --access-log-dir
    PORTICO_OBS_ACCESS_LOG_MAX_BYTES  the node's --access-log-max-bytes
    PORTICO_OBS_ACCESS_LOG_KEEP       the node's --access-log-keep
    PORTICO_OBS_OTLP_PORT             the loopback port of the node's --otlp-endpoint: this
                                      script's OTLP/HTTP receiver listens there
    PORTICO_ADMIN_ACCESS_KEY_ID / PORTICO_ADMIN_SECRET_ACCESS_KEY  the admin's access key

It runs, in this script's own process: a real upstream (an `http.server` that answers
200, or 500 under /fail, and records the `traceparent` it got), an OTLP/HTTP receiver
(`POST /v1/traces`, decoded with opentelemetry-proto's ExportTraceServiceRequest) and a
budget webhook receiver. Then:

1. refusals: AccessLogSettings with `$context.nope`, without `$context.requestId`, to a
   Firehose or S3 ARN, or with one field only, on create_stage and update_stage, are
   BadRequestException and store nothing;
2. the API (routes to the upstream, to an upstream 500, to a closed port, and one
   throttled at rate 1 burst 1) and its stage `dev`, logging a JSON format to the log
   group `/portico/obs-dev`, i.e. `{access-log-dir}/portico/obs-dev.log`;
3. a known mix of requests: 2xx, 404s (no route), 5xx (upstream 500s and a closed
   port), 429s (throttled), some with a client `traceparent`; and two requests for a
   Host no API has;
4. checks that everything agrees EXACTLY with what the client saw: the access log lines
   (per request: status, route, request id, trace id, lengths …), the node's `/metrics`
   (parsed with prometheus_client), the control plane's series (polled until they
   match), the usage report and its cost, and the OTLP spans (`gateway` → `integration`,
   same trace id as the client's, and the upstream saw the gateway span as its parent);
5. budgets: an ACTUAL 100% notification fires exactly once and its webhook gets one
   POST (DELIVERED); a second budget whose webhook is a closed port ends FAILED after 3
   attempts while requests keep being served without delay;
6. and, at the end, all the traffic of the run agrees once more (logs across rotated
   files, node counters).

Every wait is bounded; the whole run is bounded by TIME_LIMIT. Prints one JSON object
with the figures on stdout; progress goes to stderr; any disagreement fails with the list
of what disagreed.

`selftest` checks this script's own parts with no Portico: the upstream, the OTLP
receiver (plain, gzip and chunked bodies of real protobuf), the webhook receiver, the
exposition parser on the prometheus-client crate's OpenMetrics output, the access log
reader (rotated files, a line still being written), the admin signer, and every checker
against synthetic traffic in the contract's shapes: it passes on consistent data and
fails on each kind of disagreement.
"""
import argparse
import collections
import datetime
import gzip
import http.client
import http.server
import json
import os
import re
import secrets
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse

from custom_domains import admin, boto, expect_error, plain

TIMEOUT = 10
TIME_LIMIT = 300
STAGE = "dev"
API_NAME = "obs"
LOG_GROUP = "/portico/obs-dev"
LOG_ARN = f"arn:aws:logs:us-east-1:123456789012:log-group:{LOG_GROUP}"
THROTTLED_ROUTE = "GET /limited"
# The client's User-Agent: its sequence number (so that each log line names its
# request), and a quote and a backslash, which the log must JSON-escape.
UA_PREFIX = "obs-e2e/"
UA_RE = re.compile(r"^obs-e2e/(\d+) ")
# Makes every line a few hundred bytes longer, so that the run's lines rotate at the
# test's --access-log-max-bytes whatever else a line holds.
UA_PADDING = "(observability e2e; " + "padding-" * 24 + ")"
TRACE_RE = re.compile(r"^[0-9a-f]{32}$")
TRACEPARENT_RE = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
# How long the control plane may take to show what the node reported (every 5 s).
CONVERGE_LIMIT = 20
GB = float(1 << 30)
SPAN_KIND_SERVER = 2

# The access log format: JSON, every value a string, so that `-` (missing) stays JSON.
# Short keys keep it under AWS's 1024 characters.
LOG_FIELDS = [
    ("id", "requestId"),
    ("xid", "extendedRequestId"),
    ("ip", "identity.sourceIp"),
    ("ua", "identity.userAgent"),
    ("time", "requestTime"),
    ("epoch", "requestTimeEpoch"),
    ("method", "httpMethod"),
    ("path", "path"),
    ("proto", "protocol"),
    ("route", "routeKey"),
    ("stage", "stage"),
    ("api", "apiId"),
    ("status", "status"),
    ("len", "responseLength"),
    ("latency", "responseLatency"),
    ("istatus", "integrationStatus"),
    ("ilatency", "integrationLatency"),
    ("ierror", "integrationErrorMessage"),
    ("error", "error.message"),
    ("etype", "error.responseType"),
    ("data", "dataProcessed"),
    ("trace", "traceId"),
    ("account", "identity.accountId"),
]
LOG_FORMAT = json.dumps({k: f"$context.{v}" for k, v in LOG_FIELDS}, separators=(",", ":"))
assert len(LOG_FORMAT) < 1024, len(LOG_FORMAT)


def progress(message):
    print(f"[observability] {message}", file=sys.stderr, flush=True)


class Disagreement(AssertionError):
    pass


def fail_if(problems, what):
    if problems:
        shown = "\n  ".join(str(p) for p in problems[:40])
        more = f"\n  … and {len(problems) - 40} more" if len(problems) > 40 else ""
        raise Disagreement(f"{what}: {len(problems)} disagreement(s):\n  {shown}{more}")


def eq(problems, what, got, want):
    if got != want:
        problems.append(f"{what}: got {got!r}, want {want!r}")


def closed_port():
    """A loopback port nobody listens on (bound, then released)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def utc_month():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m")


def parse_traceparent(value):
    m = TRACEPARENT_RE.match(value or "")
    if not m:
        return None
    return {"version": m.group(1), "traceId": m.group(2), "parentId": m.group(3),
            "flags": m.group(4)}


def new_traceparent():
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return trace_id, span_id, f"00-{trace_id}-{span_id}-01"


# ---------------------------------------------------------------------------------------
# Loopback servers: the upstream, the OTLP receiver, the webhook receiver
# ---------------------------------------------------------------------------------------

def read_body(handler, decompress=False):
    """The request body, Content-Length or chunked; gunzipped when asked and sent so."""
    if "chunked" in handler.headers.get("Transfer-Encoding", "").lower():
        chunks = []
        while True:
            size = int(handler.rfile.readline(65537).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass
                break
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline(65537)
        data = b"".join(chunks)
    else:
        n = int(handler.headers.get("Content-Length") or 0)
        data = handler.rfile.read(n) if n else b""
    if decompress and handler.headers.get("Content-Encoding", "").lower() == "gzip":
        data = gzip.decompress(data)
    return data


class _Server:
    """A threaded loopback HTTP/1.1 server around `handle(handler, method)`, which returns
    (status, content type, body bytes)."""

    def __init__(self, port=0):
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _any(self):
                try:
                    status, ctype, body = outer.handle(self, self.command)
                except Exception as e:  # noqa: BLE001 - a fixture bug must show
                    outer.errors.append(f"{self.command} {self.path}: {e!r}")
                    status, ctype, body = 500, "text/plain", repr(e).encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _any

        class Httpd(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                # A pooled connection the peer closed or reset is no fixture error.
                error = sys.exc_info()[1]
                if not isinstance(error, (ConnectionError, TimeoutError)):
                    outer.errors.append(f"{client_address}: {error!r}")

        self.lock = threading.Lock()
        self.errors = []
        self.httpd = Httpd(("127.0.0.1", port), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Upstream(_Server):
    """Answers 200 with a small JSON body, or 500 under /fail; records, per x-obs-seq,
    what it got (every traceparent header, the path, the body length)."""

    def __init__(self):
        self.records = {}
        self.unnumbered = []
        super().__init__()

    def handle(self, h, method):
        body = read_body(h)
        path = urllib.parse.urlsplit(h.path).path
        status = 500 if path.startswith("/fail") else 200
        record = {
            "method": method,
            "path": path,
            "status": status,
            "traceparents": h.headers.get_all("traceparent") or [],
            "bodyLength": len(body),
            "seq": h.headers.get("x-obs-seq"),
        }
        with self.lock:
            if record["seq"] is None:
                self.unnumbered.append(record)
            else:
                self.records.setdefault(int(record["seq"]), []).append(record)
        answer = {"ok": status == 200, "path": path, "bodyLength": len(body)}
        if status == 500:
            answer = {"error": "the upstream failed on purpose"}
        return status, "application/json", json.dumps(answer).encode()

    def snapshot(self):
        with self.lock:
            return {k: list(v) for k, v in self.records.items()}


class OtlpReceiver(_Server):
    """OTLP/HTTP protobuf traces: `POST /v1/traces` with an ExportTraceServiceRequest.
    Keeps every span it decoded, flattened, with its resource's attributes."""

    def __init__(self, port=0):
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
        self.pb = trace_service_pb2
        self.spans = []
        self.posts = []
        super().__init__(port)

    def handle(self, h, method):
        body = read_body(h, decompress=True)
        post = {"method": method, "path": h.path,
                "contentType": h.headers.get("Content-Type", ""),
                "contentEncoding": h.headers.get("Content-Encoding", ""), "spans": 0}
        if method != "POST" or urllib.parse.urlsplit(h.path).path != "/v1/traces":
            with self.lock:
                self.posts.append(post)
            return 404, "text/plain", b"not an OTLP traces path"
        req = self.pb.ExportTraceServiceRequest()
        req.ParseFromString(body)
        spans = []
        for rs in req.resource_spans:
            resource = {kv.key: any_value(kv.value) for kv in rs.resource.attributes}
            for ss in rs.scope_spans:
                for s in ss.spans:
                    spans.append({
                        "traceId": s.trace_id.hex(),
                        "spanId": s.span_id.hex(),
                        "parentSpanId": s.parent_span_id.hex(),
                        "name": s.name,
                        "kind": int(s.kind),
                        "start": int(s.start_time_unix_nano),
                        "end": int(s.end_time_unix_nano),
                        "attributes": {kv.key: any_value(kv.value) for kv in s.attributes},
                        "statusCode": int(s.status.code),
                        "resource": resource,
                        "scope": ss.scope.name,
                    })
        post["spans"] = len(spans)
        with self.lock:
            self.posts.append(post)
            self.spans.extend(spans)
        return 200, "application/x-protobuf", self.pb.ExportTraceServiceResponse().SerializeToString()

    def snapshot(self):
        with self.lock:
            return list(self.spans), list(self.posts)


def any_value(v):
    kind = v.WhichOneof("value")
    if kind is None:
        return None
    if kind in ("array_value", "kvlist_value"):
        return str(getattr(v, kind))
    if kind == "bytes_value":
        return v.bytes_value.hex()
    return getattr(v, kind)


class Webhook(_Server):
    """Records every request: method, path, headers (lower-case names), JSON body."""

    def __init__(self):
        self.posts = []
        super().__init__()

    def handle(self, h, method):
        body = read_body(h)
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        with self.lock:
            self.posts.append({"method": method, "path": h.path, "at": time.time(),
                               "headers": {k.lower(): v for k, v in h.headers.items()},
                               "body": body.decode("utf-8", "replace"), "json": parsed})
        return 200, "application/json", b"{}"

    def snapshot(self):
        with self.lock:
            return list(self.posts)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/budget-alerts"


# ---------------------------------------------------------------------------------------
# The client side: requests through the node
# ---------------------------------------------------------------------------------------

class Client:
    """Real HTTP/1.1 requests to the node, one connection each, numbered; remembers
    what each got."""

    def __init__(self, proxy, api_host):
        host, port = proxy.rsplit(":", 1)
        self.addr = (host, int(port))
        self.api_host = api_host
        self.seq = 0
        self.sent = []

    def raw(self, method, path, host, headers=None, body=None):
        conn = http.client.HTTPConnection(*self.addr, timeout=TIMEOUT)
        started = time.monotonic()
        try:
            conn.request(method, path, body=body, headers={"Host": host, **(headers or {})})
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data, \
                time.monotonic() - started
        finally:
            conn.close()

    def call(self, method, path, route, traced=False, body=None, reaches=None):
        """One request to the API; `route` is the route key it must match ("" for
        none); `reaches` whether the upstream must get it (default: by route)."""
        seq = self.seq
        self.seq += 1
        ua = f'{UA_PREFIX}{seq} "quoted" back\\slash {UA_PADDING}'
        headers = {"User-Agent": ua, "x-obs-seq": str(seq), "Accept": "application/json"}
        trace_id = span_id = tp = None
        if traced:
            trace_id, span_id, tp = new_traceparent()
            headers["traceparent"] = tp
        status, rh, data, elapsed = self.raw(method, path, self.api_host, headers, body)
        if reaches is None:
            reaches = route in ("GET /ok", "POST /ok", "GET /fail") or (
                route == THROTTLED_ROUTE and status == 200)
        record = {
            "seq": seq, "method": method, "path": path, "route": route, "status": status,
            "traced": traced, "traceId": trace_id, "spanId": span_id, "traceparent": tp,
            "requestId": rh.get("apigw-requestid"), "bodyLength": len(data),
            "requestBodyLength": len(body or b""), "ua": ua, "elapsed": elapsed,
            "reaches": reaches, "body": data[:200].decode("utf-8", "replace"),
        }
        self.sent.append(record)
        return record


def tally(sent):
    """What the client saw, in the shapes every other source is compared in."""
    statuses = collections.Counter(str(r["status"]) for r in sent)
    by_route = collections.Counter(r["route"] for r in sent)
    by_route_status = collections.Counter((r["route"], str(r["status"])) for r in sent)

    def klass(rs, lo, hi):
        return sum(1 for r in rs if lo <= r["status"] <= hi)

    routes = {}
    for route in by_route:
        rs = [r for r in sent if r["route"] == route]
        routes[route] = {"count": len(rs), "4xx": klass(rs, 400, 499), "5xx": klass(rs, 500, 599),
                         "throttled": sum(1 for r in rs if r["status"] == 429)}
    return {
        "count": len(sent),
        "byStatus": dict(sorted(statuses.items())),
        "byRoute": dict(sorted(by_route.items())),
        "byRouteStatus": {f"{k[0]}|{k[1]}": v for k, v in sorted(by_route_status.items())},
        "2xx": klass(sent, 200, 299),
        "4xx": klass(sent, 400, 499),
        "5xx": klass(sent, 500, 599),
        "throttled": sum(1 for r in sent if r["status"] == 429),
        "routes": routes,
        "traced": sum(1 for r in sent if r["traced"]),
        "reached": sum(1 for r in sent if r["reaches"]),
        "requestBodyBytes": sum(r["requestBodyLength"] for r in sent),
    }


# ---------------------------------------------------------------------------------------
# Access logs
# ---------------------------------------------------------------------------------------

def log_files(log_dir, group, keep):
    """The group's files, oldest first: NAME.log.{keep} … NAME.log.1, NAME.log."""
    base = os.path.join(log_dir, group.lstrip("/")) + ".log"
    files = [f"{base}.{i}" for i in range(keep + 3, 0, -1)] + [base]
    return base, [f for f in files if os.path.exists(f)]


def read_log(log_dir, group, keep):
    """Every complete line of the group's files, oldest first, and the files."""
    _, files = log_files(log_dir, group, keep)
    lines = []
    for path in files:
        with open(path, "rb") as f:
            data = f.read()
        complete = data[: data.rfind(b"\n") + 1] if b"\n" in data else b""
        lines.extend(line.decode("utf-8") for line in complete.split(b"\n") if line)
    return lines, files


def parse_log_lines(raw_lines):
    parsed, problems = [], []
    for raw in raw_lines:
        try:
            parsed.append(json.loads(raw))
        except ValueError as e:
            problems.append(f"a log line is not JSON ({e}): {raw!r}")
    return parsed, problems


def check_access_log(lines, sent, upstream, api_id):
    """Every request the client sent has exactly one line, which says what the client
    saw. `upstream` is Upstream.snapshot()."""
    problems = []
    eq(problems, "lines", len(lines), len(sent))
    by_seq = {}
    for line in lines:
        m = UA_RE.match(str(line.get("ua", "")))
        if not m:
            problems.append(f"a line with no request of this client: {line}")
            continue
        seq = int(m.group(1))
        if seq in by_seq:
            problems.append(f"request {seq} has two lines: {by_seq[seq]} and {line}")
        by_seq[seq] = line
    ids = [line.get("id") for line in lines]
    if len(set(ids)) != len(ids):
        dup = [i for i, n in collections.Counter(ids).items() if n > 1]
        problems.append(f"requestIds are not unique: {dup}")
    traces = [line.get("trace") for line in lines]
    if len(set(traces)) != len(traces):
        problems.append("traceIds are not unique per request: "
                        f"{[t for t, n in collections.Counter(traces).items() if n > 1]}")
    for r in sent:
        line = by_seq.get(r["seq"])
        what = f"request {r['seq']} ({r['method']} {r['path']} → {r['status']})"
        if line is None:
            problems.append(f"{what}: no log line")
            continue
        eq(problems, f"{what} userAgent (JSON-escaped)", line.get("ua"), r["ua"])
        eq(problems, f"{what} status", line.get("status"), str(r["status"]))
        eq(problems, f"{what} httpMethod", line.get("method"), r["method"])
        eq(problems, f"{what} routeKey", line.get("route"), r["route"] or "-")
        eq(problems, f"{what} stage", line.get("stage"), STAGE)
        eq(problems, f"{what} apiId", line.get("api"), api_id)
        eq(problems, f"{what} sourceIp", line.get("ip"), "127.0.0.1")
        eq(problems, f"{what} protocol", line.get("proto"), "HTTP/1.1")
        eq(problems, f"{what} responseLength", line.get("len"), str(r["bodyLength"]))
        eq(problems, f"{what} identity.accountId (no value here)", line.get("account"), "-")
        if line.get("id") in (None, "", "-"):
            problems.append(f"{what}: no requestId: {line}")
        if r["requestId"]:
            eq(problems, f"{what} requestId (apigw-requestid)", line.get("id"), r["requestId"])
        stageless = r["path"][len("/" + STAGE):]
        if line.get("path") not in (r["path"], stageless):
            problems.append(f"{what}: path {line.get('path')!r} is neither {r['path']!r} "
                            f"nor {stageless!r}")
        if not str(line.get("epoch", "")).isdigit():
            problems.append(f"{what}: requestTimeEpoch {line.get('epoch')!r}")
        if not str(line.get("latency", "")).isdigit():
            problems.append(f"{what}: responseLatency {line.get('latency')!r}")
        trace = str(line.get("trace", ""))
        if not TRACE_RE.match(trace) or trace == "0" * 32:
            problems.append(f"{what}: traceId {trace!r} is not 32 hex digits")
        if r["traced"]:
            eq(problems, f"{what} traceId (the client's)", trace, r["traceId"])
        if r["reaches"]:
            got = upstream.get(r["seq"], [])
            if len(got) != 1:
                problems.append(f"{what}: the upstream got it {len(got)} times")
            else:
                tp = parse_traceparent(got[0]["traceparents"][0] if got[0]["traceparents"] else "")
                eq(problems, f"{what} traceId (the upstream's traceparent)",
                   trace, tp and tp["traceId"])
                eq(problems, f"{what} integrationStatus", line.get("istatus"),
                   str(got[0]["status"]))
            if not str(line.get("ilatency", "")).isdigit():
                problems.append(f"{what}: integrationLatency {line.get('ilatency')!r}")
        elif r["status"] in (404, 429):
            eq(problems, f"{what} integrationStatus (no integration)", line.get("istatus"), "-")
            eq(problems, f"{what} integrationLatency (no integration)", line.get("ilatency"), "-")
        if r["status"] in (404, 429) and line.get("etype") in (None, "", "-"):
            problems.append(f"{what}: the gateway's own error has no error.responseType")
        if r["status"] == 200:
            eq(problems, f"{what} error.responseType", line.get("etype"), "-")
            eq(problems, f"{what} integrationErrorMessage", line.get("ierror"), "-")
        if r["route"] == "GET /down" and line.get("ierror") in (None, "", "-"):
            problems.append(f"{what}: a refused connection has no integrationErrorMessage")
    got = collections.Counter(str(line.get("status")) for line in lines)
    eq(problems, "lines per status", dict(sorted(got.items())), tally(sent)["byStatus"])
    summary = {
        "lines": len(lines),
        "byStatus": dict(sorted(got.items())),
        "uniqueRequestIds": len(set(ids)),
        "uniqueTraceIds": len(set(traces)),
        "responseLengthTotal": sum(int(line["len"]) for line in lines
                                   if str(line.get("len", "")).isdigit()),
        "sample": {k: by_seq[k] for k in sorted(by_seq)[:1]},
        "errorResponseTypes": sorted({str(line.get("etype")) for line in lines}),
    }
    return summary, problems


def check_log_files(files, max_bytes, keep, longest_line):
    problems = []
    for path in files:
        size = os.path.getsize(path)
        if size > max_bytes + longest_line + 1:
            problems.append(f"{path} is {size} bytes, over --access-log-max-bytes {max_bytes}")
    if len(files) > keep + 1:
        problems.append(f"{len(files)} files kept, --access-log-keep is {keep}: {files}")
    return problems


# ---------------------------------------------------------------------------------------
# The node's /metrics
# ---------------------------------------------------------------------------------------

def parse_exposition(text):
    """(samples, parser): every sample as (name, labels, value), by the Prometheus text
    parser (which also reads the OpenMetrics text the prometheus-client crate writes:
    `# EOF`, `# UNIT`, exemplars); the strict OpenMetrics parser only when it refuses."""
    from prometheus_client.parser import text_string_to_metric_families
    try:
        families = list(text_string_to_metric_families(text))
        parser = "prometheus_client.parser"
    except ValueError:
        from prometheus_client.openmetrics.parser import text_string_to_metric_families as om
        families = list(om(text))
        parser = "prometheus_client.openmetrics.parser"
    samples = [(s.name, dict(s.labels), float(s.value)) for f in families for s in f.samples]
    return samples, parser


def total(samples, name, **labels):
    return sum(v for n, ls, v in samples
               if n == name and all(ls.get(k) == want for k, want in labels.items()))


def present(samples, name):
    return any(n == name for n, _, _ in samples)


def check_node_metrics(samples, sent, api_id, log_lines, log_group):
    """The node's counters of this API against what the client saw."""
    t = tally(sent)
    problems = []
    api = {"api_id": api_id}
    statuses = {ls.get("status") for n, ls, _ in samples
                if n == "portico_requests_total" and ls.get("api_id") == api_id}
    by_status = {s: int(total(samples, "portico_requests_total", status=s, **api))
                 for s in sorted(statuses)}
    eq(problems, "portico_requests_total by status", by_status, t["byStatus"])
    for key, want in t["byRouteStatus"].items():
        route, status = key.split("|")
        eq(problems, f"portico_requests_total{{route={route!r},status={status}}}",
           int(total(samples, "portico_requests_total", route=route, status=status, **api)), want)
    for n, ls, _ in samples:
        if ls.get("api_id") == api_id and ls.get("stage") != STAGE:
            problems.append(f"{n}{ls}: stage label is not {STAGE}")
    throttled = int(total(samples, "portico_throttled_requests_total", **api))
    eq(problems, "portico_throttled_requests_total", throttled, t["throttled"])
    eq(problems, f"portico_throttled_requests_total{{route={THROTTLED_ROUTE!r}}}",
       int(total(samples, "portico_throttled_requests_total", route=THROTTLED_ROUTE, **api)),
       t["throttled"])
    eq(problems, "portico_unauthorized_requests_total",
       int(total(samples, "portico_unauthorized_requests_total", **api)), 0)
    durations = int(total(samples, "portico_request_duration_seconds_count", **api))
    eq(problems, "portico_request_duration_seconds_count", durations, t["count"])
    for route, want in t["byRoute"].items():
        eq(problems, f"portico_request_duration_seconds_count{{route={route!r}}}",
           int(total(samples, "portico_request_duration_seconds_count", route=route, **api)), want)
        eq(problems, f"portico_request_duration_seconds_bucket{{route={route!r},le=+Inf}}",
           int(total(samples, "portico_request_duration_seconds_bucket", route=route, le="+Inf",
                     **api)), want)
    for route in ("GET /ok", "POST /ok", "GET /fail", THROTTLED_ROUTE, ""):
        want = sum(1 for r in sent if r["route"] == route and r["reaches"])
        eq(problems, f"portico_integration_duration_seconds_count{{route={route!r}}}",
           int(total(samples, "portico_integration_duration_seconds_count", route=route, **api)),
           want)
    request_bytes = int(total(samples, "portico_request_bytes_total", **api))
    response_bytes = int(total(samples, "portico_response_bytes_total", **api))
    if request_bytes < t["requestBodyBytes"]:
        problems.append(f"portico_request_bytes_total {request_bytes} is below the "
                        f"{t['requestBodyBytes']} body bytes sent")
    if response_bytes <= 0:
        problems.append("portico_response_bytes_total is 0")
    groups = {ls.get("log_group") for n, ls, _ in samples if n == "portico_access_log_lines_total"}
    group = next((g for g in (log_group, log_group.lstrip("/")) if g in groups), None)
    if group is None:
        problems.append(f"portico_access_log_lines_total has no log_group {log_group!r}: {groups}")
    else:
        eq(problems, "portico_access_log_lines_total",
           int(total(samples, "portico_access_log_lines_total", log_group=group)), log_lines)
        eq(problems, "portico_access_log_dropped_total",
           int(total(samples, "portico_access_log_dropped_total", log_group=group)), 0)
    if total(samples, "portico_config_version") <= 0:
        problems.append("portico_config_version is not above 0")
    if total(samples, "portico_config_acks_total") < 1:
        problems.append("portico_config_acks_total is below 1")
    eq(problems, "portico_config_nacks_total", total(samples, "portico_config_nacks_total"), 0)
    if total(samples, "portico_config_last_ack_timestamp_seconds") <= 0:
        problems.append("portico_config_last_ack_timestamp_seconds is not set")
    if not present(samples, "portico_upstream_idle_connections"):
        problems.append("no portico_upstream_idle_connections")
    summary = {
        "byStatus": by_status,
        "throttled": throttled,
        "durationCount": durations,
        "requestBytes": request_bytes,
        "responseBytes": response_bytes,
        "configVersion": total(samples, "portico_config_version"),
        "accessLogLines": int(total(samples, "portico_access_log_lines_total", log_group=group))
        if group else None,
        "logGroupLabel": group,
    }
    return summary, problems


def scrape(metrics_addr):
    host, port = metrics_addr.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=TIMEOUT)
    try:
        conn.request("GET", "/metrics")
        resp = conn.getresponse()
        text = resp.read().decode("utf-8")
        if resp.status != 200:
            raise Disagreement(f"GET http://{metrics_addr}/metrics: {resp.status} {text[:200]}")
        return parse_exposition(text) + (resp.getheader("Content-Type"),)
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------
# Traces
# ---------------------------------------------------------------------------------------

def check_traces(spans, sent, upstream):
    """For every request that sent a traceparent: one `gateway` span (SERVER, the
    client's span as parent, service.name portico-proxy); for those that reached the
    upstream one `integration` span whose parent is the gateway span; and the upstream
    saw the same trace id with the gateway span as its parent."""
    problems = []
    by_trace = collections.defaultdict(list)
    for s in spans:
        by_trace[s["traceId"]].append(s)
    integration_spans = within = 0
    for r in sent:
        got_up = upstream.get(r["seq"], [])
        what = f"request {r['seq']} ({r['method']} {r['path']} → {r['status']})"
        if r["reaches"]:
            if len(got_up) != 1:
                problems.append(f"{what}: the upstream got it {len(got_up)} times")
                continue
            tps = got_up[0]["traceparents"]
            if len(tps) != 1:
                problems.append(f"{what}: the upstream got {len(tps)} traceparent headers: {tps}")
                continue
            tp = parse_traceparent(tps[0])
            if tp is None or tp["version"] != "00" or tp["traceId"] == "0" * 32 \
                    or tp["parentId"] == "0" * 16:
                problems.append(f"{what}: the upstream got an invalid traceparent {tps[0]!r}")
                continue
        else:
            tp = None
        if not r["traced"]:
            continue
        if tp is not None:
            eq(problems, f"{what} upstream trace id", tp["traceId"], r["traceId"])
            if tp["parentId"] == r["spanId"]:
                problems.append(f"{what}: the upstream's parent is the client's span, not a "
                                "new one")
        mine = by_trace.get(r["traceId"], [])
        gateway = [s for s in mine if s["name"] == "gateway"]
        integration = [s for s in mine if s["name"] == "integration"]
        others = sorted({s["name"] for s in mine} - {"gateway", "integration"})
        if others:
            problems.append(f"{what}: unexpected spans {others} (no authorizer here)")
        if len(gateway) != 1:
            problems.append(f"{what}: {len(gateway)} gateway spans with trace id {r['traceId']}")
            continue
        g = gateway[0]
        eq(problems, f"{what} gateway span kind", g["kind"], SPAN_KIND_SERVER)
        eq(problems, f"{what} gateway span parent (the client's span)", g["parentSpanId"],
           r["spanId"])
        eq(problems, f"{what} resource service.name", g["resource"].get("service.name"),
           "portico-proxy")
        if tp is not None:
            eq(problems, f"{what} the upstream's parent (the gateway span)", tp["parentId"],
               g["spanId"])
        if r["reaches"]:
            if len(integration) != 1:
                problems.append(f"{what}: {len(integration)} integration spans")
                continue
            i = integration[0]
            integration_spans += 1
            eq(problems, f"{what} integration span parent (the gateway span)",
               i["parentSpanId"], g["spanId"])
            eq(problems, f"{what} integration resource service.name",
               i["resource"].get("service.name"), "portico-proxy")
            if i["start"] < g["start"]:
                problems.append(f"{what}: the integration span starts at {i['start']}, before "
                                f"its parent, the gateway span, at {g['start']}")
            if i["end"] <= g["end"]:
                within += 1
        elif r["status"] in (404, 429) and integration:
            problems.append(f"{what}: an integration span for a request no integration got")
    traced = [r for r in sent if r["traced"]]
    untraced_with_span = sum(
        1 for r in sent if not r["traced"] and r["reaches"] and upstream.get(r["seq"])
        and upstream[r["seq"]][0]["traceparents"]
        and any(s["name"] == "gateway" for s in by_trace.get(
            (parse_traceparent(upstream[r["seq"]][0]["traceparents"][0]) or {}).get("traceId"), [])))
    summary = {
        "traced": len(traced),
        "gatewaySpans": sum(1 for r in traced for s in by_trace.get(r["traceId"], [])
                            if s["name"] == "gateway"),
        "integrationSpans": integration_spans,
        "integrationEndsWithinGateway": within,
        "spansReceived": len(spans),
        "untracedReachedWithGatewaySpan": untraced_with_span,
        "untracedReached": sum(1 for r in sent if not r["traced"] and r["reaches"]),
        "downSpans": sorted(s["name"] for r in traced if r["route"] == "GET /down"
                            for s in by_trace.get(r["traceId"], [])),
        "integrationKinds": sorted({s["kind"] for s in spans if s["name"] == "integration"}),
    }
    return summary, problems


def traces_complete(spans, sent):
    """Whether every span the traced requests should have made has arrived."""
    have = collections.Counter((s["traceId"], s["name"]) for s in spans)
    for r in sent:
        if not r["traced"]:
            continue
        if not have[(r["traceId"], "gateway")]:
            return False
        if r["reaches"] and not have[(r["traceId"], "integration")]:
            return False
    return True


# ---------------------------------------------------------------------------------------
# The control plane's series, usage and budgets
# ---------------------------------------------------------------------------------------

def check_cp_metrics(cp, sent, api_id, node_bytes=None):
    """GET /portico/apis/{apiId}/metrics?stage=dev against what the client saw; empty
    when they agree."""
    t = tally(sent)
    problems = []
    eq(problems, "apiId", cp.get("apiId"), api_id)
    eq(problems, "stage", cp.get("stage"), STAGE)
    eq(problems, "period", cp.get("period"), 60)
    totals = cp.get("totals") or {}
    for field, want in (("count", t["count"]), ("4xx", t["4xx"]), ("5xx", t["5xx"]),
                        ("throttled", t["throttled"]), ("unauthorized", 0)):
        eq(problems, f"totals.{field}", totals.get(field), want)
    if node_bytes is not None:
        eq(problems, "totals.bytesIn (the node's portico_request_bytes_total)",
           totals.get("bytesIn"), node_bytes["in"])
        eq(problems, "totals.bytesOut (the node's portico_response_bytes_total)",
           totals.get("bytesOut"), node_bytes["out"])
    points = cp.get("points") or []
    for field in ("count", "4xx", "5xx", "throttled", "bytesIn", "bytesOut"):
        eq(problems, f"Σ points.{field}", sum(p.get(field, 0) for p in points), totals.get(field))
    routes = {}
    for entry in cp.get("routes") or []:
        routes[(entry.get("stage"), entry.get("routeKey"))] = entry.get("totals") or {}
    for route, want in t["routes"].items():
        got = routes.get((STAGE, route))
        if got is None:
            problems.append(f"routes: no ({STAGE}, {route!r})")
            continue
        for field in ("count", "4xx", "5xx", "throttled"):
            eq(problems, f"routes[{route!r}].{field}", got.get(field), want[field])
    extra = [k for k, v in routes.items() if k[1] not in t["routes"] and v.get("count")]
    if extra:
        problems.append(f"routes the client never called: {extra}")
    counts = [(e.get("totals") or {}).get("count", 0) for e in cp.get("routes") or []]
    if counts != sorted(counts, reverse=True):
        problems.append(f"routes are not busiest first: {counts}")
    return problems


def approx(a, b):
    return abs(a - b) <= 1e-12 + 1e-9 * max(abs(a), abs(b))


def check_usage(report, pricing, api_id, want_requests, cp_totals=None):
    problems = []
    eq(problems, "month", report.get("month"), utc_month())
    eq(problems, "pricing", report.get("pricing"), pricing)
    mine = [a for a in report.get("apis") or [] if a.get("apiId") == api_id]
    if len(mine) != 1:
        return [f"{len(mine)} entries for API {api_id} in {report.get('apis')}"], None
    u = mine[0]
    eq(problems, "requests", u.get("requests"), want_requests)
    eq(problems, "name", u.get("name"), API_NAME)
    eq(problems, "protocolType", u.get("protocolType"), "HTTP")
    if not (u.get("bytesOut") or 0) > 0:
        problems.append(f"bytesOut is {u.get('bytesOut')}")
    if cp_totals is not None:
        eq(problems, "bytesOut (the series' totals)", u.get("bytesOut"), cp_totals.get("bytesOut"))
        eq(problems, "bytesIn (the series' totals)", u.get("bytesIn"), cp_totals.get("bytesIn"))
    cost = (u.get("requests", 0) / 1e6 * pricing["httpRequestsPerMillion"]
            + u.get("bytesOut", 0) / GB * pricing["dataOutPerGb"])
    if not approx(u.get("cost", -1.0), cost):
        problems.append(f"cost {u.get('cost')!r}, want requests/1e6*"
                        f"{pricing['httpRequestsPerMillion']} + bytesOut/2^30*"
                        f"{pricing['dataOutPerGb']} = {cost!r}")
    if (u.get("forecastRequests") or 0) < u.get("requests", 0):
        problems.append(f"forecastRequests {u.get('forecastRequests')} below requests")
    if (u.get("forecastCost") or 0) + 1e-12 < u.get("cost", 0):
        problems.append(f"forecastCost {u.get('forecastCost')} below cost")
    if report.get("requests", 0) < u.get("requests", 0):
        problems.append(f"the report's requests {report.get('requests')} below the API's")
    if not (0 <= report.get("cost", -1) <= sum(a.get("cost", 0) for a in report["apis"]) + 1e-12):
        problems.append(f"the report's cost {report.get('cost')} is not between 0 and Σ cost")
    return problems, {"requests": u.get("requests"), "bytesIn": u.get("bytesIn"),
                      "bytesOut": u.get("bytesOut"), "cost": u.get("cost"), "expectedCost": cost,
                      "forecastRequests": u.get("forecastRequests"),
                      "forecastCost": u.get("forecastCost"), "budget": u.get("budget")}


def check_webhook_post(post, api_id, month, limit, threshold, most):
    """One budget alert POST: the contract's fields, content-type application/json."""
    problems = []
    eq(problems, "method", post["method"], "POST")
    if not post["headers"].get("content-type", "").startswith("application/json"):
        problems.append(f"content-type {post['headers'].get('content-type')!r}")
    b = post["json"]
    if not isinstance(b, dict):
        return problems + [f"the body is not a JSON object: {post['body']!r}"]
    want = {"type": "portico.budget.alert", "apiId": api_id, "apiName": API_NAME,
            "month": month, "notificationType": "ACTUAL", "unit": "REQUESTS"}
    for k, v in want.items():
        eq(problems, k, b.get(k), v)
    for k in ("threshold", "limit", "actual", "forecast"):
        if not isinstance(b.get(k), (int, float)) or isinstance(b.get(k), bool):
            problems.append(f"{k} is not a number: {b.get(k)!r}")
    if problems:
        return problems
    eq(problems, "threshold", float(b["threshold"]), float(threshold))
    eq(problems, "limit", float(b["limit"]), float(limit))
    if not (limit * threshold / 100.0 <= b["actual"] <= most):
        problems.append(f"actual {b['actual']} is not between {limit * threshold / 100.0} "
                        f"and {most}")
    if b["forecast"] + 1e-9 < b["actual"]:
        problems.append(f"forecast {b['forecast']} below actual {b['actual']}")
    try:
        datetime.datetime.fromisoformat(str(b.get("firedAt")).replace("Z", "+00:00"))
    except ValueError:
        problems.append(f"firedAt {b.get('firedAt')!r} is not RFC 3339")
    return problems


# ---------------------------------------------------------------------------------------
# run: the whole test against a real control plane and node
# ---------------------------------------------------------------------------------------

def call_ok(endpoint, method, path, body=None, want=200):
    data = json.dumps(body).encode() if body is not None else b""
    status, parsed = admin(endpoint, method, path, data)
    if status != want:
        raise Disagreement(f"{method} {path}: {status} {parsed}, want {want}")
    return parsed


def refused(endpoint, method, path, body, status, needle):
    """A call the admin API must refuse with `status`, naming `needle`."""
    got, parsed = admin(endpoint, method, path, json.dumps(body).encode() if body is not None
                        else b"")
    message = (parsed or {}).get("message", "") if isinstance(parsed, dict) else str(parsed)
    if got != status or needle not in message:
        raise Disagreement(f"{method} {path} {body}: {got} {parsed}, want {status} naming "
                           f"{needle!r}")
    return {"status": got, "message": message}


def poll(what, limit, check, interval=0.25):
    """Calls `check` until it returns (True, value); fails after `limit` seconds with the
    last value it gave."""
    start = time.monotonic()
    last = None
    while True:
        ok, last = check()
        if ok:
            return last, time.monotonic() - start
        if time.monotonic() - start > limit:
            raise Disagreement(f"after {limit} s, {what}: {last}")
        time.sleep(interval)


def configure(gw, upstream_port, down_port):
    """The API, its stage `dev` without access logs, then every refusal, then the
    access log settings. Returns (apiId, refusal messages, stage)."""
    up = f"http://127.0.0.1:{upstream_port}"
    api = gw.create_api(Name=API_NAME, ProtocolType="HTTP")
    api_id = api["ApiId"]

    def integration(uri):
        return gw.create_integration(ApiId=api_id, IntegrationType="HTTP_PROXY",
                                     IntegrationMethod="ANY", IntegrationUri=uri,
                                     PayloadFormatVersion="1.0",
                                     TimeoutInMillis=5000)["IntegrationId"]

    ok = integration(f"{up}/ok")
    for key, target in (("GET /ok", ok), ("POST /ok", ok),
                        ("GET /fail", integration(f"{up}/fail")),
                        (THROTTLED_ROUTE, integration(f"{up}/limited")),
                        ("GET /down", integration(f"http://127.0.0.1:{down_port}/down"))):
        gw.create_route(ApiId=api_id, RouteKey=key, Target=f"integrations/{target}")
    gw.create_stage(ApiId=api_id, StageName=STAGE, AutoDeploy=True,
                    RouteSettings={THROTTLED_ROUTE: {"ThrottlingBurstLimit": 1,
                                                     "ThrottlingRateLimit": 1.0}})

    good = {"DestinationArn": LOG_ARN, "Format": LOG_FORMAT}
    bad = {
        "unknownVariable": {"DestinationArn": LOG_ARN,
                            "Format": '{"id":"$context.requestId","x":"$context.nope"}'},
        "noRequestId": {"DestinationArn": LOG_ARN,
                        "Format": '{"status":"$context.status","route":"$context.routeKey"}'},
        "firehose": {"DestinationArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/obs",
                     "Format": LOG_FORMAT},
        "s3": {"DestinationArn": "arn:aws:s3:::x", "Format": LOG_FORMAT},
        "formatOnly": {"Format": LOG_FORMAT},
        "destinationOnly": {"DestinationArn": LOG_ARN},
    }
    errors = {}
    for name, settings in bad.items():
        errors[f"create.{name}"] = expect_error("BadRequestException", lambda s=settings:
                                                gw.create_stage(ApiId=api_id, StageName="refused",
                                                                AccessLogSettings=s))
        errors[f"update.{name}"] = expect_error("BadRequestException", lambda s=settings:
                                                gw.update_stage(ApiId=api_id, StageName=STAGE,
                                                                AccessLogSettings=s))
    for op in ("create", "update"):
        m = errors[f"{op}.unknownVariable"]["message"]
        assert "$context.nope" in m, f"{op}: the message does not name $context.nope: {m}"
        m = errors[f"{op}.noRequestId"]["message"]
        assert "requestId" in m, f"{op}: the message does not name requestId: {m}"
    for name, e in errors.items():
        assert e["status"] == 400, (name, e)
    stages = [s["StageName"] for s in gw.get_stages(ApiId=api_id)["Items"]]
    assert stages == [STAGE], f"a refused create_stage stored something: {stages}"
    stage = gw.get_stage(ApiId=api_id, StageName=STAGE)
    assert "AccessLogSettings" not in stage or not stage["AccessLogSettings"], \
        f"a refused update stored access log settings: {stage.get('AccessLogSettings')}"

    updated = gw.update_stage(ApiId=api_id, StageName=STAGE, AccessLogSettings=good)
    assert updated.get("AccessLogSettings") == good, updated.get("AccessLogSettings")
    assert gw.get_stage(ApiId=api_id, StageName=STAGE).get("AccessLogSettings") == good
    # A refused update leaves the settings as they were.
    errors["update.unknownVariableOverGood"] = expect_error(
        "BadRequestException", lambda: gw.update_stage(ApiId=api_id, StageName=STAGE,
                                                       AccessLogSettings=bad["unknownVariable"]))
    assert gw.get_stage(ApiId=api_id, StageName=STAGE).get("AccessLogSettings") == good
    # Empty settings turn logging off; then on again.
    gw.update_stage(ApiId=api_id, StageName=STAGE, AccessLogSettings={})
    off = gw.get_stage(ApiId=api_id, StageName=STAGE).get("AccessLogSettings")
    assert not off, f"empty AccessLogSettings did not turn logging off: {off}"
    gw.update_stage(ApiId=api_id, StageName=STAGE, AccessLogSettings=good)
    stage = gw.get_stage(ApiId=api_id, StageName=STAGE)
    assert stage.get("AccessLogSettings") == good, stage
    assert stage["RouteSettings"][THROTTLED_ROUTE]["ThrottlingBurstLimit"] == 1, stage
    return api_id, errors, plain(stage)


def wait_node_current(endpoint):
    def check():
        status, body = admin(endpoint, "GET", "/portico/nodes")
        if status != 200:
            return False, (status, body)
        items = body.get("items") or []
        done = items and all(n.get("appliedVersion") == body.get("currentVersion")
                             and n.get("lastStatus") == "ACK" and n.get("connected")
                             for n in items)
        return bool(done), body
    body, _ = poll("the node to apply the current version", 30, check)
    return body


def traffic(client):
    """The known mix. Each call says which route it must match."""
    for i in range(6):
        client.call("GET", f"/{STAGE}/ok", "GET /ok", traced=i % 2 == 0)
    for i in range(2):
        client.call("POST", f"/{STAGE}/ok", "POST /ok", traced=i == 0, body=b"x" * 1000)
    for i in range(4):
        client.call("GET", f"/{STAGE}/nope/{i}", "", traced=i == 0)
    for i in range(3):
        client.call("GET", f"/{STAGE}/fail", "GET /fail", traced=i == 0)
    for i in range(2):
        client.call("GET", f"/{STAGE}/down", "GET /down", traced=i == 0)
    # Rate 1, burst 1, hammered: the first is admitted, almost all the others are 429.
    for i in range(12):
        client.call("GET", f"/{STAGE}/limited", THROTTLED_ROUTE, traced=i in (1, 11))


def check_statuses(sent):
    problems = []
    for r in sent:
        route, s = r["route"], r["status"]
        ok = {"GET /ok": s == 200, "POST /ok": s == 200, "": s == 404, "GET /fail": s == 500,
              "GET /down": 500 <= s <= 599, THROTTLED_ROUTE: s in (200, 429)}[route]
        if not ok:
            problems.append(f"request {r['seq']} {r['method']} {r['path']}: {s} {r['body']!r}")
    limited = [r["status"] for r in sent if r["route"] == THROTTLED_ROUTE]
    if limited and not 1 <= limited.count(200) <= 2:
        problems.append(f"rate 1 burst 1 admitted {limited.count(200)} of {len(limited)}: {limited}")
    return problems


def env(name):
    value = os.environ.get(name)
    if not value:
        raise SystemExit(f"{name} is not set")
    return value


def run(_args):
    endpoint = env("PORTICO_OBS_ENDPOINT").rstrip("/")
    proxy = env("PORTICO_OBS_PROXY")
    metrics_addr = env("PORTICO_OBS_METRICS")
    log_dir = env("PORTICO_OBS_ACCESS_LOG_DIR")
    max_bytes = int(env("PORTICO_OBS_ACCESS_LOG_MAX_BYTES"))
    keep = int(env("PORTICO_OBS_ACCESS_LOG_KEEP"))
    otlp_port = int(env("PORTICO_OBS_OTLP_PORT"))
    out = {}

    upstream = Upstream()
    otlp = OtlpReceiver(otlp_port)
    hook = Webhook()
    down_port = closed_port()
    gw = boto("apigatewayv2", endpoint)

    # 1-2. Refusals, then the API and its logging stage.
    api_id, errors, stage = configure(gw, upstream.port, down_port)
    out["apiId"] = api_id
    out["refusals"] = errors
    out["accessLogSettings"] = stage.get("AccessLogSettings")
    progress(f"API {api_id} configured; waiting for the node")
    nodes = wait_node_current(endpoint)
    out["configVersion"] = nodes.get("currentVersion")

    # 3. The traffic.
    client = Client(proxy, f"{api_id}.execute-api.localhost")
    unrouted_before, _, _ = scrape(metrics_addr)
    traffic(client)
    unrouted = [client.raw("GET", f"/{STAGE}/ok", f"nosuchapi{i}.execute-api.localhost")[0]
                for i in range(2)]
    traffic_end = time.monotonic()
    sent = list(client.sent)
    t = tally(sent)
    fail_if(check_statuses(sent), "what the node answered")
    out["client"] = {k: t[k] for k in ("count", "byStatus", "byRoute", "2xx", "4xx", "5xx",
                                       "throttled", "traced", "reached")}
    out["client"]["unrouted"] = unrouted
    out["client"]["withRequestId"] = sum(1 for r in sent if r["requestId"])
    missing = [r["seq"] for r in sent if r["status"] == 200 and not r["requestId"]]
    assert not missing, f"200s without apigw-requestid: {missing}"
    progress(f"sent {t['count']} requests: {t['byStatus']}")

    # 4a. The access log, once every line is written.
    def log_done():
        raw, files = read_log(log_dir, LOG_GROUP, keep)
        return len(raw) >= len(sent), (len(raw), files)
    _, log_wait = poll("every access log line to be written", 15, log_done)
    time.sleep(1.0)  # and no more lines than requests
    raw, files = read_log(log_dir, LOG_GROUP, keep)
    base, _ = log_files(log_dir, LOG_GROUP, keep)
    assert os.path.exists(base), f"no {base}"
    lines, problems = parse_log_lines(raw)
    fail_if(problems, "the access log")
    up = upstream.snapshot()
    log_summary, problems = check_access_log(lines, sent, up, api_id)
    problems += check_log_files(files, max_bytes, keep, max(len(x) for x in raw))
    fail_if(problems, "the access log against the client")
    log_summary.update({"file": base, "files": files, "writtenWithin": round(log_wait, 2)})
    out["log"] = log_summary
    stray = [s for s in up if s not in {r["seq"] for r in sent if r["reaches"]}]
    assert not stray and not upstream.unnumbered, \
        f"the upstream got requests no integration should have: {stray} {upstream.unnumbered}"
    progress(f"access log agrees: {log_summary['lines']} lines in {len(files)} file(s)")

    # 4b. The node's /metrics.
    def node_done():
        samples, parser, ctype = scrape(metrics_addr)
        n = int(total(samples, "portico_requests_total", api_id=api_id))
        return n >= len(sent), (samples, parser, ctype, n)
    (samples, parser, ctype, _), _ = poll("the node's counters to count every request", 10,
                                          node_done)
    node_summary, problems = check_node_metrics(samples, sent, api_id, len(lines), LOG_GROUP)
    unrouted_delta = {}
    for status in sorted({str(s) for s in unrouted}):
        unrouted_delta[status] = int(
            total(samples, "portico_unrouted_requests_total", status=status)
            - total(unrouted_before, "portico_unrouted_requests_total", status=status))
    eq(problems, "portico_unrouted_requests_total (delta)", unrouted_delta,
       dict(collections.Counter(str(s) for s in unrouted)))
    fail_if(problems, "the node's /metrics against the client")
    node_summary.update({"parser": parser, "contentType": ctype, "unroutedDelta": unrouted_delta})
    out["node"] = node_summary
    progress(f"node metrics agree ({parser})")

    # 4c. The control plane's series.
    node_bytes = {"in": node_summary["requestBytes"], "out": node_summary["responseBytes"]}
    path = f"/portico/apis/{api_id}/metrics?stage={STAGE}"

    def cp_done():
        status, body = admin(endpoint, "GET", path)
        if status != 200:
            return False, (status, body)
        problems = check_cp_metrics(body, sent, api_id, node_bytes)
        return not problems, (body, problems)
    cp, _ = poll("the control plane's series to match", CONVERGE_LIMIT, cp_done, 0.5)
    cp_converged = time.monotonic() - traffic_end
    route_path = f"{path}&route={urllib.parse.quote(THROTTLED_ROUTE, safe='')}"
    limited = call_ok(endpoint, "GET", route_path)
    problems = []
    eq(problems, "route filter: route", limited.get("route"), THROTTLED_ROUTE)
    for field in ("count", "4xx", "throttled"):
        eq(problems, f"route filter: totals.{field}", limited["totals"].get(field),
           t["routes"][THROTTLED_ROUTE][field])
    fail_if(problems, "the series of one route")
    window = call_ok(endpoint, "GET", f"{path}&period=300&window=7200")
    if window["totals"]["count"] != t["count"] or window.get("period") != 300:
        raise Disagreement(f"period=300&window=7200: {window['totals']} period {window.get('period')}")
    query_errors = {
        "unknownApi": refused(endpoint, "GET", "/portico/apis/nosuchapi/metrics", None, 404, ""),
        "period": refused(endpoint, "GET", f"{path}&period=61", None, 400, "period"),
        "window": refused(endpoint, "GET", f"{path}&window=999999", None, 400, "window"),
    }
    out["controlPlane"] = {"totals": cp[0]["totals"], "convergedAfterSeconds": round(cp_converged, 2),
                           "routes": cp[0]["routes"], "points": len(cp[0]["points"]),
                           "queryErrors": query_errors}
    progress(f"control plane series agree, {cp_converged:.1f} s after the traffic")

    # 4d. Pricing and usage.
    pricing = call_ok(endpoint, "GET", "/portico/pricing")
    defaults = {"httpRequestsPerMillion": 1.0, "restRequestsPerMillion": 3.5,
                "websocketMessagesPerMillion": 1.0, "dataOutPerGb": 0.09,
                "freeTierRequests": 1000000, "effectiveDate": "2026-12-01"}
    problems = []
    for k, v in defaults.items():
        eq(problems, f"default pricing {k}", pricing.get(k), v)
    fail_if(problems, "GET /portico/pricing")
    pricing_errors = {
        "negative": refused(endpoint, "PUT", "/portico/pricing", {**pricing, "dataOutPerGb": -1},
                            400, "dataOutPerGb"),
        "badDate": refused(endpoint, "PUT", "/portico/pricing",
                           {**pricing, "effectiveDate": "yesterday"}, 400, "effectiveDate"),
    }
    assert call_ok(endpoint, "GET", "/portico/pricing") == pricing, "a refused PUT changed prices"
    assert call_ok(endpoint, "PUT", "/portico/pricing", pricing) == pricing

    def usage_done():
        report = call_ok(endpoint, "GET", "/portico/usage")
        problems, summary = check_usage(report, pricing, api_id, t["count"], cp[0]["totals"])
        return not problems, (report, problems, summary)
    (report, _, usage), usage_wait = poll("the usage report to match", CONVERGE_LIMIT,
                                          usage_done, 0.5)
    month_report = call_ok(endpoint, "GET", f"/portico/usage?month={utc_month()}")
    mine = [a for a in month_report["apis"] if a["apiId"] == api_id]
    assert mine and mine[0]["requests"] == t["count"], month_report
    out["usage"] = {**usage, "month": report["month"], "reportRequests": report["requests"],
                    "reportCost": report["cost"], "convergedAfterSeconds": round(usage_wait, 2),
                    "pricingErrors": pricing_errors}
    progress(f"usage agrees: {usage}")

    # 4e. The spans.
    def spans_done():
        spans, posts = otlp.snapshot()
        return traces_complete(spans, sent), (len(spans), len(posts))
    _, spans_wait = poll("every span of the traced requests to be exported", 15, spans_done)
    time.sleep(1.0)  # the batch of any late span
    spans, posts = otlp.snapshot()
    traces_summary, problems = check_traces(spans, sent, up)
    for p in posts:
        if p["path"] != "/v1/traces" or not p["contentType"].startswith("application/x-protobuf"):
            problems.append(f"an OTLP export to {p['path']} as {p['contentType']!r}")
    problems += [f"the OTLP receiver: {e}" for e in otlp.errors]
    fail_if(problems, "the spans against the client")
    traces_summary.update({"exports": len(posts), "exportedWithin": round(spans_wait, 2)})
    out["traces"] = traces_summary
    progress(f"spans agree: {traces_summary}")

    # The control plane's own metrics (the contract names no credentials for them: plain
    # first, signed when refused).
    where = urllib.parse.urlsplit(endpoint)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=TIMEOUT)
    conn.request("GET", "/metrics")
    resp = conn.getresponse()
    text = resp.read().decode("utf-8", "replace")
    conn.close()
    signed_status = None
    if resp.status != 200:
        signed_status, text = admin(endpoint, "GET", "/metrics")
        if signed_status != 200 or not isinstance(text, str):
            raise Disagreement(f"GET {endpoint}/metrics: {resp.status} unsigned, "
                               f"{signed_status} signed: {str(text)[:200]}")
    cp_samples, _ = parse_exposition(text)
    if not cp_samples:
        raise Disagreement(f"GET {endpoint}/metrics has no samples: {text[:200]!r}")
    out["controlPlaneMetrics"] = {"unsignedStatus": resp.status, "signedStatus": signed_status,
                                  "samples": len(cp_samples),
                                  "families": sorted({n for n, _, _ in cp_samples})[:40]}

    # 5. Budgets.
    out["budget"] = budgets(endpoint, client, api_id, hook, t["count"])

    # 6. Everything the run sent agrees once more.
    sent_all = list(client.sent)
    t_all = tally(sent_all)

    def all_logged():
        raw, files = read_log(log_dir, LOG_GROUP, keep)
        return len(raw) >= len(sent_all), (len(raw), files)
    poll("every later access log line to be written", 15, all_logged)
    time.sleep(1.0)
    raw, files = read_log(log_dir, LOG_GROUP, keep)
    lines, problems = parse_log_lines(raw)
    fail_if(problems, "the access log at the end")
    final_log, problems = check_access_log(lines, sent_all, upstream.snapshot(), api_id)
    problems += check_log_files(files, max_bytes, keep, max(len(x) for x in raw))
    size = sum(len(x) + 1 for x in raw)
    if size > max_bytes and len(files) < 2:
        problems.append(f"{size} bytes of lines and no rotated file (max {max_bytes}): {files}")
    fail_if(problems, "the whole run's access log")
    def node_all():
        samples, _, _ = scrape(metrics_addr)
        n = int(total(samples, "portico_requests_total", api_id=api_id))
        return n >= len(sent_all), samples
    samples, _ = poll("the node's counters to count the whole run", 10, node_all)
    final_node, problems = check_node_metrics(samples, sent_all, api_id, len(lines), LOG_GROUP)
    fail_if(problems, "the node's /metrics at the end")
    out["final"] = {"requests": t_all["count"], "byStatus": t_all["byStatus"],
                    "logLines": final_log["lines"], "logByStatus": final_log["byStatus"],
                    "logFiles": files, "nodeByStatus": final_node["byStatus"],
                    "nodeRequests": sum(final_node["byStatus"].values())}
    errors = upstream.errors + otlp.errors + hook.errors
    assert not errors, f"the fixtures failed: {errors}"
    for server in (upstream, otlp, hook):
        server.close()
    # The API through its OpenAPI export and back (issue #17), once every count is taken.
    from roundtrip import check_roundtrip, validate_document
    out["roundtrip"] = check_roundtrip(gw, validate_document)
    print(json.dumps(out, default=str))


def budgets(endpoint, client, api_id, hook, known):
    month = utc_month()
    budget_path = f"/portico/apis/{api_id}/budget"
    result = {}
    refused(endpoint, "GET", budget_path, None, 404, "")

    def usage_counts_everything():
        report = call_ok(endpoint, "GET", "/portico/usage")
        mine = [a for a in report["apis"] if a["apiId"] == api_id]
        requests = mine[0]["requests"] if mine else 0
        return requests == len(client.sent), requests

    so_far, _ = poll("the usage report to count every request", CONVERGE_LIMIT,
                     usage_counts_everything, 0.5)
    assert so_far >= known
    limit = so_far + 5
    body = {"unit": "REQUESTS", "limit": limit,
            "notifications": [{"notificationType": "ACTUAL", "threshold": 100}],
            "webhookUrl": hook.url}
    put = call_ok(endpoint, "PUT", budget_path, body)
    problems = []
    for k in ("unit", "webhookUrl"):
        eq(problems, f"budget {k}", put.get(k), body[k])
    eq(problems, "budget apiId", put.get("apiId"), api_id)
    eq(problems, "budget limit", float(put.get("limit", -1)), float(limit))
    eq(problems, "budget notifications",
       [(n.get("notificationType"), float(n.get("threshold", -1))) for n in put.get("notifications", [])],
       [("ACTUAL", 100.0)])
    if not put.get("lastUpdatedDate"):
        problems.append(f"budget lastUpdatedDate: {put}")
    eq(problems, "GET budget", call_ok(endpoint, "GET", budget_path), put)
    fail_if(problems, "PUT /portico/apis/{apiId}/budget")
    result["errors"] = {
        "limit": refused(endpoint, "PUT", budget_path, {**body, "limit": 0}, 400, "limit"),
        "webhookUrl": refused(endpoint, "PUT", budget_path, {**body, "webhookUrl": "ftp://x"},
                              400, "webhookUrl"),
        "notifications": refused(endpoint, "PUT", budget_path, {**body, "notifications": []},
                                 400, "notifications"),
        "unknownApi": refused(endpoint, "PUT", "/portico/apis/nosuchapi/budget", body, 404, ""),
    }
    assert call_ok(endpoint, "GET", budget_path) == put, "a refused PUT changed the budget"
    # Below the threshold nothing fires.
    time.sleep(6)
    assert hook.snapshot() == [], f"fired below the threshold: {hook.snapshot()}"

    before = len(client.sent)
    for _ in range(10):
        r = client.call("GET", f"/{STAGE}/ok", "GET /ok")
        assert r["status"] == 200, r
    _, fired_after = poll("the budget webhook to be called", 25,
                          lambda: (len(hook.snapshot()) >= 1, hook.snapshot()), 0.25)
    time.sleep(5)
    posts = hook.snapshot()
    assert len(posts) == 1, f"the webhook got {len(posts)} POSTs: {posts}"
    fail_if(check_webhook_post(posts[0], api_id, month, limit, 100, so_far + 10),
            "the budget alert POST")
    result["webhook"] = posts[0]["json"]
    result["firedWithinSeconds"] = round(fired_after, 2)

    def alerts(month_param=month):
        return call_ok(endpoint, "GET", f"/portico/budgets/alerts?month={month_param}")["alerts"]

    def mine(threshold, delivery):
        def check():
            got = [a for a in alerts() if a.get("apiId") == api_id
                   and float(a.get("threshold", -1)) == threshold]
            return len(got) == 1 and got[0].get("delivery") == delivery, got
        return check
    (delivered,), _ = poll("the alert to be DELIVERED", 10, mine(100.0, "DELIVERED"))
    problems = []
    eq(problems, "attempts", delivered.get("attempts"), 1)
    eq(problems, "notificationType", delivered.get("notificationType"), "ACTUAL")
    eq(problems, "unit", delivered.get("unit"), "REQUESTS")
    eq(problems, "month", delivered.get("month"), month)
    eq(problems, "apiName", delivered.get("apiName"), API_NAME)
    eq(problems, "firedAt (the webhook's)", delivered.get("firedAt"), posts[0]["json"].get("firedAt"))
    fail_if(problems, "the DELIVERED alert")
    result["delivered"] = delivered

    # The same API, a budget whose webhook is a closed port: FAILED after 3 attempts, and
    # the requests meanwhile are served at once.
    call_ok(endpoint, "DELETE", budget_path, want=204)
    refused(endpoint, "GET", budget_path, None, 404, "")
    now, _ = poll("the usage report to count every request", CONVERGE_LIMIT,
                  usage_counts_everything, 0.5)
    limit2 = now + now // 2
    dead = f"http://127.0.0.1:{closed_port()}/budget-alerts"
    call_ok(endpoint, "PUT", budget_path, {"unit": "REQUESTS", "limit": limit2,
                                           "notifications": [{"notificationType": "ACTUAL",
                                                              "threshold": 50}],
                                           "webhookUrl": dead})
    latencies = []
    start = time.monotonic()
    failed = None
    while time.monotonic() - start < 40:
        r = client.call("GET", f"/{STAGE}/ok", "GET /ok")
        assert r["status"] == 200, r
        latencies.append(r["elapsed"])
        ok, got = mine(50.0, "FAILED")()
        if ok:
            failed = got[0]
            break
        time.sleep(1.0)
    if failed is None:
        raise Disagreement(f"the alert to a closed port never FAILED: {mine(50.0, 'FAILED')()[1]}")
    problems = []
    eq(problems, "attempts", failed.get("attempts"), 3)
    if not failed.get("lastError"):
        problems.append(f"no lastError: {failed}")
    if max(latencies) >= 1.0:
        problems.append(f"a request took {max(latencies):.2f} s while the webhook failed")
    # Newest first, both listed; the first webhook got nothing more.
    listed = [a for a in alerts() if a.get("apiId") == api_id]
    eq(problems, "alerts (newest first)", [float(a["threshold"]) for a in listed], [50.0, 100.0])
    eq(problems, "alerts of 2000-01", [a for a in alerts("2000-01") if a.get("apiId") == api_id], [])
    eq(problems, "webhook POSTs", len(hook.snapshot()), 1)
    report = call_ok(endpoint, "GET", "/portico/usage")
    entry = next(a for a in report["apis"] if a["apiId"] == api_id)
    eq(problems, "usage budget limit", float((entry.get("budget") or {}).get("limit", -1)),
       float(limit2))
    eq(problems, "usage alerts of this API",
       sorted(float(a["threshold"]) for a in report.get("alerts", []) if a.get("apiId") == api_id),
       [50.0, 100.0])
    fail_if(problems, "the FAILED alert")
    call_ok(endpoint, "DELETE", budget_path, want=204)
    result.update({"limit": limit, "requestsBefore": so_far, "sentAfter": len(client.sent) - before,
                   "webhookPosts": len(hook.snapshot()), "failed": failed,
                   "maxLatencyWhileFailing": round(max(latencies), 3),
                   "requestsWhileFailing": len(latencies), "secondLimit": limit2})
    progress(f"budgets: delivered once, then FAILED after {failed.get('attempts')} attempts")
    return result


# ---------------------------------------------------------------------------------------
# selftest: every part of this script with no Portico
# ---------------------------------------------------------------------------------------

def render_line(values):
    """A line as a node renders LOG_FORMAT: each variable's value JSON-string-escaped,
    `-` when missing."""
    line = LOG_FORMAT
    for key, var in sorted(LOG_FIELDS, key=lambda kv: -len(kv[1])):
        value = values.get(key)
        text = "-" if value is None else json.dumps(str(value))[1:-1]
        line = line.replace(f'"$context.{var}"', f'"{text}"')
    return line


def synthetic(api_id, upstream, otlp_port):
    """Traffic as the real run makes it, answered by a fake node that is right about
    everything: its sent records, log lines, exposition and OTLP exports. The upstream
    is the real Upstream fixture, called as the node would call it."""
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
    from opentelemetry.proto.common.v1 import common_pb2
    from opentelemetry.proto.trace.v1 import trace_pb2
    sent, lines, spans = [], [], []
    plan = ([("GET", "/dev/ok", "GET /ok", 200, i % 2 == 0) for i in range(6)]
            + [("POST", "/dev/ok", "POST /ok", 200, i == 0) for i in range(2)]
            + [("GET", f"/dev/nope/{i}", "", 404, i == 0) for i in range(4)]
            + [("GET", "/dev/fail", "GET /fail", 500, i == 0) for i in range(3)]
            + [("GET", "/dev/down", "GET /down", 503, i == 0) for i in range(2)]
            + [("GET", "/dev/limited", THROTTLED_ROUTE, 200 if i == 0 else 429, i in (0, 11))
               for i in range(12)])
    bodies = {200: b'{"ok":true}', 404: b'{"message":"Not Found"}', 500: b'{"error":"x"}',
              503: b'{"message":"Service Unavailable"}', 429: b'{"message":"Too Many Requests"}'}
    for seq, (method, path, route, status, traced) in enumerate(plan):
        ua = f'{UA_PREFIX}{seq} "quoted" back\\slash {UA_PADDING}'
        trace_id = span_id = tp = None
        if traced:
            trace_id, span_id, tp = new_traceparent()
        node_trace = trace_id or secrets.token_hex(16)
        gateway_span = secrets.token_hex(8)
        reaches = route in ("GET /ok", "POST /ok", "GET /fail") or (
            route == THROTTLED_ROUTE and status == 200)
        request_id = secrets.token_hex(8)
        if reaches:
            conn = http.client.HTTPConnection("127.0.0.1", upstream.port, timeout=TIMEOUT)
            conn.request(method, path[len("/dev"):], body=b"x" * 1000 if method == "POST" else None,
                         headers={"x-obs-seq": str(seq),
                                  "traceparent": f"00-{node_trace}-{gateway_span}-01"})
            resp = conn.getresponse()
            resp.read()
            conn.close()
            assert resp.status == status, (path, resp.status)
        body = bodies[status]
        sent.append({"seq": seq, "method": method, "path": path, "route": route,
                     "status": status, "traced": traced, "traceId": trace_id, "spanId": span_id,
                     "traceparent": tp, "requestId": request_id, "bodyLength": len(body),
                     "requestBodyLength": 1000 if method == "POST" else 0, "ua": ua,
                     "elapsed": 0.01, "reaches": reaches, "body": body.decode()})
        gateway_error = status in (404, 429, 503)
        lines.append(render_line({
            "id": request_id, "xid": request_id, "ip": "127.0.0.1", "ua": ua,
            "time": "01/Jan/2026:00:00:00 +0000", "epoch": 1767225600000, "method": method,
            "path": path, "proto": "HTTP/1.1", "route": route or None, "stage": STAGE,
            "api": api_id, "status": status, "len": len(body), "latency": 3,
            "istatus": status if reaches else None, "ilatency": 2 if reaches else None,
            "ierror": "connection refused" if route == "GET /down" else None,
            "error": body.decode() if gateway_error else None,
            "etype": {404: "RESOURCE_NOT_FOUND", 429: "THROTTLED",
                      503: "INTEGRATION_FAILURE"}.get(status),
            "data": len(body), "trace": node_trace, "account": None,
        }))
        spans.append(("gateway", node_trace, gateway_span, span_id or "", 2, 1000, 9000))
        if reaches or route == "GET /down":
            spans.append(("integration", node_trace, secrets.token_hex(8), gateway_span, 3,
                          2000, 8000))
    # Three exports: plain, gzip, chunked.
    thirds = [spans[i::3] for i in range(3)]
    for n, part in enumerate(thirds):
        req = trace_service_pb2.ExportTraceServiceRequest()
        rs = req.resource_spans.add()
        rs.resource.attributes.append(common_pb2.KeyValue(
            key="service.name", value=common_pb2.AnyValue(string_value="portico-proxy")))
        ss = rs.scope_spans.add()
        ss.scope.name = "portico"
        for name, trace, span, parent, kind, start, end in part:
            s = ss.spans.add()
            s.name, s.kind = name, kind
            s.trace_id, s.span_id = bytes.fromhex(trace), bytes.fromhex(span)
            if parent:
                s.parent_span_id = bytes.fromhex(parent)
            s.start_time_unix_nano, s.end_time_unix_nano = start, end
            s.attributes.append(common_pb2.KeyValue(
                key="http.route", value=common_pb2.AnyValue(string_value="x")))
            s.status.code = trace_pb2.Status.STATUS_CODE_UNSET
        data = req.SerializeToString()
        headers = {"Content-Type": "application/x-protobuf"}
        conn = http.client.HTTPConnection("127.0.0.1", otlp_port, timeout=TIMEOUT)
        if n == 1:
            data = gzip.compress(data)
            headers["Content-Encoding"] = "gzip"
        if n == 2:
            conn.request("POST", "/v1/traces", body=iter([data[:7], data[7:]]), headers=headers,
                         encode_chunked=True)
        else:
            conn.request("POST", "/v1/traces", body=data, headers=headers)
        resp = conn.getresponse()
        answer = resp.read()
        conn.close()
        assert resp.status == 200, resp.status
        assert resp.getheader("Content-Type") == "application/x-protobuf"
        trace_service_pb2.ExportTraceServiceResponse().ParseFromString(answer)
    return sent, lines


def exposition(sent, api_id, exemplars=False):
    """What the node's /metrics says about `sent`, in the prometheus-client crate's
    OpenMetrics text (counters as NAME with NAME_total samples, `# EOF`)."""
    t = tally(sent)
    out = []

    def labels(route, **extra):
        ls = {"api_id": api_id, "stage": STAGE, "route": route, **extra}
        return "{" + ",".join(f'{k}="{v}"' for k, v in ls.items()) + "}"

    out += ["# HELP portico_requests Requests served.", "# TYPE portico_requests counter"]
    for key, n in t["byRouteStatus"].items():
        route, status = key.split("|")
        out.append(f"portico_requests_total{labels(route, status=status)} {n}")
    out.append('portico_requests_total{api_id="other",stage="dev",route="GET /ok",status="200"} 7')
    for family, per_route in (
            ("portico_request_duration_seconds", t["byRoute"]),
            ("portico_integration_duration_seconds",
             {r: sum(1 for x in sent if x["route"] == r and x["reaches"]) for r in t["byRoute"]})):
        out += [f"# HELP {family} Seconds.", f"# TYPE {family} histogram",
                f"# UNIT {family} seconds"]
        for route, n in per_route.items():
            if not n:
                continue
            out.append(f"{family}_sum{labels(route)} {0.002 * n}")
            out.append(f"{family}_count{labels(route)} {n}")
            for le in ("0.0005", "0.005", "+Inf"):
                ex = (f' # {{trace_id="{secrets.token_hex(16)}"}} 0.002 1767225600.0'
                      if exemplars and le == "+Inf" else "")
                value = 0 if le == "0.0005" else n
                out.append(f"{family}_bucket{labels(route, le=le)} {value}{ex}")
    for family, values in (
            ("portico_throttled_requests", {THROTTLED_ROUTE: t["throttled"]}),
            ("portico_unauthorized_requests", {}),
            ("portico_request_bytes", {r: 1000 * sum(1 for x in sent if x["route"] == r
                                                     and x["method"] == "POST") + 10
                                       for r in t["byRoute"]}),
            ("portico_response_bytes", {r: sum(x["bodyLength"] for x in sent if x["route"] == r)
                                        for r in t["byRoute"]})):
        out += [f"# HELP {family} Counter.", f"# TYPE {family} counter"]
        for route, n in values.items():
            out.append(f"{family}_total{labels(route)} {n}")
    out += ["# HELP portico_unrouted_requests Unrouted.", "# TYPE portico_unrouted_requests counter",
            'portico_unrouted_requests_total{status="404"} 2',
            "# HELP portico_config_version Version.", "# TYPE portico_config_version gauge",
            "portico_config_version 4",
            "# HELP portico_config_acks ACKs.", "# TYPE portico_config_acks counter",
            "portico_config_acks_total 4",
            "# HELP portico_config_nacks NACKs.", "# TYPE portico_config_nacks counter",
            "portico_config_nacks_total 0",
            "# HELP portico_config_last_ack_timestamp_seconds When.",
            "# TYPE portico_config_last_ack_timestamp_seconds gauge",
            "portico_config_last_ack_timestamp_seconds 1767225600.5",
            "# HELP portico_upstream_idle_connections Idle.",
            "# TYPE portico_upstream_idle_connections gauge",
            "portico_upstream_idle_connections 1",
            "# HELP portico_access_log_lines Lines.", "# TYPE portico_access_log_lines counter",
            f'portico_access_log_lines_total{{log_group="{LOG_GROUP}"}} {len(sent)}',
            "# HELP portico_access_log_dropped Dropped.",
            "# TYPE portico_access_log_dropped counter",
            f'portico_access_log_dropped_total{{log_group="{LOG_GROUP}"}} 0',
            "# EOF"]
    return "\n".join(out) + "\n"


def cp_series(sent, api_id, node_bytes):
    t = tally(sent)
    point = {"count": t["count"], "4xx": t["4xx"], "5xx": t["5xx"], "throttled": t["throttled"],
             "unauthorized": 0, "bytesIn": node_bytes["in"], "bytesOut": node_bytes["out"],
             "latencyP50": 1.2, "latencyP99": 4.0}
    half = {k: (v // 2 if isinstance(v, int) else v) for k, v in point.items()}
    rest = {k: (point[k] - half[k] if isinstance(point[k], int) else point[k]) for k in point}
    routes = sorted(({"stage": STAGE, "routeKey": r, "totals": {**v, "unauthorized": 0,
                                                                 "bytesIn": 0, "bytesOut": 0}}
                     for r, v in t["routes"].items()),
                    key=lambda e: -e["totals"]["count"])
    return {"apiId": api_id, "stage": STAGE, "period": 60, "start": "2026-01-01T00:00:00Z",
            "end": "2026-01-01T01:00:00Z",
            "points": [{"time": "a", **half}, {"time": "b", **rest},
                       {"time": "c", "count": 0, "4xx": 0, "5xx": 0, "throttled": 0,
                        "unauthorized": 0, "bytesIn": 0, "bytesOut": 0}],
            "totals": {"time": "", **point}, "routes": routes}


def must_fail(checks, name, problems):
    """A checker given wrong data must say so."""
    checks[name] = bool(problems)


def selftest(_args):
    checks = {}
    api_id = "a1b2c3d4e5"
    upstream = Upstream()
    otlp = OtlpReceiver()
    hook = Webhook()
    work = tempfile.mkdtemp(prefix="obs-selftest-")
    try:
        # The upstream: 200 or 500, every traceparent it got, bodies Content-Length or
        # chunked.
        c = http.client.HTTPConnection("127.0.0.1", upstream.port, timeout=TIMEOUT)
        c.request("POST", "/ok", body=iter([b"ab", b"cd"]), encode_chunked=True,
                  headers={"x-obs-seq": "900", "traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"})
        r = c.getresponse()
        body = json.loads(r.read())
        c.request("GET", "/fail", headers={"x-obs-seq": "901"})
        r2 = c.getresponse()
        r2.read()
        c.close()
        rec = upstream.snapshot()
        checks["upstreamOk"] = r.status == 200 and body["bodyLength"] == 4
        checks["upstreamFail"] = r2.status == 500
        checks["upstreamRecords"] = (rec[900][0]["traceparents"] == ["00-" + "1" * 32 + "-" + "2" * 16 + "-01"]
                                     and rec[900][0]["bodyLength"] == 4 and rec[901][0]["traceparents"] == [])
        upstream.records.clear()
        checks["traceparentParse"] = (parse_traceparent(new_traceparent()[2]) is not None
                                      and parse_traceparent("00-xyz-1-01") is None)

        # The format renders to JSON for every value, quotes and backslashes included.
        line = render_line({"id": "r1", "ua": 'a "b" \\c', "status": 200})
        parsed = json.loads(line)
        checks["formatIsJson"] = (parsed["ua"] == 'a "b" \\c' and parsed["route"] == "-"
                                  and parsed["id"] == "r1" and len(LOG_FORMAT) < 1024)
        checks["formatHasEveryVariable"] = all(f"$context.{v}" in LOG_FORMAT for _, v in LOG_FIELDS)

        # A consistent run: every checker agrees.
        sent, lines_raw = synthetic(api_id, upstream, otlp.port)
        up = upstream.snapshot()
        lines, problems = parse_log_lines(lines_raw)
        checks["syntheticLinesParse"] = not problems
        summary, problems = check_access_log(lines, sent, up, api_id)
        checks["accessLogAgrees"] = not problems
        checks["accessLogAgreesProblems"] = problems[:5]
        checks["accessLogCounts"] = summary["byStatus"] == tally(sent)["byStatus"]

        # Each kind of disagreement is caught.
        dup = [dict(x) for x in lines]
        dup[1]["id"] = dup[0]["id"]
        must_fail(checks, "accessLogDuplicateIdCaught", check_access_log(dup, sent, up, api_id)[1])
        wrong = [dict(x) for x in lines]
        wrong[0]["status"] = "201"
        must_fail(checks, "accessLogStatusCaught", check_access_log(wrong, sent, up, api_id)[1])
        must_fail(checks, "accessLogMissingLineCaught",
                  check_access_log(lines[:-1], sent, up, api_id)[1])
        retraced = [dict(x) for x in lines]
        first_traced = next(i for i, r in enumerate(sent) if r["traced"])
        retraced[first_traced]["trace"] = secrets.token_hex(16)
        must_fail(checks, "accessLogTraceCaught", check_access_log(retraced, sent, up, api_id)[1])
        unescaped = [dict(x) for x in lines]
        unescaped[0]["ua"] = unescaped[0]["ua"].replace('"', "'")
        must_fail(checks, "accessLogEscapingCaught",
                  check_access_log(unescaped, sent, up, api_id)[1])
        checks["brokenLineCaught"] = bool(parse_log_lines(['{"id":"x","ua":"a "b""}'])[1])

        # Rotated files, oldest first; a line still being written is left out.
        d = os.path.join(work, "logs")
        os.makedirs(os.path.join(d, "portico"))
        base = os.path.join(d, "portico", "obs-dev.log")
        with open(base + ".2", "w") as f:
            f.write(lines_raw[0] + "\n")
        with open(base + ".1", "w") as f:
            f.write(lines_raw[1] + "\n" + lines_raw[2] + "\n")
        with open(base, "w") as f:
            f.write(lines_raw[3] + "\n" + lines_raw[4][:10])
        got, files = read_log(d, LOG_GROUP, 5)
        checks["rotatedFilesRead"] = got == lines_raw[:4] and files == [base + ".2", base + ".1", base]
        checks["rotationSizesChecked"] = (not check_log_files(files, 4096, 5, 500)
                                          and bool(check_log_files(files, 10, 5, 10))
                                          and bool(check_log_files(files, 4096, 1, 500)))

        # The exposition, parsed as the run parses the node's.
        text = exposition(sent, api_id)
        samples, parser = parse_exposition(text)
        checks["expositionParser"] = parser
        node, problems = check_node_metrics(samples, sent, api_id, len(sent), LOG_GROUP)
        checks["nodeMetricsAgree"] = not problems
        checks["nodeMetricsAgreeProblems"] = problems[:5]
        samples_ex, parser_ex = parse_exposition(exposition(sent, api_id, exemplars=True))
        checks["exemplarsParse"] = not check_node_metrics(samples_ex, sent, api_id, len(sent),
                                                          LOG_GROUP)[1]
        checks["exemplarsParser"] = parser_ex
        from prometheus_client.openmetrics.parser import text_string_to_metric_families as om
        strict = [(s.name, dict(s.labels), float(s.value)) for f in om(text) for s in f.samples]
        checks["openMetricsStrictAgrees"] = sorted(map(repr, strict)) == sorted(map(repr, samples))
        classic = text.replace("# TYPE portico_requests counter",
                               "# TYPE portico_requests_total counter").replace("# EOF\n", "")
        checks["classicTextParses"] = not check_node_metrics(
            parse_exposition(classic)[0], sent, api_id, len(sent), LOG_GROUP)[1]
        off = [(n, ls, v + 1 if n == "portico_throttled_requests_total" else v)
               for n, ls, v in samples]
        must_fail(checks, "nodeThrottledCaught",
                  check_node_metrics(off, sent, api_id, len(sent), LOG_GROUP)[1])
        off = [(n, ls, v + 1 if n == "portico_requests_total" and ls.get("status") == "404" else v)
               for n, ls, v in samples]
        must_fail(checks, "nodeStatusCaught",
                  check_node_metrics(off, sent, api_id, len(sent), LOG_GROUP)[1])
        off = [(n, ls, v) for n, ls, v in samples if n != "portico_access_log_lines_total"]
        must_fail(checks, "nodeLogLinesCaught",
                  check_node_metrics(off, sent, api_id, len(sent), LOG_GROUP)[1])
        off = [(n, {**ls, "stage": "prod"} if ls.get("api_id") == api_id else ls, v)
               for n, ls, v in samples]
        must_fail(checks, "nodeStageCaught",
                  check_node_metrics(off, sent, api_id, len(sent), LOG_GROUP)[1])

        # The control plane's series and the usage report.
        node_bytes = {"in": node["requestBytes"], "out": node["responseBytes"]}
        series = cp_series(sent, api_id, node_bytes)
        problems = check_cp_metrics(series, sent, api_id, node_bytes)
        checks["seriesAgree"] = not problems
        checks["seriesAgreeProblems"] = problems[:5]
        bad = json.loads(json.dumps(series))
        bad["totals"]["throttled"] -= 1
        must_fail(checks, "seriesThrottledCaught", check_cp_metrics(bad, sent, api_id, node_bytes))
        bad = json.loads(json.dumps(series))
        bad["routes"] = bad["routes"][1:]
        must_fail(checks, "seriesRouteCaught", check_cp_metrics(bad, sent, api_id, node_bytes))
        bad = json.loads(json.dumps(series))
        bad["points"][0]["count"] += 1
        must_fail(checks, "seriesPointsCaught", check_cp_metrics(bad, sent, api_id, node_bytes))
        pricing = {"effectiveDate": "2026-12-01", "currency": "USD",
                   "httpRequestsPerMillion": 1.0, "restRequestsPerMillion": 3.5,
                   "websocketMessagesPerMillion": 1.0, "dataOutPerGb": 0.09,
                   "freeTierRequests": 1000000}
        n, out_bytes = len(sent), node_bytes["out"]
        cost = n / 1e6 * 1.0 + out_bytes / 2 ** 30 * 0.09
        report = {"month": utc_month(), "pricing": pricing, "requests": n + 3,
                  "bytesIn": node_bytes["in"], "bytesOut": out_bytes, "cost": 0.0,
                  "forecastCost": cost * 10, "alerts": [],
                  "apis": [{"apiId": api_id, "name": API_NAME, "protocolType": "HTTP",
                            "requests": n, "bytesIn": node_bytes["in"], "bytesOut": out_bytes,
                            "cost": cost, "forecastRequests": n * 10, "forecastCost": cost * 10},
                           {"apiId": "other", "name": "x", "protocolType": "HTTP", "requests": 3,
                            "bytesIn": 0, "bytesOut": 0, "cost": 3e-6, "forecastRequests": 3,
                            "forecastCost": 3e-6}]}
        problems, _ = check_usage(report, pricing, api_id, n, series["totals"])
        checks["usageAgrees"] = not problems
        checks["usageAgreesProblems"] = problems
        bad = json.loads(json.dumps(report))
        bad["apis"][0]["cost"] = cost * 1.01
        must_fail(checks, "usageCostCaught", check_usage(bad, pricing, api_id, n)[0])
        must_fail(checks, "usageRequestsCaught", check_usage(report, pricing, api_id, n + 1)[0])

        # The spans, as the receiver decoded them from three exports.
        def spans_in():
            spans, posts = otlp.snapshot()
            return len(posts) >= 3, spans
        spans, _ = poll("the synthetic exports", 5, spans_in, 0.05)
        _, posts = otlp.snapshot()
        checks["otlpExports"] = ([p["contentEncoding"] for p in posts] == ["", "gzip", ""]
                                 and all(p["contentType"] == "application/x-protobuf" for p in posts))
        checks["otlpDecoded"] = (len(spans) == sum(1 for r in sent) + sum(
            1 for r in sent if r["reaches"] or r["route"] == "GET /down")
            and all(s["resource"].get("service.name") == "portico-proxy" for s in spans)
            and {s["attributes"].get("http.route") for s in spans} == {"x"})
        checks["tracesComplete"] = traces_complete(spans, sent)
        summary, problems = check_traces(spans, sent, up)
        checks["tracesAgree"] = not problems
        checks["tracesAgreeProblems"] = problems[:5]
        checks["tracesCounted"] = (summary["gatewaySpans"] == summary["traced"]
                                   and summary["untracedReachedWithGatewaySpan"]
                                   == summary["untracedReached"])
        reparented = [dict(s, parentSpanId="f" * 16) if s["name"] == "integration" else s
                      for s in spans]
        must_fail(checks, "tracesIntegrationParentCaught", check_traces(reparented, sent, up)[1])
        rooted = [dict(s, parentSpanId="") if s["name"] == "gateway" else s for s in spans]
        early = [dict(s, start=0) if s["name"] == "integration" else s for s in spans]
        must_fail(checks, "tracesChildBeforeParentCaught", check_traces(early, sent, up)[1])
        must_fail(checks, "tracesGatewayParentCaught", check_traces(rooted, sent, up)[1])
        renamed = [dict(s, resource={"service.name": "other"}) for s in spans]
        must_fail(checks, "tracesServiceNameCaught", check_traces(renamed, sent, up)[1])
        first = next(r for r in sent if r["traced"] and r["reaches"])
        doubled = {**up, first["seq"]: [dict(up[first["seq"]][0],
                                             traceparents=up[first["seq"]][0]["traceparents"] * 2)]}
        must_fail(checks, "tracesDoubleHeaderCaught", check_traces(spans, sent, doubled)[1])
        passthrough = {**up, first["seq"]: [dict(up[first["seq"]][0],
                                                 traceparents=[first["traceparent"]])]}
        must_fail(checks, "tracesClientSpanPassedThroughCaught",
                  check_traces(spans, sent, passthrough)[1])
        checks["tracesIncompleteSeen"] = not traces_complete(
            [s for s in spans if s["name"] != "integration"], sent)
        c = http.client.HTTPConnection("127.0.0.1", otlp.port, timeout=TIMEOUT)
        c.request("POST", "/v1/metrics", body=b"")
        checks["otlpOtherPath404"] = c.getresponse().status == 404
        c.close()
        otlp.posts.clear()

        # The webhook receiver and the alert checker.
        alert = {"type": "portico.budget.alert", "apiId": api_id, "apiName": API_NAME,
                 "month": utc_month(), "notificationType": "ACTUAL", "threshold": 100,
                 "unit": "REQUESTS", "limit": 105, "actual": 107, "forecast": 900.5,
                 "firedAt": "2026-01-01T00:00:00Z"}
        c = http.client.HTTPConnection("127.0.0.1", hook.port, timeout=TIMEOUT)
        c.request("POST", "/budget-alerts", body=json.dumps(alert),
                  headers={"content-type": "application/json"})
        checks["webhookAnswers"] = c.getresponse().status == 200
        c.close()
        posts = hook.snapshot()
        checks["webhookRecorded"] = len(posts) == 1 and posts[0]["json"] == alert
        problems = check_webhook_post(posts[0], api_id, utc_month(), 105, 100, 110)
        checks["webhookAgrees"] = not problems
        checks["webhookAgreesProblems"] = problems
        must_fail(checks, "webhookActualCaught",
                  check_webhook_post(posts[0], api_id, utc_month(), 105, 100, 106))
        must_fail(checks, "webhookTypeCaught", check_webhook_post(
            {**posts[0], "json": {**alert, "type": "alert"}}, api_id, utc_month(), 105, 100, 110))
        must_fail(checks, "webhookContentTypeCaught", check_webhook_post(
            {**posts[0], "headers": {"content-type": "text/plain"}}, api_id, utc_month(), 105,
            100, 110))
        dead = closed_port()
        try:
            socket.create_connection(("127.0.0.1", dead), timeout=2).close()
            checks["closedPortRefuses"] = False
        except ConnectionRefusedError:
            checks["closedPortRefuses"] = True

        # The admin signer signs for apigateway with the admin's key (query included).
        class Echo(_Server):
            def handle(self, h, method):
                read_body(h)
                return 200, "application/json", json.dumps(
                    {"authorization": h.headers.get("Authorization", ""), "path": h.path}).encode()
        echo = Echo()
        status, got = admin(f"http://127.0.0.1:{echo.port}", "GET",
                            "/portico/apis/x/metrics?stage=dev&route=GET%20%2Flimited")
        echo.close()
        key = os.environ.get("PORTICO_ADMIN_ACCESS_KEY_ID") or os.environ.get(
            "AWS_ACCESS_KEY_ID", "PKIATESTKEY")
        checks["adminSigned"] = (status == 200
                                 and got["authorization"].startswith(
                                     f"AWS4-HMAC-SHA256 Credential={key}/")
                                 and "/us-east-1/apigateway/aws4_request" in got["authorization"]
                                 and got["path"].endswith("route=GET%20%2Flimited"))

        # The statuses check knows what each route may answer.
        checks["statusesAgree"] = not check_statuses(sent)
        must_fail(checks, "statusesThrottleCaught", check_statuses(
            sent + [dict(sent[-12], status=200, seq=999)] * 2))
        checks["fixtureErrors"] = upstream.errors + otlp.errors + hook.errors
    finally:
        for server in (upstream, otlp, hook):
            server.close()
    failed = [k for k, v in checks.items()
              if v is False or (k == "fixtureErrors" and v)]
    report = json.dumps({"ok": not failed, "failed": failed, "checks": checks}, default=str)
    print(report)
    if failed:
        print(report, file=sys.stderr)
        sys.exit(1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("step", choices=["selftest", "run"])
    args = p.parse_args()
    socket.setdefaulttimeout(3 * TIMEOUT)

    def overtime(*_):
        raise TimeoutError(f"observability.py took more than {TIME_LIMIT} s")
    signal.signal(signal.SIGALRM, overtime)
    signal.alarm(TIME_LIMIT)
    try:
        {"selftest": selftest, "run": run}[args.step](args)
    except Exception:
        traceback.print_exc()
        sys.exit(1)


if __name__ == "__main__":
    main()
