//! Overlays: pictures and text drawn over the scenes, in order (later ones
//! on top), at times of the finished video — a logo in a corner, a lower
//! third under a speaker, a label. Checked and placed in whole pixels here,
//! before any work; drawn by each segment they touch (`graph.rs`), so a
//! change to one re-renders only the segments it covers.
//!
//! Text overlays are drawn here, with the bundled font, as transparent PNGs
//! at their final size: ffmpeg's drawbox and drawtext do not write alpha, so
//! they could not fade or sit on a translucent band.

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::Arc;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::keyframes::{Keyframe, Motion, Pose};
use super::look::{FontData, Look, hex_colour};
pub use super::look::{OverlayPosition, PRESETS};
use crate::error::{Error, Result};
use crate::ids::AssetKind;
use crate::store::Asset;

/// The most overlays one compose takes.
pub const MAX_OVERLAYS: usize = 50;
/// The longest overlay text or subtitle, characters.
pub const TEXT_CHARS: usize = 200;

/// One overlay of `overlays`: a picture (`asset_id`) or a text (`text`).
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Overlay {
    /// A picture of the session (a logo, a product shot).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "image_2.png")]
    pub asset_id: Option<String>,
    /// Text to show instead of a picture.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// A second, smaller line under `text`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subtitle: Option<String>,
    /// Text overlays: `lower_third` (default: a band at the bottom left with
    /// an accent bar), `title` (large, centred, shadowed) or `label` (small,
    /// on a band, top left).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub style: Option<String>,
    /// Seconds of the finished video (default 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<f64>,
    /// Seconds of the finished video; absent or null: to the end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<f64>,
    /// A preset (`top_left`, `top`, `top_right`, `left`, `center`, `right`,
    /// `bottom_left`, `bottom`, `bottom_right`) or `{"x", "y"}`: the
    /// overlay's top-left corner as fractions of the frame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<OverlayPosition>,
    /// Pictures: the overlay's width as a fraction of the frame's (default
    /// 0.2; the height keeps the picture's shape).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<f64>,
    /// Pictures: the height as a fraction of the frame's, instead of `width`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<f64>,
    /// Distance from the frame's edges for presets, a fraction of the
    /// frame's width (default 0.03).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub margin: Option<f64>,
    /// 0–1 (default 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opacity: Option<f64>,
    /// Seconds of fading in and out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fade_in: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fade_out: Option<f64>,
    /// Text colour, `#rrggbb` (default white).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// The band's colour, `#rrggbb` or `#rrggbbaa` (default black at 60 %).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub background: Option<String>,
    /// The text's height as a fraction of the frame's (default 0.05 for a
    /// lower third, 0.09 for a title, 0.04 for a label).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<f64>,
    /// Pictures and clips: `rect` (default), `rounded` or `circle` (an
    /// ellipse in a frame that is not square), with smooth edges.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shape: Option<String>,
    /// Pictures and clips: make one colour transparent (a green screen).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chroma_key: Option<ChromaKey>,
    /// Clips: the gain of the clip's own sound, 0–4 (default 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume: Option<f64>,
    /// Pictures and text: motion over the overlay's time. Each keyframe
    /// (`t` in seconds from the overlay's start) sets some of `x`, `y`,
    /// `width`, `opacity` and `rotation`, with the `easing` of the move
    /// into it; each property moves between the keyframes that set it and
    /// holds before the first and after the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyframes: Option<Vec<Keyframe>>,
    /// Text overlays: an uploaded font (a `font` asset; default the brand
    /// kit's, else the studio's).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "font_1.ttf")]
    pub font: Option<String>,
}

/// `chroma_key`: the colour made transparent.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ChromaKey {
    /// `#rrggbb`.
    #[schema(example = "#00ff00")]
    pub color: String,
    /// How near a colour must be to go, 0.01–1 (default 0.25).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub similarity: Option<f64>,
    /// How softly the edge fades, 0–1 (default 0.05).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blend: Option<f64>,
}

/// An overlay's outline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    Rect,
    Rounded,
    Circle,
}

/// How a text overlay looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TextStyle {
    LowerThird,
    Title,
    Label,
}

/// A text overlay, ready to draw.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TextLayer {
    pub style: TextStyle,
    pub text: String,
    pub subtitle: Option<String>,
    pub color: [u8; 3],
    /// The band (none for a title).
    pub background: Option<[u8; 4]>,
    pub accent: [u8; 3],
    /// The main line's height in pixels.
    pub size_px: f32,
    /// An uploaded font (none: the studio's), known in keys by its bytes' key.
    #[serde(skip)]
    pub font: Option<Arc<FontData>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub font_key: Option<String>,
}

