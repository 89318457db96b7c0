//! Speech to text: an audio or video asset in, its words with their times
//! out, kept with the asset (`metadata.transcript`) so captions and cutting
//! by words can use them.
//!
//! Providers only turn a 16 kHz mono WAV into timed words: the built-in
//! offline engine runs faster-whisper with Whisper tiny.en ([`whisper`],
//! English only). What is shared: extracting the sound track (read as the
//! format the asset was stored as), the empty transcript for audio without
//! speech, and storing the result.

pub mod openai;
pub mod whisper;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::ids::{AssetKind, AssetName, SessionId};
use crate::media;
use crate::store::{Asset, Store};

/// One recognised word; times in seconds of the asset.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct TranscriptWord {
    pub text: String,
    pub start: f64,
    pub end: f64,
    /// 0–1, as the engine rates it.
    pub confidence: Option<f64>,
}

/// What a provider heard.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Heard {
    pub language: Option<String>,
    pub words: Vec<TranscriptWord>,
}

/// A transcript, as `POST /transcripts` answers and the asset keeps it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Transcript {
    #[schema(example = "video_1.mp4")]
    pub asset_id: String,
    /// The words joined; empty when the audio holds no speech.
    pub text: String,
    pub language: String,
    /// The provider that made it (`builtin`: faster-whisper, tiny.en).
    pub engine: String,
    pub duration_seconds: f64,
    pub words: Vec<TranscriptWord>,
}

/// What to transcribe.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TranscriptParams {
    /// An audio asset, or a video asset with a sound track.
    #[schema(example = "video_1.mp4")]
    pub asset_id: String,
    /// ISO 639-1 code; the built-in engine knows English only (`en`).
    pub language: Option<String>,
    /// Overrides the configured engine for this request (`builtin`).
    pub provider: Option<String>,
    /// `true`: answer 202 with a job at once and transcribe on a worker.
    #[serde(rename = "async")]
    pub run_async: Option<bool>,
    /// Tell this URL when the transcript is done (a signed POST). Implies `async`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback: Option<crate::webhooks::Callback>,
}

/// The longest media transcribed, in seconds.
pub const MAX_SECONDS: f64 = 1800.0;

#[async_trait::async_trait]
pub trait Recognizer: Send + Sync + std::fmt::Debug {
    /// The words in `wav` (16 kHz mono), in order; `language` as the
    /// request named it (none: the engine's own, or detected).
    async fn recognize(&self, wav: &Path, language: Option<&str>) -> Result<Heard>;
    /// The languages it knows (`None`: any).
    fn languages(&self) -> Option<&'static [&'static str]> {
        None
    }
}

/// The speech-to-text tool: its providers by name.
#[derive(Clone, Debug)]
pub struct TranscribeTool {
    default: Option<String>,
    providers: BTreeMap<String, Arc<dyn Recognizer>>,
}

impl TranscribeTool {
    pub fn from_config(config: &Config) -> Self {
        let c = &config.transcribe;
        let mut providers: BTreeMap<String, Arc<dyn Recognizer>> = BTreeMap::new();
        if let Some(engine) = whisper::Whisper::discover(c.whisper_python.as_deref()) {
            providers.insert("builtin".into(), Arc::new(engine));
        }
        if c.provider == "openai" || c.base_url.is_some() || c.api_key.is_some() {
            let engine = openai::OpenAiTranscriber::new(c, config.provider_timeout());
            providers.insert("openai".into(), Arc::new(engine));
        }
        let default = match c.provider.as_str() {
            "auto" => ["builtin", "openai"]
                .into_iter()
                .find(|p| providers.contains_key(*p))
                .map(str::to_owned),
            other if providers.contains_key(other) => Some(other.to_owned()),
            other => {
                tracing::warn!(
                    provider = other,
                    "the configured speech recogniser is not available"
                );
                None
            }
        };
        Self { default, providers }
    }

    /// Whether any engine is installed.
    pub fn available(&self) -> bool {
        self.default.is_some()
    }

    pub fn provider_names(&self) -> Vec<String> {
        self.providers.keys().cloned().collect()
    }

