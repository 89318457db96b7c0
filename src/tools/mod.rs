//! The generation tools. Each tool is a folder with the same shape:
//!
//! - a provider trait (what the tool needs from an engine),
//! - a built-in offline provider that works on a fresh machine,
//! - HTTP providers for real services, chosen by configuration,
//!
//! and each stores what it makes through the [`crate::store::Store`] it is given.
//! HTTP providers share [`http::ProviderClient`] (timeouts, retries with
//! backoff, error mapping); OpenAI-compatible ones use [`openai::client`].
//!
//! Beside them, [`uploads`]: the user's own pictures, sound and footage,
//! accepted only as what their bytes show them to be.

pub mod http;
pub mod image;
pub mod openai;
pub mod social;
pub mod speech;
pub mod transcribe;
pub mod uploads;
