//! The social post tool: the extractive engine on real-world-like texts, the
//! platform rules, the endpoint end to end, and the LLM engine against a fake
//! OpenAI-compatible server.

use crate::common;

use crate::common::{TestServer, assert_error};
use serde_json::{Value, json};
use studio::Config;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const NEWS: &str = "The city council approved a plan on Tuesday to build twelve new bicycle lanes across the downtown area. \
The project, which will cost 40 million dollars, aims to reduce traffic congestion and air pollution. \
Construction of the bicycle lanes is expected to begin next spring and finish within two years. \
Local business owners have mixed feelings about the plan, fearing the loss of parking spaces. \
Supporters say safer bicycle lanes will bring more customers to downtown shops.";
const RECIPE: &str = "This lemon pasta is ready in twenty minutes. Boil the spaghetti in salted water until al dente. \
Meanwhile, melt butter with garlic and lemon zest in a large pan. Toss the spaghetti with the lemon butter, \
parmesan and a splash of pasta water. Finish the lemon pasta with black pepper and fresh basil.";
const LAUNCH: &str = "Today we launch the Aurora X1, a solar-powered e-bike for city commuters. \
The Aurora X1 charges its battery from panels built into the frame, adding up to twenty kilometres a day. \
Riders can track the solar charge in a companion app. Preorders for the Aurora X1 open next week in Europe.";
const GERMAN: &str = "Die Stadt plant neue Radwege in der Innenstadt. Die Radwege sollen den Verkehr entlasten und die Luft verbessern. \
Der Bau der Radwege beginnt im Frühling und dauert zwei Jahre. Viele Händler fürchten den Verlust von Parkplätzen.";

async fn post(s: &TestServer, body: Value) -> Value {
    let (status, out) = s.post_json("/api/v1/sessions/social/social", body).await;
    assert_eq!(status, 201, "{out}");
    out
}

fn chars(v: &Value) -> usize {
    v.as_str().unwrap().chars().count()
}

