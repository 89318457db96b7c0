//! The scenery, in layers: sky gradient, sun or moon, stars, clouds,
//! ridges, skyline, water, trees, particles; then the subjects and caption.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::Rgb;
use super::analysis::*;
use super::canvas::*;
use super::placing::*;
use crate::tools::image::ImageRequest;

pub(super) fn sky_colours(scene: &Scene) -> (Rgb, Rgb) {
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

pub(super) fn ground_colours(scene: &Scene) -> (Rgb, Rgb) {
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

/// What every layer needs: the scene, the frame's size, the horizon, and
/// the sky's colour at the horizon (distance hazes toward it).
#[derive(Clone, Copy)]
pub(super) struct Stage<'a> {
    scene: &'a Scene,
    w: usize,
    h: usize,
    wf: f32,
    hf: f32,
    unit: f32,
    horizon: f32,
    sky_bottom: Rgb,
}

pub(super) fn render(req: &ImageRequest) -> Vec<u8> {
    let (w, h) = (req.width as usize, req.height as usize);
    let scene = scene_of(req);
    let seed = req.seed.unwrap_or(0) ^ fnv1a(&req.prompt);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut c = Canvas::new(w, h);
    let (wf, hf) = (w as f32, h as f32);
    let horizon = hf
        * match scene.setting {
            Setting::Water => 0.55,
            Setting::Space => 0.82,
            Setting::City => 0.7,
            Setting::Indoor => 0.66,
            _ => 0.62,
        };
    let (sky_top, sky_bottom) = sky_colours(&scene);
    let st = Stage {
        scene: &scene,
        w,
        h,
        wf,
        hf,
        unit: wf.min(hf),
        horizon,
        sky_bottom,
    };
    c.gradient(0, h, sky_top, sky_bottom);
    stars(&mut c, &mut rng, &st);
    let light_x = sun_or_moon(&mut c, &mut rng, &st);
    clouds(&mut c, &mut rng, &st);
    let ground = land(&mut c, &mut rng, &st, light_x);
    draw_subjects(&mut c, &scene, seed, horizon, sky_bottom, ground, light_x);
    weather(&mut c, &mut rng, &st);
    sparkles(&mut c, &mut rng, &st);
    vignette(&mut c, &st);
    if req.caption {
        draw_caption(&mut c, &req.prompt);
    }
    c.px
}

/// Stars and nebulae, at night, in space and in neon scenes.
fn stars(c: &mut Canvas, rng: &mut ChaCha8Rng, st: &Stage) {
    let Stage {
        scene,
        w,
        h,
        wf,
        unit,
        horizon,
        ..
    } = *st;
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
}

/// The sun or moon with its glow (and a planet in space); gives where its light falls across the frame.
fn sun_or_moon(c: &mut Canvas, rng: &mut ChaCha8Rng, st: &Stage) -> f32 {
    let Stage {
        scene,
        wf,
        hf,
        unit,
        horizon,
        ..
    } = *st;
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

    light_x
}

/// Clouds, as many as the weather brings, coloured by the time of day.
fn clouds(c: &mut Canvas, rng: &mut ChaCha8Rng, st: &Stage) {
    let Stage {
        scene,
        wf,
        unit,
        horizon,
        ..
    } = *st;
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
}

/// Two ridges of mountains, the far one hazed, snow-capped when it snows.
fn mountains(c: &mut Canvas, rng: &mut ChaCha8Rng, st: &Stage, (near, far): (Rgb, Rgb)) {
    let Stage {
        scene,
        w,
        hf,
        horizon,
        ..
    } = *st;
    let haze = |col: Rgb, k: f32| lerp(col, st.sky_bottom, k);
    let back = ridge_line(rng, w, horizon - hf * 0.12, hf * 0.2, true);
    c.ridge(&back, haze(near, 0.55), haze(far, 0.5), Some(hf * 0.06));
    let front = ridge_line(rng, w, horizon + hf * 0.05, hf * 0.12, true);
    c.ridge(
        &front,
        near,
        far,
        (scene.weather == Weather::Snow).then_some(hf * 0.04),
    );
}

/// Three rows of dunes, hazier further away.
fn dunes(c: &mut Canvas, rng: &mut ChaCha8Rng, st: &Stage, (near, far): (Rgb, Rgb)) {
    let Stage { w, hf, horizon, .. } = *st;
    let haze = |col: Rgb, k: f32| lerp(col, st.sky_bottom, k);
    for (i, base) in [horizon, horizon + hf * 0.12, horizon + hf * 0.24]
        .into_iter()
        .enumerate()
    {
        let dune = ridge_line(rng, w, base, hf * 0.05, false);
        let k = 0.4 - i as f32 * 0.18;
        c.ridge(&dune, haze(near, k.max(0.0)), far, None);
    }
}

/// A far shore and the sea, with wave highlights longer nearer the viewer and a path of light under the sun or moon.
fn water(c: &mut Canvas, rng: &mut ChaCha8Rng, st: &Stage, light_x: f32) {
    let Stage {
        scene,
        w,
        h,
        wf,
        hf,
        unit,
        horizon,
        sky_bottom,
        ..
    } = *st;
    let haze = |col: Rgb, k: f32| lerp(col, st.sky_bottom, k);
    let far_shore = ridge_line(rng, w, horizon - hf * 0.02, hf * 0.03, false);
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

/// A skyline in two rows, windows lit by the time of day (neon colours and signs in neon scenes).
fn city(c: &mut Canvas, rng: &mut ChaCha8Rng, st: &Stage, (near, far): (Rgb, Rgb)) {
    let Stage {
        scene,
        w,
        wf,
        hf,
        unit,
        horizon,
        ..
    } = *st;
    let haze = |col: Rgb, k: f32| lerp(col, st.sky_bottom, k);
    let back = ridge_line(rng, w, horizon - hf * 0.05, hf * 0.04, false);
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
            let bh = hf * rng.random_range(0.12..0.42) * if layer == 0 { 1.2 } else { 0.85 };
            let top = horizon - bh;
            c.rect(x, top, x + bw - 2.0, hf, shade, 1.0);
            let cell = (unit / 70.0).max(3.0);
            let mut wy = top + cell;
            while wy < hf - cell {
                let mut wx = x + cell * 0.6;
                while wx < x + bw - cell * 1.2 {
                    if rng.random_bool(lit) {
                        let colour = window_colours[rng.random_range(0..window_colours.len())];
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

/// A wall lit like the time of day, a window on the sky, and the floor.
fn room(c: &mut Canvas, rng: &mut ChaCha8Rng, st: &Stage, (near, far): (Rgb, Rgb)) {
    let Stage {
        scene,
        w,
        h,
        wf,
        hf,
        unit,
        horizon,
        ..
    } = *st;
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

/// A rocky surface.
fn planet_surface(c: &mut Canvas, rng: &mut ChaCha8Rng, st: &Stage, (near, far): (Rgb, Rgb)) {
    let Stage { w, hf, horizon, .. } = *st;
    let surface = ridge_line(rng, w, horizon, hf * 0.03, true);
    c.ridge(&surface, near, far, None);
}

/// Two rolling hills, with pines (many in a forest, a few in a field).
fn fields(c: &mut Canvas, rng: &mut ChaCha8Rng, st: &Stage, (near, far): (Rgb, Rgb)) {
    let Stage {
        scene,
        w,
        wf,
        hf,
        horizon,
        ..
    } = *st;
    let haze = |col: Rgb, k: f32| lerp(col, st.sky_bottom, k);
    let back = ridge_line(rng, w, horizon, hf * 0.08, false);
    c.ridge(&back, haze(near, 0.45), haze(far, 0.4), None);
    let front = ridge_line(rng, w, horizon + hf * 0.12, hf * 0.06, false);
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

/// Land, water and the setting's features; gives the ground's near and
/// far colours (the subjects stand on them).
fn land(c: &mut Canvas, rng: &mut ChaCha8Rng, st: &Stage, light_x: f32) -> (Rgb, Rgb) {
    let (near, far) = ground_colours(st.scene);
    match st.scene.setting {
        Setting::Mountains => mountains(c, rng, st, (near, far)),
        Setting::Desert => dunes(c, rng, st, (near, far)),
        Setting::Water => water(c, rng, st, light_x),
        Setting::City => city(c, rng, st, (near, far)),
        Setting::Indoor => room(c, rng, st, (near, far)),
        Setting::Space => planet_surface(c, rng, st, (near, far)),
        Setting::Forest | Setting::Field => fields(c, rng, st, (near, far)),
    }
    (near, far)
}

/// Rain, snow or fog over everything (outdoors).
fn weather(c: &mut Canvas, rng: &mut ChaCha8Rng, st: &Stage) {
    let Stage {
        scene,
        w,
        h,
        wf,
        hf,
        unit,
        horizon,
        sky_bottom,
        ..
    } = *st;
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
}

/// Floating lights: sparkles, or fireflies in a forest at night.
fn sparkles(c: &mut Canvas, rng: &mut ChaCha8Rng, st: &Stage) {
    let Stage {
        scene,
        w,
        h,
        wf,
        hf,
        unit,
        ..
    } = *st;
    if scene.sparkles || (scene.time == TimeOfDay::Night && scene.setting == Setting::Forest) {
        let glow = scene.accent.unwrap_or([255.0, 235.0, 140.0]);
        for _ in 0..(w * h / 12000) {
            let (x, y) = (rng.random_range(0.0..wf), rng.random_range(hf * 0.3..hf));
            let r = unit * rng.random_range(0.002..0.005);
            c.disc(x, y, r, r * 3.0, glow, 0.8);
        }
    }
}

/// The vignette (calm scenes get a softer one), separable so it costs one multiply per channel.
fn vignette(c: &mut Canvas, st: &Stage) {
    let Stage {
        scene,
        w,
        h,
        wf,
        hf,
        ..
    } = *st;
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
}
