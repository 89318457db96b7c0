//! `/api/v1/templates`: compose bodies with `{{field}}` placeholders, kept
//! per key, and their renders, one row or a batch of rows
//! (`/api/v1/batches/{id}` follows and cancels a batch);
//! `/sessions/{id}/timeline/template` makes one of a saved timeline.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{StatusCode, header};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{Asker, AuthorizedSession};
use super::error::{ApiError, ApiJson, ApiPath, ApiQuery, ErrorBody, body_error};
use crate::error::Error;
use crate::ids::SessionId;
use crate::jobs::{BatchStarted, BatchView};
use crate::store::{Access, Principal};
use crate::studio::Studio;
use crate::templates::{
    Owner, RenderRequest, RenderStarted, Template, TemplateInput, merges_from_csv,
};

#[derive(Deserialize)]
pub struct TemplatePath {
    template_id: String,
}

/// Where a render goes, for a CSV body (a JSON body says it in `session_id`).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RenderWhere {
    /// Render every row in this session (its assets named by the template).
    #[param(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    session_id: Option<String>,
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

/// A render's body: JSON (one row in `merge`, or a batch in `merges`), or
/// CSV whose header row names the fields, one render per later row.
pub enum RenderBody {
    Json(RenderRequest),
    Csv(String),
}

impl<S: Send + Sync> FromRequest<S> for RenderBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_csv = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("text/csv"));
        if !is_csv {
            return Ok(RenderBody::Json(ApiJson::from_request(req, state).await?.0));
        }
        let body = Bytes::from_request(req, state).await.map_err(|e| {
            ApiError(match e.status() {
                StatusCode::PAYLOAD_TOO_LARGE => Error::TooLarge(e.body_text()),
                _ => body_error(&e, e.body_text()),
            })
        })?;
        let text = String::from_utf8(body.to_vec())
            .map_err(|_| Error::invalid("body", "CSV text is UTF-8"))?;
        Ok(RenderBody::Csv(text))
    }
}

/// A render started, or a batch of them.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum RenderAnswer {
    One(RenderStarted),
    Batch(BatchStarted),
}

/// Render a template with a row of values, as a job; or with many rows, as a batch.
///
/// One row (`merge`): in a new session (owned by the key) unless
/// `session_id` names one; the answer names the session and the job.
/// Many rows (`merges`, or a `text/csv` body whose header row names the
/// fields): a batch, one job per row, each in a new session unless
/// `session_id` (in the body, or the query for CSV) names one; follow it
/// at `status_url`. A batch's jobs go
/// to the workers a few at a time, so the key's single renders still run.
/// Missing, unknown or wrong fields are 422 naming `merge.<field>` or
/// `merges[i].<field>` before anything is made.
#[utoipa::path(post, path = "/api/v1/templates/{template_id}/renders", tag = "templates", operation_id = "renderTemplate",
    params(("template_id" = String, Path), RenderWhere),
    request_body(content((RenderRequest = "application/json"), (String = "text/csv"))),
    responses((status = 202, body = RenderAnswer, description = "Queued: follow the job, or the batch"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "A merge value is missing or wrong, or the merged body does not compose"),
        (status = 429, body = ErrorBody)))]
pub async fn render(
    State(studio): State<Studio>,
    Extension(who): Extension<Principal>,
    Extension(asker): Extension<Asker>,
    ApiPath(TemplatePath { template_id }): ApiPath<TemplatePath>,
    ApiQuery(place): ApiQuery<RenderWhere>,
    body: RenderBody,
) -> Result<(StatusCode, Json<RenderAnswer>), ApiError> {
    let mut render = match body {
        RenderBody::Json(render) => render,
        RenderBody::Csv(text) => RenderRequest {
            merges: Some(merges_from_csv(&text)?),
            ..RenderRequest::default()
        },
    };
    if let Some(session) = place.session_id {
        if render.session_id.as_ref().is_some_and(|s| *s != session) {
            return Err(Error::invalid(
                "session_id",
                "the query and the body name different sessions",
            )
            .into());
        }
        render.session_id = Some(session);
    }
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
    let (owner, key) = (owner(&who), who.key_id());
    let answer = if render.merges.is_some() {
        RenderAnswer::Batch(
            studio
                .render_template_batch(owner, key, &template_id, session, &render, &asker.0)
                .await?,
        )
    } else {
        RenderAnswer::One(
            studio
                .render_template(owner, key, &template_id, session, &render, &asker.0)
                .await?,
        )
    };
    Ok((StatusCode::ACCEPTED, Json(answer)))
}

#[derive(Deserialize)]
pub struct BatchPath {
    batch_id: String,
}

/// A batch: counts by status, progress over all rows, and each row's job
/// and result.
#[utoipa::path(get, path = "/api/v1/batches/{batch_id}", tag = "templates", operation_id = "getBatch",
    params(("batch_id" = String, Path)),
    responses((status = 200, body = BatchView, description = "The batch"), (status = 404, body = ErrorBody)))]
pub async fn batch(
    State(studio): State<Studio>,
    Extension(who): Extension<Principal>,
    ApiPath(BatchPath { batch_id }): ApiPath<BatchPath>,
) -> Result<Json<BatchView>, ApiError> {
    Ok(Json(studio.batch(owner(&who), &batch_id).await?))
}

/// Cancel what has not finished of a batch: rows waiting stop at once,
/// running ones within a second; finished rows keep their videos.
#[utoipa::path(delete, path = "/api/v1/batches/{batch_id}", tag = "templates", operation_id = "cancelBatch",
    params(("batch_id" = String, Path)),
    responses((status = 200, body = BatchView, description = "The batch after the cancel"), (status = 404, body = ErrorBody)))]
pub async fn cancel_batch(
    State(studio): State<Studio>,
    Extension(who): Extension<Principal>,
    ApiPath(BatchPath { batch_id }): ApiPath<BatchPath>,
) -> Result<Json<BatchView>, ApiError> {
    Ok(Json(studio.cancel_batch(owner(&who), &batch_id).await?))
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
