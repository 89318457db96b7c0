//! Compose end to end: real renders checked with ffprobe, frame grabs and
//! audio analysis; validation; async jobs with progress and cancellation.

use crate::common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::common::{
    TestServer, assert_error, ffmpeg_fixture, ffprobe, mean_colour_at, mean_colour_of_region, png,
    silences, tone_mp3, write_file,
};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use studio::Config;

const RED: [u8; 3] = [220, 20, 20];
const GREEN: [u8; 3] = [20, 200, 40];
const BLUE: [u8; 3] = [20, 40, 220];

async fn upload_colours(s: &TestServer, session: &str) {
    for c in [RED, GREEN, BLUE] {
        let (status, _) = s.upload(session, "c.png", png(64, 48, c)).await;
        assert_eq!(status, 201);
    }
}

async fn compose(s: &TestServer, session: &str, body: Value) -> (u16, Value) {
    s.post_json(&format!("/api/v1/sessions/{session}/compose"), body)
        .await
}

async fn render(
    s: &TestServer,
    session: &str,
    body: Value,
    dir: &std::path::Path,
) -> (Value, PathBuf) {
    let (status, video) = compose(s, session, body).await;
    assert_eq!(status, 201, "{video}");
    let path = write_file(
        dir,
        video["name"].as_str().unwrap(),
        &s.download(&video).await,
    );
    (video, path)
}

fn close(a: [f64; 3], b: [u8; 3]) -> bool {
    a.iter()
        .zip(b)
        .all(|(x, y)| (x - f64::from(y)).abs() < 30.0)
}

#[tokio::test]
async fn scenes_show_their_images_for_their_durations() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    upload_colours(&s, "slides").await;
    let body = json!({
        "timeline": [
            {"asset_id": "image_1.png", "duration": 1.5},
            {"asset_id": "image_2.png", "duration": 2},
            {"asset_id": "image_3.png", "duration": 1}
        ],
        "output": {"width": 320, "height": 180, "fps": 24}
    });
    let (video, path) = render(&s, "slides", body, dir.path()).await;
    assert_eq!(video["asset_id"], "video_1.mp4");
    assert_eq!(video["type"], "video");
    let probe = ffprobe(&path);
    let streams = probe["streams"].as_array().unwrap();
    assert_eq!(streams.len(), 2);
    let v = streams.iter().find(|s| s["codec_type"] == "video").unwrap();
    let a = streams.iter().find(|s| s["codec_type"] == "audio").unwrap();
    assert_eq!(
        (v["codec_name"].as_str(), a["codec_name"].as_str()),
        (Some("h264"), Some("aac"))
    );
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(320), Some(180))
    );
    assert_eq!(v["r_frame_rate"], "24/1");
    assert_eq!(v["pix_fmt"], "yuv420p");
    let d = common::duration_of(&path);
    assert!((d - 4.5).abs() <= 1.0 / 24.0 + 0.03, "duration {d}");
    let stored = video["metadata"]["duration_seconds"].as_f64().unwrap();
    assert!((stored - d).abs() < 0.05);
    for (t, colour) in [(0.7, RED), (2.5, GREEN), (4.0, BLUE)] {
        let got = mean_colour_at(&path, t);
        assert!(
            close(got, colour),
            "at {t}s expected {colour:?}, got {got:?}"
        );
    }
    s.stop().await;
}

#[tokio::test]
async fn audio_starts_with_its_scene_and_sets_its_length() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    upload_colours(&s, "sync").await;
    let tone = tone_mp3(dir.path(), "tone.mp3", 2.0);
    let (status, _) = s
        .upload("sync", "tone.mp3", std::fs::read(&tone).unwrap())
        .await;
    assert_eq!(status, 201);
    let body = json!({
        "timeline": [
            {"asset_id": "image_1.png", "duration": 2},
            {"asset_id": "image_2.png"},
            {"asset_id": "audio_1.mp3"}
        ],
        "output": {"width": 320, "height": 180, "fps": 25}
    });
    let (_, path) = render(&s, "sync", body, dir.path()).await;
    let d = common::duration_of(&path);
    assert!(
        (d - 4.0).abs() < 0.1,
        "the scene lasts as long as its audio: {d}"
    );
    let silent = silences(&path);
    assert!(!silent.is_empty(), "the first scene is silent");
    let (start, end) = silent[0];
    assert!(
        start < 0.1 && (end - 2.0).abs() < 0.15,
        "audio starts at 2 s: {silent:?}"
    );
    assert!(
        silent.iter().skip(1).all(|(s, _)| *s > 3.8),
        "then sound until the end: {silent:?}"
    );
    s.stop().await;
}

