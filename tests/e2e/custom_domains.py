"""Custom domain names on Portico, end to end, with the real boto3 clients (`acm` and
`apigatewayv2`) and real TLS clients (Python's `ssl`, which is OpenSSL).

It makes a test PKI with `cryptography` into --workdir: a root CA and an intermediate CA
for servers, leaves for `api.portico.test` (RSA 2048, chained through the intermediate),
`*.wild.portico.test` (P-256, through the intermediate) and `mtls.portico.test` (P-256,
signed by the root, no chain); a second "partner" CA for mutual TLS with its client
certificate; a client certificate the partner CA did not sign ("rogue"); a key that
matches no certificate; an expired leaf; and a blob that is not PEM.

    python3 custom_domains.py selftest --workdir DIR
    python3 custom_domains.py configure --endpoint http://127.0.0.1:9000 --workdir DIR \
        --upstream http://127.0.0.1:PORT
    python3 custom_domains.py request --port 8443 --sni api.portico.test [--host H] \
        [--path /v1/x] [--ca DIR/root-ca.pem] [--cert C --key K] [--alpn h2,http/1.1] \
        [--tls-max 1.2] [--no-sni]
    python3 custom_domains.py hold --port 8443 --sni api.portico.test --ca CA \
        --release FILE [--path /x]
    python3 custom_domains.py reimport --endpoint URL --workdir DIR --arn ARN

`configure` imports the certificates through ACM (and checks every refusal), uploads the
partner truststore with `PUT /portico/truststores/partners` (SigV4, service
`apigateway`), builds two APIs (the second with disableExecuteApiEndpoint), three custom
domains and their API mappings (and checks every refusal, with nothing stored), and
prints what the Rust test asserts on.

`request` makes one HTTPS request on a new connection (or, when ALPN picks h2, which
http.client cannot speak, only the handshake) and prints the negotiated ALPN protocol,
TLS version and the served certificate's serial, or the phase that failed and why.

`hold` keeps one connection open across a certificate change: it makes a request,
prints one JSON line, waits until --release exists, makes a second request on the same
connection and prints a second JSON line.

`reimport` re-imports a new leaf for `api.portico.test` under the same ARN and prints
its serial.

Every socket has a timeout, and every wait is bounded. Prints JSON on stdout.
"""
import argparse
import datetime
import http.client
import json
import os
import socket
import ssl
import sys
import threading
import time
import warnings

ADMIN_REGION = "us-east-1"
TIMEOUT = 10

API_NAME = "api.portico.test"
WILD_NAME = "*.wild.portico.test"
MTLS_NAME = "mtls.portico.test"
TRUSTSTORE = "partners"
CLIENT_CN = "partner-1"
CLIENT_ORG = "Portico Partners"
PARTNER_CA_CN = "Portico Test Partner CA"
ROOT_CN = "Portico Test Root CA"
INTERMEDIATE_CN = "Portico Test Intermediate CA"
UNKNOWN_ARN = "arn:aws:acm:us-east-1:000000000000:certificate/00000000-0000-4000-8000-000000000000"
# Long enough for botocore's client-side length check (20), not an ACM certificate ARN.
INVALID_ARN = "arn:aws:s3:::not-a-certificate-arn"


# ---------------------------------------------------------------------------------------
# The test PKI
# ---------------------------------------------------------------------------------------

def _x509():
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    return x509, hashes, serialization, ec, rsa, ExtendedKeyUsageOID, NameOID


def _now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def new_key(kind="ec"):
    _, _, _, ec, rsa, _, _ = _x509()
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key):
    _, _, serialization, _, _, _, _ = _x509()
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def cert_pem(cert):
    _, _, serialization, _, _, _, _ = _x509()
    return cert.public_bytes(serialization.Encoding.PEM)


def load_cert(path):
    x509 = _x509()[0]
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


def load_key(path):
    serialization = _x509()[2]
    with open(path, "rb") as f:
        return serialization.load_pem_private_key(f.read(), password=None)


def name(cn, org=None):
    x509, _, _, _, _, _, NameOID = _x509()
    attrs = []
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def make_cert(subject, key, issuer=None, issuer_key=None, *, ca=False, dns=(),
              client=False, not_before=None, not_after=None, path_length=None):
    """A certificate for `key`, signed by `issuer_key` (self-signed without one)."""
    x509, hashes, _, _, rsa, EKU, _ = _x509()
    now = _now()
    not_before = not_before or now - datetime.timedelta(hours=1)
    not_after = not_after or now + datetime.timedelta(days=30)
    issuer_name = issuer.subject if issuer is not None else subject
    signer = issuer_key if issuer_key is not None else key
    b = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length if ca else None),
                       critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()),
                       critical=False)
    )
    if ca:
        b = b.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
    else:
        is_rsa = isinstance(key, rsa.RSAPrivateKey)
        b = b.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=is_rsa,
            data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        b = b.add_extension(x509.ExtendedKeyUsage(
            [EKU.CLIENT_AUTH] if client else [EKU.SERVER_AUTH]), critical=False)
        if dns:
            b = b.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(d) for d in dns]), critical=False)
    return b.sign(signer, hashes.SHA256())


