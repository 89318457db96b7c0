//! The built-in offline voice: the `espeak-ng` program, one run per sentence
//! (a few at a time), text on standard input so that no text can ever be read
//! as an option.

use std::path::Path;
use std::process::Stdio;

use futures::{StreamExt, TryStreamExt};
use tokio::io::AsyncWriteExt;
use tokio::sync::OnceCell;

use super::voices::{Gender, GoogleVoice, Voice, common_voices};
use super::{Chunk, SpeechProvider, SpeechRequest, Synthesis, sentences};
use crate::error::{Error, Result};

/// espeak-ng's normal speed, words per minute, and its accepted range.
const BASE_WPM: f64 = 175.0;
const MIN_WPM: f64 = 80.0;
const MAX_WPM: f64 = 450.0;

#[derive(Debug, Default)]
pub struct Espeak {
    /// espeak-ng's language voices (`en-us`, `de`, `fr-fr` ...), read once.
    languages: OnceCell<Vec<String>>,
}

impl Espeak {
    async fn languages(&self) -> &[String] {
        self.languages
            .get_or_init(|| async {
                let out = crate::process::program("espeak-ng")
                    .arg("--voices")
                    .output()
                    .await;
                match out {
                    Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout)
                        .lines()
                        .skip(1)
                        .filter_map(|l| l.split_whitespace().nth(1).map(str::to_owned))
                        // A code in capitals (chr-US-Qaaa-x-west) is listed
                        // but not accepted by `-v`.
                        .filter(|l| !l.chars().any(|c| c.is_ascii_uppercase()))
                        .collect(),
                    _ => {
                        tracing::warn!(
                            "espeak-ng is not installed: the built-in voice is unavailable"
                        );
                        Vec::new()
                    }
                }
            })
            .await
    }

    /// The espeak-ng language for `en-US`: `en-us`, else `en`, else any `en-*`.
    fn language_for(languages: &[String], language: &str, region: &str) -> Option<String> {
        let full = format!("{language}-{}", region.to_ascii_lowercase());
        [full.as_str(), language]
            .into_iter()
            .find_map(|want| languages.iter().find(|l| *l == want))
            .or_else(|| {
                languages
                    .iter()
                    .find(|l| l.starts_with(&format!("{language}-")))
            })
            .cloned()
    }

    /// espeak-ng's speed and pitch for the request, and what tempo change is
    /// left for ffmpeg when the rate is beyond espeak-ng's range.
    pub fn speed_and_pitch(req: &SpeechRequest) -> (u32, u32, f64) {
        let wanted = BASE_WPM * req.speaking_rate;
        let wpm = wanted.clamp(MIN_WPM, MAX_WPM);
        let pitch = (50.0 + req.pitch * 2.5).clamp(0.0, 99.0);
        (wpm.round() as u32, pitch.round() as u32, wanted / wpm)
    }
}

#[async_trait::async_trait]
impl SpeechProvider for Espeak {
    fn name(&self) -> &str {
        "builtin"
    }

    async fn voices(&self) -> Vec<Voice> {
        let languages = self.languages().await;
        if languages.is_empty() {
            return Vec::new();
        }
        let mut voices = common_voices(self.name(), |g| {
            Self::language_for(languages, &g.language, &g.region).is_some()
        });
        voices.extend(languages.iter().map(|l| Voice {
            name: l.clone(),
            language_code: l.clone(),
            gender: None,
            provider: self.name().into(),
        }));
        voices
    }

    async fn resolve(&self, name: &str) -> Option<String> {
        let languages = self.languages().await;
        if let Some(g) = GoogleVoice::parse(name) {
            let language = Self::language_for(languages, &g.language, &g.region)?;
            let variant = match g.gender() {
                Some(Gender::Female) => "+f3",
                Some(Gender::Male) => "+m3",
                None => "",
            };
            return Some(format!("{language}{variant}"));
        }
        languages.iter().find(|l| *l == name).cloned()
    }

    async fn synthesize(
        &self,
        req: &SpeechRequest,
        voice: &str,
        workdir: &Path,
    ) -> Result<Synthesis> {
        let (wpm, pitch, tempo) = Self::speed_and_pitch(req);
        let texts = sentences(&req.text);
        let chunks: Vec<Chunk> = futures::stream::iter(texts.into_iter().enumerate())
            .map(|(i, text)| async move {
                let path = workdir.join(format!("sentence-{i:04}.wav"));
                speak(voice, wpm, pitch, &text, &path).await?;
                Ok::<_, Error>(Chunk { text, path })
            })
            .buffered(4)
            .try_collect()
            .await?;
        Ok(Synthesis {
            chunks,
            engine_voice: voice.to_owned(),
            model: None,
            tempo,
        })
    }
}

/// One espeak-ng run: `text` on stdin, a WAV file out.
async fn speak(voice: &str, wpm: u32, pitch: u32, text: &str, out: &Path) -> Result<()> {
    let mut child = crate::process::program("espeak-ng")
        .args([
            "-v",
            voice,
            "-s",
            &wpm.to_string(),
            "-p",
            &pitch.to_string(),
            "--stdin",
            "-w",
        ])
        .arg(out)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            Error::Unavailable(format!("cannot run espeak-ng (install espeak-ng): {e}"))
        })?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    stdin.write_all(text.as_bytes()).await?;
    drop(stdin);
    let output = child.wait_with_output().await?;
    if !output.status.success() {
        let said = crate::process::tail(&output.stderr, 3);
        if said.contains("voice does not exist") {
            return Err(Error::UnknownVoice(format!(
                "espeak-ng has no voice {voice:?}; see GET /api/v1/voices"
            )));
        }
        return Err(Error::Internal(format!("espeak-ng failed: {said}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::speech::AudioFormat;

    #[test]
    fn maps_languages() {
        let langs: Vec<String> = ["en-gb", "en-us", "de", "fr-fr", "es", "pt-br"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            Espeak::language_for(&langs, "en", "US").as_deref(),
            Some("en-us")
        );
        assert_eq!(
            Espeak::language_for(&langs, "en", "GB").as_deref(),
            Some("en-gb")
        );
        assert_eq!(
            Espeak::language_for(&langs, "en", "AU").as_deref(),
            Some("en-gb")
        );
        assert_eq!(
            Espeak::language_for(&langs, "de", "DE").as_deref(),
            Some("de")
        );
        assert_eq!(
            Espeak::language_for(&langs, "fr", "CA").as_deref(),
            Some("fr-fr")
        );
        assert_eq!(Espeak::language_for(&langs, "xx", "YY"), None);
    }

    #[test]
    fn rates_beyond_espeak_are_left_to_ffmpeg() {
        let req = |rate: f64, pitch: f64| SpeechRequest {
            text: "x".into(),
            voice_name: "v".into(),
            format: AudioFormat::Mp3,
            speaking_rate: rate,
            pitch,
        };
        assert_eq!(Espeak::speed_and_pitch(&req(1.0, 0.0)), (175, 50, 1.0));
        let (wpm, _, tempo) = Espeak::speed_and_pitch(&req(0.25, 0.0));
        assert_eq!(wpm, 80);
        assert!((tempo - 43.75 / 80.0).abs() < 1e-9);
        assert_eq!(Espeak::speed_and_pitch(&req(1.0, 20.0)).1, 99);
        assert_eq!(Espeak::speed_and_pitch(&req(1.0, -20.0)).1, 0);
    }
}