#[derive(Clone, Debug)]
pub enum Layer {
    Picture(Asset),
    /// A video clip playing from its start at the overlay's start
    /// (picture-in-picture).
    Clip(Asset),
    Text(TextLayer),
}

/// An overlay placed in the frame and in time.
#[derive(Clone, Debug)]
pub struct PlacedOverlay {
    pub layer: Layer,
    /// Seconds of the finished video.
    pub start: f64,
    pub end: f64,
    /// Top-left corner and size, whole pixels (the corner may lie outside).
    pub x: i64,
    pub y: i64,
    pub w: u32,
    pub h: u32,
    pub opacity: f64,
    pub fade_in: f64,
    pub fade_out: f64,
    pub shape: Shape,
    /// The colour keyed out, its similarity and blend.
    pub chroma_key: Option<([u8; 3], f64, f64)>,
    /// A clip's sound's gain (0: none).
    pub volume: f64,
    /// Its keyframes, when it moves: drawn frame by frame then.
    pub motion: Option<Motion>,
}

impl PlacedOverlay {
    /// A clip overlay whose sound is mixed into the soundtrack.
    pub fn sound(&self) -> Option<&Asset> {
        match &self.layer {
            Layer::Clip(a) if self.volume > 0.0 && a.metadata["has_audio"] == true => Some(a),
            _ => None,
        }
    }

    /// What decides its pixels (for the segment keys).
    pub fn identity(&self) -> Value {
        let layer = match &self.layer {
            Layer::Picture(a) => json!({"picture": a.storage_key, "bytes": a.size_bytes}),
            Layer::Clip(a) => json!({"clip": a.storage_key, "bytes": a.size_bytes}),
            Layer::Text(t) => json!({"text": t}),
        };
        let mut identity = json!({
            "layer": layer,
            "start": self.start, "end": self.end,
            "at": [self.x, self.y, self.w, self.h],
            "opacity": self.opacity, "fades": [self.fade_in, self.fade_out],
        });
        if self.shape != Shape::Rect {
            identity["shape"] = json!(self.shape);
        }
        if let Some(key) = self.chroma_key {
            identity["chroma_key"] = json!(key);
        }
        if let Some(motion) = &self.motion {
            identity["keyframes"] = json!(motion.keyframes);
        }
        identity
    }
}

fn invalid(index: usize, field: &str, message: impl std::fmt::Display) -> Error {
    Error::invalid(format!("overlays[{index}].{field}"), message.to_string())
}

/// A number in `[min, max]`, or the field named.
fn within(
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
            format!("{field} {v} is outside {min}–{max}"),
        )),
        other => Ok(other),
    }
}

/// `#rrggbb` or `#rrggbbaa`.
fn colour(index: usize, field: &str, value: &str) -> Result<[u8; 4]> {
    hex_colour(value, true).ok_or_else(|| invalid(index, field, "a colour is #rrggbb or #rrggbbaa"))
}

/// Checks `overlays` against the session's assets and places them in a
/// `width`×`height` frame of a video `total` seconds long.
pub fn place(
    overlays: &[Overlay],
    by_name: &HashMap<&str, &Asset>,
    (width, height): (u32, u32),
    total: f64,
    look: &Look,
) -> Result<Vec<PlacedOverlay>> {
    if overlays.len() > MAX_OVERLAYS {
        return Err(Error::invalid(
            "overlays",
            format!("at most {MAX_OVERLAYS} overlays"),
        ));
    }
    let mut placed = overlays
        .iter()
        .enumerate()
        .map(|(i, o)| place_one(i, o, by_name, (width, height), total, look))
        .collect::<Result<Vec<_>>>()?;
    // The brand's watermark, over everything, for the whole video.
    if let Some((logo, at)) = &look.watermark {
        let logo_only = HashMap::from([(logo.name.as_str(), logo)]);
        let overlay = Overlay {
            asset_id: Some(logo.name.to_string()),
            position: Some(at.position.clone()),
            width: Some(at.width),
            opacity: Some(at.opacity),
            margin: at.margin,
            ..Overlay::default()
        };
        let mark = place_one(0, &overlay, &logo_only, (width, height), total, look).map_err(
            |e| match e {
                Error::Invalid { message, .. } => Error::invalid("brand.watermark", message),
                other => other,
            },
        )?;
        placed.push(mark);
    }
    Ok(placed)
}

