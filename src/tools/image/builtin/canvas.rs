//! The RGB buffer everything is drawn into, its blending helpers, the
//! caption band, and PNG encoding.

use std::io::Cursor;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
use image::ImageEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::Rgb;
use crate::error::{Error, Result};
use crate::frame::FONT_BYTES;

/// A stable 64-bit hash (FNV-1a): the same prompt seeds the same picture on
/// every build and machine.
pub(super) fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

pub(super) fn lerp(a: Rgb, b: Rgb, t: f32) -> Rgb {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

pub(super) fn scale(c: Rgb, k: f32) -> Rgb {
    [c[0] * k, c[1] * k, c[2] * k]
}

pub(super) struct Canvas {
    pub(super) w: usize,
    pub(super) h: usize,
    pub(super) px: Vec<u8>,
}

impl Canvas {
    pub(super) fn new(w: usize, h: usize) -> Self {
        Self {
            w,
            h,
            px: vec![0; w * h * 3],
        }
    }

    #[inline]
    pub(super) fn blend(&mut self, x: usize, y: usize, c: Rgb, a: f32) {
        let i = (y * self.w + x) * 3;
        let p = &mut self.px[i..i + 3];
        for k in 0..3 {
            let v = f32::from(p[k]) + (c[k] - f32::from(p[k])) * a;
            p[k] = v.clamp(0.0, 255.0) as u8;
        }
    }

    #[inline]
    pub(super) fn set(&mut self, x: usize, y: usize, c: Rgb) {
        let i = (y * self.w + x) * 3;
        self.px[i] = c[0].clamp(0.0, 255.0) as u8;
        self.px[i + 1] = c[1].clamp(0.0, 255.0) as u8;
        self.px[i + 2] = c[2].clamp(0.0, 255.0) as u8;
    }

    /// A vertical gradient over rows `y0..y1`.
    pub(super) fn gradient(&mut self, y0: usize, y1: usize, top: Rgb, bottom: Rgb) {
        let span = (y1.saturating_sub(y0)).max(1) as f32;
        for y in y0..y1.min(self.h) {
            let c = lerp(top, bottom, (y - y0) as f32 / span);
            let row = [
                c[0].clamp(0.0, 255.0) as u8,
                c[1].clamp(0.0, 255.0) as u8,
                c[2].clamp(0.0, 255.0) as u8,
            ];
            for px in self.px[y * self.w * 3..(y + 1) * self.w * 3].chunks_exact_mut(3) {
                px.copy_from_slice(&row);
            }
        }
    }

    /// A soft disc: solid inside `r`, fading to nothing over `soft` pixels.
    pub(super) fn disc(&mut self, cx: f32, cy: f32, r: f32, soft: f32, c: Rgb, opacity: f32) {
        let reach = r + soft;
        let (x0, x1) = (
            (cx - reach).floor().max(0.0) as usize,
            ((cx + reach).ceil() as usize).min(self.w),
        );
        let (y0, y1) = (
            (cy - reach).floor().max(0.0) as usize,
            ((cy + reach).ceil() as usize).min(self.h),
        );
        for y in y0..y1 {
            let dy = y as f32 - cy;
            for x in x0..x1 {
                let dx = x as f32 - cx;
                let d = (dx * dx + dy * dy).sqrt();
                if d < reach {
                    let a = ((reach - d) / soft.max(1.0)).min(1.0);
                    self.blend(x, y, c, a * opacity);
                }
            }
        }
    }

    /// A soft ellipse (a shadow): solid inside, fading over `soft` pixels.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn ellipse(
        &mut self,
        cx: f32,
        cy: f32,
        rx: f32,
        ry: f32,
        soft: f32,
        c: Rgb,
        opacity: f32,
    ) {
        let (rx, ry) = (rx.max(1.0), ry.max(1.0));
        let k = 1.0 + soft.max(1.0) / rx;
        let (x0, x1) = (
            (cx - rx * k).floor().max(0.0) as usize,
            ((cx + rx * k).ceil().max(0.0) as usize).min(self.w),
        );
        let (y0, y1) = (
            (cy - ry * k).floor().max(0.0) as usize,
            ((cy + ry * k).ceil().max(0.0) as usize).min(self.h),
        );
        for y in y0..y1 {
            let dy = (y as f32 - cy) / ry;
            for x in x0..x1 {
                let dx = (x as f32 - cx) / rx;
                let d = (dx * dx + dy * dy).sqrt();
                if d < k {
                    let a = ((k - d) / (k - 1.0)).min(1.0);
                    self.blend(x, y, c, a * opacity);
                }
            }
        }
    }

    /// A beam of light from (x, y) going left (`dir` −1) or right (1), `len`
    /// long, spreading by `spread` (height per unit of length), fading out.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn beam(
        &mut self,
        x: f32,
        y: f32,
        dir: f32,
        len: f32,
        spread: f32,
        c: Rgb,
        opacity: f32,
    ) {
        let (y0, y1) = (
            (y - len * spread).floor().max(0.0) as usize,
            ((y + len * spread).ceil().max(0.0) as usize).min(self.h),
        );
        let (xa, xb) = if dir > 0.0 {
            (x, x + len)
        } else {
            (x - len, x)
        };
        let (x0, x1) = (xa.max(0.0) as usize, (xb.max(0.0) as usize).min(self.w));
        for py in y0..y1 {
            let dy = (py as f32 - y).abs();
            for px in x0..x1 {
                let d = (px as f32 - x).abs();
                let edge = d * spread;
                if d > 1.0 && dy < edge {
                    let soft = (1.0 - dy / edge).min(1.0);
                    let a = opacity * soft * (1.0 - d / len).max(0.0);
                    self.blend(px, py, c, a);
                }
            }
        }
    }

    pub(super) fn rect(&mut self, x0: f32, y0: f32, x1: f32, y1: f32, c: Rgb, a: f32) {
        let (x0, x1) = (x0.max(0.0) as usize, (x1.max(0.0) as usize).min(self.w));
        let (y0, y1) = (y0.max(0.0) as usize, (y1.max(0.0) as usize).min(self.h));
        for y in y0..y1 {
            for x in x0..x1 {
                self.blend(x, y, c, a);
            }
        }
    }

    /// Fills below a ridge line (`tops[x]` per column), anti-aliased at the
    /// top edge, shading from `near` at the ridge to `far` at the bottom.
    pub(super) fn ridge(
        &mut self,
        tops: &[f32],
        top_colour: Rgb,
        bottom_colour: Rgb,
        snow_line: Option<f32>,
    ) {
        let h = self.h as f32;
        for (x, &top) in tops.iter().enumerate() {
            let start = top.max(0.0);
            let first = start.floor() as usize;
            for y in first..self.h {
                let t = (y as f32 - start) / (h - start).max(1.0);
                let mut c = lerp(top_colour, bottom_colour, t.clamp(0.0, 1.0));
                if let Some(depth) = snow_line.filter(|d| (y as f32) < top + d) {
                    c = lerp([245.0, 248.0, 255.0], c, ((y as f32 - top) / depth).powi(3));
                }
                if y == first {
                    self.blend(x, y, c, 1.0 - (start - first as f32));
                } else {
                    self.set(x, y, c);
                }
            }
        }
    }

    /// A triangle (a pine tree) with its apex at (cx, top) and base at `base`.
    pub(super) fn pine(&mut self, cx: f32, top: f32, base: f32, half_width: f32, c: Rgb) {
        let (y0, y1) = (top.max(0.0) as usize, (base as usize).min(self.h));
        for y in y0..y1 {
            let t = (y as f32 - top) / (base - top).max(1.0);
            // Three tiers: the outline widens in steps, like branches.
            let tier = (t * 3.0).fract() * 0.35 + t * 0.65;
            let hw = half_width * tier;
            let (x0, x1) = (
                (cx - hw).max(0.0) as usize,
                ((cx + hw) as usize).min(self.w),
            );
            for x in x0..x1 {
                self.set(x, y, c);
            }
        }
    }
}

