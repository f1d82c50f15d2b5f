//! Custom domain names end to end on `portico up`: certificates imported through the ACM
//! API by the real boto3 client, domains and API mappings made by boto3's
//! `apigatewayv2`, and the built-in node serving them over HTTPS on `--proxy-tls-addr`
//! (and by Host on the plain port), checked with real TLS clients: Python's `ssl`,
//! Debian's `curl` and `openssl s_client`. The test PKI (a root CA, an intermediate, a
//! partner CA for mutual TLS and their leaves) is made by `e2e/custom_domains.py` with
//! `cryptography`.
//!
//! The rules are AWS's:
//! - "Custom domain names for HTTP APIs" — a certificate that covers the name (wildcards
//!   one label deep), REGIONAL endpoints:
//!   https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-custom-domain-names.html
//! - "API mappings for custom domain names for HTTP APIs" — the mapping key selects the
//!   API and stage and is not part of the path the API sees:
//!   https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-mappings.html
//! - "Mutual TLS authentication for your HTTP APIs" — the truststore, refusals at the
//!   handshake, `$context.identity.clientCert.*`:
//!   https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-mutual-tls.html
//! - "Prerequisites for importing certificates" into ACM — PEM, a key that matches, a
//!   certificate in its validity period, a chain that signs it:
//!   https://docs.aws.amazon.com/acm/latest/userguide/import-certificate-prerequisites.html
//! - Security policies (TLS_1_2 is TLS 1.2 and 1.3):
//!   https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-custom-domain-tls-version.html
//! - The disabled default endpoint:
//!   https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-disable-default-endpoint.html
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use portico_tests::lambda_functions::e2e_dir;
use portico_tests::process::{Proc, UpPorts, portico_up};
use portico_tests::{e2e_script, http_client, upstream, wait_for, wait_for_admin};
use serde_json::{Value, json};

const LIMIT: Duration = Duration::from_secs(30);
const SCRIPT: &str = "custom_domains.py";

const API: &str = "api.portico.test";
const WILD: &str = "*.wild.portico.test";
const IN_WILD: &str = "a.wild.portico.test";
const MTLS: &str = "mtls.portico.test";

/// The script's `request`: one HTTPS request on a new connection to the TLS listener,
/// verified against the test root CA.
struct Https {
    port: String,
    ca: String,
}

impl Https {
    fn request(&self, sni: &str, path: &str, extra: &[&str]) -> Value {
        let mut args = vec![
            "request", "--port", &self.port, "--ca", &self.ca, "--sni", sni, "--path", path,
        ];
        args.extend_from_slice(extra);
        e2e_script(SCRIPT, &args, &[])
    }
}

/// A GET on the plain-HTTP listener with `host` as the Host header, in the shape the
/// script's `request` prints (`status`, `json`, `body`).
async fn plain(proxy: u16, host: &str, path: &str) -> Value {
    let res = http_client()
        .get(format!("http://127.0.0.1:{proxy}{path}"))
        .header("host", host)
        .send()
        .await
        .expect("request through the node");
    let status = res.status().as_u16();
    let body = res.bytes().await.expect("body");
    json!({
        "status": status,
        "json": serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null),
        "body": String::from_utf8_lossy(&body),
    })
}

/// The echo upstream saw `backend_path`, sent by `api`'s `stage` (the integration's
/// parameter mapping puts `$context.apiId` and `$context.stage` in headers).
#[track_caller]
fn reached(r: &Value, backend_path: &str, api: &str, stage: &str) {
    assert_eq!(r["status"], 200, "{r}");
    let seen = &r["json"];
    assert_eq!(seen["path"], backend_path, "{r}");
    assert_eq!(seen["headers"]["x-api-id"], api, "{r}");
    assert_eq!(seen["headers"]["x-stage"], stage, "{r}");
}

