//! The web studio in a real browser: headless Chromium driven by Playwright
//! (`tests/web/e2e.mjs`; `scripts/setup.sh --test` installs both) against
//! the real server. Screenshots of the main states are kept in
//! `target/web-screenshots/`.

use crate::common::TestServer;
use serde_json::{Value, json};

#[tokio::test]
async fn the_page_is_served_from_the_binary() {
    let s = TestServer::start().await;
    let page = s.get("/").await;
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(
        html.contains("/static/app.js") && !html.contains("http"),
        "no CDN: everything comes from the binary"
    );
    for (path, kind) in [
        ("/static/app.js", "text/javascript"),
        ("/static/style.css", "text/css"),
    ] {
        let resp = s.get(path).await;
        assert_eq!(resp.status(), 200);
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind)
        );
    }
    s.stop().await;
}

/// Runs a Playwright script of `tests/web` as `node SCRIPT ARGS... SHOTS`
/// (screenshots go to `target/web-screenshots/`) and returns the JSON
/// summary it prints last.
async fn run_browser_script(script: &str, args: &[&str]) -> Value {
    let web = std::path::Path::new("tests/web");
    assert!(
        web.join("node_modules/playwright-core").exists()
            && std::path::Path::new("/usr/bin/chromium").exists(),
        "the browser test needs Chromium and playwright-core: run bash scripts/setup.sh --test"
    );
    let shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/web-screenshots");
    let out = tokio::process::Command::new("node")
        .arg(web.join(script))
        .args(args)
        .arg(&shots)
        .output()
        .await
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim().lines().last().unwrap()).unwrap()
}

