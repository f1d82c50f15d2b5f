//! OpenAPI 3.0 import and export end to end (issue #17): `portico serve` on SQLite, driven
//! by `e2e/openapi.py` with the real boto3 client. The script imports every document of
//! `tests/openapi/` (written the way AWS's developer guide shows HTTP API definitions) and
//! checks resource by resource that what was created is what the document says; then the
//! warnings and `FailOnWarnings`, the malformed documents (a BadRequestException naming the
//! JSON pointer, nothing created), `basepath`, `reimport_api`, `export_api` in every form
//! (each output valid by `openapi-spec-validator`), tags on API and stage ARNs, an
//! unimplemented operation, a 1,000-path import, Portico's deployment diff, and last the
//! round trip of every API on the server (`e2e/roundtrip.py`).
//!
//! AWS's pages the corpus and the checks follow:
//! - "Working with OpenAPI definitions for HTTP APIs":
//!   https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-open-api.html
//! - "Export HTTP APIs from API Gateway":
//!   https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-export.html
//! - the `x-amazon-apigateway-*` extensions (integration, integrations, any-method,
//!   authorizer, authtype, cors, tag-value, endpoint-configuration):
//!   https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions.html
//! - "Set the OpenAPI basePath property":
//!   https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-import-api-basePath.html
//! - ImportApi, ReimportApi, ExportApi, TagResource, UntagResource, GetTags:
//!   https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/resources.html
use std::time::Duration;

use portico_tests::process::Proc;
use portico_tests::{credentials, e2e_script, free_port, wait_for_admin};

const TOKEN: &str = "e2e-openapi-token-0123456789abcdef";
const LIMIT: Duration = Duration::from_secs(30);

/// The round trip's normaliser (ids replaced by labels that do not depend on them), its
/// diff and the validator, on synthetic documents with no Portico involved.
#[test]
fn the_roundtrip_checker_is_sound() {
    let out = e2e_script("roundtrip.py", &["selftest"], &[]);
    assert_eq!(out["ok"], true, "{out}");
}

/// Every corpus document parses, names the AWS page it imitates, and has its expected
/// resources in `openapi.py`; `malformed/expected.json` lists exactly the malformed ones.
#[test]
fn the_corpus_and_its_expectations_agree() {
    let out = e2e_script("openapi.py", &["selftest"], &[]);
    assert_eq!(out["ok"], true, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_import_export_and_round_trip() {
    let data = tempfile::tempdir().expect("data dir");
    let (admin, grpc) = (free_port(), free_port());
    let _control_plane = Proc::spawn(
        "portico serve",
        "portico",
        &[
            "serve".into(),
            "--database-url".into(),
            format!("sqlite://{}", data.path().join("portico.db").display()),
            "--admin-addr".into(),
            format!("127.0.0.1:{admin}"),
            "--grpc-addr".into(),
            format!("127.0.0.1:{grpc}"),
            "--replica-id".into(),
            "openapi".into(),
        ],
        &[
            credentials::control_plane_env(),
            vec![("PORTICO_CLUSTER_TOKEN", TOKEN.to_string())],
        ]
        .concat(),
    );
    wait_for_admin(admin, LIMIT).await;

    let endpoint = format!("http://127.0.0.1:{admin}");
    let out = tokio::task::spawn_blocking(move || {
        e2e_script("openapi.py", &["run", "--endpoint", &endpoint], &[])
    })
    .await
    .expect("the script");

    let timings = &out["timings"];
    println!(
        "1,000-path document: import {} s, export {} s, reimport {} s (reported, not asserted)",
        timings["import1000PathsSeconds"],
        timings["export1000PathsSeconds"],
        timings["reimport1000PathsSeconds"],
    );
    println!("round trip: {}", out["roundtrip"]);
    println!("steps: {}", out["sections"]);
    let failures: Vec<&str> = out["failures"]
        .as_array()
        .expect("failures")
        .iter()
        .filter_map(|f| f.as_str())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} checks failed:\n\n{}",
        failures.len(),
        failures.len() as u64 + out["passed"].as_u64().unwrap_or(0),
        failures.join("\n\n")
    );
    assert_eq!(out["ok"], true);
}
