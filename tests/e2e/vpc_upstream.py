"""One private target behind a VPC link, for Portico's end-to-end test of VPC links: a real
HTTP (or HTTPS) server in a process of its own, so that killing it is a real kill and the
node's next connection is refused.

    python3 vpc_upstream.py --name a [--port 0] [--health-path /health] \
        [--cert leaf.pem --key leaf.key]

On start it prints one line, {"port": N, "name": "a"}, on stdout, then serves on 127.0.0.1
until SIGTERM or SIGINT (SIGKILL is the crash the test wants). Nothing else goes to
stdout; with --log-requests each request is logged on stderr. --port N binds that port
again after a kill (SO_REUSEADDR), so a restarted target is the same address.

Every request except the control paths is answered with what it received, as JSON:
{"upstream": NAME, "method", "path", "query", "host", "headers", "sni"} ("sni": the
server name the client sent in the TLS handshake, or null). Answers are HTTP/1.1 with
Content-Length, so a node can keep its connections alive.

The control paths, which the test calls directly (never through the gateway):
    GET  /_control/stats            {"name", "mode", "requests", "healthChecks",
                                     "healthChecksSinceMode", "errors", "sni"}
    POST /_control/mode?mode=fail   from now on every request except the health check
                                    (--health-path) is answered 500 {"upstream": NAME,
                                    "error": "failing on purpose"}: an application that
                                    breaks while its shallow health endpoint stays green,
                                    so only passive ejection can take it out
    POST /_control/mode?mode=ok     back to normal; both answer the stats after the change
"""
import argparse
import json
import signal
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

MODES = ("ok", "fail")


class State:
    def __init__(self, name, health_path):
        self.name = name
        self.health_path = health_path
        self.lock = threading.Lock()
        self.mode = "ok"
        self.requests = 0
        self.health_checks = 0
        self.health_checks_since_mode = 0
        self.errors = 0
        self.sni = []

    def stats(self):
        with self.lock:
            return {
                "name": self.name,
                "mode": self.mode,
                "requests": self.requests,
                "healthChecks": self.health_checks,
                "healthChecksSinceMode": self.health_checks_since_mode,
                "errors": self.errors,
                "sni": sorted(set(self.sni)),
            }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None
    log_requests = False
    # A node's health checks and proxied requests both arrive here; none is slow.
    timeout = 60

    def log_message(self, fmt, *args):
        if self.log_requests:
            sys.stderr.write(f"[{self.state.name}] {fmt % args}\n")

    def _send(self, status, body):
        data = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Upstream", self.state.name)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _drain(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)

    def _sni(self):
        return getattr(self.connection, "portico_sni", None)

    def _control(self, url):
        s = self.state
        if url.path == "/_control/stats" and self.command == "GET":
            return self._send(200, s.stats())
        if url.path == "/_control/mode" and self.command == "POST":
            mode = (parse_qs(url.query).get("mode") or [""])[0]
            if mode not in MODES:
                return self._send(400, {"error": f"mode must be one of {MODES}, got {mode!r}"})
            with s.lock:
                s.mode = mode
                s.health_checks_since_mode = 0
            return self._send(200, s.stats())
        return self._send(404, {"error": f"no control path {self.command} {url.path}"})

    def _handle(self):
        self._drain()
        url = urlsplit(self.path)
        if url.path.startswith("/_control/"):
            return self._control(url)
        s = self.state
        health = url.path == s.health_path
        sni = self._sni()
        with s.lock:
            s.requests += 1
            if health:
                s.health_checks += 1
                s.health_checks_since_mode += 1
            if sni:
                s.sni.append(sni)
            failing = s.mode == "fail" and not health
            if failing:
                s.errors += 1
        if failing:
            return self._send(500, {"upstream": s.name, "error": "failing on purpose"})
        self._send(200, {
            "upstream": s.name,
            "method": self.command,
            "path": url.path,
            "query": url.query,
            "host": self.headers.get("Host"),
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "sni": sni,
        })

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle


def tls_context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)

    def remember_sni(sock, server_name, _ctx):
        # Called with the SSLSocket itself, the handler's `connection`: kept on it so the
        # handler can say which name the client asked for (unset when it sent none).
        sock.portico_sni = server_name

    ctx.sni_callback = remember_sni
    return ctx


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    tls = None

    def get_request(self):
        sock, addr = super().get_request()
        if self.tls is None:
            return sock, addr
        # The handshake runs in the connection's own thread (in finish_request's
        # handler setup), so one slow or bad client cannot stall the accept loop.
        sock.settimeout(30)
        return self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def finish_request(self, request, client_address):
        if self.tls is not None:
            try:
                request.do_handshake()
            except (OSError, ssl.SSLError) as e:
                sys.stderr.write(f"TLS handshake with {client_address} failed: {e}\n")
                return
        super().finish_request(request, client_address)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--name", required=True)
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--health-path", default="/health")
    p.add_argument("--cert", help="serve HTTPS with this PEM certificate chain")
    p.add_argument("--key", help="the certificate's PEM private key")
    p.add_argument("--log-requests", action="store_true")
    a = p.parse_args()
    if bool(a.cert) != bool(a.key):
        p.error("--cert and --key go together")

    Handler.state = State(a.name, a.health_path)
    Handler.log_requests = a.log_requests
    server = Server(("127.0.0.1", a.port), Handler)
    if a.cert:
        server.tls = tls_context(a.cert, a.key)

    def stop(_signum, _frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stdout.write(json.dumps({"port": server.server_address[1], "name": a.name}) + "\n")
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
