//! Users' own files: the kind is read from the content, never the file name,
//! and the file must decode (an image's header, or ffprobe for audio/video)
//! before it becomes an asset.

use std::io::Read;
use std::path::Path;

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::ids::{AssetKind, SessionId};
use crate::media;
use crate::store::{Asset, NewAsset, Store};

/// What the content's first bytes say the file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sniffed {
    pub kind: AssetKind,
    pub ext: &'static str,
    pub mime: &'static str,
}

/// Recognises the supported formats from their leading bytes.
pub fn sniff(head: &[u8]) -> Option<Sniffed> {
    let t = infer::get(head)?;
    let (kind, ext, mime) = match t.mime_type() {
        "image/png" => (AssetKind::Image, "png", "image/png"),
        "image/jpeg" => (AssetKind::Image, "jpg", "image/jpeg"),
        "image/webp" => (AssetKind::Image, "webp", "image/webp"),
        "image/gif" => (AssetKind::Image, "gif", "image/gif"),
        "audio/mpeg" => (AssetKind::Audio, "mp3", "audio/mpeg"),
        "audio/x-wav" => (AssetKind::Audio, "wav", "audio/wav"),
        "audio/ogg" => (AssetKind::Audio, "ogg", "audio/ogg"),
        "audio/x-flac" => (AssetKind::Audio, "flac", "audio/flac"),
        "audio/m4a" => (AssetKind::Audio, "m4a", "audio/mp4"),
        "audio/aac" => (AssetKind::Audio, "aac", "audio/aac"),
        "video/mp4" => (AssetKind::Video, "mp4", "video/mp4"),
        "video/webm" => (AssetKind::Video, "webm", "video/webm"),
        "video/quicktime" => (AssetKind::Video, "mov", "video/quicktime"),
        "video/x-matroska" => (AssetKind::Video, "mkv", "video/x-matroska"),
        "application/font-sfnt" if t.extension() == "otf" => (AssetKind::Font, "otf", "font/otf"),
        "application/font-sfnt" => (AssetKind::Font, "ttf", "font/ttf"),
        _ => return None,
    };
    Some(Sniffed { kind, ext, mime })
}

/// How many uploads are probed at once (each ffprobe may take a core and,
/// on a hostile file, up to the memory cap `media::probe` sets).
static PROBES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// A second name for `file` ending in `.ext` (a hard link, else a copy),
/// removed when dropped.
fn typed_link(file: &Path, ext: &str) -> Result<tempfile::TempPath> {
    let dir = file.parent().unwrap_or_else(|| Path::new("."));
    let make = |path: &Path| {
        std::fs::hard_link(file, path).or_else(|_| std::fs::copy(file, path).map(drop))
    };
    Ok(tempfile::Builder::new()
        .prefix("upload-")
        .suffix(&format!(".{ext}"))
        .make_in(dir, make)?
        .into_temp_path())
}

/// The largest picture accepted (and frame of a clip): 40 megapixels...
pub const MAX_IMAGE_PIXELS: u64 = 40_000_000;
/// ...and at most this many pixels a side.
pub const MAX_IMAGE_SIDE: u32 = 16_384;

