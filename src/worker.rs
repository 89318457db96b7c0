//! The render worker: takes queued jobs (renders, automatic pipelines) from
//! the queue that every studio process shares and runs them. `studio serve`
//! runs one in-process by default; `studio worker` runs one on its own.
//! Each also sends the webhooks of ended jobs.

use std::sync::Arc;

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::jobs::{Claimed, Runner};
use crate::studio::Studio;

struct StudioRunner {
    studio: Studio,
}

#[async_trait::async_trait]
impl Runner for StudioRunner {
    async fn run(&self, job: &Claimed) -> Result<Value> {
        match job.kind.as_str() {
            "compose" => self.studio.run_compose_job(job).await,
            "pipeline" => crate::agent::pipeline::run_job(&self.studio, job).await,
            "transcribe" => self.studio.run_transcribe_job(job).await,
            other => Err(Error::Internal(format!(
                "no worker runs jobs of kind {other}"
            ))),
        }
    }
}

/// Runs jobs, up to `concurrency` at once, until `stop` is cancelled.
pub async fn run(studio: Studio, concurrency: usize, stop: CancellationToken) -> Result<()> {
    let jobs = studio.jobs().clone();
    let runner = Arc::new(StudioRunner { studio });
    // Webhooks go out from every worker process, as jobs end.
    let webhooks = jobs.deliver_webhooks(stop.clone());
    let (worked, ()) = tokio::join!(jobs.work(runner, concurrency, stop), webhooks);
    worked
}
