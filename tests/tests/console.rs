//! The console in a real browser: Debian's headless Chromium, driven over WebDriver
//! (chromedriver), against `portico up` and a real upstream. It logs in, builds the notes
//! API by clicking, sees a bad route key's error beside the field in the API's own
//! words, watches the Nodes page show the new version ACKed (and mark a node whose
//! replica died lost, keep one gone for an hour in its history, and change the
//! execute-api endpoint every replica serves), and sends a request from
//! the Test panel. It maps parameters on an integration, adds a Lambda integration (and
//! sees a bad function ARN refused beside its field), sets CORS and calls the API from the
//! console's own page across origins, and throttles a stage. It creates a JWT authorizer
//! for a local OIDC issuer, attaches it to a route, and sees the Test panel's call refused
//! without a token and served with one. It generates a self-signed certificate, serves a
//! custom domain name with it, maps the notes API's stage under a key and sees the URL
//! that makes, and sees the certificate refused deletion while the domain uses it. Before
//! a deploy and a rollback the stage shows what they change; it tags the API, exports its
//! stage as OpenAPI 3 (the file the browser saves), imports that file back as a new API
//! from the Import page after reviewing what it will create, and finds the same routes and
//! tag there. Then it sends a known mix of requests (2xx, 404s that match no route, 5xx) through the node to
//! a second API and sees exactly those counts on the API's Monitor tab and the Usage page,
//! sets a budget from the Usage page that the traffic has passed and sees the banner say
//! so, and sees a negative price refused beside its field. Last, it creates a VPC link with
//! the real upstream as its target, sees refused targets beside their row and the target
//! HEALTHY as the built-in node sees it, routes a private integration made with the form
//! through it, and sees the link refused deletion while the integration uses it. Every
//! page it visits is saved under `target/screenshots/`.
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use portico_tests::lambda_functions::FunctionServer;
use portico_tests::oidc_issuer::OidcIssuer;
use portico_tests::process::{Signal, UpPorts, portico_up, signal_group};
use portico_tests::{
    admin_token, credentials, free_port, http_client, upstream, wait_for, wait_for_admin,
};
use serde_json::{Value, json};

const LIMIT: Duration = Duration::from_secs(30);

/// chromedriver in a process group of its own, so that dropping it (also when the test
/// fails) ends the browser it started too.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        signal_group(self.0.id(), Signal::SIGKILL);
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn screenshots_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).expect("create target/screenshots");
    dir
}

/// Where the browser saves downloads: `downloads/` in its profile.
fn downloads(profile: &std::path::Path) -> PathBuf {
    profile.join("downloads")
}

async fn browser(profile: &std::path::Path) -> (Driver, Client) {
    let port = free_port();
    std::fs::create_dir_all(downloads(profile)).expect("create the downloads folder");
    let driver = Driver(
        Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver (apt-get install -y chromium chromium-driver)"),
    );
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                "--disable-dev-shm-usage", "--window-size=1280,1000",
                format!("--user-data-dir={}", profile.display()),
            ],
            "prefs": {
                "download.default_directory": downloads(profile),
                "download.prompt_for_download": false,
            },
        }),
    );
    let client = wait_for("chromedriver to start a browser", LIMIT, || {
        let caps = caps.clone();
        async move {
            ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps)
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
                .ok()
        }
    })
    .await;
    (driver, client)
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(screenshots_dir().join(format!("{name}.png")), png).expect("save screenshot");
}

