//! The `studio` command: the server and the command-line front of the library.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use studio::agent::AgentRequest;
use studio::agent::pipeline::PipelineParams;
use studio::ids::{AssetKind, SessionId};
use studio::store::Asset;
use studio::tools::image::ImageParams;
use studio::tools::social::SocialParams;
use studio::tools::speech::SpeechParams;
use studio::{Config, Studio};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "studio",
    version,
    about = "Content Studio: turn ideas into short narrated videos"
)]
struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (API, docs at /docs).
    Serve {
        /// Address to listen on.
        #[arg(long, env = "STUDIO_ADDR", default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        /// Serve the API only; queued jobs are left to `studio worker`
        /// processes sharing the database and storage.
        #[arg(long)]
        no_worker: bool,
        #[command(flatten)]
        server: studio::config::ServerConfig,
    },
    /// Run queued jobs (renders, pipelines) without serving the API; any
    /// number of workers may share one database and storage.
    Worker {
        /// Jobs this worker runs at once (default: STUDIO_WORKER_CONCURRENCY, 2).
        #[arg(long)]
        concurrency: Option<usize>,
    },
    /// Manage API keys (needed by every request once one exists).
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// List sessions, newest first.
    Sessions {
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// List a session's assets, oldest first.
    Assets {
        session: String,
        /// Only this type (image, audio, video, social, subtitles).
        #[arg(long = "type")]
        kind: Option<String>,
    },
    /// Generate an image from a prompt and print where it is stored.
    Image {
        /// Session to add the image to (created on first use).
        #[arg(long)]
        session: String,
        #[command(flatten)]
        params: ImageParams,
    },
    /// Speak text as a voice-over and print where it is stored.
    Say {
        /// Session to add the voice-over to (created on first use).
        #[arg(long)]
        session: String,
        #[command(flatten)]
        params: SpeechParams,
    },
    /// List the voices the configured speech providers offer.
    Voices,
    /// Write a social media post about a text (from --text or --text-file).
    Social {
        #[arg(long)]
        session: String,
        /// Read the text from this file ("-" for standard input).
        #[arg(long)]
        text_file: Option<std::path::PathBuf>,
        #[command(flatten)]
        params: SocialParams,
    },
    /// Make a whole narrated video and social post from a text (or, with an
    /// LLM provider, a topic): script, images, voice-overs, captions, video, post.
    Run {
        /// The text to narrate ("-" for standard input). Paragraphs become scenes.
        #[arg(long)]
        text_file: Option<std::path::PathBuf>,
        /// Where to write the video.
        #[arg(long, default_value = "video.mp4")]
        out: std::path::PathBuf,
        /// Session to work in (default: a new one).
        #[arg(long)]
        session: Option<String>,
        #[command(flatten)]
        params: PipelineParams,
    },
    /// Talk to the coordinator: one request per line.
    Chat {
        #[arg(long)]
        session: String,
        /// `interactive` (default) or `automatic`.
        #[arg(long, default_value = "interactive")]
        mode: String,
    },
    /// Check which engines this machine has, and how to add the missing ones.
    Doctor {
        /// Also check storage: list assets whose bytes are missing.
        #[arg(long)]
        check_storage: bool,
    },
    /// Compose a timeline (a JSON file with the same body as POST /compose)
    /// into a video, with a progress bar. Without --timeline, the session's
    /// saved timeline. Unchanged scenes are reused from earlier renders.
    Compose {
        #[arg(long)]
        session: String,
        /// Path of the timeline JSON.
        #[arg(long)]
        timeline: Option<std::path::PathBuf>,
        /// Render a quick draft (a quarter of the pixels, a fast preset).
        #[arg(long)]
        draft: bool,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Make a key and print it (once: only its hash is kept).
    Create {
        /// Who or what the key is for.
        #[arg(long)]
        name: String,
        /// An admin key sees and manages every session.
        #[arg(long)]
        admin: bool,
    },
    /// List keys (never the keys themselves).
    List,
    /// Revoke a key by its id or name; requests with it are refused from now on.
    Revoke { key: String },
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("STUDIO_LOG")
                .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Cancelled on SIGTERM or Ctrl-C.
fn stop_on_signal() -> tokio_util::sync::CancellationToken {
    let stop = tokio_util::sync::CancellationToken::new();
    tokio::spawn({
        let stop = stop.clone();
        async move {
            studio::api::shutdown_signal().await;
            stop.cancel();
        }
    });
    stop
}

/// How long a stopping worker may take to hand its jobs back.
const STOP_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Runs `worker` to its end, or until [`STOP_WAIT`] after `stop` (its jobs
/// are then taken up again once its heartbeats are missed).
async fn stop_within(
    worker: impl std::future::Future<Output = studio::Result<()>>,
    stop: &tokio_util::sync::CancellationToken,
) -> studio::Result<()> {
    let late = async {
        stop.cancelled().await;
        tokio::time::sleep(STOP_WAIT).await;
    };
    tokio::select! {
        outcome = worker => outcome,
        _ = late => {
            tracing::warn!("the worker did not stop in time; its jobs run again elsewhere");
            Ok(())
        }
    }
}

/// Runs the command line's command; after one that succeeds, this process's
/// temporary folder goes.
async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Keys { command } = cli.command {
        return keys_command(&cli.config, command).await;
    }
    let mut config = cli.config;
    if let Command::Serve { server, .. } = &cli.command {
        config.server = server.clone();
    }
    let studio = Studio::open(config).await?;
    dispatch(&studio, cli.command).await?;
    // This process's temporary folder goes with it (a crashed one's is
    // removed by the next start).
    let _ = std::fs::remove_dir_all(studio.config().tmp_dir());
    Ok(())
}

/// `studio keys`: opens only the store, so a running server's jobs are left alone.
async fn keys_command(config: &Config, command: KeysCommand) -> anyhow::Result<()> {
    let store = studio::store::Store::open(config).await?;
    let outcome = keys(&store, command).await;
    store.close().await;
    outcome
}

/// Runs one command (all but `keys`) on the open studio.
async fn dispatch(studio: &Studio, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Worker { concurrency } => {
            worker_command(studio, concurrency).await?;
        }
        Command::Serve {
            addr, no_worker, ..
        } => {
            serve_command(studio, addr, no_worker).await?;
        }
        Command::Keys { .. } => {} // handled by keys_command, without the studio
        Command::Sessions { limit } => {
            let (sessions, total) = studio
                .store()
                .list_sessions(None, limit.clamp(1, 500), 0)
                .await?;
            print_json(&serde_json::json!({ "sessions": sessions, "total": total }))?;
        }
        Command::Assets { session, kind } => {
            let session = SessionId::parse(&session)?;
            let kind = kind.as_deref().map(str::parse::<AssetKind>).transpose()?;
            print_json(&studio.store().list_assets(&session, kind).await?)?;
        }
        Command::Image { session, params } => {
            let session = SessionId::parse(&session)?;
            let asset = studio.generate_image(&session, &params, None).await?;
            print_asset(studio, &asset);
        }
        Command::Say { session, params } => {
            let session = SessionId::parse(&session)?;
            let asset = studio.synthesize_voiceover(&session, &params, None).await?;
            print_asset(studio, &asset);
        }
        Command::Voices => print_json(&studio.voices().await)?,
        Command::Social {
            session,
            text_file,
            mut params,
        } => {
            let session = SessionId::parse(&session)?;
            if let Some(path) = text_file {
                params.text = read_text(&path)?;
            }
            print_json(&studio.generate_social_post(&session, &params, None).await?)?;
        }
        Command::Run {
            text_file,
            out,
            session,
            params,
        } => {
            run_pipeline_command(studio, text_file, out, session, params).await?;
        }
        Command::Chat { session, mode } => {
            chat_command(studio, session, mode).await?;
        }
        Command::Doctor { check_storage } => {
            doctor_command(studio, check_storage).await?;
        }
        Command::Compose {
            session,
            timeline,
            draft,
        } => {
            compose_command(studio, session, timeline, draft).await?;
        }
    }
    Ok(())
}

async fn worker_command(studio: &Studio, concurrency: Option<usize>) -> anyhow::Result<()> {
    let concurrency = concurrency.unwrap_or(studio.config().jobs.worker_concurrency);
    let stop = stop_on_signal();
    tracing::info!(concurrency, "Content Studio worker waiting for jobs");
    // On SIGTERM/SIGINT the jobs it runs are stopped and handed back
    // to the queue for another worker.
    let worker = studio::worker::run(studio.clone(), concurrency, stop.clone());
    stop_within(worker, &stop).await?;
    studio.store().close().await;
    Ok(())
}

async fn serve_command(
    studio: &Studio,
    addr: std::net::SocketAddr,
    no_worker: bool,
) -> anyhow::Result<()> {
    let open = studio.config().server.allow_anonymous;
    if !addr.ip().is_loopback() && !open && !studio.store().keys_in_use().await? {
        anyhow::bail!(
            "refusing to listen on {addr} without API keys: anyone who reaches it could \
             read and delete every session. Make a key first (`studio keys create --name NAME`), \
             or pass --allow-anonymous to serve it open on purpose"
        );
    }
    if !addr.ip().is_loopback() {
        if open {
            tracing::warn!(
                "--allow-anonymous on {addr}: anyone who reaches it may use it without a key"
            );
        }
        if studio.config().server.allowed_hosts.is_empty() {
            tracing::warn!(
                "only loopback host names are answered; set STUDIO_ALLOWED_HOSTS to the names clients use"
            );
        }
    }
    let listener = tokio::net::TcpListener::bind(addr).await?;
    // Bytes a crash left without a row go, once past the grace period.
    tokio::spawn({
        let store = studio.store().clone();
        async move {
            match store.collect_orphans(studio::store::DEFAULT_GRACE).await {
                Ok(c) if c.removed > 0 => tracing::info!(
                    removed = c.removed,
                    bytes = c.removed_bytes,
                    "removed stored bytes no asset refers to"
                ),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "could not check storage for leftovers")
                }
            }
        }
    });
    let stop = stop_on_signal();
    let worker = (!no_worker).then(|| {
        let concurrency = studio.config().jobs.worker_concurrency;
        tokio::spawn(studio::worker::run(
            studio.clone(),
            concurrency,
            stop.clone(),
        ))
    });
    tracing::info!(
        "Content Studio listening on http://{}",
        listener.local_addr()?
    );
    // On shutdown, jobs still running are handed back to the queue
    // and run by the next worker.
    studio::api::serve(listener, studio.clone(), stop.clone().cancelled_owned()).await?;
    if let Some(worker) = worker {
        let worker = async move {
            worker
                .await
                .map_err(|e| studio::Error::Internal(e.to_string()))?
        };
        if let Err(e) = stop_within(worker, &stop).await {
            tracing::error!(error = %e, "the in-process worker stopped");
        }
    }
    studio.store().close().await;
    Ok(())
}

