//! The voice-over tool end to end: espeak-ng over HTTP, measured with ffprobe
//! and volumedetect, and the Google and OpenAI providers against fake servers.

use crate::common;

use crate::common::{
    TestServer, assert_error, ffprobe, mean_volume_db, tone_wav_bytes, write_file,
};
use base64::Engine;
use serde_json::{Value, json};
use studio::Config;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn speak(s: &TestServer, session: &str, body: Value) -> Value {
    let (status, asset) = s
        .post_json(&format!("/api/v1/sessions/{session}/audio"), body)
        .await;
    assert_eq!(status, 201, "{asset}");
    asset
}

async fn saved(s: &TestServer, asset: &Value, dir: &std::path::Path) -> std::path::PathBuf {
    let name = asset["name"].as_str().unwrap();
    write_file(dir, name, &s.download(asset).await)
}

#[tokio::test]
async fn builtin_voice_speaks_audibly_with_segments() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let text =
        "Hello, world! Content Studio turns ideas into videos. Each sentence gets its own timing.";
    let asset = speak(
        &s,
        "vo",
        json!({"text": text, "voice_name": "en-US-Neural2-D", "provider": "builtin"}),
    )
    .await;
    assert_eq!(asset["asset_id"], "audio_1.mp3");
    assert_eq!(asset["mime_type"], "audio/mpeg");
    let meta = &asset["metadata"];
    assert_eq!(meta["voice_name"], "en-US-Neural2-D");
    assert_eq!(meta["text"], text);
    assert_eq!(meta["provider"], "builtin");
    assert_eq!(meta["engine_voice"], "en-us+m3");

    let file = saved(&s, &asset, dir.path()).await;
    let probe = ffprobe(&file);
    let measured: f64 = probe["format"]["duration"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let stored = meta["duration_seconds"].as_f64().unwrap();
    assert!(
        (measured - stored).abs() < 0.05,
        "stored {stored} vs measured {measured}"
    );
    // ~14 words at 175 wpm is about 5 s; anything from 3 to 12 s is plausible.
    assert!((3.0..12.0).contains(&stored), "{stored}");
    assert!(mean_volume_db(&file) > -40.0, "not silent");

    let segments = meta["segments"].as_array().unwrap();
    assert_eq!(segments.len(), 3);
    assert_eq!(segments[0]["text"], "Hello, world!");
    assert_eq!(segments[0]["start"], 0.0);
    let mut last_end = 0.0;
    for seg in segments {
        let (start, end) = (seg["start"].as_f64().unwrap(), seg["end"].as_f64().unwrap());
        assert!(start >= last_end && end > start, "{segments:?}");
        last_end = end;
    }
    assert!(
        (stored - last_end).abs() < 0.3,
        "segments cover the audio: {last_end} of {stored}"
    );

    let (_, listed) = s.get_json("/api/v1/sessions/vo/assets?type=audio").await;
    assert_eq!(listed[0], asset);
    s.stop().await;
}

#[tokio::test]
async fn every_format_decodes() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    for (format, codec, mime) in [
        ("mp3", "mp3", "audio/mpeg"),
        ("wav", "pcm_s16le", "audio/wav"),
        ("ogg", "vorbis", "audio/ogg"),
    ] {
        let asset = speak(
            &s,
            "fmt",
            json!({"text": "Testing formats.", "format": format}),
        )
        .await;
        assert_eq!(asset["mime_type"], mime);
        assert!(asset["name"].as_str().unwrap().ends_with(format));
        let probe = ffprobe(&saved(&s, &asset, dir.path()).await);
        assert_eq!(probe["streams"][0]["codec_name"], codec, "{format}");
    }
    s.stop().await;
}

#[tokio::test]
async fn speaking_rate_changes_duration_and_loudness_is_normalised() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let text = "The quick brown fox jumps over the lazy dog near the quiet river bank.";
    let duration = |a: &Value| a["metadata"]["duration_seconds"].as_f64().unwrap();
    let normal = speak(&s, "rate", json!({"text": text})).await;
    let fast = speak(&s, "rate", json!({"text": text, "speaking_rate": 2.0})).await;
    let slow = speak(&s, "rate", json!({"text": text, "speaking_rate": 0.3})).await;
    assert!(
        duration(&fast) < duration(&normal) * 0.7,
        "{} vs {}",
        duration(&fast),
        duration(&normal)
    );
    assert!(
        duration(&slow) > duration(&normal) * 2.0,
        "{} vs {}",
        duration(&slow),
        duration(&normal)
    );
    let quiet_voice = speak(
        &s,
        "rate",
        json!({"text": text, "voice_name": "en-US-Wavenet-F", "pitch": 10}),
    )
    .await;
    let a = mean_volume_db(&saved(&s, &normal, dir.path()).await);
    let b = mean_volume_db(&saved(&s, &quiet_voice, dir.path()).await);
    assert!((a - b).abs() < 3.0, "voices share one level: {a} vs {b}");
    s.stop().await;
}

