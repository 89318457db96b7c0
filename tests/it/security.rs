//! Browser safety over HTTP: the Host allow-list, foreign origins refused
//! for anything that changes state, and strict headers on every answer.

use crate::common;

use crate::common::{TestServer, assert_error, png};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use studio::Config;

async fn status_and_body(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn only_known_hosts_are_answered() {
    let s = TestServer::start().await;
    let port = s.base.rsplit(':').next().unwrap().to_owned();
    for (host, ok) in [
        (format!("127.0.0.1:{port}"), true),
        (format!("localhost:{port}"), true),
        (format!("[::1]:{port}"), true),
        ("evil.example".to_owned(), false),
        (format!("rebind.attacker.example:{port}"), false),
    ] {
        let resp = s
            .client
            .get(s.url("/api/v1/sessions"))
            .header("host", &host)
            .send()
            .await
            .unwrap();
        let (status, body) = status_and_body(resp).await;
        if ok {
            assert_eq!(status, 200, "{host}");
        } else {
            assert_eq!(status, 403, "{host}");
            assert!(assert_error(&body, "forbidden_host").contains("STUDIO_ALLOWED_HOSTS"));
        }
    }
    // No Host, or two (the first allowed): a malformed request (RFC 9112).
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = s.base.trim_start_matches("http://").to_owned();
        for head in [
            "GET /api/v1/sessions HTTP/1.1\r\nConnection: close\r\n\r\n".to_owned(),
            format!(
                "GET /api/v1/sessions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nHost: evil.example\r\nConnection: close\r\n\r\n"
            ),
        ] {
            let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
            stream.write_all(head.as_bytes()).await.unwrap();
            let mut answer = Vec::new();
            stream.read_to_end(&mut answer).await.unwrap();
            let text = String::from_utf8_lossy(&answer);
            assert!(text.starts_with("HTTP/1.1 400"), "{head:?}: {text}");
        }
    }
    s.stop().await;

    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::with_data_dir(dir.path());
    config.server.allowed_hosts = vec!["studio.example".into()];
    let s = TestServer::start_with(config).await;
    let resp = s
        .client
        .get(s.url("/healthz"))
        .header("host", "studio.example")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    s.stop().await;
}

