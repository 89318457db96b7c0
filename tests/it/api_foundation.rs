//! The foundation over HTTP: sessions, assets, uploads, ranges, errors, restarts.

use crate::common;

use std::collections::HashSet;

use crate::common::{TestServer, assert_error, ffmpeg_fixture, png, tone_mp3};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use studio::Config;

#[tokio::test]
async fn sessions_are_created_listed_shown_and_deleted() {
    let s = TestServer::start().await;
    let resp = s
        .client
        .post(s.url("/api/v1/sessions"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let created: Value = resp.json().await.unwrap();
    let id = created["session_id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 32, "128 random bits as hex");
    assert!(chrono::DateTime::parse_from_rfc3339(created["created_at"].as_str().unwrap()).is_ok());

    let (_, second) = s.post_json("/api/v1/sessions", Value::Null).await;
    assert_ne!(second["session_id"], created["session_id"]);

    let (status, page) = s.get_json("/api/v1/sessions?limit=1").await;
    assert_eq!(status, 200);
    assert_eq!(page["total"], 2);
    assert_eq!(page["sessions"].as_array().unwrap().len(), 1);
    let (_, page2) = s.get_json("/api/v1/sessions?limit=1&offset=1").await;
    assert_ne!(
        page["sessions"][0]["session_id"],
        page2["sessions"][0]["session_id"]
    );
    let (status, body) = s.get_json("/api/v1/sessions?limit=0").await;
    assert_eq!(status, 422);
    assert_error(&body, "invalid_request");
    let (status, _) = s.get_json("/api/v1/sessions?limit=abc").await;
    assert_eq!(status, 422);

    let (status, detail) = s.get_json(&format!("/api/v1/sessions/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(detail["session_id"], id.as_str());
    assert_eq!(detail["asset_count"], 0);
    assert_eq!(detail["asset_counts"]["image"], 0);

    let resp = s
        .client
        .delete(s.url(&format!("/api/v1/sessions/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let (status, body) = s.get_json(&format!("/api/v1/sessions/{id}")).await;
    assert_eq!(status, 404);
    assert_error(&body, "unknown_session");
    s.stop().await;
}

#[tokio::test]
async fn client_chosen_ids_create_the_session_on_first_use() {
    let s = TestServer::start().await;
    let (status, body) = s.get_json("/api/v1/sessions/my-video_1/assets").await;
    assert_eq!(status, 404, "reading does not create");
    assert_error(&body, "unknown_session");

    let (status, asset) = s
        .upload("my-video_1", "red.png", png(16, 8, [255, 0, 0]))
        .await;
    assert_eq!(status, 201, "{asset}");
    assert_eq!(asset["asset_id"], "image_1.png");
    assert_eq!(asset["name"], "image_1.png");
    assert_eq!(asset["type"], "image");
    assert_eq!(asset["mime_type"], "image/png");
    assert_eq!(asset["source"], "upload");
    assert_eq!(asset["metadata"]["width"], 16);
    assert_eq!(asset["metadata"]["height"], 8);

    let (status, detail) = s.get_json("/api/v1/sessions/my-video_1").await;
    assert_eq!(status, 200);
    assert_eq!(detail["asset_counts"]["image"], 1);
    s.stop().await;
}

#[tokio::test]
async fn bad_ids_are_rejected_with_400() {
    let s = TestServer::start().await;
    let long = "x".repeat(65);
    for bad in [
        "bad.id",
        "a%20b",
        "a..b",
        "%2Fetc",
        long.as_str(),
        "caf%C3%A9",
    ] {
        let (status, body) = s.get_json(&format!("/api/v1/sessions/{bad}/assets")).await;
        assert_eq!(status, 400, "{bad}");
        let message = assert_error(&body, "invalid_session_id");
        assert!(
            message.contains("A-Z"),
            "the message says what is valid: {message}"
        );
        let (status, _) = s.upload(bad, "x.png", png(8, 8, [0, 0, 0])).await;
        assert_eq!(status, 400, "upload to {bad}");
    }
    let (status, body) = s
        .get_json("/api/v1/sessions/ok/assets/..%2Fstudio.db")
        .await;
    assert_eq!(status, 400);
    assert_error(&body, "invalid_asset_name");
    s.stop().await;
}

#[tokio::test]
async fn fifty_concurrent_uploads_get_fifty_distinct_names() {
    let s = TestServer::start().await;
    let image = png(8, 8, [0, 128, 255]);
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let client = s.client.clone();
        let url = s.url("/api/v1/sessions/busy/uploads");
        let bytes = image.clone();
        tasks.push(tokio::spawn(async move {
            let form = Form::new().part("file", Part::bytes(bytes).file_name("a.png"));
            let resp = client.post(url).multipart(form).send().await.unwrap();
            assert_eq!(resp.status(), 201);
            resp.json::<Value>().await.unwrap()["name"]
                .as_str()
                .unwrap()
                .to_owned()
        }));
    }
    let mut names = HashSet::new();
    for task in tasks {
        names.insert(task.await.unwrap());
    }
    assert_eq!(names.len(), 50);
    let expected: HashSet<String> = (1..=50).map(|i| format!("image_{i}.png")).collect();
    assert_eq!(names, expected);
    let (_, listed) = s.get_json("/api/v1/sessions/busy/assets").await;
    let listed: HashSet<String> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, expected);
    s.stop().await;
}

#[tokio::test]
async fn uploads_of_each_kind_are_detected_from_content() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mp3 = tone_mp3(dir.path(), "tone.mp3", 1.5);
    let wav = ffmpeg_fixture(
        dir.path(),
        "t.wav",
        &["-f", "lavfi", "-i", "sine=duration=1"],
    );
    let mp4 = ffmpeg_fixture(
        dir.path(),
        "clip.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=320x240:rate=25:duration=2",
            "-pix_fmt",
            "yuv420p",
            "-c:v",
            "libx264",
        ],
    );

    // Names lie on purpose: the content decides.
    let (status, audio) = s
        .upload("kinds", "song.png", std::fs::read(&mp3).unwrap())
        .await;
    assert_eq!(status, 201, "{audio}");
    assert_eq!(audio["name"], "audio_1.mp3");
    assert_eq!(audio["mime_type"], "audio/mpeg");
    let d = audio["metadata"]["duration_seconds"].as_f64().unwrap();
    assert!((d - 1.5).abs() < 0.1, "{d}");
    assert_eq!(audio["metadata"]["original_filename"], "song.png");

    let (status, wav) = s.upload("kinds", "a", std::fs::read(&wav).unwrap()).await;
    assert_eq!(status, 201);
    assert_eq!(wav["name"], "audio_2.wav");

    let (status, video) = s
        .upload("kinds", "clip.bin", std::fs::read(&mp4).unwrap())
        .await;
    assert_eq!(status, 201, "{video}");
    assert_eq!(video["name"], "video_1.mp4");
    assert_eq!(video["type"], "video");
    assert_eq!(video["metadata"]["width"], 320);
    assert_eq!(video["metadata"]["has_audio"], false);

    let (status, image) = s.upload("kinds", "p.jpg", png(4, 4, [1, 2, 3])).await;
    assert_eq!(status, 201);
    assert_eq!(image["name"], "image_1.png");

    // A text file named .png, a truncated PNG and an empty file are refused.
    let (status, body) = s
        .upload("kinds", "fake.png", b"this is not an image".to_vec())
        .await;
    assert_eq!(status, 415);
    assert_error(&body, "unsupported_media_type");
    let (status, _) = s
        .upload("kinds", "cut.png", png(64, 64, [9, 9, 9])[..20].to_vec())
        .await;
    assert_eq!(status, 415);
    let (status, body) = s.upload("kinds", "empty.png", Vec::new()).await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["field"], "file");
    // A whole header over damaged picture data: refused now, not a failed
    // render later.
    let whole = common::noisy_png(320, 240);
    let (status, body) = s
        .upload("kinds", "half.png", whole[..whole.len() / 2].to_vec())
        .await;
    assert_eq!(status, 415, "{body}");
    assert!(assert_error(&body, "unsupported_media_type").contains("damaged"));
    // ffprobe's complaints do not show the server's paths.
    let mut broken = b"ID3\x04\x00\x00\x00\x00\x00\x00".to_vec();
    broken.extend(std::iter::repeat_n(0xAB_u8, 4000));
    let (status, body) = s.upload("kinds", "broken.mp3", broken).await;
    assert_eq!(status, 415, "{body}");
    let message = assert_error(&body, "unsupported_media_type");
    assert!(message.contains("not a readable media file"), "{message}");
    assert!(
        !message.contains("/tmp") && !message.contains("run-"),
        "{message}"
    );

    // Music is marked by a form field; only audio can be music.
    let form = Form::new()
        .part(
            "file",
            Part::bytes(std::fs::read(&mp3).unwrap()).file_name("m.mp3"),
        )
        .text("role", "music");
    let (status, music) = s.upload_form("kinds", form).await;
    assert_eq!(status, 201);
    assert_eq!(music["metadata"]["role"], "music");
    let form = Form::new()
        .part("file", Part::bytes(png(4, 4, [0, 0, 0])).file_name("m.png"))
        .text("role", "music");
    let (status, body) = s.upload_form("kinds", form).await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["field"], "role");

    // Nothing refused was listed; the filter works.
    let (_, all) = s.get_json("/api/v1/sessions/kinds/assets").await;
    assert_eq!(all.as_array().unwrap().len(), 5);
    let (_, audio_only) = s.get_json("/api/v1/sessions/kinds/assets?type=audio").await;
    assert_eq!(audio_only.as_array().unwrap().len(), 3);
    let (status, body) = s.get_json("/api/v1/sessions/kinds/assets?type=movie").await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["field"], "type");

    // No stray temporary files are left behind (once the background
    // transcripts of the audio and video are done).
    for _ in 0..600 {
        let (_, all) = s.get_json("/api/v1/sessions/kinds/assets").await;
        let pending = all
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["metadata"]["transcript_status"] == "pending");
        if !pending {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let tmp = s.studio.config().tmp_dir();
    assert_eq!(std::fs::read_dir(tmp).unwrap().count(), 0);
    s.stop().await;
}

#[tokio::test]
async fn uploads_over_the_limit_get_413() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::with_data_dir(dir.path());
    config.max_upload_bytes = 1000;
    let s = TestServer::start_with(config).await;
    let (status, body) = s
        .upload("big", "big.png", png(300, 300, [200, 10, 10]))
        .await;
    assert_eq!(status, 413, "{body}");
    assert_error(&body, "payload_too_large");
    let (status, _) = s.upload("big", "small.png", png(2, 2, [1, 1, 1])).await;
    assert_eq!(status, 201);
    s.stop().await;
}

#[tokio::test]
async fn content_supports_ranges_and_etags() {
    let s = TestServer::start().await;
    let bytes = png(50, 50, [10, 20, 30]);
    let (_, asset) = s.upload("r", "a.png", bytes.clone()).await;
    let url = s.url(asset["url"].as_str().unwrap());
    let full = s.client.get(&url).send().await.unwrap();
    assert_eq!(full.status(), 200);
    assert_eq!(full.headers()["content-type"], "image/png");
    assert_eq!(full.headers()["accept-ranges"], "bytes");
    let etag = full.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(full.bytes().await.unwrap().as_ref(), bytes.as_slice());

    let part = s
        .client
        .get(&url)
        .header("Range", "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 10-19/{}", bytes.len()).as_str()
    );
    assert_eq!(part.bytes().await.unwrap().as_ref(), &bytes[10..20]);

    let tail = s
        .client
        .get(&url)
        .header("Range", "bytes=-5")
        .send()
        .await
        .unwrap();
    assert_eq!(tail.status(), 206);
    assert_eq!(
        tail.bytes().await.unwrap().as_ref(),
        &bytes[bytes.len() - 5..]
    );

    let open = s
        .client
        .get(&url)
        .header("Range", "bytes=100-")
        .send()
        .await
        .unwrap();
    assert_eq!(open.status(), 206);
    assert_eq!(open.bytes().await.unwrap().as_ref(), &bytes[100..]);

    let beyond = s
        .client
        .get(&url)
        .header("Range", format!("bytes={}-", bytes.len() + 10))
        .send()
        .await
        .unwrap();
    assert_eq!(beyond.status(), 416);
    assert_eq!(
        beyond.headers()["content-range"],
        format!("bytes */{}", bytes.len()).as_str()
    );

    let garbage = s
        .client
        .get(&url)
        .header("Range", "pages=1-2")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 200, "a malformed Range is ignored");

    let cached = s
        .client
        .get(&url)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);
    let weak = s
        .client
        .get(&url)
        .header("If-None-Match", format!("W/{etag}"))
        .send()
        .await
        .unwrap();
    assert_eq!(weak.status(), 304, "If-None-Match compares weakly");
    // If-Range: the part only while the client's copy is current.
    for (validator, status) in [(etag.as_str(), 206), ("\"something-else\"", 200)] {
        let resp = s
            .client
            .get(&url)
            .header("Range", "bytes=10-19")
            .header("If-Range", validator)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), status, "If-Range {validator}");
    }

    let head = s.client.head(&url).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(
        head.headers()["content-length"],
        bytes.len().to_string().as_str()
    );
    s.stop().await;
}

