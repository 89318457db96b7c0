//! Google Imagen through the Gemini API: `POST {base}/models/{model}:predict`.

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use super::{GeneratedImage, ImageProvider, ImageRequest, decode_base64};
use crate::config::ImageConfig;
use crate::error::{Error, Result};
use crate::tools::http::{ProviderClient, base_url};

pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com/v1beta";
pub const DEFAULT_MODEL: &str = "imagen-4.0-fast-generate-001";

#[derive(Debug)]
pub struct Imagen {
    http: ProviderClient,
    base_url: String,
    model: String,
    api_key: String,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    predictions: Vec<Prediction>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Prediction {
    bytes_base64_encoded: Option<String>,
}

impl Imagen {
    pub fn new(c: &ImageConfig, timeout: Duration) -> Result<Self> {
        let api_key = c.api_key.clone().filter(|k| !k.is_empty()).ok_or_else(|| {
            Error::Internal(
                "the imagen provider needs STUDIO_IMAGE_API_KEY (a Gemini API key)".into(),
            )
        })?;
        Ok(Self {
            http: ProviderClient::new("imagen", timeout),
            base_url: base_url(c.base_url.as_deref(), DEFAULT_BASE_URL),
            model: c.model.clone().unwrap_or_else(|| DEFAULT_MODEL.into()),
            api_key,
        })
    }

    pub fn with_client(mut self, http: ProviderClient) -> Self {
        self.http = http;
        self
    }

    /// Imagen takes 1:1, 3:4, 4:3, 9:16 and 16:9; other shapes get the nearest.
    fn aspect_ratio(req: &ImageRequest) -> &'static str {
        let r = req.width as f32 / req.height as f32;
        [
            ("1:1", 1.0),
            ("3:4", 0.75),
            ("4:3", 4.0 / 3.0),
            ("9:16", 9.0 / 16.0),
            ("16:9", 16.0 / 9.0),
        ]
        .into_iter()
        .min_by(|a, b| (a.1 - r).abs().total_cmp(&(b.1 - r).abs()))
        .map_or("16:9", |(name, _)| name)
    }
}

#[async_trait::async_trait]
impl ImageProvider for Imagen {
    fn name(&self) -> &str {
        "imagen"
    }

    async fn generate(&self, req: &ImageRequest) -> Result<GeneratedImage> {
        let mut parameters = json!({ "sampleCount": 1, "aspectRatio": Self::aspect_ratio(req) });
        if let Some(negative) = &req.negative_prompt {
            parameters["negativePrompt"] = json!(negative);
        }
        let body =
            json!({ "instances": [{ "prompt": req.full_prompt() }], "parameters": parameters });
        let url = format!("{}/models/{}:predict", self.base_url, self.model);
        let answer: Answer = self
            .http
            .json(|c| {
                c.post(&url)
                    .header("x-goog-api-key", &self.api_key)
                    .json(&body)
            })
            .await?;
        let data = answer
            .predictions
            .into_iter()
            .find_map(|p| p.bytes_base64_encoded)
            .ok_or_else(|| {
                Error::provider(
                    self.name(),
                    "answered with no image (the prompt may have been filtered)",
                )
            })?;
        Ok(GeneratedImage {
            bytes: decode_base64(self.name(), &data)?,
            model: Some(self.model.clone()),
            subjects: None,
        })
    }
}