def write(workdir, filename, data):
    path = os.path.join(workdir, filename)
    with open(path, "wb") as f:
        f.write(data)
    return path


def serial_hex(value):
    """A serial as lowercase hex without leading zeros, from an int or any hex spelling
    (ACM's `0a:1b:…`, Python ssl's `0A1B…`)."""
    if value is None:
        return None
    if isinstance(value, int):
        return format(value, "x")
    return format(int(value.replace(":", "").strip() or "0", 16), "x")


def make_pki(workdir):
    """Writes the whole test PKI into `workdir`; returns {label: path} and serials."""
    os.makedirs(workdir, exist_ok=True)
    paths = {}

    def save(label, cert=None, key=None):
        if cert is not None:
            paths[f"{label}Cert"] = write(workdir, f"{label}.pem", cert_pem(cert))
        if key is not None:
            paths[f"{label}Key"] = write(workdir, f"{label}.key", key_pem(key))

    root_key = new_key()
    root = make_cert(name(ROOT_CN, "Portico Tests"), root_key, ca=True, path_length=1,
                     not_after=_now() + datetime.timedelta(days=365))
    save("root-ca", root, root_key)
    inter_key = new_key()
    inter = make_cert(name(INTERMEDIATE_CN, "Portico Tests"), inter_key, root, root_key,
                      ca=True, path_length=0, not_after=_now() + datetime.timedelta(days=180))
    save("intermediate-ca", inter, inter_key)

    api_key = new_key("rsa")
    api = make_cert(name(API_NAME), api_key, inter, inter_key, dns=[API_NAME])
    save("api", api, api_key)
    wild_key = new_key()
    wild = make_cert(name(WILD_NAME), wild_key, inter, inter_key, dns=[WILD_NAME])
    save("wild", wild, wild_key)
    mtls_key = new_key()
    mtls = make_cert(name(MTLS_NAME), mtls_key, root, root_key, dns=[MTLS_NAME])
    save("mtls", mtls, mtls_key)

    # Refusals: a key that is not the certificate's, an expired leaf, a blob that is not
    # PEM.
    save("mismatch", key=new_key())
    expired_key = new_key()
    expired = make_cert(name("expired.portico.test"), expired_key, inter, inter_key,
                        dns=["expired.portico.test"],
                        not_before=_now() - datetime.timedelta(days=60),
                        not_after=_now() - datetime.timedelta(days=1))
    save("expired", expired, expired_key)
    paths["notPem"] = write(workdir, "not-pem.bin", os.urandom(64) + b"\nnot a certificate\n")

    # Mutual TLS: the partner CA (the truststore), its client, and a client it did not
    # sign.
    partner_key = new_key()
    partner = make_cert(name(PARTNER_CA_CN, CLIENT_ORG), partner_key, ca=True, path_length=0,
                        not_after=_now() + datetime.timedelta(days=365))
    save("partner-ca", partner, partner_key)
    client_key = new_key()
    # A SAN too: cryptography's client verifier (the self-test's) wants one.
    client = make_cert(name(CLIENT_CN, CLIENT_ORG), client_key, partner, partner_key,
                       client=True, dns=["partner-1.partners.test"])
    save("client", client, client_key)
    rogue_key = new_key()
    rogue = make_cert(name("rogue", "Not A Partner"), rogue_key, inter, inter_key, client=True,
                      dns=["rogue.partners.test"])
    save("rogue", rogue, rogue_key)

    serials = {
        "api": serial_hex(api.serial_number),
        "wild": serial_hex(wild.serial_number),
        "mtls": serial_hex(mtls.serial_number),
        "client": serial_hex(client.serial_number),
    }
    not_after = {
        "api": api.not_valid_after_utc.timestamp(),
        "wild": wild.not_valid_after_utc.timestamp(),
        "mtls": mtls.not_valid_after_utc.timestamp(),
    }
    return paths, serials, not_after


def read(path):
    with open(path, "rb") as f:
        return f.read()


# ---------------------------------------------------------------------------------------
# Admin API clients
# ---------------------------------------------------------------------------------------

def _credentials():
    return (os.environ.get("PORTICO_ADMIN_ACCESS_KEY_ID")
            or os.environ.get("AWS_ACCESS_KEY_ID", "PKIATESTKEY"),
            os.environ.get("PORTICO_ADMIN_SECRET_ACCESS_KEY")
            or os.environ.get("AWS_SECRET_ACCESS_KEY", "test-secret"))


def boto(service, endpoint):
    import boto3
    from botocore.config import Config
    key, secret = _credentials()
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=os.environ.get("AWS_DEFAULT_REGION", ADMIN_REGION),
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}, connect_timeout=TIMEOUT,
                      read_timeout=3 * TIMEOUT),
    )