#[tokio::test]
async fn long_audio_is_cut_at_the_scene_end_and_short_audio_leaves_silence() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    upload_colours(&s, "cut").await;
    let tone = tone_mp3(dir.path(), "tone.mp3", 3.0);
    s.upload("cut", "t.mp3", std::fs::read(&tone).unwrap())
        .await;
    let body = json!({
        "timeline": [
            {"asset_id": "image_1.png", "duration": 1.5}, {"asset_id": "audio_1.mp3"},
            {"asset_id": "image_2.png", "duration": 4}, {"asset_id": "audio_1.mp3", "duration": 1}
        ],
        "output": {"width": 160, "height": 90, "fps": 10}
    });
    let (_, path) = render(&s, "cut", body, dir.path()).await;
    assert!((common::duration_of(&path) - 5.5).abs() < 0.12);
    let silent = silences(&path);
    // 0–1.5 tone (cut), 1.5–2.5 tone (1 s), 2.5–5.5 silence.
    assert!(
        silent
            .iter()
            .any(|(s, e)| (s - 2.5).abs() < 0.2 && *e > 5.3),
        "{silent:?}"
    );
    s.stop().await;
}

#[tokio::test]
async fn vertical_output_with_motion_transitions_and_titles() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    upload_colours(&s, "vertical").await;
    let body = json!({
        "timeline": [
            {"asset_id": "image_1.png", "duration": 1.5, "effect": "zoom_in", "text": "Title: 100% \"quoted\" 'single' \\ back; [x] 🎬", "transition": {"type": "fade"}},
            {"asset_id": "image_2.png", "duration": 1.5, "effect": "pan_right", "transition": {"type": "crossfade", "duration": 0.5}},
            {"asset_id": "image_3.png", "duration": 1.5, "effect": "zoom_out", "transition": {"type": "slide_left", "duration": 0.4}}
        ],
        "output": {"aspect_ratio": "9:16", "fps": 15, "quality": "draft"},
        "fit": "contain"
    });
    let (video, path) = render(&s, "vertical", body, dir.path()).await;
    let probe = ffprobe(&path);
    assert_eq!(
        (
            probe["streams"][0]["width"].as_u64(),
            probe["streams"][0]["height"].as_u64()
        ),
        (Some(540), Some(960)),
        "a draft has a quarter of the pixels"
    );
    let d = common::duration_of(&path);
    assert!(
        (d - (4.5 - 0.9)).abs() < 0.1,
        "transitions overlap scenes: {d}"
    );
    assert_eq!(video["metadata"]["width"], 540);
    assert_eq!(video["metadata"]["quality"], "draft");
    // The title is drawn near the top of the first scene.
    let top = mean_colour_of_region(&path, 1.0, "iw:ih*0.12:0:ih*0.09");
    let mid = mean_colour_of_region(&path, 1.0, "iw:ih*0.12:0:ih*0.45");
    assert!(
        top.iter().sum::<f64>() > mid.iter().sum::<f64>() + 20.0,
        "white title over red: {top:?} vs {mid:?}"
    );
    s.stop().await;
}

#[tokio::test]
async fn captions_burn_in_and_are_stored_as_srt() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    s.upload("cap", "g.png", png(64, 36, [30, 30, 30])).await;
    let (status, _) = s
        .post_json("/api/v1/sessions/cap/audio", json!({"text": "Captions: with 'quotes', colons; percent 100% and a backslash \\ — emoji 🎬. Second sentence here."}))
        .await;
    assert_eq!(status, 201);
    let timeline = json!([{"asset_id": "image_1.png"}, {"asset_id": "audio_1.mp3"}]);
    let output = json!({"width": 640, "height": 360, "fps": 10});
    let (_, plain) = render(
        &s,
        "cap",
        json!({"timeline": timeline, "output": output}),
        dir.path(),
    )
    .await;
    let plain_copy = dir.path().join("plain.mp4");
    std::fs::rename(&plain, &plain_copy).unwrap();
    let (video, captioned) = render(
        &s,
        "cap",
        json!({"timeline": timeline, "output": output, "captions": true}),
        dir.path(),
    )
    .await;
    assert_eq!(video["metadata"]["captions"], "subtitles_1.srt");
    let t = 1.0;
    let lower = |p: &std::path::Path| mean_colour_of_region(p, t, "iw:ih*0.3:0:ih*0.7");
    let upper = |p: &std::path::Path| mean_colour_of_region(p, t, "iw:ih*0.3:0:0");
    let (a, b) = (lower(&plain_copy), lower(&captioned));
    assert!(
        b.iter().sum::<f64>() > a.iter().sum::<f64>() + 10.0,
        "captions brighten the lower part: {a:?} vs {b:?}"
    );
    let (c, d) = (upper(&plain_copy), upper(&captioned));
    assert!(
        (c.iter().sum::<f64>() - d.iter().sum::<f64>()).abs() < 6.0,
        "the upper part is unchanged"
    );

    let (_, srt) = s
        .get_json("/api/v1/sessions/cap/assets/subtitles_1.srt")
        .await;
    assert_eq!(srt["type"], "subtitles");
    let text = String::from_utf8(s.download(&srt).await).unwrap();
    assert!(text.starts_with("1\n00:00:00,000 --> "), "{text}");
    assert!(
        text.contains("'quotes'")
            && text.contains("100%")
            && text.contains("Second sentence here."),
        "{text}"
    );
    s.stop().await;
}