/// Refused at the handshake: no HTTP answer at all. Under TLS 1.3 the client's side of
/// the handshake ends before the server has judged its certificate, so a mutual-TLS
/// refusal arrives as an alert on the first read (`stage` "response"); a refused SNI
/// never gets that far (`stage` "handshake").
#[track_caller]
fn refused(r: &Value) {
    assert_eq!(r["refused"], true, "{r}");
    assert!(r["status"].is_null(), "{r}");
    assert!(r["error"].is_string(), "{r}");
}

/// A serial number as lowercase hex without leading zeros, from any spelling
/// (`0a:1b:…` as ACM and `$context.identity.clientCert.serialNumber` show it).
fn serial(s: &str) -> String {
    let hex: String = s.chars().filter(|c| *c != ':').collect();
    let hex = hex.trim_start_matches('0').to_ascii_lowercase();
    if hex.is_empty() { "0".into() } else { hex }
}

struct Curl {
    ok: bool,
    http_version: String,
    body: Value,
    stderr: String,
}

/// Debian's curl on `https://{name}:{port}{path}`, `name` resolved to loopback,
/// verifying against `ca`.
fn curl(port: u16, ca: &str, name: &str, path: &str, extra: &[&str], out: &Path) -> Curl {
    let resolve = format!("{name}:{port}:127.0.0.1");
    let url = format!("https://{name}:{port}{path}");
    let _ = std::fs::remove_file(out);
    let run = Command::new("curl")
        .args([
            "-sS",
            "--noproxy",
            "*",
            "--connect-timeout",
            "5",
            "--max-time",
            "15",
        ])
        .args(["--cacert", ca, "--resolve", &resolve])
        .args(extra)
        .args([
            "-o",
            &out.display().to_string(),
            "-w",
            "%{http_version}",
            &url,
        ])
        .stdin(Stdio::null())
        .output()
        .expect("run curl (apt-get install curl)");
    let body = std::fs::read(out).unwrap_or_default();
    Curl {
        ok: run.status.success(),
        http_version: String::from_utf8_lossy(&run.stdout).trim().to_string(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        stderr: String::from_utf8_lossy(&run.stderr).into_owned(),
    }
}

/// `openssl s_client` to the TLS listener with `name` as the SNI, verifying against
/// `ca`; its exit status and everything it printed.
fn s_client(port: u16, ca: &str, name: &str, extra: &[&str]) -> (bool, String) {
    let connect = format!("127.0.0.1:{port}");
    let run = Command::new("timeout")
        .args(["20", "openssl", "s_client", "-connect", &connect])
        .args(["-servername", name, "-CAfile", ca, "-verify_return_error"])
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .expect("run openssl (apt-get install openssl)");
    (
        run.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        ),
    )
}