def admin(endpoint, method, path, body=b"", content_type="application/json"):
    """A raw admin call signed by botocore's SigV4 signer for `apigateway`."""
    import requests
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    url = endpoint + path
    req = AWSRequest(method=method, url=url, data=body, headers={"Content-Type": content_type})
    key, secret = _credentials()
    SigV4Auth(Credentials(key, secret), "apigateway", ADMIN_REGION).add_auth(req)
    s = requests.Session()
    s.trust_env = False  # never a proxy from the environment: everything is loopback
    r = s.request(method, url, data=body, headers=dict(req.headers), timeout=TIMEOUT)
    try:
        parsed = r.json() if r.content else None
    except ValueError:
        parsed = r.text
    return r.status_code, parsed


def expect_error(code, call):
    """The message of the error `call` must raise, whose code is `code`."""
    try:
        call()
    except Exception as e:  # noqa: BLE001 - we check the code botocore read
        got = getattr(e, "response", {}).get("Error", {}).get("Code")
        if got != code:
            raise AssertionError(f"expected {code}, got {got}: {e}") from e
        return {"code": got, "message": getattr(e, "response", {}).get("Error", {})
                .get("Message", str(e)), "status": getattr(e, "response", {})
                .get("ResponseMetadata", {}).get("HTTPStatusCode")}
    raise AssertionError(f"expected {code}, but the call succeeded")


def plain(response):
    """A boto3 response without its metadata, as JSON-able values."""
    return json.loads(json.dumps({k: v for k, v in response.items()
                                  if k != "ResponseMetadata"}, default=str))


def epoch(value):
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    return value


# ---------------------------------------------------------------------------------------
# configure
# ---------------------------------------------------------------------------------------

