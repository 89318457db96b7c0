//! The coordinator's routes: a request in plain words, and the session's
//! conversation.

use crate::error::Error;
use axum::Json;
use axum::extract::State;

use super::auth::AuthorizedSession;
use super::error::{ApiError, ApiJson, ErrorBody};
use crate::agent::{AgentReply, AgentRequest, Caller};
use crate::store::Principal;
use crate::studio::Studio;

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
    axum::Extension(who): axum::Extension<Principal>,
    session: AuthorizedSession,
    ApiJson(req): ApiJson<AgentRequest>,
) -> Result<Json<AgentReply>, ApiError> {
    let caller = Caller {
        key: who.key_id(),
        asker: Some(session.asker()),
    };
    let reply = coordinator.ask(&studio, session.id(), &req, caller).await;
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
