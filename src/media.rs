//! Facts about media files, from `ffprobe` (run with an argument vector,
//! never a shell).

use std::path::Path;

use serde_json::Value;
use tokio::process::Command;

use crate::error::{Error, Result};

/// What ffprobe says about a file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MediaInfo {
    pub duration_seconds: Option<f64>,
    pub format_name: String,
    pub video: Option<VideoStream>,
    pub audio: Option<AudioStream>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct VideoStream {
    pub codec: String,
    pub width: u32,
    pub height: u32,
    pub fps: Option<f64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AudioStream {
    pub codec: String,
    pub sample_rate: Option<u32>,
    pub channels: Option<u32>,
}

/// Probes a media file. A file ffprobe cannot read gives
/// [`Error::UnsupportedMedia`]; a missing ffprobe gives [`Error::Unavailable`].
pub async fn probe(path: &Path) -> Result<MediaInfo> {
    let output = program("ffprobe")
        .args([
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
        ])
        .arg(path)
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| Error::Unavailable(format!("cannot run ffprobe (install ffmpeg): {e}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        // ffprobe names the file; the server's paths are not the client's business.
        let line = stderr.lines().last().unwrap_or("ffprobe failed").trim();
        let path = path.display().to_string();
        let line = line
            .strip_prefix(&format!("{path}: "))
            .unwrap_or(line)
            .replace(&path, "the file");
        return Err(Error::UnsupportedMedia(format!(
            "not a readable media file: {line}"
        )));
    }
    let json: Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| Error::Internal(format!("unexpected ffprobe output: {e}")))?;
    Ok(parse_probe(&json))
}

fn parse_probe(json: &Value) -> MediaInfo {
    let format = &json["format"];
    let mut info = MediaInfo {
        duration_seconds: number(&format["duration"]),
        format_name: format["format_name"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        ..Default::default()
    };
    for stream in json["streams"].as_array().into_iter().flatten() {
        let codec = stream["codec_name"].as_str().unwrap_or_default().to_owned();
        match stream["codec_type"].as_str() {
            // Cover art in an MP3 shows up as a one-frame video stream: not a video.
            Some("video") if info.video.is_none() && stream["disposition"]["attached_pic"] != 1 => {
                info.video = Some(VideoStream {
                    codec,
                    width: stream["width"].as_u64().unwrap_or(0) as u32,
                    height: stream["height"].as_u64().unwrap_or(0) as u32,
                    fps: stream["avg_frame_rate"].as_str().and_then(ratio),
                });
            }
            Some("audio") if info.audio.is_none() => {
                info.audio = Some(AudioStream {
                    codec,
                    sample_rate: number(&stream["sample_rate"]).map(|r| r as u32),
                    channels: stream["channels"].as_u64().map(|c| c as u32),
                });
            }
            _ => {}
        }
    }
    if info.duration_seconds.is_none() {
        info.duration_seconds = json["streams"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| number(&s["duration"]))
            .reduce(f64::max);
    }
    info
}

/// ffprobe writes numbers as strings ("12.345000").
fn number(v: &Value) -> Option<f64> {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .filter(|n: &f64| n.is_finite())
}

fn ratio(s: &str) -> Option<f64> {
    let (n, d) = s.split_once('/')?;
    let (n, d): (f64, f64) = (n.parse().ok()?, d.parse().ok()?);
    (d != 0.0 && n != 0.0).then(|| n / d)
}

/// Whether a process runs (Linux: /proc; elsewhere assumed, to be safe).
pub fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            stat.split_once(") ")
                .is_some_and(|(_, rest)| !rest.starts_with('Z'))
        })
    } else {
        true
    }
}

/// This machine's name, as jobs record who runs them.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// A command for an external program (ffmpeg, ffprobe, espeak-ng, Piper)
/// that never outlives the studio: it is killed when its handle is dropped
/// and, on Linux, when the studio process dies, even by `kill -9`.
pub fn program(name: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = Command::new(name);
    cmd.kill_on_drop(true);
    #[cfg(target_os = "linux")]
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd
}

