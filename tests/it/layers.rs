//! Layers over the scenes: a logo in a corner for the whole video, a lower
//! third for its seconds only (across a scene boundary, no jump at the
//! seam), checked in the frames; one overlay changed re-renders only the
//! segments it covers.

use crate::common;

use crate::common::TestServer;
use serde_json::{Value, json};

const BACKGROUND: [u8; 3] = [40, 80, 160];

async fn compose(s: &TestServer, body: Value) -> Value {
    let (status, video) = s.post_json("/api/v1/sessions/layers/compose", body).await;
    assert_eq!(status, 201, "{video}");
    video
}

fn close(got: [f64; 3], want: [u8; 3], tolerance: f64) -> bool {
    got.iter()
        .zip(want)
        .all(|(g, w)| (g - f64::from(w)).abs() <= tolerance)
}

fn body(lower_third: Value) -> Value {
    json!({
        "timeline": [
            {"asset_id": "image_1.png", "duration": 3},
            {"asset_id": "image_1.png", "duration": 3},
            {"asset_id": "image_1.png", "duration": 3}
        ],
        "output": {"width": 320, "height": 180, "fps": 10},
        "overlays": [
            {"asset_id": "image_2.png", "position": "top_right", "width": 0.2, "margin": 0.05},
            lower_third,
            {"text": "NEW", "style": "label", "background": "#00ff00", "color": "#00ff00", "size": 0.15,
             "position": {"x": 0.4, "y": 0.4}, "start": 5, "end": 8, "fade_in": 1, "fade_out": 1}
        ]
    })
}

