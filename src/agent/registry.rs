//! The one registry of tools. Each tool has one argument type (serde + JSON
//! schema), the same the HTTP routes and the CLI use, so the three cannot
//! drift: the agent validates a call by deserialising its arguments into that
//! type, and runs it through the same [`Studio`] method the route calls.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{PartialSchema, ToSchema};

use super::hearing;
use super::layers;
use super::pipeline::{self, PipelineParams};
use super::templating;
use crate::compose::timeline::{ComposeRequest, MusicOptions, TimelineItem};
use crate::error::{Error, Result};
use crate::ids::{AssetKind, SessionId};
use crate::studio::Studio;
use crate::tools::image::ImageParams;
use crate::tools::social::SocialParams;
use crate::tools::speech::SpeechParams;

/// Arguments of `list_assets`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
pub struct ListAssetsParams {
    /// Only this type: image, audio, video, social, subtitles.
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// Arguments of `compose_video`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
pub struct ComposeVideoParams {
    /// Asset names in play order, e.g. `["image_2.png", "audio_1.mp3"]`.
    /// Empty or absent: the session's saved timeline when one is saved
    /// (with these options laid over it), else every image, video clip
    /// (not earlier compositions) and voice-over of the session in creation order.
    #[serde(default)]
    pub asset_ids: Vec<String>,
    /// Burn in captions from the voice-overs.
    pub captions: Option<bool>,
    /// `16:9` (default), `9:16`, `1:1`, `4:5`.
    pub aspect_ratio: Option<String>,
    /// Background music: an audio asset's name.
    pub music: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolName {
    GenerateImage,
    SynthesizeVoiceover,
    GenerateSocialPost,
    ListAssets,
    ComposeVideo,
    RunFullPipeline,
    Transcribe,
    CutSpeech,
    AddLogo,
    AddTextOverlay,
    SetClipSpeed,
    SaveTemplate,
    RenderForEach,
}

pub const TOOLS: [ToolName; 13] = [
    ToolName::GenerateImage,
    ToolName::SynthesizeVoiceover,
    ToolName::GenerateSocialPost,
    ToolName::ListAssets,
    ToolName::ComposeVideo,
    ToolName::RunFullPipeline,
    ToolName::Transcribe,
    ToolName::CutSpeech,
    ToolName::AddLogo,
    ToolName::AddTextOverlay,
    ToolName::SetClipSpeed,
    ToolName::SaveTemplate,
    ToolName::RenderForEach,
];

impl ToolName {
    pub fn as_str(self) -> &'static str {
        match self {
            ToolName::GenerateImage => "generate_image",
            ToolName::SynthesizeVoiceover => "synthesize_voiceover",
            ToolName::GenerateSocialPost => "generate_social_post",
            ToolName::ListAssets => "list_assets",
            ToolName::ComposeVideo => "compose_video",
            ToolName::RunFullPipeline => "run_full_pipeline",
            ToolName::Transcribe => "transcribe",
            ToolName::CutSpeech => "cut_speech",
            ToolName::AddLogo => "add_logo",
            ToolName::AddTextOverlay => "add_text_overlay",
            ToolName::SetClipSpeed => "set_clip_speed",
            ToolName::SaveTemplate => "save_template",
            ToolName::RenderForEach => "render_for_each",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        TOOLS.into_iter().find(|t| t.as_str() == name)
    }

    pub fn description(self) -> &'static str {
        match self {
            ToolName::GenerateImage => "Generate an image from a text prompt.",
            ToolName::SynthesizeVoiceover => {
                "Speak text as a voice-over (a Google-style voice name such as en-US-Neural2-D picks language and gender)."
            }
            ToolName::GenerateSocialPost => {
                "Write a social media post (title, description, hashtags) about a text for a platform."
            }
            ToolName::ListAssets => "List what the session holds so far.",
            ToolName::ComposeVideo => {
                "Compose a video from named assets in order, or from everything in the session."
            }
            ToolName::RunFullPipeline => {
                "Make a whole narrated video and post from a text or a topic: script, scenes, images, voice-overs, captions, video, post."
            }
            ToolName::Transcribe => "Transcribe what a clip or recording says (words with times).",
            ToolName::CutSpeech => {
                "Cut a clip's or recording's filler words (um, uh) and/or shorten its long pauses on the saved timeline."
            }
            ToolName::AddLogo => {
                "Put a picture in a corner of the whole video on the saved timeline: the one named, else the brand kit's logo, else the newest uploaded picture (moved if it is already there)."
            }
            ToolName::AddTextOverlay => {
                "Add a text overlay to the saved timeline for some seconds: a lower third (a name and role under a speaker) or a title. Only with the actual words: never invent a name."
            }
            ToolName::SetClipSpeed => {
                "Make a video clip of the saved timeline play faster or slower (0.25-4x): clip N is the N-th clip item, or name the clip's asset."
            }
            ToolName::SaveTemplate => {
                "Save the session's saved timeline as a reusable template (its {{field}} placeholders become the template's fields), under a name if the user gives one."
            }
            ToolName::RenderForEach => {
                "Make this session's video once for each of several values (\"for each of these cities: Lisbon, Oslo, Rome\"): a batch of renders of its template, the values filling one {{field}} (the one the user's noun names: cities -> city)."
            }
        }
    }