#[tokio::test]
async fn music_loops_and_ducks_under_narration() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    s.upload("music", "a.png", png(32, 18, [10, 10, 60])).await;
    s.upload("music", "b.png", png(32, 18, [60, 10, 10])).await;
    // A low 60 Hz hum as music (1 s, so it must loop) and a voice-over in scene 2.
    let hum = ffmpeg_fixture(
        dir.path(),
        "hum.mp3",
        &[
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=60:duration=1",
            "-c:a",
            "libmp3lame",
        ],
    );
    let form = Form::new()
        .part(
            "file",
            Part::bytes(std::fs::read(&hum).unwrap()).file_name("hum.mp3"),
        )
        .text("role", "music");
    let (status, music) = s.upload_form("music", form).await;
    assert_eq!(status, 201);
    let (_, voice) = s.post_json("/api/v1/sessions/music/audio", json!({"text": "Now the narrator speaks for a few seconds over the music, steadily and clearly."})).await;
    let body = json!({
        "timeline": [{"asset_id": "image_1.png", "duration": 4}, {"asset_id": "image_2.png"}, {"asset_id": voice["name"]}],
        "music": {"asset_id": music["name"], "volume": 0.5},
        "output": {"width": 160, "height": 90, "fps": 10}
    });
    let (video, path) = render(&s, "music", body, dir.path()).await;
    assert_eq!(video["metadata"]["music"], music["name"]);
    let hum_level = |from: f64, to: f64| {
        let out = std::process::Command::new("ffmpeg")
            .args(["-v", "info", "-nostdin", "-i"])
            .arg(&path)
            .args([
                "-af",
                &format!("atrim={from}:{to},bandpass=f=60:width_type=h:w=15,volumedetect"),
                "-f",
                "null",
                "-",
            ])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stderr).to_string();
        let line = text
            .lines()
            .find(|l| l.contains("mean_volume:"))
            .unwrap()
            .to_owned();
        line.split("mean_volume:")
            .nth(1)
            .unwrap()
            .trim()
            .trim_end_matches(" dB")
            .parse::<f64>()
            .unwrap()
    };
    let alone = hum_level(1.5, 3.5);
    let under = hum_level(5.0, 7.0);
    assert!(
        alone > -50.0,
        "the music plays (looped) before the narration: {alone}"
    );
    assert!(
        under < alone - 3.0,
        "music is ducked under the narration: {under} vs {alone}"
    );
    s.stop().await;
}

/// Found by a reviewer: a render outlived its deleted session and brought
/// it back, video and all, for whoever used the id next.
#[tokio::test]
async fn deleting_a_session_stops_its_renders_and_nothing_comes_back() {
    let s = TestServer::start().await;
    for (session, run_async) in [("gone-async", true), ("gone-sync", false)] {
        upload_colours(&s, session).await;
        let body = json!({
            "async": run_async,
            "timeline": [{"asset_id": "image_1.png", "duration": 90, "effect": "zoom_in", "text": "PRIVATE"}],
            "output": {"width": 640, "height": 360}
        });
        let mut render = Some({
            let (client, url) = (
                s.client.clone(),
                s.url(&format!("/api/v1/sessions/{session}/compose")),
            );
            tokio::spawn(async move {
                let resp = client.post(url).json(&body).send().await.unwrap();
                let status = resp.status().as_u16();
                (status, resp.json::<Value>().await.unwrap_or(Value::Null))
            })
        });
        // Deleted while it renders.
        let started = Instant::now();
        let status_url = if run_async {
            let (status, accepted) = render.take().unwrap().await.unwrap();
            assert_eq!(status, 202, "{accepted}");
            let url = accepted["status_url"].as_str().unwrap().to_owned();
            wait_for_job(&s, &url, |j| j["progress"].as_f64().unwrap() > 0.0).await;
            Some(url)
        } else {
            s.wait_for_renders(true, Duration::from_secs(30)).await;
            None
        };
        assert_eq!(s.delete(&format!("/api/v1/sessions/{session}")).await, 204);
        if let Some(url) = status_url {
            let (status, _) = s.get_json(&url).await;
            assert_eq!(status, 404, "the job went with its session");
        } else {
            let (status, body) = render.take().unwrap().await.unwrap();
            assert_eq!(status, 404, "{body}");
            assert_error(&body, "unknown_session");
        }
        // Once the render has stopped, the session is still gone.
        s.wait_for_renders(false, Duration::from_secs(30)).await;
        let (status, _) = s.get_json(&format!("/api/v1/sessions/{session}")).await;
        assert_eq!(
            status,
            404,
            "{session} came back after {:?}",
            started.elapsed()
        );
    }
    s.stop().await;
}

