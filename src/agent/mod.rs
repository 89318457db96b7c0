//! The coordinator agent: plain requests in, one tool call out.
//!
//! Interactive mode maps a message to exactly one tool of the [`registry`]
//! and returns that call's result; automatic mode runs the whole
//! [`pipeline`]. Two engines decide: the built-in offline coordinator
//! ([`intent`]: a trained intent classifier and slot rules in [`nlu`], the
//! default) or an LLM with tool calling ([`llm`]).

pub mod hearing;
pub mod intent;
pub mod layers;
pub mod llm;
pub mod nlu;
pub mod pipeline;
pub mod registry;
pub mod templating;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use registry::ToolName;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::ids::{AssetKind, SessionId};
use crate::studio::Studio;

/// `POST /agent` body.
/// The longest message the coordinator takes (and keeps).
pub const MAX_MESSAGE_CHARS: usize = 20_000;

#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentRequest {
    #[schema(example = "Generate an image of a cat")]
    pub message: String,
    /// `interactive` (default) or `automatic`.
    pub mode: Option<String>,
    /// Tell this URL when the job the request starts (a pipeline, a
    /// render) ends: a signed POST.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback: Option<crate::webhooks::Callback>,
}

/// What the coordinator did.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AgentReply {
    /// `interactive` or `automatic`.
    pub mode: String,
    /// The tool it called, or null when none fits.
    #[schema(example = "generate_image")]
    pub tool: Option<String>,
    #[schema(value_type = Object)]
    pub arguments: Value,
    /// The tool's result: the same object its own endpoint returns (for the
    /// pipeline: its job).
    #[schema(value_type = Object)]
    pub result: Value,
    /// A short sentence for the user.
    pub reply: String,
}

/// Who asks the coordinator, passed down to the tools explicitly.
#[derive(Clone, Copy, Debug, Default)]
pub struct Caller<'a> {
    /// The API key's id: templates and batches are kept per key (`None`: a
    /// server without keys, or the CLI; such templates belong to "").
    pub key: Option<&'a str>,
    /// Whose job share the work counts against: the key's id, or
    /// `addr:<ip>` without a key (`None`: the CLI).
    pub asker: Option<&'a str>,
}

#[derive(Debug)]
pub struct Agent {
    llm: Option<llm::LlmAgent>,
}

impl Agent {
    pub fn from_config(config: &Config) -> Result<Self> {
        let llm = match config.agent_provider.as_str() {
            "builtin" => None,
            "openai" => Some(llm::LlmAgent::new(&config.llm, config.provider_timeout())),
            other => {
                return Err(Error::Internal(format!(
                    "STUDIO_AGENT_PROVIDER={other:?} is not one of builtin, openai"
                )));
            }
        };
        Ok(Self { llm })
    }

    /// The LLM that can write scripts from a topic, when one is configured.
    pub fn script_writer(&self) -> Option<&dyn pipeline::ScriptWriter> {
        self.llm.as_ref().map(|l| l as &dyn pipeline::ScriptWriter)
    }

    /// Handles a plain request and keeps the exchange as the session's
    /// conversation (a failed request with its error).
    /// `caller`: whose templates the tools use and whose job share the
    /// work counts against.
    pub async fn ask(
        &self,
        studio: &Studio,
        session: &SessionId,
        req: &AgentRequest,
        caller: Caller<'_>,
    ) -> Result<AgentReply> {
        let store = studio.store();
        // The conversation is kept in the session as it was found: one
        // deleted meanwhile is not made again by its messages.
        let conversation = (session, store.session_since(session).await?);
        let outcome = self.handle(studio, session, req, caller).await;
        if req.message.trim().is_empty() || req.message.trim().chars().count() > MAX_MESSAGE_CHARS {
            return outcome; // nothing was said, or too much to keep
        }
        store
            .append_message(conversation, "user", &req.message, None, None)
            .await?;
        match &outcome {
            Ok(reply) => {
                let result = Some(&reply.result).filter(|r| !r.is_null());
                store
                    .append_message(
                        conversation,
                        "assistant",
                        &reply.reply,
                        reply.tool.as_deref(),
                        result,
                    )
                    .await?;
            }
            Err(e) => {
                store
                    .append_message(
                        conversation,
                        "assistant",
                        &format!("error: {e}"),
                        None,
                        None,
                    )
                    .await?;
            }
        }
        outcome
    }

