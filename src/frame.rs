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
