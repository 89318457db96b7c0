//! What an attack from outside found, each as a test that failed before its
//! fix: ownership that percent-encoded ids cannot skip, uploads that cannot
//! make ffmpeg read the server's files, bodies and connections that cannot
//! be held open, and bounded work.

use crate::common;

use crate::common::TestServer;
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use studio::Config;

async fn send(
    server: &TestServer,
    key: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = server
        .client
        .request(method, server.url(path))
        .bearer_auth(key);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// `id` with its `i`-th character percent-encoded (upper- or lowercase hex).
fn encoded(id: &str, i: usize, lower: bool) -> String {
    id.char_indices()
        .map(|(k, c)| match (k == i, lower) {
            (true, false) => format!("%{:02X}", c as u32),
            (true, true) => format!("%{:02x}", c as u32),
            _ => c.to_string(),
        })
        .collect()
}

/// A body each route accepts as well-formed, so that only ownership can
/// refuse it.
fn body_for(path: &str) -> Option<Value> {
    Some(match path.rsplit('/').next().unwrap() {
        "image" => json!({"prompt": "graffiti"}),
        "audio" => json!({"text": "hello", "voice_name": "en-US-Neural2-D"}),
        "social" => json!({"text": "a post about nothing at all"}),
        "agent" => json!({"message": "Generate an image of a cat"}),
        "compose" => json!({"timeline": [{"asset_id": "image_1.png"}], "async": true}),
        "timeline" => json!({"timeline": []}),
        _ => return None,
    })
}

#[tokio::test]
async fn no_route_lets_a_foreign_key_reach_a_session_by_any_spelling_of_its_id() {
    let dir = tempfile::tempdir().unwrap();
    // No worker: alice's job stays queued, so it can be looked at and cancelled.
    let mut config = Config::with_data_dir(dir.path());
    config.server.requests_per_second = 0; // hundreds of requests from one key
    let server = TestServer::start_api_only(config).await;
    let store = server.studio.store();
    let (alice, _) = store.create_key("alice", false).await.unwrap();
    let (bob, _) = store.create_key("bob", false).await.unwrap();
    let secret = "alice-secret";
    let (status, image) = send(
        &server,
        &alice,
        Method::POST,
        &format!("/api/v1/sessions/{secret}/image"),
        Some(json!({"prompt": "a lighthouse"})),
    )
    .await;
    assert_eq!(status, 201, "{image}");
    let (status, job) = send(
        &server,
        &alice,
        Method::POST,
        &format!("/api/v1/sessions/{secret}/compose"),
        body_for("compose"),
    )
    .await;
    assert_eq!(status, 202, "{job}");
    let job_id = job["job_id"].as_str().unwrap().to_owned();
    let before = send(
        &server,
        &alice,
        Method::GET,
        &format!("/api/v1/sessions/{secret}/assets"),
        None,
    )
    .await;

    // Every route of the API description that names a session, every
    // method, with the plain id and with each character encoded in turn.
    let doc = server.get("/api/v1/openapi.json").await;
    let doc: Value = doc.json().await.unwrap();
    let mut spellings = vec![secret.to_owned()];
    for i in 0..secret.len() {
        spellings.push(encoded(secret, i, false));
        spellings.push(encoded(secret, i, true));
    }
    let mut tried = 0;
    for (template, ops) in doc["paths"].as_object().unwrap() {
        if !template.contains("{session_id}") {
            continue;
        }
        for method in ops.as_object().unwrap().keys() {
            let method: Method = method.to_uppercase().parse().unwrap();
            for id in &spellings {
                let path = template
                    .replace("{session_id}", id)
                    .replace("{name}", "image_1.png")
                    .replace("{asset_id}", "image_1.png")
                    .replace("{job_id}", &job_id);
                let resp = if path.ends_with("/uploads") {
                    let form = Form::new().part(
                        "file",
                        Part::bytes(common::png(8, 8, [1, 2, 3])).file_name("x.png"),
                    );
                    server
                        .client
                        .post(server.url(&path))
                        .bearer_auth(&bob)
                        .multipart(form)
                        .send()
                        .await
                        .unwrap()
                        .status()
                        .as_u16()
                } else {
                    send(&server, &bob, method.clone(), &path, body_for(&path))
                        .await
                        .0
                };
                assert_eq!(resp, 404, "{method} {path} with a foreign key");
                tried += 1;
            }
        }
    }
    assert!(tried > 300, "{tried} requests");

    // Nothing changed: alice's assets, job and session are as they were.
    let after = send(
        &server,
        &alice,
        Method::GET,
        &format!("/api/v1/sessions/{secret}/assets"),
        None,
    )
    .await;
    assert_eq!(before, after);
    let (status, view) = send(
        &server,
        &alice,
        Method::GET,
        &format!("/api/v1/sessions/{secret}/jobs/{job_id}"),
        None,
    )
    .await;
    assert_eq!((status, view["status"].as_str()), (200, Some("queued")));
    let (_, mine) = send(&server, &alice, Method::GET, "/api/v1/sessions", None).await;
    assert_eq!(mine["total"], 1);
    let (_, bobs) = send(&server, &bob, Method::GET, "/api/v1/sessions", None).await;
    assert_eq!(bobs["total"], 0, "{bobs}");

    // A new session first used through an encoded id is its user's, under
    // its decoded id (it used to be left without an owner).
    let (status, _) = send(
        &server,
        &bob,
        Method::POST,
        "/api/v1/sessions/%76ictim-project/image",
        Some(json!({"prompt": "a cat"})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _) = send(
        &server,
        &bob,
        Method::GET,
        "/api/v1/sessions/victim-project/assets",
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = send(
        &server,
        &alice,
        Method::GET,
        "/api/v1/sessions/victim-project",
        None,
    )
    .await;
    assert_eq!(status, 404);
    // An id that does not parse once decoded is refused before anything runs.
    let (status, body) = send(
        &server,
        &bob,
        Method::POST,
        "/api/v1/sessions/a%2Fb/image",
        Some(json!({"prompt": "a cat"})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    common::assert_error(&body, "invalid_session_id");
    // A prefix spelled with escapes matches no route (never an open door).
    let (status, _) = send(&server, &bob, Method::GET, "/%61pi/v1/sessions", None).await;
    assert_eq!(status, 404);
    server.stop().await;
}

/// Bodies that are playlists or scripts pointing at another file, behind
/// leading bytes that make them look like media.
fn hostile_bodies(target: &std::path::Path) -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let target = target.display();
    let hls = format!(
        "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:6.0,\nfile://{target}\n#EXT-X-ENDLIST\n"
    );
    let concat = format!("ffconcat version 1.0\nfile '{target}'\n");
    let plain_concat = format!("file '{target}'\n");
    let id3 = b"ID3\x04\x00\x00\x00\x00\x00\x00".to_vec();
    // An MP4's first box ("ftyp", isom) and nothing of the rest.
    let ftyp = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isommp41".to_vec();
    let behind = |head: &[u8], body: &str| [head, body.as_bytes()].concat();
    vec![
        ("hls behind ID3", "note.mp3", behind(&id3, &hls)),
        ("ffconcat behind ID3", "note.mp3", behind(&id3, &concat)),
        ("concat behind ID3", "note.mp3", behind(&id3, &plain_concat)),
        ("hls behind an MP4 header", "clip.mp4", behind(&ftyp, &hls)),
        (
            "ffconcat behind an MP4 header",
            "clip.m4a",
            behind(&ftyp, &concat),
        ),
        ("plain hls", "note.mp3", hls.clone().into_bytes()),
        ("plain ffconcat", "note.mp3", concat.clone().into_bytes()),
        ("hls as m3u8", "list.m3u8", hls.into_bytes()),
    ]
}

#[tokio::test]
async fn uploads_that_point_at_other_files_are_refused_whatever_they_look_like() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let secret = common::tone_mp3(dir.path(), "secret.mp3", 3.0);
    for (what, name, bytes) in hostile_bodies(&secret) {
        let (status, body) = server.upload("media", name, bytes).await;
        assert_eq!(status, 415, "{what}: {body}");
        common::assert_error(&body, "unsupported_media_type");
    }
    let (_, listed) = server.get_json("/api/v1/sessions/media/assets").await;
    assert!(listed.as_array().is_none_or(Vec::is_empty), "{listed}");
    // Real media of each kind still pass.
    let tone = std::fs::read(&secret).unwrap();
    let (status, body) = server.upload("media", "tone.mp3", tone).await;
    assert_eq!(status, 201, "{body}");
    let clip = common::silent_clip(dir.path(), "clip.mp4");
    let (status, body) = server
        .upload("media", "clip.mp4", std::fs::read(clip).unwrap())
        .await;
    assert_eq!(status, 201, "{body}");
    server.stop().await;
}

#[tokio::test]
async fn cover_art_is_held_to_the_pixel_cap() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let tone = common::tone_mp3(dir.path(), "tone.mp3", 2.0);
    let with_cover = |name: &str, size: &str| {
        let cover = common::ffmpeg_fixture(
            dir.path(),
            &format!("{name}.png"),
            &[
                "-f",
                "lavfi",
                "-i",
                &format!("color=c=red:s={size}"),
                "-frames:v",
                "1",
            ],
        );
        let tone = tone.to_str().unwrap().to_owned();
        let cover = cover.to_str().unwrap().to_owned();
        std::fs::read(common::ffmpeg_fixture(
            dir.path(),
            &format!("{name}.mp3"),
            &[
                "-i",
                &tone,
                "-i",
                &cover,
                "-map",
                "0",
                "-map",
                "1",
                "-c",
                "copy",
                "-id3v2_version",
                "3",
                "-disposition:v",
                "attached_pic",
            ],
        ))
        .unwrap()
    };
    // 48 megapixels of cover art: over the 40 megapixel cap.
    let (status, body) = server
        .upload("covers", "bomb.mp3", with_cover("bomb", "8000x6000"))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "file", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("8000×6000"),
        "{body}"
    );
    // Ordinary cover art is fine, and the file is still audio.
    let (status, body) = server
        .upload("covers", "song.mp3", with_cover("small", "600x600"))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["type"], "audio");
    server.stop().await;
}

