//! The voice-over tool: text and a voice name in, a stored `audio` asset out,
//! with the start and end of each sentence (or provider chunk) in
//! `metadata.segments` for captions.
//!
//! Providers only turn text chunks into audio files: the built-in espeak-ng
//! engine ([`espeak`]), Google Cloud Text-to-Speech ([`google`]) and
//! OpenAI-compatible speech ([`openai`]). What follows is shared: one ffmpeg
//! run joins the chunks with short pauses, applies any remaining tempo change,
//! normalises loudness and encodes the requested format; the duration is then
//! measured from the encoded file.

pub mod espeak;
pub mod google;
pub mod hibari;
pub mod openai;
pub mod piper;
pub mod voices;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

pub use voices::{Gender, Voice};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::ids::{AssetKind, SessionId};
use crate::media;
use crate::store::{Asset, NewAsset, Store};
pub use crate::text::{sentences, short_sentences};

/// The longest piece of text a neural voice (Piper, hibari) is given at once.
pub const NEURAL_PIECE_CHARS: usize = 240;

pub use crate::config::DEFAULT_VOICE;
/// Loudness every voice-over is normalised to (EBU R128 integrated, LUFS).
pub const VOICE_LUFS: f64 = -16.0;
/// Silence between sentences, in seconds.
pub const SENTENCE_GAP: f64 = 0.3;

/// Arguments of `synthesize_voiceover`: the HTTP body, the CLI's flags and
/// the agent's tool call are all this one type.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct SpeechParams {
    /// What to say (1–5000 characters).
    #[schema(example = "Hello, world!")]
    pub text: String,
    /// A Google-style name such as `en-US-Neural2-D` (works with every
    /// provider), or a provider's own voice; `GET /api/v1/voices` lists them.
    #[arg(long = "voice")]
    #[schema(example = "en-US-Neural2-D")]
    pub voice_name: Option<String>,
    /// `mp3` (default), `wav` or `ogg`.
    #[arg(long)]
    pub format: Option<String>,
    /// 0.25–4.0, default 1.0.
    #[arg(long)]
    pub speaking_rate: Option<f64>,
    /// −20 to 20 semitones, default 0.
    #[arg(long, allow_negative_numbers = true)]
    pub pitch: Option<f64>,
    /// Overrides the configured provider for this request.
    #[arg(long)]
    pub provider: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AudioFormat {
    Mp3,
    Wav,
    Ogg,
}

impl AudioFormat {
    pub fn ext(self) -> &'static str {
        match self {
            AudioFormat::Mp3 => "mp3",
            AudioFormat::Wav => "wav",
            AudioFormat::Ogg => "ogg",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            AudioFormat::Mp3 => "audio/mpeg",
            AudioFormat::Wav => "audio/wav",
            AudioFormat::Ogg => "audio/ogg",
        }
    }

    fn codec_args(self) -> &'static [&'static str] {
        match self {
            AudioFormat::Mp3 => &["-c:a", "libmp3lame", "-b:a", "128k"],
            AudioFormat::Wav => &["-c:a", "pcm_s16le"],
            AudioFormat::Ogg => &["-c:a", "libvorbis", "-q:a", "5"],
        }
    }
}

/// A validated request, as providers see it.
#[derive(Clone, Debug, PartialEq)]
pub struct SpeechRequest {
    pub text: String,
    pub voice_name: String,
    pub format: AudioFormat,
    pub speaking_rate: f64,
    pub pitch: f64,
}

/// What `SpeechParams` accepts: the validator below and the API document
/// (`api/openapi.rs`) both read these.
pub mod limits {
    pub const TEXT_CHARS: usize = 5000;
    pub const FORMATS: &[&str] = &["mp3", "wav", "ogg"];
    pub const SPEAKING_RATE: (f64, f64) = (0.25, 4.0);
    /// Semitones.
    pub const PITCH: (f64, f64) = (-20.0, 20.0);
    pub const VOICE_NAME_BYTES: usize = 100;
    /// The longest voice-over made at once, in seconds, as estimated from
    /// the text and the rate before anything is spoken.
    pub const SPOKEN_SECONDS: f64 = 900.0;
}

