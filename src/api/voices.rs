//! The voices routes: what the speech providers offer, and a sample of each.

use axum::Json;
use axum::extract::State;

use super::error::{ApiError, ApiPath, ErrorBody};
use crate::error::Error;
use crate::studio::Studio;
use crate::tools::speech::Voice;

/// The voices the configured speech providers offer.
#[utoipa::path(get, path = "/api/v1/voices", tag = "tools", operation_id = "listVoices",
    responses((status = 200, body = [Voice], description = "The voices this server can speak, the natural ones first")))]
pub async fn voices(State(studio): State<Studio>) -> Json<Vec<Voice>> {
    Json(studio.voices().await)
}

/// Hear a voice: a short sentence spoken by it, as MP3 (nothing is stored).
#[utoipa::path(get, path = "/api/v1/voices/{name}/sample", tag = "tools", operation_id = "getVoiceSample",
    params(("name" = String, Path, example = "en-US-Neural2-D")),
    responses((status = 200, content_type = "audio/mpeg", description = "The sample"),
        (status = 404, body = ErrorBody, description = "Unknown voice"), (status = 503, body = ErrorBody)))]
pub async fn voice_sample(
    State(studio): State<Studio>,
    ApiPath(name): ApiPath<String>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let bytes = studio.voice_sample(&name).await.map_err(|e| match e {
        // The voice in the path is the resource: an unknown one is not found.
        Error::Invalid { field, message } if field == "voice_name" => Error::UnknownVoice(message),
        other => other,
    })?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "audio/mpeg"),
            (axum::http::header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        bytes,
    )
        .into_response())
}
