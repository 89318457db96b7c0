//! `/api/v1/sessions/{id}/compose` and the jobs it starts.

use std::convert::Infallible;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::AuthorizedSession;
use super::error::{ApiError, ApiJson, ApiPath, ErrorBody};
use crate::compose::ComposeRequest;
use crate::jobs::JobView;
use crate::store::Asset;
use crate::studio::ComposeOutcome;
use crate::studio::Studio;

/// The job named in the path (the session comes with [`AuthorizedSession`]).
#[derive(serde::Deserialize)]
pub struct JobPath {
    pub job_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct JobAccepted {
    job_id: String,
    status_url: String,
    events_url: String,
}

impl From<JobView> for JobAccepted {
    fn from(job: JobView) -> Self {
        Self {
            job_id: job.job_id,
            status_url: job.status_url,
            events_url: job.events_url,
        }
    }
}

/// Compose a timeline of the session's assets into an MP4.
///
/// Items play in order. A visual item (image or video clip) starts a new
/// scene; the audio items after it, up to the next visual, play in that scene
/// one after another. A scene lasts its `duration` when given, else as long as
/// its audio, else (a clip) the clip's length, else 3 s. Audio items before
/// the first visual play from the start. An image shown longer than its audio
/// is silent for the rest; audio longer than its scene is cut at the scene's
/// end with a short fade. A `transition` into a scene overlaps it with the
/// previous scene by its duration. Without `timeline`, the session's saved
/// timeline is composed (its options overridable in the body). Scenes
/// unchanged since an earlier render are reused (`metadata.render` tells how
/// many). Synchronous by default (201 with the video asset); with
/// `"async": true`, 202 with a job to follow.
#[utoipa::path(post, path = "/api/v1/sessions/{session_id}/compose", tag = "compose", operation_id = "compose",
    params(("session_id" = String, Path)),
    request_body = ComposeRequest,
    responses((status = 201, body = Asset, description = "The video asset"),
        (status = 202, body = JobAccepted, description = "Queued (async)"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "Invalid timeline: the field names the item's index"),
        (status = 503, body = ErrorBody, description = "ffmpeg is missing")))]
pub async fn compose(
    State(studio): State<Studio>,
    session: AuthorizedSession,
    ApiJson(req): ApiJson<ComposeRequest>,
) -> Result<Response, ApiError> {
    Ok(
        match studio
            .compose(session.id(), &req, Some(session.asker()))
            .await?
        {
            ComposeOutcome::Done(asset) => (StatusCode::CREATED, Json(asset)).into_response(),
            ComposeOutcome::Queued(job) => {
                (StatusCode::ACCEPTED, Json(JobAccepted::from(job))).into_response()
            }
        },
    )
}

/// A job's status, progress and outcome.
#[utoipa::path(get, path = "/api/v1/sessions/{session_id}/jobs/{job_id}", tag = "compose", operation_id = "getJob",
    params(("session_id" = String, Path), ("job_id" = String, Path)),
    responses((status = 200, body = JobView, description = "The job: status, progress, step, result or error"), (status = 404, body = ErrorBody)))]
pub async fn job(
    State(studio): State<Studio>,
    session: AuthorizedSession,
    ApiPath(JobPath { job_id: id }): ApiPath<JobPath>,
) -> Result<Json<JobView>, ApiError> {
    let session = session.id();
    Ok(Json(studio.jobs().get(session, &id).await?))
}

/// Cancel a job (a running render's ffmpeg is stopped).
#[utoipa::path(delete, path = "/api/v1/sessions/{session_id}/jobs/{job_id}", tag = "compose", operation_id = "cancelJob",
    params(("session_id" = String, Path), ("job_id" = String, Path)),
    responses((status = 202, body = JobView, description = "Cancellation asked: the job stops within a second"), (status = 404, body = ErrorBody)))]
pub async fn cancel(
    State(studio): State<Studio>,
    session: AuthorizedSession,
    ApiPath(JobPath { job_id: id }): ApiPath<JobPath>,
) -> Result<(StatusCode, Json<JobView>), ApiError> {
    let session = session.id();
    Ok((
        StatusCode::ACCEPTED,
        Json(studio.jobs().cancel(session, &id).await?),
    ))
}

/// The job's states as server-sent events (`event: job`, JSON data), ending
/// when the job does.
#[utoipa::path(get, path = "/api/v1/sessions/{session_id}/jobs/{job_id}/events", tag = "compose", operation_id = "streamJobEvents",
    params(("session_id" = String, Path), ("job_id" = String, Path)),
    responses((status = 200, description = "text/event-stream of JobView"), (status = 404, body = ErrorBody)))]
pub async fn events(
    State(studio): State<Studio>,
    session: AuthorizedSession,
    ApiPath(JobPath { job_id: id }): ApiPath<JobPath>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let session = session.id();
    // Unknown jobs are a 404 before the stream starts.
    studio.jobs().get(session, &id).await?;
    let stream = studio.jobs().watch(session, &id);
    let events = stream.map(|v| {
        Ok(Event::default()
            .event("job")
            .json_data(&v)
            .unwrap_or_default())
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}
