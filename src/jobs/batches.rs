//! Batches: many jobs made at once (a template's rows), one per row. All
//! of a batch's jobs are written when it is made, so each row has its job
//! id from the start, but they are *released* to the queue a few at a
//! time: at most [`JobLimits::batch_in_flight`](super::JobLimits) of an
//! asker's batch jobs are queued or running at once, within its share, and
//! batches never take more than half of the waiting room. A batch of
//! hundreds thus neither fills the queue for everyone nor locks its own
//! key's single renders out. Every worker process feeds; the asker's
//! share lock makes their counts and releases one step.

use std::time::Duration;

use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;

use super::{JobKind, JobStatus, JobView, Jobs, now, view_of};
use crate::error::{Error, Result};
use crate::ids::SessionId;
use crate::webhooks::Callback;

/// How often feeders look for room when nothing woke them.
const FEED_POLL: Duration = Duration::from_millis(500);

/// What a batch of unreleased jobs says it is doing.
const WAITING_STEP: &str = "waiting for its turn in the batch";

/// One row's job, as the batch's answer names it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BatchRowStarted {
    /// The row's place in the batch, from 0.
    pub row: usize,
    pub job_id: String,
    pub session_id: String,
    pub status_url: String,
    pub events_url: String,
}

/// A batch made: its id, each row's job, and where to follow it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BatchStarted {
    pub batch_id: String,
    pub jobs: Vec<BatchRowStarted>,
    /// `GET` it for the batch's progress; `DELETE` it to cancel the rest.
    pub status_url: String,
}

/// How many of a batch's jobs are in each status.
#[derive(Clone, Debug, Default, Serialize, ToSchema, PartialEq, Eq)]
pub struct JobCounts {
    pub queued: usize,
    pub running: usize,
    pub succeeded: usize,
    pub failed: usize,
    pub cancelled: usize,
}

/// One row of a batch and its job.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BatchRow {
    pub row: usize,
    #[serde(flatten)]
    pub job: JobView,
}

/// A batch as clients see it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BatchView {
    pub batch_id: String,
    pub template_id: String,
    /// `running` while a row is queued or running, then `finished`.
    #[schema(example = "running")]
    pub status: String,
    pub total: usize,
    pub counts: JobCounts,
    /// 0 to 1 over all rows (a finished row counts whole).
    pub progress: f64,
    pub created_at: String,
    pub status_url: String,
    /// Every row's job and, once done, its result.
    pub rows: Vec<BatchRow>,
}

fn batch_url(id: &str) -> String {
    format!("/api/v1/batches/{id}")
}

impl Jobs {
    /// Makes a batch of `template_id`'s rows for `owner` (who may see it:
    /// a key id, empty without keys), each row a job of `asker` in its
    /// session. The jobs wait unreleased; workers' feeders release them as
    /// the asker's share allows. Each job's end is told to `callback` (or
    /// the asker's default webhook).
    pub async fn submit_batch<J: JobKind>(
        &self,
        owner: &str,
        template_id: &str,
        rows: &[(SessionId, J)],
        callback: Option<&Callback>,
        asker: &str,
    ) -> Result<BatchStarted> {
        let callback = self
            .callback_for(callback, Some(asker))
            .await?
            .map(|c| json!(c).to_string());
        let batch_id = format!("batch_{}", uuid::Uuid::new_v4().simple());
        let t = now();
        let mut started = Vec::with_capacity(rows.len());
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "INSERT INTO batches (id, owner, template_id, total, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&batch_id)
        .bind(owner)
        .bind(template_id)
        .bind(rows.len() as i64)
        .bind(&t)
        .execute(&mut *tx)
        .await?;
        for (row, (session, input)) in rows.iter().enumerate() {
            let id = uuid::Uuid::new_v4().simple().to_string();
            sqlx::query(
                "INSERT INTO jobs (id, session_id, kind, status, progress, step, created_at, updated_at, owner, input, callback, batch_id, batch_row, released) \
                 VALUES ($1, $2, $3, 'queued', 0, $4, $5, $5, $6, $7, $8, $9, $10, 0)",
            )
            .bind(&id)
            .bind(session.as_str())
            .bind(J::KIND)
            .bind(WAITING_STEP)
            .bind(&t)
            .bind(asker)
            .bind(json!(input).to_string())
            .bind(callback.clone())
            .bind(&batch_id)
            .bind(row as i64)
            .execute(&mut *tx)
            .await?;
            let (status_url, events_url) = super::urls(session.as_str(), &id);
            started.push(BatchRowStarted {
                row,
                job_id: id,
                session_id: session.to_string(),
                status_url,
                events_url,
            });
        }
        tx.commit().await?;
        self.batched.notify_one();
        Ok(BatchStarted {
            status_url: batch_url(&batch_id),
            batch_id,
            jobs: started,
        })
    }

