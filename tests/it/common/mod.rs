//! Test harness: the real application on a random loopback port, driven over HTTP.

pub mod backends;

use std::path::{Path, PathBuf};
use std::process::Command;

use reqwest::multipart::{Form, Part};
use serde_json::Value;
use studio::{Config, Studio};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct TestServer {
    pub base: String,
    pub client: reqwest::Client,
    pub studio: Studio,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    /// The in-process worker, as `studio serve` runs it.
    worker: Option<JoinHandle<()>>,
    _dir: Option<tempfile::TempDir>,
}

impl TestServer {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut server = Self::start_with(Config::with_data_dir(dir.path())).await;
        server._dir = Some(dir);
        server
    }

    pub async fn start_with(config: Config) -> Self {
        Self::start_inner(config, true).await
    }

    /// The API without a worker (`studio serve --no-worker`): jobs stay queued.
    pub async fn start_api_only(config: Config) -> Self {
        Self::start_inner(config, false).await
    }

    async fn start_inner(config: Config, worker: bool) -> Self {
        // The server's warnings and errors go with the test's own output
        // (shown when it fails); RUST_LOG chooses more.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "warn".into()),
            )
            .with_test_writer()
            .try_init();
        let config = backends::from_env(config).await;
        let studio = Studio::open(config).await.expect("studio opens");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn({
            let studio = studio.clone();
            async move {
                studio::api::serve(listener, studio, async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
            }
        });
        let worker = worker.then(|| {
            let studio = studio.clone();
            tokio::spawn(async move {
                let stop = tokio_util::sync::CancellationToken::new();
                studio::worker::run(studio, 2, stop).await.unwrap();
            })
        });
        Self {
            base,
            client: reqwest::Client::new(),
            studio,
            stop: Some(stop),
            task: Some(task),
            worker,
            _dir: None,
        }
    }

    pub async fn stop(mut self) {
        if let Some(worker) = self.worker.take() {
            worker.abort();
            let _ = worker.await;
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
        self.studio.store().close().await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let resp = self.get(path).await;
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn post_json(&self, path: &str, body: Value) -> (u16, Value) {
        self.send_json(reqwest::Method::POST, path, body).await
    }

    pub async fn put_json(&self, path: &str, body: Value) -> (u16, Value) {
        self.send_json(reqwest::Method::PUT, path, body).await
    }

    async fn send_json(&self, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
        let resp = self
            .client
            .request(method, self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn delete(&self, path: &str) -> u16 {
        let resp = self.client.delete(self.url(path)).send().await.unwrap();
        resp.status().as_u16()
    }

    pub async fn upload(&self, session: &str, file_name: &str, bytes: Vec<u8>) -> (u16, Value) {
        let form = Form::new().part("file", Part::bytes(bytes).file_name(file_name.to_owned()));
        self.upload_form(session, form).await
    }

    pub async fn upload_form(&self, session: &str, form: Form) -> (u16, Value) {
        let resp = self
            .client
            .post(self.url(&format!("/api/v1/sessions/{session}/uploads")))
            .multipart(form)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Waits until a render is under way in this server (`begun`: its
    /// work folder `render-…` is in the temporary folder) or until none is
    /// (every render's work folder is gone: they ended, whichever way).
    pub async fn wait_for_renders(&self, begun: bool, deadline: std::time::Duration) {
        let tmp = self.studio.config().tmp_dir();
        let rendering = || {
            std::fs::read_dir(&tmp).is_ok_and(|entries| {
                entries
                    .flatten()
                    .any(|e| e.file_name().to_string_lossy().starts_with("render-"))
            })
        };
        let until = std::time::Instant::now() + deadline;
        while rendering() != begun {
            assert!(
                std::time::Instant::now() < until,
                "{}: no render {} within {deadline:?}",
                tmp.display(),
                if begun { "began" } else { "ended" }
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Follows a job's event stream (its `events_url`, or the `status_url`
    /// it extends) until `done` holds for a view of it (or the stream ends,
    /// or `deadline` passes: a failure). `done` sees every view the stream
    /// sends, in order.
    pub async fn wait_for_job(
        &self,
        job_url: &str,
        done: impl Fn(&Value) -> bool,
        deadline: std::time::Duration,
    ) -> Value {
        follow_job(&self.client, &self.url(job_url), done, deadline).await
    }

    /// How many of the session's assets are of type `kind`.
    pub async fn count_assets(&self, session: &str, kind: &str) -> usize {
        let (status, assets) = self
            .get_json(&format!("/api/v1/sessions/{session}/assets"))
            .await;
        assert_eq!(status, 200, "{assets}");
        assets
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["type"] == kind)
            .count()
    }

    /// Downloads an asset's bytes through its `url`.
    pub async fn download(&self, asset: &Value) -> Vec<u8> {
        let resp = self.get(asset["url"].as_str().unwrap()).await;
        assert_eq!(resp.status(), 200);
        resp.bytes().await.unwrap().to_vec()
    }
}

/// Asserts the error shape and code, returning the message.
pub fn assert_error(body: &Value, code: &str) -> String {
    assert_eq!(body["error"]["code"], code, "body: {body}");
    let message = body["error"]["message"]
        .as_str()
        .expect("error.message is a string");
    assert!(!message.is_empty());
    message.to_owned()
}

/// A solid-colour PNG.
pub fn png(width: u32, height: u32, rgb: [u8; 3]) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(width, height, image::Rgb(rgb));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// Runs ffmpeg with `args` (lavfi sources) to make a fixture file.
/// A PNG of varied pixels (so its data spans several chunks' worth of bytes).
pub fn noisy_png(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        let v = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) as u8;
        image::Rgb([v, v.wrapping_mul(3), v.wrapping_add(x as u8)])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

pub fn ffmpeg_fixture(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .arg(&out)
        .status()
        .expect("ffmpeg is installed");
    assert!(status.success(), "ffmpeg fixture {name}");
    out
}

/// A one-second 320×240 test-pattern clip without a sound track.
pub fn silent_clip(dir: &Path, name: &str) -> PathBuf {
    ffmpeg_fixture(
        dir,
        name,
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=s=320x240:d=1",
            "-pix_fmt",
            "yuv420p",
        ],
    )
}

/// A tone of `seconds` as MP3.
pub fn tone_mp3(dir: &Path, name: &str, seconds: f64) -> PathBuf {
    ffmpeg_fixture(
        dir,
        name,
        &[
            "-f",
            "lavfi",
            "-i",
            &format!("sine=frequency=440:duration={seconds}"),
            "-c:a",
            "libmp3lame",
        ],
    )
}

/// ffprobe's JSON for a file.
pub fn ffprobe(path: &Path) -> Value {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
        ])
        .arg(path)
        .output()
        .expect("ffprobe is installed");
    assert!(out.status.success(), "ffprobe {}", path.display());
    serde_json::from_slice(&out.stdout).unwrap()
}

/// ffmpeg's volumedetect mean volume (dB) of a file's audio.
pub fn mean_volume_db(path: &Path) -> f64 {
    let out = Command::new("ffmpeg")
        .args(["-v", "info", "-nostdin", "-i"])
        .arg(path)
        .args(["-af", "volumedetect", "-f", "null", "-"])
        .output()
        .expect("ffmpeg is installed");
    let text = String::from_utf8_lossy(&out.stderr);
    let line = text
        .lines()
        .find(|l| l.contains("mean_volume:"))
        .expect("volumedetect output");
    line.split("mean_volume:")
        .nth(1)
        .unwrap()
        .trim()
        .trim_end_matches(" dB")
        .trim()
        .parse()
        .unwrap()
}

/// Writes bytes to a file in `dir` and returns its path.
pub fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// A WAV tone of `seconds` at 24 kHz mono, as a provider would send it.
pub fn tone_wav_bytes(seconds: f64) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = ffmpeg_fixture(
        dir.path(),
        "t.wav",
        &[
            "-f",
            "lavfi",
            "-i",
            &format!("sine=frequency=300:duration={seconds}"),
            "-ar",
            "24000",
            "-ac",
            "1",
        ],
    );
    std::fs::read(path).unwrap()
}

/// Duration (seconds) of a media file, from ffprobe's format section.
pub fn duration_of(path: &Path) -> f64 {
    ffprobe(path)["format"]["duration"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// The mean colour of the frame at `t` seconds.
pub fn mean_colour_at(path: &Path, t: f64) -> [f64; 3] {
    mean_colour_of_region(path, t, "iw:ih:0:0")
}

/// The mean colour of a crop (`w:h:x:y`, ffmpeg expressions) of the frame at `t`.
pub fn mean_colour_of_region(path: &Path, t: f64, crop: &str) -> [f64; 3] {
    let rgb = frame_rgb(path, t, &format!("crop={crop},scale=1:1:flags=area"));
    assert_eq!(rgb.len(), 3, "frame grab at {t}");
    [f64::from(rgb[0]), f64::from(rgb[1]), f64::from(rgb[2])]
}

/// The frame at `t` seconds through the filter `vf`, as raw RGB bytes.
pub fn frame_rgb(path: &Path, t: f64, vf: &str) -> Vec<u8> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-ss", &format!("{t:.3}"), "-i"])
        .arg(path)
        .args([
            "-frames:v",
            "1",
            "-vf",
            vf,
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ])
        .output()
        .expect("ffmpeg is installed");
    assert!(
        out.status.success(),
        "frame grab at {t}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The audio of a file as mono 48 kHz samples.
pub fn samples(path: &Path) -> Vec<f32> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-i"])
        .arg(path)
        .args(["-vn", "-ac", "1", "-ar", "48000", "-f", "f32le", "-"])
        .output()
        .expect("ffmpeg is installed");
    assert!(out.status.success(), "decoding {}", path.display());
    out.stdout
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Intervals ffmpeg's silencedetect finds, as (start, end).
pub fn silences(path: &Path) -> Vec<(f64, f64)> {
    let out = Command::new("ffmpeg")
        .args(["-v", "info", "-nostdin", "-i"])
        .arg(path)
        .args(["-af", "silencedetect=noise=-45dB:d=0.3", "-f", "null", "-"])
        .output()
        .expect("ffmpeg is installed");
    let text = String::from_utf8_lossy(&out.stderr);
    let mut result = Vec::new();
    let mut start = None;
    for line in text.lines() {
        if let Some(v) = line.split("silence_start: ").nth(1) {
            start = v
                .split_whitespace()
                .next()
                .and_then(|s| s.parse::<f64>().ok());
        }
        if let Some(v) = line.split("silence_end: ").nth(1) {
            let end: f64 = v.split_whitespace().next().unwrap().parse().unwrap();
            result.push((start.take().unwrap_or(0.0).max(0.0), end));
        }
    }
    if let Some(s) = start {
        result.push((s, f64::INFINITY));
    }
    result
}

/// The `studio` binary with its data in `data` (and no other storage configured).
pub fn studio_command(data: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_studio"));
    cmd.env("STUDIO_DATA_DIR", data)
        .env_remove("STUDIO_DATABASE_URL")
        .env_remove("STUDIO_STORAGE_URL");
    cmd
}

/// Starts `studio serve` (the binary) on a port the system picks, and
/// returns it with its base URL once it listens.
pub fn serve(data: &Path) -> (std::process::Child, String) {
    let mut cmd = studio_command(data);
    cmd.args(["serve", "--addr", "127.0.0.1:0"]);
    let (child, line) = spawn_until(cmd, "http://");
    let i = line.find("http://").unwrap();
    (child, line[i..].trim().to_owned())
}

/// Starts `cmd` with its standard error piped and waits for the line that
/// contains `ready`; gives the child and that line (what it prints later is
/// read and dropped). Panics with everything it printed if it stops first.
pub fn spawn_until(mut cmd: Command, ready: &str) -> (std::process::Child, String) {
    use std::io::{BufRead, BufReader};
    let mut child = cmd.stderr(std::process::Stdio::piped()).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let mut said = Vec::new();
    let line = loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("stopped before it was ready: {said:#?}"))
            .unwrap();
        if line.contains(ready) {
            break line;
        }
        said.push(line);
    };
    std::thread::spawn(move || for _ in lines {});
    (child, line)
}

/// Runs `studio ARGS`, asserts it succeeded, and returns what it printed.
pub fn studio_ok(data: &Path, args: &[&str]) -> String {
    let out = studio_command(data)
        .args(args)
        .output()
        .expect("the studio binary runs");
    assert!(
        out.status.success(),
        "studio {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Follows a job's event stream at `job_url` (its full `events_url`, or
/// the `status_url` it extends) on any studio server until `done` holds
/// for a view of it; `done` sees every view the stream sends, in order. A
/// stream that ends before (a server going away) is joined again; past
/// `deadline` it is a failure.
pub async fn follow_job(
    client: &reqwest::Client,
    job_url: &str,
    done: impl Fn(&Value) -> bool,
    deadline: std::time::Duration,
) -> Value {
    use futures::StreamExt;
    let events_url = if job_url.ends_with("/events") {
        job_url.to_owned()
    } else {
        format!("{job_url}/events")
    };
    let mut last = Value::Null;
    let follow = async {
        loop {
            let resp = client.get(&events_url).send().await;
            if let Ok(resp) = resp.as_ref().map(|r| r.status()) {
                assert_eq!(resp, 200, "events of {events_url}");
            }
            if let Ok(resp) = resp {
                let mut stream = resp.bytes_stream();
                let mut text = String::new();
                while let Some(Ok(chunk)) = stream.next().await {
                    text.push_str(&String::from_utf8_lossy(&chunk));
                    while let Some(end) = text.find("\n\n") {
                        let event: String = text.drain(..end + 2).collect();
                        for line in event.lines() {
                            if let Some(data) = line.strip_prefix("data:") {
                                last = serde_json::from_str(data.trim()).unwrap_or(Value::Null);
                                if done(&last) {
                                    return last.clone();
                                }
                            }
                        }
                    }
                }
            }
            let ended = ["succeeded", "failed", "cancelled"];
            assert!(
                !ended.contains(&last["status"].as_str().unwrap_or("")),
                "{events_url}: the job ended without getting there: {last}"
            );
            // The stream went away (or could not connect) first: join again.
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    };
    match tokio::time::timeout(deadline, follow).await {
        Ok(view) => view,
        Err(_) => panic!("{events_url}: the job did not get there within {deadline:?}: {last}"),
    }
}