#[tokio::test]
async fn a_stalled_body_fails_its_request_and_closes_the_connection() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = TestServer::start().await;
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut stalled = Vec::new();
    for path in [
        "/api/v1/sessions/stall/uploads",
        "/api/v1/sessions/stall/image",
    ] {
        let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let kind = if path.ends_with("uploads") {
            "multipart/form-data; boundary=XYZ"
        } else {
            "application/json"
        };
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {kind}\r\nContent-Length: 100000\r\n\r\n"
        );
        conn.write_all(head.as_bytes()).await.unwrap();
        conn.write_all(b"--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.mp3\"\r\n\r\nID3")
            .await
            .unwrap();
        stalled.push(conn);
    }
    let started = std::time::Instant::now();
    for conn in &mut stalled {
        let mut answer = Vec::new();
        let read = tokio::time::timeout(
            std::time::Duration::from_secs(40),
            conn.read_to_end(&mut answer),
        )
        .await;
        assert!(read.is_ok(), "the connection is still open after 40 s");
        let text = String::from_utf8_lossy(&answer);
        assert!(text.starts_with("HTTP/1.1 408"), "{text}");
        assert!(text.contains("request_timeout"), "{text}");
    }
    let waited = started.elapsed();
    assert!(
        waited >= studio::api::BODY_READ_TIMEOUT - std::time::Duration::from_secs(1),
        "closed before the body timeout: {waited:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn one_address_cannot_hold_every_connection() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = TestServer::start().await;
    let addr: std::net::SocketAddr = server.base.trim_start_matches("http://").parse().unwrap();
    let connect_from = |ip: &str| {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(format!("{ip}:0").parse().unwrap()).unwrap();
        socket.connect(addr)
    };
    // One address opens its share, each connection sending part of a request.
    let mut held = Vec::new();
    for _ in 0..studio::api::MAX_CONNECTIONS_PER_ADDRESS {
        let mut conn = connect_from("127.0.0.1").await.unwrap();
        conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            .await
            .unwrap();
        held.push(conn);
    }
    // Its next connection is closed at once...
    let mut extra = connect_from("127.0.0.1").await.unwrap();
    let _ = extra
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        extra.read_to_end(&mut answer),
    )
    .await
    .expect("closed at once");
    assert!(
        read.is_err() || answer.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&answer)
    );
    // ...while another address is served.
    let mut other = connect_from("127.0.0.2").await.unwrap();
    other
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        other.read_to_end(&mut answer),
    )
    .await
    .expect("answered")
    .unwrap();
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));
    drop(held);
    server.stop().await;
}

