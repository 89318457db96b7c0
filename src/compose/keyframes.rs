//! Keyframed overlays: `x`, `y`, `width`, `opacity` and `rotation` moving
//! over an overlay's time, each property its own track of keyframes with an
//! easing into each.
//!
//! ffmpeg's overlay filter places a layer on whole pixels, so a slow move
//! made with its `x`/`y` expressions steps a pixel at a time. A keyframed
//! overlay is therefore drawn here, frame by frame, for the frames a
//! segment shows: the picture (or the drawn text) is decoded and scaled
//! once with a good filter to the widest the animation gets (with halved
//! copies for when it shrinks), its shape's mask applied, and every frame's
//! pixels are sampled from it through the frame's transform — scaled,
//! rotated about its centre, its corner on any fraction of a pixel —
//! bilinearly in premultiplied alpha, times the frame's opacity. The frames
//! are PNGs of one fixed box (every frame's extent, within the video
//! frame), laid over the scene at the box's whole-pixel corner like any
//! other layer: all the motion is inside the drawn pixels.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::{Rgba, Rgba32FImage, RgbaImage, imageops::FilterType};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{Error, Result};

/// The most keyframes one overlay takes.
pub const MAX_KEYFRAMES: usize = 100;

/// One keyframe of an overlay's `keyframes`: at `t`, the properties it
/// sets. Each property moves from the previous keyframe that sets it to
/// this one with this keyframe's `easing`; before its first keyframe and
/// after its last it holds; a property no keyframe sets keeps the
/// overlay's own value.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Keyframe {
    /// Seconds from the overlay's start (0 up to its length, increasing).
    /// Required.
    #[schema(example = 0.8, required = true, value_type = f64)]
    pub t: Option<f64>,
    /// The top-left corner's distance from the frame's left edge, a
    /// fraction of the frame's width (-1–1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x: Option<f64>,
    /// From the frame's top, a fraction of the frame's height (-1–1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub y: Option<f64>,
    /// A fraction of the frame's width (0.01–1); the height keeps the
    /// overlay's shape.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<f64>,
    /// 0–1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opacity: Option<f64>,
    /// Degrees clockwise about the overlay's centre (-3600–3600).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation: Option<f64>,
    /// How the move into this keyframe goes: `linear` (default),
    /// `ease_in`, `ease_out` or `ease_in_out` (cubic).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "ease_out")]
    pub easing: Option<String>,
}

/// The shape of a move between two keyframes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Easing {
    #[default]
    Linear,
    EaseIn,
    EaseOut,
    EaseInOut,
}

impl Easing {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "linear" => Easing::Linear,
            "ease_in" => Easing::EaseIn,
            "ease_out" => Easing::EaseOut,
            "ease_in_out" => Easing::EaseInOut,
            _ => return None,
        })
    }

    /// How far along the move is (0–1) at `u` of its time (0–1): cubic
    /// curves, never past either end.
    pub fn apply(self, u: f64) -> f64 {
        let u = u.clamp(0.0, 1.0);
        match self {
            Easing::Linear => u,
            Easing::EaseIn => u * u * u,
            Easing::EaseOut => 1.0 - (1.0 - u).powi(3),
            Easing::EaseInOut if u < 0.5 => 4.0 * u * u * u,
            Easing::EaseInOut => 1.0 - (2.0 - 2.0 * u).powi(3) / 2.0,
        }
    }
}

/// One property's keys: time, value and the easing into it, in time order.
#[derive(Clone, Debug, Default, PartialEq)]
struct Track(Vec<(f64, f64, Easing)>);

impl Track {
    /// The value at `t`: interpolated between the keys around it, held
    /// before the first and after the last, `fallback` without keys.
    fn at(&self, t: f64, fallback: f64) -> f64 {
        let keys = &self.0;
        let Some(&(t0, v0, _)) = keys.first() else {
            return fallback;
        };
        if t <= t0 {
            return v0;
        }
        for pair in keys.windows(2) {
            let ((ta, va, _), (tb, vb, easing)) = (pair[0], pair[1]);
            if t < tb {
                let u = (t - ta) / (tb - ta);
                return va + (vb - va) * easing.apply(u);
            }
        }
        keys.last().map_or(fallback, |k| k.1)
    }

