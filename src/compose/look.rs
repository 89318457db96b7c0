//! How a render looks beyond its pictures: the font and colours its text
//! takes, where a watermark sits, and the named places in a frame. A leaf
//! of `compose`: the brand kit (`brand.rs`) makes a [`Look`]; overlays,
//! titles and captions read it.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::store::Asset;

/// A preset name or a point.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema, PartialEq)]
#[serde(untagged)]
pub enum OverlayPosition {
    Preset(String),
    Point { x: f64, y: f64 },
}

pub const PRESETS: &[&str] = &[
    "top_left",
    "top",
    "top_right",
    "left",
    "center",
    "right",
    "bottom_left",
    "bottom",
    "bottom_right",
];

/// `#rrggbb` (opaque) or, with `alpha`, also `#rrggbbaa`, as bytes; none
/// when it is not one of those.
pub fn hex_colour(value: &str, alpha: bool) -> Option<[u8; 4]> {
    let hex = value.strip_prefix('#').unwrap_or(value);
    if !hex.is_ascii() || !(hex.len() == 6 || (alpha && hex.len() == 8)) {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok();
    Some([byte(0)?, byte(2)?, byte(4)?, byte(6).unwrap_or(255)])
}

/// Where the brand's logo is drawn over every frame.
#[derive(Clone, Debug, PartialEq)]
pub struct WatermarkPlacement {
    pub position: OverlayPosition,
    /// A fraction of the frame's width.
    pub width: f64,
    pub opacity: f64,
    pub margin: Option<f64>,
}

/// A font a render draws with: its bytes and the family name libass knows.
#[derive(Debug)]
pub struct FontData {
    /// What identifies its bytes (the asset's storage key).
    pub key: String,
    pub family: String,
    pub bytes: Vec<u8>,
}

impl PartialEq for FontData {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

/// What a render takes from the kit (all empty: the studio's own look).
#[derive(Clone, Debug, Default)]
pub struct Look {
    /// Titles, text overlays without a `font` of their own, captions.
    pub font: Option<Arc<FontData>>,
    pub text: Option<[u8; 3]>,
    pub accent: Option<[u8; 3]>,
    pub background: Option<[u8; 3]>,
    /// The logo and how it is drawn over the whole video.
    pub watermark: Option<(Asset, WatermarkPlacement)>,
    /// Fonts that overlays name by asset, loaded.
    pub fonts: HashMap<String, Arc<FontData>>,
}

impl Look {
    /// What decides how titles and captions look, for the segment keys;
    /// none for the studio's own look (so earlier renders' keys still match).
    pub fn identity(&self) -> Option<Value> {
        if self.font.is_none() && self.text.is_none() && self.accent.is_none() {
            return None;
        }
        Some(json!({
            "font": self.font.as_ref().map(|f| &f.key),
            "text": self.text,
            "accent": self.accent,
        }))
    }

    /// The font for a text overlay naming `name` (or none: the kit's).
    pub fn font_for(&self, name: Option<&str>) -> Option<Arc<FontData>> {
        match name {
            Some(name) => self.fonts.get(name).cloned(),
            None => self.font.clone(),
        }
    }
}
