//! Access control and fair limits, driven over HTTP as clients and attackers
//! would: keys and session ownership, the open local default and the
//! refusal to serve a network openly, and 429 with Retry-After per limit.

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use crate::common::TestServer;
use reqwest::Method;
use serde_json::{Value, json};
use studio::Config;

async fn call(
    server: &TestServer,
    key: Option<&str>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut req = server.client.request(method, server.url(path));
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, resp.json().await.unwrap_or(Value::Null), headers)
}

fn session_ids(page: &Value) -> Vec<String> {
    page["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["session_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn each_key_sees_only_its_own_sessions_and_admins_see_all() {
    let server = TestServer::start().await;
    // Before any key: open, as the local default always was.
    let (status, _, _) = call(&server, None, Method::POST, "/api/v1/sessions", None).await;
    assert_eq!(status, 201);

    let store = server.studio.store();
    let (alice, _) = store.create_key("alice", false).await.unwrap();
    let (bob, _) = store.create_key("bob", false).await.unwrap();
    let (admin, _) = store.create_key("ops", true).await.unwrap();

    // Now a key is needed.
    let (status, body, headers) = call(&server, None, Method::GET, "/api/v1/sessions", None).await;
    assert_eq!(status, 401, "{body}");
    common::assert_error(&body, "unauthorized");
    assert_eq!(headers["www-authenticate"], "Bearer");
    let (status, _, _) = call(
        &server,
        Some("cs_madeup"),
        Method::GET,
        "/api/v1/sessions",
        None,
    )
    .await;
    assert_eq!(status, 401);
    // The API description stays readable.
    assert_eq!(server.get("/api/v1/openapi.json").await.status(), 200);

    // Alice makes a session two ways: created, and by first use of an id.
    let (status, made, _) = call(
        &server,
        Some(&alice),
        Method::POST,
        "/api/v1/sessions",
        None,
    )
    .await;
    assert_eq!(status, 201);
    let a1 = made["session_id"].as_str().unwrap().to_owned();
    let (status, image, _) = call(
        &server,
        Some(&alice),
        Method::POST,
        "/api/v1/sessions/alices-own/image",
        Some(json!({"prompt": "a lighthouse at night"})),
    )
    .await;
    assert_eq!(status, 201, "{image}");
    let (_, mine, _) = call(&server, Some(&alice), Method::GET, "/api/v1/sessions", None).await;
    let mut ids = session_ids(&mine);
    ids.sort();
    let mut expected = vec![a1.clone(), "alices-own".to_owned()];
    expected.sort();
    assert_eq!(ids, expected);
    assert_eq!(mine["total"], 2);

    // Bob sees none of it, and cannot touch it: as if it did not exist.
    let (_, bobs, _) = call(&server, Some(&bob), Method::GET, "/api/v1/sessions", None).await;
    assert_eq!(session_ids(&bobs), Vec::<String>::new());
    assert_eq!(bobs["total"], 0);
    for (method, path, body) in [
        (Method::GET, "/api/v1/sessions/alices-own".to_owned(), None),
        (
            Method::GET,
            "/api/v1/sessions/alices-own/assets".to_owned(),
            None,
        ),
        (
            Method::GET,
            "/api/v1/sessions/alices-own/assets/image_1.png/content".to_owned(),
            None,
        ),
        (
            Method::POST,
            "/api/v1/sessions/alices-own/image".to_owned(),
            Some(json!({"prompt": "graffiti"})),
        ),
        (
            Method::DELETE,
            "/api/v1/sessions/alices-own/assets/image_1.png".to_owned(),
            None,
        ),
        (Method::DELETE, format!("/api/v1/sessions/{a1}"), None),
    ] {
        let (status, body, _) = call(&server, Some(&bob), method.clone(), &path, body).await;
        assert_eq!(status, 404, "{method} {path}: {body}");
        common::assert_error(&body, "unknown_session");
    }
    // Nor do requests without a key, nor the session made before keys existed.
    let (status, _, _) = call(
        &server,
        Some(&bob),
        Method::GET,
        "/api/v1/sessions/alices-own/assets",
        None,
    )
    .await;
    assert_eq!(status, 404);
    // Alice's things are intact.
    let (status, assets, _) = call(
        &server,
        Some(&alice),
        Method::GET,
        "/api/v1/sessions/alices-own/assets",
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(assets.as_array().map(Vec::len), Some(1), "{assets}");

    // The admin sees every session, the keyless one included.
    let (_, all, _) = call(&server, Some(&admin), Method::GET, "/api/v1/sessions", None).await;
    assert_eq!(all["total"], 3, "{all}");
    let (status, _, _) = call(
        &server,
        Some(&admin),
        Method::GET,
        "/api/v1/sessions/alices-own/assets",
        None,
    )
    .await;
    assert_eq!(status, 200);

    // The web page's cookie carries the key for media elements.
    let resp = server
        .client
        .get(server.url(image["url"].as_str().unwrap()))
        .header("cookie", format!("studio_key={alice}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "image/png");

    // Revoked: refused from the next request on.
    store.revoke_key("alice").await.unwrap();
    let (status, body, _) =
        call(&server, Some(&alice), Method::GET, "/api/v1/sessions", None).await;
    assert_eq!(status, 401, "{body}");
    server.stop().await;
}

#[tokio::test]
async fn allow_anonymous_serves_keyless_clients_their_own_keyless_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::with_data_dir(dir.path());
    config.server.allow_anonymous = true;
    let server = TestServer::start_with(config).await;
    let (key, _) = server.studio.store().create_key("k", false).await.unwrap();
    let (status, _, _) = call(
        &server,
        Some(&key),
        Method::POST,
        "/api/v1/sessions/keyed/image",
        Some(json!({"prompt": "a red barn"})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, page, _) = call(&server, None, Method::GET, "/api/v1/sessions", None).await;
    assert_eq!(status, 200);
    assert_eq!(page["total"], 0, "{page}");
    let (status, _, _) = call(
        &server,
        None,
        Method::GET,
        "/api/v1/sessions/keyed/assets",
        None,
    )
    .await;
    assert_eq!(status, 404);
    server.stop().await;
}

/// Starts `studio serve ARGS` and returns what it printed first, and whether it kept running.
fn serve_outcome(data: &std::path::Path, args: &[&str]) -> (bool, String) {
    let mut child = common::studio_command(data)
        .arg("serve")
        .args(args)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut said = String::new();
    let listening = loop {
        match lines.next() {
            Some(Ok(line)) => {
                said.push_str(&line);
                said.push('\n');
                if line.contains("listening on http://") {
                    break true;
                }
            }
            _ => break false,
        }
    };
    let _ = child.kill();
    let status = child.wait().unwrap();
    (listening && status.code().is_none_or(|c| c != 0), said)
}

#[test]
fn a_network_address_without_keys_needs_allow_anonymous() {
    let data = tempfile::tempdir().unwrap();
    let (ran, said) = serve_outcome(data.path(), &["--addr", "0.0.0.0:0"]);
    assert!(!ran, "it must refuse: {said}");
    assert!(
        said.contains("--allow-anonymous") && said.contains("studio keys create"),
        "{said}"
    );

    let (ran, said) = serve_outcome(data.path(), &["--addr", "0.0.0.0:0", "--allow-anonymous"]);
    assert!(ran, "{said}");
    let (ran, said) = serve_outcome(data.path(), &["--addr", "127.0.0.1:0"]);
    assert!(ran, "loopback stays open: {said}");

    // With a key it serves the network (and needs the key).
    let key = common::studio_ok(data.path(), &["keys", "create", "--name", "laptop"]);
    assert!(key.trim().starts_with("cs_"), "{key}");
    let listed = common::studio_ok(data.path(), &["keys", "list"]);
    assert!(
        listed.contains("laptop") && !listed.contains(key.trim()),
        "{listed}"
    );
    let (ran, said) = serve_outcome(data.path(), &["--addr", "0.0.0.0:0"]);
    assert!(ran, "{said}");
    common::studio_ok(data.path(), &["keys", "revoke", "laptop"]);
    let (ran, _) = serve_outcome(data.path(), &["--addr", "0.0.0.0:0"]);
    assert!(!ran, "no key in use any more");
}

/// Sends `method path` with `headers`, returning the status and headers.
async fn raw(
    server: &TestServer,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap) {
    let mut req = server.client.request(method.clone(), server.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if method == Method::POST {
        req = req.json(&json!({}));
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.headers().clone())
}

#[tokio::test]
async fn request_budgets_follow_the_key_not_the_header_and_reads_cost_less() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::with_data_dir(dir.path());
    config.server.requests_per_second = 2; // work: bursts of 4; reads: 20/s, bursts of 40
    let server = TestServer::start_with(config).await;
    let (key, _) = server.studio.store().create_key("k", false).await.unwrap();
    // Work (a POST) spelled five ways, one key: one bucket of 4.
    let spellings = [
        format!("Bearer {key}"),
        format!("Bearer  {key}"),
        format!("Bearer    {key}"),
        format!("bearer {key}"),
        format!("BEARER       {key}"),
    ];
    let mut statuses = Vec::new();
    let mut refused = None;
    for spelling in &spellings {
        let (status, headers) = raw(
            &server,
            Method::POST,
            "/api/v1/sessions",
            &[("authorization", spelling)],
        )
        .await;
        statuses.push(status);
        if status == 429 {
            refused = Some(headers);
        } else {
            assert_eq!(headers["ratelimit-policy"], "\"work\";q=4;w=2");
            assert!(
                headers["ratelimit"]
                    .to_str()
                    .unwrap()
                    .starts_with("\"work\";r=")
            );
        }
    }
    assert_eq!(statuses[..4], [201, 201, 201, 201], "{statuses:?}");
    assert_eq!(statuses[4], 429, "{statuses:?}");
    let refused = refused.unwrap();
    let wait: u64 = refused["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=5).contains(&wait), "{wait}");
    assert!(refused["ratelimit"].to_str().unwrap().contains(";r=0;"));
    // The cookie with a junk Authorization header is the same key.
    let cookie = format!("studio_key={key}");
    for junk in ["x1", "x2", "Basic abc"] {
        let (status, _) = raw(
            &server,
            Method::POST,
            "/api/v1/sessions",
            &[("authorization", junk), ("cookie", &cookie)],
        )
        .await;
        assert_eq!(status, 429, "{junk}");
    }
    // Reads have a budget of their own, ten times larger.
    let bearer = format!("Bearer {key}");
    let mut reads = Vec::new();
    for _ in 0..30 {
        let (status, headers) = raw(
            &server,
            Method::GET,
            "/api/v1/sessions",
            &[("authorization", &bearer)],
        )
        .await;
        if status == 200 {
            assert_eq!(headers["ratelimit-policy"], "\"reads\";q=40;w=2");
        }
        reads.push(status);
    }
    assert!(reads.iter().all(|s| *s == 200), "{reads:?}");
    let mut more = Vec::new();
    for _ in 0..40 {
        more.push(
            raw(
                &server,
                Method::GET,
                "/api/v1/sessions",
                &[("authorization", &bearer)],
            )
            .await
            .0,
        );
    }
    assert!(more.contains(&429), "reads are limited too: {more:?}");
    server.stop().await;
}

#[tokio::test]
async fn the_keyless_local_studio_never_throttles_an_ordinary_script() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::with_data_dir(dir.path());
    config.server.requests_per_second = 2;
    let server = TestServer::start_with(config).await;
    // A script: sessions with a post each, then each session's listing.
    let mut ids = Vec::new();
    for _ in 0..12 {
        let (status, made) = server.post_json("/api/v1/sessions", json!({})).await;
        assert_eq!(status, 201, "{made}");
        let id = made["session_id"].as_str().unwrap().to_owned();
        let (status, post) = server
            .post_json(
                &format!("/api/v1/sessions/{id}/social"),
                json!({"text": "Lighthouses guide ships along dangerous coasts at night."}),
            )
            .await;
        assert_eq!(status, 201, "{post}");
        ids.push(id);
    }
    for id in &ids {
        let resp = server.get(&format!("/api/v1/sessions/{id}/assets")).await;
        assert_eq!(resp.status(), 200);
        assert!(!resp.headers().contains_key("ratelimit"));
    }
    server.stop().await;
}

#[tokio::test]
async fn guessing_keys_is_slowed_down_per_address() {
    let server = TestServer::start().await;
    let (key, _) = server
        .studio
        .store()
        .create_key("real", false)
        .await
        .unwrap();
    // Each guess with a key of its own: the per-key rate limit cannot see it.
    let mut statuses = Vec::new();
    for i in 0..40 {
        let guess = format!("cs_guess{i:04}");
        let (status, body, headers) =
            call(&server, Some(&guess), Method::GET, "/api/v1/sessions", None).await;
        if status == 429 {
            assert!(headers.contains_key("retry-after"));
            common::assert_error(&body, "too_many_requests");
        }
        statuses.push(status);
    }
    assert_eq!(statuses[0], 401);
    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 401 || *s == 429));
    // A right key still works meanwhile.
    let (status, _, _) = call(&server, Some(&key), Method::GET, "/api/v1/sessions", None).await;
    assert_eq!(status, 200);
    server.stop().await;
}

#[tokio::test]
async fn one_client_cannot_queue_more_than_its_share_of_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::with_data_dir(dir.path());
    config.limits.max_jobs_per_client = 2;
    let server = TestServer::start_with(config).await;
    let (status, _) = server
        .post_json(
            "/api/v1/sessions/jobs/image",
            json!({"prompt": "a quiet lake"}),
        )
        .await;
    assert_eq!(status, 201);
    let long = json!({"async": true, "timeline": [{"asset_id": "image_1.png", "duration": 120}]});
    let mut statuses = Vec::new();
    let mut last = Value::Null;
    for _ in 0..3 {
        let (status, body) = server
            .post_json("/api/v1/sessions/jobs/compose", long.clone())
            .await;
        statuses.push(status);
        last = body;
    }
    assert_eq!(statuses, vec![202, 202, 429], "{last}");
    common::assert_error(&last, "too_many_requests");
    assert!(
        last["error"]["message"]
            .as_str()
            .unwrap()
            .contains("limit is 2")
    );
    // A render inside the request is one of the client's jobs too.
    let (status, body) = server
        .post_json(
            "/api/v1/sessions/jobs/compose",
            json!({"timeline": [{"asset_id": "image_1.png", "duration": 1}]}),
        )
        .await;
    assert_eq!(status, 429, "{body}");
    common::assert_error(&body, "too_many_requests");
    server.stop().await;
}

#[tokio::test]
async fn renders_inside_requests_count_against_the_share_and_wait_in_a_bounded_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::with_data_dir(dir.path());
    config.limits.max_jobs_per_client = 3;
    config.limits.max_waiting_work = 1;
    let server = TestServer::start_with(config).await;
    let (status, _) = server
        .post_json(
            "/api/v1/sessions/sync/image",
            json!({"prompt": "a quiet lake", "width": 64, "height": 64}),
        )
        .await;
    assert_eq!(status, 201);
    let body = json!({"timeline": [{"asset_id": "image_1.png", "duration": 40, "effect": "zoom_in"}], "output": {"width": 640, "height": 360}});
    let answers = futures::future::join_all(
        (0..6).map(|_| server.post_json("/api/v1/sessions/sync/compose", body.clone())),
    )
    .await;
    let statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    // One renders, one waits, the rest are refused (share or line).
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        2,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        4,
        "{statuses:?}"
    );
    // Once they are done, the client may render again.
    let (status, _) = server
        .post_json("/api/v1/sessions/sync/compose", body)
        .await;
    assert_eq!(status, 201);
    server.stop().await;
}

#[tokio::test]
async fn heavy_work_beyond_the_global_slots_and_queue_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::with_data_dir(dir.path());
    config.limits.max_concurrent_work = Some(1);
    config.limits.max_waiting_work = 1;
    let server = TestServer::start_with(config).await;
    let requests = (0..8).map(|i| {
        server.post_json(
            "/api/v1/sessions/busy/image",
            json!({"prompt": format!("a mountain village, number {i}"), "width": 1920, "height": 1080}),
        )
    });
    let answers = futures::future::join_all(requests).await;
    let statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    assert!(statuses.contains(&201), "{statuses:?}");
    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 429),
        "{statuses:?}"
    );
    let refused = answers.iter().find(|(s, _)| *s == 429).unwrap();
    assert!(
        refused.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("busy")
    );
    server.stop().await;
}
