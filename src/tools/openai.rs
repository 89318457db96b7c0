//! The one client for every OpenAI-compatible API (images, speech, chat with
//! tools): `async-openai`, pointed at any base URL. It retries 429/5xx and
//! connection failures with exponential backoff; here it gets our timeout and
//! its errors are mapped to the studio's provider errors.

use std::time::Duration;

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::types::chat::{ChatCompletionResponseMessage, CreateChatCompletionRequest};

use crate::error::Error;

pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// A client for `base_url` (e.g. `http://127.0.0.1:11434/v1` for Ollama).
pub fn client(
    base_url: Option<&str>,
    api_key: Option<&str>,
    timeout: Duration,
) -> Client<OpenAIConfig> {
    let config = OpenAIConfig::new()
        .with_api_base(crate::tools::http::base_url(base_url, DEFAULT_BASE_URL))
        .with_api_key(api_key.unwrap_or_default());
    let http = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(10).min(timeout))
        .build()
        .expect("the TLS backend initialises");
    Client::with_config(config).with_http_client(http)
}

/// Maps the client's error to a provider error that names `provider`.
pub fn map_error(provider: &str, e: OpenAIError) -> Error {
    match e {
        OpenAIError::Reqwest(e) if e.is_timeout() => Error::ProviderTimeout {
            provider: provider.to_owned(),
            message: e.to_string(),
        },
        OpenAIError::ApiError(api) => Error::provider(
            provider,
            format!("HTTP {}: {}", api.status_code, api.api_error.message),
        ),
        OpenAIError::JSONDeserialize(e, _) => {
            Error::provider(provider, format!("malformed answer: {e}"))
        }
        other => Error::provider(provider, other.to_string()),
    }
}

/// Sends a chat completion and returns the first choice's message (`None`
/// when the server answered with no choices).
pub async fn chat(
    client: &Client<OpenAIConfig>,
    provider: &str,
    request: CreateChatCompletionRequest,
) -> Result<Option<ChatCompletionResponseMessage>, Error> {
    let answer = client
        .chat()
        .create(request)
        .await
        .map_err(|e| map_error(provider, e))?;
    Ok(answer.choices.into_iter().next().map(|c| c.message))
}
