//! The built-in, offline coordinator's face: what the agent calls to map a
//! message to one tool call (or to none, with [`HELP`]). The understanding
//! itself is the trained model and slot rules of [`super::nlu`].

use serde_json::Value;

use super::registry::ToolName;

/// What the parser understood.
#[derive(Clone, Debug, PartialEq)]
pub struct Intent {
    pub tool: ToolName,
    pub arguments: Value,
}

pub const HELP: &str = "I can generate images (\"draw a lighthouse at night\"), voice-overs (\"say 'welcome' in a British female voice\"), \
social posts (\"write a TikTok caption for: ...\"), list what you have made (\"what have I made so far?\"), compose videos \
(\"put image 2 and audio 1 together\", \"make a video from everything\"), edit the saved timeline's layers (\"put my logo in the corner\", \
\"add a lower third saying Ada Lovelace from 2 to 5 seconds\", \"make clip 2 twice as fast\"), save it as a template and make it once per value \
(\"save this as a template\", \"make this for each of these cities: Lisbon, Oslo, Rome\"), and whole narrated videos (\"make a video from this text: ...\", \
or send a text with mode automatic; a bare topic needs an LLM provider).";

pub use super::nlu::slots::voice_for;

/// Understands `message`, or returns `None` when no tool fits: the trained
/// classifier of [`super::nlu`] chooses the tool, its slot rules the arguments.
pub fn parse(message: &str) -> Option<Intent> {
    super::nlu::understand(message).map(|(tool, arguments)| Intent { tool, arguments })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
                    json!({"text": "baking bread", "platform": "tiktok"}),
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
