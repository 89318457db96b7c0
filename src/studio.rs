//! The studio: one value that holds the configuration, the store, the
//! tools, the composer and the jobs. The HTTP API, the CLI and the agent (a
//! layer above, built beside it) all call through it.

use std::sync::Arc;

use crate::compose::{ComposeRequest, Composer, ComposerSettings, ForJob};
use crate::config::Config;
use crate::error::Result;
use crate::gate::Gate;
use crate::ids::SessionId;
use crate::jobs::queue::QueueSettings;
use crate::jobs::{Claimed, JobKind, JobLimits, JobSettings, JobView, Jobs};
use crate::store::{Asset, Store};
use crate::tools::image::{ImageParams, ImageTool};
use crate::tools::social::{SocialParams, SocialResult, SocialTool};
use crate::tools::speech::{SpeechParams, SpeechTool, Voice};
use crate::tools::transcribe::{TranscribeTool, Transcript, TranscriptParams};

/// What a compose request gives back.
pub enum ComposeOutcome {
    Done(Asset),
    Queued(JobView),
}

/// A transcript made in the request, or queued as a job.
pub enum TranscribeOutcome {
    Done(Transcript),
    Queued(JobView),
}

/// A render queued for a worker: the checked request and the saved
/// timeline's version it came from.
#[derive(Clone, Debug, serde::Deserialize, serde::Serialize)]
pub struct ComposeJob {
    pub request: ComposeRequest,
    pub version: Option<i64>,
}

impl JobKind for ComposeJob {
    const KIND: &'static str = "compose";
}

/// A transcript queued for a worker (asked for, or after an upload).
#[derive(Clone, Debug, serde::Deserialize, serde::Serialize)]
pub struct TranscribeJob {
    pub asset_id: String,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub provider: Option<String>,
}

impl JobKind for TranscribeJob {
    const KIND: &'static str = "transcribe";
}

impl TranscribeJob {
    fn params(&self) -> TranscriptParams {
        TranscriptParams {
            asset_id: self.asset_id.clone(),
            language: self.language.clone(),
            provider: self.provider.clone(),
            run_async: None,
            callback: None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Studio {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    store: Store,
    image: ImageTool,
    speech: SpeechTool,
    social: SocialTool,
    transcribe: TranscribeTool,
    composer: Composer,
    jobs: Jobs,
    gates: Gates,
}

/// One gate per kind of heavy work, sized by the configuration.
#[derive(Debug)]
struct Gates {
    images: Gate,
    speech: Gate,
    /// Renders run inside requests (synchronous compose).
    renders: Gate,
}

impl Studio {
    /// Opens the configured database and storage (creating and migrating them
    /// on first use).
    pub async fn open(config: Config) -> Result<Self> {
        let store = Store::open(&config).await?;
        remove_leftovers(&config.tmp_root());
        std::fs::create_dir_all(config.tmp_dir())?;
        Self::from_parts(config, store).await
    }

    /// Builds the studio over an opened store, with the configured tools.
    pub async fn from_parts(config: Config, store: Store) -> Result<Self> {
        let image = ImageTool::from_config(&config)?;
        let speech = SpeechTool::from_config(&config)?;
        let social = SocialTool::from_config(&config)?;
        let transcribe = TranscribeTool::from_config(&config);
        let limits = &config.limits;
        let jobs = Jobs::open(
            store.clone(),
            JobSettings {
                queue_url: config.queue_url(),
                queue: QueueSettings::with_heartbeat(std::time::Duration::from_secs(
                    config.jobs.worker_heartbeat_secs.max(1),
                )),
                limits: JobLimits {
                    per_asker: limits.max_jobs_per_client.max(1),
                    waiting: limits.max_waiting_work.max(1),
                    // Half the share, so single jobs always have the rest.
                    batch_in_flight: (limits.max_jobs_per_client / 2).max(1),
                },
                timeout: std::time::Duration::from_secs(config.jobs.job_timeout_secs.max(1)),
                webhooks: crate::jobs::WebhookSettings::new(
                    config.jobs.webhook_allow_private,
                    std::time::Duration::from_secs_f64(
                        config.jobs.webhook_retry_secs.clamp(0.01, 3600.0),
                    ),
                ),
            },
        )
        .await?;
        let (slots, waiting) = (limits.concurrent_work(), limits.max_waiting_work);
        let gates = Gates {
            images: Gate::new("image renders", slots, waiting),
            speech: Gate::new("voice-overs", slots, waiting),
            renders: Gate::new("renders", config.max_renders, waiting),
        };
        let composer = Composer::new(
            store.clone(),
            ComposerSettings {
                tmp_dir: config.tmp_dir(),
                font_dir: config.data_dir.join("fonts"),
                max_renders: config.max_renders,
                max_video_seconds: config.max_video_seconds,
                render_cache_bytes: config.render_cache_bytes,
            },
        );
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                store,
                image,
                speech,
                social,
                transcribe,
                composer,
                jobs,
                gates,
            }),
        })
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn image_tool(&self) -> &ImageTool {
        &self.inner.image
    }