#[tokio::test]
async fn a_logo_and_a_lower_third_are_drawn_where_and_when_asked() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    for (name, png) in [
        ("bg.png", common::png(320, 180, BACKGROUND)),
        ("logo.png", common::png(64, 32, [255, 0, 0])),
    ] {
        let (status, up) = s.upload("layers", name, png).await;
        assert_eq!(status, 201, "{up}");
    }
    // At 0.1 of the frame's height: a band 54 px tall, 10 px in from the
    // bottom left (y 116–170), text 18 px tall.
    let third = json!({"text": "Ada Lovelace", "subtitle": "Mathematician", "start": 1.0, "end": 4.5, "size": 0.1});
    let video = compose(&s, body(third.clone())).await;
    let out = common::write_file(dir.path(), "out.mp4", &s.download(&video).await);
    assert!((common::duration_of(&out) - 9.0).abs() < 0.1);

    // The logo: 64×32 px, 16 px in from the top right, red all along; the
    // opposite corner never is.
    for t in [0.05, 2.95, 3.05, 6.0, 8.9] {
        let logo = common::mean_colour_of_region(&out, t, "40:20:250:24");
        assert!(close(logo, [255, 0, 0], 40.0), "logo at {t} s: {logo:?}");
        let corner = common::mean_colour_of_region(&out, t, "40:20:20:24");
        assert!(
            close(corner, BACKGROUND, 25.0),
            "top left at {t} s: {corner:?}"
        );
    }
    // The lower third: a dark band at the bottom left from 1 s to 4.5 s —
    // across the seam at 3 s — with its accent bar; gone before and after.
    // Below the text, inside the band's padding.
    let band = "100:4:40:163";
    for t in [1.2, 2.9, 3.0, 3.1, 4.3] {
        let c = common::mean_colour_of_region(&out, t, band);
        assert!(c.iter().sum::<f64>() < 0.6 * 280.0, "band at {t} s: {c:?}");
        let bar = common::mean_colour_of_region(&out, t, "2:20:10:130");
        assert!(
            close(bar, [255, 204, 0], 60.0),
            "accent bar at {t} s: {bar:?}"
        );
    }
    for t in [0.5, 4.8, 7.0] {
        let c = common::mean_colour_of_region(&out, t, band);
        assert!(close(c, BACKGROUND, 25.0), "no band at {t} s: {c:?}");
    }
    // The label fades in over its first second and out over its last: a
    // green band at 40 % of the frame, faint at its edges, full between.
    let label = "20:10:135:75";
    let green = |t: f64| common::mean_colour_of_region(&out, t, label)[1];
    let (start, middle, end) = (green(5.05), green(6.5), green(7.95));
    assert!(close(
        common::mean_colour_of_region(&out, 6.5, label),
        [0, 255, 0],
        40.0
    ));
    assert!(
        start < 120.0 && end < 120.0,
        "faint at the edges: {start} {end}"
    );
    assert!(
        green(5.5) > start + 20.0 && green(5.5) < middle - 20.0,
        "half way in at 5.5 s"
    );
    assert!(close(
        common::mean_colour_of_region(&out, 4.9, label),
        BACKGROUND,
        25.0
    ));
    // The band's pixels just before and after the seam are the same.
    let (a, b) = (
        common::mean_colour_of_region(&out, 2.95, "150:40:12:120"),
        common::mean_colour_of_region(&out, 3.05, "150:40:12:120"),
    );
    assert!(
        close(a, [b[0] as u8, b[1] as u8, b[2] as u8], 6.0),
        "{a:?} vs {b:?}"
    );

    // A new text for the lower third: only the two segments it covers are
    // rendered again; the saved timeline keeps the overlays.
    let mut changed = third.clone();
    changed["text"] = json!("Grace Hopper");
    let again = compose(&s, body(changed.clone())).await;
    let r = &again["metadata"]["render"];
    assert_eq!(
        (r["scenes_rendered"].as_u64(), r["scenes_reused"].as_u64()),
        (Some(2), Some(1)),
        "{r}"
    );
    let (status, saved) = s
        .put_json("/api/v1/sessions/layers/timeline", body(changed))
        .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["overlays"][1]["text"], "Grace Hopper", "{saved}");

    // A still of the saved timeline at 2 s, without a render: draft size,
    // the logo in its corner and the lower third's band, as in the video.
    let response = s.get("/api/v1/sessions/layers/frame?t=2").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/png");
    let png = image::load_from_memory(&response.bytes().await.unwrap())
        .unwrap()
        .to_rgb8();
    assert_eq!(png.dimensions(), (160, 90), "a quarter of the pixels");
    let px = |x: u32, y: u32| png.get_pixel(x, y).0;
    let red = px(135, 18);
    assert!(
        red[0] > 200 && red[1] < 60 && red[2] < 60,
        "the logo: {red:?}"
    );
    let band = px(40, 82);
    assert!(
        u32::from(band[0]) + u32::from(band[1]) + u32::from(band[2]) < 170,
        "the band: {band:?}"
    );
    let background = px(40, 40);
    assert!(
        close(background.map(f64::from), BACKGROUND, 25.0),
        "{background:?}"
    );
    // The same pixels as a draft render's frame at that moment.
    let (status, draft) = s
        .post_json(
            "/api/v1/sessions/layers/compose",
            json!({"output": {"width": 320, "height": 180, "fps": 10, "quality": "draft"}}),
        )
        .await;
    assert_eq!(status, 201, "{draft}");
    let draft = common::write_file(dir.path(), "draft.mp4", &s.download(&draft).await);
    let rendered = common::frame_rgb(&draft, 2.0, "null");
    let diff = rendered
        .iter()
        .zip(png.as_raw())
        .map(|(a, b)| f64::from(a.abs_diff(*b)))
        .sum::<f64>()
        / rendered.len() as f64;
    assert!(
        diff < 6.0,
        "the still differs from the render by {diff} on average"
    );
    // At 0.5 s there is no band yet.
    let response = s.get("/api/v1/sessions/layers/frame?t=0.5").await;
    let early = image::load_from_memory(&response.bytes().await.unwrap())
        .unwrap()
        .to_rgb8();
    assert!(close(
        early.get_pixel(40, 82).0.map(f64::from),
        BACKGROUND,
        25.0
    ));
    // Outside the video, or not a number: named.
    let (status, err) = s.get_json("/api/v1/sessions/layers/frame?t=99").await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["field"], "t");
    let (status, err) = s.get_json("/api/v1/sessions/layers/frame?t=soon").await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["field"], "query");
    s.stop().await;
}