/// Checks one overlay (`i` of the list) and places it in the frame.
fn place_one(
    i: usize,
    o: &Overlay,
    by_name: &HashMap<&str, &Asset>,
    (fw, fh): (u32, u32),
    total: f64,
    look: &Look,
) -> Result<PlacedOverlay> {
    let (start, end) = times(i, o, by_name, total)?;
    let (opacity, fade_in, fade_out) = opacity_and_fades(i, o, end - start)?;
    let margin = within(i, "margin", o.margin, 0.0, 0.5)?.unwrap_or(0.03);
    let (layer, w, h, default_position) = layer_of(i, o, by_name, (fw, fh), look)?;
    let is_text = matches!(layer, Layer::Text(_));
    let shape = shape_of(i, o, is_text)?;
    let chroma_key = chroma_key_of(i, o, is_text)?;
    let volume = volume_of(i, o, &layer)?;
    let (x, y) = position_of(i, o, default_position, margin, (fw, fh), (w, h))?;
    let mut placed = PlacedOverlay {
        layer,
        start,
        end,
        x,
        y,
        w,
        h,
        opacity,
        fade_in,
        fade_out,
        shape,
        chroma_key,
        volume,
        motion: None,
    };
    placed.motion = motion_of(i, o, &placed, (fw, fh))?;
    Ok(placed)
}

/// Its start and end in the finished video (a clip's no later than its own end).
fn times(i: usize, o: &Overlay, by_name: &HashMap<&str, &Asset>, total: f64) -> Result<(f64, f64)> {
    let start = within(i, "start", o.start, 0.0, f64::MAX)?.unwrap_or(0.0);
    if start >= total {
        return Err(invalid(
            i,
            "start",
            format!("starts at {start} s, after the video's end ({total:.2} s)"),
        ));
    }
    let mut end = within(i, "end", o.end, 0.0, f64::MAX)?.map_or(total, |e| e.min(total));
    // A clip shows while it plays.
    if let Some(asset) = o.asset_id.as_deref().and_then(|n| by_name.get(n))
        && asset.kind == AssetKind::Video
        && let Some(length) = asset.metadata["duration_seconds"].as_f64()
    {
        end = end.min(start + length);
    }
    if end <= start {
        return Err(invalid(i, "end", "an overlay ends after it starts"));
    }
    Ok((start, end))
}

/// Its opacity and fades, the fades fitting in its `length` seconds.
fn opacity_and_fades(i: usize, o: &Overlay, length: f64) -> Result<(f64, f64, f64)> {
    let opacity = within(i, "opacity", o.opacity, 0.0, 1.0)?.unwrap_or(1.0);
    let fade_in = within(i, "fade_in", o.fade_in, 0.0, 60.0)?.unwrap_or(0.0);
    let fade_out = within(i, "fade_out", o.fade_out, 0.0, 60.0)?.unwrap_or(0.0);
    if fade_in + fade_out > length + 1e-9 {
        return Err(invalid(
            i,
            "fade_out",
            format!("the fades last longer than the overlay ({length:.2} s)"),
        ));
    }
    Ok((opacity, fade_in, fade_out))
}

/// What it draws (a picture, clip or text), its size and its default position.
fn layer_of(
    i: usize,
    o: &Overlay,
    by_name: &HashMap<&str, &Asset>,
    (fw, fh): (u32, u32),
    look: &Look,
) -> Result<(Layer, u32, u32, &'static str)> {
    match (&o.asset_id, &o.text) {
        (Some(_), Some(_)) => Err(invalid(
            i,
            "text",
            "an overlay is a picture (asset_id) or a text, not both",
        )),
        (None, None) => Err(invalid(
            i,
            "asset_id",
            "an overlay needs an asset_id (a picture) or a text",
        )),
        (Some(name), None) => {
            let (layer, w, h) = picture(i, o, name, by_name, (fw, fh))?;
            Ok((layer, w, h, "top_right"))
        }
        (None, Some(text)) => {
            let layer = text_layer(i, o, text, fh, by_name, look)?;
            let (w, h) = text_size(&layer);
            let position = match layer.style {
                TextStyle::LowerThird => "bottom_left",
                TextStyle::Title => "center",
                TextStyle::Label => "top_left",
            };
            Ok((Layer::Text(layer), w, h, position))
        }
    }
}

/// Its shape (text overlays are rectangles).
fn shape_of(i: usize, o: &Overlay, is_text: bool) -> Result<Shape> {
    match o.shape.as_deref() {
        None | Some("rect") => Ok(Shape::Rect),
        Some(_) if is_text => Err(invalid(i, "shape", "text overlays are rectangles")),
        Some("rounded") => Ok(Shape::Rounded),
        Some("circle") => Ok(Shape::Circle),
        Some(other) => Err(invalid(
            i,
            "shape",
            format!("unknown shape {other:?}; use rect, rounded or circle"),
        )),
    }
}