    /// Generates an image from a prompt and stores it as the session's next
    /// image. `job`: the job making it, if one does (its assets go with an
    /// attempt that is run again).
    pub async fn generate_image(
        &self,
        session: &SessionId,
        params: &ImageParams,
        job: Option<&str>,
    ) -> Result<Asset> {
        let _pass = self.inner.gates.images.enter().await?;
        self.inner
            .image
            .generate(self.store(), session, params, job)
            .await
    }

    /// Speaks text as a voice-over and stores it as the session's next audio.
    /// `job` as for [`Studio::generate_image`].
    pub async fn synthesize_voiceover(
        &self,
        session: &SessionId,
        params: &SpeechParams,
        job: Option<&str>,
    ) -> Result<Asset> {
        let _pass = self.inner.gates.speech.enter().await?;
        let tmp = self.inner.config.tmp_dir();
        self.inner
            .speech
            .synthesize(self.store(), &tmp, session, params, job)
            .await
    }

    /// Writes a social media post about the text and stores it.
    /// `job` as for [`Studio::generate_image`].
    pub async fn generate_social_post(
        &self,
        session: &SessionId,
        params: &SocialParams,
        job: Option<&str>,
    ) -> Result<SocialResult> {
        self.inner
            .social
            .generate(self.store(), session, params, job)
            .await
    }

    /// Transcribes an audio asset, or a video's sound track, and keeps the
    /// transcript with the asset (it shares the voice-overs' work slots).
    pub async fn transcribe(
        &self,
        session: &SessionId,
        params: &TranscriptParams,
    ) -> Result<Transcript> {
        let _pass = self.inner.gates.speech.enter().await?;
        self.inner
            .transcribe
            .transcribe(self.store(), session, params, &self.inner.config.tmp_dir())
            .await
    }

    /// Checks a callback before its job is queued: its form, and that its
    /// host resolves to addresses the studio may call (422 `callback.url`).
    pub async fn check_callback(&self, callback: &crate::webhooks::Callback) -> Result<()> {
        callback.check("callback")?;
        crate::webhooks::resolve_target(&callback.url, self.inner.config.jobs.webhook_allow_private)
            .await
            .map(drop)
            .map_err(|e| match e {
                crate::error::Error::Invalid { message, .. } => {
                    crate::error::Error::invalid("callback.url", message)
                }
                other => other,
            })
    }

    /// Transcribes now, or with `async`, queues it for a worker.
    /// `asker`: whose job share a queued transcript counts against.
    pub async fn transcribe_or_queue(
        &self,
        session: &SessionId,
        params: &TranscriptParams,
        asker: Option<&str>,
    ) -> Result<TranscribeOutcome> {
        if let Some(callback) = &params.callback {
            self.check_callback(callback).await?;
        }
        if params.run_async.unwrap_or(false) || params.callback.is_some() {
            let input = TranscribeJob {
                asset_id: params.asset_id.clone(),
                language: params.language.clone(),
                provider: params.provider.clone(),
            };
            let job = self
                .jobs()
                .submit(session, &input, params.callback.as_ref(), asker)
                .await?;
            return Ok(TranscribeOutcome::Queued(job));
        }
        Ok(TranscribeOutcome::Done(
            self.transcribe(session, params).await?,
        ))
    }