#[tokio::test]
async fn overlay_mistakes_are_named_before_any_work() {
    let s = TestServer::start().await;
    let (status, _) = s
        .upload("layers", "bg.png", common::png(64, 36, BACKGROUND))
        .await;
    assert_eq!(status, 201);
    for (overlay, field) in [
        (json!({"text": "x", "start": 99}), "overlays[0].start"),
        (json!({"asset_id": "image_9.png"}), "overlays[0].asset_id"),
        (
            json!({"text": "x", "position": "middle"}),
            "overlays[0].position",
        ),
        (
            json!({"text": "x", "keyframes": []}),
            "overlays[0].keyframes",
        ),
        (
            json!({"text": "x", "keyframes": [{"t": 0, "x": 0.1}, {"t": 0, "x": 0.2}]}),
            "overlays[0].keyframes[1].t",
        ),
        (
            json!({"text": "x", "end": 2, "keyframes": [{"t": 0}, {"t": 2.5, "x": 0.2}]}),
            "overlays[0].keyframes[1].t",
        ),
        (
            json!({"text": "x", "keyframes": [{"t": 0, "opacity": 2}]}),
            "overlays[0].keyframes[0].opacity",
        ),
        (
            json!({"text": "x", "keyframes": [{"t": 0, "easing": "bounce"}]}),
            "overlays[0].keyframes[0].easing",
        ),
        (
            json!({"text": "x", "keyframes": [{"t": 0, "spin": 90}]}),
            "overlays[0].keyframes[0].spin",
        ),
        (
            json!({"text": "x", "fade_in": 2, "fade_out": 2, "end": 3}),
            "overlays[0].fade_out",
        ),
    ] {
        let (status, err) = s
            .post_json(
                "/api/v1/sessions/layers/compose",
                json!({"timeline": [{"asset_id": "image_1.png", "duration": 3}], "overlays": [overlay]}),
            )
            .await;
        assert_eq!(status, 422, "{err}");
        assert_eq!(err["error"]["field"], field, "{err}");
    }
    s.stop().await;
}

/// Zero crossings per second of the samples from `from` to `to` seconds,
/// halved: the frequency of a pure tone.
fn frequency(samples: &[f32], from: f64, to: f64) -> f64 {
    let part = &samples[(from * 48_000.0) as usize..(to * 48_000.0) as usize];
    let crossings = part
        .windows(2)
        .filter(|w| (w[0] < 0.0) != (w[1] < 0.0))
        .count();
    crossings as f64 / 2.0 / (to - from)
}

fn loudness(samples: &[f32], from: f64, to: f64) -> f64 {
    let part = &samples[(from * 48_000.0) as usize..(to * 48_000.0) as usize];
    (part.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / part.len() as f64).sqrt()
}

