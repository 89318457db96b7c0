//! The image tool end to end: the built-in engine over HTTP, and each HTTP
//! provider against a fake server on loopback.

use crate::common;

use std::time::Duration;

use crate::common::{TestServer, assert_error};
use base64::Engine;
use serde_json::{Value, json};
use studio::Config;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(width, height, image::Rgb([200, 30, 30]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

async fn server_with(provider: &str, base_url: &str) -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::with_data_dir(dir.path());
    config.image.provider = provider.into();
    config.image.base_url = Some(base_url.into());
    config.image.api_key = Some("test-key".into());
    config.provider_timeout_secs = 1;
    (TestServer::start_with(config).await, dir)
}

#[tokio::test]
async fn builtin_image_end_to_end() {
    let s = TestServer::start().await;
    let (status, asset) = s
        .post_json(
            "/api/v1/sessions/pics/image",
            json!({"prompt": "A futuristic cityscape"}),
        )
        .await;
    assert_eq!(status, 201, "{asset}");
    assert_eq!(asset["asset_id"], "image_1.png");
    assert_eq!(asset["type"], "image");
    assert_eq!(asset["source"], "image");
    assert_eq!(asset["metadata"]["prompt"], "A futuristic cityscape");
    assert_eq!(asset["metadata"]["provider"], "builtin");
    assert_eq!(asset["metadata"]["width"], 1920);
    assert_eq!(asset["metadata"]["height"], 1080);
    let png = s.download(&asset).await;
    let decoded = image::load_from_memory(&png).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (1920, 1080));

    let (status, square) = s
        .post_json("/api/v1/sessions/pics/image", json!({"prompt": "  a cat on a sofa  ", "aspect_ratio": "9:16", "seed": 3, "caption": true}))
        .await;
    assert_eq!(status, 201);
    assert_eq!(square["asset_id"], "image_2.png");
    assert_eq!(square["metadata"]["prompt"], "a cat on a sofa");
    assert_eq!(
        (
            square["metadata"]["width"].as_u64(),
            square["metadata"]["height"].as_u64()
        ),
        (Some(1080), Some(1920))
    );

    let (_, listed) = s.get_json("/api/v1/sessions/pics/assets?type=image").await;
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert_eq!(listed[0], asset);
    s.stop().await;
}

#[tokio::test]
async fn builtin_metadata_lists_the_subjects_drawn() {
    let s = TestServer::start().await;
    let url = "/api/v1/sessions/subjects/image";
    let small = |prompt: &str| json!({"prompt": prompt, "width": 320, "height": 176});
    let (status, lighthouse) = s.post_json(url, small("A lighthouse in a storm")).await;
    assert_eq!(status, 201, "{lighthouse}");
    assert_eq!(lighthouse["metadata"]["subjects"], json!(["lighthouse"]));
    let (_, boats) = s
        .post_json(url, small("A harbour with fishing boats"))
        .await;
    assert_eq!(boats["metadata"]["subjects"], json!(["motor boat"]));
    let (_, none) = s.post_json(url, small("A calm evening")).await;
    assert_eq!(none["metadata"]["subjects"], json!([]));
    let png = s.download(&none).await;
    assert!(image::load_from_memory(&png).is_ok());
    s.stop().await;
}

#[tokio::test]
async fn same_prompt_and_seed_give_identical_bytes_over_http() {
    let s = TestServer::start().await;
    let body =
        json!({"prompt": "a lighthouse in the fog", "width": 320, "height": 176, "seed": 42});
    let (_, a) = s
        .post_json("/api/v1/sessions/det/image", body.clone())
        .await;
    let (_, b) = s.post_json("/api/v1/sessions/det/image", body).await;
    assert_ne!(a["asset_id"], b["asset_id"]);
    assert_eq!(s.download(&a).await, s.download(&b).await);
    s.stop().await;
}