/// A job the worker took up but that waits for a render slot says so (it
/// looked stuck at "running, 0%").
#[tokio::test]
async fn a_job_waiting_for_a_render_slot_says_so() {
    let s = TestServer::start().await;
    upload_colours(&s, "slots").await;
    let body = json!({
        "async": true,
        "timeline": [{"asset_id": "image_1.png", "duration": 60, "effect": "zoom_in"}],
        "output": {"width": 640, "height": 360}
    });
    let (_, first) = compose(&s, "slots", body.clone()).await;
    let first_url = first["status_url"].as_str().unwrap().to_owned();
    wait_for_job(&s, &first_url, |j| j["progress"].as_f64().unwrap() > 0.0).await;
    let (_, second) = compose(&s, "slots", body).await;
    let second_url = second["status_url"].as_str().unwrap().to_owned();
    let (view, _) = wait_for_job(&s, &second_url, |j| {
        j["step"] == "waiting for a free render slot" || j["status"] == "succeeded"
    })
    .await;
    assert_eq!(view["status"], "running", "{view}");
    for url in [&second_url, &first_url] {
        s.client.delete(s.url(url)).send().await.unwrap();
    }
    s.stop().await;
}

/// Found by a reviewer: both were 500s.
#[tokio::test]
async fn small_contain_frames_and_panoramas_are_rendered_or_refused_clearly() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    upload_colours(&s, "edge").await;
    // The blurred background's radius fits a small frame.
    for output in [
        json!({"width": 64, "height": 64}),
        json!({"width": 320, "height": 240, "quality": "draft"}),
    ] {
        let body = json!({"timeline": [{"asset_id": "image_1.png", "duration": 1}], "fit": "contain", "output": output});
        let (video, path) = render(&s, "edge", body, dir.path()).await;
        let probe = ffprobe(&path);
        assert_eq!(
            probe["streams"][0]["width"].as_u64(),
            video["metadata"]["width"].as_u64()
        );
    }
    // A panorama fills a frame from its middle; one far too wide is refused.
    let (status, _) = s.upload("edge", "pano.png", png(1600, 200, GREEN)).await;
    assert_eq!(status, 201);
    let body = json!({"timeline": [{"asset_id": "image_4.png", "duration": 1, "effect": "pan_left"}], "output": {"width": 320, "height": 180}});
    let (_, path) = render(&s, "edge", body, dir.path()).await;
    let [r, g, b] = common::mean_colour_at(&path, 0.5);
    assert!(g > 150.0 && r < 80.0 && b < 90.0, "{r} {g} {b}");
    let (status, _) = s.upload("edge", "strip.png", png(4096, 8, RED)).await;
    assert_eq!(status, 201);
    for fit in ["cover", "contain"] {
        let body = json!({"timeline": [{"asset_id": "image_5.png", "duration": 1}], "fit": fit});
        let (status, err) = compose(&s, "edge", body).await;
        assert_eq!(status, 422, "{err}");
        assert_eq!(err["error"]["field"], "timeline[0].asset_id", "{err}");
        assert!(
            assert_error(&err, "invalid_request").contains("4096×8"),
            "{err}"
        );
    }
    s.stop().await;
}

