//! The API description tells the truth: schemathesis (PyPI; installed by
//! `scripts/setup.sh --test` into `.tools/schemathesis`) generates requests
//! from the live server's OpenAPI document and checks every answer: no
//! server errors, only documented statuses and content types, bodies that
//! match their schemas, and schema-valid requests accepted (where a rule
//! depends on what the session holds, `schemathesis.toml` says so).

use crate::common::TestServer;
use studio::Config;

#[tokio::test]
async fn schemathesis_finds_no_disagreement_between_the_document_and_the_server() {
    let st = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/schemathesis/bin/st");
    assert!(
        st.exists(),
        "schemathesis is missing: run bash scripts/setup.sh --test"
    );
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::with_data_dir(dir.path());
    // Generated requests come fast and from one client: the limits would
    // (rightly) answer 429 and hide everything else.
    config.server.requests_per_second = 0;
    config.limits.max_jobs_per_client = 10_000;
    config.limits.max_waiting_work = 10_000;
    config.max_video_seconds = 30.0;
    let server = TestServer::start_with(config).await;
    let out = tokio::process::Command::new(&st)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "--config-file",
            "schemathesis.toml",
            "run",
            &server.url("/api/v1/openapi.json"),
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,positive_data_acceptance",
            "--max-examples",
            "15",
            "--seed",
            "20261128",
            "--request-timeout",
            "120",
            "--generation-database",
            "none",
            "--no-color",
        ])
        .env("SCHEMATHESIS_HOOKS", "")
        .output()
        .await
        .expect("schemathesis runs");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found failures:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("Tested: "), "{report}");
    server.stop().await;
}
