//! The image tool: a prompt in, a stored `image` asset out.
//!
//! [`ImageParams`] is the one argument type (HTTP body, CLI flags and agent
//! tool call); [`ImageProvider`] is what an engine implements: the built-in
//! renderer ([`builtin`]), OpenAI-compatible servers ([`openai`]),
//! Automatic1111 / Forge ([`automatic1111`]) and Google Imagen ([`imagen`]).

pub mod automatic1111;
pub mod builtin;
pub mod imagen;
pub mod openai;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::ids::{AssetKind, SessionId};
use crate::store::{Asset, NewAsset, Store};

/// Arguments of `generate_image`: the HTTP body, the CLI's flags and the
/// agent's tool call are all this one type.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct ImageParams {
    /// What to picture (1–4000 characters).
    #[schema(example = "A futuristic cityscape")]
    pub prompt: String,
    /// Width in pixels (64–4096, a multiple of 8); give it with `height`.
    #[arg(long)]
    pub width: Option<u32>,
    /// Height in pixels (64–4096, a multiple of 8); give it with `width`.
    #[arg(long)]
    pub height: Option<u32>,
    /// `16:9` (default, 1920×1080), `9:16`, `1:1` or `4:5`.
    #[arg(long)]
    pub aspect_ratio: Option<String>,
    /// Same prompt + seed + size gives the same picture (built-in engine).
    #[arg(long)]
    pub seed: Option<u64>,
    #[arg(long)]
    pub negative_prompt: Option<String>,
    /// A style hint appended to the prompt, e.g. `watercolor`.
    #[arg(long)]
    pub style: Option<String>,
    /// Draw the prompt as a caption on the picture (built-in engine).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub caption: Option<bool>,
    /// Overrides the configured provider for this request.
    #[arg(long)]
    pub provider: Option<String>,
}

/// A validated request, as providers see it.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageRequest {
    pub prompt: String,
    pub width: u32,
    pub height: u32,
    pub seed: Option<u64>,
    pub negative_prompt: Option<String>,
    pub style: Option<String>,
    pub caption: bool,
}

impl ImageRequest {
    /// The aspect ratio as `W:H` in lowest terms (providers that take ratios).
    pub fn aspect_ratio(&self) -> String {
        fn gcd(a: u32, b: u32) -> u32 {
            if b == 0 { a } else { gcd(b, a % b) }
        }
        let g = gcd(self.width, self.height).max(1);
        format!("{}:{}", self.width / g, self.height / g)
    }

    /// The prompt with the style folded in, for providers without a style field.
    pub fn full_prompt(&self) -> String {
        match &self.style {
            Some(style) => format!("{}, in the style of {}", self.prompt, style),
            None => self.prompt.clone(),
        }
    }
}

/// What `ImageParams` accepts: the validator below and the API document
/// (`api/openapi.rs`) both read these.
pub mod limits {
    pub const PROMPT_CHARS: usize = 4000;
    /// `negative_prompt` and `style`.
    pub const TEXT_CHARS: usize = 1000;
    pub const MIN_SIDE: u32 = 64;
    pub const MAX_SIDE: u32 = 4096;
    pub const SIDE_STEP: u32 = 8;
}

impl ImageParams {
    pub fn validate(&self) -> Result<ImageRequest> {
        let prompt = self.prompt.trim();
        let chars = prompt.chars().count();
        if chars == 0 {
            return Err(Error::invalid("prompt", "must not be empty"));
        }
        if chars > limits::PROMPT_CHARS {
            return Err(Error::invalid(
                "prompt",
                format!(
                    "is {chars} characters; the limit is {}",
                    limits::PROMPT_CHARS
                ),
            ));
        }
        let sides = crate::frame::Sides {
            min: limits::MIN_SIDE,
            max: limits::MAX_SIDE,
            step: limits::SIDE_STEP,
        };
        let (width, height) = crate::frame::size(
            self.width,
            self.height,
            self.aspect_ratio.as_deref(),
            sides,
            "",
        )?;
        let clean = |s: &Option<String>, field: &str| -> Result<Option<String>> {
            match s.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                Some(s) if s.chars().count() > limits::TEXT_CHARS => Err(Error::invalid(
                    field,
                    format!("is longer than {} characters", limits::TEXT_CHARS),
                )),
                other => Ok(other.map(str::to_owned)),
            }
        };
        Ok(ImageRequest {
            prompt: prompt.to_owned(),
            width,
            height,
            seed: self.seed,
            negative_prompt: clean(&self.negative_prompt, "negative_prompt")?,
            style: clean(&self.style, "style")?,
            caption: self.caption.unwrap_or(false),
        })
    }
}

/// What an engine returns: encoded image bytes (PNG, JPEG or WebP).
#[derive(Clone, Debug)]
pub struct GeneratedImage {
    pub bytes: Vec<u8>,
    pub model: Option<String>,
    /// The subjects the engine drew (the built-in engine; others don't say).
    pub subjects: Option<Vec<String>>,
}

#[async_trait::async_trait]
pub trait ImageProvider: Send + Sync + std::fmt::Debug {
    fn name(&self) -> &str;
    async fn generate(&self, req: &ImageRequest) -> Result<GeneratedImage>;
}

/// The configured image engines: `builtin` always, plus the configured one.
#[derive(Clone, Debug)]
pub struct ImageTool {
    default: String,
    providers: BTreeMap<String, Arc<dyn ImageProvider>>,
}