#[tokio::test]
async fn invalid_timelines_are_422_with_the_item_index() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::with_data_dir(dir.path());
    config.max_video_seconds = 60.0;
    let s = TestServer::start_with(config).await;
    upload_colours(&s, "v").await;
    let tone = tone_mp3(dir.path(), "t.mp3", 1.0);
    s.upload("v", "t.mp3", std::fs::read(&tone).unwrap()).await;
    let cases = [
        (json!({"timeline": []}), "timeline", ""),
        (
            json!({"timeline": [{"asset_id": "image_1.png"}, {"asset_id": "image_9.png"}]}),
            "timeline[1].asset_id",
            "image_9.png",
        ),
        (
            json!({"timeline": [{"asset_id": "audio_1.mp3"}]}),
            "timeline",
            "no image or video",
        ),
        (
            json!({"timeline": [{"asset_id": "image_1.png"}], "music": {"asset_id": "image_2.png"}}),
            "music.asset_id",
            "music must be audio",
        ),
        (
            json!({"timeline": [{"asset_id": "image_1.png", "duration": -1}]}),
            "timeline[0].duration",
            "item 0",
        ),
        (
            json!({"timeline": [{"asset_id": "image_1.png", "duration": 1e9}]}),
            "timeline[0].duration",
            "",
        ),
        (
            json!({"timeline": [{"asset_id": "image_1.png", "duration": 30}, {"asset_id": "image_2.png", "duration": 31}]}),
            "timeline",
            "limit",
        ),
        (
            json!({"timeline": [{"asset_id": "image_1.png"}, {"asset_id": "image_2.png", "effect": "spin"}]}),
            "timeline[1].effect",
            "spin",
        ),
        (
            json!({"timeline": [{"asset_id": "image_1.png"}, {"asset_id": "image_2.png", "transition": {"type": "explode"}}]}),
            "timeline[1].transition",
            "explode",
        ),
        (
            json!({"timeline": [{"asset_id": "image_1.png"}, {"asset_id": "audio_1.mp3", "effect": "zoom_in"}]}),
            "timeline[1].effect",
            "",
        ),
        (
            json!({"timeline": [{"asset_id": "image_1.png"}, {"asset_id": "audio_1.mp3", "trim_start": 5}]}),
            "timeline[1].trim_start",
            "",
        ),
        (
            json!({"timeline": [{"asset_id": "image_1.png"}], "output": {"aspect_ratio": "2:1"}}),
            "output.aspect_ratio",
            "",
        ),
        (
            json!({"timeline": [{"asset_id": "image_1.png"}], "output": {"fps": 500}}),
            "output.fps",
            "",
        ),
        (
            json!({"timeline": [{"asset_id": "image_1.png"}], "fit": "stretch"}),
            "fit",
            "",
        ),
        (
            json!({"timeline": [{"asset_id": 5}]}),
            "timeline[0].asset_id",
            "",
        ),
    ];
    for (body, field, needle) in cases {
        let (status, err) = compose(&s, "v", body.clone()).await;
        assert_eq!(status, 422, "{body} -> {err}");
        assert_error(&err, "invalid_request");
        assert_eq!(err["error"]["field"], field, "{body}");
        assert!(
            err["error"]["message"].as_str().unwrap().contains(needle),
            "{err}"
        );
    }
    let (status, err) = compose(
        &s,
        "nobody",
        json!({"timeline": [{"asset_id": "image_1.png"}]}),
    )
    .await;
    assert_eq!(status, 404);
    assert_error(&err, "unknown_session");
    let (_, videos) = s.get_json("/api/v1/sessions/v/assets?type=video").await;
    assert_eq!(videos.as_array().unwrap().len(), 0);
    s.stop().await;
}

/// Follows the job's events until `done`; gives the last view and the
/// progress of every view seen.
async fn wait_for_job(
    s: &TestServer,
    status_url: &str,
    done: impl Fn(&Value) -> bool,
) -> (Value, Vec<f64>) {
    let seen = std::cell::RefCell::new(Vec::new());
    let job = s
        .wait_for_job(
            status_url,
            |job| {
                seen.borrow_mut().push(job["progress"].as_f64().unwrap());
                done(job)
            },
            Duration::from_secs(120),
        )
        .await;
    (job, seen.into_inner())
}

#[tokio::test]
async fn async_jobs_report_rising_progress_and_succeed() {
    let s = TestServer::start().await;
    upload_colours(&s, "job").await;
    let body = json!({
        "timeline": [{"asset_id": "image_1.png", "duration": 6, "effect": "zoom_in"}, {"asset_id": "image_2.png", "duration": 6, "effect": "pan_left"}],
        "output": {"width": 640, "height": 360, "fps": 30, "quality": "high"},
        "async": true
    });
    let (status, accepted) = compose(&s, "job", body).await;
    assert_eq!(status, 202, "{accepted}");
    let status_url = accepted["status_url"].as_str().unwrap().to_owned();
    let (job, seen) = wait_for_job(&s, &status_url, |j| {
        j["status"] == "succeeded" || j["status"] == "failed"
    })
    .await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["progress"], 1.0);
    assert_eq!(job["result"]["asset_id"], "video_1.mp4");
    assert!(
        seen.windows(2).all(|w| w[1] >= w[0]),
        "progress never goes back: {seen:?}"
    );
    assert!(
        seen.iter().any(|p| *p > 0.0 && *p < 1.0),
        "progress in between was reported: {seen:?}"
    );

    // The event stream of a finished job sends its final state and ends.
    let text = s
        .get(accepted["events_url"].as_str().unwrap())
        .await
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("event: job") && text.contains("\"succeeded\""),
        "{text}"
    );
    let (status, _) = s.get_json("/api/v1/sessions/job/jobs/nope").await;
    assert_eq!(status, 404);
    s.stop().await;
}