/// The test PKI chains as intended and the script's TLS client reports handshakes,
/// ALPN, versions and refusals correctly — against a local Python TLS server, with no
/// Portico involved, so a failure of the real test is Portico's.
#[test]
fn the_test_pki_and_tls_client_are_sound() {
    let work = tempfile::tempdir().expect("work dir");
    let out = e2e_script(
        SCRIPT,
        &["selftest", "--workdir", &work.path().display().to_string()],
        &[],
    );
    assert_eq!(out["ok"], true, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_domains_serve_tls_mappings_and_mutual_tls() {
    let backend = upstream::start().await;
    let data = tempfile::tempdir().expect("data dir");
    let work = tempfile::tempdir().expect("work dir");
    let workdir = work.path().display().to_string();
    let ports = UpPorts::free();
    let _up = portico_up(data.path(), &ports, &[]);
    wait_for_admin(ports.admin, LIMIT).await;
    let endpoint = format!("http://127.0.0.1:{}", ports.admin);
    let upstream_url = format!("http://{backend}");
    let c = e2e_script(
        SCRIPT,
        &[
            "configure",
            "--endpoint",
            &endpoint,
            "--workdir",
            &workdir,
            "--upstream",
            &upstream_url,
        ],
        &[],
    );
    let path = |label: &str| c["paths"][label].as_str().expect(label).to_string();
    let ca = path("root-caCert");
    let (client_cert, client_key) = (path("clientCert"), path("clientKey"));
    let (rogue_cert, rogue_key) = (path("rogueCert"), path("rogueKey"));
    let shop = c["apis"]["shop"].as_str().expect("shop api").to_string();
    let hidden = c["apis"]["hidden"]
        .as_str()
        .expect("hidden api")
        .to_string();
    let arns = &c["certificateArns"];

    // ACM refuses what AWS's import prerequisites rule out, with ValidationException
    // (the script checked each code), and keeps nothing of it
    // (https://docs.aws.amazon.com/acm/latest/userguide/import-certificate-prerequisites.html).
    let acm_errors = &c["acmErrors"];
    for (name, code, needle) in [
        ("notPem", "ValidationException", "PEM"),
        ("keyNotPem", "ValidationException", ""),
        ("mismatchedKey", "ValidationException", "match"),
        ("expired", "ValidationException", "expired"),
        ("badChain", "ValidationException", "chain"),
        ("twoLeaves", "ValidationException", ""),
        ("describeInvalidArn", "InvalidArnException", ""),
        ("reimportInvalidArn", "InvalidArnException", ""),
        ("describeUnknownArn", "ResourceNotFoundException", ""),
        ("deleteUnknownArn", "ResourceNotFoundException", ""),
        ("reimportUnknownArn", "ResourceNotFoundException", ""),
    ] {
        let e = &acm_errors[name];
        assert_eq!(e["code"], code, "{name}: {e}");
        assert_eq!(e["status"], 400, "{name}: {e}");
        let message = e["message"].as_str().unwrap_or_default();
        assert!(message.contains(needle), "{name}: {message}");
    }
    let arns_of = |list: &Value| {
        let mut v: Vec<String> = list
            .as_array()
            .expect("a certificate list")
            .iter()
            .map(|s| s["CertificateArn"].as_str().unwrap_or_default().to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        arns_of(&c["listedBefore"]).len(),
        3,
        "{}",
        c["listedBefore"]
    );
    assert_eq!(
        arns_of(&c["listedBefore"]),
        arns_of(&c["listedAfter"]),
        "a refused import stores nothing"
    );
    assert_eq!(
        c["pagedFirst"]["CertificateSummaryList"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "{}",
        c["pagedFirst"]
    );
    assert!(
        c["pagedFirst"]["NextToken"].is_string(),
        "{}",
        c["pagedFirst"]
    );

    // DescribeCertificate tells what was imported, as ACM does
    // (https://docs.aws.amazon.com/acm/latest/APIReference/API_CertificateDetail.html).
    for (label, domain, key_algorithm) in [
        ("api", API, "RSA_2048"),
        ("wild", WILD, "EC_prime256v1"),
        ("mtls", MTLS, "EC_prime256v1"),
    ] {
        let d = &c["described"][label];
        assert_eq!(d["CertificateArn"], arns[label], "{label}: {d}");
        assert_eq!(d["DomainName"], domain, "{label}: {d}");
        assert_eq!(
            d["SubjectAlternativeNames"],
            json!([domain]),
            "{label}: {d}"
        );
        assert_eq!(d["Status"], "ISSUED", "{label}: {d}");
        assert_eq!(d["Type"], "IMPORTED", "{label}: {d}");
        assert_eq!(d["KeyAlgorithm"], key_algorithm, "{label}: {d}");
        assert_eq!(d["SerialHex"], c["serials"][label], "{label}: {d}");
        let not_after = d["NotAfterEpoch"].as_f64().expect("NotAfter");
        let expected = c["notAfter"][label].as_f64().expect("the leaf's notAfter");
        assert!((not_after - expected).abs() < 1.5, "{label}: {d}");
        // Used by the domain made with it.
        let domain_arn = &c["domains"][label]["DomainNameArn"];
        assert!(
            d["InUseBy"]
                .as_array()
                .is_some_and(|used| used.contains(domain_arn)),
            "{label}: {d}"
        );
        let arn = arns[label].as_str().expect("arn");
        assert_eq!(c["listedInUse"][arn]["InUse"], true, "{label}");
    }
    assert_eq!(
        c["inUseErrors"]["deleteCertificate"]["code"],
        "ResourceInUseException"
    );

    // The truststore the partner CA makes, named s3://partners by the mTLS domain.
    let ts = &c["truststore"];
    assert_eq!(ts["name"], "partners", "{ts}");
    assert_eq!(ts["truststoreUri"], "s3://partners", "{ts}");
    assert_eq!(ts["certificates"], 1, "{ts}");
    let version = ts["truststoreVersion"].as_str().expect("truststoreVersion");
    assert!(
        version.len() == 16 && version.bytes().all(|b| b.is_ascii_hexdigit()),
        "{ts}"
    );
    assert!(
        ts["subjects"]
            .to_string()
            .contains("CN=Portico Test Partner CA"),
        "{ts}"
    );
    assert_eq!(
        c["truststoreRead"]["status"], 200,
        "{}",
        c["truststoreRead"]
    );
    assert_eq!(c["truststoreRead"]["body"]["truststoreVersion"], version);
    assert_eq!(
        c["truststoreNotPem"]["status"], 400,
        "{}",
        c["truststoreNotPem"]
    );
    assert_eq!(
        c["truststoreDeleteInUse"]["status"], 409,
        "{}",
        c["truststoreDeleteInUse"]
    );

    // The domains, as AWS's CreateDomainName answers
    // (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-custom-domain-names.html).
    for (label, name) in [("api", API), ("wild", WILD), ("mtls", MTLS)] {
        let d = &c["domains"][label];
        assert_eq!(d["DomainName"], name, "{d}");
        assert_eq!(
            d["ApiMappingSelectionExpression"], "$request.basepath",
            "{d}"
        );
        assert!(
            d["DomainNameArn"].as_str().is_some_and(|a| !a.is_empty()),
            "{d}"
        );
        let config = &d["DomainNameConfigurations"][0];
        assert_eq!(config["CertificateArn"], arns[label], "{d}");
        assert_eq!(config["DomainNameStatus"], "AVAILABLE", "{d}");
        assert_eq!(config["EndpointType"], "REGIONAL", "{d}");
        assert_eq!(config["SecurityPolicy"], "TLS_1_2", "{d}");
    }
    assert_eq!(c["domains"]["api"]["Tags"]["team"], "shop");
    for d in [&c["domains"]["mtls"], &c["mtlsDomainRead"]] {
        let m = &d["MutualTlsAuthentication"];
        assert_eq!(m["TruststoreUri"], "s3://partners", "{d}");
        assert_eq!(m["TruststoreVersion"], version, "{d}");
    }
    assert!(c["domains"]["api"]["MutualTlsAuthentication"].is_null());
    // Every bad domain is refused, naming what is wrong, and nothing is stored.
    for (name, needle) in [
        ("edge", "EDGE"),
        ("tls10", "TLS_1_0"),
        ("notCovered", "other.portico.test"),
        ("wildcardTwoLabels", "a.b.wild.portico.test"),
        ("unknownCertificate", "00000000-0000-4000-8000-000000000000"),
        ("unknownTruststore", "no-such-truststore"),
        ("badName", "not a domain"),
        ("duplicate", API),
    ] {
        let message = c["domainErrors"][name]["message"]
            .as_str()
            .unwrap_or_default();
        assert!(message.contains(needle), "{name}: {message}");
    }
    assert_eq!(c["domainNames"], json!([WILD, API, MTLS]));

    // The mappings (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-mappings.html).
    let m = &c["mappings"];
    for (label, api, stage, key) in [
        ("apiRoot", &shop, "prod", ""),
        ("apiV1", &shop, "dev", "v1"),
        ("apiV1Orders", &hidden, "live", "v1/orders"),
        ("wildW", &shop, "prod", "w"),
        ("mtlsRoot", &shop, "prod", ""),
    ] {
        assert_eq!(m[label]["ApiId"], api.as_str(), "{label}: {}", m[label]);
        assert_eq!(m[label]["Stage"], stage, "{label}: {}", m[label]);
        assert_eq!(m[label]["ApiMappingKey"], key, "{label}: {}", m[label]);
        assert!(
            m[label]["ApiMappingId"].is_string(),
            "{label}: {}",
            m[label]
        );
    }
    for (name, needle) in [
        ("duplicateKey", "v1"),
        ("unknownApi", "nosuchapi"),
        ("unknownStage", "nosuchstage"),
        ("unknownDomain", "nosuch.portico.test"),
    ] {
        let message = c["mappingErrors"][name]["message"]
            .as_str()
            .unwrap_or_default();
        assert!(message.contains(needle), "{name}: {message}");
    }
    assert_eq!(c["apiMappingKeys"], json!(["", "v1", "v1/orders"]));
    assert_eq!(c["apis"]["hiddenDisableExecuteApiEndpoint"], true);

    // The node has the domains: first by Host on the plain port, then over TLS.
    wait_for("the node to serve the custom domain", LIMIT, || async {
        let r = plain(ports.proxy, API, "/anything").await;
        (r["status"] == 200).then_some(())
    })
    .await;
    let https = Https {
        port: ports.proxy_tls.to_string(),
        ca: ca.clone(),
    };
    wait_for(
        "the TLS listener to serve the custom domain",
        LIMIT,
        || async {
            let r = https.request(API, "/anything", &[]);
            (r["status"] == 200).then_some(())
        },
    )
    .await;

    // The longest mapping key made of whole leading segments picks the API and stage,
    // and is gone from the path the route sees; the stage is not in the path.
    for (path, backend_path, api, stage) in [
        ("/anything", "/echo/anything", &shop, "prod"),
        ("/", "/root", &shop, "prod"),
        ("/prod/anything", "/echo/prod/anything", &shop, "prod"),
        ("/v1/x", "/echo/x", &shop, "dev"),
        ("/v1", "/root", &shop, "dev"),
        ("/v1/ordersX", "/echo/ordersX", &shop, "dev"),
        ("/v1/orders/7", "/hidden/7", &hidden, "live"),
        ("/v1/orders/7/items", "/hidden/7/items", &hidden, "live"),
        ("/v1/orders", "/hidden-root", &hidden, "live"),
    ] {
        let r = https.request(API, path, &[]);
        reached(&r, backend_path, api, stage);
        let seen = &r["json"]["headers"];
        assert_eq!(seen["x-domain"], API, "{path}: {r}");
        assert_eq!(seen["x-domain-prefix"], "api", "{path}: {r}");
        assert_eq!(seen["x-protocol"], "HTTP/1.1", "{path}: {r}");
        assert_eq!(r["serial"], c["serials"]["api"], "{path}: {r}");
        assert_eq!(r["tlsVersion"], "TLSv1.3", "{path}: {r}");
        // The same domain by Host on the plain port, for a TLS-terminating balancer.
        let p = plain(ports.proxy, API, path).await;
        reached(&p, backend_path, api, stage);
    }
    // The chain the node sends is the leaf and the imported intermediate.
    let r = https.request(API, "/anything", &[]);
    assert_eq!(r["subject"], "CN=api.portico.test", "{r}");
    assert!(
        r["issuer"]
            .as_str()
            .unwrap_or_default()
            .contains("CN=Portico Test Intermediate CA"),
        "{r}"
    );
    // The Host header may carry the port.
    let p = plain(ports.proxy, &format!("{API}:{}", ports.proxy), "/v1/x").await;
    reached(&p, "/echo/x", &shop, "dev");
    assert_eq!(p["json"]["headers"]["x-domain"], API, "{p}");
    // A Host no domain or API has.
    assert_eq!(
        plain(ports.proxy, "nobody.portico.test", "/x").await["status"],
        404
    );

    // TLS 1.2 and 1.3 only, as TLS_1_2 is
    // (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-custom-domain-tls-version.html).
    let r = https.request(API, "/v1/x", &["--tls-max", "1.2"]);
    reached(&r, "/echo/x", &shop, "dev");
    assert_eq!(r["tlsVersion"], "TLSv1.2", "{r}");
    let r = https.request(API, "/v1/x", &["--tls-max", "1.1"]);
    refused(&r);
    assert_eq!(r["stage"], "handshake", "{r}");

    // The wildcard serves one label under it, not two; a path no mapping has is 404.
    let r = https.request(IN_WILD, "/w/hello", &[]);
    reached(&r, "/echo/hello", &shop, "prod");
    assert_eq!(r["serial"], c["serials"]["wild"], "{r}");
    assert_eq!(r["json"]["headers"]["x-domain"], IN_WILD, "{r}");
    assert_eq!(r["json"]["headers"]["x-domain-prefix"], "a", "{r}");
    let r = https.request("other.wild.portico.test", "/w", &[]);
    reached(&r, "/root", &shop, "prod");
    for path in ["/other", "/wx", "/"] {
        let r = https.request(IN_WILD, path, &[]);
        assert_eq!(r["status"], 404, "{path}: {r}");
        assert_eq!(r["json"], json!({"message": "Not Found"}), "{path}: {r}");
    }
    reached(
        &plain(ports.proxy, IN_WILD, "/w/hello").await,
        "/echo/hello",
        &shop,
        "prod",
    );
    let r = https.request("b.a.wild.portico.test", "/w/hello", &[]);
    refused(&r);
    assert_eq!(r["stage"], "handshake", "{r}");

    // An unknown SNI, or none, is refused at the handshake: no certificate is sent.
    for r in [
        https.request("nope.portico.test", "/", &[]),
        https.request("wild.portico.test", "/", &[]),
        https.request(API, "/", &["--no-sni"]),
    ] {
        refused(&r);
        assert_eq!(r["stage"], "handshake", "{r}");
        assert!(r["serial"].is_null(), "{r}");
    }

    // HTTP/2 by ALPN: Python's ssl sees h2 chosen; curl makes HTTP/2 requests.
    let r = https.request(API, "/", &["--alpn", "h2,http/1.1"]);
    assert_eq!(r["alpn"], "h2", "{r}");
    assert_eq!(r["stage"], "done", "{r}");
    let r = https.request(API, "/v1/x", &["--alpn", "http/1.1"]);
    assert_eq!(r["alpn"], "http/1.1", "{r}");
    reached(&r, "/echo/x", &shop, "dev");
    let body = work.path().join("curl-body.json");
    let h2 = curl(
        ports.proxy_tls,
        &ca,
        API,
        "/v1/orders/7",
        &["--http2"],
        &body,
    );
    assert!(h2.ok, "curl --http2: {}", h2.stderr);
    assert_eq!(h2.http_version, "2", "{}", h2.stderr);
    assert_eq!(h2.body["path"], "/hidden/7", "{}", h2.body);
    assert_eq!(h2.body["headers"]["x-stage"], "live", "{}", h2.body);
    assert_eq!(h2.body["headers"]["x-domain"], API, "{}", h2.body);
    assert_eq!(h2.body["headers"]["x-protocol"], "HTTP/2.0", "{}", h2.body);
    let h1 = curl(
        ports.proxy_tls,
        &ca,
        IN_WILD,
        "/w/hello",
        &["--http1.1"],
        &body,
    );
    assert!(h1.ok, "curl --http1.1: {}", h1.stderr);
    assert_eq!(h1.http_version, "1.1", "{}", h1.stderr);
    assert_eq!(h1.body["path"], "/echo/hello", "{}", h1.body);
    let unknown = curl(
        ports.proxy_tls,
        &ca,
        "nope.portico.test",
        "/",
        &["--http2"],
        &body,
    );
    assert!(!unknown.ok, "an unknown name: {}", unknown.http_version);

    // openssl verifies the chain the node sends; an unknown name gets no certificate.
    let (ok, out) = s_client(ports.proxy_tls, &ca, API, &["-alpn", "h2,http/1.1"]);
    assert!(ok, "{out}");
    assert!(out.contains("Verify return code: 0 (ok)"), "{out}");
    assert!(out.contains("subject=CN = api.portico.test"), "{out}");
    assert!(out.contains("ALPN protocol: h2"), "{out}");
    let (ok, out) = s_client(ports.proxy_tls, &ca, IN_WILD, &[]);
    assert!(ok && out.contains("Verify return code: 0 (ok)"), "{out}");
    assert!(out.contains("subject=CN = *.wild.portico.test"), "{out}");
    let (ok, out) = s_client(ports.proxy_tls, &ca, "nope.portico.test", &[]);
    assert!(!ok, "{out}");
    assert!(out.contains("no peer certificate available"), "{out}");
    assert!(!out.contains("subject="), "{out}");

    // Mutual TLS (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-mutual-tls.html):
    // a client without a certificate, or with one the truststore did not issue, is
    // refused at the handshake.
    let with_cert = ["--cert", client_cert.as_str(), "--key", client_key.as_str()];
    let rogue = ["--cert", rogue_cert.as_str(), "--key", rogue_key.as_str()];
    refused(&https.request(MTLS, "/mtls/whoami", &[]));
    let r = https.request(MTLS, "/mtls/whoami", &["--tls-max", "1.2"]);
    refused(&r);
    assert_eq!(r["stage"], "handshake", "{r}");
    refused(&https.request(MTLS, "/mtls/whoami", &rogue));
    let rogue_tls12 = [rogue[0], rogue[1], rogue[2], rogue[3], "--tls-max", "1.2"];
    let r = https.request(MTLS, "/mtls/whoami", &rogue_tls12);
    refused(&r);
    assert_eq!(r["stage"], "handshake", "{r}");
    // With the partner's certificate it works, and the backend learns who called.
    let r = https.request(MTLS, "/mtls/whoami", &with_cert);
    reached(&r, "/mtls/whoami", &shop, "prod");
    assert_eq!(r["serial"], c["serials"]["mtls"], "{r}");
    let seen = &r["json"]["headers"];
    let dn = seen["x-client-dn"].as_str().unwrap_or_default();
    assert!(dn.contains("CN=partner-1"), "{r}");
    assert!(dn.contains("O=Portico Partners"), "{r}");
    assert!(
        seen["x-client-issuer"]
            .as_str()
            .unwrap_or_default()
            .contains("CN=Portico Test Partner CA"),
        "{r}"
    );
    assert_eq!(
        serial(seen["x-client-serial"].as_str().unwrap_or_default()),
        c["serials"]["client"].as_str().expect("client serial"),
        "{r}"
    );
    assert!(
        seen["x-client-not-after"]
            .as_str()
            .unwrap_or_default()
            .ends_with("GMT"),
        "{r}"
    );
    assert_eq!(seen["x-domain"], MTLS, "{r}");
    // Other routes of the mapped stage too.
    reached(
        &https.request(MTLS, "/x", &with_cert),
        "/echo/x",
        &shop,
        "prod",
    );
    let h2 = curl(
        ports.proxy_tls,
        &ca,
        MTLS,
        "/mtls/whoami",
        &["--http2", "--cert", &client_cert, "--key", &client_key],
        &body,
    );
    assert!(
        h2.ok,
        "curl --http2 with a client certificate: {}",
        h2.stderr
    );
    assert_eq!(h2.http_version, "2");
    assert!(
        h2.body["headers"]["x-client-dn"]
            .as_str()
            .unwrap_or_default()
            .contains("CN=partner-1"),
        "{}",
        h2.body
    );
    let no_cert = curl(
        ports.proxy_tls,
        &ca,
        MTLS,
        "/mtls/whoami",
        &["--http2"],
        &body,
    );
    assert!(
        !no_cert.ok,
        "curl without a client certificate: {}",
        no_cert.http_version
    );
    // The mutual-TLS domain is not reachable around its handshake: not by Host on the
    // plain port, nor on a TLS connection made for another domain.
    let p = plain(ports.proxy, MTLS, "/mtls/whoami").await;
    assert_eq!(p["status"], 403, "{p}");
    assert_eq!(p["json"], json!({"message": "Forbidden"}), "{p}");
    let r = https.request(API, "/mtls/whoami", &["--host", MTLS]);
    assert_eq!(r["status"], 403, "{r}");
    assert_eq!(r["json"], json!({"message": "Forbidden"}), "{r}");

    // disableExecuteApiEndpoint: the hidden API answers 403 on its execute-api host, as
    // AWS's disabled default endpoint does
    // (https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-disable-default-endpoint.html),
    // and is served through its custom domain; the other API still has its endpoint.
    let p = plain(
        ports.proxy,
        &format!("{hidden}.execute-api.localhost"),
        "/live/7",
    )
    .await;
    assert_eq!(p["status"], 403, "{p}");
    assert_eq!(p["json"], json!({"message": "Forbidden"}), "{p}");
    reached(
        &plain(ports.proxy, API, "/v1/orders/7").await,
        "/hidden/7",
        &hidden,
        "live",
    );
    reached(
        &https.request(API, "/v1/orders/7", &[]),
        "/hidden/7",
        &hidden,
        "live",
    );
    let execute_api = format!("{shop}.execute-api.localhost");
    let p = plain(ports.proxy, &execute_api, "/prod/x").await;
    reached(&p, "/echo/x", &shop, "prod");
    assert_eq!(
        p["json"]["headers"]["x-domain"],
        execute_api.as_str(),
        "{p}"
    );
    assert_eq!(
        p["json"]["headers"]["x-domain-prefix"],
        shop.as_str(),
        "{p}"
    );

    // A re-imported certificate (same ARN) reaches new connections within seconds, with
    // no restart; a connection opened before keeps working
    // (https://docs.aws.amazon.com/acm/latest/userguide/import-reimport.html).
    let release = work.path().join("release");
    let mut held = Command::new("python3")
        .arg(e2e_dir().join(SCRIPT))
        .args([
            "hold",
            "--port",
            &https.port,
            "--ca",
            &ca,
            "--sni",
            API,
            "--path",
            "/v1/x",
        ])
        .args(["--release", &release.display().to_string(), "--wait", "60"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 custom_domains.py hold");
    let mut lines = BufReader::new(held.stdout.take().expect("hold's stdout")).lines();
    let _held = Proc::adopt("hold", held);
    let first: Value =
        serde_json::from_str(&lines.next().expect("hold's first line").expect("read hold"))
            .expect("hold prints JSON");
    reached(&first["first"], "/echo/x", &shop, "dev");
    assert_eq!(first["first"]["serial"], c["serials"]["api"], "{first}");

    let arn = arns["api"].as_str().expect("api arn");
    let re = e2e_script(
        SCRIPT,
        &[
            "reimport",
            "--endpoint",
            &endpoint,
            "--workdir",
            &workdir,
            "--arn",
            arn,
        ],
        &[],
    );
    assert_eq!(re["certificateArn"], arn, "{re}");
    assert_eq!(re["previousSerial"], c["serials"]["api"], "{re}");
    assert_eq!(re["describedSerial"], re["serial"], "{re}");
    assert_ne!(re["serial"], c["serials"]["api"], "{re}");
    assert_eq!(re["describedStatus"], "ISSUED", "{re}");
    let new_serial = re["serial"].clone();
    // Within the held connection's idle limit (30 s), so that it is still open after.
    let r = wait_for(
        "the re-imported certificate on new connections",
        Duration::from_secs(20),
        || async {
            let r = https.request(API, "/v1/x", &[]);
            (r["serial"] == new_serial && r["status"] == 200).then_some(r)
        },
    )
    .await;
    reached(&r, "/echo/x", &shop, "dev");
    // The other domains keep their certificates.
    assert_eq!(
        https.request(IN_WILD, "/w/x", &[])["serial"],
        c["serials"]["wild"]
    );

    std::fs::write(&release, b"go").expect("release the held connection");
    let second: Value = serde_json::from_str(
        &lines
            .next()
            .expect("hold's second line")
            .expect("read hold"),
    )
    .expect("hold prints JSON");
    reached(&second["second"], "/echo/x", &shop, "dev");
    assert_eq!(
        second["second"]["serial"], c["serials"]["api"],
        "the held connection kept the certificate it negotiated: {second}"
    );
}
