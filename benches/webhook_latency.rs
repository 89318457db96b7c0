//! Webhook delivery latency on loopback: from a job's end (its final
//! `updated_at`) to its signed POST arriving at a receiver, over 40 renders
//! with callbacks. Baseline in the same run: the same jobs' event streams
//! (`GET .../events`, what a client without webhooks follows), from the end
//! to the final event arriving.
//!
//! Run: `cargo bench --bench webhook_latency`

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde_json::{Value, json};
use studio::{Config, Studio};

const JOBS: usize = 40;

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn ended_at(job: &Value) -> DateTime<Utc> {
    job["updated_at"].as_str().unwrap().parse().unwrap()
}

fn ms(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_microseconds().unwrap() as f64 / 1000.0
}

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(run());
}

async fn run() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::with_data_dir(dir.path());
    config.jobs.webhook_allow_private = true;
    config.limits.max_jobs_per_client = 1000;
    config.limits.max_waiting_work = 1000;
    let studio = Studio::open(config).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(studio::api::serve(
        listener,
        studio.clone(),
        std::future::pending(),
    ));
    let stop = tokio_util::sync::CancellationToken::new();
    tokio::spawn(studio::worker::run(studio.clone(), 2, stop.clone()));

    // The receiver notes when each event arrives.
    type Arrivals = Arc<Mutex<Vec<(Value, DateTime<Utc>)>>>;
    async fn hook(State(arrivals): State<Arrivals>, body: String) -> &'static str {
        let at = Utc::now();
        let event: Value = serde_json::from_str(&body).unwrap();
        arrivals.lock().unwrap().push((event, at));
        "ok"
    }
    let arrivals: Arrivals = Arc::default();
    let receiver = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_url = format!("http://{}/hook", receiver.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(arrivals.clone());
    tokio::spawn(async move { axum::serve(receiver, app).await.unwrap() });

    let client = reqwest::Client::new();
    let png = {
        let mut bytes = Vec::new();
        image::RgbImage::from_pixel(160, 120, image::Rgb([40, 90, 160]))
            .write_to(
                &mut std::io::Cursor::new(&mut bytes),
                image::ImageFormat::Png,
            )
            .unwrap();
        bytes
    };
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(png).file_name("p.png"),
    );
    let asset: Value = client
        .post(format!("{base}/api/v1/sessions/bench/uploads"))
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let name = asset["name"].as_str().unwrap().to_owned();

    let mut streamed = Vec::new();
    for _ in 0..JOBS {
        let job: Value = client
            .post(format!("{base}/api/v1/sessions/bench/compose"))
            .json(&json!({
                "timeline": [{"asset_id": name, "duration": 0.5}],
                "output": {"width": 160, "height": 120, "quality": "draft"},
                "callback": {"url": hook_url}
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        // Follow its event stream to the end, noting when the end arrives.
        let events = client
            .get(format!("{base}{}", job["events_url"].as_str().unwrap()))
            .send()
            .await
            .unwrap();
        let mut stream = events.bytes_stream();
        let mut text = String::new();
        'stream: while let Some(chunk) = stream.next().await {
            text.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
            for line in text.lines() {
                if let Some(data) = line.strip_prefix("data:") {
                    let view: Value = serde_json::from_str(data.trim()).unwrap_or(Value::Null);
                    if view["status"] == "succeeded" {
                        streamed.push(ms(ended_at(&view), Utc::now()));
                        break 'stream;
                    }
                }
            }
        }
    }
    // Every webhook has come (or this waits for the stragglers).
    for _ in 0..200 {
        if arrivals.lock().unwrap().len() >= JOBS {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let hooked: Vec<f64> = arrivals
        .lock()
        .unwrap()
        .iter()
        .map(|(event, at)| ms(ended_at(&event["job"]), *at))
        .collect();
    assert_eq!(hooked.len(), JOBS, "every job's webhook arrived");
    assert_eq!(streamed.len(), JOBS);
    let (h50, h99) = (percentile(hooked.clone(), 0.5), percentile(hooked, 0.99));
    let (s50, s99) = (
        percentile(streamed.clone(), 0.5),
        percentile(streamed, 0.99),
    );
    println!("webhook delivery, job end -> POST arrives ({JOBS} renders on loopback):");
    println!("  webhook:      p50 {h50:7.1} ms   p99 {h99:7.1} ms");
    println!("  event stream: p50 {s50:7.1} ms   p99 {s99:7.1} ms   (baseline)");
    println!(
        "  ratio webhook / event stream: p50 {:.2}x, p99 {:.2}x",
        h50 / s50,
        h99 / s99
    );
    stop.cancel();
}