    /// Transcribes an asset of `session` and keeps the transcript with it.
    pub async fn transcribe(
        &self,
        store: &Store,
        session: &SessionId,
        params: &TranscriptParams,
        tmp_dir: &Path,
    ) -> Result<Transcript> {
        let name = AssetName::parse(&params.asset_id)
            .map_err(|_| Error::invalid("asset_id", "is not an asset name such as video_1.mp4"))?;
        let (provider_name, provider) = self.provider_for(params)?;
        let language = language_for(&provider_name, provider.as_ref(), params)?;
        let (asset, duration) = sound_asset(store, session, &name).await?;
        let source = store.local_copy(&asset, tmp_dir).await?;
        let wav = sound_track(&source.path, tmp_dir).await?;
        let heard = provider.recognize(&wav, language.as_deref()).await?;
        let transcript = transcript_of(&name, heard, language, provider_name, duration);
        keep(store, session, &name, &transcript).await?;
        Ok(transcript)
    }

    /// The provider the request names, else the configured one, and its name.
    fn provider_for(&self, params: &TranscriptParams) -> Result<(String, &Arc<dyn Recognizer>)> {
        let provider_name = match params.provider.as_deref() {
            Some(p) => p.to_owned(),
            None => self.default.clone().ok_or_else(|| {
                Error::Unavailable(
                    "no speech recognition engine is installed: bash scripts/setup.sh installs faster-whisper into .tools/whisper"
                        .into(),
                )
            })?,
        };
        let provider = self.providers.get(&provider_name).ok_or_else(|| {
            Error::invalid(
                "provider",
                format!(
                    "unknown provider {provider_name:?}; configured: {:?}",
                    self.provider_names()
                ),
            )
        })?;
        Ok((provider_name, provider))
    }
}

/// The language to recognise: the one asked for, else an engine of one
/// language's own (others detect it); refused when the engine lacks it.
fn language_for(
    provider_name: &str,
    provider: &dyn Recognizer,
    params: &TranscriptParams,
) -> Result<Option<String>> {
    let asked = params.language.as_deref().map(str::to_ascii_lowercase);
    // An engine of one language speaks it unless told otherwise; others
    // detect it when the request names none.
    let language = asked
        .clone()
        .or_else(|| provider.languages().map(|known| known[0].to_owned()));
    if let (Some(known), Some(language)) = (provider.languages(), &language)
        && !known.contains(&language.as_str())
    {
        return Err(Error::invalid(
            "language",
            format!("the {provider_name} engine knows {known:?} only"),
        ));
    }
    Ok(language)
}

/// The session's asset `name`, when it has sound short enough to
/// transcribe, and its duration.
async fn sound_asset(store: &Store, session: &SessionId, name: &AssetName) -> Result<(Asset, f64)> {
    let asset = store.asset(session, name).await.map_err(|e| match e {
        Error::UnknownAsset { .. } => Error::invalid(
            "asset_id",
            format!("the session has no asset named {name:?}"),
        ),
        e => e,
    })?;
    let has_sound = match asset.kind {
        AssetKind::Audio => true,
        AssetKind::Video => asset.metadata["has_audio"] == true,
        _ => false,
    };
    if !has_sound {
        return Err(Error::invalid(
            "asset_id",
            format!("{name} has no sound to transcribe"),
        ));
    }
    let duration = asset.metadata["duration_seconds"].as_f64().unwrap_or(0.0);
    if duration > MAX_SECONDS {
        return Err(Error::invalid(
            "asset_id",
            format!("{name} lasts {duration:.0} s; transcripts are limited to {MAX_SECONDS:.0} s"),
        ));
    }
    Ok((asset, duration))
}

/// The sound track of `source` as a 16 kHz mono WAV in `tmp_dir` (removed
/// when the returned path drops).
async fn sound_track(source: &Path, tmp_dir: &Path) -> Result<tempfile::TempPath> {
    std::fs::create_dir_all(tmp_dir)?;
    let wav = tempfile::Builder::new()
        .suffix(".wav")
        .tempfile_in(tmp_dir)?
        .into_temp_path();
    let mut args = media::input_args(source);
    for a in ["-vn", "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le"] {
        args.push(a.into());
    }
    args.push(wav.as_os_str().to_owned());
    media::ffmpeg(&args).await?;
    Ok(wav)
}

