//! hibari, the second natural offline voice: an American female voice
//! (`heart`, distilled from Kokoro-82M) that the `hibari-tts` wheel carries
//! (Apache-2.0), run as a program (`hibari TEXT -o OUT.wav`) from its own
//! virtual environment (`.tools/hibari`, made by `scripts/setup.sh`). Female
//! Google-style names (`en-US-*-C/E/F/G/H`, `en-GB-*-A/C/F`) speak with it.
//! Its other voices download from a model hub on first use, which this
//! studio does not rely on: only `heart` is offered.

use std::path::{Path, PathBuf};

use super::voices::{Gender, GoogleVoice, Voice};
use super::{Chunk, SpeechProvider, SpeechRequest, Synthesis, short_sentences};
use crate::error::{Error, Result};

/// The one voice inside the wheel.
pub const VOICE: &str = "heart";

#[derive(Debug)]
pub struct Hibari {
    bin: PathBuf,
}

impl Hibari {
    /// Finds the program (`bin`, default `.tools/hibari/bin/hibari`); `None`
    /// when it is not installed.
    pub fn discover(bin: Option<&Path>) -> Option<Self> {
        let bin = bin
            .map(Path::to_owned)
            .unwrap_or_else(|| PathBuf::from(".tools/hibari/bin/hibari"));
        if bin.is_file() {
            Some(Self { bin })
        } else {
            tracing::info!(bin = %bin.display(), "hibari (the female offline voice) is not installed");
            None
        }
    }

    /// Whether a voice name is one this engine speaks.
    fn speaks(name: &str) -> bool {
        if name == VOICE {
            return true;
        }
        let Some(google) = GoogleVoice::parse(name) else {
            return false;
        };
        match (google.language.as_str(), google.region.as_str()) {
            ("en", "US") => "CEFGH".contains(google.letter),
            ("en", "GB") => "ACF".contains(google.letter),
            _ => false,
        }
    }
}

#[async_trait::async_trait]
impl SpeechProvider for Hibari {
    fn name(&self) -> &str {
        "hibari"
    }

    async fn voices(&self) -> Vec<Voice> {
        vec![Voice {
            name: VOICE.into(),
            language_code: "en-US".into(),
            gender: Some(Gender::Female),
            provider: self.name().into(),
        }]
    }

    async fn resolve(&self, name: &str) -> Option<String> {
        Self::speaks(name).then(|| VOICE.to_owned())
    }

    async fn synthesize(
        &self,
        req: &SpeechRequest,
        _voice: &str,
        workdir: &Path,
    ) -> Result<Synthesis> {
        let mut chunks = Vec::new();
        for (i, text) in short_sentences(&req.text, super::NEURAL_PIECE_CHARS)
            .into_iter()
            .enumerate()
        {
            let path = workdir.join(format!("sentence-{i:04}.wav"));
            let output = crate::process::program(&self.bin)
                .arg(&text)
                .arg("-o")
                .arg(&path)
                .args(["--speed", &format!("{:.3}", req.speaking_rate)])
                // The same text always sounds the same.
                .args(["--seed", "1", "--voice", VOICE])
                .env("HF_HUB_OFFLINE", "1")
                .output()
                .await
                .map_err(|e| Error::Unavailable(format!("cannot run hibari: {e}")))?;
            if !output.status.success() || !path.is_file() {
                return Err(Error::Internal(format!(
                    "hibari failed: {}",
                    crate::process::tail(&output.stderr, 3)
                )));
            }
            chunks.push(Chunk { text, path });
        }
        Ok(Synthesis {
            chunks,
            engine_voice: VOICE.into(),
            model: Some("hibari-tts (Kokoro-82M, heart)".into()),
            tempo: 1.0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn female_names_speak_with_heart() {
        for name in [
            "en-US-Neural2-F",
            "en-US-Wavenet-C",
            "en-GB-Neural2-A",
            "heart",
        ] {
            assert!(Hibari::speaks(name), "{name}");
        }
        for name in [
            "en-US-Neural2-D",
            "en-GB-Neural2-B",
            "de-DE-Neural2-F",
            "amy",
        ] {
            assert!(!Hibari::speaks(name), "{name}");
        }
    }
}
