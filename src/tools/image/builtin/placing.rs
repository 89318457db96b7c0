//! The subjects on the scenery: sized by kind, set on the ground, the sea
//! or in the sky, lit to match the scene and given a soft shadow.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use resvg::tiny_skia::Pixmap;

use super::Rgb;
use super::analysis::*;
use super::canvas::*;
use super::subjects::{self, Kind, Subject};

/// How the scene's light falls on a subject: a brightness, and a colour and
/// share to mix in (the sky's, for distance, night and weather).
pub(super) fn subject_light(scene: &Scene, sky_bottom: Rgb) -> (f32, Rgb, f32) {
    let mut bright: f32 = match scene.time {
        TimeOfDay::Day => 1.0,
        TimeOfDay::Dawn => 0.88,
        TimeOfDay::Sunset => 0.8,
        TimeOfDay::Night => 0.42,
    };
    let mut mix: f32 = match scene.time {
        TimeOfDay::Day => 0.04,
        TimeOfDay::Dawn | TimeOfDay::Sunset => 0.16,
        TimeOfDay::Night => 0.22,
    };
    match scene.weather {
        Weather::Rain => {
            bright *= 0.72;
            mix += 0.18;
        }
        Weather::Fog => mix += 0.25,
        Weather::Cloudy | Weather::Snow => {
            bright *= 0.9;
            mix += 0.08;
        }
        Weather::Clear => {}
    }
    if scene.neon {
        bright *= 0.7;
        mix += 0.15;
    }
    let tint = if scene.time == TimeOfDay::Night {
        lerp(sky_bottom, [30.0, 45.0, 100.0], 0.5)
    } else {
        sky_bottom
    };
    (bright, tint, mix.min(0.6))
}

/// One picture of a subject, placed: its centre x, the y its feet (or
/// waterline) stand on, and its size in pixels.
pub(super) struct Placement {
    subject: usize,
    x: f32,
    base: f32,
    size: f32,
    flip: bool,
}

/// Draws the prompt's subjects over the scenery, back to front: on the sea
/// (boats), on the ground (or a strip of beach when the scene is the sea),
/// or in the sky. Uses its own random stream, so a prompt without subjects
/// renders exactly as before.
pub(super) fn draw_subjects(
    c: &mut Canvas,
    scene: &Scene,
    seed: u64,
    horizon: f32,
    sky_bottom: Rgb,
    (near, far): (Rgb, Rgb),
    light_x: f32,
) {
    if scene.subjects.is_empty() {
        return;
    }
    // A stream of its own: the scenery's draws stay as they were.
    const SUBJECT_STREAM: u64 = 0x0A00_0000_0000_0000;
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ SUBJECT_STREAM);
    let layout = Layout::new(c, scene, horizon, light_x);
    if layout.on_sea && has_ground_things(scene) {
        draw_beach(c, &mut rng, &layout, subject_light(scene, sky_bottom));
    }
    let placed = place_subjects(scene, &mut rng, &layout);
    let light = subject_light(scene, sky_bottom);
    draw_table(c, scene, &placed, &layout, light);
    for p in &placed {
        let subject = &scene.subjects[p.subject];
        draw_subject(c, scene, subject, p, light, (near, far));
    }
}

/// The picture's measures that the subjects stand by: the horizon, the
/// ground below it, the beach's and the table's tops.
struct Layout {
    w: f32,
    h: f32,
    unit: f32,
    horizon: f32,
    below: f32,
    on_sea: bool,
    indoor: bool,
    beach_top: f32,
    table_top: f32,
    lighthouse_left: bool,
}

