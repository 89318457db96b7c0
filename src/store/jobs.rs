//! The job table: every statement about jobs and their batches. What the
//! rows mean — shares and limits, the worker's loop, feeding batches,
//! webhooks — is the `jobs` module's; here they are only read and written.
//!
//! A job moves `queued → running → succeeded | failed | cancelled`. A
//! running job whose worker stopped goes back to `queued` (handed back); one
//! whose worker died is taken again by another (a new claim). Only the
//! attempt holding the claim moves it on or records its outcome, and the
//! store checks the claim in the same transaction that writes the job's
//! outputs, so outputs become assets once.

use serde::Serialize;
use serde_json::Value;
use sqlx::{AnyPool, Row};
use utoipa::ToSchema;

use super::Store;
use crate::error::{Error, Result};
use crate::ids::SessionId;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "queued" => JobStatus::Queued,
            "running" => JobStatus::Running,
            "succeeded" => JobStatus::Succeeded,
            "cancelled" => JobStatus::Cancelled,
            _ => JobStatus::Failed,
        }
    }

    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobStatus::Succeeded | JobStatus::Failed | JobStatus::Cancelled
        )
    }
}

/// A job as clients see it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct JobView {
    pub job_id: String,
    pub session_id: String,
    /// `compose`, `pipeline` or `transcribe`.
    pub kind: String,
    pub status: JobStatus,
    /// 0 to 1.
    pub progress: f64,
    /// What the job is doing now, for people.
    pub step: Option<String>,
    /// The outcome, when succeeded (for compose: the video asset).
    #[schema(value_type = Option<Object>)]
    pub result: Option<Value>,
    /// `{code, message}` when failed or cancelled.
    #[schema(value_type = Option<Object>)]
    pub error: Option<Value>,
    pub created_at: String,
    pub updated_at: String,
    pub status_url: String,
    pub events_url: String,
}

/// One attempt's right to finish job `job_id`.
#[derive(Clone, Debug)]
pub struct JobClaim {
    pub job_id: String,
    pub claim: String,
}

impl JobClaim {
    /// Records the job's final `status` with its result or error, if the job
    /// is still running under this claim; false when it is not (another
    /// attempt took it over, or it was already finished).
    pub async fn record<'c, E>(
        &self,
        db: E,
        status: JobStatus,
        result: Option<&Value>,
        error: Option<&Value>,
    ) -> Result<bool>
    where
        E: sqlx::Executor<'c, Database = sqlx::Any>,
    {
        let progress = if status == JobStatus::Succeeded {
            "1"
        } else {
            "progress"
        };
        let sql = format!(
            "UPDATE jobs SET status = $1, progress = {progress}, step = NULL, result = $2, error = $3, updated_at = $4 \
             WHERE id = $5 AND claim = $6 AND status = 'running'"
        );
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(status.as_str())
            .bind(result.map(Value::to_string))
            .bind(error.map(Value::to_string))
            .bind(now())
            .bind(&self.job_id)
            .bind(&self.claim)
            .execute(db)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}

/// A job to queue.
pub struct NewJob<'a> {
    pub session: &'a SessionId,
    /// Its kind's name (see `jobs::JobKind`).
    pub kind: &'a str,
    pub input: &'a Value,
    /// Who asked: whose share it counts against (`None`: nobody's).
    pub owner: Option<&'a str>,
    /// Where its end is told, as JSON.
    pub callback: Option<String>,
}

/// A batch to make: its rows' jobs wait unreleased.
pub struct NewBatch<'a> {
    pub owner: &'a str,
    pub template_id: &'a str,
    /// Who asked for the rows' jobs.
    pub asker: &'a str,
    pub kind: &'a str,
    /// Every row's session and input, in order.
    pub rows: &'a [(SessionId, Value)],
    pub callback: Option<String>,
    /// What a row says while it waits for release.
    pub waiting_step: &'a str,
}