/// Runs ffmpeg with an argument vector (`-nostdin -v error` are added).
/// A failure carries ffmpeg's last lines of stderr.
pub async fn ffmpeg(args: &[std::ffi::OsString]) -> Result<()> {
    let output = program("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-v", "error", "-y"])
        .args(args)
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| Error::Unavailable(format!("cannot run ffmpeg (install ffmpeg): {e}")))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(Error::Internal(format!(
            "ffmpeg failed: {}",
            tail(&output.stderr, 5)
        )))
    }
}

/// The last `n` lines of a process's output, for error messages.
pub fn tail(bytes: &[u8], n: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}

/// Duration of an audio file: read from a WAV header when it is one (no
/// process), else from ffprobe.
pub async fn audio_duration(path: &Path) -> Result<f64> {
    if let Ok(reader) = hound::WavReader::open(path) {
        let spec = reader.spec();
        if reader.duration() > 0 && spec.sample_rate > 0 {
            return Ok(f64::from(reader.duration()) / f64::from(spec.sample_rate));
        }
    }
    probe(path)
        .await?
        .duration_seconds
        .ok_or_else(|| Error::UnsupportedMedia("the audio has no measurable duration".into()))
}

/// The pauses in spoken audio that word timings are aligned to: quieter than
/// −35 dB for at least 120 ms.
pub async fn speech_pauses(path: &Path) -> Result<Vec<(f64, f64)>> {
    pauses(path, -35.0, 0.12).await
}

/// The pauses in a file's audio: intervals quieter than `noise_db` for at
/// least `min_seconds`, as (start, end) seconds (ffmpeg's silencedetect).
pub async fn pauses(path: &Path, noise_db: f64, min_seconds: f64) -> Result<Vec<(f64, f64)>> {
    let output = program("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-v", "info", "-i"])
        .arg(path)
        .args([
            "-af",
            &format!("silencedetect=noise={noise_db}dB:d={min_seconds}"),
            "-f",
            "null",
            "-",
        ])
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| Error::Unavailable(format!("cannot run ffmpeg (install ffmpeg): {e}")))?;
    let text = String::from_utf8_lossy(&output.stderr);
    let value = |line: &str, key: &str| -> Option<f64> {
        line.split(key)
            .nth(1)?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    };
    let mut found = Vec::new();
    let mut start = None;
    for line in text.lines() {
        if let Some(s) = value(line, "silence_start: ") {
            start = Some(s.max(0.0));
        } else if let (Some(e), Some(s)) = (value(line, "silence_end: "), start) {
            found.push((s, e));
            start = None;
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_ffprobe_json() {
        let info = parse_probe(&json!({
            "format": {"duration": "4.020000", "format_name": "mov,mp4,m4a,3gp,3g2,mj2"},
            "streams": [
                {"codec_type": "video", "codec_name": "h264", "width": 1920, "height": 1080, "avg_frame_rate": "30/1"},
                {"codec_type": "audio", "codec_name": "aac", "sample_rate": "48000", "channels": 2}
            ]
        }));
        assert_eq!(info.duration_seconds, Some(4.02));
        let video = info.video.unwrap();
        assert_eq!(
            (video.width, video.height, video.fps),
            (1920, 1080, Some(30.0))
        );
        assert_eq!(info.audio.unwrap().sample_rate, Some(48000));
    }

    #[test]
    fn cover_art_is_not_video() {
        let info = parse_probe(&json!({
            "format": {"duration": "1.0", "format_name": "mp3"},
            "streams": [
                {"codec_type": "audio", "codec_name": "mp3"},
                {"codec_type": "video", "codec_name": "png", "width": 10, "height": 10, "disposition": {"attached_pic": 1}}
            ]
        }));
        assert!(info.video.is_none());
        assert!(info.audio.is_some());
    }
}
