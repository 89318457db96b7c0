//! OpenAI-compatible `POST /v1/audio/speech` (OpenAI and compatible local
//! servers), through the project's one OpenAI client. Google-style names map
//! to this provider's voices as documented in [`super::voices::openai_voice`].

use std::path::Path;
use std::time::Duration;

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::types::audio::{
    CreateSpeechRequest, SpeechModel, SpeechResponseFormat, Voice as OpenAiVoice,
};

use super::voices::{Voice, common_voices, openai_voice};
use super::{Chunk, SpeechProvider, SpeechRequest, Synthesis, chunk_text};
use crate::config::SpeechConfig;
use crate::error::{Error, Result};
use crate::tools::openai::{client, map_error};

pub const DEFAULT_MODEL: &str = "gpt-4o-mini-tts";
const MAX_CHUNK_BYTES: usize = 4000;

#[derive(Debug)]
pub struct OpenAiSpeech {
    client: Client<OpenAIConfig>,
    model: String,
}

impl OpenAiSpeech {
    pub fn new(c: &SpeechConfig, timeout: Duration) -> Self {
        Self {
            client: client(c.base_url.as_deref(), c.api_key.as_deref(), timeout),
            model: c.model.clone().unwrap_or_else(|| DEFAULT_MODEL.into()),
        }
    }
}

#[async_trait::async_trait]
impl SpeechProvider for OpenAiSpeech {
    fn name(&self) -> &str {
        "openai"
    }

    async fn voices(&self) -> Vec<Voice> {
        common_voices(self.name(), |_| true)
    }

    async fn resolve(&self, name: &str) -> Option<String> {
        openai_voice(name).map(str::to_owned)
    }

    async fn synthesize(
        &self,
        req: &SpeechRequest,
        voice: &str,
        workdir: &Path,
    ) -> Result<Synthesis> {
        let mut chunks = Vec::new();
        for (i, text) in chunk_text(&req.text, MAX_CHUNK_BYTES)
            .into_iter()
            .enumerate()
        {
            let request = CreateSpeechRequest {
                input: text.clone(),
                model: SpeechModel::Other(self.model.clone()),
                voice: OpenAiVoice::Other(voice.to_owned()),
                response_format: Some(SpeechResponseFormat::Wav),
                speed: Some(req.speaking_rate as f32),
                ..Default::default()
            };
            let answer = self
                .client
                .audio()
                .speech()
                .create(request)
                .await
                .map_err(|e| map_error(self.name(), e))?;
            if answer.bytes.is_empty() {
                return Err(Error::provider(self.name(), "answered with no audio"));
            }
            let path = workdir.join(format!("chunk-{i:04}.wav"));
            tokio::fs::write(&path, &answer.bytes).await?;
            chunks.push(Chunk { text, path });
        }
        Ok(Synthesis {
            chunks,
            engine_voice: voice.to_owned(),
            model: Some(self.model.clone()),
            tempo: 1.0,
        })
    }
}
