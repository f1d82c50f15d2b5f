"""An OpenID Connect issuer on loopback, for Portico's end-to-end tests of JWT authorizers:
OIDC discovery, a JWKS with a key of every signing algorithm a gateway has to verify, and
test-only routes that mint tokens (good ones and RFC 8725 attack tokens), rotate keys and
take the issuer down.

    python3 oidc_issuer.py --port 0 [--path /us-east-1_TestPool] [--verbose]

The issuer is http://127.0.0.1:{port}{path}, shaped like Cognito's
https://cognito-idp.REGION.amazonaws.com/POOLID. On start it prints one line,
{"port": N, "issuer": "..."}, on stdout and nothing more there; with --verbose it logs
requests on stderr. It serves until SIGTERM or SIGINT.

Routes:
    GET  {path}/.well-known/openid-configuration   discovery (503 while down)
    GET  {path}/.well-known/jwks.json              {"keys": [...]} (503 while down)
    POST /_mint      {"alg", "claims", "header"?, "kid"?, "omit"?}  -> {"token"}
    POST /_rotate    {"alg", "keep_old"?}                           -> {"kid"}
    POST /_down, POST /_up                         simulate an outage of discovery and JWKS
    GET  /_counts    {"discovery": n, "jwks": n}   GETs served, 503s included
    POST /_counts/reset
    GET  /_kid?alg=RS256                           {"kid": current kid of that alg}

Minted tokens get iss = the issuer, iat = now, exp = now + 3600 and sub = "user-1" unless
the claims give them or "omit" names them; nbf only when given. The header carries the
key's kid, or the body's "kid" ("kid": null leaves it out), plus the body's "header". Besides the real
algorithms (RS256, RS384, RS512, ES256, ES384, EdDSA), "alg" may name an attack token:
    none                        unsigned, header alg "none", empty signature
    HS256-with-rsa-public-key   HMAC-SHA256 keyed with the RS256 key's public PEM
                                (algorithm confusion), kid of the RS256 key
    RS256-untrusted             signed by a key not in the JWKS, kid of the RS256 key
    RS256-jku                   a valid RS256 token whose header also carries jku and x5u
                                URLs nobody serves (a verifier must not fetch them)
"""
import argparse
import base64
import hashlib
import hmac
import json
import signal
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm
from jwt.api_jws import PyJWS
from jwt.exceptions import PyJWTError

ALGS = ["RS256", "RS384", "RS512", "ES256", "ES384", "EdDSA"]
ATTACKS = ["none", "HS256-with-rsa-public-key", "RS256-untrusted", "RS256-jku"]
EVIL_JKU = "http://127.0.0.1:1/evil.json"
EVIL_X5U = "http://127.0.0.1:1/evil.pem"
MAX_BODY = 1024 * 1024


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def compact_json(value):
    return json.dumps(value, separators=(",", ":")).encode()


def new_private_key(alg):
    if alg.startswith("RS"):
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg == "ES384":
        return ec.generate_private_key(ec.SECP384R1())
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(f"unknown alg {alg}")


def public_jwk(alg, kid, private_key):
    public = private_key.public_key()
    if alg.startswith("RS"):
        jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
    elif alg.startswith("ES"):
        jwk = ECAlgorithm.to_jwk(public, as_dict=True)
    else:
        jwk = OKPAlgorithm.to_jwk(public, as_dict=True)
    # PyJWT adds key_ops; RFC 7517 4.3 says not to send it with "use", and Cognito doesn't.
    jwk.pop("key_ops", None)
    jwk.update({"kid": kid, "alg": alg, "use": "sig"})
    return jwk


class BadRequest(Exception):
    pass


