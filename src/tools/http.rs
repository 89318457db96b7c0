//! The one HTTP client helper every provider uses: a timeout per attempt,
//! retries with exponential backoff on 429 and 5xx (honouring `Retry-After`),
//! and provider errors mapped to [`Error::Provider`] / [`Error::ProviderTimeout`]
//! with the provider's own message.

use std::time::Duration;

use reqwest::{RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

#[derive(Clone, Debug)]
pub struct ProviderClient {
    name: String,
    client: reqwest::Client,
    attempts: u32,
    backoff: Duration,
}

impl ProviderClient {
    /// A client for the provider `name` with a per-attempt `timeout`,
    /// three attempts and a 500 ms initial backoff.
    pub fn new(name: impl Into<String>, timeout: Duration) -> Self {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(10).min(timeout))
            .user_agent(concat!("content-studio/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the TLS backend initialises");
        Self {
            name: name.into(),
            client,
            attempts: 3,
            backoff: Duration::from_millis(500),
        }
    }

    /// Overrides the retry policy (tests use a short backoff).
    pub fn with_retries(mut self, attempts: u32, backoff: Duration) -> Self {
        self.attempts = attempts.max(1);
        self.backoff = backoff;
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sends the request built by `build` (called again for each attempt) and
    /// returns the first successful response.
    pub async fn send(
        &self,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Response> {
        let mut attempt = 1;
        loop {
            let last = attempt >= self.attempts;
            let delay = self.backoff * 2u32.pow(attempt - 1);
            match build(&self.client).send().await {
                Ok(resp) if resp.status().is_success() => return Ok(resp),
                Ok(resp) if retryable(resp.status()) && !last => {
                    let wait = retry_after(&resp)
                        .unwrap_or(delay)
                        .min(Duration::from_secs(30));
                    tracing::warn!(provider = %self.name, status = %resp.status(), attempt, "provider busy or failing; retrying");
                    tokio::time::sleep(wait).await;
                }
                Ok(resp) => {
                    let status = resp.status();
                    let body = resp.text().await.unwrap_or_default();
                    return Err(Error::provider(
                        &self.name,
                        format!("HTTP {status}: {}", error_message(&body)),
                    ));
                }
                Err(e) if !last && (e.is_timeout() || e.is_connect()) => {
                    tracing::warn!(provider = %self.name, error = %e, attempt, "provider unreachable; retrying");
                    tokio::time::sleep(delay).await;
                }
                Err(e) if e.is_timeout() => {
                    return Err(Error::ProviderTimeout {
                        provider: self.name.clone(),
                        message: format!("no answer after {} attempts", self.attempts),
                    });
                }
                Err(e) => {
                    return Err(Error::provider(&self.name, format!("request failed: {e}")));
                }
            }
            attempt += 1;
        }
    }

    /// [`send`](Self::send), then decodes a JSON body; a malformed body is a
    /// provider error.
    pub async fn json<T: DeserializeOwned>(
        &self,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<T> {
        let resp = self.send(build).await?;
        let body = resp
            .bytes()
            .await
            .map_err(|e| Error::provider(&self.name, format!("reading the answer failed: {e}")))?;
        serde_json::from_slice(&body)
            .map_err(|e| Error::provider(&self.name, format!("malformed answer: {e}")))
    }

    /// [`send`](Self::send), then the raw body.
    pub async fn bytes(
        &self,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<bytes::Bytes> {
        self.send(build)
            .await?
            .bytes()
            .await
            .map_err(|e| Error::provider(&self.name, format!("reading the answer failed: {e}")))
    }
}

/// A provider's base URL: the configured one, else its default, without a
/// trailing slash.
pub fn base_url(configured: Option<&str>, default: &str) -> String {
    configured
        .unwrap_or(default)
        .trim_end_matches('/')
        .to_owned()
}

fn retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

fn retry_after(resp: &Response) -> Option<Duration> {
    let secs: u64 = resp
        .headers()
        .get("retry-after")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs))
}

/// The human part of a provider's error body: `{"error": {"message": ...}}`,
/// `{"error": "..."}`, `{"detail": ...}`, `{"message": ...}`, or the text itself.
pub fn error_message(body: &str) -> String {
    let text = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            [
                &v["error"]["message"],
                &v["error"],
                &v["detail"],
                &v["message"],
            ]
            .into_iter()
            .find_map(|m| m.as_str().map(str::to_owned))
        })
        .unwrap_or_else(|| body.trim().to_owned());
    let text = if text.is_empty() {
        "no details".to_owned()
    } else {
        text
    };
    text.chars().take(500).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn client() -> ProviderClient {
        ProviderClient::new("fake", Duration::from_millis(500))
            .with_retries(3, Duration::from_millis(10))
    }

    #[tokio::test]
    async fn retries_429_then_succeeds() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/x"))
            .respond_with(ResponseTemplate::new(429))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/x"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"ok": true})))
            .mount(&server)
            .await;
        let url = format!("{}/x", server.uri());
        let v: serde_json::Value = client().json(|c| c.post(&url)).await.unwrap();
        assert_eq!(v["ok"], true);
        assert_eq!(server.received_requests().await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn passes_on_the_providers_message() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(400).set_body_json(
                serde_json::json!({"error": {"message": "prompt rejected by safety system"}}),
            ))
            .mount(&server)
            .await;
        let url = server.uri();
        let err = client().send(|c| c.post(&url)).await.unwrap_err();
        assert_eq!(err.code(), "provider_error");
        assert!(
            err.to_string().contains("prompt rejected by safety system"),
            "{err}"
        );
        assert_eq!(
            server.received_requests().await.unwrap().len(),
            1,
            "4xx is not retried"
        );
    }

    #[tokio::test]
    async fn gives_up_after_repeated_500s() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(500).set_body_string("boom"))
            .mount(&server)
            .await;
        let url = server.uri();
        let err = client().send(|c| c.post(&url)).await.unwrap_err();
        assert!(err.to_string().contains("boom"));
        assert_eq!(server.received_requests().await.unwrap().len(), 3);
    }

    #[tokio::test]
    async fn times_out() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
            .mount(&server)
            .await;
        let url = server.uri();
        let err = ProviderClient::new("slow", Duration::from_millis(100))
            .with_retries(2, Duration::from_millis(1))
            .send(|c| c.post(&url))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "provider_timeout");
    }

    #[tokio::test]
    async fn malformed_json_is_a_provider_error() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_string("{not json"))
            .mount(&server)
            .await;
        let url = server.uri();
        let err = client()
            .json::<serde_json::Value>(|c| c.post(&url))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("malformed"));
    }
}