    fn values(&self) -> impl Iterator<Item = f64> + '_ {
        self.0.iter().map(|k| k.1)
    }
}

/// Where and how an overlay is drawn on one frame: its unrotated top-left
/// corner and size in pixels of the frame (fractions allowed), its opacity
/// and its rotation in degrees clockwise about its centre.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pose {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    pub opacity: f64,
    pub rotation: f64,
}

impl Pose {
    fn centre(&self) -> (f64, f64) {
        (self.x + self.w / 2.0, self.y + self.h / 2.0)
    }

    fn visible(&self) -> bool {
        self.opacity > 0.0 && self.w > 0.0 && self.h > 0.0
    }

    /// The pixels it may touch, with a pixel's margin for the smooth edge:
    /// `(x0, y0, x1, y1)`, ends excluded.
    fn extent(&self) -> (i64, i64, i64, i64) {
        let (cx, cy) = self.centre();
        let (sin, cos) = self.rotation.to_radians().sin_cos();
        let ex = (cos.abs() * self.w + sin.abs() * self.h) / 2.0 + 1.0;
        let ey = (sin.abs() * self.w + cos.abs() * self.h) / 2.0 + 1.0;
        (
            (cx - ex).floor() as i64,
            (cy - ey).floor() as i64,
            (cx + ex).ceil() as i64,
            (cy + ey).ceil() as i64,
        )
    }
}

/// A keyframed overlay's motion, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct Motion {
    /// The keyframes as asked (what decides the frames, for the keys).
    pub keyframes: Vec<Keyframe>,
    /// In pixels of the frame (x, y, width), 0–1, degrees.
    x: Track,
    y: Track,
    width: Track,
    opacity: Track,
    rotation: Track,
    /// The overlay's own placement, for what no keyframe sets.
    base: Pose,
    /// Height over width.
    aspect: f64,
}

fn invalid(index: usize, field: &str, message: impl std::fmt::Display) -> Error {
    Error::invalid(format!("overlays[{index}].{field}"), message.to_string())
}

/// One keyframe at least, and no more than [`MAX_KEYFRAMES`].
fn check_count(index: usize, keyframes: &[Keyframe]) -> Result<()> {
    if keyframes.is_empty() {
        return Err(invalid(
            index,
            "keyframes",
            "give at least one keyframe, or leave keyframes out",
        ));
    }
    if keyframes.len() > MAX_KEYFRAMES {
        return Err(invalid(
            index,
            "keyframes",
            format!("at most {MAX_KEYFRAMES} keyframes"),
        ));
    }
    Ok(())
}

/// Keyframe `j`'s time, checked: given, within the overlay's `length` and
/// after the `previous` keyframe's.
fn key_time(
    index: usize,
    j: usize,
    k: &Keyframe,
    previous: Option<f64>,
    length: f64,
) -> Result<f64> {
    let field = format!("keyframes[{j}].t");
    let t = k.t.ok_or_else(|| {
        invalid(
            index,
            &field,
            "each keyframe needs its time t, in seconds from the overlay's start",
        )
    })?;
    if !t.is_finite() || t < 0.0 {
        return Err(invalid(
            index,
            &field,
            format!("t {t} is before the overlay's start (t counts from 0)"),
        ));
    }
    if let Some(p) = previous
        && t <= p
    {
        return Err(invalid(
            index,
            &field,
            format!("t {t} comes after the previous keyframe's ({p}): keyframes go in time order"),
        ));
    }
    if t > length + 1e-9 {
        return Err(invalid(
            index,
            &field,
            format!("t {t} is after the overlay's end (it lasts {length:.2} s)"),
        ));
    }
    Ok(t)
}

/// Keyframe `j`'s easing into it (linear when not given), checked.
fn key_easing(index: usize, j: usize, k: &Keyframe) -> Result<Easing> {
    match k.easing.as_deref() {
        None => Ok(Easing::Linear),
        Some(name) => Easing::parse(name).ok_or_else(|| {
            invalid(
                index,
                &format!("keyframes[{j}].easing"),
                format!("unknown easing {name:?}; use linear, ease_in, ease_out or ease_in_out"),
            )
        }),
    }
}

