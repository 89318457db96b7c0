//! Incremental rendering: a plan cut into one video segment per scene, each
//! named by a hash of everything that decides its pixels, so that a later
//! compose reuses every segment whose hash it already has.
//!
//! All boundaries are whole frames computed from the plan's absolute times
//! (never accumulated), so joining the segments gives exactly the frames of
//! the whole video and the soundtrack, mixed separately, stays in sync.
//! Segment `i` runs from scene `i`'s first frame to scene `i + 1`'s first
//! frame; a transition into scene `i` belongs to segment `i`, which then also
//! draws the last frames of scene `i - 1`. A change to one scene therefore
//! invalidates its own segment and, through transitions, at most its
//! neighbours'.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::captions::Cue;
use super::timeline::{Plan, Scene};
use crate::frame::first_frame_at_or_after;

/// Bump whenever a change to the renderer changes the pixels or the sound it
/// makes: every cached piece made by an older renderer is then ignored.
pub const RENDERER_VERSION: u32 = 4;

/// Frames `first .. first + count` of a scene whose whole length is `frames`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SceneSpan {
    pub scene: usize,
    pub first: u64,
    pub count: u64,
    /// The scene's whole length in frames (motion runs over all of it).
    pub frames: u64,
}

/// One segment of the output video.
#[derive(Clone, Debug)]
pub struct Segment {
    pub index: usize,
    /// The output frame it starts at, and its length in frames.
    pub start_frame: u64,
    pub frames: u64,
    /// The segment's own scene, from its first frame.
    pub scene: SceneSpan,
    /// With a transition into the scene: the previous scene's last frames,
    /// blended over the first `count` frames, and the xfade name.
    pub blend_from: Option<(SceneSpan, &'static str)>,
    /// Scene 0's transition: a fade in from black over this many frames.
    pub fade_in: Option<u64>,
    /// The caption cues shown during the segment, in segment time.
    pub cues: Vec<Cue>,
    /// The overlays drawn on it, in order.
    pub overlays: Vec<SegmentOverlay>,
    /// The hash of everything that decides the segment's pixels.
    pub key: String,
}

/// An overlay's part in a segment: frames `from .. to` of the segment show
/// it, and the first of them is frame `skip` of the overlay's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentOverlay {
    /// Which of the plan's overlays.
    pub index: usize,
    pub from: u64,
    pub to: u64,
    pub skip: u64,
    /// The overlay's whole length in frames (its fades run over all of it).
    pub frames: u64,
}

impl Segment {
    /// Frame `j` of this segment as a segment of its own, drawn the same:
    /// its scene's frame (motion and a clip's time follow the span's
    /// `first`), the cues and overlays that frame shows. None while a
    /// transition or the opening fade blends it (those count their frames
    /// from the segment's first).
    pub fn single(&self, j: u64, fps: u32) -> Option<Segment> {
        let blending = self.blend_from.is_some_and(|(span, _)| j < span.count);
        if blending || self.fade_in.is_some_and(|n| j < n) || j >= self.frames {
            return None;
        }
        let at = j as f64 / f64::from(fps);
        let mut one = self.clone();
        one.scene.first += j;
        one.scene.count = 1;
        one.frames = 1;
        one.blend_from = None;
        one.fade_in = None;
        one.cues = self
            .cues
            .iter()
            .filter(|c| c.start <= at && at < c.end)
            .map(|c| Cue {
                start: 0.0,
                end: 0.5 / f64::from(fps),
                text: c.text.clone(),
            })
            .collect();
        one.overlays = self
            .overlays
            .iter()
            .filter(|o| o.from <= j && j < o.to)
            .map(|o| SegmentOverlay {
                from: 0,
                to: 1,
                skip: o.skip + (j - o.from),
                ..*o
            })
            .collect();
        Some(one)
    }
}

fn frame_at(t: f64, fps: u32) -> u64 {
    (t * f64::from(fps)).round().max(0.0) as u64
}

/// A short stable hash of a JSON description.
pub fn hash_key(description: &Value) -> String {
    let digest = Sha256::digest(description.to_string().as_bytes());
    hex::encode(&digest[..16])
}

