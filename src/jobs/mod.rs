//! Background jobs (renders, pipelines), durable and shared by processes.
//!
//! A job is a row of the `jobs` table holding its input, status, progress,
//! step, cancel request and outcome, so any API process answers for it and
//! any worker process can run it; [`queue`] hands job ids to workers
//! (apalis on SQLite or Postgres). A worker *claims* the job for one attempt
//! and writes progress every few tenths of a second; it reads the cancel
//! request as often and stops the work (and ffmpeg) when it is set. Only the
//! attempt holding the claim can record an outcome, so a job whose worker
//! died and was run again elsewhere finishes exactly once. The rules live
//! here (shares and limits, the worker's loop, batches' feeding, webhooks);
//! every statement on the job table is in `store::jobs`.

mod batches;
mod notify;
pub mod queue;

pub use crate::store::{JobStatus, JobView};
pub use batches::{BatchRow, BatchRowStarted, BatchStarted, BatchView, JobCounts};
pub use notify::WebhookSettings;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::Stream;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::ids::SessionId;
use crate::store::{JobTable, NewJob};
use crate::webhooks::Callback;

/// How many jobs may be queued or running: per asker, and in all.
#[derive(Clone, Copy, Debug)]
pub struct JobLimits {
    pub per_asker: usize,
    /// Queued jobs beyond this many, in all, are refused.
    pub waiting: usize,
    /// Jobs of an asker's batches that may be queued or running at once:
    /// the rest of its share stays free for its single jobs.
    pub batch_in_flight: usize,
}

/// How often a worker writes a running job's progress and reads its cancel
/// request; also how often event streams look for news.
const TICK: Duration = Duration::from_millis(250);

/// Attempts of a job at most: a job whose worker died this many times fails.
const MAX_ATTEMPTS: i64 = 4;

/// How long a stopping worker waits for a job's work to stop before it
/// hands the job back anyway.
const HAND_BACK_WAIT: Duration = Duration::from_secs(10);

/// A kind of job: the typed input a use case queues. The queue stores it as
/// the kind's name beside its JSON, and the worker (the layer above, which
/// knows every kind) reads both back as one tagged `JobInput` and matches it.
pub trait JobKind: Serialize + DeserializeOwned {
    /// The name in the job's `kind` column and its view.
    const KIND: &'static str;
}

/// The work a worker does with the jobs it claims (the layer above decides
/// what each kind of job means).
#[async_trait::async_trait]
pub trait Runner: Send + Sync + 'static {
    async fn run(&self, job: &Claimed) -> Result<Value>;
}

#[derive(Clone)]
pub struct Jobs {
    table: JobTable,
    store: crate::store::Store,
    queue: queue::Queue,
    limits: JobLimits,
    /// How long one attempt of a job may run.
    timeout: Duration,
    /// `host:pid` of this process, recorded with each job it runs.
    worker: Arc<str>,
    /// Work run inside requests here (synchronous renders), per asker.
    held: Arc<Mutex<std::collections::HashMap<String, usize>>>,
    webhooks: WebhookSettings,
    /// Woken when a job ends here, so its webhooks go out at once.
    ended: Arc<tokio::sync::Notify>,
    /// Woken when a batch is made here, so its first jobs go out at once.
    batched: Arc<tokio::sync::Notify>,
}

/// A piece of work run inside a request, counted against its asker's share
/// of jobs until dropped.
#[derive(Debug)]
pub struct Held {
    held: Arc<Mutex<std::collections::HashMap<String, usize>>>,
    asker: String,
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut held = self.held.lock().expect("held work lock");
        if let Some(n) = held.get_mut(&self.asker) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                held.remove(&self.asker);
            }
        }
    }
}

impl std::fmt::Debug for Jobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jobs")
            .field("queue", &self.queue)
            .finish_non_exhaustive()
    }
}

/// Where and how jobs are queued and run.
#[derive(Clone, Debug)]
pub struct JobSettings {
    /// The queue's database: `postgres://…`, or a SQLite file of its own.
    pub queue_url: String,
    pub queue: queue::QueueSettings,
    pub limits: JobLimits,
    /// How long one attempt of a job may run before it fails.
    pub timeout: Duration,
    pub webhooks: WebhookSettings,
}