def configure(args):
    paths, serials, not_after = make_pki(args.workdir)
    acm = boto("acm", args.endpoint)
    gw = boto("apigatewayv2", args.endpoint)
    inter = read(paths["intermediate-caCert"])

    def imp(cert, key, chain=None, arn=None):
        kw = {"Certificate": cert, "PrivateKey": key}
        if chain is not None:
            kw["CertificateChain"] = chain
        if arn is not None:
            kw["CertificateArn"] = arn
        return acm.import_certificate(**kw)["CertificateArn"]

    # ---- ACM: the imports, then every refusal.
    arns = {
        "api": imp(read(paths["apiCert"]), read(paths["apiKey"]), inter),
        "wild": imp(read(paths["wildCert"]), read(paths["wildKey"]), inter),
        "mtls": imp(read(paths["mtlsCert"]), read(paths["mtlsKey"])),
    }
    listed_before = acm.list_certificates()["CertificateSummaryList"]
    acm_errors = {
        "notPem": expect_error("ValidationException", lambda: imp(
            read(paths["notPem"]), read(paths["apiKey"]))),
        "keyNotPem": expect_error("ValidationException", lambda: imp(
            read(paths["apiCert"]), read(paths["notPem"]))),
        "mismatchedKey": expect_error("ValidationException", lambda: imp(
            read(paths["apiCert"]), read(paths["mismatchKey"]), inter)),
        "expired": expect_error("ValidationException", lambda: imp(
            read(paths["expiredCert"]), read(paths["expiredKey"]), inter)),
        # The partner CA did not sign the api leaf.
        "badChain": expect_error("ValidationException", lambda: imp(
            read(paths["apiCert"]), read(paths["apiKey"]), read(paths["partner-caCert"]))),
        "twoLeaves": expect_error("ValidationException", lambda: imp(
            read(paths["apiCert"]) + read(paths["wildCert"]), read(paths["apiKey"]))),
        "describeInvalidArn": expect_error("InvalidArnException", lambda:
                                           acm.describe_certificate(CertificateArn=INVALID_ARN)),
        "describeUnknownArn": expect_error("ResourceNotFoundException", lambda:
                                           acm.describe_certificate(CertificateArn=UNKNOWN_ARN)),
        "deleteUnknownArn": expect_error("ResourceNotFoundException", lambda:
                                         acm.delete_certificate(CertificateArn=UNKNOWN_ARN)),
        "reimportUnknownArn": expect_error("ResourceNotFoundException", lambda: imp(
            read(paths["apiCert"]), read(paths["apiKey"]), inter, arn=UNKNOWN_ARN)),
        "reimportInvalidArn": expect_error("InvalidArnException", lambda: imp(
            read(paths["apiCert"]), read(paths["apiKey"]), inter, arn=INVALID_ARN)),
    }
    listed_after = acm.list_certificates()["CertificateSummaryList"]
    paged = acm.list_certificates(MaxItems=1)

    # ---- The truststore for mutual TLS.
    ts_status, truststore = admin(args.endpoint, "PUT", f"/portico/truststores/{TRUSTSTORE}",
                                  read(paths["partner-caCert"]), "application/x-pem-file")
    assert ts_status == 200, (ts_status, truststore)
    ts_get_status, truststore_read = admin(args.endpoint, "GET",
                                           f"/portico/truststores/{TRUSTSTORE}")
    ts_bad_status, ts_bad = admin(args.endpoint, "PUT", "/portico/truststores/garbage",
                                  b"not a pem bundle", "text/plain")

    # ---- The APIs: "shop" (prod, dev) and "hidden" (live, no execute-api endpoint).
    up = args.upstream.rstrip("/")
    context = {
        "overwrite:header.x-stage": "$context.stage",
        "overwrite:header.x-api-id": "$context.apiId",
        "overwrite:header.x-domain": "$context.domainName",
        "overwrite:header.x-domain-prefix": "$context.domainPrefix",
        "overwrite:header.x-protocol": "$context.protocol",
    }

    def integration(api_id, uri, extra=None):
        return gw.create_integration(
            ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationMethod="ANY",
            IntegrationUri=uri, PayloadFormatVersion="1.0",
            RequestParameters={**context, **(extra or {})})["IntegrationId"]

    def route(api_id, key, target):
        gw.create_route(ApiId=api_id, RouteKey=key, Target=f"integrations/{target}")

    shop = gw.create_api(Name="shop", ProtocolType="HTTP")["ApiId"]
    route(shop, "ANY /{proxy+}", integration(shop, f"{up}/echo/{{proxy}}"))
    route(shop, "$default", integration(shop, f"{up}/root"))
    route(shop, "ANY /mtls/{proxy+}", integration(shop, f"{up}/mtls/{{proxy}}", {
        "append:header.x-client-dn": "$context.identity.clientCert.subjectDN",
        "overwrite:header.x-client-issuer": "$context.identity.clientCert.issuerDN",
        "overwrite:header.x-client-serial": "$context.identity.clientCert.serialNumber",
        "overwrite:header.x-client-not-after": "$context.identity.clientCert.validity.notAfter",
    }))
    for stage in ("prod", "dev"):
        gw.create_stage(ApiId=shop, StageName=stage, AutoDeploy=True)

    hidden_api = gw.create_api(Name="hidden", ProtocolType="HTTP",
                               DisableExecuteApiEndpoint=True)
    hidden = hidden_api["ApiId"]
    route(hidden, "ANY /{proxy+}", integration(hidden, f"{up}/hidden/{{proxy}}"))
    route(hidden, "$default", integration(hidden, f"{up}/hidden-root"))
    gw.create_stage(ApiId=hidden, StageName="live", AutoDeploy=True)

    # ---- The domains.
    def config(arn, endpoint_type="REGIONAL", policy="TLS_1_2"):
        return [{"CertificateArn": arn, "EndpointType": endpoint_type,
                 "SecurityPolicy": policy}]

    domains = {
        "api": plain(gw.create_domain_name(DomainName=API_NAME,
                                           DomainNameConfigurations=config(arns["api"]),
                                           Tags={"team": "shop"})),
        "wild": plain(gw.create_domain_name(DomainName=WILD_NAME,
                                            DomainNameConfigurations=config(arns["wild"]))),
        "mtls": plain(gw.create_domain_name(
            DomainName=MTLS_NAME, DomainNameConfigurations=config(arns["mtls"]),
            MutualTlsAuthentication={"TruststoreUri": f"s3://{TRUSTSTORE}"})),
    }
    domain_errors = {
        "edge": expect_error("BadRequestException", lambda: gw.create_domain_name(
            DomainName="edge.wild.portico.test",
            DomainNameConfigurations=config(arns["wild"], endpoint_type="EDGE"))),
        "tls10": expect_error("BadRequestException", lambda: gw.create_domain_name(
            DomainName="old.wild.portico.test",
            DomainNameConfigurations=config(arns["wild"], policy="TLS_1_0"))),
        "notCovered": expect_error("BadRequestException", lambda: gw.create_domain_name(
            DomainName="other.portico.test", DomainNameConfigurations=config(arns["api"]))),
        # A one-label wildcard does not cover two labels.
        "wildcardTwoLabels": expect_error("BadRequestException", lambda: gw.create_domain_name(
            DomainName="a.b.wild.portico.test", DomainNameConfigurations=config(arns["wild"]))),
        "unknownCertificate": expect_error("BadRequestException", lambda: gw.create_domain_name(
            DomainName="unknown.wild.portico.test", DomainNameConfigurations=config(UNKNOWN_ARN))),
        "unknownTruststore": expect_error("BadRequestException", lambda: gw.create_domain_name(
            DomainName="mtls2.wild.portico.test", DomainNameConfigurations=config(arns["wild"]),
            MutualTlsAuthentication={"TruststoreUri": "s3://no-such-truststore"})),
        "badName": expect_error("BadRequestException", lambda: gw.create_domain_name(
            DomainName="not a domain", DomainNameConfigurations=config(arns["api"]))),
        "duplicate": expect_error("ConflictException", lambda: gw.create_domain_name(
            DomainName=API_NAME, DomainNameConfigurations=config(arns["api"]))),
    }
    domain_names = sorted(d["DomainName"] for d in gw.get_domain_names()["Items"])

    # ---- The API mappings.
    def mapping(domain, api_id, stage, key=None):
        kw = {"DomainName": domain, "ApiId": api_id, "Stage": stage}
        if key is not None:
            kw["ApiMappingKey"] = key
        return plain(gw.create_api_mapping(**kw))

    mappings = {
        "apiRoot": mapping(API_NAME, shop, "prod", ""),
        "apiV1": mapping(API_NAME, shop, "dev", "v1"),
        "apiV1Orders": mapping(API_NAME, hidden, "live", "v1/orders"),
        "wildW": mapping(WILD_NAME, shop, "prod", "w"),
        # No key at all is the empty key.
        "mtlsRoot": mapping(MTLS_NAME, shop, "prod"),
    }
    mapping_errors = {
        "duplicateKey": expect_error("ConflictException", lambda: mapping(
            API_NAME, shop, "prod", "v1")),
        "unknownApi": expect_error("NotFoundException", lambda: mapping(
            API_NAME, "nosuchapi", "prod", "nope")),
        "unknownStage": expect_error("NotFoundException", lambda: mapping(
            API_NAME, shop, "nosuchstage", "nope")),
        "unknownDomain": expect_error("NotFoundException", lambda: mapping(
            "nosuch.portico.test", shop, "prod", "nope")),
    }
    api_mappings = sorted(m["ApiMappingKey"] for m in
                          gw.get_api_mappings(DomainName=API_NAME)["Items"])

    # ---- In use: the certificate and the truststore cannot go while a domain uses them.
    in_use_errors = {
        "deleteCertificate": expect_error("ResourceInUseException", lambda:
                                          acm.delete_certificate(CertificateArn=arns["api"])),
    }
    del_ts_status, del_ts = admin(args.endpoint, "DELETE", f"/portico/truststores/{TRUSTSTORE}")
    described = {}
    for label, arn in arns.items():
        raw = acm.describe_certificate(CertificateArn=arn)["Certificate"]
        d = plain(raw)
        for field in ("NotBefore", "NotAfter", "ImportedAt"):
            d[f"{field}Epoch"] = epoch(raw.get(field))
        d["SerialHex"] = serial_hex(raw.get("Serial"))
        described[label] = d
    listed_in_use = {c["CertificateArn"]: plain(c) for c in
                     acm.list_certificates()["CertificateSummaryList"]}
    got_domain = plain(gw.get_domain_name(DomainName=MTLS_NAME))
    # Both APIs through their OpenAPI exports and back (issue #17).
    from roundtrip import check_roundtrip, validate_document
    roundtrip = check_roundtrip(gw, validate_document)

    print(json.dumps({
        "roundtrip": roundtrip,
        "paths": paths,
        "serials": serials,
        "notAfter": not_after,
        "certificateArns": arns,
        "acmErrors": acm_errors,
        "listedBefore": [plain(c) for c in listed_before],
        "listedAfter": [plain(c) for c in listed_after],
        "pagedFirst": plain(paged),
        "described": described,
        "listedInUse": listed_in_use,
        "truststore": truststore,
        "truststoreRead": {"status": ts_get_status, "body": truststore_read},
        "truststoreNotPem": {"status": ts_bad_status, "body": ts_bad},
        "truststoreDeleteInUse": {"status": del_ts_status, "body": del_ts},
        "apis": {"shop": shop, "hidden": hidden,
                 "hiddenDisableExecuteApiEndpoint": hidden_api.get("DisableExecuteApiEndpoint")},
        "domains": domains,
        "mtlsDomainRead": got_domain,
        "domainErrors": domain_errors,
        "domainNames": domain_names,
        "mappings": mappings,
        "mappingErrors": mapping_errors,
        "apiMappingKeys": api_mappings,
        "inUseErrors": in_use_errors,
    }, default=str))


