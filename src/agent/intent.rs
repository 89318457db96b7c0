//! The built-in, offline coordinator: a deterministic parser for the common
//! ways people ask for each tool. It maps a message to one tool call (or to
//! none, with help).

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Value, json};

use super::registry::ToolName;

/// What the parser understood.
#[derive(Clone, Debug, PartialEq)]
pub struct Intent {
    pub tool: ToolName,
    pub arguments: Value,
}

pub const HELP: &str = "I can generate images (\"draw a lighthouse at night\"), voice-overs (\"say 'welcome' in a British female voice\"), \
social posts (\"write a TikTok caption for: ...\"), list what you have made (\"what have I made so far?\"), compose videos \
(\"put image 2 and audio 1 together\", \"make a video from everything\") and whole narrated videos (\"make a video from this text: ...\", \
or send a text with mode automatic; a bare topic needs an LLM provider).";

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("the intent patterns are valid")
}

static PIPELINE_TEXT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?is)^(?:please\s+)?(?:turn|convert|make|create|produce|render)\s+(?:this|the following|my)\s*(?:text|article|story|script|post|essay)?\s*(?:into\s+a\s+(?:full\s+|whole\s+|narrated\s+)*video|(?:a\s+)?(?:full\s+|whole\s+|narrated\s+)*video\s+(?:from|of|out of)\s+(?:this|the following|my)\s*(?:text|article|story|script)?)\s*[:\-–]?\s*(?P<text>.+)$",
    )
});
static PIPELINE_FROM: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?is)^(?:please\s+)?(?:make|create|produce|generate|build|render)\s+(?:me\s+)?(?:a|an)\s+(?:full\s+|whole\s+|complete\s+|narrated\s+|short\s+)*video\s+from\s+(?:this|the following)\s*(?:text|article|story|script)?\s*[:\-–]\s*(?P<text>.+)$",
    )
});
static PIPELINE_TOPIC: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?is)^(?:please\s+)?(?:make|create|produce|generate|build|render)\s+(?:me\s+)?(?:a|an)\s+(?:full\s+|whole\s+|complete\s+|narrated\s+|short\s+)*(?:video|movie|clip|reel|short)\s+(?:about|on)\s+(?P<topic>.+)$",
    )
});
static LIST: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?:what\s+(?:have|did)\s+i\s+(?:made|make|created|create|generated|generate)|(?:list|show)\s+(?:me\s+)?(?:my\s+|all\s+|the\s+|all\s+my\s+)?(?:assets|files|media|things|stuff)|(?:list|show)\s+(?:me\s+)?(?:my|all|the|all\s+my|all\s+the)\s+(?:images|pictures|photos|videos|voice-?overs|audios?|posts)\b|what(?:'s|\s+is)\s+in\s+(?:my|this|the)\s+session|what\s+do\s+i\s+have|what\s+assets)",
    )
});
static COMPOSE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:put|combine|join|merge|stitch|compose|assemble|render|cut|edit)\b.*\b(?:together|video|into|and|everything|all)\b|\bmake\s+(?:a\s+|the\s+)?(?:video|movie)\s+(?:from|with|out\s+of|using)\b",
    )
});
static ASSET_REF: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?P<kind>image|picture|photo|pic|audio|voice-?over|voice|narration|clip|video|music)\s*(?:#|no\.?|number)?\s*_?(?P<n>\d+)(?:\.[a-z0-9]{2,4})?\b",
    )
});
static IMAGE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?is)^(?:please\s+|can\s+you\s+|could\s+you\s+|would\s+you\s+|i\s+want\s+|i'd\s+like\s+|i\s+need\s+)*(?:to\s+)?(?:draw|create|make|generate|paint|render|design|produce|show\s+me|give\s+me|get\s+me)?\s*(?:me\s+)?(?:a|an|one|some|the)?\s*(?:(?P<shape>vertical|portrait|square|landscape|wide|horizontal)\s+)?(?:picture|photo|photograph|image|illustration|drawing|painting|pic|artwork|wallpaper|thumbnail|poster)s?\s*(?:of|showing|with|for|depicting|:)?\s+(?P<prompt>.+)$",
    )
});
static IMAGE_VERB: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?is)^(?:please\s+)?(?:draw|paint|illustrate|sketch)\s+(?:me\s+)?(?P<prompt>.+)$")
});
static VOICE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?is)^(?:please\s+|can\s+you\s+|could\s+you\s+)*(?:say|read|narrate|speak|voice|pronounce|read\s+out|read\s+aloud)\s+(?:out\s+|aloud\s+)?(?:this\s*:?\s*|the\s+following\s*:?\s*)?(?P<text>.+?)(?:\s*,?\s+(?:in|with)\s+(?:a|an)\s+(?P<voice>[a-z\s-]+?)\s+voice)?\s*$",
    )
});
static VOICE_MAKE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?is)^(?:please\s+)?(?:create|make|generate|record|produce|give\s+me)\s+(?:me\s+)?(?:a|an)?\s*(?:(?P<voice1>[a-z\s-]+?)\s+)?(?:voice-?over|voiceover|narration|audio|recording|speech)\s+(?:of|for|saying|that\s+says|reading|with\s+the\s+text)\s*:?\s*(?P<text>.+?)(?:\s*,?\s+(?:in|with)\s+(?:a|an)\s+(?P<voice>[a-z\s-]+?)\s+voice)?\s*$",
    )
});
static TTS: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?is)^(?:text\s+to\s+speech|tts)\s*:\s*(?P<text>.+)$"));
static SOCIAL: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?is)^(?:please\s+|can\s+you\s+|could\s+you\s+)*(?:write|create|make|generate|draft|give\s+me|compose)\s+(?:me\s+)?(?:a|an)?\s*(?P<platform>youtube|tiktok|tik\s+tok|instagram|insta|x|twitter|linkedin)?\s*(?:social(?:\s+media)?\s+)?(?P<what>post|caption|tweet|description|blurb|copy|title)\s*(?:for|about|on|from|summari[sz]ing)\s*:?\s*(?P<text>.+)$",
    )
});
static SOCIAL_PLATFORM_AFTER: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^(?:(?:for|on)\s+)?(?P<platform>youtube|tiktok|instagram|x|twitter|linkedin)\s*(?:about|for|on|:)\s*(?P<text>.+)$",
    )
});

