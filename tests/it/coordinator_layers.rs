//! The coordinator edits the saved timeline's layers from plain requests:
//! "put my logo in the corner" (the brand kit's logo, moved rather than
//! doubled), a picture named into a corner, a lower third and a title (and
//! a question back when the name is not given), "make clip 2 twice as fast"
//! (the timeline's second clip item, not `video_2`); then the render shows
//! the logo in its corner and the sped-up clip for half its length.

use crate::common::{self, TestServer};
use serde_json::{Value, json};

const BACKGROUND: [u8; 3] = [40, 80, 160];
const LOGO: [u8; 3] = [255, 0, 0];
const BADGE: [u8; 3] = [255, 255, 0];
const GREEN: [u8; 3] = [32, 192, 64];
const GREY: [u8; 3] = [128, 128, 128];

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

async fn saved(s: &TestServer, session: &str) -> Value {
    let (status, saved) = s
        .get_json(&format!("/api/v1/sessions/{session}/timeline"))
        .await;
    assert_eq!(status, 200, "{saved}");
    saved
}

fn close(got: [f64; 3], want: [u8; 3], tolerance: f64) -> bool {
    got.iter()
        .zip(want)
        .all(|(g, w)| (g - f64::from(w)).abs() <= tolerance)
}

/// A two-second clip of one colour, 320×180 at 10 fps.
fn clip(dir: &std::path::Path, name: &str, colour: &str) -> Vec<u8> {
    let path = common::ffmpeg_fixture(
        dir,
        name,
        &[
            "-f",
            "lavfi",
            "-i",
            &format!("color=c={colour}:s=320x180:r=10:d=2"),
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
        ],
    );
    std::fs::read(path).unwrap()
}