impl Layout {
    /// The layout of a canvas whose horizon and lighthouse are where given.
    fn new(c: &Canvas, scene: &Scene, horizon: f32, light_x: f32) -> Layout {
        let (w, h) = (c.w as f32, c.h as f32);
        let below = (h - horizon).max(1.0);
        Layout {
            w,
            h,
            unit: w.min(h),
            horizon,
            below,
            on_sea: scene.setting == Setting::Water,
            indoor: scene.setting == Setting::Indoor,
            // Ground subjects by the sea stand on a beach in the foreground.
            beach_top: horizon + below * 0.55,
            // Indoors, food and objects stand on a table.
            table_top: horizon + below * 0.3,
            lighthouse_left: light_x > w * 0.5,
        }
    }

    /// Whether a subject of this kind stands on the table (food and
    /// objects, indoors).
    fn on_table(&self, kind: Kind) -> bool {
        self.indoor && matches!(kind, Kind::Food | Kind::Object)
    }
}

/// Whether any subject stands on the ground (neither flies nor floats).
fn has_ground_things(scene: &Scene) -> bool {
    scene
        .subjects
        .iter()
        .any(|s| !s.kind.in_the_air() && !s.kind.wants_water())
}

/// The strip of beach the ground subjects stand on when the scene is the sea.
fn draw_beach(
    c: &mut Canvas,
    rng: &mut ChaCha8Rng,
    layout: &Layout,
    (bright, tint, mix): (f32, Rgb, f32),
) {
    let shore = ridge_line(rng, c.w, layout.beach_top, layout.below * 0.04, false);
    let sand = lerp(scale([222.0, 196.0, 150.0], bright), tint, mix);
    c.ridge(&shore, sand, scale(sand, 0.8), None);
}

/// The ground's and the sea's subjects share the width in slots, left to
/// right, in the order they are placed.
struct Row {
    count: usize,
    spacing: f32,
    next: usize,
}

impl Row {
    /// The row of every picture that does not fly.
    fn new(scene: &Scene) -> Row {
        let count: usize = scene
            .subjects
            .iter()
            .filter(|s| !s.kind.in_the_air())
            .map(|s| s.count)
            .sum();
        Row {
            count,
            spacing: (0.8 / count.max(1) as f32).min(0.3),
            next: 0,
        }
    }

    /// The next slot's centre, as a share of the width, nudged by `jitter`.
    fn next_x(&mut self, jitter: f32) -> f32 {
        let x = if self.count == 1 {
            0.5 + jitter * 3.0
        } else {
            let centre = self.next as f32 - (self.count - 1) as f32 / 2.0;
            0.5 + centre * self.spacing + jitter
        };
        self.next += 1;
        x
    }
}

/// Where each picture goes, back to front (by the y it stands on). Copies
/// of one subject stand at different depths.
fn place_subjects(scene: &Scene, rng: &mut ChaCha8Rng, layout: &Layout) -> Vec<Placement> {
    let mut row = Row::new(scene);
    let mut placed: Vec<Placement> = Vec::new();
    for (k, s) in scene.subjects.iter().enumerate() {
        for copy in 0..s.count {
            placed.push(place_copy(rng, layout, &mut row, k, s, copy));
        }
    }
    placed.sort_by(|a, b| a.base.total_cmp(&b.base));
    placed
}

/// How far forward (0 at the back, 1 at the front) one copy of a subject stands.
fn copy_depth(rng: &mut ChaCha8Rng, s: &Subject, copy: usize) -> f32 {
    if s.kind == Kind::Furniture {
        0.2
    } else if s.count == 1 {
        rng.random_range(0.55..0.8)
    } else {
        0.25 + 0.6 * ((copy * 2 + 1) % (s.count + 1)) as f32 / s.count as f32
    }
    .min(1.0)
}