#[tokio::test]
async fn hostile_and_unicode_text_is_spoken_not_obeyed() {
    let s = TestServer::start().await;
    for text in [
        "--help",
        "-w /etc/passwd",
        "--stdin -v de; rm -rf / && echo $(whoami)",
        "Ünïcödé «ça va?» — 日本語, emoji 🎬!!! ... ?!",
        "$(reboot) `id` 'quote' \"double\"",
    ] {
        let asset = speak(&s, "hostile", json!({"text": text})).await;
        let d = asset["metadata"]["duration_seconds"].as_f64().unwrap();
        assert!(d > 0.2, "{text:?} was spoken: {d}");
        assert_eq!(asset["metadata"]["text"], text);
    }
    assert!(std::fs::metadata("/etc/passwd").unwrap().len() > 0);
    s.stop().await;
}

#[tokio::test]
async fn bad_speech_requests_name_the_field() {
    let s = TestServer::start().await;
    for (body, field) in [
        (json!({"text": ""}), "text"),
        (json!({}), "text"),
        (json!({"text": "x".repeat(5001)}), "text"),
        (json!({"text": "hi", "format": "flac"}), "format"),
        (json!({"text": "hi", "speaking_rate": 0.1}), "speaking_rate"),
        (
            json!({"text": "hi", "speaking_rate": "fast"}),
            "speaking_rate",
        ),
        (json!({"text": "hi", "pitch": 30}), "pitch"),
        (
            json!({"text": "hi", "voice_name": "klingon-KL-Neural2-A"}),
            "voice_name",
        ),
        (json!({"text": "hi", "voice_name": "robot"}), "voice_name"),
        (json!({"text": "hi", "provider": "polly"}), "provider"),
        (json!({"text": "..."}), "text"),
    ] {
        let (status, err) = s
            .post_json("/api/v1/sessions/badvo/audio", body.clone())
            .await;
        assert_eq!(status, 422, "{body} -> {err}");
        assert_error(&err, "invalid_request");
        assert_eq!(err["error"]["field"], field, "{body}");
    }
    let (_, err) = s
        .post_json(
            "/api/v1/sessions/badvo/audio",
            json!({"text": "hi", "voice_name": "robot"}),
        )
        .await;
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/api/v1/voices")
    );
    s.stop().await;
}

#[tokio::test]
async fn voices_are_listed() {
    let s = TestServer::start().await;
    let (status, voices) = s.get_json("/api/v1/voices").await;
    assert_eq!(status, 200);
    let voices = voices.as_array().unwrap();
    let d = voices
        .iter()
        .find(|v| v["name"] == "en-US-Neural2-D")
        .expect("the default voice is listed");
    assert_eq!(
        (d["language_code"].as_str(), d["gender"].as_str()),
        (Some("en-US"), Some("male"))
    );
    // The list names the engine that actually speaks the voice.
    let spoken = speak(
        &s,
        "which",
        json!({"text": "Hi.", "voice_name": "en-US-Neural2-D"}),
    )
    .await;
    assert_eq!(d["provider"], spoken["metadata"]["provider"]);
    let de = voices
        .iter()
        .find(|v| v["name"] == "de")
        .expect("espeak-ng's own languages are listed");
    assert_eq!(de["provider"], "builtin");
    let mut names: Vec<&str> = voices.iter().map(|v| v["name"].as_str().unwrap()).collect();
    let listed = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), listed, "each voice once");
    // A listed espeak-ng language can be named directly.
    let asset = speak(
        &s,
        "lang",
        json!({"text": "Guten Tag.", "voice_name": "de"}),
    )
    .await;
    assert_eq!(asset["metadata"]["engine_voice"], "de");
    // Every listed voice speaks (a reviewer found one that gave a 500).
    for voice in names.iter().step_by(7) {
        let resp = s.get(&format!("/api/v1/voices/{voice}/sample")).await;
        assert_eq!(resp.status(), 200, "{voice}");
    }
    assert!(!names.contains(&"chr-US-Qaaa-x-west"), "{names:?}");
    s.stop().await;
}

fn config_for(provider: &str, base_url: &str, dir: &std::path::Path) -> Config {
    let mut config = Config::with_data_dir(dir);
    config.speech.provider = provider.into();
    config.speech.base_url = Some(base_url.into());
    config.speech.api_key = Some("k".into());
    config.provider_timeout_secs = 5;
    config
}

