//! `/api/v1/sessions/{id}/brand` (a session's brand kit) and `/api/v1/brand`
//! (a key's default kit, for its sessions without one of their own).

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};

use super::auth::AuthorizedSession;
use super::error::{ApiError, ApiJson, ErrorBody};
use crate::compose::brand::{BrandKit, BrandView};
use crate::error::Error;
use crate::ids::SessionId;
use crate::store::{Access, Principal};
use crate::studio::Studio;

/// The session's brand kit: its own, else its key's default (`source`
/// says which; `none` with empty fields when there is neither).
#[utoipa::path(get, path = "/api/v1/sessions/{session_id}/brand", tag = "brand", operation_id = "getBrand",
    params(("session_id" = String, Path)),
    responses((status = 200, body = BrandView, description = "The kit the session's renders wear"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(studio): State<Studio>,
    session: AuthorizedSession,
) -> Result<Json<BrandView>, ApiError> {
    Ok(Json(studio.composer().brand(session.id()).await?))
}

/// Set the session's brand kit (replacing the whole kit).
///
/// Titles, text overlays and captions take its font and colours (karaoke's
/// lit word in the accent); its `watermark` draws the logo over every
/// render unless a compose says `"brand": false`.
#[utoipa::path(put, path = "/api/v1/sessions/{session_id}/brand", tag = "brand", operation_id = "setBrand",
    params(("session_id" = String, Path)),
    request_body = BrandKit,
    responses((status = 200, body = BrandView, description = "The kit as saved"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "A field is wrong: a logo that is not a picture of the session, a font that is not an uploaded font, a colour that is not #rrggbb, a watermark without a logo")))]
pub async fn put(
    State(studio): State<Studio>,
    session: AuthorizedSession,
    ApiJson(kit): ApiJson<BrandKit>,
) -> Result<Json<BrandView>, ApiError> {
    Ok(Json(studio.composer().set_brand(session.id(), &kit).await?))
}

/// Remove the session's own kit (the key's default applies again).
#[utoipa::path(delete, path = "/api/v1/sessions/{session_id}/brand", tag = "brand", operation_id = "deleteBrand",
    params(("session_id" = String, Path)),
    responses((status = 204, description = "Removed"), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(studio): State<Studio>,
    session: AuthorizedSession,
) -> Result<StatusCode, ApiError> {
    studio.composer().delete_brand(session.id()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whose default kit: the key's, or the server's when there are no keys.
fn owner(who: &Principal) -> &str {
    who.key_id().unwrap_or_default()
}

/// The key's default brand kit (the server's, without keys).
#[utoipa::path(get, path = "/api/v1/brand", tag = "brand", operation_id = "getDefaultBrand",
    responses((status = 200, body = BrandView, description = "The default kit (`source` `none` when there is none)")))]
pub async fn get_default(
    State(studio): State<Studio>,
    Extension(who): Extension<Principal>,
) -> Result<Json<BrandView>, ApiError> {
    Ok(Json(studio.composer().default_brand(owner(&who)).await?))
}

/// Set the key's default brand kit: every session of the key without a kit
/// of its own wears it. Its `logo` and `font` are assets of the session
/// `session_id` names.
#[utoipa::path(put, path = "/api/v1/brand", tag = "brand", operation_id = "setDefaultBrand",
    request_body = BrandKit,
    responses((status = 200, body = BrandView, description = "The default kit as saved"),
        (status = 400, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "A field is wrong, or `session_id` names no session of the key")))]
pub async fn put_default(
    State(studio): State<Studio>,
    Extension(who): Extension<Principal>,
    ApiJson(kit): ApiJson<BrandKit>,
) -> Result<Json<BrandView>, ApiError> {
    let home = match kit.session_id.as_deref() {
        Some(raw) => {
            let id = SessionId::parse(raw).map_err(|_| {
                Error::invalid("session_id", "a session id is 1–64 of A–Z a–z 0–9 _ -")
            })?;
            match studio.store().session_access(&id, &who, false).await? {
                Access::Allowed => Some(id),
                _ => return Err(Error::invalid("session_id", "no such session").into()),
            }
        }
        None => None,
    };
    Ok(Json(
        studio
            .composer()
            .set_default_brand(owner(&who), home.as_ref(), &kit)
            .await?,
    ))
}

/// Remove the key's default kit.
#[utoipa::path(delete, path = "/api/v1/brand", tag = "brand", operation_id = "deleteDefaultBrand",
    responses((status = 204, description = "Removed")))]
pub async fn delete_default(
    State(studio): State<Studio>,
    Extension(who): Extension<Principal>,
) -> Result<StatusCode, ApiError> {
    studio.composer().delete_default_brand(owner(&who)).await?;
    Ok(StatusCode::NO_CONTENT)
}
