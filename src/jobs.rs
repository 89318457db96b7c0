//! Background jobs (renders, pipelines) with progress. Each job is a row, so
//! its outcome survives the process; while it runs, its live state is held in
//! a watch channel that status requests and event streams read. On start-up,
//! jobs a previous process left queued or running are marked failed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::{AnyPool, Row};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;

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
    /// `compose` or `pipeline`.
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

tokio::task_local! {
    /// Who asks for the jobs made in this task: a key id, or a client
    /// address without a key. The API sets it around each request; jobs
    /// made outside it (the CLI) have no asker and no per-asker limit.
    pub static ASKER: String;
}

/// How many jobs may be queued or running: per asker, and in all.
#[derive(Clone, Copy, Debug)]
pub struct JobLimits {
    pub per_asker: usize,
    /// Queued jobs beyond this many, in all, are refused.
    pub waiting: usize,
}

impl Default for JobLimits {
    fn default() -> Self {
        Self {
            per_asker: 10,
            waiting: 32,
        }
    }
}

struct Live {
    tx: watch::Sender<JobView>,
    cancel: CancellationToken,
}

#[derive(Clone)]
pub struct Jobs {
    db: AnyPool,
    limits: JobLimits,
    /// `host:pid` of this process, recorded with each job it runs.
    worker: Arc<str>,
    live: Arc<Mutex<HashMap<String, Live>>>,
}

impl std::fmt::Debug for Jobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jobs").finish_non_exhaustive()
    }
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn urls(session: &str, id: &str) -> (String, String) {
    let status = format!("/api/v1/sessions/{session}/jobs/{id}");
    let events = format!("{status}/events");
    (status, events)
}

impl Jobs {
    /// Opens the job table and fails what processes that are gone left
    /// unfinished: jobs of this machine whose process no longer runs (or is
    /// this one: an earlier studio in it), and jobs no process claimed.
    /// Jobs of a server still running are left alone.
    pub async fn open(db: AnyPool, limits: JobLimits) -> Result<Self> {
        let host = crate::media::host_name();
        let me = std::process::id();
        let worker: Arc<str> = format!("{host}:{me}").into();
        let unfinished =
            sqlx::query("SELECT id, worker FROM jobs WHERE status IN ('queued', 'running')")
                .fetch_all(&db)
                .await?;
        let error = json!({"code": "interrupted", "message": "the server restarted while this job was queued or running; run it again"});
        let mut failed = 0;
        for row in unfinished {
            let id: String = row.try_get("id")?;
            let owner: Option<String> = row.try_get("worker")?;
            let gone = match owner.as_deref().and_then(|w| w.rsplit_once(':')) {
                Some((h, pid)) if h == host => match pid.parse::<u32>() {
                    Ok(pid) => pid == me || !crate::media::process_alive(pid),
                    Err(_) => true,
                },
                Some(_) => false, // another machine's: it may be running
                None => true,
            };
            if gone {
                failed += sqlx::query("UPDATE jobs SET status = 'failed', error = $1, updated_at = $2 WHERE id = $3 AND status IN ('queued', 'running')")
                    .bind(error.to_string())
                    .bind(now())
                    .bind(&id)
                    .execute(&db)
                    .await?
                    .rows_affected();
            }
        }
        if failed > 0 {
            tracing::warn!(
                jobs = failed,
                "jobs interrupted by a restart were marked failed"
            );
        }
        Ok(Self {
            db,
            limits,
            worker,
            live: Arc::default(),
        })
    }

