//! Authorizers end to end on `portico up`, driven by the real boto3 client
//! (`e2e/authorizers.py`): a JWT authorizer on a real OIDC issuer on loopback
//! (`e2e/oidc_issuer.py`: discovery, JWKS with RSA, EC and Ed25519 keys, tokens signed by
//! PyJWT, key rotation and outages), and Lambda REQUEST authorizers behind the
//! Invoke-compatible function server (`e2e/lambda_server.py`), which counts invocations to
//! prove the cache and checks every authorizer event against aws-lambda-powertools'
//! models.
//!
//! The rules are AWS's: "Controlling access to HTTP APIs with JWT authorizers"
//! (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html)
//! and "Working with AWS Lambda authorizers for HTTP APIs"
//! (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html).
use std::process::Command;
use std::time::Duration;

use portico_tests::lambda_functions::{FunctionServer, e2e_dir};
use portico_tests::oidc_issuer::OidcIssuer;
use portico_tests::process::{UpPorts, portico_up};
use portico_tests::{e2e_script, http_client, upstream, wait_for, wait_for_admin};
use serde_json::{Value, json};

const LIMIT: Duration = Duration::from_secs(30);

struct Gateway {
    proxy: u16,
    host: String,
}

impl Gateway {
    /// GET `path` on the prod stage with an optional `Authorization` value.
    async fn get(&self, path: &str, authorization: Option<&str>) -> (u16, Value) {
        let mut req = http_client()
            .get(format!("http://127.0.0.1:{}/prod{path}", self.proxy))
            .header("host", &self.host);
        if let Some(a) = authorization {
            req = req.header("authorization", a);
        }
        let res = req.send().await.expect("request through the node");
        let status = res.status().as_u16();
        let body = res.bytes().await.expect("body");
        let json = serde_json::from_slice(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
        (status, json)
    }
}

fn unauthorized() -> Value {
    json!({"message": "Unauthorized"})
}

fn forbidden() -> Value {
    json!({"message": "Forbidden"})
}

async fn invocations(functions: &FunctionServer, name: &str) -> Vec<Value> {
    let all = functions.recorded().await;
    all["invocations"]
        .as_array()
        .expect("invocations")
        .iter()
        .filter(|i| i["function"] == name)
        .cloned()
        .collect()
}

#[test]
fn the_oidc_issuer_is_a_real_one() {
    let status = Command::new("python3")
        .arg(e2e_dir().join("oidc_issuer_selftest.py"))
        .current_dir(e2e_dir())
        .status()
        .expect("python3 oidc_issuer_selftest.py");
    assert!(status.success(), "oidc_issuer_selftest.py failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorizers_guard_routes() {
    let functions = FunctionServer::start();
    let issuer = OidcIssuer::start("/us-east-1_E2EPool");
    let backend = upstream::start().await;
    let data = tempfile::tempdir().expect("data dir");
    let ports = UpPorts::free();
    let _up = portico_up(data.path(), &ports, &functions.node_env());
    wait_for_admin(ports.admin, LIMIT).await;
    let endpoint = format!("http://127.0.0.1:{}", ports.admin);
    let upstream_url = format!("http://{backend}");
    let configured = e2e_script(
        "authorizers.py",
        &[
            "configure",
            "--endpoint",
            &endpoint,
            "--issuer",
            &issuer.issuer,
            "--upstream",
            &upstream_url,
        ],
        &[],
    );

    // Every bad authorizer and route is refused, naming the field, and nothing is stored.
    let errors = &configured["errors"];
    for (name, needle) in [
        ("jwt_http_issuer", "only on loopback"),
        ("jwt_no_audience", "audience"),
        ("jwt_two_sources", "exactly one identity source"),
        (
            "jwt_with_uri",
            "authorizerUri is supported only for REQUEST",
        ),
        ("request_no_uri", "needs authorizerUri"),
        ("request_bad_uri", "12 digits"),
        (
            "request_no_version",
            "authorizerPayloadFormatVersion is required",
        ),
        ("request_simple_v1", "enableSimpleResponses"),
        ("request_ttl_3601", "between 0 and 3600"),
        ("request_cache_without_source", "identitySource is required"),
        (
            "bad_identity_source",
            "Invalid identity source 'Authorization'",
        ),
        ("bad_type", "Invalid authorizerType 'TOKEN'"),
        ("route_jwt_without_authorizer", "needs an authorizerId"),
        (
            "route_jwt_with_lambda_authorizer",
            "is a REQUEST authorizer",
        ),
        (
            "route_unknown_authorizer",
            "Invalid authorizer identifier specified nope",
        ),
        ("route_scopes_on_custom", "authorizationScopes"),
        ("route_iam_with_authorizer", "authorizerId can't be set"),
        ("delete_used_authorizer", "guards route(s)"),
    ] {
        let message = errors[name].as_str().unwrap_or_default();
        assert!(message.contains(needle), "{name}: {message}");
    }
    assert_eq!(
        configured["authorizersBefore"],
        configured["authorizersAfter"]
    );
    assert_eq!(configured["authorizersAfter"], 4);
    assert!(
        !configured["routeKeys"].to_string().contains("/bad"),
        "{}",
        configured["routeKeys"]
    );
    assert_eq!(configured["updated"]["AuthorizerResultTtlInSeconds"], 30);
    assert_eq!(configured["updated"]["EnableSimpleResponses"], false);
    assert_eq!(
        configured["scopedRoute"]["AuthorizationScopes"],
        json!(["notes/read"])
    );

    let api_id = configured["apiId"].as_str().expect("apiId");
    let gw = Gateway {
        proxy: ports.proxy,
        host: format!("{api_id}.execute-api.localhost"),
    };
    wait_for("the node to serve the guarded API", LIMIT, || async {
        let (status, _) = gw.get("/open", None).await;
        (status == 200).then_some(())
    })
    .await;

    // JWT: the keys were fetched ahead, once.
    wait_for("the node to fetch the issuer's keys", LIMIT, || async {
        let (_, jwks) = issuer.counts().await;
        (jwks >= 1).then_some(())
    })
    .await;
    let claims = json!({"aud": "notes-app", "sub": "user-1", "email": "a@example.com"});
    let token = issuer.mint("RS256", claims.clone()).await;
    let bearer = format!("Bearer {token}");
    let fetched = issuer.counts().await;
    let (status, event) = gw.get("/jwt", Some(&bearer)).await;
    assert_eq!(status, 200, "{event}");
    let jwt = &event["requestContext"]["authorizer"]["jwt"];
    assert_eq!(jwt["claims"]["sub"], "user-1", "{event}");
    assert_eq!(jwt["claims"]["email"], "a@example.com");
    assert_eq!(jwt["claims"]["aud"], "notes-app");
    // Without the "Bearer " scheme too, as AWS.
    assert_eq!(gw.get("/jwt", Some(&token)).await.0, 200);
    for alg in ["RS384", "RS512", "ES256", "ES384", "EdDSA"] {
        let t = issuer.mint(alg, claims.clone()).await;
        let (status, body) = gw.get("/jwt", Some(&format!("Bearer {t}"))).await;
        assert_eq!(status, 200, "{alg}: {body}");
    }
    for _ in 0..20 {
        assert_eq!(gw.get("/jwt", Some(&bearer)).await.0, 200);
    }
    assert_eq!(
        issuer.counts().await,
        fetched,
        "no key fetch on the request path for a cached key"
    );
    // Payload 1.0 and an HTTP backend see the claims too.
    let (status, v1) = gw.get("/jwt/v1", Some(&bearer)).await;
    assert_eq!(status, 200, "{v1}");
    assert_eq!(
        v1["requestContext"]["authorizer"]["claims"]["sub"],
        "user-1"
    );
    let (status, seen) = gw.get("/jwt/backend", Some(&bearer)).await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["headers"]["x-user"], "user-1", "{seen}");

    // Every bad token is 401 with AWS's body.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let mut bad = vec![
        ("none", gw.get("/jwt", None).await),
        ("garbage", gw.get("/jwt", Some("Bearer not.a.jwt")).await),
    ];
    for (name, body) in [
        (
            "expired",
            json!({"alg": "RS256", "claims": {"aud": "notes-app", "exp": now - 3600, "iat": now - 7200}}),
        ),
        (
            "not yet valid",
            json!({"alg": "RS256", "claims": {"aud": "notes-app", "nbf": now + 3600}}),
        ),
        (
            "issued in the future",
            json!({"alg": "RS256", "claims": {"aud": "notes-app", "iat": now + 3600}}),
        ),
        (
            "wrong aud",
            json!({"alg": "RS256", "claims": {"aud": "someone-else"}}),
        ),
        (
            "wrong iss",
            json!({"alg": "RS256", "claims": {"aud": "notes-app", "iss": "https://evil.example"}}),
        ),
        (
            "alg none",
            json!({"alg": "none", "claims": {"aud": "notes-app"}}),
        ),
        (
            "HS256 with the RSA public key",
            json!({"alg": "HS256-with-rsa-public-key", "claims": {"aud": "notes-app"}}),
        ),
        (
            "bad signature",
            json!({"alg": "RS256-untrusted", "claims": {"aud": "notes-app"}}),
        ),
        (
            "unknown kid",
            json!({"alg": "RS256", "kid": "no-such-key", "claims": {"aud": "notes-app"}}),
        ),
    ] {
        let t = issuer.mint_with(body).await;
        bad.push((name, gw.get("/jwt", Some(&format!("Bearer {t}"))).await));
    }
    for (name, (status, body)) in &bad {
        assert_eq!(*status, 401, "{name}: {body}");
        assert_eq!(*body, unauthorized(), "{name}");
    }
    // client_id stands in for a missing aud; jku and x5u are never followed.
    let client_id = issuer
        .mint_with(json!({"alg": "RS256", "claims": {"client_id": "other-app"}, "omit": []}))
        .await;
    assert_eq!(
        gw.get("/jwt", Some(&format!("Bearer {client_id}"))).await.0,
        200
    );
    let jku = issuer
        .mint_with(json!({"alg": "RS256-jku", "claims": {"aud": "notes-app"}}))
        .await;
    assert_eq!(gw.get("/jwt", Some(&format!("Bearer {jku}"))).await.0, 200);

