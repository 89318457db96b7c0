//! The generation routes: each takes its tool's argument type as JSON and
//! answers 201 with what the tool made.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::error::{ApiError, ApiJson, ApiPath, ErrorBody};
use crate::ids::SessionId;
use crate::store::Asset;
use crate::studio::Studio;
use crate::tools::image::ImageParams;

/// Generate an image from a prompt. Creates the session on first use.
#[utoipa::path(post, path = "/api/v1/sessions/{session_id}/image", tag = "tools",
    params(("session_id" = String, Path)),
    request_body = ImageParams,
    responses((status = 201, body = Asset, description = "The new image asset; `url` serves the picture"),
        (status = 400, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 502, body = ErrorBody, description = "The image provider failed"),
        (status = 504, body = ErrorBody)))]
pub async fn image(
    State(studio): State<Studio>,
    ApiPath(session): ApiPath<String>,
    ApiJson(params): ApiJson<ImageParams>,
) -> Result<(StatusCode, Json<Asset>), ApiError> {
    let session = SessionId::parse(&session)?;
    Ok((
        StatusCode::CREATED,
        Json(studio.generate_image(&session, &params).await?),
    ))
}