    /// Refused (429) when the asker already has its share of queued and
    /// running jobs, or when too many jobs wait in all.
    pub async fn create(&self, session: &SessionId, kind: &str) -> Result<JobHandle> {
        let asker = ASKER.try_with(Clone::clone).ok();
        if let Some(asker) = &asker {
            let mine: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM jobs WHERE owner = $1 AND status IN ('queued', 'running')",
            )
            .bind(asker)
            .fetch_one(&self.db)
            .await?;
            if mine >= self.limits.per_asker as i64 {
                return Err(Error::too_many(
                    format!(
                        "you have {mine} jobs queued or running (the limit is {}); wait for one to finish or cancel one",
                        self.limits.per_asker
                    ),
                    10,
                ));
            }
        }
        let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE status = 'queued'")
            .fetch_one(&self.db)
            .await?;
        if queued >= self.limits.waiting as i64 {
            return Err(Error::too_many(
                "the studio is busy: too many jobs are waiting; try again shortly",
                30,
            ));
        }
        let id = uuid::Uuid::new_v4().simple().to_string();
        let t = now();
        sqlx::query(
            "INSERT INTO jobs (id, session_id, kind, status, progress, created_at, updated_at, owner, worker) VALUES ($1, $2, $3, 'queued', 0, $4, $4, $5, $6)",
        )
        .bind(&id)
        .bind(session.as_str())
        .bind(kind)
        .bind(&t)
        .bind(asker)
        .bind(self.worker.as_ref())
        .execute(&self.db)
        .await?;
        let (status_url, events_url) = urls(session.as_str(), &id);
        let view = JobView {
            job_id: id.clone(),
            session_id: session.to_string(),
            kind: kind.to_owned(),
            status: JobStatus::Queued,
            progress: 0.0,
            step: None,
            result: None,
            error: None,
            created_at: t.clone(),
            updated_at: t,
            status_url,
            events_url,
        };
        let (tx, _) = watch::channel(view);
        let cancel = CancellationToken::new();
        self.live.lock().expect("jobs lock").insert(
            id.clone(),
            Live {
                tx: tx.clone(),
                cancel: cancel.clone(),
            },
        );
        Ok(JobHandle {
            jobs: self.clone(),
            id,
            tx,
            cancel,
        })
    }

    pub async fn get(&self, session: &SessionId, id: &str) -> Result<JobView> {
        if let Some(view) = self
            .live_view(id)
            .filter(|v| v.session_id == session.as_str())
        {
            return Ok(view);
        }
        let row = sqlx::query(
            "SELECT id, session_id, kind, status, progress, result, error, created_at, updated_at FROM jobs WHERE id = $1 AND session_id = $2",
        )
        .bind(id)
        .bind(session.as_str())
        .fetch_optional(&self.db)
        .await?
        .ok_or_else(|| Error::UnknownJob(id.to_owned()))?;
        let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
        let (status_url, events_url) = urls(session.as_str(), id);
        Ok(JobView {
            job_id: row.try_get("id")?,
            session_id: row.try_get("session_id")?,
            kind: row.try_get("kind")?,
            status: JobStatus::parse(row.try_get("status")?),
            progress: row.try_get("progress")?,
            step: None,
            result: parse(row.try_get("result")?),
            error: parse(row.try_get("error")?),
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            status_url,
            events_url,
        })
    }

    fn live_view(&self, id: &str) -> Option<JobView> {
        self.live
            .lock()
            .expect("jobs lock")
            .get(id)
            .map(|l| l.tx.borrow().clone())
    }

    /// A stream of the job's states while it runs (`None` once it is over).
    pub fn subscribe(&self, id: &str) -> Option<watch::Receiver<JobView>> {
        self.live
            .lock()
            .expect("jobs lock")
            .get(id)
            .map(|l| l.tx.subscribe())
    }

    /// Asks a running or queued job to stop. Finished jobs are left as they are.
    pub async fn cancel(&self, session: &SessionId, id: &str) -> Result<JobView> {
        let view = self.get(session, id).await?;
        if let Some(live) = self
            .live
            .lock()
            .expect("jobs lock")
            .get(id)
            .filter(|_| !view.status.is_final())
        {
            live.cancel.cancel();
        }
        Ok(view)
    }
}

/// The worker's side of a job.
pub struct JobHandle {
    jobs: Jobs,
    id: String,
    tx: watch::Sender<JobView>,
    cancel: CancellationToken,
}

impl JobHandle {
    pub fn view(&self) -> JobView {
        self.tx.borrow().clone()
    }

    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Live progress (0–1) and step; not written to the database.
    pub fn progress(&self, progress: f64, step: Option<&str>) {
        self.tx.send_modify(|v| {
            v.progress = progress.clamp(v.progress, 1.0);
            if let Some(step) = step {
                v.step = Some(step.to_owned());
            }
            v.updated_at = now();
        });
    }

    /// Records how the job's work ended (a failure to record is logged: the
    /// work itself is over either way).
    pub async fn record(self, outcome: Result<Value>) {
        let id = self.id.clone();
        let recorded = match outcome {
            Ok(result) => self.succeed(result).await,
            Err(e) => self.fail(&e).await,
        };
        if let Err(e) = recorded {
            tracing::error!(job = %id, error = %e, "could not record a job's outcome");
        }
    }

    pub async fn running(&self) -> Result<()> {
        self.tx.send_modify(|v| v.status = JobStatus::Running);
        self.persist().await
    }

    async fn succeed(self, result: Value) -> Result<()> {
        self.tx.send_modify(|v| {
            v.status = JobStatus::Succeeded;
            v.progress = 1.0;
            v.result = Some(result);
        });
        self.finish().await
    }

    async fn fail(self, error: &Error) -> Result<()> {
        let status = if matches!(error, Error::Cancelled) {
            JobStatus::Cancelled
        } else {
            JobStatus::Failed
        };
        let message = match error {
            Error::Database(_) | Error::Migration(_) | Error::Storage(_) | Error::Io(_) => {
                tracing::error!(job = %self.id, %error, "job failed");
                "internal error; see the server log".to_owned()
            }
            Error::Cancelled => "the job was cancelled".to_owned(),
            other => other.to_string(),
        };
        self.tx.send_modify(|v| {
            v.status = status;
            v.error =
                Some(json!({"code": error.code(), "message": message, "field": error.field()}));
        });
        self.finish().await
    }

    async fn persist(&self) -> Result<()> {
        let v = self.view();
        sqlx::query("UPDATE jobs SET status = $1, progress = $2, result = $3, error = $4, updated_at = $5 WHERE id = $6")
            .bind(v.status.as_str())
            .bind(v.progress)
            .bind(v.result.map(|r| r.to_string()))
            .bind(v.error.map(|e| e.to_string()))
            .bind(now())
            .bind(&self.id)
            .execute(&self.jobs.db)
            .await?;
        Ok(())
    }

    async fn finish(self) -> Result<()> {
        let outcome = self.persist().await;
        self.jobs.live.lock().expect("jobs lock").remove(&self.id);
        outcome
    }
}
