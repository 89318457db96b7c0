//! Templates: a compose body with `{{field}}` placeholders, rendered with a
//! row of values as a job in a new session (or a named one); generated
//! items made once per row and reused; mistakes named before any work.

use crate::common;

use crate::common::TestServer;
use serde_json::{Value, json};

fn template() -> Value {
    json!({
        "name": "City clip",
        "body": {
            "timeline": [
                {"generate": {"type": "image", "prompt": "{{city}} skyline at dusk", "width": 320, "height": 176}, "text": "{{headline}}"},
                {"generate": {"type": "audio", "text": "Welcome to {{ city }}."}}
            ],
            "output": {"width": 320, "height": 176, "fps": 10}
        },
        "fields": {"headline": {"type": "text", "max_length": 20}}
    })
}

async fn finished(s: &TestServer, started: &Value) -> Value {
    let done = s
        .wait_for_job(
            started["status_url"].as_str().unwrap(),
            |j| j["status"] != "queued" && j["status"] != "running",
            std::time::Duration::from_secs(120),
        )
        .await;
    assert_eq!(done["status"], "succeeded", "{done}");
    done
}

#[tokio::test]
async fn a_template_renders_rows_into_videos() {
    let s = TestServer::start().await;
    for (body, field) in [
        (
            json!({"name": "x", "body": {"timline": []}}),
            "body.timline",
        ),
        (
            json!({"name": "x", "body": {"timeline": []}, "fields": {"p": {"type": "number"}}}),
            "fields.p.type",
        ),
        (json!({"name": " ", "body": {}}), "name"),
    ] {
        let (status, err) = s.post_json("/api/v1/templates", body).await;
        assert_eq!(status, 422, "{err}");
        assert_eq!(err["error"]["field"], field, "{err}");
    }
    let (status, made) = s.post_json("/api/v1/templates", template()).await;
    assert_eq!(status, 201, "{made}");
    let id = made["template_id"].as_str().unwrap().to_owned();
    assert_eq!(
        made["fields"]["city"],
        json!({}),
        "inferred as text: {made}"
    );
    assert_eq!(made["fields"]["headline"]["max_length"], 20);
    let (_, listed) = s.get_json("/api/v1/templates").await;
    assert_eq!(listed["templates"][0]["template_id"], id.as_str());

    // Wrong rows are named before anything is made.
    for (merge, field) in [
        (json!({"city": "Lisbon"}), "merge.headline"),
        (
            json!({"city": "Lisbon", "headline": "Far too long for the field"}),
            "merge.headline",
        ),
        (
            json!({"city": "Lisbon", "headline": "Hi", "town": "x"}),
            "merge.town",
        ),
    ] {
        let (status, err) = s
            .post_json(
                &format!("/api/v1/templates/{id}/renders"),
                json!({"merge": merge}),
            )
            .await;
        assert_eq!(status, 422, "{err}");
        assert_eq!(err["error"]["field"], field, "{err}");
    }

    // A row: a new session, a job, a video of the row's voice-over.
    let (status, started) = s
        .post_json(
            &format!("/api/v1/templates/{id}/renders"),
            json!({"merge": {"city": "Lisbon", "headline": "Hello Lisbon"}}),
        )
        .await;
    assert_eq!(status, 202, "{started}");
    let session = started["session_id"].as_str().unwrap().to_owned();
    let done = finished(&s, &started).await;
    let video = &done["result"];
    assert_eq!(video["type"], "video");
    let (_, assets) = s
        .get_json(&format!("/api/v1/sessions/{session}/assets"))
        .await;
    let voice = assets
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["type"] == "audio")
        .unwrap()
        .clone();
    let dir = tempfile::tempdir().unwrap();
    let out = common::write_file(dir.path(), "v.mp4", &s.download(video).await);
    let spoken = voice["metadata"]["duration_seconds"].as_f64().unwrap();
    assert!((common::duration_of(&out) - spoken).abs() < 0.3);
    // The title is the row's: drawn in the top band, white on the picture.
    let band = common::mean_colour_of_region(&out, 0.5, "200:20:60:14");
    let plain = common::mean_colour_of_region(&out, 0.5, "200:20:60:120");
    assert!(
        band.iter().sum::<f64>() > plain.iter().sum::<f64>() + 15.0,
        "title {band:?} over {plain:?}"
    );

    // The same row again in that session: nothing new is made.
    let (status, again) = s
        .post_json(
            &format!("/api/v1/templates/{id}/renders"),
            json!({"merge": {"city": "Lisbon", "headline": "Hello Lisbon"}, "session_id": session}),
        )
        .await;
    assert_eq!(status, 202, "{again}");
    finished(&s, &again).await;
    let (_, after) = s
        .get_json(&format!("/api/v1/sessions/{session}/assets"))
        .await;
    let count = |list: &Value, kind: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .filter(|a| a["type"] == kind)
            .count()
    };
    assert_eq!((count(&after, "image"), count(&after, "audio")), (1, 1));
    assert_eq!(count(&after, "video"), 2);

    // A saved timeline becomes a template; templates are deleted.
    let (status, saved) = s
        .put_json(
            &format!("/api/v1/sessions/{session}/timeline"),
            json!({"timeline": [{"asset_id": "image_1.png", "duration": 2}]}),
        )
        .await;
    assert_eq!(status, 200, "{saved}");
    let (status, copy) = s
        .post_json(
            &format!("/api/v1/sessions/{session}/timeline/template"),
            json!({"name": "Saved"}),
        )
        .await;
    assert_eq!(status, 201, "{copy}");
    assert_eq!(copy["body"]["timeline"][0]["asset_id"], "image_1.png");
    let copy_id = copy["template_id"].as_str().unwrap();
    assert_eq!(s.delete(&format!("/api/v1/templates/{copy_id}")).await, 204);
    let (status, _) = s.get_json(&format!("/api/v1/templates/{copy_id}")).await;
    assert_eq!(status, 404);

    // An asset field needs the session that has the asset, and the right kind.
    let (status, pic) = s
        .post_json(
            "/api/v1/templates",
            json!({"name": "Photo", "body": {"timeline": [{"asset_id": "{{photo}}", "duration": 1}]},
                   "fields": {"photo": {"type": "asset", "kind": "image"}}}),
        )
        .await;
    assert_eq!(status, 201, "{pic}");
    let pic_id = pic["template_id"].as_str().unwrap();
    let (status, err) = s
        .post_json(
            &format!("/api/v1/templates/{pic_id}/renders"),
            json!({"merge": {"photo": "image_1.png"}}),
        )
        .await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("session_id")),
        "{err}"
    );
    let (status, err) = s
        .post_json(
            &format!("/api/v1/templates/{pic_id}/renders"),
            json!({"merge": {"photo": "audio_1.mp3"}, "session_id": session}),
        )
        .await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("merge.photo")),
        "{err}"
    );
}