/// A batch's own row.
pub struct BatchRecord {
    pub owner: String,
    pub template_id: String,
    pub total: i64,
    pub created_at: String,
}

/// A claimed job's input, as stored.
pub struct JobToRun {
    pub session_id: String,
    pub kind: String,
    pub input: Option<String>,
    /// 1 for the first attempt.
    pub attempts: i64,
}

/// An ended job whose callback is still to be queued.
pub struct EndedJob {
    pub id: String,
    pub session_id: String,
    pub owner: Option<String>,
    pub status: String,
    pub callback: String,
}

/// The job table (see the module's doc).
#[derive(Clone, Debug)]
pub struct JobTable {
    db: AnyPool,
}

impl Store {
    /// The job table, on this store's database.
    pub fn job_table(&self) -> JobTable {
        JobTable {
            db: self.db().clone(),
        }
    }
}

impl JobTable {
    /// Jobs queued for workers, in all (a batch's unreleased rows are not).
    pub async fn waiting(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM jobs WHERE status = 'queued' AND released = 1",
            )
            .fetch_one(&self.db)
            .await?,
        )
    }

    /// The ids of the jobs queued for workers.
    pub async fn waiting_ids(&self) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT id FROM jobs WHERE status = 'queued' AND released = 1")
                .fetch_all(&self.db)
                .await?,
        )
    }

    /// The asker's queued and running jobs, counted under its share lock.
    pub async fn share(&self, asker: &str) -> Result<i64> {
        let mut tx = self.db.begin().await?;
        lock_share(&mut tx, asker).await?;
        let mine = share_in(&mut tx, asker).await?;
        tx.commit().await?;
        Ok(mine)
    }

    /// Queues a job and answers its id. With an owner, the owner's share is
    /// locked and counted first, and `fits` sees the count (an error
    /// refuses the job): count and insert are one step across processes.
    pub async fn insert(
        &self,
        job: &NewJob<'_>,
        fits: impl FnOnce(i64) -> Result<()>,
    ) -> Result<String> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let mut tx = self.db.begin().await?;
        if let Some(owner) = job.owner {
            lock_share(&mut tx, owner).await?;
            fits(share_in(&mut tx, owner).await?)?;
        }
        sqlx::query(
            "INSERT INTO jobs (id, session_id, kind, status, progress, created_at, updated_at, owner, input, callback) VALUES ($1, $2, $3, 'queued', 0, $4, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(job.session.as_str())
        .bind(job.kind)
        .bind(now())
        .bind(job.owner)
        .bind(job.input.to_string())
        .bind(job.callback.as_deref())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Fails a job that could not be handed to the queue.
    pub async fn fail_unqueued(&self, id: &str, error: &Value) -> Result<()> {
        sqlx::query("UPDATE jobs SET status = 'failed', error = $1 WHERE id = $2")
            .bind(error.to_string())
            .bind(id)
            .execute(&self.db)
            .await?;
        Ok(())
    }

    /// The session's job as clients see it.
    pub async fn view(&self, session: &SessionId, id: &str) -> Result<JobView> {
        let row = sqlx::query(
            "SELECT id, session_id, kind, status, progress, step, result, error, created_at, updated_at FROM jobs WHERE id = $1 AND session_id = $2",
        )
        .bind(id)
        .bind(session.as_str())
        .fetch_optional(&self.db)
        .await?
        .ok_or_else(|| Error::UnknownJob(id.to_owned()))?;
        view_of(&row)
    }

    /// Asks a queued or running job to stop: a queued one is cancelled at
    /// once (with `error`); a running one's worker reads the request.
    pub async fn request_cancel(&self, id: &str, error: &Value) -> Result<()> {
        sqlx::query("UPDATE jobs SET cancel_requested = 1 WHERE id = $1 AND status IN ('queued', 'running')")
            .bind(id)
            .execute(&self.db)
            .await?;
        sqlx::query("UPDATE jobs SET status = 'cancelled', step = NULL, error = $1, updated_at = $2 WHERE id = $3 AND status = 'queued'")
            .bind(error.to_string())
            .bind(now())
            .bind(id)
            .execute(&self.db)
            .await?;
        Ok(())
    }

    /// How many jobs are in each status, and the workers running jobs now.
    pub async fn summary(&self) -> Result<(Vec<(String, i64)>, Vec<String>)> {
        let counts =
            sqlx::query("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status ORDER BY status")
                .fetch_all(&self.db)
                .await?
                .iter()
                .map(|r| Ok((r.try_get("status")?, r.try_get("n")?)))
                .collect::<Result<Vec<_>>>()?;
        let workers = sqlx::query_scalar(
            "SELECT DISTINCT worker FROM jobs WHERE status = 'running' AND worker IS NOT NULL ORDER BY worker",
        )
        .fetch_all(&self.db)
        .await?;
        Ok((counts, workers))
    }

    /// Claims the job for one attempt by `worker`, if it is still to be
    /// done (queued, or running under a claim thought dead).
    pub async fn take(&self, claim: &JobClaim, worker: &str) -> Result<bool> {
        let taken = sqlx::query(
            "UPDATE jobs SET status = 'running', attempts = attempts + 1, claim = $1, worker = $2, step = NULL, progress = 0, updated_at = $3 \
             WHERE id = $4 AND released = 1 AND status IN ('queued', 'running')",
        )
        .bind(&claim.claim)
        .bind(worker)
        .bind(now())
        .bind(&claim.job_id)
        .execute(&self.db)
        .await?
        .rows_affected();
        Ok(taken == 1)
    }

    /// Gives a running job back to the queue, uncounted, if this claim
    /// still holds it (false: finished, cancelled or taken over meanwhile).
    pub async fn hand_back(&self, claim: &JobClaim) -> Result<bool> {
        let returned = sqlx::query(
            "UPDATE jobs SET status = 'queued', claim = NULL, worker = NULL, step = NULL, progress = 0, attempts = attempts - 1, updated_at = $1 \
             WHERE id = $2 AND claim = $3 AND status = 'running'",
        )
        .bind(now())
        .bind(&claim.job_id)
        .bind(&claim.claim)
        .execute(&self.db)
        .await?;
        Ok(returned.rows_affected() == 1)
    }

    /// Counts an attempt after all (one handed back whose outputs stayed).
    pub async fn count_attempt(&self, id: &str) -> Result<()> {
        sqlx::query("UPDATE jobs SET attempts = attempts + 1 WHERE id = $1")
            .bind(id)
            .execute(&self.db)
            .await?;
        Ok(())
    }

    /// What a claimed job is.
    pub async fn to_run(&self, id: &str) -> Result<JobToRun> {
        let row = sqlx::query("SELECT session_id, kind, input, attempts FROM jobs WHERE id = $1")
            .bind(id)
            .fetch_one(&self.db)
            .await?;
        Ok(JobToRun {
            session_id: row.try_get("session_id")?,
            kind: row.try_get("kind")?,
            input: row.try_get("input")?,
            attempts: row.try_get("attempts")?,
        })
    }

    /// Writes a running attempt's progress and step (`None`: only reads);
    /// answers whether someone asked it to stop, or `None` when the claim
    /// no longer holds the job.
    pub async fn tick(
        &self,
        claim: &JobClaim,
        progress: Option<(f64, Option<&str>)>,
    ) -> Result<Option<bool>> {
        let row = match progress {
            Some((progress, step)) => {
                sqlx::query("UPDATE jobs SET progress = $1, step = $2, updated_at = $3 WHERE id = $4 AND claim = $5 AND status = 'running' RETURNING cancel_requested")
                    .bind(progress)
                    .bind(step)
                    .bind(now())
                    .bind(&claim.job_id)
                    .bind(&claim.claim)
                    .fetch_optional(&self.db)
                    .await?
            }
            None => {
                sqlx::query("SELECT cancel_requested FROM jobs WHERE id = $1 AND claim = $2 AND status = 'running'")
                    .bind(&claim.job_id)
                    .bind(&claim.claim)
                    .fetch_optional(&self.db)
                    .await?
            }
        };
        Ok(row.map(|row| row.try_get::<i64, _>("cancel_requested").unwrap_or(0) != 0))
    }

    /// Records how an attempt ended, if its claim still holds (see
    /// [`JobClaim::record`]).
    pub async fn record(
        &self,
        claim: &JobClaim,
        status: JobStatus,
        result: Option<&Value>,
        error: Option<&Value>,
    ) -> Result<bool> {
        claim.record(&self.db, status, result, error).await
    }

    /// Ended jobs whose callbacks are still to be queued, `limit` at most.
    pub async fn to_notify(&self, limit: i64) -> Result<Vec<EndedJob>> {
        let rows = sqlx::query(
            "SELECT id, session_id, owner, status, callback FROM jobs WHERE callback IS NOT NULL AND notified IS NULL \
             AND status IN ('succeeded', 'failed', 'cancelled') LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.db)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(EndedJob {
                    id: r.try_get("id")?,
                    session_id: r.try_get("session_id")?,
                    owner: r.try_get("owner")?,
                    status: r.try_get("status")?,
                    callback: r.try_get("callback")?,
                })
            })
            .collect()
    }

    /// Makes a batch and its rows' jobs, unreleased, in one transaction;
    /// answers the batch's id and each row's job id, in order.
    pub async fn insert_batch(&self, batch: &NewBatch<'_>) -> Result<(String, Vec<String>)> {
        let batch_id = format!("batch_{}", uuid::Uuid::new_v4().simple());
        let t = now();
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "INSERT INTO batches (id, owner, template_id, total, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&batch_id)
        .bind(batch.owner)
        .bind(batch.template_id)
        .bind(batch.rows.len() as i64)
        .bind(&t)
        .execute(&mut *tx)
        .await?;
        let mut ids = Vec::with_capacity(batch.rows.len());
        for (row, (session, input)) in batch.rows.iter().enumerate() {
            let id = uuid::Uuid::new_v4().simple().to_string();
            sqlx::query(
                "INSERT INTO jobs (id, session_id, kind, status, progress, step, created_at, updated_at, owner, input, callback, batch_id, batch_row, released) \
                 VALUES ($1, $2, $3, 'queued', 0, $4, $5, $5, $6, $7, $8, $9, $10, 0)",
            )
            .bind(&id)
            .bind(session.as_str())
            .bind(batch.kind)
            .bind(batch.waiting_step)
            .bind(&t)
            .bind(batch.asker)
            .bind(input.to_string())
            .bind(batch.callback.as_deref())
            .bind(&batch_id)
            .bind(row as i64)
            .execute(&mut *tx)
            .await?;
            ids.push(id);
        }
        tx.commit().await?;
        Ok((batch_id, ids))
    }

    /// A batch's own row.
    pub async fn batch(&self, id: &str) -> Result<Option<BatchRecord>> {
        let row =
            sqlx::query("SELECT owner, template_id, total, created_at FROM batches WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.db)
                .await?;
        row.map(|row| {
            Ok(BatchRecord {
                owner: row.try_get("owner")?,
                template_id: row.try_get("template_id")?,
                total: row.try_get("total")?,
                created_at: row.try_get("created_at")?,
            })
        })
        .transpose()
    }

    /// A batch's jobs with their rows' places, in order.
    pub async fn batch_jobs(&self, id: &str) -> Result<Vec<(usize, JobView)>> {
        let jobs = sqlx::query(
            "SELECT id, session_id, kind, status, progress, step, result, error, created_at, updated_at, batch_row FROM jobs WHERE batch_id = $1 ORDER BY batch_row",
        )
        .bind(id)
        .fetch_all(&self.db)
        .await?;
        jobs.iter()
            .map(|job| Ok((job.try_get::<i64, _>("batch_row")? as usize, view_of(job)?)))
            .collect()
    }

    /// Asks every unfinished row of a batch to stop, as
    /// [`JobTable::request_cancel`] does for one job.
    pub async fn cancel_batch(&self, id: &str, error: &Value) -> Result<()> {
        sqlx::query("UPDATE jobs SET cancel_requested = 1 WHERE batch_id = $1 AND status IN ('queued', 'running')")
            .bind(id)
            .execute(&self.db)
            .await?;
        sqlx::query("UPDATE jobs SET status = 'cancelled', step = NULL, error = $1, updated_at = $2 WHERE batch_id = $3 AND status = 'queued'")
            .bind(error.to_string())
            .bind(now())
            .bind(id)
            .execute(&self.db)
            .await?;
        Ok(())
    }

    /// Askers with batch jobs waiting to be released.
    pub async fn askers_with_unreleased(&self) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT owner FROM jobs WHERE released = 0 AND status = 'queued' AND owner IS NOT NULL",
        )
        .fetch_all(&self.db)
        .await?)
    }

    /// Under the asker's share lock: `room(batch_in_flight, share_in_use)`
    /// says how many of its waiting batch jobs may go now (from its batch
    /// jobs queued or running, and all its queued or running jobs); that
    /// many of the oldest are released. Answers their ids.
    pub async fn release(
        &self,
        asker: &str,
        room: impl FnOnce(i64, i64) -> i64,
    ) -> Result<Vec<String>> {
        let mut tx = self.db.begin().await?;
        lock_share(&mut tx, asker).await?;
        let in_flight: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM jobs WHERE owner = $1 AND released = 1 AND batch_id IS NOT NULL AND status IN ('queued', 'running')",
        )
        .bind(asker)
        .fetch_one(&mut *tx)
        .await?;
        let room = room(in_flight, share_in(&mut tx, asker).await?);
        if room <= 0 {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM jobs WHERE owner = $1 AND released = 0 AND status = 'queued' ORDER BY created_at, batch_row LIMIT $2",
        )
        .bind(asker)
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
        Ok(ids)
    }
}

