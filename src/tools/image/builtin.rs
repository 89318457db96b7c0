//! The built-in image engine: a deterministic procedural illustration whose
//! palette, light and composition follow the prompt's words (time of day,
//! weather, setting, mood, named colours), drawn in layers — sky gradient, sun
//! or moon, stars, clouds, ridges, skyline, water, trees, particles — with an
//! optional caption in a real font. Same prompt, seed and size give the same
//! bytes. Everything is drawn straight into one RGB buffer; no layer touches
//! more pixels than it covers.

use std::io::Cursor;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
use image::ImageEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

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
            "snow", "snowy", "winter", "blizzard", "frost", "frozen", "ice",
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
            "river", "island", "shore",
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
    Scene {
        time,
        weather,
        setting,
        neon,
        calm,
        sparkles,
        accent,
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

fn render(req: &ImageRequest) -> Vec<u8> {
    let (w, h) = (req.width as usize, req.height as usize);
    let text = match &req.style {
        Some(style) => format!("{} {}", req.prompt, style),
        None => req.prompt.clone(),
    };
    let scene = analyse(&text);
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

    // Particles and atmosphere.
    match scene.weather {
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
        let bytes = tokio::task::spawn_blocking(move || render_png(&req))
            .await
            .map_err(|e| Error::Internal(format!("the renderer stopped: {e}")))??;
        Ok(GeneratedImage { bytes, model: None })
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