#[tokio::test]
async fn the_coordinator_puts_a_logo_captions_and_speeds_on_the_saved_timeline() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    const AT: &str = "layered";
    // The logo first: the newest uploaded picture is not the logo, so only
    // the brand kit can name it.
    for (name, bytes) in [
        ("logo.png", common::png(64, 32, LOGO)),
        ("bg.png", common::png(320, 180, BACKGROUND)),
        ("badge.png", common::png(32, 32, BADGE)),
        ("green.mp4", clip(dir.path(), "green.mp4", "0x20c040")),
        ("grey.mp4", clip(dir.path(), "grey.mp4", "0x808080")),
    ] {
        let (status, up) = s.upload(AT, name, bytes).await;
        assert_eq!(status, 201, "{name}: {up}");
    }
    let (status, kit) = s
        .put_json(
            &format!("/api/v1/sessions/{AT}/brand"),
            json!({"logo": "image_1.png"}),
        )
        .await;
    assert_eq!(status, 200, "{kit}");
    // The picture, then video_2 (clip 1), then video_1 (clip 2).
    let (status, put) = s
        .put_json(
            &format!("/api/v1/sessions/{AT}/timeline"),
            json!({
                "timeline": [
                    {"asset_id": "image_2.png", "duration": 2},
                    {"asset_id": "video_2.mp4"},
                    {"asset_id": "video_1.mp4"}
                ],
                "output": {"width": 320, "height": 180, "fps": 10}
            }),
        )
        .await;
    assert_eq!(status, 200, "{put}");

    let logo = ask(&s, AT, "put my logo in the corner").await;
    assert_eq!(logo["tool"], "add_logo", "{logo}");
    assert_eq!(logo["result"]["source"], "brand", "{logo}");
    assert!(
        logo["reply"]
            .as_str()
            .unwrap()
            .contains("image_1.png in the top right corner"),
        "{logo}"
    );
    let t = saved(&s, AT).await;
    assert_eq!(
        t["overlays"],
        json!([{"asset_id": "image_1.png", "position": "top_right", "width": 0.12}]),
        "{t}"
    );

    let moved = ask(&s, AT, "add my logo top left").await;
    assert_eq!(moved["tool"], "add_logo", "{moved}");
    assert_eq!(moved["result"]["moved"], true, "{moved}");
    let again = ask(&s, AT, "watermark the video with my logo").await;
    assert_eq!(again["tool"], "add_logo", "{again}");
    let t = saved(&s, AT).await;
    assert_eq!(
        t["overlays"],
        json!([{"asset_id": "image_1.png", "position": "top_left", "width": 0.12}]),
        "moved, not doubled, and left in its corner: {t}"
    );

    let badge = ask(&s, AT, "put image 3 in the bottom right corner").await;
    assert_eq!(badge["tool"], "add_logo", "{badge}");
    let t = saved(&s, AT).await;
    assert_eq!(
        t["overlays"][1],
        json!({"asset_id": "image_3.png", "position": "bottom_right", "width": 0.12}),
        "{t}"
    );

    // No name given: a question, and nothing saved.
    let version = t["version"].clone();
    let nameless = ask(
        &s,
        AT,
        "add a caption with my name under me from 2 to 5 seconds",
    )
    .await;
    assert_eq!(nameless["tool"], "add_text_overlay", "{nameless}");
    assert_eq!(nameless["result"]["done"], false, "{nameless}");
    assert!(
        nameless["reply"]
            .as_str()
            .unwrap()
            .starts_with("What name should the caption show?"),
        "{nameless}"
    );
    let t = saved(&s, AT).await;
    assert_eq!(t["version"], version);
    assert_eq!(t["overlays"].as_array().unwrap().len(), 2);

    let third = ask(
        &s,
        AT,
        "add a lower third saying Ada Lovelace, Mathematician from 2 to 5 s",
    )
    .await;
    assert_eq!(third["tool"], "add_text_overlay", "{third}");
    let title = ask(&s, AT, "put the title 'Big news' at the start").await;
    assert_eq!(title["tool"], "add_text_overlay", "{title}");
    let t = saved(&s, AT).await;
    let o = &t["overlays"];
    assert_eq!(
        (
            &o[2]["text"],
            &o[2]["subtitle"],
            &o[2]["style"],
            o[2]["start"].as_f64(),
            o[2]["end"].as_f64()
        ),
        (
            &json!("Ada Lovelace"),
            &json!("Mathematician"),
            &json!("lower_third"),
            Some(2.0),
            Some(5.0)
        ),
        "{t}"
    );
    assert_eq!(
        (
            &o[3]["text"],
            &o[3]["style"],
            o[3]["start"].as_f64(),
            o[3]["end"].as_f64()
        ),
        (&json!("Big news"), &json!("title"), Some(0.0), Some(4.0)),
        "{t}"
    );

    // "clip 2" is the second clip item (video_1.mp4), not video_2.
    let fast = ask(&s, AT, "make clip 2 twice as fast").await;
    assert_eq!(fast["tool"], "set_clip_speed", "{fast}");
    assert_eq!(fast["arguments"], json!({"clip": 2, "speed": 2}), "{fast}");
    let r = &fast["result"];
    assert_eq!(r["asset_id"], "video_1.mp4", "{fast}");
    assert!(
        (r["seconds_before"].as_f64().unwrap() - 6.0).abs() < 0.05
            && (r["seconds_after"].as_f64().unwrap() - 5.0).abs() < 0.05,
        "the 2 s clip now lasts 1 s: {fast}"
    );
    let faster = ask(&s, AT, "speed up video 2 by 1.5x").await;
    assert_eq!(faster["tool"], "set_clip_speed", "{faster}");
    let t = saved(&s, AT).await;
    let items = &t["timeline"];
    assert_eq!(items[2]["speed"].as_f64(), Some(2.0), "{t}");
    assert_eq!(items[1]["speed"].as_f64(), Some(1.5), "{t}");
    assert!(items[0]["speed"].is_null(), "{t}");

    // The render: 2 s picture, video_2 at 1.5× (1.33 s), video_1 at 2× (1 s).
    let video = ask(&s, AT, "make the video").await;
    assert_eq!(video["tool"], "compose_video", "{video}");
    let out = common::write_file(dir.path(), "out.mp4", &s.download(&video["result"]).await);
    let length = common::duration_of(&out);
    assert!((length - 4.33).abs() < 0.15, "{length} s");
    // Away from the overlays: the picture, then the grey clip, then the
    // green one for its last second only.
    let side = "40:30:260:60";
    for (t, want) in [
        (1.0, BACKGROUND),
        (2.5, GREY),
        (3.1, GREY),
        (3.5, GREEN),
        (4.2, GREEN),
    ] {
        let got = common::mean_colour_of_region(&out, t, side);
        assert!(close(got, want, 30.0), "at {t} s: {got:?}, want {want:?}");
    }
    // The logo in the top left corner all along (the 38×19 px picture,
    // 10 px in); the top right corner never red; the badge bottom right.
    for t in [0.3, 2.5, 3.6, 4.2] {
        let corner = common::mean_colour_of_region(&out, t, "20:8:18:15");
        assert!(close(corner, LOGO, 40.0), "logo at {t} s: {corner:?}");
        let other = common::mean_colour_of_region(&out, t, "20:8:282:15");
        assert!(!close(other, LOGO, 80.0), "top right at {t} s: {other:?}");
        let badge = common::mean_colour_of_region(&out, t, "20:20:281:141");
        assert!(close(badge, BADGE, 40.0), "badge at {t} s: {badge:?}");
    }
    s.stop().await;
}

