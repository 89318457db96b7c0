//! The timeline: the request's shape, and its validation into a [`Plan`]
//! before any work starts.
//!
//! Semantics: items play in order. A visual item (an image or a video clip)
//! starts a new scene; the audio items after it, up to the next visual, play
//! in that scene one after another. A scene lasts its `duration` when given,
//! else as long as its audio, else (a video clip) the clip's length, else 3 s.
//! Audio items before the first visual play from the start. An image shown
//! longer than its audio is silent for the rest; audio longer than its scene
//! is cut at the scene's end with a short fade. A transition into a scene
//! overlaps it with the previous one by the transition's duration; the
//! scene's narration starts when the overlap ends (never two narrations at
//! once), and a scene timed by its narration is lengthened by the overlap.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::caption_style::{Captions, Position, Style};
use super::look::Look;
pub use super::overlays::Overlay;
use super::overlays::{self, PlacedOverlay};
use crate::error::{Error, Result};
use crate::ids::AssetKind;
use crate::store::Asset;

pub const DEFAULT_SCENE_SECONDS: f64 = 3.0;

/// What a compose body accepts: the checks below and the API document
/// (`api/openapi.rs`) both read these.
pub mod limits {
    /// A scene's title.
    pub const TITLE_CHARS: usize = 300;
    /// An item's or the music's gain.
    pub const VOLUME: (f64, f64) = (0.0, 4.0);
    pub const MIN_SIDE: u32 = 64;
    pub const MAX_SIDE: u32 = 3840;
    pub const FPS: (u32, u32) = (1, 60);
    pub const QUALITIES: &[&str] = &["draft", "standard", "high"];
    pub const FITS: &[&str] = &["cover", "contain"];
    /// A clip's playback speed.
    pub const SPEED: (f64, f64) = (0.25, 4.0);
}

/// `POST /compose` body. Without `timeline`, the session's saved timeline
/// is composed, with its options (each overridable here).
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComposeRequest {
    /// The items, in order. Absent: the session's saved timeline.
    pub timeline: Option<Vec<TimelineItem>>,
    pub output: Option<OutputOptions>,
    /// Several sizes in one job, instead of `output`: each becomes its own
    /// video (and `.srt`), listed in the job's `result.assets`. Always a
    /// job (202).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<Vec<OutputSpec>>,
    /// `cover` (default: fill the frame, cropping) or `contain` (the whole
    /// picture over a blurred copy of itself).
    pub fit: Option<String>,
    /// Burn the narration in as captions (from the voice-overs' word
    /// timings) and store them as an `.srt` asset: `true`, or
    /// `{"style": "plain" | "karaoke" | "word", "position": "bottom" | "middle"}`.
    pub captions: Option<CaptionsOption>,
    pub music: Option<MusicOptions>,
    /// Pictures and text drawn over the scenes, in order (later on top), at
    /// times of the finished video.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlays: Option<Vec<Overlay>>,
    /// `false`: render without the session's brand kit (no watermark, the
    /// studio's own font and colours). Default true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<bool>,
    /// Return 202 with a job at once instead of waiting for the video.
    #[serde(rename = "async")]
    pub run_async: Option<bool>,
    /// Tell this URL when the render ends (a signed POST; see the README's
    /// webhooks). Implies `async`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback: Option<crate::webhooks::Callback>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimelineItem {
    /// The session's asset (absent with `generate`).
    #[serde(default)]
    #[schema(example = "image_1.png")]
    pub asset_id: String,
    /// Instead of `asset_id`: a picture or voice-over made when composing —
    /// `{"type": "image", "prompt": …}` or `{"type": "audio", "text": …,
    /// "voice_name": …}` with any parameter of `POST /image` or `/audio`. It
    /// is stored as an ordinary asset and reused when the same parameters
    /// come again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub generate: Option<serde_json::Value>,
    /// Seconds. For a visual: the scene's length; for audio: how much of it plays.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// Seconds to skip at the start (audio and video).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trim_start: Option<f64>,
    /// Audio gain, 0–4 (1 = unchanged).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume: Option<f64>,
    /// `none`, `zoom_in`, `zoom_out`, `pan_left`, `pan_right` (images).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effect: Option<String>,
    /// The transition into this scene.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transition: Option<Transition>,
    /// A title shown over this scene.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Audio and clip items: spans of the item's own media to leave out
    /// (seconds of the media, as its transcript times them; a clip loses
    /// picture and sound); the item plays shorter by what they remove. `POST .../transcripts/{asset_id}/cuts` makes them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cuts: Option<Vec<Cut>>,
    /// Clips: playback speed, 0.25–4 (the sound keeps its pitch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speed: Option<f64>,
    /// Audio and clips: where in the media to stop (seconds of the media).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trim_end: Option<f64>,
    /// Clips: leave the clip's own sound out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub muted: Option<bool>,
    /// Audio and clips: seconds of fading in (a clip's picture from black,
    /// and its sound).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fade_in: Option<f64>,
    /// Audio and clips: seconds of fading out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fade_out: Option<f64>,
    /// Audio: seconds into its scene at which it starts (default: right
    /// after the audio before it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_offset: Option<f64>,
}

pub use crate::media::Cut;

/// The most cuts one item takes.
pub const MAX_CUTS: usize = 1000;

#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    /// `fade`, `crossfade`, `slide_left`, `slide_right` or `wipe`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Seconds, default 0.5.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
}

/// One of `outputs`: a size as in `output`, and its own `fit`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "9:16")]
    pub aspect_ratio: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fps: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quality: Option<String>,
    /// `cover` or `contain` (default: the request's `fit`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fit: Option<String>,
}

/// The most `outputs` one job renders.
pub const MAX_OUTPUTS: usize = 6;

