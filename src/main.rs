//! The `studio` command: the server and the command-line front of the library.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
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
    /// Compose a timeline (a JSON file with the same body as POST /compose)
    /// into a video, with a progress bar.
    Compose {
        #[arg(long)]
        session: String,
        /// Path of the timeline JSON.
        #[arg(long)]
        timeline: std::path::PathBuf,
    },
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

async fn run(cli: Cli) -> anyhow::Result<()> {
    let studio = Studio::open(cli.config).await?;
    match cli.command {
        Command::Serve { addr } => {
            let listener = tokio::net::TcpListener::bind(addr).await?;
            tracing::info!(
                "Content Studio listening on http://{}",
                listener.local_addr()?
            );
            studio::api::serve(listener, studio.clone(), studio::api::shutdown_signal()).await?;
            studio.store().close().await;
        }
        Command::Sessions { limit } => {
            let (sessions, total) = studio.store().list_sessions(limit.clamp(1, 500), 0).await?;
            print_json(&serde_json::json!({ "sessions": sessions, "total": total }))?;
        }
        Command::Assets { session, kind } => {
            let session = SessionId::parse(&session)?;
            let kind = kind.as_deref().map(str::parse::<AssetKind>).transpose()?;
            print_json(&studio.store().list_assets(&session, kind).await?)?;
        }
        Command::Image { session, params } => {
            let session = SessionId::parse(&session)?;
            let asset = studio.generate_image(&session, &params).await?;
            print_asset(&studio, &asset);
        }
        Command::Say { session, params } => {
            let session = SessionId::parse(&session)?;
            let asset = studio.synthesize_voiceover(&session, &params).await?;
            print_asset(&studio, &asset);
        }
        Command::Voices => print_json(&studio.voices().await)?,
        Command::Social {
            session,
            text_file,
            mut params,
        } => {
            let session = SessionId::parse(&session)?;
            if let Some(path) = text_file {
                params.text = if path.as_os_str() == "-" {
                    std::io::read_to_string(std::io::stdin())?
                } else {
                    std::fs::read_to_string(&path)
                        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?
                };
            }
            print_json(&studio.generate_social_post(&session, &params).await?)?;
        }
        Command::Compose { session, timeline } => {
            let session = SessionId::parse(&session)?;
            let text = std::fs::read(&timeline)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", timeline.display()))?;
            let req: studio::compose::ComposeRequest =
                studio::api::error::parse_json(&text).map_err(|e| e.0)?;
            let plan = studio::compose::plan(&studio, &session, &req).await?;
            let bar = indicatif::ProgressBar::new(1000).with_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} rendering [{bar:40}] {percent:>3}% {elapsed} (eta {eta})",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            let progress = |p: f64| bar.set_position((p * 1000.0) as u64);
            let asset =
                studio::compose::render(&studio, &session, &plan, &progress, Default::default())
                    .await;
            bar.finish_and_clear();
            print_asset(&studio, &asset?);
        }
    }
    Ok(())
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
