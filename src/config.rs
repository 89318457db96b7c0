//! Configuration: one value, read from flags or `STUDIO_*` environment
//! variables, that decides every backend (database, storage, providers).

use std::path::PathBuf;

use clap::Args;

pub const DEFAULT_DATA_DIR: &str = "./studio-data";
/// The voice when a request names none (a Google-style name every engine maps).
pub const DEFAULT_VOICE: &str = "en-US-Neural2-D";
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 200 * 1024 * 1024;
/// Size cap of the render cache: 2 GiB.
pub const DEFAULT_RENDER_CACHE_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// A worker's copies of remote inputs: 1 GiB.
pub const DEFAULT_INPUT_CACHE_BYTES: u64 = 1024 * 1024 * 1024;

#[derive(Clone, Debug, Args)]
pub struct Config {
    /// Folder for the embedded database, asset bytes and temporary files.
    #[arg(long, env = "STUDIO_DATA_DIR", default_value = DEFAULT_DATA_DIR, global = true, help_heading = "Storage")]
    pub data_dir: PathBuf,

    /// Metadata database: `sqlite://PATH` or `postgres://...`.
    /// Default: `sqlite://<data-dir>/studio.db`.
    #[arg(
        long,
        env = "STUDIO_DATABASE_URL",
        global = true,
        help_heading = "Storage"
    )]
    pub database_url: Option<String>,

    /// Asset bytes: `file:///abs/path`, `s3://bucket/prefix`, `gs://bucket/prefix`
    /// or `memory:///`. Cloud credentials come from the usual `AWS_*` /
    /// `GOOGLE_*` variables. Default: `<data-dir>/assets`.
    #[arg(
        long,
        env = "STUDIO_STORAGE_URL",
        global = true,
        help_heading = "Storage"
    )]
    pub storage_url: Option<String>,

    /// Largest accepted upload, in bytes.
    #[arg(long, env = "STUDIO_MAX_UPLOAD_BYTES", default_value_t = DEFAULT_MAX_UPLOAD_BYTES, global = true, help_heading = "Limits")]
    pub max_upload_bytes: u64,

    /// Seconds an external provider may take for one attempt.
    #[arg(
        long,
        env = "STUDIO_PROVIDER_TIMEOUT_SECS",
        default_value_t = 120,
        global = true,
        help_heading = "Providers"
    )]
    pub provider_timeout_secs: u64,

    /// How many renders may run at once; the rest queue.
    #[arg(
        long,
        env = "STUDIO_MAX_RENDERS",
        default_value_t = 1,
        global = true,
        help_heading = "Limits"
    )]
    pub max_renders: usize,

    /// The longest video a timeline may make, in seconds.
    #[arg(
        long,
        env = "STUDIO_MAX_VIDEO_SECONDS",
        default_value_t = 600.0,
        global = true,
        help_heading = "Limits"
    )]
    pub max_video_seconds: f64,

    /// Size cap of the render cache (reused scene segments and
    /// soundtracks), in bytes; the least recently used go first.
    #[arg(
        long,
        env = "STUDIO_RENDER_CACHE_BYTES",
        default_value_t = DEFAULT_RENDER_CACHE_BYTES,
        global = true, help_heading = "Storage"
    )]
    pub render_cache_bytes: u64,

    /// With remote storage (S3, GCS): size cap of this machine's copies of
    /// the inputs renders read (pictures, voice-overs, cached scenes); least
    /// recently used go first; 0 keeps none.
    #[arg(
        long,
        env = "STUDIO_INPUT_CACHE_BYTES",
        default_value_t = DEFAULT_INPUT_CACHE_BYTES,
        global = true, help_heading = "Storage"
    )]
    pub input_cache_bytes: u64,

    #[command(flatten)]
    pub limits: LimitsConfig,

    /// Set from `studio serve`'s own flags.
    #[arg(skip)]
    pub server: ServerConfig,

    #[command(flatten)]
    pub image: ImageConfig,

    #[command(flatten)]
    pub speech: SpeechConfig,

    /// The social post engine: `builtin` (extractive, offline) or `openai`
    /// (the LLM configured by STUDIO_LLM_*).
    #[arg(
        long,
        env = "STUDIO_SOCIAL_PROVIDER",
        default_value = "builtin",
        global = true,
        help_heading = "Providers"
    )]
    pub social_provider: String,

    /// The coordinator: `builtin` (offline intent parser) or `openai` (the
    /// LLM configured by STUDIO_LLM_*, with tool calling).
    #[arg(
        long,
        env = "STUDIO_AGENT_PROVIDER",
        default_value = "builtin",
        global = true,
        help_heading = "Providers"
    )]
    pub agent_provider: String,

    #[command(flatten)]
    pub llm: LlmConfig,

    #[command(flatten)]
    pub transcribe: TranscribeConfig,

    #[command(flatten)]
    pub jobs: JobsConfig,
}

