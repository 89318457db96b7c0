//! The coordinator end to end: interactive requests over HTTP through a whole
//! session, the automatic pipeline as a job, the LLM engine against a fake
//! OpenAI-compatible server, and the `run` / `chat` commands.

use crate::common;

use std::time::{Duration, Instant};

use crate::common::{TestServer, assert_error, ffprobe, write_file};
use serde_json::{Value, json};
use studio::Config;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn ask(s: &TestServer, session: &str, body: Value) -> Value {
    let (status, reply) = s
        .post_json(&format!("/api/v1/sessions/{session}/agent"), body)
        .await;
    assert_eq!(status, 200, "{reply}");
    for field in ["mode", "tool", "arguments", "result", "reply"] {
        assert!(reply.get(field).is_some(), "{field} in {reply}");
    }
    reply
}

async fn wait_job(s: &TestServer, status_url: &str) -> Value {
    let ended = |job: &Value| {
        ["succeeded", "failed", "cancelled"].contains(&job["status"].as_str().unwrap_or(""))
    };
    s.wait_for_job(status_url, ended, Duration::from_secs(240))
        .await
}

#[tokio::test]
async fn a_whole_session_through_the_agent() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let image = ask(&s, "chat", json!({"message": "Generate an image of a cat"})).await;
    assert_eq!(
        (image["mode"].as_str(), image["tool"].as_str()),
        (Some("interactive"), Some("generate_image"))
    );
    assert_eq!(image["arguments"], json!({"prompt": "a cat"}));
    assert_eq!(image["result"]["asset_id"], "image_1.png");
    let (_, shown) = s.get_json("/api/v1/sessions/chat/assets/image_1.png").await;
    assert_eq!(
        image["result"], shown,
        "the same asset object the image endpoint returns"
    );
    assert!(image["reply"].as_str().unwrap().contains("image_1.png"));

    let voice = ask(&s, "chat", json!({"message": "say 'Cats rule the internet. Everyone knows it.' in a British female voice"})).await;
    assert_eq!(voice["tool"], "synthesize_voiceover");
    assert_eq!(voice["arguments"]["voice_name"], "en-GB-Neural2-F");
    assert_eq!(voice["result"]["asset_id"], "audio_1.mp3");
    let spoken = voice["result"]["metadata"]["duration_seconds"]
        .as_f64()
        .unwrap();

    let post = ask(
        &s,
        "chat",
        json!({"message": "write a TikTok caption for a video about cats ruling the internet"}),
    )
    .await;
    assert_eq!(post["tool"], "generate_social_post");
    assert_eq!(post["result"]["platform"], "tiktok");
    assert!(
        post["result"]["hashtags"]
            .as_str()
            .unwrap()
            .starts_with('#')
    );

    let listed = ask(&s, "chat", json!({"message": "What have I made so far?"})).await;
    assert_eq!(listed["tool"], "list_assets");
    assert_eq!(listed["result"].as_array().unwrap().len(), 3);

    let video = ask(
        &s,
        "chat",
        json!({"message": "put image 1 and audio 1 together with captions"}),
    )
    .await;
    assert_eq!(video["tool"], "compose_video");
    assert_eq!(video["result"]["asset_id"], "video_1.mp4");
    let path = write_file(dir.path(), "v.mp4", &s.download(&video["result"]).await);
    let probe = ffprobe(&path);
    let duration: f64 = probe["format"]["duration"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((duration - spoken).abs() < 0.1, "{duration} vs {spoken}");
    assert_eq!(probe["streams"].as_array().unwrap().len(), 2);

    let help = ask(&s, "chat", json!({"message": "what is the weather like?"})).await;
    assert_eq!(help["tool"], Value::Null);
    assert!(
        help["reply"]
            .as_str()
            .unwrap()
            .contains("I can generate images")
    );

    let topic = ask(
        &s,
        "chat",
        json!({"message": "make a full video about the history of coffee"}),
    )
    .await;
    assert_eq!(topic["tool"], Value::Null);
    assert!(topic["reply"].as_str().unwrap().contains("LLM"), "{topic}");

    let (status, err) = s
        .post_json("/api/v1/sessions/chat/agent", json!({"message": "  "}))
        .await;
    assert_eq!(status, 422);
    assert_eq!(err["error"]["field"], "message");
    // A message over the limit is refused and not kept.
    let (status, err) = s
        .post_json(
            "/api/v1/sessions/chat/agent",
            json!({"message": "y".repeat(20_001)}),
        )
        .await;
    assert_eq!(status, 422, "{err}");
    let (_, conversation) = s.get_json("/api/v1/sessions/chat/messages").await;
    assert!(
        conversation["messages"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["text"].as_str().unwrap().len() < 20_000),
        "refused text stored"
    );
    let (status, err) = s
        .post_json(
            "/api/v1/sessions/chat/agent",
            json!({"message": "hi", "mode": "turbo"}),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(err["error"]["field"], "mode");
    let (status, err) = s
        .post_json(
            "/api/v1/sessions/chat/agent",
            json!({"message": "put image 7 and audio 1 together"}),
        )
        .await;
    assert_eq!(status, 422, "a bad reference is the user's mistake: {err}");
    s.stop().await;
}

const FIVE_PARAGRAPHS: &str = "The ocean covers most of our planet and holds most of its life.\n\n\
Deep forests breathe for the world, storing carbon in ancient trees.\n\n\
Snowy mountains feed the rivers that cities drink from every day.\n\n\
At night the cities glow, and their lights can be seen from space.\n\n\
Protecting these places means protecting ourselves and our children.";

#[tokio::test]
async fn automatic_mode_runs_the_whole_pipeline_as_a_job() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let reply = ask(
        &s,
        "auto",
        json!({"message": FIVE_PARAGRAPHS, "mode": "automatic"}),
    )
    .await;
    assert_eq!(
        (reply["mode"].as_str(), reply["tool"].as_str()),
        (Some("automatic"), Some("run_full_pipeline"))
    );
    let status_url = reply["result"]["status_url"].as_str().unwrap().to_owned();
    let job = wait_job(&s, &status_url).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let result = &job["result"];
    let scenes = result["scenes"].as_array().unwrap();
    assert_eq!(scenes.len(), 5, "one scene per paragraph");
    assert_eq!(
        scenes[3]["narration"],
        "At night the cities glow, and their lights can be seen from space."
    );

    let mut spoken = 0.0;
    for scene in scenes {
        let (_, audio) = s
            .get_json(&format!(
                "/api/v1/sessions/auto/assets/{}",
                scene["audio"].as_str().unwrap()
            ))
            .await;
        spoken += audio["metadata"]["duration_seconds"].as_f64().unwrap();
    }
    let path = write_file(dir.path(), "auto.mp4", &s.download(&result["video"]).await);
    let duration: f64 = ffprobe(&path)["format"]["duration"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (duration - spoken).abs() < 0.15,
        "video {duration} vs voice-overs {spoken}"
    );
    assert_eq!(result["video"]["metadata"]["captions"], "subtitles_1.srt");
    assert!(!result["post"]["title"].as_str().unwrap().is_empty());
    assert!(
        result["post"]["hashtags"]
            .as_str()
            .unwrap()
            .starts_with('#')
    );
    let (_, listed) = s.get_json("/api/v1/sessions/auto/assets").await;
    assert_eq!(
        listed.as_array().unwrap().len(),
        5 + 5 + 3,
        "images, voice-overs, subtitles, video, post"
    );

    // The draft is the session's saved timeline: change one scene, render
    // again, and only that scene is rendered.
    let (_, saved) = s.get_json("/api/v1/sessions/auto/timeline").await;
    assert_eq!(saved["version"], 1);
    assert_eq!(result["video"]["metadata"]["timeline_version"], 1);
    let items = saved["timeline"].as_array().unwrap();
    assert_eq!(items.len(), 10, "an image and a voice-over per scene");
    // Gentle motion and crossfades by default: frames 0.2 s apart differ.
    assert_eq!(items[0]["effect"], "zoom_in");
    assert_ne!(items[2]["effect"], items[0]["effect"]);
    assert_eq!(items[2]["transition"]["type"], "crossfade");
    assert!(top_half_change(&path, 1.0, 1.2) > 0.3, "the picture moves");
    assert_eq!(items[6]["asset_id"], scenes[3]["image"]);
    assert_eq!(saved["captions"], true);
    let mut edited = saved.clone();
    edited["timeline"][0]["text"] = json!("A new title");
    let (status, _) = s.put_json("/api/v1/sessions/auto/timeline", edited).await;
    assert_eq!(status, 200);
    let (status, video) = s
        .post_json("/api/v1/sessions/auto/compose", json!({}))
        .await;
    assert_eq!(status, 201, "{video}");
    let render = &video["metadata"]["render"];
    assert_eq!(
        (
            render["scenes"].as_u64(),
            render["scenes_rendered"].as_u64()
        ),
        (Some(5), Some(2)),
        "the scene, and the crossfade out of it into the next"
    );
    s.stop().await;
}