impl Motion {
    /// Checks overlay `index`'s `keyframes` for an overlay `length` seconds
    /// long in a `fw`×`fh` frame, placed at `base` (its height follows its
    /// width at `aspect`, height over width).
    pub fn check(
        index: usize,
        keyframes: &[Keyframe],
        length: f64,
        (fw, fh): (u32, u32),
        base: Pose,
        aspect: f64,
    ) -> Result<Motion> {
        check_count(index, keyframes)?;
        let mut motion = Motion {
            keyframes: keyframes.to_vec(),
            x: Track::default(),
            y: Track::default(),
            width: Track::default(),
            opacity: Track::default(),
            rotation: Track::default(),
            base,
            aspect,
        };
        let mut previous: Option<f64> = None;
        for (j, k) in keyframes.iter().enumerate() {
            let t = key_time(index, j, k, previous, length)?;
            previous = Some(t);
            let easing = key_easing(index, j, k)?;
            motion.add_keys(index, j, k, (t, easing), (f64::from(fw), f64::from(fh)))?;
        }
        Ok(motion)
    }

    /// Adds keyframe `j`'s properties, checked, to their tracks at `t`, in
    /// pixels of the `fw`×`fh` frame for x, y and width.
    fn add_keys(
        &mut self,
        index: usize,
        j: usize,
        k: &Keyframe,
        (t, easing): (f64, Easing),
        (fw, fh): (f64, f64),
    ) -> Result<()> {
        let properties = [
            ("x", k.x, -1.0, 1.0, fw, &mut self.x),
            ("y", k.y, -1.0, 1.0, fh, &mut self.y),
            ("width", k.width, 0.01, 1.0, fw, &mut self.width),
            ("opacity", k.opacity, 0.0, 1.0, 1.0, &mut self.opacity),
            (
                "rotation",
                k.rotation,
                -3600.0,
                3600.0,
                1.0,
                &mut self.rotation,
            ),
        ];
        for (name, value, min, max, unit, track) in properties {
            let Some(v) = value else { continue };
            if !v.is_finite() || v < min || v > max {
                return Err(invalid(
                    index,
                    &format!("keyframes[{j}].{name}"),
                    format!("{name} {v} is outside {min}–{max}"),
                ));
            }
            track.0.push((t, v * unit, easing));
        }
        Ok(())
    }

    /// The pose at `t` seconds of the overlay's time.
    pub fn pose(&self, t: f64) -> Pose {
        let w = self.width.at(t, self.base.w);
        Pose {
            x: self.x.at(t, self.base.x),
            y: self.y.at(t, self.base.y),
            w,
            h: w * self.aspect,
            opacity: self.opacity.at(t, self.base.opacity),
            rotation: self.rotation.at(t, self.base.rotation),
        }
    }

    /// The poses of frames `skip .. skip + shown` of the overlay's own (frame
    /// 0: its first, the video's first frame at or after its `start`), at
    /// the times those frames show in the video.
    pub fn poses(&self, start: f64, fps: u32, skip: u64, shown: u64) -> Vec<Pose> {
        let first = crate::frame::first_frame_at_or_after(start, fps);
        (skip..skip + shown)
            .map(|n| self.pose((first + n) as f64 / f64::from(fps) - start))
            .collect()
    }

    /// The widest and the narrowest the overlay gets, in pixels (easings
    /// never overshoot, so these are among its keys' values).
    fn widths(&self) -> (f64, f64) {
        if self.width.0.is_empty() {
            return (self.base.w, self.base.w);
        }
        self.width
            .values()
            .fold((0.0_f64, f64::MAX), |(hi, lo), v| (hi.max(v), lo.min(v)))
    }
}

/// A picture ready to sample: premultiplied RGBA (0–1) at the widest the
/// overlay is drawn, then halved copies for when it is drawn smaller.
pub struct Pyramid {
    levels: Vec<Level>,
}

struct Level {
    w: usize,
    h: usize,
    px: Vec<[f32; 4]>,
}

impl Level {
    fn new(img: &Rgba32FImage) -> Level {
        Level {
            w: img.width() as usize,
            h: img.height() as usize,
            px: img
                .pixels()
                .map(|p| {
                    let a = p[3].clamp(0.0, 1.0);
                    [
                        p[0].clamp(0.0, a),
                        p[1].clamp(0.0, a),
                        p[2].clamp(0.0, a),
                        a,
                    ]
                })
                .collect(),
        }
    }

