//! Webhooks, the leaf part: what a `callback` is, whether its target may be
//! called (the SSRF guard), how a delivery is signed, and one attempt at
//! sending it. Durable delivery (rows, retries, the loop) lives with the
//! jobs whose ends they announce (`jobs::notify`).

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::ToSchema;

use crate::error::{Error, Result};

/// The ends of a job a callback can be told of.
pub const EVENTS: &[&str] = &["succeeded", "failed", "cancelled"];
/// The signature header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
pub const SIGNATURE_HEADER: &str = "Studio-Signature";
/// How long one attempt may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// How much of a receiver's answer is read (for the attempt's log).
const MAX_ANSWER_BYTES: usize = 4096;

/// Where to tell of a job's end: `{"url": "https://…", "events"?: [...]}`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Callback {
    /// An `https://` (or `http://`) URL; its host must resolve to public
    /// addresses unless the server allows private ones.
    #[schema(example = "https://example.com/hooks/studio")]
    pub url: String,
    /// Which ends to tell of: `succeeded`, `failed`, `cancelled` (default all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<String>>,
}

impl Callback {
    /// Checks the URL's form and the events (not where the host points:
    /// see [`resolve_target`]). `field` is where the callback sits.
    pub fn check(&self, field: &str) -> Result<()> {
        target(&self.url).map_err(|m| Error::invalid(format!("{field}.url"), m))?;
        for (i, event) in self.events.iter().flatten().enumerate() {
            if !EVENTS.contains(&event.as_str()) {
                return Err(Error::invalid(
                    format!("{field}.events[{i}]"),
                    format!("{event:?} is not one of succeeded, failed, cancelled"),
                ));
            }
        }
        Ok(())
    }

    /// Whether the job's final status `status` is to be told.
    pub fn wants(&self, status: &str) -> bool {
        self.events
            .as_ref()
            .is_none_or(|events| events.iter().any(|e| e == status))
    }
}

/// The URL's host and port, if it is one the studio may call.
fn target(url: &str) -> std::result::Result<(String, u16), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "https" | "http") {
        return Err("must be an https:// (or http://) URL".into());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("must not hold a user name or password".into());
    }
    if url.len() > 2000 {
        return Err("is longer than 2000 characters".into());
    }
    let host = parsed
        .host_str()
        .ok_or("must name a host")?
        .trim_matches(['[', ']'])
        .to_owned();
    let port = parsed.port_or_known_default().ok_or("has no port")?;
    Ok((host, port))
}

/// Whether an address is on the public internet: not loopback, private,
/// link-local (cloud metadata services live at 169.254.169.254 and
/// fd00:ec2::254), shared, unspecified, multicast or reserved.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // shared (carrier-grade NAT)
                || (a == 192 && b == 0 && v4.octets()[2] == 0) // IETF protocol assignments
                || (a == 198 && (b == 18 || b == 19)) // benchmarking
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local (fd00:ec2::254 among them)
                || (first & 0xffc0) == 0xfe80 // link-local
                || first == 0x2001 && v6.segments()[1] == 0xdb8 // documentation
                || first == 0x64 && v6.segments()[1] == 0xff9b) // NAT64 to anything
        }
    }
}

/// Resolves a callback URL's host to the addresses the studio may connect
/// to: every address must be public (a host with one private address is
/// refused), unless `allow_private`. The delivery connects to exactly these
/// addresses, so a name that changes its answer later cannot redirect it.
pub async fn resolve_target(url: &str, allow_private: bool) -> Result<Vec<SocketAddr>> {
    let (host, port) = target(url).map_err(|m| Error::invalid("url", m))?;
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::time::timeout(TIMEOUT, tokio::net::lookup_host((host.as_str(), port)))
            .await
            .map_err(|_| Error::invalid("url", format!("{host} did not resolve in time")))?
            .map_err(|e| Error::invalid("url", format!("{host} does not resolve: {e}")))?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(Error::invalid("url", format!("{host} has no address")));
    }
    if !allow_private && let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
        return Err(Error::invalid(
            "url",
            format!(
                "{host} resolves to {}, a loopback, private, link-local or metadata address; \
                 the studio calls public addresses only (STUDIO_WEBHOOK_ALLOW_PRIVATE=true allows others)",
                bad.ip()
            ),
        ));
    }
    Ok(addrs)
}