#[tokio::test]
async fn async_jobs_can_be_cancelled_and_leave_nothing() {
    let s = TestServer::start().await;
    upload_colours(&s, "cancel").await;
    let body = json!({
        "timeline": [{"asset_id": "image_1.png", "duration": 120, "effect": "zoom_in"}],
        "output": {"aspect_ratio": "16:9", "quality": "high"},
        "async": true
    });
    let (status, accepted) = compose(&s, "cancel", body).await;
    assert_eq!(status, 202);
    let status_url = accepted["status_url"].as_str().unwrap().to_owned();
    let mut events = s.get(accepted["events_url"].as_str().unwrap()).await;
    wait_for_job(&s, &status_url, |j| j["progress"].as_f64().unwrap() > 0.0).await;
    let first = events.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("event: job"));

    let resp = s.client.delete(s.url(&status_url)).send().await.unwrap();
    assert_eq!(resp.status(), 202);
    let (job, _) = wait_for_job(&s, &status_url, |j| {
        j["status"] != "running" && j["status"] != "queued"
    })
    .await;
    assert_eq!(job["status"], "cancelled", "{job}");
    assert_eq!(job["error"]["code"], "cancelled");
    let (_, videos) = s
        .get_json("/api/v1/sessions/cancel/assets?type=video")
        .await;
    assert_eq!(
        videos.as_array().unwrap().len(),
        0,
        "a cancelled render is not listed"
    );
    let tmp = s.studio.config().tmp_dir();
    let stray: Vec<_> = std::fs::read_dir(tmp).unwrap().collect();
    assert!(stray.is_empty(), "no stray files: {stray:?}");
    s.stop().await;
}

#[tokio::test]
async fn queued_jobs_survive_a_restart_and_run() {
    let dir = tempfile::tempdir().unwrap();
    // An API node without a worker: the render stays queued.
    let s = TestServer::start_api_only(Config::with_data_dir(dir.path())).await;
    s.upload("restart", "red.png", png(64, 64, RED)).await;
    let body = json!({"async": true, "timeline": [{"asset_id": "image_1.png", "duration": 2}]});
    let (status, accepted) = s.post_json("/api/v1/sessions/restart/compose", body).await;
    assert_eq!(status, 202, "{accepted}");
    let status_url = accepted["status_url"].as_str().unwrap().to_owned();
    // Queued (this node runs no worker: `start_api_only`); that it runs
    // only where a worker is, is shown by the restart below.
    let (_, view) = s.get_json(&status_url).await;
    assert_eq!(view["status"], "queued", "no worker, no work: {view}");
    // As if the process had died between the job's row and its task: the
    // queue loses the task; the next start queues the job again.
    let queue_url = s.studio.config().queue_url();
    s.stop().await;
    let queue = sqlx::AnyPool::connect(&queue_url).await.unwrap();
    let tasks = if queue_url.starts_with("postgres") {
        "DELETE FROM apalis.jobs"
    } else {
        "DELETE FROM Jobs"
    };
    let lost = sqlx::query(tasks).execute(&queue).await.unwrap();
    assert_eq!(lost.rows_affected(), 1);
    queue.close().await;

    let s = TestServer::start_with(Config::with_data_dir(dir.path())).await;
    let (job, _) = wait_for_job(&s, &status_url, |j| {
        j["status"] != "running" && j["status"] != "queued"
    })
    .await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let (_, videos) = s
        .get_json("/api/v1/sessions/restart/assets?type=video")
        .await;
    assert_eq!(videos.as_array().unwrap().len(), 1, "made once: {videos}");
    assert_eq!(videos[0]["name"], job["result"]["name"]);
    s.stop().await;
}

#[tokio::test]
async fn a_job_whose_worker_died_runs_again_and_is_listed_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = || {
        let mut c = Config::with_data_dir(dir.path());
        c.jobs.worker_heartbeat_secs = 1;
        c
    };
    let s = TestServer::start_with(config()).await;
    s.upload("died", "red.png", png(64, 64, RED)).await;
    let body = json!({"async": true, "timeline": [{"asset_id": "image_1.png", "duration": 30}], "output": {"width": 640, "height": 360}});
    let (status, accepted) = s.post_json("/api/v1/sessions/died/compose", body).await;
    assert_eq!(status, 202, "{accepted}");
    let status_url = accepted["status_url"].as_str().unwrap().to_owned();
    wait_for_job(&s, &status_url, |j| j["status"] == "running").await;
    // The worker goes away mid-render, as with kill -9: no outcome recorded.
    s.stop().await;

    let s = TestServer::start_with(config()).await;
    let (_, view) = s.get_json(&status_url).await;
    assert_eq!(view["status"], "running", "still the dead worker's: {view}");
    let (job, _) = wait_for_job(&s, &status_url, |j| {
        j["status"] != "running" && j["status"] != "queued"
    })
    .await;
    assert_eq!(job["status"], "succeeded", "run again elsewhere: {job}");
    let (_, videos) = s.get_json("/api/v1/sessions/died/assets?type=video").await;
    assert_eq!(videos.as_array().unwrap().len(), 1, "listed once: {videos}");
    let attempts: i64 = sqlx::query_scalar("SELECT attempts FROM jobs WHERE id = $1")
        .bind(job["job_id"].as_str().unwrap())
        .fetch_one(s.studio.store().db())
        .await
        .unwrap();
    assert_eq!(attempts, 2);
    s.stop().await;
}

