//! Google Cloud Text-to-Speech REST `text:synthesize`: the voice name passes
//! through, rate and pitch go in `audioConfig`, audio comes back as base64
//! LINEAR16 (WAV), one request per chunk of at most 4500 bytes.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use super::voices::{GoogleVoice, Voice, common_voices};
use super::{Chunk, SpeechProvider, SpeechRequest, Synthesis, chunk_text};
use crate::config::SpeechConfig;
use crate::error::{Error, Result};
use crate::tools::http::{ProviderClient, base_url};
use crate::tools::image::decode_base64;

pub const DEFAULT_BASE_URL: &str = "https://texttospeech.googleapis.com";
const MAX_CHUNK_BYTES: usize = 4500;

#[derive(Debug)]
pub struct GoogleTts {
    http: ProviderClient,
    base_url: String,
    api_key: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    audio_content: String,
}

impl GoogleTts {
    pub fn new(c: &SpeechConfig, timeout: Duration) -> Result<Self> {
        let api_key = c.api_key.clone().filter(|k| !k.is_empty()).ok_or_else(|| {
            Error::Internal("the google speech provider needs STUDIO_SPEECH_API_KEY".into())
        })?;
        Ok(Self {
            http: ProviderClient::new("google", timeout),
            base_url: base_url(c.base_url.as_deref(), DEFAULT_BASE_URL),
            api_key,
        })
    }
}

#[async_trait::async_trait]
impl SpeechProvider for GoogleTts {
    fn name(&self) -> &str {
        "google"
    }

    async fn voices(&self) -> Vec<Voice> {
        common_voices(self.name(), |_| true)
    }

    async fn resolve(&self, name: &str) -> Option<String> {
        GoogleVoice::parse(name).map(|_| name.to_owned())
    }

    async fn synthesize(
        &self,
        req: &SpeechRequest,
        voice: &str,
        workdir: &Path,
    ) -> Result<Synthesis> {
        let language = GoogleVoice::parse(voice)
            .map(|g| g.language_code())
            .unwrap_or_default();
        let url = format!("{}/v1/text:synthesize", self.base_url);
        let mut chunks = Vec::new();
        for (i, text) in chunk_text(&req.text, MAX_CHUNK_BYTES)
            .into_iter()
            .enumerate()
        {
            let body = json!({
                "input": { "text": text },
                "voice": { "languageCode": language, "name": voice },
                "audioConfig": {
                    "audioEncoding": "LINEAR16",
                    "speakingRate": req.speaking_rate,
                    "pitch": req.pitch,
                },
            });
            let answer: Answer = self
                .http
                .json(|c| {
                    c.post(&url)
                        .header("x-goog-api-key", &self.api_key)
                        .json(&body)
                })
                .await?;
            let path = workdir.join(format!("chunk-{i:04}.wav"));
            tokio::fs::write(&path, decode_base64(self.name(), &answer.audio_content)?).await?;
            chunks.push(Chunk { text, path });
        }
        Ok(Synthesis {
            chunks,
            engine_voice: voice.to_owned(),
            model: None,
            tempo: 1.0,
        })
    }
}
