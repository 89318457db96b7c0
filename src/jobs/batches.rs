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
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;

use super::{JobKind, JobStatus, JobView, Jobs};
use crate::error::{Error, Result};
use crate::ids::SessionId;
use crate::links;
use crate::store::NewBatch;
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
        let rows: Vec<(SessionId, serde_json::Value)> = rows
            .iter()
            .map(|(session, input)| (session.clone(), json!(input)))
            .collect();
        let (batch_id, ids) = self
            .table
            .insert_batch(&NewBatch {
                owner,
                template_id,
                asker,
                kind: J::KIND,
                rows: &rows,
                callback,
                waiting_step: WAITING_STEP,
            })
            .await?;
        self.batched.notify_one();
        let jobs = ids
            .into_iter()
            .zip(&rows)
            .enumerate()
            .map(|(row, (job_id, (session, _)))| BatchRowStarted {
                row,
                status_url: links::job_status(session.as_str(), &job_id),
                events_url: links::job_events(session.as_str(), &job_id),
                job_id,
                session_id: session.to_string(),
            })
            .collect();
        Ok(BatchStarted {
            status_url: links::batch(&batch_id),
            batch_id,
            jobs,
        })
    }

    /// A batch with every row's job; `owner`: only a batch of this owner
    /// (`None`: any, for admins).
    pub async fn batch(&self, id: &str, owner: Option<&str>) -> Result<BatchView> {
        let batch = self
            .table
            .batch(id)
            .await?
            .filter(|b| owner.is_none_or(|o| o == b.owner))
            .ok_or_else(|| Error::UnknownBatch(id.to_owned()))?;
        let rows: Vec<BatchRow> = self
            .table
            .batch_jobs(id)
            .await?
            .into_iter()
            .map(|(row, job)| BatchRow { row, job })
            .collect();
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
        let unfinished = counts.queued + counts.running;
        Ok(BatchView {
            batch_id: id.to_owned(),
            template_id: batch.template_id,
            status: if unfinished > 0 {
                "running"
            } else {
                "finished"
            }
            .to_owned(),
            total: batch.total as usize,
            progress: if rows.is_empty() {
                1.0
            } else {
                done / rows.len() as f64
            },
            counts,
            created_at: batch.created_at,
            status_url: links::batch(id),
            rows,
        })
    }

    /// Cancels every row of the batch not finished yet: those waiting at
    /// once, running ones within a few tenths of a second.
    pub async fn cancel_batch(&self, id: &str, owner: Option<&str>) -> Result<BatchView> {
        self.batch(id, owner).await?;
        let error = json!({"code": "cancelled", "message": "the batch was cancelled"});
        self.table.cancel_batch(id, &error).await?;
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
        let mut released = 0;
        for asker in self.table.askers_with_unreleased().await? {
            // Batches leave half the waiting room to single jobs.
            let waiting_room =
                (self.limits.waiting / 2).max(1) as i64 - self.table.waiting().await?;
            if waiting_room <= 0 {
                break;
            }
            let held = self.held_by(&asker) as i64;
            let ids = self
                .table
                .release(&asker, |in_flight, queued| {
                    (self.limits.batch_in_flight as i64 - in_flight)
                        .min(self.limits.per_asker as i64 - queued - held)
                        .min(waiting_room)
                })
                .await?;
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