fn tags(v: &Value) -> Vec<String> {
    v["hashtags"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

fn assert_valid_tags(out: &Value) {
    let tags = tags(out);
    let mut seen = std::collections::HashSet::new();
    for t in &tags {
        assert!(t.starts_with('#') && t.len() > 1, "{t}");
        assert!(
            t[1..].chars().all(|c| c.is_alphanumeric() || c == '_'),
            "valid: {t}"
        );
        assert!(
            t[1..].chars().next().unwrap().is_uppercase(),
            "CamelCase: {t}"
        );
        assert!(seen.insert(t.to_lowercase()), "unique: {t}");
    }
}

#[tokio::test]
async fn the_contract_shape_and_storage() {
    let s = TestServer::start().await;
    let out = post(&s, json!({"text": "Some content to summarize."})).await;
    for field in ["title", "description", "hashtags", "asset_id", "url"] {
        assert!(out[field].is_string(), "{field}: {out}");
    }
    assert_eq!(out["asset_id"], "social_1.json");
    let (_, listed) = s
        .get_json("/api/v1/sessions/social/assets?type=social")
        .await;
    assert_eq!(listed[0]["name"], "social_1.json");
    assert_eq!(listed[0]["mime_type"], "application/json");
    let stored: Value = serde_json::from_slice(&s.download(&listed[0]).await).unwrap();
    assert_eq!(
        (
            &stored["title"],
            &stored["description"],
            &stored["hashtags"]
        ),
        (&out["title"], &out["description"], &out["hashtags"])
    );
    s.stop().await;
}

#[tokio::test]
async fn real_texts_give_grounded_deterministic_posts() {
    let s = TestServer::start().await;
    for (text, keywords) in [
        (NEWS, &["Bicycle", "Lanes"][..]),
        (RECIPE, &["Lemon", "Pasta"][..]),
        (LAUNCH, &["Aurora"][..]),
    ] {
        let a = post(&s, json!({"text": text})).await;
        let b = post(&s, json!({"text": text})).await;
        assert_eq!(
            (&a["title"], &a["description"], &a["hashtags"]),
            (&b["title"], &b["description"], &b["hashtags"]),
            "deterministic"
        );
        assert_valid_tags(&a);
        let joined = a["hashtags"].as_str().unwrap();
        assert!(
            keywords.iter().all(|k| joined.contains(k)),
            "{keywords:?} in {joined}"
        );
        assert!(
            text.contains(
                a["description"]
                    .as_str()
                    .unwrap()
                    .split(". ")
                    .next()
                    .unwrap()
            ),
            "extractive: {a}"
        );
        assert!(chars(&a["title"]) <= 100 && !a["title"].as_str().unwrap().is_empty());
        assert_eq!(a["language"], "en");
    }
    let news = post(&s, json!({"text": NEWS})).await;
    let recipe = post(&s, json!({"text": RECIPE})).await;
    assert_ne!(news["title"], recipe["title"]);
    s.stop().await;
}

#[tokio::test]
async fn non_english_text() {
    let s = TestServer::start().await;
    let out = post(&s, json!({"text": GERMAN, "platform": "instagram"})).await;
    assert_eq!(out["language"], "de");
    assert_valid_tags(&out);
    assert!(
        out["hashtags"].as_str().unwrap().contains("Radwege"),
        "{out}"
    );
    assert!(
        !tags(&out).iter().any(|t| t == "#Die" || t == "#Der"),
        "German stop words are not hashtags: {out}"
    );
    s.stop().await;
}

#[tokio::test]
async fn platform_limits_hold() {
    let s = TestServer::start().await;
    let long = format!("{} ", NEWS).repeat(30);
    for platform in ["youtube", "tiktok", "instagram", "x", "linkedin"] {
        let out = post(
            &s,
            json!({"text": long, "platform": platform, "max_hashtags": 40}),
        )
        .await;
        assert_eq!(out["platform"], platform);
        assert_valid_tags(&out);
        let (t, d, h) = (
            chars(&out["title"]),
            chars(&out["description"]),
            chars(&out["hashtags"]),
        );
        let n = tags(&out).len();
        match platform {
            "youtube" => assert!(t <= 100 && d <= 5000 && n <= 15),
            "x" => assert!(t + 1 + d + 1 + h <= 280, "{}", t + d + h),
            "tiktok" => assert!(d + 1 + h <= 2200 && n <= 10),
            "instagram" => assert!(d + 1 + h <= 2200 && n <= 30),
            "linkedin" => assert!(d + 1 + h <= 3000),
            _ => unreachable!(),
        }
    }
    let one = post(&s, json!({"text": "Hello"})).await;
    assert_eq!(
        (one["title"].as_str(), one["hashtags"].as_str()),
        (Some("Hello"), Some("#Hello"))
    );
    let emoji = post(
        &s,
        json!({"text": "🎬🎬🎬 ünïcödé wörds everywhere! ".repeat(300), "platform": "x"}),
    )
    .await;
    assert!(
        chars(&emoji["title"]) + chars(&emoji["description"]) + chars(&emoji["hashtags"]) + 2
            <= 280
    );
    s.stop().await;
}

#[tokio::test]
async fn bad_requests_name_the_field() {
    let s = TestServer::start().await;
    for (body, field) in [
        (json!({"text": ""}), "text"),
        (json!({}), "text"),
        (json!({"text": "x".repeat(100_001)}), "text"),
        (json!({"text": "hi", "platform": "myspace"}), "platform"),
        (json!({"text": "hi", "max_hashtags": -1}), "max_hashtags"),
        (json!({"text": "hi", "max_hashtags": 1000}), "max_hashtags"),
        (json!({"text": "hi", "language": "english"}), "language"),
        (json!({"text": "hi", "provider": "gpt9"}), "provider"),
    ] {
        let (status, err) = s
            .post_json("/api/v1/sessions/bad/social", body.clone())
            .await;
        assert_eq!(status, 422, "{body} -> {err}");
        assert_error(&err, "invalid_request");
        assert_eq!(err["error"]["field"], field, "{body}");
    }
    s.stop().await;
}

fn chat_answer(content: &str) -> Value {
    json!({
        "id": "x", "object": "chat.completion", "created": 1, "model": "fake",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}]
    })
}