/// A clip at twice its speed lasts half as long and its 440 Hz tone stays
/// 440 Hz; `trim_end` stops it early; `muted` drops its sound; a clip's
/// `fade_in` rises from black; an audio item's `start_offset` starts it
/// into its scene and its `fade_in` rises from silence.
#[tokio::test]
async fn clips_play_faster_trimmed_muted_and_faded() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let clip = common::ffmpeg_fixture(
        dir.path(),
        "tone.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "color=c=0x2080ff:s=320x180:r=30:d=4",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=4",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
        ],
    );
    let (status, up) = s
        .upload("speed", "tone.mp4", std::fs::read(&clip).unwrap())
        .await;
    assert_eq!(status, 201, "{up}");
    let tone = common::tone_mp3(dir.path(), "tone.mp3", 3.0);
    let (status, _) = s
        .upload("speed", "tone.mp3", std::fs::read(&tone).unwrap())
        .await;
    assert_eq!(status, 201);
    let (status, _) = s
        .upload("speed", "bg.png", common::png(320, 180, BACKGROUND))
        .await;
    assert_eq!(status, 201);
    let render = |timeline: Value| {
        let s = &s;
        let dir = dir.path().to_owned();
        async move {
            let (status, video) = s
                .post_json(
                    "/api/v1/sessions/speed/compose",
                    json!({"timeline": timeline, "output": {"width": 320, "height": 180, "fps": 30}}),
                )
                .await;
            assert_eq!(status, 201, "{video}");
            let name = video["asset_id"].as_str().unwrap().to_owned();
            common::write_file(&dir, &name, &s.download(&video).await)
        }
    };

    let fast = render(json!([{"asset_id": "video_1.mp4", "speed": 2}])).await;
    let length = common::duration_of(&fast);
    assert!((length - 2.0).abs() < 0.1, "twice as fast: {length} s");
    let pcm = common::samples(&fast);
    let f = frequency(&pcm, 0.3, 1.5);
    assert!((f - 440.0).abs() < 10.0, "the tone keeps its pitch: {f} Hz");

    let slow = render(json!([{"asset_id": "video_1.mp4", "speed": 0.5, "trim_end": 1.5}])).await;
    let length = common::duration_of(&slow);
    assert!(
        (length - 3.0).abs() < 0.1,
        "1.5 s at half speed: {length} s"
    );
    let f = frequency(&common::samples(&slow), 0.3, 2.5);
    assert!((f - 440.0).abs() < 10.0, "the tone keeps its pitch: {f} Hz");

    let quiet = render(json!([{"asset_id": "video_1.mp4", "muted": true, "fade_in": 1}])).await;
    assert!(
        loudness(&common::samples(&quiet), 0.5, 3.5) < 0.001,
        "muted"
    );
    let dark = common::mean_colour_at(&quiet, 0.02);
    let lit = common::mean_colour_at(&quiet, 2.0);
    assert!(dark.iter().sum::<f64>() < 60.0, "starts black: {dark:?}");
    assert!(lit[2] > 200.0, "then the clip: {lit:?}");

    let offset = render(json!([
        {"asset_id": "image_1.png", "duration": 5},
        {"asset_id": "audio_1.mp3", "start_offset": 1.5, "fade_in": 1}
    ]))
    .await;
    let pcm = common::samples(&offset);
    assert!(loudness(&pcm, 0.2, 1.3) < 0.001, "silent before its offset");
    let (rising, full) = (loudness(&pcm, 1.6, 1.9), loudness(&pcm, 3.0, 4.0));
    assert!(
        rising > 0.001 && rising < full * 0.7,
        "fading in: {rising} vs {full}"
    );

    let (status, err) = s
        .post_json(
            "/api/v1/sessions/speed/compose",
            json!({"timeline": [{"asset_id": "video_1.mp4", "speed": 8}]}),
        )
        .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["field"], "timeline[0].speed");
    s.stop().await;
}