#[tokio::test]
async fn the_job_share_holds_when_requests_arrive_together() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::with_data_dir(dir.path());
    config.limits.max_jobs_per_client = 10;
    config.limits.max_waiting_work = 100;
    // No worker: every accepted job stays queued and counts.
    let server = TestServer::start_api_only(config).await;
    let (status, _) = server
        .upload("share", "a.png", common::png(64, 64, [9, 9, 9]))
        .await;
    assert_eq!(status, 201);
    let body = json!({"timeline": [{"asset_id": "image_1.png"}], "async": true});
    let requests =
        (0..25).map(|_| server.post_json("/api/v1/sessions/share/compose", body.clone()));
    let statuses: Vec<u16> = futures::future::join_all(requests)
        .await
        .into_iter()
        .map(|(status, _)| status)
        .collect();
    let accepted = statuses.iter().filter(|s| **s == 202).count();
    assert_eq!(accepted, 10, "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 202 || *s == 429),
        "{statuses:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn http2_requests_pass_the_same_host_check() {
    let server = TestServer::start().await;
    let port = server.base.rsplit(':').next().unwrap().to_owned();
    // tokio's process: the server shares this test's one thread.
    let curl = async |host: &str| {
        let out = tokio::process::Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code} %{http_version}",
            ])
            .args(["--http2-prior-knowledge", "-H", &format!("Host: {host}")])
            .arg(server.url("/api/v1/sessions"))
            .output()
            .await
            .expect("curl is installed");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(curl(&format!("127.0.0.1:{port}")).await, "200 2");
    assert_eq!(curl("evil.example").await, "403 2");
    assert_eq!(
        curl(&format!("rebind.attacker.example:{port}")).await,
        "403 2"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_huge_form_field_is_refused_while_it_streams() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let tone = std::fs::read(common::tone_mp3(dir.path(), "t.mp3", 1.0)).unwrap();
    let form = Form::new()
        .part("file", Part::bytes(tone).file_name("t.mp3"))
        .text("transcript", "word ".repeat(400_000));
    let (status, body) = server.upload_form("fields", form).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "transcript");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("20000 bytes"),
        "{body}"
    );
    server.stop().await;
}