    // Scopes: one of the route's, in `scope` or `scp`; none is 403.
    let scoped = |scope: Value| {
        let (issuer, gw) = (&issuer, &gw);
        async move {
            let t = issuer.mint("RS256", scope).await;
            gw.get("/jwt/scoped", Some(&format!("Bearer {t}"))).await
        }
    };
    let (status, body) = scoped(json!({"aud": "notes-app"})).await;
    assert_eq!((status, body), (403, forbidden()));
    let (status, event) = scoped(json!({"aud": "notes-app", "scope": "openid notes/read"})).await;
    assert_eq!(status, 200, "{event}");
    assert_eq!(
        event["requestContext"]["authorizer"]["jwt"]["scopes"],
        json!(["openid", "notes/read"])
    );
    assert_eq!(
        scoped(json!({"aud": "notes-app", "scp": ["notes/read"]}))
            .await
            .0,
        200
    );
    assert_eq!(
        scoped(json!({"aud": "notes-app", "scope": "notes/write"}))
            .await
            .0,
        403
    );

    // Rotation: a token under the new kid works without a redeploy, after one refetch.
    // The unknown kid above asked for a refetch moments ago, so this one may wait out
    // the rate limit (10 s) first.
    let before_rotation = issuer.counts().await;
    issuer.rotate("RS256", false).await;
    let rotated = issuer.mint("RS256", claims.clone()).await;
    wait_for("the rotated key to be accepted", LIMIT, || async {
        let (status, _) = gw.get("/jwt", Some(&format!("Bearer {rotated}"))).await;
        (status == 200).then_some(())
    })
    .await;
    let after_rotation = issuer.counts().await;
    assert_eq!(after_rotation.1, before_rotation.1 + 1, "one refetch");
    assert_eq!(
        gw.get("/jwt", Some(&bearer)).await.0,
        401,
        "the old key is gone"
    );
    // The issuer goes down: the keys the node has keep working.
    issuer.down().await;
    for _ in 0..5 {
        assert_eq!(
            gw.get("/jwt", Some(&format!("Bearer {rotated}"))).await.0,
            200
        );
    }
    issuer.up().await;

