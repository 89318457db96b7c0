//! The social post tool: text in, `{title, description, hashtags}` out,
//! stored as a `social` asset (`social_1.json`) and held to the platform's
//! rules ([`rules`]) whatever engine wrote it: the built-in extractive
//! engine ([`extractive`]) or an LLM ([`llm`]).

pub mod extractive;
pub mod llm;
pub mod rules;
pub mod words;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

pub use rules::Platform;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::ids::{AssetKind, SessionId};
use crate::store::{NewAsset, Store};

/// Arguments of `generate_social_post`: the HTTP body, the CLI's flags and
/// the agent's tool call are all this one type.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct SocialParams {
    /// The content to write about (1–100,000 characters).
    #[arg(long, default_value = "")]
    #[schema(example = "Some content to summarize.")]
    pub text: String,
    /// `youtube` (default), `tiktok`, `instagram`, `x` or `linkedin`.
    #[arg(long)]
    pub platform: Option<String>,
    /// How many hashtags at most (capped by the platform).
    #[arg(long)]
    pub max_hashtags: Option<usize>,
    /// ISO 639-1 code such as `en` or `de`; detected when absent.
    #[arg(long)]
    pub language: Option<String>,
    /// A tone hint for LLM engines, e.g. `playful`.
    #[arg(long)]
    pub tone: Option<String>,
    /// Overrides the configured engine for this request (`builtin`, `openai`).
    #[arg(long)]
    pub provider: Option<String>,
}

/// The post itself, exactly as the original contract has it.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema, PartialEq)]
pub struct SocialPost {
    pub title: String,
    pub description: String,
    /// One string: `#FuturisticCity #UrbanDesign #SciFi`.
    pub hashtags: String,
}

/// `POST /social`'s answer: the post, plus where it is stored.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SocialResult {
    #[serde(flatten)]
    pub post: SocialPost,
    #[schema(example = "social_1.json")]
    pub asset_id: String,
    pub url: String,
    pub platform: String,
    pub language: String,
    pub provider: String,
}

#[derive(Clone, Debug)]
pub struct SocialRequest {
    pub text: String,
    pub platform: Platform,
    pub max_hashtags: Option<usize>,
    pub language: String,
    pub tone: Option<String>,
}

/// What `SocialParams` accepts: the validator below and the API document
/// (`api/openapi.rs`) both read these.
pub mod limits {
    pub const TEXT_CHARS: usize = 100_000;
    pub const MAX_HASHTAGS: usize = 100;
    pub const TONE_CHARS: usize = 1000;
}

impl SocialParams {
    pub fn validate(&self) -> Result<SocialRequest> {
        let text = self.text.trim();
        let chars = text.chars().count();
        if chars == 0 {
            return Err(Error::invalid("text", "must not be empty"));
        }
        if chars > limits::TEXT_CHARS {
            return Err(Error::invalid(
                "text",
                format!("is {chars} characters; the limit is {}", limits::TEXT_CHARS),
            ));
        }
        let platform = Platform::parse(self.platform.as_deref().unwrap_or("youtube"))?;
        if let Some(n) = self.max_hashtags.filter(|n| *n > limits::MAX_HASHTAGS) {
            return Err(Error::invalid(
                "max_hashtags",
                format!("{n} is more than {}", limits::MAX_HASHTAGS),
            ));
        }
        let language = match self
            .language
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            Some(l) if l.len() == 2 && l.chars().all(|c| c.is_ascii_alphabetic()) => {
                l.to_ascii_lowercase()
            }
            Some(l) => {
                return Err(Error::invalid(
                    "language",
                    format!("{l:?} is not a two-letter ISO 639-1 code such as en or de"),
                ));
            }
            None => extractive::detect_language(text),
        };
        if self
            .tone
            .as_deref()
            .is_some_and(|t| t.chars().count() > limits::TONE_CHARS)
        {
            return Err(Error::invalid(
                "tone",
                format!("is longer than {} characters", limits::TONE_CHARS),
            ));
        }
        let tone = self
            .tone
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| t.chars().take(100).collect());
        Ok(SocialRequest {
            text: text.to_owned(),
            platform,
            max_hashtags: self.max_hashtags,
            language,
            tone,
        })
    }
}