#[tokio::test]
async fn uploaded_video_clips_are_scenes() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let clip = ffmpeg_fixture(
        dir.path(),
        "clip.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "color=c=blue:size=320x240:rate=25:duration=3",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=500:duration=3",
            "-shortest",
            "-pix_fmt",
            "yuv420p",
            "-c:v",
            "libx264",
            "-c:a",
            "aac",
        ],
    );
    s.upload("clips", "clip.mp4", std::fs::read(&clip).unwrap())
        .await;
    s.upload("clips", "red.png", png(32, 32, RED)).await;
    let body = json!({
        "timeline": [{"asset_id": "image_1.png", "duration": 1}, {"asset_id": "video_1.mp4", "trim_start": 1}],
        "output": {"width": 320, "height": 180, "fps": 25}
    });
    let (_, path) = render(&s, "clips", body, dir.path()).await;
    assert!((common::duration_of(&path) - 3.0).abs() < 0.1);
    assert!(close(mean_colour_at(&path, 2.0), [0, 0, 255]));
    let silent = silences(&path);
    assert!(
        silent
            .first()
            .is_some_and(|(s, e)| *s < 0.1 && (e - 1.0).abs() < 0.15),
        "the clip's own sound plays from its scene: {silent:?}"
    );
    s.stop().await;
}

