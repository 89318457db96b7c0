//! `POST /api/v1/sessions/{id}/uploads`: users' own images, audio and video.
//! The file is streamed to a temporary file (constant memory), then checked
//! and stored by [`crate::uploads`].

use axum::Json;
use axum::extract::State;
use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::http::StatusCode;
use tokio::io::AsyncWriteExt;
use utoipa::ToSchema;

use super::error::{ApiError, ApiPath, ErrorBody};
use crate::error::Error;
use crate::ids::SessionId;
use crate::store::Asset;
use crate::studio::Studio;
use crate::uploads;

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
#[utoipa::path(post, path = "/api/v1/sessions/{session_id}/uploads", tag = "assets",
    params(("session_id" = String, Path)),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, body = Asset), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn upload(
    State(studio): State<Studio>,
    ApiPath(session): ApiPath<String>,
    headers: axum::http::HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<Asset>), ApiError> {
    let session = SessionId::parse(&session)?;
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
            while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                written += chunk.len() as u64;
                if written > max {
                    return Err(
                        Error::TooLarge(format!("uploads are limited to {max} bytes")).into(),
                    );
                }
                out.write_all(&chunk).await?;
            }
            out.flush().await?;
            if written == 0 {
                return Err(Error::invalid("file", "the file is empty").into());
            }
            file = Some((temp, original));
        } else if field.name() == Some("role") {
            role = Some(field.text().await.map_err(multipart_error)?);
        } else if field.name() == Some("transcript") {
            transcript = Some(field.text().await.map_err(multipart_error)?);
        }
    }
    let (temp, original) =
        file.ok_or_else(|| Error::invalid("file", "the form has no file field"))?;
    let asset = uploads::store_upload(
        studio.store(),
        &session,
        &temp,
        original.as_deref(),
        role.as_deref(),
        transcript.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(asset)))
}

fn multipart_error(e: MultipartError) -> ApiError {
    match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError(Error::TooLarge(e.body_text())),
        _ => ApiError(Error::BadRequest(format!(
            "malformed multipart body: {}",
            e.body_text()
        ))),
    }
}
