//! OpenAI-compatible `POST /v1/images/generations` (OpenAI and compatible
//! local servers), asking for `b64_json`.

use std::time::Duration;

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::types::images::{
    CreateImageRequest, Image, ImageModel, ImageResponseFormat, ImageSize,
};

use super::{GeneratedImage, ImageProvider, ImageRequest, decode_base64};
use crate::config::ImageConfig;
use crate::error::{Error, Result};
use crate::tools::openai::{client, map_error};

pub const DEFAULT_MODEL: &str = "gpt-image-1";

#[derive(Debug)]
pub struct OpenAiImages {
    client: Client<OpenAIConfig>,
    model: String,
}

impl OpenAiImages {
    pub fn new(c: &ImageConfig, timeout: Duration) -> Self {
        Self {
            client: client(c.base_url.as_deref(), c.api_key.as_deref(), timeout),
            model: c.model.clone().unwrap_or_else(|| DEFAULT_MODEL.into()),
        }
    }

    /// OpenAI's own models take a few fixed sizes; other servers get the
    /// exact size asked for.
    fn size(&self, req: &ImageRequest) -> ImageSize {
        let landscape = req.width > req.height;
        let portrait = req.height > req.width;
        match self.model.as_str() {
            m if m.starts_with("dall-e-3") => match (landscape, portrait) {
                (true, _) => ImageSize::S1792x1024,
                (_, true) => ImageSize::S1024x1792,
                _ => ImageSize::S1024x1024,
            },
            m if m.starts_with("gpt-image") => match (landscape, portrait) {
                (true, _) => ImageSize::S1536x1024,
                (_, true) => ImageSize::S1024x1536,
                _ => ImageSize::S1024x1024,
            },
            _ => ImageSize::Other(format!("{}x{}", req.width, req.height)),
        }
    }
}

#[async_trait::async_trait]
impl ImageProvider for OpenAiImages {
    fn name(&self) -> &str {
        "openai"
    }

    async fn generate(&self, req: &ImageRequest) -> Result<GeneratedImage> {
        let mut prompt = req.full_prompt();
        if let Some(negative) = &req.negative_prompt {
            prompt.push_str(&format!(". Avoid: {negative}"));
        }
        // `response_format` is deprecated for OpenAI's GPT image models (they
        // always answer in base64) but compatible servers still need it.
        #[allow(deprecated)]
        let request = CreateImageRequest {
            prompt,
            model: ImageModel::Other(self.model.clone()),
            n: Some(1),
            size: Some(self.size(req)),
            response_format: (!self.model.starts_with("gpt-image"))
                .then_some(ImageResponseFormat::B64Json),
            ..Default::default()
        };
        let answer = self
            .client
            .images()
            .generate(request)
            .await
            .map_err(|e| map_error(self.name(), e))?;
        match answer.data.first().map(|i| i.as_ref()) {
            Some(Image::B64Json { b64_json, .. }) => Ok(GeneratedImage {
                bytes: decode_base64(self.name(), b64_json)?,
                model: Some(self.model.clone()),
                subjects: None,
            }),
            Some(Image::Url { .. }) => Err(Error::provider(
                self.name(),
                "answered with a URL instead of b64_json",
            )),
            None => Err(Error::provider(self.name(), "answered with no image")),
        }
    }
}