#[async_trait::async_trait]
pub trait SocialEngine: Send + Sync + std::fmt::Debug {
    fn name(&self) -> &str;
    async fn write(&self, req: &SocialRequest) -> Result<SocialPost>;
}

/// The offline engine as a [`SocialEngine`].
#[derive(Debug)]
pub struct Extractive;

#[async_trait::async_trait]
impl SocialEngine for Extractive {
    fn name(&self) -> &str {
        "builtin"
    }

    async fn write(&self, req: &SocialRequest) -> Result<SocialPost> {
        let tags = req
            .max_hashtags
            .unwrap_or(req.platform.limits().default_hashtags);
        let (text, language) = (req.text.clone(), req.language.clone());
        tokio::task::spawn_blocking(move || extractive::write_post(&text, &language, tags))
            .await
            .map_err(|e| Error::Internal(format!("the text engine stopped: {e}")))
    }
}

#[derive(Clone, Debug)]
pub struct SocialTool {
    default: String,
    engines: BTreeMap<String, Arc<dyn SocialEngine>>,
}

impl SocialTool {
    pub fn from_config(config: &Config) -> Result<Self> {
        let mut engines: BTreeMap<String, Arc<dyn SocialEngine>> = BTreeMap::new();
        engines.insert("builtin".into(), Arc::new(Extractive));
        match config.social_provider.as_str() {
            "builtin" => {}
            "openai" => {
                engines.insert(
                    "openai".into(),
                    Arc::new(llm::LlmSocial::new(&config.llm, config.provider_timeout())),
                );
            }
            other => {
                return Err(Error::Internal(format!(
                    "STUDIO_SOCIAL_PROVIDER={other:?} is not one of builtin, openai"
                )));
            }
        }
        Ok(Self {
            default: config.social_provider.clone(),
            engines,
        })
    }

    /// The engines a request may name.
    pub fn provider_names(&self) -> Vec<String> {
        self.engines.keys().cloned().collect()
    }

    /// Writes the post and stores it (marked as made by `job`, when a job
    /// makes it).
    pub async fn generate(
        &self,
        store: &Store,
        session: &SessionId,
        params: &SocialParams,
        job: Option<&str>,
    ) -> Result<SocialResult> {
        let req = params.validate()?;
        let name = params
            .provider
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .unwrap_or(&self.default);
        let engine = self.engines.get(name).ok_or_else(|| {
            let names: Vec<&str> = self.engines.keys().map(String::as_str).collect();
            Error::invalid(
                "provider",
                format!(
                    "{name:?} is not configured; available: {}",
                    names.join(", ")
                ),
            )
        })?;
        let since = store.session_since(session).await?;
        let draft = engine.write(&req).await?;
        let post = rules::enforce(&draft, req.platform, req.max_hashtags);
        let body = json!({
            "title": post.title,
            "description": post.description,
            "hashtags": post.hashtags,
            "platform": req.platform.as_str(),
            "language": req.language,
        });
        let new = NewAsset {
            kind: AssetKind::Social,
            ext: "json".into(),
            mime_type: "application/json".into(),
            source: "social".into(),
            metadata: json!({
                "title": post.title,
                "platform": req.platform.as_str(),
                "language": req.language,
                "provider": engine.name(),
                "text": req.text.chars().take(500).collect::<String>(),
            }),
            job: job.map(str::to_owned),
        };
        let bytes = serde_json::to_vec_pretty(&body).map_err(|e| Error::Internal(e.to_string()))?;
        let asset = store.put_asset(session, since, new, bytes.into()).await?;
        Ok(SocialResult {
            post,
            asset_id: asset.asset_id.to_string(),
            url: asset.url,
            platform: req.platform.as_str().into(),
            language: req.language,
            provider: engine.name().into(),
        })
    }
}