/// The placement of one copy of subject `k`: in the sky, at the lighthouse's
/// side, or in the next slot of the row.
fn place_copy(
    rng: &mut ChaCha8Rng,
    layout: &Layout,
    row: &mut Row,
    k: usize,
    s: &Subject,
    copy: usize,
) -> Placement {
    let depth = copy_depth(rng, s, copy);
    let jitter = rng.random_range(-0.03..0.03);
    let flip = rng.random_bool(0.5);
    let size = layout.unit * s.kind.size();
    match s.kind {
        kind if kind.in_the_air() => Placement {
            subject: k,
            x: layout.w * (0.2 + 0.6 * rng.random_range(0.0..1.0)),
            base: layout.horizon * rng.random_range(0.35..0.65),
            size: size * rng.random_range(0.7..1.0),
            flip,
        },
        Kind::TallBuilding => Placement {
            subject: k,
            x: layout.w * if layout.lighthouse_left { 0.24 } else { 0.76 },
            base: layout.horizon + layout.below * 0.32,
            size,
            flip: false,
        },
        kind => {
            let x = layout.w * row.next_x(jitter);
            let (base, scale_k) = footing(layout, kind, depth);
            Placement {
                subject: k,
                x,
                base,
                size: size * scale_k,
                flip,
            }
        }
    }
}

/// Where a subject of the ground or the sea stands at `depth`, and how much
/// its size is scaled there: on the table, on the sea, on the beach or on
/// the ground.
fn footing(layout: &Layout, kind: Kind, depth: f32) -> (f32, f32) {
    let (horizon, below) = (layout.horizon, layout.below);
    if layout.on_table(kind) {
        (layout.table_top, 0.8)
    } else if layout.on_sea && kind.wants_water() {
        (horizon + below * (0.08 + 0.5 * depth), 0.45 + 0.65 * depth)
    } else if layout.on_sea {
        let beach_top = layout.beach_top;
        (
            beach_top + (layout.h - beach_top) * (0.35 + 0.45 * depth),
            0.9,
        )
    } else {
        (horizon + below * (0.15 + 0.6 * depth), 0.6 + 0.5 * depth)
    }
}

/// The table under the pictures that stand on one (indoors), as wide as
/// they need.
fn draw_table(
    c: &mut Canvas,
    scene: &Scene,
    placed: &[Placement],
    layout: &Layout,
    (bright, tint, mix): (f32, Rgb, f32),
) {
    let on_table: Vec<&Placement> = placed
        .iter()
        .filter(|p| layout.on_table(scene.subjects[p.subject].kind))
        .collect();
    if on_table.is_empty() {
        return;
    }
    let x0 = on_table
        .iter()
        .map(|p| p.x - p.size * 0.8)
        .fold(layout.w, f32::min);
    let x1 = on_table
        .iter()
        .map(|p| p.x + p.size * 0.8)
        .fold(0.0, f32::max);
    let wood = lerp(scale([120.0, 78.0, 48.0], bright), tint, mix);
    let thick = layout.unit * 0.03;
    let leg = layout.unit * 0.025;
    let (table_top, floor) = (layout.table_top, layout.horizon + layout.below * 0.85);
    c.rect(
        x0 + leg,
        table_top,
        x0 + leg * 2.0,
        floor,
        scale(wood, 0.7),
        1.0,
    );
    c.rect(
        x1 - leg * 2.0,
        table_top,
        x1 - leg,
        floor,
        scale(wood, 0.7),
        1.0,
    );
    c.rect(x0, table_top, x1, table_top + thick, wood, 1.0);
    c.rect(
        x0,
        table_top + thick,
        x1,
        table_top + thick * 1.3,
        scale(wood, 0.6),
        1.0,
    );
}

/// The pictures of boats come with a band of sea of their own (Fluent's
/// blue, #00a6ed, in the lower part); the scene has its own sea, so those
/// pixels are left out.
pub(super) fn own_sea(kind: Kind, p: resvg::tiny_skia::PremultipliedColorU8, y_share: f32) -> bool {
    if kind != Kind::Boat || y_share < 0.55 || p.alpha() < 8 {
        return false;
    }
    let c = p.demultiply();
    c.red() < 48
        && (i32::from(c.green()) - 166).abs() < 40
        && (i32::from(c.blue()) - 237).abs() < 40
}