#[tokio::test]
async fn google_provider() {
    let fake = MockServer::start().await;
    let audio = base64::engine::general_purpose::STANDARD.encode(tone_wav_bytes(1.0));
    Mock::given(method("POST"))
        .and(path("/v1/text:synthesize"))
        .and(header("x-goog-api-key", "k"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"audioContent": audio})))
        .up_to_n_times(2)
        .mount(&fake)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"error": {"code": 403, "message": "API key not valid", "status": "PERMISSION_DENIED"}})))
        .mount(&fake)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start_with(config_for("google", &fake.uri(), dir.path())).await;
    let asset = speak(&s, "g", json!({"text": "Hello there. General Kenobi.", "voice_name": "en-GB-Neural2-F", "speaking_rate": 1.5, "pitch": -2})).await;
    assert_eq!(asset["metadata"]["provider"], "google");
    let d = asset["metadata"]["duration_seconds"].as_f64().unwrap();
    assert!(
        (0.9..1.3).contains(&d),
        "duration measured from the provider's audio: {d}"
    );
    let sent: Value = fake.received_requests().await.unwrap()[0]
        .body_json()
        .unwrap();
    assert_eq!(sent["voice"]["name"], "en-GB-Neural2-F");
    assert_eq!(sent["voice"]["languageCode"], "en-GB");
    assert_eq!(sent["audioConfig"]["speakingRate"], 1.5);
    assert_eq!(sent["audioConfig"]["pitch"], -2.0);
    assert_eq!(sent["input"]["text"], "Hello there. General Kenobi.");
    assert_eq!(
        asset["metadata"]["segments"].as_array().unwrap().len(),
        1,
        "one segment per request"
    );

    let long = "A sentence of moderate length to fill the request. ".repeat(95);
    let (status, err) = s
        .post_json("/api/v1/sessions/g/audio", json!({"text": long}))
        .await;
    assert_eq!(status, 502, "{err}");
    assert!(assert_error(&err, "provider_error").contains("API key not valid"));
    let chunks: Vec<Value> = fake.received_requests().await.unwrap()[1..]
        .iter()
        .map(|r| r.body_json().unwrap())
        .collect();
    assert!(
        chunks
            .iter()
            .all(|c| c["input"]["text"].as_str().unwrap().len() <= 4500)
    );
    let (_, listed) = s.get_json("/api/v1/sessions/g/assets").await;
    assert_eq!(
        listed.as_array().unwrap().len(),
        1,
        "the failed request stored nothing"
    );
    s.stop().await;
}

#[tokio::test]
async fn openai_speech_provider() {
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/audio/speech"))
        .respond_with(
            ResponseTemplate::new(429).set_body_json(
                json!({"error": {"message": "Rate limit reached", "type": "requests"}}),
            ),
        )
        .up_to_n_times(1)
        .mount(&fake)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/audio/speech"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_bytes(tone_wav_bytes(2.0))
                .insert_header("content-type", "audio/wav"),
        )
        .up_to_n_times(1)
        .mount(&fake)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_json(json!({"error": {"message": "engine overloaded"}})),
        )
        .mount(&fake)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start_with(config_for(
        "openai",
        &format!("{}/v1", fake.uri()),
        dir.path(),
    ))
    .await;
    let asset = speak(&s, "o", json!({"text": "Hi from a compatible server.", "voice_name": "en-US-Neural2-D", "speaking_rate": 1.25, "format": "wav"})).await;
    assert_eq!(asset["metadata"]["provider"], "openai");
    assert_eq!(asset["metadata"]["engine_voice"], "echo");
    let d = asset["metadata"]["duration_seconds"].as_f64().unwrap();
    assert!((1.9..2.3).contains(&d), "{d}");
    let requests = fake.received_requests().await.unwrap();
    let sent: Value = requests.last().unwrap().body_json().unwrap();
    assert_eq!(
        (
            sent["voice"].as_str(),
            sent["speed"].as_f64(),
            sent["response_format"].as_str()
        ),
        (Some("echo"), Some(1.25), Some("wav"))
    );

    let (status, err) = s
        .post_json("/api/v1/sessions/o/audio", json!({"text": "again"}))
        .await;
    assert_eq!(status, 502);
    assert!(assert_error(&err, "provider_error").contains("engine overloaded"));
    // The built-in voice still answers when asked for by name.
    let local = speak(&s, "o", json!({"text": "offline", "provider": "builtin"})).await;
    assert_eq!(local["metadata"]["provider"], "builtin");
    s.stop().await;
}

#[test]
fn cli_say() {
    let dir = tempfile::tempdir().unwrap();
    let path = common::studio_ok(
        dir.path(),
        &[
            "say",
            "--session",
            "cli",
            "--voice",
            "en-US-Neural2-D",
            "Hello from the command line.",
        ],
    );
    let probe = ffprobe(std::path::Path::new(path.trim()));
    assert_eq!(probe["streams"][0]["codec_name"], "mp3");
}

#[tokio::test]
async fn a_voice_can_be_heard_before_it_is_used() {
    let s = TestServer::start().await;
    let resp = s.get("/api/v1/voices/en-US-Neural2-C/sample").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "audio/mpeg");
    let bytes = resp.bytes().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "sample.mp3", &bytes);
    let d = common::duration_of(&path);
    assert!(d > 1.0 && d < 10.0, "a short sentence: {d}");
    let (_, sessions) = s.get_json("/api/v1/sessions").await;
    assert_eq!(sessions["total"], 0, "nothing is stored");
    let (status, body) = s.get_json("/api/v1/voices/xx-nothing-9/sample").await;
    assert_eq!(status, 404, "the voice in the path is not found: {body}");
    assert_error(&body, "unknown_voice");
    s.stop().await;
}