impl Jobs {
    /// Opens the job table and the queue. Queued jobs stay queued and run
    /// (jobs of versions before durable jobs, which had no input, were
    /// failed once by migration 0008).
    pub async fn open(store: crate::store::Store, settings: JobSettings) -> Result<Self> {
        let table = store.job_table();
        let host = crate::process::host_name();
        let worker: Arc<str> = format!("{host}:{}", std::process::id()).into();
        let queue = queue::Queue::open(&settings.queue_url, settings.queue).await?;
        Ok(Self {
            table,
            store,
            queue,
            limits: settings.limits,
            timeout: settings.timeout,
            worker,
            held: Arc::default(),
            webhooks: settings.webhooks,
            ended: Arc::default(),
            batched: Arc::default(),
        })
    }

    fn held_by(&self, asker: &str) -> usize {
        self.held
            .lock()
            .expect("held work lock")
            .get(asker)
            .copied()
            .unwrap_or(0)
    }

    fn share_used_up(&self, mine: i64) -> Error {
        Error::too_many(
            format!(
                "you have {mine} jobs queued or running (the limit is {}); wait for one to finish or cancel one",
                self.limits.per_asker
            ),
            10,
        )
    }

    /// Counts work that runs inside the request (a synchronous render)
    /// against the asker's share, as a job would be; refused (429) when the
    /// share is used up. `asker`: who asks (a key id, or `addr:<ip>`
    /// without a key); work made outside the API (the CLI, `None`) is not
    /// counted.
    pub async fn hold(&self, asker: Option<&str>) -> Result<Option<Held>> {
        let Some(asker) = asker.map(str::to_owned) else {
            return Ok(None);
        };
        // Counted first, then checked with itself included: requests that
        // arrive together cannot all pass the check before any is counted.
        *self
            .held
            .lock()
            .expect("held work lock")
            .entry(asker.clone())
            .or_default() += 1;
        let held = Held {
            held: self.held.clone(),
            asker,
        };
        let mine = self.table.share(&held.asker).await? + self.held_by(&held.asker) as i64;
        if mine > self.limits.per_asker as i64 {
            return Err(self.share_used_up(mine - 1));
        }
        Ok(Some(held))
    }

    /// Queues a job with its input, for any worker. Refused (429) when the
    /// asker already has its share of queued and running jobs, or when too
    /// many jobs wait in all. Its end is told to `callback`, or else to the
    /// asker's default webhook, if any. `asker` as for [`Jobs::hold`]:
    /// `None` (the CLI) has no share to count and no default webhook.
    pub async fn submit<J: JobKind>(
        &self,
        session: &SessionId,
        input: &J,
        callback: Option<&Callback>,
        asker: Option<&str>,
    ) -> Result<JobView> {
        let callback = self.callback_for(callback, asker).await?;
        let asker = asker.map(str::to_owned);
        self.submit_as(session, J::KIND, &json!(input), asker, callback.as_ref())
            .await
    }

    /// Where a job's end is told: `callback`, or else the asker's default
    /// webhook, if any.
    async fn callback_for(
        &self,
        callback: Option<&Callback>,
        asker: Option<&str>,
    ) -> Result<Option<Callback>> {
        Ok(match (callback, asker) {
            (Some(c), _) => Some(c.clone()),
            (None, Some(asker)) => self.store.webhook(asker).await?.and_then(|w| {
                Some(Callback {
                    url: w.url?,
                    events: w.events,
                })
            }),
            (None, None) => None,
        })
    }

    /// Queues work the studio starts by itself (a transcript after an
    /// upload): no asker's share is counted, the bound on waiting jobs is.
    pub async fn submit_background<J: JobKind>(
        &self,
        session: &SessionId,
        input: &J,
    ) -> Result<JobView> {
        self.submit_as(session, J::KIND, &json!(input), None, None)
            .await
    }

    async fn submit_as(
        &self,
        session: &SessionId,
        kind: &str,
        input: &Value,
        asker: Option<String>,
        callback: Option<&Callback>,
    ) -> Result<JobView> {
        if self.table.waiting().await? >= self.limits.waiting as i64 {
            return Err(Error::too_many(
                "the studio is busy: too many jobs are waiting; try again shortly",
                30,
            ));
        }
        let job = NewJob {
            session,
            kind,
            input,
            owner: asker.as_deref(),
            callback: callback.map(|c| json!(c).to_string()),
        };
        let id = self
            .table
            .insert(&job, |queued| {
                let mine = queued + asker.as_deref().map_or(0, |a| self.held_by(a)) as i64;
                if mine >= self.limits.per_asker as i64 {
                    return Err(self.share_used_up(mine));
                }
                Ok(())
            })
            .await?;
        if let Err(e) = self.queue.push(&id).await {
            let error = json!({"code": "internal_error", "message": "the job could not be queued"});
            let _ = self.table.fail_unqueued(&id, &error).await;
            return Err(e);
        }
        self.get(session, &id).await
    }