fn chat(content: Option<&str>, tool_calls: Option<Value>) -> Value {
    let mut message = json!({"role": "assistant", "content": content});
    if let Some(calls) = tool_calls {
        message["tool_calls"] = calls;
    }
    json!({"id": "x", "object": "chat.completion", "created": 1, "model": "fake",
           "choices": [{"index": 0, "finish_reason": "stop", "message": message}]})
}

fn call(name: &str, args: Value) -> Value {
    json!([{"id": "call_1", "type": "function", "function": {"name": name, "arguments": args.to_string()}}])
}

#[tokio::test]
async fn llm_engine_calls_validated_tools() {
    let fake = MockServer::start().await;
    let answers = [
        chat(
            None,
            Some(call(
                "generate_image",
                json!({"prompt": "a cat in a hat", "aspect_ratio": "1:1"}),
            )),
        ),
        chat(None, Some(call("generate_image", json!({"prompt": ""})))),
        chat(
            None,
            Some(call(
                "generate_image",
                json!({"prompt": "a fixed prompt", "width": 64, "height": 64}),
            )),
        ),
        chat(Some("I can make images, voice-overs and videos."), None),
        chat(None, Some(call("no_such_tool", json!({})))),
        chat(None, Some(call("still_wrong", json!({})))),
    ];
    for answer in answers {
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(answer))
            .up_to_n_times(1)
            .mount(&fake)
            .await;
    }
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(500).set_body_json(json!({"error": {"message": "backend down"}})),
        )
        .mount(&fake)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::with_data_dir(dir.path());
    config.agent_provider = "openai".into();
    config.llm.base_url = Some(format!("{}/v1", fake.uri()));
    config.llm.model = Some("fake".into());
    config.provider_timeout_secs = 5;
    let s = TestServer::start_with(config).await;

    let first = ask(
        &s,
        "llm",
        json!({"message": "I'd love a picture of my cat wearing a hat"}),
    )
    .await;
    assert_eq!(first["tool"], "generate_image");
    assert_eq!(first["result"]["metadata"]["prompt"], "a cat in a hat");
    assert_eq!(first["result"]["metadata"]["width"], 1080);
    let sent: Value = fake.received_requests().await.unwrap()[0]
        .body_json()
        .unwrap();
    let tools: Vec<&str> = sent["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        tools,
        [
            "generate_image",
            "synthesize_voiceover",
            "generate_social_post",
            "list_assets",
            "compose_video",
            "run_full_pipeline",
            "transcribe",
            "cut_speech",
            "add_logo",
            "add_text_overlay",
            "set_clip_speed",
            "save_template",
            "render_for_each"
        ]
    );
    assert!(
        sent["tools"][0]["function"]["parameters"]["properties"]["prompt"].is_object(),
        "schemas come from the registry"
    );
    for (i, field) in [
        (8, "position"),
        (9, "subtitle"),
        (10, "speed"),
        (11, "name"),
        (12, "values"),
    ] {
        assert!(
            sent["tools"][i]["function"]["parameters"]["properties"][field].is_object(),
            "the layer and template tools' schemas: {}",
            sent["tools"][i]
        );
    }
    assert!(
        sent["messages"][0]["content"]
            .as_str()
            .unwrap()
            .contains("interactive")
    );

    let corrected = ask(&s, "llm", json!({"message": "draw something"})).await;
    assert_eq!(corrected["result"]["metadata"]["prompt"], "a fixed prompt");
    let retry: Value = fake.received_requests().await.unwrap()[2]
        .body_json()
        .unwrap();
    let last = retry["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["role"], "tool");
    assert!(
        last["content"].as_str().unwrap().contains("prompt"),
        "the model is told what was wrong: {last}"
    );

    let text = ask(&s, "llm", json!({"message": "what can you do?"})).await;
    assert_eq!(
        (text["tool"].clone(), text["reply"].as_str()),
        (
            Value::Null,
            Some("I can make images, voice-overs and videos.")
        )
    );

    let (status, err) = s
        .post_json(
            "/api/v1/sessions/llm/agent",
            json!({"message": "do a thing"}),
        )
        .await;
    assert_eq!(status, 502);
    assert!(assert_error(&err, "provider_error").contains("still invalid"));
    let (status, err) = s
        .post_json("/api/v1/sessions/llm/agent", json!({"message": "anything"}))
        .await;
    assert_eq!(status, 502);
    assert!(assert_error(&err, "provider_error").contains("backend down"));
    s.stop().await;
}