#[tokio::test]
async fn bad_image_requests_are_rejected() {
    let s = TestServer::start().await;
    let url = "/api/v1/sessions/bad/image";
    for (body, field) in [
        (json!({"prompt": ""}), "prompt"),
        (json!({"prompt": "   "}), "prompt"),
        (json!({}), "prompt"),
        (json!({"prompt": 5}), "prompt"),
        (json!({"prompt": "x".repeat(4001)}), "prompt"),
        (json!({"prompt": "x", "width": 100, "height": 64}), "width"),
        (json!({"prompt": "x", "width": -8, "height": 64}), "width"),
        (
            json!({"prompt": "x", "aspect_ratio": "21:9"}),
            "aspect_ratio",
        ),
        (
            json!({"prompt": "x", "provider": "dalle-from-space"}),
            "provider",
        ),
    ] {
        let (status, err) = s.post_json(url, body.clone()).await;
        assert_eq!(status, 422, "{body}");
        assert_error(&err, "invalid_request");
        assert_eq!(err["error"]["field"], field, "{body} -> {err}");
    }
    let resp = s
        .client
        .post(s.url(url))
        .header("content-type", "application/json")
        .body("{\"prompt\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_error(&resp.json::<Value>().await.unwrap(), "bad_request");
    let resp = s
        .client
        .post(s.url(url))
        .body("{\"prompt\": \"x\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 415, "JSON routes need a JSON content type");
    let (status, _) = s
        .post_json("/api/v1/sessions/no%20pe/image", json!({"prompt": "x"}))
        .await;
    assert_eq!(status, 400);
    let (status, _) = s.get_json("/api/v1/sessions/bad").await;
    assert_eq!(status, 404, "failed requests create nothing");
    s.stop().await;
}

#[tokio::test]
async fn unicode_and_long_prompts_render() {
    let s = TestServer::start().await;
    let prompt = format!(
        "Ein Haus am Meer 🌊 日本の夜 «quotes» \"and\" 'more' {}",
        "word ".repeat(700)
    );
    let (status, asset) = s
        .post_json(
            "/api/v1/sessions/uni/image",
            json!({"prompt": prompt.trim(), "width": 256, "height": 256, "caption": true}),
        )
        .await;
    assert_eq!(status, 201, "{asset}");
    assert!(image::load_from_memory(&s.download(&asset).await).is_ok());
    s.stop().await;
}

#[tokio::test]
async fn openai_compatible_provider() {
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/images/generations"))
        .and(header("authorization", "Bearer test-key"))
        .respond_with(
            ResponseTemplate::new(429).set_body_json(json!({"error": {"message": "slow down"}})),
        )
        .up_to_n_times(1)
        .mount(&fake)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/images/generations"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"created": 1, "data": [{"b64_json": b64(&jpeg(64, 48))}]})),
        )
        .mount(&fake)
        .await;
    let (s, _dir) = server_with("openai", &format!("{}/v1", fake.uri())).await;
    let (status, asset) = s
        .post_json(
            "/api/v1/sessions/oa/image",
            json!({"prompt": "a red square"}),
        )
        .await;
    assert_eq!(status, 201, "{asset}");
    assert_eq!(
        asset["asset_id"], "image_1.jpg",
        "stored with its real type"
    );
    assert_eq!(asset["mime_type"], "image/jpeg");
    assert_eq!(asset["metadata"]["provider"], "openai");
    assert_eq!(
        (
            asset["metadata"]["width"].as_u64(),
            asset["metadata"]["height"].as_u64()
        ),
        (Some(64), Some(48))
    );
    let sent: Value = fake
        .received_requests()
        .await
        .unwrap()
        .last()
        .unwrap()
        .body_json()
        .unwrap();
    assert_eq!(sent["prompt"], "a red square");
    assert_eq!(sent["n"], 1);

    // The built-in engine is still there per request.
    let (status, local) = s
        .post_json(
            "/api/v1/sessions/oa/image",
            json!({"prompt": "x", "provider": "builtin", "width": 64, "height": 64}),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(local["metadata"]["provider"], "builtin");
    s.stop().await;
}

#[tokio::test]
async fn openai_errors_become_502_and_store_nothing() {
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {"message": "Your request was rejected by the safety system", "type": "invalid_request_error"}})))
        .up_to_n_times(1)
        .mount(&fake)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"created": 1, "data": [{"b64_json": b64(b"not an image")}]})),
        )
        .up_to_n_times(1)
        .mount(&fake)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>oops</html>"))
        .up_to_n_times(1)
        .mount(&fake)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .mount(&fake)
        .await;
    let (s, _dir) = server_with("openai", &fake.uri()).await;
    let (status, err) = s
        .post_json("/api/v1/sessions/oe/image", json!({"prompt": "x"}))
        .await;
    assert_eq!(status, 502);
    let message = assert_error(&err, "provider_error");
    assert!(message.contains("safety system"), "{message}");
    let (status, err) = s
        .post_json("/api/v1/sessions/oe/image", json!({"prompt": "x"}))
        .await;
    assert_eq!(status, 502);
    assert!(
        assert_error(&err, "provider_error").contains("not an image")
            || err.to_string().contains("base64")
    );
    let (status, err) = s
        .post_json("/api/v1/sessions/oe/image", json!({"prompt": "x"}))
        .await;
    assert_eq!(status, 502, "{err}");
    let (status, err) = s
        .post_json("/api/v1/sessions/oe/image", json!({"prompt": "x"}))
        .await;
    assert_eq!(status, 504, "{err}");
    assert_error(&err, "provider_timeout");
    let (status, _) = s.get_json("/api/v1/sessions/oe/assets").await;
    assert_eq!(status, 404, "nothing was stored, not even the session");
    s.stop().await;
}