async fn run_pipeline_command(
    studio: &Studio,
    text_file: Option<std::path::PathBuf>,
    out: std::path::PathBuf,
    session: Option<String>,
    mut params: PipelineParams,
) -> anyhow::Result<()> {
    if let Some(path) = text_file {
        params.text = Some(read_text(&path)?);
    }
    let session = match session {
        Some(s) => SessionId::parse(&s)?,
        None => studio.store().create_session().await?.session_id,
    };
    let bars = Steps::new();
    let coordinator = studio::agent::Agent::from_config(studio.config())?;
    let writer = coordinator.script_writer();
    let result = studio::agent::pipeline::run(studio, writer, &session, &params, &|step, p| {
        bars.update(step, p)
    })
    .await;
    bars.finish();
    let result = result?;
    let video = studio
        .store()
        .local_copy(&result.video, &studio.config().tmp_dir())
        .await?;
    std::fs::copy(&video.path, &out)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?;
    println!(
        "video: {} ({:.1} s, {} scenes)",
        out.display(),
        result.video.metadata["duration_seconds"]
            .as_f64()
            .unwrap_or(0.0),
        result.scenes.len()
    );
    println!(
        "post:  {}",
        serde_json::to_string_pretty(&result.post.post)?
    );
    println!("session {session}: {}", result.assets.join(", "));
    Ok(())
}