#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutputOptions {
    /// `16:9` (default, 1920×1080), `9:16`, `1:1`, `4:5`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aspect_ratio: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Frames per second, default 30.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fps: Option<u32>,
    /// `draft` (a quick preview at a quarter of the pixels with a fast
    /// preset), `standard` (default) or `high`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quality: Option<String>,
}

/// The session's saved timeline: what `PUT .../timeline` takes and `GET`
/// answers. The same fields as the body of `POST /compose`, plus a version.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SavedTimeline {
    /// The version (0: nothing saved yet). In a `PUT`, optional: when
    /// given, the save happens only if this is still the current version,
    /// else 409 `version_conflict` and nothing is saved.
    pub version: Option<i64>,
    /// When this version was saved (in answers; null for version 0; ignored
    /// in a `PUT`, so an answer can be sent back as it came).
    #[serde(default)]
    pub updated_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The items, in order.
    #[serde(default)]
    pub timeline: Vec<TimelineItem>,
    pub output: Option<OutputOptions>,
    pub fit: Option<String>,
    pub captions: Option<CaptionsOption>,
    pub music: Option<MusicOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlays: Option<Vec<Overlay>>,
    /// `false`: render without the brand kit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<bool>,
}

/// `captions`: on or off, or a style.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(untagged)]
pub enum CaptionsOption {
    On(bool),
    Styled(CaptionsStyle),
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaptionsStyle {
    /// `plain` (default: whole cues), `karaoke` (the word being spoken in an
    /// accent colour) or `word` (one to three words at a time, large).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub style: Option<String>,
    /// `bottom` (default, inside the format's safe area) or `middle`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
}

impl SavedTimeline {
    /// The compose request this timeline describes.
    pub fn to_request(&self) -> ComposeRequest {
        ComposeRequest {
            timeline: Some(self.timeline.clone()),
            output: self.output.clone(),
            fit: self.fit.clone(),
            captions: self.captions.clone(),
            music: self.music.clone(),
            overlays: self.overlays.clone(),
            brand: self.brand,
            outputs: None,
            run_async: None,
            callback: None,
        }
    }

