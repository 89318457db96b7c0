//! `/api/v1/sessions/{id}/transcripts` and an asset's kept transcript:
//! speech to text for audio and for the sound track of video.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use super::assets::AssetPath;
use super::auth::AuthorizedSession;
use super::error::{ApiError, ApiJson, ApiPath, ApiQuery, ErrorBody};
use crate::error::Error;
use crate::studio::{Studio, TranscribeOutcome};
use crate::tools::transcribe::{self, CutParams, CutPlan, Transcript, TranscriptParams};

/// Transcribe an audio asset, or a video's sound track.
///
/// The words come with their times in seconds of the asset. Audio without
/// speech gives an empty transcript. The transcript is kept with the asset
/// (`GET .../assets/{name}/transcript`). The built-in engine
/// (faster-whisper, Whisper tiny.en) knows English only.
#[utoipa::path(post, path = "/api/v1/sessions/{session_id}/transcripts", tag = "tools", operation_id = "transcribeAsset",
    params(("session_id" = String, Path)),
    request_body = TranscriptParams,
    responses((status = 201, body = Transcript, description = "The transcript"),
        (status = 202, body = super::compose::JobAccepted, description = "Queued (`async`): the job's result is the transcript"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "No such asset, no sound track, too long, or a language the engine does not know"),
        (status = 503, body = ErrorBody, description = "No speech recognition engine is installed")))]
pub async fn create(
    State(studio): State<Studio>,
    session: AuthorizedSession,
    ApiJson(params): ApiJson<TranscriptParams>,
) -> Result<Response, ApiError> {
    Ok(
        match studio
            .transcribe_or_queue(session.id(), &params, Some(session.asker()))
            .await?
        {
            TranscribeOutcome::Done(t) => (StatusCode::CREATED, Json(t)).into_response(),
            TranscribeOutcome::Queued(job) => (
                StatusCode::ACCEPTED,
                Json(super::compose::JobAccepted::from(job)),
            )
                .into_response(),
        },
    )
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Format {
    /// `json` (default), `srt` or `vtt`.
    format: Option<String>,
}

/// An asset's kept transcript, as JSON or as subtitles (`?format=srt|vtt`).
#[utoipa::path(get, path = "/api/v1/sessions/{session_id}/assets/{name}/transcript", tag = "assets", operation_id = "getTranscript",
    params(("session_id" = String, Path), ("name" = String, Path), Format),
    responses((status = 200, body = Transcript, description = "The transcript (or SRT / WebVTT text)"),
        (status = 404, body = ErrorBody, description = "No such asset, or it has no transcript yet"),
        (status = 422, body = ErrorBody)))]
pub async fn get(
    State(studio): State<Studio>,
    session: AuthorizedSession,
    ApiPath(path): ApiPath<AssetPath>,
    ApiQuery(query): ApiQuery<Format>,
) -> Result<Response, ApiError> {
    let transcript = studio.transcript(session.id(), &path.name()?).await?;
    Ok(match query.format.as_deref().unwrap_or("json") {
        "json" => Json(transcript).into_response(),
        "srt" => (
            [(header::CONTENT_TYPE, "application/x-subrip; charset=utf-8")],
            transcribe::subtitles(&transcript, "srt"),
        )
            .into_response(),
        "vtt" => (
            [(header::CONTENT_TYPE, "text/vtt; charset=utf-8")],
            transcribe::subtitles(&transcript, "vtt"),
        )
            .into_response(),
        _ => return Err(Error::invalid("format", "must be json, srt or vtt").into()),
    })
}

/// The transcribed asset named in the path.
#[derive(Deserialize)]
pub struct TranscribedPath {
    asset_id: String,
}

/// Work out cuts from an asset's transcript: words by index, fillers (um,
/// uh, er, ah, hmm, "you know" …) and pauses longer than `max_pause`
/// (shortened to it). Put the answer's `cuts` on the asset's timeline item.
#[utoipa::path(post, path = "/api/v1/sessions/{session_id}/transcripts/{asset_id}/cuts", tag = "tools", operation_id = "planCuts",
    params(("session_id" = String, Path), ("asset_id" = String, Path, example = "audio_1.mp3")),
    request_body = CutParams,
    responses((status = 200, body = CutPlan, description = "The cuts that remove the words asked for, ready for a timeline item's `cuts`"),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "No such asset, or it has no transcript yet"),
        (status = 422, body = ErrorBody)))]
pub async fn cuts(
    State(studio): State<Studio>,
    session: AuthorizedSession,
    ApiPath(path): ApiPath<TranscribedPath>,
    ApiJson(params): ApiJson<CutParams>,
) -> Result<Json<CutPlan>, ApiError> {
    let name = crate::ids::AssetName::parse(&path.asset_id)?;
    Ok(Json(studio.plan_cuts(session.id(), &name, &params).await?))
}