class Keys:
    """Every alg's signing keys: the last of each list is current; older ones stay in
    the JWKS only when a rotation kept them."""

    def __init__(self):
        self.lock = threading.Lock()
        self.by_alg = {alg: [self._entry(alg)] for alg in ALGS}

    @staticmethod
    def _entry(alg):
        return {"kid": f"{alg.lower()}-{uuid.uuid4().hex[:16]}", "key": new_private_key(alg)}

    def current(self, alg):
        if alg not in ALGS:
            raise BadRequest(f"unknown alg {alg!r}; one of {ALGS + ATTACKS}")
        with self.lock:
            return self.by_alg[alg][-1]

    def rotate(self, alg, keep_old):
        if alg not in ALGS:
            raise BadRequest(f"unknown alg {alg!r}; one of {ALGS}")
        entry = self._entry(alg)
        with self.lock:
            self.by_alg[alg] = (self.by_alg[alg] if keep_old else []) + [entry]
        return entry["kid"]

    def jwks(self):
        with self.lock:
            entries = [(alg, e) for alg in ALGS for e in self.by_alg[alg]]
        return {"keys": [public_jwk(alg, e["kid"], e["key"]) for alg, e in entries]}


class Issuer:
    def __init__(self, issuer):
        self.issuer = issuer
        self.keys = Keys()
        self.lock = threading.Lock()
        self.down = False
        self.counts = {"discovery": 0, "jwks": 0}

    def discovery(self):
        return {
            "issuer": self.issuer,
            "jwks_uri": f"{self.issuer}/.well-known/jwks.json",
            "authorization_endpoint": f"{self.issuer}/oauth2/authorize",
            "token_endpoint": f"{self.issuer}/oauth2/token",
            "userinfo_endpoint": f"{self.issuer}/oauth2/userInfo",
            "response_types_supported": ["code", "token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": list(ALGS),
            "scopes_supported": ["openid", "email", "phone", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }

    def count(self, what):
        with self.lock:
            self.counts[what] += 1
            return self.down

    def mint(self, body):
        alg = body.get("alg")
        claims = body.get("claims") or {}
        extra_header = body.get("header") or {}
        omit = set(body.get("omit") or [])
        if not isinstance(alg, str) or not isinstance(claims, dict) or not isinstance(extra_header, dict):
            raise BadRequest('expected {"alg": "...", "claims": {...}, "header": {...}}')
        now = int(time.time())
        defaults = {"iss": self.issuer, "iat": now, "exp": now + 3600, "sub": "user-1"}
        payload = {k: v for k, v in defaults.items() if k not in omit}
        payload.update(claims)
        # Through PyJWS, not jwt.encode: claims go out exactly as given (a string exp,
        # a numeric sub), as a broken or hostile issuer would send them.
        payload_bytes = compact_json(payload)

        if alg in ALGS:
            entry = self.keys.current(alg)
            return self._sign(alg, entry["key"], body.get("kid", entry["kid"]), extra_header, payload_bytes)
        if alg == "RS256-jku":
            entry = self.keys.current("RS256")
            header = {"jku": EVIL_JKU, "x5u": EVIL_X5U, **extra_header}
            return self._sign("RS256", entry["key"], body.get("kid", entry["kid"]), header, payload_bytes)
        if alg == "RS256-untrusted":
            entry = self.keys.current("RS256")
            stranger = new_private_key("RS256")
            return self._sign("RS256", stranger, body.get("kid", entry["kid"]), extra_header, payload_bytes)
        if alg == "none":
            entry = self.keys.current("RS256")
            header = {"alg": "none", "typ": "JWT", **_kid(body, entry), **extra_header}
            return f"{b64url(compact_json(header))}.{b64url(payload_bytes)}."
        if alg == "HS256-with-rsa-public-key":
            entry = self.keys.current("RS256")
            secret = entry["key"].public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            header = {"alg": "HS256", "typ": "JWT", **_kid(body, entry), **extra_header}
            signing_input = f"{b64url(compact_json(header))}.{b64url(payload_bytes)}"
            mac = hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()
            return f"{signing_input}.{b64url(mac)}"
        raise BadRequest(f"unknown alg {alg!r}; one of {ALGS + ATTACKS}")

    @staticmethod
    def _sign(alg, key, kid, extra_header, payload_bytes):
        headers = {**({"kid": kid} if kid is not None else {}), **extra_header}
        return PyJWS().encode(payload_bytes, key, algorithm=alg, headers=headers)


def _kid(body, entry):
    """The kid header field: the key's own, the body's "kid", or none for "kid": null."""
    kid = body.get("kid", entry["kid"])
    return {} if kid is None else {"kid": kid}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "portico-oidc-issuer/1"
    sys_version = ""
    state: Issuer = None
    prefix = ""
    verbose = False

    def log_message(self, fmt, *args):  # noqa: D102 - stderr, and only when asked
        if self.verbose:
            log(f"{self.address_string()} - {fmt % args}")

    def send(self, status, body):
        data = compact_json(body)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def read_json(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            raise BadRequest("body too large")
        raw = self.rfile.read(length) if length else b""
        if not raw.strip():
            return {}
        try:
            value = json.loads(raw)
        except ValueError as e:
            raise BadRequest(f"body is not JSON: {e}") from None
        if not isinstance(value, dict):
            raise BadRequest("body must be a JSON object")
        return value

    def not_found(self):
        self.send(404, {"message": f"no route for {self.command} {urlsplit(self.path).path}"})

    def do_GET(self):
        parts = urlsplit(self.path)
        path, state = parts.path, self.state
        if path == f"{self.prefix}/.well-known/openid-configuration":
            if state.count("discovery"):
                self.send(503, {"message": "issuer is down"})
            else:
                self.send(200, state.discovery())
        elif path == f"{self.prefix}/.well-known/jwks.json":
            if state.count("jwks"):
                self.send(503, {"message": "issuer is down"})
            else:
                self.send(200, state.keys.jwks())
        elif path == "/_counts":
            with state.lock:
                self.send(200, dict(state.counts))
        elif path == "/_kid":
            alg = dict(parse_qsl(parts.query)).get("alg", "RS256")
            try:
                self.send(200, {"kid": state.keys.current(alg)["kid"]})
            except BadRequest as e:
                self.send(400, {"message": str(e)})
        else:
            self.not_found()

    def do_POST(self):
        path, state = urlsplit(self.path).path, self.state
        try:
            body = self.read_json()
            if path == "/_mint":
                self.send(200, {"token": state.mint(body)})
            elif path == "/_rotate":
                kid = state.keys.rotate(body.get("alg", "RS256"), bool(body.get("keep_old", False)))
                self.send(200, {"kid": kid})
            elif path in ("/_down", "/_up"):
                with state.lock:
                    state.down = path == "/_down"
                self.send(200, {"down": path == "/_down"})
            elif path == "/_counts/reset":
                with state.lock:
                    state.counts = {"discovery": 0, "jwks": 0}
                self.send(200, {"discovery": 0, "jwks": 0})
            else:
                self.not_found()
        except (BadRequest, PyJWTError, TypeError, ValueError) as e:
            self.send(400, {"message": f"{type(e).__name__}: {e}"})

    def do_other(self):
        length = int(self.headers.get("Content-Length") or 0)
        if 0 < length <= MAX_BODY:
            self.rfile.read(length)
        elif length:
            self.close_connection = True
        self.not_found()

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_other


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--path", default="", help="path prefix of the issuer, e.g. /us-east-1_TestPool")
    p.add_argument("--verbose", action="store_true", help="log every request on stderr")
    a = p.parse_args()
    prefix = a.path.rstrip("/")
    if prefix and not prefix.startswith("/"):
        prefix = "/" + prefix

    server = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    server.daemon_threads = True
    server.block_on_close = False
    port = server.server_address[1]
    issuer = f"http://127.0.0.1:{port}{prefix}"
    Handler.state = Issuer(issuer)
    Handler.prefix = prefix
    Handler.verbose = a.verbose

    def stop(signum, _frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stdout.write(json.dumps({"port": port, "issuer": issuer}) + "\n")
    sys.stdout.flush()
    if a.verbose:
        log(f"oidc issuer {issuer}, algs {', '.join(ALGS)}")
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
