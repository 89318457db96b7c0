//! The generation routes: each takes its tool's argument type as JSON and
//! answers 201 with what the tool made.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::auth::AuthorizedSession;
use super::error::{ApiError, ApiJson, ApiPath, ErrorBody};
use crate::agent::{AgentReply, AgentRequest};
use crate::error::Error;
use crate::store::Asset;
use crate::studio::Studio;
use crate::tools::image::ImageParams;
use crate::tools::social::{SocialParams, SocialResult};
use crate::tools::speech::{SpeechParams, Voice};

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
        Json(studio.generate_image(session, &params).await?),
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
        Json(studio.synthesize_voiceover(session, &params).await?),
    ))
}

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
        Json(studio.generate_social_post(session, &params).await?),
    ))
}

/// Ask the coordinator in plain words: it calls the one tool that fits
/// (interactive mode) or runs the whole pipeline (automatic mode).
#[utoipa::path(post, path = "/api/v1/sessions/{session_id}/agent", tag = "tools", operation_id = "askAgent",
    params(("session_id" = String, Path)),
    request_body = AgentRequest,
    responses((status = 200, body = AgentReply, description = "What the coordinator did: the tool it chose, its arguments and result"), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 502, body = ErrorBody)))]
pub async fn agent(
    State(studio): State<Studio>,
    axum::Extension(coordinator): axum::Extension<std::sync::Arc<crate::agent::Agent>>,
    session: AuthorizedSession,
    ApiJson(req): ApiJson<AgentRequest>,
) -> Result<Json<AgentReply>, ApiError> {
    let session = session.id();
    let reply = coordinator.ask(&studio, session, &req).await;
    // A tool's argument the coordinator took from the message is the
    // message's fault, as far as the request goes.
    let reply = reply.map_err(|e| match e {
        Error::Invalid { field, message } if field != "message" && field != "mode" => {
            Error::Invalid {
                field: "message".into(),
                message: format!("{field} {message}"),
            }
        }
        e => e,
    });
    Ok(Json(reply?))
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Conversation {
    /// Oldest first.
    messages: Vec<crate::store::Message>,
}

/// The session's conversation with the coordinator, oldest first.
#[utoipa::path(get, path = "/api/v1/sessions/{session_id}/messages", tag = "tools", operation_id = "getMessages",
    params(("session_id" = String, Path)),
    responses((status = 200, body = Conversation, description = "The session's conversation with the coordinator"), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn messages(
    State(studio): State<Studio>,
    session: AuthorizedSession,
) -> Result<Json<Conversation>, ApiError> {
    let session = session.id();
    Ok(Json(Conversation {
        messages: studio.store().messages(session).await?,
    }))
}