# ---------------------------------------------------------------------------------------
# reimport
# ---------------------------------------------------------------------------------------

def reimport(args):
    """A new leaf (new key, new serial) for api.portico.test under the same ARN."""
    workdir = args.workdir
    inter = load_cert(os.path.join(workdir, "intermediate-ca.pem"))
    inter_key = load_key(os.path.join(workdir, "intermediate-ca.key"))
    generation = 2
    while os.path.exists(os.path.join(workdir, f"api-{generation}.pem")):
        generation += 1
    key = new_key("rsa")
    cert = make_cert(name(API_NAME), key, inter, inter_key, dns=[API_NAME])
    cert_path = write(workdir, f"api-{generation}.pem", cert_pem(cert))
    write(workdir, f"api-{generation}.key", key_pem(key))
    acm = boto("acm", args.endpoint)
    before = acm.describe_certificate(CertificateArn=args.arn)["Certificate"]
    arn = acm.import_certificate(
        CertificateArn=args.arn, Certificate=cert_pem(cert), PrivateKey=key_pem(key),
        CertificateChain=cert_pem(inter))["CertificateArn"]
    after = acm.describe_certificate(CertificateArn=args.arn)["Certificate"]
    print(json.dumps({
        "certificateArn": arn,
        "serial": serial_hex(cert.serial_number),
        "previousSerial": serial_hex(before.get("Serial")),
        "describedSerial": serial_hex(after.get("Serial")),
        "describedStatus": after.get("Status"),
        "describedDomainName": after.get("DomainName"),
        "certPath": cert_path,
    }, default=str))


# ---------------------------------------------------------------------------------------
# request / hold: one TLS client connection
# ---------------------------------------------------------------------------------------

