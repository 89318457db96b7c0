//! Telling of jobs' ends: once a job with a callback has ended, its
//! delivery is queued (a row, in the same transaction that marks the job
//! notified); every worker process sends the deliveries that are due,
//! signed, to public addresses only, and tries a failed one again with
//! exponentially growing waits for 24 hours — across restarts, since the
//! rows hold everything.

use std::time::Duration;

use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::Jobs;
use crate::error::Result;
use crate::ids::SessionId;
use crate::store::{AttemptLog, DueDelivery};
use crate::webhooks::{self, Callback};

/// How deliveries are made.
#[derive(Clone, Copy, Debug)]
pub struct WebhookSettings {
    /// Call loopback, private and link-local addresses too.
    pub allow_private: bool,
    /// The first wait before trying a failed delivery again (it doubles).
    pub retry: Duration,
    /// The longest wait between two attempts.
    pub max_wait: Duration,
    /// How long after the job's end a delivery is tried at all.
    pub give_up_after: Duration,
    /// How often workers look for ended jobs and due deliveries.
    pub poll: Duration,
}

impl WebhookSettings {
    /// The configured choices (`STUDIO_WEBHOOK_ALLOW_PRIVATE`,
    /// `STUDIO_WEBHOOK_RETRY_SECS`); waits at most an hour between attempts,
    /// gives up a day after the job's end, looks every 200 ms.
    pub fn new(allow_private: bool, retry: Duration) -> Self {
        Self {
            allow_private,
            retry,
            max_wait: Duration::from_secs(3600),
            give_up_after: Duration::from_secs(24 * 3600),
            poll: Duration::from_millis(200),
        }
    }
}

/// How long a worker holds a delivery it is sending (the address lookup
/// and the attempt's own 10 s timeout, with room to spare); a worker that
/// dies or stops meanwhile leaves it to another after this.
const LEASE_MS: i64 = 30_000;

impl Jobs {
    /// Sends webhooks until `stop`: queues the deliveries of ended jobs and
    /// makes those that are due, looking every few tenths of a second and
    /// at once when a job ends in this process.
    pub async fn deliver_webhooks(&self, stop: CancellationToken) {
        loop {
            if let Err(e) = self.queue_deliveries().await {
                tracing::warn!(error = %e, "could not queue webhook deliveries");
            }
            match self.store.claim_due_deliveries(16, LEASE_MS).await {
                Ok(due) => {
                    futures::future::join_all(due.iter().map(|d| self.deliver(d))).await;
                }
                Err(e) => tracing::warn!(error = %e, "could not read due webhook deliveries"),
            }
            tokio::select! {
                _ = tokio::time::sleep(self.webhooks.poll) => {}
                _ = self.ended.notified() => {}
                _ = stop.cancelled() => return,
            }
        }
    }

    /// Queues a delivery for each ended job whose callback wants its end.
    async fn queue_deliveries(&self) -> Result<()> {
        for ended in self.table.to_notify(64).await? {
            let callback: Option<Callback> = serde_json::from_str(&ended.callback).ok();
            let urls: Vec<String> = callback
                .filter(|c| c.wants(&ended.status))
                .map(|c| c.url)
                .into_iter()
                .collect();
            let session = SessionId::parse(&ended.session_id)?;
            let view = self.get(&session, &ended.id).await?;
            let event = format!("job.{}", ended.status);
            let payload = serde_json::to_string(&view).unwrap_or_default();
            self.store
                .queue_deliveries(
                    &ended.id,
                    session.as_str(),
                    ended.owner.as_deref(),
                    &event,
                    &urls,
                    &payload,
                )
                .await?;
        }
        Ok(())
    }

    /// One attempt at a delivery, logged; a failure is tried again later.
    async fn deliver(&self, delivery: &DueDelivery) {
        let attempt = delivery.attempts + 1;
        let secret = self
            .store
            .ensure_webhook_secret(delivery.owner.as_deref().unwrap_or_default())
            .await;
        let sent_at = chrono::Utc::now();
        let job: serde_json::Value = serde_json::from_str(&delivery.payload).unwrap_or_default();
        let body = json!({
            "event": delivery.event,
            "job": job,
            "sent_at": sent_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        })
        .to_string();
        let outcome = match secret {
            Err(e) => webhooks::Attempt {
                status_code: None,
                latency: Duration::ZERO,
                error: Some(format!("no signing secret: {e}")),
            },
            Ok(secret) => {
                match webhooks::resolve_target(&delivery.url, self.webhooks.allow_private).await {
                    Err(e) => webhooks::Attempt {
                        status_code: None,
                        latency: Duration::ZERO,
                        error: Some(e.to_string()),
                    },
                    Ok(addrs) => {
                        let signature = webhooks::signature(&secret, sent_at.timestamp(), &body);
                        webhooks::send(&delivery.url, &addrs, body, &signature).await
                    }
                }
            }
        };
        let delivered = outcome.delivered();
        let now_ms = chrono::Utc::now().timestamp_millis();
        let retry_at = (!delivered)
            .then(|| {
                let wait = self
                    .webhooks
                    .retry
                    .saturating_mul(2u32.saturating_pow((attempt - 1).clamp(0, 20) as u32))
                    .min(self.webhooks.max_wait);
                now_ms + wait.as_millis() as i64
            })
            .filter(|at| {
                *at - delivery.created_at <= self.webhooks.give_up_after.as_millis() as i64
            });
        if !delivered {
            tracing::warn!(
                delivery = %delivery.id,
                url = %delivery.url,
                attempt,
                error = outcome.error.as_deref().unwrap_or_default(),
                will_retry = retry_at.is_some(),
                "a webhook delivery failed"
            );
        }
        let log = AttemptLog {
            attempt,
            at: sent_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            status_code: outcome.status_code.map(i64::from),
            latency_ms: outcome.latency.as_millis() as i64,
            error: outcome.error,
        };
        if let Err(e) = self
            .store
            .record_delivery_attempt(delivery, &log, delivered, retry_at)
            .await
        {
            tracing::warn!(delivery = %delivery.id, error = %e, "could not log a webhook attempt");
        }
    }
}
