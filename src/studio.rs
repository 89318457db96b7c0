//! The studio: one value that holds the configuration, the store, the
//! tools, the composer and the jobs. The HTTP API, the CLI and the agent (a
//! layer above, built beside it) all call through it.

use std::sync::Arc;

use crate::compose::{ComposeOutcome, ComposeRequest, Composer, ComposerSettings};
use crate::config::Config;
use crate::error::Result;
use crate::gate::Gate;
use crate::ids::SessionId;
use crate::jobs::{JobLimits, Jobs};
use crate::store::{Asset, Store};
use crate::tools::image::{ImageParams, ImageTool};
use crate::tools::social::{SocialParams, SocialResult, SocialTool};
use crate::tools::speech::{SpeechParams, SpeechTool, Voice};

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
    composer: Composer,
    jobs: Jobs,
    gates: Gates,
}

/// One gate per kind of heavy work, sized by the configuration.
#[derive(Debug)]
struct Gates {
    images: Gate,
    speech: Gate,
    pipelines: Gate,
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
        let limits = &config.limits;
        let jobs = Jobs::open(
            store.db().clone(),
            JobLimits {
                per_asker: limits.max_jobs_per_client.max(1),
                waiting: limits.max_waiting_work.max(1),
            },
        )
        .await?;
        let (slots, waiting) = (limits.concurrent_work(), limits.max_waiting_work);
        let gates = Gates {
            images: Gate::new("image renders", slots, waiting),
            speech: Gate::new("voice-overs", slots, waiting),
            pipelines: Gate::new("automatic pipelines", slots, waiting),
        };
        let composer = Composer::new(
            store.clone(),
            jobs.clone(),
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

    /// Generates an image from a prompt and stores it as the session's next image.
    pub async fn generate_image(&self, session: &SessionId, params: &ImageParams) -> Result<Asset> {
        let _pass = self.inner.gates.images.enter().await?;
        self.inner
            .image
            .generate(self.store(), session, params)
            .await
    }

    /// Speaks text as a voice-over and stores it as the session's next audio.
    pub async fn synthesize_voiceover(
        &self,
        session: &SessionId,
        params: &SpeechParams,
    ) -> Result<Asset> {
        let _pass = self.inner.gates.speech.enter().await?;
        self.inner
            .speech
            .synthesize(self.store(), &self.inner.config.tmp_dir(), session, params)
            .await
    }

    /// Writes a social media post about the text and stores it.
    pub async fn generate_social_post(
        &self,
        session: &SessionId,
        params: &SocialParams,
    ) -> Result<SocialResult> {
        self.inner
            .social
            .generate(self.store(), session, params)
            .await
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

    /// A slot for one queued automatic pipeline (held while it runs).
    pub async fn pipeline_slot(&self) -> Result<crate::gate::Pass> {
        self.inner.gates.pipelines.queue().await
    }

    pub fn composer(&self) -> &Composer {
        &self.inner.composer
    }

    pub fn jobs(&self) -> &Jobs {
        &self.inner.jobs
    }

    /// Composes a timeline into a video (or queues it, with `async`).
    pub async fn compose(
        &self,
        session: &SessionId,
        req: &ComposeRequest,
    ) -> Result<ComposeOutcome> {
        self.inner.composer.compose(session, req).await
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
            Some(pid) => pid != std::process::id() && !crate::media::process_alive(pid),
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