/// Marks an ended job notified inside the transaction that queues its
/// deliveries; false when another worker already did.
pub(super) async fn mark_notified(conn: &mut sqlx::AnyConnection, id: &str) -> Result<bool> {
    let marked = sqlx::query("UPDATE jobs SET notified = 1 WHERE id = $1 AND notified IS NULL")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(marked.rows_affected() == 1)
}

/// Removes a session's jobs inside the transaction that deletes it: a
/// running one loses its claim, so its worker stops it and nothing it
/// makes is kept.
pub(super) async fn delete_of_session(conn: &mut sqlx::AnyConnection, session: &str) -> Result<()> {
    sqlx::query("DELETE FROM jobs WHERE session_id = $1")
        .bind(session)
        .execute(conn)
        .await?;
    Ok(())
}

/// Locks the asker's share until `tx` ends: its row in `job_share_locks`
/// is written first, so a second request of the same asker waits here
/// until the first has counted and inserted.
async fn lock_share(tx: &mut sqlx::Transaction<'_, sqlx::Any>, asker: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO job_share_locks (owner) VALUES ($1) \
         ON CONFLICT (owner) DO UPDATE SET owner = excluded.owner",
    )
    .bind(asker)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The asker's queued (released) and running jobs, read inside `tx`.
async fn share_in(tx: &mut sqlx::Transaction<'_, sqlx::Any>, asker: &str) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM jobs WHERE owner = $1 AND released = 1 AND status IN ('queued', 'running')",
    )
    .bind(asker)
    .fetch_one(&mut **tx)
    .await?)
}