#[tokio::test]
async fn assets_are_shown_and_deleted() {
    let s = TestServer::start().await;
    let (_, asset) = s.upload("d", "a.png", png(4, 4, [0, 0, 0])).await;
    let (status, shown) = s.get_json("/api/v1/sessions/d/assets/image_1.png").await;
    assert_eq!(status, 200);
    assert_eq!(shown, asset);
    let resp = s
        .client
        .delete(s.url("/api/v1/sessions/d/assets/image_1.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let (status, body) = s.get_json("/api/v1/sessions/d/assets/image_1.png").await;
    assert_eq!(status, 404);
    assert_error(&body, "unknown_asset");
    let resp = s.get(asset["url"].as_str().unwrap()).await;
    assert_eq!(resp.status(), 404);
    let (status, body) = s
        .get_json("/api/v1/sessions/nobody/assets/image_1.png")
        .await;
    assert_eq!(status, 404);
    assert_error(&body, "unknown_session");
    s.stop().await;
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_the_error_shape() {
    let s = TestServer::start().await;
    let (status, body) = s.get_json("/api/v1/nothing-here").await;
    assert_eq!(status, 404);
    assert_error(&body, "not_found");
    let resp = s
        .client
        .put(s.url("/api/v1/sessions"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 405);
    let body: Value = resp.json().await.unwrap();
    assert_error(&body, "method_not_allowed");
    let resp = s
        .client
        .post(s.url("/api/v1/sessions/x/uploads"))
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 415);
    s.stop().await;
}

#[tokio::test]
async fn openapi_document_and_docs_page_are_served() {
    let s = TestServer::start().await;
    let (status, doc) = s.get_json("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/api/v1/sessions",
        "/api/v1/sessions/{session_id}",
        "/api/v1/sessions/{session_id}/assets",
        "/api/v1/sessions/{session_id}/assets/{name}/content",
        "/api/v1/sessions/{session_id}/uploads",
        "/api/v1/sessions/{session_id}/timeline",
        "/api/v1/sessions/{session_id}/timeline/versions",
        "/api/v1/sessions/{session_id}/messages",
        "/api/v1/voices/{name}/sample",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
    let put = &doc["paths"]["/api/v1/sessions/{session_id}/timeline"]["put"];
    assert!(
        put["responses"]["409"].is_object(),
        "the conflict is documented"
    );
    let compose = &doc["components"]["schemas"]["ComposeRequest"];
    let required = compose["required"].as_array().cloned().unwrap_or_default();
    assert!(
        !required.contains(&serde_json::json!("timeline")),
        "timeline is optional: {compose}"
    );
    let page = s.get("/docs/").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger"), "docs page is Swagger UI");
    assert!(!html.contains("cdn") && !html.contains("unpkg"), "no CDN");
    let (status, _) = s.get_json("/healthz").await;
    assert_eq!(status, 200);
    s.stop().await;
}

#[tokio::test]
async fn a_restart_keeps_sessions_and_assets() {
    let dir = tempfile::tempdir().unwrap();
    let image = png(12, 12, [7, 7, 7]);
    let s = TestServer::start_with(Config::with_data_dir(dir.path())).await;
    let (_, asset) = s.upload("durable", "a.png", image.clone()).await;
    s.stop().await;

    let s = TestServer::start_with(Config::with_data_dir(dir.path())).await;
    let (status, listed) = s.get_json("/api/v1/sessions/durable/assets").await;
    assert_eq!(status, 200);
    assert_eq!(listed[0], asset);
    assert_eq!(s.download(&asset).await, image);
    let (_, next) = s.upload("durable", "b.png", image).await;
    assert_eq!(next["name"], "image_2.png", "counters survive the restart");
    s.stop().await;
}

#[tokio::test]
async fn an_asset_whose_bytes_are_lost_is_a_clear_404_not_a_500() {
    let s = TestServer::start().await;
    let (status, image) = s.upload("lost", "a.png", png(64, 48, [9, 99, 9])).await;
    assert_eq!(status, 201);
    // The bytes go missing behind the studio's back.
    let session = studio::ids::SessionId::parse("lost").unwrap();
    let name = studio::ids::AssetName::parse(image["name"].as_str().unwrap()).unwrap();
    let asset = s.studio.store().asset(&session, &name).await.unwrap();
    s.studio
        .store()
        .blobs()
        .delete(&asset.storage_key)
        .await
        .unwrap();
    let content = format!(
        "/api/v1/sessions/lost/assets/{}/content",
        asset.name.as_str()
    );
    for range in [None, Some("bytes=0-9")] {
        let mut req = s.client.get(s.url(&content));
        if let Some(r) = range {
            req = req.header("range", r);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 404, "range {range:?}");
        let body: Value = resp.json().await.unwrap();
        assert!(assert_error(&body, "asset_bytes_missing").contains(asset.name.as_str()));
    }
    let (status, err) = s
        .post_json(
            "/api/v1/sessions/lost/compose",
            json!({"timeline": [{"asset_id": asset.name.as_str(), "duration": 1}]}),
        )
        .await;
    assert_eq!(status, 404, "{err}");
    assert_error(&err, "asset_bytes_missing");
    s.stop().await;
}

/// A typo never silently does nothing: a field the route does not know is
/// refused with 422 naming it (with its path), and nothing is made.
#[tokio::test]
async fn unknown_fields_are_refused_with_the_field_named() {
    let s = TestServer::start().await;
    let cases = [
        ("image", json!({"prompt": "a cat", "sead": 4}), "sead"),
        (
            "audio",
            json!({"text": "Hi.", "voice": "en-US-Neural2-D"}),
            "voice",
        ),
        (
            "social",
            json!({"text": "Cats.", "hashtags": 3}),
            "hashtags",
        ),
        (
            "compose",
            json!({"timeline": [{"asset_id": "image_1.png"}], "captoins": true}),
            "captoins",
        ),
        (
            "compose",
            json!({"timeline": [{"asset_id": "image_1.png", "duraton": 2}]}),
            "timeline[0].duraton",
        ),
        (
            "compose",
            json!({"timeline": [{"asset_id": "image_1.png"}], "tracks": []}),
            "tracks",
        ),
        (
            "agent",
            json!({"message": "Hello", "mood": "happy"}),
            "mood",
        ),
    ];
    for (route, body, field) in cases {
        let (status, err) = s
            .post_json(&format!("/api/v1/sessions/typo/{route}"), body)
            .await;
        assert_eq!(status, 422, "{route}: {err}");
        assert_eq!(err["error"]["field"], field, "{route}: {err}");
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap()
                .contains("unknown field"),
            "{err}"
        );
    }
    let (_, assets) = s.get_json("/api/v1/sessions/typo/assets").await;
    assert_eq!(assets.as_array().map_or(0, Vec::len), 0, "nothing was made");

    // A saved timeline comes back as it was sent, answer fields included.
    let (status, _) = s
        .post_json("/api/v1/sessions/typo/image", json!({"prompt": "a cat"}))
        .await;
    assert_eq!(status, 201);
    let (status, saved) = s
        .put_json(
            "/api/v1/sessions/typo/timeline",
            json!({"timeline": [{"asset_id": "image_1.png"}]}),
        )
        .await;
    assert_eq!(status, 200, "{saved}");
    let (status, again) = s.put_json("/api/v1/sessions/typo/timeline", saved).await;
    assert_eq!(status, 200, "an answer can be sent back: {again}");
    let (status, err) = s
        .put_json(
            "/api/v1/sessions/typo/timeline",
            json!({"timeline": [], "musik": {"asset_id": "x.mp3"}}),
        )
        .await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("musik"))
    );
    s.stop().await;
}