/// The colour keyed out of a picture or clip, its similarity and blend.
fn chroma_key_of(i: usize, o: &Overlay, is_text: bool) -> Result<Option<([u8; 3], f64, f64)>> {
    match &o.chroma_key {
        None => Ok(None),
        Some(_) if is_text => Err(invalid(
            i,
            "chroma_key",
            "text overlays have nothing to key",
        )),
        Some(k) => {
            let [r, g, b, _] = colour(i, "chroma_key.color", &k.color)?;
            let similarity =
                within(i, "chroma_key.similarity", k.similarity, 0.01, 1.0)?.unwrap_or(0.25);
            let blend = within(i, "chroma_key.blend", k.blend, 0.0, 1.0)?.unwrap_or(0.05);
            Ok(Some(([r, g, b], similarity, blend)))
        }
    }
}

/// A clip's sound's gain (0 for pictures and text, which have none).
fn volume_of(i: usize, o: &Overlay, layer: &Layer) -> Result<f64> {
    match (layer, o.volume) {
        (Layer::Clip(_), v) => Ok(within(i, "volume", v, 0.0, 4.0)?.unwrap_or(1.0)),
        (_, Some(_)) => Err(invalid(i, "volume", "only clip overlays have sound")),
        (_, None) => Ok(0.0),
    }
}

/// Its top-left corner in whole pixels: a preset's, or a point's.
fn position_of(
    i: usize,
    o: &Overlay,
    default_position: &str,
    margin: f64,
    (fw, fh): (u32, u32),
    (w, h): (u32, u32),
) -> Result<(i64, i64)> {
    match &o.position {
        None => Ok(preset(default_position, margin, (fw, fh), (w, h))),
        Some(OverlayPosition::Preset(name)) if PRESETS.contains(&name.as_str()) => {
            Ok(preset(name, margin, (fw, fh), (w, h)))
        }
        Some(OverlayPosition::Preset(other)) => Err(invalid(
            i,
            "position",
            format!(
                "unknown position {other:?}; use {} or {{\"x\", \"y\"}}",
                PRESETS.join(", ")
            ),
        )),
        Some(OverlayPosition::Point { x, y }) => {
            within(i, "position.x", Some(*x), -1.0, 1.0)?;
            within(i, "position.y", Some(*y), -1.0, 1.0)?;
            Ok((
                (x * f64::from(fw)).round() as i64,
                (y * f64::from(fh)).round() as i64,
            ))
        }
    }
}

/// Its keyframes checked from its placed pose, when it moves (not yet on clips).
fn motion_of(
    i: usize,
    o: &Overlay,
    placed: &PlacedOverlay,
    (fw, fh): (u32, u32),
) -> Result<Option<Motion>> {
    let Some(keyframes) = &o.keyframes else {
        return Ok(None);
    };
    if matches!(placed.layer, Layer::Clip(_)) {
        return Err(invalid(
            i,
            "keyframes",
            "keyframes on a clip overlay are not supported yet",
        ));
    }
    let (w, h) = (placed.w, placed.h);
    // Height over width: the picture's own shape, or the text's.
    let aspect = match &placed.layer {
        Layer::Picture(a) | Layer::Clip(a) => {
            let side = |k: &str| a.metadata[k].as_f64().unwrap_or(1.0).max(1.0);
            side("height") / side("width")
        }
        Layer::Text(_) => f64::from(h) / f64::from(w),
    };
    let base = Pose {
        x: placed.x as f64,
        y: placed.y as f64,
        w: f64::from(w),
        h: f64::from(w) * aspect,
        opacity: placed.opacity,
        rotation: 0.0,
    };
    let length = placed.end - placed.start;
    Ok(Some(Motion::check(
        i,
        keyframes,
        length,
        (fw, fh),
        base,
        aspect,
    )?))
}

