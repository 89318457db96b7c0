//! Piper, the natural offline voice (installed by scripts/setup.sh into
//! .tools/piper): the default when installed, measured like every engine,
//! kept alive between requests and replaced when killed; espeak-ng when absent.

use std::process::Command;

use crate::common::{TestServer, ffprobe, mean_volume_db, write_file};
use serde_json::{Value, json};
use studio::Config;

async fn speak(s: &TestServer, body: Value) -> Value {
    let (status, asset) = s.post_json("/api/v1/sessions/piper/audio", body).await;
    assert_eq!(status, 201, "{asset}");
    asset
}

fn duration(a: &Value) -> f64 {
    a["metadata"]["duration_seconds"].as_f64().unwrap()
}

/// Piper processes this test's server started: they write into its own
/// data folder (the other test of this file runs a server of its own, whose
/// Piper may come and go at the same time).
fn piper_children(config: &Config) -> Vec<String> {
    let pattern = format!("bin/piper .*{}", config.tmp_dir().join("piper").display());
    let out = Command::new("pgrep")
        .args(["-P", &std::process::id().to_string(), "-f", &pattern])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn piper_is_the_default_voice_when_installed() {
    assert!(
        std::path::Path::new(".tools/piper/bin/piper").exists(),
        "Piper is not installed: run scripts/setup.sh (CI does)"
    );
    let data = tempfile::tempdir().unwrap();
    let config = Config::with_data_dir(data.path());
    let s = TestServer::start_with(config.clone()).await;
    let dir = tempfile::tempdir().unwrap();

    let (_, voices) = s.get_json("/api/v1/voices").await;
    let joe = voices
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "en_US-joe-medium")
        .expect("the Joe voice is listed");
    assert_eq!(
        (
            joe["language_code"].as_str(),
            joe["gender"].as_str(),
            joe["provider"].as_str()
        ),
        (Some("en-US"), Some("male"), Some("piper"))
    );

    let text =
        "Content Studio now speaks with a natural voice. Every sentence is timed for captions.";
    let neural = speak(&s, json!({"text": text, "voice_name": "en-US-Neural2-D"})).await;
    assert_eq!(neural["metadata"]["provider"], "piper");
    assert_eq!(neural["metadata"]["engine_voice"], "en_US-joe-medium");
    let d = duration(&neural);
    assert!((2.5..10.0).contains(&d), "plausible for 14 words: {d}");
    let file = write_file(dir.path(), "piper.mp3", &s.download(&neural).await);
    let measured: f64 = ffprobe(&file)["format"]["duration"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((measured - d).abs() < 0.05);
    assert!(mean_volume_db(&file) > -40.0);
    let segments = neural["metadata"]["segments"].as_array().unwrap();
    assert_eq!(segments.len(), 2);
    assert!(segments[1]["start"].as_f64().unwrap() > segments[0]["end"].as_f64().unwrap());

    let espeak = speak(&s, json!({"text": text, "provider": "builtin"})).await;
    assert_eq!(espeak["metadata"]["provider"], "builtin");
    assert!(
        (duration(&espeak) - d).abs() > 0.05,
        "a different engine, a different reading"
    );

    let fast = speak(
        &s,
        json!({"text": text, "voice_name": "en_US-joe-medium", "speaking_rate": 1.6}),
    )
    .await;
    assert_eq!(fast["metadata"]["engine_voice"], "en_US-joe-medium");
    assert!(
        duration(&fast) < d * 0.8,
        "rate changes duration: {} vs {d}",
        duration(&fast)
    );

    // A female voice has no Piper match: hibari, the female offline voice,
    // speaks it.
    let female = speak(
        &s,
        json!({"text": "Hello.", "voice_name": "en-US-Neural2-C"}),
    )
    .await;
    assert_eq!(female["metadata"]["provider"], "hibari");

    // The model stays loaded: the same process serves the next request ...
    let before = piper_children(&config);
    assert!(!before.is_empty(), "a long-lived piper process is running");
    speak(&s, json!({"text": "Once more."})).await;
    assert_eq!(
        piper_children(&config),
        before,
        "no new process for a short line"
    );
    // ... and a killed process is replaced.
    for pid in &before {
        Command::new("kill").args(["-9", pid]).status().unwrap();
    }
    let again = speak(&s, json!({"text": "I am back after a crash."})).await;
    assert_eq!(again["metadata"]["provider"], "piper");
    let after = piper_children(&config);
    assert!(
        after.iter().any(|p| !before.contains(p)),
        "a new process replaced the killed one: {before:?} -> {after:?}"
    );
    s.stop().await;

    // Piper configured to a path that does not exist: espeak-ng, not an error.
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::with_data_dir(dir.path());
    config.speech.piper_bin = Some("/nonexistent/piper".into());
    let s = TestServer::start_with(config).await;
    let fallback = speak(
        &s,
        json!({"text": "Still speaking.", "voice_name": "en-US-Neural2-D"}),
    )
    .await;
    assert_eq!(fallback["metadata"]["provider"], "builtin");
    let (status, err) = s
        .post_json(
            "/api/v1/sessions/piper/audio",
            json!({"text": "x", "provider": "piper"}),
        )
        .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["field"], "provider");
    let (status, _) = s
        .post_json(
            "/api/v1/sessions/piper/audio",
            json!({"text": "x", "voice_name": "en_US-joe-medium"}),
        )
        .await;
    assert_eq!(status, 422, "a Piper voice cannot be spoken without Piper");
    s.stop().await;
}

#[tokio::test]
async fn hibari_speaks_female_voices_and_is_listed_with_a_sample() {
    assert!(
        std::path::Path::new(".tools/hibari/bin/hibari").exists(),
        "hibari is not installed: run scripts/setup.sh (CI does)"
    );
    let s = TestServer::start().await;
    let text = "The lighthouse keeper climbed the stairs. Ships passed safely.";
    let female = speak(&s, json!({"text": text, "voice_name": "en-GB-Neural2-F"})).await;
    assert_eq!(female["metadata"]["provider"], "hibari", "{female}");
    assert_eq!(female["metadata"]["engine_voice"], "heart");
    let segments = female["metadata"]["segments"].as_array().unwrap();
    assert_eq!(segments.len(), 2, "one per sentence: {female}");
    let d = duration(&female);
    assert!(d > 2.0 && d < 10.0, "{d}");
    // A male name still goes to Piper.
    let male = speak(
        &s,
        json!({"text": "Hello.", "voice_name": "en-US-Neural2-D"}),
    )
    .await;
    assert_eq!(male["metadata"]["provider"], "piper");
    // Listed, and heard before it is used.
    let (_, voices) = s.get_json("/api/v1/voices").await;
    let heart = voices
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "heart")
        .expect("heart is listed");
    assert_eq!(
        (heart["provider"].as_str(), heart["gender"].as_str()),
        (Some("hibari"), Some("female"))
    );
    let resp = s.get("/api/v1/voices/en-US-Neural2-F/sample").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "audio/mpeg");
    s.stop().await;
}