#[test]
fn cli_compose_shows_progress_and_prints_the_video() {
    // The CLI always runs on its data folder's own SQLite and files (the
    // test commands drop the database and storage settings), in both runs.
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        common::studio_command(dir.path())
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&[
        "image",
        "--session",
        "cli",
        "--width",
        "160",
        "--height",
        "96",
        "a boat",
    ]);
    assert!(out.status.success());
    let timeline = dir.path().join("timeline.json");
    std::fs::write(&timeline, r#"{"timeline": [{"asset_id": "image_1.png", "duration": 1.5}], "output": {"width": 160, "height": 96}}"#).unwrap();
    let out = run(&[
        "compose",
        "--session",
        "cli",
        "--timeline",
        timeline.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = String::from_utf8(out.stdout).unwrap();
    assert!((common::duration_of(std::path::Path::new(path.trim())) - 1.5).abs() < 0.1);
    std::fs::write(&timeline, r#"{"timeline": [{"asset_id": "image_7.png"}]}"#).unwrap();
    let out = run(&[
        "compose",
        "--session",
        "cli",
        "--timeline",
        timeline.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("image_7.png"));

    // Without --timeline: the saved one (none yet, then one saved over HTTP).
    let out = run(&["compose", "--session", "cli"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no saved timeline"));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        // The server on the CLI's own data: its SQLite and files, also in
        // the Postgres + S3 run.
        let mut config = Config::with_data_dir(dir.path());
        config.database_url = Some(config.database_url());
        config.storage_url = Some(format!("file://{}", dir.path().join("assets").display()));
        let s = TestServer::start_with(config).await;
        let (status, _) = s
            .put_json(
                "/api/v1/sessions/cli/timeline",
                json!({"timeline": [{"asset_id": "image_1.png", "duration": 1.0}], "output": {"width": 160, "height": 96}}),
            )
            .await;
        assert_eq!(status, 200);
        s.stop().await;
    });
    let out = run(&["compose", "--session", "cli", "--draft"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = String::from_utf8(out.stdout).unwrap();
    let probe = ffprobe(std::path::Path::new(path.trim()));
    assert_eq!(
        probe["streams"][0]["width"], 80,
        "a draft of the saved timeline"
    );
}

/// The energy of `freq` (Goertzel) in each 20 ms window of the audio.
fn tone_energy(samples: &[f32], freq: f64) -> Vec<f64> {
    let n = 960; // 20 ms at 48 kHz
    let coeff = 2.0 * (2.0 * std::f64::consts::PI * freq / 48000.0).cos();
    samples
        .chunks_exact(n)
        .map(|w| {
            let (mut s1, mut s2) = (0.0f64, 0.0f64);
            for x in w {
                let s0 = f64::from(*x) + coeff * s1 - s2;
                s2 = s1;
                s1 = s0;
            }
            (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (n * n) as f64
        })
        .collect()
}

#[tokio::test]
async fn a_transition_never_makes_two_narrations_overlap() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    upload_colours(&s, "voices").await;
    for (name, freq) in [("low.wav", 440), ("high.wav", 880)] {
        let path = ffmpeg_fixture(
            dir.path(),
            name,
            &[
                "-f",
                "lavfi",
                "-i",
                &format!("sine=frequency={freq}:duration=2"),
                "-ar",
                "48000",
            ],
        );
        let (status, _) = s.upload("voices", name, std::fs::read(path).unwrap()).await;
        assert_eq!(status, 201);
    }
    let body = json!({
        "timeline": [
            {"asset_id": "image_1.png"}, {"asset_id": "audio_1.wav"},
            {"asset_id": "image_2.png", "transition": {"type": "fade", "duration": 0.5}},
            {"asset_id": "audio_2.wav"}
        ],
        "output": {"width": 320, "height": 180, "fps": 25}
    });
    let (video, path) = render(&s, "voices", body, dir.path()).await;
    let scenes = video["metadata"]["timeline"].as_array().unwrap();
    assert_eq!(
        scenes[1]["duration"].as_f64(),
        Some(2.5),
        "lengthened by the overlap"
    );
    let d = common::duration_of(&path);
    assert!((d - 4.0).abs() < 0.1, "both narrations whole: {d}");
    let pcm = common::samples(&path);
    let (low, high) = (tone_energy(&pcm, 440.0), tone_energy(&pcm, 880.0));
    let peak = low.iter().chain(&high).cloned().fold(0.0, f64::max);
    let on = |e: f64| e > peak * 0.05;
    let both: Vec<usize> = (0..low.len())
        .filter(|i| on(low[*i]) && on(high[*i]))
        .collect();
    assert!(both.len() <= 1, "windows with both voices: {both:?}");
    let first_high = (0..high.len()).find(|i| on(high[*i])).unwrap();
    let last_low = (0..low.len()).rev().find(|i| on(low[*i])).unwrap();
    assert!(
        (first_high as f64 * 0.02 - 2.0).abs() < 0.06,
        "the second voice starts as the first ends: {first_high}"
    );
    assert!(last_low < first_high + 1, "{last_low} vs {first_high}");
    s.stop().await;
}

/// Per-frame displacement of a bright vertical bar through a panned scene:
/// (mean step, spread of steps) in output pixels.
async fn pan_steps(s: &TestServer, session: &str, effect: &str) -> (f64, f64) {
    let dir = tempfile::tempdir().unwrap();
    // A soft-edged bright bar: its centroid is measurable to a fraction of a pixel.
    let mut img = image::RgbImage::from_pixel(1280, 720, image::Rgb([30, 30, 40]));
    for x in 560..664u32 {
        let v = (30.0 + 220.0 * (-((f64::from(x) - 612.0) / 16.0).powi(2)).exp()) as u8;
        for y in 0..720 {
            img.put_pixel(x, y, image::Rgb([v, v, v]));
        }
    }
    let mut bytes = std::io::Cursor::new(Vec::new());
    img.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    let (status, _) = s.upload(session, "bar.png", bytes.into_inner()).await;
    assert_eq!(status, 201);
    let body = json!({
        "timeline": [{"asset_id": "image_1.png", "duration": 3, "effect": effect}],
        "output": {"width": 640, "height": 360, "fps": 30, "quality": "high"}
    });
    let (_, path) = render(s, session, body, dir.path()).await;
    let out = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-i"])
        .arg(&path)
        .args(["-f", "rawvideo", "-pix_fmt", "gray", "-"])
        .output()
        .unwrap();
    let centroids: Vec<f64> = out
        .stdout
        .chunks_exact(640 * 360)
        .map(|frame| {
            let (mut sum, mut weight) = (0.0, 0.0);
            for row in frame[120 * 640..240 * 640].chunks_exact(640) {
                for (x, v) in row.iter().enumerate() {
                    let w = (f64::from(*v) - 40.0).max(0.0);
                    sum += w * x as f64;
                    weight += w;
                }
            }
            sum / weight
        })
        .collect();
    let steps: Vec<f64> = centroids[2..centroids.len() - 2]
        .windows(2)
        .map(|w| w[1] - w[0])
        .collect();
    let mean = steps.iter().sum::<f64>() / steps.len() as f64;
    let spread =
        (steps.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / steps.len() as f64).sqrt();
    (mean, spread)
}

#[tokio::test]
async fn pans_move_evenly_from_frame_to_frame() {
    let s = TestServer::start().await;
    for (session, effect, sign) in [("pan-r", "pan_right", -1.0), ("pan-l", "pan_left", 1.0)] {
        let (mean, spread) = pan_steps(&s, session, effect).await;
        eprintln!("{effect}: mean step {mean:.3} px, spread {spread:.3} px");
        assert!(mean * sign > 0.1, "{effect} moves the picture: {mean}");
        assert!(
            spread < 0.2 * mean.abs(),
            "{effect}: steps of {mean:.3} ± {spread:.3} px"
        );
    }
    s.stop().await;
}