    pub async fn get(&self, session: &SessionId, id: &str) -> Result<JobView> {
        self.table.view(session, id).await
    }

    /// The job's states as they change, ending with its final state.
    pub fn watch(&self, session: &SessionId, id: &str) -> impl Stream<Item = JobView> + use<> {
        let (jobs, session, id) = (self.clone(), session.clone(), id.to_owned());
        futures::stream::unfold(Some(String::new()), move |last| {
            let (jobs, session, id) = (jobs.clone(), session.clone(), id.clone());
            async move {
                let mut last = last?;
                loop {
                    let view = jobs.get(&session, &id).await.ok()?;
                    let seen = format!(
                        "{:?}{}{:?}{:?}",
                        view.status, view.progress, view.step, view.error
                    );
                    if seen != last {
                        let next = (!view.status.is_final()).then_some(seen);
                        return Some((view, next));
                    }
                    last = seen;
                    tokio::time::sleep(TICK).await;
                }
            }
        })
    }

    /// Asks a queued or running job to stop, wherever it runs: a queued job
    /// is cancelled at once; a running one within a few tenths of a second
    /// (its worker reads the request). Finished jobs are left as they are.
    pub async fn cancel(&self, session: &SessionId, id: &str) -> Result<JobView> {
        self.get(session, id).await?;
        let error = json!({"code": "cancelled", "message": "the job was cancelled"});
        self.table.request_cancel(id, &error).await?;
        self.get(session, id).await
    }

    /// How many jobs are in each status, and the workers running jobs now.
    pub async fn summary(&self) -> Result<(Vec<(String, i64)>, Vec<String>)> {
        self.table.summary().await
    }

