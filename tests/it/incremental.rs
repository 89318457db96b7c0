//! Incremental rendering over HTTP: only changed scenes are rendered again,
//! the result matches a full render frame for frame, damaged cached segments
//! are detected and made again, no seam is audible, drafts are quick and
//! never reused for a full-quality video, and the cache keeps to its cap.

use crate::common;

use std::path::{Path, PathBuf};

use crate::common::{TestServer, ffmpeg_fixture, png, samples, silences, write_file};
use serde_json::{Value, json};
use studio::Config;

const COLOURS: [[u8; 3]; 5] = [
    [220, 20, 20],
    [20, 200, 40],
    [20, 40, 220],
    [230, 200, 30],
    [200, 30, 200],
];

/// image_1..image_5 (the colours above) and three voice-overs.
async fn prepare(s: &TestServer, session: &str) {
    for c in COLOURS {
        let (status, _) = s.upload(session, "c.png", png(64, 36, c)).await;
        assert_eq!(status, 201);
    }
    for text in [
        "The first scene has a short line.",
        "Here is the second one, a little longer.",
        "And the third closes the video.",
    ] {
        let (status, body) = s
            .post_json(
                &format!("/api/v1/sessions/{session}/audio"),
                json!({"text": text, "provider": "builtin"}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
}

/// Scene 1 silent, scenes 2 and 3 narrated; a crossfade into scene 3.
fn timeline(images: [&str; 3], captions: bool) -> Value {
    json!({
        "timeline": [
            {"asset_id": images[0], "duration": 1.5},
            {"asset_id": images[1]},
            {"asset_id": "audio_1.mp3"},
            {"asset_id": images[2], "transition": {"type": "crossfade", "duration": 0.4}},
            {"asset_id": "audio_2.mp3"}
        ],
        "output": {"width": 320, "height": 180, "fps": 15},
        "captions": captions
    })
}

async fn save(s: &TestServer, session: &str, body: Value) {
    let (status, saved) = s
        .put_json(&format!("/api/v1/sessions/{session}/timeline"), body)
        .await;
    assert_eq!(status, 200, "{saved}");
}

async fn compose(s: &TestServer, session: &str, body: Value) -> Value {
    let (status, video) = s
        .post_json(&format!("/api/v1/sessions/{session}/compose"), body)
        .await;
    assert_eq!(status, 201, "{video}");
    video
}

fn counts(video: &Value) -> (u64, u64, u64) {
    let r = &video["metadata"]["render"];
    (
        r["scenes"].as_u64().unwrap(),
        r["scenes_rendered"].as_u64().unwrap(),
        r["scenes_reused"].as_u64().unwrap(),
    )
}

async fn download(s: &TestServer, video: &Value, dir: &Path) -> PathBuf {
    write_file(
        dir,
        video["name"].as_str().unwrap(),
        &s.download(video).await,
    )
}

/// The frame at `t`, scaled to 32×18 RGB.
fn small_frame(path: &Path, t: f64) -> Vec<u8> {
    let rgb = common::frame_rgb(path, t, "scale=32:18:flags=area");
    assert_eq!(rgb.len(), 32 * 18 * 3, "frame at {t}");
    rgb
}

fn mean_abs_diff(a: &[u8], b: &[u8]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (f64::from(*x) - f64::from(*y)).abs())
        .sum::<f64>()
        / a.len() as f64
}

/// The largest jump between consecutive samples in `[from, to)` seconds.
fn max_jump(samples: &[f32], from: f64, to: f64) -> f32 {
    let (a, b) = ((from * 48000.0) as usize, (to * 48000.0) as usize);
    samples[a..b.min(samples.len())]
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f32::max)
}

/// The session's cached pieces with this extension, from the store itself
/// (local files or S3), as local paths where the storage is local.
async fn cache_files(s: &TestServer, session: &str, ext: &str) -> Vec<PathBuf> {
    use futures::TryStreamExt;
    let blobs = s.studio.store().blobs();
    let listed: Vec<_> = blobs.list().try_collect().await.unwrap();
    let mut files: Vec<PathBuf> = listed
        .into_iter()
        .map(|(key, _)| key)
        .filter(|k| k.starts_with(&format!("cache/{session}/")) && k.ends_with(&format!(".{ext}")))
        .map(|k| blobs.local_path(&k).unwrap_or_else(|| PathBuf::from(k)))
        .collect();
    files.sort();
    files
}

#[tokio::test]
async fn only_changed_scenes_are_rendered_again() {
    let s = TestServer::start().await;
    prepare(&s, "inc").await;
    let base = ["image_1.png", "image_2.png", "image_3.png"];
    save(&s, "inc", timeline(base, true)).await;
    let first = compose(&s, "inc", json!({})).await;
    assert_eq!(counts(&first), (3, 3, 0));
    assert!(first["metadata"]["render"]["seconds"].as_f64().unwrap() > 0.0);
    assert_eq!(cache_files(&s, "inc", "mp4").await.len(), 3);
    assert_eq!(cache_files(&s, "inc", "m4a").await.len(), 1);

    let again = compose(&s, "inc", json!({})).await;
    assert_eq!(counts(&again), (3, 0, 3), "nothing changed");
    assert_eq!(again["metadata"]["render"]["audio_reused"], true);

    // Scene 1 has no transition on either side: only it is rendered.
    save(&s, "inc", timeline(["image_4.png", base[1], base[2]], true)).await;
    let one = compose(&s, "inc", json!({})).await;
    assert_eq!(counts(&one), (3, 1, 2));
    assert_eq!(
        one["metadata"]["render"]["audio_reused"], true,
        "same sound"
    );

    // Scene 2 is blended into scene 3: both segments change.
    save(
        &s,
        "inc",
        timeline(["image_4.png", "image_5.png", base[2]], true),
    )
    .await;
    assert_eq!(counts(&compose(&s, "inc", json!({})).await), (3, 2, 1));

    // Captions off: the narrated scenes change, the silent one does not.
    save(
        &s,
        "inc",
        timeline(["image_4.png", "image_5.png", base[2]], false),
    )
    .await;
    assert_eq!(counts(&compose(&s, "inc", json!({})).await), (3, 2, 1));

    // An inline timeline uses the same cache.
    let inline = compose(
        &s,
        "inc",
        timeline(["image_4.png", "image_5.png", base[2]], false),
    )
    .await;
    assert_eq!(counts(&inline), (3, 0, 3));

    // Deleting the session deletes its segments.
    assert_eq!(s.delete("/api/v1/sessions/inc").await, 204);
    assert!(cache_files(&s, "inc", "mp4").await.is_empty());
    assert!(cache_files(&s, "inc", "m4a").await.is_empty());
    s.stop().await;
}

#[tokio::test]
async fn an_incremental_render_matches_a_full_render() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let base = ["image_1.png", "image_2.png", "image_3.png"];
    let changed = ["image_1.png", "image_4.png", "image_3.png"];
    prepare(&s, "inc").await;
    compose(&s, "inc", timeline(base, true)).await;
    let incremental = compose(&s, "inc", timeline(changed, true)).await;
    assert_eq!(counts(&incremental), (3, 2, 1));
    // The same assets in a fresh session: every scene rendered.
    prepare(&s, "full").await;
    let full = compose(&s, "full", timeline(changed, true)).await;
    assert_eq!(counts(&full), (3, 3, 0));

    let (a, b) = (
        download(&s, &incremental, dir.path()).await,
        download(&s, &full, dir.path()).await,
    );
    let (da, db) = (common::duration_of(&a), common::duration_of(&b));
    assert!((da - db).abs() <= 1.0 / 15.0 + 1e-3, "{da} vs {db}");
    let scenes = incremental["metadata"]["timeline"].as_array().unwrap();
    for scene in scenes {
        let mid = scene["start"].as_f64().unwrap() + scene["duration"].as_f64().unwrap() / 2.0;
        let diff = mean_abs_diff(&small_frame(&a, mid), &small_frame(&b, mid));
        assert!(diff < 2.0, "frame at {mid}: mean difference {diff}");
    }
    // The transition's middle too.
    let t = scenes[2]["start"].as_f64().unwrap() + 0.2;
    assert!(mean_abs_diff(&small_frame(&a, t), &small_frame(&b, t)) < 2.0);
    // Same frames in total, and the sound where it was.
    let frames = |p: &Path| {
        common::ffprobe(p)["streams"][0]["nb_frames"]
            .as_str()
            .map(str::to_owned)
    };
    assert_eq!(frames(&a), frames(&b));
    let (sa, sb) = (silences(&a), silences(&b));
    assert_eq!(sa.len(), sb.len(), "{sa:?} vs {sb:?}");
    for ((s1, e1), (s2, e2)) in sa.iter().zip(&sb) {
        assert!(
            (s1 - s2).abs() < 0.05 && (e1 - e2).abs() < 0.05,
            "{sa:?} vs {sb:?}"
        );
    }
    s.stop().await;
}