#[tokio::test]
async fn foreign_pages_cannot_change_anything() {
    let s = TestServer::start().await;
    let own = s.base.clone();
    // A multipart upload needs no preflight: a foreign page could send it.
    let form = Form::new().part("file", Part::bytes(png(8, 8, [1, 2, 3])).file_name("x.png"));
    let resp = s
        .client
        .post(s.url("/api/v1/sessions/victim/uploads"))
        .header("origin", "https://evil.example")
        .multipart(form)
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_body(resp).await;
    assert_eq!(status, 403);
    assert_error(&body, "forbidden_origin");
    for (method, path) in [
        (reqwest::Method::POST, "/api/v1/sessions"),
        (reqwest::Method::DELETE, "/api/v1/sessions/victim"),
        (reqwest::Method::PUT, "/api/v1/sessions/victim/timeline"),
    ] {
        let resp = s
            .client
            .request(method.clone(), s.url(path))
            .header("origin", "null")
            .json(&json!({"timeline": []}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 403, "{method} {path}");
    }
    let (_, sessions) = s.get_json("/api/v1/sessions").await;
    assert_eq!(sessions["total"], 0, "nothing was made");
    // The studio's own page, and clients that send no Origin, may.
    let resp = s
        .client
        .post(s.url("/api/v1/sessions"))
        .header("origin", &own)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let (status, _) = s.post_json("/api/v1/sessions", Value::Null).await;
    assert_eq!(status, 201);
    // Reading is not a change.
    let resp = s
        .client
        .get(s.url("/api/v1/sessions"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    s.stop().await;

    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::with_data_dir(dir.path());
    config.server.allowed_origins = vec!["https://app.example".into()];
    let s = TestServer::start_with(config).await;
    let resp = s
        .client
        .post(s.url("/api/v1/sessions"))
        .header("origin", "https://app.example")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "a configured origin may");
    assert_eq!(
        resp.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    // Its pages can send a key and JSON: the browser's preflight is answered.
    let preflight = s
        .client
        .request(reqwest::Method::OPTIONS, s.url("/api/v1/sessions/x/image"))
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    let h = preflight.headers();
    assert_eq!(h["access-control-allow-origin"], "https://app.example");
    let allowed = h["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(allowed.contains("authorization") && allowed.contains("content-type"));
    // Another origin gets no CORS grant (and its changes stay refused).
    let other = s
        .client
        .request(reqwest::Method::OPTIONS, s.url("/api/v1/sessions/x/image"))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    s.stop().await;
}

#[tokio::test]
async fn every_answer_carries_strict_headers() {
    let s = TestServer::start().await;
    for (path, status) in [
        ("/", 200),
        ("/api/v1/sessions", 200),
        ("/api/v1/nothing", 404),
        ("/docs/", 200),
    ] {
        let resp = s.get(path).await;
        assert_eq!(resp.status(), status, "{path}");
        let h = resp.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{path}: {csp}"
        );
        if path == "/" {
            assert!(
                !csp.contains("unsafe-inline"),
                "the page runs no inline code: {csp}"
            );
        }
    }
    let resp = s
        .client
        .get(s.url("/healthz"))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(
        resp.headers()["x-content-type-options"],
        "nosniff",
        "refusals too"
    );
    s.stop().await;
}

#[tokio::test]
async fn control_characters_in_text_are_refused_not_a_500() {
    let s = TestServer::start().await;
    for (route, body, field) in [
        (
            "audio",
            json!({"text": "Hello\u{0}world", "provider": "builtin"}),
            "text",
        ),
        ("audio", json!({"text": "Hello\u{0}world"}), "text"),
        ("image", json!({"prompt": "a cat\u{7}"}), "prompt"),
        ("social", json!({"text": "news\u{1b}[2J"}), "text"),
        // DEL and C1 characters, which JSON may carry unescaped (serde_json
        // writes them raw): checked however they are spelled.
        ("image", json!({"prompt": "a cat\u{7f}"}), "prompt"),
        ("social", json!({"text": "next line\u{85}here"}), "text"),
        ("audio", json!({"text": "csi\u{9b}2J"}), "text"),
        ("agent", json!({"message": "draw a cat\u{0}"}), "message"),
        (
            "compose",
            json!({"timeline": [{"asset_id": "image_1.png", "text": "x\u{0}"}]}),
            "timeline[0].text",
        ),
    ] {
        let (status, err) = s
            .post_json(&format!("/api/v1/sessions/ctl/{route}"), body)
            .await;
        assert_eq!(status, 422, "{route}: {err}");
        assert_eq!(err["error"]["field"], field, "{route}");
    }
    let (status, _) = s
        .post_json(
            "/api/v1/sessions/ctl/audio",
            json!({"text": "Two lines,\nand a\ttab.", "provider": "builtin"}),
        )
        .await;
    assert_eq!(status, 201, "line breaks and tabs are text");
    s.stop().await;
}

/// A PNG whose header claims `width`×`height` (and holds no real pixels):
/// enough to be recognised, and a bomb for anything that decodes it.
fn png_header(width: u32, height: u32) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for b in bytes {
            crc ^= u32::from(*b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        out.extend((data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend(data);
        out.extend(&body);
        out.extend(crc32(&body).to_be_bytes());
    };
    let mut ihdr = Vec::new();
    ihdr.extend(width.to_be_bytes());
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    chunk(b"IEND", &[]);
    out
}

#[tokio::test]
async fn pixel_bombs_are_refused_at_upload() {
    let s = TestServer::start().await;
    for (w, h) in [(30_000, 30_000), (9_000, 5_000), (20_000, 100)] {
        let (status, err) = s.upload("bombs", "bomb.png", png_header(w, h)).await;
        assert_eq!(status, 422, "{w}×{h}: {err}");
        assert_eq!(err["error"]["field"], "file");
        assert!(assert_error(&err, "invalid_request").contains("megapixels"));
    }
    // A clip's frames have the same bounds.
    let dir = tempfile::tempdir().unwrap();
    let wide = common::ffmpeg_fixture(
        dir.path(),
        "wide.mkv",
        &[
            "-f",
            "lavfi",
            "-i",
            "color=c=red:s=16400x8:d=0.2",
            "-c:v",
            "ffv1",
        ],
    );
    let (status, err) = s
        .upload("bombs", "wide.mkv", std::fs::read(&wide).unwrap())
        .await;
    assert_eq!(status, 422, "{err}");
    assert!(assert_error(&err, "invalid_request").contains("16384 pixels a side"));
    let (status, _) = s.upload("bombs", "ok.png", png(640, 360, [9, 9, 9])).await;
    assert_eq!(status, 201, "ordinary pictures are fine");
    let (_, assets) = s.get_json("/api/v1/sessions/bombs/assets").await;
    assert_eq!(
        assets.as_array().unwrap().len(),
        1,
        "nothing of the bombs was kept"
    );
    s.stop().await;
}

#[tokio::test]
async fn an_upload_declared_too_large_is_refused_unread() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = TestServer::start().await;
    let addr = s.base.trim_start_matches("http://").to_owned();
    // An upload, and a JSON body.
    for (path, kind, start) in [
        ("uploads", "multipart/form-data; boundary=x", "--x\r\n"),
        ("image", "application/json", "{\"prompt\": \""),
    ] {
        let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let head = format!(
            "POST /api/v1/sessions/big/{path} HTTP/1.1\r\nHost: {addr}\r\n\
             Content-Type: {kind}\r\nContent-Length: 2000000000\r\n\r\n{start}"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        // Nothing more is sent: the answer must not wait for the 2 GB.
        let mut answer = vec![0u8; 1024];
        let n = tokio::time::timeout(std::time::Duration::from_secs(3), stream.read(&mut answer))
            .await
            .expect("answered before the body")
            .unwrap();
        let text = String::from_utf8_lossy(&answer[..n]);
        assert!(text.starts_with("HTTP/1.1 413"), "{path}: {text}");
        assert!(text.contains("payload_too_large"), "{path}: {text}");
    }
    s.stop().await;
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = TestServer::start().await;
    let addr = s.base.trim_start_matches("http://").to_owned();
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    // And one that never sends a byte.
    let mut silent = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET /api/v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    for (what, conn) in [("partial headers", &mut slow), ("nothing", &mut silent)] {
        let mut buf = Vec::new();
        let read = tokio::time::timeout(
            std::time::Duration::from_secs(30),
            conn.read_to_end(&mut buf),
        )
        .await;
        assert!(
            read.is_ok(),
            "{what}: the connection is still open after 30 s"
        );
        let waited = started.elapsed();
        assert!(
            waited >= studio::api::HEADER_READ_TIMEOUT - std::time::Duration::from_secs(1),
            "{what}: closed too early: {waited:?}"
        );
    }
    // Meanwhile, and after, others are served.
    assert_eq!(s.get("/healthz").await.status(), 200);
    s.stop().await;
}