    /// After an upload of audio or of video with sound: its transcript is
    /// made in the background (`metadata.transcript_status`: `pending`,
    /// then `done`, `none` for no speech, or `failed`). Nothing happens when
    /// no engine is installed, or the upload came with its own transcript.
    pub async fn transcribe_in_background(&self, session: &SessionId, asset: &Asset) -> Asset {
        let sound = match asset.kind {
            crate::ids::AssetKind::Audio => true,
            crate::ids::AssetKind::Video => asset.metadata["has_audio"] == true,
            _ => false,
        };
        let typed = asset.metadata.get("words").is_some();
        if !sound || typed || !self.inner.transcribe.available() {
            return asset.clone();
        }
        // Marked first: a quick worker's `done` is never overwritten.
        let status = async |value: serde_json::Value| {
            self.store()
                .set_asset_metadata(session, &asset.name, &[("transcript_status", value)])
                .await
        };
        let Ok(pending) = status(serde_json::json!("pending")).await else {
            return asset.clone();
        };
        let input = TranscribeJob {
            asset_id: asset.name.to_string(),
            language: None,
            provider: None,
        };
        match self.jobs().submit_background(session, &input).await {
            Ok(_) => pending,
            Err(e) => {
                tracing::warn!(error = %e, asset = %asset.name, "no background transcript");
                status(serde_json::Value::Null).await.unwrap_or(pending)
            }
        }
    }

    /// Runs a queued transcript (on a worker); a failure is kept in the
    /// asset's `transcript_status`.
    pub async fn run_transcribe_job(
        &self,
        job: &Claimed,
        input: &TranscribeJob,
    ) -> Result<serde_json::Value> {
        let params = input.params();
        match self.transcribe(&job.session, &params).await {
            Ok(t) => Ok(serde_json::json!(t)),
            Err(e) => {
                if let Ok(name) = crate::ids::AssetName::parse(&params.asset_id) {
                    let _ = self
                        .store()
                        .set_asset_metadata(
                            &job.session,
                            &name,
                            &[("transcript_status", serde_json::json!("failed"))],
                        )
                        .await;
                }
                Err(e)
            }
        }
    }

    /// The transcript an asset keeps; 404 when it has none yet.
    pub async fn transcript(
        &self,
        session: &SessionId,
        name: &crate::ids::AssetName,
    ) -> Result<Transcript> {
        let asset = self.store().asset(session, name).await?;
        crate::tools::transcribe::kept(&asset).ok_or_else(|| crate::error::Error::UnknownAsset {
            session: session.to_string(),
            name: format!("{name} (it has no transcript yet: POST /transcripts makes one)"),
        })
    }

    /// The cuts that remove what `params` asks from an asset's kept
    /// transcript, within the asset's own length; 404 when it has no
    /// transcript yet.
    pub async fn plan_cuts(
        &self,
        session: &SessionId,
        name: &crate::ids::AssetName,
        params: &crate::tools::transcribe::CutParams,
    ) -> Result<crate::tools::transcribe::CutPlan> {
        let asset = self.store().asset(session, name).await?;
        let transcript = crate::tools::transcribe::kept(&asset).ok_or_else(|| {
            crate::error::Error::UnknownAsset {
                session: session.to_string(),
                name: format!("{name} (it has no transcript yet: POST /transcripts makes one)"),
            }
        })?;
        let plan = crate::tools::transcribe::cuts_for(&transcript, params)?;
        Ok(match asset.metadata["duration_seconds"].as_f64() {
            Some(length) => plan.within(length),
            None => plan,
        })
    }

    pub fn transcribe_tool(&self) -> &TranscribeTool {
        &self.inner.transcribe
    }

    pub fn social_tool(&self) -> &SocialTool {
        &self.inner.social
    }

    pub fn speech_tool(&self) -> &SpeechTool {
        &self.inner.speech
    }

    /// The voices the configured speech providers offer.
    pub async fn voices(&self) -> Vec<Voice> {
        self.inner.speech.voices().await
    }

    /// A short sample of a voice, as MP3 bytes (nothing is stored).
    pub async fn voice_sample(&self, voice_name: &str) -> Result<Vec<u8>> {
        let _pass = self.inner.gates.speech.enter().await?;
        self.inner
            .speech
            .sample(&self.inner.config.tmp_dir(), voice_name)
            .await
    }

    /// A still of the saved timeline at `at` seconds (a draft-size PNG).
    pub async fn still(&self, session: &SessionId, at: f64) -> Result<Vec<u8>> {
        self.composer().still(session, at).await
    }

    pub fn composer(&self) -> &Composer {
        &self.inner.composer
    }

    pub fn jobs(&self) -> &Jobs {
        &self.inner.jobs
    }

