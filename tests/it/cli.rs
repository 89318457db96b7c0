//! The `studio` binary: serve with graceful shutdown on SIGTERM, durability
//! across real process restarts, and the offline CLI commands.

use crate::common;

use std::process::{Child, Command};

use serde_json::Value;

/// Uploads a small picture to `session` (it becomes `image_1.png`).
async fn upload_picture(client: &reqwest::Client, base: &str, session: &str) {
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(common::png(64, 64, [200, 0, 0])).file_name("a.png"),
    );
    let resp = client
        .post(format!("{base}/api/v1/sessions/{session}/uploads"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
}

async fn get_json(client: &reqwest::Client, url: &str) -> Value {
    client.get(url).send().await.unwrap().json().await.unwrap()
}

async fn post_json(client: &reqwest::Client, url: &str, body: Value) -> Value {
    let resp = client.post(url).json(&body).send().await.unwrap();
    resp.json().await.unwrap()
}

/// Polls a job until `done` holds for it (at most `seconds`).
async fn wait_for(
    client: &reqwest::Client,
    url: &str,
    seconds: u64,
    done: impl Fn(&Value) -> bool,
) -> Value {
    common::follow_job(client, url, done, std::time::Duration::from_secs(seconds)).await
}

fn finished(job: &Value) -> bool {
    !matches!(job["status"].as_str(), Some("queued" | "running"))
}

fn terminate(child: &mut Child) {
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "graceful shutdown exits 0: {exit:?}");
}

#[tokio::test]
async fn serve_survives_restarts_and_the_cli_reads_the_same_data() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let (mut child, base) = common::serve(dir.path());
    upload_picture(&client, &base, "cli-test").await;
    terminate(&mut child);

    let out = common::studio_command(dir.path())
        .args(["assets", "cli-test"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let assets: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(assets[0]["name"], "image_1.png");
    let out = common::studio_command(dir.path())
        .arg("sessions")
        .output()
        .unwrap();
    let sessions: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sessions["sessions"][0]["session_id"], "cli-test");

    let (mut child, base) = common::serve(dir.path());
    let listed: Value = client
        .get(format!("{base}/api/v1/sessions/cli-test/assets"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["size_bytes"], assets[0]["size_bytes"]);
    terminate(&mut child);
}

#[test]
fn help_lists_the_commands_and_bad_input_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::studio_command(dir.path())
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for command in ["serve", "sessions", "assets"] {
        assert!(help.contains(command), "{help}");
    }
    let out = common::studio_command(dir.path())
        .args(["assets", "../etc"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid session id"));
}

#[test]
fn doctor_reports_engines_and_how_to_add_missing_ones() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::studio_command(dir.path())
        .env("STUDIO_PIPER_BIN", "/nonexistent/piper")
        .arg("doctor")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ok       ffmpeg"), "{text}");
    assert!(text.contains("ok       espeak-ng"), "{text}");
    assert!(
        text.contains("missing  Piper") && text.contains("scripts/setup.sh"),
        "{text}"
    );
    assert!(text.contains("jobs     none yet"), "{text}");
}

#[tokio::test]
async fn a_cli_command_leaves_a_running_servers_jobs_alone() {
    let dir = tempfile::tempdir().unwrap();
    common::studio_ok(
        dir.path(),
        &["image", "--session", "busy", "a lighthouse at night"],
    );
    let client = reqwest::Client::new();
    let (mut child, base) = common::serve(dir.path());
    let accepted = post_json(
        &client,
        &format!("{base}/api/v1/sessions/busy/compose"),
        serde_json::json!({
            "async": true,
            "timeline": [{"asset_id": "image_1.png", "duration": 30, "effect": "zoom_in"}],
            "output": {"width": 640, "height": 360}
        }),
    )
    .await;
    let status_url = format!("{base}{}", accepted["status_url"].as_str().unwrap());
    // Another process opens the same data while the render is under way.
    common::studio_ok(dir.path(), &["assets", "busy"]);
    let job = get_json(&client, &status_url).await;
    assert_ne!(
        job["status"], "failed",
        "the CLI must not fail the server's job: {job}"
    );
    let job = wait_for(&client, &status_url, 300, finished).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    terminate(&mut child);
}

#[tokio::test]
async fn stopping_serve_hands_a_running_render_back_and_the_next_start_runs_it() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let (mut child, base) = common::serve(dir.path());
    upload_picture(&client, &base, "handback").await;
    let body = serde_json::json!({
        "async": true,
        "timeline": [{"asset_id": "image_1.png", "duration": 90, "effect": "zoom_in"}],
        "output": {"width": 640, "height": 360}
    });
    let accepted = post_json(
        &client,
        &format!("{base}/api/v1/sessions/handback/compose"),
        body,
    )
    .await;
    let status_url = format!("{base}{}", accepted["status_url"].as_str().unwrap());
    let view = wait_for(&client, &status_url, 60, |v| {
        finished(v) || (v["status"] == "running" && v["progress"].as_f64().unwrap() > 0.0)
    })
    .await;
    assert_eq!(view["status"], "running", "{view}");
    // SIGTERM mid-render: the render stops and the job goes back to the
    // queue, uncounted, instead of staying "running" for a dead worker.
    terminate(&mut child);
    let store = studio::store::Store::open(&studio::Config::with_data_dir(dir.path()))
        .await
        .unwrap();
    let (status, attempts, progress): (String, i64, f64) =
        sqlx::query_as("SELECT status, attempts, progress FROM jobs WHERE id = $1")
            .bind(accepted["job_id"].as_str().unwrap())
            .fetch_one(store.db())
            .await
            .unwrap();
    store.close().await;
    assert_eq!((status.as_str(), attempts, progress), ("queued", 0, 0.0));

    // The next start runs it from the start, once.
    let (mut child, base) = common::serve(dir.path());
    let status_url = format!("{base}{}", accepted["status_url"].as_str().unwrap());
    let view = wait_for(&client, &status_url, 120, finished).await;
    assert_eq!(view["status"], "succeeded", "{view}");
    let videos = get_json(
        &client,
        &format!("{base}/api/v1/sessions/handback/assets?type=video"),
    )
    .await;
    assert_eq!(videos.as_array().unwrap().len(), 1, "{videos}");
    terminate(&mut child);
}