    /// Transparent outside the picture: its edges come out smooth.
    #[inline]
    fn get(&self, x: i64, y: i64) -> [f32; 4] {
        if x < 0 || y < 0 || x >= self.w as i64 || y >= self.h as i64 {
            [0.0; 4]
        } else {
            self.px[y as usize * self.w + x as usize]
        }
    }

    /// Bilinear at `(nx, ny)`, fractions of the picture's width and height
    /// (within a few pixels of it: the caller skips what lies further).
    #[inline]
    fn sample(&self, nx: f64, ny: f64) -> [f32; 4] {
        // Offset so that truncation floors (a single instruction; floor()
        // may be a library call).
        const OFFSET: f64 = 1024.0;
        let (x, y) = (
            nx * self.w as f64 - 0.5 + OFFSET,
            ny * self.h as f64 - 0.5 + OFFSET,
        );
        let (xi, yi) = (x as i64, y as i64);
        let (fx, fy) = ((x - xi as f64) as f32, (y - yi as f64) as f32);
        let (x0, y0) = (xi - OFFSET as i64, yi - OFFSET as i64);
        let (a, b, c, d) =
            if x0 >= 0 && y0 >= 0 && ((x0 + 1) as usize) < self.w && ((y0 + 1) as usize) < self.h {
                let i = y0 as usize * self.w + x0 as usize;
                (
                    self.px[i],
                    self.px[i + 1],
                    self.px[i + self.w],
                    self.px[i + self.w + 1],
                )
            } else {
                (
                    self.get(x0, y0),
                    self.get(x0 + 1, y0),
                    self.get(x0, y0 + 1),
                    self.get(x0 + 1, y0 + 1),
                )
            };
        let mut out = [0.0; 4];
        for k in 0..4 {
            let top = a[k] + (b[k] - a[k]) * fx;
            let bottom = c[k] + (d[k] - c[k]) * fx;
            out[k] = top + (bottom - top) * fy;
        }
        out
    }
}

impl Pyramid {
    /// `source` (straight alpha) scaled to `w`×`h`, times `mask`'s coverage
    /// (0–1, at `w`×`h`) when given, with halvings down to `narrowest`
    /// pixels wide.
    pub fn new(
        source: &RgbaImage,
        (w, h): (u32, u32),
        mask: Option<&[f64]>,
        narrowest: f64,
    ) -> Self {
        let premultiplied = Rgba32FImage::from_fn(source.width(), source.height(), |x, y| {
            let [r, g, b, a] = source.get_pixel(x, y).0.map(|c| f32::from(c) / 255.0);
            Rgba([r * a, g * a, b * a, a])
        });
        let (w, h) = (w.max(1), h.max(1));
        let mut top = if premultiplied.dimensions() == (w, h) {
            premultiplied
        } else {
            image::imageops::resize(&premultiplied, w, h, FilterType::CatmullRom)
        };
        if let Some(mask) = mask {
            for (p, m) in top.pixels_mut().zip(mask) {
                for c in p.0.iter_mut() {
                    *c *= *m as f32;
                }
            }
        }
        let mut levels = vec![Level::new(&top)];
        let mut current = top;
        let mut width = f64::from(w);
        while width > narrowest.max(1.0) && levels.len() < 14 {
            let (lw, lh) = (current.width().div_ceil(2), current.height().div_ceil(2));
            if (lw, lh) == current.dimensions() {
                break;
            }
            current = image::imageops::resize(&current, lw, lh, FilterType::Triangle);
            levels.push(Level::new(&current));
            width = f64::from(lw);
        }
        Pyramid { levels }
    }

    /// The levels to read for the picture drawn `w` pixels wide: the one
    /// of about that size, the next smaller one and how much of it to blend
    /// in (so that shrinking never aliases, nor jumps between levels).
    fn levels_for(&self, w: f64) -> (&Level, Option<(&Level, f32)>) {
        let lod = (self.levels[0].w as f64 / w).log2().max(0.0);
        let last = self.levels.len() - 1;
        let l = (lod.floor() as usize).min(last);
        let frac = (lod - l as f64) as f32;
        let next = (l < last && frac > 1e-4).then(|| (&self.levels[l + 1], frac));
        (&self.levels[l], next)
    }
}

