//! Many processes, one Postgres and one bucket: two API nodes (`studio serve
//! --no-worker`) and two render workers (`studio worker`), real processes of
//! the real binary, on a real PostgreSQL and a real S3-compatible server
//! (moto) on loopback. Jobs submitted to one node run once each, spread over
//! the workers; status, events and cancel work from the other node; a
//! worker killed with SIGKILL mid-render has its job finished by the other;
//! one stopped with SIGTERM hands its job back to run elsewhere at once;
//! after everything restarts, queued jobs run and nothing is half-made.

use crate::common;

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::common::backends::{Postgres, S3};
use crate::common::png;

const RED: [u8; 3] = [220, 20, 20];
use futures::StreamExt;
use serde_json::{Value, json};

struct Farm {
    db: String,
    bucket: String,
    dir: tempfile::TempDir,
}

struct Process {
    child: Child,
    base: Option<String>,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base.as_deref().unwrap())
    }

    fn terminate(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .status();
        let _ = self.child.wait();
    }
}

impl Farm {
    /// A studio process with its own working folder, on the shared database
    /// and bucket.
    fn studio(&self, name: &str, args: &[&str]) -> Process {
        let data = self.dir.path().join(name);
        std::fs::create_dir_all(&data).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_studio"));
        cmd.env("STUDIO_DATA_DIR", &data)
            .env("STUDIO_DATABASE_URL", &self.db)
            .env("STUDIO_STORAGE_URL", &self.bucket)
            .env("STUDIO_WORKER_HEARTBEAT_SECS", "1")
            .env("RUST_LOG", "info")
            .args(args);
        let ready = if args[0] == "serve" {
            "listening on"
        } else {
            "waiting for jobs"
        };
        let (child, line) = common::spawn_until(cmd, ready);
        let base = line.find("http://").map(|i| line[i..].trim().to_owned());
        Process { child, base }
    }

    fn node(&self, name: &str) -> Process {
        self.studio(name, &["serve", "--no-worker", "--addr", "127.0.0.1:0"])
    }

    fn worker(&self, name: &str) -> Process {
        self.studio(name, &["worker", "--concurrency", "1"])
    }
}

async fn get(url: &str) -> Value {
    let resp = reqwest::get(url).await.unwrap();
    assert_eq!(resp.status(), 200, "{url}");
    resp.json().await.unwrap()
}

/// Queues a render of `seconds` (each length its own, so that the render
/// cache cannot serve one render from another).
async fn compose(node: &Process, session: &str, seconds: f64) -> Value {
    let body = json!({
        "async": true,
        "timeline": [{"asset_id": "image_1.png", "duration": seconds}],
        "output": {"width": 640, "height": 360},
    });
    let resp = reqwest::Client::new()
        .post(node.url(&format!("/api/v1/sessions/{session}/compose")))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    resp.json().await.unwrap()
}

/// Follows the job's events at `node` until `done` holds.
async fn wait_until(node: &Process, job: &Value, done: impl Fn(&Value) -> bool) -> Value {
    let url = node.url(job["events_url"].as_str().unwrap());
    common::follow_job(
        &reqwest::Client::new(),
        &url,
        done,
        Duration::from_secs(180),
    )
    .await
}

fn finished(view: &Value) -> bool {
    !matches!(view["status"].as_str(), Some("queued" | "running"))
}

/// The pids of ffmpeg processes whose parent is `pid`.
fn ffmpeg_children(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...
        let Some((head, tail)) = stat.rsplit_once(") ") else {
            continue;
        };
        let ppid: u32 = tail
            .split(' ')
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        if ppid == pid && head.contains("(ffmpeg") {
            found.push(head.split(' ').next().unwrap().parse().unwrap());
        }
    }
    found
}

/// Which worker runs (or ran) the job, and at which attempt.
async fn worker_and_attempts(db: &sqlx::PgPool, id: &str) -> (String, i64) {
    sqlx::query_as("SELECT worker, attempts FROM jobs WHERE id = $1")
        .bind(id)
        .fetch_one(db)
        .await
        .unwrap()
}