impl ImageTool {
    pub fn from_config(config: &Config) -> Result<Self> {
        let c = &config.image;
        let timeout = config.provider_timeout();
        let mut providers: BTreeMap<String, Arc<dyn ImageProvider>> = BTreeMap::new();
        providers.insert("builtin".into(), Arc::new(builtin::BuiltinImages));
        let configured: Option<Arc<dyn ImageProvider>> = match c.provider.as_str() {
            "builtin" => None,
            "openai" => Some(Arc::new(openai::OpenAiImages::new(c, timeout))),
            "automatic1111" => Some(Arc::new(automatic1111::Automatic1111::new(c, timeout))),
            "imagen" => Some(Arc::new(imagen::Imagen::new(c, timeout)?)),
            other => {
                return Err(Error::Internal(format!(
                    "STUDIO_IMAGE_PROVIDER={other:?} is not one of builtin, openai, automatic1111, imagen"
                )));
            }
        };
        if let Some(p) = configured {
            providers.insert(p.name().to_owned(), p);
        }
        Ok(Self {
            default: c.provider.clone(),
            providers,
        })
    }

    pub fn provider_names(&self) -> Vec<String> {
        self.providers.keys().cloned().collect()
    }

    fn provider(&self, name: Option<&str>) -> Result<Arc<dyn ImageProvider>> {
        let name = name
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or(&self.default);
        self.providers.get(name).cloned().ok_or_else(|| {
            Error::invalid(
                "provider",
                format!(
                    "{name:?} is not configured; available: {}",
                    self.provider_names().join(", ")
                ),
            )
        })
    }

    /// Validates, generates, checks the bytes are an image, stores the asset
    /// (marked as made by `job`, when a job makes it).
    pub async fn generate(
        &self,
        store: &Store,
        session: &SessionId,
        params: &ImageParams,
        job: Option<&str>,
    ) -> Result<Asset> {
        let req = params.validate()?;
        let provider = self.provider(params.provider.as_deref())?;
        let since = store.session_since(session).await?;
        let image = provider.generate(&req).await?;
        let format = image::guess_format(&image.bytes)
            .map_err(|_| Error::provider(provider.name(), "the answer is not an image"))?;
        let (ext, mime) = match format {
            image::ImageFormat::Png => ("png", "image/png"),
            image::ImageFormat::Jpeg => ("jpg", "image/jpeg"),
            image::ImageFormat::WebP => ("webp", "image/webp"),
            other => {
                return Err(Error::provider(
                    provider.name(),
                    format!("unsupported image format {other:?}"),
                ));
            }
        };
        let (width, height) =
            image::ImageReader::with_format(std::io::Cursor::new(&image.bytes), format)
                .into_dimensions()
                .map_err(|e| {
                    Error::provider(provider.name(), format!("the image does not decode: {e}"))
                })?;
        let mut metadata = json!({
            "prompt": req.prompt,
            "width": width,
            "height": height,
            "provider": provider.name(),
            "model": image.model,
            "seed": req.seed,
            "negative_prompt": req.negative_prompt,
            "style": req.style,
            "caption": req.caption,
        });
        if let Some(subjects) = image.subjects {
            metadata["subjects"] = json!(subjects);
        }
        let new = NewAsset {
            kind: AssetKind::Image,
            ext: ext.into(),
            mime_type: mime.into(),
            source: "image".into(),
            metadata,
            job: job.map(str::to_owned),
        };
        store
            .put_asset(session, since, new, image.bytes.into())
            .await
    }
}

/// Decodes a base64 image from a provider's JSON answer.
pub(crate) fn decode_base64(provider: &str, data: &str) -> Result<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|e| Error::provider(provider, format!("the image is not valid base64: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(prompt: &str) -> ImageParams {
        ImageParams {
            prompt: prompt.into(),
            ..Default::default()
        }
    }

    #[test]
    fn sizes_and_ratios() {
        let r = params("x").validate().unwrap();
        assert_eq!((r.width, r.height), (1920, 1080));
        assert_eq!(r.aspect_ratio(), "16:9");
        let r = ImageParams {
            aspect_ratio: Some("9:16".into()),
            ..params("x")
        }
        .validate()
        .unwrap();
        assert_eq!((r.width, r.height), (1080, 1920));
        let r = ImageParams {
            width: Some(640),
            height: Some(480),
            ..params("x")
        }
        .validate()
        .unwrap();
        assert_eq!(
            (r.width, r.height, r.aspect_ratio().as_str()),
            (640, 480, "4:3")
        );
    }

    #[test]
    fn bad_values_name_their_field() {
        let cases = [
            (params("   "), "prompt"),
            (params(&"x".repeat(4001)), "prompt"),
            (
                ImageParams {
                    width: Some(100),
                    height: Some(64),
                    ..params("x")
                },
                "width",
            ),
            (
                ImageParams {
                    width: Some(64),
                    height: Some(8192),
                    ..params("x")
                },
                "height",
            ),
            (
                ImageParams {
                    width: Some(64),
                    ..params("x")
                },
                "height",
            ),
            (
                ImageParams {
                    aspect_ratio: Some("2:1".into()),
                    ..params("x")
                },
                "aspect_ratio",
            ),
        ];
        for (p, field) in cases {
            assert_eq!(p.validate().unwrap_err().field(), Some(field), "{p:?}");
        }
        assert_eq!(
            params(&"é".repeat(4000))
                .validate()
                .unwrap()
                .prompt
                .chars()
                .count(),
            4000
        );
    }
}