/// Draws `text` on a translucent band at the bottom, wrapped to at most
/// three lines.
pub(super) fn draw_caption(c: &mut Canvas, text: &str) {
    let font = FontRef::try_from_slice(FONT_BYTES).expect("the bundled font parses");
    let size = (c.h.min(c.w) as f32 / 14.0).max(10.0);
    let scaled = font.as_scaled(PxScale::from(size));
    let max_width = c.w as f32 * 0.9;
    let width_of = |s: &str| {
        s.chars()
            .map(|ch| scaled.h_advance(font.glyph_id(ch)))
            .sum::<f32>()
    };

    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(line) if width_of(&format!("{line} {word}")) <= max_width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_owned()),
        }
    }
    if lines.len() > 3 {
        lines.truncate(3);
        lines[2].push('…');
    }
    // A single word wider than the picture is cut to fit.
    for line in &mut lines {
        while width_of(line) > max_width && line.chars().count() > 1 {
            line.pop();
            line.pop();
            line.push('…');
        }
    }
    let line_height = scaled.height() + scaled.line_gap();
    let band = line_height * lines.len() as f32 + size;
    let top = c.h as f32 - band;
    c.rect(0.0, top, c.w as f32, c.h as f32, [0.0, 0.0, 0.0], 0.45);
    for (i, line) in lines.iter().enumerate() {
        let baseline = top + size * 0.5 + scaled.ascent() + line_height * i as f32;
        let mut x = (c.w as f32 - width_of(line)) / 2.0;
        for ch in line.chars() {
            let id = font.glyph_id(ch);
            let glyph =
                id.with_scale_and_position(PxScale::from(size), ab_glyph::point(x, baseline));
            x += scaled.h_advance(id);
            if let Some(outlined) = font.outline_glyph(glyph) {
                let bounds = outlined.px_bounds();
                outlined.draw(|gx, gy, coverage| {
                    let (px, py) = (
                        bounds.min.x as i64 + i64::from(gx),
                        bounds.min.y as i64 + i64::from(gy),
                    );
                    if px >= 0 && py >= 0 && (px as usize) < c.w && (py as usize) < c.h {
                        c.blend(px as usize, py as usize, [255.0, 255.0, 255.0], coverage);
                    }
                });
            }
        }
    }
}

