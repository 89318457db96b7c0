//! The render worker: takes queued jobs (renders, automatic pipelines) from
//! the queue that every studio process shares and runs them. `studio serve`
//! runs one in-process by default; `studio worker` runs one on its own.
//! Each also sends the webhooks of ended jobs.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::agent::pipeline::PipelineJob;
use crate::error::Result;
use crate::jobs::{Claimed, Runner};
use crate::studio::{ComposeJob, Studio, TranscribeJob};

/// Every kind of job, as the queue stores it (`kind` beside its `input`).
/// A new kind of job is a variant here and a [`crate::jobs::JobKind`] input
/// type beside the use case that queues it.
#[derive(Debug, Deserialize, Serialize)]
#[serde(tag = "kind", content = "input", rename_all = "snake_case")]
enum JobInput {
    Compose(ComposeJob),
    Pipeline(PipelineJob),
    Transcribe(TranscribeJob),
}

struct StudioRunner {
    studio: Studio,
}

#[async_trait::async_trait]
impl Runner for StudioRunner {
    async fn run(&self, job: &Claimed) -> Result<Value> {
        match job.input::<JobInput>()? {
            JobInput::Compose(input) => self.studio.run_compose_job(job, &input).await,
            JobInput::Pipeline(input) => {
                crate::agent::pipeline::run_job(&self.studio, job, input).await
            }
            JobInput::Transcribe(input) => self.studio.run_transcribe_job(job, &input).await,
        }
    }
}

/// Runs jobs, up to `concurrency` at once, until `stop` is cancelled.
pub async fn run(studio: Studio, concurrency: usize, stop: CancellationToken) -> Result<()> {
    let jobs = studio.jobs().clone();
    let runner = Arc::new(StudioRunner { studio });
    // Webhooks go out from every worker process, as jobs end.
    let webhooks = jobs.deliver_webhooks(stop.clone());
    // So do batches' jobs, released to the queue as their askers' shares
    // allow.
    let batches = jobs.feed_batches(stop.clone());
    let (worked, (), ()) = tokio::join!(jobs.work(runner, concurrency, stop), webhooks, batches);
    worked
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::JobKind;

    /// Each variant's tag is the name its input type is queued under.
    #[test]
    fn every_kind_is_read_back_as_the_variant_it_was_queued_as() {
        fn tag(input: &JobInput) -> String {
            serde_json::to_value(input).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_owned()
        }
        let transcribe = TranscribeJob {
            asset_id: "audio_1.mp3".into(),
            language: None,
            provider: None,
        };
        assert_eq!(
            tag(&JobInput::Transcribe(transcribe.clone())),
            TranscribeJob::KIND
        );
        let compose: ComposeJob = serde_json::from_value(serde_json::json!({
            "request": {"timeline": []}, "version": 3
        }))
        .unwrap();
        assert_eq!(tag(&JobInput::Compose(compose)), ComposeJob::KIND);
        let pipeline: PipelineJob = serde_json::from_value(serde_json::json!({
            "params": {"text": "A short text."}, "script": []
        }))
        .unwrap();
        assert_eq!(tag(&JobInput::Pipeline(pipeline)), PipelineJob::KIND);
        // A row written before the types (as json!) reads back the same.
        let stored =
            serde_json::json!({"kind": "transcribe", "input": {"asset_id": "audio_1.mp3"}});
        assert!(matches!(
            serde_json::from_value::<JobInput>(stored).unwrap(),
            JobInput::Transcribe(t) if t.asset_id == "audio_1.mp3"
        ));
    }
}