#[tokio::test]
async fn a_person_makes_a_video_in_the_browser() {
    let s = TestServer::start().await;
    let base = s.base.clone();
    let summary = run_browser_script("e2e.mjs", &[&base]).await;
    let check = |key: &str, expected: Value| {
        assert_eq!(summary[key], expected, "{key} in {summary:#}");
    };
    check("url_has_session", json!(true));
    assert!(summary["form_error"].as_str().unwrap().contains("prompt"));
    // Voices: the best first, the long espeak-ng list behind "more voices".
    assert_eq!(summary["voice_groups"][0], "Best voices", "{summary}");
    assert!(summary["voices_after_more"].as_u64() > summary["voices_before_more"].as_u64());
    // A voice can be heard first; the sample is not stored.
    assert_eq!(
        summary["sample"],
        json!({"status": 200, "type": "audio/mpeg"})
    );
    check("sample_stored", json!(0));
    // An uploaded music file is chosen in the Music menu, the box unticked.
    check("music_box_cleared", json!(true));
    check("music_chosen", json!("audio_2.mp3"));
    check("saved_music", json!("audio_2.mp3"));
    check("saved_captions", json!({"style": "karaoke"}));
    // A visual timeline: a card per scene with its picture and narration,
    // as wide as it is long; every edit saved on the server.
    check("scene_cards", json!(2));
    check("thumbnails", json!(["image_1.png", "image_2.png"]));
    assert!(
        summary["narration_shown"]
            .as_str()
            .unwrap()
            .starts_with("Hello from the browser")
    );
    check("width_follows_length", json!(true));
    check(
        "saved_items",
        json!(["image_1.png", "audio_1.mp3", "image_2.png"]),
    );
    assert_eq!(summary["saved_scene2"]["duration"].as_f64(), Some(8.0));
    assert_eq!(summary["saved_scene2"]["text"], "The harbour");
    assert_eq!(summary["saved_scene2"]["transition"]["type"], "crossfade");
    // Nothing lost on reload: timeline, options, conversation.
    let r = &summary["after_reload"];
    assert_eq!(
        (
            r["scenes"].as_u64(),
            r["duration"].as_str(),
            r["title"].as_str()
        ),
        (Some(2), Some("8"), Some("The harbour")),
        "{r}"
    );
    assert_eq!(
        (
            r["transition"].as_str(),
            r["music"].as_str(),
            r["chat"].as_u64()
        ),
        (Some("crossfade"), Some("audio_2.mp3"), Some(2)),
        "{r}"
    );
    // Undo over the saved versions (after the reload), redo; drag and undo it.
    check("undo_title", json!(""));
    check("redo_title", json!("The harbour"));
    check(
        "after_drag",
        json!(["image_2.png", "image_1.png", "audio_1.mp3"]),
    );
    check(
        "after_drag_undo",
        json!(["image_1.png", "audio_1.mp3", "image_2.png"]),
    );
    // Preview is a draft, export the chosen preset; honest progress.
    let total: f64 = summary["total_shown"]
        .as_str()
        .unwrap()
        .trim_end_matches(" s")
        .parse()
        .unwrap();
    let preview = &summary["preview"];
    assert_eq!(
        (preview["width"].as_u64(), preview["height"].as_u64()),
        (Some(960), Some(540))
    );
    assert!(
        (preview["duration"].as_f64().unwrap() - total).abs() < 0.15,
        "{preview} vs {total}"
    );
    assert_eq!(
        (
            summary["export"]["width"].as_u64(),
            summary["export"]["height"].as_u64()
        ),
        (Some(1080), Some(1920))
    );
    assert_eq!(summary["progress_at_end"].as_f64(), Some(1.0));
    let statuses: Vec<&str> = summary["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    // The scene being rendered is named, and never goes backwards (the job's
    // row is read every 250 ms, so a fast scene may pass unseen).
    let scenes: Vec<u32> = statuses
        .iter()
        .filter_map(|s| s.strip_prefix("running · rendering scene "))
        .map(|s| s.split(' ').next().unwrap().parse().unwrap())
        .collect();
    assert!(!scenes.is_empty(), "{statuses:?}");
    assert!(scenes.windows(2).all(|w| w[0] <= w[1]), "{statuses:?}");
    assert!(
        statuses
            .iter()
            .any(|s| s.starts_with("running · rendering scene ") && s.contains(" of 2")),
        "{statuses:?}"
    );
    assert!(
        !statuses
            .iter()
            .any(|s| s.starts_with("queued") && !s.ends_with("0%")),
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .filter(|s| s.contains("100%"))
            .all(|s| s.starts_with("succeeded")),
        "{statuses:?}"
    );
    // Live, not rebuilt: playback and typing are never interrupted.
    let playback = &summary["playback"];
    assert_eq!(
        (&playback["same_element"], &playback["paused"]),
        (&json!(true), &json!(false)),
        "{playback}"
    );
    assert!(playback["advanced"].as_f64().unwrap() > 9.0, "{playback}");
    check("typed_survives", json!("5.5"));
    // Two tabs: a conflict, not a silent overwrite; resolved by loading theirs.
    check("banner_visible_before", json!(false));
    check("conflict_shown", json!(true));
    check("banner_visible_after", json!(false));
    check("server_title_during_conflict", json!("From the other tab"));
    check("title_after_resolve", json!("From the other tab"));
    check("fits_phone", json!(true));
    check("scene_head_one_line", json!(true));
    check("page_errors", json!([]));
    for step in [
        "start", "assets", "timeline", "reloaded", "preview", "exported", "conflict", "phone",
    ] {
        assert!(
            summary["steps"].as_array().unwrap().contains(&json!(step)),
            "{step}"
        );
    }
    s.stop().await;
}

#[tokio::test]
async fn the_page_asks_for_a_key_when_the_server_needs_one() {
    let s = TestServer::start().await;
    let (key, _) = s.studio.store().create_key("browser", false).await.unwrap();
    let summary = run_browser_script("key.mjs", &[&s.base, &key]).await;
    assert_eq!(summary["asked"], true, "{summary}");
    assert!(
        summary["wrong_key_message"]
            .as_str()
            .unwrap()
            .contains("refused"),
        "{summary}"
    );
    assert_eq!(summary["errors_after_key"], json!([]), "{summary}");
    assert!(
        summary["voices_after_key"].as_u64().unwrap() > 0,
        "{summary}"
    );
    assert_eq!(
        summary["image_width"], 1920,
        "the image loads with the key: {summary}"
    );
    assert_eq!(summary["asked_after_reload"], false, "{summary}");
    s.stop().await;
}

/// The editor as a creator new to it found it: a first screen that makes a
/// video from a pasted text, the automatic result in sight and kept in the
/// chat, undo walking back versions after a reload, a warning when a scene
/// cuts its narration, deleting a used picture asked first and explained in
/// scene terms, and nothing to render on an empty timeline
/// (`tests/web/creator.mjs`).
#[tokio::test]
async fn a_creator_new_to_the_editor_finds_their_way() {
    let s = TestServer::start().await;
    let summary = run_browser_script("creator.mjs", &[&s.base]).await;
    let check = |key: &str, expected: Value| {
        assert_eq!(summary[key], expected, "{key} in {summary:#}");
    };
    check("welcome_visible", json!(true));
    check(
        "welcome_line",
        json!("Paste an article or a topic → get a narrated video"),
    );
    check("focused", json!("welcome-text"));
    check("sample_filled", json!(true));
    check("welcome_hidden", json!(true));
    check("result_in_sight", json!(true));
    check("result_area_video", json!("video_1.mp4"));
    check("kept_after_reload", json!(1));
    check("chat_video_after_reload", json!(1));
    check(
        "titles_after_reload",
        json!(["First title", "Second title"]),
    );
    check("titles_after_undo_1", json!(["First title", ""]));
    check("titles_after_undo_2", json!(["", ""]));
    let warning = summary["cut_warning"].as_str().unwrap();
    assert!(
        warning.starts_with("voice-over ") && warning.contains("s will be cut at 1.0 s"),
        "{warning}"
    );
    check("warning_after_fit", json!(0));
    check("duration_after_fit", json!(""));
    assert!(
        summary["confirm_message"]
            .as_str()
            .unwrap()
            .contains("is used in scene 2"),
        "{summary}"
    );
    check("kept_when_dismissed", json!(200));
    assert!(
        summary["missing_card"].as_str().unwrap().starts_with(
            "Scene 2's picture (image_2.png) was deleted — replace it or remove the scene."
        ),
        "{summary}"
    );
    check(
        "preview_error",
        json!("Scene 2's picture was deleted — replace it or remove the scene."),
    );
    check("missing_after_replace", json!(0));
    check("empty_preview_disabled", json!(true));
    check("empty_export_disabled", json!(true));
    check("page_errors", json!([]));
    s.stop().await;
}
