//! Captions to broadcast norms, checked from the output: the `.srt` and the
//! burned-in frames keep to two lines of 42 (16:9) or 32 (9:16) characters,
//! cues last 0.8–7 s and never overlap, the safe area stays clear, every
//! voice-over has word timings, and karaoke lights the word being spoken.

use std::path::Path;

use crate::common::{TestServer, frame_rgb, png, write_file};
use serde_json::{Value, json};

const TEXT: &str = "Every story starts with a single idea, small enough to hold in one hand, yet big enough to grow. \
The sea at sunset reminds us that endings can be beautiful, calm, and full of quiet colour. \
High in the mountains, the first light of morning touches the fresh snow on every peak.";

async fn narrated(s: &TestServer, session: &str) -> Value {
    let (status, _) = s
        .upload(session, "blue.png", png(64, 64, [20, 40, 160]))
        .await;
    assert_eq!(status, 201);
    let (status, voice) = s
        .post_json(
            &format!("/api/v1/sessions/{session}/audio"),
            json!({"text": TEXT, "provider": "builtin"}),
        )
        .await;
    assert_eq!(status, 201, "{voice}");
    voice
}

async fn compose(s: &TestServer, session: &str, size: (u32, u32), captions: Value) -> Value {
    let (status, video) = s
        .post_json(
            &format!("/api/v1/sessions/{session}/compose"),
            json!({
                "timeline": [{"asset_id": "image_1.png"}, {"asset_id": "audio_1.mp3"}],
                "output": {"width": size.0, "height": size.1, "fps": 10},
                "captions": captions
            }),
        )
        .await;
    assert_eq!(status, 201, "{video}");
    video
}

/// (start, end, lines) of each SRT cue.
fn parse_srt(text: &str) -> Vec<(f64, f64, Vec<String>)> {
    let t = |s: &str| -> f64 {
        let (hms, ms) = s.trim().split_once(',').unwrap();
        let p: Vec<f64> = hms.split(':').map(|x| x.parse().unwrap()).collect();
        p[0] * 3600.0 + p[1] * 60.0 + p[2] + ms.parse::<f64>().unwrap() / 1000.0
    };
    text.split("\n\n")
        .filter(|b| !b.trim().is_empty())
        .map(|block| {
            let mut lines = block.lines().skip(1);
            let (a, b) = lines.next().unwrap().split_once(" --> ").unwrap();
            (t(a), t(b), lines.map(str::to_owned).collect())
        })
        .collect()
}

/// Rows (of a crop) holding caption text: bright pixels on the blue picture.
fn text_bands(rgb: &[u8], width: usize) -> Vec<(usize, usize)> {
    let rows: Vec<bool> = rgb
        .chunks_exact(width * 3)
        .map(|row| {
            row.chunks_exact(3)
                .filter(|p| p[0] > 200 && p[1] > 200)
                .count()
                > 2
        })
        .collect();
    let mut bands: Vec<(usize, usize)> = Vec::new();
    for (y, on) in rows.iter().enumerate() {
        if !on {
            continue;
        }
        match bands.last_mut() {
            Some((_, end)) if y - *end <= 4 => *end = y,
            _ => bands.push((y, y)),
        }
    }
    bands
}

#[tokio::test]
async fn voice_overs_carry_word_timings() {
    let s = TestServer::start().await;
    let voice = narrated(&s, "words").await;
    let words = voice["metadata"]["words"].as_array().unwrap();
    assert_eq!(words.len(), TEXT.split_whitespace().count());
    assert_eq!(words[0]["text"], "Every");
    let duration = voice["metadata"]["duration_seconds"].as_f64().unwrap();
    let mut last = 0.0;
    for w in words {
        let (a, b) = (w["start"].as_f64().unwrap(), w["end"].as_f64().unwrap());
        assert!(a >= last - 1e-6 && b > a && b <= duration + 0.01, "{w}");
        last = b;
    }
    s.stop().await;
}