#[test]
fn run_makes_a_video_and_a_failing_step_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("text.txt");
    std::fs::write(
        &text,
        "Bread needs flour, water and time.\n\nThe oven does the rest.",
    )
    .unwrap();
    let out_path = dir.path().join("out.mp4");
    let data = dir.path().join("data");
    let studio = || common::studio_command(&data);
    let out = studio()
        .args([
            "run",
            "--session",
            "bake",
            "--text-file",
            text.to_str().unwrap(),
            "--out",
            out_path.to_str().unwrap(),
            "--aspect-ratio",
            "9:16",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("2 scenes") && stdout.contains("hashtags"),
        "{stdout}"
    );
    let probe = ffprobe(&out_path);
    assert_eq!(
        (
            probe["streams"][0]["width"].as_u64(),
            probe["streams"][0]["height"].as_u64()
        ),
        (Some(1080), Some(1920))
    );
    assert!(
        top_half_change(&out_path, 0.8, 1.0) > 0.3,
        "motion by default"
    );
    let still_path = dir.path().join("still.mp4");
    let out = studio()
        .args([
            "run",
            "--session",
            "still",
            "--text-file",
            text.to_str().unwrap(),
            "--out",
            still_path.to_str().unwrap(),
            "--aspect-ratio",
            "1:1",
            "--still",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        top_half_change(&still_path, 0.8, 1.0) < 0.3,
        "--still: a still picture"
    );

    let out = studio()
        .args([
            "run",
            "--session",
            "broken",
            "--text-file",
            text.to_str().unwrap(),
            "--voice",
            "zz-robot-voice",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("step voice-over 1/2"), "{stderr}");
    let kept = studio().args(["assets", "broken"]).output().unwrap();
    let kept: Value = serde_json::from_slice(&kept.stdout).unwrap();
    assert_eq!(
        kept[0]["name"], "image_1.png",
        "what was made before the failure is kept"
    );
}

#[test]
fn chat_reads_requests_line_by_line() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut child = common::studio_command(dir.path())
        .args(["chat", "--session", "talk"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"draw a red boat\nwhat have I made so far?\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("image_1.png") && stdout.contains("You have 1 asset"),
        "{stdout}"
    );
}

#[tokio::test]
async fn an_llm_writes_the_script_for_a_topic() {
    let fake = MockServer::start().await;
    let script = json!({"scenes": [
        {"narration": "Coffee began in the highlands of Ethiopia.", "image_prompt": "misty green mountains at dawn"},
        {"narration": "Today the whole world drinks it every morning.", "image_prompt": "a busy city cafe at sunrise"}
    ]});
    for answer in [
        chat(
            None,
            Some(call(
                "run_full_pipeline",
                json!({"topic": "the history of coffee"}),
            )),
        ),
        chat(Some(&script.to_string()), None),
    ] {
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(answer))
            .up_to_n_times(1)
            .mount(&fake)
            .await;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::with_data_dir(dir.path());
    config.agent_provider = "openai".into();
    config.llm.base_url = Some(format!("{}/v1", fake.uri()));
    let s = TestServer::start_with(config).await;
    let reply = ask(
        &s,
        "topic",
        json!({"message": "make a video about the history of coffee"}),
    )
    .await;
    assert_eq!(reply["tool"], "run_full_pipeline");
    let job = wait_job(&s, reply["result"]["status_url"].as_str().unwrap()).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let scenes = job["result"]["scenes"].as_array().unwrap();
    assert_eq!(scenes.len(), 2);
    assert_eq!(scenes[1]["image_prompt"], "a busy city cafe at sunrise");
    let requests = fake.received_requests().await.unwrap();
    assert_eq!(
        requests.len(),
        2,
        "one tool call, one script: the script is written once"
    );
    let asked: Value = requests[1].body_json().unwrap();
    assert_eq!(asked["response_format"]["type"], "json_schema");
    s.stop().await;
}

#[tokio::test]
async fn the_conversation_is_kept_per_session() {
    let s = TestServer::start().await;
    let (status, _) = s.get_json("/api/v1/sessions/talk/messages").await;
    assert_eq!(status, 404, "no such session yet");
    ask(&s, "talk", json!({"message": "Generate an image of a cat"})).await;
    ask(
        &s,
        "talk",
        json!({"message": "What's the weather like on Mars?"}),
    )
    .await;
    let (status, body) = s.get_json("/api/v1/sessions/talk/messages").await;
    assert_eq!(status, 200, "{body}");
    let messages = body["messages"].as_array().unwrap();
    let roles: Vec<&str> = messages
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "assistant", "user", "assistant"]);
    assert_eq!(messages[0]["text"], "Generate an image of a cat");
    assert_eq!(messages[1]["tool"], "generate_image");
    assert_eq!(messages[1]["result"]["asset_id"], "image_1.png");
    assert!(messages[3]["tool"].is_null() && messages[3]["result"].is_null());
    assert!(!messages[3]["text"].as_str().unwrap().is_empty());
    // Another session's conversation is its own; deleting the session deletes it.
    ask(&s, "other", json!({"message": "list my assets"})).await;
    let (_, other) = s.get_json("/api/v1/sessions/other/messages").await;
    assert_eq!(other["messages"].as_array().unwrap().len(), 2);
    assert_eq!(s.delete("/api/v1/sessions/talk").await, 204);
    let (status, _) = s.get_json("/api/v1/sessions/talk/messages").await;
    assert_eq!(status, 404);
    s.stop().await;
}

