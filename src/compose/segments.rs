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

/// Bump whenever a change to the renderer changes the pixels or the sound it
/// makes: every cached piece made by an older renderer is then ignored.
pub const RENDERER_VERSION: u32 = 1;

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
    /// The hash of everything that decides the segment's pixels.
    pub key: String,
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
    json!({
        "visual": scene.visual.storage_key,
        "bytes": scene.visual.size_bytes,
        "video": scene.is_video,
        "trim_start": scene.trim_start,
        "effect": format!("{:?}", scene.effect),
        "text": scene.text,
        "frames": span.frames,
        "first": span.first,
        "count": span.count,
    })
}

/// Cuts the plan into segments. `cues` are the whole video's captions.
pub fn segments(plan: &Plan, cues: &[Cue]) -> Vec<Segment> {
    let fps = plan.fps;
    let n = plan.scenes.len();
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
    let (preset, crf) = plan.quality.x264();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let scene = &plan.scenes[i];
        let start = starts[i];
        let end = if i + 1 < n { starts[i + 1] } else { total };
        let frames = end.saturating_sub(start).max(1);
        let own = SceneSpan {
            scene: i,
            first: 0,
            count: frames,
            frames: ends[i] - start,
        };
        let blend_from = match (i, scene.transition) {
            (1.., Some((name, _))) => {
                let prev_frames = ends[i - 1] - starts[i - 1];
                let overlap = ends[i - 1]
                    .saturating_sub(start)
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
            _ => None,
        };
        let fade_in = match (i, scene.transition) {
            (0, Some((_, d))) => Some(frame_at(d, fps).clamp(1, frames)),
            _ => None,
        };
        let (t0, t1) = (
            start as f64 / f64::from(fps),
            (start + frames) as f64 / f64::from(fps),
        );
        let seg_cues: Vec<Cue> = cues
            .iter()
            .filter(|c| c.end > t0 && c.start < t1)
            .map(|c| Cue {
                start: round_ms(c.start.max(t0) - t0),
                end: round_ms(c.end.min(t1) - t0),
                text: c.text.clone(),
            })
            .filter(|c| c.end > c.start)
            .collect();
        let description = json!({
            "renderer": RENDERER_VERSION,
            "size": [plan.width, plan.height],
            "fps": fps,
            "encoder": ["libx264", preset, crf, "yuv420p", "high", "rc-lookahead=20"],
            "fit": format!("{:?}", plan.fit),
            "frames": frames,
            "scene": scene_identity(scene, &own),
            "blend": blend_from.map(|(span, name)| json!({
                "name": name,
                "scene": scene_identity(&plan.scenes[span.scene], &span),
            })),
            "fade_in": fade_in,
            "cues": seg_cues.iter().map(|c| json!([c.start, c.end, c.text])).collect::<Vec<_>>(),
        });
        out.push(Segment {
            index: i,
            start_frame: start,
            frames,
            scene: own,
            blend_from,
            fade_in,
            cues: seg_cues,
            key: hash_key(&description),
        });
    }
    out
}

fn round_ms(t: f64) -> f64 {
    (t * 1000.0).round() / 1000.0
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
                p.cut
            ])
        })
        .collect();
    let clips: Vec<Value> = plan
        .scenes
        .iter()
        .filter(|s| s.is_video && s.visual.metadata["has_audio"] == true)
        .map(|s| {
            json!([
                s.visual.storage_key,
                s.trim_start,
                s.duration,
                s.start,
                s.volume
            ])
        })
        .collect();
    hash_key(&json!({
        "renderer": RENDERER_VERSION,
        "audio": parts,
        "clips": clips,
        "music": plan.music.as_ref().map(|m| json!([m.asset.storage_key, m.volume, m.ducking])),
        "total": plan.total,
        "encoder": ["aac", "192k", 48000, "loudnorm=I=-14:TP=-1.5:LRA=11"],
    }))
}