async fn chat_command(studio: &Studio, session: String, mode: String) -> anyhow::Result<()> {
    let session = SessionId::parse(&session)?;
    let coordinator = studio::agent::Agent::from_config(studio.config())?;
    eprintln!("Talk to the studio (Ctrl-D to leave). Try: \"draw a lighthouse at night\"");
    let stdin = std::io::stdin();
    loop {
        eprint!("> ");
        let mut line = String::new();
        if stdin.read_line(&mut line)? == 0 {
            break;
        }
        if line.trim().is_empty() {
            continue;
        }
        let req = AgentRequest {
            message: line.trim().to_owned(),
            mode: Some(mode.clone()),
            callback: None,
        };
        match coordinator
            .ask(studio, &session, &req, studio::agent::Caller::default())
            .await
        {
            Ok(reply) => {
                println!("{}", reply.reply);
                if let Some(url) = reply.result["url"].as_str() {
                    println!("  {url}");
                }
            }
            Err(e) => println!("error: {e}"),
        }
    }
    Ok(())
}

async fn doctor_command(studio: &Studio, check_storage: bool) -> anyhow::Result<()> {
    doctor(studio).await;
    if check_storage {
        let missing = studio.store().missing_bytes().await?;
        if missing.is_empty() {
            println!("ok       storage: every asset's bytes are there, whole");
        } else {
            for m in &missing {
                match m.found_bytes {
                    None => println!(
                        "missing  bytes of {}/{} (stored as {})",
                        m.session_id, m.name, m.storage_key
                    ),
                    Some(found) => println!(
                        "damaged  {}/{}: {found} bytes stored, {} recorded (stored as {})",
                        m.session_id, m.name, m.expected_bytes, m.storage_key
                    ),
                }
            }
            anyhow::bail!(
                "{} asset(s) have missing or damaged bytes in storage; delete them (DELETE .../assets/NAME) or restore the files",
                missing.len()
            );
        }
    }
    Ok(())
}