/// The transcript of what the provider heard: its non-empty, well-timed
/// words, in the language it heard (else the one asked, else `und`).
fn transcript_of(
    name: &AssetName,
    heard: Heard,
    language: Option<String>,
    engine: String,
    duration: f64,
) -> Transcript {
    let words: Vec<TranscriptWord> = heard
        .words
        .into_iter()
        .filter(|w| !w.text.trim().is_empty() && w.end >= w.start)
        .collect();
    Transcript {
        asset_id: name.to_string(),
        text: words
            .iter()
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        language: heard
            .language
            .or(language)
            .unwrap_or_else(|| "und".to_owned()),
        engine,
        duration_seconds: duration,
        words,
    }
}

/// Keeps the transcript with its asset (status `none` when it holds no words).
async fn keep(
    store: &Store,
    session: &SessionId,
    name: &AssetName,
    transcript: &Transcript,
) -> Result<()> {
    let status = if transcript.words.is_empty() {
        "none"
    } else {
        "done"
    };
    store
        .set_asset_metadata(
            session,
            name,
            &[
                ("transcript", json!(transcript)),
                ("transcript_status", json!(status)),
            ],
        )
        .await?;
    Ok(())
}

/// What to cut from a transcribed asset.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CutParams {
    /// Indices into the transcript's `words` to remove.
    pub remove_words: Option<Vec<usize>>,
    /// Remove filler words: um, uh, er, ah, hmm, mm, "you know" …
    pub remove_fillers: Option<bool>,
    /// Shorten every pause between words longer than this (seconds) to it.
    #[schema(minimum = 0.05, maximum = 10.0)]
    pub max_pause: Option<f64>,
}

/// Cuts for a timeline item, and how much they remove.
#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct CutPlan {
    /// Spans of the asset's media to leave out, sorted: put them in the
    /// timeline item's `cuts`.
    pub cuts: Vec<media::Cut>,
    pub removed_seconds: f64,
    /// The indices of the words the cuts remove.
    pub removed_words: Vec<usize>,
}

/// Single filler words (compared without punctuation, lowercase).
const FILLERS: &[&str] = &[
    "um", "umm", "uh", "uhm", "uhh", "er", "erm", "ah", "ahh", "hmm", "hm", "mm", "mhm",
];