    /// Answers one request: checks it, chooses the tool (the model's choice,
    /// or the offline parser's), and runs it.
    async fn handle(
        &self,
        studio: &Studio,
        session: &SessionId,
        req: &AgentRequest,
        caller: Caller<'_>,
    ) -> Result<AgentReply> {
        let message = checked_message(req)?;
        let automatic = automatic_mode(req)?;
        let choice = self.choose(studio, session, message, automatic).await?;
        let (tool, arguments) =
            pipeline_when_automatic(choice.tool, choice.arguments, automatic, message);
        let mode = if automatic || tool == Some(ToolName::RunFullPipeline) {
            "automatic"
        } else {
            "interactive"
        };
        let Some(tool) = tool else {
            return Ok(AgentReply {
                mode: mode.into(),
                tool: None,
                arguments: Value::Null,
                result: Value::Null,
                reply: choice.reply.unwrap_or_else(|| intent::HELP.into()),
            });
        };
        if tool == ToolName::RunFullPipeline && arguments["text"].is_null() && self.llm.is_none() {
            return Ok(needs_a_model(mode, arguments));
        }
        self.run_tool(studio, session, req, caller, (tool, arguments), mode)
            .await
    }

    /// The tool a message asks for, its arguments and the model's own reply:
    /// the model's choice when there is one, else the offline parser's (the
    /// whole pipeline for an unparsed message in automatic mode).
    async fn choose(
        &self,
        studio: &Studio,
        session: &SessionId,
        message: &str,
        automatic: bool,
    ) -> Result<llm::Choice> {
        let (tool, arguments, reply) = match &self.llm {
            Some(llm) => return llm.choose(message, automatic).await,
            None => match intent::parse(message) {
                Some(i) if i.tool == ToolName::ComposeVideo => {
                    let arguments = resolve_last(studio, session, i.arguments).await?;
                    (Some(i.tool), arguments, None)
                }
                Some(i) => (Some(i.tool), i.arguments, None),
                None if automatic => (
                    Some(ToolName::RunFullPipeline),
                    json!({ "text": message }),
                    None,
                ),
                None => (None, Value::Null, None),
            },
        };
        Ok(llm::Choice {
            tool,
            arguments,
            reply,
        })
    }

    /// Runs the chosen tool (after checking the request's callback) and
    /// replies with a summary of its result.
    async fn run_tool(
        &self,
        studio: &Studio,
        session: &SessionId,
        req: &AgentRequest,
        caller: Caller<'_>,
        (tool, arguments): (ToolName, Value),
        mode: &str,
    ) -> Result<AgentReply> {
        if let Some(callback) = &req.callback {
            studio.check_callback(callback).await?;
        }
        let result = registry::call(
            studio,
            self.script_writer(),
            session,
            tool,
            &arguments,
            req.callback.as_ref(),
            caller,
        )
        .await?;
        let mut reply = summary(tool, &result);
        if tool == ToolName::SynthesizeVoiceover {
            reply.push_str(&other_voices(&studio.voices().await, &result["metadata"]));
        }
        Ok(AgentReply {
            mode: mode.into(),
            tool: Some(tool.as_str().into()),
            reply,
            arguments,
            result,
        })
    }
}

/// The request's message, trimmed: not empty, and not longer than
/// [`MAX_MESSAGE_CHARS`].
fn checked_message(req: &AgentRequest) -> Result<&str> {
    let message = req.message.trim();
    if message.is_empty() {
        return Err(Error::invalid("message", "must not be empty"));
    }
    if message.chars().count() > MAX_MESSAGE_CHARS {
        return Err(Error::invalid(
            "message",
            format!("is longer than {MAX_MESSAGE_CHARS} characters"),
        ));
    }
    Ok(message)
}