    /// Runs a queued compose job (on a worker).
    pub async fn run_compose_job(
        &self,
        job: &Claimed,
        input: &ComposeJob,
    ) -> Result<serde_json::Value> {
        let composer = &self.inner.composer;
        let progress = |p: f64, step: &str| job.progress(p, Some(step));
        // A batch's rows ask for their voice-overs and pictures here, on
        // the worker (a single compose made them before it queued).
        let request = if input.request.generates() {
            job.progress(0.0, Some("making the voice-overs and pictures"));
            &self
                .make_generated(&job.session, &input.request, Some(job.id()))
                .await?
        } else {
            &input.request
        };
        if request.outputs.is_some() {
            let plans = self.output_plans(&job.session, request).await?;
            let made = composer
                .render_outputs(
                    &job.session,
                    &plans,
                    input.version,
                    &progress,
                    job.cancel_token(),
                    ForJob::Outcome(job.claim()),
                )
                .await?;
            let videos: Vec<&crate::store::Asset> = made
                .iter()
                .filter(|a| a.kind == crate::ids::AssetKind::Video)
                .collect();
            let mut result = serde_json::json!(videos.first());
            result["assets"] = serde_json::json!(made);
            return Ok(result);
        }
        // Checked again: assets may have gone while the job waited.
        let plan = composer.plan(&job.session, request).await?;
        let asset = composer
            .render(
                &job.session,
                &plan,
                input.version,
                &progress,
                job.cancel_token(),
                ForJob::Outcome(job.claim()),
            )
            .await?;
        Ok(serde_json::json!(asset))
    }

    /// The plan of each of a request's `outputs`, errors named by output.
    async fn output_plans(
        &self,
        session: &SessionId,
        req: &ComposeRequest,
    ) -> Result<Vec<crate::compose::Plan>> {
        let mut plans = Vec::new();
        for (i, one) in req.per_output()?.iter().enumerate() {
            plans.push(
                self.inner
                    .composer
                    .plan(session, one)
                    .await
                    .map_err(|e| req.output_error(i, e))?,
            );
        }
        Ok(plans)
    }

    /// Composes a timeline into a video, or, with `async`, checks it and
    /// queues the render as a job for any worker.
    /// `asker`: whose job share the render counts against (`None`: the CLI).
    pub async fn compose(
        &self,
        session: &SessionId,
        req: &ComposeRequest,
        asker: Option<&str>,
    ) -> Result<ComposeOutcome> {
        let composer = &self.inner.composer;
        if let Some(callback) = &req.callback {
            self.check_callback(callback).await?;
        }
        let (req, version) = composer.resolve(session, req).await?;
        let req = self.make_generated(session, &req, None).await?;
        let plan = match req.outputs {
            // Several outputs: always a job.
            Some(_) => self.output_plans(session, &req).await?.remove(0),
            None => composer.plan(session, &req).await?,
        };
        if req.run_async.unwrap_or(false) || req.callback.is_some() || req.outputs.is_some() {
            let input = ComposeJob {
                request: req.clone(),
                version,
            };
            let job = self
                .jobs()
                .submit(session, &input, req.callback.as_ref(), asker)
                .await?;
            return Ok(ComposeOutcome::Queued(job));
        }
        // A render inside the request counts as one of the asker's jobs, and
        // waits in a bounded line for a render slot.
        let _held = self.jobs().hold(asker).await?;
        let _pass = self.inner.gates.renders.enter().await?;
        let asset = composer
            .render(
                session,
                &plan,
                version,
                &|_, _| {},
                tokio_util::sync::CancellationToken::new(),
                ForJob::None,
            )
            .await?;
        Ok(ComposeOutcome::Done(asset))
    }
}

/// Removes what crashed processes left in the temporary folder: the
/// `run-<pid>` folders of processes that no longer run, and anything else
/// older than an hour (from versions before per-process folders).
fn remove_leftovers(root: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let stale = match name
            .strip_prefix("run-")
            .and_then(|p| p.parse::<u32>().ok())
        {
            Some(pid) => pid != std::process::id() && !crate::process::process_alive(pid),
            None => entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t < hour_ago),
        };
        if stale {
            let removed = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            match removed {
                Ok(()) => {
                    tracing::info!(path = %path.display(), "removed a crashed run's leftovers")
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "could not remove leftovers")
                }
            }
        }
    }
}
