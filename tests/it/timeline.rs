//! The saved, versioned timeline over HTTP: load, save, versions,
//! conditional writes, undo, composing the saved timeline, and what happens
//! when its assets or its session go away.

use crate::common;

use crate::common::{TestServer, assert_error, png, write_file};
use serde_json::{Value, json};

async fn session_with_images(s: &TestServer, session: &str, n: usize) {
    for i in 0..n {
        let (status, _) = s
            .upload(session, "p.png", png(64, 36, [40 * i as u8, 100, 200]))
            .await;
        assert_eq!(status, 201);
    }
}

fn path(session: &str) -> String {
    format!("/api/v1/sessions/{session}/timeline")
}

#[tokio::test]
async fn a_session_without_a_saved_timeline_has_version_zero() {
    let s = TestServer::start().await;
    let (_, created) = s.post_json("/api/v1/sessions", Value::Null).await;
    let id = created["session_id"].as_str().unwrap();
    let (status, body) = s.get_json(&path(id)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["version"], 0);
    assert_eq!(body["timeline"], json!([]));
    assert!(body["updated_at"].is_null());
    for field in ["output", "fit", "captions", "music"] {
        assert!(body.get(field).is_some(), "{field} is part of the shape");
    }
    let (status, body) = s.get_json(&format!("{}/versions", path(id))).await;
    assert_eq!((status, &body["versions"]), (200, &json!([])));

    let (status, body) = s.get_json(&path("nobody")).await;
    assert_eq!(status, 404);
    assert_error(&body, "unknown_session");
    let (status, _) = s.put_json(&path("nobody"), json!({"timeline": []})).await;
    assert_eq!(status, 404);
    let (status, body) = s.get_json(&path("bad%20id")).await;
    assert_eq!(status, 400);
    assert_error(&body, "invalid_session_id");
    let (status, body) = s.get_json(&format!("{}?version=3", path(id))).await;
    assert_eq!(status, 404);
    assert_error(&body, "unknown_version");
    let (status, _) = s.get_json(&format!("{}?version=abc", path(id))).await;
    assert_eq!(status, 422);
    s.stop().await;
}

