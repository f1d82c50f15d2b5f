"""Self-test of oidc_issuer.py with PyJWT as the verifier (loopback only).

    python3 tests/e2e/oidc_issuer_selftest.py

Starts oidc_issuer.py, reads its discovery document and JWKS, verifies a minted token of
every algorithm with PyJWT's PyJWKClient and jwt.decode (issuer and audience checked),
checks that the attack tokens fail (and are built as an attacker would build them), and
checks rotation, the outage switch and the counters. Prints one JSON object on stdout
({"ok": true, "checks": [...]}) and exits 0 on success, 1 on the first failed check (the
traceback and the issuer's stderr go to stderr).
"""
import base64
import hashlib
import hmac
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request

import jwt
from cryptography.hazmat.primitives import serialization

HERE = os.path.dirname(os.path.abspath(__file__))
ALGS = ["RS256", "RS384", "RS512", "ES256", "ES384", "EdDSA"]
AUD = "portico-e2e-client"
POOL = "/us-east-1_TestPool"
TIME_LIMIT = 120

# PyJWKClient fetches with urllib, which honours *_proxy: loopback goes direct.
for _name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
    os.environ.pop(_name, None)
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

CHECKS = []


def check(name, condition, detail=None):
    if not condition:
        raise AssertionError(f"{name}: {detail!r}")
    CHECKS.append(name)


