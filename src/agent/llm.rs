//! The LLM coordinator: OpenAI-compatible chat completions with tool calling
//! (OpenAI, Ollama, vLLM, llama.cpp server, Gemini's OpenAI-compatible
//! endpoint). Tool schemas come from the registry; the model's call is
//! validated before it runs (bad arguments → one corrective round, then a
//! clear error). In automatic mode it also writes the script.

use std::time::Duration;

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::types::chat::{
    ChatCompletionMessageToolCalls, ChatCompletionRequestAssistantMessage,
    ChatCompletionRequestMessage, ChatCompletionRequestSystemMessage,
    ChatCompletionRequestToolMessage, ChatCompletionRequestUserMessage, ChatCompletionTool,
    ChatCompletionTools, CreateChatCompletionRequest, FunctionObject, ResponseFormat,
    ResponseFormatJsonSchema,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::pipeline::{ScriptScene, ScriptWriter};
use super::registry::{TOOLS, ToolName, validate};
use crate::config::LlmConfig;
use crate::error::{Error, Result};
use crate::tools::openai::{chat, client};

pub const SYSTEM_PROMPT: &str = "You are the coordinator of Content Studio, a tool that makes short narrated videos. \
You work in two modes. Interactive mode: understand the user's request and call exactly one tool with the right \
arguments (generate_image, synthesize_voiceover, generate_social_post, list_assets, compose_video, run_full_pipeline, \
transcribe, cut_speech, add_logo, add_text_overlay, set_clip_speed, save_template, render_for_each: \
\"make this for each of these cities: Lisbon, Oslo, Rome\" is render_for_each with values [\"Lisbon\", \"Oslo\", \"Rome\"] and field \"city\"); never invent words the user did not give (a caption \
\"with my name\" without the name: call add_text_overlay without text and the tool asks for it); if no tool fits, answer briefly in plain text with what you can do. Automatic mode: call run_full_pipeline with the \
user's text (or topic) to make the whole video and post. Asset names look like image_1.png, audio_2.mp3.";

/// What the model chose.
#[derive(Clone, Debug)]
pub struct Choice {
    pub tool: Option<ToolName>,
    pub arguments: Value,
    pub reply: Option<String>,
}

#[derive(Debug)]
pub struct LlmAgent {
    client: Client<OpenAIConfig>,
    model: String,
}

impl LlmAgent {
    pub fn new(c: &LlmConfig, timeout: Duration) -> Self {
        Self {
            client: client(c.base_url.as_deref(), c.api_key.as_deref(), timeout),
            model: c.model.clone().unwrap_or_else(|| "gpt-4o-mini".into()),
        }
    }

    fn tools() -> Vec<ChatCompletionTools> {
        TOOLS
            .iter()
            .map(|t| {
                ChatCompletionTools::Function(ChatCompletionTool {
                    function: FunctionObject {
                        name: t.as_str().into(),
                        description: Some(t.description().into()),
                        parameters: Some(t.schema()),
                        strict: None,
                    },
                })
            })
            .collect()
    }

    /// Asks the model which tool to call for `message`.
    pub async fn choose(&self, message: &str, automatic: bool) -> Result<Choice> {
        let mode = if automatic {
            "Mode: automatic."
        } else {
            "Mode: interactive."
        };
        let mut messages: Vec<ChatCompletionRequestMessage> = vec![
            ChatCompletionRequestSystemMessage::from(format!("{SYSTEM_PROMPT} {mode}").as_str())
                .into(),
            ChatCompletionRequestUserMessage::from(message).into(),
        ];
        let mut last_error = String::new();
        for attempt in 0..2 {
            let request = CreateChatCompletionRequest {
                model: self.model.clone(),
                messages: messages.clone(),
                tools: Some(Self::tools()),
                ..Default::default()
            };
            let Some(message) = chat(&self.client, "llm", request).await? else {
                return Err(Error::provider("llm", "answered with no choices"));
            };
            let calls = message.tool_calls.clone().unwrap_or_default();
            let Some(ChatCompletionMessageToolCalls::Function(call)) = calls.into_iter().next()
            else {
                return Ok(Choice {
                    tool: None,
                    arguments: Value::Null,
                    reply: message.content,
                });
            };
            let checked = ToolName::parse(&call.function.name)
                .ok_or_else(|| format!("there is no tool named {:?}", call.function.name))
                .and_then(|tool| {
                    let args: Value = serde_json::from_str(&call.function.arguments)
                        .map_err(|e| format!("the arguments are not JSON: {e}"))?;
                    validate(tool, &args).map_err(|e| e.to_string())?;
                    Ok((tool, args))
                });
            match checked {
                Ok((tool, arguments)) => {
                    return Ok(Choice {
                        tool: Some(tool),
                        arguments,
                        reply: message.content,
                    });
                }
                Err(problem) if attempt == 0 => {
                    tracing::warn!(%problem, "the model's tool call was invalid; asking once more");
                    messages.push(
                        ChatCompletionRequestAssistantMessage {
                            tool_calls: Some(vec![ChatCompletionMessageToolCalls::Function(
                                call.clone(),
                            )]),
                            ..Default::default()
                        }
                        .into(),
                    );
                    messages.push(
                        ChatCompletionRequestToolMessage {
                            content: format!(
                                "Invalid call: {problem}. Call the tool again with valid arguments."
                            )
                            .into(),
                            tool_call_id: call.id.clone(),
                        }
                        .into(),
                    );
                    last_error = problem;
                }
                Err(problem) => last_error = problem,
            }
        }
        Err(Error::provider(
            "llm",
            format!(
                "the model's tool call was still invalid after a corrective round: {last_error}"
            ),
        ))
    }
}

#[async_trait::async_trait]
impl ScriptWriter for LlmAgent {
    async fn write_script(&self, topic: &str, max: usize) -> Result<Vec<ScriptScene>> {
        #[derive(Deserialize)]
        struct Script {
            scenes: Vec<ScriptScene>,
        }
        let schema = json!({
            "type": "object",
            "properties": {"scenes": {"type": "array", "items": {
                "type": "object",
                "properties": {"narration": {"type": "string"}, "image_prompt": {"type": "string"}},
                "required": ["narration", "image_prompt"], "additionalProperties": false
            }}},
            "required": ["scenes"], "additionalProperties": false
        });
        let request = CreateChatCompletionRequest {
            model: self.model.clone(),
            messages: vec![
                ChatCompletionRequestSystemMessage::from(
                    format!("Write the script of a short narrated video as JSON: 3 to {max} scenes, each with one or two sentences of narration and a vivid image prompt.").as_str(),
                )
                .into(),
                ChatCompletionRequestUserMessage::from(topic).into(),
            ],
            response_format: Some(ResponseFormat::JsonSchema {
                json_schema: ResponseFormatJsonSchema { name: "script".into(), description: None, schema, strict: Some(true) },
            }),
            ..Default::default()
        };
        let content = chat(&self.client, "llm", request)
            .await?
            .and_then(|m| m.content)
            .unwrap_or_default();
        let script: Script = serde_json::from_str(content.trim()).map_err(|e| {
            Error::provider("llm", format!("the script is not the expected JSON: {e}"))
        })?;
        let scenes: Vec<ScriptScene> = script
            .scenes
            .into_iter()
            .filter(|s| !s.narration.trim().is_empty())
            .take(max)
            .collect();
        if scenes.is_empty() {
            return Err(Error::provider("llm", "the script has no scenes"));
        }
        Ok(scenes)
    }
}
