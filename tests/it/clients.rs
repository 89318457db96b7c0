//! Programs in other languages drive the studio through clients generated
//! from its live OpenAPI document: the document passes
//! `openapi-spec-validator`, and a Python client (`openapi-python-client`)
//! and a TypeScript one (`openapi-typescript` types, type-checked by `tsc`,
//! calls by `openapi-fetch`) each run the main flow against the real server:
//! a session, an image, a voice-over, a post, an upload, the asset list, an
//! async compose followed to its end, and the video downloaded. The tools are
//! installed by `scripts/setup.sh --test`.

use std::path::{Path, PathBuf};

use crate::common::{TestServer, ffprobe};
use tokio::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn tool(path: &str) -> PathBuf {
    let p = root().join(path);
    assert!(
        p.exists(),
        "{} is missing: run bash scripts/setup.sh --test",
        p.display()
    );
    p
}

async fn run(command: &mut Command, what: &str) -> String {
    let out = command
        .output()
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The server, its live document in `dir`, and a picture to upload.
async fn setup(dir: &Path) -> (TestServer, PathBuf, PathBuf) {
    let server = TestServer::start().await;
    let doc = server
        .client
        .get(server.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let doc_path = dir.join("openapi.json");
    std::fs::write(&doc_path, &doc).unwrap();
    let picture = dir.join("mine.png");
    run(
        Command::new("ffmpeg")
            .args([
                "-v",
                "error",
                "-f",
                "lavfi",
                "-i",
                "color=c=orange:s=320x240",
            ])
            .args(["-frames:v", "1"])
            .arg(&picture),
        "ffmpeg",
    )
    .await;
    (server, doc_path, picture)
}

/// The downloaded video is the three scenes: a picture with its voice-over,
/// then the uploaded picture for a second.
fn check_video(path: &Path) {
    let probe = ffprobe(path);
    let streams = probe["streams"].as_array().unwrap();
    assert!(streams.iter().any(|s| s["codec_type"] == "video"));
    assert!(streams.iter().any(|s| s["codec_type"] == "audio"));
    let duration: f64 = probe["format"]["duration"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((2.0..8.0).contains(&duration), "{duration}");
}

#[tokio::test]
async fn the_document_is_valid_and_a_generated_python_client_runs_the_main_flow() {
    let dir = tempfile::tempdir().unwrap();
    let (server, doc, picture) = setup(dir.path()).await;
    let report = run(
        Command::new(tool(".tools/clients/bin/openapi-spec-validator")).arg(&doc),
        "openapi-spec-validator",
    )
    .await;
    assert!(report.contains(": OK"), "{report}");

    run(
        Command::new(tool(".tools/clients/bin/openapi-python-client"))
            .current_dir(dir.path())
            .args([
                "generate",
                "--meta",
                "none",
                "--output-path",
                "studio_client",
                "--path",
            ])
            .arg(&doc),
        "openapi-python-client",
    )
    .await;
    let video = dir.path().join("python.mp4");
    let said = run(
        Command::new(tool(".tools/clients/bin/python"))
            .arg(root().join("tests/clients/flow.py"))
            .arg(server.url(""))
            .arg(dir.path())
            .arg(&picture)
            .arg(&video),
        "the Python flow",
    )
    .await;
    assert!(said.contains("python client: "), "{said}");
    check_video(&video);
    server.stop().await;
}

#[tokio::test]
async fn a_generated_typescript_client_type_checks_and_runs_the_main_flow() {
    let dir = tempfile::tempdir().unwrap();
    let (server, doc, picture) = setup(dir.path()).await;
    let modules = tool("tests/clients/node_modules");
    std::os::unix::fs::symlink(&modules, dir.path().join("node_modules")).unwrap();
    std::fs::write(dir.path().join("package.json"), r#"{"type": "module"}"#).unwrap();
    std::fs::copy(
        root().join("tests/clients/flow.ts"),
        dir.path().join("flow.ts"),
    )
    .unwrap();
    run(
        Command::new("node")
            .current_dir(dir.path())
            .arg(modules.join("openapi-typescript/bin/cli.js"))
            .arg(&doc)
            .args(["-o", "schema.d.ts"]),
        "openapi-typescript",
    )
    .await;
    // tsc checks every call and body against the generated types.
    run(
        Command::new("node")
            .current_dir(dir.path())
            .arg(modules.join("typescript/bin/tsc"))
            .args(["--strict", "--target", "es2022", "--module", "nodenext"])
            .args([
                "--moduleResolution",
                "nodenext",
                "--skipLibCheck",
                "--types",
                "node",
            ])
            .arg("flow.ts"),
        "tsc",
    )
    .await;
    let video = dir.path().join("typescript.mp4");
    let said = run(
        Command::new("node")
            .current_dir(dir.path())
            .arg("flow.js")
            .arg(server.url(""))
            .arg(&picture)
            .arg(&video),
        "the TypeScript flow",
    )
    .await;
    assert!(said.contains("typescript client: "), "{said}");
    check_video(&video);
    server.stop().await;
}
