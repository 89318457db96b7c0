//! Facts about media files, from `ffprobe` (run with an argument vector,
//! never a shell).

use std::path::Path;

use serde_json::Value;
use std::process::Stdio;

use tokio_util::sync::CancellationToken;

use crate::process::{limit_memory, program, tail};

use crate::error::{Error, Result};

/// A span of a media file left out of the video (a timeline item's
/// `cuts`), in seconds of the media.
#[derive(
    Clone, Copy, Debug, Default, serde::Deserialize, serde::Serialize, utoipa::ToSchema, PartialEq,
)]
#[serde(deny_unknown_fields)]
pub struct Cut {
    pub start: f64,
    pub end: f64,
}

/// What ffprobe says about a file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MediaInfo {
    pub duration_seconds: Option<f64>,
    pub format_name: String,
    pub video: Option<VideoStream>,
    pub audio: Option<AudioStream>,
    /// The largest picture of any video stream, attached pictures (cover
    /// art) included, as (width, height).
    pub largest_picture: Option<(u32, u32)>,
}

/// The only protocols ffmpeg may open for a file of ours or a user's: a
/// playlist or script inside a file cannot reach the network or, with a
/// forced demuxer, another file.
pub const PROTOCOL_WHITELIST: &str = "file,pipe";

/// The demuxer that reads files with this extension (the formats the
/// studio stores), so ffmpeg never guesses a format from the content: a
/// file named `.mp3` is read as MP3 even when its bytes are an HLS playlist
/// or a concat script behind an ID3 header.
pub fn demuxer_for(ext: &str) -> Option<&'static str> {
    Some(match ext.to_ascii_lowercase().as_str() {
        "mp3" => "mp3",
        "wav" => "wav",
        "ogg" | "opus" | "oga" => "ogg",
        "flac" => "flac",
        "aac" => "aac",
        "m4a" | "mp4" | "mov" => "mov",
        "webm" | "mkv" => "matroska",
        "png" | "jpg" | "jpeg" | "webp" | "gif" => "image2",
        _ => return None,
    })
}

/// The input options that open `path` safely: only local files, and the
/// demuxer its extension names (`image2` reads exactly that one file).
/// Everything ffmpeg reads goes through here.
pub fn input_args(path: &Path) -> Vec<std::ffi::OsString> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let mut args: Vec<std::ffi::OsString> =
        vec!["-protocol_whitelist".into(), PROTOCOL_WHITELIST.into()];
    if let Some(demuxer) = demuxer_for(ext) {
        args.extend(["-f".into(), demuxer.into()]);
        if demuxer == "image2" {
            args.extend(["-pattern_type".into(), "none".into()]);
        }
    }
    args.extend(["-i".into(), path.as_os_str().to_owned()]);
    args
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

/// Probes a media file of ours, read as its extension says. A file ffprobe
/// cannot read gives [`Error::UnsupportedMedia`]; a missing ffprobe gives
/// [`Error::Unavailable`].
pub async fn probe(path: &Path) -> Result<MediaInfo> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    probe_as(path, demuxer_for(ext)).await
}

/// How long probing a user's file may take, and how much memory it may
/// map: a pixel bomb in cover art or a hostile container fails instead of
/// holding a core and a gigabyte.
const PROBE_TIME: std::time::Duration = std::time::Duration::from_secs(15);
const PROBE_MEMORY: u64 = 1 << 30;

/// Probes `path` with the given demuxer (`None`: ffprobe's own guess, for
/// files of ours without an extension only), local files only, within
/// [`PROBE_TIME`] and [`PROBE_MEMORY`].
pub async fn probe_as(path: &Path, demuxer: Option<&str>) -> Result<MediaInfo> {
    let mut cmd = program("ffprobe");
    cmd.args([
        "-v",
        "error",
        "-protocol_whitelist",
        PROTOCOL_WHITELIST,
        "-print_format",
        "json",
        "-show_format",
        "-show_streams",
    ]);
    if let Some(demuxer) = demuxer {
        cmd.args(["-f", demuxer]);
    }
    limit_memory(&mut cmd, PROBE_MEMORY);
    cmd.arg(path).kill_on_drop(true);
    let output = tokio::time::timeout(PROBE_TIME, cmd.output())
        .await
        .map_err(|_| {
            Error::UnsupportedMedia(format!(
                "the file took longer than {} s to read; it is too complex or damaged",
                PROBE_TIME.as_secs()
            ))
        })?
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
        if stream["codec_type"] == "video" {
            let size = (
                stream["width"].as_u64().unwrap_or(0) as u32,
                stream["height"].as_u64().unwrap_or(0) as u32,
            );
            let pixels = |(w, h): (u32, u32)| u64::from(w) * u64::from(h);
            if info
                .largest_picture
                .is_none_or(|p| pixels(size) > pixels(p))
            {
                info.largest_picture = Some(size);
            }
        }
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

/// Runs ffmpeg with an argument vector (`-nostdin -v error` are added; a
/// failure carries ffmpeg's last lines of stderr).
pub async fn ffmpeg(args: &[std::ffi::OsString]) -> Result<()> {
    ffmpeg_watched(args, &|_| {}, CancellationToken::new()).await
}

/// How long ffmpeg may go without reporting progress before it is stopped.
const STALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// Runs ffmpeg, reporting how many seconds of output it has written (from
/// its `-progress` output, which this asks for), until it ends, is
/// cancelled, or stalls.
pub async fn ffmpeg_watched(
    args: &[std::ffi::OsString],
    on_time: &(dyn Fn(f64) + Sync),
    cancel: CancellationToken,
) -> Result<()> {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
    if cancel.is_cancelled() {
        return Err(Error::Cancelled);
    }
    tracing::debug!(?args, "running ffmpeg");
    let progress = !args.iter().any(|a| a == "-progress");
    let mut child = program("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-v", "error", "-y"])
        .args(if progress {
            &["-progress", "pipe:1", "-nostats"][..]
        } else {
            &[]
        })
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| Error::Unavailable(format!("cannot run ffmpeg (install ffmpeg): {e}")))?;
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let stderr_task = tokio::spawn(async move {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf).await;
        buf
    });
    let mut lines = BufReader::new(child.stdout.take().expect("stdout is piped")).lines();
    loop {
        tokio::select! {
            _ = cancel.cancelled() => {
                let _ = child.kill().await;
                return Err(Error::Cancelled);
            }
            line = tokio::time::timeout(STALL_TIMEOUT, lines.next_line()) => match line {
                Err(_) => {
                    let _ = child.kill().await;
                    return Err(Error::Internal(format!("ffmpeg reported no progress for {} s and was stopped", STALL_TIMEOUT.as_secs())));
                }
                Ok(Ok(Some(line))) => {
                    let time = line.strip_prefix("out_time_us=").and_then(|v| v.trim().parse::<f64>().ok());
                    if let Some(us) = time.filter(|us| *us >= 0.0) {
                        on_time(us / 1e6);
                    }
                }
                Ok(_) => break,
            }
        }
    }
    let status = child.wait().await?;
    let stderr = stderr_task.await.unwrap_or_default();
    if !status.success() {
        return Err(Error::Internal(format!(
            "ffmpeg failed: {}",
            tail(&stderr, 6)
        )));
    }
    Ok(())
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
        .args(["-nostdin", "-hide_banner", "-v", "info"])
        .args(input_args(path))
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