#[tokio::test]
async fn missing_truncated_or_damaged_segments_are_rendered_again() {
    // Damages stored files on disk, so the assets are kept in local files
    // even in the Postgres + S3 run (the database is still Postgres there).
    let data = tempfile::tempdir().unwrap();
    let mut config = Config::with_data_dir(data.path());
    config.storage_url = Some(format!("file://{}", data.path().join("assets").display()));
    std::fs::create_dir_all(data.path().join("assets")).unwrap();
    let s = TestServer::start_with(config).await;
    let dir = tempfile::tempdir().unwrap();
    prepare(&s, "dmg").await;
    let body = json!({
        "timeline": [
            {"asset_id": "image_1.png", "duration": 1},
            {"asset_id": "image_2.png", "duration": 1},
            {"asset_id": "image_3.png", "duration": 1},
            {"asset_id": "image_4.png", "duration": 1}
        ],
        "output": {"width": 320, "height": 180, "fps": 15}
    });
    let first = compose(&s, "dmg", body.clone()).await;
    assert_eq!(counts(&first), (4, 4, 0));
    let files = cache_files(&s, "dmg", "mp4").await;
    assert_eq!(files.len(), 4);
    // One deleted, one truncated, one overwritten with same-size garbage.
    std::fs::remove_file(&files[0]).unwrap();
    let len = std::fs::metadata(&files[1]).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&files[1])
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let len = std::fs::metadata(&files[2]).unwrap().len() as usize;
    std::fs::write(&files[2], vec![0x5a; len]).unwrap();

    let second = compose(&s, "dmg", body).await;
    assert_eq!(counts(&second), (4, 3, 1));
    let path = download(&s, &second, dir.path()).await;
    assert!((common::duration_of(&path) - 4.0).abs() < 0.1);
    for (i, colour) in COLOURS[..4].iter().enumerate() {
        let got = common::mean_colour_at(&path, i as f64 + 0.5);
        assert!(
            got.iter()
                .zip(colour)
                .all(|(g, c)| (g - f64::from(*c)).abs() < 30.0),
            "scene {i}: {got:?}"
        );
    }
    s.stop().await;
}