/// What of a scene decides its pixels.
fn scene_identity(scene: &Scene, span: &SceneSpan) -> Value {
    let mut identity = json!({
        "visual": scene.visual.storage_key,
        "bytes": scene.visual.size_bytes,
        "video": scene.is_video,
        "trim_start": scene.trim_start,
        "effect": format!("{:?}", scene.effect),
        "text": scene.text,
        "frames": span.frames,
        "first": span.first,
        "count": span.count,
    });
    // Only when set, so that earlier renders' keys still match.
    if !scene.removed.is_empty() {
        identity["cuts"] = json!(scene.removed);
    }
    if scene.speed != 1.0 {
        identity["speed"] = json!(scene.speed);
    }
    if scene.fade_in > 0.0 || scene.fade_out > 0.0 {
        identity["fades"] = json!([scene.fade_in, scene.fade_out]);
    }
    identity
}

/// Cuts the plan into segments. `cues` are the whole video's burned-in
/// caption events.
pub fn segments(plan: &Plan, cues: &[Cue]) -> Vec<Segment> {
    let fps = plan.fps;
    let n = plan.scenes.len();
    let (starts, ends, total) = scene_frames(plan);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let scene = &plan.scenes[i];
        let start = starts[i];
        let end = if i + 1 < n { starts[i + 1] } else { total };
        let frames = end.saturating_sub(start).max(1);
        let fade_in = match (i, scene.transition) {
            (0, Some((_, d))) => Some(frame_at(d, fps).clamp(1, frames)),
            _ => None,
        };
        let mut segment = Segment {
            index: i,
            start_frame: start,
            frames,
            scene: SceneSpan {
                scene: i,
                first: 0,
                count: frames,
                frames: ends[i] - start,
            },
            blend_from: blend_from(plan, i, frames, &starts, &ends),
            fade_in,
            cues: cues_within(cues, start, frames, fps),
            overlays: overlays_within(plan, start, frames, total),
            key: String::new(),
        };
        segment.key = segment_key(plan, &segment);
        out.push(segment);
    }
    out
}

/// Each scene's first frame, the frame after its own end, and the video's
/// length in frames (at least one).
fn scene_frames(plan: &Plan) -> (Vec<u64>, Vec<u64>, u64) {
    let fps = plan.fps;
    let total = frame_at(plan.total, fps).max(1);
    let starts: Vec<u64> = plan
        .scenes
        .iter()
        .map(|s| frame_at(s.start, fps).min(total - 1))
        .collect();
    let ends: Vec<u64> = plan
        .scenes
        .iter()
        .zip(&starts)
        .map(|(s, start)| frame_at(s.start + s.duration, fps).clamp(start + 1, total))
        .collect();
    (starts, ends, total)
}

/// With a transition into scene `i` (not the first): the previous scene's
/// last frames that segment `i`, `frames` long, blends over, and the xfade.
fn blend_from(
    plan: &Plan,
    i: usize,
    frames: u64,
    starts: &[u64],
    ends: &[u64],
) -> Option<(SceneSpan, &'static str)> {
    let (1.., Some((name, _))) = (i, plan.scenes[i].transition) else {
        return None;
    };
    let prev_frames = ends[i - 1] - starts[i - 1];
    let overlap = ends[i - 1]
        .saturating_sub(starts[i])
        .min(frames)
        .min(prev_frames);
    (overlap > 0).then(|| {
        (
            SceneSpan {
                scene: i - 1,
                first: prev_frames - overlap,
                count: overlap,
                frames: prev_frames,
            },
            name,
        )
    })
}

/// The cues shown on the segment's frames `start .. start + frames`, in
/// segment time.
fn cues_within(cues: &[Cue], start: u64, frames: u64, fps: u32) -> Vec<Cue> {
    // A cue shows on the frames whose time lies in [start, end): keep
    // exactly those of this segment, at frame-exact times.
    cues.iter()
        .filter_map(|c| {
            let first = first_frame_at_or_after(c.start, fps).max(start);
            let last = first_frame_at_or_after(c.end, fps).min(start + frames);
            // Edges half a frame early: robust to SRT's millisecond rounding.
            let at = |frame: u64| ((frame - start) as f64 - 0.5).max(0.0) / f64::from(fps);
            (last > first).then(|| Cue {
                start: at(first),
                end: at(last),
                text: c.text.clone(),
            })
        })
        .collect()
}

