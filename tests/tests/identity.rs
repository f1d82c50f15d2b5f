//! Admin identity end to end, on `portico serve` with Postgres: SigV4 with the real boto3
//! and awscli, roles, rotation, audit; what the database holds; console sessions with
//! cookies and CSRF; the SSRF guard; and a login flood that must not stop other callers.
use std::time::{Duration, Instant};

use portico_tests::postgres::TestDatabase;
use portico_tests::process::Proc;
use portico_tests::{admin_token, credentials, free_port, http_client, wait_for_admin};
use serde_json::{Value, json};

const LIMIT: Duration = Duration::from_secs(30);

fn start(database_url: &str, admin: u16, grpc: u16) -> Proc {
    Proc::spawn(
        "portico serve",
        "portico",
        &[
            "serve".into(),
            "--admin-addr".into(),
            format!("127.0.0.1:{admin}"),
            "--grpc-addr".into(),
            format!("127.0.0.1:{grpc}"),
        ],
        &[
            credentials::control_plane_env(),
            vec![
                ("PORTICO_DATABASE_URL", database_url.to_string()),
                (
                    "PORTICO_CLUSTER_TOKEN",
                    "identity-test-cluster-token-000".to_string(),
                ),
            ],
        ]
        .concat(),
    )
}

/// Every text column of every row of the store, as Postgres prints rows.
async fn whole_database(db: &TestDatabase) -> String {
    let mut conn = db.connect().await;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_all(&mut conn)
    .await
    .expect("list tables");
    let mut all = String::new();
    for t in tables {
        let rows: Vec<String> = sqlx::query_scalar(&format!("SELECT t::text FROM {t} t"))
            .fetch_all(&mut conn)
            .await
            .expect("dump table");
        all.push_str(&rows.join("\n"));
        all.push('\n');
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_identity_end_to_end() {
    let db = TestDatabase::create("identity").await;
    let (admin, grpc) = (free_port(), free_port());
    let mut cp = start(&db.url, admin, grpc);
    wait_for_admin(admin, LIMIT).await;
    let base = format!("http://127.0.0.1:{admin}");
    let client = http_client();

    // Nothing without credentials.
    for path in [
        "/v2/apis",
        "/portico/users",
        "/portico/nodes",
        "/portico/audit",
    ] {
        let res = client
            .get(format!("{base}{path}"))
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 403, "{path}");
        assert_eq!(
            res.headers()["x-amzn-ErrorType"],
            "MissingAuthenticationTokenException"
        );
    }

    // The real AWS clients: right key, wrong secret, unknown key, stale date, tampered
    // body, unsigned; roles; rotation; audit.
    let made = portico_tests::e2e_script(
        "identity_checks.py",
        &[&base],
        &[
            ("ADMIN_KEY", credentials::ADMIN_KEY),
            ("ADMIN_SECRET", credentials::ADMIN_SECRET),
        ],
    );

    // The store holds an argon2id hash and sealed secrets, never the plain text.
    let dump = whole_database(&db).await;
    let mut conn = db.connect().await;
    let hash: String =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE user_name = 'admin'")
            .fetch_one(&mut conn)
            .await
            .expect("admin hash");
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    let mut secrets = vec![
        credentials::ADMIN_PASSWORD.to_string(),
        credentials::ADMIN_SECRET.to_string(),
        credentials::MASTER_KEY.to_string(),
    ];
    for who in ["vera", "eddie", "eddie_rotated"] {
        for field in ["secret", "password"] {
            if let Some(s) = made[who][field].as_str() {
                secrets.push(s.to_string());
            }
        }
    }
    for secret in &secrets {
        assert!(
            !dump.contains(secret.as_str()),
            "a secret is stored in plain text"
        );
    }

    // Console sessions: HttpOnly SameSite=Strict cookie, CSRF on cookie changes, logout
    // revokes the session.
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .no_proxy()
        .build()
        .expect("client");
    let res = browser
        .post(format!("{base}/portico/login"))
        .json(&json!({"userName": "admin", "password": credentials::ADMIN_PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 200);
    let cookies: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap_or_default().to_string())
        .collect();
    let session_cookie = cookies
        .iter()
        .find(|c| c.starts_with("portico_session="))
        .expect("session cookie");
    assert!(
        session_cookie.contains("HttpOnly") && session_cookie.contains("SameSite=Strict"),
        "{session_cookie}"
    );
    let login: Value = res.json().await.expect("login JSON");
    let csrf = login["csrfToken"].as_str().expect("csrf").to_string();
    let me: Value = browser
        .get(format!("{base}/portico/me"))
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("me JSON");
    assert_eq!(me["userName"], "admin");
    let new_api = json!({"name": "from-console", "protocolType": "HTTP"});
    let res = browser
        .post(format!("{base}/v2/apis"))
        .json(&new_api)
        .send()
        .await
        .expect("post");
    assert_eq!(
        res.status(),
        403,
        "a cookie change without the CSRF header is refused"
    );
    let res = browser
        .post(format!("{base}/v2/apis"))
        .header("x-csrf-token", &csrf)
        .json(&new_api)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 201);
    let res = browser
        .post(format!("{base}/portico/logout"))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .expect("logout");
    assert_eq!(res.status(), 204);
    let res = client
        .get(format!("{base}/portico/me"))
        .bearer_auth(login["token"].as_str().expect("token"))
        .send()
        .await
        .expect("me");
    assert_eq!(res.status(), 401, "a logged-out session's token is dead");

    // Integrations cannot aim at the control plane itself or at cloud metadata.
    let token = admin_token(admin).await;
    let api: Value = client
        .post(format!("{base}/v2/apis"))
        .bearer_auth(&token)
        .json(&json!({"name": "ssrf", "protocolType": "HTTP"}))
        .send()
        .await
        .expect("create api")
        .json()
        .await
        .expect("api JSON");
    for uri in [
        format!("http://127.0.0.1:{admin}/portico/users"),
        "http://169.254.169.254/latest/meta-data/".to_string(),
    ] {
        let res = client
            .post(format!(
                "{base}/v2/apis/{}/integrations",
                api["apiId"].as_str().expect("apiId")
            ))
            .bearer_auth(&token)
            .json(&json!({"integrationType": "HTTP_PROXY", "integrationUri": uri}))
            .send()
            .await
            .expect("create integration");
        assert_eq!(res.status(), 400, "{uri}");
    }

    // A login flood from one address is throttled (429) and the admin API keeps
    // answering everyone else meanwhile.
    let flood: Vec<_> = (0..60)
        .map(|i| {
            let client = http_client();
            let url = format!("{base}/portico/login");
            tokio::spawn(async move {
                client
                    .post(url)
                    .json(&json!({"userName": format!("guess{}", i % 5), "password": "not the password at all"}))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0)
            })
        })
        .collect();
    let started = Instant::now();
    let res = client
        .get(format!("{base}/v2/apis"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("during flood");
    let during_flood = started.elapsed();
    assert_eq!(res.status(), 200);
    let mut statuses = Vec::new();
    for f in flood {
        statuses.push(f.await.expect("flood task"));
    }
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    assert!(throttled > 0, "no login was throttled: {statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
    println!(
        "login flood: {throttled}/60 throttled; a read answered in {during_flood:?} meanwhile"
    );
    // The real admin, from the same address, is throttled too until the window passes:
    // that is the price of per-source throttling, and why keys (not passwords) drive tools.
    let res = client
        .post(format!("{base}/portico/login"))
        .json(&json!({"userName": "admin", "password": credentials::ADMIN_PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));

    cp.stop();
    db.drop_db().await;
}
