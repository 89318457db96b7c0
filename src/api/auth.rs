//! Who is asking, and may they: API keys (`Authorization: Bearer KEY`, or
//! the `studio_key` cookie the web page sets so that `<img>`, `<video>` and
//! event streams carry it too), the sessions each key owns, and the
//! per-client request rate.
//!
//! Without any key the studio is open (the one-command local default); once
//! a key exists, every API request needs one unless anonymous use was
//! allowed explicitly. A session belongs to the key that first used it;
//! another key is answered as if it did not exist (404). Admin keys see all.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_governor::GovernorError;
use tower_governor::governor::GovernorConfigBuilder;
use tower_governor::key_extractor::KeyExtractor;

use super::error::ApiError;
use crate::error::Error;
use crate::ids::SessionId;
use crate::jobs::ASKER;
use crate::store::{Access, Principal};
use crate::studio::Studio;

/// The cookie the web page keeps the key in (for media and event streams).
pub const KEY_COOKIE: &str = "studio_key";

/// The key a request presents, if any: the bearer token, else the cookie.
fn presented_key(req: &Request) -> Option<&str> {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        });
    bearer.or_else(|| {
        req.headers()
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|c| c.trim().split_once('='))
            .find(|(name, _)| *name == KEY_COOKIE)
            .map(|(_, value)| value.trim())
            .filter(|v| !v.is_empty())
    })
}

fn peer(req: &Request) -> Option<IpAddr> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

/// The session a path is about: `/api/v1/sessions/{id}[/...]`.
fn session_in_path(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/api/v1/sessions/")?;
    let id = rest.split('/').next()?;
    (!id.is_empty()).then_some(id)
}

/// Routes anyone may read: the API description.
fn is_public(path: &str) -> bool {
    !path.starts_with("/api/") || path == "/api/v1/openapi.json"
}

/// Unknown keys presented per client address: each failure takes from a
/// bucket (20, refilled one every 200 ms), so guessing keys, each guess
/// with a key of its own, is slowed down like any other flood.
#[derive(Clone)]
pub struct FailedKeys(Arc<governor::DefaultKeyedRateLimiter<IpAddr>>);

impl FailedKeys {
    pub fn new() -> Self {
        let quota = governor::Quota::with_period(Duration::from_millis(200))
            .expect("a positive period")
            .allow_burst(std::num::NonZeroU32::new(20).expect("not zero"));
        Self(Arc::new(governor::RateLimiter::keyed(quota)))
    }

    /// Counts a failure from `ip`; false when it has failed too often.
    fn allow(&self, ip: IpAddr) -> bool {
        self.0.check_key(&ip).is_ok()
    }
}

impl Default for FailedKeys {
    fn default() -> Self {
        Self::new()
    }
}

/// Resolves the asker, checks the session it names, and runs the request
/// with the asker known to the job limits.
pub async fn authenticate(
    State((studio, failed)): State<(Studio, FailedKeys)>,
    mut req: Request,
    next: Next,
) -> Response {
    if is_public(req.uri().path()) {
        return next.run(req).await;
    }
    let asked = Asked {
        key: presented_key(&req).map(str::to_owned),
        session: session_in_path(req.uri().path()).and_then(|s| SessionId::parse(s).ok()),
        changes: !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS),
        peer: peer(&req),
    };
    let peer = asked.peer;
    match admit(&studio, asked).await {
        Ok((principal, asker)) => {
            req.extensions_mut().insert(principal);
            ASKER.scope(asker, next.run(req)).await
        }
        Err(Error::Unauthorized(_)) if peer.is_some_and(|ip| !failed.allow(ip)) => {
            ApiError(Error::too_many(
                "too many unknown API keys from this address; wait before trying again",
                5,
            ))
            .into_response()
        }
        Err(e) => ApiError(e).into_response(),
    }
}

/// What `admit` needs of a request (a request itself is not `Sync`).
struct Asked {
    key: Option<String>,
    session: Option<SessionId>,
    changes: bool,
    peer: Option<IpAddr>,
}

