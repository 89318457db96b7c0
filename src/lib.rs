//! Content Studio: turn ideas into short narrated videos, step by step.
//!
//! - [`studio`]: the facade the HTTP API, the CLI and the agent share.
//! - [`store`]: sessions and assets (SQL metadata + object-store bytes).
//! - [`tools`]: the generation tools (image, speech, social) and their providers.
//! - [`compose`]: timelines into MP4s with ffmpeg; [`jobs`]: background work with progress.
//! - [`agent`]: the coordinator (tool registry, intent parser, LLM, automatic pipeline).
//! - [`api`]: HTTP only — translates requests into calls of the library.
//! - [`worker`]: runs queued jobs, in the server or in processes of its own.
//! - [`gate`]: global fair-use limits on heavy work.
//! - [`links`]: the API's public addresses, built once for every layer.
//! - [`media`]: ffprobe and the ffmpeg runner; [`process`]: child processes; [`frame`]: frame sizes and the font.

pub mod agent;
pub mod api;
pub mod compose;
pub mod config;
pub mod error;
pub mod frame;
pub mod gate;
pub mod generated;
pub mod ids;
pub mod jobs;
pub mod links;
pub mod media;
pub mod process;
pub mod store;
pub mod studio;
pub mod templates;
pub mod text;
pub mod tools;
pub mod webhooks;
pub mod worker;

pub use config::Config;
pub use error::{Error, Result};
pub use studio::Studio;
