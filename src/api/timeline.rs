//! `/api/v1/sessions/{id}/timeline`: the session's saved, versioned timeline.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::AuthorizedSession;
use super::error::{ApiError, ApiJson, ApiQuery, ErrorBody};
use crate::compose::SavedTimeline;
use crate::store::VersionInfo;
use crate::studio::Studio;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// A saved version (default: the newest).
    #[param(minimum = 0)]
    version: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct Versions {
    /// The current version (0: nothing saved).
    current: i64,
    /// Newest first.
    versions: Vec<VersionInfo>,
}

/// The session's saved timeline (or one of its versions).
///
/// A session with nothing saved answers version 0 and an empty timeline.
#[utoipa::path(get, path = "/api/v1/sessions/{session_id}/timeline", tag = "compose", operation_id = "getTimeline",
    params(("session_id" = String, Path), VersionQuery),
    responses((status = 200, body = SavedTimeline, description = "The saved timeline (the latest version, or the one asked for)"), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "Unknown session or version"), (status = 422, body = ErrorBody)))]
pub async fn get(
    State(studio): State<Studio>,
    session: AuthorizedSession,
    ApiQuery(query): ApiQuery<VersionQuery>,
) -> Result<Json<SavedTimeline>, ApiError> {
    let session = session.id();
    Ok(Json(
        studio
            .composer()
            .saved_timeline(session, query.version)
            .await?,
    ))
}

/// Save the session's timeline as a new version.
///
/// Validated exactly as `POST /compose` validates (an empty timeline may be
/// saved). With `"version": K` the save is conditional: when K is not the
/// current version, 409 `version_conflict` and nothing is saved. Undo is
/// saving an older version again.
#[utoipa::path(put, path = "/api/v1/sessions/{session_id}/timeline", tag = "compose", operation_id = "saveTimeline",
    params(("session_id" = String, Path)),
    request_body = SavedTimeline,
    responses((status = 200, body = SavedTimeline, description = "The saved version"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`version_conflict`: another edit was saved first"),
        (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "Invalid timeline: the field names the item's index")))]
pub async fn put(
    State(studio): State<Studio>,
    session: AuthorizedSession,
    ApiJson(update): ApiJson<SavedTimeline>,
) -> Result<Json<SavedTimeline>, ApiError> {
    let session = session.id();
    Ok(Json(
        studio.composer().save_timeline(session, &update).await?,
    ))
}

/// The saved versions of the session's timeline, newest first.
#[utoipa::path(get, path = "/api/v1/sessions/{session_id}/timeline/versions", tag = "compose", operation_id = "listTimelineVersions",
    params(("session_id" = String, Path)),
    responses((status = 200, body = Versions, description = "The saved versions, newest first"), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn versions(
    State(studio): State<Studio>,
    session: AuthorizedSession,
) -> Result<Json<Versions>, ApiError> {
    let session = session.id();
    let versions = studio.composer().timeline_versions(session).await?;
    Ok(Json(Versions {
        current: versions.first().map_or(0, |v| v.version),
        versions,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FrameQuery {
    /// Seconds into the video.
    #[param(minimum = 0, example = 12.4)]
    t: f64,
}

/// A still of the saved timeline at a moment, as a PNG at the draft size.
///
/// Drawn from the one scene segment that shows the moment (overlays,
/// titles and captions included), without a render: what the editor shows
/// while an overlay is placed.
#[utoipa::path(get, path = "/api/v1/sessions/{session_id}/frame", tag = "compose", operation_id = "getFrame",
    params(("session_id" = String, Path), FrameQuery),
    responses((status = 200, content_type = "image/png", description = "The frame"),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "Unknown session"),
        (status = 422, body = ErrorBody, description = "Nothing saved, or `t` outside the video")))]
pub async fn frame(
    State(studio): State<Studio>,
    session: AuthorizedSession,
    ApiQuery(query): ApiQuery<FrameQuery>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let png = studio.still(session.id(), query.t).await?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "image/png"),
            (axum::http::header::CACHE_CONTROL, "no-store"),
        ],
        png,
    )
        .into_response())
}
