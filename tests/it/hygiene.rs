//! Nothing left behind: external programs die with the server, even when
//! the server is killed with SIGKILL.

use crate::common;

use std::time::{Duration, Instant};

use crate::common::png;
use serde_json::json;

/// The pids of `parent`'s children running `name` (from /proc).
fn children(parent: u32, name: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let (comm, rest) = stat.split_once(") ").unwrap_or_default();
        let ppid: u32 = rest
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        if ppid == parent && comm.ends_with(&format!("({name}")) {
            found.push(pid);
        }
    }
    found
}

/// Running: the process exists and is not a zombie.
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            stat.split_once(") ")
                .is_some_and(|(_, rest)| !rest.starts_with('Z'))
        })
        .unwrap_or(false)
}

#[tokio::test]
async fn ffmpeg_dies_with_a_killed_server() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, base) = common::serve(dir.path());
    let base = format!("{base}/api/v1/sessions/hygiene");
    let client = reqwest::Client::new();
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(png(64, 36, [200, 30, 30])).file_name("a.png"),
    );
    let r = client
        .post(format!("{base}/uploads"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let accepted = client
        .post(format!("{base}/compose"))
        .json(&json!({
            "timeline": [{"asset_id": "image_1.png", "duration": 300, "effect": "zoom_in"}],
            "output": {"width": 1920, "height": 1080, "quality": "high"},
            "async": true
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 202);
    let started = Instant::now();
    let ffmpeg = loop {
        if let Some(pid) = children(server.id(), "ffmpeg").first() {
            break *pid;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the render starts"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    server.kill().unwrap(); // SIGKILL: no handler, no cleanup in the server
    server.wait().unwrap();
    let killed = Instant::now();
    while alive(ffmpeg) {
        assert!(
            killed.elapsed() < Duration::from_secs(5),
            "ffmpeg {ffmpeg} outlived the server"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn leftovers_of_crashed_runs_are_removed_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("tmp");
    // A run whose process is gone (no pid can be this large), with a partial render.
    let dead = tmp.join("run-4194400");
    std::fs::create_dir_all(dead.join("render-x")).unwrap();
    std::fs::write(dead.join("render-x/video.mp4"), vec![0u8; 1 << 20]).unwrap();
    // Loose leftovers of an older version: an old one goes, a fresh one stays.
    let old = tmp.join("upload-old");
    std::fs::write(&old, b"partial").unwrap();
    let two_hours_ago = std::time::SystemTime::now() - Duration::from_secs(7200);
    std::fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(two_hours_ago)
        .unwrap();
    let fresh = tmp.join("upload-fresh");
    std::fs::write(&fresh, b"in use").unwrap();
    // A live process's folder (this test's own pid, as another run would be).
    let live = tmp.join(format!("run-{}", std::process::id()));
    std::fs::create_dir_all(&live).unwrap();
    std::fs::write(live.join("keep"), b"busy").unwrap();

    let s = common::TestServer::start_with(studio::Config::with_data_dir(dir.path())).await;
    assert!(!dead.exists(), "a dead run's folder is removed");
    assert!(!old.exists(), "an old leftover is removed");
    assert!(
        fresh.exists() && live.join("keep").exists(),
        "live work stays"
    );
    s.stop().await;
}

#[tokio::test]
async fn stored_bytes_without_a_row_are_collected_and_rows_without_bytes_reported() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    // A real asset, made through the CLI.
    common::studio_ok(data, &["image", "--session", "gc", "a red barn"]);
    let assets = data.join("assets/sessions/gc");
    let real: Vec<_> = std::fs::read_dir(&assets)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(real.len(), 1);
    // Bytes a crash left behind: an old one (past the grace period) and a fresh one.
    let old = assets.join("0123456789abcdef0123456789abcdef.png");
    std::fs::write(&old, vec![1u8; 4096]).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - Duration::from_secs(7200))
        .unwrap();
    let fresh = assets.join("fedcba9876543210fedcba9876543210.png");
    std::fs::write(&fresh, b"being written").unwrap();

    let mut server = common::studio_command(data)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let lines = BufReader::new(server.stderr.take().unwrap()).lines();
    std::thread::spawn(move || for _ in lines {});
    let deadline = Instant::now() + Duration::from_secs(30);
    while old.exists() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = server.kill();
    let _ = server.wait();
    assert!(!old.exists(), "an old orphan is removed at start");
    assert!(
        fresh.exists() && real[0].exists(),
        "fresh bytes and real assets stay"
    );

    let ok = common::studio_ok(data, &["doctor", "--check-storage"]);
    assert!(ok.contains("every asset's bytes are there"), "{ok}");
    // A file cut short is damaged, and said so.
    let whole = std::fs::read(&real[0]).unwrap();
    std::fs::write(&real[0], &whole[..whole.len() / 2]).unwrap();
    let check_fails_saying = |what: &str| {
        let out = common::studio_command(data)
            .args(["doctor", "--check-storage"])
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(!out.status.success(), "the check fails: {said}");
        assert!(said.contains(what), "{said}");
    };
    check_fails_saying("damaged  gc/image_1.png");
    std::fs::remove_file(&real[0]).unwrap();
    check_fails_saying("missing  bytes of gc/image_1.png");
}
