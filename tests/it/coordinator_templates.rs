//! The coordinator's template tools over HTTP: "save this as a template"
//! makes a template of the saved timeline whose `{{city}}` becomes a
//! field; "make this for each of these cities: Lisbon, Oslo, Rome" starts a
//! batch of three renders that each finish as a video; and the plain
//! answers when there is nothing saved or no word to vary.

use crate::common::{self, TestServer};
use serde_json::{Value, json};

async fn ask(s: &TestServer, session: &str, message: &str) -> Value {
    let (status, reply) = s
        .post_json(
            &format!("/api/v1/sessions/{session}/agent"),
            json!({ "message": message }),
        )
        .await;
    assert_eq!(status, 200, "{message}: {reply}");
    reply
}

async fn upload_picture(s: &TestServer, session: &str) {
    let (status, up) = s
        .upload(session, "bg.png", common::png(320, 176, [40, 80, 160]))
        .await;
    assert_eq!(status, 201, "{up}");
    assert_eq!(up["asset_id"], "image_1.png", "{up}");
}

/// Saves a one-picture timeline (the uploaded `image_1.png`) titled `text`.
async fn save_timeline(s: &TestServer, session: &str, text: &str) {
    let (status, saved) = s
        .put_json(
            &format!("/api/v1/sessions/{session}/timeline"),
            json!({"timeline": [{"asset_id": "image_1.png", "text": text, "duration": 1.5}],
                   "output": {"width": 320, "height": 176, "fps": 10}}),
        )
        .await;
    assert_eq!(status, 200, "{saved}");
}

#[tokio::test]
async fn the_coordinator_saves_a_template_and_makes_it_for_each_city() {
    let s = TestServer::start().await;
    const AT: &str = "citytour";
    upload_picture(&s, AT).await;
    save_timeline(&s, AT, "Welcome to {{city}}").await;

    let reply = ask(&s, AT, "save this as a template").await;
    assert_eq!(reply["tool"], "save_template", "{reply}");
    assert_eq!(reply["result"]["done"], true, "{reply}");
    let id = reply["result"]["template_id"].as_str().unwrap().to_owned();
    let said = reply["reply"].as_str().unwrap();
    assert!(
        said.contains(&id) && said.contains("{{city}}") && said.contains("Template from citytour"),
        "{said}"
    );
    let (status, list) = s.get_json("/api/v1/templates").await;
    assert_eq!(status, 200, "{list}");
    let templates = list["templates"].as_array().unwrap();
    assert_eq!(templates.len(), 1, "{list}");
    assert_eq!(templates[0]["template_id"], id.as_str());
    assert!(templates[0]["fields"]["city"].is_object(), "{list}");

    // A name given is the template's name.
    let named = ask(&s, AT, "save this video as a template called City clip").await;
    assert_eq!(named["result"]["name"], "City clip", "{named}");

    let reply = ask(
        &s,
        AT,
        "make this for each of these cities: Lisbon, Oslo, Rome",
    )
    .await;
    assert_eq!(reply["tool"], "render_for_each", "{reply}");
    assert_eq!(
        reply["arguments"],
        json!({"values": ["Lisbon", "Oslo", "Rome"], "field": "city"})
    );
    let result = &reply["result"];
    assert_eq!(result["done"], true, "{reply}");
    assert_eq!(result["field"], "city");
    assert_eq!(
        result["template_made"], false,
        "the newest template of this timeline: {reply}"
    );
    let status_url = result["batch"]["status_url"].as_str().unwrap().to_owned();
    assert!(status_url.starts_with("/api/v1/batches/batch_"), "{reply}");
    assert_eq!(
        reply["reply"].as_str().unwrap(),
        format!(
            "Making 3 videos, one for each city: Lisbon, Oslo, Rome. Follow them at {status_url}"
        )
    );
    assert_eq!(result["batch"]["jobs"].as_array().map(Vec::len), Some(3));

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let view = loop {
        let (status, view) = s.get_json(&status_url).await;
        assert_eq!(status, 200, "{view}");
        if view["status"] == "finished" {
            break view;
        }
        assert!(std::time::Instant::now() < deadline, "not finished: {view}");
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    };
    assert_eq!(view["counts"]["succeeded"], 3, "{view}");
    for row in view["rows"].as_array().unwrap() {
        assert_eq!(row["result"]["type"], "video", "{row}");
    }

    // The conversation kept both exchanges.
    let (_, conversation) = s.get_json(&format!("/api/v1/sessions/{AT}/messages")).await;
    let text = conversation.to_string();
    assert!(
        text.contains("save_template") && text.contains("render_for_each"),
        "{conversation}"
    );
}

#[tokio::test]
async fn the_coordinator_answers_in_plain_words_when_it_cannot() {
    let s = TestServer::start().await;

    // Nothing saved: nothing to make a template of, or to repeat.
    let reply = ask(&s, "empty", "save this as a template").await;
    assert_eq!(reply["tool"], "save_template", "{reply}");
    assert_eq!(reply["result"]["done"], false, "{reply}");
    assert_eq!(reply["result"]["reason"], "no_timeline", "{reply}");
    let reply = ask(&s, "empty", "do the same for Paris, Berlin and Madrid").await;
    assert_eq!(reply["tool"], "render_for_each", "{reply}");
    assert_eq!(reply["result"]["reason"], "no_timeline", "{reply}");
    let (_, list) = s.get_json("/api/v1/templates").await;
    assert_eq!(list["templates"], json!([]), "nothing made: {list}");

    // A timeline with no word marked: it says how to mark one, and makes
    // no batch (the template it made of the timeline is there to reuse).
    upload_picture(&s, "plain").await;
    save_timeline(&s, "plain", "Welcome").await;
    let reply = ask(
        &s,
        "plain",
        "make this for each of these cities: Lisbon, Oslo, Rome",
    )
    .await;
    assert_eq!(reply["tool"], "render_for_each", "{reply}");
    assert_eq!(reply["result"]["done"], false, "{reply}");
    assert_eq!(reply["result"]["reason"], "no_field", "{reply}");
    let said = reply["reply"].as_str().unwrap();
    assert!(
        said.contains("{{city}}") && said.contains("title or a voice-over text"),
        "{said}"
    );
    assert!(reply["result"]["batch"].is_null(), "{reply}");

    // Marked now: the template made of the old timeline no longer matches,
    // so a new one is made of the saved timeline, and its batch starts.
    save_timeline(&s, "plain", "Hello {{city}}").await;
    let reply = ask(&s, "plain", "do the same for Paris and Berlin").await;
    assert_eq!(reply["result"]["done"], true, "{reply}");
    assert_eq!(reply["result"]["template_made"], true, "{reply}");
    assert_eq!(reply["result"]["values"], json!(["Paris", "Berlin"]));
    let (status, view) = s
        .get_json(reply["result"]["status_url"].as_str().unwrap())
        .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["total"], 2, "{view}");

    // No values named: a question back.
    let reply = ask(&s, "plain", "make this for each of these products").await;
    assert_eq!(reply["tool"], "render_for_each", "{reply}");
    assert_eq!(reply["result"]["reason"], "no_values", "{reply}");
    assert!(
        reply["reply"].as_str().unwrap().contains("products"),
        "{reply}"
    );
}
