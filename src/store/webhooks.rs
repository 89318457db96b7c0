//! Webhook rows: an asker's default callback and signing secret, the
//! deliveries queued when jobs end, and each attempt at one.

use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use super::{Store, now, timestamp};
use crate::error::Result;
use crate::webhooks::Callback;

/// An asker's webhook settings (the secret is shown once, when set).
#[derive(Clone, Debug, Serialize, ToSchema, PartialEq, Eq)]
pub struct WebhookSettings {
    /// The default callback URL for the asker's jobs (null: none).
    pub url: Option<String>,
    /// The events the default callback is told of (null: all).
    pub events: Option<Vec<String>>,
    /// The signing secret: in the answer to `PUT` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    pub updated_at: Option<String>,
}

/// One delivery, as its job's deliveries log shows it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Delivery {
    pub delivery_id: String,
    /// `job.succeeded`, `job.failed` or `job.cancelled`.
    pub event: String,
    pub url: String,
    /// `pending` (to be tried again), `delivered` or `failed` (given up).
    pub status: String,
    /// When the next attempt is due, while pending.
    pub next_attempt_at: Option<String>,
    pub attempts: Vec<AttemptLog>,
}

/// One attempt at a delivery.
#[derive(Clone, Debug, Serialize, ToSchema, PartialEq)]
pub struct AttemptLog {
    pub attempt: i64,
    pub at: String,
    /// The receiver's status code (null: no answer).
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<String>,
}

/// A delivery a worker has claimed for one attempt.
#[derive(Clone, Debug)]
pub struct DueDelivery {
    pub id: String,
    pub owner: Option<String>,
    pub event: String,
    pub url: String,
    /// The job's view when it ended.
    pub payload: String,
    pub attempts: i64,
    /// Unix milliseconds.
    pub created_at: i64,
}

impl Store {
    /// Sets the asker's default callback (or none) and a new signing secret.
    pub async fn set_webhook(
        &self,
        owner: &str,
        callback: Option<&Callback>,
    ) -> Result<WebhookSettings> {
        let secret = crate::webhooks::new_secret()?;
        let events = callback
            .and_then(|c| c.events.as_ref())
            .map(|e| serde_json::to_string(e).unwrap_or_default());
        let updated_at = timestamp(&now());
        sqlx::query(
            "INSERT INTO webhooks (owner, url, events, secret, updated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (owner) DO UPDATE SET url = excluded.url, events = excluded.events, \
             secret = excluded.secret, updated_at = excluded.updated_at",
        )
        .bind(owner)
        .bind(callback.map(|c| c.url.as_str()))
        .bind(events.as_deref())
        .bind(&secret)
        .bind(&updated_at)
        .execute(self.db())
        .await?;
        Ok(WebhookSettings {
            url: callback.map(|c| c.url.clone()),
            events: callback.and_then(|c| c.events.clone()),
            secret: Some(secret),
            updated_at: Some(updated_at),
        })
    }

    /// The asker's settings, without the secret.
    pub async fn webhook(&self, owner: &str) -> Result<Option<WebhookSettings>> {
        let row = sqlx::query("SELECT url, events, updated_at FROM webhooks WHERE owner = $1")
            .bind(owner)
            .fetch_optional(self.db())
            .await?;
        row.map(|row| {
            let events: Option<String> = row.try_get("events")?;
            Ok(WebhookSettings {
                url: row.try_get("url")?,
                events: events.and_then(|e| serde_json::from_str(&e).ok()),
                secret: None,
                updated_at: row.try_get("updated_at")?,
            })
        })
        .transpose()
    }

