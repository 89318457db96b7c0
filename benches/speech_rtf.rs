//! Voice-over benchmark, Piper and espeak-ng side by side on the same texts
//! in one run: time to first audio (a fresh studio speaking one short line,
//! Piper's model load included) and real-time factor (seconds of speech per
//! second of work) through the whole tool — sentence split, synthesis,
//! join, loudness normalisation, MP3 encode, storage. Baseline: one bare
//! espeak-ng call on the whole text writing a WAV.
//!
//! Run: `cargo bench --bench speech_rtf` (Piper comes from scripts/setup.sh).

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

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let session = SessionId::parse("bench").unwrap();

    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("bare.wav");
    let bare = median(
        (0..5)
            .map(|_| {
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
                t.elapsed().as_secs_f64()
            })
            .collect(),
    );
    let bare_audio = hound::WavReader::open(&wav)
        .map(|r| r.duration() as f64 / r.spec().sample_rate as f64)
        .unwrap();
    println!(
        "baseline: bare espeak-ng, whole text to WAV: {bare_audio:.1} s of speech in {:.0} ms, RTF {:.0}x",
        bare * 1e3,
        bare_audio / bare
    );

    for engine in ["builtin", "piper"] {
        let dir = tempfile::tempdir().unwrap();
        let studio = rt
            .block_on(Studio::open(Config::with_data_dir(dir.path())))
            .unwrap();
        let params = |text: &str| SpeechParams {
            text: text.into(),
            provider: Some(engine.into()),
            ..Default::default()
        };
        let t = Instant::now();
        if let Err(e) =
            rt.block_on(studio.synthesize_voiceover(&session, &params("Hello there."), None))
        {
            println!("{engine}: unavailable ({e})");
            continue;
        }
        let first = t.elapsed().as_secs_f64();
        let mut audio = 0.0;
        let work = median(
            (0..5)
                .map(|_| {
                    let t = Instant::now();
                    let asset = rt
                        .block_on(studio.synthesize_voiceover(&session, &params(TEXT), None))
                        .unwrap();
                    audio = asset.metadata["duration_seconds"].as_f64().unwrap();
                    t.elapsed().as_secs_f64()
                })
                .collect(),
        );
        let name = if engine == "builtin" {
            "espeak-ng"
        } else {
            "Piper (en_US-joe-medium)"
        };
        println!(
            "{name}: time to first audio {:.0} ms; {audio:.1} s of speech in {:.0} ms, RTF {:.1}x ({:.1}x the baseline's time)",
            first * 1e3,
            work * 1e3,
            audio / work,
            work / bare
        );
    }
}