/// Who the HTTP server answers and how openly: flags of `studio serve`
/// only (and their `STUDIO_*` variables).
#[derive(Clone, Debug, Args)]
#[command(next_help_heading = "Server")]
pub struct ServerConfig {
    /// Requests per second one key (or client address) may send, with bursts
    /// of twice that; 0 turns the limit off.
    #[arg(long, env = "STUDIO_REQUESTS_PER_SECOND", default_value_t = 50)]
    pub requests_per_second: u32,

    /// Seconds a request may take (uploads, synchronous renders and event
    /// streams excepted).
    #[arg(long, env = "STUDIO_REQUEST_TIMEOUT_SECS", default_value_t = 300)]
    pub request_timeout_secs: u64,

    /// Serve requests without an API key even when the server listens on a
    /// non-loopback address, or when keys exist.
    #[arg(long, env = "STUDIO_ALLOW_ANONYMOUS")]
    pub allow_anonymous: bool,

    /// Host names this server answers to, besides loopback names and the
    /// address it listens on (`*`: any; comma-separated).
    #[arg(long, env = "STUDIO_ALLOWED_HOSTS", value_delimiter = ',')]
    pub allowed_hosts: Vec<String>,

    /// Other web origins whose pages may change things here (CORS-style,
    /// e.g. `https://app.example`; comma-separated). Same-origin always may.
    #[arg(long, env = "STUDIO_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
}

/// How jobs (renders, pipelines) run on workers.
#[derive(Clone, Debug, Args)]
#[command(next_help_heading = "Jobs and webhooks")]
pub struct JobsConfig {
    /// Seconds one attempt of a job may run before it is stopped and fails.
    #[arg(
        long,
        env = "STUDIO_JOB_TIMEOUT_SECS",
        default_value_t = 7200,
        global = true
    )]
    pub job_timeout_secs: u64,

    /// Seconds between a worker's heartbeats; a worker silent for three of
    /// them is taken for dead and its job runs again on another worker.
    #[arg(
        long,
        env = "STUDIO_WORKER_HEARTBEAT_SECS",
        default_value_t = 5,
        global = true
    )]
    pub worker_heartbeat_secs: u64,

    /// Jobs the worker inside `studio serve` runs at once.
    #[arg(
        long,
        env = "STUDIO_WORKER_CONCURRENCY",
        default_value_t = 2,
        global = true
    )]
    pub worker_concurrency: usize,

    /// Let webhooks call loopback, private and link-local addresses (by
    /// default only public ones: a callback must not reach the studio's own
    /// network or a cloud metadata service).
    #[arg(long, env = "STUDIO_WEBHOOK_ALLOW_PRIVATE", global = true)]
    pub webhook_allow_private: bool,

    /// Seconds before a failed webhook delivery is tried again; each wait
    /// doubles (at most an hour) until 24 hours after the job's end.
    #[arg(
        long,
        env = "STUDIO_WEBHOOK_RETRY_SECS",
        default_value_t = 5.0,
        global = true
    )]
    pub webhook_retry_secs: f64,
}

impl Default for JobsConfig {
    fn default() -> Self {
        defaults()
    }
}

/// Who may use the server and how much of it: fair-use limits and timeouts.
#[derive(Clone, Debug, Args)]
#[command(next_help_heading = "Limits")]
pub struct LimitsConfig {
    /// Queued plus running jobs (renders, pipelines) one key (or, without
    /// a key, one client address) may have at once.
    #[arg(
        long,
        env = "STUDIO_MAX_JOBS_PER_CLIENT",
        default_value_t = 10,
        global = true
    )]
    pub max_jobs_per_client: usize,

    /// Image renders and speech runs that may run at once (each);
    /// default: the number of cores.
    #[arg(long, env = "STUDIO_MAX_CONCURRENT_WORK", global = true)]
    pub max_concurrent_work: Option<usize>,

    /// Requests that may wait for one of those slots; more are refused (429).
    #[arg(
        long,
        env = "STUDIO_MAX_WAITING_WORK",
        default_value_t = 32,
        global = true
    )]
    pub max_waiting_work: usize,

    /// Rows one template batch may have (each row is one render).
    #[arg(
        long,
        env = "STUDIO_MAX_BATCH_ROWS",
        default_value_t = 1000,
        global = true
    )]
    pub max_batch_rows: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        defaults()
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        defaults()
    }
}

