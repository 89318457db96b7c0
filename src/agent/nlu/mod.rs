//! The offline coordinator's understanding: a trained intent classifier
//! chooses the tool (or none), then slot rules take the tool's arguments
//! out of the request. The classifier is data: a corpus of requests
//! (`corpus.jsonl`) and the model trained from it (`model.json`, written by
//! `cargo run --release --example train_intents`), so new phrasings are
//! taught by adding lines, not by writing patterns.

pub mod features;
pub mod model;
pub mod slots;
pub mod train;

use std::sync::LazyLock;

use serde::Deserialize;
use serde_json::Value;

use super::registry::ToolName;
use model::Model;

/// The classes the model tells apart: the tools, and `none` for requests
/// the studio does not serve.
pub const CLASSES: [&str; 14] = [
    "generate_image",
    "synthesize_voiceover",
    "generate_social_post",
    "list_assets",
    "compose_video",
    "run_full_pipeline",
    "transcribe",
    "cut_speech",
    "add_logo",
    "add_text_overlay",
    "set_clip_speed",
    "save_template",
    "render_for_each",
    "none",
];

/// Below this probability the best tool is a guess: answer with help.
pub const MIN_CONFIDENCE: f32 = 0.3;

/// The corpus the shipped model was trained on and is evaluated against.
pub const CORPUS: &str = include_str!("corpus.jsonl");

static MODEL: LazyLock<Option<Model>> =
    LazyLock::new(|| Model::from_json(include_str!("model.json")));

/// The shipped model (`None` only if `model.json` is broken; the tests
/// make sure it is not).
pub fn model() -> Option<&'static Model> {
    MODEL.as_ref()
}

/// The tool and arguments for a request with the shipped model.
pub fn understand(message: &str) -> Option<(ToolName, Value)> {
    understand_with(model()?, message)
}

/// The tool and arguments for a request with a given model, or `None`
/// when no tool fits (or its arguments cannot be found in the request).
pub fn understand_with(model: &Model, message: &str) -> Option<(ToolName, Value)> {
    let m = message.trim();
    if m.is_empty() {
        return None;
    }
    let (class, confidence) = model.predict(m);
    if confidence < MIN_CONFIDENCE {
        return None;
    }
    let tool = ToolName::parse(class)?;
    let arguments = match tool {
        ToolName::GenerateImage => slots::image(m)?,
        ToolName::SynthesizeVoiceover => slots::voice(m)?,
        ToolName::GenerateSocialPost => slots::social(m)?,
        ToolName::ListAssets => slots::list(m),
        ToolName::ComposeVideo => slots::compose(m),
        ToolName::RunFullPipeline => slots::pipeline(m)?,
        ToolName::Transcribe => slots::transcribe(m),
        ToolName::CutSpeech => slots::cut_speech(m),
        ToolName::AddLogo => slots::logo(m),
        ToolName::AddTextOverlay => slots::text_overlay(m),
        ToolName::SetClipSpeed => slots::speed(m),
        ToolName::SaveTemplate => slots::save_template(m),
        ToolName::RenderForEach => slots::for_each(m),
    };
    Some((tool, arguments))
}

/// One line of the corpus.
#[derive(Clone, Debug, Deserialize)]
pub struct Example {
    pub text: String,
    /// A tool name or `none`.
    pub intent: String,
    /// The arguments the coordinator should call the tool with (null for `none`).
    #[serde(default)]
    pub args: Value,
    /// `test` forces the line into the held-out split, `train` into training.
    #[serde(default)]
    pub split: Option<String>,
}

impl Example {
    /// The fixed split: lines marked `test`, and about 22% of the rest
    /// chosen by a hash of the text (stable across runs and machines).
    pub fn held_out(&self) -> bool {
        match self.split.as_deref() {
            Some("test") => true,
            Some("train") => false,
            _ => {
                let mut h: u32 = 0x811c_9dc5;
                for b in self.text.trim().to_lowercase().bytes() {
                    h ^= u32::from(b);
                    h = h.wrapping_mul(0x0100_0193);
                }
                h % 100 < 22
            }
        }
    }
}