/// Whether the request's mode is automatic (interactive when not given).
fn automatic_mode(req: &AgentRequest) -> Result<bool> {
    match req.mode.as_deref().unwrap_or("interactive") {
        "interactive" => Ok(false),
        "automatic" => Ok(true),
        other => Err(Error::invalid(
            "mode",
            format!("{other:?} is not interactive or automatic"),
        )),
    }
}

/// Automatic mode always runs the pipeline (on the message); a whole-video
/// request is automatic.
fn pipeline_when_automatic(
    tool: Option<ToolName>,
    arguments: Value,
    automatic: bool,
    message: &str,
) -> (Option<ToolName>, Value) {
    match tool {
        Some(t) if automatic && t != ToolName::RunFullPipeline => {
            (Some(ToolName::RunFullPipeline), json!({ "text": message }))
        }
        other => (other, arguments),
    }
}

/// The reply to a request for the pipeline on a bare topic, offline: the
/// script needs a model.
fn needs_a_model(mode: &str, arguments: Value) -> AgentReply {
    AgentReply {
        mode: mode.into(),
        tool: None,
        arguments,
        result: Value::Null,
        reply: "Writing a script from a bare topic needs an LLM provider (set STUDIO_AGENT_PROVIDER=openai and STUDIO_LLM_*). \
                Offline, send the text to narrate instead, e.g. \"make a video from this text: ...\" or mode automatic with your text."
            .into(),
    }
}

/// Replaces "the last picture" (`image_last`) in a compose call with the
/// session's newest asset of that kind (`image_3`); one the session lacks
/// stays as it is and the compose names it as unknown.
async fn resolve_last(studio: &Studio, session: &SessionId, mut arguments: Value) -> Result<Value> {
    let last = format!("_{}", nlu::slots::LAST);
    let Some(ids) = arguments["asset_ids"].as_array_mut() else {
        return Ok(arguments);
    };
    if !ids
        .iter()
        .any(|id| id.as_str().is_some_and(|s| s.ends_with(&last)))
    {
        return Ok(arguments);
    }
    let assets = match studio.store().list_assets(session, None).await {
        Ok(assets) => assets,
        Err(Error::UnknownSession(_)) => Vec::new(),
        Err(e) => return Err(e),
    };
    for id in ids.iter_mut() {
        let Some(kind) = id.as_str().and_then(|s| s.strip_suffix(&last)) else {
            continue;
        };
        let newest = assets.iter().rev().find(|a| match a.kind {
            AssetKind::Image => kind == "image",
            AssetKind::Audio => kind == "audio" && a.metadata["role"] != "music",
            AssetKind::Video => kind == "video" && a.source != "compose",
            _ => false,
        });
        if let Some(asset) = newest {
            let name = asset.name.as_str();
            *id = json!(name.rsplit_once('.').map_or(name, |(stem, _)| stem));
        }
    }
    Ok(arguments)
}

/// A voice-over made: its length, the voice asked for and the engine's
/// voice that read it, and how to get another.
fn voiceover_summary(name: &str, metadata: &Value) -> String {
    let seconds = metadata["duration_seconds"].as_f64().unwrap_or(0.0);
    let asked = metadata["voice_name"].as_str().unwrap_or_default();
    let engine = metadata["engine_voice"].as_str().unwrap_or_default();
    let provider = metadata["provider"].as_str().unwrap_or_default();
    let read_by = match (asked, engine, provider) {
        ("", _, _) => String::new(),
        (asked, "", "") => format!(", read by {asked}"),
        (asked, engine, provider) => format!(", read by {asked} ({provider} voice {engine})"),
    };
    format!(
        "Your voice-over {name} is ready ({seconds:.1} s){read_by}. For another voice, ask for one \
         (\"in a British male voice\", \"en-US-Neural2-F\") or pick it in the voice menu."
    )
}

/// " Other voices: …": up to three more of the voice's language, best
/// first (the list is ordered so), with whose engine speaks each.
fn other_voices(voices: &[crate::tools::speech::Voice], metadata: &Value) -> String {
    let asked = metadata["voice_name"].as_str().unwrap_or_default();
    let language = asked.get(..5).unwrap_or("en-US");
    let others: Vec<String> = voices
        .iter()
        .filter(|v| v.name != asked && v.language_code.eq_ignore_ascii_case(language))
        .take(3)
        .map(|v| format!("{} ({})", v.name, v.provider))
        .collect();
    if others.is_empty() {
        String::new()
    } else {
        format!(" Other voices: {}.", others.join(", "))
    }
}

