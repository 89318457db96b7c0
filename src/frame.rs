//! Frame sizes and the font: what pictures and videos share. Both the image
//! tool and compose read their named shapes, size rules and text font here.

use crate::error::{Error, Result};

/// The named shapes and the size each stands for.
pub const ASPECT_RATIOS: &[(&str, u32, u32)] = &[
    ("16:9", 1920, 1080),
    ("9:16", 1080, 1920),
    ("1:1", 1080, 1080),
    ("4:5", 1080, 1350),
];

/// The shape used when none is asked for.
pub const DEFAULT_RATIO: &str = "16:9";

/// The font shipped with the project (DejaVu Sans Bold, see assets/fonts):
/// picture captions and burned-in video text.
pub static FONT_BYTES: &[u8] = include_bytes!("../assets/fonts/DejaVuSans-Bold.ttf");

/// What a font file says of itself: its family name (what libass and
/// drawtext know it by) and how many glyphs it has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FontFacts {
    pub family: String,
    pub glyphs: u16,
}

impl FontFacts {
    /// Parses a whole TrueType/OpenType file; the error says why it is
    /// not a usable font.
    pub fn parse(bytes: &[u8]) -> std::result::Result<FontFacts, String> {
        let face = ttf_parser::Face::parse(bytes, 0)
            .map_err(|e| format!("the file is not a usable TrueType/OpenType font ({e})"))?;
        if face.glyph_index('A').is_none() && face.glyph_index('a').is_none() {
            return Err("the font has no Latin letters".into());
        }
        let family = [
            ttf_parser::name_id::TYPOGRAPHIC_FAMILY,
            ttf_parser::name_id::FAMILY,
        ]
        .into_iter()
        .find_map(|id| {
            face.names()
                .into_iter()
                .filter(|n| n.name_id == id)
                .find_map(|n| n.to_string())
        })
        .map(|f| {
            f.chars()
                .filter(|c| !c.is_control())
                .take(100)
                .collect::<String>()
        })
        .filter(|f| !f.trim().is_empty())
        .ok_or("the font has no family name")?;
        Ok(FontFacts {
            family,
            glyphs: face.number_of_glyphs(),
        })
    }
}

/// The first frame shown at or after `t` seconds, at `fps`.
pub fn first_frame_at_or_after(t: f64, fps: u32) -> u64 {
    (t * f64::from(fps) - 1e-6).ceil().max(0.0) as u64
}

/// What sides a kind of frame may have, in pixels.
#[derive(Clone, Copy, Debug)]
pub struct Sides {
    pub min: u32,
    pub max: u32,
    /// Each side is a multiple of this (8 for pictures, 2 for video).
    pub step: u32,
}

/// A frame's size from a request's `width` and `height` (both, or neither)
/// or a named `aspect_ratio` (default 16:9). `prefix` names the request's
/// object in error fields (`output.` for compose, empty for images).
pub fn size(
    width: Option<u32>,
    height: Option<u32>,
    aspect_ratio: Option<&str>,
    sides: Sides,
    prefix: &str,
) -> Result<(u32, u32)> {
    let field = |name: &str| format!("{prefix}{name}");
    match (width, height, aspect_ratio) {
        (Some(_), Some(_), Some(_)) => Err(Error::invalid(
            field("aspect_ratio"),
            "give either aspect_ratio or width and height, not both",
        )),
        (Some(w), Some(h), None) => {
            for (name, v) in [("width", w), ("height", h)] {
                if !(sides.min..=sides.max).contains(&v) || v % sides.step != 0 {
                    return Err(Error::invalid(
                        field(name),
                        format!(
                            "{v} is not a multiple of {} between {} and {}",
                            sides.step, sides.min, sides.max
                        ),
                    ));
                }
            }
            Ok((w, h))
        }
        (Some(_), None, _) => Err(Error::invalid(
            field("height"),
            "give height together with width",
        )),
        (None, Some(_), _) => Err(Error::invalid(
            field("width"),
            "give width together with height",
        )),
        (None, None, ratio) => named(ratio.unwrap_or(DEFAULT_RATIO)).ok_or_else(|| {
            Error::invalid(
                field("aspect_ratio"),
                format!(
                    "{:?} is not one of {}",
                    ratio.unwrap_or_default(),
                    ASPECT_RATIOS
                        .iter()
                        .map(|(r, _, _)| *r)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        }),
    }
}

/// The size a named shape stands for.
pub fn named(ratio: &str) -> Option<(u32, u32)> {
    ASPECT_RATIOS
        .iter()
        .find(|(r, _, _)| *r == ratio.trim())
        .map(|(_, w, h)| (*w, *h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_font_parses_and_junk_does_not() {
        let facts = FontFacts::parse(FONT_BYTES).unwrap();
        assert_eq!(facts.family, "DejaVu Sans");
        assert!(facts.glyphs > 1000);
        let mut broken = FONT_BYTES[..4096].to_vec();
        broken.extend([0u8; 64]);
        assert!(FontFacts::parse(&broken).is_err());
        assert!(FontFacts::parse(b"\x00\x01\x00\x00 not a font").is_err());
    }

    const SIDES: Sides = Sides {
        min: 64,
        max: 4096,
        step: 8,
    };

    #[test]
    fn sizes_come_from_both_sides_or_a_named_shape() {
        assert_eq!(size(None, None, None, SIDES, "").unwrap(), (1920, 1080));
        assert_eq!(
            size(None, None, Some("9:16"), SIDES, "").unwrap(),
            (1080, 1920)
        );
        assert_eq!(
            size(Some(640), Some(360), None, SIDES, "").unwrap(),
            (640, 360)
        );
        let field = |r: Result<(u32, u32)>| r.unwrap_err().field().map(str::to_owned);
        assert_eq!(
            field(size(Some(642), Some(360), None, SIDES, "output.")).as_deref(),
            Some("output.width")
        );
        assert_eq!(
            field(size(Some(640), None, None, SIDES, "")).as_deref(),
            Some("height")
        );
        assert_eq!(
            field(size(None, None, Some("2:1"), SIDES, "")).as_deref(),
            Some("aspect_ratio")
        );
        assert_eq!(
            field(size(Some(640), Some(360), Some("1:1"), SIDES, "")).as_deref(),
            Some("aspect_ratio")
        );
    }
}