async fn compose_command(
    studio: &Studio,
    session: String,
    timeline: Option<std::path::PathBuf>,
    draft: bool,
) -> anyhow::Result<()> {
    let session = SessionId::parse(&session)?;
    let req: studio::compose::ComposeRequest = match timeline {
        Some(path) => {
            let text = std::fs::read(&path)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
            studio::api::error::parse_json(&text).map_err(|e| e.0)?
        }
        None => Default::default(),
    };
    let composer = studio.composer();
    let (mut req, version) = composer.resolve(&session, &req).await?;
    if draft {
        req.output.get_or_insert_with(Default::default).quality = Some("draft".into());
    }
    let plan = composer.plan(&session, &req).await?;
    let bar = indicatif::ProgressBar::new(1000).with_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{bar:40}] {percent:>3}% {elapsed} (eta {eta}) {msg}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let progress = |p: f64, step: &str| {
        bar.set_position((p * 1000.0) as u64);
        bar.set_message(step.to_owned());
    };
    let asset = composer
        .render(
            &session,
            &plan,
            version,
            &progress,
            Default::default(),
            studio::compose::ForJob::None,
        )
        .await;
    bar.finish_and_clear();
    print_asset(studio, &asset?);
    Ok(())
}

async fn keys(store: &studio::store::Store, command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Create { name, admin } => {
            let (key, info) = store.create_key(&name, admin).await?;
            eprintln!(
                "{} key {} ({}) made; it is shown this once, keep it safe:",
                if admin { "admin" } else { "user" },
                info.id,
                info.name
            );
            println!("{key}");
        }
        KeysCommand::List => print_json(&store.list_keys().await?)?,
        KeysCommand::Revoke { key } => {
            let info = store.revoke_key(&key).await?;
            eprintln!("revoked key {} ({})", info.id, info.name);
        }
    }
    Ok(())
}

/// Prints what each engine needs and whether this machine has it.
async fn doctor(studio: &Studio) {
    doctor_programs(studio);
    doctor_voices(studio).await;
    doctor_engines(studio);
    doctor_jobs(studio).await;
    doctor_webhooks(studio).await;
}