/// The drawn part of a picture (alpha above a threshold), as fractions of
/// its square: (left, top, right, bottom).
pub(super) fn drawn_bounds(subject: &Subject) -> (f32, f32, f32, f32) {
    let Some(px) = subjects::raster(subject, 64, false) else {
        return (0.0, 0.0, 1.0, 1.0);
    };
    let (mut x0, mut y0, mut x1, mut y1) = (64u32, 64u32, 0u32, 0u32);
    for (i, p) in px.pixels().iter().enumerate() {
        if p.alpha() > 24 && !own_sea(subject.kind, *p, (i / 64) as f32 / 64.0) {
            let (x, y) = (i as u32 % 64, i as u32 / 64);
            x0 = x0.min(x);
            x1 = x1.max(x + 1);
            y0 = y0.min(y);
            y1 = y1.max(y + 1);
        }
    }
    if x1 <= x0 || y1 <= y0 {
        return (0.0, 0.0, 1.0, 1.0);
    }
    (
        x0 as f32 / 64.0,
        y0 as f32 / 64.0,
        x1 as f32 / 64.0,
        y1 as f32 / 64.0,
    )
}

/// Draws one placed picture of a subject, lit like the scene: what it stands
/// on or casts below it, the picture, then what lies over it.
pub(super) fn draw_subject(
    c: &mut Canvas,
    scene: &Scene,
    subject: &Subject,
    p: &Placement,
    light: (f32, Rgb, f32),
    (near, far): (Rgb, Rgb),
) {
    let Some(frame) = Frame::of(subject, p) else {
        return;
    };
    let on_water = scene.setting == Setting::Water && subject.kind.wants_water();
    if subject.kind == Kind::TallBuilding {
        draw_rocks(c, p, frame.width, light);
    }
    if !subject.kind.in_the_air() {
        draw_shadow(c, scene, p, frame.width, on_water, (near, far));
    }
    draw_lit(c, subject, &frame, light);
    if on_water && subject.kind == Kind::Boat {
        draw_lapping_sea(c, p, &frame, light);
    }
    if subject.kind == Kind::TallBuilding && subject.label == "lighthouse" {
        draw_lamp(c, scene, &frame);
    }
}

/// A placed picture, rastered: its pixels, their square's side and top-left
/// corner, and the width of its drawn part, in canvas pixels.
struct Frame {
    px: Pixmap,
    square: f32,
    left: f32,
    top: f32,
    width: f32,
}

impl Frame {
    /// The picture rastered so that its drawn part's larger side is the
    /// placement's size, standing on the placement's base. None if it cannot
    /// be drawn.
    fn of(subject: &Subject, p: &Placement) -> Option<Frame> {
        let (bx0, by0, bx1, by1) = drawn_bounds(subject);
        // `size` is the drawn part's larger side; the square is larger by the padding.
        let drawn = (bx1 - bx0).max(by1 - by0).max(0.05);
        let square = (p.size / drawn).round().clamp(4.0, 4096.0);
        let px = subjects::raster(subject, square as u32, p.flip)?;
        let (bx0, bx1) = if p.flip {
            (1.0 - bx1, 1.0 - bx0)
        } else {
            (bx0, bx1)
        };
        Some(Frame {
            px,
            square,
            left: p.x - square * (bx0 + bx1) / 2.0,
            top: p.base - square * by1,
            width: square * (bx1 - bx0),
        })
    }
}

/// The rocks a lighthouse stands on.
fn draw_rocks(c: &mut Canvas, p: &Placement, width: f32, (bright, tint, mix): (f32, Rgb, f32)) {
    let rock = lerp(scale([70.0, 70.0, 78.0], bright), tint, mix);
    for i in 0..9 {
        let t = i as f32 / 8.0 - 0.5;
        c.ellipse(
            p.x + t * width * 2.4,
            p.base + width * (0.12 + t * t * 0.5),
            width * (0.42 - t.abs() * 0.3),
            width * (0.2 - t.abs() * 0.12),
            2.0,
            scale(rock, 0.8 + 0.12 * (i % 3) as f32),
            1.0,
        );
    }
}