    /// The timeline of a compose request (its `async` flag dropped).
    pub fn from_request(req: &ComposeRequest) -> Self {
        Self {
            version: None,
            updated_at: None,
            timeline: req.timeline.clone().unwrap_or_default(),
            output: req.output.clone(),
            fit: req.fit.clone(),
            captions: req.captions.clone(),
            music: req.music.clone(),
            overlays: req.overlays.clone(),
            brand: req.brand,
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MusicOptions {
    pub asset_id: String,
    /// Gain, default 0.3.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume: Option<f64>,
    /// Lower the music under narration (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ducking: Option<bool>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    None,
    ZoomIn,
    ZoomOut,
    PanLeft,
    PanRight,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fit {
    Cover,
    Contain,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quality {
    Draft,
    Standard,
    High,
}

impl Quality {
    /// x264 preset and CRF.
    pub fn x264(self) -> (&'static str, &'static str) {
        match self {
            Quality::Draft => ("veryfast", "26"),
            Quality::Standard => ("medium", "21"),
            Quality::High => ("slow", "18"),
        }
    }
}

/// One sound placed on the output timeline.
#[derive(Clone, Debug)]
pub struct AudioPart {
    pub asset: Asset,
    /// Where it starts in the output, seconds.
    pub at: f64,
    pub trim_start: f64,
    /// How long it plays.
    pub length: f64,
    pub volume: f64,
    /// Cut short by its scene's end: fade out.
    pub cut: bool,
    /// Spans of the media left out (sorted, apart, on the frame grid).
    pub removed: Vec<(f64, f64)>,
    /// Seconds of fading in and out.
    pub fade_in: f64,
    pub fade_out: f64,
}

impl AudioPart {
    /// The spans of its media that play, in order, as (media start,
    /// seconds): `length` seconds in all.
    pub fn kept(&self) -> Vec<(f64, f64)> {
        kept_spans(self.trim_start, self.length, &self.removed)
    }

    /// How long after the part's start the media's time `t` is heard (a
    /// time inside a cut: where the cut is).
    pub fn heard_at(&self, t: f64) -> f64 {
        heard_at(self.trim_start, &self.removed, t)
    }

    /// Whether the media's time `t` falls in a cut.
    pub fn is_cut(&self, t: f64) -> bool {
        is_cut(&self.removed, t)
    }
}

/// The spans of a medium that play from `trim_start` for `length` seconds
/// when `removed` are left out, in order, as (media start, seconds).
pub fn kept_spans(trim_start: f64, length: f64, removed: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    let (mut t, mut left) = (trim_start, length);
    for &(a, b) in removed {
        if left <= 1e-9 {
            break;
        }
        if b <= t {
            continue;
        }
        if a > t {
            let d = (a - t).min(left);
            out.push((t, d));
            left -= d;
        }
        t = t.max(b);
    }
    if left > 1e-9 {
        out.push((t, left));
    }
    out
}

/// How long after `trim_start` the media's time `t` is heard when `removed`
/// are left out (a time inside a cut: where the cut is).
fn heard_at(trim_start: f64, removed: &[(f64, f64)], t: f64) -> f64 {
    t - trim_start - removed_within(removed, trim_start, t)
}

/// Whether the media's time `t` falls in one of `removed`.
fn is_cut(removed: &[(f64, f64)], t: f64) -> bool {
    removed.iter().any(|&(a, b)| t > a && t < b)
}

/// Checks an item's cuts against its media's `length` and puts them on the
/// frame grid, sorted, overlapping ones merged.
fn cuts_of(index: usize, item: &TimelineItem, length: f64, fps: u32) -> Result<Vec<(f64, f64)>> {
    let Some(cuts) = &item.cuts else {
        return Ok(Vec::new());
    };
    if cuts.len() > MAX_CUTS {
        return Err(invalid(
            index,
            "cuts",
            format!("at most {MAX_CUTS} cuts per item"),
        ));
    }
    let frame = 1.0 / f64::from(fps);
    let snap = |t: f64| (t / frame).round() * frame;
    let mut spans = Vec::with_capacity(cuts.len());
    for (k, c) in cuts.iter().enumerate() {
        let ok = c.start.is_finite() && c.end.is_finite() && c.start >= 0.0 && c.end > c.start;
        if !ok || c.start >= length {
            return Err(invalid(
                index,
                &format!("cuts[{k}]"),
                format!("a cut needs 0 ≤ start < end, within the media's {length:.2} s"),
            ));
        }
        let (a, b) = (snap(c.start), snap(c.end.min(length)));
        if b > a {
            spans.push((a, b));
        }
    }
    spans.sort_by(|x, y| x.0.total_cmp(&y.0));
    let mut merged: Vec<(f64, f64)> = Vec::with_capacity(spans.len());
    for (a, b) in spans {
        match merged.last_mut() {
            Some(last) if a <= last.1 + 1e-9 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    Ok(merged)
}

/// An audio item before it is placed: the asset, its trim start, the
/// duration asked for, its volume and its cuts.
struct PendingAudio {
    asset: Asset,
    trim_start: f64,
    given: Option<f64>,
    volume: f64,
    removed: Vec<(f64, f64)>,
    fades: (f64, f64),
    /// Seconds into its scene, when given.
    offset: Option<f64>,
}

impl PendingAudio {
    /// How long it plays when nothing stops it.
    fn natural(&self) -> f64 {
        let length = duration_of(&self.asset).unwrap_or(0.0);
        length - self.trim_start - removed_within(&self.removed, self.trim_start, length)
    }
}

/// Seconds of `[from, to)` that `removed` takes away.
fn removed_within(removed: &[(f64, f64)], from: f64, to: f64) -> f64 {
    removed
        .iter()
        .map(|&(a, b)| (b.min(to) - a.max(from)).max(0.0))
        .sum()
}

#[derive(Clone, Debug)]
pub struct Scene {
    pub visual: Asset,
    pub is_video: bool,
    pub trim_start: f64,
    pub duration: f64,
    /// Where the scene starts in the output, seconds.
    pub start: f64,
    pub effect: Effect,
    /// xfade name and duration of the transition into this scene.
    pub transition: Option<(&'static str, f64)>,
    pub text: Option<String>,
    pub volume: f64,
    /// A clip's spans left out, picture and sound (sorted, apart, on the
    /// frame grid).
    pub removed: Vec<(f64, f64)>,
    /// A clip's playback speed (1: as recorded).
    pub speed: f64,
    /// A clip whose own sound is left out.
    pub muted: bool,
    /// A clip's seconds of fading in and out (picture and sound).
    pub fade_in: f64,
    pub fade_out: f64,
}

impl Scene {
    /// A video clip with a sound track of its own (mixed into the soundtrack).
    pub fn has_sound(&self) -> bool {
        self.is_video && !self.muted && self.visual.metadata["has_audio"] == true
    }

    /// The clip's time shown `after` seconds into the scene (cuts skipped,
    /// at its speed).
    pub fn media_at(&self, after: f64) -> f64 {
        let mut t = self.trim_start + after * self.speed;
        for &(a, b) in &self.removed {
            if a <= t + 1e-9 && b > self.trim_start {
                t += b - a.max(self.trim_start);
            }
        }
        t
    }

    /// The spans of the clip that play, as (media start, seconds of the
    /// media).
    pub fn kept(&self) -> Vec<(f64, f64)> {
        kept_spans(self.trim_start, self.duration * self.speed, &self.removed)
    }

    /// How long after the scene's start the clip's time `t` is shown.
    pub fn heard_at(&self, t: f64) -> f64 {
        heard_at(self.trim_start, &self.removed, t) / self.speed
    }

    /// Whether the clip's time `t` falls in a cut.
    pub fn is_cut(&self, t: f64) -> bool {
        is_cut(&self.removed, t)
    }
}

#[derive(Clone, Debug)]
pub struct Music {
    pub asset: Asset,
    pub volume: f64,
    pub ducking: bool,
}

/// A validated timeline, with every time worked out.
#[derive(Clone, Debug)]
pub struct Plan {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub quality: Quality,
    pub fit: Fit,
    /// Burned-in captions, when on.
    pub captions: Option<Captions>,
    pub scenes: Vec<Scene>,
    pub audio: Vec<AudioPart>,
    pub music: Option<Music>,
    /// Drawn over the scenes, in order.
    pub overlays: Vec<PlacedOverlay>,
    pub total: f64,
    /// The brand kit's font and colours (default: the studio's).
    pub look: Look,
}

fn invalid(index: usize, field: &str, message: impl std::fmt::Display) -> Error {
    Error::invalid(
        format!("timeline[{index}].{field}"),
        format!("item {index}: {message}"),
    )
}

fn seconds(
    index: usize,
    field: &str,
    value: Option<f64>,
    min: f64,
    max: f64,
) -> Result<Option<f64>> {
    match value {
        Some(v) if !v.is_finite() || v < min || v > max => Err(invalid(
            index,
            field,
            format!("{field} {v} is outside {min}–{max} seconds"),
        )),
        other => Ok(other),
    }
}

/// How much longer one side of a picture or clip may be than the other.
const MAX_SIDE_RATIO: u64 = 16;

fn duration_of(asset: &Asset) -> Option<f64> {
    asset.metadata["duration_seconds"]
        .as_f64()
        .filter(|d| *d > 0.0)
}

/// A scene on its way through `plan`: its duration as given, and the
/// narration that times it.
struct Pending {
    scene: Scene,
    given: Option<f64>,
    audio: Vec<PendingAudio>,
}

/// Refuses an empty timeline, or one of more than 500 items.
fn check_item_count(items: &[TimelineItem]) -> Result<()> {
    if items.is_empty() {
        return Err(Error::invalid(
            "timeline",
            "the timeline is empty; add at least one image or video",
        ));
    }
    if items.len() > 500 {
        return Err(Error::invalid(
            "timeline",
            "the timeline has more than 500 items",
        ));
    }
    Ok(())
}

/// First pass: resolves assets, checks kinds and values, groups into scenes.
/// Gives the audio before the first scene, and the scenes (each with the
/// audio items that follow it).
fn group(
    items: &[TimelineItem],
    by_name: &HashMap<&str, &Asset>,
    max_seconds: f64,
    fps: u32,
) -> Result<(Vec<PendingAudio>, Vec<Pending>)> {
    let mut lead: Vec<PendingAudio> = Vec::new();
    let mut pending: Vec<Pending> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let asset = item_asset(i, item, by_name)?;
        let duration = seconds(i, "duration", item.duration, 0.04, max_seconds)?;
        let trim_start = seconds(i, "trim_start", item.trim_start, 0.0, 86_400.0)?.unwrap_or(0.0);
        let volume = item_volume(i, item)?;
        match asset.kind {
            AssetKind::Image | AssetKind::Video => {
                pending.push(Pending {
                    scene: visual_scene(i, item, asset, (trim_start, volume), fps)?,
                    given: duration,
                    audio: Vec::new(),
                });
            }
            AssetKind::Audio => {
                let part = audio_part(i, item, asset, trim_start, duration, volume, fps)?;
                match pending.last_mut() {
                    Some(p) => p.audio.push(part),
                    None => lead.push(part),
                }
            }
            other => {
                return Err(invalid(
                    i,
                    "asset_id",
                    format!(
                        "{} is a {other} asset; the timeline takes images, videos and audio",
                        asset.name
                    ),
                ));
            }
        }
    }
    if pending.is_empty() {
        return Err(Error::invalid(
            "timeline",
            "the timeline has no image or video; add at least one visual item",
        ));
    }
    Ok((lead, pending))
}

/// The session's asset an item names (a generated item names none yet).
fn item_asset<'a>(
    i: usize,
    item: &TimelineItem,
    by_name: &HashMap<&str, &'a Asset>,
) -> Result<&'a Asset> {
    if item.asset_id.is_empty() {
        return Err(match item.generate {
            Some(_) => invalid(
                i,
                "generate",
                "generated items are made when composing; a saved timeline names assets",
            ),
            None => invalid(
                i,
                "asset_id",
                "name an asset of the session, or generate one",
            ),
        });
    }
    by_name.get(item.asset_id.as_str()).copied().ok_or_else(|| {
        invalid(
            i,
            "asset_id",
            format!("the session has no asset named {:?}", item.asset_id),
        )
    })
}

/// An item's volume (default 1), within the limits.
fn item_volume(i: usize, item: &TimelineItem) -> Result<f64> {
    match item.volume {
        Some(v) if !(limits::VOLUME.0..=limits::VOLUME.1).contains(&v) => {
            Err(invalid(i, "volume", "volume must be between 0 and 4"))
        }
        v => Ok(v.unwrap_or(1.0)),
    }
}

/// Second pass: durations and start times, the lead audio from the start;
/// refuses a video longer than `max_seconds`.
fn timed(
    pending: Vec<Pending>,
    lead: Vec<PendingAudio>,
    max_seconds: f64,
) -> Result<(Vec<Scene>, Vec<AudioPart>, f64)> {
    let (scenes, mut audio, total) = lay_out(pending);
    place_audio(lead, 0.0, total, &mut audio);
    if total > max_seconds {
        return Err(Error::invalid(
            "timeline",
            format!("the video would last {total:.1} s; the limit is {max_seconds} s"),
        ));
    }
    Ok((scenes, audio, total))
}

/// Durations and start times: a scene lasts as given, else as its
/// narration (plus a transition's overlap), else as its clip, else the
/// default; its narration plays in order within it. Gives the scenes, their
/// sound and the total length.
fn lay_out(pending: Vec<Pending>) -> (Vec<Scene>, Vec<AudioPart>, f64) {
    let mut scenes = Vec::new();
    let mut audio = Vec::new();
    let mut at = 0.0;
    for (index, p) in pending.into_iter().enumerate() {
        let mut scene = p.scene;
        // Played one after another, each from its offset when it has one.
        let audio_total = p.audio.iter().fold(0.0, |t, a| {
            a.offset.unwrap_or(t) + a.given.unwrap_or_else(|| a.natural())
        });
        // A transition into a narrated scene overlaps the end of the
        // previous one: its narration waits until the overlap is over, so
        // two narrations never play at once, and a scene timed by its
        // narration is lengthened by the overlap.
        let overlap = match (index, scene.transition) {
            (1.., Some((_, d))) => {
                let previous: &Scene = scenes.last().expect("index > 0");
                d.min(previous.duration / 2.0)
            }
            _ => 0.0,
        };
        let narrated = !p.audio.is_empty();
        scene.duration = match p.given {
            Some(d) => d,
            None if audio_total > 0.0 => audio_total + overlap,
            None if scene.is_video => {
                let length = duration_of(&scene.visual).unwrap_or(DEFAULT_SCENE_SECONDS);
                (length
                    - scene.trim_start
                    - removed_within(&scene.removed, scene.trim_start, length))
                    / scene.speed
            }
            None => DEFAULT_SCENE_SECONDS,
        };
        if index == 0 {
            // Nothing to blend into: a transition opens from black.
            scene.transition = scene.transition.map(|(_, d)| ("fadeblack", d));
        } else if let Some((_, d)) = &mut scene.transition {
            *d = overlap.min(scene.duration / 2.0);
            at -= *d;
        }
        scene.start = at;
        let offset = match scene.transition {
            Some((_, d)) if index > 0 && narrated => d,
            _ => 0.0,
        };
        place_audio(p.audio, at + offset, at + scene.duration, &mut audio);
        at += scene.duration;
        scenes.push(scene);
    }
    (scenes, audio, at)
}

/// A picture or clip item as a scene (times are laid out later): its
/// effect, transition and title checked.
fn visual_scene(
    i: usize,
    item: &TimelineItem,
    asset: &Asset,
    (trim_start, volume): (f64, f64),
    fps: u32,
) -> Result<Scene> {
    let is_video = asset.kind == AssetKind::Video;
    if !is_video && item.trim_start.is_some() {
        return Err(invalid(i, "trim_start", "an image cannot be trimmed"));
    }
    if !is_video && item.cuts.is_some() {
        return Err(invalid(i, "cuts", "an image has nothing to cut"));
    }
    let effect = effect_of(i, item, is_video)?;
    check_side_ratio(i, asset)?;
    let transition = transition_of(i, item)?;
    let text = title_of(i, item)?;
    let ClipTiming {
        removed,
        speed,
        fades,
    } = if is_video {
        clip_timing(i, item, asset, trim_start, fps)?
    } else {
        no_clip_fields(i, item)?;
        ClipTiming {
            removed: Vec::new(),
            speed: 1.0,
            fades: (0.0, 0.0),
        }
    };
    if item.start_offset.is_some() {
        return Err(invalid(
            i,
            "start_offset",
            "start_offset applies to audio items",
        ));
    }
    Ok(Scene {
        visual: asset.clone(),
        is_video,
        trim_start,
        duration: 0.0,
        start: 0.0,
        effect,
        transition,
        text,
        volume,
        removed,
        speed,
        muted: item.muted.unwrap_or(false),
        fade_in: fades.0,
        fade_out: fades.1,
    })
}

/// An item's effect (none unless named; pictures only).
fn effect_of(i: usize, item: &TimelineItem, is_video: bool) -> Result<Effect> {
    let effect = match item.effect.as_deref().unwrap_or("none") {
        "none" => Effect::None,
        "zoom_in" => Effect::ZoomIn,
        "zoom_out" => Effect::ZoomOut,
        "pan_left" => Effect::PanLeft,
        "pan_right" => Effect::PanRight,
        other => {
            return Err(invalid(
                i,
                "effect",
                format!(
                    "unknown effect {other:?}; use none, zoom_in, zoom_out, pan_left or pan_right"
                ),
            ));
        }
    };
    if is_video && effect != Effect::None {
        return Err(invalid(i, "effect", "effects apply to images only"));
    }
    Ok(effect)
}

/// Refuses a picture too long and thin to fill a frame.
fn check_side_ratio(i: usize, asset: &Asset) -> Result<()> {
    if let (Some(w), Some(h)) = (
        asset.metadata["width"].as_u64(),
        asset.metadata["height"].as_u64(),
    ) && w.max(h) > MAX_SIDE_RATIO * w.min(h).max(1)
    {
        return Err(invalid(
            i,
            "asset_id",
            format!(
                "{} is {w}×{h}: a picture more than {MAX_SIDE_RATIO} times wider than tall (or taller than wide) cannot fill a frame; crop it first",
                asset.name
            ),
        ));
    }
    Ok(())
}

/// The xfade name and duration of an item's transition, if it has one.
fn transition_of(i: usize, item: &TimelineItem) -> Result<Option<(&'static str, f64)>> {
    let Some(t) = &item.transition else {
        return Ok(None);
    };
    let name = match t.kind.as_str() {
        "fade" => "fadeblack",
        "crossfade" => "fade",
        "slide_left" => "slideleft",
        "slide_right" => "slideright",
        "wipe" => "wipeleft",
        other => {
            return Err(invalid(
                i,
                "transition",
                format!(
                    "unknown transition {other:?}; use fade, crossfade, slide_left, slide_right or wipe"
                ),
            ));
        }
    };
    let d = seconds(i, "transition.duration", t.duration, 0.1, 5.0)?.unwrap_or(0.5);
    Ok(Some((name, d)))
}

/// An item's title, trimmed (none when blank), within the length limit.
fn title_of(i: usize, item: &TimelineItem) -> Result<Option<String>> {
    let text = item
        .text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned);
    if text
        .as_ref()
        .is_some_and(|t| t.chars().count() > limits::TITLE_CHARS)
    {
        return Err(invalid(
            i,
            "text",
            format!("titles are limited to {} characters", limits::TITLE_CHARS),
        ));
    }
    Ok(text)
}

/// What a clip item sets of its scene's timing.
struct ClipTiming {
    /// Spans of the clip's own time cut out (cuts and the trimmed end).
    removed: Vec<(f64, f64)>,
    speed: f64,
    /// Seconds of fading in and out.
    fades: (f64, f64),
}

/// A clip's removed spans (cuts and trimmed end), speed and fades.
fn clip_timing(
    i: usize,
    item: &TimelineItem,
    asset: &Asset,
    trim_start: f64,
    fps: u32,
) -> Result<ClipTiming> {
    let length = duration_of(asset).unwrap_or(0.0);
    if trim_start >= length {
        return Err(invalid(
            i,
            "trim_start",
            format!("the clip is only {length:.2} s long"),
        ));
    }
    let removed = ended(i, item, trim_start, length, cuts_of(i, item, length, fps)?)?;
    let speed = match item.speed {
        Some(v) if !v.is_finite() || v < limits::SPEED.0 || v > limits::SPEED.1 => {
            return Err(invalid(
                i,
                "speed",
                format!(
                    "speed {v} is outside {}–{}",
                    limits::SPEED.0,
                    limits::SPEED.1
                ),
            ));
        }
        v => v.unwrap_or(1.0),
    };
    Ok(ClipTiming {
        removed,
        speed,
        fades: fades_of(i, item)?,
    })
}

/// Refuses the fields that apply only to clips and audio on a picture.
fn no_clip_fields(i: usize, item: &TimelineItem) -> Result<()> {
    for (field, set) in [
        ("speed", item.speed.is_some()),
        ("trim_end", item.trim_end.is_some()),
        ("muted", item.muted.is_some()),
        ("fade_in", item.fade_in.is_some()),
        ("fade_out", item.fade_out.is_some()),
    ] {
        if set {
            return Err(invalid(
                i,
                field,
                format!("{field} applies to clips and audio, not pictures"),
            ));
        }
    }
    Ok(())
}

/// An item's fades, in seconds.
fn fades_of(i: usize, item: &TimelineItem) -> Result<(f64, f64)> {
    Ok((
        seconds(i, "fade_in", item.fade_in, 0.0, 60.0)?.unwrap_or(0.0),
        seconds(i, "fade_out", item.fade_out, 0.0, 60.0)?.unwrap_or(0.0),
    ))
}

/// `removed` with the media after the item's `trim_end` left out too.
fn ended(
    i: usize,
    item: &TimelineItem,
    trim_start: f64,
    length: f64,
    mut removed: Vec<(f64, f64)>,
) -> Result<Vec<(f64, f64)>> {
    let Some(end) = seconds(i, "trim_end", item.trim_end, 0.0, 86_400.0)? else {
        return Ok(removed);
    };
    if end <= trim_start {
        return Err(invalid(
            i,
            "trim_end",
            "trim_end must come after trim_start",
        ));
    }
    if end < length {
        removed.retain(|&(a, _)| a < end);
        for span in &mut removed {
            span.1 = span.1.min(end);
        }
        removed.push((end, length));
    }
    Ok(removed)
}

/// An audio item, checked: it takes no effect, title or transition, and
/// starts within its sound.
fn audio_part(
    i: usize,
    item: &TimelineItem,
    asset: &Asset,
    trim_start: f64,
    duration: Option<f64>,
    volume: f64,
    fps: u32,
) -> Result<PendingAudio> {
    for field in ["effect", "text"] {
        let set = if field == "effect" {
            item.effect.is_some()
        } else {
            item.text.is_some()
        };
        if set {
            return Err(invalid(
                i,
                field,
                "only visual items take an effect or a title",
            ));
        }
    }
    if item.transition.is_some() {
        return Err(invalid(
            i,
            "transition",
            "only visual items take a transition",
        ));
    }
    let length = duration_of(asset)
        .ok_or_else(|| invalid(i, "asset_id", "the audio's duration is unknown"))?;
    if trim_start >= length {
        return Err(invalid(
            i,
            "trim_start",
            format!("the audio is only {length:.2} s long"),
        ));
    }
    for (field, set) in [
        ("speed", item.speed.is_some()),
        ("muted", item.muted.is_some()),
    ] {
        if set {
            return Err(invalid(i, field, format!("{field} applies to clips")));
        }
    }
    let removed = ended(i, item, trim_start, length, cuts_of(i, item, length, fps)?)?;
    Ok(PendingAudio {
        asset: asset.clone(),
        trim_start,
        given: duration,
        volume,
        removed,
        fades: fades_of(i, item)?,
        offset: seconds(i, "start_offset", item.start_offset, 0.0, 86_400.0)?,
    })
}

/// Plays `parts` one after another from `from`, each at most its natural
/// length and none past `until` (cut there, and marked so).
fn place_audio(parts: Vec<PendingAudio>, from: f64, until: f64, audio: &mut Vec<AudioPart>) {
    let mut at = from;
    for part in parts {
        let natural = part.natural();
        let PendingAudio {
            asset,
            trim_start,
            given,
            volume,
            removed,
            fades: (fade_in, fade_out),
            offset,
        } = part;
        if let Some(offset) = offset {
            at = from + offset;
        }
        let wanted = given.unwrap_or(natural).min(natural);
        let room = (until - at).max(0.0);
        if room <= 0.0 {
            break;
        }
        audio.push(AudioPart {
            asset,
            at,
            trim_start,
            length: wanted.min(room),
            volume,
            cut: wanted > room + 1e-6,
            removed,
            fade_in,
            fade_out,
        });
        at += wanted;
    }
}

impl ComposeRequest {
    /// Whether an item asks for its asset to be made at render time.
    pub fn generates(&self) -> bool {
        self.timeline
            .iter()
            .flatten()
            .any(|item| item.generate.is_some())
    }

    /// The request for each of `outputs` (itself when it has none).
    pub fn per_output(&self) -> Result<Vec<ComposeRequest>> {
        let Some(list) = &self.outputs else {
            return Ok(vec![self.clone()]);
        };
        if self.output.is_some() {
            return Err(Error::invalid(
                "outputs",
                "give output (one size) or outputs (several), not both",
            ));
        }
        if list.is_empty() || list.len() > MAX_OUTPUTS {
            return Err(Error::invalid(
                "outputs",
                format!("1 to {MAX_OUTPUTS} outputs"),
            ));
        }
        Ok(list
            .iter()
            .map(|o| ComposeRequest {
                output: Some(OutputOptions {
                    aspect_ratio: o.aspect_ratio.clone(),
                    width: o.width,
                    height: o.height,
                    fps: o.fps,
                    quality: o.quality.clone(),
                }),
                fit: o.fit.clone().or_else(|| self.fit.clone()),
                outputs: None,
                ..self.clone()
            })
            .collect())
    }

    /// An error of the `i`-th output's request, named in `outputs`.
    pub fn output_error(&self, i: usize, e: Error) -> Error {
        match e {
            Error::Invalid { field, message } if self.outputs.is_some() => {
                let field = match field.strip_prefix("output.") {
                    Some(rest) => format!("outputs[{i}].{rest}"),
                    None if field == "fit" => format!("outputs[{i}].fit"),
                    None => field,
                };
                Error::invalid(field, message)
            }
            other => other,
        }
    }

    /// Checks everything that can be checked without rendering and works out
    /// the plan. `assets` are the session's assets; `max_seconds` bounds the
    /// video's length.
    pub fn plan(&self, assets: &[Asset], max_seconds: f64) -> Result<Plan> {
        self.plan_with(assets, max_seconds, Look::default())
    }

    /// [`plan`](Self::plan) in a brand kit's look (its fonts loaded).
    pub fn plan_with(&self, assets: &[Asset], max_seconds: f64, look: Look) -> Result<Plan> {
        let by_name: HashMap<&str, &Asset> = assets.iter().map(|a| (a.name.as_str(), a)).collect();
        let items = self.timeline.as_deref().unwrap_or_default();
        check_item_count(items)?;
        let (width, height, fps, quality) = self.output_options()?;
        let fit = self.fit()?;
        let (lead, pending) = group(items, &by_name, max_seconds, fps)?;
        let (scenes, audio, total) = timed(pending, lead, max_seconds)?;
        let music = self.music(&by_name)?;
        let overlays = overlays::place(
            self.overlays.as_deref().unwrap_or_default(),
            &by_name,
            (width, height),
            total,
            &look,
        )?;

        Ok(Plan {
            width,
            height,
            fps,
            quality,
            fit,
            captions: self.captions()?,
            scenes,
            audio,
            music,
            overlays,
            total,
            look,
        })
    }

    /// Checks the options alone (output, fit, music): what an empty saved
    /// timeline can be checked for.
    pub fn check_options(&self, assets: &[Asset]) -> Result<()> {
        let by_name: HashMap<&str, &Asset> = assets.iter().map(|a| (a.name.as_str(), a)).collect();
        let (width, height, _, _) = self.output_options()?;
        self.fit()?;
        self.captions()?;
        self.music(&by_name)?;
        // Of any length: everything but an overlay past the video's end.
        overlays::place(
            self.overlays.as_deref().unwrap_or_default(),
            &by_name,
            (width, height),
            f64::MAX,
            &Look::default(),
        )?;
        Ok(())
    }

    fn captions(&self) -> Result<Option<Captions>> {
        let styled = match &self.captions {
            None | Some(CaptionsOption::On(false)) => return Ok(None),
            Some(CaptionsOption::On(true)) => CaptionsStyle::default(),
            Some(CaptionsOption::Styled(s)) => s.clone(),
        };
        let style = match styled.style.as_deref().unwrap_or("plain") {
            "plain" => Style::Plain,
            "karaoke" => Style::Karaoke,
            "word" => Style::Word,
            other => {
                return Err(Error::invalid(
                    "captions.style",
                    format!("{other:?} is not plain, karaoke or word"),
                ));
            }
        };
        let position = match styled.position.as_deref().unwrap_or("bottom") {
            "bottom" => Position::Bottom,
            "middle" => Position::Middle,
            other => {
                return Err(Error::invalid(
                    "captions.position",
                    format!("{other:?} is not bottom or middle"),
                ));
            }
        };
        Ok(Some(Captions { style, position }))
    }

    fn fit(&self) -> Result<Fit> {
        match self.fit.as_deref().unwrap_or("cover") {
            "cover" => Ok(Fit::Cover),
            "contain" => Ok(Fit::Contain),
            other => Err(Error::invalid(
                "fit",
                format!("{other:?} is not cover or contain"),
            )),
        }
    }

    fn music(&self, by_name: &HashMap<&str, &Asset>) -> Result<Option<Music>> {
        Ok(match &self.music {
            None => None,
            Some(m) => {
                let asset = *by_name.get(m.asset_id.as_str()).ok_or_else(|| {
                    Error::invalid(
                        "music.asset_id",
                        format!("the session has no asset named {:?}", m.asset_id),
                    )
                })?;
                if asset.kind != AssetKind::Audio {
                    return Err(Error::invalid(
                        "music.asset_id",
                        format!(
                            "{} is a {} asset; music must be audio",
                            asset.name, asset.kind
                        ),
                    ));
                }
                if duration_of(asset).is_none() {
                    return Err(Error::invalid(
                        "music.asset_id",
                        "the music's duration is unknown",
                    ));
                }
                let volume = m.volume.unwrap_or(0.3);
                if !(limits::VOLUME.0..=limits::VOLUME.1).contains(&volume) {
                    return Err(Error::invalid("music.volume", "must be between 0 and 4"));
                }
                Some(Music {
                    asset: asset.clone(),
                    volume,
                    ducking: m.ducking.unwrap_or(true),
                })
            }
        })
    }

    fn output_options(&self) -> Result<(u32, u32, u32, Quality)> {
        let o = self.output.clone().unwrap_or_default();
        let sides = crate::frame::Sides {
            min: limits::MIN_SIDE,
            max: limits::MAX_SIDE,
            step: 2,
        };
        let (width, height) = crate::frame::size(
            o.width,
            o.height,
            o.aspect_ratio.as_deref(),
            sides,
            "output.",
        )?;
        let fps = o.fps.unwrap_or(30);
        if !(limits::FPS.0..=limits::FPS.1).contains(&fps) {
            return Err(Error::invalid("output.fps", "must be between 1 and 60"));
        }
        let quality = match o.quality.as_deref().unwrap_or("standard") {
            "draft" => Quality::Draft,
            "standard" => Quality::Standard,
            "high" => Quality::High,
            other => {
                return Err(Error::invalid(
                    "output.quality",
                    format!("{other:?} is not draft, standard or high"),
                ));
            }
        };
        // A draft has a quarter of the pixels (half each side, kept even).
        let (width, height) = match quality {
            Quality::Draft => ((width / 4 * 2).max(32), (height / 4 * 2).max(32)),
            _ => (width, height),
        };
        Ok((width, height, fps, quality))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{AssetName, SessionId};
    use serde_json::{Value, json};

    fn asset(name: &str, kind: AssetKind, metadata: Value) -> Asset {
        let name = AssetName::parse(name).unwrap();
        Asset {
            asset_id: name.clone(),
            session_id: SessionId::parse("s").unwrap(),
            kind,
            name,
            url: String::new(),
            mime_type: String::new(),
            size_bytes: 10,
            created_at: chrono::Utc::now(),
            source: "upload".into(),
            metadata,
            storage_key: String::new(),
        }
    }

    fn assets() -> Vec<Asset> {
        vec![
            asset(
                "image_1.png",
                AssetKind::Image,
                json!({"width": 64, "height": 36}),
            ),
            asset(
                "image_2.png",
                AssetKind::Image,
                json!({"width": 64, "height": 36}),
            ),
            asset(
                "audio_1.mp3",
                AssetKind::Audio,
                json!({"duration_seconds": 4.0}),
            ),
            asset(
                "audio_2.mp3",
                AssetKind::Audio,
                json!({"duration_seconds": 2.5}),
            ),
            asset(
                "video_1.mp4",
                AssetKind::Video,
                json!({"duration_seconds": 10.0, "width": 64, "height": 36}),
            ),
        ]
    }

    fn plan(body: Value) -> Result<Plan> {
        let req: ComposeRequest = serde_json::from_value(body).unwrap();
        req.plan(&assets(), 600.0)
    }

    #[test]
    fn scenes_are_timed_by_what_is_given_then_by_their_narration() {
        let p = plan(json!({"timeline": [
            {"asset_id": "image_1.png"}, {"asset_id": "audio_1.mp3"},
            {"asset_id": "image_2.png", "duration": 1.5}, {"asset_id": "audio_2.mp3"}
        ]}))
        .unwrap();
        let times: Vec<(f64, f64)> = p.scenes.iter().map(|s| (s.start, s.duration)).collect();
        assert_eq!(times, [(0.0, 4.0), (4.0, 1.5)]);
        // The second narration is cut at its scene's end, and says so.
        let parts: Vec<(f64, f64, bool)> =
            p.audio.iter().map(|a| (a.at, a.length, a.cut)).collect();
        assert_eq!(parts, [(0.0, 4.0, false), (4.0, 1.5, true)]);
    }

    #[test]
    fn sound_before_any_picture_plays_over_the_whole_video_in_order() {
        let p = plan(json!({"timeline": [
            {"asset_id": "audio_2.mp3"}, {"asset_id": "audio_1.mp3"},
            {"asset_id": "image_1.png", "duration": 3}, {"asset_id": "image_2.png", "duration": 2}
        ]}))
        .unwrap();
        let parts: Vec<(f64, f64, bool)> =
            p.audio.iter().map(|a| (a.at, a.length, a.cut)).collect();
        assert_eq!(parts, [(0.0, 2.5, false), (2.5, 2.5, true)]);
    }

    #[test]
    fn an_item_that_cannot_be_is_named_with_its_index() {
        let field = |body: Value| plan(body).unwrap_err().field().map(str::to_owned);
        assert_eq!(
            field(json!({"timeline": [{"asset_id": "image_1.png", "effect": "spin"}]})).as_deref(),
            Some("timeline[0].effect")
        );
        assert_eq!(
            field(json!({"timeline": [
                {"asset_id": "image_1.png"}, {"asset_id": "audio_1.mp3", "text": "hi"}
            ]}))
            .as_deref(),
            Some("timeline[1].text")
        );
        assert_eq!(
            field(json!({"timeline": [{"asset_id": "audio_1.mp3"}]})).as_deref(),
            Some("timeline")
        );
    }

    #[test]
    fn a_clip_shortened_by_its_cuts_shows_what_follows_each_cut() {
        let p = plan(
            json!({"timeline": [{"asset_id": "video_1.mp4", "trim_start": 1,
            "cuts": [{"start": 5, "end": 6}, {"start": 0, "end": 2}]}], "output": {"fps": 10}}),
        )
        .unwrap();
        let scene = &p.scenes[0];
        // 10 s, less the first second trimmed, less 1 s of each cut after it.
        assert!((scene.duration - 7.0).abs() < 1e-9, "{}", scene.duration);
        assert_eq!(scene.removed, [(0.0, 2.0), (5.0, 6.0)]);
        let at = |after: f64| (scene.media_at(after) * 1000.0).round() / 1000.0;
        assert_eq!([at(0.0), at(2.9), at(3.0), at(6.9)], [2.0, 4.9, 6.0, 9.9]);
        assert_eq!(scene.kept(), [(2.0, 3.0), (6.0, 4.0)]);
        assert!((scene.heard_at(6.5) - 3.5).abs() < 1e-9);
        let err = plan(json!({"timeline": [{"asset_id": "video_1.mp4",
            "cuts": [{"start": 12, "end": 13}]}]}))
        .unwrap_err();
        assert_eq!(err.field(), Some("timeline[0].cuts[0]"));
    }
}