/// A box of the frame, whole pixels: corner and size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameBox {
    pub x: i64,
    pub y: i64,
    pub w: u32,
    pub h: u32,
}

/// The box every pose's pixels fall in, within the `fw`×`fh` frame, on
/// even pixels (4:2:0's chroma): at least 2×2 even when none shows.
pub fn frame_box(poses: &[Pose], (fw, fh): (u32, u32)) -> FrameBox {
    let (fw, fh) = (i64::from(fw), i64::from(fh));
    let mut union: Option<(i64, i64, i64, i64)> = None;
    for p in poses.iter().filter(|p| p.visible()) {
        let (x0, y0, x1, y1) = p.extent();
        union = Some(match union {
            None => (x0, y0, x1, y1),
            Some((a, b, c, d)) => (a.min(x0), b.min(y0), c.max(x1), d.max(y1)),
        });
    }
    let even_down = |v: i64| v.div_euclid(2) * 2;
    let even_up = |v: i64| (v + 1).div_euclid(2) * 2;
    let clipped = union.and_then(|(x0, y0, x1, y1)| {
        let (x0, y0) = (even_down(x0).max(0), even_down(y0).max(0));
        let (x1, y1) = (even_up(x1).min(fw), even_up(y1).min(fh));
        (x1 > x0 && y1 > y0).then_some((x0, y0, x1, y1))
    });
    let (x0, y0, x1, y1) = clipped.unwrap_or((0, 0, 2.min(fw), 2.min(fh)));
    FrameBox {
        x: x0,
        y: y0,
        w: (x1 - x0).max(1) as u32,
        h: (y1 - y0).max(1) as u32,
    }
}

/// One frame: the picture at `pose`, drawn into `area` of the frame, as a
/// straight-alpha image of the area's size.
pub fn draw_frame(pyramid: &Pyramid, pose: &Pose, area: FrameBox) -> RgbaImage {
    let (aw, ah) = (area.w as usize, area.h as usize);
    let mut out = vec![0u8; aw * ah * 4];
    if pose.visible() {
        let (level, next) = pyramid.levels_for(pose.w);
        // Samples further out than a pixel of the coarser level read nothing.
        let coarse = next.map_or(level, |(l, _)| l);
        let (mx, my) = (1.5 / coarse.w as f64, 1.5 / coarse.h as f64);
        let (cx, cy) = pose.centre();
        let (sin, cos) = pose.rotation.to_radians().sin_cos();
        // A pixel's centre back in the picture's own frame, as fractions
        // of its width and height: linear in the pixel's position.
        let (ax_, ay_) = (cos / pose.w, sin / pose.w);
        let (bx_, by_) = (-sin / pose.h, cos / pose.h);
        let (x0, y0, x1, y1) = pose.extent();
        let (xs, xe) = (x0.max(area.x), x1.min(area.x + area.w as i64));
        let (ys, ye) = (y0.max(area.y), y1.min(area.y + area.h as i64));
        let opacity = pose.opacity.clamp(0.0, 1.0) as f32;
        for py in ys..ye {
            let dy = py as f64 + 0.5 - cy;
            let row = (py - area.y) as usize * aw;
            for px in xs..xe {
                let dx = px as f64 + 0.5 - cx;
                let nx = ax_ * dx + ay_ * dy + 0.5;
                let ny = bx_ * dx + by_ * dy + 0.5;
                if nx < -mx || nx > 1.0 + mx || ny < -my || ny > 1.0 + my {
                    continue;
                }
                let mut c = level.sample(nx, ny);
                if let Some((l, frac)) = next {
                    let d = l.sample(nx, ny);
                    for k in 0..4 {
                        c[k] += (d[k] - c[k]) * frac;
                    }
                }
                let a = c[3];
                if a <= 1.0 / 1024.0 {
                    continue;
                }
                let (inv, i) = (255.0 / a, (row + (px - area.x) as usize) * 4);
                for k in 0..3 {
                    out[i + k] = ((c[k] * inv).clamp(0.0, 255.0) + 0.5) as u8;
                }
                out[i + 3] = ((a * opacity * 255.0).clamp(0.0, 255.0) + 0.5) as u8;
            }
        }
    }
    RgbaImage::from_raw(area.w, area.h, out).expect("the buffer fits the area")
}