#[tokio::test]
async fn no_click_or_gap_at_scene_boundaries() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    for c in &COLOURS[..3] {
        s.upload("seam", "c.png", png(64, 36, *c)).await;
    }
    let tone = ffmpeg_fixture(
        dir.path(),
        "tone.wav",
        &[
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=3.5",
            "-ar",
            "48000",
        ],
    );
    let (status, _) = s
        .upload("seam", "tone.wav", std::fs::read(&tone).unwrap())
        .await;
    assert_eq!(status, 201);
    let body = |d: f64| {
        json!({
            "timeline": [
                {"asset_id": "audio_1.wav"},
                {"asset_id": "image_1.png", "duration": 1},
                {"asset_id": "image_2.png", "duration": d},
                {"asset_id": "image_3.png", "duration": 1}
            ],
            "output": {"width": 320, "height": 180, "fps": 25}
        })
    };
    compose(&s, "seam", body(1.0)).await;
    // Scene 2 changes (and with it the boundaries): an incremental render.
    let video = compose(&s, "seam", body(1.2)).await;
    assert_eq!(counts(&video), (3, 1, 2));
    let path = download(&s, &video, dir.path()).await;
    let pcm = samples(&path);
    let steady = max_jump(&pcm, 0.4, 0.6);
    assert!(steady > 0.01, "the tone is there: {steady}");
    for boundary in [1.0, 2.2] {
        let jump = max_jump(&pcm, boundary - 0.1, boundary + 0.1);
        assert!(
            jump < steady * 1.3,
            "a click at {boundary} s: jump {jump} vs steady {steady}"
        );
    }
    let quiet: Vec<_> = silences(&path)
        .into_iter()
        .filter(|(a, _)| *a < 3.1)
        .collect();
    assert!(quiet.is_empty(), "a gap in the tone: {quiet:?}");
    s.stop().await;
}

#[tokio::test]
async fn drafts_are_a_quarter_of_the_pixels_and_never_reused_in_full_quality() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    prepare(&s, "draft").await;
    let body = |quality: &str| {
        json!({
            "timeline": [
                {"asset_id": "image_1.png", "duration": 1},
                {"asset_id": "image_2.png", "duration": 1, "transition": {"type": "wipe"}}
            ],
            "output": {"fps": 10, "quality": quality}
        })
    };
    let draft = compose(&s, "draft", body("draft")).await;
    assert_eq!(counts(&draft), (2, 2, 0));
    let path = download(&s, &draft, dir.path()).await;
    let probe = common::ffprobe(&path);
    assert_eq!(
        (
            probe["streams"][0]["width"].as_u64(),
            probe["streams"][0]["height"].as_u64()
        ),
        (Some(960), Some(540))
    );
    let full = compose(&s, "draft", body("standard")).await;
    assert_eq!(counts(&full), (2, 2, 0), "draft segments are not reused");
    assert_eq!(full["metadata"]["width"], 1920);
    assert_eq!(
        counts(&compose(&s, "draft", body("draft")).await),
        (2, 0, 2)
    );
    s.stop().await;
}