/// A short sentence about what a tool made.
fn summary(tool: ToolName, result: &Value) -> String {
    let name = result["asset_id"].as_str().unwrap_or("the asset");
    match tool {
        ToolName::GenerateImage => format!("Here is your image, {name}."),
        ToolName::SynthesizeVoiceover => voiceover_summary(name, &result["metadata"]),
        ToolName::GenerateSocialPost => {
            let part = |key: &str| result[key].as_str().unwrap_or_default().trim().to_owned();
            let whole: Vec<String> = ["title", "description", "hashtags"]
                .into_iter()
                .map(part)
                .filter(|p| !p.is_empty())
                .collect();
            format!("Here is your post:\n\n{}", whole.join("\n\n"))
        }
        ToolName::ListAssets => match result.as_array().map(Vec::len).unwrap_or(0) {
            0 => "This session has no assets yet.".into(),
            n => format!(
                "You have {n} asset{}: {}.",
                if n == 1 { "" } else { "s" },
                result
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|a| a["name"].as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
        ToolName::ComposeVideo => {
            let m = &result["metadata"];
            let size = match (m["width"].as_u64(), m["height"].as_u64()) {
                (Some(w), Some(h)) => format!(", {w}×{h}"),
                _ => String::new(),
            };
            format!(
                "Your video {name} is ready ({:.1} s{size}).",
                m["duration_seconds"].as_f64().unwrap_or(0.0)
            )
        }
        ToolName::RunFullPipeline => {
            "I am making the whole video now; follow the job for progress.".into()
        }
        ToolName::Transcribe => hearing::transcript_summary(result),
        ToolName::CutSpeech => hearing::cuts_summary(result),
        ToolName::AddLogo | ToolName::AddTextOverlay | ToolName::SetClipSpeed => {
            layers::summary(tool.as_str(), result)
        }
        ToolName::SaveTemplate | ToolName::RenderForEach => {
            templating::summary(tool.as_str(), result)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_say_which_voice_read_and_show_the_whole_post() {
        let voice_json = || {
            json!({"asset_id": "audio_2", "metadata": {"duration_seconds": 2.04,
            "voice_name": "en-US-Neural2-F", "engine_voice": "en-us+f3", "provider": "espeak"}})
        };
        let said = summary(ToolName::SynthesizeVoiceover, &voice_json());
        assert!(
            said.starts_with(
                "Your voice-over audio_2 is ready (2.0 s), read by en-US-Neural2-F (espeak voice en-us+f3)."
            ),
            "{said}"
        );
        assert!(said.contains("pick it in the voice menu"), "{said}");
        let voice = |name: &str, language: &str, provider: &str| crate::tools::speech::Voice {
            name: name.into(),
            language_code: language.into(),
            gender: None,
            provider: provider.into(),
        };
        let voices = [
            voice("en-US-Neural2-D", "en-US", "piper"),
            voice("en-GB-Neural2-B", "en-GB", "hibari"),
            voice("en-US-Neural2-F", "en-US", "espeak"),
            voice("en-US-Standard-A", "en-US", "espeak"),
        ];
        assert_eq!(
            other_voices(&voices, &voice_json()["metadata"]),
            " Other voices: en-US-Neural2-D (piper), en-US-Standard-A (espeak)."
        );
        let video = json!({"asset_id": "video_3", "metadata": {"duration_seconds": 12.0, "width": 1080, "height": 1920}});
        assert_eq!(
            summary(ToolName::ComposeVideo, &video),
            "Your video video_3 is ready (12.0 s, 1080×1920)."
        );
        let post = json!({"title": "Coffee's long road", "description": "From Ethiopia to your cup.",
            "hashtags": "#coffee #history"});
        assert_eq!(
            summary(ToolName::GenerateSocialPost, &post),
            "Here is your post:\n\nCoffee's long road\n\nFrom Ethiopia to your cup.\n\n#coffee #history"
        );
    }
}