/// Turns an uploaded file (already on disk, in the studio's temporary folder)
/// into an asset. `role` marks audio as `music` for the compose step; a
/// `transcript` of narration gives it word timings (for captions).
pub async fn store_upload(
    store: &Store,
    session: &SessionId,
    file: &Path,
    original_name: Option<&str>,
    role: Option<&str>,
    transcript: Option<&str>,
) -> Result<Asset> {
    let since = store.session_since(session).await?;
    let mut head = [0u8; 8192];
    let n = std::fs::File::open(file)?.read(&mut head)?;
    let mut sniffed = sniff(&head[..n]).ok_or_else(|| {
        Error::UnsupportedMedia(
            "the file is not a supported image (PNG, JPEG, WebP, GIF), audio (MP3, WAV, OGG, FLAC, M4A), video (MP4, WebM, MOV, MKV) or font (TTF, OTF)"
                .into(),
        )
    })?;
    // The form's own fields first: they cost nothing to check.
    let role = check_role(role, sniffed.kind)?;
    let transcript = check_transcript(transcript, sniffed.kind)?;

    // From here on the file is read only as what it was detected to be:
    // a name with that extension makes every later reader (ffprobe, ffmpeg)
    // use that one demuxer, never a guess from the content.
    let typed = typed_link(file, sniffed.ext)?;
    let file: &Path = &typed;

    let mut metadata = match sniffed.kind {
        AssetKind::Image => image_facts(file).await?,
        AssetKind::Font => font_facts(file).await?,
        _ => media_facts(file, &mut sniffed).await?,
    };
    if let Some(name) = original_name.map(str::trim).filter(|n| !n.is_empty()) {
        let name: String = name.chars().filter(|c| !c.is_control()).take(255).collect();
        metadata.insert("original_filename".into(), Value::String(name));
    }
    // Audio only: an MP4 proves to be audio only once probed.
    if (role.is_some() || transcript.is_some()) && sniffed.kind != AssetKind::Audio {
        return Err(match role {
            Some(_) => Error::invalid("role", "only audio can be marked as music"),
            None => Error::invalid("transcript", "only audio takes a transcript"),
        });
    }
    if let Some(text) = transcript {
        let duration = metadata["duration_seconds"].as_f64().unwrap_or(0.0);
        metadata.extend(transcript_facts(file, &text, duration).await?);
    }
    if let Some(role) = role {
        metadata.insert("role".into(), json!(role));
    }
    let new = NewAsset {
        kind: sniffed.kind,
        ext: sniffed.ext.into(),
        mime_type: sniffed.mime.into(),
        source: "upload".into(),
        metadata: Value::Object(metadata),
        job: None,
    };
    store.put_asset_file(session, since, new, file).await
}

/// The `role` form field: only `music`, only for sound (a picture can be
/// refused at once; an MP4 is known to be sound only once probed).
fn check_role(role: Option<&str>, kind: AssetKind) -> Result<Option<&'static str>> {
    let Some(role) = role.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    if role != "music" {
        return Err(Error::invalid(
            "role",
            "the only role is \"music\" (background music for compose)",
        ));
    }
    if kind == AssetKind::Image {
        return Err(Error::invalid("role", "only audio can be marked as music"));
    }
    Ok(Some("music"))
}

/// The `transcript` form field: at most 5,000 characters, for sound only;
/// control characters become spaces.
fn check_transcript(text: Option<&str>, kind: AssetKind) -> Result<Option<String>> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if kind == AssetKind::Image {
        return Err(Error::invalid(
            "transcript",
            "only audio takes a transcript",
        ));
    }
    if text.chars().count() > 5000 {
        return Err(Error::invalid(
            "transcript",
            "transcripts are limited to 5000 characters",
        ));
    }
    Ok(Some(
        text.chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect(),
    ))
}

/// The largest font accepted (a family with many scripts is a few MB).
pub const MAX_FONT_BYTES: u64 = 20 << 20;

/// A font's family and glyph count, from the whole file parsed as
/// TrueType/OpenType (a file that only starts like a font is refused).
async fn font_facts(file: &Path) -> Result<Map<String, Value>> {
    if std::fs::metadata(file)?.len() > MAX_FONT_BYTES {
        return Err(Error::UnsupportedMedia(format!(
            "fonts are limited to {} MB",
            MAX_FONT_BYTES >> 20
        )));
    }
    let bytes = tokio::fs::read(file).await?;
    let facts = crate::frame::FontFacts::parse(&bytes).map_err(Error::UnsupportedMedia)?;
    let mut out = Map::new();
    out.insert("family".into(), json!(facts.family));
    out.insert("glyphs".into(), json!(facts.glyphs));
    Ok(out)
}

/// A picture's size, read from its header first (a pixel bomb is refused
/// before anything decodes it), then the whole picture decoded once (a
/// valid header over broken data would fail every render later).
async fn image_facts(file: &Path) -> Result<Map<String, Value>> {
    let (width, height) = image::ImageReader::open(file)?
        .with_guessed_format()?
        .into_dimensions()
        .map_err(|e| Error::UnsupportedMedia(format!("the image does not decode: {e}")))?;
    check_pixels(width, height, "the image is")?;
    let path = file.to_owned();
    let decoded = tokio::task::spawn_blocking(move || {
        image::ImageReader::open(&path)?
            .with_guessed_format()?
            .decode()
            .map(drop)
            .map_err(std::io::Error::other)
    })
    .await
    .map_err(|e| Error::Internal(format!("image check: {e}")))?;
    if let Err(e) = decoded {
        return Err(Error::UnsupportedMedia(format!(
            "the image is damaged and does not decode ({e})"
        )));
    }
    let mut facts = Map::new();
    facts.insert("width".into(), json!(width));
    facts.insert("height".into(), json!(height));
    Ok(facts)
}