/// A picture overlay: the asset and its size in the frame.
fn picture(
    i: usize,
    o: &Overlay,
    name: &str,
    by_name: &HashMap<&str, &Asset>,
    (fw, fh): (u32, u32),
) -> Result<(Layer, u32, u32)> {
    let asset = *by_name.get(name).ok_or_else(|| {
        invalid(
            i,
            "asset_id",
            format!("the session has no asset named {name:?}"),
        )
    })?;
    match asset.kind {
        AssetKind::Image | AssetKind::Video => {}
        other => {
            return Err(invalid(
                i,
                "asset_id",
                format!("{name} is a {other} asset; an overlay shows a picture"),
            ));
        }
    }
    for field in ["style", "subtitle", "color", "background", "size", "font"] {
        let set = match field {
            "style" => o.style.is_some(),
            "subtitle" => o.subtitle.is_some(),
            "color" => o.color.is_some(),
            "background" => o.background.is_some(),
            "font" => o.font.is_some(),
            _ => o.size.is_some(),
        };
        if set {
            return Err(invalid(
                i,
                field,
                "only text overlays take a style, subtitle, colour, size or font",
            ));
        }
    }
    let (pw, ph) = (
        asset.metadata["width"].as_f64().unwrap_or(1.0).max(1.0),
        asset.metadata["height"].as_f64().unwrap_or(1.0).max(1.0),
    );
    let (w, h) = match (o.width, o.height) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                i,
                "height",
                "give width or height; the other keeps the picture's shape",
            ));
        }
        (_, Some(hf)) => {
            let hf = within(i, "height", Some(hf), 0.01, 1.0)?.unwrap_or(0.2);
            let h = hf * f64::from(fh);
            (h * pw / ph, h)
        }
        (wf, None) => {
            let wf = within(i, "width", wf, 0.01, 1.0)?.unwrap_or(0.2);
            let w = wf * f64::from(fw);
            (w, w * ph / pw)
        }
    };
    // Even sides: a clip's frames are scaled in 4:2:0 before they get alpha.
    let side = |v: f64, max: u32| ((v / 2.0).round() as u32 * 2).clamp(2, 2 * max);
    let layer = if asset.kind == AssetKind::Video {
        Layer::Clip(asset.clone())
    } else {
        Layer::Picture(asset.clone())
    };
    Ok((layer, side(w, fw), side(h, fh)))
}

fn text_layer(
    i: usize,
    o: &Overlay,
    text: &str,
    fh: u32,
    by_name: &HashMap<&str, &Asset>,
    look: &Look,
) -> Result<TextLayer> {
    if let Some(name) = &o.font {
        match by_name.get(name.as_str()) {
            Some(a) if a.kind == AssetKind::Font => {}
            Some(a) => {
                return Err(invalid(
                    i,
                    "font",
                    format!("{name} is a {} asset; upload a TTF or OTF font", a.kind),
                ));
            }
            None => {
                return Err(invalid(
                    i,
                    "font",
                    format!("the session has no asset named {name:?}"),
                ));
            }
        }
    }
    if o.width.is_some() || o.height.is_some() {
        return Err(invalid(i, "width", "a text overlay's size is its `size`"));
    }
    let style = match o.style.as_deref().unwrap_or("lower_third") {
        "lower_third" => TextStyle::LowerThird,
        "title" => TextStyle::Title,
        "label" => TextStyle::Label,
        other => {
            return Err(invalid(
                i,
                "style",
                format!("unknown style {other:?}; use lower_third, title or label"),
            ));
        }
    };
    let clean = |field: &str, s: &str| -> Result<String> {
        let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
        if s.chars().count() > TEXT_CHARS {
            return Err(invalid(
                i,
                field,
                format!("at most {TEXT_CHARS} characters"),
            ));
        }
        Ok(s)
    };
    let text = clean("text", text)?;
    if text.is_empty() {
        return Err(invalid(i, "text", "the text is empty"));
    }
    let subtitle = o
        .subtitle
        .as_deref()
        .map(|s| clean("subtitle", s))
        .transpose()?
        .filter(|s| !s.is_empty());
    let default_size = match style {
        TextStyle::LowerThird => 0.05,
        TextStyle::Title => 0.09,
        TextStyle::Label => 0.04,
    };
    let size = within(i, "size", o.size, 0.01, 0.3)?.unwrap_or(default_size);
    let color = match &o.color {
        Some(c) => {
            let [r, g, b, _] = colour(i, "color", c)?;
            [r, g, b]
        }
        None => look.text.unwrap_or([255, 255, 255]),
    };
    let background = match (&o.background, style) {
        (Some(c), _) => Some(colour(i, "background", c)?),
        (None, TextStyle::Title) => None,
        (None, _) => Some(
            look.background
                .map_or([0, 0, 0, 153], |[r, g, b]| [r, g, b, 217]),
        ),
    };
    let font = look.font_for(o.font.as_deref());
    Ok(TextLayer {
        style,
        text,
        subtitle,
        color,
        background,
        accent: look.accent.unwrap_or([255, 204, 0]),
        size_px: (size * f64::from(fh)).max(8.0) as f32,
        font_key: font.as_ref().map(|f| f.key.clone()),
        font,
    })
}

