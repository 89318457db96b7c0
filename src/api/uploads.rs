//! `POST /api/v1/sessions/{id}/uploads`: users' own images, audio and video.
//! The file is streamed to a temporary file (constant memory), then checked
//! and stored by [`crate::tools::uploads`].

use axum::Json;
use axum::extract::State;
use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::http::StatusCode;
use tokio::io::AsyncWriteExt;
use utoipa::ToSchema;

use super::auth::AuthorizedSession;
use super::error::{ApiError, ErrorBody};
use crate::error::Error;
use crate::store::Asset;
use crate::studio::Studio;
use crate::tools::uploads;

/// The multipart form.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The file (one per request). Its kind is detected from the content.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// Optional: `music` marks an audio file as background music.
    role: Option<String>,
    /// Optional, for narration: what it says (at most 5000 characters). Gives
    /// the audio word timings, so composes can caption it.
    transcript: Option<String>,
}

/// Upload an image, audio or video file. Creates the session on first use.
#[utoipa::path(post, path = "/api/v1/sessions/{session_id}/uploads", tag = "assets", operation_id = "uploadAsset",
    params(("session_id" = String, Path)),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, body = Asset, description = "The uploaded image, audio, music or video, checked and stored as an asset"), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn upload(
    State(studio): State<Studio>,
    session: AuthorizedSession,
    headers: axum::http::HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<Asset>), ApiError> {
    let session = session.id();
    // A body declared larger than any upload may be is refused unread
    // (the form's own framing gets a megabyte of room).
    let max = studio.config().max_upload_bytes;
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max.saturating_add(1024 * 1024)) {
        return Err(Error::TooLarge(format!("uploads are limited to {max} bytes")).into());
    }
    let mut multipart = multipart.map_err(|e| {
        Error::UnsupportedMedia(format!(
            "send the file as multipart/form-data ({})",
            e.body_text()
        ))
    })?;
    let mut file: Option<(tempfile::TempPath, Option<String>)> = None;
    let mut role = None;
    let mut transcript = None;

    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        if field.file_name().is_some() || field.name() == Some("file") {
            if file.is_some() {
                return Err(Error::BadRequest("send one file per request".into()).into());
            }
            let original = field.file_name().map(str::to_owned);
            let temp = tempfile::Builder::new()
                .prefix("upload-")
                .tempfile_in(studio.config().tmp_dir())?
                .into_temp_path();
            let mut out = tokio::fs::File::create(&temp).await?;
            let mut written: u64 = 0;
            let started = std::time::Instant::now();
            while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                written += chunk.len() as u64;
                if written > max {
                    return Err(
                        Error::TooLarge(format!("uploads are limited to {max} bytes")).into(),
                    );
                }
                too_slow(written, started.elapsed())?;
                out.write_all(&chunk).await?;
            }
            out.flush().await?;
            if written == 0 {
                return Err(Error::invalid("file", "the file is empty").into());
            }
            file = Some((temp, original));
        } else if field.name() == Some("role") {
            role = Some(small_field(&mut field, "role", 64).await?);
        } else if field.name() == Some("transcript") {
            // 5000 characters of at most 4 bytes each.
            transcript = Some(small_field(&mut field, "transcript", 20_000).await?);
        }
    }
    let (temp, original) =
        file.ok_or_else(|| Error::invalid("file", "the form has no file field"))?;
    let asset = uploads::store_upload(
        studio.store(),
        session,
        &temp,
        original.as_deref(),
        role.as_deref(),
        transcript.as_deref(),
    )
    .await?;
    let asset = studio.transcribe_in_background(session, &asset).await;
    Ok((StatusCode::CREATED, Json(asset)))
}

/// Uploads slower than this on average, once they have run for
/// [`RATE_GRACE`], are cut off: a client cannot hold a connection and a
/// temporary file for hours by trickling bytes.
const MIN_UPLOAD_BYTES_PER_SECOND: u64 = 16 * 1024;
const RATE_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

fn too_slow(written: u64, elapsed: std::time::Duration) -> Result<(), ApiError> {
    if elapsed > RATE_GRACE
        && (written as f64) < MIN_UPLOAD_BYTES_PER_SECOND as f64 * elapsed.as_secs_f64()
    {
        return Err(Error::SlowBody(format!(
            "the upload arrived at under {} KB/s; send it faster",
            MIN_UPLOAD_BYTES_PER_SECOND / 1024
        ))
        .into());
    }
    Ok(())
}

/// A text field of the form, read while it streams and refused (422) as
/// soon as it is longer than `max_bytes`: a huge field is never held whole.
async fn small_field(
    field: &mut axum::extract::multipart::Field<'_>,
    name: &str,
    max_bytes: usize,
) -> Result<String, ApiError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        if bytes.len() + chunk.len() > max_bytes {
            return Err(Error::invalid(name, format!("is limited to {max_bytes} bytes")).into());
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| Error::invalid(name, "is not UTF-8 text").into())
}

fn multipart_error(e: MultipartError) -> ApiError {
    match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError(Error::TooLarge(e.body_text())),
        _ => match super::error::body_error(&e, e.body_text()) {
            Error::BadRequest(text) => ApiError(Error::BadRequest(format!(
                "malformed multipart body: {text}"
            ))),
            slow => ApiError(slow),
        },
    }
}