/// The cuts that remove the asked words, fillers and over-long pauses from
/// a transcript's media.
pub fn cuts_for(t: &Transcript, params: &CutParams) -> Result<CutPlan> {
    let n = t.words.len();
    let mut remove = vec![false; n];
    for &i in params.remove_words.iter().flatten() {
        if i >= n {
            return Err(Error::invalid(
                "remove_words",
                format!("word {i} does not exist: the transcript has {n} words"),
            ));
        }
        remove[i] = true;
    }
    let bare = |w: &str| {
        w.trim_matches(|c: char| !c.is_alphanumeric())
            .to_lowercase()
    };
    if params.remove_fillers.unwrap_or(false) {
        for i in 0..n {
            let w = bare(&t.words[i].text);
            if FILLERS.contains(&w.as_str()) {
                remove[i] = true;
            }
            if w == "you" && i + 1 < n && bare(&t.words[i + 1].text) == "know" {
                // "you know," as a filler: followed by a pause or a comma.
                let comma = t.words[i + 1].text.ends_with(',');
                let pause = t
                    .words
                    .get(i + 2)
                    .is_some_and(|next| next.start - t.words[i + 1].end > 0.25);
                if comma || pause {
                    remove[i] = true;
                    remove[i + 1] = true;
                }
            }
        }
    }
    // A removed word's span, padded: the recogniser tends to start words
    // ~0.1 s late (median 109 ms on known starts), so the cut begins up to
    // 0.1 s earlier (never before the previous word that stays ends) and
    // ends up to 0.05 s later (never within 0.1 s of the next word that
    // stays), so no onset of the removed word is left to be heard.
    let kept_before = |i: usize| (0..i).rev().find(|&j| !remove[j]).map(|j| t.words[j].end);
    let kept_after = |i: usize| (i + 1..n).find(|&j| !remove[j]).map(|j| t.words[j].start);
    let mut spans: Vec<(f64, f64)> = (0..n)
        .filter(|&i| remove[i])
        .map(|i| {
            let (start, end) = (t.words[i].start, t.words[i].end.max(t.words[i].start));
            let from = (start - 0.1).max(kept_before(i).unwrap_or(0.0)).min(start);
            let to = (end + 0.05)
                .min(kept_after(i).map_or(f64::INFINITY, |s| s - 0.1))
                .max(end);
            (from.max(0.0), to)
        })
        .filter(|(a, b)| b > a)
        .collect();
    if let Some(max) = params.max_pause {
        if !(0.05..=10.0).contains(&max) || !max.is_finite() {
            return Err(Error::invalid(
                "max_pause",
                "must be between 0.05 and 10 seconds",
            ));
        }
        // Pauses between the words that stay (a removed word's span counts
        // as pause too): the middle goes, `max` remains.
        let kept: Vec<&TranscriptWord> = (0..n)
            .filter(|&i| !remove[i])
            .map(|i| &t.words[i])
            .collect();
        for pair in kept.windows(2) {
            let (a, b) = (pair[0].end, pair[1].start);
            if b - a > max {
                spans.push((a + max / 2.0, b - max / 2.0));
            }
        }
    }
    spans.sort_by(|x, y| x.0.total_cmp(&y.0));
    let mut merged: Vec<(f64, f64)> = Vec::new();
    for (a, b) in spans {
        match merged.last_mut() {
            Some(last) if a <= last.1 + 1e-6 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    let round = |x: f64| (x * 1000.0).round() / 1000.0;
    // Whole milliseconds; a span that rounds to nothing (a pause a hair
    // longer than `max`) is no cut, and a compose would refuse it.
    let cuts: Vec<media::Cut> = merged
        .iter()
        .map(|&(a, b)| media::Cut {
            start: round(a),
            end: round(b),
        })
        .filter(|c| c.end > c.start)
        .collect();
    let removed_seconds = round(cuts.iter().map(|c| c.end - c.start).sum());
    Ok(CutPlan {
        cuts,
        removed_seconds,
        removed_words: (0..n).filter(|&i| remove[i]).collect(),
    })
}

impl CutPlan {
    /// The plan within a medium `length` seconds long: a recogniser may time
    /// the last words a little past the end its container records, and a
    /// cut there would be refused by a compose.
    pub fn within(mut self, length: f64) -> Self {
        self.cuts.retain(|c| c.start < length - 0.001);
        for c in &mut self.cuts {
            c.end = c.end.min(length);
        }
        let removed: f64 = self.cuts.iter().map(|c| c.end - c.start).sum();
        self.removed_seconds = (removed * 1000.0).round() / 1000.0;
        self
    }
}

/// The transcript an asset keeps, if it has one.
pub fn kept(asset: &crate::store::Asset) -> Option<Transcript> {
    serde_json::from_value(asset.metadata.get("transcript")?.clone()).ok()
}

/// A transcript as subtitles: `srt` or `vtt`, one cue per sentence-ish run
/// of at most 12 words.
pub fn subtitles(t: &Transcript, format: &str) -> String {
    let stamp = |s: f64, sep: char| {
        let ms = (s.max(0.0) * 1000.0).round() as u64;
        format!(
            "{:02}:{:02}:{:02}{sep}{:03}",
            ms / 3_600_000,
            ms / 60_000 % 60,
            ms / 1000 % 60,
            ms % 1000
        )
    };
    let mut out = String::new();
    if format == "vtt" {
        out.push_str("WEBVTT\n\n");
    }
    let mut cue: Vec<&TranscriptWord> = Vec::new();
    let mut n = 0;
    let mut flush = |cue: &mut Vec<&TranscriptWord>, out: &mut String| {
        if let (Some(first), Some(last)) = (cue.first(), cue.last()) {
            n += 1;
            let sep = if format == "vtt" { '.' } else { ',' };
            if format != "vtt" {
                out.push_str(&format!("{n}\n"));
            }
            let text: Vec<&str> = cue.iter().map(|w| w.text.as_str()).collect();
            out.push_str(&format!(
                "{} --> {}\n{}\n\n",
                stamp(first.start, sep),
                stamp(last.end.max(first.start + 0.01), sep),
                text.join(" ")
            ));
        }
        cue.clear();
    };
    for w in &t.words {
        cue.push(w);
        if cue.len() >= 12 || w.text.ends_with(['.', '!', '?']) {
            flush(&mut cue, &mut out);
        }
    }
    flush(&mut cue, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transcript(words: &[(&str, f64, f64)]) -> Transcript {
        Transcript {
            asset_id: "audio_1.mp3".into(),
            text: String::new(),
            language: "en".into(),
            engine: "builtin".into(),
            duration_seconds: 10.0,
            words: words
                .iter()
                .map(|&(text, start, end)| TranscriptWord {
                    text: text.into(),
                    start,
                    end,
                    confidence: None,
                })
                .collect(),
        }
    }

    #[test]
    fn cuts_remove_fillers_words_and_long_pauses() {
        let t = transcript(&[
            ("So,", 0.0, 0.3),
            ("um,", 0.4, 0.7),
            ("the", 0.8, 0.9),
            ("ship", 0.9, 1.2),
            ("sailed.", 3.2, 3.7),
            ("You", 3.8, 3.9),
            ("know,", 3.9, 4.1),
            ("it", 4.6, 4.7),
            ("sank.", 4.7, 5.0),
        ]);
        let plan = cuts_for(
            &t,
            &CutParams {
                remove_fillers: Some(true),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(plan.removed_words, [1, 5, 6]);
        assert_eq!(plan.cuts.len(), 2);
        // Padded into the pause before it, up to the word that stays.
        assert_eq!((plan.cuts[0].start, plan.cuts[0].end), (0.3, 0.7));
        let plan = cuts_for(
            &t,
            &CutParams {
                remove_words: Some(vec![3]),
                max_pause: Some(0.4),
                ..Default::default()
            },
        )
        .unwrap();
        // "ship" goes (padded to 1.25 s); the pause from "the" to "sailed."
        // (2.3 s) keeps 0.4 s: one cut from 0.9 to 3.0 s.
        assert_eq!(plan.removed_words, [3]);
        assert_eq!((plan.cuts[0].start, plan.cuts[0].end), (0.9, 3.0));
        assert!((plan.removed_seconds - 2.1 - 0.1).abs() < 0.01, "{plan:?}");
        let err = cuts_for(
            &t,
            &CutParams {
                remove_words: Some(vec![99]),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(err.field(), Some("remove_words"));
        // A pause a hair longer than `max_pause` rounds to no cut at all
        // (a compose refuses a cut that ends where it starts).
        let t = transcript(&[("Hello", 0.0, 0.5), ("there.", 0.9004, 1.2)]);
        let plan = cuts_for(
            &t,
            &CutParams {
                max_pause: Some(0.4),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(plan.cuts.is_empty(), "{plan:?}");
        assert_eq!(plan.removed_seconds, 0.0);
    }

    #[test]
    fn transcripts_become_subtitles() {
        let w = |text: &str, start: f64, end: f64| TranscriptWord {
            text: text.into(),
            start,
            end,
            confidence: None,
        };
        let t = Transcript {
            asset_id: "audio_1.mp3".into(),
            text: "Hello there. Bye".into(),
            language: "en".into(),
            engine: "builtin".into(),
            duration_seconds: 3.0,
            words: vec![
                w("Hello", 0.1, 0.5),
                w("there.", 0.5, 1.0),
                w("Bye", 2.0, 2.5),
            ],
        };
        assert_eq!(
            subtitles(&t, "srt"),
            "1\n00:00:00,100 --> 00:00:01,000\nHello there.\n\n2\n00:00:02,000 --> 00:00:02,500\nBye\n\n"
        );
        assert!(
            subtitles(&t, "vtt")
                .starts_with("WEBVTT\n\n00:00:00.100 --> 00:00:01.000\nHello there.\n")
        );
    }

    #[test]
    fn cuts_stay_within_the_media() {
        let cut = |start, end| media::Cut { start, end };
        let plan = CutPlan {
            cuts: vec![cut(1.0, 2.0), cut(9.5, 10.5), cut(10.2, 10.4)],
            removed_seconds: 2.2,
            removed_words: vec![3],
        }
        .within(10.0);
        assert_eq!(plan.cuts, [cut(1.0, 2.0), cut(9.5, 10.0)]);
        assert_eq!(plan.removed_seconds, 1.5);
    }
}