/// The top-left corner for a preset.
fn preset(name: &str, margin: f64, (fw, fh): (u32, u32), (w, h): (u32, u32)) -> (i64, i64) {
    let m = (margin * f64::from(fw)).round() as i64;
    let (fw, fh, w, h) = (i64::from(fw), i64::from(fh), i64::from(w), i64::from(h));
    let x = if name.ends_with("left") {
        m
    } else if name.ends_with("right") {
        fw - w - m
    } else {
        (fw - w) / 2
    };
    let y = if name.starts_with("top") {
        m
    } else if name.starts_with("bottom") {
        fh - h - m
    } else {
        (fh - h) / 2
    };
    (x, y)
}

/// The layer's font: its uploaded one (checked when it was uploaded), else
/// the studio's.
fn font(t: &TextLayer) -> FontRef<'_> {
    t.font
        .as_ref()
        .and_then(|f| FontRef::try_from_slice(&f.bytes).ok())
        .unwrap_or_else(|| {
            FontRef::try_from_slice(crate::frame::FONT_BYTES).expect("the bundled font parses")
        })
}

/// The lines of a text layer: (text, pixel size, colour alpha).
fn lines(t: &TextLayer) -> Vec<(&str, f32, f32)> {
    let mut out = vec![(t.text.as_str(), t.size_px, 1.0)];
    if let Some(sub) = &t.subtitle {
        out.push((sub.as_str(), t.size_px * 0.65, 0.85));
    }
    out
}

fn line_width(font: &FontRef<'_>, text: &str, size: f32) -> f32 {
    let scaled = font.as_scaled(PxScale::from(size));
    text.chars()
        .map(|c| scaled.h_advance(font.glyph_id(c)))
        .sum()
}

/// Padding around the text, and the accent bar's width, in pixels.
fn padding(t: &TextLayer) -> (f32, f32) {
    match t.style {
        TextStyle::LowerThird => (t.size_px * 0.45, (t.size_px * 0.14).max(3.0)),
        TextStyle::Label => (t.size_px * 0.35, 0.0),
        TextStyle::Title => (t.size_px * 0.15, 0.0),
    }
}

/// The layer's size in pixels.
pub fn text_size(t: &TextLayer) -> (u32, u32) {
    let font = font(t);
    let (pad, bar) = padding(t);
    let mut w: f32 = 0.0;
    let mut h: f32 = 0.0;
    for (text, size, _) in lines(t) {
        w = w.max(line_width(&font, text, size));
        h += size * 1.25;
    }
    (
        (w + 2.0 * pad + bar).ceil().max(2.0) as u32,
        (h + 2.0 * pad).ceil().max(2.0) as u32,
    )
}

/// An overlay's outline as a greyscale PNG of its size (white inside, the
/// edge antialiased), or none for a rectangle.
pub fn shape_mask(shape: Shape, w: u32, h: u32) -> Result<Option<Vec<u8>>> {
    let Some(coverage) = shape_coverage(shape, w, h) else {
        return Ok(None);
    };
    let img = image::GrayImage::from_fn(w, h, |x, y| {
        let c = coverage[(y * w + x) as usize];
        image::Luma([(c * 255.0).round() as u8])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| Error::Internal(format!("PNG encoding failed: {e}")))?;
    Ok(Some(out.into_inner()))
}

/// How much of each pixel of a `w`×`h` overlay its outline covers (0–1,
/// row by row), or none for a rectangle.
pub fn shape_coverage(shape: Shape, w: u32, h: u32) -> Option<Vec<f64>> {
    if shape == Shape::Rect {
        return None;
    }
    let (hw, hh) = (f64::from(w) / 2.0, f64::from(h) / 2.0);
    let r = 0.15 * f64::from(w.min(h));
    let coverage = |x: f64, y: f64| -> f64 {
        if shape == Shape::Circle {
            // How far outside the inscribed ellipse, in pixels (nearly).
            let d = ((x - hw) / hw).hypot((y - hh) / hh);
            ((1.0 - d) * hw.min(hh) + 0.5).clamp(0.0, 1.0)
        } else {
            // The signed distance to a rectangle with rounded corners.
            let qx = (x - hw).abs() - (hw - r);
            let qy = (y - hh).abs() - (hh - r);
            let outside = qx.max(0.0).hypot(qy.max(0.0)) + qx.max(qy).min(0.0) - r;
            (0.5 - outside).clamp(0.0, 1.0)
        }
    };
    Some(
        (0..h)
            .flat_map(|y| (0..w).map(move |x| (x, y)))
            .map(|(x, y)| coverage(f64::from(x) + 0.5, f64::from(y) + 0.5))
            .collect(),
    )
}

/// Draws a text layer as a transparent PNG of its size.
pub fn render_text(t: &TextLayer) -> Result<Vec<u8>> {
    let img = draw_text(t);
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| Error::Internal(format!("PNG encoding failed: {e}")))?;
    Ok(out.into_inner())
}