/// About how long `text` takes to say at `rate`: letters at about 14 a
/// second, digits about a third of a second each (long numbers are read
/// digit by digit), the rest a pause. An over-estimate for ordinary prose.
pub fn estimated_seconds(text: &str, rate: f64) -> f64 {
    let at_normal_speed: f64 = text
        .chars()
        .map(|c| {
            if c.is_ascii_digit() {
                0.35
            } else if c.is_alphabetic() {
                1.0 / 14.0
            } else {
                0.03
            }
        })
        .sum();
    at_normal_speed / rate.max(0.01)
}

impl SpeechParams {
    pub fn validate(&self, default_voice: &str) -> Result<SpeechRequest> {
        let text = self.text.trim();
        let chars = text.chars().count();
        if chars == 0 {
            return Err(Error::invalid("text", "must not be empty"));
        }
        if chars > limits::TEXT_CHARS {
            return Err(Error::invalid(
                "text",
                format!("is {chars} characters; the limit is {}", limits::TEXT_CHARS),
            ));
        }
        let format = match self.format.as_deref().map(str::trim).unwrap_or("mp3") {
            "mp3" => AudioFormat::Mp3,
            "wav" => AudioFormat::Wav,
            "ogg" => AudioFormat::Ogg,
            other => {
                return Err(Error::invalid(
                    "format",
                    format!("{other:?} is not one of mp3, wav, ogg"),
                ));
            }
        };
        let speaking_rate = self.speaking_rate.unwrap_or(1.0);
        let (slowest, fastest) = limits::SPEAKING_RATE;
        if !(slowest..=fastest).contains(&speaking_rate) {
            return Err(Error::invalid(
                "speaking_rate",
                "must be between 0.25 and 4.0",
            ));
        }
        let seconds = estimated_seconds(text, speaking_rate);
        if seconds > limits::SPOKEN_SECONDS {
            return Err(Error::invalid(
                "text",
                format!(
                    "would take about {:.0} minutes to say at this rate; a voice-over is limited to {:.0} minutes (split the text, or speak faster)",
                    seconds / 60.0,
                    limits::SPOKEN_SECONDS / 60.0
                ),
            ));
        }
        let pitch = self.pitch.unwrap_or(0.0);
        let (lowest, highest) = limits::PITCH;
        if !(lowest..=highest).contains(&pitch) {
            return Err(Error::invalid(
                "pitch",
                "must be between -20 and 20 semitones",
            ));
        }
        let voice_name = match self.voice_name.as_deref().map(str::trim) {
            None | Some("") => default_voice.to_owned(),
            Some(v) if v.len() > limits::VOICE_NAME_BYTES => {
                return Err(Error::invalid("voice_name", "is too long"));
            }
            Some(v) => v.to_owned(),
        };
        Ok(SpeechRequest {
            text: text.to_owned(),
            voice_name,
            format,
            speaking_rate,
            pitch,
        })
    }
}

/// One piece of text and the audio file a provider made of it.
#[derive(Clone, Debug)]
pub struct Chunk {
    pub text: String,
    pub path: PathBuf,
}

/// What a provider made: audio files in order, the voice that actually
/// spoke, and any tempo change it left for the shared step to apply.
#[derive(Clone, Debug)]
pub struct Synthesis {
    pub chunks: Vec<Chunk>,
    pub engine_voice: String,
    pub model: Option<String>,
    /// 1.0 when the provider applied the speaking rate itself.
    pub tempo: f64,
}