/// The `Studio-Signature` value for `body` sent at unix time `t`.
pub fn signature(secret: &str, t: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{t}.{body}").as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// A new signing secret (shown once to its owner).
pub fn new_secret() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| Error::Internal(format!("no randomness: {e}")))?;
    Ok(format!("whsec_{}", hex::encode(bytes)))
}

/// How one attempt went.
#[derive(Clone, Debug, PartialEq)]
pub struct Attempt {
    pub status_code: Option<u16>,
    pub latency: Duration,
    pub error: Option<String>,
}

impl Attempt {
    pub fn delivered(&self) -> bool {
        self.status_code.is_some_and(|s| (200..300).contains(&s))
    }
}

/// POSTs `body` to `url`, connecting only to `addrs` (see
/// [`resolve_target`]), following no redirect, within [`TIMEOUT`], reading
/// at most a few KB of the answer.
pub async fn send(url: &str, addrs: &[SocketAddr], body: String, signature: &str) -> Attempt {
    let started = Instant::now();
    let outcome = async {
        let host = target(url).map_err(|m| m.to_string())?.0;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .resolve_to_addrs(&host, addrs)
            .user_agent(concat!(
                "content-studio-webhooks/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .map_err(|e| e.to_string())?;
        let mut response = client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature)
            .body(body)
            .send()
            .await
            .map_err(|e| error_chain(&e))?;
        let status = response.status().as_u16();
        let mut read = 0;
        while read < MAX_ANSWER_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => read += chunk.len(),
                _ => break,
            }
        }
        Ok::<u16, String>(status)
    }
    .await;
    let latency = started.elapsed();
    match outcome {
        Ok(status) => Attempt {
            status_code: Some(status),
            latency,
            error: (!(200..300).contains(&status))
                .then(|| format!("the receiver answered {status}")),
        },
        Err(error) => Attempt {
            status_code: None,
            latency,
            error: Some(error),
        },
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_metadata_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700::1111"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[tokio::test]
    async fn targets_on_private_addresses_are_refused_unless_allowed() {
        for url in [
            "http://127.0.0.1:9/hook",
            "http://localhost/hook",
            "http://[::1]:8080/",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.5/",
        ] {
            let e = resolve_target(url, false).await.unwrap_err();
            assert_eq!(e.field(), Some("url"), "{url}: {e}");
        }
        assert!(
            resolve_target("http://127.0.0.1:9/hook", true)
                .await
                .is_ok()
        );
        for url in [
            "ftp://example.com/",
            "https://user:pw@example.com/",
            "not a url",
        ] {
            assert!(resolve_target(url, true).await.is_err(), "{url}");
        }
    }

    #[test]
    fn callbacks_name_their_bad_field_and_choose_events() {
        let cb = Callback {
            url: "https://example.com/h".into(),
            events: Some(vec!["failed".into(), "done".into()]),
        };
        assert_eq!(
            cb.check("callback").unwrap_err().field(),
            Some("callback.events[1]")
        );
        let cb = Callback {
            url: "https://example.com/h".into(),
            events: Some(vec!["failed".into()]),
        };
        assert!(cb.check("callback").is_ok());
        assert!(cb.wants("failed") && !cb.wants("succeeded"));
        assert!(Callback::default().check("callback").is_err());
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_time_dot_body() {
        // printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test
        assert_eq!(
            signature("whsec_test", 1_700_000_000, "{\"a\":1}"),
            "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789"
        );
    }
}