/// The plan's overlays drawn on the segment's frames `start .. start + frames`.
fn overlays_within(plan: &Plan, start: u64, frames: u64, total: u64) -> Vec<SegmentOverlay> {
    let fps = plan.fps;
    // An overlay shows on the frames whose time lies in [start, end),
    // split at this segment's edges on whole frames.
    plan.overlays
        .iter()
        .enumerate()
        .filter_map(|(index, o)| {
            let (a, b) = (
                first_frame_at_or_after(o.start, fps),
                first_frame_at_or_after(o.end, fps).min(total),
            );
            let (first, last) = (a.max(start), b.min(start + frames));
            (last > first).then(|| SegmentOverlay {
                index,
                from: first - start,
                to: last - start,
                skip: first - a,
                frames: b.saturating_sub(a).max(1),
            })
        })
        .collect()
}

/// The hash of everything that decides a segment's pixels.
fn segment_key(plan: &Plan, segment: &Segment) -> String {
    let (preset, crf) = plan.quality.x264();
    let scene = &plan.scenes[segment.index];
    let (blend_from, seg_cues) = (segment.blend_from, &segment.cues);
    let mut description = json!({
        "renderer": RENDERER_VERSION,
        "size": [plan.width, plan.height],
        "fps": plan.fps,
        "encoder": ["libx264", preset, crf, "yuv420p", "high", "rc-lookahead=10"],
        "fit": format!("{:?}", plan.fit),
        "frames": segment.frames,
        "scene": scene_identity(scene, &segment.scene),
        "blend": blend_from.map(|(span, name)| json!({
            "name": name,
            "scene": scene_identity(&plan.scenes[span.scene], &span),
        })),
        "fade_in": segment.fade_in,
        "captions": plan.captions.filter(|_| !seg_cues.is_empty()).map(|c| format!("{c:?}")),
        "cues": seg_cues.iter().map(|c| json!([c.start, c.end, c.text])).collect::<Vec<_>>(),
    });
    // The brand's font and colours, when this segment draws text with them.
    let has_text = scene.text.is_some()
        || blend_from.is_some_and(|(span, _)| plan.scenes[span.scene].text.is_some());
    if let Some(look) = plan
        .look
        .identity()
        .filter(|_| has_text || !seg_cues.is_empty())
    {
        description["look"] = look;
    }
    if !segment.overlays.is_empty() {
        // Only when there are overlays, so that earlier renders' keys still match.
        description["overlays"] = segment
            .overlays
            .iter()
            .map(|so| {
                json!({
                    "overlay": plan.overlays[so.index].identity(),
                    "frames": [so.from, so.to, so.skip, so.frames],
                })
            })
            .collect();
    }
    hash_key(&description)
}