#[tokio::test]
async fn captions_keep_to_two_short_lines_in_the_safe_area() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    narrated(&s, "norms").await;
    for ((w, h), max, clear) in [((640, 360), 42, 0.10), ((360, 640), 32, 0.20)] {
        let video = compose(&s, "norms", (w, h), json!(true)).await;
        let name = video["metadata"]["captions"].as_str().unwrap();
        let (_, srt_asset) = s
            .get_json(&format!("/api/v1/sessions/norms/assets/{name}"))
            .await;
        let srt = String::from_utf8(s.download(&srt_asset).await).unwrap();
        let cues = parse_srt(&srt);
        assert!(cues.len() >= 4, "{srt}");
        for (i, (a, b, lines)) in cues.iter().enumerate() {
            assert!((1..=2).contains(&lines.len()), "{lines:?}");
            assert!(
                lines.iter().all(|l| l.chars().count() <= max),
                "{max}: {lines:?}"
            );
            assert!(
                lines.iter().all(|l| l.contains(' ')),
                "a lone word: {lines:?}"
            );
            assert!((0.8 - 1e-3..=7.0 + 1e-3).contains(&(b - a)), "{a}–{b}");
            if let Some((next, _, _)) = cues.get(i + 1) {
                assert!(*b <= next + 1e-3, "cues overlap at {b}");
            }
        }
        // Burned in: at most two rows of text, none in the bottom safe area.
        let path = write_file(dir.path(), "v.mp4", &s.download(&video).await);
        let mut seen = 0;
        for (a, b, lines) in &cues {
            let t = (a + b) / 2.0;
            let rgb = frame_rgb(&path, t, "null");
            let bands = text_bands(&rgb, w as usize);
            assert!(
                bands.len() <= 2 && bands.len() >= lines.len().min(1),
                "at {t}: {bands:?} for {lines:?}"
            );
            let limit = (f64::from(h) * (1.0 - clear)) as usize;
            assert!(
                bands.iter().all(|(_, end)| *end < limit),
                "at {t}: {bands:?} reaches the bottom {clear}"
            );
            seen += 1;
        }
        assert_eq!(seen, cues.len());
    }
    s.stop().await;
}

#[tokio::test]
async fn karaoke_lights_the_word_being_spoken() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    narrated(&s, "karaoke").await;
    let lit = |path: &Path, t: f64| -> (usize, f64) {
        let rgb = frame_rgb(path, t, "null");
        let xs: Vec<usize> = rgb
            .chunks_exact(3)
            .enumerate()
            .filter(|(_, p)| p[0] > 190 && p[1] > 150 && p[2] < 110)
            .map(|(i, _)| i % 640)
            .collect();
        let mean = xs.iter().sum::<usize>() as f64 / xs.len().max(1) as f64;
        (xs.len(), mean)
    };
    let plain = compose(&s, "karaoke", (640, 360), json!({"style": "plain"})).await;
    let karaoke = compose(&s, "karaoke", (640, 360), json!({"style": "karaoke"})).await;
    let word = compose(
        &s,
        "karaoke",
        (640, 360),
        json!({"style": "word", "position": "middle"}),
    )
    .await;
    let (p, k, wd) = (
        write_file(dir.path(), "p.mp4", &s.download(&plain).await),
        write_file(dir.path(), "k.mp4", &s.download(&karaoke).await),
        write_file(dir.path(), "w.mp4", &s.download(&word).await),
    );
    // Early in the first cue, then later in it: the lit word moves right.
    let (n1, x1) = lit(&k, 0.3);
    let (n2, x2) = lit(&k, 1.6);
    assert!(n1 > 20 && n2 > 20, "accent pixels: {n1} {n2}");
    assert!(
        x2 > x1 + 40.0,
        "the highlight moves with the speech: {x1} → {x2}"
    );
    assert!(
        lit(&p, 0.3).0 < 5 && lit(&p, 1.6).0 < 5,
        "plain has no accent"
    );
    // Word style: large type in the middle of the frame.
    let rgb = frame_rgb(&wd, 1.0, "null");
    let bands = text_bands(&rgb, 640);
    assert_eq!(bands.len(), 1, "{bands:?}");
    let (top, bottom) = bands[0];
    assert!(top > 100 && bottom < 260 && bottom - top > 25, "{bands:?}");
    // Bad styles are 422s naming the field.
    let (status, err) = s
        .post_json(
            "/api/v1/sessions/karaoke/compose",
            json!({"timeline": [{"asset_id": "image_1.png"}], "captions": {"style": "neon"}}),
        )
        .await;
    assert_eq!(
        (status, &err["error"]["field"]),
        (422, &json!("captions.style"))
    );
    s.stop().await;
}