/// A keyframed overlay's frames for one segment, drawn into a folder.
#[derive(Clone, Debug)]
pub struct Drawn {
    /// The frames' file pattern (`kf-%05d.png`, from 0).
    pub pattern: PathBuf,
    /// Where their box lies in the frame.
    pub area: FrameBox,
}

/// Draws `poses` (one per frame) of `source` — scaled once to the widest
/// `motion` gets, at its shape, times `mask` (the outline's coverage of a
/// `w`×`h` picture) — into `dir`, as numbered PNGs of one box of the
/// `frame`; a pose held from the previous frame is the same file again.
pub fn draw(
    source: &RgbaImage,
    poses: &[Pose],
    motion: &Motion,
    mask: &dyn Fn(u32, u32) -> Option<Vec<f64>>,
    frame: (u32, u32),
    dir: &Path,
) -> Result<Drawn> {
    let (widest, narrowest) = motion.widths();
    let cap = f64::from(frame.0.max(frame.1)) * 2.0;
    let w = widest.clamp(1.0, cap).ceil() as u32;
    let h = (f64::from(w) * motion.aspect).round().clamp(1.0, cap) as u32;
    let coverage = mask(w, h);
    let pyramid = Pyramid::new(source, (w, h), coverage.as_deref(), narrowest);
    let area = frame_box(poses, frame);
    std::fs::create_dir_all(dir)?;
    let name = |n: usize| dir.join(format!("kf-{n:05}.png"));
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4)
        .min(poses.len().div_ceil(8).max(1));
    let chunk = poses.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = poses
            .chunks(chunk)
            .enumerate()
            .map(|(c, part)| {
                let (pyramid, name) = (&pyramid, &name);
                scope.spawn(move || -> Result<()> {
                    for (k, pose) in part.iter().enumerate() {
                        let n = c * chunk + k;
                        // A held pose: the same picture again.
                        if k > 0 && part[k - 1] == *pose {
                            if std::fs::hard_link(name(n - 1), name(n)).is_err() {
                                std::fs::copy(name(n - 1), name(n))?;
                            }
                            continue;
                        }
                        let img = draw_frame(pyramid, pose, area);
                        std::fs::write(name(n), encode_fast(&img)?)?;
                    }
                    Ok(())
                })
            })
            .collect();
        workers.into_iter().try_for_each(|w| {
            w.join()
                .map_err(|_| Error::Internal("drawing an overlay's frames failed".into()))?
        })
    })?;
    Ok(Drawn {
        pattern: dir.join("kf-%05d.png"),
        area,
    })
}