/// Whether `program arg` runs and succeeds (its output thrown away).
fn works(program: &str, arg: &str) -> bool {
    std::process::Command::new(program)
        .arg(arg)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// One line of the doctor's report: `what` is there, or missing and how to fix it.
fn doctor_line(ok: bool, what: &str, fix: &str) {
    if ok {
        println!("ok       {what}");
    } else {
        println!("missing  {what} — {fix}");
    }
}

/// The programs and offline engines the tools run.
fn doctor_programs(studio: &Studio) {
    doctor_line(
        works("ffmpeg", "-version") && works("ffprobe", "-version"),
        "ffmpeg and ffprobe (compose, uploads, voice-overs)",
        "apt-get install ffmpeg (or bash scripts/setup.sh)",
    );
    doctor_line(
        works("espeak-ng", "--version"),
        "espeak-ng (the built-in voice)",
        "apt-get install espeak-ng (or bash scripts/setup.sh)",
    );
    doctor_line(
        studio.speech_tool().has_provider("piper"),
        "Piper (the natural offline voice)",
        "bash scripts/setup.sh installs it into .tools/piper; or set STUDIO_PIPER_BIN, and add voices to STUDIO_VOICES_DIR",
    );
    doctor_line(
        studio.speech_tool().has_provider("hibari"),
        "hibari (the female offline voice, heart)",
        "bash scripts/setup.sh installs it into .tools/hibari; or set STUDIO_HIBARI_BIN",
    );
    doctor_line(
        studio
            .transcribe_tool()
            .provider_names()
            .iter()
            .any(|p| p == "builtin"),
        "faster-whisper with Whisper tiny.en (speech to text, English)",
        "bash scripts/setup.sh installs it into .tools/whisper; or set STUDIO_WHISPER_PYTHON",
    );
}

/// How many voices there are, and from which engines.
async fn doctor_voices(studio: &Studio) {
    let voices = studio.voices().await;
    let engines: std::collections::BTreeSet<&str> =
        voices.iter().map(|v| v.provider.as_str()).collect();
    println!(
        "voices   {} from {}",
        voices.len(),
        engines.into_iter().collect::<Vec<_>>().join(", ")
    );
}

/// The engine each tool is set to use.
fn doctor_engines(studio: &Studio) {
    let c = studio.config();
    println!(
        "engines  image: {}, speech: {}, transcripts: {} ({}), social: {}, agent: {}",
        c.image.provider,
        c.speech.provider,
        c.transcribe.provider,
        studio.transcribe_tool().provider_names().join(", "),
        c.social_provider,
        c.agent_provider
    );
}

/// The jobs by state and the workers running, with a hint when jobs wait
/// and no worker runs.
async fn doctor_jobs(studio: &Studio) {
    let (counts_raw, workers) = match studio.jobs().summary().await {
        Ok(summary) => summary,
        Err(e) => {
            println!("missing  jobs: cannot read the job table ({e})");
            return;
        }
    };
    let counts: Vec<String> = counts_raw.iter().map(|(s, n)| format!("{n} {s}")).collect();
    let counts = if counts.is_empty() {
        "none yet".to_owned()
    } else {
        counts.join(", ")
    };
    let running = if workers.is_empty() {
        String::new()
    } else {
        format!("; running on {}", workers.join(", "))
    };
    println!("jobs     {counts}{running}");
    let queued = counts_raw
        .iter()
        .find(|(s, _)| s == "queued")
        .map_or(0, |(_, n)| *n);
    if queued > 0 && workers.is_empty() {
        println!(
            "hint     {queued} jobs wait for a worker: run `studio serve` (it has one) or `studio worker`"
        );
    }
}

/// The webhook deliveries still waiting.
async fn doctor_webhooks(studio: &Studio) {
    match studio.store().pending_deliveries().await {
        Ok(0) => println!("webhooks no deliveries waiting"),
        Ok(n) => println!(
            "webhooks {n} deliveries waiting (retried by the workers until delivered or 24 h old)"
        ),
        Err(e) => println!("missing  webhooks: cannot read the deliveries ({e})"),
    }
}

/// Reads a text file, or standard input for "-".
fn read_text(path: &std::path::Path) -> anyhow::Result<String> {
    if path.as_os_str() == "-" {
        return Ok(std::io::read_to_string(std::io::stdin())?);
    }
    std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))
}

/// One progress bar per pipeline step; a finished step stays on screen.
struct Steps {
    multi: indicatif::MultiProgress,
    current: std::sync::Mutex<Option<(String, indicatif::ProgressBar)>>,
}

impl Steps {
    fn new() -> Self {
        Self {
            multi: indicatif::MultiProgress::new(),
            current: std::sync::Mutex::new(None),
        }
    }

    fn update(&self, step: &str, overall: f64) {
        let mut current = self.current.lock().expect("progress lock");
        if current.as_ref().is_none_or(|(name, _)| name != step) {
            if let Some((name, bar)) = current.take() {
                bar.finish_with_message(format!("{name} ✓"));
            }
            let bar = self.multi.add(indicatif::ProgressBar::new(1000));
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} {msg:<18} [{bar:30}] {percent:>3}% overall {elapsed}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar.set_message(step.to_owned());
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            *current = Some((step.to_owned(), bar));
        }
        if let Some((_, bar)) = current.as_ref() {
            bar.set_position((overall * 1000.0) as u64);
        }
    }

    fn finish(&self) {
        if let Some((name, bar)) = self.current.lock().expect("progress lock").take() {
            bar.finish_with_message(format!("{name} ✓"));
        }
    }
}

/// Prints where an asset's bytes are: a file path on local storage, else its URL.
fn print_asset(studio: &Studio, asset: &Asset) {
    match studio.store().blobs().local_path(&asset.storage_key) {
        Some(path) => println!("{}", path.display()),
        None => println!("{}", asset.url),
    }
    eprintln!(
        "{} {} ({} bytes)",
        asset.session_id, asset.name, asset.size_bytes
    );
}

fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