async fn videos(node: &Process, session: &str) -> Vec<Value> {
    get(&node.url(&format!("/api/v1/sessions/{session}/assets?type=video")))
        .await
        .as_array()
        .unwrap()
        .clone()
}

/// Every listed video is whole: it downloads, and ffprobe reads the length
/// its metadata states.
async fn check_whole(node: &Process, videos: &[Value], dir: &Path) {
    for video in videos {
        let bytes = reqwest::get(node.url(video["url"].as_str().unwrap()))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let path = dir.join(video["name"].as_str().unwrap());
        std::fs::write(&path, &bytes).unwrap();
        let probe = common::ffprobe(&path);
        let duration: f64 = probe["format"]["duration"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let stated = video["metadata"]["duration_seconds"].as_f64().unwrap();
        assert!(
            duration > 2.0 && (duration - stated).abs() < 0.1,
            "{}: {duration} s, stated {stated} s",
            video["name"]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_api_nodes_and_two_workers_share_one_postgres_and_one_bucket() {
    let pg = Postgres::start();
    let s3 = S3::start();
    let farm = Farm {
        db: pg.database().await,
        bucket: s3.bucket().await,
        dir: tempfile::tempdir().unwrap(),
    };
    let db = sqlx::PgPool::connect(&farm.db).await.unwrap();
    let mut a = farm.node("a");
    let mut b = farm.node("b");
    let mut w1 = farm.worker("w1");
    let mut w2 = farm.worker("w2");

    // An image, uploaded to node A.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(png(64, 64, RED)).file_name("red.png"),
    );
    let resp = reqwest::Client::new()
        .post(a.url("/api/v1/sessions/farm/uploads"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);

    // 8 renders submitted to A, watched from B: each succeeds, once.
    let mut jobs = Vec::new();
    for i in 0..8 {
        jobs.push(compose(&a, "farm", 8.0 + f64::from(i) * 0.5).await);
    }
    let mut names = Vec::new();
    for job in &jobs {
        let view = wait_until(&b, job, finished).await;
        assert_eq!(view["status"], "succeeded", "{view}");
        names.push(view["result"]["name"].as_str().unwrap().to_owned());
    }
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 8, "eight different videos: {names:?}");
    let listed = videos(&b, "farm").await;
    assert_eq!(listed.len(), 8, "each render listed exactly once");
    {
        let workers: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT worker FROM jobs WHERE kind = 'compose'")
                .fetch_all(&db)
                .await
                .unwrap();
        eprintln!("renders ran on {workers:?}");
        let pids: Vec<String> = [w1.pid(), w2.pid()]
            .iter()
            .map(|p| format!(":{p}"))
            .collect();
        for pid in &pids {
            assert!(
                workers.iter().any(|w| w.ends_with(pid)),
                "both workers rendered: {workers:?}"
            );
        }
        let attempts: Vec<i64> = sqlx::query_scalar("SELECT attempts FROM jobs")
            .fetch_all(&db)
            .await
            .unwrap();
        assert!(attempts.iter().all(|n| *n == 1), "{attempts:?}");
    }

    // Events of a job submitted to A, streamed from B, to the end.
    let job = compose(&a, "farm", 20.0).await;
    let resp = reqwest::get(b.url(job["events_url"].as_str().unwrap()))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut body = resp.bytes_stream();
    let mut text = String::new();
    while let Some(chunk) = body.next().await {
        text.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
    }
    let states: Vec<Value> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(|d| serde_json::from_str(d.trim()).unwrap())
        .collect();
    assert_eq!(states.last().unwrap()["status"], "succeeded", "{states:?}");
    assert!(
        states.iter().any(|s| s["status"] == "running"),
        "{states:?}"
    );

    // Cancel sent to B stops the render on whichever worker runs it.
    let job = compose(&a, "farm", 240.0).await;
    wait_until(&b, &job, |v| {
        v["status"] == "running" && v["progress"].as_f64().unwrap_or(0.0) > 0.0
    })
    .await;
    let resp = reqwest::Client::new()
        .delete(b.url(job["status_url"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let asked = Instant::now();
    let view = wait_until(&b, &job, finished).await;
    assert_eq!(view["status"], "cancelled", "{view}");
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "{:?}",
        asked.elapsed()
    );
    // Its ffmpeg processes end with it (a render left running would hold
    // them for most of its 60 s).
    let until = Instant::now() + Duration::from_secs(10);
    while !(ffmpeg_children(w1.pid()).is_empty() && ffmpeg_children(w2.pid()).is_empty()) {
        assert!(
            Instant::now() < until,
            "ffmpeg still runs for the cancelled render"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        videos(&b, "farm").await.len(),
        9,
        "nothing from the cancelled render"
    );

    // A worker killed mid-render: the other one runs the job again.
    let job = compose(&a, "farm", 60.0).await;
    wait_until(&b, &job, |v| v["status"] == "running").await;
    let id = job["job_id"].as_str().unwrap().to_owned();
    let (worker, _) = worker_and_attempts(&db, &id).await;
    let (victim, survivor) = if worker.ends_with(&format!(":{}", w1.pid())) {
        (&mut w1, w2.pid())
    } else {
        (&mut w2, w1.pid())
    };
    let victim_pid = victim.pid();
    victim.child.kill().unwrap(); // SIGKILL
    victim.child.wait().unwrap();
    let view = wait_until(&b, &job, finished).await;
    assert_eq!(view["status"], "succeeded", "{view}");
    let (worker, attempts) = worker_and_attempts(&db, &id).await;
    eprintln!("killed {victim_pid}; the job finished on {worker} at attempt {attempts}");
    assert!(worker.ends_with(&format!(":{survivor}")), "{worker}");
    assert!(!worker.ends_with(&format!(":{victim_pid}")));
    assert_eq!(attempts, 2);
    assert_eq!(
        videos(&b, "farm").await.len(),
        10,
        "the killed attempt left nothing listed"
    );

    // A worker stopped with SIGTERM mid-render hands its job back at once:
    // another worker runs it from the start, and the stopped attempt does
    // not count (a job taken up after missed heartbeats would be at 2).
    let mut w3 = farm.worker("w3");
    let job = compose(&a, "farm", 45.0).await;
    wait_until(&b, &job, |v| {
        v["status"] == "running" && v["progress"].as_f64().unwrap() > 0.0
    })
    .await;
    let id = job["job_id"].as_str().unwrap().to_owned();
    let (worker, _) = worker_and_attempts(&db, &id).await;
    let stopping = [&mut w1, &mut w2, &mut w3]
        .into_iter()
        .find(|w| worker.ends_with(&format!(":{}", w.pid())))
        .expect("a live worker runs it");
    let stopped_pid = stopping.pid();
    stopping.terminate();
    let view = wait_until(&b, &job, finished).await;
    assert_eq!(view["status"], "succeeded", "{view}");
    let (worker, attempts) = worker_and_attempts(&db, &id).await;
    assert!(!worker.ends_with(&format!(":{stopped_pid}")), "{worker}");
    assert_eq!(attempts, 1, "a handed-back attempt is not counted");
    assert_eq!(videos(&b, "farm").await.len(), 11, "listed once");

    // Everything stops; jobs queued meanwhile run after the restart.
    w1.terminate();
    w2.terminate();
    w3.terminate();
    let queued = [
        compose(&a, "farm", 3.0).await,
        compose(&b, "farm", 3.5).await,
    ];
    a.terminate();
    b.terminate();
    let a = farm.node("a");
    let _w = farm.worker("w4");
    for job in &queued {
        let view = wait_until(&a, job, finished).await;
        assert_eq!(view["status"], "succeeded", "{view}");
    }
    let listed = videos(&a, "farm").await;
    assert_eq!(listed.len(), 13);
    check_whole(&a, &listed, farm.dir.path()).await;

    // No stored object without its row.
    let mut config = studio::Config::with_data_dir(farm.dir.path().join("check"));
    config.database_url = Some(farm.db.clone());
    config.storage_url = Some(farm.bucket.clone());
    let store = studio::store::Store::open(&config).await.unwrap();
    let collected = store.collect_orphans(Duration::ZERO).await.unwrap();
    assert_eq!(collected.removed, 0, "no orphan objects");
    let missing = store.missing_bytes().await.unwrap();
    assert!(missing.is_empty(), "{missing:?}");
}
