//! Automatic1111 / Forge `POST /sdapi/v1/txt2img`: the local Stable Diffusion standard.

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use super::{GeneratedImage, ImageProvider, ImageRequest, decode_base64};
use crate::config::ImageConfig;
use crate::error::{Error, Result};
use crate::tools::http::{ProviderClient, base_url};

pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:7860";

#[derive(Debug)]
pub struct Automatic1111 {
    http: ProviderClient,
    base_url: String,
    model: Option<String>,
}

#[derive(Deserialize)]
struct Answer {
    images: Vec<String>,
}

impl Automatic1111 {
    pub fn new(c: &ImageConfig, timeout: Duration) -> Self {
        Self {
            http: ProviderClient::new("automatic1111", timeout),
            base_url: base_url(c.base_url.as_deref(), DEFAULT_BASE_URL),
            model: c.model.clone(),
        }
    }

    pub fn with_client(mut self, http: ProviderClient) -> Self {
        self.http = http;
        self
    }
}

#[async_trait::async_trait]
impl ImageProvider for Automatic1111 {
    fn name(&self) -> &str {
        "automatic1111"
    }

    async fn generate(&self, req: &ImageRequest) -> Result<GeneratedImage> {
        let mut body = json!({
            "prompt": req.full_prompt(),
            "negative_prompt": req.negative_prompt.clone().unwrap_or_default(),
            "seed": req.seed.map_or(-1, |s| (s % (1 << 32)) as i64),
            "steps": 25,
            "cfg_scale": 7,
            "width": req.width,
            "height": req.height,
            "sampler_name": "Euler a",
            "batch_size": 1,
        });
        if let Some(model) = &self.model {
            body["override_settings"] = json!({ "sd_model_checkpoint": model });
        }
        let url = format!("{}/sdapi/v1/txt2img", self.base_url);
        let answer: Answer = self.http.json(|c| c.post(&url).json(&body)).await?;
        let first = answer
            .images
            .first()
            .ok_or_else(|| Error::provider(self.name(), "answered with no image"))?;
        Ok(GeneratedImage {
            bytes: decode_base64(self.name(), first)?,
            model: self.model.clone(),
            subjects: None,
        })
    }
}