#[tokio::test]
async fn saves_are_versions_validated_like_compose_and_undo_is_saving_again() {
    let s = TestServer::start().await;
    session_with_images(&s, "edit", 3).await;
    let first = json!({
        "timeline": [
            {"asset_id": "image_1.png", "duration": 2.0},
            {"asset_id": "image_2.png", "duration": 1.5, "effect": "zoom_in",
             "transition": {"type": "crossfade", "duration": 0.5}, "text": "Hello"}
        ],
        "output": {"aspect_ratio": "9:16", "fps": 24},
        "fit": "contain",
        "captions": true
    });
    let (status, saved) = s.put_json(&path("edit"), first.clone()).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["version"], 1);
    assert!(saved["updated_at"].is_string());
    assert_eq!(saved["timeline"], first["timeline"]);
    assert_eq!(saved["output"], first["output"]);
    assert_eq!(
        (&saved["fit"], &saved["captions"]),
        (&json!("contain"), &json!(true))
    );

    let (_, loaded) = s.get_json(&path("edit")).await;
    assert_eq!(loaded, saved, "GET answers what PUT saved");

    let second = json!({"timeline": [{"asset_id": "image_3.png"}]});
    let (status, saved2) = s.put_json(&path("edit"), second.clone()).await;
    assert_eq!((status, &saved2["version"]), (200, &json!(2)));
    assert!(saved2["output"].is_null());

    // Invalid timelines: the same 422 as compose, and nothing saved.
    for (body, field) in [
        (
            json!({"timeline": [{"asset_id": "image_1.png"}, {"asset_id": "image_1.png", "effect": "spin"}]}),
            "timeline[1].effect",
        ),
        (
            json!({"timeline": [{"asset_id": "image_9.png"}]}),
            "timeline[0].asset_id",
        ),
        (
            json!({"timeline": [{"asset_id": "image_1.png", "duration": -1}]}),
            "timeline[0].duration",
        ),
        (json!({"timeline": [], "fit": "stretch"}), "fit"),
        (
            json!({"timeline": [{"asset_id": "image_1.png"}], "output": {"quality": "ultra"}}),
            "output.quality",
        ),
    ] {
        let (status, err) = s.put_json(&path("edit"), body.clone()).await;
        assert_eq!(status, 422, "{body} → {err}");
        assert_error(&err, "invalid_request");
        assert_eq!(err["error"]["field"], field, "{err}");
        let (compose_status, compose_err) = s
            .post_json("/api/v1/sessions/edit/compose", body.clone())
            .await;
        if field != "fit" {
            assert_eq!(
                (compose_status, &compose_err["error"]["field"]),
                (422, &json!(field))
            );
        }
    }
    let (status, _) = s
        .put_json(&path("edit"), json!({"timeline": [{"asset_id": 7}]}))
        .await;
    assert_eq!(status, 422);
    let (_, current) = s.get_json(&path("edit")).await;
    assert_eq!(current["version"], 2, "nothing was saved");

    // The versions, newest first; each one readable.
    let (_, versions) = s.get_json(&format!("{}/versions", path("edit"))).await;
    assert_eq!(versions["current"], 2);
    let list = versions["versions"].as_array().unwrap();
    assert_eq!(
        list.iter()
            .map(|v| (v["version"].as_i64().unwrap(), v["items"].as_i64().unwrap()))
            .collect::<Vec<_>>(),
        vec![(2, 1), (1, 2)]
    );
    assert!(list[0]["created_at"].is_string());
    let (status, v1) = s.get_json(&format!("{}?version=1", path("edit"))).await;
    assert_eq!((status, &v1["timeline"]), (200, &first["timeline"]));

    // Undo: save version 1 again.
    let mut undo = v1.clone();
    undo["version"] = json!(2);
    let (status, v3) = s.put_json(&path("edit"), undo).await;
    assert_eq!(status, 200, "{v3}");
    assert_eq!(v3["version"], 3);
    assert_eq!(v3["timeline"], first["timeline"]);
    assert_eq!(v3["output"], first["output"]);

    // An empty timeline may be saved (the editor's blank state).
    let (status, blank) = s.put_json(&path("edit"), json!({"timeline": []})).await;
    assert_eq!((status, &blank["version"]), (200, &json!(4)));
    s.stop().await;
}