fn strip_quotes(s: &str) -> String {
    s.trim()
        .trim_matches(|c| matches!(c, '"' | '\'' | '“' | '”' | '‘' | '’' | '«' | '»'))
        .trim()
        .to_owned()
}

fn platform(word: &str) -> &'static str {
    match word.to_ascii_lowercase().replace(' ', "").as_str() {
        "tiktok" => "tiktok",
        "instagram" | "insta" => "instagram",
        "x" | "twitter" => "x",
        "linkedin" => "linkedin",
        _ => "youtube",
    }
}

/// A Google-style voice for words such as "British female" or "deep male".
pub fn voice_for(description: &str) -> Option<&'static str> {
    let d = description.to_ascii_lowercase();
    let has = |words: &[&str]| {
        words
            .iter()
            .any(|w| d.split(|c: char| !c.is_alphabetic()).any(|x| x == *w))
    };
    let female = has(&["female", "woman", "women", "girl", "lady", "feminine"]);
    let male = has(&["male", "man", "men", "boy", "guy", "masculine", "deep"]);
    let language = if has(&["british", "english", "uk", "london"]) {
        "en-GB"
    } else if has(&["australian", "aussie"]) {
        "en-AU"
    } else if has(&["german", "deutsch"]) {
        "de-DE"
    } else if has(&["french"]) {
        "fr-FR"
    } else if has(&["spanish"]) {
        "es-ES"
    } else if has(&["american", "us", "usa"]) || male || female {
        "en-US"
    } else {
        return None;
    };
    Some(match (language, female) {
        ("en-GB", true) => "en-GB-Neural2-F",
        ("en-GB", false) => "en-GB-Neural2-D",
        ("en-AU", true) => "en-AU-Neural2-C",
        ("en-AU", false) => "en-AU-Neural2-B",
        ("de-DE", true) => "de-DE-Neural2-C",
        ("de-DE", false) => "de-DE-Neural2-B",
        ("fr-FR", true) => "fr-FR-Neural2-C",
        ("fr-FR", false) => "fr-FR-Neural2-B",
        ("es-ES", true) => "es-ES-Neural2-C",
        ("es-ES", false) => "es-ES-Neural2-B",
        (_, true) => "en-US-Neural2-C",
        _ => "en-US-Neural2-D",
    })
}