/// The hash of everything that decides the soundtrack's samples.
pub fn audio_key(plan: &Plan) -> String {
    let parts: Vec<Value> = plan
        .audio
        .iter()
        .map(|p| {
            json!([
                p.asset.storage_key,
                p.at,
                p.trim_start,
                p.length,
                p.volume,
                p.cut,
                p.removed,
                p.fade_in,
                p.fade_out
            ])
        })
        .collect();
    let clips: Vec<Value> = plan
        .scenes
        .iter()
        .filter(|s| s.has_sound())
        .map(|s| {
            let mut clip = vec![
                json!(s.visual.storage_key),
                json!(s.trim_start),
                json!(s.duration),
                json!(s.start),
                json!(s.volume),
            ];
            if !s.removed.is_empty() || s.speed != 1.0 || s.fade_in > 0.0 || s.fade_out > 0.0 {
                clip.push(json!([s.removed, s.speed, s.fade_in, s.fade_out]));
            }
            Value::Array(clip)
        })
        .collect();
    let overlays: Vec<Value> = plan
        .overlays
        .iter()
        .filter_map(|o| {
            o.sound().map(|a| {
                json!([
                    a.storage_key,
                    o.start,
                    o.end,
                    o.volume,
                    o.fade_in,
                    o.fade_out
                ])
            })
        })
        .collect();
    let mut key = json!({
        "renderer": RENDERER_VERSION,
        "audio": parts,
        "clips": clips,
        "music": plan.music.as_ref().map(|m| json!([m.asset.storage_key, m.volume, m.ducking])),
        "total": plan.total,
        "encoder": ["aac", "192k", 48000, "loudnorm=I=-14:TP=-1.5:LRA=11"],
    });
    // Only when some are heard, so that earlier soundtracks' keys still match.
    if !overlays.is_empty() {
        key["overlays"] = json!(overlays);
    }
    hash_key(&key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::timeline::ComposeRequest;
    use crate::ids::{AssetKind, AssetName, SessionId};
    use crate::store::Asset;

    fn image(n: u32) -> Asset {
        let session = SessionId::parse("s").unwrap();
        let name = AssetName::parse(&format!("image_{n}.png")).unwrap();
        Asset {
            asset_id: name.clone(),
            session_id: session,
            kind: AssetKind::Image,
            name,
            url: String::new(),
            mime_type: "image/png".into(),
            size_bytes: 10,
            created_at: chrono::Utc::now(),
            source: "upload".into(),
            metadata: json!({"width": 64, "height": 36}),
            storage_key: format!("sessions/s/{n}.png"),
        }
    }

    fn plan(body: Value) -> Plan {
        let req: ComposeRequest = serde_json::from_value(body).unwrap();
        req.plan(&(1..=4).map(image).collect::<Vec<_>>(), 600.0)
            .unwrap()
    }

    fn three(second: &str, fade: Option<f64>) -> Value {
        let mut items = vec![
            json!({"asset_id": "image_1.png", "duration": 1.27}),
            json!({"asset_id": second, "duration": 2.0}),
            json!({"asset_id": "image_3.png", "duration": 1.5}),
        ];
        if let Some(d) = fade {
            items[2]["transition"] = json!({"type": "crossfade", "duration": d});
        }
        json!({"timeline": items, "output": {"width": 320, "height": 180, "fps": 30}})
    }

    #[test]
    fn segments_tile_the_video_frame_exactly() {
        let p = plan(three("image_2.png", Some(0.5)));
        let segs = segments(&p, &[]);
        assert_eq!(segs.len(), 3);
        let mut next = 0;
        for s in &segs {
            assert_eq!(s.start_frame, next);
            next += s.frames;
        }
        assert_eq!(next, (p.total * 30.0).round() as u64);
        // The crossfade belongs to the third segment and draws the second
        // scene's last 15 frames.
        let (span, name) = segs[2].blend_from.unwrap();
        assert_eq!((span.scene, span.count, name), (1, 15, "fade"));
        assert_eq!(span.first + span.count, span.frames);
        assert!(segs[1].blend_from.is_none());
    }

    #[test]
    fn a_change_reaches_only_its_segment_and_the_transition_out_of_it() {
        let keys = |body| -> Vec<String> {
            segments(&plan(body), &[])
                .into_iter()
                .map(|s| s.key)
                .collect()
        };
        let a = keys(three("image_2.png", Some(0.5)));
        let b = keys(three("image_4.png", Some(0.5)));
        assert_eq!(
            (a[0] == b[0], a[1] == b[1], a[2] == b[2]),
            (true, false, false)
        );
        let c = keys(three("image_2.png", None));
        let d = keys(three("image_4.png", None));
        assert_eq!(
            (c[0] == d[0], c[1] == d[1], c[2] == d[2]),
            (true, false, true)
        );
        assert_eq!(a, keys(three("image_2.png", Some(0.5))), "keys are stable");
    }

    #[test]
    fn cues_go_to_the_segments_whose_frames_show_them() {
        let p = plan(three("image_2.png", None));
        let cue = |start: f64, end: f64| Cue {
            start,
            end,
            text: "hi".into(),
        };
        // Scene 2 starts at frame 38 (1.27 s × 30 = 38.1).
        let segs = segments(&p, &[cue(1.27, 2.0), cue(3.0, 4.0)]);
        assert!(segs[0].cues.is_empty(), "no frame of scene 1 shows the cue");
        assert_eq!(segs[1].cues.len(), 2, "the second cue runs on into scene 3");
        assert_eq!(segs[2].cues.len(), 1);
        // Frame-exact edges, half a frame early: frame 38 (1.2667 s) is
        // before the cue, frames 39 to 59 show it.
        let c = &segs[1].cues[0];
        assert!(
            (c.start - 0.5 / 30.0).abs() < 1e-9 && (c.end - 21.5 / 30.0).abs() < 1e-9,
            "{c:?}"
        );
    }
}