class Issuer:
    def __init__(self, *extra):
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "oidc_issuer.py"), "--port", "0", *extra],
            cwd=HERE, stdout=subprocess.PIPE, stderr=self.stderr,
        )
        ready, _, _ = select.select([self.proc.stdout], [], [], 60)
        line = self.proc.stdout.readline() if ready else b""
        if not line:
            self.proc.kill()
            raise AssertionError(f"issuer did not start: {self.errors()}")
        self.first_line = line.decode()
        ready = json.loads(line)
        self.port, self.issuer = ready["port"], ready["issuer"]
        self.base = f"http://127.0.0.1:{self.port}"

    def errors(self):
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rest = self.proc.stdout.read()
        self.proc.stdout.close()
        return self.proc.returncode, rest

    def call(self, method, path, body=None):
        """(status, JSON body) of a request to the issuer's own port."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with OPENER.open(req, timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def mint(self, alg, claims=None, **extra):
        status, body = self.call("POST", "/_mint", {"alg": alg, "claims": claims or {}, **extra})
        if status != 200:
            raise AssertionError(f"mint {alg}: {status} {body}")
        return body["token"]


def decode_part(part):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def header_of(token):
    return decode_part(token.split(".")[0])


def payload_of(token):
    return decode_part(token.split(".")[1])


def verify(jwks_uri, token, alg, issuer):
    """The claims, verified as a careful relying party does: key by kid from the JWKS,
    the one algorithm expected, issuer and audience."""
    key = jwt.PyJWKClient(jwks_uri, cache_keys=False, cache_jwk_set=False).get_signing_key_from_jwt(token)
    return jwt.decode(token, key.key, algorithms=[alg], audience=AUD, issuer=issuer,
                      options={"require": ["exp", "iat", "iss", "sub"]})


def fails(call):
    """The exception class name when `call` raises a PyJWT error, else None."""
    try:
        call()
    except jwt.PyJWTError as e:
        return type(e).__name__
    return None


def run(iss):
    check("first_line", iss.first_line == json.dumps({"port": iss.port, "issuer": iss.issuer}) + "\n",
          iss.first_line)
    check("issuer_url", iss.issuer == f"http://127.0.0.1:{iss.port}{POOL}", iss.issuer)

    status, disc = iss.call("GET", f"{POOL}/.well-known/openid-configuration")
    jwks_uri = f"{iss.issuer}/.well-known/jwks.json"
    check("discovery", status == 200 and disc["issuer"] == iss.issuer and disc["jwks_uri"] == jwks_uri
          and set(disc["id_token_signing_alg_values_supported"]) == set(ALGS)
          and all(k in disc for k in ("authorization_endpoint", "token_endpoint",
                                      "response_types_supported", "subject_types_supported")), disc)
    status, jwks = iss.call("GET", f"{POOL}/.well-known/jwks.json")
    keys = jwks["keys"]
    check("jwks", status == 200 and sorted(k["alg"] for k in keys) == sorted(ALGS)
          and all(k["use"] == "sig" and k["kid"] and "d" not in k and "key_ops" not in k for k in keys)
          and len({k["kid"] for k in keys}) == len(ALGS), keys)
    by_alg = {k["alg"]: k for k in keys}
    check("jwk_kinds", by_alg["RS256"]["kty"] == "RSA" and by_alg["ES256"]["crv"] == "P-256"
          and by_alg["ES384"]["crv"] == "P-384" and by_alg["EdDSA"]["kty"] == "OKP"
          and by_alg["EdDSA"]["crv"] == "Ed25519", by_alg)
    n = by_alg["RS256"]["n"]
    check("rsa_2048", len(base64.urlsafe_b64decode(n + "=" * (-len(n) % 4))) == 256, n)
    status, _ = iss.call("GET", "/.well-known/jwks.json")
    check("jwks_only_under_path", status == 404, status)

    # Every real algorithm verifies against the JWKS.
    for alg in ALGS:
        token = iss.mint(alg, {"aud": AUD, "scope": "notes/read"})
        header = header_of(token)
        check(f"{alg}_header", header["alg"] == alg and header["kid"] == by_alg[alg]["kid"], header)
        claims = verify(jwks_uri, token, alg, iss.issuer)
        check(f"{alg}_verifies", claims["sub"] == "user-1" and claims["scope"] == "notes/read"
              and claims["exp"] - claims["iat"] == 3600 and "nbf" not in claims, claims)
        check(f"{alg}_wrong_audience", fails(lambda: verify(jwks_uri, iss.mint(alg, {"aud": "other"}), alg,
                                                            iss.issuer)) == "InvalidAudienceError")

    # Defaults, omissions, extra header fields and kid overrides.
    now = int(time.time())
    token = iss.mint("RS256", {"aud": AUD, "sub": "alice", "nbf": now - 5, "exp": now + 60},
                     header={"typ": "at+jwt"}, omit=["iat"])
    p, h = payload_of(token), header_of(token)
    check("claims_given", p == {"iss": iss.issuer, "exp": now + 60, "sub": "alice", "aud": AUD, "nbf": now - 5}, p)
    check("extra_header", h["typ"] == "at+jwt", h)
    check("omit_all", payload_of(iss.mint("ES256", {"aud": AUD}, omit=["iss", "iat", "exp", "sub"])) == {"aud": AUD})
    check("kid_override", header_of(iss.mint("RS256", kid="nope"))["kid"] == "nope")
    check("kid_none", "kid" not in header_of(iss.mint("RS256", kid=None)))
    check("expired_fails", fails(lambda: verify(jwks_uri, iss.mint("RS256", {"aud": AUD, "exp": now - 60}),
                                                "RS256", iss.issuer)) == "ExpiredSignatureError")
    check("raw_claims", payload_of(iss.mint("RS256", {"exp": "soon", "sub": 7}))["exp"] == "soon")
    status, body = iss.call("POST", "/_mint", {"alg": "HS512", "claims": {}})
    check("mint_unknown_alg", status == 400 and "HS512" in body["message"], body)

    rs_kid = by_alg["RS256"]["kid"]
    rs_jwk = jwt.PyJWK(by_alg["RS256"])

    # alg none: unsigned, and refused.
    token = iss.mint("none", {"aud": AUD})
    check("none_shape", token.endswith(".") and header_of(token) == {"alg": "none", "typ": "JWT", "kid": rs_kid},
          token)
    check("none_refused", fails(lambda: verify(jwks_uri, token, "RS256", iss.issuer)) == "InvalidAlgorithmError")
    check("none_refused_any_asymmetric", fails(lambda: jwt.decode(token, rs_jwk.key, algorithms=ALGS,
                                                                  audience=AUD)) is not None)

    # Algorithm confusion: a valid HMAC under the RSA public key's PEM, which a naive
    # verifier taking alg from the header would accept.
    token = iss.mint("HS256-with-rsa-public-key", {"aud": AUD})
    header = header_of(token)
    check("hs256_header", header["alg"] == "HS256" and header["kid"] == rs_kid, header)
    pem = rs_jwk.key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input, _, sig = token.rpartition(".")
    mac = base64.urlsafe_b64encode(hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()).rstrip(b"=")
    check("hs256_is_real_hmac_of_public_pem", mac.decode() == sig, (mac, sig))
    check("hs256_refused", fails(lambda: verify(jwks_uri, token, "RS256", iss.issuer)) == "InvalidAlgorithmError")
    # Even told to take HS256 with the PEM as its secret, PyJWT refuses an asymmetric key.
    check("hs256_refused_with_pem_secret", fails(lambda: jwt.decode(token, pem, algorithms=["HS256"],
                                                                    audience=AUD)) == "InvalidKeyError")

    # Signed by a stranger under the trusted kid.
    token = iss.mint("RS256-untrusted", {"aud": AUD})
    check("untrusted_kid", header_of(token)["kid"] == rs_kid and header_of(token)["alg"] == "RS256")
    check("untrusted_refused", fails(lambda: verify(jwks_uri, token, "RS256", iss.issuer)) == "InvalidSignatureError")

    # jku/x5u in the header: still a valid token (nobody may fetch those URLs).
    token = iss.mint("RS256-jku", {"aud": AUD})
    header = header_of(token)
    check("jku_header", header["jku"] == "http://127.0.0.1:1/evil.json"
          and header["x5u"] == "http://127.0.0.1:1/evil.pem" and header["kid"] == rs_kid, header)
    check("jku_verifies", verify(jwks_uri, token, "RS256", iss.issuer)["sub"] == "user-1")

    # Rotation.
    status, body = iss.call("GET", "/_kid?alg=RS256")
    check("kid_endpoint", status == 200 and body == {"kid": rs_kid}, body)
    old_token = iss.mint("RS256", {"aud": AUD})
    status, body = iss.call("POST", "/_rotate", {"alg": "RS256"})
    new_kid = body["kid"]
    check("rotate", status == 200 and new_kid != rs_kid and iss.call("GET", "/_kid?alg=RS256")[1]["kid"] == new_kid,
          body)
    kids = {k["kid"]: k["alg"] for k in iss.call("GET", f"{POOL}/.well-known/jwks.json")[1]["keys"]}
    check("rotate_drops_old", rs_kid not in kids and kids.get(new_kid) == "RS256"
          and list(kids.values()).count("RS256") == 1, kids)
    check("rotate_old_token_fails", fails(lambda: verify(jwks_uri, old_token, "RS256", iss.issuer))
          == "PyJWKClientError")
    token = iss.mint("RS256", {"aud": AUD})
    check("rotate_new_token", header_of(token)["kid"] == new_kid and verify(jwks_uri, token, "RS256", iss.issuer))
    status, body = iss.call("POST", "/_rotate", {"alg": "ES256", "keep_old": True})
    kids = {k["kid"]: k["alg"] for k in iss.call("GET", f"{POOL}/.well-known/jwks.json")[1]["keys"]}
    check("rotate_keep_old", by_alg["ES256"]["kid"] in kids and body["kid"] in kids
          and list(kids.values()).count("ES256") == 2, kids)
    check("rotate_keep_old_new_key_signs", header_of(iss.mint("ES256"))["kid"] == body["kid"])
    status, body = iss.call("POST", "/_rotate", {"alg": "nope"})
    check("rotate_unknown_alg", status == 400, body)

    # Outage, and the counters.
    status, body = iss.call("POST", "/_counts/reset")
    check("counts_reset", status == 200 and iss.call("GET", "/_counts")[1] == {"discovery": 0, "jwks": 0})
    check("down", iss.call("POST", "/_down")[0] == 200)
    status_d, _ = iss.call("GET", f"{POOL}/.well-known/openid-configuration")
    status_j, _ = iss.call("GET", f"{POOL}/.well-known/jwks.json")
    check("down_503", (status_d, status_j) == (503, 503), (status_d, status_j))
    check("down_mint_works", header_of(iss.mint("EdDSA"))["alg"] == "EdDSA")
    check("down_verify_fails", fails(lambda: verify(jwks_uri, iss.mint("RS256", {"aud": AUD}), "RS256",
                                                    iss.issuer)) == "PyJWKClientConnectionError")
    check("up", iss.call("POST", "/_up")[0] == 200)
    status_d, _ = iss.call("GET", f"{POOL}/.well-known/openid-configuration")
    status_j, _ = iss.call("GET", f"{POOL}/.well-known/jwks.json")
    check("up_200", (status_d, status_j) == (200, 200), (status_d, status_j))
    counts = iss.call("GET", "/_counts")[1]
    check("counts", counts == {"discovery": 2, "jwks": 3}, counts)
    iss.call("POST", "/_counts/reset")
    check("counts_zeroed", iss.call("GET", "/_counts")[1] == {"discovery": 0, "jwks": 0})

    status, body = iss.call("GET", "/nowhere")
    check("unknown_get_404", status == 404 and "message" in body, body)
    status, body = iss.call("POST", "/nowhere", {})
    check("unknown_post_404", status == 404 and "message" in body, body)
    status, body = iss.call("DELETE", "/_mint")
    check("unknown_method_404", status == 404, body)


def main():
    def timeout(signum, frame):
        raise TimeoutError(f"self-test took more than {TIME_LIMIT}s")

    signal.signal(signal.SIGALRM, timeout)
    signal.alarm(TIME_LIMIT)
    started = time.monotonic()
    iss = None
    try:
        iss = Issuer("--path", POOL, "--verbose")
        try:
            run(iss)
        finally:
            rc, rest = iss.stop()
        check("sigterm_exits_cleanly", rc == 0, rc)
        check("stdout_only_first_line", rest == b"", rest)
        check("verbose_logs_on_stderr", "GET" in iss.errors())
        plain = Issuer()
        try:
            check("no_path_issuer", plain.issuer == f"http://127.0.0.1:{plain.port}", plain.issuer)
            status, disc = plain.call("GET", "/.well-known/openid-configuration")
            check("no_path_discovery", status == 200 and disc["jwks_uri"] == f"{plain.issuer}/.well-known/jwks.json")
        finally:
            plain.stop()
        check("quiet_without_verbose", plain.errors() == "", plain.errors())
    except BaseException:  # noqa: BLE001 - report and fail
        traceback.print_exc()
        if iss is not None:
            print(f"--- issuer stderr ---\n{iss.errors()}", file=sys.stderr)
        json.dump({"ok": False, "checks": CHECKS}, sys.stdout)
        print()
        sys.exit(1)
    json.dump({"ok": True, "checks": CHECKS, "seconds": round(time.monotonic() - started, 1)}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