#[async_trait::async_trait]
pub trait SpeechProvider: Send + Sync + std::fmt::Debug {
    fn name(&self) -> &str;
    async fn voices(&self) -> Vec<Voice>;
    /// The provider's own voice for `name`, or `None` if it cannot speak it.
    async fn resolve(&self, name: &str) -> Option<String>;
    /// Speaks `req.text` with `voice` (from [`resolve`](Self::resolve)),
    /// writing audio files into `workdir`.
    async fn synthesize(
        &self,
        req: &SpeechRequest,
        voice: &str,
        workdir: &Path,
    ) -> Result<Synthesis>;
}

/// Groups sentences into chunks of at most `max_bytes` (providers' request
/// limits), splitting an over-long sentence at spaces.
pub fn chunk_text(text: &str, max_bytes: usize) -> Vec<String> {
    let mut chunks: Vec<String> = Vec::new();
    for sentence in sentences(text) {
        let pieces: Vec<String> = if sentence.len() <= max_bytes {
            vec![sentence]
        } else {
            let mut pieces = vec![String::new()];
            for word in sentence.split_whitespace() {
                let last = pieces.last_mut().expect("never empty");
                if !last.is_empty() && last.len() + 1 + word.len() > max_bytes {
                    pieces.push(word.to_owned());
                } else {
                    if !last.is_empty() {
                        last.push(' ');
                    }
                    last.push_str(word);
                }
            }
            pieces
        };
        for piece in pieces {
            match chunks.last_mut() {
                Some(last) if last.len() + 1 + piece.len() <= max_bytes => {
                    last.push(' ');
                    last.push_str(&piece);
                }
                _ => chunks.push(piece),
            }
        }
    }
    chunks
}

/// A sentence's place in the finished audio.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Segment {
    pub text: String,
    pub start: f64,
    pub end: f64,
}

/// Joins the chunks with pauses, applies `tempo`, normalises loudness and
/// encodes `format` into `out`. Returns where each chunk landed.
pub async fn assemble(
    chunks: &[Chunk],
    tempo: f64,
    format: AudioFormat,
    out: &Path,
) -> Result<Vec<Segment>> {
    if chunks.is_empty() {
        return Err(Error::invalid("text", "has nothing to say (no words)"));
    }
    let mut durations = Vec::with_capacity(chunks.len());
    for chunk in chunks {
        durations.push(media::audio_duration(&chunk.path).await?);
    }
    let mut args: Vec<OsString> = Vec::new();
    let mut graph = String::new();
    for (i, chunk) in chunks.iter().enumerate() {
        args.extend(media::input_args(&chunk.path));
        let pad = if i + 1 < chunks.len() {
            format!(",apad=pad_dur={SENTENCE_GAP}")
        } else {
            String::new()
        };
        graph.push_str(&format!(
            "[{i}:a]aresample=44100,aformat=sample_fmts=fltp:channel_layouts=mono{pad}[a{i}];"
        ));
    }
    for i in 0..chunks.len() {
        graph.push_str(&format!("[a{i}]"));
    }
    graph.push_str(&format!("concat=n={}:v=0:a=1", chunks.len()));
    for factor in atempo_chain(tempo) {
        graph.push_str(&format!(",atempo={factor:.6}"));
    }
    graph.push_str(&format!(
        ",loudnorm=I={VOICE_LUFS}:TP=-1.5:LRA=11,aresample=44100[out]"
    ));
    args.extend([
        "-filter_complex".into(),
        graph.into(),
        "-map".into(),
        "[out]".into(),
        "-ac".into(),
        "1".into(),
    ]);
    args.extend(format.codec_args().iter().map(OsString::from));
    args.push(out.as_os_str().to_owned());
    media::ffmpeg(&args).await?;

    let mut t = 0.0;
    let segments = chunks
        .iter()
        .zip(&durations)
        .map(|(chunk, d)| {
            let segment = Segment {
                text: chunk.text.clone(),
                start: round_ms(t / tempo),
                end: round_ms((t + d) / tempo),
            };
            t += d + SENTENCE_GAP;
            segment
        })
        .collect();
    Ok(segments)
}