/// A job's row (its view's columns) as clients see it.
fn view_of(row: &sqlx::any::AnyRow) -> Result<JobView> {
    let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
    let id: String = row.try_get("id")?;
    let session: String = row.try_get("session_id")?;
    Ok(JobView {
        status_url: crate::links::job_status(&session, &id),
        events_url: crate::links::job_events(&session, &id),
        job_id: id,
        session_id: session,
        kind: row.try_get("kind")?,
        status: JobStatus::parse(row.try_get("status")?),
        progress: row.try_get("progress")?,
        step: row.try_get("step")?,
        result: parse(row.try_get("result")?),
        error: parse(row.try_get("error")?),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{AssetKind, SessionId};
    use crate::store::NewAsset;
    use serde_json::json;

    fn claim(job: &str, claim: &str) -> JobClaim {
        JobClaim {
            job_id: job.into(),
            claim: claim.into(),
        }
    }

    async fn queued(table: &JobTable, session: &SessionId, owner: Option<&str>) -> String {
        let job = NewJob {
            session,
            kind: "compose",
            input: &json!({}),
            owner,
            callback: None,
        };
        table.insert(&job, |_| Ok(())).await.unwrap()
    }

    async fn status(table: &JobTable, session: &SessionId, id: &str) -> (JobStatus, f64) {
        let view = table.view(session, id).await.unwrap();
        (view.status, view.progress)
    }

    /// queued → running (claimed) → succeeded, once: a stale claim can
    /// neither write progress nor finish it, and a finished job is not
    /// taken again.
    #[tokio::test]
    async fn a_job_runs_under_one_claim_and_finishes_once() {
        let (_dir, store) = crate::store::local_test_store().await;
        let (table, session) = (store.job_table(), SessionId::parse("s").unwrap());
        let id = queued(&table, &session, None).await;
        assert_eq!(status(&table, &session, &id).await.0, JobStatus::Queued);
        assert!(table.take(&claim(&id, "a"), "w1").await.unwrap());
        assert_eq!(table.to_run(&id).await.unwrap().attempts, 1);
        assert_eq!(
            table
                .tick(&claim(&id, "a"), Some((0.5, Some("half"))))
                .await
                .unwrap(),
            Some(false)
        );
        // Its worker thought dead: another takes it over (attempt 2).
        assert!(table.take(&claim(&id, "b"), "w2").await.unwrap());
        assert_eq!(table.to_run(&id).await.unwrap().attempts, 2);
        assert_eq!(
            table.tick(&claim(&id, "a"), None).await.unwrap(),
            None,
            "claim lost"
        );
        assert!(
            !table
                .record(&claim(&id, "a"), JobStatus::Succeeded, None, None)
                .await
                .unwrap()
        );
        let result = json!({"name": "video_1.mp4"});
        assert!(
            table
                .record(&claim(&id, "b"), JobStatus::Succeeded, Some(&result), None)
                .await
                .unwrap()
        );
        assert_eq!(
            status(&table, &session, &id).await,
            (JobStatus::Succeeded, 1.0)
        );
        assert!(
            !table
                .record(&claim(&id, "b"), JobStatus::Failed, None, None)
                .await
                .unwrap()
        );
        assert!(
            !table.take(&claim(&id, "c"), "w3").await.unwrap(),
            "finished stays finished"
        );
        let view = table.view(&session, &id).await.unwrap();
        assert_eq!(view.result, Some(result));
        assert_eq!(view.status_url, "/api/v1/sessions/s/jobs/".to_owned() + &id);
    }

    /// running → queued when its worker stops: uncounted, without its
    /// claim, progress 0; a claim that lost the job cannot hand it back.
    #[tokio::test]
    async fn a_stopped_worker_hands_its_job_back() {
        let (_dir, store) = crate::store::local_test_store().await;
        let (table, session) = (store.job_table(), SessionId::parse("s").unwrap());
        let id = queued(&table, &session, None).await;
        assert!(table.take(&claim(&id, "a"), "w1").await.unwrap());
        table
            .tick(&claim(&id, "a"), Some((0.4, None)))
            .await
            .unwrap();
        assert!(!table.hand_back(&claim(&id, "x")).await.unwrap());
        assert!(table.hand_back(&claim(&id, "a")).await.unwrap());
        assert_eq!(
            status(&table, &session, &id).await,
            (JobStatus::Queued, 0.0)
        );
        assert_eq!(table.to_run(&id).await.unwrap().attempts, 0);
        assert_eq!(table.tick(&claim(&id, "a"), None).await.unwrap(), None);
        assert!(table.take(&claim(&id, "b"), "w2").await.unwrap());
        assert_eq!(table.to_run(&id).await.unwrap().attempts, 1);
    }

    /// A queued job is cancelled at once; a running one is asked, and ends
    /// cancelled when its worker records it; a finished one stays.
    #[tokio::test]
    async fn cancelling_depends_on_where_the_job_is() {
        let (_dir, store) = crate::store::local_test_store().await;
        let (table, session) = (store.job_table(), SessionId::parse("s").unwrap());
        let error = json!({"code": "cancelled"});
        let waiting = queued(&table, &session, None).await;
        table.request_cancel(&waiting, &error).await.unwrap();
        assert_eq!(
            status(&table, &session, &waiting).await.0,
            JobStatus::Cancelled
        );
        assert!(!table.take(&claim(&waiting, "a"), "w").await.unwrap());

        let running = queued(&table, &session, None).await;
        assert!(table.take(&claim(&running, "a"), "w").await.unwrap());
        table.request_cancel(&running, &error).await.unwrap();
        assert_eq!(
            status(&table, &session, &running).await.0,
            JobStatus::Running
        );
        assert_eq!(
            table.tick(&claim(&running, "a"), None).await.unwrap(),
            Some(true)
        );
        assert!(
            table
                .record(
                    &claim(&running, "a"),
                    JobStatus::Cancelled,
                    None,
                    Some(&error)
                )
                .await
                .unwrap()
        );
        let (cancelled, progress) = status(&table, &session, &running).await;
        assert_eq!(cancelled, JobStatus::Cancelled);
        assert!(progress < 1.0, "only success reads 100%");

        table.request_cancel(&running, &error).await.unwrap();
        assert_eq!(
            status(&table, &session, &running).await.0,
            JobStatus::Cancelled
        );
        assert!(table.view(&session, "nope").await.is_err());
    }

    /// An owner's share counts its queued (released) and running jobs, and
    /// a job it does not fit is not written; a batch's rows wait
    /// unreleased (not counted, not takeable) until released as room allows.
    #[tokio::test]
    async fn shares_and_batches_count_what_is_released() {
        let (_dir, store) = crate::store::local_test_store().await;
        let (table, session) = (store.job_table(), SessionId::parse("s").unwrap());
        queued(&table, &session, Some("k")).await;
        let refused = NewJob {
            session: &session,
            kind: "compose",
            input: &json!({}),
            owner: Some("k"),
            callback: None,
        };
        let err = table
            .insert(&refused, |mine| {
                Err(Error::too_many(format!("{mine} in use"), 1))
            })
            .await
            .unwrap_err();
        assert!(err.to_string().contains("1 in use"), "{err}");
        assert_eq!(table.share("k").await.unwrap(), 1);
        assert_eq!(table.waiting().await.unwrap(), 1);

        let rows: Vec<(SessionId, Value)> = (0..3)
            .map(|i| (session.clone(), json!({"row": i})))
            .collect();
        let (batch, ids) = table
            .insert_batch(&NewBatch {
                owner: "o",
                template_id: "t",
                asker: "k",
                kind: "compose",
                rows: &rows,
                callback: None,
                waiting_step: "waiting",
            })
            .await
            .unwrap();
        assert_eq!(ids.len(), 3);
        assert_eq!(
            table.share("k").await.unwrap(),
            1,
            "unreleased rows are not counted"
        );
        assert_eq!(table.waiting().await.unwrap(), 1);
        assert!(
            !table.take(&claim(&ids[0], "a"), "w").await.unwrap(),
            "not released yet"
        );
        assert_eq!(
            table.askers_with_unreleased().await.unwrap(),
            vec!["k".to_owned()]
        );
        let seen = std::sync::Mutex::new(None);
        let released = table
            .release("k", |in_flight, mine| {
                *seen.lock().unwrap() = Some((in_flight, mine));
                2
            })
            .await
            .unwrap();
        assert_eq!(*seen.lock().unwrap(), Some((0, 1)));
        assert_eq!(released, ids[..2].to_vec(), "first rows first");
        assert_eq!(table.share("k").await.unwrap(), 3);
        assert!(table.take(&claim(&ids[0], "a"), "w").await.unwrap());
        let jobs = table.batch_jobs(&batch).await.unwrap();
        assert_eq!(
            jobs.iter().map(|(row, _)| *row).collect::<Vec<_>>(),
            [0, 1, 2]
        );
        assert_eq!(jobs[2].1.step.as_deref(), Some("waiting"));
        table
            .cancel_batch(&batch, &json!({"code": "cancelled"}))
            .await
            .unwrap();
        let jobs = table.batch_jobs(&batch).await.unwrap();
        assert_eq!(
            jobs[0].1.status,
            JobStatus::Running,
            "asked to stop, still running"
        );
        assert_eq!(jobs[1].1.status, JobStatus::Cancelled);
        assert_eq!(jobs[2].1.status, JobStatus::Cancelled);
        assert!(table.release("k", |_, _| 5).await.unwrap().is_empty());
        assert_eq!(table.batch(&batch).await.unwrap().unwrap().total, 3);
    }

    /// Two attempts of one job race to finish it: only the one holding the
    /// claim lists its video; the other's upload is dropped.
    #[tokio::test]
    async fn outputs_become_assets_once_however_many_attempts_finish() {
        let (dir, store) = crate::store::local_test_store().await;
        let session = SessionId::parse("race").unwrap();
        sqlx::query("INSERT INTO jobs (id, session_id, kind, status, progress, created_at, updated_at, claim) VALUES ('j', 'race', 'compose', 'running', 0, 'now', 'now', 'second')")
            .execute(store.db())
            .await
            .unwrap();
        let video = || NewAsset {
            kind: AssetKind::Video,
            ext: "mp4".into(),
            mime_type: "video/mp4".into(),
            source: "compose".into(),
            metadata: serde_json::json!({}),
            job: None,
        };
        let file = |name: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, b"a render").unwrap();
            path
        };
        let result = |assets: &[crate::store::Asset]| serde_json::json!(assets[0].name);
        let stale = claim("j", "first");
        let err = store
            .put_asset_files(
                &session,
                vec![(video(), file("a.mp4"))],
                &|_, _| {},
                Some((&stale, &result)),
            )
            .await
            .unwrap_err();
        assert_eq!(err.code(), "conflict");
        let current = claim("j", "second");
        let made = store
            .put_asset_files(
                &session,
                vec![(video(), file("b.mp4"))],
                &|_, _| {},
                Some((&current, &result)),
            )
            .await
            .unwrap();
        // Finishing again (a late duplicate) is refused too.
        assert!(
            store
                .put_asset_files(
                    &session,
                    vec![(video(), file("c.mp4"))],
                    &|_, _| {},
                    Some((&current, &result))
                )
                .await
                .is_err()
        );
        let listed = store.list_assets(&session, None).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].name, made[0].name);
        let (status, result): (String, String) =
            sqlx::query_as("SELECT status, result FROM jobs WHERE id = 'j'")
                .fetch_one(store.db())
                .await
                .unwrap();
        assert_eq!(status, "succeeded");
        assert_eq!(result, format!("\"{}\"", made[0].name));
        let stored = std::fs::read_dir(dir.path().join("assets/sessions/race"))
            .unwrap()
            .count();
        assert_eq!(stored, 1, "the losing uploads are gone");
    }
}
