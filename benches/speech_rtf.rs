//! Voice-over benchmark: the real-time factor (seconds of speech made per
//! second of work) of the built-in voice through the whole tool — sentence
//! split, espeak-ng per sentence, join, loudness normalisation, MP3 encode,
//! storage — against a baseline measured in the same run: one bare espeak-ng
//! call on the whole text writing a WAV (no normalisation, no encoding).
//!
//! Run: `cargo bench --bench speech_rtf`

use std::process::{Command, Stdio};
use std::time::Instant;

use studio::ids::SessionId;
use studio::tools::speech::SpeechParams;
use studio::{Config, Studio};

const TEXT: &str = "Content Studio turns ideas into short narrated videos. \
You ask for an image, a voice-over or a social post, one step at a time. \
Every asset lands in your session, where you can list it, play it or delete it. \
When you are ready, a timeline of those assets becomes a finished video. \
Captions come from the timings of each sentence, so they match the voice. \
Everything runs offline on one machine, and real providers plug in by configuration.";

fn main() {
    let runs = 5;
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let studio = rt
        .block_on(Studio::open(Config::with_data_dir(dir.path())))
        .unwrap();
    let session = SessionId::parse("bench").unwrap();
    let params = SpeechParams {
        text: TEXT.into(),
        ..Default::default()
    };

    let mut tool = Vec::new();
    let mut audio_seconds = 0.0;
    for _ in 0..runs {
        let t = Instant::now();
        let asset = rt
            .block_on(studio.synthesize_voiceover(&session, &params))
            .unwrap();
        tool.push(t.elapsed().as_secs_f64());
        audio_seconds = asset.metadata["duration_seconds"].as_f64().unwrap();
    }

    let wav = dir.path().join("bare.wav");
    let mut bare = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let mut child = Command::new("espeak-ng")
            .args(["-v", "en-us", "--stdin", "-w"])
            .arg(&wav)
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(TEXT.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success());
        bare.push(t.elapsed().as_secs_f64());
    }
    let bare_audio = hound::WavReader::open(&wav)
        .map(|r| r.duration() as f64 / r.spec().sample_rate as f64)
        .unwrap();

    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (tool_s, bare_s) = (median(&mut tool), median(&mut bare));
    println!(
        "baseline: bare espeak-ng, whole text to WAV: {bare_audio:.1} s of speech in {:.0} ms, RTF {:.0}x",
        bare_s * 1e3,
        bare_audio / bare_s
    );
    println!(
        "voice-over tool (split, speak, join, loudnorm, MP3, store): {audio_seconds:.1} s of speech in {:.0} ms, RTF {:.0}x ({:.2}x the baseline's time)",
        tool_s * 1e3,
        audio_seconds / tool_s,
        tool_s / bare_s
    );
}