/// Draws a text layer as a transparent picture of its size.
pub fn draw_text(t: &TextLayer) -> image::RgbaImage {
    let (w, h) = text_size(t);
    let mut img = image::RgbaImage::new(w, h);
    let (pad, bar) = padding(t);
    if let Some(bg) = t.background {
        for p in img.pixels_mut() {
            *p = image::Rgba(bg);
        }
    }
    if bar > 0.0 {
        let [r, g, b] = t.accent;
        for y in 0..h {
            for x in 0..(bar.round() as u32).min(w) {
                img.put_pixel(x, y, image::Rgba([r, g, b, 255]));
            }
        }
    }
    let font = font(t);
    let mut top = pad;
    for (text, size, alpha) in lines(t) {
        let scaled = font.as_scaled(PxScale::from(size));
        let baseline =
            top + (size * 1.25 - (scaled.ascent() - scaled.descent())) / 2.0 + scaled.ascent();
        let left = match t.style {
            TextStyle::Title => (w as f32 - line_width(&font, text, size)) / 2.0,
            _ => pad + bar,
        };
        if t.style == TextStyle::Title {
            // A soft shadow, so that a title reads on any picture.
            let offset = (size / 24.0).max(1.0);
            draw_line(
                &mut img,
                &font,
                text,
                size,
                (left + offset, baseline + offset),
                [0, 0, 0],
                0.6,
            );
        }
        draw_line(
            &mut img,
            &font,
            text,
            size,
            (left, baseline),
            t.color,
            alpha,
        );
        top += size * 1.25;
    }
    img
}

fn draw_line(
    img: &mut image::RgbaImage,
    font: &FontRef<'_>,
    text: &str,
    size: f32,
    (mut x, baseline): (f32, f32),
    rgb: [u8; 3],
    alpha: f32,
) {
    let scaled = font.as_scaled(PxScale::from(size));
    let (w, h) = img.dimensions();
    for c in text.chars() {
        let id = font.glyph_id(c);
        let glyph = id.with_scale_and_position(PxScale::from(size), ab_glyph::point(x, baseline));
        x += scaled.h_advance(id);
        let Some(outlined) = font.outline_glyph(glyph) else {
            continue;
        };
        let bounds = outlined.px_bounds();
        outlined.draw(|gx, gy, coverage| {
            let (px, py) = (
                bounds.min.x as i64 + i64::from(gx),
                bounds.min.y as i64 + i64::from(gy),
            );
            if px >= 0 && py >= 0 && (px as u32) < w && (py as u32) < h {
                over(
                    img.get_pixel_mut(px as u32, py as u32),
                    rgb,
                    coverage * alpha,
                );
            }
        });
    }
}

