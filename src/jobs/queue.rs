//! The queue engine under the jobs: [apalis], on SQLite for one machine and
//! on Postgres for many, through one code path. A queued task carries only
//! the job's id; the job's input, progress and outcome live in the `jobs`
//! table (see the parent module), so any process can report on it.
//!
//! Sharp edges of apalis 1.0 handled here: the queue name is set explicitly
//! on producer and workers alike; a worker fetches one task at a time
//! (`batch_size(1)`, so no worker hoards jobs); dead-worker detection is
//! heartbeat interval × missed heartbeats, configured (the library's default
//! is five minutes); apalis keeps its migration history in its own table.

use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::*;
use apalis_postgres::PostgresStorage;
use apalis_sqlite::SqliteStorage;
use apalis_sqlite::callback::HookCallbackListener;
use futures::FutureExt;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};

/// The queue every studio process uses.
pub const QUEUE: &str = "studio-jobs";

/// How often apalis may deliver a task again after its handler failed. The
/// handler fails only when a stopping worker hands its job back (outcomes
/// are the job table's, which caps real attempts); apalis does not count
/// re-deliveries of a dead worker's tasks.
const MAX_DELIVERIES: usize = 100;

/// What is queued: the job to run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JobTask {
    pub job_id: String,
}

/// How quickly a dead worker is noticed: heartbeat × missed heartbeats.
#[derive(Clone, Copy, Debug)]
pub struct QueueSettings {
    pub heartbeat: Duration,
    pub missed_heartbeats: usize,
    /// How often an idle worker looks for new tasks.
    pub poll: Duration,
}

impl QueueSettings {
    /// Heartbeats every `heartbeat` (configured: `STUDIO_WORKER_HEARTBEAT_SECS`);
    /// three missed ones make a worker dead; idle workers look every 200 ms.
    pub fn with_heartbeat(heartbeat: Duration) -> Self {
        Self {
            heartbeat,
            missed_heartbeats: 3,
            poll: Duration::from_millis(200),
        }
    }
}

/// What a worker does with a job id: `true` when the job was done with,
/// `false` when the worker, stopping, handed it back for another worker.
pub type Handler = Arc<dyn Fn(String) -> BoxFuture<'static, bool> + Send + Sync>;

#[derive(Clone)]
enum Backend {
    /// With the update hook of the queue's connections: a task pushed by
    /// this process wakes its worker at once.
    Sqlite(SqliteStorage<JobTask>, HookCallbackListener),
    Postgres(PostgresStorage<JobTask>),
}

#[derive(Clone)]
pub struct Queue {
    backend: Backend,
    settings: QueueSettings,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.backend {
            Backend::Sqlite(..) => "sqlite",
            Backend::Postgres(_) => "postgres",
        };
        f.debug_struct("Queue").field("backend", &kind).finish()
    }
}

fn queue_error(e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("job queue: {e}"))
}

impl Queue {
    /// Opens (and migrates) the queue at `url`: a `postgres://` URL or a
    /// `sqlite://` file.
    pub async fn open(url: &str, settings: QueueSettings) -> Result<Self> {
        // The two backends have the same shape but distinct types.
        macro_rules! storage {
            ($storage:ident, $config:ty, $pool:expr) => {{
                let pool = $pool;
                let mut migrator = $storage::<()>::migrations();
                migrator.dangerous_set_table_name("apalis_migrations");
                migrator.set_ignore_missing(true);
                migrator.run(&pool).await?;
                let config = <$config>::default()
                    .queue(QUEUE)
                    .batch_size(1)
                    .heartbeat_interval(settings.heartbeat)
                    .missed_heartbeats(settings.missed_heartbeats);
                $storage::new(&pool).with_config(config)
            }};
        }
        let backend = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(4)
                .connect(url)
                .await?;
            Backend::Postgres(storage!(PostgresStorage, apalis_postgres::Config, pool))
        } else {
            let (pool, hook) = SqliteStorage::connect_with_callback(url).map_err(queue_error)?;
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
            let storage = storage!(SqliteStorage, apalis_sqlite::Config, pool);
            Backend::Sqlite(storage, hook)
        };
        Ok(Self { backend, settings })
    }

    /// Queues a job for any worker.
    pub async fn push(&self, job_id: &str) -> Result<()> {
        // Keyed by the job: pushing a job again (after a crash between its
        // row and its task, at start-up) never makes a second task.
        let task = TaskBuilder::new(JobTask {
            job_id: job_id.to_owned(),
        })
        .max_attempts(MAX_DELIVERIES)
        .idempotency_key(job_id)
        .build();
        let pushed = match self.backend.clone() {
            Backend::Sqlite(mut s, _) => s.push_task(task).await.map_err(|e| e.to_string()),
            Backend::Postgres(mut s) => s.push_task(task).await.map_err(|e| e.to_string()),
        };
        match pushed {
            // Already queued (SQLite skips the duplicate; Postgres refuses it).
            Err(e) if e.contains("idempotency") => Ok(()),
            other => other.map_err(queue_error),
        }
    }

    /// Runs one worker named `name` that takes up to `concurrency` jobs at
    /// once and hands each to `handler`, until `stop` is cancelled; then it
    /// waits for the handlers, records their tasks and gives back the tasks
    /// it had fetched but not started.
    pub async fn work(
        &self,
        name: &str,
        concurrency: usize,
        handler: Handler,
        stop: CancellationToken,
    ) -> Result<()> {
        let signal = stop.cancelled_owned().map(Ok::<(), std::io::Error>);
        let poll = self.settings.poll;
        let concurrency = concurrency.max(1);
        // Woken by new tasks (the SQLite update hook in this process; Postgres
        // LISTEN/NOTIFY from any), and polling for the rest.
        macro_rules! worker {
            ($storage:expr, $wake:expr) => {
                tokio::spawn(
                    WorkerBuilder::new(name)
                        .backend(
                            $storage
                                .poll_with_strategy(Strategy::new().stream($wake).interval(poll)),
                        )
                        .concurrency(concurrency)
                        .data(handler)
                        .build(handle)
                        .run_until(signal),
                )
            };
        }
        let run = match self.backend.clone() {
            Backend::Sqlite(s, hook) => worker!(s, hook),
            Backend::Postgres(s) => {
                let notify = apalis_postgres::Pubsub::new(s.pool().clone(), QUEUE.to_owned());
                worker!(s, notify)
            }
        };
        // Dropping this future stops the worker too.
        tokio_util::task::AbortOnDropHandle::new(run)
            .await
            .map_err(queue_error)?
            .map_err(queue_error)
    }
}

async fn handle(task: JobTask, handler: Data<Handler>) -> std::result::Result<(), BoxDynError> {
    if (handler.0)(task.job_id).await {
        Ok(())
    } else {
        // A failed task is delivered again, to any worker.
        Err("handed back by a stopping worker".into())
    }
}
