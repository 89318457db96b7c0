//! Browser safety, on every request: the `Host` must be one this studio
//! answers to (DNS rebinding cannot turn a local studio into an open one),
//! a request that changes something must not come from a foreign web page
//! (`Origin`), and every answer carries headers that keep browsers strict.

use std::collections::HashSet;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::error::error_response;

/// Which hosts and origins are welcome.
#[derive(Clone, Debug)]
pub struct Guard {
    hosts: Arc<HashSet<String>>,
    any_host: bool,
    origins: Arc<HashSet<String>>,
}

/// The page and API: only our own scripts, styles, media and connections.
const CSP: &str = "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; \
                   style-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; \
                   base-uri 'none'; frame-ancestors 'none'; form-action 'self'";
/// Swagger UI (served from the binary) needs inline styles and its initializer.
const DOCS_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                        script-src 'self' 'unsafe-inline'; object-src 'none'; frame-ancestors 'none'";

/// The host part of a `Host` header or an origin's authority, lowercased,
/// without port or IPv6 brackets.
fn host_of(authority: &str) -> String {
    let a = authority.trim().to_ascii_lowercase();
    if let Some(rest) = a.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default().to_owned();
    }
    match a.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host.to_owned(),
        _ => a,
    }
}

impl Guard {
    /// `hosts`: the names this studio answers to (`*`: any); loopback names
    /// and `local` (the address it listens on, unless unspecified) always.
    /// `origins`: other web origins allowed to change things (`https://app.example`).
    pub fn new(hosts: &[String], origins: &[String], local: Option<std::net::IpAddr>) -> Self {
        let mut set: HashSet<String> = ["localhost", "127.0.0.1", "::1"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        set.extend(hosts.iter().map(|h| host_of(h)));
        if let Some(ip) = local.filter(|ip| !ip.is_unspecified()) {
            set.insert(ip.to_string());
        }
        Self {
            any_host: hosts.iter().any(|h| h.trim() == "*"),
            hosts: Arc::new(set),
            origins: Arc::new(
                origins
                    .iter()
                    .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
                    .collect(),
            ),
        }
    }

    /// `Err((status, code, message))` when the request is refused.
    fn check(&self, req: &Request) -> Result<(), (StatusCode, &'static str, String)> {
        let mut hosts = req.headers().get_all(header::HOST).iter();
        let (first, second) = (hosts.next(), hosts.next());
        // HTTP/1.1 requires exactly one Host (RFC 9112 §3.2); HTTP/2 names
        // the authority in the request line instead.
        if second.is_some() || (first.is_none() && req.version() == axum::http::Version::HTTP_11) {
            return Err((
                StatusCode::BAD_REQUEST,
                "bad_request",
                "send exactly one Host header".into(),
            ));
        }
        // HTTP/2 (and an absolute-form request line) names the host in the
        // URI's authority: it passes the same check as a Host header.
        let host = match (first, req.uri().authority()) {
            (Some(h), _) => h.to_str().unwrap_or("\u{fffd}"),
            (None, Some(authority)) => authority.as_str(),
            (None, None) => "",
        };
        if !host.is_empty() && !self.any_host && !self.hosts.contains(&host_of(host)) {
            return Err((
                StatusCode::FORBIDDEN,
                "forbidden_host",
                format!(
                    "this studio does not answer to the host {host:?}; add it to STUDIO_ALLOWED_HOSTS"
                ),
            ));
        }
        let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
        if let (false, Some(origin)) = (safe, req.headers().get(header::ORIGIN)) {
            let origin = origin.to_str().unwrap_or("null").to_ascii_lowercase();
            let same = origin
                .split_once("://")
                .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host));
            if !same && !self.origins.contains(origin.trim_end_matches('/')) {
                return Err((
                    StatusCode::FORBIDDEN,
                    "forbidden_origin",
                    format!(
                        "requests from the web page at {origin} may not change anything here; add it to STUDIO_ALLOWED_ORIGINS"
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// The middleware: refuses what the guard refuses, then adds the headers.
pub async fn guard(State(guard): State<Guard>, req: Request, next: Next) -> Response {
    let docs = req.uri().path().starts_with("/docs");
    let mut response = match guard.check(&req) {
        Ok(()) => next.run(req).await,
        Err((status, code, message)) => error_response(status, code, message, None),
    };
    let headers = response.headers_mut();
    let csp = if docs { DOCS_CSP } else { CSP };
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_compared_without_ports() {
        assert_eq!(host_of("LocalHost:8080"), "localhost");
        assert_eq!(host_of("[::1]:80"), "::1");
        assert_eq!(host_of("studio.example"), "studio.example");
        let g = Guard::new(&["studio.example:443".into()], &[], "10.0.0.5".parse().ok());
        assert!(g.hosts.contains("studio.example") && g.hosts.contains("10.0.0.5"));
        let open = Guard::new(&[], &[], "0.0.0.0".parse().ok());
        assert!(!open.hosts.contains("0.0.0.0") && !open.any_host);
    }
}