impl LimitsConfig {
    /// Concurrent image renders and speech runs, each (jobs are bounded by
    /// the workers' concurrency).
    pub fn concurrent_work(&self) -> usize {
        self.max_concurrent_work
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
            .max(1)
    }
}

/// The speech recogniser: `builtin` (faster-whisper with Whisper tiny.en,
/// offline, English) and, when a base URL or key is given, `openai` (any
/// OpenAI-compatible `/v1/audio/transcriptions` with word timestamps).
#[derive(Clone, Debug, Args)]
#[command(next_help_heading = "Providers")]
pub struct TranscribeConfig {
    /// `auto` (the built-in engine when installed, else `openai` when
    /// configured), `builtin` or `openai`.
    #[arg(
        id = "transcribe_provider",
        long = "transcribe-provider",
        env = "STUDIO_TRANSCRIBE_PROVIDER",
        default_value = "auto",
        global = true
    )]
    pub provider: String,
    #[arg(
        id = "transcribe_base_url",
        long = "transcribe-base-url",
        env = "STUDIO_TRANSCRIBE_BASE_URL",
        global = true
    )]
    pub base_url: Option<String>,
    #[arg(
        id = "transcribe_api_key",
        long = "transcribe-api-key",
        env = "STUDIO_TRANSCRIBE_API_KEY",
        global = true
    )]
    pub api_key: Option<String>,
    /// The transcription model of the `openai` provider.
    #[arg(
        id = "transcribe_model",
        long = "transcribe-model",
        env = "STUDIO_TRANSCRIBE_MODEL",
        default_value = "whisper-1",
        global = true
    )]
    pub model: String,
    /// The built-in recogniser's Python (faster-whisper with the tiny.en
    /// model; default `.tools/whisper/bin/python`, made by scripts/setup.sh).
    #[arg(long, env = "STUDIO_WHISPER_PYTHON", global = true)]
    pub whisper_python: Option<PathBuf>,
}

impl Default for TranscribeConfig {
    fn default() -> Self {
        defaults()
    }
}

/// An OpenAI-compatible chat server (OpenAI, Ollama, vLLM, llama.cpp server,
/// Gemini's OpenAI-compatible endpoint), for the social tool and the agent.
#[derive(Clone, Debug, Args)]
#[command(next_help_heading = "Providers")]
pub struct LlmConfig {
    #[arg(
        id = "llm_base_url",
        long = "llm-base-url",
        env = "STUDIO_LLM_BASE_URL",
        global = true
    )]
    pub base_url: Option<String>,
    #[arg(
        id = "llm_api_key",
        long = "llm-api-key",
        env = "STUDIO_LLM_API_KEY",
        global = true,
        hide_env_values = true
    )]
    pub api_key: Option<String>,
    #[arg(
        id = "llm_model",
        long = "llm-model",
        env = "STUDIO_LLM_MODEL",
        global = true
    )]
    pub model: Option<String>,
}

impl Default for LlmConfig {
    fn default() -> Self {
        defaults()
    }
}

/// The speech tool's provider: `auto` (default: the best installed offline
/// voice, Piper first, then espeak-ng), `piper`, `builtin` (espeak-ng),
/// `google` (Cloud Text-to-Speech) or `openai` (any OpenAI-compatible
/// `/v1/audio/speech`).
#[derive(Clone, Debug, Args)]
#[command(next_help_heading = "Providers")]
pub struct SpeechConfig {
    #[arg(
        id = "speech_provider",
        long = "speech-provider",
        env = "STUDIO_SPEECH_PROVIDER",
        default_value = "auto",
        global = true
    )]
    pub provider: String,
    #[arg(
        id = "speech_base_url",
        long = "speech-base-url",
        env = "STUDIO_SPEECH_BASE_URL",
        global = true
    )]
    pub base_url: Option<String>,
    #[arg(
        id = "speech_api_key",
        long = "speech-api-key",
        env = "STUDIO_SPEECH_API_KEY",
        global = true,
        hide_env_values = true
    )]
    pub api_key: Option<String>,
    #[arg(
        id = "speech_model",
        long = "speech-model",
        env = "STUDIO_SPEECH_MODEL",
        global = true
    )]
    pub model: Option<String>,
    /// Piper's program (default: `.tools/piper/bin/piper`, then `piper` on PATH).
    #[arg(long = "piper-bin", env = "STUDIO_PIPER_BIN", global = true)]
    pub piper_bin: Option<PathBuf>,
    /// hibari's program, the female offline voice (default:
    /// `.tools/hibari/bin/hibari`, made by scripts/setup.sh).
    #[arg(long = "hibari-bin", env = "STUDIO_HIBARI_BIN", global = true)]
    pub hibari_bin: Option<PathBuf>,
    /// Folder of extra Piper voices (`*.onnx` with `*.onnx.json`). Default: `<data-dir>/voices`.
    #[arg(long = "voices-dir", env = "STUDIO_VOICES_DIR", global = true)]
    pub voices_dir: Option<PathBuf>,
    /// The voice used when a request names none.
    #[arg(
        long = "default-voice",
        env = "STUDIO_DEFAULT_VOICE",
        default_value = DEFAULT_VOICE,
        global = true
    )]
    pub default_voice: String,
}

