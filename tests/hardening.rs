//! What an attack from outside found, each as a test that failed before its
//! fix: ownership that percent-encoded ids cannot skip, uploads that cannot
//! make ffmpeg read the server's files, bodies and connections that cannot
//! be held open, and bounded work.

mod common;

use common::TestServer;
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use studio::Config;

async fn send(
    server: &TestServer,
    key: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = server
        .client
        .request(method, server.url(path))
        .bearer_auth(key);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// `id` with its `i`-th character percent-encoded (upper- or lowercase hex).
fn encoded(id: &str, i: usize, lower: bool) -> String {
    id.char_indices()
        .map(|(k, c)| match (k == i, lower) {
            (true, false) => format!("%{:02X}", c as u32),
            (true, true) => format!("%{:02x}", c as u32),
            _ => c.to_string(),
        })
        .collect()
}

/// A body each route accepts as well-formed, so that only ownership can
/// refuse it.
fn body_for(path: &str) -> Option<Value> {
    Some(match path.rsplit('/').next().unwrap() {
        "image" => json!({"prompt": "graffiti"}),
        "audio" => json!({"text": "hello", "voice_name": "en-US-Neural2-D"}),
        "social" => json!({"text": "a post about nothing at all"}),
        "agent" => json!({"message": "Generate an image of a cat"}),
        "compose" => json!({"timeline": [{"asset_id": "image_1.png"}], "async": true}),
        "timeline" => json!({"timeline": []}),
        _ => return None,
    })
}

#[tokio::test]
async fn no_route_lets_a_foreign_key_reach_a_session_by_any_spelling_of_its_id() {
    let dir = tempfile::tempdir().unwrap();
    // No worker: alice's job stays queued, so it can be looked at and cancelled.
    let mut config = Config::with_data_dir(dir.path());
    config.limits.requests_per_second = 0; // hundreds of requests from one key
    let server = TestServer::start_api_only(config).await;
    let store = server.studio.store();
    let (alice, _) = store.create_key("alice", false).await.unwrap();
    let (bob, _) = store.create_key("bob", false).await.unwrap();
    let secret = "alice-secret";
    let (status, image) = send(
        &server,
        &alice,
        Method::POST,
        &format!("/api/v1/sessions/{secret}/image"),
        Some(json!({"prompt": "a lighthouse"})),
    )
    .await;
    assert_eq!(status, 201, "{image}");
    let (status, job) = send(
        &server,
        &alice,
        Method::POST,
        &format!("/api/v1/sessions/{secret}/compose"),
        body_for("compose"),
    )
    .await;
    assert_eq!(status, 202, "{job}");
    let job_id = job["job_id"].as_str().unwrap().to_owned();
    let before = send(
        &server,
        &alice,
        Method::GET,
        &format!("/api/v1/sessions/{secret}/assets"),
        None,
    )
    .await;

    // Every route of the API description that names a session, every
    // method, with the plain id and with each character encoded in turn.
    let doc = server.get("/api/v1/openapi.json").await;
    let doc: Value = doc.json().await.unwrap();
    let mut spellings = vec![secret.to_owned()];
    for i in 0..secret.len() {
        spellings.push(encoded(secret, i, false));
        spellings.push(encoded(secret, i, true));
    }
    let mut tried = 0;
    for (template, ops) in doc["paths"].as_object().unwrap() {
        if !template.contains("{session_id}") {
            continue;
        }
        for method in ops.as_object().unwrap().keys() {
            let method: Method = method.to_uppercase().parse().unwrap();
            for id in &spellings {
                let path = template
                    .replace("{session_id}", id)
                    .replace("{name}", "image_1.png")
                    .replace("{job_id}", &job_id);
                let resp = if path.ends_with("/uploads") {
                    let form = Form::new().part(
                        "file",
                        Part::bytes(common::png(8, 8, [1, 2, 3])).file_name("x.png"),
                    );
                    server
                        .client
                        .post(server.url(&path))
                        .bearer_auth(&bob)
                        .multipart(form)
                        .send()
                        .await
                        .unwrap()
                        .status()
                        .as_u16()
                } else {
                    send(&server, &bob, method.clone(), &path, body_for(&path))
                        .await
                        .0
                };
                assert_eq!(resp, 404, "{method} {path} with a foreign key");
                tried += 1;
            }
        }
    }
    assert!(tried > 300, "{tried} requests");

    // Nothing changed: alice's assets, job and session are as they were.
    let after = send(
        &server,
        &alice,
        Method::GET,
        &format!("/api/v1/sessions/{secret}/assets"),
        None,
    )
    .await;
    assert_eq!(before, after);
    let (status, view) = send(
        &server,
        &alice,
        Method::GET,
        &format!("/api/v1/sessions/{secret}/jobs/{job_id}"),
        None,
    )
    .await;
    assert_eq!((status, view["status"].as_str()), (200, Some("queued")));
    let (_, mine) = send(&server, &alice, Method::GET, "/api/v1/sessions", None).await;
    assert_eq!(mine["total"], 1);
    let (_, bobs) = send(&server, &bob, Method::GET, "/api/v1/sessions", None).await;
    assert_eq!(bobs["total"], 0, "{bobs}");

    // A new session first used through an encoded id is its user's, under
    // its decoded id (it used to be left without an owner).
    let (status, _) = send(
        &server,
        &bob,
        Method::POST,
        "/api/v1/sessions/%76ictim-project/image",
        Some(json!({"prompt": "a cat"})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _) = send(
        &server,
        &bob,
        Method::GET,
        "/api/v1/sessions/victim-project/assets",
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = send(
        &server,
        &alice,
        Method::GET,
        "/api/v1/sessions/victim-project",
        None,
    )
    .await;
    assert_eq!(status, 404);
    // An id that does not parse once decoded is refused before anything runs.
    let (status, body) = send(
        &server,
        &bob,
        Method::POST,
        "/api/v1/sessions/a%2Fb/image",
        Some(json!({"prompt": "a cat"})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    common::assert_error(&body, "invalid_session_id");
    // A prefix spelled with escapes matches no route (never an open door).
    let (status, _) = send(&server, &bob, Method::GET, "/%61pi/v1/sessions", None).await;
    assert_eq!(status, 404);
    server.stop().await;
}