async fn admit(studio: &Studio, req: Asked) -> Result<(Principal, String), Error> {
    let store = studio.store();
    // With a key, the session's owner comes with it (one query for both).
    let mut known_owner = None;
    let principal = match req.key.as_deref() {
        Some(key) => {
            let (principal, owner) = store.authenticate_for(key, req.session.as_ref()).await?;
            known_owner = Some(owner);
            principal
        }
        None if studio.config().limits.allow_anonymous => Principal::Anonymous,
        None if store.keys_in_use().await? => {
            return Err(Error::Unauthorized(
                "this studio needs an API key: send the header Authorization: Bearer KEY \
                 (an administrator makes keys with `studio keys create --name NAME`)"
                    .into(),
            ));
        }
        None => Principal::Anonymous,
    };
    if let Some(id) = &req.session {
        let access = match known_owner {
            Some(owner) => {
                store
                    .session_access_with_owner(id, &principal, req.changes, owner)
                    .await?
            }
            None => store.session_access(id, &principal, req.changes).await?,
        };
        if access == Access::Hidden {
            return Err(Error::UnknownSession(id.to_string()));
        }
    }
    let asker = match principal.key_id() {
        Some(id) => id.to_owned(),
        None => format!(
            "addr:{}",
            req.peer.map_or("unknown".into(), |ip| ip.to_string())
        ),
    };
    Ok((principal, asker))
}

/// Rate-limit key: the presented key (whether or not it is valid, so that
/// guessing costs the guesser), else the client address.
#[derive(Clone, Copy, Debug)]
pub struct AskerKey;

impl KeyExtractor for AskerKey {
    type Key = String;

    fn extract<T>(&self, req: &axum::http::Request<T>) -> Result<String, GovernorError> {
        let auth = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        if let Some(auth) = auth {
            return Ok(format!("key:{auth}"));
        }
        req.extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| format!("addr:{}", c.0.ip()))
            .ok_or(GovernorError::UnableToExtractKey)
    }
}

/// Adds the per-client request rate limit: `per_second` with bursts of
/// twice that (0: no limit).
pub fn with_rate_limit<S: Clone + Send + Sync + 'static>(
    router: axum::Router<S>,
    per_second: u32,
) -> axum::Router<S> {
    if per_second == 0 {
        return router;
    }
    let Some(config) = GovernorConfigBuilder::default()
        .key_extractor(AskerKey)
        .period(Duration::from_nanos(1_000_000_000 / u64::from(per_second)))
        .burst_size(per_second.saturating_mul(2))
        .finish()
    else {
        return router;
    };
    let config = Arc::new(config);
    let limiter = config.limiter().clone();
    // Forget idle clients now and then, so the table stays small.
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                limiter.retain_recent();
            }
        });
    }
    router.layer(
        tower_governor::GovernorLayer::new(config).error_handler(|e: GovernorError| {
            let e = match e {
                GovernorError::TooManyRequests { wait_time, .. } => {
                    Error::too_many("too many requests from this client; slow down", wait_time)
                }
                GovernorError::UnableToExtractKey => {
                    Error::BadRequest("the client address is unknown".into())
                }
                GovernorError::Other { msg, .. } => {
                    Error::Internal(msg.unwrap_or_else(|| "rate limiter".into()))
                }
            };
            ApiError(e).into_response()
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn request(headers: &[(&str, &str)]) -> Request {
        let mut b = Request::builder().uri("/api/v1/sessions");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(Body::empty()).unwrap()
    }

    #[test]
    fn the_key_comes_from_the_bearer_header_or_the_cookie() {
        assert_eq!(
            presented_key(&request(&[("authorization", "Bearer cs_abc")])),
            Some("cs_abc")
        );
        assert_eq!(
            presented_key(&request(&[("cookie", "theme=dark; studio_key=cs_xyz")])),
            Some("cs_xyz")
        );
        assert_eq!(
            presented_key(&request(&[("authorization", "Basic dXNlcg==")])),
            None
        );
        assert_eq!(presented_key(&request(&[])), None);
    }

    #[test]
    fn session_paths_are_recognised() {
        assert_eq!(session_in_path("/api/v1/sessions/abc"), Some("abc"));
        assert_eq!(session_in_path("/api/v1/sessions/abc/assets"), Some("abc"));
        assert_eq!(session_in_path("/api/v1/sessions"), None);
        assert_eq!(session_in_path("/api/v1/sessions/"), None);
        assert!(is_public("/api/v1/openapi.json") && is_public("/"));
        assert!(!is_public("/api/v1/sessions"));
    }
}
