//! `Idempotency-Key` on POSTs: a retry gets the first answer (same status,
//! same body, same job) and nothing is made twice; the same key for another
//! request is 422; a key still in use is 409; keys hold across a restart
//! (they live in the database) and belong to their asker.

use std::time::Duration;

use crate::common::{TestServer, assert_error, png};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use studio::Config;

async fn post(s: &TestServer, path: &str, key: &str, body: &Value) -> (u16, Value, bool) {
    let resp = s
        .client
        .post(s.url(path))
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let replayed = resp.headers().get("idempotent-replayed").is_some();
    (status, resp.json().await.unwrap_or(Value::Null), replayed)
}

async fn upload(s: &TestServer, session: &str, key: &str, bytes: Vec<u8>) -> (u16, Value) {
    // reqwest picks a new random boundary for every form.
    let form = Form::new().part("file", Part::bytes(bytes).file_name("mine.png"));
    let resp = s
        .client
        .post(s.url(&format!("/api/v1/sessions/{session}/uploads")))
        .header("Idempotency-Key", key)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn count(s: &TestServer, session: &str, kind: &str) -> usize {
    let (_, list) = s
        .get_json(&format!("/api/v1/sessions/{session}/assets?type={kind}"))
        .await;
    list.as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn a_retried_post_gets_the_first_answer_and_nothing_is_made_twice() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start_with(Config::with_data_dir(dir.path())).await;

    // A new session: the retry names the same one.
    let (status, first, replayed) =
        post(&s, "/api/v1/sessions", "new-session-1", &json!(null)).await;
    assert_eq!((status, replayed), (201, false), "{first}");
    let resp = s
        .client
        .post(s.url("/api/v1/sessions"))
        .header("Idempotency-Key", "new-session-1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers()["idempotent-replayed"], "true");
    let again: Value = resp.json().await.unwrap();
    assert_eq!(again["session_id"], first["session_id"]);

    // An upload retried with another multipart boundary: one asset.
    let picture = png(64, 48, [200, 40, 40]);
    let (status, a) = upload(&s, "idem", "upload-1", picture.clone()).await;
    assert_eq!(status, 201, "{a}");
    let (status, b) = upload(&s, "idem", "upload-1", picture.clone()).await;
    assert_eq!(status, 201, "{b}");
    assert_eq!(a["name"], b["name"]);
    assert_eq!(count(&s, "idem", "image").await, 1);
    // ... another picture under the same key is another request.
    let (status, err) = upload(&s, "idem", "upload-1", png(64, 48, [0, 0, 200])).await;
    assert_eq!(status, 422, "{err}");
    assert_error(&err, "idempotency_key_reused");
    assert_eq!(err["error"]["field"], "Idempotency-Key");

    // An async compose retried: the same job, one video.
    let body = json!({
        "timeline": [{"asset_id": a["name"], "duration": 1}],
        "output": {"width": 320, "height": 240, "quality": "draft"},
        "async": true
    });
    let path = "/api/v1/sessions/idem/compose";
    let (status, job, _) = post(&s, path, "render-1", &body).await;
    assert_eq!(status, 202, "{job}");
    let (status, again, replayed) = post(&s, path, "render-1", &body).await;
    assert_eq!((status, replayed), (202, true));
    assert_eq!(again, job, "the same answer, byte for byte");
    let done = s
        .wait_for_job(
            job["events_url"].as_str().unwrap(),
            |j| j["status"] == "succeeded" || j["status"] == "failed",
            Duration::from_secs(120),
        )
        .await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let (_, after, _) = post(&s, path, "render-1", &body).await;
    assert_eq!(after["job_id"], job["job_id"]);
    assert_eq!(count(&s, "idem", "video").await, 1, "no second video");

    // The same key with another body: refused, nothing queued.
    let mut other = body.clone();
    other["output"]["quality"] = json!("standard");
    let (status, err, _) = post(&s, path, "render-1", &other).await;
    assert_eq!(status, 422, "{err}");
    assert_error(&err, "idempotency_key_reused");
    // ... and on another route.
    let (status, _, _) = post(
        &s,
        "/api/v1/sessions/idem/image",
        "render-1",
        &json!({"prompt": "a cat"}),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(count(&s, "idem", "image").await, 1, "no picture was made");

    // A refusal did nothing and is not kept: the key is free for the
    // corrected request. A malformed key is 400.
    let image = "/api/v1/sessions/idem/image";
    let (status, _, _) = post(&s, image, "bad-1", &json!({"prompt": ""})).await;
    assert_eq!(status, 422);
    let (status, made, replayed) = post(&s, image, "bad-1", &json!({"prompt": "a cat"})).await;
    assert_eq!((status, replayed), (201, false), "{made}");
    assert_eq!(count(&s, "idem", "image").await, 2);
    let resp = s
        .client
        .post(s.url("/api/v1/sessions/idem/image"))
        .header("Idempotency-Key", "has space")
        .json(&json!({"prompt": "a cat"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);

    // The keys live in the database: a restarted server replays them.
    s.stop().await;
    let s = TestServer::start_with(Config::with_data_dir(dir.path())).await;
    let (status, again, replayed) = post(&s, path, "render-1", &body).await;
    assert_eq!((status, replayed), (202, true));
    assert_eq!(again["job_id"], job["job_id"]);
    let (status, b, _) = post(
        &s,
        "/api/v1/sessions/idem/image",
        "upload-1",
        &json!({"prompt": "x"}),
    )
    .await;
    assert_eq!(status, 422, "{b}");
    s.stop().await;
}

#[tokio::test]
async fn a_key_still_in_use_is_409_then_its_answer_is_replayed() {
    let s = TestServer::start().await;
    let (status, a) = upload(&s, "busy", "pic", png(640, 360, [30, 120, 30])).await;
    assert_eq!(status, 201, "{a}");
    // A synchronous render takes a while: a second request with its key
    // arrives while it runs.
    let body = json!({
        "timeline": [{"asset_id": a["name"], "duration": 8, "effect": "zoom_in"}],
        "output": {"width": 640, "height": 360, "quality": "high"}
    });
    let path = "/api/v1/sessions/busy/compose";
    let first = post(&s, path, "sync-render", &body);
    let second = async {
        s.wait_for_renders(true, Duration::from_secs(30)).await;
        post(&s, path, "sync-render", &body).await
    };
    let ((s1, video, _), (s2, err, _)) = tokio::join!(first, second);
    assert_eq!(s1, 201, "{video}");
    assert_eq!(s2, 409, "{err}");
    assert_error(&err, "idempotency_key_in_use");
    let (status, again, replayed) = post(&s, path, "sync-render", &body).await;
    assert_eq!((status, replayed), (201, true));
    assert_eq!(again["name"], video["name"]);
    assert_eq!(count(&s, "busy", "video").await, 1);
    s.stop().await;
}