/// ffmpeg's atempo takes 0.5–100 per stage; slower rates need a chain.
fn atempo_chain(mut tempo: f64) -> Vec<f64> {
    let mut chain = Vec::new();
    if (tempo - 1.0).abs() < 1e-6 {
        return chain;
    }
    while tempo < 0.5 {
        chain.push(0.5);
        tempo /= 0.5;
    }
    chain.push(tempo);
    chain
}

fn round_ms(t: f64) -> f64 {
    (t * 1000.0).round() / 1000.0
}

/// The configured speech engines: `builtin` always, plus the configured one.
#[derive(Clone, Debug)]
pub struct SpeechTool {
    order: Vec<String>,
    default_voice: String,
    providers: BTreeMap<String, Arc<dyn SpeechProvider>>,
}

impl SpeechTool {
    pub fn from_config(config: &Config) -> Result<Self> {
        let c = &config.speech;
        let timeout = config.provider_timeout();
        let mut providers: BTreeMap<String, Arc<dyn SpeechProvider>> = BTreeMap::new();
        providers.insert("builtin".into(), Arc::new(espeak::Espeak::default()));
        let voices_dir = c
            .voices_dir
            .clone()
            .unwrap_or_else(|| config.data_dir.join("voices"));
        if let Some(p) = piper::Piper::discover(
            c.piper_bin.as_deref(),
            &voices_dir,
            &config.tmp_dir().join("piper"),
        ) {
            providers.insert("piper".into(), Arc::new(p));
        }
        if let Some(h) = hibari::Hibari::discover(c.hibari_bin.as_deref()) {
            providers.insert("hibari".into(), Arc::new(h));
        }
        let configured: Option<Arc<dyn SpeechProvider>> = match c.provider.as_str() {
            "auto" | "builtin" | "piper" | "hibari" => None,
            "google" => Some(Arc::new(google::GoogleTts::new(c, timeout)?)),
            "openai" => Some(Arc::new(openai::OpenAiSpeech::new(c, timeout))),
            other => {
                return Err(Error::Internal(format!(
                    "STUDIO_SPEECH_PROVIDER={other:?} is not one of auto, builtin, piper, hibari, google, openai"
                )));
            }
        };
        if let Some(p) = configured {
            providers.insert(p.name().to_owned(), p);
        }
        // The order voices are looked up in: the configured provider first;
        // `auto` means the best installed offline voice (Piper, hibari for
        // female voices, then espeak-ng).
        let mut order: Vec<String> = match c.provider.as_str() {
            "auto" => vec!["piper".into(), "hibari".into(), "builtin".into()],
            other => vec![other.to_owned()],
        };
        for name in providers.keys() {
            if !order.contains(name) {
                order.push(name.clone());
            }
        }
        order.retain(|n| providers.contains_key(n));
        Ok(Self {
            order,
            default_voice: c.default_voice.clone(),
            providers,
        })
    }

    /// The engines a request may name, in lookup order.
    pub fn provider_names(&self) -> Vec<String> {
        self.order.clone()
    }

    /// Whether an engine is available (`piper` only when installed).
    pub fn has_provider(&self, name: &str) -> bool {
        self.providers.contains_key(name)
    }

    /// Every voice of every configured provider, in lookup order.
    /// Each voice once, labelled with the engine that actually speaks it
    /// when no provider is named (a Google-style name may go to Piper).
    pub async fn voices(&self) -> Vec<Voice> {
        let mut all: Vec<Voice> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for name in &self.order {
            for voice in self.providers[name].voices().await {
                if seen.insert(voice.name.clone()) {
                    all.push(voice);
                }
            }
        }
        for voice in &mut all {
            for name in &self.order {
                if self.providers[name].resolve(&voice.name).await.is_some() {
                    voice.provider = name.clone();
                    break;
                }
            }
        }
        all
    }

