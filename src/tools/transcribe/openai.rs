//! Any OpenAI-compatible `POST /v1/audio/transcriptions` (OpenAI's
//! `whisper-1`, a self-hosted faster-whisper or whisper.cpp server), asked
//! for `verbose_json` with word timestamps, through the one OpenAI client.
//! Its language is whatever the server knows; `language` is passed on when
//! the request names one, else the server detects it.

use std::path::Path;

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::types::audio::{
    AudioInput, AudioResponseFormat, CreateTranscriptionRequest, TimestampGranularity,
};
use serde::Deserialize;

use super::{Heard, Recognizer, TranscriptWord};
use crate::config::TranscribeConfig;
use crate::error::{Error, Result};

#[derive(Debug)]
pub struct OpenAiTranscriber {
    client: Client<OpenAIConfig>,
    model: String,
}

/// The answer, as loosely as servers give it (`usage`, `duration` and even
/// `words` are missing from some).
#[derive(Deserialize)]
struct Verbose {
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    words: Option<Vec<Word>>,
}

#[derive(Deserialize)]
struct Word {
    word: String,
    start: f64,
    end: f64,
}

impl OpenAiTranscriber {
    pub fn new(c: &TranscribeConfig, timeout: std::time::Duration) -> Self {
        Self {
            client: crate::tools::openai::client(
                c.base_url.as_deref(),
                c.api_key.as_deref(),
                timeout,
            ),
            model: c.model.clone(),
        }
    }
}

/// An ISO 639-1 code for what a server calls the language (`english`, `en`).
fn language_code(said: &str) -> Option<String> {
    let said = said.trim().to_ascii_lowercase();
    if said.len() == 2 {
        return Some(said);
    }
    const NAMES: &[(&str, &str)] = &[
        ("english", "en"),
        ("german", "de"),
        ("french", "fr"),
        ("spanish", "es"),
        ("italian", "it"),
        ("portuguese", "pt"),
        ("dutch", "nl"),
        ("japanese", "ja"),
        ("chinese", "zh"),
    ];
    NAMES
        .iter()
        .find(|(name, _)| *name == said)
        .map(|(_, code)| (*code).to_owned())
}

#[async_trait::async_trait]
impl Recognizer for OpenAiTranscriber {
    async fn recognize(&self, wav: &Path, language: Option<&str>) -> Result<Heard> {
        let bytes = tokio::fs::read(wav).await?;
        let request = CreateTranscriptionRequest {
            file: AudioInput::from_vec_u8("audio.wav".into(), bytes),
            model: self.model.clone(),
            language: language.map(str::to_owned),
            response_format: Some(AudioResponseFormat::VerboseJson),
            timestamp_granularities: Some(vec![TimestampGranularity::Word]),
            ..Default::default()
        };
        let answer: Verbose = self
            .client
            .audio()
            .transcription()
            .create_verbose_json_byot(request)
            .await
            .map_err(|e| crate::tools::openai::map_error("openai", e))?;
        let words = answer.words.ok_or_else(|| {
            Error::provider("openai", "the answer has no word timestamps (verbose_json with timestamp_granularities[]=word)")
        })?;
        Ok(Heard {
            language: answer.language.as_deref().and_then(language_code),
            words: words
                .into_iter()
                .map(|w| TranscriptWord {
                    text: w.word.trim().to_owned(),
                    start: w.start,
                    end: w.end,
                    confidence: None,
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_come_back_as_codes() {
        assert_eq!(language_code("english").as_deref(), Some("en"));
        assert_eq!(language_code("DE").as_deref(), Some("de"));
        assert_eq!(language_code("klingon"), None);
    }
}