TLS_VERSIONS = {"1.0": ssl.TLSVersion.TLSv1, "1.1": ssl.TLSVersion.TLSv1_1,
                "1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


def client_context(ca=None, cert=None, key=None, alpn=None, tls_max=None, tls_min=None,
                   verify=True):
    if verify:
        ctx = ssl.create_default_context(cafile=ca)
    else:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if tls_max in ("1.0", "1.1"):
        # OpenSSL 3 offers TLS 1.0/1.1 only at security level 0: this client must really
        # offer the old version, so that a refusal is the server's.
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = ssl.TLSVersion.TLSv1
    if tls_max:
        ctx.maximum_version = TLS_VERSIONS[tls_max]
    if tls_min:
        ctx.minimum_version = TLS_VERSIONS[tls_min]
    if cert:
        ctx.load_cert_chain(cert, key)
    if alpn:
        ctx.set_alpn_protocols(alpn)
    return ctx


def peer_facts(tls):
    """What the server's certificate and the negotiation were."""
    facts = {"alpn": tls.selected_alpn_protocol(), "tlsVersion": tls.version(),
             "cipher": (tls.cipher() or [None])[0]}
    der = tls.getpeercert(binary_form=True)
    if der:
        x509 = _x509()[0]
        c = x509.load_der_x509_certificate(der)
        facts["serial"] = serial_hex(c.serial_number)
        facts["subject"] = c.subject.rfc4514_string()
        facts["issuer"] = c.issuer.rfc4514_string()
        try:
            san = c.extensions.get_extension_for_class(x509.SubjectAlternativeName)
            facts["san"] = san.value.get_values_for_type(x509.DNSName)
        except x509.ExtensionNotFound:
            facts["san"] = []
    return facts


def send_request(tls, method, host, path, body=b"", keep_alive=False):
    head = [f"{method} {path} HTTP/1.1", f"Host: {host}", "User-Agent: portico-e2e",
            "Accept: application/json", f"Content-Length: {len(body)}"]
    if not keep_alive:
        head.append("Connection: close")
    tls.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
    resp = http.client.HTTPResponse(tls, method=method)
    resp.begin()
    data = resp.read()
    text = data.decode("utf-8", "replace")
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    return {"status": resp.status, "body": text, "json": parsed,
            "headers": {k.lower(): v for k, v in resp.getheaders()}}


def describe_error(e):
    return {"error": str(e) or repr(e), "errorType": type(e).__name__}


def request(args):
    """One request on a new connection. `stage` says how far it got: "connect",
    "handshake" (refused there: no certificate, no ALPN), "response" (the handshake
    ended on this side but no HTTP answer came), or "done". `refused` is true when a
    TLS or connection error ended it before any HTTP status."""
    out = {"sni": None if args.no_sni else args.sni, "host": args.host or args.sni,
           "path": args.path, "stage": "connect", "refused": False, "status": None,
           "error": None, "errorType": None, "alpn": None, "tlsVersion": None,
           "serial": None}
    alpn = args.alpn.split(",") if args.alpn else None
    ctx = client_context(args.ca, args.cert, args.key, alpn, args.tls_max, args.tls_min,
                         verify=not (args.insecure or args.no_sni))
    try:
        sock = socket.create_connection((args.addr, args.port), timeout=args.timeout)
    except OSError as e:
        out.update(describe_error(e))
        print(json.dumps(out))
        return
    sock.settimeout(args.timeout)
    try:
        tls = ctx.wrap_socket(sock, server_hostname=None if args.no_sni else args.sni,
                              do_handshake_on_connect=False)
        out["stage"] = "handshake"
        tls.do_handshake()
        out.update(peer_facts(tls))
        if out["alpn"] == "h2":
            # http.client speaks HTTP/1.1 only: curl makes the HTTP/2 requests.
            out["stage"] = "done"
            tls.close()
            print(json.dumps(out))
            return
        out["stage"] = "request"
        body = args.body.encode() if args.body is not None else b""
        sent = send_request(tls, args.method, out["host"], args.path, body)
        out.update(sent)
        out["stage"] = "done"
        tls.close()
    except (ssl.SSLError, OSError, http.client.HTTPException) as e:
        # TLS 1.3 finishes the client's side of the handshake before the server has
        # checked the client's certificate: a refusal then arrives as an alert on the
        # first read.
        if out["stage"] == "request":
            out["stage"] = "response"
        out["refused"] = out["status"] is None
        out.update(describe_error(e))
        sock.close()
    print(json.dumps(out))


def hold(args):
    """Two requests on one connection, with a certificate change in between."""
    ctx = client_context(args.ca, args.cert, args.key, ["http/1.1"])
    sock = socket.create_connection((args.addr, args.port), timeout=args.timeout)
    tls = ctx.wrap_socket(sock, server_hostname=args.sni)
    facts = peer_facts(tls)
    first = send_request(tls, "GET", args.host or args.sni, args.path, keep_alive=True)
    print(json.dumps({"first": {**first, **facts}}), flush=True)
    deadline = time.monotonic() + args.wait
    while not os.path.exists(args.release):
        if time.monotonic() > deadline:
            print(json.dumps({"second": {"error": "never released", "status": None}}))
            return
        time.sleep(0.1)
    try:
        second = send_request(tls, "GET", args.host or args.sni, args.path)
        second.update(peer_facts(tls))
    except (ssl.SSLError, OSError, http.client.HTTPException) as e:
        second = {"status": None, **describe_error(e)}
    tls.close()
    print(json.dumps({"second": second}), flush=True)


# ---------------------------------------------------------------------------------------
# selftest: the PKI and the TLS client against a local Python TLS server, no Portico
# ---------------------------------------------------------------------------------------

class _Server:
    """A loopback TLS server that picks a certificate by SNI (refusing unknown names by
    closing the connection, as Portico does), offers h2 and http/1.1, and answers one
    HTTP/1.1 request per connection with the Host and the client's certificate subject.
    `require_client` makes it ask for (and require) a client certificate."""

    def __init__(self, certs, client_ca=None):
        self.contexts = {}
        for sni, (cert, key) in certs.items():
            c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            c.minimum_version = ssl.TLSVersion.TLSv1_2
            c.load_cert_chain(cert, key)
            c.set_alpn_protocols(["h2", "http/1.1"])
            if client_ca:
                c.verify_mode = ssl.CERT_REQUIRED
                c.load_verify_locations(client_ca)
            self.contexts[sni] = c
        self.default = next(iter(self.contexts.values()))
        self.default.sni_callback = self._pick
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(TIMEOUT)
        self.port = self.sock.getsockname()[1]
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _pick(self, sslobj, server_name, _ctx):
        chosen = self.contexts.get(server_name)
        if chosen is None and server_name:
            parts = server_name.split(".", 1)
            chosen = self.contexts.get("*." + parts[1]) if len(parts) == 2 else None
        if chosen is None:
            return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
        sslobj.context = chosen
        return None

    def _serve(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn):
        conn.settimeout(TIMEOUT)
        try:
            tls = self.default.wrap_socket(conn, server_side=True)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = tls.recv(4096)
                if not chunk:
                    return
                data += chunk
            host = next((line.split(b":", 1)[1].strip().decode()
                         for line in data.split(b"\r\n") if line.lower().startswith(b"host:")),
                        None)
            peer = tls.getpeercert()
            subject = None
            if peer:
                subject = ",".join(f"{k}={v}" for rdn in peer.get("subject", ())
                                   for k, v in rdn)
            body = json.dumps({"host": host, "path": data.split(b" ")[1].decode(),
                               "clientSubject": subject}).encode()
            tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                        + body)
            tls.close()
        except (ssl.SSLError, OSError):
            conn.close()

    def close(self):
        self.stop = True
        self.sock.close()


