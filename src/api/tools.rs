//! The generation tools' routes (image, voice-over, social post): each takes its tool's argument type as JSON and
//! answers 201 with what the tool made.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::auth::AuthorizedSession;
use super::error::{ApiError, ApiJson, ErrorBody};
use crate::store::Asset;
use crate::studio::Studio;
use crate::tools::image::ImageParams;
use crate::tools::social::{SocialParams, SocialResult};
use crate::tools::speech::SpeechParams;

/// Generate an image from a prompt. Creates the session on first use.
#[utoipa::path(post, path = "/api/v1/sessions/{session_id}/image", tag = "tools", operation_id = "generateImage",
    params(("session_id" = String, Path)),
    request_body = ImageParams,
    responses((status = 201, body = Asset, description = "The new image asset; `url` serves the picture"),
        (status = 400, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 502, body = ErrorBody, description = "The image provider failed"),
        (status = 504, body = ErrorBody)))]
pub async fn image(
    State(studio): State<Studio>,
    session: AuthorizedSession,
    ApiJson(params): ApiJson<ImageParams>,
) -> Result<(StatusCode, Json<Asset>), ApiError> {
    let session = session.id();
    Ok((
        StatusCode::CREATED,
        Json(studio.generate_image(session, &params, None).await?),
    ))
}

/// Speak text as a voice-over. Creates the session on first use.
#[utoipa::path(post, path = "/api/v1/sessions/{session_id}/audio", tag = "tools", operation_id = "synthesizeAudio",
    params(("session_id" = String, Path)),
    request_body = SpeechParams,
    responses((status = 201, body = Asset, description = "The new audio asset; `metadata` has `duration_seconds`, `voice_name`, `text` and sentence `segments`"),
        (status = 400, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
pub async fn audio(
    State(studio): State<Studio>,
    session: AuthorizedSession,
    ApiJson(params): ApiJson<SpeechParams>,
) -> Result<(StatusCode, Json<Asset>), ApiError> {
    let session = session.id();
    Ok((
        StatusCode::CREATED,
        Json(studio.synthesize_voiceover(session, &params, None).await?),
    ))
}

/// Write a social media post (`title`, `description`, `hashtags`) about a
/// text, held to the platform's rules, and store it as a `social` asset.
#[utoipa::path(post, path = "/api/v1/sessions/{session_id}/social", tag = "tools", operation_id = "writeSocialPost",
    params(("session_id" = String, Path)),
    request_body = SocialParams,
    responses((status = 201, body = SocialResult, description = "The post (title, description, hashtags), stored as a social asset"),
        (status = 400, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
pub async fn social(
    State(studio): State<Studio>,
    session: AuthorizedSession,
    ApiJson(params): ApiJson<SocialParams>,
) -> Result<(StatusCode, Json<SocialResult>), ApiError> {
    let session = session.id();
    Ok((
        StatusCode::CREATED,
        Json(studio.generate_social_post(session, &params, None).await?),
    ))
}
