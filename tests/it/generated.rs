//! Generated items: a timeline may ask for its picture and voice-over to be
//! made when it is composed; they become ordinary assets, and the same
//! parameters again reuse them (a second render makes nothing new).

use crate::common;

use crate::common::TestServer;
use serde_json::json;

#[tokio::test]
async fn generated_items_are_made_once_and_reused() {
    let s = TestServer::start().await;
    let body = json!({
        "timeline": [
            {"generate": {"type": "image", "prompt": "A red barn in a green field", "width": 320, "height": 176}},
            {"generate": {"type": "audio", "text": "Welcome to the farm. It is a fine day."}}
        ],
        "output": {"width": 320, "height": 176, "fps": 10}
    });
    let (status, video) = s
        .post_json("/api/v1/sessions/gen/compose", body.clone())
        .await;
    assert_eq!(status, 201, "{video}");
    let (_, assets) = s.get_json("/api/v1/sessions/gen/assets").await;
    let assets = assets.as_array().unwrap().clone();
    let made: Vec<_> = assets
        .iter()
        .filter(|a| a["metadata"]["generated_key"].is_string())
        .collect();
    assert_eq!(made.len(), 2, "a picture and a voice-over: {assets:?}");
    let voice = made.iter().find(|a| a["type"] == "audio").unwrap();
    let spoken = voice["metadata"]["duration_seconds"].as_f64().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = common::write_file(dir.path(), "v.mp4", &s.download(&video).await);
    assert!(
        (common::duration_of(&out) - spoken).abs() < 0.3,
        "the scene lasts as long as the generated voice-over ({spoken} s)"
    );

    // Again: nothing new is made; the render is the same.
    let (status, again) = s
        .post_json("/api/v1/sessions/gen/compose", body.clone())
        .await;
    assert_eq!(status, 201, "{again}");
    let (_, after) = s.get_json("/api/v1/sessions/gen/assets").await;
    let count = |kind: &str, list: &serde_json::Value| {
        list.as_array()
            .unwrap()
            .iter()
            .filter(|a| a["type"] == kind)
            .count()
    };
    assert_eq!(count("image", &after), 1);
    assert_eq!(count("audio", &after), 1);
    assert_eq!(again["metadata"]["render"]["scenes_rendered"], 0, "{again}");

    // Mistakes are named by item, before anything is made.
    for (item, field) in [
        (
            json!({"asset_id": "image_1.png", "generate": {"type": "image", "prompt": "x"}}),
            "timeline[0].generate",
        ),
        (
            json!({"generate": {"type": "video", "prompt": "x"}}),
            "timeline[0].generate.type",
        ),
        (
            json!({"generate": {"type": "image", "promt": "x"}}),
            "timeline[0].generate",
        ),
        (
            json!({"generate": {"type": "image", "prompt": "x", "width": 100, "height": 100}}),
            "timeline[0].generate.width",
        ),
        (
            json!({"generate": {"type": "audio", "text": "  "}}),
            "timeline[0].generate.text",
        ),
        (json!({"duration": 2}), "timeline[0].asset_id"),
    ] {
        let (status, err) = s
            .post_json("/api/v1/sessions/gen/compose", json!({"timeline": [item]}))
            .await;
        assert_eq!(status, 422, "{err}");
        assert_eq!(err["error"]["field"], field, "{err}");
    }
    // A bounded amount of work per compose.
    let many: Vec<_> = (0..51)
        .map(|i| json!({"generate": {"type": "audio", "text": format!("Line {i}.")}}))
        .collect();
    let (status, err) = s
        .post_json("/api/v1/sessions/gen/compose", json!({"timeline": many}))
        .await;
    assert_eq!(
        (status, err["error"]["field"].as_str()),
        (422, Some("timeline")),
        "{err}"
    );
    let (_, last) = s.get_json("/api/v1/sessions/gen/assets").await;
    assert_eq!(
        last.as_array().unwrap().len(),
        after.as_array().unwrap().len()
    );
}