#[tokio::test]
async fn automatic1111_provider() {
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/sdapi/v1/txt2img"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&fake)
        .await;
    Mock::given(method("POST"))
        .and(path("/sdapi/v1/txt2img"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"images": [b64(&common::png(96, 64, [0, 255, 0]))], "parameters": {}, "info": "{}"})))
        .up_to_n_times(1)
        .mount(&fake)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(500).set_body_json(json!({"detail": "CUDA out of memory"})),
        )
        .mount(&fake)
        .await;
    let (s, _dir) = server_with("automatic1111", &fake.uri()).await;
    let (status, asset) = s
        .post_json("/api/v1/sessions/sd/image", json!({"prompt": "a castle", "negative_prompt": "blurry", "seed": 5, "width": 512, "height": 512}))
        .await;
    assert_eq!(status, 201, "{asset}");
    assert_eq!(asset["asset_id"], "image_1.png");
    assert_eq!(asset["metadata"]["provider"], "automatic1111");
    let sent: Value = fake.received_requests().await.unwrap()[1]
        .body_json()
        .unwrap();
    assert_eq!(
        (sent["prompt"].as_str(), sent["negative_prompt"].as_str()),
        (Some("a castle"), Some("blurry"))
    );
    assert_eq!(
        (sent["width"].as_u64(), sent["seed"].as_i64()),
        (Some(512), Some(5))
    );

    let (status, err) = s
        .post_json("/api/v1/sessions/sd/image", json!({"prompt": "again"}))
        .await;
    assert_eq!(status, 502);
    assert!(assert_error(&err, "provider_error").contains("CUDA out of memory"));
    let (_, listed) = s.get_json("/api/v1/sessions/sd/assets").await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    s.stop().await;
}

#[tokio::test]
async fn automatic1111_malformed_answer() {
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"nothing": true})))
        .mount(&fake)
        .await;
    let (s, _dir) = server_with("automatic1111", &fake.uri()).await;
    let (status, err) = s
        .post_json("/api/v1/sessions/sd/image", json!({"prompt": "x"}))
        .await;
    assert_eq!(status, 502);
    assert!(assert_error(&err, "provider_error").contains("malformed"));
    s.stop().await;
}

#[tokio::test]
async fn imagen_provider() {
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/models/imagen-test:predict"))
        .and(header("x-goog-api-key", "test-key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"predictions": [{"bytesBase64Encoded": b64(&jpeg(160, 90)), "mimeType": "image/jpeg"}]})))
        .up_to_n_times(1)
        .mount(&fake)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&fake)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::with_data_dir(dir.path());
    config.image.provider = "imagen".into();
    config.image.base_url = Some(fake.uri());
    config.image.api_key = Some("test-key".into());
    config.image.model = Some("imagen-test".into());
    let s = TestServer::start_with(config).await;
    let (status, asset) = s
        .post_json(
            "/api/v1/sessions/g/image",
            json!({"prompt": "a fox", "aspect_ratio": "9:16"}),
        )
        .await;
    assert_eq!(status, 201, "{asset}");
    assert_eq!(asset["asset_id"], "image_1.jpg");
    assert_eq!(asset["metadata"]["model"], "imagen-test");
    let sent: Value = fake.received_requests().await.unwrap()[0]
        .body_json()
        .unwrap();
    assert_eq!(sent["instances"][0]["prompt"], "a fox");
    assert_eq!(sent["parameters"]["aspectRatio"], "9:16");
    let (status, err) = s
        .post_json("/api/v1/sessions/g/image", json!({"prompt": "filtered"}))
        .await;
    assert_eq!(status, 502);
    assert!(assert_error(&err, "provider_error").contains("no image"));
    s.stop().await;
}

#[test]
fn cli_image_writes_an_asset_and_prints_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = common::studio_ok(
        dir.path(),
        &[
            "image",
            "--session",
            "cli",
            "--width",
            "128",
            "--height",
            "72",
            "a red barn at sunset",
        ],
    );
    let decoded = image::open(path.trim()).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (128, 72));
    let out = common::studio_command(dir.path())
        .args(["image", "--session", "cli", ""])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("prompt"));
}

/// A provider that takes requests and never answers; `hung_up` fires when
/// the caller closes its connection (gives up on it).
async fn provider_that_never_answers() -> (String, tokio::sync::oneshot::Receiver<()>) {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (hung_up, told) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (mut conn, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 4096];
        // Reads the request, then waits: 0 bytes read is the caller gone.
        while conn.read(&mut buf).await.is_ok_and(|n| n > 0) {}
        let _ = hung_up.send(());
    });
    (url, told)
}

#[tokio::test]
async fn a_request_over_the_time_limit_answers_503_with_the_error_body() {
    let (provider, hung_up) = provider_that_never_answers().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::with_data_dir(dir.path());
    config.image.provider = "openai".into();
    config.image.base_url = Some(provider);
    config.image.api_key = Some("test-key".into());
    config.provider_timeout_secs = 30;
    config.server.request_timeout_secs = 1;
    let s = TestServer::start_with(config).await;
    let response = s
        .client
        .post(s.url("/api/v1/sessions/slow/image"))
        .json(&json!({"prompt": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(
        response.headers()["retry-after"].to_str().unwrap(),
        "5",
        "told when to try again"
    );
    let body: Value = response.json().await.unwrap();
    assert!(assert_error(&body, "timeout").contains("1 s"), "{body}");
    // The abandoned request is dropped (its provider call with it), and
    // stores nothing.
    tokio::time::timeout(Duration::from_secs(10), hung_up)
        .await
        .expect("the studio hangs up on the provider")
        .unwrap();
    let (status, _) = s.get_json("/api/v1/sessions/slow/assets").await;
    assert_eq!(status, 404);
    s.stop().await;
}