/// `rgb` at `alpha` over a pixel (straight alpha).
fn over(p: &mut image::Rgba<u8>, rgb: [u8; 3], alpha: f32) {
    let sa = alpha.clamp(0.0, 1.0);
    let da = f32::from(p[3]) / 255.0;
    let oa = sa + da * (1.0 - sa);
    if oa <= 0.0 {
        return;
    }
    for k in 0..3 {
        let v = (f32::from(rgb[k]) * sa + f32::from(p[k]) * da * (1.0 - sa)) / oa;
        p[k] = v.round().clamp(0.0, 255.0) as u8;
    }
    p[3] = (oa * 255.0).round() as u8;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{AssetName, SessionId};

    fn logo() -> Asset {
        let name = AssetName::parse("image_1.png").unwrap();
        Asset {
            asset_id: name.clone(),
            session_id: SessionId::parse("s").unwrap(),
            kind: AssetKind::Image,
            name,
            url: String::new(),
            mime_type: "image/png".into(),
            size_bytes: 10,
            created_at: chrono::Utc::now(),
            source: "upload".into(),
            metadata: json!({"width": 200, "height": 100}),
            storage_key: "k".into(),
        }
    }

    fn placed(o: Value) -> Result<PlacedOverlay> {
        let o: Overlay = serde_json::from_value(o).unwrap();
        let asset = logo();
        let by_name = HashMap::from([("image_1.png", &asset)]);
        place(&[o], &by_name, (1000, 500), 10.0, &Look::default()).map(|mut v| v.remove(0))
    }

    #[test]
    fn presets_and_points_place_the_corner() {
        let p = placed(json!({"asset_id": "image_1.png", "width": 0.2, "margin": 0.03})).unwrap();
        // 200×100 px, top right, 30 px in.
        assert_eq!((p.x, p.y, p.w, p.h), (770, 30, 200, 100));
        assert_eq!((p.start, p.end), (0.0, 10.0));
        let p = placed(json!({"asset_id": "image_1.png", "height": 0.1, "position": "bottom"}))
            .unwrap();
        assert_eq!((p.x, p.y, p.w, p.h), (450, 420, 100, 50));
        let p =
            placed(json!({"asset_id": "image_1.png", "position": {"x": 0.05, "y": 0.6}})).unwrap();
        assert_eq!((p.x, p.y), (50, 300));
    }

    #[test]
    fn mistakes_are_named() {
        let field = |o: Value| placed(o).unwrap_err().field().map(str::to_owned);
        assert_eq!(
            field(json!({"text": "x", "start": 11})).as_deref(),
            Some("overlays[0].start")
        );
        assert_eq!(
            field(json!({"text": "x", "start": 2, "end": 1})).as_deref(),
            Some("overlays[0].end")
        );
        assert_eq!(
            field(json!({"asset_id": "image_9.png"})).as_deref(),
            Some("overlays[0].asset_id")
        );
        assert_eq!(
            field(json!({"text": "x", "position": "middle"})).as_deref(),
            Some("overlays[0].position")
        );
        assert_eq!(
            field(json!({"text": "x", "color": "#12345"})).as_deref(),
            Some("overlays[0].color")
        );
        assert_eq!(
            field(json!({"text": "x", "keyframes": []})).as_deref(),
            Some("overlays[0].keyframes")
        );
        assert_eq!(field(json!({})).as_deref(), Some("overlays[0].asset_id"));
    }

    #[test]
    fn keyframes_move_pictures_and_text_but_not_clips_yet() {
        let p = placed(json!({"asset_id": "image_1.png", "width": 0.2,
            "keyframes": [{"t": 0, "x": 0.1}, {"t": 2, "x": 0.5, "width": 0.4}]}))
        .unwrap();
        let motion = p.motion.as_ref().unwrap();
        // Half way: x 300 px; the width's one keyframe holds all along
        // (400 px), the height keeping 2:1.
        let pose = motion.pose(1.0);
        assert_eq!((pose.x, pose.w, pose.h), (300.0, 400.0, 200.0));
        assert_eq!(pose.y, p.y as f64, "y keeps the preset's");
        assert_eq!(p.identity()["keyframes"][1]["x"], 0.5);
        assert!(placed(json!({"text": "x", "keyframes": [{"t": 0, "rotation": 10}]})).is_ok());

        let mut clip = logo();
        clip.kind = AssetKind::Video;
        clip.metadata = json!({"width": 200, "height": 100, "duration_seconds": 4});
        let by_name = HashMap::from([("image_1.png", &clip)]);
        let o: Overlay = serde_json::from_value(
            json!({"asset_id": "image_1.png", "keyframes": [{"t": 0, "x": 0.1}]}),
        )
        .unwrap();
        let err = place(&[o], &by_name, (1000, 500), 10.0, &Look::default()).unwrap_err();
        assert_eq!(err.field(), Some("overlays[0].keyframes"));
    }

    #[test]
    fn a_lower_third_is_a_band_with_its_text() {
        let p = placed(
            json!({"text": "Ada Lovelace", "subtitle": "Mathematician", "start": 1, "end": 4.5}),
        )
        .unwrap();
        let Layer::Text(t) = &p.layer else {
            panic!("a text layer")
        };
        assert_eq!(t.style, TextStyle::LowerThird);
        // Bottom left, inside the margin.
        assert_eq!(p.x, 30);
        assert_eq!(p.y + i64::from(p.h), 500 - 30);
        let png = render_text(t).unwrap();
        let img = image::load_from_memory(&png).unwrap().to_rgba8();
        assert_eq!(img.dimensions(), (p.w, p.h));
        // The accent bar at the left, the band translucent, some white text.
        assert_eq!(img.get_pixel(1, p.h / 2).0, [255, 204, 0, 255]);
        assert_eq!(img.get_pixel(p.w - 2, 1).0, [0, 0, 0, 153]);
        assert!(
            img.pixels()
                .any(|px| px.0[0] > 240 && px.0[1] > 240 && px.0[3] > 200)
        );
    }
}