/// A soft shadow under what stands on the ground; a dark reflection under
/// what floats. Fainter at night and in rain or fog.
fn draw_shadow(
    c: &mut Canvas,
    scene: &Scene,
    p: &Placement,
    width: f32,
    on_water: bool,
    (near, far): (Rgb, Rgb),
) {
    let (shade, opacity) = if on_water {
        ([10.0, 25.0, 50.0], 0.3)
    } else {
        (scale(lerp(near, far, 0.5), 0.35), 0.4)
    };
    let opacity = if matches!(scene.weather, Weather::Rain | Weather::Fog)
        || scene.time == TimeOfDay::Night
    {
        opacity * 0.6
    } else {
        opacity
    };
    c.ellipse(
        p.x,
        p.base,
        width * 0.5,
        (width * 0.07).max(2.0),
        width * 0.08,
        shade,
        opacity,
    );
}

/// The picture itself, lit like the scene (without a boat picture's own sea).
fn draw_lit(
    c: &mut Canvas,
    subject: &Subject,
    frame: &Frame,
    (bright, tint, mix): (f32, Rgb, f32),
) {
    let pw = frame.px.width() as usize;
    let (ox, oy) = (frame.left.round() as i64, frame.top.round() as i64);
    for (i, q) in frame.px.pixels().iter().enumerate() {
        let a = q.alpha();
        if a == 0 || own_sea(subject.kind, *q, (i / pw) as f32 / frame.square) {
            continue;
        }
        let (x, y) = (ox + (i % pw) as i64, oy + (i / pw) as i64);
        if x < 0 || y < 0 || x as usize >= c.w || y as usize >= c.h {
            continue;
        }
        let af = f32::from(a) / 255.0;
        // Premultiplied → straight colour, then the scene's light.
        let colour = [
            f32::from(q.red()) / af,
            f32::from(q.green()) / af,
            f32::from(q.blue()) / af,
        ];
        let lit = lerp(scale(colour, bright), tint, mix);
        c.blend(x as usize, y as usize, lit, af);
    }
}

/// Boats sit in the water: the sea laps over the hull's lowest part.
fn draw_lapping_sea(
    c: &mut Canvas,
    p: &Placement,
    frame: &Frame,
    (bright, tint, _): (f32, Rgb, f32),
) {
    let sea = lerp(tint, [20.0, 70.0, 120.0], 0.6);
    let sea = scale(sea, bright);
    let depth = (p.base - frame.top) * 0.06;
    c.rect(
        p.x - frame.width * 0.55,
        p.base - depth,
        p.x + frame.width * 0.55,
        p.base + 1.0,
        sea,
        0.55,
    );
}

/// A lighthouse's lamp glows, and sweeps a beam, in the dark or the weather.
fn draw_lamp(c: &mut Canvas, scene: &Scene, frame: &Frame) {
    let dark = scene.time != TimeOfDay::Day
        || matches!(
            scene.weather,
            Weather::Rain | Weather::Fog | Weather::Cloudy
        );
    if !dark {
        return;
    }
    let (square, left, top) = (frame.square, frame.left, frame.top);
    let lamp_x = left + square * 0.5;
    let lamp_y = top + square * 7.5 / 32.0;
    let glow = [255.0, 236.0, 160.0];
    c.disc(lamp_x, lamp_y, square * 0.03, square * 0.1, glow, 0.8);
    let toward = if lamp_x < c.w as f32 / 2.0 { 1.0 } else { -1.0 };
    c.beam(lamp_x, lamp_y, toward, c.w as f32 * 0.75, 0.12, glow, 0.28);
}