    /// The JSON schema of the tool's arguments (from the same type the HTTP
    /// route deserialises).
    pub fn schema(self) -> Value {
        let schema = match self {
            ToolName::GenerateImage => ImageParams::schema(),
            ToolName::SynthesizeVoiceover => SpeechParams::schema(),
            ToolName::GenerateSocialPost => SocialParams::schema(),
            ToolName::ListAssets => ListAssetsParams::schema(),
            ToolName::ComposeVideo => ComposeVideoParams::schema(),
            ToolName::RunFullPipeline => PipelineParams::schema(),
            ToolName::Transcribe => hearing::TranscribeParams::schema(),
            ToolName::CutSpeech => hearing::CutSpeechParams::schema(),
            ToolName::AddLogo => layers::AddLogoParams::schema(),
            ToolName::AddTextOverlay => layers::AddTextOverlayParams::schema(),
            ToolName::SetClipSpeed => layers::SetClipSpeedParams::schema(),
            ToolName::SaveTemplate => templating::SaveTemplateParams::schema(),
            ToolName::RenderForEach => templating::RenderForEachParams::schema(),
        };
        serde_json::to_value(schema).unwrap_or_else(|_| json!({"type": "object"}))
    }
}

fn parse_args<T: serde::de::DeserializeOwned>(args: &Value) -> Result<T> {
    let args = if args.is_null() {
        json!({})
    } else {
        args.clone()
    };
    serde_json::from_value(args).map_err(|e| Error::invalid("arguments", e.to_string()))
}

/// A model's call may carry arguments the tool does not have (the HTTP
/// routes refuse unknown fields, so that a typo never silently does
/// nothing; a model's extra guess is dropped instead).
fn known_args(tool: ToolName, args: &Value) -> Value {
    let Some(map) = args.as_object() else {
        return args.clone();
    };
    let schema = tool.schema();
    let Some(properties) = schema["properties"].as_object() else {
        return args.clone();
    };
    Value::Object(
        map.iter()
            .filter(|(k, _)| properties.contains_key(k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
}

/// Checks a call's arguments against the tool's type without running it.
pub fn validate(tool: ToolName, args: &Value) -> Result<()> {
    let args = &known_args(tool, args);
    match tool {
        ToolName::GenerateImage => parse_args::<ImageParams>(args)?.validate().map(drop),
        ToolName::SynthesizeVoiceover => parse_args::<SpeechParams>(args)?
            .validate("en-US-Neural2-D")
            .map(drop),
        ToolName::GenerateSocialPost => parse_args::<SocialParams>(args)?.validate().map(drop),
        ToolName::ListAssets => parse_args::<ListAssetsParams>(args).map(drop),
        ToolName::ComposeVideo => parse_args::<ComposeVideoParams>(args).map(drop),
        ToolName::RunFullPipeline => parse_args::<PipelineParams>(args).map(drop),
        ToolName::Transcribe => parse_args::<hearing::TranscribeParams>(args).map(drop),
        ToolName::CutSpeech => parse_args::<hearing::CutSpeechParams>(args).map(drop),
        ToolName::AddLogo => parse_args::<layers::AddLogoParams>(args).map(drop),
        ToolName::AddTextOverlay => parse_args::<layers::AddTextOverlayParams>(args).map(drop),
        ToolName::SetClipSpeed => parse_args::<layers::SetClipSpeedParams>(args).map(drop),
        ToolName::SaveTemplate => parse_args::<templating::SaveTemplateParams>(args).map(drop),
        ToolName::RenderForEach => {
            let p = parse_args::<templating::RenderForEachParams>(args)?;
            if p.values.len() > templating::MAX_VALUES {
                return Err(Error::invalid(
                    "values",
                    format!("at most {} values", templating::MAX_VALUES),
                ));
            }
            Ok(())
        }
    }
}

/// Runs one tool call and returns its result as JSON.
pub async fn call(
    studio: &Studio,
    writer: Option<&dyn pipeline::ScriptWriter>,
    session: &SessionId,
    tool: ToolName,
    args: &Value,
    callback: Option<&crate::webhooks::Callback>,
    caller: super::Caller<'_>,
) -> Result<Value> {
    let asker = caller.asker;
    let args = &known_args(tool, args);
    Ok(match tool {
        ToolName::GenerateImage => json!(
            studio
                .generate_image(session, &parse_args(args)?, None)
                .await?
        ),
        ToolName::SynthesizeVoiceover => json!(
            studio
                .synthesize_voiceover(session, &parse_args(args)?, None)
                .await?
        ),
        ToolName::GenerateSocialPost => json!(
            studio
                .generate_social_post(session, &parse_args(args)?, None)
                .await?
        ),
        ToolName::ListAssets => {
            let p: ListAssetsParams = parse_args(args)?;
            let kind = p.kind.as_deref().map(str::parse::<AssetKind>).transpose()?;
            match studio.store().list_assets(session, kind).await {
                Ok(assets) => json!(assets),
                Err(Error::UnknownSession(_)) => json!([]),
                Err(e) => return Err(e),
            }
        }
        ToolName::ComposeVideo => {
            let p: ComposeVideoParams = parse_args(args)?;
            let mut req = compose_request(studio, session, &p).await?;
            req.callback = callback.cloned();
            match studio.compose(session, &req, asker).await? {
                crate::studio::ComposeOutcome::Done(asset) => json!(asset),
                crate::studio::ComposeOutcome::Queued(job) => json!(job),
            }
        }
        ToolName::RunFullPipeline => {
            let p: PipelineParams = parse_args(args)?;
            json!(pipeline::start(studio, writer, session, &p, callback, asker).await?)
        }
        ToolName::Transcribe => {
            json!(hearing::transcribe(studio, session, &parse_args(args)?).await?)
        }
        ToolName::CutSpeech => hearing::cut_speech(studio, session, &parse_args(args)?).await?,
        ToolName::AddLogo => layers::add_logo(studio, session, &parse_args(args)?).await?,
        ToolName::AddTextOverlay => {
            layers::add_text_overlay(studio, session, &parse_args(args)?).await?
        }
        ToolName::SetClipSpeed => {
            layers::set_clip_speed(studio, session, &parse_args(args)?).await?
        }
        ToolName::SaveTemplate => {
            templating::save_template(studio, session, &parse_args(args)?, caller).await?
        }
        ToolName::RenderForEach => {
            templating::render_for_each(studio, session, &parse_args(args)?, caller).await?
        }
    })
}

/// The timeline for `compose_video`: the named assets in order; with none
/// named, the session's saved timeline (the compose resolves it, laying
/// these options over it), or the whole session (visuals and voice-overs in
/// creation order) when nothing is saved.
pub async fn compose_request(
    studio: &Studio,
    session: &SessionId,
    p: &ComposeVideoParams,
) -> Result<ComposeRequest> {
    let saved = if p.asset_ids.is_empty() {
        match studio.composer().saved_timeline(session, None).await {
            Ok(t) => !t.timeline.is_empty(),
            Err(Error::UnknownSession(_)) => false,
            Err(e) => return Err(e),
        }
    } else {
        false
    };
    let names: Vec<String> = if saved {
        Vec::new()
    } else if p.asset_ids.is_empty() {
        let assets = studio.store().list_assets(session, None).await?;
        assets
            .iter()
            .filter(|a| match a.kind {
                AssetKind::Image => true,
                // A clip, not a video composed earlier.
                AssetKind::Video => a.source != "compose",
                AssetKind::Audio => a.metadata["role"] != "music",
                _ => false,
            })
            .map(|a| a.name.to_string())
            .collect()
    } else {
        // "image_2" names image_2.png (or .jpg ...): resolve stems to names.
        let assets = studio.store().list_assets(session, None).await?;
        p.asset_ids
            .iter()
            .map(|id| {
                let stem = format!("{id}.");
                assets
                    .iter()
                    .find(|a| a.name.as_str() == id)
                    .or_else(|| assets.iter().find(|a| a.name.as_str().starts_with(&stem)))
                    .map_or_else(|| id.clone(), |a| a.name.to_string())
            })
            .collect()
    };
    Ok(ComposeRequest {
        timeline: (!saved).then(|| {
            names
                .into_iter()
                .map(|asset_id| TimelineItem {
                    asset_id,
                    ..Default::default()
                })
                .collect()
        }),
        output: p
            .aspect_ratio
            .clone()
            .map(|r| crate::compose::timeline::OutputOptions {
                aspect_ratio: Some(r),
                ..Default::default()
            }),
        captions: p.captions.map(crate::compose::timeline::CaptionsOption::On),
        music: p.music.clone().map(|asset_id| MusicOptions {
            asset_id,
            ..Default::default()
        }),
        ..Default::default()
    })
}