/// How much the top half of the picture (above any caption) changes between
/// two times: the mean absolute difference of 32×18 thumbnails.
fn top_half_change(path: &std::path::Path, a: f64, b: f64) -> f64 {
    let grab = |t| common::frame_rgb(path, t, "crop=iw:ih/2:0:0,scale=32:18:flags=area");
    let (x, y) = (grab(a), grab(b));
    x.iter()
        .zip(&y)
        .map(|(p, q)| (f64::from(*p) - f64::from(*q)).abs())
        .sum::<f64>()
        / x.len() as f64
}

#[tokio::test]
async fn cancelling_an_automatic_run_stops_it_within_seconds() {
    let s = TestServer::start().await;
    let reply = ask(
        &s,
        "stop",
        json!({"message": FIVE_PARAGRAPHS, "mode": "automatic"}),
    )
    .await;
    let status_url = reply["result"]["status_url"].as_str().unwrap().to_owned();
    // Let it get going: the first voice-over is being made or done.
    let job = s
        .wait_for_job(
            &status_url,
            |job| {
                job["status"] != "queued"
                    && (job["status"] != "running"
                        || job["step"].as_str().is_some_and(|st| st != "image 1/5"))
            },
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(job["status"], "running", "{job}");
    let resp = s.client.delete(s.url(&status_url)).send().await.unwrap();
    assert_eq!(resp.status(), 202);
    let asked = Instant::now();
    let job = wait_job(&s, &status_url).await;
    assert_eq!(job["status"], "cancelled", "{job}");
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "stopped in {:?}",
        asked.elapsed()
    );
    let (_, before) = s.get_json("/api/v1/sessions/stop/assets").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (_, after) = s.get_json("/api/v1/sessions/stop/assets").await;
    assert_eq!(before, after, "nothing more is made");
    assert!(
        before.as_array().unwrap().len() < 10,
        "it stopped early: {before}"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_pipeline_whose_worker_died_runs_again_without_its_partial_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let config = || {
        let mut c = studio::Config::with_data_dir(dir.path());
        c.jobs.worker_heartbeat_secs = 1;
        c
    };
    let s = TestServer::start_with(config()).await;
    let reply = ask(
        &s,
        "rerun",
        json!({"message": FIVE_PARAGRAPHS, "mode": "automatic"}),
    )
    .await;
    let status_url = reply["result"]["status_url"].as_str().unwrap().to_owned();
    // Some scenes are made when the worker goes away (as with kill -9).
    let started = Instant::now();
    loop {
        let (_, assets) = s.get_json("/api/v1/sessions/rerun/assets").await;
        if assets.as_array().unwrap().len() >= 3 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{assets}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    s.stop().await;

    let s = TestServer::start_with(config()).await;
    let job = wait_job(&s, &status_url).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let (_, assets) = s.get_json("/api/v1/sessions/rerun/assets").await;
    let count = |kind: &str| {
        assets
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["type"] == kind)
            .count()
    };
    assert_eq!(
        (
            count("image"),
            count("audio"),
            count("video"),
            count("social")
        ),
        (5, 5, 1, 1),
        "one run's outputs, once: {assets}"
    );
    // Every listed output is the second run's, and the result names them.
    let made: Vec<&str> = job["result"]["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    for asset in assets.as_array().unwrap() {
        assert!(made.contains(&asset["name"].as_str().unwrap()), "{asset}");
    }
    s.stop().await;
}

/// The offline coordinator on the plain requests of issue 17: new verbs and
/// shapes for every tool, "make the video" from everything and then from the
/// saved timeline, "make it vertical", ordinal references, and help for a
/// request the studio does not serve.
#[tokio::test]
async fn plain_requests_reach_the_right_tool() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let session = "plain";
    let expect = |reply: &Value, tool: &str, args: Value| {
        assert_eq!(reply["tool"], tool, "{reply}");
        assert_eq!(reply["arguments"], args, "{reply}");
    };

    let r = ask(
        &s,
        session,
        json!({"message": "visualize a cozy coffee shop on a rainy day"}),
    )
    .await;
    expect(
        &r,
        "generate_image",
        json!({"prompt": "a cozy coffee shop on a rainy day"}),
    );
    assert_eq!(r["result"]["asset_id"], "image_1.png");
    let r = ask(
        &s,
        session,
        json!({"message": "render a scene of a busy market in Marrakech"}),
    )
    .await;
    expect(
        &r,
        "generate_image",
        json!({"prompt": "a busy market in Marrakech"}),
    );
    assert_eq!(r["result"]["asset_id"], "image_2.png");

    let r = ask(
        &s,
        session,
        json!({"message": "Record a voiceover: Our story begins in a small village."}),
    )
    .await;
    expect(
        &r,
        "synthesize_voiceover",
        json!({"text": "Our story begins in a small village."}),
    );
    assert_eq!(r["result"]["asset_id"], "audio_1.mp3");
    let first_voice = r["result"]["metadata"]["duration_seconds"]
        .as_f64()
        .unwrap();
    let r = ask(
        &s,
        session,
        json!({"message": "Turn this into speech: The market opens at nine."}),
    )
    .await;
    expect(
        &r,
        "synthesize_voiceover",
        json!({"text": "The market opens at nine."}),
    );
    let second_voice = r["result"]["metadata"]["duration_seconds"]
        .as_f64()
        .unwrap();

    let r = ask(
        &s,
        session,
        json!({"message": "I need a LinkedIn post about remote work productivity"}),
    )
    .await;
    expect(
        &r,
        "generate_social_post",
        json!({"text": "remote work productivity", "platform": "linkedin"}),
    );
    assert_eq!(r["result"]["platform"], "linkedin");
    let r = ask(
        &s,
        session,
        json!({"message": "Suggest hashtags for a travel vlog in Japan"}),
    )
    .await;
    expect(
        &r,
        "generate_social_post",
        json!({"text": "a travel vlog in Japan", "platform": "youtube"}),
    );
    let r = ask(
        &s,
        session,
        json!({"message": "Write a TikTok caption for my lighthouse video"}),
    )
    .await;
    expect(
        &r,
        "generate_social_post",
        json!({"text": "lighthouse video", "platform": "tiktok"}),
    );

    let r = ask(
        &s,
        session,
        json!({"message": "which images and audio do I have?"}),
    )
    .await;
    expect(&r, "list_assets", json!({}));
    assert_eq!(r["result"].as_array().unwrap().len(), 7);
    let r = ask(
        &s,
        session,
        json!({"message": "give me an overview of what we created"}),
    )
    .await;
    expect(&r, "list_assets", json!({}));

    // Ordinals and numbers name earlier assets.
    let r = ask(
        &s,
        session,
        json!({"message": "use image 2 with the second voice-over"}),
    )
    .await;
    expect(
        &r,
        "compose_video",
        json!({"asset_ids": ["image_2", "audio_2"]}),
    );
    assert_eq!(r["result"]["asset_id"], "video_1.mp4");
    let duration = r["result"]["metadata"]["duration_seconds"]
        .as_f64()
        .unwrap();
    assert!(
        (duration - second_voice).abs() < 0.15,
        "{duration} vs {second_voice}"
    );

    // Nothing saved: "make the video" uses every image and voice-over, not
    // the video composed before.
    let r = ask(&s, session, json!({"message": "make the video"})).await;
    expect(&r, "compose_video", json!({"asset_ids": []}));
    assert_eq!(r["result"]["asset_id"], "video_2.mp4");
    let used: Vec<&str> = r["result"]["metadata"]["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|scene| scene["asset_id"].as_str().unwrap())
        .collect();
    assert_eq!(used, ["image_1.png", "image_2.png"], "{r}");

    // With a saved timeline, "make it vertical" renders that timeline at 9:16.
    let (status, saved) = s
        .put_json(
            &format!("/api/v1/sessions/{session}/timeline"),
            json!({"timeline": [{"asset_id": "image_1.png"}, {"asset_id": "audio_1.mp3"}]}),
        )
        .await;
    assert_eq!(status, 200, "{saved}");
    let r = ask(&s, session, json!({"message": "make it vertical"})).await;
    expect(
        &r,
        "compose_video",
        json!({"asset_ids": [], "aspect_ratio": "9:16"}),
    );
    let video = &r["result"];
    assert_eq!(video["metadata"]["timeline_version"], 1, "{video}");
    let path = write_file(dir.path(), "vertical.mp4", &s.download(video).await);
    let probe = ffprobe(&path);
    let stream = probe["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|st| st["codec_type"] == "video")
        .unwrap();
    let (w, h) = (
        stream["width"].as_f64().unwrap(),
        stream["height"].as_f64().unwrap(),
    );
    assert!((w / h - 9.0 / 16.0).abs() < 0.01, "{w}x{h}");
    let duration = video["metadata"]["duration_seconds"].as_f64().unwrap();
    assert!(
        (duration - first_voice).abs() < 0.15,
        "{duration} vs {first_voice}"
    );

    // "the last picture" is the session's newest image.
    let r = ask(
        &s,
        session,
        json!({"message": "use the last picture with the first voice-over"}),
    )
    .await;
    expect(
        &r,
        "compose_video",
        json!({"asset_ids": ["image_2", "audio_1"]}),
    );
    let duration = r["result"]["metadata"]["duration_seconds"]
        .as_f64()
        .unwrap();
    assert!(
        (duration - first_voice).abs() < 0.15,
        "{duration} vs {first_voice}"
    );

    let help = ask(&s, session, json!({"message": "book a flight to Lisbon"})).await;
    assert_eq!(help["tool"], Value::Null);
    assert!(
        help["reply"]
            .as_str()
            .unwrap()
            .contains("I can generate images")
    );
    s.stop().await;
}

#[tokio::test]
async fn a_pipeline_too_long_for_the_limit_is_refused_before_anything_is_made() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = studio::Config::with_data_dir(dir.path());
    config.max_video_seconds = 20.0;
    let s = TestServer::start_with(config).await;
    // About 190 words: no one narrates that in 20 seconds.
    let text =
        "The lighthouse keeper climbed the stairs every evening to light the lamp. ".repeat(15);
    let (status, body) = s
        .post_json(
            "/api/v1/sessions/long/agent",
            json!({"message": text, "mode": "automatic"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["field"], "message", "the request's own field");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("limit is 20 s"),
        "{body}"
    );
    let (_, assets) = s.get_json("/api/v1/sessions/long/assets").await;
    assert_eq!(assets.as_array().map(Vec::len).unwrap_or(0), 0, "{assets}");
    s.stop().await;
}