/// Reads a JSON-lines corpus (blank lines and `//` comments skipped).
pub fn parse_corpus(jsonl: &str) -> Result<Vec<Example>, String> {
    jsonl
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with("//"))
        .map(|(i, l)| {
            let ex: Example =
                serde_json::from_str(l).map_err(|e| format!("line {}: {e}", i + 1))?;
            if !CLASSES.contains(&ex.intent.as_str()) {
                return Err(format!("line {}: unknown intent {:?}", i + 1, ex.intent));
            }
            Ok(ex)
        })
        .collect()
}

/// How well a coordinator does on some examples.
#[derive(Clone, Debug, Default)]
pub struct Evaluation {
    pub total: usize,
    pub right_tool: usize,
    pub right_arguments: usize,
    /// One line per miss: the request, what was expected, what came out.
    pub misses: Vec<String>,
}

impl Evaluation {
    pub fn tool_accuracy(&self) -> f64 {
        self.right_tool as f64 / self.total.max(1) as f64
    }

    pub fn argument_accuracy(&self) -> f64 {
        self.right_arguments as f64 / self.total.max(1) as f64
    }
}

/// Scores `understand` on `examples`: the tool (or none) and the exact
/// arguments.
pub fn evaluate<'a>(
    examples: impl IntoIterator<Item = &'a Example>,
    understand: impl Fn(&str) -> Option<(ToolName, Value)>,
) -> Evaluation {
    let mut e = Evaluation::default();
    for ex in examples {
        e.total += 1;
        let got = understand(&ex.text);
        let (tool, args) = match &got {
            Some((t, a)) => (t.as_str(), a.clone()),
            None => ("none", Value::Null),
        };
        let tool_ok = tool == ex.intent;
        let args_ok = tool_ok && args == ex.args;
        e.right_tool += usize::from(tool_ok);
        e.right_arguments += usize::from(args_ok);
        if !args_ok {
            e.misses.push(format!(
                "{:?}: expected {} {}, got {tool} {args}",
                ex.text, ex.intent, ex.args
            ));
        }
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus() -> Vec<Example> {
        parse_corpus(CORPUS).expect("the corpus parses")
    }

    #[test]
    fn the_corpus_is_large_varied_and_split() {
        let all = corpus();
        assert!(all.len() >= 400, "{} requests", all.len());
        for class in CLASSES {
            let n = all.iter().filter(|e| e.intent == class).count();
            assert!(n >= 30, "{class}: {n} requests");
        }
        let held = all.iter().filter(|e| e.held_out()).count();
        let share = held as f64 / all.len() as f64;
        assert!((0.18..=0.30).contains(&share), "held out: {share}");
        let mut texts: Vec<String> = all.iter().map(|e| e.text.to_lowercase()).collect();
        texts.sort();
        texts.dedup();
        assert_eq!(texts.len(), all.len(), "no request twice");
    }

    /// The shipped model on requests it was not trained on. The floors sit
    /// just below what `cargo run --example train_intents -- --check` reports
    /// (95.2% right tool, 95.2% right arguments of 270).
    #[test]
    fn the_shipped_model_on_held_out_requests() {
        assert!(model().is_some(), "model.json loads");
        let all = corpus();
        let e = evaluate(all.iter().filter(|e| e.held_out()), understand);
        assert!(e.total >= 260, "{} held-out requests", e.total);
        let report = e.misses.join("\n");
        assert!(
            e.tool_accuracy() >= 0.95,
            "tool {:.3}\n{report}",
            e.tool_accuracy()
        );
        assert!(
            e.argument_accuracy() >= 0.95,
            "arguments {:.3}\n{report}",
            e.argument_accuracy()
        );
    }

    #[test]
    fn the_issue_examples_work() {
        use ToolName::*;
        use serde_json::json;
        for (m, tool, args) in [
            (
                "visualize a cozy coffee shop on a rainy day",
                GenerateImage,
                json!({"prompt": "a cozy coffee shop on a rainy day"}),
            ),
            (
                "render a scene of a busy market in Marrakech",
                GenerateImage,
                json!({"prompt": "a busy market in Marrakech"}),
            ),
            (
                "Record a voiceover: Our story begins in a small village.",
                SynthesizeVoiceover,
                json!({"text": "Our story begins in a small village."}),
            ),
            (
                "Turn this into speech: The market opens at nine.",
                SynthesizeVoiceover,
                json!({"text": "The market opens at nine."}),
            ),
            (
                "I need a LinkedIn post about remote work productivity",
                GenerateSocialPost,
                json!({"text": "remote work productivity", "platform": "linkedin"}),
            ),
            (
                "Suggest hashtags for a travel vlog in Japan",
                GenerateSocialPost,
                json!({"text": "a travel vlog in Japan", "platform": "youtube"}),
            ),
            ("which images and audio do I have?", ListAssets, json!({})),
            (
                "give me an overview of what we created",
                ListAssets,
                json!({}),
            ),
            (
                "Write a TikTok caption for my lighthouse video",
                GenerateSocialPost,
                json!({"text": "lighthouse video", "platform": "tiktok"}),
            ),
            ("make the video", ComposeVideo, json!({"asset_ids": []})),
            (
                "make it vertical",
                ComposeVideo,
                json!({"asset_ids": [], "aspect_ratio": "9:16"}),
            ),
            (
                "make it for TikTok",
                ComposeVideo,
                json!({"asset_ids": [], "aspect_ratio": "9:16"}),
            ),
            (
                "use image 2 with the second voice-over",
                ComposeVideo,
                json!({"asset_ids": ["image_2", "audio_2"]}),
            ),
            (
                "put the first picture and audio 3 together",
                ComposeVideo,
                json!({"asset_ids": ["image_1", "audio_3"]}),
            ),
            (
                "transcribe my clip",
                Transcribe,
                json!({"asset_id": "video_last"}),
            ),
            (
                "caption video 1",
                ComposeVideo,
                json!({"asset_ids": ["video_1"], "captions": true}),
            ),
            ("remove the ums", CutSpeech, json!({"remove_fillers": true})),
            ("cut the pauses", CutSpeech, json!({"max_pause": 0.4})),
            ("put my logo in the corner", AddLogo, json!({})),
            (
                "add a caption with my name under me from 2 to 5 seconds",
                AddTextOverlay,
                json!({"style": "lower_third", "start": 2, "end": 5}),
            ),
            (
                "make clip 2 twice as fast",
                SetClipSpeed,
                json!({"clip": 2, "speed": 2}),
            ),
            ("save this as a template", SaveTemplate, json!({})),
            (
                "save this video as a template called City clip",
                SaveTemplate,
                json!({"name": "City clip"}),
            ),
            ("make a template of this", SaveTemplate, json!({})),
            (
                "make this for each of these cities: Lisbon, Oslo, Rome",
                RenderForEach,
                json!({"values": ["Lisbon", "Oslo", "Rome"], "field": "city"}),
            ),
            (
                "do the same for Paris, Berlin and Madrid",
                RenderForEach,
                json!({"values": ["Paris", "Berlin", "Madrid"]}),
            ),
            (
                "make one for each product: mug, cap, scarf",
                RenderForEach,
                json!({"values": ["mug", "cap", "scarf"], "field": "product"}),
            ),
        ] {
            assert_eq!(understand(m), Some((tool, args)), "{m}");
        }
    }

    /// Requests a reviewer tried that the engine got wrong at first.
    #[test]
    fn a_reviewers_requests_work() {
        use ToolName::*;
        use serde_json::json;
        for (m, tool, args) in [
            (
                "use the voice en-GB-Neural2-D to say Good evening, London.",
                SynthesizeVoiceover,
                json!({"text": "Good evening, London.", "voice_name": "en-GB-Neural2-D"}),
            ),
            (
                "with the voice en-US-Wavenet-F, read: Thanks for joining us.",
                SynthesizeVoiceover,
                json!({"text": "Thanks for joining us.", "voice_name": "en-US-Wavenet-F"}),
            ),
            (
                "can you say good night everyone in a calm female voice?",
                SynthesizeVoiceover,
                json!({"text": "good night everyone", "voice_name": "en-US-Neural2-C"}),
            ),
            (
                "create a voice-over for the intro that says hello and welcome to cooking with Sam",
                SynthesizeVoiceover,
                json!({"text": "hello and welcome to cooking with Sam"}),
            ),
            (
                "Sprich bitte: Willkommen in unserem Laden.",
                SynthesizeVoiceover,
                json!({"text": "Willkommen in unserem Laden.", "voice_name": "de-DE-Neural2-B"}),
            ),
            (
                "Lis ce texte : Bonjour à tous et bienvenue.",
                SynthesizeVoiceover,
                json!({"text": "Bonjour à tous et bienvenue.", "voice_name": "fr-FR-Neural2-B"}),
            ),
            (
                "write something for Twitter about the eclipse tonight",
                GenerateSocialPost,
                json!({"text": "the eclipse tonight", "platform": "x"}),
            ),
            (
                "hashtags for a TikTok about street food in Bangkok",
                GenerateSocialPost,
                json!({"text": "street food in Bangkok", "platform": "tiktok"}),
            ),
            (
                "TTS: Remember to subscribe.",
                SynthesizeVoiceover,
                json!({"text": "Remember to subscribe."}),
            ),
            (
                "promote my pottery class on instagram",
                GenerateSocialPost,
                json!({"text": "pottery class", "platform": "instagram"}),
            ),
            (
                "Erzeuge ein Bild von einem Leuchtturm am Meer",
                GenerateImage,
                json!({"prompt": "einem Leuchtturm am Meer"}),
            ),
            (
                "add a picture of a mountain lake at sunrise",
                GenerateImage,
                json!({"prompt": "a mountain lake at sunrise"}),
            ),
            (
                "show me what a floating city above the clouds might look like",
                GenerateImage,
                json!({"prompt": "a floating city above the clouds"}),
            ),
            (
                "Bitte das Video hochkant machen",
                ComposeVideo,
                json!({"asset_ids": [], "aspect_ratio": "9:16"}),
            ),
        ] {
            assert_eq!(understand(m), Some((tool, args)), "{m}");
        }
    }

    #[test]
    fn requests_for_nothing_the_studio_does_get_none() {
        for m in [
            "what's the weather in Berlin tomorrow?",
            "tell me a joke",
            "book a flight to Lisbon",
            "what time is it",
        ] {
            assert_eq!(understand(m), None, "{m}");
        }
    }

    #[test]
    fn no_panic_on_any_input() {
        let long = "draw a cat ".repeat(3000);
        for m in [
            "",
            " ",
            "\u{0}",
            "\u{1b}[2J",
            "🙂",
            "日本語の画像を作って",
            &long,
            ":::",
            "\"\"",
            "'",
        ] {
            let _ = understand(m);
        }
        // Random requests from pieces that exercise the patterns (colons,
        // quotes, digits, multi-byte letters, control characters).
        use rand::{Rng, SeedableRng};
        let pieces = [
            "draw ",
            "say ",
            ":",
            " : ",
            "'",
            "\"",
            "“",
            "»",
            "9:16",
            "image 2 ",
            "the last ",
            "voice",
            "post for ",
            "TikTok",
            "über ",
            "é",
            "🙂",
            "\u{0}",
            "\n\n",
            "make the video",
            "in a British female voice",
            "of",
            " ",
            ".",
            "d'",
            "-",
            "#",
            "_",
            "1st ",
            "0",
        ];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(17);
        for _ in 0..3000 {
            let n = rng.random_range(0..12);
            let m: String = (0..n)
                .map(|_| pieces[rng.random_range(0..pieces.len())])
                .collect();
            let _ = understand(&m);
        }
    }
}