/// Refuses a picture or frame over the pixel caps (422 on `file`).
fn check_pixels(width: u32, height: u32, what: &str) -> Result<()> {
    if u64::from(width) * u64::from(height) > MAX_IMAGE_PIXELS || width.max(height) > MAX_IMAGE_SIDE
    {
        return Err(Error::invalid(
            "file",
            format!(
                "{what} {width}×{height}; pictures and frames are limited to {} megapixels and {MAX_IMAGE_SIDE} pixels a side",
                MAX_IMAGE_PIXELS / 1_000_000
            ),
        ));
    }
    Ok(())
}

/// Sound and footage, as ffprobe reads them (bounded in time and memory,
/// a few at a time): every picture in them within the caps, the streams of
/// the kind the bytes claim (an MP4 with sound only becomes audio), and a
/// duration.
async fn media_facts(file: &Path, sniffed: &mut Sniffed) -> Result<Map<String, Value>> {
    let info = {
        let _slot = PROBES
            .acquire()
            .await
            .map_err(|e| Error::Internal(e.to_string()))?;
        media::probe(file).await?
    };
    if let Some((w, h)) = info.largest_picture {
        check_pixels(w, h, "the file holds a picture of")?;
    }
    let mut facts = Map::new();
    match (&info.video, &info.audio) {
        (Some(video), _) if sniffed.kind == AssetKind::Video => {
            check_pixels(video.width, video.height, "the video is")?;
            facts.insert("width".into(), json!(video.width));
            facts.insert("height".into(), json!(video.height));
            facts.insert("fps".into(), json!(video.fps));
            facts.insert("has_audio".into(), json!(info.audio.is_some()));
        }
        (None, Some(_)) if sniffed.kind == AssetKind::Video && sniffed.ext == "mp4" => {
            *sniffed = Sniffed {
                kind: AssetKind::Audio,
                ext: "m4a",
                mime: "audio/mp4",
            };
        }
        (_, Some(_)) if sniffed.kind == AssetKind::Audio => {}
        _ => {
            return Err(Error::UnsupportedMedia(format!(
                "the {} file has no {} stream",
                sniffed.ext, sniffed.kind
            )));
        }
    }
    let duration = info
        .duration_seconds
        .ok_or_else(|| Error::UnsupportedMedia("the file has no measurable duration".into()))?;
    facts.insert("duration_seconds".into(), json!(duration));
    Ok(facts)
}

/// A typed transcript's words spread over the audio by syllables and moved
/// to its pauses, with its sentences as segments.
async fn transcript_facts(file: &Path, text: &str, duration: f64) -> Result<Map<String, Value>> {
    let pauses = media::speech_pauses(file).await?;
    let words = crate::text::word_times(text, 0.0, duration, &pauses);
    let mut segments = Vec::new();
    let mut k = 0;
    for sentence in crate::text::sentences(text) {
        let n = sentence.split_whitespace().count();
        if let (Some(first), Some(last)) = (words.get(k), words.get(k + n - 1)) {
            segments.push(json!({"text": sentence, "start": first.start, "end": last.end}));
        }
        k += n;
    }
    let mut facts = Map::new();
    facts.insert("text".into(), json!(text));
    facts.insert("words".into(), json!(words));
    facts.insert("segments".into(), json!(segments));
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_content_not_name() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(sniff(png).unwrap().kind, AssetKind::Image);
        assert_eq!(sniff(b"ID3\x04\0\0\0\0\0\0").unwrap().ext, "mp3");
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt ").unwrap().ext, "wav");
        assert!(sniff(b"just some text pretending to be a png").is_none());
        assert!(sniff(b"%PDF-1.7").is_none());
    }
}