    pub async fn delete_webhook(&self, owner: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM webhooks WHERE owner = $1")
            .bind(owner)
            .execute(self.db())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The secret deliveries to `owner`'s receivers are signed with, made
    /// now if the asker has none yet (`PUT /webhook` gives it a new one and
    /// shows it).
    pub async fn ensure_webhook_secret(&self, owner: &str) -> Result<String> {
        sqlx::query(
            "INSERT INTO webhooks (owner, url, events, secret, updated_at) VALUES ($1, NULL, NULL, $2, $3) \
             ON CONFLICT (owner) DO NOTHING",
        )
        .bind(owner)
        .bind(crate::webhooks::new_secret()?)
        .bind(timestamp(&now()))
        .execute(self.db())
        .await?;
        Ok(
            sqlx::query_scalar("SELECT secret FROM webhooks WHERE owner = $1")
                .bind(owner)
                .fetch_one(self.db())
                .await?,
        )
    }

    /// Queues the deliveries of a job's end and marks the job notified, in
    /// one transaction (so a crash neither loses nor doubles them).
    pub async fn queue_deliveries(
        &self,
        job_id: &str,
        session_id: &str,
        owner: Option<&str>,
        event: &str,
        urls: &[String],
        payload: &str,
    ) -> Result<()> {
        let now = now().timestamp_millis();
        let mut tx = self.db().begin().await?;
        if !super::jobs::mark_notified(&mut tx, job_id).await? {
            return Ok(()); // another worker queued them
        }
        for url in urls {
            sqlx::query(
                "INSERT INTO webhook_deliveries (id, job_id, session_id, owner, event, url, payload, status, attempts, next_attempt_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $8)",
            )
            .bind(uuid::Uuid::new_v4().simple().to_string())
            .bind(job_id)
            .bind(session_id)
            .bind(owner)
            .bind(event)
            .bind(url)
            .bind(payload)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Claims up to `limit` deliveries due now for `lease_ms` (another
    /// worker takes one up again if this one dies meanwhile).
    pub async fn claim_due_deliveries(
        &self,
        limit: i64,
        lease_ms: i64,
    ) -> Result<Vec<DueDelivery>> {
        let now = now().timestamp_millis();
        let rows = sqlx::query(
            "SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $1 \
             AND (claimed_until IS NULL OR claimed_until < $1) ORDER BY next_attempt_at LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(self.db())
        .await?;
        let mut claimed = Vec::new();
        for row in rows {
            let id: String = row.try_get("id")?;
            let taken = sqlx::query(
                "UPDATE webhook_deliveries SET claimed_until = $1 WHERE id = $2 AND status = 'pending' \
                 AND (claimed_until IS NULL OR claimed_until < $3)",
            )
            .bind(now + lease_ms)
            .bind(&id)
            .bind(now)
            .execute(self.db())
            .await?;
            if taken.rows_affected() == 0 {
                continue;
            }
            let row = sqlx::query(
                "SELECT owner, event, url, payload, attempts, created_at FROM webhook_deliveries WHERE id = $1",
            )
            .bind(&id)
            .fetch_one(self.db())
            .await?;
            claimed.push(DueDelivery {
                id,
                owner: row.try_get("owner")?,
                event: row.try_get("event")?,
                url: row.try_get("url")?,
                payload: row.try_get("payload")?,
                attempts: row.try_get("attempts")?,
                created_at: row.try_get("created_at")?,
            });
        }
        Ok(claimed)
    }

    /// Logs an attempt and moves the delivery on: delivered, to be tried
    /// again at `retry_at` (unix milliseconds), or given up (`retry_at` None).
    pub async fn record_delivery_attempt(
        &self,
        delivery: &DueDelivery,
        log: &AttemptLog,
        delivered: bool,
        retry_at: Option<i64>,
    ) -> Result<()> {
        let mut tx = self.db().begin().await?;
        sqlx::query(
            "INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, latency_ms, error) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&delivery.id)
        .bind(log.attempt)
        .bind(&log.at)
        .bind(log.status_code)
        .bind(log.latency_ms)
        .bind(log.error.as_deref())
        .execute(&mut *tx)
        .await?;
        let status = match (delivered, retry_at) {
            (true, _) => "delivered",
            (false, Some(_)) => "pending",
            (false, None) => "failed",
        };
        sqlx::query(
            "UPDATE webhook_deliveries SET status = $1, attempts = $2, next_attempt_at = $3, claimed_until = NULL WHERE id = $4",
        )
        .bind(status)
        .bind(log.attempt)
        .bind(retry_at.unwrap_or(0))
        .bind(&delivery.id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A job's deliveries with their attempts, oldest first.
    pub async fn job_deliveries(&self, job_id: &str) -> Result<Vec<Delivery>> {
        let rows = sqlx::query(
            "SELECT id, event, url, status, next_attempt_at FROM webhook_deliveries WHERE job_id = $1 ORDER BY created_at, id",
        )
        .bind(job_id)
        .fetch_all(self.db())
        .await?;
        let mut deliveries = Vec::new();
        for row in rows {
            let id: String = row.try_get("id")?;
            let status: String = row.try_get("status")?;
            let attempts = sqlx::query(
                "SELECT attempt, at, status_code, latency_ms, error FROM webhook_attempts WHERE delivery_id = $1 ORDER BY attempt",
            )
            .bind(&id)
            .fetch_all(self.db())
            .await?
            .iter()
            .map(|a| {
                Ok(AttemptLog {
                    attempt: a.try_get("attempt")?,
                    at: a.try_get("at")?,
                    status_code: a.try_get("status_code")?,
                    latency_ms: a.try_get("latency_ms")?,
                    error: a.try_get("error")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
            deliveries.push(Delivery {
                delivery_id: id,
                event: row.try_get("event")?,
                url: row.try_get("url")?,
                next_attempt_at: (status == "pending")
                    .then(|| row.try_get::<i64, _>("next_attempt_at"))
                    .transpose()?
                    .and_then(chrono::DateTime::from_timestamp_millis)
                    .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
                status,
                attempts,
            });
        }
        Ok(deliveries)
    }

    /// Deliveries still to be made, for `studio doctor`.
    pub async fn pending_deliveries(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'")
                .fetch_one(self.db())
                .await?,
        )
    }
}