    /// Runs this process's worker: up to `concurrency` jobs at once, until
    /// `stop` is cancelled. Then it stops the jobs it runs and hands them
    /// back to the queue, where another worker (or this one, started again)
    /// runs them from the start; a handed-back attempt does not count as
    /// one. A process that dies instead leaves its jobs to other workers,
    /// which take them up once its heartbeats are missed.
    pub async fn work(
        &self,
        runner: Arc<dyn Runner>,
        concurrency: usize,
        stop: CancellationToken,
    ) -> Result<()> {
        // A crash between a job's row and its task leaves a queued job with no
        // task: a starting worker queues every queued job again (a no-op for
        // those that have one).
        for id in &self.table.waiting_ids().await? {
            if let Err(e) = self.queue.push(id).await {
                tracing::warn!(job = %id, error = %e, "could not queue a job again");
            }
        }
        let jobs = self.clone();
        let stopping = stop.clone();
        let handler: queue::Handler = Arc::new(move |id: String| {
            let (jobs, runner, stop) = (jobs.clone(), runner.clone(), stopping.clone());
            Box::pin(async move { jobs.execute(runner.as_ref(), &id, &stop).await })
        });
        // The queue's worker stops on a failed heartbeat or fetch (a database
        // that was briefly away): start a new one after a pause. Jobs it was
        // running are taken up again once its heartbeats are missed.
        let mut pause = Duration::from_secs(1);
        loop {
            let name = format!("{}:{}", self.worker, uuid::Uuid::new_v4().simple());
            let outcome = self
                .queue
                .work(&name, concurrency, handler.clone(), stop.clone())
                .await;
            if stop.is_cancelled() {
                return outcome;
            }
            match outcome {
                Ok(()) => tracing::warn!("the job worker stopped; starting it again"),
                Err(e) => tracing::error!(error = %e, "the job worker failed; starting it again"),
            }
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = stop.cancelled() => return Ok(()),
            }
            pause = (pause * 2).min(Duration::from_secs(30));
        }
    }

    /// One attempt at a job: claim it, run it with progress and cancel
    /// checks, record the outcome if the claim still holds. Whatever goes
    /// wrong after the claim (a panic included) is recorded as the job's
    /// failure, so no job is left `running` by a live worker. When `stop`
    /// comes first, the work is stopped and the job handed back (`false`).
    async fn execute(&self, runner: &dyn Runner, id: &str, stop: &CancellationToken) -> bool {
        if stop.is_cancelled() {
            return false; // not started: another worker takes it
        }
        let claim = crate::store::JobClaim {
            job_id: id.to_owned(),
            claim: uuid::Uuid::new_v4().simple().to_string(),
        };
        let taken = match self.take(&claim).await {
            Ok(taken) => taken,
            Err(e) => {
                // Not claimed: the task is lost to this worker, and the row
                // still says queued; queue it again for a later try.
                tracing::error!(job = %id, error = %e, "could not take up a job");
                tokio::time::sleep(Duration::from_secs(1)).await;
                if let Err(e) = self.queue.push(id).await {
                    tracing::error!(job = %id, error = %e, "could not queue a job again");
                }
                return true;
            }
        };
        if !taken {
            return true; // finished or cancelled while it waited
        }
        tracing::info!(job = %id, "running a job");
        let outcome = match self.load(&claim).await {
            Ok(job) => {
                let run = async {
                    let run = std::panic::AssertUnwindSafe(job.run(runner));
                    match futures::FutureExt::catch_unwind(run).await {
                        Ok(outcome) => outcome,
                        Err(_) => Err(Error::Internal("the job's work panicked".into())),
                    }
                };
                let mut run = std::pin::pin!(run);
                tokio::select! {
                    outcome = &mut run => outcome,
                    _ = stop.cancelled() => {
                        job.cancel.cancel();
                        match tokio::time::timeout(HAND_BACK_WAIT, &mut run).await {
                            // Done just as the worker stopped.
                            Ok(Ok(value)) => Ok(value),
                            _ => {
                                self.hand_back(&claim).await;
                                return false;
                            }
                        }
                    }
                }
            }
            Err(e) => Err(e),
        };
        record(&self.table, &claim, outcome).await;
        self.ended.notify_waiters();
        true
    }

    /// Gives a job this worker stopped back to the queue: queued again,
    /// progress 0, without what the attempt made, the attempt uncounted.
    async fn hand_back(&self, claim: &crate::store::JobClaim) {
        let id = claim.job_id.as_str();
        // Once the claim is gone, nothing of this attempt can be recorded.
        let returned = self.table.hand_back(claim).await;
        match returned {
            Ok(true) => {}
            Ok(false) => return, // finished, cancelled, or taken over meanwhile
            Err(e) => {
                // Still running by the row: taken up again once this
                // worker's heartbeats are missed, as if it had died.
                tracing::warn!(job = %id, error = %e, "could not hand a job back");
                return;
            }
        }
        if let Err(e) = self.store.delete_job_outputs(id).await {
            // Counted after all, so the next attempt removes them first.
            tracing::warn!(job = %id, error = %e, "could not remove a stopped job's outputs");
            let _ = self.table.count_attempt(id).await;
        }
        tracing::info!(job = %id, "handed a job back to the queue");
    }

    /// Claims the job for one attempt, if it is still to be done.
    async fn take(&self, claim: &crate::store::JobClaim) -> Result<bool> {
        self.table.take(claim, &self.worker).await
    }

    /// What a claimed job is, ready to run.
    async fn load(&self, claim: &crate::store::JobClaim) -> Result<Claimed> {
        let id = claim.job_id.as_str();
        let job = self.table.to_run(id).await?;
        let attempt = job.attempts;
        if attempt > 1 {
            // The worker of an earlier attempt died: the job runs again from
            // the start, without what that attempt had made.
            let removed = self.store.delete_job_outputs(id).await?;
            tracing::warn!(job = %id, attempt, removed, "running a job again after its worker stopped");
        }
        Ok(Claimed {
            jobs: self.clone(),
            session: SessionId::parse(&job.session_id)?,
            kind: job.kind,
            input: job
                .input
                .and_then(|s| serde_json::from_str(&s).ok())
                .unwrap_or(Value::Null),
            attempt,
            claim: claim.clone(),
            live: Arc::new(Mutex::new(Live::default())),
            cancel: CancellationToken::new(),
        })
    }
}

