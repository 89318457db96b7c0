//! `/api/v1/templates`: compose bodies with `{{field}}` placeholders, kept
//! per key, and their renders; `/sessions/{id}/timeline/template` makes
//! one of a saved timeline.

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{Asker, AuthorizedSession};
use super::error::{ApiError, ApiJson, ApiPath, ErrorBody};
use crate::error::Error;
use crate::ids::SessionId;
use crate::store::{Access, Principal};
use crate::studio::Studio;
use crate::templates::{Owner, RenderRequest, RenderStarted, Template, TemplateInput};

#[derive(Deserialize)]
pub struct TemplatePath {
    template_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct TemplateList {
    /// Newest first.
    templates: Vec<Template>,
}

/// `POST .../timeline/template` body.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FromTimeline {
    #[schema(example = "Weekly news")]
    name: String,
}

fn owner(who: &Principal) -> Owner<'_> {
    Owner {
        id: who.key_id().unwrap_or_default(),
        admin: who.is_admin(),
    }
}

/// Make a template: a compose body whose strings may hold `{{field}}`.
///
/// Fields may be declared (`text` with `max_length`, or `asset` with
/// `kind`, and a `default`); placeholders used but not declared are text.
/// The body must be a compose request once its placeholders are filled.
#[utoipa::path(post, path = "/api/v1/templates", tag = "templates", operation_id = "createTemplate",
    request_body = TemplateInput,
    responses((status = 201, body = Template, description = "The template, with every field"),
        (status = 400, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "A field is wrong: `body.timeline[0].duraton`, `fields.photo.kind` ...")))]
pub async fn create(
    State(studio): State<Studio>,
    Extension(who): Extension<Principal>,
    ApiJson(input): ApiJson<TemplateInput>,
) -> Result<(StatusCode, Json<Template>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(studio.create_template(owner(&who), &input).await?),
    ))
}

/// The key's templates (an admin key: everyone's), newest first.
#[utoipa::path(get, path = "/api/v1/templates", tag = "templates", operation_id = "listTemplates",
    responses((status = 200, body = TemplateList, description = "The templates")))]
pub async fn list(
    State(studio): State<Studio>,
    Extension(who): Extension<Principal>,
) -> Result<Json<TemplateList>, ApiError> {
    Ok(Json(TemplateList {
        templates: studio.templates(owner(&who)).await?,
    }))
}

#[utoipa::path(get, path = "/api/v1/templates/{template_id}", tag = "templates", operation_id = "getTemplate",
    params(("template_id" = String, Path)),
    responses((status = 200, body = Template, description = "The template"), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(studio): State<Studio>,
    Extension(who): Extension<Principal>,
    ApiPath(TemplatePath { template_id }): ApiPath<TemplatePath>,
) -> Result<Json<Template>, ApiError> {
    Ok(Json(studio.template(owner(&who), &template_id).await?))
}

/// Replace a template (name, description, body, fields).
#[utoipa::path(put, path = "/api/v1/templates/{template_id}", tag = "templates", operation_id = "replaceTemplate",
    params(("template_id" = String, Path)),
    request_body = TemplateInput,
    responses((status = 200, body = Template, description = "The template as saved"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn put(
    State(studio): State<Studio>,
    Extension(who): Extension<Principal>,
    ApiPath(TemplatePath { template_id }): ApiPath<TemplatePath>,
    ApiJson(input): ApiJson<TemplateInput>,
) -> Result<Json<Template>, ApiError> {
    Ok(Json(
        studio
            .replace_template(owner(&who), &template_id, &input)
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/templates/{template_id}", tag = "templates", operation_id = "deleteTemplate",
    params(("template_id" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(studio): State<Studio>,
    Extension(who): Extension<Principal>,
    ApiPath(TemplatePath { template_id }): ApiPath<TemplatePath>,
) -> Result<StatusCode, ApiError> {
    studio.delete_template(owner(&who), &template_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Render a template with a row of values, as a job.
///
/// In a new session (owned by the key) unless `session_id` names one; the
/// answer names the session. Missing, unknown or wrong fields are 422
/// naming `merge.<field>` before anything is made.
#[utoipa::path(post, path = "/api/v1/templates/{template_id}/renders", tag = "templates", operation_id = "renderTemplate",
    params(("template_id" = String, Path)),
    request_body = RenderRequest,
    responses((status = 202, body = RenderStarted, description = "Queued: follow the job"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "A merge value is missing or wrong, or the merged body does not compose"),
        (status = 429, body = ErrorBody)))]
pub async fn render(
    State(studio): State<Studio>,
    Extension(who): Extension<Principal>,
    Extension(asker): Extension<Asker>,
    ApiPath(TemplatePath { template_id }): ApiPath<TemplatePath>,
    ApiJson(render): ApiJson<RenderRequest>,
) -> Result<(StatusCode, Json<RenderStarted>), ApiError> {
    let session = match render.session_id.as_deref() {
        Some(raw) => {
            let id = SessionId::parse(raw).map_err(|_| {
                Error::invalid("session_id", "a session id is 1–64 of A–Z a–z 0–9 _ -")
            })?;
            match studio.store().session_access(&id, &who, true).await? {
                Access::Allowed | Access::Unclaimed => Some(id),
                Access::Hidden => {
                    return Err(Error::invalid("session_id", "no such session").into());
                }
            }
        }
        None => None,
    };
    let started = studio
        .render_template(
            owner(&who),
            who.key_id(),
            &template_id,
            session,
            &render,
            &asker.0,
        )
        .await?;
    Ok((StatusCode::ACCEPTED, Json(started)))
}

/// Make a template of the session's saved timeline (its options included).
#[utoipa::path(post, path = "/api/v1/sessions/{session_id}/timeline/template", tag = "templates", operation_id = "templateFromTimeline",
    params(("session_id" = String, Path)),
    request_body = FromTimeline,
    responses((status = 201, body = Template, description = "The template"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "Nothing saved, or a bad name")))]
pub async fn from_timeline(
    State(studio): State<Studio>,
    Extension(who): Extension<Principal>,
    session: AuthorizedSession,
    ApiJson(body): ApiJson<FromTimeline>,
) -> Result<(StatusCode, Json<Template>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(
            studio
                .template_from_timeline(owner(&who), session.id(), &body.name)
                .await?,
        ),
    ))
}