    // Lambda, simple responses, cached for the TTL by the identity source's value.
    let (status, body) = gw.get("/simple", None).await;
    assert_eq!((status, body), (401, unauthorized()));
    assert!(
        invocations(&functions, "authorizer_simple")
            .await
            .is_empty()
    );
    for _ in 0..3 {
        let (status, event) = gw.get("/simple", Some("allow")).await;
        assert_eq!(status, 200, "{event}");
        let lambda = &event["requestContext"]["authorizer"]["lambda"];
        assert_eq!(lambda["user"], "alice", "{event}");
        assert_eq!(lambda["quota"], 7);
    }
    let calls = invocations(&functions, "authorizer_simple").await;
    assert_eq!(calls.len(), 1, "answers are cached for the TTL");
    let (status, seen) = gw.get("/simple/backend", Some("allow")).await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["headers"]["x-tier"], "gold", "{seen}");
    assert_eq!(invocations(&functions, "authorizer_simple").await.len(), 1);
    assert_eq!(gw.get("/simple", Some("deny")).await, (403, forbidden()));
    assert_eq!(
        gw.get("/simple", Some("boom")).await,
        (500, json!({"message": "Internal Server Error"}))
    );
    let event = &calls[0]["event"];
    assert_eq!(event["type"], "REQUEST");
    assert_eq!(event["version"], "2.0");
    assert_eq!(event["identitySource"], json!(["allow"]));
    assert_eq!(
        event["routeArn"],
        format!("arn:aws:execute-api:us-east-1:123456789012:{api_id}/prod/GET/simple")
    );

    // IAM policy responses, payload 1.0, no cache: every request asks.
    for _ in 0..2 {
        let (status, event) = gw.get("/policy/v1", Some("allow")).await;
        assert_eq!(status, 200, "{event}");
        let authorizer = &event["requestContext"]["authorizer"];
        assert_eq!(authorizer["user"], "bob", "{event}");
        assert_eq!(authorizer["principalId"], "user-42");
    }
    assert_eq!(invocations(&functions, "authorizer_policy").await.len(), 2);
    assert_eq!(gw.get("/policy/v1", Some("wildcard")).await.0, 200);
    assert_eq!(gw.get("/policy/v1", Some("deny")).await, (403, forbidden()));
    assert_eq!(
        gw.get("/policy/v1", Some("other")).await,
        (403, forbidden())
    );

    // Two identity sources: both must be there, and both key the cache.
    assert_eq!(
        gw.get("/policy/v2", Some("allow")).await,
        (401, unauthorized())
    );
    let asked = invocations(&functions, "authorizer_policy").await.len();
    let with_tenant = |t: &'static str| {
        let gw = &gw;
        async move {
            gw.get(&format!("/policy/v2?tenant={t}"), Some("allow"))
                .await
        }
    };
    assert_eq!(with_tenant("t1").await.0, 200);
    assert_eq!(with_tenant("t1").await.0, 200);
    assert_eq!(with_tenant("t2").await.0, 200);
    assert_eq!(
        invocations(&functions, "authorizer_policy").await.len(),
        asked + 2,
        "one call per distinct identity"
    );

    // AWS_IAM: requests signed by botocore for execute-api with a key whose user may
    // invoke; the node checks them with date keys and never sees the secret.
    let svc = &configured["users"]["svc"];
    let (svc_key, svc_secret) = (
        svc["key"].as_str().expect("key"),
        svc["secret"].as_str().expect("secret"),
    );
    let proxy = format!("http://127.0.0.1:{}", ports.proxy);
    let iam = |path: &str,
               method: &str,
               body: Option<&str>,
               key: Option<(&str, &str)>,
               extra: &[&str]| {
        let mut args = vec![
            "invoke", "--proxy", &proxy, "--host", &gw.host, "--path", path, "--method", method,
        ];
        if let Some(b) = body {
            args.extend(["--body", b]);
        }
        if let Some((k, s)) = key {
            args.extend(["--key", k, "--secret", s]);
        }
        args.extend(extra);
        let out = e2e_script("authorizers.py", &args, &[]);
        let status = out["status"].as_u64().expect("status") as u16;
        let body =
            serde_json::from_str(out["body"].as_str().unwrap_or_default()).unwrap_or(Value::Null);
        (status, body)
    };
    let signed_ok = wait_for("the node to have the invoke keys", LIMIT, || async {
        let (status, body) = iam("/prod/iam", "GET", None, Some((svc_key, svc_secret)), &[]);
        (status == 200).then_some(body)
    })
    .await;
    assert_eq!(signed_ok["headers"]["x-caller"], "svc", "{signed_ok}");
    assert_eq!(signed_ok["headers"]["x-access-key"], svc_key);
    let (status, posted) = iam(
        "/prod/iam",
        "POST",
        Some(r#"{"note":"signed"}"#),
        Some((svc_key, svc_secret)),
        &[],
    );
    assert_eq!(status, 200, "{posted}");
    assert_eq!(
        posted["body"], r#"{"note":"signed"}"#,
        "the body still reaches the backend"
    );
    let (status, event) = iam(
        "/prod/iam/lambda",
        "GET",
        None,
        Some((svc_key, svc_secret)),
        &[],
    );
    assert_eq!(status, 200, "{event}");
    assert_eq!(
        event["requestContext"]["authorizer"]["iam"]["accessKey"], svc_key,
        "{event}"
    );
    assert_eq!(
        iam("/prod/iam", "GET", None, None, &[]),
        (403, forbidden()),
        "unsigned"
    );
    assert_eq!(
        iam(
            "/prod/iam",
            "POST",
            Some("{}"),
            Some((svc_key, svc_secret)),
            &["--tamper"]
        ),
        (403, forbidden()),
        "a body changed after signing"
    );
    assert_eq!(
        iam(
            "/prod/iam",
            "GET",
            None,
            Some((svc_key, "not-the-secret")),
            &[]
        ),
        (403, forbidden()),
        "a wrong secret"
    );
    assert_eq!(
        iam(
            "/prod/iam",
            "GET",
            None,
            Some((svc_key, svc_secret)),
            &["--service", "apigateway"]
        ),
        (403, forbidden()),
        "another service's scope"
    );
    let vic = &configured["users"]["vic"];
    assert_eq!(
        iam(
            "/prod/iam",
            "GET",
            None,
            Some((
                vic["key"].as_str().expect("key"),
                vic["secret"].as_str().expect("secret")
            )),
            &[]
        ),
        (403, forbidden()),
        "a viewer may not invoke"
    );
    // A disabled user's keys stop working on the nodes within seconds.
    let disabled = e2e_script(
        "authorizers.py",
        &[
            "admin",
            "--endpoint",
            &endpoint,
            "--method",
            "PATCH",
            "--path",
            "/portico/users/svc",
            "--body",
            r#"{"disabled": true}"#,
        ],
        &[],
    );
    assert_eq!(disabled["status"], 200, "{disabled}");
    wait_for("the disabled user's key to be refused", LIMIT, || async {
        let (status, _) = iam("/prod/iam", "GET", None, Some((svc_key, svc_secret)), &[]);
        (status == 403).then_some(())
    })
    .await;

    // Every authorizer event matched powertools' models, and every call was signed.
    let recorded = functions.recorded().await;
    assert_eq!(recorded["rejected"], 0, "{recorded}");
    for call in recorded["invocations"].as_array().expect("invocations") {
        assert!(
            call["schema_errors"].is_null(),
            "{}: {}",
            call["function"],
            call["schema_errors"]
        );
    }
}