/// What the layer tools cannot do they answer in words, saving nothing: no
/// picture to use as a logo (a key's default kit names another session's),
/// a clip the timeline does not have, no timeline at all.
#[tokio::test]
async fn the_coordinator_says_plainly_what_it_cannot_layer() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (status, up) = s
        .upload("home", "logo.png", common::png(64, 32, LOGO))
        .await;
    assert_eq!(status, 201, "{up}");
    let (status, kit) = s
        .put_json(
            "/api/v1/brand",
            json!({"session_id": "home", "logo": "image_1.png"}),
        )
        .await;
    assert_eq!(status, 200, "{kit}");
    let (status, up) = s
        .upload(
            "bare",
            "green.mp4",
            clip(dir.path(), "green.mp4", "0x20c040"),
        )
        .await;
    assert_eq!(status, 201, "{up}");

    // Nothing saved yet.
    let none = ask(&s, "bare", "put my logo in the corner").await;
    assert_eq!(none["tool"], "add_logo", "{none}");
    assert_eq!(none["result"]["done"], false, "{none}");

    let (status, put) = s
        .put_json(
            "/api/v1/sessions/bare/timeline",
            json!({"timeline": [{"asset_id": "video_1.mp4"}]}),
        )
        .await;
    assert_eq!(status, 200, "{put}");
    let version = put["version"].clone();
    let logo = ask(&s, "bare", "put my logo in the corner").await;
    assert_eq!(logo["result"]["reason"], "no_logo", "{logo}");
    assert!(
        logo["reply"]
            .as_str()
            .unwrap()
            .starts_with("There is no logo to use"),
        "{logo}"
    );
    let fast = ask(&s, "bare", "make clip 2 twice as fast").await;
    assert_eq!(fast["tool"], "set_clip_speed", "{fast}");
    assert_eq!(
        fast["reply"], "The timeline has one clip; there is no clip 2.",
        "{fast}"
    );
    let wild = ask(&s, "bare", "speed up clip 1 by 10x").await;
    assert_eq!(wild["result"]["reason"], "speed", "{wild}");
    assert_eq!(saved(&s, "bare").await["version"], version);

    // "the clip" with one clip is that one.
    let slow = ask(&s, "bare", "slow the clip down to half speed").await;
    assert_eq!(slow["result"]["done"], true, "{slow}");
    assert_eq!(
        saved(&s, "bare").await["timeline"][0]["speed"].as_f64(),
        Some(0.5)
    );

    let empty = ask(&s, "nothing", "add a title saying Hello").await;
    assert_eq!(empty["tool"], "add_text_overlay", "{empty}");
    assert_eq!(empty["result"]["reason"], "no_timeline", "{empty}");
    assert!(
        empty["reply"]
            .as_str()
            .unwrap()
            .contains("make a video first"),
        "{empty}"
    );
    s.stop().await;
}