    /// The provider for a request and its voice for the name asked for.
    async fn pick(
        &self,
        provider: Option<&str>,
        voice: &str,
    ) -> Result<(Arc<dyn SpeechProvider>, String)> {
        let candidates: Vec<&String> = match provider.map(str::trim).filter(|n| !n.is_empty()) {
            Some(name) => {
                let (key, _) = self.providers.get_key_value(name).ok_or_else(|| {
                    Error::invalid(
                        "provider",
                        format!(
                            "{name:?} is not configured; available: {}",
                            self.order.join(", ")
                        ),
                    )
                })?;
                vec![key]
            }
            None => self.order.iter().collect(),
        };
        for (i, name) in candidates.iter().enumerate() {
            let p = &self.providers[*name];
            if let Some(v) = p.resolve(voice).await {
                if i > 0 {
                    tracing::info!(voice, provider = %name, skipped = ?&candidates[..i], "no earlier engine has this voice; falling back");
                }
                return Ok((p.clone(), v));
            }
        }
        Err(Error::invalid(
            "voice_name",
            format!(
                "no configured provider can speak the voice {voice:?}; GET /api/v1/voices lists the voices (Google-style names such as en-US-Neural2-D work everywhere)"
            ),
        ))
    }

    /// Checks the parameters as a synthesis would, without speaking.
    pub fn check(&self, params: &SpeechParams) -> Result<()> {
        params.validate(&self.default_voice).map(drop)
    }

    /// Validates, synthesises, joins, normalises, encodes and stores (marked
    /// as made by `job`, when a job makes it).
    pub async fn synthesize(
        &self,
        store: &Store,
        tmp: &Path,
        session: &SessionId,
        params: &SpeechParams,
        job: Option<&str>,
    ) -> Result<Asset> {
        let since = store.session_since(session).await?;
        let spoken = self.speak(tmp, params).await?;
        let new = NewAsset {
            kind: AssetKind::Audio,
            ext: spoken.format.ext().into(),
            mime_type: spoken.format.mime().into(),
            source: "speech".into(),
            metadata: spoken.metadata,
            job: job.map(str::to_owned),
        };
        store
            .put_asset_file(session, since, new, &spoken.file)
            .await
    }

    /// A short sample of a voice (the same sentence every time), as MP3
    /// bytes; nothing is stored.
    pub async fn sample(&self, tmp: &Path, voice_name: &str) -> Result<Vec<u8>> {
        let params = SpeechParams {
            text: "Hello! This is how I sound in your videos.".into(),
            voice_name: Some(voice_name.to_owned()),
            ..Default::default()
        };
        let spoken = self.speak(tmp, &params).await?;
        Ok(tokio::fs::read(&spoken.file).await?)
    }

    /// Speaks the request into a file in a fresh working folder under `tmp`.
    async fn speak(&self, tmp: &Path, params: &SpeechParams) -> Result<Spoken> {
        let req = params.validate(&self.default_voice)?;
        let (provider, voice) = self
            .pick(params.provider.as_deref(), &req.voice_name)
            .await?;
        tokio::fs::create_dir_all(tmp).await?;
        let workdir = tempfile::Builder::new().prefix("speech-").tempdir_in(tmp)?;
        let synthesis = provider.synthesize(&req, &voice, workdir.path()).await?;
        let out = workdir.path().join(format!("voice.{}", req.format.ext()));
        let segments = assemble(&synthesis.chunks, synthesis.tempo, req.format, &out).await?;
        let duration = media::probe(&out)
            .await?
            .duration_seconds
            .ok_or_else(|| Error::Internal("the encoded voice-over has no duration".into()))?;
        // Word timings: estimated within each sentence, refined by its pauses.
        let pauses = media::speech_pauses(&out).await.unwrap_or_default();
        let words: Vec<crate::text::WordTime> = segments
            .iter()
            .flat_map(|s| crate::text::word_times(&s.text, s.start, s.end, &pauses))
            .collect();
        Ok(Spoken {
            file: out,
            format: req.format,
            metadata: json!({
                "text": req.text,
                "voice_name": req.voice_name,
                "engine_voice": synthesis.engine_voice,
                "provider": provider.name(),
                "model": synthesis.model,
                "duration_seconds": duration,
                "speaking_rate": req.speaking_rate,
                "pitch": req.pitch,
                "loudness_lufs": VOICE_LUFS,
                "segments": segments,
                "words": words,
            }),
            _workdir: workdir,
        })
    }
}