#[tokio::test]
async fn the_cache_keeps_to_its_cap_least_recently_used_first() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::with_data_dir(dir.path());
    config.render_cache_bytes = 1;
    let s = TestServer::start_with(config).await;
    for c in &COLOURS[..3] {
        s.upload("cap", "c.png", png(64, 36, *c)).await;
    }
    let a = json!({
        "timeline": [{"asset_id": "image_1.png", "duration": 1}, {"asset_id": "image_2.png", "duration": 1}],
        "output": {"width": 160, "height": 90, "fps": 10}
    });
    let b = json!({
        "timeline": [{"asset_id": "image_3.png", "duration": 1}],
        "output": {"width": 160, "height": 90, "fps": 10}
    });
    assert_eq!(counts(&compose(&s, "cap", a.clone()).await), (2, 2, 0));
    // The render in progress keeps what it uses; the next one evicts it.
    assert_eq!(cache_files(&s, "cap", "mp4").await.len(), 2);
    assert_eq!(counts(&compose(&s, "cap", b).await), (1, 1, 0));
    assert_eq!(cache_files(&s, "cap", "mp4").await.len(), 1);
    assert_eq!(counts(&compose(&s, "cap", a).await), (2, 2, 0));
    s.stop().await;
}

#[tokio::test]
async fn a_job_reports_running_and_its_steps() {
    let s = TestServer::start().await;
    prepare(&s, "steps").await;
    let body = json!({
        "timeline": [
            {"asset_id": "image_1.png", "duration": 2, "effect": "zoom_in"},
            {"asset_id": "image_2.png", "duration": 2, "effect": "pan_left"},
            {"asset_id": "image_3.png", "duration": 2, "effect": "zoom_out"}
        ],
        "output": {"width": 1280, "height": 720, "fps": 30},
        "async": true
    });
    let (status, accepted) = s.post_json("/api/v1/sessions/steps/compose", body).await;
    assert_eq!(status, 202);
    let url = accepted["status_url"].as_str().unwrap().to_owned();
    // Every view the job's event stream sends, until it ends.
    let seen = std::cell::RefCell::new(Vec::new());
    let final_view = s
        .wait_for_job(
            &url,
            |view| {
                seen.borrow_mut().push(view.clone());
                !["queued", "running"].contains(&view["status"].as_str().unwrap())
            },
            std::time::Duration::from_secs(120),
        )
        .await;
    let mut seen_running = false;
    let mut steps = std::collections::BTreeSet::new();
    let mut last_progress = 0.0;
    for view in seen.into_inner() {
        let progress = view["progress"].as_f64().unwrap();
        assert!(progress >= last_progress, "progress never goes back");
        last_progress = progress;
        if view["status"] == "running" {
            seen_running = true;
            assert!(progress < 1.0, "100% only when the file is ready");
            if let Some(step) = view["step"].as_str() {
                steps.insert(step.to_owned());
            }
        }
    }
    assert_eq!(final_view["status"], "succeeded", "{final_view}");
    assert_eq!(final_view["progress"], 1.0);
    assert!(seen_running, "the job reported running");
    assert!(
        steps
            .iter()
            .any(|s| s.starts_with("rendering scene ") && s.ends_with(" of 3")),
        "{steps:?}"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_500_item_timeline_renders_each_distinct_scene_once() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    s.upload("long", "c.png", png(64, 36, COLOURS[0])).await;
    let tone = ffmpeg_fixture(
        dir.path(),
        "t.wav",
        &[
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=500:duration=0.5",
            "-ar",
            "48000",
        ],
    );
    let (status, _) = s
        .upload("long", "t.wav", std::fs::read(&tone).unwrap())
        .await;
    assert_eq!(status, 201);
    let items: Vec<Value> = (0..250)
        .flat_map(|_| {
            [
                json!({"asset_id": "image_1.png", "effect": "zoom_in", "transition": {"type": "crossfade", "duration": 0.2}}),
                json!({"asset_id": "audio_1.wav"}),
            ]
        })
        .collect();
    let video = compose(
        &s,
        "long",
        json!({"timeline": items, "output": {"width": 64, "height": 64, "fps": 10}}),
    )
    .await;
    let render = &video["metadata"]["render"];
    assert_eq!(render["scenes"], 250);
    // The first scene, the one blending from it, the repeated middle, the last.
    assert_eq!(render["segments_rendered"], 4, "{render}");
    let path = download(&s, &video, dir.path()).await;
    let d = common::duration_of(&path);
    assert!((d - 125.0).abs() < 0.2, "{d}");
    s.stop().await;
}