impl Default for SpeechConfig {
    fn default() -> Self {
        defaults()
    }
}

/// The image tool's provider: `builtin` (offline, default), `openai`
/// (any OpenAI-compatible `/v1/images/generations`), `automatic1111`
/// (Stable Diffusion web UI / Forge) or `imagen` (Google Gemini API).
#[derive(Clone, Debug, Args)]
#[command(next_help_heading = "Providers")]
pub struct ImageConfig {
    #[arg(
        id = "image_provider",
        long = "image-provider",
        env = "STUDIO_IMAGE_PROVIDER",
        default_value = "builtin",
        global = true
    )]
    pub provider: String,
    /// Base URL of the provider's API (each provider has a sensible default).
    #[arg(
        id = "image_base_url",
        long = "image-base-url",
        env = "STUDIO_IMAGE_BASE_URL",
        global = true
    )]
    pub base_url: Option<String>,
    #[arg(
        id = "image_api_key",
        long = "image-api-key",
        env = "STUDIO_IMAGE_API_KEY",
        global = true,
        hide_env_values = true
    )]
    pub api_key: Option<String>,
    #[arg(
        id = "image_model",
        long = "image-model",
        env = "STUDIO_IMAGE_MODEL",
        global = true
    )]
    pub model: Option<String>,
}

impl Default for ImageConfig {
    fn default() -> Self {
        defaults()
    }
}

/// A configuration (or one of its sections) as its clap attributes give
/// it with no flags and no environment: the one place defaults are written.
fn defaults<T: clap::Args + clap::FromArgMatches>() -> T {
    let command = T::augment_args(clap::Command::new("defaults").no_binary_name(true))
        .mut_args(|arg| arg.env(None));
    let matches = command
        .try_get_matches_from(std::iter::empty::<String>())
        .expect("the defaults parse");
    T::from_arg_matches(&matches).expect("the defaults parse")
}

impl Config {
    /// The defaults, with the data kept in `data_dir`.
    pub fn with_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            ..defaults()
        }
    }

    /// Where jobs are queued: the database itself when it is Postgres; with
    /// SQLite, a file of its own beside it (two engines writing one SQLite
    /// file would wait on each other's locks).
    pub fn queue_url(&self) -> String {
        let db = self.database_url();
        if db.starts_with("postgres:") || db.starts_with("postgresql:") {
            return db;
        }
        let path = db
            .strip_prefix("sqlite://")
            .or_else(|| db.strip_prefix("sqlite:"))
            .unwrap_or(&db);
        let path = path.split('?').next().unwrap_or(path);
        let queue = match path.strip_suffix(".db") {
            Some(stem) => format!("{stem}-queue.db"),
            None => format!("{path}-queue"),
        };
        format!("sqlite://{queue}?mode=rwc")
    }

    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("studio.db").display()
            ),
        }
    }

    pub fn provider_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.provider_timeout_secs.max(1))
    }

    /// Where this process's temporary files (uploads being checked, renders
    /// in progress) go: its own folder under `<data-dir>/tmp`, so that
    /// leftovers of a crashed process can be told from live work.
    pub fn tmp_dir(&self) -> PathBuf {
        self.tmp_root().join(format!("run-{}", std::process::id()))
    }

    /// The folder holding every process's temporary folder.
    pub fn tmp_root(&self) -> PathBuf {
        self.data_dir.join("tmp")
    }
}