/// A PNG quickly: these frames live for one render.
fn encode_fast(img: &RgbaImage) -> Result<Vec<u8>> {
    use image::ImageEncoder;
    use image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};
    let mut out = Cursor::new(Vec::new());
    PngEncoder::new_with_quality(&mut out, CompressionType::Fast, PngFilter::Sub)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgba8,
        )
        .map_err(|e| Error::Internal(format!("PNG encoding failed: {e}")))?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kf(v: serde_json::Value) -> Vec<Keyframe> {
        serde_json::from_value(v).unwrap()
    }

    const BASE: Pose = Pose {
        x: 100.0,
        y: 50.0,
        w: 40.0,
        h: 20.0,
        opacity: 0.8,
        rotation: 0.0,
    };

    fn motion(v: serde_json::Value) -> Result<Motion> {
        Motion::check(0, &kf(v), 4.0, (1000, 500), BASE, 0.5)
    }

    #[test]
    fn easings_start_and_end_where_they_should() {
        for e in [
            Easing::Linear,
            Easing::EaseIn,
            Easing::EaseOut,
            Easing::EaseInOut,
        ] {
            assert_eq!(e.apply(0.0), 0.0);
            assert!((e.apply(1.0) - 1.0).abs() < 1e-12);
            // Always forward, never past the end.
            let mut last = 0.0;
            for i in 1..=100 {
                let v = e.apply(f64::from(i) / 100.0);
                assert!(v >= last && v <= 1.0 + 1e-12, "{e:?} at {i}");
                last = v;
            }
        }
        assert_eq!(Easing::Linear.apply(0.25), 0.25);
        assert!((Easing::EaseIn.apply(0.5) - 0.125).abs() < 1e-12);
        assert!((Easing::EaseOut.apply(0.5) - 0.875).abs() < 1e-12);
        assert!((Easing::EaseInOut.apply(0.5) - 0.5).abs() < 1e-12);
        assert!((Easing::EaseInOut.apply(0.25) - 0.0625).abs() < 1e-12);
    }

    #[test]
    fn each_property_is_its_own_track() {
        let m = motion(serde_json::json!([
            {"t": 0, "x": -0.25, "opacity": 0},
            {"t": 1, "x": 0.1, "easing": "ease_out"},
            {"t": 2, "opacity": 1},
            {"t": 3, "rotation": 90, "width": 0.2}
        ]))
        .unwrap();
        // x: -250 px → 100 px over the first second, easing out; held after.
        assert_eq!(m.pose(0.0).x, -250.0);
        let half = m.pose(0.5).x;
        assert!((half - (-250.0 + 350.0 * 0.875)).abs() < 1e-9, "{half}");
        assert_eq!(m.pose(3.5).x, 100.0);
        // Opacity 0 → 1 from 0 s to 2 s, linearly (its own keyframes only).
        assert!((m.pose(1.0).opacity - 0.5).abs() < 1e-12);
        assert_eq!(m.pose(2.5).opacity, 1.0);
        // y never set: the overlay's own; width and rotation held at their
        // one keyframe's value all along.
        assert_eq!(m.pose(1.7).y, 50.0);
        assert_eq!(m.pose(0.0).rotation, 90.0);
        assert_eq!((m.pose(0.0).w, m.pose(0.0).h), (200.0, 100.0));
        // Without keyframes for a property: the overlay's own values.
        let still = motion(serde_json::json!([{"t": 1, "y": 0.5}])).unwrap();
        let p = still.pose(0.2);
        assert_eq!(
            (p.x, p.y, p.w, p.h, p.opacity),
            (100.0, 250.0, 40.0, 20.0, 0.8)
        );
    }

    #[test]
    fn mistakes_name_the_keyframe_and_field() {
        let field = |v| motion(v).unwrap_err().field().map(str::to_owned);
        let cases = [
            (serde_json::json!([]), "overlays[0].keyframes"),
            (
                serde_json::json!([{"x": 0.1}]),
                "overlays[0].keyframes[0].t",
            ),
            (
                serde_json::json!([{"t": 1, "x": 0}, {"t": 1, "x": 0.2}]),
                "overlays[0].keyframes[1].t",
            ),
            (
                serde_json::json!([{"t": -0.5}]),
                "overlays[0].keyframes[0].t",
            ),
            (
                serde_json::json!([{"t": 0}, {"t": 4.5}]),
                "overlays[0].keyframes[1].t",
            ),
            (
                serde_json::json!([{"t": 0, "opacity": 1.5}]),
                "overlays[0].keyframes[0].opacity",
            ),
            (
                serde_json::json!([{"t": 0, "width": 0}]),
                "overlays[0].keyframes[0].width",
            ),
            (
                serde_json::json!([{"t": 0, "x": 3}]),
                "overlays[0].keyframes[0].x",
            ),
            (
                serde_json::json!([{"t": 0}, {"t": 1, "easing": "bounce"}]),
                "overlays[0].keyframes[1].easing",
            ),
        ];
        for (v, want) in cases {
            assert_eq!(field(v.clone()).as_deref(), Some(want), "{v}");
        }
        assert!(
            serde_json::from_value::<Vec<Keyframe>>(serde_json::json!([{"t": 0, "scale": 2}]))
                .is_err(),
            "unknown fields are refused"
        );
    }

    /// A white opaque square `side` pixels wide, as a picture.
    fn square(side: u32) -> RgbaImage {
        RgbaImage::from_pixel(side, side, Rgba([255, 255, 255, 255]))
    }

    /// The alpha-weighted centre of a drawn frame, in the frame's pixels,
    /// and its total alpha.
    fn centroid(img: &RgbaImage, area: FrameBox) -> (f64, f64, f64) {
        let (mut sx, mut sy, mut sum) = (0.0, 0.0, 0.0);
        for (x, y, p) in img.enumerate_pixels() {
            let a = f64::from(p[3]);
            sx += a * (f64::from(x) + 0.5);
            sy += a * (f64::from(y) + 0.5);
            sum += a;
        }
        (
            area.x as f64 + sx / sum,
            area.y as f64 + sy / sum,
            sum / 255.0,
        )
    }

    #[test]
    fn a_slow_move_moves_every_frame_without_steps() {
        // 0.3 px a frame: a whole-pixel renderer would stand still for two
        // or three frames, then jump a pixel.
        let base = Pose {
            x: 10.0,
            y: 10.0,
            w: 16.0,
            h: 16.0,
            opacity: 1.0,
            rotation: 0.0,
        };
        let m = Motion::check(
            0,
            &kf(serde_json::json!([{"t": 0, "x": 0.01}, {"t": 1, "x": 0.019}])),
            1.0,
            (1000, 100),
            base,
            1.0,
        )
        .unwrap();
        let poses: Vec<Pose> = (0..=30).map(|n| m.pose(f64::from(n) / 30.0)).collect();
        let pyramid = Pyramid::new(&square(16), (16, 16), None, 16.0);
        let area = frame_box(&poses, (1000, 100));
        let mut last: Option<f64> = None;
        for (n, pose) in poses.iter().enumerate() {
            let (cx, cy, mass) = centroid(&draw_frame(&pyramid, pose, area), area);
            let want = pose.x + 8.0;
            assert!((cx - want).abs() < 0.05, "frame {n}: {cx} vs {want}");
            assert!((cy - 18.0).abs() < 0.05, "frame {n}: y {cy}");
            assert!((mass - 256.0).abs() < 2.0, "frame {n}: area {mass}");
            if let Some(prev) = last {
                let step = cx - prev;
                assert!((step - 0.3).abs() < 0.05, "frame {n} moved {step} px");
            }
            last = Some(cx);
        }
    }

    #[test]
    fn rotation_turns_about_the_centre_and_opacity_scales_alpha() {
        let pyramid = Pyramid::new(
            &RgbaImage::from_pixel(40, 10, Rgba([255, 0, 0, 255])),
            (40, 10),
            None,
            40.0,
        );
        let pose = Pose {
            x: 30.0,
            y: 45.0,
            w: 40.0,
            h: 10.0,
            opacity: 0.5,
            rotation: 90.0,
        };
        let area = frame_box(&[pose], (100, 100));
        let img = draw_frame(&pyramid, &pose, area);
        let (cx, cy, _) = centroid(&img, area);
        assert!(
            (cx - 50.0).abs() < 0.05 && (cy - 50.0).abs() < 0.05,
            "{cx} {cy}"
        );
        // Upright now: 10 px wide, 40 px tall, half transparent.
        let at = |x: i64, y: i64| img.get_pixel((x - area.x) as u32, (y - area.y) as u32).0;
        assert_eq!(at(50, 32), [255, 0, 0, 128]);
        assert_eq!(at(44, 50)[3], 0);
        assert_eq!(at(50, 29)[3], 0);
        // Invisible at opacity 0: nothing drawn.
        let hidden = draw_frame(
            &pyramid,
            &Pose {
                opacity: 0.0,
                ..pose
            },
            area,
        );
        assert!(hidden.pixels().all(|p| p[3] == 0));
    }

    #[test]
    fn shrinking_reads_a_smaller_copy() {
        // A checkerboard drawn at a tenth of its size averages to grey.
        let board = RgbaImage::from_fn(200, 200, |x, y| {
            if (x + y) % 2 == 0 {
                Rgba([255, 255, 255, 255])
            } else {
                Rgba([0, 0, 0, 255])
            }
        });
        let pyramid = Pyramid::new(&board, (200, 200), None, 20.0);
        let pose = Pose {
            x: 0.3,
            y: 0.6,
            w: 20.0,
            h: 20.0,
            opacity: 1.0,
            rotation: 0.0,
        };
        let area = frame_box(&[pose], (100, 100));
        let img = draw_frame(&pyramid, &pose, area);
        for (x, y) in [(5, 5), (10, 12), (15, 8)] {
            let v = img.get_pixel(x, y)[0];
            assert!((100..=155).contains(&v), "grey at {x},{y}: {v}");
        }
    }
}
