//! `/api/v1/sessions`: create, list, show and delete sessions.

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::AuthorizedSession;
use super::error::{ApiError, ApiQuery, ErrorBody};
use crate::error::Error;
use crate::store::{Principal, Session, SessionDetail};
use crate::studio::Studio;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// How many sessions to return (1–500, default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    /// How many to skip (default 0).
    #[param(minimum = 0)]
    offset: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct SessionPage {
    /// Newest first.
    sessions: Vec<Session>,
    total: i64,
    limit: i64,
    offset: i64,
}

/// Create a session with a server-generated id.
#[utoipa::path(post, path = "/api/v1/sessions", tag = "sessions", operation_id = "createSession",
    responses((status = 201, body = Session, description = "A new, empty session")))]
pub async fn create(
    State(studio): State<Studio>,
    Extension(who): Extension<Principal>,
) -> Result<(StatusCode, Json<Session>), ApiError> {
    let session = studio.store().create_session_for(who.key_id()).await?;
    Ok((StatusCode::CREATED, Json(session)))
}

/// List sessions, newest first.
#[utoipa::path(get, path = "/api/v1/sessions", tag = "sessions", operation_id = "listSessions", params(Page),
    responses((status = 200, body = SessionPage, description = "The asker's sessions, newest first, a page at a time"), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(studio): State<Studio>,
    Extension(who): Extension<Principal>,
    ApiQuery(page): ApiQuery<Page>,
) -> Result<Json<SessionPage>, ApiError> {
    let limit = page.limit.unwrap_or(50);
    let offset = page.offset.unwrap_or(0);
    if !(1..=500).contains(&limit) {
        return Err(Error::invalid("limit", "must be between 1 and 500").into());
    }
    if offset < 0 {
        return Err(Error::invalid("offset", "must not be negative").into());
    }
    let (sessions, total) = studio
        .store()
        .list_sessions(Some(&who), limit, offset)
        .await?;
    Ok(Json(SessionPage {
        sessions,
        total,
        limit,
        offset,
    }))
}

/// Show a session with its asset counts.
#[utoipa::path(get, path = "/api/v1/sessions/{session_id}", tag = "sessions", operation_id = "getSession",
    params(("session_id" = String, Path, description = "Session id: 1–64 of A-Z a-z 0-9 _ -")),
    responses((status = 200, body = SessionDetail, description = "The session and its counts"), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(studio): State<Studio>,
    session: AuthorizedSession,
) -> Result<Json<SessionDetail>, ApiError> {
    let id = session.id();
    Ok(Json(studio.store().session_detail(id).await?))
}

/// Delete a session and all its assets (bytes included).
#[utoipa::path(delete, path = "/api/v1/sessions/{session_id}", tag = "sessions", operation_id = "deleteSession",
    params(("session_id" = String, Path)),
    responses((status = 204, description = "The session, its assets and its files are gone"), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(studio): State<Studio>,
    session: AuthorizedSession,
) -> Result<StatusCode, ApiError> {
    let id = session.id();
    studio.store().delete_session(id).await?;
    Ok(StatusCode::NO_CONTENT)
}
