//! Webhooks: a job's end is POSTed to its callback (or the key's default),
//! signed with the key's secret, retried with growing waits until the
//! receiver takes it, logged attempt by attempt, delivered even when the
//! server restarts between attempts; private targets are refused unless
//! the server allows them. The receiver is written here, on loopback.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::{TestServer, assert_error, png};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use studio::Config;

#[derive(Clone, Debug)]
struct Received {
    signature: String,
    body: String,
}

/// A webhook receiver on loopback: answers the statuses of `plan` in turn,
/// then 200, and keeps every request.
#[derive(Clone)]
struct Receiver {
    url: String,
    seen: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start(plan: Vec<u16>) -> Self {
        type Shared = (Arc<Mutex<Vec<Received>>>, Arc<Vec<u16>>);
        async fn hook(
            State((seen, plan)): State<Shared>,
            headers: HeaderMap,
            body: String,
        ) -> StatusCode {
            let mut seen = seen.lock().unwrap();
            let status = plan.get(seen.len()).copied().unwrap_or(200);
            seen.push(Received {
                signature: headers
                    .get("studio-signature")
                    .map(|v| v.to_str().unwrap().to_owned())
                    .unwrap_or_default(),
                body,
            });
            StatusCode::from_u16(status).unwrap()
        }
        let seen = Arc::new(Mutex::new(Vec::new()));
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(hook))
            .with_state((seen.clone(), Arc::new(plan)));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, seen }
    }

    fn seen(&self) -> Vec<Received> {
        self.seen.lock().unwrap().clone()
    }

    /// Waits until `n` requests have come.
    async fn wait_for(&self, n: usize, deadline: Duration) -> Vec<Received> {
        let start = std::time::Instant::now();
        loop {
            let seen = self.seen();
            if seen.len() >= n {
                return seen;
            }
            assert!(
                start.elapsed() < deadline,
                "{} of {n} webhook requests came within {deadline:?}",
                seen.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Verifies a `Studio-Signature` as a receiver would (the README's recipe).
fn verify(secret: &str, signature: &str, body: &str) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in signature.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => t = Some(value),
            Some(("v1", value)) => v1 = Some(value),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let age = chrono::Utc::now().timestamp() - t.parse::<i64>().unwrap();
    hex::decode(v1).is_ok_and(|sig| mac.verify_slice(&sig).is_ok()) && age.abs() < 300
}

fn config(dir: &std::path::Path) -> Config {
    let mut config = Config::with_data_dir(dir);
    config.jobs.webhook_allow_private = true;
    config.jobs.webhook_retry_secs = 0.2;
    config
}

async fn picture(s: &TestServer, session: &str) -> String {
    let (status, asset) = s
        .upload(session, "p.png", png(320, 240, [20, 90, 160]))
        .await;
    assert_eq!(status, 201, "{asset}");
    asset["name"].as_str().unwrap().to_owned()
}

fn render(asset: &str, seconds: f64) -> Value {
    json!({
        "timeline": [{"asset_id": asset, "duration": seconds}],
        "output": {"width": 320, "height": 240, "quality": "draft"}
    })
}

async fn secret(s: &TestServer, body: Value) -> String {
    let (status, set) = s.put_json("/api/v1/webhook", body).await;
    assert_eq!(status, 200, "{set}");
    let secret = set["secret"].as_str().unwrap().to_owned();
    let (_, shown) = s.get_json("/api/v1/webhook").await;
    assert!(
        shown.get("secret").is_none(),
        "the secret is shown once: {shown}"
    );
    secret
}

#[tokio::test]
async fn a_render_callback_is_signed_and_retried_until_the_receiver_takes_it() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start_with(config(dir.path())).await;
    let receiver = Receiver::start(vec![500, 500, 500]).await;
    let secret = secret(&s, json!({"url": null})).await;
    let asset = picture(&s, "hooks").await;

    let mut body = render(&asset, 1.0);
    body["callback"] = json!({"url": receiver.url});
    let (status, job) = s.post_json("/api/v1/sessions/hooks/compose", body).await;
    assert_eq!(status, 202, "a callback makes the render a job: {job}");

    let seen = receiver.wait_for(4, Duration::from_secs(60)).await;
    for r in &seen {
        assert!(
            verify(&secret, &r.signature, &r.body),
            "signed: {}",
            r.signature
        );
        assert!(!verify("whsec_wrong", &r.signature, &r.body));
    }
    let event: Value = serde_json::from_str(&seen[3].body).unwrap();
    assert_eq!(event["event"], "job.succeeded");
    assert_eq!(event["job"]["job_id"], job["job_id"]);
    assert_eq!(event["job"]["status"], "succeeded");
    assert!(
        event["job"]["result"]["name"]
            .as_str()
            .unwrap()
            .ends_with(".mp4")
    );
    assert!(event["sent_at"].is_string());

    // The log: four attempts, the fourth delivered.
    let url = format!(
        "/api/v1/sessions/hooks/jobs/{}/deliveries",
        job["job_id"].as_str().unwrap()
    );
    let log = loop {
        let (status, log) = s.get_json(&url).await;
        assert_eq!(status, 200, "{log}");
        if log["deliveries"][0]["status"] != "pending" {
            break log;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let delivery = &log["deliveries"][0];
    assert_eq!(delivery["status"], "delivered", "{log}");
    assert_eq!(delivery["event"], "job.succeeded");
    let codes: Vec<i64> = delivery["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status_code"].as_i64().unwrap())
        .collect();
    assert_eq!(
        codes,
        vec![500, 500, 500, 200],
        "exactly at the fourth attempt"
    );
    assert!(
        delivery["attempts"][0]["error"]
            .as_str()
            .unwrap()
            .contains("500")
    );
    assert!(delivery["attempts"][3]["latency_ms"].as_i64().is_some());
    assert_eq!(receiver.seen().len(), 4, "nothing after the delivery");

    // Another key's view of the deliveries: none of its business.
    let (status, _) = s
        .get_json("/api/v1/sessions/other/jobs/nope/deliveries")
        .await;
    assert_eq!(status, 404);
    s.stop().await;
}

#[tokio::test]
async fn the_default_webhook_hears_the_events_it_asks_for() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start_with(config(dir.path())).await;
    let receiver = Receiver::start(vec![]).await;
    let secret = secret(&s, json!({"url": receiver.url, "events": ["cancelled"]})).await;
    let asset = picture(&s, "dflt").await;

    // A render that succeeds: not asked for.
    let mut quick = render(&asset, 1.0);
    quick["async"] = json!(true);
    let (status, done) = s.post_json("/api/v1/sessions/dflt/compose", quick).await;
    assert_eq!(status, 202, "{done}");
    let ended = s
        .wait_for_job(
            done["events_url"].as_str().unwrap(),
            |j| j["status"] == "succeeded",
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(ended["status"], "succeeded");

    // A queued render cancelled: told.
    let mut long = render(&asset, 60.0);
    long["async"] = json!(true);
    long["output"]["quality"] = json!("high");
    let (status, job) = s.post_json("/api/v1/sessions/dflt/compose", long).await;
    assert_eq!(status, 202, "{job}");
    let id = job["job_id"].as_str().unwrap();
    assert_eq!(
        s.delete(&format!("/api/v1/sessions/dflt/jobs/{id}")).await,
        202
    );
    let seen = receiver.wait_for(1, Duration::from_secs(30)).await;
    let event: Value = serde_json::from_str(&seen[0].body).unwrap();
    assert_eq!(event["event"], "job.cancelled", "{event}");
    assert_eq!(event["job"]["job_id"], job["job_id"]);
    assert!(verify(&secret, &seen[0].signature, &seen[0].body));
    let (_, log) = s
        .get_json(&format!(
            "/api/v1/sessions/dflt/jobs/{}/deliveries",
            done["job_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(log["deliveries"], json!([]), "a success was not asked for");
    assert_eq!(receiver.seen().len(), 1);

    // No default: nothing is told.
    assert_eq!(s.delete("/api/v1/webhook").await, 204);
    let (_, settings) = s.get_json("/api/v1/webhook").await;
    assert_eq!(settings["url"], Value::Null);
    s.stop().await;
}

#[tokio::test]
async fn a_delivery_survives_a_restart_between_attempts() {
    let dir = tempfile::tempdir().unwrap();
    let mut slow = config(dir.path());
    slow.jobs.webhook_retry_secs = 2.0;
    let s = TestServer::start_with(slow).await;
    let receiver = Receiver::start(vec![503]).await;
    let asset = picture(&s, "again").await;
    let mut body = render(&asset, 1.0);
    body["callback"] = json!({"url": receiver.url, "events": ["succeeded"]});
    let (status, job) = s.post_json("/api/v1/sessions/again/compose", body).await;
    assert_eq!(status, 202, "{job}");
    receiver.wait_for(1, Duration::from_secs(60)).await;
    // Stopped once the failed attempt is logged (a server stopped while an
    // attempt is on its way leaves the delivery leased for 30 s).
    let url = format!(
        "/api/v1/sessions/again/jobs/{}/deliveries",
        job["job_id"].as_str().unwrap()
    );
    let started = std::time::Instant::now();
    loop {
        let (_, log) = s.get_json(&url).await;
        if log["deliveries"][0]["attempts"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
        {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{log}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    s.stop().await;

    // The retry is due in two seconds; the next server sends it.
    let s = TestServer::start_with(config(dir.path())).await;
    let seen = receiver.wait_for(2, Duration::from_secs(30)).await;
    let event: Value = serde_json::from_str(&seen[1].body).unwrap();
    assert_eq!(event["job"]["job_id"], job["job_id"]);
    assert_eq!(event["event"], "job.succeeded");
    s.stop().await;
}

#[tokio::test]
async fn private_targets_are_refused_without_the_setting() {
    let s = TestServer::start().await;
    let receiver = Receiver::start(vec![]).await;
    let asset = picture(&s, "ssrf").await;
    for url in [
        receiver.url.clone(),
        "http://169.254.169.254/latest/meta-data/".into(),
        "http://localhost:9/x".into(),
        "http://[::1]/x".into(),
        "file:///etc/passwd".into(),
    ] {
        let mut body = render(&asset, 1.0);
        body["callback"] = json!({ "url": url });
        let (status, err) = s.post_json("/api/v1/sessions/ssrf/compose", body).await;
        assert_eq!(status, 422, "{url}: {err}");
        assert_eq!(err["error"]["field"], "callback.url", "{err}");
        let (status, err) = s.put_json("/api/v1/webhook", json!({ "url": url })).await;
        assert_eq!(status, 422, "{url}: {err}");
        assert_eq!(err["error"]["field"], "url");
    }
    let mut body = render(&asset, 1.0);
    body["callback"] = json!({"url": "https://example.com/h", "events": ["finished"]});
    let (status, err) = s.post_json("/api/v1/sessions/ssrf/compose", body).await;
    assert_eq!(status, 422);
    assert_error(&err, "invalid_request");
    assert_eq!(err["error"]["field"], "callback.events[0]");
    let (_, videos) = s.get_json("/api/v1/sessions/ssrf/assets?type=video").await;
    assert_eq!(videos, json!([]), "nothing was rendered");
    assert!(receiver.seen().is_empty());
    s.stop().await;
}
