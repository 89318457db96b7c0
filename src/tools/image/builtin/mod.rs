//! The built-in image engine: a deterministic procedural illustration whose
//! palette, light and composition follow the prompt's words (time of day,
//! weather, setting, mood, named colours), drawn in layers — sky gradient, sun
//! or moon, stars, clouds, ridges, skyline, water, trees, particles — with an
//! optional caption in a real font — and the subjects the prompt names
//! (a lighthouse, fishing boats, a cat), drawn from vector pictures by
//! [`subjects`], sized by kind, set on the ground, the sea or in the
//! sky, lit to match the scene and given a soft shadow. Same prompt, seed and
//! size give the same bytes. Everything is drawn straight into one RGB buffer; no layer touches
//! more pixels than it covers.
//!
//! [`analysis`] reads the prompt, [`scenery`] draws the layers on a
//! [`canvas`], [`placing`] sets the [`subjects`] in them.

mod analysis;
mod canvas;
mod placing;
mod scenery;
pub mod subjects;

pub use analysis::{Scene, Setting, TimeOfDay, Weather, analyse, scene_of};
pub use canvas::encode_png;

use super::{GeneratedImage, ImageProvider, ImageRequest};
use crate::error::{Error, Result};
use scenery::render;

type Rgb = [f32; 3];

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
    use super::subjects::Kind;
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