/// Picture-in-picture: a clip over the scene while it plays, its green
/// keyed out, or cut to a circle; its sound heard at its time.
#[tokio::test]
async fn a_clip_plays_in_a_keyed_bubble_with_its_sound() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let clip = common::ffmpeg_fixture(
        dir.path(),
        "pip.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "color=c=red:s=160x160:r=30:d=2,drawbox=x=50:y=50:w=60:h=60:color=0x00ff00:t=fill",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=2",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
        ],
    );
    let (status, _) = s
        .upload("pip", "bg.png", common::png(320, 180, BACKGROUND))
        .await;
    assert_eq!(status, 201);
    let (status, up) = s
        .upload("pip", "pip.mp4", std::fs::read(&clip).unwrap())
        .await;
    assert_eq!(status, 201, "{up}");
    let (status, video) = s
        .post_json(
            "/api/v1/sessions/pip/compose",
            json!({
                "timeline": [{"asset_id": "image_1.png", "duration": 3}],
                "output": {"width": 320, "height": 180, "fps": 30},
                "overlays": [
                    {"asset_id": "video_1.mp4", "start": 0.5, "position": {"x": 0.05, "y": 0.1}, "width": 0.3,
                     "chroma_key": {"color": "#00ff00", "similarity": 0.3}},
                    {"asset_id": "video_1.mp4", "start": 0.5, "position": {"x": 0.6, "y": 0.1}, "width": 0.3,
                     "shape": "circle", "volume": 1}
                ]
            }),
        )
        .await;
    assert_eq!(status, 201, "{video}");
    let out = common::write_file(dir.path(), "pip-out.mp4", &s.download(&video).await);
    let at =
        |t: f64, x: u32, y: u32| common::mean_colour_of_region(&out, t, &format!("4:4:{x}:{y}"));
    // 96×96 bubbles at (16, 18) and (192, 18), from 0.5 s for the clip's 2 s.
    for t in [1.0, 2.0] {
        assert!(
            close(at(t, 24, 64), [255, 0, 0], 50.0),
            "keyed clip's red at {t} s"
        );
        assert!(
            close(at(t, 62, 64), BACKGROUND, 40.0),
            "its green keyed out at {t} s: {:?}",
            at(t, 62, 64)
        );
        assert!(
            close(at(t, 200, 64), [255, 0, 0], 50.0),
            "circle's red at {t} s"
        );
        assert!(
            close(at(t, 238, 64), [0, 255, 0], 50.0),
            "circle's middle at {t} s"
        );
        assert!(
            close(at(t, 193, 19), BACKGROUND, 40.0),
            "outside the circle at {t} s: {:?}",
            at(t, 193, 19)
        );
    }
    for t in [0.3, 2.8] {
        assert!(close(at(t, 24, 64), BACKGROUND, 30.0), "no bubble at {t} s");
    }
    let pcm = common::samples(&out);
    let f = frequency(&pcm, 0.8, 2.2);
    assert!((f - 440.0).abs() < 10.0, "the clip's tone: {f} Hz");
    assert!(loudness(&pcm, 0.05, 0.4) < 0.001, "silent before the clip");
    s.stop().await;
}

/// The centre of the pixels in rows `rows` of a `width`-wide RGB frame,
/// each counted by its `weight` (0–1: how much it is the thing looked
/// for), and their total weight in pixels.
fn centroid(
    rgb: &[u8],
    width: usize,
    rows: std::ops::Range<usize>,
    weight: impl Fn(&[u8]) -> f64,
) -> (f64, f64, f64) {
    let (mut sx, mut sy, mut sum) = (0.0, 0.0, 0.0);
    for y in rows {
        for x in 0..width {
            let i = (y * width + x) * 3;
            let w = weight(&rgb[i..i + 3]).clamp(0.0, 1.0);
            sx += w * (x as f64 + 0.5);
            sy += w * (y as f64 + 0.5);
            sum += w;
        }
    }
    (sx / sum.max(1e-9), sy / sum.max(1e-9), sum)
}

/// The angle (degrees, clockwise from the x axis, −90–90) of the long axis
/// of the weighted pixels in `rows`.
fn orientation(
    rgb: &[u8],
    width: usize,
    rows: std::ops::Range<usize>,
    weight: impl Fn(&[u8]) -> f64,
) -> f64 {
    let (cx, cy, _) = centroid(rgb, width, rows.clone(), &weight);
    let (mut xx, mut yy, mut xy) = (0.0, 0.0, 0.0);
    for y in rows {
        for x in 0..width {
            let i = (y * width + x) * 3;
            let w = weight(&rgb[i..i + 3]).clamp(0.0, 1.0);
            let (dx, dy) = (x as f64 + 0.5 - cx, y as f64 + 0.5 - cy);
            xx += w * dx * dx;
            yy += w * dy * dy;
            xy += w * dx * dy;
        }
    }
    (0.5 * (2.0 * xy).atan2(xx - yy)).to_degrees()
}

