//! The brand kit: an uploaded font, a logo and colours that every render
//! wears — the watermark in its corner (gone with `"brand": false`), the
//! lower third's band and bar in the kit's colours, titles in the kit's
//! font and text colour — and a key's default kit for sessions without one.

use crate::common;

use crate::common::TestServer;
use serde_json::{Value, json};

const BACKGROUND: [u8; 3] = [40, 80, 160];
const MONO: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf";

fn close(got: [f64; 3], want: [u8; 3], tolerance: f64) -> bool {
    got.iter()
        .zip(want)
        .all(|(g, w)| (g - f64::from(w)).abs() <= tolerance)
}

async fn render(s: &TestServer, session: &str, extra: Value) -> std::path::PathBuf {
    let mut body = json!({
        "timeline": [{"asset_id": "image_1.png", "duration": 2, "text": "iiiiiiii"}],
        "output": {"width": 320, "height": 180, "fps": 10},
        "overlays": [{"text": "Ada Lovelace", "start": 0.5, "end": 2, "size": 0.1}]
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (status, video) = s
        .post_json(&format!("/api/v1/sessions/{session}/compose"), body)
        .await;
    assert_eq!(status, 201, "{video}");
    let dir = tempfile::tempdir().unwrap().keep();
    common::write_file(&dir, "out.mp4", &s.download(&video).await)
}

/// The columns of the title's band (the top fifth) with text in them: its
/// first and last, and the mean colour of its brightest pixels.
fn title_extent(video: &std::path::Path) -> (usize, usize, [f64; 3]) {
    let rgb = common::frame_rgb(video, 1.0, "crop=320:40:0:8");
    let (mut first, mut last, mut sum, mut n) = (usize::MAX, 0, [0.0; 3], 0.0);
    for (i, px) in rgb.chunks(3).enumerate() {
        let x = i % 320;
        // Text: bright red and green, well above the blue background.
        if px[0] > 170 && px[1] > 170 {
            first = first.min(x);
            last = last.max(x);
            for k in 0..3 {
                sum[k] += f64::from(px[k]);
            }
            n += 1.0;
        }
    }
    assert!(n > 0.0, "no title drawn");
    (first, last, sum.map(|v| v / n))
}

#[tokio::test]
async fn a_brand_kit_dresses_every_render_unless_told_not_to() {
    let s = TestServer::start().await;
    for (name, png) in [
        ("bg.png", common::png(320, 180, BACKGROUND)),
        ("logo.png", common::png(64, 64, [255, 0, 0])),
    ] {
        let (status, up) = s.upload("brand", name, png).await;
        assert_eq!(status, 201, "{up}");
    }
    // A font is an asset of its own kind, parsed before it is kept.
    let mono = std::fs::read(MONO).expect("fonts-dejavu-core is installed by setup");
    let (status, font) = s.upload("brand", "My Font.ttf", mono.clone()).await;
    assert_eq!(status, 201, "{font}");
    assert_eq!(font["type"], "font");
    assert_eq!(font["name"], "font_1.ttf");
    assert_eq!(font["metadata"]["family"], "DejaVu Sans Mono");
    let mut broken = mono[..2048].to_vec();
    broken.extend(std::iter::repeat_n(0x5a, 4096));
    let (status, err) = s.upload("brand", "broken.ttf", broken).await;
    assert_eq!(status, 415, "{err}");

    // Mistakes are named.
    for (kit, field) in [
        (json!({"logo": "image_9.png"}), "logo"),
        (json!({"font": "image_1.png"}), "font"),
        (json!({"colors": {"accent": "yellow"}}), "colors.accent"),
        (json!({"watermark": {"width": 0.1}}), "watermark"),
        (
            json!({"logo": "image_2.png", "watermark": {"position": "middle"}}),
            "watermark.position",
        ),
        (json!({"logo": "image_2.png", "typo": 1}), "typo"),
    ] {
        let (status, err) = s.put_json("/api/v1/sessions/brand/brand", kit).await;
        assert_eq!(status, 422, "{err}");
        assert_eq!(err["error"]["field"], field, "{err}");
    }
    let (_, none) = s.get_json("/api/v1/sessions/brand/brand").await;
    assert_eq!(none["source"], "none", "{none}");

    let kit = json!({
        "logo": "image_2.png", "font": "font_1.ttf",
        "colors": {"text": "#ffff00", "accent": "#00ffff", "background": "#101020"},
        "watermark": {"position": "bottom_right", "width": 0.15, "opacity": 1.0}
    });
    let (status, saved) = s
        .put_json("/api/v1/sessions/brand/brand", kit.clone())
        .await;
    assert_eq!(status, 200, "{saved}");
    let (_, got) = s.get_json("/api/v1/sessions/brand/brand").await;
    assert_eq!(got["source"], "session");
    for field in ["logo", "font", "colors", "watermark"] {
        assert_eq!(got[field], kit[field], "{got}");
    }

    let branded = render(&s, "brand", json!({})).await;
    let plain = render(&s, "brand", json!({"brand": false})).await;
    // The watermark: 48 px square, 10 px in from the bottom right, red for
    // the whole video; with "brand": false, the background.
    for t in [0.1, 1.9] {
        let mark = common::mean_colour_of_region(&branded, t, "30:30:270:130");
        assert!(close(mark, [255, 0, 0], 40.0), "watermark at {t}: {mark:?}");
        let bare = common::mean_colour_of_region(&plain, t, "30:30:270:130");
        assert!(
            close(bare, BACKGROUND, 25.0),
            "no watermark at {t}: {bare:?}"
        );
    }
    // The lower third: the kit's band (#101020 at 85 %) and accent bar.
    let band = common::mean_colour_of_region(&branded, 1.0, "100:4:40:163");
    assert!(close(band, [20, 26, 51], 18.0), "band: {band:?}");
    let bar = common::mean_colour_of_region(&branded, 1.0, "2:20:10:130");
    assert!(close(bar, [0, 255, 255], 60.0), "bar: {bar:?}");
    let bar = common::mean_colour_of_region(&plain, 1.0, "2:20:10:130");
    assert!(close(bar, [255, 204, 0], 60.0), "the studio's bar: {bar:?}");
    // The title: in the kit's font (monospaced i's are wider) and yellow.
    let (first, last, colour) = title_extent(&branded);
    let (plain_first, plain_last, plain_colour) = title_extent(&plain);
    assert!(
        last - first > plain_last - plain_first + 10,
        "the kit's font: {first}..{last}; the studio's: {plain_first}..{plain_last}"
    );
    // Thin strokes over blue: yellow shows as far less blue than white.
    assert!(
        colour[2] + 60.0 < plain_colour[2],
        "a yellow title: {colour:?}; the studio's white: {plain_colour:?}"
    );
}

#[tokio::test]
async fn a_default_kit_applies_to_sessions_without_their_own() {
    let s = TestServer::start().await;
    let (status, err) = s
        .put_json("/api/v1/brand", json!({"logo": "image_1.png"}))
        .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["field"], "session_id");

    // A kit may be the first thing a session gets.
    let (status, first) = s
        .put_json(
            "/api/v1/sessions/brand-new/brand",
            json!({"colors": {"accent": "#00ff00"}}),
        )
        .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["source"], "session");

    let (status, up) = s
        .upload("home", "logo.png", common::png(64, 64, [255, 0, 0]))
        .await;
    assert_eq!(status, 201, "{up}");
    let (status, saved) = s
        .put_json(
            "/api/v1/brand",
            json!({"session_id": "home", "logo": "image_1.png", "watermark": {"opacity": 1},
                   "colors": {"text": "#ff00ff"}}),
        )
        .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(s.get_json("/api/v1/brand").await.1["source"], "default");

    // A new session wears it: its watermark drawn from the home session's logo.
    let (_, got) = s.get_json("/api/v1/sessions/fresh/brand").await;
    assert_eq!(got["source"], "default", "{got}");
    assert_eq!(got["colors"]["text"], "#ff00ff");
    let (status, up) = s
        .upload("fresh", "bg.png", common::png(320, 180, BACKGROUND))
        .await;
    assert_eq!(status, 201, "{up}");
    let (status, video) = s
        .post_json(
            "/api/v1/sessions/fresh/compose",
            json!({"timeline": [{"asset_id": "image_1.png", "duration": 1}],
                   "output": {"width": 320, "height": 180, "fps": 10}}),
        )
        .await;
    assert_eq!(status, 201, "{video}");
    let dir = tempfile::tempdir().unwrap();
    let out = common::write_file(dir.path(), "out.mp4", &s.download(&video).await);
    // Default width 0.1: 32 px, 10 px in from the bottom right.
    let mark = common::mean_colour_of_region(&out, 0.5, "20:20:282:142");
    assert!(
        close(mark, [255, 0, 0], 40.0),
        "default watermark: {mark:?}"
    );

    // A session's own kit wins; removing it brings the default back.
    let (status, _) = s
        .put_json(
            "/api/v1/sessions/fresh/brand",
            json!({"colors": {"text": "#00ff00"}}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        s.get_json("/api/v1/sessions/fresh/brand").await.1["source"],
        "session"
    );
    assert_eq!(s.delete("/api/v1/sessions/fresh/brand").await, 204);
    assert_eq!(
        s.get_json("/api/v1/sessions/fresh/brand").await.1["source"],
        "default"
    );
}