/// Records how an attempt ended (unless another attempt holds the job now,
/// or its outputs already recorded success), retrying a failing database.
async fn record(table: &JobTable, claim: &crate::store::JobClaim, outcome: Result<Value>) {
    let (status, result, error) = match &outcome {
        Ok(result) => (JobStatus::Succeeded, Some(result.clone()), None),
        Err(error) => {
            let status = if matches!(error, Error::Cancelled) {
                JobStatus::Cancelled
            } else {
                JobStatus::Failed
            };
            let message = match error {
                Error::Database(_) | Error::Migration(_) | Error::Storage(_) | Error::Io(_) => {
                    tracing::error!(job = %claim.job_id, %error, "job failed");
                    "internal error; see the server log".to_owned()
                }
                Error::Cancelled => "the job was cancelled".to_owned(),
                other => other.to_string(),
            };
            let error = json!({"code": error.code(), "message": message, "field": error.field()});
            (status, None, Some(error))
        }
    };
    for wait in [1, 2, 4, 8] {
        match table
            .record(claim, status, result.as_ref(), error.as_ref())
            .await
        {
            Ok(_) => {
                tracing::info!(job = %claim.job_id, status = status.as_str(), "a job ended");
                return;
            }
            Err(e) => {
                tracing::warn!(job = %claim.job_id, error = %e, "could not record a job's outcome; trying again");
                tokio::time::sleep(Duration::from_secs(wait)).await;
            }
        }
    }
    tracing::error!(job = %claim.job_id, "gave up recording a job's outcome");
}

#[derive(Clone, Debug, Default, PartialEq)]
struct Live {
    progress: f64,
    step: Option<String>,
}

/// A job a worker has claimed for one attempt.
pub struct Claimed {
    jobs: Jobs,
    pub session: SessionId,
    kind: String,
    input: Value,
    /// 1 for the first attempt; more when earlier workers died.
    pub attempt: i64,
    claim: crate::store::JobClaim,
    live: Arc<Mutex<Live>>,
    cancel: CancellationToken,
}

impl Claimed {
    pub fn id(&self) -> &str {
        &self.claim.job_id
    }

    /// The job's kind and input read back as `T`: an enum tagged `kind`
    /// with its input as `input`, one variant per [`JobKind`].
    pub fn input<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_value(json!({"kind": self.kind, "input": self.input})).map_err(|e| {
            Error::Internal(format!(
                "job {} of kind {} cannot be run here: {e}",
                self.id(),
                self.kind
            ))
        })
    }

    /// The claim that lets the job's outputs become assets (exactly once).
    pub fn claim(&self) -> &crate::store::JobClaim {
        &self.claim
    }

    /// Cancelled when someone asks the job to stop.
    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Progress (0–1, never going back) and what the job is doing now.
    pub fn progress(&self, progress: f64, step: Option<&str>) {
        let mut live = self.live.lock().expect("job progress lock");
        live.progress = progress.clamp(live.progress, 1.0);
        if let Some(step) = step {
            live.step = Some(step.to_owned());
        }
    }

    async fn run(&self, runner: &dyn Runner) -> Result<Value> {
        if self.attempt > MAX_ATTEMPTS {
            return Err(Error::Unavailable(format!(
                "the workers running this job stopped {} times; giving up",
                self.attempt - 1
            )));
        }
        let ticker = self.tick();
        let outcome = tokio::select! {
            outcome = tokio::time::timeout(self.jobs.timeout, runner.run(self)) => outcome.unwrap_or_else(|_| {
                Err(Error::Unavailable(format!("the job ran longer than {} s and was stopped", self.jobs.timeout.as_secs())))
            }),
            // The job changed hands (its worker was thought dead): stop.
            lost = ticker => Err(lost),
        };
        self.cancel.cancel();
        outcome
    }

    /// Writes progress and reads the cancel request until the claim is
    /// lost (which it returns as an error) or the attempt ends.
    async fn tick(&self) -> Error {
        let mut written = Live::default();
        loop {
            tokio::time::sleep(TICK).await;
            let live = self.live.lock().expect("job progress lock").clone();
            let progress = (live != written).then_some((live.progress, live.step.as_deref()));
            let row = self.jobs.table.tick(&self.claim, progress).await;
            match row {
                Ok(Some(cancel_asked)) => {
                    written = live;
                    if cancel_asked {
                        self.cancel.cancel();
                    }
                }
                Ok(None) => {
                    return Error::Conflict("the job was taken over by another worker".into());
                }
                Err(e) => {
                    tracing::warn!(job = %self.id(), error = %e, "could not write a job's progress")
                }
            }
        }
    }
}