def _run_self(argv):
    """This script's own subcommand in a child process, as the Rust test runs it."""
    import subprocess
    out = subprocess.run([sys.executable, os.path.abspath(__file__), *argv],
                         capture_output=True, timeout=3 * TIMEOUT, check=True)
    return json.loads(out.stdout)


def selftest(args):
    from cryptography import x509
    from cryptography.x509 import DNSName
    from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

    paths, serials, _ = make_pki(args.workdir)
    root = load_cert(paths["root-caCert"])
    inter = load_cert(paths["intermediate-caCert"])
    partner = load_cert(paths["partner-caCert"])
    checks = {}

    def server_ok(leaf, dns, intermediates):
        verifier = PolicyBuilder().store(Store([root])).build_server_verifier(DNSName(dns))
        try:
            verifier.verify(load_cert(paths[leaf]), intermediates)
            return True
        except VerificationError:
            return False

    checks["apiChains"] = server_ok("apiCert", API_NAME, [inter])
    checks["apiNeedsIntermediate"] = not server_ok("apiCert", API_NAME, [])
    checks["wildCoversOneLabel"] = server_ok("wildCert", "a.wild.portico.test", [inter])
    checks["wildNotTwoLabels"] = not server_ok("wildCert", "b.a.wild.portico.test", [inter])
    checks["mtlsChains"] = server_ok("mtlsCert", MTLS_NAME, [])
    checks["expiredRefused"] = not server_ok("expiredCert", "expired.portico.test", [inter])

    def client_ok(leaf, store):
        verifier = PolicyBuilder().store(Store(store)).build_client_verifier()
        try:
            verifier.verify(load_cert(paths[leaf]), [])
            return True
        except VerificationError:
            return False

    checks["clientChainsToPartner"] = client_ok("clientCert", [partner])
    checks["rogueNotPartner"] = not client_ok("rogueCert", [partner])
    mismatch = load_key(paths["mismatchKey"]).public_key()
    checks["mismatchIsMismatched"] = (
        load_cert(paths["apiCert"]).public_key().public_numbers() != mismatch.public_numbers())
    checks["notPemIsNotPem"] = b"-----BEGIN" not in read(paths["notPem"])
    checks["apiIsRsa2048"] = load_cert(paths["apiCert"]).public_key().key_size == 2048
    san = load_cert(paths["wildCert"]).extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    checks["wildSan"] = san == [WILD_NAME]

    # The client against local servers: chains (leaf + intermediate) as Portico serves
    # them.
    chain = {}
    for label, with_inter in (("api", True), ("wild", True), ("mtls", False)):
        pem = read(paths[f"{label}Cert"]) + (read(paths["intermediate-caCert"])
                                              if with_inter else b"")
        chain[label] = write(args.workdir, f"{label}-served.pem", pem)
    server = _Server({API_NAME: (chain["api"], paths["apiKey"]),
                      WILD_NAME: (chain["wild"], paths["wildKey"])})
    mtls_server = _Server({MTLS_NAME: (chain["mtls"], paths["mtlsKey"])},
                          client_ca=paths["partner-caCert"])
    try:
        base = ["request", "--port", str(server.port), "--ca", paths["root-caCert"],
                "--timeout", "5"]
        r = _run_self(base + ["--sni", API_NAME, "--path", "/hello"])
        checks["requestOk"] = (r["status"] == 200 and r["serial"] == serials["api"]
                               and r["json"]["host"] == API_NAME
                               and r["json"]["path"] == "/hello")
        r = _run_self(base + ["--sni", "a.wild.portico.test", "--alpn", "http/1.1"])
        checks["wildcardOk"] = (r["status"] == 200 and r["serial"] == serials["wild"]
                                and r["alpn"] == "http/1.1")
        r = _run_self(base + ["--sni", API_NAME, "--alpn", "h2,http/1.1"])
        checks["h2Negotiated"] = r["alpn"] == "h2" and r["stage"] == "done"
        r = _run_self(base + ["--sni", API_NAME, "--tls-max", "1.2"])
        checks["tls12"] = r["tlsVersion"] == "TLSv1.2" and r["status"] == 200
        r = _run_self(base + ["--sni", API_NAME, "--tls-max", "1.1"])
        checks["tls11Refused"] = (r["refused"] and r["stage"] == "handshake"
                                  and "PROTOCOL_VERSION" in r["error"].upper())
        r = _run_self(base + ["--sni", API_NAME, "--host", "other.example"])
        checks["hostApartFromSni"] = r["status"] == 200 and r["json"]["host"] == "other.example"
        r = _run_self(base + ["--sni", "nope.portico.test"])
        checks["unknownSniRefused"] = (r["refused"] and r["stage"] == "handshake"
                                       and r["serial"] is None)
        r = _run_self(base + ["--sni", "b.a.wild.portico.test"])
        checks["twoLabelsRefused"] = r["refused"] and r["stage"] == "handshake"
        r = _run_self(base[:2] + [str(server.port), "--sni", API_NAME, "--timeout", "5"])
        checks["unknownCaRefused"] = r["refused"] and "CERTIFICATE_VERIFY_FAILED" in r["error"]

        mbase = ["request", "--port", str(mtls_server.port), "--ca", paths["root-caCert"],
                 "--sni", MTLS_NAME, "--timeout", "5"]
        r = _run_self(mbase + ["--cert", paths["clientCert"], "--key", paths["clientKey"]])
        checks["mtlsWithCert"] = (r["status"] == 200
                                  and f"commonName={CLIENT_CN}" in r["json"]["clientSubject"])
        r = _run_self(mbase)
        checks["mtlsWithoutCertRefused"] = r["refused"] and r["status"] is None
        checks["mtlsWithoutCertError"] = r["error"]
        r = _run_self(mbase + ["--tls-max", "1.2"])
        checks["mtlsWithoutCertTls12AtHandshake"] = r["refused"] and r["stage"] == "handshake"
        r = _run_self(mbase + ["--cert", paths["rogueCert"], "--key", paths["rogueKey"]])
        checks["mtlsRogueRefused"] = r["refused"] and r["status"] is None
    finally:
        server.close()
        mtls_server.close()
    failed = [k for k, v in checks.items() if v is False]
    report = json.dumps({"ok": not failed, "failed": failed, "checks": checks})
    print(report)
    if failed:
        print(report, file=sys.stderr)
        sys.exit(1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("step", choices=["selftest", "configure", "request", "hold", "reimport"])
    p.add_argument("--endpoint")
    p.add_argument("--workdir")
    p.add_argument("--upstream")
    p.add_argument("--arn")
    p.add_argument("--addr", default="127.0.0.1")
    p.add_argument("--port", type=int)
    p.add_argument("--sni")
    p.add_argument("--no-sni", action="store_true")
    p.add_argument("--host", help="the Host header, when it is not the SNI name")
    p.add_argument("--path", default="/")
    p.add_argument("--method", default="GET")
    p.add_argument("--body")
    p.add_argument("--ca")
    p.add_argument("--insecure", action="store_true", help="do not verify the server")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--alpn", help="comma-separated ALPN protocols, e.g. h2,http/1.1")
    p.add_argument("--tls-max", choices=sorted(TLS_VERSIONS))
    p.add_argument("--tls-min", choices=sorted(TLS_VERSIONS))
    p.add_argument("--timeout", type=float, default=TIMEOUT)
    p.add_argument("--release", help="hold: the file whose existence releases request 2")
    p.add_argument("--wait", type=float, default=60, help="hold: the longest wait for --release")
    args = p.parse_args()
    socket.setdefaulttimeout(args.timeout)
    {"selftest": selftest, "configure": configure, "request": request, "hold": hold,
     "reimport": reimport}[args.step](args)


if __name__ == "__main__":
    main()