#[tokio::test]
async fn conditional_saves_never_overwrite_another_edit() {
    let s = TestServer::start().await;
    session_with_images(&s, "tabs", 2).await;
    let body =
        |version: i64, image: &str| json!({"version": version, "timeline": [{"asset_id": image}]});
    let (status, _) = s.put_json(&path("tabs"), body(0, "image_1.png")).await;
    assert_eq!(status, 200, "version 0 is the starting point");
    // Two tabs both started from version 1: the second save conflicts.
    let (status, _) = s.put_json(&path("tabs"), body(1, "image_2.png")).await;
    assert_eq!(status, 200);
    let (status, err) = s.put_json(&path("tabs"), body(1, "image_1.png")).await;
    assert_eq!(status, 409);
    let message = assert_error(&err, "version_conflict");
    assert!(message.contains('2'), "{message}");
    let (_, current) = s.get_json(&path("tabs")).await;
    assert_eq!(current["version"], 2);
    assert_eq!(
        current["timeline"][0]["asset_id"], "image_2.png",
        "not overwritten"
    );

    // Many tabs at once from the same version: exactly one wins.
    let saves = (0..8).map(|i| {
        let (client, url) = (s.client.clone(), s.url(&path("tabs")));
        let image = if i % 2 == 0 {
            "image_1.png"
        } else {
            "image_2.png"
        };
        let b = body(2, image);
        async move {
            client
                .put(url)
                .json(&b)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    let statuses = futures::future::join_all(saves).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        7,
        "{statuses:?}"
    );
    // Unconditional saves at once all land, as distinct versions.
    let saves = (0..6).map(|_| {
        let (client, url) = (s.client.clone(), s.url(&path("tabs")));
        async move {
            let r = client
                .put(url)
                .json(&json!({"timeline": []}))
                .send()
                .await
                .unwrap();
            r.json::<Value>().await.unwrap()["version"]
                .as_i64()
                .unwrap()
        }
    });
    let mut versions = futures::future::join_all(saves).await;
    versions.sort();
    assert_eq!(versions, (4..10).collect::<Vec<_>>());
    s.stop().await;
}

#[tokio::test]
async fn at_least_the_last_hundred_versions_are_kept() {
    // 113 quick requests: more than the default per-client rate allows.
    let dir = tempfile::tempdir().unwrap();
    let mut config = studio::Config::with_data_dir(dir.path());
    config.server.requests_per_second = 0;
    let s = TestServer::start_with(config).await;
    session_with_images(&s, "many", 1).await;
    for i in 0..110 {
        let (status, _) = s
            .put_json(
                &path("many"),
                json!({"timeline": [{"asset_id": "image_1.png", "duration": 1 + i % 5}]}),
            )
            .await;
        assert_eq!(status, 200);
    }
    let (_, versions) = s.get_json(&format!("{}/versions", path("many"))).await;
    let list = versions["versions"].as_array().unwrap();
    assert!(list.len() >= 100, "{} versions kept", list.len());
    assert_eq!(list[0]["version"], 110);
    let (status, v12) = s.get_json(&format!("{}?version=12", path("many"))).await;
    assert_eq!(status, 200);
    assert_eq!(v12["timeline"][0]["duration"].as_f64(), Some(2.0));
    s.stop().await;
}

#[tokio::test]
async fn compose_without_a_timeline_renders_the_saved_one() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    session_with_images(&s, "saved", 2).await;
    let (status, err) = s
        .post_json("/api/v1/sessions/saved/compose", json!({}))
        .await;
    assert_eq!(status, 422, "nothing saved yet: {err}");
    assert_eq!(err["error"]["field"], "timeline");

    let (status, _) = s
        .put_json(
            &path("saved"),
            json!({
                "timeline": [{"asset_id": "image_1.png", "duration": 1}, {"asset_id": "image_2.png", "duration": 1}],
                "output": {"width": 320, "height": 180, "fps": 10}
            }),
        )
        .await;
    assert_eq!(status, 200);
    let (status, video) = s
        .post_json("/api/v1/sessions/saved/compose", json!({}))
        .await;
    assert_eq!(status, 201, "{video}");
    assert_eq!(video["metadata"]["timeline_version"], 1);
    assert_eq!(
        (&video["metadata"]["width"], &video["metadata"]["fps"]),
        (&json!(320), &json!(10.0))
    );
    let file = write_file(dir.path(), "v.mp4", &s.download(&video).await);
    assert!((common::duration_of(&file) - 2.0).abs() < 0.15);

    // The body's options override the saved ones.
    let (status, video) = s
        .post_json(
            "/api/v1/sessions/saved/compose",
            json!({"output": {"width": 160, "height": 90, "fps": 10}}),
        )
        .await;
    assert_eq!(status, 201, "{video}");
    assert_eq!(
        (
            &video["metadata"]["width"],
            &video["metadata"]["timeline_version"]
        ),
        (&json!(160), &json!(1))
    );

    // With a timeline, compose works as it always did.
    let (status, video) = s
        .post_json(
            "/api/v1/sessions/saved/compose",
            json!({"timeline": [{"asset_id": "image_2.png", "duration": 1}], "output": {"width": 160, "height": 90}}),
        )
        .await;
    assert_eq!(status, 201);
    assert!(video["metadata"]["timeline_version"].is_null());

    // An asset the saved timeline uses may be deleted; composing then names it.
    assert_eq!(
        s.delete("/api/v1/sessions/saved/assets/image_2.png").await,
        204
    );
    let (status, err) = s
        .post_json("/api/v1/sessions/saved/compose", json!({}))
        .await;
    assert_eq!(status, 422);
    assert_eq!(err["error"]["field"], "timeline[1].asset_id");
    assert!(assert_error(&err, "invalid_request").contains("image_2.png"));
    let (_, still) = s.get_json(&path("saved")).await;
    assert_eq!(still["version"], 1, "the saved timeline stays as it was");

    // Deleting the session deletes its timeline.
    assert_eq!(s.delete("/api/v1/sessions/saved").await, 204);
    let (status, _) = s.get_json(&path("saved")).await;
    assert_eq!(status, 404);
    s.stop().await;
}
