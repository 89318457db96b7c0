//! The web studio in a real browser: headless Chromium driven by Playwright
//! (`tests/web/e2e.mjs`; `scripts/setup.sh --test` installs both) against
//! the real server. Screenshots of the main states are kept in
//! `target/web-screenshots/`.

mod common;

use common::TestServer;
use serde_json::Value;

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

#[tokio::test]
async fn a_person_makes_a_video_in_the_browser() {
    let web = std::path::Path::new("tests/web");
    assert!(
        web.join("node_modules/playwright-core").exists()
            && std::path::Path::new("/usr/bin/chromium").exists(),
        "the browser test needs Chromium and playwright-core: run bash scripts/setup.sh --test"
    );
    let s = TestServer::start().await;
    let shots = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/web-screenshots");
    let base = s.base.clone();
    let out = tokio::process::Command::new("node")
        .arg(web.join("e2e.mjs"))
        .arg(&base)
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
    let summary: Value = serde_json::from_str(stdout.trim().lines().last().unwrap()).unwrap();
    assert_eq!(
        summary["url_has_session"], true,
        "the session id is in the URL: {summary}"
    );
    assert!(
        summary["form_error"].as_str().unwrap().contains("prompt"),
        "{summary}"
    );
    assert_eq!(summary["timeline_items"], 2);
    let expected = summary["expected_duration"].as_f64().unwrap();
    assert_eq!(
        summary["total_shown"],
        format!("{expected:.1} s"),
        "the page shows the timeline's length"
    );
    assert_eq!(summary["progress_at_end"], 1.0);
    let loaded = summary["video_duration"].as_f64().unwrap();
    assert!(
        (loaded - expected).abs() < 0.15,
        "the video element loads with the voice-over's length: {loaded} vs {expected}"
    );
    assert_eq!(
        summary["fits_phone"], true,
        "no sideways scrolling at phone width"
    );
    assert_eq!(summary["page_errors"], serde_json::json!([]));
    for shot in [
        "1-start.png",
        "2-assets.png",
        "3-composed.png",
        "4-phone.png",
    ] {
        assert!(shots.join(shot).exists(), "{shot}");
    }
    s.stop().await;
}
