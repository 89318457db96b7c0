//! The studio on the backends that serve many machines: a real PostgreSQL
//! and a real S3-compatible object store (moto), both started on loopback in
//! a temporary folder by the test and stopped after (`common::backends`).
//! The same HTTP flows as on SQLite and local files: sessions, keys and
//! ownership, generated and uploaded assets, ranges, saved timelines with
//! conflicts, compose and reuse, concurrent naming, deletes, and the clean-up
//! of bytes without a row.

use crate::common;

use crate::common::TestServer;
use crate::common::backends::{Postgres, S3};
use reqwest::Method;
use serde_json::{Value, json};
use studio::Config;

#[tokio::test]
async fn the_whole_studio_runs_on_postgres_and_s3() {
    let pg = Postgres::start();
    let s3 = S3::start();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::with_data_dir(dir.path());
    let database = pg.database().await;
    config.database_url = Some(database.clone());
    config.storage_url = Some(s3.bucket().await);
    let s = TestServer::start_with(config).await;

    // Assets: generated, uploaded, listed in order, served with ranges.
    let (status, image) = s
        .post_json(
            "/api/v1/sessions/pg/image",
            json!({"prompt": "a lighthouse in a storm", "width": 640, "height": 360}),
        )
        .await;
    assert_eq!(status, 201, "{image}");
    let (status, audio) = s
        .upload("pg", "tone.wav", common::tone_wav_bytes(2.0))
        .await;
    assert_eq!(status, 201, "{audio}");
    let (status, voice) = s
        .post_json(
            "/api/v1/sessions/pg/audio",
            json!({"text": "Postgres and S3 work too."}),
        )
        .await;
    assert_eq!(status, 201, "{voice}");
    let (_, listed) = s.get_json("/api/v1/sessions/pg/assets").await;
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["image_1.png", "audio_1.wav", "audio_2.mp3"]);
    let png = s.download(&image).await;
    assert_eq!(&png[1..4], b"PNG");
    let part = s
        .client
        .get(s.url(image["url"].as_str().unwrap()))
        .header("range", "bytes=1-3")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.bytes().await.unwrap().as_ref(), b"PNG");

    // Concurrent requests get distinct names on Postgres too.
    let made = futures::future::join_all((0..4).map(|i| {
        s.post_json(
            "/api/v1/sessions/pg/image",
            json!({"prompt": format!("a red barn number {i}"), "width": 320, "height": 184}),
        )
    }))
    .await;
    let mut new_names: Vec<String> = made
        .iter()
        .map(|(status, a)| {
            assert_eq!(*status, 201, "{a}");
            a["name"].as_str().unwrap().to_owned()
        })
        .collect();
    new_names.sort();
    assert_eq!(
        new_names,
        ["image_2.png", "image_3.png", "image_4.png", "image_5.png"]
    );

    // Saved timeline: versions and a conflicting save.
    let doc = json!({"timeline": [
        {"asset_id": "image_1.png", "duration": 2},
        {"asset_id": "audio_2.mp3"},
        {"asset_id": "image_2.png", "duration": 1.5}
    ], "output": {"width": 640, "height": 360}});
    let (status, saved) = s
        .put_json("/api/v1/sessions/pg/timeline", doc.clone())
        .await;
    assert_eq!(status, 200, "{saved}");
    let mut stale = doc.clone();
    stale["version"] = json!(0);
    let (status, conflict) = s.put_json("/api/v1/sessions/pg/timeline", stale).await;
    assert_eq!(status, 409, "{conflict}");

    // Compose the saved timeline, then again: the second reuses every scene.
    let (status, video) = s.post_json("/api/v1/sessions/pg/compose", json!({})).await;
    assert_eq!(status, 201, "{video}");
    let file = dir.path().join("out.mp4");
    std::fs::write(&file, s.download(&video).await).unwrap();
    let probe = common::ffprobe(&file);
    let duration: f64 = probe["format"]["duration"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((duration - 3.5).abs() < 0.6, "{duration}");
    let streams = probe["streams"].as_array().unwrap();
    assert!(
        streams
            .iter()
            .any(|st| st["codec_type"] == "video" && st["width"] == 640 && st["height"] == 360)
    );
    assert!(streams.iter().any(|st| st["codec_type"] == "audio"));
    let (status, again) = s.post_json("/api/v1/sessions/pg/compose", json!({})).await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(again["metadata"]["render"]["scenes_rendered"], 0, "{again}");

    // It really is Postgres and S3: the rows are there, the bytes are not on disk.
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&database)
        .await
        .unwrap();
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM assets WHERE session_id = 'pg'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(rows, 9, "3 assets, 4 images, 2 videos");
    assert!(
        !dir.path().join("assets").exists(),
        "no bytes in the local folder"
    );

    // Keys and ownership on Postgres.
    let (alice, _) = s.studio.store().create_key("alice", false).await.unwrap();
    let (bob, _) = s.studio.store().create_key("bob", false).await.unwrap();
    let as_key = |key: &str, method: Method, path: &str| {
        s.client
            .request(method, s.url(path))
            .bearer_auth(key.to_owned())
            .send()
    };
    let resp = as_key(&alice, Method::POST, "/api/v1/sessions")
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let mine: Value = resp.json().await.unwrap();
    let path = format!("/api/v1/sessions/{}", mine["session_id"].as_str().unwrap());
    assert_eq!(
        as_key(&bob, Method::GET, &path).await.unwrap().status(),
        404
    );
    assert_eq!(
        as_key(&alice, Method::GET, &path).await.unwrap().status(),
        200
    );
    let page: Value = as_key(&bob, Method::GET, "/api/v1/sessions")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 0, "{page}");
    // (From here on requests need a key.)

    // Deleting removes rows and bytes; stray bytes without a row are collected.
    let store = s.studio.store().clone();
    let stray = studio::store::Blobs::new_key(&studio::ids::SessionId::parse("pg").unwrap(), "png");
    store
        .blobs()
        .put(&stray, object_store::PutPayload::from_static(b"stray"))
        .await
        .unwrap();
    let admin = store.create_key("ops", true).await.unwrap().0;
    assert_eq!(
        as_key(&admin, Method::DELETE, "/api/v1/sessions/pg")
            .await
            .unwrap()
            .status(),
        204
    );
    let swept = store
        .collect_orphans(std::time::Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(
        swept.removed, 1,
        "only the stray object was left: {swept:?}"
    );
    use futures::TryStreamExt;
    let left: Vec<_> = store.blobs().list().try_collect().await.unwrap();
    assert!(
        left.iter()
            .all(|(key, _)| !key.starts_with("sessions/pg/") && !key.starts_with("cache/pg/")),
        "{left:?}"
    );
    assert!(store.missing_bytes().await.unwrap().is_empty());
    s.stop().await;
}