/// Keyframes: a white square sliding right at 48 px/s (linearly, across a
/// scene seam), fading in from opacity 0; a red bar turning a quarter
/// turn with ease_in_out. Positions within a pixel of the expected at three
/// times, in the video and in a still of the saved timeline.
#[tokio::test]
async fn a_keyframed_overlay_moves_turns_and_fades_where_asked() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    // A red tile with a green middle, for a keyed, circular one.
    let tile = image::RgbImage::from_fn(40, 40, |x, y| {
        let middle = (10..30).contains(&x) && (10..30).contains(&y);
        image::Rgb(if middle { [0, 255, 0] } else { [255, 0, 0] })
    });
    let mut keyed = std::io::Cursor::new(Vec::new());
    tile.write_to(&mut keyed, image::ImageFormat::Png).unwrap();
    for (name, png) in [
        ("bg.png", common::png(320, 180, [20, 20, 30])),
        ("square.png", common::png(40, 40, [255, 255, 255])),
        ("bar.png", common::png(50, 10, [255, 0, 0])),
        ("tile.png", keyed.into_inner()),
    ] {
        let (status, up) = s.upload("layers", name, png).await;
        assert_eq!(status, 201, "{up}");
    }
    // The square: 16 px (0.05 of 320), its corner from x 0.1 (32 px) at
    // 1 s to 0.7 (224 px) at 5 s, at y 0.4 (72 px). The bar: 40×8 px with
    // its centre at (180, 130), level until 1 s, upright from 3 s.
    let timeline = json!({
        "timeline": [
            {"asset_id": "image_1.png", "duration": 3},
            {"asset_id": "image_1.png", "duration": 3}
        ],
        "output": {"width": 320, "height": 180, "fps": 10},
        "overlays": [
            {"asset_id": "image_2.png", "start": 1, "end": 5.5, "width": 0.05,
             "position": {"x": 0.5, "y": 0.4},
             "keyframes": [{"t": 0, "x": 0.1, "opacity": 0}, {"t": 0.5, "opacity": 1}, {"t": 4, "x": 0.7}]},
            {"asset_id": "image_3.png", "width": 0.125, "position": {"x": 0.5, "y": 0.7},
             "keyframes": [{"t": 1, "rotation": 0}, {"t": 3, "rotation": 90, "easing": "ease_in_out"}]},
            {"asset_id": "image_4.png", "width": 0.125, "shape": "circle",
             "chroma_key": {"color": "#00ff00", "similarity": 0.3},
             "keyframes": [{"t": 0, "x": 0.75, "y": 0.01}]}
        ]
    });
    let video = compose(&s, timeline.clone()).await;
    let out = common::write_file(dir.path(), "motion.mp4", &s.download(&video).await);
    let white = |p: &[u8]| (f64::from(p[1]) - 20.0) / 235.0;
    let red = |p: &[u8]| (f64::from(p[0]) - f64::from(p[1]) - 10.0) / 200.0;
    let frame = |t: f64| common::frame_rgb(&out, t, "null");
    // Frame n shows t = n / 10: the square's corner is at 32 + 48 (t - 1).
    // Within a third of a pixel: placed on whole pixels, it would be 0.4 px
    // off at 4.3 s.
    for t in [2.0, 3.0, 4.3] {
        let (x, y, mass) = centroid(&frame(t), 320, 55..105, white);
        let want = 32.0 + 48.0 * (t - 1.0) + 8.0;
        assert!(
            (x - want).abs() <= 0.3 && (y - 80.0).abs() <= 0.3,
            "the square at {t} s: ({x:.2}, {y:.2}), want ({want:.2}, 80)"
        );
        assert!((mass - 256.0).abs() < 40.0, "the whole square: {mass}");
    }
    // Invisible before it starts and at its first frame (opacity 0), half
    // way in at 1.25 s.
    for t in [0.5, 1.0] {
        let (_, _, mass) = centroid(&frame(t), 320, 55..105, white);
        assert!(mass < 5.0, "no square at {t} s: {mass}");
    }
    let (_, _, half) = centroid(&frame(1.3), 320, 55..105, white);
    assert!((100.0..220.0).contains(&half), "fading in: {half}");
    // The bar: level, then a sixteenth of the way round a quarter of the
    // way through (ease_in_out; linear would be a quarter), 45° half way,
    // upright at the end; turning about its centre.
    for (t, want) in [(0.5, 0.0), (1.5, 90.0 / 16.0), (2.0, 45.0), (4.0, 90.0)] {
        let rgb = frame(t);
        let angle = orientation(&rgb, 320, 105..160, red);
        // Axes: 90° and −90° are the same.
        let off = (angle - want).rem_euclid(180.0);
        let off = off.min(180.0 - off);
        assert!(off <= 2.0, "the bar at {t} s: {angle:.2}°, want {want}°");
        let (x, y, _) = centroid(&rgb, 320, 105..160, red);
        assert!(
            (x - 180.0).abs() <= 1.0 && (y - 130.0).abs() <= 1.0,
            "the bar's centre at {t} s: ({x:.2}, {y:.2})"
        );
    }

    // The tile, keyed and cut to a circle (at (240, 1.8), 40 px): its red
    // ring, its green middle keyed out, its corner outside the circle.
    let rgb = frame(2.0);
    let mean = |x0: usize, y0: usize| {
        let mut sum = [0.0; 3];
        for y in y0..y0 + 4 {
            for x in x0..x0 + 4 {
                for (k, v) in sum.iter_mut().enumerate() {
                    *v += f64::from(rgb[(y * 320 + x) * 3 + k]) / 16.0;
                }
            }
        }
        sum
    };
    assert!(
        close(mean(243, 19), [255, 0, 0], 60.0),
        "ring: {:?}",
        mean(243, 19)
    );
    assert!(
        close(mean(258, 20), [20, 20, 30], 30.0),
        "keyed: {:?}",
        mean(258, 20)
    );
    assert!(
        close(mean(240, 2), [20, 20, 30], 30.0),
        "corner: {:?}",
        mean(240, 2)
    );

    // The same keyframes again: every segment reused; one keyframe of the
    // tile changed (it covers the whole video): both drawn again.
    let again = compose(&s, timeline.clone()).await;
    assert_eq!(again["metadata"]["render"]["scenes_reused"], 2, "{again}");
    let mut moved = timeline.clone();
    moved["overlays"][2]["keyframes"][0]["y"] = json!(0.02);
    let again = compose(&s, moved).await;
    assert_eq!(again["metadata"]["render"]["scenes_rendered"], 2, "{again}");

    // A still of the saved timeline (draft: half the size each side) shows
    // the square where the video does.
    let (status, saved) = s
        .put_json("/api/v1/sessions/layers/timeline", timeline)
        .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["overlays"][0]["keyframes"][2]["x"], 0.7, "{saved}");
    let response = s.get("/api/v1/sessions/layers/frame?t=3.5").await;
    assert_eq!(response.status(), 200);
    let png = image::load_from_memory(&response.bytes().await.unwrap())
        .unwrap()
        .to_rgb8();
    let (x, y, _) = centroid(png.as_raw(), 160, 27..53, white);
    let want = (32.0 + 48.0 * 2.5 + 8.0) / 2.0;
    assert!(
        (x - want).abs() <= 1.0 && (y - 40.0).abs() <= 1.0,
        "the square in the still: ({x:.2}, {y:.2}), want ({want:.2}, 40)"
    );
    s.stop().await;
}