async fn llm_server(fake: &MockServer) -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::with_data_dir(dir.path());
    config.social_provider = "openai".into();
    config.llm.base_url = Some(format!("{}/v1", fake.uri()));
    config.llm.api_key = Some("k".into());
    config.llm.model = Some("fake-model".into());
    config.provider_timeout_secs = 5;
    (TestServer::start_with(config).await, dir)
}

#[tokio::test]
async fn llm_engine_answers_are_held_to_the_rules() {
    let fake = MockServer::start().await;
    let long = json!({"title": "T".repeat(300), "description": "word ".repeat(400), "hashtags": "#a #A #Urban design #sci-fi #x1 #x2 #x3 #x4"}).to_string();
    Mock::given(method("POST")).and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(chat_answer(&json!({"title": "Bike lanes for all", "description": "The council approved twelve lanes.", "hashtags": "#BikeLanes #CityLife"}).to_string())))
        .up_to_n_times(1).mount(&fake).await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(chat_answer(&long)))
        .up_to_n_times(1)
        .mount(&fake)
        .await;
    let (s, _dir) = llm_server(&fake).await;
    let good = post(&s, json!({"text": NEWS, "tone": "upbeat"})).await;
    assert_eq!(
        (good["title"].as_str(), good["hashtags"].as_str()),
        (Some("Bike lanes for all"), Some("#BikeLanes #CityLife"))
    );
    assert_eq!(good["provider"], "openai");
    let sent: Value = fake.received_requests().await.unwrap()[0]
        .body_json()
        .unwrap();
    assert_eq!(sent["model"], "fake-model");
    assert_eq!(sent["response_format"]["type"], "json_schema");
    assert!(
        sent["messages"][0]["content"]
            .as_str()
            .unwrap()
            .contains("upbeat")
    );

    let cut = post(&s, json!({"text": NEWS, "platform": "x"})).await;
    assert!(
        chars(&cut["title"]) + chars(&cut["description"]) + chars(&cut["hashtags"]) + 2 <= 280,
        "{cut}"
    );
    assert_valid_tags(&cut);
    s.stop().await;
}

#[tokio::test]
async fn llm_invalid_json_gets_one_retry_then_502() {
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(chat_answer("Sure! Here is your post: great bikes")),
        )
        .up_to_n_times(1)
        .mount(&fake)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(chat_answer("```json\n{\"title\": \"Fixed\", \"description\": \"Now valid.\", \"hashtags\": [\"#One\", \"#Two\"]}\n```")))
        .up_to_n_times(1).mount(&fake).await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(chat_answer("still not json")))
        .up_to_n_times(2)
        .mount(&fake)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_json(json!({"error": {"message": "model crashed"}})),
        )
        .mount(&fake)
        .await;
    let (s, _dir) = llm_server(&fake).await;
    let fixed = post(&s, json!({"text": NEWS})).await;
    assert_eq!(
        (fixed["title"].as_str(), fixed["hashtags"].as_str()),
        (Some("Fixed"), Some("#One #Two"))
    );
    let (status, err) = s
        .post_json("/api/v1/sessions/social/social", json!({"text": NEWS}))
        .await;
    assert_eq!(status, 502);
    assert!(assert_error(&err, "provider_error").contains("valid post"));
    let (status, err) = s
        .post_json("/api/v1/sessions/social/social", json!({"text": NEWS}))
        .await;
    assert_eq!(status, 502);
    assert!(assert_error(&err, "provider_error").contains("model crashed"));
    let (_, listed) = s.get_json("/api/v1/sessions/social/assets").await;
    assert_eq!(
        listed.as_array().unwrap().len(),
        1,
        "failures store nothing"
    );
    let local = post(&s, json!({"text": NEWS, "provider": "builtin"})).await;
    assert_eq!(local["provider"], "builtin");
    s.stop().await;
}

#[test]
fn cli_social_reads_a_text_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("article.txt");
    std::fs::write(&file, LAUNCH).unwrap();
    let out = common::studio_ok(
        dir.path(),
        &[
            "social",
            "--session",
            "cli",
            "--platform",
            "tiktok",
            "--text-file",
            file.to_str().unwrap(),
        ],
    );
    let post: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(post["platform"], "tiktok");
    assert!(post["hashtags"].as_str().unwrap().contains("Aurora"));
}