    /// A batch with every row's job; `owner`: only a batch of this owner
    /// (`None`: any, for admins).
    pub async fn batch(&self, id: &str, owner: Option<&str>) -> Result<BatchView> {
        let row =
            sqlx::query("SELECT owner, template_id, total, created_at FROM batches WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.db)
                .await?
                .ok_or_else(|| Error::UnknownBatch(id.to_owned()))?;
        let batch_owner: String = row.try_get("owner")?;
        if owner.is_some_and(|o| o != batch_owner) {
            return Err(Error::UnknownBatch(id.to_owned()));
        }
        let jobs = sqlx::query(
            "SELECT id, session_id, kind, status, progress, step, result, error, created_at, updated_at, batch_row FROM jobs WHERE batch_id = $1 ORDER BY batch_row",
        )
        .bind(id)
        .fetch_all(&self.db)
        .await?;
        let mut rows = Vec::with_capacity(jobs.len());
        for job in &jobs {
            let row: i64 = job.try_get("batch_row")?;
            rows.push(BatchRow {
                row: row as usize,
                job: view_of(job)?,
            });
        }
        let mut counts = JobCounts::default();
        let mut done = 0.0;
        for r in &rows {
            let (count, part) = match r.job.status {
                JobStatus::Queued => (&mut counts.queued, r.job.progress),
                JobStatus::Running => (&mut counts.running, r.job.progress),
                JobStatus::Succeeded => (&mut counts.succeeded, 1.0),
                JobStatus::Failed => (&mut counts.failed, 1.0),
                JobStatus::Cancelled => (&mut counts.cancelled, 1.0),
            };
            *count += 1;
            done += part;
        }
        let total: i64 = row.try_get("total")?;
        let unfinished = counts.queued + counts.running;
        Ok(BatchView {
            batch_id: id.to_owned(),
            template_id: row.try_get("template_id")?,
            status: if unfinished > 0 {
                "running"
            } else {
                "finished"
            }
            .to_owned(),
            total: total as usize,
            progress: if rows.is_empty() {
                1.0
            } else {
                done / rows.len() as f64
            },
            counts,
            created_at: row.try_get("created_at")?,
            status_url: batch_url(id),
            rows,
        })
    }

    /// Cancels every row of the batch not finished yet: those waiting at
    /// once, running ones within a few tenths of a second.
    pub async fn cancel_batch(&self, id: &str, owner: Option<&str>) -> Result<BatchView> {
        self.batch(id, owner).await?;
        sqlx::query("UPDATE jobs SET cancel_requested = 1 WHERE batch_id = $1 AND status IN ('queued', 'running')")
            .bind(id)
            .execute(&self.db)
            .await?;
        let error = json!({"code": "cancelled", "message": "the batch was cancelled"});
        sqlx::query("UPDATE jobs SET status = 'cancelled', step = NULL, error = $1, updated_at = $2 WHERE batch_id = $3 AND status = 'queued'")
            .bind(error.to_string())
            .bind(now())
            .bind(id)
            .execute(&self.db)
            .await?;
        self.batch(id, owner).await
    }

    /// Releases batch jobs to the queue as room appears, until `stop`.
    pub async fn feed_batches(&self, stop: CancellationToken) {
        loop {
            if let Err(e) = self.release_batch_jobs().await {
                tracing::warn!(error = %e, "could not release a batch's jobs");
            }
            tokio::select! {
                _ = tokio::time::sleep(FEED_POLL) => {}
                _ = self.batched.notified() => {}
                _ = self.ended.notified() => {}
                _ = stop.cancelled() => return,
            }
        }
    }

    /// One round: for each asker with waiting batch jobs, releases as many
    /// as its batch allowance, its share and the waiting room leave, oldest
    /// batch and first row first. Answers how many were released.
    async fn release_batch_jobs(&self) -> Result<usize> {
        let askers: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT owner FROM jobs WHERE released = 0 AND status = 'queued' AND owner IS NOT NULL",
        )
        .fetch_all(&self.db)
        .await?;
        let mut released = 0;
        for asker in askers {
            let queued: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM jobs WHERE status = 'queued' AND released = 1",
            )
            .fetch_one(&self.db)
            .await?;
            // Batches leave half the waiting room to single jobs.
            let waiting_room = (self.limits.waiting / 2).max(1) as i64 - queued;
            if waiting_room <= 0 {
                break;
            }
            let mut tx = self.db.begin().await?;
            Self::lock_share(&mut tx, &asker).await?;
            let in_flight: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM jobs WHERE owner = $1 AND released = 1 AND batch_id IS NOT NULL AND status IN ('queued', 'running')",
            )
            .bind(&asker)
            .fetch_one(&mut *tx)
            .await?;
            let mine = self.share_in_use(&mut tx, &asker).await?;
            let room = (self.limits.batch_in_flight as i64 - in_flight)
                .min(self.limits.per_asker as i64 - mine)
                .min(waiting_room);
            if room <= 0 {
                continue;
            }
            let ids: Vec<String> = sqlx::query_scalar(
                "SELECT id FROM jobs WHERE owner = $1 AND released = 0 AND status = 'queued' ORDER BY created_at, batch_row LIMIT $2",
            )
            .bind(&asker)
            .bind(room)
            .fetch_all(&mut *tx)
            .await?;
            let t = now();
            for id in &ids {
                sqlx::query("UPDATE jobs SET released = 1, step = NULL, updated_at = $1 WHERE id = $2 AND released = 0")
                    .bind(&t)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            // A crash before these pushes leaves released queued jobs
            // without a task: a starting worker queues them again.
            for id in &ids {
                self.queue.push(id).await?;
            }
            released += ids.len();
        }
        Ok(released)
    }
}