/// A spoken text in a working folder (removed when this is dropped).
struct Spoken {
    file: PathBuf,
    format: AudioFormat,
    metadata: serde_json::Value,
    _workdir: tempfile::TempDir,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_sentences_and_chunks() {
        let s = sentences("Hello, world! How are you? I'm fine.\nNew line here... «Ça va?»  ---  ");
        assert_eq!(
            s,
            vec![
                "Hello, world!",
                "How are you?",
                "I'm fine.",
                "New line here...",
                "«Ça va?»  ---"
            ]
        );
        let chunks = chunk_text(&"Word word word. ".repeat(100), 100);
        assert!(chunks.iter().all(|c| c.len() <= 100));
        assert_eq!(chunks.join(" ").matches("Word").count(), 100);
        let long = chunk_text(&"x ".repeat(300), 50);
        assert!(long.len() > 5 && long.iter().all(|c| c.len() <= 50));
    }

    #[test]
    fn validates_fields() {
        let p = |f: fn(&mut SpeechParams)| {
            let mut p = SpeechParams {
                text: "hi".into(),
                ..Default::default()
            };
            f(&mut p);
            p.validate("en-US-Neural2-D")
        };
        assert_eq!(p(|_| {}).unwrap().voice_name, "en-US-Neural2-D");
        assert_eq!(
            p(|p| p.text = " ".into()).unwrap_err().field(),
            Some("text")
        );
        assert_eq!(
            p(|p| p.text = "a".repeat(5001)).unwrap_err().field(),
            Some("text")
        );
        assert_eq!(
            p(|p| p.format = Some("flac".into())).unwrap_err().field(),
            Some("format")
        );
        assert_eq!(
            p(|p| p.speaking_rate = Some(5.0)).unwrap_err().field(),
            Some("speaking_rate")
        );
        assert_eq!(
            p(|p| p.pitch = Some(-21.0)).unwrap_err().field(),
            Some("pitch")
        );
        assert_eq!(
            p(|p| p.format = Some("ogg".into())).unwrap().format,
            AudioFormat::Ogg
        );
    }

    #[test]
    fn a_voice_over_that_would_last_too_long_is_refused_before_it_is_spoken() {
        let params = |text: String, rate: f64| SpeechParams {
            text,
            speaking_rate: Some(rate),
            ..Default::default()
        };
        let prose = "The keeper climbed the stairs to light the lamp. ".repeat(100);
        assert!(
            params(prose.clone(), 1.0)
                .validate("en-US-Neural2-D")
                .is_ok()
        );
        let slow = params(prose, 0.25).validate("en-US-Neural2-D").unwrap_err();
        assert_eq!(slow.field(), Some("text"));
        let digits = params("0".repeat(5000), 1.0).validate("en-US-Neural2-D");
        assert_eq!(digits.unwrap_err().field(), Some("text"));
    }

    #[test]
    fn tempo_chains_stay_in_range() {
        assert!(atempo_chain(1.0).is_empty());
        assert_eq!(atempo_chain(0.25), vec![0.5, 0.5]);
        let c = atempo_chain(0.3);
        assert!(c.iter().all(|f| (0.5..=100.0).contains(f)));
        assert!((c.iter().product::<f64>() - 0.3).abs() < 1e-9);
    }
}
