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

/// The transcript panel (issue #22, `tests/web/transcript.mjs`): a scene's
/// voice-over as words; a click plays from a word; Delete on a selected word
/// saves the item's cuts as the server plans them, strikes the word through
/// and shortens the scene; undo and redo walk it back and forth; Delete on a
/// struck word restores it; a shift-click range is cut; "Remove fillers" and
/// "Tighten pauses" keep the words already cut; a voice-over without a
/// transcript is transcribed from the panel; silence says so; the controls
/// fit a phone.
#[tokio::test]
async fn a_creator_cuts_words_from_the_transcript() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let session = "words";
    let api = |path: &str| format!("/api/v1/sessions/{session}{path}");
    for rgb in [[30, 60, 90], [90, 60, 30]] {
        let (status, _) = s
            .upload(session, "p.png", crate::common::png(64, 36, rgb))
            .await;
        assert_eq!(status, 201);
    }
    // A natural voice with a filler and a pause between its sentences.
    let (status, voice) = s
        .post_json(
            &api("/audio"),
            json!({"text": "The lighthouse keeper climbed the stairs every evening to light the lamp. \
                Um, ships passed safely through the narrow channel all winter long.",
                "provider": "hibari", "voice_name": "heart"}),
        )
        .await;
    assert_eq!(status, 201, "{voice}");
    let voice = voice["asset_id"].as_str().unwrap().to_owned();
    let (status, t) = s
        .post_json(&api("/transcripts"), json!({"asset_id": voice}))
        .await;
    assert_eq!(status, 201, "{t}");
    let words = t["words"].as_array().unwrap().clone();
    let bare = |w: &Value| {
        w["text"]
            .as_str()
            .unwrap()
            .trim_matches(|c: char| !c.is_alphanumeric())
            .to_lowercase()
    };
    let target = words
        .iter()
        .position(|w| bare(w) == "winter")
        .unwrap_or_else(|| panic!("'winter' was heard: {t}"));
    // A voice-over without a transcript, and audio without speech.
    let (status, plain) = s
        .post_json(
            &api("/audio"),
            json!({"text": "Hello from the second scene."}),
        )
        .await;
    assert_eq!(status, 201, "{plain}");
    let plain = plain["asset_id"].as_str().unwrap().to_owned();
    let quiet = crate::common::ffmpeg_fixture(
        dir.path(),
        "quiet.wav",
        &["-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "2"],
    );
    let (status, quiet) = s
        .upload(session, "quiet.wav", std::fs::read(quiet).unwrap())
        .await;
    assert_eq!(status, 201, "{quiet}");
    let quiet = quiet["asset_id"].as_str().unwrap().to_owned();
    for _ in 0..600 {
        let (_, asset) = s.get_json(&api(&format!("/assets/{quiet}"))).await;
        if asset["metadata"]["transcript_status"] != "pending" {
            assert_eq!(asset["metadata"]["transcript_status"], "none", "{asset}");
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let timeline = json!({"timeline": [
        {"asset_id": "image_1.png"}, {"asset_id": voice},
        {"asset_id": "image_2.png"}, {"asset_id": plain}, {"asset_id": quiet},
    ]});
    let (status, saved) = s.put_json(&api("/timeline"), timeline).await;
    assert_eq!(status, 200, "{saved}");

    let summary = run_browser_script(
        "transcript.mjs",
        &[&s.base, session, &voice, &target.to_string()],
    )
    .await;
    let check = |key: &str, expected: Value| {
        assert_eq!(summary[key], expected, "{key} in {summary:#}");
    };
    // What the server plans for these words: what the page must save.
    let plan = |params: Value| {
        let path = api(&format!("/transcripts/{voice}/cuts"));
        let s = &s;
        async move {
            let (status, plan) = s.post_json(&path, params).await;
            assert_eq!(status, 200, "{plan}");
            plan
        }
    };
    check(
        "buttons",
        json!([
            ["0", "Transcript"],
            ["1", format!("Transcript · {plain}")],
            ["1", format!("Transcript · {quiet}")]
        ]),
    );
    check("words_shown", json!(words.len()));
    check("word_text", words[target]["text"].clone());
    check("removed_before", json!("nothing cut"));
    // The click played the sound from the word.
    let player = &summary["player"];
    let start = words[target]["start"].as_f64().unwrap();
    let at = player["time"].as_f64().unwrap();
    assert_eq!(
        player["src"],
        json!(format!("/api/v1/sessions/{session}/assets/{voice}/content")),
        "{player}"
    );
    assert!(
        at >= start - 0.05 && at < start + 1.5 && player["paused"] == false,
        "{player}, the word starts at {start}"
    );
    // Delete: the word's cuts saved, the word struck through, the scene shorter.
    let one = plan(json!({"remove_words": [target]})).await;
    check("after_cut", one["cuts"].clone());
    let end = words[target]["end"].as_f64().unwrap();
    assert!(
        one["cuts"].as_array().unwrap().iter().any(|c| {
            c["start"].as_f64().unwrap() <= start && c["end"].as_f64().unwrap() >= end
        }),
        "{one} covers {start}–{end}"
    );
    check("struck_after_cut", json!([target]));
    check(
        "removed_after_cut",
        json!(format!(
            "removed {:.1} s",
            one["removed_seconds"].as_f64().unwrap()
        )),
    );
    let secs = |key: &str| -> f64 {
        summary[key]
            .as_str()
            .unwrap()
            .trim_end_matches(" s")
            .parse()
            .unwrap()
    };
    assert!(
        secs("length_after_cut") < secs("length_before") - 0.1,
        "{summary:#}"
    );
    // Undo, redo, and Delete on the struck word.
    check("after_undo", Value::Null);
    check("struck_after_undo", json!([]));
    check("after_redo", one["cuts"].clone());
    check("struck_after_redo", json!([target]));
    check("after_restore", Value::Null);
    check("struck_after_restore", json!([]));
    // Dragging selects; a shift-click range is cut with the button; then
    // the word again.
    check("dragged", json!([5, 6, 7]));
    check("after_escape", json!(0));
    check("selected_range", json!([1, 2, 3]));
    check(
        "after_range",
        plan(json!({"remove_words": [1, 2, 3]})).await["cuts"].clone(),
    );
    check("struck_after_range", json!([1, 2, 3]));
    check("struck_before_fillers", json!([1, 2, 3, target]));
    // Fillers and pauses keep the words cut before.
    let fillers = plan(json!({"remove_words": [1, 2, 3, target], "remove_fillers": true})).await;
    check("after_fillers", fillers["cuts"].clone());
    check("struck_after_fillers", fillers["removed_words"].clone());
    let pauses = plan(json!({"remove_words": fillers["removed_words"], "max_pause": 0.4})).await;
    assert!(
        pauses["removed_seconds"].as_f64() > fillers["removed_seconds"].as_f64(),
        "the voice has pauses over 0.4 s: {pauses} vs {fillers}"
    );
    check("after_pauses", pauses["cuts"].clone());
    let struck: Vec<u64> = summary["struck_after_pauses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_u64().unwrap())
        .collect();
    for i in fillers["removed_words"].as_array().unwrap() {
        assert!(struck.contains(&i.as_u64().unwrap()), "{summary:#}");
    }
    check(
        "removed_after_pauses",
        json!(format!(
            "removed {:.1} s",
            pauses["removed_seconds"].as_f64().unwrap()
        )),
    );
    check("errors_shown", json!(""));
    // Transcribed from the panel; silence said in plain words.
    assert!(
        summary["before_transcribe"]
            .as_str()
            .unwrap()
            .starts_with("No transcript yet"),
        "{summary:#}"
    );
    assert!(
        summary["while_transcribing"]
            .as_str()
            .unwrap()
            .starts_with("transcribing"),
        "{summary:#}"
    );
    let heard = summary["transcribed_words"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_lowercase())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(heard.contains("second"), "{heard}");
    check("transcribe_hidden_after", json!(true));
    assert!(
        summary["silent_status"]
            .as_str()
            .unwrap()
            .starts_with("No speech heard"),
        "{summary:#}"
    );
    check("silent_words", json!(0));
    check("silent_can_transcribe", json!(false));
    check(
        "phone",
        json!({"short": [], "openers_short": 0, "fits": true}),
    );
    check("page_errors", json!([]));
    s.stop().await;
}

/// The overlay lane (issue #23, `tests/web/overlays.mjs`): "+ Text" adds a
/// lower third; its text and the bottom_right preset are edited in the
/// panel; its bar dragged 2 s later keeps its length, its right edge dragged
/// ends it later, a drag past the end is clamped to the video's length; an
/// end before the start is refused in plain words; a gallery picture added
/// as an overlay is a top-right logo; Undo takes it away in the saved
/// timeline; the saved overlays compose; the lane's controls fit a phone.
#[tokio::test]
async fn a_creator_lays_text_and_a_logo_over_the_scenes() {
    let s = TestServer::start().await;
    let session = "layers";
    let api = |path: &str| format!("/api/v1/sessions/{session}{path}");
    for rgb in [[30, 60, 90], [250, 250, 250]] {
        let (status, _) = s
            .upload(session, "p.png", crate::common::png(64, 36, rgb))
            .await;
        assert_eq!(status, 201);
    }
    // One image scene of 10 s; image_2.png is the logo.
    let timeline = json!({"timeline": [{"asset_id": "image_1.png", "duration": 10}]});
    let (status, saved) = s.put_json(&api("/timeline"), timeline).await;
    assert_eq!(status, 200, "{saved}");

    let summary = run_browser_script("overlays.mjs", &[&s.base, session, "image_2.png"]).await;
    let check = |key: &str, expected: Value| {
        assert_eq!(summary[key], expected, "{key} in {summary:#}");
    };
    check("lane_hidden_before", json!(true));
    check(
        "after_add_text",
        json!([{"text": "Your name", "style": "lower_third", "start": 1, "end": 4}]),
    );
    // The bar sits on the cards' time scale: 1 s in, 3 s long.
    let at = &summary["bar_at"];
    for (got, want) in [("left", "expected_left"), ("width", "expected_width")] {
        assert!(
            (at[got].as_i64().unwrap() - at[want].as_i64().unwrap()).abs() <= 2,
            "{at}"
        );
    }
    check("panel_open", json!(true));
    assert!(
        summary["bar_label"]
            .as_str()
            .unwrap()
            .contains("Ada Lovelace"),
        "{summary:#}"
    );
    check("preset_pressed", json!("true"));
    let text = |start: u32, end: u32| {
        json!({"text": "Ada Lovelace", "style": "lower_third", "position": "bottom_right",
            "start": start, "end": end})
    };
    check("after_move", json!([text(3, 6)]));
    check("start_field", json!("3"));
    check("after_end_drag", json!([text(3, 7)]));
    check("after_clamp", json!([text(6, 10)]));
    check("clamped_left", summary["card_right"].clone());
    check("after_clamp_undo", json!([text(3, 7)]));
    assert!(
        summary["end_error"]
            .as_str()
            .unwrap()
            .starts_with("An overlay must end after it starts (3.0 s)"),
        "{summary:#}"
    );
    check("end_field_after_error", json!("7"));
    check("saved_after_error", json!(true));
    // The logo: top right, 15 % wide, the whole video.
    check(
        "saved",
        json!([text(3, 7), {"asset_id": "image_2.png", "start": 0,
            "position": "top_right", "width": 0.15}]),
    );
    check("bars", json!(2));
    check(
        "logo_thumb",
        json!(format!(
            "/api/v1/sessions/{session}/assets/image_2.png/content"
        )),
    );
    check("logo_panel_width", json!("0.15"));
    // Undo: the logo is gone from the saved timeline.
    check("after_undo", json!([text(3, 7)]));
    check("bars_after_undo", json!(1));
    let phone = &summary["phone"];
    assert_eq!(
        (&phone["short"], &phone["panel_open"], &phone["fits"]),
        (&json!([]), &json!(true), &json!(true)),
        "{phone}"
    );
    assert!(phone["controls"].as_u64().unwrap() >= 15, "{phone}");
    let bar = &summary["phone_bar"];
    assert!(
        (bar["left"].as_i64().unwrap() - bar["expected"].as_i64().unwrap()).abs() <= 2,
        "{bar}"
    );
    check("page_errors", json!([]));

    // The saved timeline with its overlays composes.
    let (status, video) = s.post_json(&api("/compose"), json!({})).await;
    assert_eq!(status, 201, "{video}");
    s.stop().await;
}

/// The brand kit side panel and the stills (issue #23, `tests/web/brand.mjs`):
/// the panel says the kit is the key's default; a font and a logo are
/// uploaded through it, the colours and the top-left corner picked and the
/// kit saved as chosen; a watermark without a logo is refused in plain words
/// next to it; the preview is a PNG still with the logo's red in the chosen
/// corner; a selected overlay shows the still at its start, drawn again
/// after a saved change; an empty session says there is nothing to show; the
/// new controls fit a phone.
#[tokio::test]
async fn a_creator_dresses_the_video_in_a_brand_kit() {
    const BACKGROUND: [u8; 3] = [40, 80, 160];
    let s = TestServer::start().await;
    let session = "branded";
    let api = |path: &str| format!("/api/v1/sessions/{session}{path}");
    let (status, _) = s
        .upload(session, "bg.png", crate::common::png(64, 36, BACKGROUND))
        .await;
    assert_eq!(status, 201);
    // One image scene of 10 s with a lower third from 1 s to 4 s.
    let timeline = json!({"timeline": [{"asset_id": "image_1.png", "duration": 10}],
        "overlays": [{"text": "Ada Lovelace", "style": "lower_third", "start": 1, "end": 4}]});
    let (status, saved) = s.put_json(&api("/timeline"), timeline).await;
    assert_eq!(status, 200, "{saved}");
    // The key's default kit: a magenta accent.
    let (status, default) = s
        .put_json("/api/v1/brand", json!({"colors": {"accent": "#ff00ff"}}))
        .await;
    assert_eq!(status, 200, "{default}");
    let dir = tempfile::tempdir().unwrap();
    let logo = crate::common::write_file(
        dir.path(),
        "logo.png",
        &crate::common::png(64, 64, [255, 0, 0]),
    );
    let font = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf";

    let summary = run_browser_script(
        "brand.mjs",
        &[&s.base, session, logo.to_str().unwrap(), font],
    )
    .await;
    let check = |key: &str, expected: Value| {
        assert_eq!(summary[key], expected, "{key} in {summary:#}");
    };
    let says = |key: &str, start: &str| {
        let got = summary[key].as_str().unwrap_or_default();
        assert!(got.starts_with(start), "{key}: {got:?} in {summary:#}");
    };
    let close = |got: &Value, want: [u8; 3], tolerance: i64| {
        got.as_array()
            .unwrap()
            .iter()
            .zip(want)
            .all(|(g, w)| (g.as_i64().unwrap() - i64::from(w)).abs() <= tolerance)
    };
    check("panel_hidden_before", json!(true));
    // The key's default kit, said so.
    check("source_before", json!("default"));
    says("source_text", "From your key's default kit");
    check("accent_before", json!("#ff00ff"));
    check("text_colour_note", json!("studio's (white)"));
    // The font: chosen, and shown by its family in the panel and the gallery.
    check("font_sample", json!("Aa — DejaVu Sans Mono"));
    check("font_card", json!("Aa — DejaVu Sans Mono"));
    check("font_card_face", json!(true));
    // A watermark without a logo: refused by the server, said in plain words.
    check("refused_field", json!("watermark"));
    says(
        "watermark_error",
        "The watermark shows your logo: choose a logo above first",
    );
    check("status_after_error", json!("not saved"));
    check("source_after_error", json!("default"));
    // The logo, colours and corner: saved as chosen.
    check(
        "logo_thumb",
        json!(format!(
            "/api/v1/sessions/{session}/assets/image_2.png/content"
        )),
    );
    check("corner_pressed", json!("true"));
    check("dirty_status", json!("changes not saved yet"));
    let kit = json!({
        "logo": "image_2.png", "font": "font_1.ttf",
        "colors": {"text": "#ffff00", "accent": "#00ffff", "background": "#101020"}
    });
    let (_, saved) = s.get_json(&api("/brand")).await;
    for got in [&summary["saved_kit"], &saved] {
        assert_eq!(got["source"], "session", "{got}");
        for field in ["logo", "font", "colors"] {
            assert_eq!(got[field], kit[field], "{field} of {got}");
        }
        let mark = &got["watermark"];
        assert_eq!(
            (
                mark["position"].as_str(),
                mark["width"].as_f64(),
                mark["opacity"].as_f64()
            ),
            (Some("top_left"), Some(0.2), Some(1.0)),
            "{got}"
        );
    }
    check("source_after", json!("session"));
    says("source_text_after", "This session's own kit");
    check("errors_after_save", json!(""));
    // The preview: a PNG at the draft size, the middle of the video, the
    // logo's red in the top-left corner, the picture in the opposite one.
    let preview = &summary["preview"];
    assert_eq!(
        (
            &preview["png"],
            &preview["width"],
            &preview["height"],
            &preview["shown"],
            &preview["t"]
        ),
        (
            &json!(true),
            &json!(960),
            &json!(540),
            &json!(true),
            &json!("5.00")
        ),
        "{preview}"
    );
    assert!(
        close(&preview["colours"]["logo"], [255, 0, 0], 30),
        "{preview}"
    );
    assert!(
        close(&preview["colours"]["opposite"], BACKGROUND, 30),
        "{preview}"
    );
    check("preview_again", json!("5.00"));
    check("panel_hidden_after_close", json!(true));
    // The selected overlay's still at its start: its band at the bottom left
    // in the kit's background, the logo too.
    let still = &summary["overlay_still"];
    assert_eq!(
        (&still["png"], &still["t"], &still["shown"]),
        (&json!(true), &json!("1.10"), &json!(true)),
        "{still}"
    );
    assert!(
        still["caption"]
            .as_str()
            .unwrap()
            .starts_with("Overlay 1 (“Ada Lovelace”)"),
        "{still}"
    );
    assert!(close(&still["colours"]["logo"], [255, 0, 0], 30), "{still}");
    assert!(
        !close(&still["colours"]["bottom_left"], BACKGROUND, 30),
        "{still}"
    );
    assert!(
        close(&still["colours"]["top_right"], BACKGROUND, 30),
        "{still}"
    );
    // Saved changes draw it again: at the new start, then at the top right.
    check("overlay_still_moved", json!("2.10"));
    let moved = &summary["overlay_still_top_right"];
    assert_eq!(moved["t"], "2.10", "{moved}");
    assert!(
        close(&moved["colours"]["bottom_left"], BACKGROUND, 30),
        "{moved}"
    );
    assert!(
        !close(&moved["colours"]["top_right"], BACKGROUND, 30),
        "{moved}"
    );
    check("still_after_deselect", json!(0));
    // The saved overlay moved as the still shows.
    let (_, saved) = s.get_json(&api("/timeline")).await;
    assert_eq!(saved["overlays"][0]["start"].as_f64(), Some(2.0), "{saved}");
    assert_eq!(saved["overlays"][0]["position"], "top_right", "{saved}");
    // The same still over HTTP: the logo's red in its corner.
    let png = s.get(&api("/frame?t=5")).await.bytes().await.unwrap();
    let frame = image::load_from_memory(&png).unwrap().to_rgb8();
    assert_eq!(frame.dimensions(), (960, 540));
    let px = frame.get_pixel(29 + 96, 29 + 96).0;
    assert!(close(&json!(px), [255, 0, 0], 30), "{px:?}");
    // On a phone: every new control big enough to tap, nothing wider than the screen.
    let phone = &summary["phone"];
    assert_eq!(
        (&phone["short"], &phone["fits"], &phone["panel_width"]),
        (&json!([]), &json!(true), &json!(390)),
        "{phone}"
    );
    assert!(phone["controls"].as_u64().unwrap() >= 20, "{phone}");
    // Nothing to show yet, in plain words.
    says("nothing_yet", "Nothing to show yet");
    check("nothing_image_hidden", json!(true));
    check("page_errors", json!([]));
    s.stop().await;
}

/// The template panel (issue #24, `tests/web/template.mjs`): an empty
/// timeline is refused in plain words; a timeline with `{{city}}` in its
/// title is saved as a template whose field becomes an input and the CSV's
/// header; one row renders into a video shown in the panel; a row without
/// its value is named; three CSV rows render as a batch followed to three
/// videos in the session; the panel fits a phone.
#[tokio::test]
async fn a_creator_makes_a_video_per_city_from_a_template() {
    let s = TestServer::start().await;
    let (session, empty) = ("city-card", "nothing-yet");
    let (status, _) = s
        .upload(session, "bg.png", crate::common::png(64, 36, [40, 80, 160]))
        .await;
    assert_eq!(status, 201);
    let (status, _) = s
        .upload(empty, "bg.png", crate::common::png(64, 36, [40, 80, 160]))
        .await;
    assert_eq!(status, 201);
    let timeline = json!({"timeline": [{"asset_id": "image_1.png", "duration": 1.5, "text": "Hello {{city}}"}],
        "output": {"width": 320, "height": 176, "fps": 10}});
    let (status, saved) = s
        .put_json(&format!("/api/v1/sessions/{session}/timeline"), timeline)
        .await;
    assert_eq!(status, 200, "{saved}");
    // The picture is the session's: the panel renders rows in it.
    let summary = run_browser_script("template.mjs", &[&s.base, session, empty]).await;
    let check = |key: &str, expected: Value| {
        assert_eq!(summary[key], expected, "{key} in {summary:#}");
    };
    check("panel_hidden_before", json!(true));
    check(
        "empty_error",
        json!("The timeline is empty: add scenes first, then save it as a template."),
    );
    assert!(
        summary["saved_about"]
            .as_str()
            .unwrap()
            .starts_with("Saved “City card”. Its fields: city."),
        "{summary:#}"
    );
    check("template_option", json!("City card"));
    check("field_inputs", json!(["city"]));
    check("csv_header", json!("city\n"));
    check("row_status", json!("done"));
    let length = summary["row_video"].as_f64().unwrap();
    assert!((length - 1.5).abs() < 0.3, "{summary:#}");
    assert!(
        summary["batch_error"]
            .as_str()
            .unwrap()
            .starts_with("Row 2: city"),
        "{summary:#}"
    );
    check("cancel_shown_while_running", json!(true));
    check("batch_status", json!("Finished: 3 of 3 made."));
    check(
        "batch_rows",
        json!([
            {"label": "Oslo", "status": "succeeded", "video": true},
            {"label": "Rome", "status": "succeeded", "video": true},
            {"label": "Vienna", "status": "succeeded", "video": true}
        ]),
    );
    check("batch_progress", json!(1));
    check("cancel_hidden_after", json!(true));
    check("phone_small", json!([]));
    check("page_errors", json!([]));
    let (_, listed) = s.get_json("/api/v1/templates").await;
    assert_eq!(listed["templates"][0]["name"], "City card");
    // The four videos (one row, three of the batch) are the session's.
    assert_eq!(s.count_assets(session, "video").await, 4);
    s.stop().await;
}

/// The editor tidied (issue #26, items 8, 9 and 12; `tests/web/tidy.mjs`).
#[tokio::test]
async fn the_gallery_is_tidy_and_the_phone_can_be_tapped() {
    use reqwest::multipart::{Form, Part};
    let s = TestServer::start().await;
    let session = "tidy";
    let api = |path: &str| format!("/api/v1/sessions/{session}{path}");
    let colours = [
        [200, 40, 40],
        [40, 200, 40],
        [40, 40, 200],
        [200, 200, 40],
        [40, 200, 200],
        [200, 40, 200],
    ];
    for (i, rgb) in colours.iter().enumerate() {
        let name = if i == 0 {
            "my-coffee-photo.png".to_owned()
        } else {
            format!("p{i}.png")
        };
        let (status, _) = s
            .upload(session, &name, crate::common::png(64, 36, *rgb))
            .await;
        assert_eq!(status, 201);
    }
    let dir = tempfile::tempdir().unwrap();
    let hum = crate::common::tone_mp3(dir.path(), "hum.mp3", 1.0);
    let form = Form::new()
        .part(
            "file",
            Part::bytes(std::fs::read(&hum).unwrap()).file_name("hum.mp3"),
        )
        .text("role", "music");
    let (status, music) = s.upload_form(session, form).await;
    assert_eq!(status, 201, "{music}");
    let (status, voice) = s
        .post_json(&api("/audio"), json!({"text": "Hello there."}))
        .await;
    assert_eq!(status, 201, "{voice}");
    // Six scenes; a crossfade into the second.
    let mut timeline: Vec<Value> = (1..=6)
        .map(|i| json!({"asset_id": format!("image_{i}.png"), "duration": 1}))
        .collect();
    timeline[1]["transition"] = json!({"type": "crossfade", "duration": 0.5});
    timeline.insert(1, json!({"asset_id": voice["name"]}));
    let (status, saved) = s
        .put_json(
            &api("/timeline"),
            json!({"timeline": timeline, "captions": true}),
        )
        .await;
    assert_eq!(status, 200, "{saved}");
    // Two renders: a preview, then a vertical draft.
    let small = json!({"width": 320, "height": 176, "fps": 10});
    let (status, first) = s
        .post_json(&api("/compose"), json!({"output": small}))
        .await;
    assert_eq!(status, 201, "{first}");
    let (status, second) = s
        .post_json(
            &api("/compose"),
            json!({"output": {"aspect_ratio": "9:16", "quality": "draft", "fps": 10}}),
        )
        .await;
    assert_eq!(status, 201, "{second}");

    let summary = run_browser_script("tidy.mjs", &[&s.base, session]).await;
    let check = |key: &str, expected: Value| {
        assert_eq!(summary[key], expected, "{key} in {summary:#}");
    };
    // Before the render: no pace yet; then 0.05 in 10 s leaves 0.2: 40 s.
    check(
        "estimates",
        json!([
            "estimating…",
            "estimating…",
            "about 40 s left",
            "almost done"
        ]),
    );
    check("upload_name", json!("my-coffee-photo.png"));
    // Renders are not in the gallery, subtitles neither.
    check("gallery_kinds", json!(["audio", "image"]));
    let renders = summary["renders"].as_array().unwrap();
    assert_eq!(renders.len(), 2, "{summary:#}");
    assert_eq!(
        renders[0]["asset"], second["name"],
        "newest first: {summary:#}"
    );
    let meta = renders[0]["meta"].as_str().unwrap();
    assert!(
        meta.contains("9:16") && meta.contains("version 1") && meta.contains("draft"),
        "{meta}"
    );
    assert!(
        renders[1]["meta"].as_str().unwrap().starts_with("320×176"),
        "{summary:#}"
    );
    assert_eq!(renders[0]["subtitles"], true, "{summary:#}");
    // Music: none, or the music upload; not the voice-over.
    check("music_options", json!(["none", "hum.mp3 (music)"]));
    check("poster_time", json!(0.5));
    check("play_from", json!(true));
    // The crossfade stays at the second cut; the first scene has none.
    let moved = &summary["after_move"];
    assert_eq!(moved[0], json!(["image_2.png", null]), "{summary:#}");
    assert_eq!(moved[1], json!(["image_1.png", "crossfade"]), "{summary:#}");
    // "make it vertical": its size said, the preset switched, the cards cropped.
    check("thumb_before", json!(1.78));
    let reply = summary["vertical_reply"].as_str().unwrap();
    assert!(reply.contains("1080×1920"), "{reply}");
    check("preset_after_chat", json!("9:16"));
    check("thumb_vertical", json!(0.56));
    check("editor_before_gallery", json!(true));
    check("gallery_folded", json!(true));
    check("fold_button", json!("Show"));
    check("small_controls", json!([]));
    check("gallery_shown_after_tap", json!(true));
    check("strip_overflows", json!(true));
    check("strip_scrolled", json!(true));
    check("page_errors", json!([]));
    s.stop().await;
}