/// Found while replacing a sleep in a test: a request still making an
/// image, a voice-over or a post when its session was deleted wrote its
/// asset (and the coordinator its conversation) into the session made
/// again, so a deleted session came back — without its owner, lost to it
/// for good. Work now keeps nothing in a session deleted under it (404).
#[tokio::test]
async fn work_in_flight_does_not_bring_a_deleted_session_back() {
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let fake = MockServer::start().await;
    let png = common::png(8, 8, [10, 200, 10]);
    let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &png);
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"created": 1, "data": [{"b64_json": b64}]}))
                .set_delay(std::time::Duration::from_secs(2)),
        )
        .mount(&fake)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::with_data_dir(dir.path());
    config.image.provider = "openai".into();
    config.image.base_url = Some(fake.uri());
    config.image.api_key = Some("test-key".into());
    let s = TestServer::start_with(config).await;
    let asks = [
        ("image", json!({"prompt": "a cat"})),
        ("agent", json!({"message": "Generate an image of a cat"})),
    ];
    for (n, (route, body)) in asks.into_iter().enumerate() {
        let session = format!("brief-{route}");
        let (status, _) = s.upload(&session, "a.png", png.clone()).await;
        assert_eq!(status, 201);
        let request = {
            let (client, url) = (
                s.client.clone(),
                s.url(&format!("/api/v1/sessions/{session}/{route}")),
            );
            tokio::spawn(async move {
                let resp = client.post(url).json(&body).send().await.unwrap();
                let status = resp.status().as_u16();
                (status, resp.json::<Value>().await.unwrap_or(Value::Null))
            })
        };
        // Deleted while the provider is making the picture.
        let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while fake.received_requests().await.unwrap_or_default().len() <= n {
            assert!(
                std::time::Instant::now() < until,
                "the provider was not asked"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(s.delete(&format!("/api/v1/sessions/{session}")).await, 204);
        let (status, answer) = request.await.unwrap();
        assert_eq!(status, 404, "{route}: {answer}");
        assert_eq!(answer["error"]["code"], "unknown_session", "{answer}");
        let (status, left) = s.get_json(&format!("/api/v1/sessions/{session}")).await;
        assert_eq!(status, 404, "{route}: the session came back: {left}");
    }
    s.stop().await;
}