#[tokio::test]
async fn uploaded_narration_with_a_transcript_is_captioned() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let said = "Our story begins in a small village. The market opens at nine, and everyone comes.";
    let wav = dir.path().join("narration.wav");
    let status = std::process::Command::new("espeak-ng")
        .args(["-v", "en-us", "-w"])
        .arg(&wav)
        .arg(said)
        .status()
        .expect("espeak-ng is installed");
    assert!(status.success());
    let (status, _) = s
        .upload("upload", "blue.png", png(64, 64, [20, 40, 160]))
        .await;
    assert_eq!(status, 201);
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(std::fs::read(&wav).unwrap())
                .file_name("narration.wav"),
        )
        .text("transcript", said);
    let (status, audio) = s.upload_form("upload", form).await;
    assert_eq!(status, 201, "{audio}");
    let words = audio["metadata"]["words"].as_array().unwrap();
    assert_eq!(words.len(), said.split_whitespace().count());
    let segments = audio["metadata"]["segments"].as_array().unwrap();
    assert_eq!(segments.len(), 2);
    assert_eq!(
        segments[1]["text"],
        "The market opens at nine, and everyone comes."
    );
    let duration = audio["metadata"]["duration_seconds"].as_f64().unwrap();
    assert!(words.last().unwrap()["end"].as_f64().unwrap() <= duration + 1e-6);

    let (status, video) = s
        .post_json(
            "/api/v1/sessions/upload/compose",
            json!({
                "timeline": [{"asset_id": "image_1.png"}, {"asset_id": "audio_1.wav"}],
                "output": {"width": 320, "height": 180, "fps": 10},
                "captions": true
            }),
        )
        .await;
    assert_eq!(status, 201, "{video}");
    let name = video["metadata"]["captions"].as_str().expect("captioned");
    let (_, srt_asset) = s
        .get_json(&format!("/api/v1/sessions/upload/assets/{name}"))
        .await;
    let srt = String::from_utf8(s.download(&srt_asset).await).unwrap();
    assert!(
        srt.contains("Our story begins in a small village."),
        "{srt}"
    );

    // A transcript belongs to audio only.
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(png(8, 8, [1, 2, 3])).file_name("x.png"),
        )
        .text("transcript", "words");
    let (status, err) = s.upload_form("upload", form).await;
    assert_eq!(
        (status, &err["error"]["field"]),
        (422, &json!("transcript"))
    );
    s.stop().await;
}

#[tokio::test]
async fn a_scene_that_cuts_its_narration_short_captions_only_what_is_heard() {
    let s = TestServer::start().await;
    let session = "cut";
    for rgb in [[20, 40, 160], [160, 40, 20]] {
        let (status, _) = s.upload(session, "p.png", png(64, 64, rgb)).await;
        assert_eq!(status, 201);
    }
    let mut voices = Vec::new();
    for text in [
        TEXT,
        "Coffee began, legend says, on the hills of Ethiopia, where a goatherd saw his goats dance.",
    ] {
        let (status, voice) = s
            .post_json(
                &format!("/api/v1/sessions/{session}/audio"),
                json!({"text": text, "provider": "builtin"}),
            )
            .await;
        assert_eq!(status, 201, "{voice}");
        voices.push(voice);
    }
    let first_length = voices[0]["metadata"]["duration_seconds"].as_f64().unwrap();
    assert!(first_length > 8.0, "{first_length}");
    let (status, video) = s
        .post_json(
            &format!("/api/v1/sessions/{session}/compose"),
            json!({
                "timeline": [
                    {"asset_id": "image_1.png", "duration": 5},
                    {"asset_id": "audio_1.mp3"},
                    {"asset_id": "image_2.png"},
                    {"asset_id": "audio_2.mp3"}
                ],
                "output": {"width": 640, "height": 360, "fps": 10},
                "captions": true
            }),
        )
        .await;
    assert_eq!(status, 201, "{video}");
    let name = video["metadata"]["captions"].as_str().unwrap();
    let (_, srt_asset) = s
        .get_json(&format!("/api/v1/sessions/{session}/assets/{name}"))
        .await;
    let srt = String::from_utf8(s.download(&srt_asset).await).unwrap();
    let cues = parse_srt(&srt);
    let second: Vec<&str> = voices[1]["metadata"]["text"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .collect();
    for (a, b, lines) in &cues {
        let text = lines.join(" ");
        let of_second = text.split_whitespace().all(|w| second.contains(&w));
        let of_first = text
            .split_whitespace()
            .all(|w| TEXT.split_whitespace().any(|t| t == w));
        assert!(
            of_first || of_second,
            "a cue mixes two narrations: {text:?}"
        );
        if !of_second {
            // The first narration's words: only those heard in its 5 s scene.
            assert!(*b <= 5.0 + 1e-3, "runs past its scene: {a}–{b} {text:?}");
        }
        assert!(b - a >= 0.8 - 1e-3, "{a}–{b} {text:?}");
    }
    // The first narration is captioned up to its cut, not beyond.
    let heard: String = cues
        .iter()
        .filter(|(_, b, _)| *b <= 5.0 + 1e-3)
        .map(|(_, _, l)| l.join(" "))
        .collect::<Vec<_>>()
        .join(" ");
    assert!(heard.starts_with("Every story"), "{srt}");
    assert!(!heard.contains("mountains"), "words after the cut: {heard}");
    s.stop().await;
}
