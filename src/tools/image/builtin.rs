//! The built-in image engine: a deterministic procedural illustration whose
//! palette, light and composition follow the prompt's words (time of day,
//! weather, setting, mood, named colours), drawn in layers — sky gradient, sun
//! or moon, stars, clouds, ridges, skyline, water, trees, particles — with an
//! optional caption in a real font — and the subjects the prompt names
//! (a lighthouse, fishing boats, a cat), drawn from vector pictures by
//! [`super::subjects`], sized by kind, set on the ground, the sea or in the
//! sky, lit to match the scene and given a soft shadow. Same prompt, seed and
//! size give the same bytes. Everything is drawn straight into one RGB buffer; no layer touches
//! more pixels than it covers.

use std::io::Cursor;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
use image::ImageEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::subjects::{self, Kind, Subject};
use super::{GeneratedImage, ImageProvider, ImageRequest};
use crate::error::{Error, Result};

/// The font shipped with the project (DejaVu Sans Bold, see assets/fonts).
pub static FONT_BYTES: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");

type Rgb = [f32; 3];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeOfDay {
    Day,
    Dawn,
    Sunset,
    Night,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weather {
    Clear,
    Cloudy,
    Rain,
    Snow,
    Fog,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting {
    Field,
    Water,
    Forest,
    City,
    Mountains,
    Desert,
    Space,
    /// A room: a wall with a window on the sky, and a wooden floor.
    Indoor,
}

/// What the prompt's words ask for.
#[derive(Clone, Debug, PartialEq)]
pub struct Scene {
    pub time: TimeOfDay,
    pub weather: Weather,
    pub setting: Setting,
    pub neon: bool,
    pub calm: bool,
    pub sparkles: bool,
    pub accent: Option<Rgb>,
    /// What the prompt names, drawn over the scenery (may be empty).
    pub subjects: Vec<Subject>,
}

const COLOURS: &[(&str, Rgb)] = &[
    ("red", [220.0, 40.0, 50.0]),
    ("orange", [245.0, 140.0, 40.0]),
    ("yellow", [245.0, 215.0, 60.0]),
    ("gold", [230.0, 180.0, 60.0]),
    ("golden", [230.0, 180.0, 60.0]),
    ("green", [60.0, 180.0, 90.0]),
    ("teal", [30.0, 170.0, 170.0]),
    ("cyan", [40.0, 220.0, 235.0]),
    ("blue", [50.0, 100.0, 230.0]),
    ("purple", [140.0, 70.0, 200.0]),
    ("violet", [150.0, 90.0, 220.0]),
    ("pink", [240.0, 110.0, 180.0]),
    ("magenta", [230.0, 50.0, 200.0]),
    ("white", [240.0, 240.0, 240.0]),
    ("silver", [190.0, 195.0, 205.0]),
    ("brown", [130.0, 85.0, 50.0]),
];

/// Words that keep a scene outdoors even for indoor subjects.
const OUTDOORS: &[&str] = &[
    "field",
    "meadow",
    "park",
    "garden",
    "grass",
    "farm",
    "outdoor",
    "outdoors",
    "outside",
    "hill",
    "countryside",
    "picnic",
    "yard",
];

fn any(words: &[String], keys: &[&str]) -> bool {
    words.iter().any(|w| {
        keys.iter()
            .any(|k| w == k || (k.len() > 3 && w.starts_with(k)))
    })
}

/// Reads the scene from the prompt (and the optional style).
pub fn analyse(prompt: &str) -> Scene {
    let words: Vec<String> = prompt
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let time = if any(
        &words,
        &[
            "night",
            "midnight",
            "moon",
            "moonlit",
            "stars",
            "starry",
            "dark",
            "nocturnal",
        ],
    ) {
        TimeOfDay::Night
    } else if any(&words, &["sunset", "dusk", "evening", "twilight", "golden"]) {
        TimeOfDay::Sunset
    } else if any(&words, &["sunrise", "dawn", "morning", "daybreak"]) {
        TimeOfDay::Dawn
    } else {
        TimeOfDay::Day
    };
    let weather = if any(
        &words,
        &["rain", "rainy", "storm", "stormy", "thunder", "drizzle"],
    ) {
        Weather::Rain
    } else if any(
        &words,
        &[
            "snow",
            "snowy",
            "winter",
            "blizzard",
            "frost",
            "frozen",
            "ice",
            "iceberg",
            "icebergs",
            "arctic",
            "antarctic",
            "antarctica",
            "polar",
            "icy",
        ],
    ) {
        Weather::Snow
    } else if any(&words, &["fog", "foggy", "mist", "misty", "haze", "hazy"]) {
        Weather::Fog
    } else if any(&words, &["cloud", "cloudy", "overcast", "grey", "gray"]) {
        Weather::Cloudy
    } else {
        Weather::Clear
    };
    let indoor_words = [
        "room",
        "rooms",
        "kitchen",
        "bedroom",
        "indoors",
        "inside",
        "cafe",
        "café",
        "restaurant",
        "office",
        "classroom",
        "sofa",
        "couch",
        "bed",
        "desk",
        "table",
        "home",
        "living",
        "interior",
        "studio",
        "library",
        "bathroom",
        "apartment",
        "flat",
    ];
    let setting = if any(
        &words,
        &[
            "space",
            "galaxy",
            "planet",
            "nebula",
            "cosmic",
            "universe",
            "astronaut",
            "orbit",
        ],
    ) {
        Setting::Space
    } else if words.iter().any(|w| indoor_words.contains(&w.as_str())) {
        Setting::Indoor
    } else if any(
        &words,
        &[
            "city",
            "cityscape",
            "cities",
            "tower",
            "towers",
            "factory",
            "factories",
            "railway",
            "urban",
            "skyline",
            "street",
            "downtown",
            "building",
            "skyscraper",
            "cyberpunk",
            "futuristic",
            "metropolis",
            "town",
        ],
    ) {
        Setting::City
    } else if any(
        &words,
        &[
            "ocean", "sea", "beach", "wave", "waves", "lake", "coast", "harbor", "harbour",
            "river", "island", "shore", "pond", "iceberg", "icebergs", "bay", "fjord", "lagoon",
            "canal", "pier", "marina", "port",
        ],
    ) {
        Setting::Water
    } else if any(
        &words,
        &[
            "forest", "tree", "trees", "woods", "jungle", "pine", "woodland",
        ],
    ) {
        Setting::Forest
    } else if any(
        &words,
        &[
            "mountain",
            "mountains",
            "peak",
            "peaks",
            "alps",
            "summit",
            "volcano",
            "glacier",
        ],
    ) {
        Setting::Mountains
    } else if any(
        &words,
        &["desert", "dune", "dunes", "sand", "sahara", "canyon"],
    ) {
        Setting::Desert
    } else {
        Setting::Field
    };
    let neon = any(
        &words,
        &["neon", "cyberpunk", "synthwave", "vaporwave", "glowing"],
    );
    let calm = any(
        &words,
        &[
            "calm", "peaceful", "serene", "quiet", "gentle", "cozy", "soft",
        ],
    );
    let sparkles = any(
        &words,
        &[
            "magic",
            "magical",
            "fantasy",
            "fairy",
            "sparkle",
            "sparkling",
            "fireflies",
            "dream",
            "dreamy",
        ],
    );
    let accent = words
        .iter()
        .find_map(|w| COLOURS.iter().find(|(name, _)| name == w).map(|(_, c)| *c));
    let subjects = subjects::find(prompt);
    // Boats, sea animals and lighthouses bring the sea, and furniture a
    // room, unless the words chose a setting that fits them.
    let setting = if subjects.iter().any(|s| s.kind.wants_water())
        && matches!(
            setting,
            Setting::Field | Setting::Forest | Setting::Mountains | Setting::Desert
        ) {
        Setting::Water
    } else if setting == Setting::Field
        && !any(&words, OUTDOORS)
        && !subjects.is_empty()
        && (subjects.iter().any(|s| s.kind == Kind::Furniture)
            || subjects
                .iter()
                .all(|s| matches!(s.kind, Kind::Food | Kind::Object | Kind::Furniture)))
    {
        // A sofa, or a cup of coffee with no outdoor words, is indoors.
        Setting::Indoor
    } else {
        setting
    };
    Scene {
        time,
        weather,
        setting,
        neon,
        calm,
        sparkles,
        accent,
        subjects,
    }
}

/// A stable 64-bit hash (FNV-1a): the same prompt seeds the same picture on
/// every build and machine.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn lerp(a: Rgb, b: Rgb, t: f32) -> Rgb {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

fn scale(c: Rgb, k: f32) -> Rgb {
    [c[0] * k, c[1] * k, c[2] * k]
}

struct Canvas {
    w: usize,
    h: usize,
    px: Vec<u8>,
}

impl Canvas {
    fn new(w: usize, h: usize) -> Self {
        Self {
            w,
            h,
            px: vec![0; w * h * 3],
        }
    }

    #[inline]
    fn blend(&mut self, x: usize, y: usize, c: Rgb, a: f32) {
        let i = (y * self.w + x) * 3;
        let p = &mut self.px[i..i + 3];
        for k in 0..3 {
            let v = f32::from(p[k]) + (c[k] - f32::from(p[k])) * a;
            p[k] = v.clamp(0.0, 255.0) as u8;
        }
    }

    #[inline]
    fn set(&mut self, x: usize, y: usize, c: Rgb) {
        let i = (y * self.w + x) * 3;
        self.px[i] = c[0].clamp(0.0, 255.0) as u8;
        self.px[i + 1] = c[1].clamp(0.0, 255.0) as u8;
        self.px[i + 2] = c[2].clamp(0.0, 255.0) as u8;
    }

    /// A vertical gradient over rows `y0..y1`.
    fn gradient(&mut self, y0: usize, y1: usize, top: Rgb, bottom: Rgb) {
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
    fn disc(&mut self, cx: f32, cy: f32, r: f32, soft: f32, c: Rgb, opacity: f32) {
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
    fn ellipse(&mut self, cx: f32, cy: f32, rx: f32, ry: f32, soft: f32, c: Rgb, opacity: f32) {
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
    fn beam(&mut self, x: f32, y: f32, dir: f32, len: f32, spread: f32, c: Rgb, opacity: f32) {
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

    fn rect(&mut self, x0: f32, y0: f32, x1: f32, y1: f32, c: Rgb, a: f32) {
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
    fn ridge(&mut self, tops: &[f32], top_colour: Rgb, bottom_colour: Rgb, snow_line: Option<f32>) {
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
    fn pine(&mut self, cx: f32, top: f32, base: f32, half_width: f32, c: Rgb) {
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

fn sky_colours(scene: &Scene) -> (Rgb, Rgb) {
    let (mut top, mut bottom) = match scene.time {
        TimeOfDay::Day => ([62.0, 125.0, 215.0], [175.0, 212.0, 240.0]),
        TimeOfDay::Dawn => ([85.0, 105.0, 175.0], [252.0, 196.0, 150.0]),
        TimeOfDay::Sunset => ([58.0, 38.0, 108.0], [255.0, 138.0, 68.0]),
        TimeOfDay::Night => ([4.0, 7.0, 28.0], [28.0, 38.0, 82.0]),
    };
    if scene.setting == Setting::Space {
        (top, bottom) = ([2.0, 2.0, 10.0], [16.0, 10.0, 38.0]);
    }
    if scene.neon {
        (top, bottom) = ([22.0, 6.0, 44.0], [150.0, 40.0, 140.0]);
    }
    if scene.setting == Setting::Desert {
        // Dust and heat: a warm, hazy horizon.
        top = lerp(top, [200.0, 150.0, 110.0], 0.25);
        bottom = lerp(bottom, [245.0, 205.0, 150.0], 0.6);
    }
    let grey = match scene.weather {
        Weather::Cloudy => 0.45,
        Weather::Rain => 0.6,
        Weather::Snow => 0.4,
        Weather::Fog => 0.5,
        Weather::Clear => 0.0,
    };
    let overcast = scale(
        [150.0, 155.0, 165.0],
        if scene.time == TimeOfDay::Night {
            0.3
        } else {
            1.0
        },
    );
    top = lerp(top, overcast, grey);
    bottom = lerp(bottom, overcast, grey);
    if let Some(accent) = scene.accent {
        bottom = lerp(bottom, accent, 0.35);
        top = lerp(top, scale(accent, 0.5), 0.15);
    }
    (top, bottom)
}

fn ground_colours(scene: &Scene) -> (Rgb, Rgb) {
    let (near, far): (Rgb, Rgb) = match scene.setting {
        Setting::Field => ([88.0, 150.0, 70.0], [40.0, 95.0, 40.0]),
        Setting::Forest => ([40.0, 95.0, 55.0], [15.0, 50.0, 30.0]),
        Setting::City => ([48.0, 52.0, 66.0], [24.0, 26.0, 34.0]),
        Setting::Water => ([40.0, 105.0, 160.0], [10.0, 40.0, 85.0]),
        Setting::Mountains => ([100.0, 100.0, 125.0], [55.0, 60.0, 80.0]),
        Setting::Desert => ([222.0, 180.0, 120.0], [180.0, 130.0, 80.0]),
        Setting::Space => ([90.0, 80.0, 100.0], [40.0, 35.0, 50.0]),
        Setting::Indoor => ([168.0, 120.0, 80.0], [112.0, 74.0, 46.0]),
    };
    let (mut near, mut far) = if scene.weather == Weather::Snow && scene.setting != Setting::Water {
        ([225.0, 232.0, 242.0], [180.0, 190.0, 210.0])
    } else {
        (near, far)
    };
    let light = match scene.time {
        TimeOfDay::Day => 1.0,
        TimeOfDay::Dawn => 0.8,
        TimeOfDay::Sunset => 0.65,
        TimeOfDay::Night => 0.3,
    };
    near = scale(near, light);
    far = scale(far, light);
    if scene.time == TimeOfDay::Night {
        near = lerp(near, [20.0, 30.0, 70.0], 0.3);
        far = lerp(far, [10.0, 15.0, 40.0], 0.3);
    }
    (near, far)
}

/// A ridge line: a sum of three sines with seeded phases.
fn ridge_line(rng: &mut ChaCha8Rng, w: usize, base: f32, amp: f32, jagged: bool) -> Vec<f32> {
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

/// The scene a request asks for (the prompt and its style).
pub fn scene_of(req: &ImageRequest) -> Scene {
    match &req.style {
        Some(style) => analyse(&format!("{} {}", req.prompt, style)),
        None => analyse(&req.prompt),
    }
}

fn render(req: &ImageRequest) -> Vec<u8> {
    let (w, h) = (req.width as usize, req.height as usize);
    let scene = scene_of(req);
    let seed = req.seed.unwrap_or(0) ^ fnv1a(&req.prompt);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut c = Canvas::new(w, h);
    let (wf, hf) = (w as f32, h as f32);
    let unit = wf.min(hf);

    let horizon = hf
        * match scene.setting {
            Setting::Water => 0.55,
            Setting::Space => 0.82,
            Setting::City => 0.7,
            Setting::Indoor => 0.66,
            _ => 0.62,
        };
    let (sky_top, sky_bottom) = sky_colours(&scene);
    c.gradient(0, h, sky_top, sky_bottom);

    // Stars and nebulae.
    if scene.time == TimeOfDay::Night || scene.setting == Setting::Space || scene.neon {
        if scene.setting == Setting::Space {
            for _ in 0..4 {
                let tint = scene.accent.unwrap_or(if rng.random_bool(0.5) {
                    [120.0, 60.0, 200.0]
                } else {
                    [40.0, 120.0, 200.0]
                });
                let r = unit * rng.random_range(0.15..0.3);
                c.disc(
                    rng.random_range(0.0..wf),
                    rng.random_range(0.0..horizon),
                    0.0,
                    r,
                    tint,
                    0.25,
                );
            }
        }
        let stars = (w * h)
            / if scene.weather == Weather::Clear {
                900
            } else {
                4000
            };
        for _ in 0..stars {
            let (x, y) = (
                rng.random_range(0..w),
                rng.random_range(0..(horizon as usize).max(1)),
            );
            let b = rng.random_range(0.3..1.0);
            c.blend(x, y, [255.0, 250.0, 235.0], b);
        }
    }

    // Sun or moon, with a glow.
    let light_x = wf * rng.random_range(0.2..0.8);
    if scene.weather != Weather::Rain || scene.setting == Setting::Space {
        let (light_y, r, colour, glow) = match scene.time {
            TimeOfDay::Day => (hf * 0.2, unit * 0.07, [255.0, 250.0, 225.0], 0.45),
            TimeOfDay::Dawn => (
                horizon - unit * 0.1,
                unit * 0.09,
                [255.0, 215.0, 150.0],
                0.5,
            ),
            TimeOfDay::Sunset => (
                horizon - unit * 0.06,
                unit * 0.11,
                [255.0, 170.0, 90.0],
                0.6,
            ),
            TimeOfDay::Night => (hf * 0.2, unit * 0.06, [235.0, 235.0, 215.0], 0.25),
        };
        let dim = if scene.weather == Weather::Clear {
            1.0
        } else {
            0.5
        };
        c.disc(light_x, light_y, r, r * 2.5, colour, glow * 0.5 * dim);
        c.disc(light_x, light_y, r, 2.0, colour, dim);
        if scene.setting == Setting::Space {
            // A planet with a lit edge.
            let (px, py, pr) = (
                wf * rng.random_range(0.15..0.85),
                hf * rng.random_range(0.3..0.6),
                unit * rng.random_range(0.12..0.22),
            );
            let body = scene.accent.unwrap_or([90.0, 140.0, 200.0]);
            c.disc(px, py, pr, 2.0, scale(body, 0.4), 1.0);
            c.disc(
                px - pr * 0.25,
                py - pr * 0.25,
                pr * 0.7,
                pr * 0.3,
                body,
                0.8,
            );
        }
    }

    // Clouds.
    let clouds = match scene.weather {
        Weather::Cloudy | Weather::Rain => 9,
        Weather::Snow | Weather::Fog => 5,
        Weather::Clear if scene.setting == Setting::Space => 0,
        Weather::Clear => rng.random_range(1..4),
    };
    let cloud_colour = match (scene.time, scene.weather) {
        (TimeOfDay::Night, _) => [60.0, 65.0, 90.0],
        (_, Weather::Rain) => [120.0, 125.0, 135.0],
        (TimeOfDay::Sunset, _) => [250.0, 170.0, 150.0],
        (TimeOfDay::Dawn, _) => [250.0, 215.0, 200.0],
        _ => [250.0, 250.0, 252.0],
    };
    for _ in 0..clouds {
        let (cx, cy) = (
            rng.random_range(-0.1..1.1) * wf,
            rng.random_range(0.05..0.45) * horizon,
        );
        let size = unit * rng.random_range(0.05..0.1);
        for _ in 0..6 {
            let (dx, dy) = (
                rng.random_range(-2.0..2.0) * size,
                rng.random_range(-0.4..0.3) * size,
            );
            c.disc(
                cx + dx,
                cy + dy,
                size * rng.random_range(0.6..1.1),
                size * 0.5,
                cloud_colour,
                0.55,
            );
        }
    }

    // Land, water and the setting's features.
    let (near, far) = ground_colours(&scene);
    let haze = |col: Rgb, k: f32| lerp(col, sky_bottom, k);
    match scene.setting {
        Setting::Mountains => {
            let back = ridge_line(&mut rng, w, horizon - hf * 0.12, hf * 0.2, true);
            c.ridge(&back, haze(near, 0.55), haze(far, 0.5), Some(hf * 0.06));
            let front = ridge_line(&mut rng, w, horizon + hf * 0.05, hf * 0.12, true);
            c.ridge(
                &front,
                near,
                far,
                (scene.weather == Weather::Snow).then_some(hf * 0.04),
            );
        }
        Setting::Desert => {
            for (i, base) in [horizon, horizon + hf * 0.12, horizon + hf * 0.24]
                .into_iter()
                .enumerate()
            {
                let dune = ridge_line(&mut rng, w, base, hf * 0.05, false);
                let k = 0.4 - i as f32 * 0.18;
                c.ridge(&dune, haze(near, k.max(0.0)), far, None);
            }
        }
        Setting::Water => {
            let far_shore = ridge_line(&mut rng, w, horizon - hf * 0.02, hf * 0.03, false);
            c.ridge(
                &far_shore,
                haze([60.0, 80.0, 90.0], 0.6),
                haze([60.0, 80.0, 90.0], 0.5),
                None,
            );
            let sea_top = lerp(sky_bottom, [30.0, 90.0, 150.0], 0.5);
            let sea_bottom = scale(
                [12.0, 45.0, 90.0],
                if scene.time == TimeOfDay::Night {
                    0.4
                } else {
                    1.0
                },
            );
            c.gradient(horizon as usize, h, sea_top, sea_bottom);
            // Wave highlights, longer nearer the viewer; a path of light under the sun or moon.
            for _ in 0..(w * h / 2500) {
                let t: f32 = rng.random_range(0.0f32..1.0).powf(0.7);
                let y = horizon + t * (hf - horizon);
                let len = 4.0 + t * unit * 0.06;
                let near_light = rng.random_bool(0.35);
                let x = if near_light {
                    light_x + rng.random_range(-1.0..1.0) * unit * (0.03 + 0.12 * t)
                } else {
                    rng.random_range(0.0..wf)
                };
                let colour = if near_light {
                    lerp(sky_bottom, [255.0, 240.0, 200.0], 0.6)
                } else {
                    lerp(sea_top, [255.0, 255.0, 255.0], 0.35)
                };
                c.rect(
                    x - len / 2.0,
                    y,
                    x + len / 2.0,
                    y + 1.0 + t * 2.0,
                    colour,
                    0.5,
                );
            }
        }
        Setting::City => {
            let back = ridge_line(&mut rng, w, horizon - hf * 0.05, hf * 0.04, false);
            c.ridge(&back, haze(near, 0.6), haze(far, 0.5), None);
            let lit = match scene.time {
                TimeOfDay::Night => 0.45,
                TimeOfDay::Sunset | TimeOfDay::Dawn => 0.25,
                TimeOfDay::Day => 0.08,
            };
            let window_colours: Vec<Rgb> = if scene.neon {
                vec![
                    [255.0, 60.0, 200.0],
                    [60.0, 230.0, 255.0],
                    [255.0, 220.0, 90.0],
                ]
            } else {
                vec![scene.accent.unwrap_or([255.0, 215.0, 130.0])]
            };
            for layer in 0..2 {
                let mut x = -rng.random_range(0.0..0.05) * wf;
                let shade = if layer == 0 { haze(near, 0.35) } else { near };
                while x < wf {
                    let bw = wf * rng.random_range(0.035..0.08);
                    let bh =
                        hf * rng.random_range(0.12..0.42) * if layer == 0 { 1.2 } else { 0.85 };
                    let top = horizon - bh;
                    c.rect(x, top, x + bw - 2.0, hf, shade, 1.0);
                    let cell = (unit / 70.0).max(3.0);
                    let mut wy = top + cell;
                    while wy < hf - cell {
                        let mut wx = x + cell * 0.6;
                        while wx < x + bw - cell * 1.2 {
                            if rng.random_bool(lit) {
                                let colour =
                                    window_colours[rng.random_range(0..window_colours.len())];
                                c.rect(wx, wy, wx + cell * 0.6, wy + cell * 0.7, colour, 0.85);
                            }
                            wx += cell * 1.3;
                        }
                        wy += cell * 1.5;
                    }
                    x += bw + wf * rng.random_range(0.0..0.015);
                }
            }
            if scene.neon {
                for _ in 0..4 {
                    let colour = window_colours[rng.random_range(0..window_colours.len())];
                    let (x, y) = (rng.random_range(0.0..wf), hf * rng.random_range(0.55..0.85));
                    let len = unit * rng.random_range(0.08..0.2);
                    c.rect(x, y, x + len, y + unit * 0.008, colour, 0.95);
                    c.rect(
                        x - 6.0,
                        y - 6.0,
                        x + len + 6.0,
                        y + unit * 0.008 + 6.0,
                        colour,
                        0.2,
                    );
                }
            }
        }
        Setting::Indoor => {
            // The wall, lit like the time of day, with a window on the sky.
            let light = match scene.time {
                TimeOfDay::Day => 1.0,
                TimeOfDay::Dawn | TimeOfDay::Sunset => 0.85,
                TimeOfDay::Night => 0.5,
            };
            let wall = scale(
                scene.accent.map_or([226.0, 208.0, 180.0], |a| {
                    lerp([226.0, 208.0, 180.0], a, 0.25)
                }),
                light,
            );
            let window_left = if rng.random_bool(0.5) { 0.1 } else { 0.62 };
            let (wx0, wx1) = (wf * window_left, wf * (window_left + 0.26));
            let (wy0, wy1) = (hf * 0.1, horizon - hf * 0.2);
            for y in 0..(horizon as usize).min(h) {
                let shade = 0.9 + 0.1 * y as f32 / horizon.max(1.0);
                for x in 0..w {
                    let (xf, yf) = (x as f32, y as f32);
                    if !(xf >= wx0 && xf < wx1 && yf >= wy0 && yf < wy1) {
                        c.set(x, y, scale(wall, shade));
                    }
                }
            }
            let frame = scale([245.0, 242.0, 235.0], light);
            let bar = unit * 0.012;
            c.rect(wx0 - bar, wy0 - bar, wx1 + bar, wy0, frame, 1.0);
            c.rect(wx0 - bar, wy1, wx1 + bar, wy1 + bar * 2.0, frame, 1.0);
            c.rect(wx0 - bar, wy0, wx0, wy1, frame, 1.0);
            c.rect(wx1, wy0, wx1 + bar, wy1, frame, 1.0);
            c.rect(
                (wx0 + wx1) / 2.0 - bar / 2.0,
                wy0,
                (wx0 + wx1) / 2.0 + bar / 2.0,
                wy1,
                frame,
                1.0,
            );
            c.rect(
                wx0,
                (wy0 + wy1) / 2.0 - bar / 2.0,
                wx1,
                (wy0 + wy1) / 2.0 + bar / 2.0,
                frame,
                1.0,
            );
            c.gradient(horizon as usize, h, near, far);
            c.rect(
                0.0,
                horizon - unit * 0.015,
                wf,
                horizon,
                scale(wall, 0.75),
                1.0,
            );
        }
        Setting::Space => {
            let surface = ridge_line(&mut rng, w, horizon, hf * 0.03, true);
            c.ridge(&surface, near, far, None);
        }
        Setting::Forest | Setting::Field => {
            let back = ridge_line(&mut rng, w, horizon, hf * 0.08, false);
            c.ridge(&back, haze(near, 0.45), haze(far, 0.4), None);
            let front = ridge_line(&mut rng, w, horizon + hf * 0.12, hf * 0.06, false);
            c.ridge(&front, near, far, None);
            let trees = if scene.setting == Setting::Forest {
                w / 22
            } else {
                w / 160
            };
            let tree_colour = scale(lerp(far, [10.0, 40.0, 20.0], 0.5), 0.8);
            for i in 0..trees {
                let row = if scene.setting == Setting::Forest {
                    i % 2
                } else {
                    1
                };
                let x = rng.random_range(0.0..wf);
                let line = if row == 0 { &back } else { &front };
                let base = line[(x as usize).min(w - 1)] + hf * rng.random_range(0.02..0.08);
                let height = hf * rng.random_range(0.12..0.28) * if row == 0 { 0.6 } else { 1.0 };
                let colour = if row == 0 {
                    haze(tree_colour, 0.25)
                } else {
                    tree_colour
                };
                c.pine(x, base - height, base, height * 0.28, colour);
            }
        }
    }

    draw_subjects(
        &mut c,
        &scene,
        seed,
        horizon,
        sky_bottom,
        (near, far),
        light_x,
    );

    // Particles and atmosphere (outdoors).
    let weather = if scene.setting == Setting::Indoor {
        Weather::Clear
    } else {
        scene.weather
    };
    match weather {
        Weather::Rain => {
            for _ in 0..(w * h / 2600) {
                let (x, y) = (rng.random_range(0.0..wf), rng.random_range(0.0..hf));
                let len = unit * rng.random_range(0.015..0.035);
                for s in 0..len as usize {
                    let (px, py) = (x + s as f32 * 0.3, y + s as f32);
                    if (px as usize) < w && (py as usize) < h {
                        c.blend(px as usize, py as usize, [200.0, 210.0, 225.0], 0.35);
                    }
                }
            }
        }
        Weather::Snow => {
            for _ in 0..(w * h / 3500) {
                let r = unit * rng.random_range(0.001..0.004);
                c.disc(
                    rng.random_range(0.0..wf),
                    rng.random_range(0.0..hf),
                    r,
                    1.5,
                    [255.0, 255.0, 255.0],
                    0.85,
                );
            }
        }
        Weather::Fog => {
            let fog = lerp(sky_bottom, [215.0, 218.0, 222.0], 0.6);
            for y in 0..h {
                let d = 1.0 - ((y as f32 - horizon) / (hf * 0.5)).abs();
                let a = 0.55 * d.clamp(0.0, 1.0) + 0.1;
                for x in 0..w {
                    c.blend(x, y, fog, a);
                }
            }
        }
        Weather::Cloudy | Weather::Clear => {}
    }
    if scene.sparkles || (scene.time == TimeOfDay::Night && scene.setting == Setting::Forest) {
        let glow = scene.accent.unwrap_or([255.0, 235.0, 140.0]);
        for _ in 0..(w * h / 12000) {
            let (x, y) = (rng.random_range(0.0..wf), rng.random_range(hf * 0.3..hf));
            let r = unit * rng.random_range(0.002..0.005);
            c.disc(x, y, r, r * 3.0, glow, 0.8);
        }
    }

    // Vignette (calm scenes get a softer one), separable so it costs one
    // multiply per channel.
    let strength = if scene.calm { 0.18 } else { 0.32 };
    let fx: Vec<f32> = (0..w)
        .map(|x| 1.0 - strength * ((x as f32 / wf - 0.5) * 2.0).powi(2))
        .collect();
    for y in 0..h {
        let fy = 1.0 - strength * ((y as f32 / hf - 0.5) * 2.0).powi(2);
        let row = &mut c.px[y * w * 3..(y + 1) * w * 3];
        for (px, k) in row.chunks_exact_mut(3).zip(&fx) {
            let f = k * fy;
            for v in px.iter_mut() {
                *v = (f32::from(*v) * f) as u8;
            }
        }
    }

    if req.caption {
        draw_caption(&mut c, &req.prompt);
    }
    c.px
}

/// How the scene's light falls on a subject: a brightness, and a colour and
/// share to mix in (the sky's, for distance, night and weather).
fn subject_light(scene: &Scene, sky_bottom: Rgb) -> (f32, Rgb, f32) {
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
struct Placement {
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
fn draw_subjects(
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
    let (wf, hf) = (c.w as f32, c.h as f32);
    let unit = wf.min(hf);
    let below = (hf - horizon).max(1.0);
    let on_sea = scene.setting == Setting::Water;
    let ground_things = scene
        .subjects
        .iter()
        .any(|s| !s.kind.in_the_air() && !s.kind.wants_water());
    // Ground subjects by the sea stand on a beach in the foreground.
    let beach_top = horizon + below * 0.55;
    if on_sea && ground_things {
        let shore = ridge_line(&mut rng, c.w, beach_top, below * 0.04, false);
        let (bright, tint, mix) = subject_light(scene, sky_bottom);
        let sand = lerp(scale([222.0, 196.0, 150.0], bright), tint, mix);
        c.ridge(&shore, sand, scale(sand, 0.8), None);
    }

    // Where each picture goes. Ground and sea subjects share the width in
    // slots; copies of one subject stand at different depths.
    let mut placed: Vec<Placement> = Vec::new();
    let on_surface: usize = scene
        .subjects
        .iter()
        .filter(|s| !s.kind.in_the_air())
        .map(|s| s.count)
        .sum();
    let spacing = (0.8 / on_surface.max(1) as f32).min(0.3);
    // Indoors, food and objects stand on a table.
    let table_top = horizon + below * 0.3;
    let mut slot = 0usize;
    let lighthouse_left = light_x > wf * 0.5;
    for (k, s) in scene.subjects.iter().enumerate() {
        for copy in 0..s.count {
            let depth = if s.kind == Kind::Furniture {
                0.2
            } else if s.count == 1 {
                rng.random_range(0.55..0.8)
            } else {
                0.25 + 0.6 * ((copy * 2 + 1) % (s.count + 1)) as f32 / s.count as f32
            }
            .min(1.0);
            let jitter = rng.random_range(-0.03..0.03);
            let flip = rng.random_bool(0.5);
            let size = unit * s.kind.size();
            let p = match s.kind {
                kind if kind.in_the_air() => Placement {
                    subject: k,
                    x: wf * (0.2 + 0.6 * rng.random_range(0.0..1.0)),
                    base: horizon * rng.random_range(0.35..0.65),
                    size: size * rng.random_range(0.7..1.0),
                    flip,
                },
                Kind::TallBuilding => Placement {
                    subject: k,
                    x: wf * if lighthouse_left { 0.24 } else { 0.76 },
                    base: horizon + below * 0.32,
                    size,
                    flip: false,
                },
                kind => {
                    let x = if on_surface == 1 {
                        wf * (0.5 + jitter * 3.0)
                    } else {
                        let centre = slot as f32 - (on_surface - 1) as f32 / 2.0;
                        wf * (0.5 + centre * spacing + jitter)
                    };
                    slot += 1;
                    let on_table = scene.setting == Setting::Indoor
                        && matches!(kind, Kind::Food | Kind::Object);
                    let (base, scale_k) = if on_table {
                        (table_top, 0.8)
                    } else if on_sea && kind.wants_water() {
                        (horizon + below * (0.08 + 0.5 * depth), 0.45 + 0.65 * depth)
                    } else if on_sea {
                        (beach_top + (hf - beach_top) * (0.35 + 0.45 * depth), 0.9)
                    } else {
                        (horizon + below * (0.15 + 0.6 * depth), 0.6 + 0.5 * depth)
                    };
                    Placement {
                        subject: k,
                        x,
                        base,
                        size: size * scale_k,
                        flip,
                    }
                }
            };
            placed.push(p);
        }
    }
    placed.sort_by(|a, b| a.base.total_cmp(&b.base));

    let (bright, tint, mix) = subject_light(scene, sky_bottom);
    let on_table: Vec<&Placement> = placed
        .iter()
        .filter(|p| {
            scene.setting == Setting::Indoor
                && matches!(scene.subjects[p.subject].kind, Kind::Food | Kind::Object)
        })
        .collect();
    if !on_table.is_empty() {
        let x0 = on_table
            .iter()
            .map(|p| p.x - p.size * 0.8)
            .fold(wf, f32::min);
        let x1 = on_table
            .iter()
            .map(|p| p.x + p.size * 0.8)
            .fold(0.0, f32::max);
        let wood = lerp(scale([120.0, 78.0, 48.0], bright), tint, mix);
        let thick = unit * 0.03;
        let leg = unit * 0.025;
        let floor = horizon + below * 0.85;
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

    for p in &placed {
        let subject = &scene.subjects[p.subject];
        draw_subject(c, scene, subject, p, (bright, tint, mix), (near, far));
    }
}

/// The pictures of boats come with a band of sea of their own (Fluent's
/// blue, #00a6ed, in the lower part); the scene has its own sea, so those
/// pixels are left out.
fn own_sea(kind: Kind, p: resvg::tiny_skia::PremultipliedColorU8, y_share: f32) -> bool {
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
fn drawn_bounds(subject: &Subject) -> (f32, f32, f32, f32) {
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

fn draw_subject(
    c: &mut Canvas,
    scene: &Scene,
    subject: &Subject,
    p: &Placement,
    (bright, tint, mix): (f32, Rgb, f32),
    (near, far): (Rgb, Rgb),
) {
    let (bx0, by0, bx1, by1) = drawn_bounds(subject);
    // `size` is the drawn part's larger side; the square is larger by the padding.
    let drawn = (bx1 - bx0).max(by1 - by0).max(0.05);
    let square = (p.size / drawn).round().clamp(4.0, 4096.0);
    let Some(px) = subjects::raster(subject, square as u32, p.flip) else {
        return;
    };
    let (bx0, bx1) = if p.flip {
        (1.0 - bx1, 1.0 - bx0)
    } else {
        (bx0, bx1)
    };
    let left = p.x - square * (bx0 + bx1) / 2.0;
    let top = p.base - square * by1;
    let width = square * (bx1 - bx0);
    let on_water = scene.setting == Setting::Water && subject.kind.wants_water();
    let airborne = subject.kind.in_the_air();

    // A lighthouse stands on rocks.
    if subject.kind == Kind::TallBuilding {
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
    // A soft shadow under what stands on the ground; a dark reflection under
    // what floats.
    if !airborne {
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

    // The picture itself, lit like the scene.
    let pw = px.width() as usize;
    let (ox, oy) = (left.round() as i64, top.round() as i64);
    for (i, q) in px.pixels().iter().enumerate() {
        let a = q.alpha();
        if a == 0 || own_sea(subject.kind, *q, (i / pw) as f32 / square) {
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

    // Boats sit in the water: the sea laps over the hull's lowest part.
    if on_water && subject.kind == Kind::Boat {
        let sea = lerp(tint, [20.0, 70.0, 120.0], 0.6);
        let sea = scale(sea, bright);
        let depth = (p.base - top) * 0.06;
        c.rect(
            p.x - width * 0.55,
            p.base - depth,
            p.x + width * 0.55,
            p.base + 1.0,
            sea,
            0.55,
        );
    }
    // A lighthouse's lamp glows, and sweeps a beam in the dark or the weather.
    if subject.kind == Kind::TallBuilding && subject.label == "lighthouse" {
        let lamp_x = left + square * 0.5;
        let lamp_y = top + square * 7.5 / 32.0;
        let dark = scene.time != TimeOfDay::Day
            || matches!(
                scene.weather,
                Weather::Rain | Weather::Fog | Weather::Cloudy
            );
        if dark {
            let glow = [255.0, 236.0, 160.0];
            c.disc(lamp_x, lamp_y, square * 0.03, square * 0.1, glow, 0.8);
            let toward = if lamp_x < c.w as f32 / 2.0 { 1.0 } else { -1.0 };
            c.beam(lamp_x, lamp_y, toward, c.w as f32 * 0.75, 0.12, glow, 0.28);
        }
    }
}

/// Draws `text` on a translucent band at the bottom, wrapped to at most
/// three lines.
fn draw_caption(c: &mut Canvas, text: &str) {
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

/// Renders the picture and encodes it (used by the provider and the benchmark).
pub fn render_png(req: &ImageRequest) -> Result<Vec<u8>> {
    encode_png(req.width, req.height, &render(req))
}

/// The offline provider.
#[derive(Debug, Default)]
pub struct BuiltinImages;

#[async_trait::async_trait]
impl ImageProvider for BuiltinImages {
    fn name(&self) -> &str {
        "builtin"
    }

    async fn generate(&self, req: &ImageRequest) -> Result<GeneratedImage> {
        let req = req.clone();
        let subjects = scene_of(&req)
            .subjects
            .into_iter()
            .map(|s| s.label)
            .collect();
        let bytes = tokio::task::spawn_blocking(move || render_png(&req))
            .await
            .map_err(|e| Error::Internal(format!("the renderer stopped: {e}")))??;
        Ok(GeneratedImage {
            bytes,
            model: None,
            subjects: Some(subjects),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(prompt: &str, w: u32, h: u32) -> ImageRequest {
        ImageRequest {
            prompt: prompt.into(),
            width: w,
            height: h,
            seed: None,
            negative_prompt: None,
            style: None,
            caption: false,
        }
    }

    fn mean_colour(prompt: &str) -> [f64; 3] {
        let px = render(&req(prompt, 320, 180));
        let mut sum = [0f64; 3];
        for p in px.chunks_exact(3) {
            for k in 0..3 {
                sum[k] += f64::from(p[k]);
            }
        }
        sum.map(|s| s / (px.len() / 3) as f64)
    }

    #[test]
    fn words_drive_the_scene() {
        let s = analyse("A futuristic neon city at night in the rain");
        assert_eq!(
            (s.time, s.weather, s.setting, s.neon),
            (TimeOfDay::Night, Weather::Rain, Setting::City, true)
        );
        let s = analyse("Calm ocean at sunset with a red boat");
        assert_eq!(
            (s.time, s.setting, s.calm),
            (TimeOfDay::Sunset, Setting::Water, true)
        );
        assert_eq!(s.accent, Some([220.0, 40.0, 50.0]));
        assert_eq!(analyse("snowy mountains").weather, Weather::Snow);
        assert_eq!(analyse("a cat").setting, Setting::Field);
        // A reviewer's prompts that fell back to the meadow.
        let s = analyse("a penguin on an iceberg");
        assert_eq!((s.setting, s.weather), (Setting::Water, Weather::Snow));
        assert_eq!(analyse("three ducks on a pond").setting, Setting::Water);
    }

    fn subject_labels(prompt: &str) -> Vec<String> {
        analyse(prompt)
            .subjects
            .into_iter()
            .map(|s| s.label)
            .collect()
    }

    #[test]
    fn subjects_are_drawn_and_bring_their_setting() {
        let s = analyse("A lighthouse in a storm");
        assert_eq!(subject_labels("A lighthouse in a storm"), ["lighthouse"]);
        assert_eq!(
            (s.setting, s.weather),
            (Setting::Water, Weather::Rain),
            "a lighthouse implies the sea"
        );
        let s = analyse("a harbour with fishing boats");
        assert_eq!(s.setting, Setting::Water);
        assert!(
            s.subjects
                .iter()
                .any(|b| b.kind == Kind::Boat && b.count >= 2),
            "{:?}",
            s.subjects
        );
        assert_eq!(
            subject_labels("a cat and a dog on a sofa"),
            ["cat", "dog", "couch and lamp"]
        );
        assert_eq!(
            analyse("a cat and a dog on a sofa").setting,
            Setting::Indoor
        );
        // A reviewer's: "school" read as "a school of", and no bus at all.
        let bus = analyse("a yellow school bus on a country road").subjects;
        assert_eq!(
            bus.iter()
                .map(|s| (s.label.as_str(), s.count))
                .collect::<Vec<_>>(),
            [("bus", 1)]
        );
        assert_eq!(analyse("a cup of coffee").setting, Setting::Indoor);
        assert_eq!(
            analyse("a cup of coffee in a garden").setting,
            Setting::Field
        );
        // No subject: the scene alone, as before.
        assert!(
            analyse("a quiet evening, softly glowing")
                .subjects
                .is_empty()
        );
    }

    #[test]
    fn a_subject_changes_the_picture_where_it_stands() {
        // The same scene with and without a lighthouse: the words that set
        // the scene are the same, so only the subject's pixels differ.
        let plain = render(&req("the sea in a storm", 320, 180));
        let with = render(&req("the sea in a storm, lighthouse", 320, 180));
        let differing = plain
            .chunks_exact(3)
            .zip(with.chunks_exact(3))
            .filter(|(a, b)| a != b)
            .count();
        assert!(differing > 320 * 180 / 20, "{differing} pixels differ");
        // Deterministic with subjects too, and any size renders.
        let a = render_png(&req("three boats at night", 160, 90)).unwrap();
        assert_eq!(
            a,
            render_png(&req("three boats at night", 160, 90)).unwrap()
        );
        for (w, h) in [(64, 64), (64, 4096), (4096, 64)] {
            assert_eq!(
                render(&req("a cat, a dog, a lighthouse", w, h)).len(),
                (w * h * 3) as usize
            );
        }
    }

    #[test]
    fn same_input_same_bytes_and_seed_changes_them() {
        let a = render_png(&req("a forest", 160, 90)).unwrap();
        let b = render_png(&req("a forest", 160, 90)).unwrap();
        assert_eq!(a, b);
        let mut seeded = req("a forest", 160, 90);
        seeded.seed = Some(7);
        assert_ne!(render_png(&seeded).unwrap(), a);
    }

    #[test]
    fn prompts_give_visibly_different_palettes() {
        let night = mean_colour("a quiet village at night");
        let day = mean_colour("a quiet village on a bright day");
        let sunset = mean_colour("a quiet village at sunset");
        let brightness = |c: [f64; 3]| c.iter().sum::<f64>() / 3.0;
        assert!(
            brightness(day) > brightness(night) + 40.0,
            "{day:?} vs {night:?}"
        );
        assert!(sunset[0] > sunset[2], "a sunset is warm: {sunset:?}");
        assert!(day[2] > day[0], "a day sky is blue: {day:?}");
        let forest = mean_colour("a deep forest");
        let desert = mean_colour("a desert of dunes");
        assert!(
            forest[1] > forest[0] && desert[0] > desert[2],
            "{forest:?} {desert:?}"
        );
    }

    #[test]
    fn caption_changes_the_bottom_and_handles_any_text() {
        let plain = render(&req("a lighthouse by the sea", 320, 180));
        let mut captioned = req("a lighthouse by the sea", 320, 180);
        captioned.caption = true;
        let with = render(&captioned);
        let bottom = 320 * 3 * 160;
        assert_eq!(
            plain[..bottom / 2],
            with[..bottom / 2],
            "the top is untouched"
        );
        assert_ne!(plain[bottom..], with[bottom..]);
        captioned.prompt = format!("Ünïcödé 日本語 🎬 {}", "supercalifragilistic ".repeat(80));
        assert_eq!(render(&captioned).len(), 320 * 180 * 3);
    }
}