/// Encodes RGB pixels as PNG, favouring speed (fdeflate) over the last few
/// percent of size.
pub fn encode_png(width: u32, height: u32, rgb: &[u8]) -> Result<Vec<u8>> {
    let mut out = Cursor::new(Vec::with_capacity(rgb.len() / 3));
    PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Sub)
        .write_image(rgb, width, height, image::ExtendedColorType::Rgb8)
        .map_err(|e| Error::Internal(format!("PNG encoding failed: {e}")))?;
    Ok(out.into_inner())
}

/// A ridge line: a sum of three sines with seeded phases.
pub(super) fn ridge_line(
    rng: &mut ChaCha8Rng,
    w: usize,
    base: f32,
    amp: f32,
    jagged: bool,
) -> Vec<f32> {
    let f: [f32; 3] = [
        rng.random_range(1.0..2.5),
        rng.random_range(3.0..6.0),
        rng.random_range(8.0..15.0),
    ];
    let p: [f32; 3] = [
        rng.random_range(0.0..std::f32::consts::TAU),
        rng.random_range(0.0..std::f32::consts::TAU),
        rng.random_range(0.0..std::f32::consts::TAU),
    ];
    (0..w)
        .map(|x| {
            let u = x as f32 / w as f32 * std::f32::consts::TAU;
            let mut v = 0.55 * (u * f[0] + p[0]).sin()
                + 0.3 * (u * f[1] + p[1]).sin()
                + 0.15 * (u * f[2] + p[2]).sin();
            if jagged {
                v = 0.6 * v + 0.4 * (1.0 - 2.0 * (u * f[1] * 0.7 + p[2]).sin().abs());
            }
            base - amp * v
        })
        .collect()
}
