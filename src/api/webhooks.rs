//! `/api/v1/webhook` (the asker's default callback and signing secret) and
//! a job's webhook deliveries log.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{Asker, AuthorizedSession};
use super::compose::JobPath;
use super::error::{ApiError, ApiJson, ApiPath, ErrorBody};
use crate::error::Error;
use crate::store::{Delivery, WebhookSettings};
use crate::studio::Studio;
use crate::webhooks::Callback;

/// `PUT /webhook` body.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookUpdate {
    /// The default callback for this key's jobs (compose, pipelines,
    /// transcripts) that name none; null: no default (the call still makes
    /// a new signing secret).
    pub url: Option<String>,
    /// `succeeded`, `failed`, `cancelled` (default all).
    pub events: Option<Vec<String>>,
}

/// A job's webhook deliveries.
#[derive(Serialize, ToSchema)]
pub struct Deliveries {
    pub deliveries: Vec<Delivery>,
}

fn asker(asker: Option<axum::Extension<Asker>>) -> String {
    asker.map(|a| a.0.0).unwrap_or_default()
}

/// Set the default callback and get a new signing secret (shown only here).
///
/// Every delivery is a POST of `{"event": "job.succeeded", "job": <the job>,
/// "sent_at"}` with `Studio-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
/// "<t>.<body>" with the secret>`. A new secret replaces the old one at once.
#[utoipa::path(put, path = "/api/v1/webhook", tag = "webhooks", operation_id = "setWebhook",
    request_body = WebhookUpdate,
    responses((status = 200, body = WebhookSettings, description = "The settings, with the new signing secret (shown once)"),
        (status = 422, body = ErrorBody, description = "The URL is malformed, or its host resolves to a private address")))]
pub async fn put(
    State(studio): State<Studio>,
    who: Option<axum::Extension<Asker>>,
    ApiJson(update): ApiJson<WebhookUpdate>,
) -> Result<Json<WebhookSettings>, ApiError> {
    let callback = match update.url {
        Some(url) => {
            let callback = Callback {
                url,
                events: update.events,
            };
            studio
                .check_callback(&callback)
                .await
                .map_err(|e| match e {
                    Error::Invalid { field, message } => {
                        Error::invalid(field.trim_start_matches("callback."), message)
                    }
                    other => other,
                })?;
            Some(callback)
        }
        None if update.events.is_some() => {
            return Err(Error::invalid("events", "events need a url").into());
        }
        None => None,
    };
    Ok(Json(
        studio
            .store()
            .set_webhook(&asker(who), callback.as_ref())
            .await?,
    ))
}

/// The default callback (never the secret).
#[utoipa::path(get, path = "/api/v1/webhook", tag = "webhooks", operation_id = "getWebhook",
    responses((status = 200, body = WebhookSettings, description = "The settings; `url` null when there is no default")))]
pub async fn get(
    State(studio): State<Studio>,
    who: Option<axum::Extension<Asker>>,
) -> Result<Json<WebhookSettings>, ApiError> {
    Ok(Json(studio.store().webhook(&asker(who)).await?.unwrap_or(
        WebhookSettings {
            url: None,
            events: None,
            secret: None,
            updated_at: None,
        },
    )))
}

/// Remove the default callback and the signing secret.
#[utoipa::path(delete, path = "/api/v1/webhook", tag = "webhooks", operation_id = "deleteWebhook",
    responses((status = 204, description = "No default callback; the next delivery makes a new secret")))]
pub async fn delete(
    State(studio): State<Studio>,
    who: Option<axum::Extension<Asker>>,
) -> Result<StatusCode, ApiError> {
    studio.store().delete_webhook(&asker(who)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The webhook deliveries of a job's end, with every attempt.
#[utoipa::path(get, path = "/api/v1/sessions/{session_id}/jobs/{job_id}/deliveries", tag = "webhooks",
    operation_id = "listJobDeliveries",
    params(("session_id" = String, Path), ("job_id" = String, Path)),
    responses((status = 200, body = Deliveries, description = "Each delivery: event, url, status, and its attempts (status code, latency, error)"),
        (status = 404, body = ErrorBody)))]
pub async fn deliveries(
    State(studio): State<Studio>,
    session: AuthorizedSession,
    ApiPath(JobPath { job_id }): ApiPath<JobPath>,
) -> Result<Json<Deliveries>, ApiError> {
    studio.jobs().get(session.id(), &job_id).await?;
    Ok(Json(Deliveries {
        deliveries: studio.store().job_deliveries(&job_id).await?,
    }))
}
