//! Built-in image engine benchmark: the median time to render and encode a
//! 1920×1080 picture (scene-only prompts and prompts with subjects), against
//! a baseline measured in the same run: encoding a flat picture of the same
//! size (the cost no renderer can avoid).
//!
//! Run: `cargo bench --bench image_render`

use std::time::{Duration, Instant};

use studio::tools::image::ImageRequest;
use studio::tools::image::builtin::{encode_png, render_png};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time(runs: usize, mut f: impl FnMut()) -> Duration {
    f(); // warm-up
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect(),
    )
}

fn main() {
    let runs = 31;
    let (w, h) = (1920u32, 1080u32);
    let flat = vec![90u8; (w * h * 3) as usize];
    let baseline = time(runs, || {
        encode_png(w, h, &flat).unwrap();
    });
    println!(
        "baseline: encode a flat 1920x1080 PNG: median {:.1} ms",
        baseline.as_secs_f64() * 1e3
    );
    let prompts = [
        "A futuristic neon city at night in the rain",
        "Calm ocean at sunset",
        "Snowy mountains at dawn",
        "A deep forest with fireflies at night",
        "A desert of dunes under a bright sky",
        // Prompts with subjects (vector pictures drawn over the scene).
        "A lighthouse in a storm",
        "A harbour with fishing boats",
        "A cat and a dog on a sofa",
    ];
    let mut all = Vec::new();
    for prompt in prompts {
        let req = ImageRequest {
            prompt: prompt.into(),
            width: w,
            height: h,
            seed: None,
            negative_prompt: None,
            style: None,
            caption: true,
        };
        let t = time(runs, || {
            render_png(&req).unwrap();
        });
        all.push(t);
        println!(
            "render+encode {prompt:?}: median {:.1} ms ({:.2}x baseline)",
            t.as_secs_f64() * 1e3,
            t.as_secs_f64() / baseline.as_secs_f64()
        );
    }
    let overall = median(all);
    println!(
        "builtin image engine, 1920x1080 with caption, one core: median {:.1} ms = {:.2}x the flat-encode baseline",
        overall.as_secs_f64() * 1e3,
        overall.as_secs_f64() / baseline.as_secs_f64()
    );
}