/// Asset references in a message ("image 2", "audio_1.mp3", "voiceover #3")
/// as name stems (`image_2`), in the order they appear.
fn asset_refs(message: &str) -> Vec<String> {
    ASSET_REF
        .captures_iter(message)
        .map(|c| {
            let kind = match c["kind"].to_ascii_lowercase().as_str() {
                "image" | "picture" | "photo" | "pic" => "image",
                "clip" | "video" => "video",
                _ => "audio",
            };
            format!("{kind}_{}", &c["n"])
        })
        .collect()
}

/// Understands `message`, or returns `None` when no tool fits.
pub fn parse(message: &str) -> Option<Intent> {
    let m = message.trim();
    let call = |tool, arguments| Some(Intent { tool, arguments });

    if let Some(c) = PIPELINE_TEXT
        .captures(m)
        .or_else(|| PIPELINE_FROM.captures(m))
    {
        return call(
            ToolName::RunFullPipeline,
            json!({ "text": c["text"].trim() }),
        );
    }
    if let Some(c) = PIPELINE_TOPIC.captures(m) {
        let topic = c["topic"].trim().trim_end_matches(['.', '!', '?']);
        return call(ToolName::RunFullPipeline, json!({ "topic": topic }));
    }
    if LIST.is_match(m) {
        let lower = m.to_ascii_lowercase();
        let kind = [
            ("image", &["images", "pictures", "photos"][..]),
            ("video", &["videos"][..]),
            ("audio", &["voiceovers", "voice-overs", "audio"][..]),
            ("social", &["posts"][..]),
        ]
        .into_iter()
        .find(|(_, words)| words.iter().any(|w| lower.contains(w)))
        .map(|(k, _)| k);
        return call(
            ToolName::ListAssets,
            match kind {
                Some(k) => json!({ "type": k }),
                None => json!({}),
            },
        );
    }
    let refs = asset_refs(m);
    if COMPOSE.is_match(m)
        && (!refs.is_empty()
            || m.to_ascii_lowercase().contains("everything")
            || m.to_ascii_lowercase().contains(" all"))
    {
        let lower = m.to_ascii_lowercase();
        let mut args = json!({ "asset_ids": refs });
        if lower.contains("caption") || lower.contains("subtitle") {
            args["captions"] = json!(true);
        }
        if lower.contains("vertical") || lower.contains("tiktok") || lower.contains("portrait") {
            args["aspect_ratio"] = json!("9:16");
        }
        return call(ToolName::ComposeVideo, args);
    }
    if let Some(c) = SOCIAL.captures(m) {
        let mut platform_name = c
            .name("platform")
            .map_or("youtube", |p| platform(p.as_str()));
        if c["what"].eq_ignore_ascii_case("tweet") {
            platform_name = "x";
        }
        let mut text = c["text"].trim().to_owned();
        if let Some(after) = SOCIAL_PLATFORM_AFTER.captures(&text) {
            platform_name = platform(&after["platform"]);
            text = after["text"].trim().to_owned();
        }
        return call(
            ToolName::GenerateSocialPost,
            json!({ "text": strip_quotes(&text), "platform": platform_name }),
        );
    }
    if let Some(c) = VOICE_MAKE
        .captures(m)
        .or_else(|| VOICE.captures(m))
        .or_else(|| TTS.captures(m))
    {
        let text = strip_quotes(&c["text"]);
        if !text.is_empty() {
            let described = [c.name("voice"), c.name("voice1")]
                .into_iter()
                .flatten()
                .map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            let mut args = json!({ "text": text });
            if let Some(voice) = voice_for(&described) {
                args["voice_name"] = json!(voice);
            }
            return call(ToolName::SynthesizeVoiceover, args);
        }
    }
    if let Some(c) = IMAGE.captures(m).or_else(|| IMAGE_VERB.captures(m)) {
        let prompt = strip_quotes(c["prompt"].trim_end_matches(['.', '!', '?']));
        if !prompt.is_empty() {
            let mut args = json!({ "prompt": prompt });
            match c
                .name("shape")
                .map(|s| s.as_str().to_ascii_lowercase())
                .as_deref()
            {
                Some("vertical" | "portrait") => args["aspect_ratio"] = json!("9:16"),
                Some("square") => args["aspect_ratio"] = json!("1:1"),
                _ => {}
            }
            return call(ToolName::GenerateImage, args);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool_and_args(message: &str) -> Option<(ToolName, Value)> {
        parse(message).map(|i| (i.tool, i.arguments))
    }

    /// At least 40 phrasings across the tools, with the expected tool and arguments.
    #[test]
    fn phrasings() {
        use ToolName::*;
        let cases: Vec<(&str, Option<(ToolName, Value)>)> = vec![
            (
                "Generate an image of a cat",
                Some((GenerateImage, json!({"prompt": "a cat"}))),
            ),
            (
                "draw a lighthouse at night",
                Some((GenerateImage, json!({"prompt": "a lighthouse at night"}))),
            ),
            (
                "Create a picture of a red barn in the snow.",
                Some((GenerateImage, json!({"prompt": "a red barn in the snow"}))),
            ),
            (
                "make me a photo of the ocean at sunset",
                Some((GenerateImage, json!({"prompt": "the ocean at sunset"}))),
            ),
            (
                "Please generate a vertical image of a neon city",
                Some((
                    GenerateImage,
                    json!({"prompt": "a neon city", "aspect_ratio": "9:16"}),
                )),
            ),
            (
                "can you make a square picture of a forest",
                Some((
                    GenerateImage,
                    json!({"prompt": "a forest", "aspect_ratio": "1:1"}),
                )),
            ),
            (
                "paint a dragon flying over mountains",
                Some((
                    GenerateImage,
                    json!({"prompt": "a dragon flying over mountains"}),
                )),
            ),
            (
                "I want an illustration of a cozy cabin",
                Some((GenerateImage, json!({"prompt": "a cozy cabin"}))),
            ),
            (
                "show me a picture of Paris in the rain",
                Some((GenerateImage, json!({"prompt": "Paris in the rain"}))),
            ),
            (
                "image of a robot reading a book",
                Some((GenerateImage, json!({"prompt": "a robot reading a book"}))),
            ),
            (
                "Give me a thumbnail for my cooking channel",
                Some((GenerateImage, json!({"prompt": "my cooking channel"}))),
            ),
            (
                "sketch a castle on a hill",
                Some((GenerateImage, json!({"prompt": "a castle on a hill"}))),
            ),
            (
                "Say hello world",
                Some((SynthesizeVoiceover, json!({"text": "hello world"}))),
            ),
            (
                "say \"Welcome to the show\" in a British male voice",
                Some((
                    SynthesizeVoiceover,
                    json!({"text": "Welcome to the show", "voice_name": "en-GB-Neural2-D"}),
                )),
            ),
            (
                "Read this: The quick brown fox jumps over the lazy dog.",
                Some((
                    SynthesizeVoiceover,
                    json!({"text": "The quick brown fox jumps over the lazy dog."}),
                )),
            ),
            (
                "narrate 'Once upon a time' in a female voice",
                Some((
                    SynthesizeVoiceover,
                    json!({"text": "Once upon a time", "voice_name": "en-US-Neural2-C"}),
                )),
            ),
            (
                "read aloud Good morning everyone, with a deep male voice",
                Some((
                    SynthesizeVoiceover,
                    json!({"text": "Good morning everyone", "voice_name": "en-US-Neural2-D"}),
                )),
            ),
            (
                "create a voiceover saying thanks for watching",
                Some((SynthesizeVoiceover, json!({"text": "thanks for watching"}))),
            ),
            (
                "Make a voice-over for: Subscribe for more videos",
                Some((
                    SynthesizeVoiceover,
                    json!({"text": "Subscribe for more videos"}),
                )),
            ),
            (
                "generate a British female narration of Welcome to London",
                Some((
                    SynthesizeVoiceover,
                    json!({"text": "Welcome to London", "voice_name": "en-GB-Neural2-F"}),
                )),
            ),
            (
                "speak Guten Tag in a German male voice",
                Some((
                    SynthesizeVoiceover,
                    json!({"text": "Guten Tag", "voice_name": "de-DE-Neural2-B"}),
                )),
            ),
            (
                "text to speech: Bonjour à tous",
                Some((SynthesizeVoiceover, json!({"text": "Bonjour à tous"}))),
            ),
            (
                "record an audio of the intro line, in an Australian woman voice",
                Some((
                    SynthesizeVoiceover,
                    json!({"text": "the intro line", "voice_name": "en-AU-Neural2-C"}),
                )),
            ),
            (
                "write a TikTok caption for my video about baking bread",
                Some((
                    GenerateSocialPost,
                    json!({"text": "my video about baking bread", "platform": "tiktok"}),
                )),
            ),
            (
                "Write a post about our new product launch",
                Some((
                    GenerateSocialPost,
                    json!({"text": "our new product launch", "platform": "youtube"}),
                )),
            ),
            (
                "draft a tweet about the city bike lanes",
                Some((
                    GenerateSocialPost,
                    json!({"text": "the city bike lanes", "platform": "x"}),
                )),
            ),
            (
                "create an Instagram post for: Summer sale starts today",
                Some((
                    GenerateSocialPost,
                    json!({"text": "Summer sale starts today", "platform": "instagram"}),
                )),
            ),
            (
                "give me a LinkedIn post about hiring engineers",
                Some((
                    GenerateSocialPost,
                    json!({"text": "hiring engineers", "platform": "linkedin"}),
                )),
            ),
            (
                "write a youtube description for a travel vlog in Japan",
                Some((
                    GenerateSocialPost,
                    json!({"text": "a travel vlog in Japan", "platform": "youtube"}),
                )),
            ),
            (
                "write a social media post for twitter about electric cars",
                Some((
                    GenerateSocialPost,
                    json!({"text": "electric cars", "platform": "x"}),
                )),
            ),
            ("What have I made so far?", Some((ListAssets, json!({})))),
            ("list my assets", Some((ListAssets, json!({})))),
            (
                "show me all my images",
                Some((ListAssets, json!({"type": "image"}))),
            ),
            ("what's in this session", Some((ListAssets, json!({})))),
            ("what do I have", Some((ListAssets, json!({})))),
            (
                "put image 2 and audio 1 together",
                Some((ComposeVideo, json!({"asset_ids": ["image_2", "audio_1"]}))),
            ),
            (
                "combine image_1.png with audio_1.mp3 into a video",
                Some((ComposeVideo, json!({"asset_ids": ["image_1", "audio_1"]}))),
            ),
            (
                "make a video from picture 1, voiceover 1, picture 2 and voiceover 2 with captions",
                Some((
                    ComposeVideo,
                    json!({"asset_ids": ["image_1", "audio_1", "image_2", "audio_2"], "captions": true}),
                )),
            ),
            (
                "compose everything into a vertical video",
                Some((
                    ComposeVideo,
                    json!({"asset_ids": [], "aspect_ratio": "9:16"}),
                )),
            ),
            (
                "stitch it all together",
                Some((ComposeVideo, json!({"asset_ids": []}))),
            ),
            (
                "make a full video about the history of coffee",
                Some((RunFullPipeline, json!({"topic": "the history of coffee"}))),
            ),
            (
                "Create a short video about black holes.",
                Some((RunFullPipeline, json!({"topic": "black holes"}))),
            ),
            (
                "turn this text into a video: Cats sleep a lot. They hunt at night.",
                Some((
                    RunFullPipeline,
                    json!({"text": "Cats sleep a lot. They hunt at night."}),
                )),
            ),
            (
                "make a video from this article: Rivers shape valleys. Water wins.",
                Some((
                    RunFullPipeline,
                    json!({"text": "Rivers shape valleys. Water wins."}),
                )),
            ),
            ("hello there", None),
            ("what is the weather like?", None),
            ("thanks!", None),
        ];
        assert!(cases.len() >= 40);
        for (message, expected) in cases {
            assert_eq!(tool_and_args(message), expected, "{message}");
        }
    }
}
