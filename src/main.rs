//! The `studio` command: the server and the command-line front of the library.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use studio::ids::{AssetKind, SessionId};
use studio::store::Asset;
use studio::tools::image::ImageParams;
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