async fn find(c: &Client, css: &str) -> Element {
    c.wait()
        .at_most(LIMIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element {css}: {e}"))
}

/// Waits until the element `css` has text for which `ok` holds, and returns it.
async fn text_where(c: &Client, css: &str, ok: impl Fn(&str) -> bool) -> String {
    wait_for(&format!("text of {css}"), LIMIT, || async {
        let el = c.find(Locator::Css(css)).await.ok()?;
        let text = el.text().await.ok()?;
        ok(&text).then_some(text)
    })
    .await
}

async fn hydrated(c: &Client) {
    find(c, "body[data-hydrated='true']").await;
}

async fn fill(c: &Client, css: &str, value: &str) {
    let el = find(c, css).await;
    el.clear().await.expect("clear");
    if !value.is_empty() {
        el.send_keys(value).await.expect("type");
    }
}

async fn click(c: &Client, css: &str) {
    find(c, css).await.click().await.expect("click");
}

async fn click_xpath(c: &Client, xpath: &str) {
    c.wait()
        .at_most(LIMIT)
        .for_element(Locator::XPath(xpath))
        .await
        .unwrap_or_else(|e| panic!("no element {xpath}: {e}"))
        .click()
        .await
        .expect("click");
}

async fn click_link(c: &Client, text: &str) {
    c.wait()
        .at_most(LIMIT)
        .for_element(Locator::LinkText(text))
        .await
        .unwrap_or_else(|e| panic!("no link {text}: {e}"))
        .click()
        .await
        .expect("click link");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_builds_tests_and_watches_the_notes_api() {
    // Every wait below is bounded; this bounds the WebDriver calls between them too.
    tokio::time::timeout(Duration::from_secs(600), the_notes_api_in_the_console())
        .await
        .expect("the console test ends within 10 minutes");
}

async fn the_notes_api_in_the_console() {
    let upstream = upstream::start().await;
    let functions = FunctionServer::start();
    let data = tempfile::tempdir().expect("data dir");
    let ports = UpPorts::free();
    let (admin, proxy) = (ports.admin, ports.proxy);
    let _up = portico_up(data.path(), &ports, &functions.node_env());
    wait_for_admin(admin, LIMIT).await;
    let base = format!("http://127.0.0.1:{admin}");

    let profile = tempfile::tempdir().expect("browser profile");
    let (_driver, c) = browser(profile.path()).await;

    // Without a session every page answers a redirect to the login page, naming the page
    // to come back to, before any HTML.
    let no_redirects = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    for (asked, next) in [
        ("/apis", "/login?next=/apis"),
        (
            "/apis/abc/stages?x=1&y=2",
            "/login?next=/apis/abc/stages%3Fx%3D1%26y%3D2",
        ),
        ("/no/such/page", "/login?next=/no/such/page"),
        ("/", "/login"),
    ] {
        let res = no_redirects
            .get(format!("{base}{asked}"))
            .send()
            .await
            .expect("GET page");
        assert_eq!(res.status(), 302, "{asked}");
        assert_eq!(res.headers()["location"], next, "{asked}");
        assert!(res.text().await.expect("body").is_empty(), "{asked}");
    }
    // The admin API's unknown paths keep the API's JSON answer.
    let res = no_redirects
        .get(format!("{base}/v2/nothing-here"))
        .send()
        .await
        .expect("GET unknown API path");
    assert_eq!(res.status(), 404);
    assert!(
        res.text()
            .await
            .expect("body")
            .contains("No resource at GET /v2/nothing-here")
    );

    c.goto(&format!("{base}/apis")).await.expect("open /apis");
    find(&c, "#login-user").await;
    let url = c.current_url().await.expect("url");
    assert_eq!(url.path(), "/login");
    assert_eq!(url.query(), Some("next=/apis"));
    hydrated(&c).await;
    shot(&c, "01-login").await;

    fill(&c, "#login-user", "admin").await;
    fill(&c, "#login-password", "not the password").await;
    click(&c, "button[type=submit]").await;
    text_where(&c, ".error-banner", |t| t.contains("UnauthorizedException")).await;
    fill(&c, "#login-password", credentials::ADMIN_PASSWORD).await;
    click(&c, "button[type=submit]").await;
    text_where(&c, "main h1", |t| t == "APIs").await;

    // An API, created by clicking.
    fill(&c, "#api-name", "notes").await;
    click(&c, "form button[type=submit]").await;
    let api_id = wait_for("the new API's page", LIMIT, || async {
        let url = c.current_url().await.ok()?;
        let id = url.path().strip_prefix("/apis/")?.to_owned();
        (!id.is_empty() && !id.contains('/')).then_some(id)
    })
    .await;
    text_where(&c, "main h1", |t| t == "notes").await;
    shot(&c, "02-api-overview").await;

    // With a session: a trailing slash is dropped, and an unknown path is the console's
    // own 404 page.
    let token = admin_token(admin).await;
    let session = format!("portico_session={token}");
    let res = no_redirects
        .get(format!("{base}/apis/{api_id}/"))
        .header("cookie", &session)
        .send()
        .await
        .expect("GET with a trailing slash");
    assert_eq!(res.status(), 308);
    assert_eq!(res.headers()["location"], format!("/apis/{api_id}"));
    let res = no_redirects
        .get(format!("{base}/apis/{api_id}/nothing"))
        .header("cookie", &session)
        .send()
        .await
        .expect("GET an unknown page");
    assert_eq!(res.status(), 404);
    assert!(
        res.text()
            .await
            .expect("body")
            .contains("There is no console page here")
    );
    c.goto(&format!("{base}/no/such/page/"))
        .await
        .expect("open unknown");
    text_where(&c, "main h1", |t| t == "Not found").await;
    hydrated(&c).await;
    assert_eq!(c.current_url().await.expect("url").path(), "/no/such/page");
    shot(&c, "02b-not-found").await;
    c.goto(&format!("{base}/apis/{api_id}"))
        .await
        .expect("back to the API");
    hydrated(&c).await;
    // Signed in, the header names the user and what the role allows, each once.
    let who = text_where(&c, ".who .user", |t| !t.is_empty()).await;
    assert_eq!(who, "admin full access");

    // An HTTP integration to the real upstream.
    click_link(&c, "Integrations").await;
    let uri = format!("http://{upstream}/notes");
    fill(&c, "#new-integration-uri", &uri).await;
    find(&c, "#new-integration-method")
        .await
        .select_by_value("GET")
        .await
        .expect("method");
    click(&c, ".integration-form button[type=submit]").await;
    text_where(&c, "td.uri", |t| t == uri).await;
    shot(&c, "03-integrations").await;

    // A bad route key: the API's message appears beside the route key field.
    click_link(&c, "Routes").await;
    fill(&c, "#new-route-key", "GET notes").await;
    click(&c, ".route-form button[type=submit]").await;
    let shown = text_where(
        &c,
        ".field[data-field='routeKey'] #new-route-key-error",
        |t| !t.is_empty(),
    )
    .await;
    let rest = http_client()
        .post(format!("{base}/v2/apis/{api_id}/routes"))
        .bearer_auth(&token)
        .json(&json!({ "routeKey": "GET notes" }))
        .send()
        .await
        .expect("POST route");
    assert_eq!(rest.status(), 400);
    let rest: Value = rest.json().await.expect("error JSON");
    assert_eq!(shown, rest["message"].as_str().expect("message"));
    assert_eq!(rest["field"], "routeKey");
    let invalid = find(&c, "#new-route-key").await;
    assert_eq!(
        invalid.attr("aria-invalid").await.expect("attr").as_deref(),
        Some("true")
    );
    shot(&c, "04-routes-error").await;

    fill(&c, "#new-route-key", "GET /notes").await;
    click(&c, ".route-form button[type=submit]").await;
    text_where(&c, "td.route-key", |t| t == "GET /notes").await;
    // More routes through the API: the page lists them by path, then method.
    let integration_id = uri_integration_id(&base, &token, &api_id).await;
    for key in ["POST /notes", "GET /notes/{id}", "DELETE /archive"] {
        let res = http_client()
            .post(format!("{base}/v2/apis/{api_id}/routes"))
            .bearer_auth(&token)
            .json(&json!({ "routeKey": key, "target": format!("integrations/{integration_id}") }))
            .send()
            .await
            .expect("POST route");
        assert_eq!(res.status(), 201, "{key}");
    }
    c.refresh().await.expect("reload routes");
    hydrated(&c).await;
    let keys = wait_for("the routes in order", LIMIT, || async {
        let mut keys = Vec::new();
        for cell in c.find_all(Locator::Css("td.route-key")).await.ok()? {
            keys.push(cell.text().await.ok()?);
        }
        (keys.len() == 4).then_some(keys)
    })
    .await;
    assert_eq!(
        keys,
        [
            "DELETE /archive",
            "GET /notes",
            "POST /notes",
            "GET /notes/{id}"
        ]
    );
    shot(&c, "05-routes").await;
    for key in ["POST /notes", "GET /notes/{id}", "DELETE /archive"] {
        click_xpath(
            &c,
            &format!("//tr[td[normalize-space()='{key}']]//button[normalize-space()='Delete']"),
        )
        .await;
        wait_for("the route to go", LIMIT, || async {
            let rows = c.find_all(Locator::Css("td.route-key")).await.ok()?;
            let mut left = Vec::new();
            for cell in rows {
                left.push(cell.text().await.ok()?);
            }
            (!left.iter().any(|k| k == key)).then_some(())
        })
        .await;
    }

    // The integration says which routes use it.
    click_link(&c, "Integrations").await;
    text_where(&c, "td.used-by", |t| t == "GET /notes").await;

    // Stage dev with auto-deploy (the form's default).
    click_link(&c, "Stages").await;
    fill(&c, "#new-stage-name", "dev").await;
    assert!(
        find(&c, "#new-auto-deploy")
            .await
            .is_selected()
            .await
            .expect("checked")
    );
    click(&c, ".stage-form button[type=submit]").await;
    text_where(&c, "section[data-stage='dev'] .deployment-id", |t| {
        !t.is_empty() && t != "not deployed"
    })
    .await;
    // What the nodes serve, beside what was deployed: the one node has the deployment.
    let deployed = find(&c, "section[data-stage='dev'] .deployment-id")
        .await
        .text()
        .await
        .expect("deployment id");
    find(&c, "section[data-stage='dev'] .serving[data-serving='1/1']").await;
    let serving = text_where(&c, "section[data-stage='dev'] .serving", |t| {
        t.contains("1 of 1 nodes")
    })
    .await;
    assert!(serving.contains(&deployed), "{serving}");
    let invoke = find(&c, "section[data-stage='dev'] .copy-text").await;
    assert_eq!(
        invoke.prop("value").await.expect("value").as_deref(),
        Some(format!("http://{api_id}.execute-api.localhost:{proxy}/dev").as_str())
    );
    shot(&c, "06-stages").await;

    click_link(&c, "Deployments").await;
    text_where(&c, "main table tbody", |t| t.contains("dev")).await;
    shot(&c, "07-deployments").await;

    // The Nodes page refreshes by itself until the node has ACKed the current version.
    click_link(&c, "Nodes").await;
    let current: u64 = text_where(&c, "#current-version", |t| t.parse::<u64>().is_ok())
        .await
        .parse()
        .expect("version");
    assert!(current > 0);
    wait_for(
        "the node to show the current version ACKed",
        LIMIT,
        || async {
            let row = c.find(Locator::Css("tr[data-node]")).await.ok()?;
            let text = row.text().await.ok()?;
            let version = c
                .find(Locator::Css("tr[data-node] td.version"))
                .await
                .ok()?
                .text()
                .await
                .ok()?;
            (text.contains("ACK")
                && !text.contains("NACK")
                && text.contains("up to date")
                && version
                    == c.find(Locator::Css("#current-version"))
                        .await
                        .ok()?
                        .text()
                        .await
                        .ok()?)
            .then_some(())
        },
    )
    .await;
    shot(&c, "08-nodes").await;
    nodes_and_settings_in_the_console(&c, data.path(), &base, &token, &api_id, proxy).await;

    // The Test panel sends a request through the node to the upstream.
    let echoed = send_from_test_panel(
        &c,
        &format!("{base}/apis/{api_id}/test"),
        ("GET /notes", "/notes"),
        "x-console-test: from the test panel",
    )
    .await;
    assert_eq!(echoed["path"], "/notes");
    assert_eq!(echoed["method"], "GET");
    assert_eq!(echoed["headers"]["x-console-test"], "from the test panel");
    text_where(&c, "#test-latency", |t| t.ends_with(" ms")).await;
    text_where(&c, ".test-result table", |t| t.contains("x-upstream")).await;
    shot(&c, "09-test").await;

    // A phone-width view of the same page.
    c.set_window_size(390, 844).await.expect("resize");
    shot(&c, "10-test-phone").await;
    c.set_window_size(1280, 1000).await.expect("resize");

    let dev = "//section[@data-stage='dev']";

    // Parameter mapping on the notes integration. A row without a key is refused before
    // anything is sent; a bad key's message, in the API's words, appears beside its row.
    click_link(&c, "Integrations").await;
    let edit_integration =
        format!("//tr[td[normalize-space()='{integration_id}']]//button[normalize-space()='Edit']");
    click_xpath(&c, &edit_integration).await;
    let form = ".edit-row .integration-form";
    let request = format!("{form} .mapping-editor[data-field='requestParameters']");
    let response = format!("{form} .mapping-editor[data-field='responseParameters']");
    click(&c, &format!("{request} button.add-mapping")).await;
    fill(&c, &format!("{request} .mapping-key"), "append:path").await;
    fill(&c, &format!("{request} .mapping-value"), "console").await;
    click(&c, &format!("{response} button.add-mapping")).await;
    let status = find(&c, &format!("{response} .mapping-status")).await;
    assert_eq!(
        status.prop("value").await.expect("value").as_deref(),
        Some("200")
    );
    fill(&c, &format!("{response} .mapping-value"), "yes").await;
    click(&c, &format!("{form} button[type=submit]")).await;
    text_where(&c, &format!("{response} .row-error"), |t| {
        t == "Enter a key"
    })
    .await;
    fill(
        &c,
        &format!("{response} .mapping-key"),
        "overwrite:header.x-mapped",
    )
    .await;
    click(&c, &format!("{form} button[type=submit]")).await;
    let shown = text_where(&c, &format!("{request} .row-error"), |t| {
        t.contains("'append:path'")
    })
    .await;
    let integration_path = format!("{base}/v2/apis/{api_id}/integrations/{integration_id}");
    let rest = http_client()
        .patch(&integration_path)
        .bearer_auth(&token)
        .json(&json!({ "requestParameters": { "append:path": "console" } }))
        .send()
        .await
        .expect("PATCH integration");
    assert_eq!(rest.status(), 400);
    let rest: Value = rest.json().await.expect("error JSON");
    assert_eq!(rest["field"], "requestParameters");
    assert_eq!(shown, rest["message"].as_str().expect("message"));
    let key = find(&c, &format!("{request} .mapping-key")).await;
    assert_eq!(
        key.attr("aria-invalid").await.expect("attr").as_deref(),
        Some("true")
    );
    assert!(
        text_where(&c, &format!("{response} .row-error"), |_| true)
            .await
            .is_empty()
    );
    shot(&c, "10a-integration-mapping-error").await;
    fill(
        &c,
        &format!("{request} .mapping-key"),
        "append:header.x-source",
    )
    .await;
    click(&c, &format!("{form} button[type=submit]")).await;
    text_where(&c, "td.mappings", |t| t == "1 request / 1 response").await;
    let stored = admin_get(&integration_path, &token).await;
    assert_eq!(
        stored["requestParameters"],
        json!({ "append:header.x-source": "console" })
    );
    assert_eq!(
        stored["responseParameters"],
        json!({ "200": { "overwrite:header.x-mapped": "yes" } })
    );
    // The auto-deploy stage serves them: the backend sees the header, the client the other.
    let host = format!("{api_id}.execute-api.localhost:{proxy}");
    wait_for("the mappings to be served", LIMIT, || async {
        let res = http_client()
            .get(format!("http://127.0.0.1:{proxy}/dev/notes"))
            .header("host", &host)
            .send()
            .await
            .ok()?;
        let mapped = res.headers().get("x-mapped").is_some_and(|v| v == "yes");
        let echoed: Value = res.json().await.ok()?;
        (mapped && echoed["headers"]["x-source"] == "console").then_some(())
    })
    .await;
    // A removed row is sent as "key": "" and goes; the response mapping stays.
    click_xpath(&c, &edit_integration).await;
    click(&c, &format!("{request} .mapping-row button")).await;
    click(&c, &format!("{form} button[type=submit]")).await;
    text_where(&c, "td.mappings", |t| t == "0 request / 1 response").await;
    let stored = admin_get(&integration_path, &token).await;
    assert_eq!(stored.get("requestParameters"), None, "{stored}");
    assert_eq!(
        stored["responseParameters"],
        json!({ "200": { "overwrite:header.x-mapped": "yes" } })
    );
    shot(&c, "10b-integrations-mapped").await;

    // A Lambda integration. The type swaps the method and mapping fields for the payload
    // format version; the table names the function and its payload version.
    let create = "//form[.//*[@id='new-integration-uri']]";
    find(&c, "#new-integration-type")
        .await
        .select_by_value("AWS_PROXY")
        .await
        .expect("type");
    text_where(&c, "label[for='new-integration-uri']", |t| {
        t == "Lambda function ARN"
    })
    .await;
    let payload = find(&c, "#new-integration-payload").await;
    assert_eq!(
        payload.prop("value").await.expect("value").as_deref(),
        Some("2.0")
    );
    wait_for("the HTTP-only fields to go", LIMIT, || async {
        let method = c
            .find_all(Locator::Css("#new-integration-method"))
            .await
            .ok()?;
        let editors = c
            .find_all(Locator::XPath(&format!(
                "{create}//*[contains(@class, 'mapping-editor')]"
            )))
            .await
            .ok()?;
        (method.is_empty() && editors.is_empty()).then_some(())
    })
    .await;
    let arn = "arn:aws:lambda:us-east-1:123456789012:function:echo_event";
    fill(&c, "#new-integration-uri", arn).await;
    payload.select_by_value("1.0").await.expect("payload");
    click_xpath(&c, &format!("{create}//button[@type='submit']")).await;
    text_where(&c, "td.function", |t| t == "echo_event").await;
    let lambda_row = "//tr[td[normalize-space()='echo_event']]";
    let cell = async |class: &str| {
        c.find(Locator::XPath(&format!(
            "{lambda_row}/td[contains(@class, '{class}')]"
        )))
        .await
        .unwrap_or_else(|e| panic!("no {class} cell in the Lambda row: {e}"))
        .text()
        .await
        .expect("text")
    };
    assert_eq!(cell("integration-type").await, "Lambda");
    assert_eq!(cell("payload-version").await, "payload 1.0");
    let integrations_path = format!("{base}/v2/apis/{api_id}/integrations");
    let listed = admin_get(&integrations_path, &token).await;
    let items = listed["items"].as_array().expect("items");
    let lambda = items
        .iter()
        .find(|i| i["integrationType"] == "AWS_PROXY")
        .unwrap_or_else(|| panic!("no AWS_PROXY integration in {listed}"));
    assert_eq!(lambda["integrationUri"], arn, "{lambda}");
    assert_eq!(lambda["payloadFormatVersion"], "1.0", "{lambda}");
    assert_eq!(lambda["timeoutInMillis"], 30_000, "{lambda}");
    assert_eq!(lambda.get("requestParameters"), None, "{lambda}");
    let lambda_id = lambda["integrationId"].as_str().expect("id").to_owned();
    let count = items.len();
    shot(&c, "10b1-integrations-lambda").await;
    // Its Edit form shows the stored type and payload version.
    click_xpath(
        &c,
        &format!("{lambda_row}//button[normalize-space()='Edit']"),
    )
    .await;
    let edit_type = find(&c, &format!("#integration-{lambda_id}-type")).await;
    assert_eq!(
        edit_type.prop("value").await.expect("value").as_deref(),
        Some("AWS_PROXY")
    );
    let edit_payload = find(&c, &format!("#integration-{lambda_id}-payload")).await;
    assert_eq!(
        edit_payload.prop("value").await.expect("value").as_deref(),
        Some("1.0")
    );
    let edit_uri = find(&c, &format!("#integration-{lambda_id}-uri")).await;
    assert_eq!(
        edit_uri.prop("value").await.expect("value").as_deref(),
        Some(arn)
    );
    assert!(
        c.find_all(Locator::Css(".edit-row .integration-form .mapping-editor"))
            .await
            .expect("find")
            .is_empty()
    );
    click_xpath(
        &c,
        &format!("{lambda_row}//button[normalize-space()='Edit']"),
    )
    .await;
    // A bad ARN is refused beside the URI field in the admin API's words, and nothing is
    // created.
    let bad_arn = "arn:aws:lambda:us-east-1:123:function:x";
    fill(&c, "#new-integration-uri", bad_arn).await;
    click_xpath(&c, &format!("{create}//button[@type='submit']")).await;
    let shown = text_where(
        &c,
        ".field[data-field='integrationUri'] #new-integration-uri-error",
        |t| !t.is_empty(),
    )
    .await;
    assert!(shown.contains("12 digits"), "{shown}");
    let invalid = find(&c, "#new-integration-uri").await;
    assert_eq!(
        invalid.attr("aria-invalid").await.expect("attr").as_deref(),
        Some("true")
    );
    let rest = http_client()
        .post(&integrations_path)
        .bearer_auth(&token)
        .json(&json!({
            "integrationType": "AWS_PROXY",
            "integrationUri": bad_arn,
            "payloadFormatVersion": "1.0",
        }))
        .send()
        .await
        .expect("POST integration");
    assert_eq!(rest.status(), 400);
    let rest: Value = rest.json().await.expect("error JSON");
    assert_eq!(rest["field"], "integrationUri");
    assert_eq!(shown, rest["message"].as_str().expect("message"));
    let listed = admin_get(&integrations_path, &token).await;
    assert_eq!(
        listed["items"].as_array().expect("items").len(),
        count,
        "{listed}"
    );
    shot(&c, "10b2-integration-lambda-error").await;

    // The Test panel shows a Lambda route's answer like any other: here the 1.0 event the
    // function received, sent back by it.
    let routes_path = format!("{base}/v2/apis/{api_id}/routes");
    let added = http_client()
        .post(&routes_path)
        .bearer_auth(&token)
        .json(&json!({
            "routeKey": "GET /lambda-echo",
            "target": format!("integrations/{lambda_id}"),
        }))
        .send()
        .await
        .expect("POST route");
    assert_eq!(added.status(), 201);
    let added: Value = added.json().await.expect("route JSON");
    let lambda_route = format!(
        "{routes_path}/{}",
        added["routeId"].as_str().expect("routeId")
    );
    wait_for("the Lambda route to be served", LIMIT, || async {
        let res = http_client()
            .get(format!("http://127.0.0.1:{proxy}/dev/lambda-echo"))
            .header("host", &host)
            .send()
            .await
            .ok()?;
        (res.status() == 200).then_some(())
    })
    .await;
    let event = send_from_test_panel(
        &c,
        &format!("{base}/apis/{api_id}/test"),
        ("GET /lambda-echo", "/lambda-echo"),
        "x-console-test: to a function",
    )
    .await;
    assert_eq!(event["version"], "1.0", "{event}");
    assert_eq!(event["resource"], "/lambda-echo");
    assert_eq!(event["path"], "/dev/lambda-echo");
    assert_eq!(event["headers"]["x-console-test"], "to a function");
    shot(&c, "10b3-test-lambda").await;
    let recorded = functions.recorded().await;
    assert_eq!(
        recorded["rejected"], 0,
        "signed as the node's credentials: {recorded}"
    );
    // The rest of the test works on the notes routes alone.
    let deleted = http_client()
        .delete(&lambda_route)
        .bearer_auth(&token)
        .send()
        .await
        .expect("DELETE route");
    assert_eq!(deleted.status(), 204);
    c.goto(&format!("{base}/apis/{api_id}/integrations"))
        .await
        .expect("back to integrations");
    hydrated(&c).await;

    // CORS. Without it a script on the console's page cannot call the API: the browser
    // refuses the answer.
    let invoke_notes = format!("http://{host}/dev/notes");
    let refused = cross_origin_fetch(&c, &invoke_notes).await;
    assert_eq!(refused["ok"], false, "{refused}");
    assert!(
        refused["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("TypeError")),
        "{refused}"
    );
    click_link(&c, "CORS").await;
    text_where(&c, ".cors-state", |t| {
        t.starts_with("No CORS configuration")
    })
    .await;
    text_where(&c, ".cors-stages li[data-stage='dev']", |t| {
        t.contains("deploys automatically")
    })
    .await;
    // Credentials with any origin: refused, and said beside the credentials box.
    fill(&c, "#cors-allow-origins", "*").await;
    click(&c, "#cors-allow-credentials").await;
    click(&c, ".cors-form button[type=submit]").await;
    let shown = text_where(
        &c,
        ".field[data-field='allowCredentials'] .field-error",
        |t| !t.is_empty(),
    )
    .await;
    let rest = http_client()
        .patch(format!("{base}/v2/apis/{api_id}"))
        .bearer_auth(&token)
        .json(&json!({ "corsConfiguration": { "allowOrigins": ["*"], "allowCredentials": true } }))
        .send()
        .await
        .expect("PATCH API");
    assert_eq!(rest.status(), 400);
    let rest: Value = rest.json().await.expect("error JSON");
    assert_eq!(rest["field"], "allowCredentials");
    assert_eq!(shown, rest["message"].as_str().expect("message"));
    assert_eq!(
        shown,
        "allow-credentials is not supported if 'allow-origin' is *"
    );
    shot(&c, "10c-cors-error").await;
    // The console's own origin, one per line and comma-separated lists.
    fill(
        &c,
        "#cors-allow-origins",
        &format!("{base}\nhttps://app.example.com"),
    )
    .await;
    fill(&c, "#cors-allow-headers", "x-console, content-type").await;
    click(&c, "input[name='allowMethods'][value='GET']").await;
    click(&c, "input[name='allowMethods'][value='POST']").await;
    fill(
        &c,
        "#cors-expose-headers",
        "x-upstream,access-control-allow-origin",
    )
    .await;
    fill(&c, "#cors-max-age", "600").await;
    click(&c, ".cors-form button[type=submit]").await;
    text_where(&c, ".saved", |t| t == "Saved").await;
    text_where(&c, ".cors-state", |t| t.starts_with("Browsers may call")).await;
    let api = admin_get(&format!("{base}/v2/apis/{api_id}"), &token).await;
    assert_eq!(
        api["corsConfiguration"],
        json!({
            "allowOrigins": [base.as_str(), "https://app.example.com"],
            "allowHeaders": ["x-console", "content-type"],
            "allowMethods": ["GET", "POST"],
            "exposeHeaders": ["x-upstream", "access-control-allow-origin"],
            "maxAge": 600,
            "allowCredentials": true,
        })
    );
    // Rendered on the server, the page holds what is stored, and hydrates.
    c.refresh().await.expect("reload CORS");
    hydrated(&c).await;
    let origins = find(&c, "#cors-allow-origins").await;
    assert_eq!(
        origins.prop("value").await.expect("value"),
        Some(format!("{base}\nhttps://app.example.com"))
    );
    shot(&c, "10d-cors").await;
    // The auto-deploy stage serves it: a credentialed fetch with a header that needs a
    // preflight succeeds, and the script reads the headers it was allowed to.
    let fetched = wait_for("the API to answer the console's origin", LIMIT, || async {
        let r = cross_origin_fetch(&c, &invoke_notes).await;
        (r["ok"] == true).then_some(r)
    })
    .await;
    assert_eq!(fetched["status"], 200, "{fetched}");
    assert_eq!(fetched["allowOrigin"], base.as_str(), "{fetched}");
    assert_eq!(fetched["upstream"], "echo", "{fetched}");
    let echoed: Value =
        serde_json::from_str(fetched["body"].as_str().expect("body")).expect("upstream JSON");
    assert_eq!(echoed["headers"]["x-console"], "1");
    assert_eq!(echoed["headers"]["origin"], base.as_str());
    // Removed, the API stops answering the console's origin.
    click_xpath(&c, "//button[normalize-space()='Remove CORS']").await;
    text_where(&c, ".cors-state", |t| {
        t.starts_with("No CORS configuration")
    })
    .await;
    let api = admin_get(&format!("{base}/v2/apis/{api_id}"), &token).await;
    assert_eq!(api.get("corsConfiguration"), None, "{api}");
    wait_for(
        "the API to stop answering the console's origin",
        LIMIT,
        || async {
            let r = cross_origin_fetch(&c, &invoke_notes).await;
            (r["ok"] == false).then_some(())
        },
    )
    .await;

    // Throttling on stage dev: a default for every route and an override for GET /notes.
    click_link(&c, "Stages").await;
    let throttling = "section[data-stage='dev'] .throttling";
    let rate = format!("{throttling} input[name='throttlingRateLimit']");
    let burst = format!("{throttling} input[name='throttlingBurstLimit']");
    fill(&c, &rate, "-5").await;
    click(&c, &format!("{throttling} button[type=submit]")).await;
    text_where(
        &c,
        &format!("{throttling} .field[data-field='throttlingRateLimit'] .field-error"),
        |t| t.contains("0 or more"),
    )
    .await;
    fill(&c, &rate, "100").await;
    fill(&c, &burst, "200").await;
    click_xpath(
        &c,
        &format!("{dev}//button[normalize-space()='Add override']"),
    )
    .await;
    let route = find(&c, &format!("{throttling} .override-row select")).await;
    assert_eq!(
        route.prop("value").await.expect("value").as_deref(),
        Some("GET /notes")
    );
    fill(&c, &format!("{throttling} .override-rate"), "10.5").await;
    fill(&c, &format!("{throttling} .override-burst"), "20").await;
    click(&c, &format!("{throttling} button[type=submit]")).await;
    find(
        &c,
        &format!("{throttling} .override-row[data-route='GET /notes'] .route-key"),
    )
    .await;
    let stage_path = format!("{base}/v2/apis/{api_id}/stages/dev");
    let stage = admin_get(&stage_path, &token).await;
    let default = &stage["defaultRouteSettings"];
    assert_eq!(
        default["throttlingRateLimit"].as_f64(),
        Some(100.0),
        "{stage}"
    );
    assert_eq!(default["throttlingBurstLimit"], 200, "{stage}");
    let over = &stage["routeSettings"]["GET /notes"];
    assert_eq!(over["throttlingRateLimit"].as_f64(), Some(10.5), "{stage}");
    assert_eq!(over["throttlingBurstLimit"], 20, "{stage}");
    // Rendered on the server, the section holds what is stored, and hydrates.
    c.refresh().await.expect("reload stages");
    hydrated(&c).await;
    let value = async |css: &str| find(&c, css).await.prop("value").await.expect("value");
    assert_eq!(value(&rate).await.as_deref(), Some("100"));
    let over_rate = format!("{throttling} .override-row[data-route='GET /notes'] .override-rate");
    assert_eq!(value(&over_rate).await.as_deref(), Some("10.5"));
    shot(&c, "10e-stage-throttling").await;
    // Remove deletes the override; the default stays.
    click_xpath(
        &c,
        &format!(
            "{dev}//div[contains(@class, 'override-row')]//button[normalize-space()='Remove']"
        ),
    )
    .await;
    wait_for("the override to go", LIMIT, || async {
        let rows = c
            .find_all(Locator::Css(&format!("{throttling} .override-row")))
            .await
            .ok()?;
        rows.is_empty().then_some(())
    })
    .await;
    let stage = admin_get(&stage_path, &token).await;
    assert_eq!(stage.get("routeSettings"), None, "{stage}");
    assert_eq!(
        stage["defaultRouteSettings"]["throttlingBurstLimit"], 200,
        "{stage}"
    );

    // A JWT authorizer, made in the Authorizers page, guards GET /notes on the auto-deploy
    // stage dev: the Test panel's call then needs a token from its issuer.
    let oidc = OidcIssuer::start("/us-east-1_Console");
    click_link(&c, "Authorizers").await;
    text_where(&c, "p.empty", |t| t.contains("No authorizers yet")).await;
    let form_value = async |css: &str| find(&c, css).await.prop("value").await.expect("value");
    assert_eq!(
        form_value("#new-authorizer-type").await.as_deref(),
        Some("JWT")
    );
    assert_eq!(
        form_value("#new-authorizer-identity-source")
            .await
            .as_deref(),
        Some("$request.header.Authorization")
    );
    // The Lambda type swaps the issuer and audience for the function and its settings,
    // with AWS's defaults; simple responses exist only in payload format 2.0.
    let kind = find(&c, "#new-authorizer-type").await;
    kind.select_by_value("REQUEST").await.expect("type");
    assert_eq!(
        form_value("#new-authorizer-payload").await.as_deref(),
        Some("2.0")
    );
    assert_eq!(
        form_value("#new-authorizer-ttl").await.as_deref(),
        Some("300")
    );
    assert!(
        find(&c, "#new-authorizer-simple")
            .await
            .is_selected()
            .await
            .expect("checked")
    );
    assert!(
        c.find_all(Locator::Css("#new-authorizer-issuer"))
            .await
            .expect("find")
            .is_empty()
    );
    let payload = find(&c, "#new-authorizer-payload").await;
    payload.select_by_value("1.0").await.expect("payload");
    wait_for("simple responses to go with 1.0", LIMIT, || async {
        let simple = c
            .find_all(Locator::Css("#new-authorizer-simple"))
            .await
            .ok()?;
        simple.is_empty().then_some(())
    })
    .await;
    kind.select_by_value("JWT").await.expect("type");
    fill(&c, "#new-authorizer-name", "cognito").await;
    fill(&c, "#new-authorizer-audience", "console-app").await;
    // An http:// issuer off loopback is refused before anything is sent, beside the issuer
    // field and in the admin API's words.
    let public_http = "http://issuer.example/us-east-1_Console";
    fill(&c, "#new-authorizer-issuer", public_http).await;
    click(&c, ".authorizer-form button[type=submit]").await;
    let shown = text_where(
        &c,
        ".field[data-field='jwtConfiguration.issuer'] #new-authorizer-issuer-error",
        |t| !t.is_empty(),
    )
    .await;
    let authorizers_path = format!("{base}/v2/apis/{api_id}/authorizers");
    let rest = http_client()
        .post(&authorizers_path)
        .bearer_auth(&token)
        .json(&json!({
            "name": "cognito",
            "authorizerType": "JWT",
            "identitySource": ["$request.header.Authorization"],
            "jwtConfiguration": { "issuer": public_http, "audience": ["console-app"] },
        }))
        .send()
        .await
        .expect("POST authorizer");
    assert_eq!(rest.status(), 400);
    let rest: Value = rest.json().await.expect("error JSON");
    assert_eq!(rest["field"], "jwtConfiguration.issuer");
    assert_eq!(shown, rest["message"].as_str().expect("message"));
    let invalid = find(&c, "#new-authorizer-issuer").await;
    assert_eq!(
        invalid.attr("aria-invalid").await.expect("attr").as_deref(),
        Some("true")
    );
    assert_eq!(
        admin_get(&authorizers_path, &token).await["items"],
        json!([])
    );
    shot(&c, "10f-authorizer-error").await;
    fill(&c, "#new-authorizer-issuer", &oidc.issuer).await;
    click(&c, ".authorizer-form button[type=submit]").await;
    text_where(&c, "td.authorizer-name", |t| t == "cognito").await;
    let listed = admin_get(&authorizers_path, &token).await;
    let authorizer = &listed["items"][0];
    assert_eq!(authorizer["authorizerType"], "JWT", "{listed}");
    assert_eq!(
        authorizer["identitySource"],
        json!(["$request.header.Authorization"]),
        "{listed}"
    );
    assert_eq!(
        authorizer["jwtConfiguration"],
        json!({ "issuer": oidc.issuer, "audience": ["console-app"] }),
        "{listed}"
    );
    let authorizer_id = authorizer["authorizerId"]
        .as_str()
        .expect("authorizerId")
        .to_owned();
    assert_eq!(text_where(&c, "td.authorizer-type", |_| true).await, "JWT");
    assert_eq!(text_where(&c, "td.issuer", |_| true).await, oidc.issuer);
    assert_eq!(text_where(&c, "td.audience", |_| true).await, "console-app");
    assert_eq!(text_where(&c, "td.used-by", |_| true).await, "");
    // Its Edit form holds what is stored.
    let authorizer_row = "//tr[td[normalize-space()='cognito']]";
    let edit_authorizer = format!("{authorizer_row}//button[normalize-space()='Edit']");
    click_xpath(&c, &edit_authorizer).await;
    assert_eq!(
        form_value(&format!("#authorizer-{authorizer_id}-issuer"))
            .await
            .as_deref(),
        Some(oidc.issuer.as_str())
    );
    assert_eq!(
        form_value(&format!("#authorizer-{authorizer_id}-audience"))
            .await
            .as_deref(),
        Some("console-app")
    );
    click_xpath(&c, &edit_authorizer).await;
    shot(&c, "10g-authorizers").await;

    // GET /notes gets it through the route form: JWT, the authorizer, a scope.
    click_link(&c, "Routes").await;
    let notes_route = admin_get(&routes_path, &token).await["items"]
        .as_array()
        .expect("routes")
        .iter()
        .find(|r| r["routeKey"] == "GET /notes")
        .expect("route GET /notes")["routeId"]
        .as_str()
        .expect("routeId")
        .to_owned();
    let notes_row = "//tr[td[normalize-space()='GET /notes']]";
    let authorization_cell = format!("{notes_row}/td[contains(@class, 'authorization')]");
    let authorization_shown = async |expected: &str| {
        wait_for(&format!("GET /notes to show {expected}"), LIMIT, || async {
            let cell = c.find(Locator::XPath(&authorization_cell)).await.ok()?;
            (cell.text().await.ok()? == expected).then_some(())
        })
        .await
    };
    authorization_shown("—").await;
    let edit_route = format!("{notes_row}//button[normalize-space()='Edit']");
    let route_form = format!("#route-{notes_route}");
    let save_route =
        format!("//form[.//*[@id='route-{notes_route}-route-key']]//button[@type='submit']");
    click_xpath(&c, &edit_route).await;
    find(&c, &format!("{route_form}-authorization-type"))
        .await
        .select_by_value("JWT")
        .await
        .expect("authorization");
    let picked = find(&c, &format!("{route_form}-authorizer")).await;
    wait_for("the JWT authorizer to be picked", LIMIT, || async {
        (picked.prop("value").await.ok()?.as_deref() == Some(authorizer_id.as_str())).then_some(())
    })
    .await;
    fill(&c, &format!("{route_form}-scopes"), "notes/read").await;
    click_xpath(&c, &save_route).await;
    authorization_shown("JWT: cognito (notes/read)").await;
    let notes_route_path = format!("{routes_path}/{notes_route}");
    let stored = admin_get(&notes_route_path, &token).await;
    assert_eq!(stored["authorizationType"], "JWT", "{stored}");
    assert_eq!(stored["authorizerId"], authorizer_id.as_str(), "{stored}");
    assert_eq!(
        stored["authorizationScopes"],
        json!(["notes/read"]),
        "{stored}"
    );
    shot(&c, "10h-route-authorization").await;

    // The authorizer says which route it guards, and can't be deleted while it does.
    click_link(&c, "Authorizers").await;
    text_where(&c, "td.used-by", |t| t == "GET /notes").await;
    click_xpath(
        &c,
        &format!("{authorizer_row}//button[normalize-space()='Delete']"),
    )
    .await;
    text_where(&c, ".error-banner", |t| {
        t.contains("ConflictException") && t.contains("GET /notes")
    })
    .await;
    assert_eq!(
        admin_get(&authorizers_path, &token).await["items"]
            .as_array()
            .expect("items")
            .len(),
        1
    );
    shot(&c, "10i-authorizer-in-use").await;

    // The auto-deploy stage serves it: without a token, 401 and AWS's body; with one of the
    // issuer's tokens for the audience and scope, the upstream's answer.
    let last_status = std::sync::atomic::AtomicU16::new(0);
    let guarded = tokio::time::timeout(LIMIT, async {
        loop {
            if let Ok(res) = http_client()
                .get(format!("http://127.0.0.1:{proxy}/dev/notes"))
                .header("host", &host)
                .send()
                .await
            {
                last_status.store(res.status().as_u16(), std::sync::atomic::Ordering::Relaxed);
                if res.status() == 401 {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(
        guarded.is_ok(),
        "GET /dev/notes without a token still answers {} after {LIMIT:?}, not 401",
        last_status.load(std::sync::atomic::Ordering::Relaxed)
    );
    let test_url = format!("{base}/apis/{api_id}/test");
    let refused = test_panel_answer(&c, &test_url, ("GET /notes", "/notes"), "", "401").await;
    assert_eq!(
        serde_json::from_str::<Value>(&refused).unwrap_or_else(|e| panic!("{e}: {refused}")),
        json!({ "message": "Unauthorized" })
    );
    shot(&c, "10j-test-unauthorized").await;
    let jwt = oidc
        .mint(
            "RS256",
            json!({ "aud": "console-app", "scope": "notes/read" }),
        )
        .await;
    let echoed = send_from_test_panel(
        &c,
        &test_url,
        ("GET /notes", "/notes"),
        &format!("Authorization: Bearer {jwt}"),
    )
    .await;
    assert_eq!(echoed["path"], "/notes", "{echoed}");
    shot(&c, "10k-test-authorized").await;

    // Authorization None: the route drops the authorizer and its scopes, and is open again;
    // then the authorizer can go.
    click_link(&c, "Routes").await;
    click_xpath(&c, &edit_route).await;
    find(&c, &format!("{route_form}-authorization-type"))
        .await
        .select_by_value("NONE")
        .await
        .expect("authorization");
    wait_for("the authorizer fields to go", LIMIT, || async {
        let picker = c
            .find_all(Locator::Css(&format!("{route_form}-authorizer")))
            .await
            .ok()?;
        let scopes = c
            .find_all(Locator::Css(&format!("{route_form}-scopes")))
            .await
            .ok()?;
        (picker.is_empty() && scopes.is_empty()).then_some(())
    })
    .await;
    click_xpath(&c, &save_route).await;
    authorization_shown("—").await;
    let stored = admin_get(&notes_route_path, &token).await;
    assert_eq!(stored["authorizationType"], "NONE", "{stored}");
    assert_eq!(stored.get("authorizerId"), None, "{stored}");
    assert_eq!(stored.get("authorizationScopes"), None, "{stored}");
    wait_for("GET /notes to be open again", LIMIT, || async {
        let res = http_client()
            .get(format!("http://127.0.0.1:{proxy}/dev/notes"))
            .header("host", &host)
            .send()
            .await
            .ok()?;
        (res.status() == 200).then_some(())
    })
    .await;
    click_link(&c, "Authorizers").await;
    text_where(&c, "td.used-by", |t| t.is_empty()).await;
    click_xpath(
        &c,
        &format!("{authorizer_row}//button[normalize-space()='Delete']"),
    )
    .await;
    text_where(&c, "p.empty", |t| t.contains("No authorizers yet")).await;
    assert_eq!(
        admin_get(&authorizers_path, &token).await["items"],
        json!([])
    );
    drop(oidc);

    // Edit the stage (auto-deploy off), deploy by hand, then roll back to the first one;
    // each shows what it changes on the stage first, and happens once confirmed.
    click_link(&c, "Stages").await;
    let first = text_where(&c, "section[data-stage='dev'] .deployment-id", |t| {
        !t.is_empty()
    })
    .await;
    click_xpath(
        &c,
        &format!("{dev}//button[normalize-space()='Edit stage']"),
    )
    .await;
    click(
        &c,
        "section[data-stage='dev'] .stage-form input[name='autoDeploy']",
    )
    .await;
    fill(
        &c,
        "section[data-stage='dev'] .stage-form input[name='description']",
        "hand-deployed",
    )
    .await;
    click_xpath(
        &c,
        &format!("{dev}//button[normalize-space()='Save stage']"),
    )
    .await;
    text_where(&c, "section[data-stage='dev'] .auto-deploy", |t| t == "off").await;
    // A change for the deploy to carry: the route's operation name.
    let patched = http_client()
        .patch(&notes_route_path)
        .bearer_auth(&token)
        .json(&json!({ "operationName": "listNotes" }))
        .send()
        .await
        .expect("PATCH route");
    assert_eq!(patched.status(), 200);
    click_xpath(
        &c,
        &format!("{dev}//button[normalize-space()='Deploy now']"),
    )
    .await;
    let review = "section[data-stage='dev'] .deploy-review";
    let route_change = |action: &str| {
        format!(
            "{review}[data-action='{action}'] li.change[data-change='CHANGED'][data-key='GET /notes'] li[data-field='operationName']"
        )
    };
    text_where(&c, &format!("{} .after", route_change("deploy")), |t| {
        t == "listNotes"
    })
    .await;
    assert_eq!(
        texts(&c, &format!("{} .before", route_change("deploy"))).await,
        Some(vec!["—".to_owned()])
    );
    // The route is all that changed.
    assert_eq!(
        texts(&c, &format!("{review} li.change"))
            .await
            .map(|c| c.len()),
        Some(1)
    );
    shot(&c, "11a-deploy-diff").await;
    let stage_path = format!("{base}/v2/apis/{api_id}/stages/dev");
    assert_eq!(
        admin_get(&stage_path, &token).await["deploymentId"],
        first.as_str(),
        "nothing is deployed before it is confirmed"
    );
    click_xpath(
        &c,
        &format!("{dev}//button[normalize-space()='Confirm and deploy']"),
    )
    .await;
    let second = text_where(&c, "section[data-stage='dev'] .deployment-id", |t| {
        !t.is_empty() && t != first
    })
    .await;
    find(&c, "section[data-stage='dev'] select[name='deploymentId']")
        .await
        .select_by_value(&first)
        .await
        .expect("pick");
    click_xpath(
        &c,
        &format!("{dev}//button[normalize-space()='Use this deployment']"),
    )
    .await;
    // Going back undoes the change.
    text_where(&c, &format!("{} .before", route_change("rollback")), |t| {
        t == "listNotes"
    })
    .await;
    assert_eq!(
        texts(&c, &format!("{} .after", route_change("rollback"))).await,
        Some(vec!["—".to_owned()])
    );
    shot(&c, "11b-rollback-diff").await;
    click_xpath(
        &c,
        &format!("{dev}//button[normalize-space()='Confirm and switch']"),
    )
    .await;
    text_where(&c, "section[data-stage='dev'] .deployment-id", |t| {
        t == first
    })
    .await;
    // The deployment the stage serves already: no changes, and Cancel leaves it be.
    click_xpath(
        &c,
        &format!("{dev}//button[normalize-space()='Use this deployment']"),
    )
    .await;
    text_where(&c, &format!("{review} .no-changes"), |t| {
        t.starts_with("No changes")
    })
    .await;
    click_xpath(&c, &format!("{dev}//button[normalize-space()='Cancel']")).await;
    wait_for("the review to close", LIMIT, || async {
        c.find_all(Locator::Css(review))
            .await
            .ok()?
            .is_empty()
            .then_some(())
    })
    .await;
    text_where(&c, "section[data-stage='dev'] .served-deployment", |t| {
        t == first
    })
    .await;
    text_where(&c, "section[data-stage='dev'] .description", |t| {
        t == "hand-deployed"
    })
    .await;
    shot(&c, "11-stage-rolled-back").await;
    // Deployments, newest first, with relative times. Their dates are to the second (as
    // AWS's are), so the one made just before `second` may share its date and its place.
    click_link(&c, "Deployments").await;
    let first_row = text_where(&c, "main table tbody tr:first-child td.mono", |t| {
        !t.is_empty()
    })
    .await;
    let deployments = admin_get(&format!("{base}/v2/apis/{api_id}/deployments"), &token).await;
    let dated = |id: &str| {
        deployments["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|d| d["deploymentId"] == id)
            .unwrap_or_else(|| panic!("no deployment {id} in {deployments}"))["createdDate"]
            .as_str()
            .expect("createdDate")
            .to_owned()
    };
    let newest = deployments["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|d| d["createdDate"].as_str())
        .max()
        .expect("a deployment")
        .to_owned();
    assert_eq!(dated(&second), newest, "{deployments}");
    assert_eq!(
        dated(&first_row),
        newest,
        "{first_row} first: {deployments}"
    );
    text_where(&c, "main table tbody tr:first-child time", |t| {
        t == "just now" || t.ends_with(" s ago")
    })
    .await;
    click_link(&c, "Stages").await;
    let stage: Value = http_client()
        .get(format!("{base}/v2/apis/{api_id}/stages/dev"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("GET stage")
        .json()
        .await
        .expect("stage JSON");
    assert_eq!(stage["deploymentId"], first.as_str());
    assert_eq!(stage["autoDeploy"], false);
    assert_eq!(stage["description"], "hand-deployed");
    assert_ne!(first, second);

    // A tag, added on the API's page; the REST API's GetTags sees it.
    click_link(&c, "Overview").await;
    hydrated(&c).await;
    fill(&c, "#tag-key", "team").await;
    fill(&c, "#tag-value", "notes-team").await;
    click(&c, ".tag-form button[type=submit]").await;
    text_where(&c, "tr[data-tag='team'] .tag-value", |t| t == "notes-team").await;
    let tags_of =
        |id: &str| format!("{base}/v2/tags/arn%3Aaws%3Aapigateway%3Aus-east-1%3A%3A%2Fapis%2F{id}");
    assert_eq!(
        admin_get(&tags_of(&api_id), &token).await,
        json!({ "tags": { "team": "notes-team" } })
    );
    // The current, undeployed definition is exported from the API's page.
    click(&c, ".api-export .export-form button[type=submit]").await;
    text_where(&c, ".api-export a.export-file", |t| {
        t == "notes-current-oas30.json"
    })
    .await;

    // Stage dev exported as OpenAPI 3 JSON with the extensions: the browser saves the
    // file, which is what ExportApi answers, and the page keeps a link to it.
    click_link(&c, "Stages").await;
    let export = "section[data-stage='dev'] .export-form";
    let exported_link = "section[data-stage='dev'] a.export-file";
    find(&c, &format!("{export} select[name='outputType']"))
        .await
        .select_by_value("JSON")
        .await
        .expect("format");
    assert!(
        find(&c, &format!("{export} input[name='includeExtensions']"))
            .await
            .is_selected()
            .await
            .expect("checked")
    );
    click(&c, &format!("{export} button[type=submit]")).await;
    let link = find(&c, exported_link).await;
    assert_eq!(
        link.attr("download").await.expect("attr").as_deref(),
        Some("notes-dev-oas30.json")
    );
    let saved = downloads(profile.path()).join("notes-dev-oas30.json");
    let exported = wait_for("the browser to save the export", LIMIT, || async {
        std::fs::read_to_string(&saved)
            .ok()
            .filter(|t| !t.is_empty())
    })
    .await;
    assert_eq!(linked_file(&c, exported_link).await, exported);
    let rest = http_client()
        .get(format!(
            "{base}/v2/apis/{api_id}/exports/OAS30?outputType=JSON&stageName=dev&includeExtensions=true"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .expect("GET export");
    assert_eq!(rest.status(), 200);
    assert_eq!(rest.text().await.expect("export"), exported);
    let doc: Value = serde_json::from_str(&exported).expect("the export is JSON");
    assert_eq!(doc["openapi"], "3.0.1", "{doc}");
    assert_eq!(doc["info"]["title"], "notes", "{doc}");
    assert_eq!(
        doc["paths"]["/notes"]["get"]["x-amazon-apigateway-integration"]["uri"],
        uri.as_str(),
        "{doc}"
    );
    // The same as YAML.
    find(&c, &format!("{export} select[name='outputType']"))
        .await
        .select_by_value("YAML")
        .await
        .expect("format");
    click(&c, &format!("{export} button[type=submit]")).await;
    text_where(&c, exported_link, |t| t == "notes-dev-oas30.yaml").await;
    let yaml = linked_file(&c, exported_link).await;
    assert!(
        yaml.lines().any(|l| l.starts_with("openapi:")) && yaml.contains("/notes:"),
        "{yaml}"
    );
    shot(&c, "11c-stage-exported").await;

    // The JSON file imported back as a new API: picked on the Import page and reviewed
    // (the route it creates, its integration, the tag), then created.
    click_link(&c, "APIs").await;
    click_link(&c, "Import from OpenAPI").await;
    text_where(&c, "main h1", |t| t == "Import an API").await;
    hydrated(&c).await;
    // A document the importer refuses: its message, and the JSON pointer of the culprit.
    fill(
        &c,
        "#import-body",
        r#"{"openapi": "3.0.1", "info": {"title": "bad", "version": "1"}, "paths": {"/a": {"get": {"x-amazon-apigateway-integration": {"type": "websocket"}}}}}"#,
    )
    .await;
    click(&c, ".import-form button[type=submit]").await;
    text_where(&c, ".import-error .import-pointer code", |t| {
        t == "/paths/~1a/get/x-amazon-apigateway-integration/type"
    })
    .await;
    text_where(&c, ".import-error .error-message", |t| !t.is_empty()).await;
    shot(&c, "11d-import-refused").await;
    find(&c, "#import-body-file")
        .await
        .send_keys(&saved.display().to_string())
        .await
        .expect("pick the file");
    text_where(&c, ".document-field .file-read", |t| {
        t.starts_with("Read notes-dev-oas30.json")
    })
    .await;
    click(&c, ".import-form button[type=submit]").await;
    text_where(&c, ".import-review .import-name", |t| t == "notes").await;
    assert_eq!(
        texts(&c, "table.import-routes td.route-key").await,
        Some(vec!["GET /notes".to_owned()])
    );
    text_where(&c, "table.import-routes td.integration", |t| {
        t == format!("HTTP_PROXY GET {uri}")
    })
    .await;
    text_where(&c, ".import-review .import-tags", |t| {
        t == "team=notes-team"
    })
    .await;
    shot(&c, "11d2-import-review").await;
    click(&c, "#import-create").await;
    let imported_id = wait_for("the imported API's page", LIMIT, || async {
        let url = c.current_url().await.ok()?;
        let id = url.path().strip_prefix("/apis/")?.to_owned();
        (!id.is_empty() && !id.contains('/') && id != api_id && id != "import").then_some(id)
    })
    .await;
    text_where(&c, ".import-notice", |t| {
        t.contains("Imported from the OpenAPI definition")
    })
    .await;
    text_where(&c, "tr[data-tag='team'] .tag-value", |t| t == "notes-team").await;
    shot(&c, "11e-imported-api").await;
    // Its routes page shows the same route, to the same backend.
    click_link(&c, "Routes").await;
    text_where(&c, "td.route-key", |t| t == "GET /notes").await;
    assert_eq!(
        texts(&c, "td.route-key").await,
        Some(vec!["GET /notes".to_owned()])
    );
    text_where(&c, "main table tbody tr td:nth-child(2)", |t| {
        t == format!("GET {uri}")
    })
    .await;
    shot(&c, "11f-imported-routes").await;
    // Its tag removed from its page: GetTags agrees, and the notes API keeps its own.
    click_link(&c, "Overview").await;
    click_xpath(
        &c,
        "//tr[@data-tag='team']//button[normalize-space()='Remove']",
    )
    .await;
    text_where(&c, ".api-tags p.empty", |t| t == "No tags.").await;
    assert_eq!(
        admin_get(&tags_of(&imported_id), &token).await,
        json!({ "tags": {} })
    );
    assert_eq!(
        admin_get(&tags_of(&api_id), &token).await["tags"],
        json!({ "team": "notes-team" })
    );
    c.goto(&format!("{base}/apis/{api_id}"))
        .await
        .expect("back to the notes API");
    hydrated(&c).await;

    // Delete the route: the list says so, and the REST API agrees.
    click_link(&c, "Routes").await;
    click_xpath(
        &c,
        "//tr[td[normalize-space()='GET /notes']]//button[normalize-space()='Delete']",
    )
    .await;
    text_where(&c, "p.empty", |t| t.contains("No routes yet")).await;
    let routes: Value = http_client()
        .get(format!("{base}/v2/apis/{api_id}/routes"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("GET routes")
        .json()
        .await
        .expect("routes JSON");
    assert_eq!(routes["items"], json!([]));

    // A stage whose variables break an integration: the Stages page and the API's page
    // say what the nodes serve instead of what was deployed.
    let post = |path: &str, body: Value| {
        http_client()
            .post(format!("{base}/v2/apis/{api_id}/{path}"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let broken: Value = post(
        "integrations",
        json!({
            "integrationType": "HTTP_PROXY",
            "integrationUri": "http://${stageVariables.missing}/x",
            "integrationMethod": "ANY",
            "payloadFormatVersion": "1.0",
        }),
    )
    .await
    .expect("POST integration")
    .json()
    .await
    .expect("integration JSON");
    let target = format!(
        "integrations/{}",
        broken["integrationId"].as_str().expect("id")
    );
    let created = post(
        "routes",
        json!({ "routeKey": "GET /broken", "target": target }),
    )
    .await
    .expect("POST route");
    assert_eq!(created.status(), 201);
    let created = post(
        "stages",
        json!({ "stageName": "broken", "autoDeploy": true }),
    )
    .await
    .expect("POST stage");
    assert_eq!(created.status(), 201);
    click_link(&c, "Stages").await;
    text_where(&c, "section[data-stage='broken'] .deployment-notice", |t| {
        t.contains("invalid URI after stage variables") && t.contains("answer 500")
    })
    .await;
    shot(&c, "12-stage-not-served-as-deployed").await;
    click_link(&c, "Overview").await;
    text_where(&c, ".invoke-urls .deployment-notice", |t| {
        t.contains("answer 500")
    })
    .await;

    // A custom domain name: a self-signed certificate made on the Certificates page, a
    // domain served with it, and the notes API's stage dev mapped under v1.
    let domain = "api.console.test";
    click_link(&c, "Certificates").await;
    text_where(&c, "main h1", |t| t == "Certificates").await;
    hydrated(&c).await;
    text_where(&c, "p.empty", |t| t.contains("No certificates yet")).await;
    // An import without a certificate is refused beside its box, before anything is sent.
    click(&c, ".import-certificate-form button[type=submit]").await;
    text_where(
        &c,
        ".field[data-field='Certificate'] #import-certificate-error",
        |t| t.starts_with("Paste the certificate"),
    )
    .await;
    fill(&c, "#self-signed-domain", domain).await;
    click(&c, ".self-signed-form button[type=submit]").await;
    text_where(&c, "td.certificate-domain", |t| t == domain).await;
    let listed = acm(&base, &token, "ListCertificates", json!({})).await;
    let certificates = listed["CertificateSummaryList"]
        .as_array()
        .unwrap_or_else(|| panic!("no CertificateSummaryList in {listed}"));
    assert_eq!(certificates.len(), 1, "{listed}");
    assert_eq!(certificates[0]["DomainName"], domain, "{listed}");
    let certificate_arn = certificates[0]["CertificateArn"]
        .as_str()
        .expect("CertificateArn")
        .to_owned();
    text_where(&c, ".generated", |t| t.contains(&certificate_arn)).await;
    let certificate_row = format!("//tr[@data-arn='{certificate_arn}']");
    let certificate_cell = async |class: &str| {
        c.find(Locator::XPath(&format!(
            "{certificate_row}/td[contains(@class, '{class}')]"
        )))
        .await
        .unwrap_or_else(|e| panic!("no {class} cell in the certificate's row: {e}"))
        .text()
        .await
        .expect("text")
    };
    assert_eq!(certificate_cell("status").await, "ISSUED");
    assert!(!certificate_cell("key-algorithm").await.is_empty());
    assert_eq!(certificate_cell("used-by").await, "");
    // Rendered on the server (its ACM calls made in-process), the page holds it too.
    c.refresh().await.expect("reload certificates");
    hydrated(&c).await;
    text_where(&c, "td.certificate-domain", |t| t == domain).await;
    shot(&c, "13-certificates").await;

    click_link(&c, "Custom domain names").await;
    text_where(&c, "main h1", |t| t == "Custom domain names").await;
    hydrated(&c).await;
    text_where(&c, "p.empty", |t| t.contains("No custom domain names yet")).await;
    fill(&c, "#domain-name", domain).await;
    let picked = find(&c, "#domain-certificate").await;
    assert_eq!(
        picked.prop("value").await.expect("value").as_deref(),
        Some(certificate_arn.as_str())
    );
    text_where(&c, ".domain-form .security-policy", |t| t == "TLS_1_2").await;
    click(&c, ".domain-form button[type=submit]").await;
    wait_for("the new domain's page", LIMIT, || async {
        let url = c.current_url().await.ok()?;
        (url.path() == format!("/domains/{domain}")).then_some(())
    })
    .await;
    text_where(&c, "main h1", |t| t == domain).await;
    text_where(&c, ".domain-details .badge", |t| t == "AVAILABLE").await;
    let stored = admin_get(&format!("{base}/v2/domainnames/{domain}"), &token).await;
    assert_eq!(
        stored["domainNameConfigurations"][0]["certificateArn"],
        certificate_arn.as_str(),
        "{stored}"
    );
    assert_eq!(
        stored["domainNameConfigurations"][0]["securityPolicy"], "TLS_1_2",
        "{stored}"
    );
    text_where(&c, ".api-mappings p.empty", |t| {
        t.contains("No API mappings yet")
    })
    .await;
    // A bad mapping key is refused beside its field, in the admin API's words.
    find(&c, "#mapping-api")
        .await
        .select_by_value(&api_id)
        .await
        .expect("API");
    find(&c, "#mapping-stage")
        .await
        .select_by_value("dev")
        .await
        .expect("stage");
    fill(&c, "#mapping-key", "/v1").await;
    click(&c, ".api-mapping-form button[type=submit]").await;
    let shown = text_where(
        &c,
        ".field[data-field='apiMappingKey'] #mapping-key-error",
        |t| !t.is_empty(),
    )
    .await;
    let mappings_path = format!("{base}/v2/domainnames/{domain}/apimappings");
    let rest = http_client()
        .post(&mappings_path)
        .bearer_auth(&token)
        .json(&json!({ "apiId": api_id, "stage": "dev", "apiMappingKey": "/v1" }))
        .send()
        .await
        .expect("POST API mapping");
    assert_eq!(rest.status(), 400);
    let rest: Value = rest.json().await.expect("error JSON");
    assert_eq!(rest["field"], "apiMappingKey", "{rest}");
    assert_eq!(shown, rest["message"].as_str().expect("message"));
    fill(&c, "#mapping-key", "v1").await;
    click(&c, ".api-mapping-form button[type=submit]").await;
    text_where(&c, "td.mapping-url", |t| {
        t == format!("https://{domain}/v1")
    })
    .await;
    assert_eq!(text_where(&c, "td.mapping-stage", |_| true).await, "dev");
    text_where(&c, ".tls-note", |t| t.contains("8443")).await;
    let mappings = admin_get(&mappings_path, &token).await;
    let mapping = &mappings["items"][0];
    assert_eq!(mapping["apiId"], api_id.as_str(), "{mappings}");
    assert_eq!(mapping["stage"], "dev", "{mappings}");
    assert_eq!(mapping["apiMappingKey"], "v1", "{mappings}");
    // Rendered on the server, the page holds the mapping, and hydrates.
    c.refresh().await.expect("reload the domain");
    hydrated(&c).await;
    text_where(&c, "td.mapping-url", |t| {
        t == format!("https://{domain}/v1")
    })
    .await;
    shot(&c, "14-custom-domain").await;

    // The certificate says which domain uses it, and can't be deleted while it does.
    click_link(&c, "Certificates").await;
    hydrated(&c).await;
    text_where(&c, "td.used-by", |t| t == domain).await;
    click_xpath(
        &c,
        &format!("{certificate_row}//button[normalize-space()='Delete']"),
    )
    .await;
    text_where(&c, ".error-banner", |t| {
        t.contains("ResourceInUseException")
    })
    .await;
    shot(&c, "15-certificate-in-use").await;
    // Deleted, the domain takes its mapping with it; then the certificate can go.
    c.goto(&format!("{base}/domains/{domain}"))
        .await
        .expect("open the domain");
    hydrated(&c).await;
    click_xpath(&c, "//button[normalize-space()='Delete domain name']").await;
    text_where(&c, "p.empty", |t| t.contains("No custom domain names yet")).await;
    assert_eq!(c.current_url().await.expect("url").path(), "/domains");
    click_link(&c, "Certificates").await;
    hydrated(&c).await;
    click_xpath(
        &c,
        &format!("{certificate_row}//button[normalize-space()='Delete']"),
    )
    .await;
    text_where(&c, "p.empty", |t| t.contains("No certificates yet")).await;
    let listed = acm(&base, &token, "ListCertificates", json!({})).await;
    assert_eq!(listed["CertificateSummaryList"], json!([]), "{listed}");

    metered_api_in_the_console(&c, &base, &token, proxy, upstream).await;
    vpc_links_in_the_console(&c, &base, &token, admin, proxy, upstream).await;

    c.close().await.expect("close browser");
}

/// How long the series and the usage report may take to show what was sent: nodes report
/// every 5 s, and the Monitor and Usage pages ask again every 2.
const REPORTED: Duration = Duration::from_secs(30);
/// How long a budget alert may take to reach the banner: budgets are checked every 3 s,
/// and every page asks for alerts every 10 (and on each navigation).
const ALERTED: Duration = Duration::from_secs(20);

/// Polls `look` until what it sees passes `ok`, for at most `limit`, and returns it; fails
/// naming `what` and the last thing seen.
async fn until_seen<T, F, Fut>(
    what: &str,
    limit: Duration,
    mut look: F,
    ok: impl Fn(&T) -> bool,
) -> T
where
    T: std::fmt::Debug,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = std::time::Instant::now();
    let mut seen = None;
    loop {
        let left = limit.saturating_sub(start.elapsed());
        if let Ok(Some(v)) = tokio::time::timeout(left, look()).await {
            if ok(&v) {
                return v;
            }
            seen = Some(v);
        }
        if start.elapsed() >= limit {
            panic!("timed out after {limit:?} waiting for {what}; last saw {seen:?}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The text of every element `css` finds (none: an empty list).
async fn texts(c: &Client, css: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for el in c.find_all(Locator::Css(css)).await.ok()? {
        out.push(el.text().await.ok()?);
    }
    Some(out)
}

/// The Monitor tab's totals strip: requests, 4xx, 5xx.
async fn monitor_totals(c: &Client) -> Option<[String; 3]> {
    let mut out: [String; 3] = Default::default();
    for (slot, total) in out.iter_mut().zip(["count", "4xx", "5xx"]) {
        *slot = c
            .find(Locator::Css(&format!(
                ".totals-strip dd[data-total='{total}']"
            )))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
    }
    Some(out)
}

/// The totals strip as numbers, checked to be plain integers.
fn totals_are(seen: &[String; 3], expected: [u64; 3]) -> bool {
    seen.iter()
        .zip(expected)
        .all(|(text, n)| text.parse::<u64>().ok() == Some(n))
}

/// A second API, `metered`, on its own auto-deploy stage `live`: a known mix of requests
/// through the node shows on its Monitor tab (totals, a chart, the routes table, the
/// filters), on the Usage page, and passes a budget set from the Usage page's form, whose
/// alert the banner shows; a negative price is refused beside its field.
async fn metered_api_in_the_console(
    c: &Client,
    base: &str,
    token: &str,
    proxy: u16,
    upstream: std::net::SocketAddr,
) {
    let post = async |path: &str, body: Value| {
        let res = http_client()
            .post(format!("{base}{path}"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        let status = res.status();
        let answer: Value = res
            .json()
            .await
            .unwrap_or_else(|e| panic!("POST {path} JSON: {e}"));
        assert_eq!(status, 201, "POST {path}: {answer}");
        answer
    };
    let api = post(
        "/v2/apis",
        json!({ "name": "metered", "protocolType": "HTTP" }),
    )
    .await;
    let api_id = api["apiId"].as_str().expect("apiId").to_owned();
    let apis = format!("/v2/apis/{api_id}");
    let integration = async |uri: String| {
        let made = post(
            &format!("{apis}/integrations"),
            json!({
                "integrationType": "HTTP_PROXY",
                "integrationUri": uri,
                "integrationMethod": "GET",
                "payloadFormatVersion": "1.0",
            }),
        )
        .await;
        format!(
            "integrations/{}",
            made["integrationId"].as_str().expect("integrationId")
        )
    };
    // GET /hits reaches the upstream; GET /down a port nobody listens on (a 5xx).
    let hits = integration(format!("http://{upstream}/hits")).await;
    let down = integration(format!("http://127.0.0.1:{}/down", free_port())).await;
    post(
        &format!("{apis}/routes"),
        json!({ "routeKey": "GET /hits", "target": hits }),
    )
    .await;
    post(
        &format!("{apis}/routes"),
        json!({ "routeKey": "GET /down", "target": down }),
    )
    .await;
    post(
        &format!("{apis}/stages"),
        json!({ "stageName": "live", "autoDeploy": true }),
    )
    .await;
    // Served, as the node says, before any request: every request sent below counts.
    let serving = format!("{base}/portico/apis/{api_id}/serving");
    until_seen(
        "the node to serve stage live of the metered API",
        LIMIT,
        || async { Some(admin_get(&serving, token).await) },
        |s: &Value| {
            s["stages"].as_array().is_some_and(|stages| {
                stages.iter().any(|st| {
                    st["stageName"] == "live"
                        && st["deploymentId"].is_string()
                        && st["nodes"].as_u64().is_some_and(|n| n >= 1)
                        && st["nodesServing"] == st["nodes"]
                })
            })
        },
    )
    .await;

    // The known mix: 5 answered by the upstream, 3 that match no route, 2 whose backend
    // is down.
    let host = format!("{api_id}.execute-api.localhost:{proxy}");
    let send = async |path: &str| {
        http_client()
            .get(format!("http://127.0.0.1:{proxy}/live{path}"))
            .header("host", &host)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET /live{path}: {e}"))
            .status()
            .as_u16()
    };
    let (ok, unrouted, failed) = (5u64, 3u64, 2u64);
    let total = ok + unrouted + failed;
    for _ in 0..ok {
        assert_eq!(send("/hits").await, 200, "GET /live/hits");
    }
    for i in 0..unrouted {
        assert_eq!(
            send(&format!("/nothing/{i}")).await,
            404,
            "GET /live/nothing/{i}"
        );
    }
    for _ in 0..failed {
        let status = send("/down").await;
        assert!(
            (500..=599).contains(&status),
            "GET /live/down answered {status}"
        );
    }

    // The Monitor tab shows exactly that once the node has reported (the page asks every
    // 2 s by itself).
    c.goto(&format!("{base}/apis/{api_id}"))
        .await
        .expect("open the metered API");
    hydrated(c).await;
    click_link(c, "Monitor").await;
    assert_eq!(
        c.current_url().await.expect("url").path(),
        format!("/apis/{api_id}/monitor")
    );
    until_seen(
        &format!("the Monitor totals to read {total} requests, {unrouted} 4xx, {failed} 5xx"),
        REPORTED,
        || monitor_totals(c),
        |seen| totals_are(seen, [total, unrouted, failed]),
    )
    .await;
    let chart = find(c, "svg[data-chart='count']").await;
    let points = chart.attr("data-points").await.expect("data-points");
    assert!(
        points
            .as_deref()
            .and_then(|p| p.parse::<u64>().ok())
            .is_some_and(|p| p > 0),
        "the requests chart has data-points {points:?}"
    );
    find(c, "svg[data-chart='count'] path[data-series='count']").await;
    let route_cell = async |route: &str, class: &str| {
        texts(
            c,
            &format!(".route-totals tr[data-stage='live'][data-route='{route}'] td.{class}"),
        )
        .await
        .unwrap_or_default()
    };
    until_seen(
        "the routes table to count each route",
        REPORTED,
        || async {
            Some([
                route_cell("GET /hits", "count").await,
                route_cell("", "count").await,
                route_cell("", "client-errors").await,
                route_cell("GET /down", "count").await,
                route_cell("GET /down", "server-errors").await,
            ])
        },
        |seen| {
            let expected = [ok, unrouted, unrouted, failed, failed].map(|n| vec![n.to_string()]);
            *seen == expected
        },
    )
    .await;
    assert_eq!(route_cell("", "route-key").await, ["(no route)"]);
    shot(c, "16-monitor").await;
    // One route, then the last day in 15-minute points.
    find(c, "select#monitor-route")
        .await
        .select_by_value("route:GET /hits")
        .await
        .expect("route");
    until_seen(
        "the Monitor totals of GET /hits alone",
        LIMIT,
        || monitor_totals(c),
        |seen| totals_are(seen, [ok, 0, 0]),
    )
    .await;
    find(c, "select#monitor-route")
        .await
        .select_by_value("")
        .await
        .expect("all routes");
    find(c, "select#monitor-window")
        .await
        .select_by_value("day")
        .await
        .expect("window");
    until_seen(
        "the last day's chart, in 96 points, with every request",
        LIMIT,
        || async {
            let points = find(c, "svg[data-chart='count']")
                .await
                .attr("data-points")
                .await
                .ok()??;
            Some((points, monitor_totals(c).await?))
        },
        |(points, seen)| points == "96" && totals_are(seen, [total, unrouted, failed]),
    )
    .await;
    shot(c, "16a-monitor-day").await;

    // The Usage page counts the month's requests per API; the total row is the report's.
    click_link(c, "Usage").await;
    text_where(c, "main h1", |t| t == "Usage").await;
    hydrated(c).await;
    let usage_row = format!("table.usage tr[data-api='{api_id}']");
    until_seen(
        &format!("the Usage page to count {total} requests for the metered API"),
        REPORTED,
        || async { texts(c, &format!("{usage_row} td[data-usage='requests']")).await },
        |seen| *seen == [total.to_string()],
    )
    .await;
    let report_total =
        async || admin_get(&format!("{base}/portico/usage"), token).await["requests"].as_u64();
    until_seen(
        "the Usage page's total to be the report's",
        LIMIT,
        || async {
            let shown = texts(c, "tr[data-usage-totals] td[data-usage-total='requests']").await?;
            Some((shown, report_total().await?))
        },
        |(shown, reported)| *shown == [reported.to_string()],
    )
    .await;
    assert_eq!(
        texts(c, &format!("{usage_row} td[data-usage='budget-used']")).await,
        Some(vec!["no budget".to_owned()])
    );
    shot(c, "17-usage").await;

    // A budget of `total` requests with an ACTUAL notification at 50%, set from the form:
    // passed already, so its alert fires at the next check and the banner shows it.
    let budget_row = format!("table.budgets tr[data-budget-api='{api_id}']");
    let budget_row_x =
        format!("//table[contains(@class, 'budgets')]//tr[@data-budget-api='{api_id}']");
    text_where(c, &format!("{budget_row} td.budget-summary"), |t| {
        t == "none"
    })
    .await;
    click_xpath(
        c,
        &format!("{budget_row_x}//button[normalize-space()='Set budget']"),
    )
    .await;
    fill(c, &format!("#budget-{api_id}-limit"), &total.to_string()).await;
    let notification = format!(
        "{budget_row} + tr.edit-row fieldset[data-field='notifications'] .notification-row"
    );
    let rows = c
        .find_all(Locator::Css(&notification))
        .await
        .expect("notification rows");
    assert_eq!(rows.len(), 1, "a new budget starts with one notification");
    find(c, &format!("{notification} select.notification-type"))
        .await
        .select_by_value("ACTUAL")
        .await
        .expect("notification type");
    fill(
        c,
        &format!("{notification} input.notification-threshold"),
        "50",
    )
    .await;
    click_xpath(
        c,
        "//form[contains(@class, 'budget-form')]//button[normalize-space()='Save budget']",
    )
    .await;
    text_where(c, &format!("{budget_row} td.budget-summary"), |t| {
        t == format!("{total} requests a month; ACTUAL at 50%")
    })
    .await;
    let stored = admin_get(&format!("{base}/portico/apis/{api_id}/budget"), token).await;
    assert_eq!(stored["unit"], "REQUESTS", "{stored}");
    assert_eq!(stored["limit"].as_f64(), Some(total as f64), "{stored}");
    assert_eq!(
        stored["notifications"],
        json!([{ "notificationType": "ACTUAL", "threshold": 50.0 }]),
        "{stored}"
    );
    let banner = format!("div.budget-banner[data-budget-alert] li[data-alert-api='{api_id}']");
    let alerted = until_seen(
        "the budget banner to name the metered API",
        ALERTED,
        || async { texts(c, &banner).await },
        |seen| seen.len() == 1,
    )
    .await;
    assert_eq!(
        alerted[0],
        "Budget alert: API metered passed 50% of its monthly requests budget (ACTUAL)"
    );
    let alerts = admin_get(&format!("{base}/portico/budgets/alerts"), token).await;
    let fired: Vec<&Value> = alerts["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .filter(|a| a["apiId"] == api_id.as_str())
        .collect();
    assert_eq!(fired.len(), 1, "{alerts}");
    assert_eq!(fired[0]["notificationType"], "ACTUAL", "{alerts}");
    assert_eq!(fired[0]["threshold"].as_f64(), Some(50.0), "{alerts}");
    assert_eq!(fired[0]["actual"].as_f64(), Some(total as f64), "{alerts}");
    // The Usage page lists the alert and how much of the budget is used.
    until_seen(
        "the Usage page to list the alert and the budget used",
        LIMIT,
        || async {
            Some((
                texts(
                    c,
                    &format!("table.alerts tr[data-alert-api='{api_id}'] td.notification-type"),
                )
                .await?,
                texts(
                    c,
                    &format!("{usage_row} td[data-usage='budget-used'] .percent"),
                )
                .await?,
            ))
        },
        |(kind, used)| *kind == ["ACTUAL"] && *used == ["100%"],
    )
    .await;
    // The banner heads the page.
    c.execute("window.scrollTo(0, 0)", vec![])
        .await
        .expect("scroll to the top");
    shot(c, "18-budget-alert").await;

    // A negative price: the admin API's message shows beside the field, nothing is saved.
    click_xpath(c, "//button[normalize-space()='Edit prices']").await;
    fill(c, "form.pricing-form #pricing-data-out", "-1").await;
    click_xpath(
        c,
        "//form[contains(@class, 'pricing-form')]//button[normalize-space()='Save prices']",
    )
    .await;
    let shown = text_where(
        c,
        "form.pricing-form .field[data-field='dataOutPerGb'] #pricing-data-out-error",
        |t| !t.is_empty(),
    )
    .await;
    let invalid = find(c, "#pricing-data-out").await;
    assert_eq!(
        invalid.attr("aria-invalid").await.expect("attr").as_deref(),
        Some("true")
    );
    let mut pricing = admin_get(&format!("{base}/portico/pricing"), token).await;
    assert_eq!(
        pricing["dataOutPerGb"].as_f64(),
        Some(0.09),
        "unchanged: {pricing}"
    );
    pricing["dataOutPerGb"] = json!(-1.0);
    let rest = http_client()
        .put(format!("{base}/portico/pricing"))
        .bearer_auth(token)
        .json(&pricing)
        .send()
        .await
        .expect("PUT pricing");
    assert_eq!(rest.status(), 400);
    let rest: Value = rest.json().await.expect("error JSON");
    let message = rest["message"].as_str().expect("message");
    assert!(message.contains("dataOutPerGb"), "{rest}");
    assert_eq!(shown, message);
    assert_eq!(
        text_where(c, "dd[data-pricing='dataOutPerGb']", |_| true).await,
        "$0.09"
    );
    shot(c, "19-pricing-error").await;
}

/// One ACM operation on the admin API, as boto3's `acm` client sends it (with the
/// session token instead of a signature); the 200 answer as JSON.
async fn acm(base: &str, token: &str, operation: &str, body: Value) -> Value {
    let res = http_client()
        .post(format!("{base}/"))
        .bearer_auth(token)
        .header("x-amz-target", format!("CertificateManager.{operation}"))
        .header("content-type", "application/x-amz-json-1.1")
        .body(body.to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("ACM {operation}: {e}"));
    let status = res.status();
    let text = res.text().await.expect("ACM answer");
    assert_eq!(status, 200, "ACM {operation}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("ACM {operation} JSON ({e}): {text}"))
}

/// Sends `route` (its key, and the path the panel fills in for it) on stage `dev` from the
/// Test panel at `url`, with `headers`; the 200 answer's body as JSON.
async fn send_from_test_panel(c: &Client, url: &str, route: (&str, &str), headers: &str) -> Value {
    let body = test_panel_answer(c, url, route, headers, "200").await;
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("the answer is not JSON ({e}): {body}"))
}

/// Sends `route` from the Test panel as [`send_from_test_panel`] does, waits for the
/// answer with `status`, and returns its body.
async fn test_panel_answer(
    c: &Client,
    url: &str,
    (route_key, route_path): (&str, &str),
    headers: &str,
    status: &str,
) -> String {
    c.goto(url).await.expect("open test");
    hydrated(c).await;
    find(c, "#test-stage")
        .await
        .select_by_value("dev")
        .await
        .expect("stage");
    find(c, "#test-route")
        .await
        .select_by_value(route_key)
        .await
        .expect("route");
    let path = find(c, "#test-path").await;
    wait_for("the route to fill in the path", LIMIT, || async {
        (path.prop("value").await.ok()?.as_deref() == Some(route_path)).then_some(())
    })
    .await;
    fill(c, "#test-headers", headers).await;
    click(c, ".test-form button[type=submit]").await;
    let answered = text_where(c, "#test-status", |t| !t.is_empty()).await;
    let body = text_where(c, "#test-body-out", |t| !t.is_empty()).await;
    assert_eq!(
        answered, status,
        "the Test panel's answer to {route_key}: {body}"
    );
    body
}

/// The id of the API's one integration, from the admin API.
async fn uri_integration_id(base: &str, token: &str, api_id: &str) -> String {
    let list: Value = http_client()
        .get(format!("{base}/v2/apis/{api_id}/integrations"))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET integrations")
        .json()
        .await
        .expect("integrations JSON");
    list["items"][0]["integrationId"]
        .as_str()
        .expect("an integration")
        .to_string()
}

/// GETs `url` from the admin API as JSON.
/// Two nodes the store remembers but that are gone: one whose replica died without
/// saying so two minutes ago (its row still says connected), one that disconnected an
/// hour ago. The Nodes page marks the first lost, shows the second only in its history,
/// and edits the execute-api endpoint every replica serves (a bad one is refused beside
/// the field in the API's words).
async fn nodes_and_settings_in_the_console(
    c: &Client,
    data: &std::path::Path,
    base: &str,
    token: &str,
    api_id: &str,
    proxy: u16,
) {
    let store =
        sqlx::SqlitePool::connect(&format!("sqlite://{}", data.join("portico.db").display()))
            .await
            .expect("open portico up's store");
    // `last_seen` in the spelling replicas write it in.
    for (node_id, connected, seen) in [
        ("edge-lost", 1i64, "-2 minutes"),
        ("edge-old", 0, "-60 minutes"),
    ] {
        sqlx::query(
            "INSERT INTO nodes (node_id, address, applied_version, last_status, connected, control_plane, last_seen)
             VALUES ($1, '10.0.0.9:8000', 1, 'ACK', $2, 'replica-that-died', strftime('%Y-%m-%dT%H:%M:%SZ', 'now', $3))",
        )
        .bind(node_id)
        .bind(connected)
        .bind(seen)
        .execute(&store)
        .await
        .expect("insert a node row");
    }
    text_where(
        c,
        "tr[data-node='edge-lost'][data-state='lost'] td.seen",
        |t| t == "2 min ago",
    )
    .await;
    assert!(
        c.find(Locator::Css("tr[data-node='edge-old']"))
            .await
            .is_err(),
        "a node gone for an hour is history"
    );
    text_where(c, "tr[data-node='local'] td.state", |t| t == "connected").await;
    click(c, "#show-history").await;
    text_where(
        c,
        "tr[data-node='edge-old'][data-state='disconnected'] td.seen",
        |t| t == "1 h ago",
    )
    .await;
    shot(c, "08b-nodes-history").await;
    // The later steps see the built-in node alone again.
    sqlx::query("DELETE FROM nodes WHERE node_id IN ('edge-lost', 'edge-old')")
        .execute(&store)
        .await
        .expect("forget the made-up nodes");
    store.close().await;

    let own = format!("http://execute-api.localhost:{proxy}");
    let field = "#execute-api-endpoint";
    wait_for("the stored endpoint in the form", LIMIT, || async {
        let value = find(c, field).await.prop("value").await.ok()??;
        (value == own).then_some(())
    })
    .await;
    fill(c, field, "execute-api.example.com").await;
    click(c, "#settings-form button[type=submit]").await;
    text_where(c, "[data-field='executeApiEndpoint'] .field-error", |t| {
        t.contains("Invalid executeApiEndpoint") && t.contains("is not a URL")
    })
    .await;
    shot(c, "08c-settings-refused").await;
    let moved = format!("http://execute-api.moved.internal:{proxy}");
    for (endpoint, api_endpoint) in [
        (
            &moved,
            format!("http://{api_id}.execute-api.moved.internal:{proxy}"),
        ),
        (
            &own,
            format!("http://{api_id}.execute-api.localhost:{proxy}"),
        ),
    ] {
        fill(c, field, endpoint).await;
        click(c, "#settings-form button[type=submit]").await;
        text_where(c, "#settings-form .saved", |t| t == "Saved").await;
        wait_for(
            "the API's apiEndpoint to follow the setting",
            LIMIT,
            || async {
                let api = admin_get(&format!("{base}/v2/apis/{api_id}"), token).await;
                (api["apiEndpoint"] == json!(api_endpoint)).then_some(())
            },
        )
        .await;
    }
}

async fn admin_get(url: &str, token: &str) -> Value {
    http_client()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("JSON from {url}: {e}"))
}

/// The text of the file the link `css` offers (a `blob:` URL the page made), read by a
/// script on the page.
async fn linked_file(c: &Client, css: &str) -> String {
    const SCRIPT: &str = r#"
        const [css, done] = arguments;
        const link = document.querySelector(css);
        if (!link) { done({ error: "no link " + css }); return; }
        fetch(link.href)
            .then((r) => r.text())
            .then((text) => done({ text }), (e) => done({ error: String(e) }));
    "#;
    let read = c
        .execute_async(SCRIPT, vec![json!(css)])
        .await
        .expect("read the linked file in the page");
    read["text"]
        .as_str()
        .unwrap_or_else(|| panic!("the linked file {css}: {read}"))
        .to_owned()
}

/// A `fetch` of `url` from the page the browser shows, as a script on the console's origin
/// makes it: with credentials, and a header that needs a preflight. `ok` is false with the
/// error (a TypeError) when the browser refuses the answer.
async fn cross_origin_fetch(c: &Client, url: &str) -> Value {
    const SCRIPT: &str = r#"
        const [url, done] = arguments;
        fetch(url, { credentials: "include", headers: { "x-console": "1" } })
            .then(async (r) => done({
                ok: true,
                status: r.status,
                allowOrigin: r.headers.get("access-control-allow-origin"),
                upstream: r.headers.get("x-upstream"),
                body: await r.text(),
            }))
            .catch((e) => done({ ok: false, error: String(e) }));
    "#;
    c.execute_async(SCRIPT, vec![json!(url)])
        .await
        .expect("run fetch in the page")
}

/// How long a link's target may take to show HEALTHY in the console: the node gets the
/// link with the next snapshot, checks every `intervalSeconds` (2 here) until
/// `healthyThreshold` (2) checks pass, reports on change, and the page asks every 2 s.
const HEALTHY_SEEN: Duration = Duration::from_secs(30);

/// VPC links (issue #18): a link created from the VPC links page with a node group, a
/// security group and a tag; its targets editor refuses a target without a port (the
/// model's check, in the browser) and the control plane's own port (the admin API's
/// upstream policy), each beside the row, and a timeout not under the interval beside its
/// field, all in the API's words; saved with the real `upstream` as the target, the health
/// table shows it HEALTHY as the built-in node of `portico up` sees it. Renamed; a private
/// integration made with the form's "Private resource via VPC link" (a bad URL refused
/// beside its field first) names the link in the list and serves through the node; the
/// link cannot be deleted while the integration uses it (409 ConflictException in the
/// banner), and can once the API is gone.
async fn vpc_links_in_the_console(
    c: &Client,
    base: &str,
    token: &str,
    admin: u16,
    proxy: u16,
    upstream: std::net::SocketAddr,
) {
    click_link(c, "VPC links").await;
    hydrated(c).await;
    text_where(c, "main h1", |t| t == "VPC links").await;
    text_where(c, "p.empty", |t| t.contains("No VPC links yet")).await;
    fill(c, "#vpc-link-name", "orders-private").await;
    fill(c, "#vpc-link-subnets", "private-east").await;
    fill(c, "#vpc-link-security-groups", "sg-console").await;
    fill(c, "#vpc-link-tags", "team=orders").await;
    click(c, ".vpc-link-form button[type=submit]").await;
    let link_id = wait_for("the new VPC link's page", LIMIT, || async {
        let url = c.current_url().await.ok()?;
        let id = url.path().strip_prefix("/vpclinks/")?.to_owned();
        (!id.is_empty()).then_some(id)
    })
    .await;
    text_where(c, "main h1", |t| t == "orders-private").await;
    hydrated(c).await;
    let link = admin_get(&format!("{base}/v2/vpclinks/{link_id}"), token).await;
    assert_eq!(link["subnetIds"], json!(["private-east"]), "{link}");
    assert_eq!(link["securityGroupIds"], json!(["sg-console"]), "{link}");
    assert_eq!(link["tags"], json!({ "team": "orders" }), "{link}");
    assert_eq!(link["vpcLinkStatus"], "AVAILABLE", "{link}");
    text_where(c, ".vpc-link-details .badge", |t| t == "AVAILABLE").await;
    text_where(c, ".target-editor .no-targets", |t| t.contains("503")).await;

    // Refusals, each beside what it is about and in the API's words.
    let targets_url = format!("{base}/portico/vpclinks/{link_id}/targets");
    let refused = |body: Value| {
        let url = targets_url.clone();
        async move {
            let res = http_client()
                .put(&url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .expect("PUT targets");
            assert_eq!(res.status(), 400, "{body}");
            let rest: Value = res.json().await.expect("error JSON");
            (
                rest["field"].as_str().expect("field").to_owned(),
                rest["message"].as_str().expect("message").to_owned(),
            )
        }
    };
    let form = ".vpc-link-targets-form";
    let row = format!("{form} .target-row");
    click(c, &format!("{form} button.add-target")).await;
    fill(c, &format!("{row} .target-address"), "127.0.0.1").await;
    click(c, &format!("{form} button[type=submit]")).await;
    let shown = text_where(c, &format!("{row} .row-error"), |t| !t.is_empty()).await;
    let (field, message) =
        refused(json!({ "targets": [{ "address": "127.0.0.1", "weight": 1 }] })).await;
    assert_eq!(
        (field.as_str(), shown.as_str()),
        ("targets", message.as_str())
    );
    let own = format!("127.0.0.1:{admin}");
    fill(c, &format!("{row} .target-address"), &own).await;
    click(c, &format!("{form} button[type=submit]")).await;
    let shown = text_where(c, &format!("{row} .row-error"), |t| {
        t.contains("control plane")
    })
    .await;
    let (field, message) = refused(json!({ "targets": [{ "address": own, "weight": 1 }] })).await;
    assert_eq!(
        (field.as_str(), shown.as_str()),
        ("targets", message.as_str())
    );
    let address = find(c, &format!("{row} .target-address")).await;
    assert_eq!(
        address.attr("aria-invalid").await.expect("attr").as_deref(),
        Some("true")
    );
    c.execute(
        "document.querySelector('.target-editor').scrollIntoView()",
        vec![],
    )
    .await
    .expect("scroll to the targets");
    shot(c, "20-vpc-link-target-refused").await;
    let target = upstream.to_string();
    fill(c, &format!("{row} .target-address"), &target).await;
    fill(c, &format!("{row} .target-weight"), "2").await;
    fill(c, "#hc-path", "/health").await;
    fill(c, "#hc-interval", "2").await;
    fill(c, "#hc-timeout", "2").await;
    click(c, &format!("{form} button[type=submit]")).await;
    let shown = text_where(c, "#hc-timeout-error", |t| !t.is_empty()).await;
    let (field, message) = refused(json!({
        "targets": [],
        "healthCheck": { "intervalSeconds": 2, "timeoutSeconds": 2 },
    }))
    .await;
    assert_eq!(
        (field.as_str(), shown.as_str()),
        ("healthCheck.timeoutSeconds", message.as_str())
    );
    // Nothing was stored by the refusals.
    assert_eq!(admin_get(&targets_url, token).await["targets"], json!([]));

    fill(c, "#hc-timeout", "1").await;
    find(c, "#load-balancing")
        .await
        .select_by_value("LEAST_REQUEST")
        .await
        .expect("load balancing");
    fill(c, "#pe-consecutive", "5").await;
    click(c, &format!("{form} button[type=submit]")).await;
    text_where(c, ".targets-saved", |t| t == "Saved").await;
    let stored = admin_get(&targets_url, token).await;
    assert_eq!(
        stored["targets"],
        json!([{ "address": target, "weight": 2 }]),
        "{stored}"
    );
    assert_eq!(stored["healthCheck"]["path"], "/health", "{stored}");
    assert_eq!(stored["healthCheck"]["intervalSeconds"], 2, "{stored}");
    assert_eq!(stored["healthCheck"]["timeoutSeconds"], 1, "{stored}");
    assert_eq!(stored["loadBalancing"], "LEAST_REQUEST", "{stored}");
    assert_eq!(stored["passiveEjection"]["consecutive5xx"], 5, "{stored}");
    // Rendered on the server after a reload, the form holds what was saved.
    c.refresh().await.expect("reload the link");
    hydrated(c).await;
    let address = find(c, &format!("{row} .target-address")).await;
    assert_eq!(
        address.prop("value").await.expect("value").as_deref(),
        Some(target.as_str())
    );
    assert_eq!(
        find(c, "#load-balancing")
            .await
            .prop("value")
            .await
            .expect("value")
            .as_deref(),
        Some("LEAST_REQUEST")
    );

    fill(c, "#vpc-link-rename", "orders-internal").await;
    click(c, ".rename-form button[type=submit]").await;
    text_where(c, "main h1", |t| t == "orders-internal").await;
    shot(c, "21-vpc-link").await;

    // A private integration on an API of its own, made with the form.
    let res = http_client()
        .post(format!("{base}/v2/apis"))
        .bearer_auth(token)
        .json(&json!({ "name": "private", "protocolType": "HTTP" }))
        .send()
        .await
        .expect("POST api");
    assert_eq!(res.status(), 201);
    let api_id = res.json::<Value>().await.expect("api JSON")["apiId"]
        .as_str()
        .expect("apiId")
        .to_owned();
    c.goto(&format!("{base}/apis/{api_id}/integrations"))
        .await
        .expect("open integrations");
    hydrated(c).await;
    find(c, "#new-integration-type")
        .await
        .select_by_value("PRIVATE")
        .await
        .expect("type");
    text_where(c, "label[for='new-integration-uri']", |t| t == "URL or ARN").await;
    let picked = find(c, "#new-integration-vpc-link").await;
    text_where(c, "#new-integration-vpc-link", |t| {
        t.contains("orders-internal")
    })
    .await;
    picked
        .select_by_value(&link_id)
        .await
        .expect("pick the link");
    fill(c, "#new-integration-uri", "orders.internal").await;
    click(c, ".integration-form button[type=submit]").await;
    let shown = text_where(c, "#new-integration-uri-error", |t| !t.is_empty()).await;
    let rest = http_client()
        .post(format!("{base}/v2/apis/{api_id}/integrations"))
        .bearer_auth(token)
        .json(&json!({
            "integrationType": "HTTP_PROXY", "connectionType": "VPC_LINK",
            "connectionId": link_id, "integrationUri": "orders.internal",
            "payloadFormatVersion": "1.0",
        }))
        .send()
        .await
        .expect("POST integration");
    assert_eq!(rest.status(), 400);
    let rest: Value = rest.json().await.expect("error JSON");
    assert_eq!(rest["field"], "integrationUri", "{rest}");
    assert_eq!(shown, rest["message"].as_str().expect("message"));
    fill(c, "#new-integration-uri", "http://orders.internal/v1").await;
    click(c, ".integration-form button[type=submit]").await;
    text_where(c, "td.integration-type", |t| t == "Private").await;
    text_where(c, "td.uri a.vpc-link", |t| t == "orders-internal").await;
    let integration_id = uri_integration_id(base, token, &api_id).await;
    let stored = admin_get(
        &format!("{base}/v2/apis/{api_id}/integrations/{integration_id}"),
        token,
    )
    .await;
    assert_eq!(stored["connectionType"], "VPC_LINK", "{stored}");
    assert_eq!(stored["connectionId"], link_id.as_str(), "{stored}");
    assert_eq!(
        stored["integrationUri"], "http://orders.internal/v1",
        "{stored}"
    );
    assert_eq!(stored.get("tlsConfig"), None, "{stored}");
    shot(c, "22-private-integration").await;

    // In use: the link's page shows the API's refusal.
    click_link(c, "orders-internal").await;
    hydrated(c).await;
    click_xpath(c, "//button[normalize-space()='Delete VPC link']").await;
    let banner = text_where(c, ".danger-zone .error-banner", |t| {
        t.contains("ConflictException")
    })
    .await;
    assert!(
        banner.contains(&api_id) || banner.contains("private"),
        "{banner}"
    );

    // The built-in node of `portico up` checks the target and reports it HEALTHY.
    let nodes = admin_get(&format!("{base}/portico/nodes"), token).await;
    let node_id = nodes["items"][0]["nodeId"]
        .as_str()
        .expect("the built-in node")
        .to_owned();
    let healthy = format!(
        "table.target-health tr[data-node='{node_id}'][data-target='{target}'][data-state='HEALTHY']"
    );
    until_seen(
        "the target HEALTHY in the health table",
        HEALTHY_SEEN,
        || async {
            let seen = c.find(Locator::Css(&healthy)).await.is_ok();
            Some((seen, texts(c, "table.target-health tbody tr").await?))
        },
        |(seen, _)| *seen,
    )
    .await;
    let endpoint = text_where(c, &format!("{healthy} td.endpoint"), |t| !t.is_empty()).await;
    assert_eq!(endpoint, target);
    shot(c, "23-vpc-link-health").await;

    // Served through the node: the URL's host is the Host header, the target the connection.
    let route = http_client()
        .post(format!("{base}/v2/apis/{api_id}/routes"))
        .bearer_auth(token)
        .json(&json!({ "routeKey": "GET /orders", "target": format!("integrations/{integration_id}") }))
        .send()
        .await
        .expect("POST route");
    assert_eq!(route.status(), 201);
    let stage = http_client()
        .post(format!("{base}/v2/apis/{api_id}/stages"))
        .bearer_auth(token)
        .json(&json!({ "stageName": "$default", "autoDeploy": true }))
        .send()
        .await
        .expect("POST stage");
    assert_eq!(stage.status(), 201);
    let host = format!("{api_id}.execute-api.localhost:{proxy}");
    wait_for("the private integration to be served", LIMIT, || async {
        let res = http_client()
            .get(format!("http://127.0.0.1:{proxy}/orders"))
            .header("host", &host)
            .send()
            .await
            .ok()?;
        if res.status() != 200 {
            return None;
        }
        let echoed: Value = res.json().await.ok()?;
        (echoed["headers"]["host"] == "orders.internal").then_some(())
    })
    .await;

    // TLS to the target with the name its certificate must have, set by editing.
    c.goto(&format!("{base}/apis/{api_id}/integrations"))
        .await
        .expect("open integrations");
    hydrated(c).await;
    click_xpath(
        c,
        &format!(
            "//tr[td[normalize-space()='{integration_id}']]//button[normalize-space()='Edit']"
        ),
    )
    .await;
    let edit = find(c, &format!("#integration-{integration_id}-type")).await;
    assert_eq!(
        edit.prop("value").await.expect("value").as_deref(),
        Some("PRIVATE")
    );
    fill(
        c,
        &format!("#integration-{integration_id}-server-name"),
        "orders.internal.example.com",
    )
    .await;
    click(c, ".edit-row .integration-form button[type=submit]").await;
    text_where(c, "td.uri .tls", |t| {
        t == "TLS, verifying orders.internal.example.com"
    })
    .await;
    let stored = admin_get(
        &format!("{base}/v2/apis/{api_id}/integrations/{integration_id}"),
        token,
    )
    .await;
    assert_eq!(
        stored["tlsConfig"],
        json!({ "serverNameToVerify": "orders.internal.example.com" }),
        "{stored}"
    );
    assert_eq!(stored["connectionId"], link_id.as_str(), "{stored}");
    click_link(c, "orders-internal").await;
    hydrated(c).await;

    // With the API gone, nothing uses the link: it can be deleted.
    let gone = http_client()
        .delete(format!("{base}/v2/apis/{api_id}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("DELETE api");
    assert!(gone.status().is_success(), "{}", gone.status());
    click_xpath(c, "//button[normalize-space()='Delete VPC link']").await;
    text_where(c, "p.empty", |t| t.contains("No VPC links yet")).await;
    assert_eq!(c.current_url().await.expect("url").path(), "/vpclinks");
    let res = http_client()
        .get(format!("{base}/v2/vpclinks/{link_id}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET link");
    assert_eq!(res.status(), 404);
}
