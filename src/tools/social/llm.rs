//! The LLM engine: any OpenAI-compatible chat completions server (OpenAI,
//! Ollama, vLLM, llama.cpp server, Gemini's OpenAI-compatible endpoint) with
//! structured output. The answer is validated; invalid JSON gets one
//! corrective round, then a clear provider error. The platform rules are
//! applied afterwards by the tool, whatever the model wrote.

use std::time::Duration;

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::types::chat::{
    ChatCompletionRequestAssistantMessage, ChatCompletionRequestMessage,
    ChatCompletionRequestSystemMessage, ChatCompletionRequestUserMessage,
    CreateChatCompletionRequest, ResponseFormat, ResponseFormatJsonSchema,
};
use serde::Deserialize;
use serde_json::json;

use super::rules::Platform;
use super::{SocialEngine, SocialPost, SocialRequest};
use crate::config::LlmConfig;
use crate::error::{Error, Result};
use crate::tools::openai::{chat, client};

pub const DEFAULT_MODEL: &str = "gpt-4o-mini";

#[derive(Debug)]
pub struct LlmSocial {
    client: Client<OpenAIConfig>,
    model: String,
}

/// What the model may answer: `hashtags` as one string or a list.
#[derive(Deserialize)]
struct Answer {
    title: String,
    description: String,
    hashtags: Hashtags,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Hashtags {
    One(String),
    Many(Vec<String>),
}

impl LlmSocial {
    pub fn new(c: &LlmConfig, timeout: Duration) -> Self {
        Self {
            client: client(c.base_url.as_deref(), c.api_key.as_deref(), timeout),
            model: c.model.clone().unwrap_or_else(|| DEFAULT_MODEL.into()),
        }
    }

    fn schema() -> ResponseFormat {
        ResponseFormat::JsonSchema {
            json_schema: ResponseFormatJsonSchema {
                name: "social_post".into(),
                description: Some("A social media post".into()),
                schema: json!({
                    "type": "object",
                    "properties": {
                        "title": {"type": "string"},
                        "description": {"type": "string"},
                        "hashtags": {"type": "string", "description": "space-separated hashtags such as #FuturisticCity #UrbanDesign"}
                    },
                    "required": ["title", "description", "hashtags"],
                    "additionalProperties": false
                }),
                strict: Some(true),
            },
        }
    }

    fn parse(content: &str) -> Option<SocialPost> {
        let trimmed = content
            .trim()
            .trim_start_matches("```json")
            .trim_start_matches("```")
            .trim_end_matches("```");
        let answer: Answer = serde_json::from_str(trimmed.trim()).ok()?;
        let hashtags = match answer.hashtags {
            Hashtags::One(s) => s,
            Hashtags::Many(v) => v.join(" "),
        };
        (!answer.title.trim().is_empty() || !answer.description.trim().is_empty()).then_some(
            SocialPost {
                title: answer.title,
                description: answer.description,
                hashtags,
            },
        )
    }
}

#[async_trait::async_trait]
impl SocialEngine for LlmSocial {
    fn name(&self) -> &str {
        "openai"
    }

    async fn write(&self, req: &SocialRequest) -> Result<SocialPost> {
        let limits = req.platform.limits();
        let system = format!(
            "You write social media posts for short videos. Platform: {platform}. Answer with JSON only: \
             {{\"title\", \"description\", \"hashtags\"}}. Title at most {title} characters; description at most {desc} characters{whole}; \
             {tags} hashtags, CamelCase, space-separated. Write in the language {lang}.{tone}",
            platform = req.platform.as_str(),
            title = limits.title,
            desc = limits.description,
            whole = if req.platform == Platform::X {
                "; the whole post at most 280 characters"
            } else {
                ""
            },
            tags = req.max_hashtags.unwrap_or(limits.default_hashtags),
            lang = req.language,
            tone = req
                .tone
                .as_deref()
                .map(|t| format!(" Tone: {t}."))
                .unwrap_or_default(),
        );
        let mut messages: Vec<ChatCompletionRequestMessage> = vec![
            ChatCompletionRequestSystemMessage::from(system.as_str()).into(),
            ChatCompletionRequestUserMessage::from(req.text.as_str()).into(),
        ];
        for attempt in 0..2 {
            let request = CreateChatCompletionRequest {
                model: self.model.clone(),
                messages: messages.clone(),
                response_format: Some(Self::schema()),
                ..Default::default()
            };
            let content = chat(&self.client, self.name(), request)
                .await?
                .and_then(|m| m.content)
                .unwrap_or_default();
            if let Some(post) = Self::parse(&content) {
                return Ok(post);
            }
            if attempt == 0 {
                tracing::warn!(
                    provider = self.name(),
                    "the model's answer was not the post JSON; asking once more"
                );
                messages.push(ChatCompletionRequestAssistantMessage::from(content.as_str()).into());
                messages.push(
                    ChatCompletionRequestUserMessage::from(
                        "That was not valid JSON. Answer with only a JSON object with the string fields title, description and hashtags.",
                    )
                    .into(),
                );
            }
        }
        Err(Error::provider(
            self.name(),
            "the model did not answer with a valid post (title, description, hashtags) after a corrective round",
        ))
    }
}
