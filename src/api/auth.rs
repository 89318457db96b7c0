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

use axum::extract::{ConnectInfo, FromRequestParts, RawPathParams, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use crate::error::Error;
use crate::ids::SessionId;
use crate::store::{Access, Principal};
use crate::studio::Studio;

/// The cookie the web page keeps the key in (for media and event streams).
pub const KEY_COOKIE: &str = "studio_key";

/// The key a request presents, if any: the bearer token (any case of the
/// scheme, spaces around the token ignored), else the cookie.
fn presented_key(req: &Request) -> Option<String> {
    use axum_extra::headers::HeaderMapExt;
    use axum_extra::headers::authorization::{Authorization, Bearer};
    let bearer = req
        .headers()
        .typed_get::<Authorization<Bearer>>()
        .map(|auth| auth.token().trim().to_owned())
        .filter(|token| !token.is_empty());
    bearer.or_else(|| {
        axum_extra::extract::CookieJar::from_headers(req.headers())
            .get(KEY_COOKIE)
            .map(|cookie| cookie.value().trim().to_owned())
            .filter(|value| !value.is_empty())
    })
}

fn peer(req: &Request) -> Option<IpAddr> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
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

/// What the `authenticate` middleware needs: the studio, the failed-key
/// counter and the request budgets.
#[derive(Clone)]
pub struct Gate {
    pub studio: Studio,
    pub failed: FailedKeys,
    pub budgets: Budgets,
}

/// Resolves the asker, spends from its request budget, and runs the
/// request with the asker known to the handlers (the [`Principal`] and
/// [`Asker`] extensions). Which session it may touch is
/// [`AuthorizedSession`]'s call, and it hands the asker on to the work
/// whose job share is counted.
pub async fn authenticate(State(gate): State<Gate>, mut req: Request, next: Next) -> Response {
    if is_public(req.uri().path()) {
        return next.run(req).await;
    }
    let asked = Asked {
        key: presented_key(&req),
        session: session_in_path(req.uri().path()),
        peer: peer(&req),
    };
    let peer = asked.peer;
    match admit(&gate.studio, asked).await {
        Ok((principal, asker, hint)) => {
            // The keyless studio on this machine serves its own scripts
            // unthrottled; everyone else spends from a budget of their own.
            let local =
                principal == Principal::Anonymous && peer.is_some_and(|ip| ip.is_loopback());
            let spent = if local {
                None
            } else {
                match gate.budgets.spend(cost_of(&req), &asker) {
                    Ok(spent) => spent,
                    Err(refused) => return refused,
                }
            };
            req.extensions_mut().insert(principal);
            req.extensions_mut().insert(Asker(asker.clone()));
            if let Some(hint) = hint {
                req.extensions_mut().insert(hint);
            }
            let mut response = next.run(req).await;
            if let Some(spent) = spent {
                spent.write_headers(response.headers_mut());
            }
            response
        }
        Err(Error::Unauthorized(_)) if peer.is_some_and(|ip| !gate.failed.allow(ip)) => {
            ApiError(Error::too_many(
                "too many unknown API keys from this address; wait before trying again",
                5,
            ))
            .into_response()
        }
        Err(e) => ApiError(e).into_response(),
    }
}

/// Who asks, as budgets and job shares count them: the key's id, or
/// `addr:<ip>` without a key (a request extension set by [`authenticate`]).
#[derive(Clone, Debug)]
pub struct Asker(pub String);

/// What `admit` needs of a request (a request itself is not `Sync`).
struct Asked {
    key: Option<String>,
    /// The session the path names, for the owner read-ahead.
    session: Option<SessionId>,
    peer: Option<IpAddr>,
}

/// The owner of the session a request's path names, read in the same query
/// as its key: a read-ahead for [`AuthorizedSession`], which uses it only
/// when its own parse of the routed path gives the very same id (else it
/// asks the database itself), so it can save a round trip but never decide.
#[derive(Clone, Debug)]
struct OwnerHint {
    session: SessionId,
    owner: Option<String>,
}

/// The session id in `/api/v1/sessions/{id}/...`, percent-decoded, if it
/// parses.
fn session_in_path(path: &str) -> Option<SessionId> {
    let rest = path.strip_prefix("/api/v1/sessions/")?;
    let raw = rest.split('/').next()?;
    let decoded = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .ok()?;
    SessionId::parse(&decoded).ok()
}

async fn admit(
    studio: &Studio,
    req: Asked,
) -> Result<(Principal, String, Option<OwnerHint>), Error> {
    let store = studio.store();
    let mut hint = None;
    let principal = match req.key.as_deref() {
        Some(key) => {
            let (principal, owner) = store.authenticate_for(key, req.session.as_ref()).await?;
            hint = req.session.map(|session| OwnerHint { session, owner });
            principal
        }
        None if studio.config().server.allow_anonymous => Principal::Anonymous,
        None if store.keys_in_use().await? => {
            return Err(Error::Unauthorized(
                "this studio needs an API key: send the header Authorization: Bearer KEY \
                 (an administrator makes keys with `studio keys create --name NAME`)"
                    .into(),
            ));
        }
        None => Principal::Anonymous,
    };
    let asker = match principal.key_id() {
        Some(id) => id.to_owned(),
        None => format!(
            "addr:{}",
            req.peer.map_or("unknown".into(), |ip| ip.to_string())
        ),
    };
    Ok((principal, asker, hint))
}

/// A session the asker may use, and the only way a handler gets a session
/// id from its path: the id is parsed from the same percent-decoded path
/// parameter (`session_id`) the router matched, then checked against the
/// asker [`authenticate`] resolved. A request that changes something claims
/// a session nobody owns yet for its key (race-safe: first come, first
/// served); another key's session is answered as if it did not exist (404).
#[derive(Debug)]
pub struct AuthorizedSession {
    id: SessionId,
    asker: String,
}

impl AuthorizedSession {
    pub fn id(&self) -> &SessionId {
        &self.id
    }

    /// Who asks: the key's id, or `addr:<ip>` without a key (whose job
    /// share the request's work counts against).
    pub fn asker(&self) -> &str {
        &self.asker
    }
}

impl FromRequestParts<Studio> for AuthorizedSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, studio: &Studio) -> Result<Self, ApiError> {
        let params = RawPathParams::from_request_parts(parts, studio)
            .await
            .map_err(|e| Error::BadRequest(e.body_text()))?;
        let raw = params
            .iter()
            .find_map(|(name, value)| (name == "session_id").then_some(value))
            .ok_or_else(|| Error::Internal("a session route without {session_id}".into()))?;
        let id = SessionId::parse(raw)?;
        // Set by `authenticate`, which runs before every API route: a
        // session route without it is a wiring fault, never an open door.
        let who = parts
            .extensions
            .get::<Principal>()
            .ok_or_else(|| Error::Internal("the asker was not resolved".into()))?;
        let asker = parts
            .extensions
            .get::<Asker>()
            .map(|a| a.0.clone())
            .ok_or_else(|| Error::Internal("the asker was not resolved".into()))?;
        let changes = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        let store = studio.store();
        let access = match parts.extensions.get::<OwnerHint>() {
            Some(hint) if hint.session == id => {
                store
                    .session_access_with_owner(&id, who, changes, hint.owner.clone())
                    .await?
            }
            _ => store.session_access(&id, who, changes).await?,
        };
        match access {
            Access::Hidden => Err(Error::UnknownSession(id.to_string()).into()),
            Access::Allowed | Access::Unclaimed => Ok(Self { id, asker }),
        }
    }
}

/// What a request costs: reading what exists, or making something.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cost {
    /// Lists, status, asset content: cheap, with a much larger budget.
    Read,
    /// Anything that changes, generates or renders.
    Work,
}

fn cost_of(req: &Request) -> Cost {
    let read = matches!(*req.method(), Method::GET | Method::HEAD)
        // A voice sample speaks: work, though fetched with GET.
        && !req.uri().path().ends_with("/sample");
    if read { Cost::Read } else { Cost::Work }
}

type KeyedLimiter = governor::RateLimiter<
    String,
    governor::state::keyed::DefaultKeyedStateStore<String>,
    governor::clock::DefaultClock,
    governor::middleware::StateInformationMiddleware,
>;

/// One budget: a token bucket per asker (key id, or client address
/// without a key), never per spelling of a header.
struct Budget {
    name: &'static str,
    per_second: u32,
    burst: u32,
    limiter: KeyedLimiter,
}

impl Budget {
    fn new(name: &'static str, per_second: u32) -> Option<Self> {
        let burst = std::num::NonZeroU32::new(per_second.saturating_mul(2))?;
        let quota =
            governor::Quota::per_second(std::num::NonZeroU32::new(per_second)?).allow_burst(burst);
        Some(Self {
            name,
            per_second,
            burst: burst.get(),
            limiter: governor::RateLimiter::keyed(quota)
                .with_middleware::<governor::middleware::StateInformationMiddleware>(),
        })
    }

    /// `RateLimit-Policy` (IETF draft): the quota and the seconds it takes
    /// to refill.
    fn policy(&self) -> String {
        format!(
            "\"{}\";q={};w={}",
            self.name,
            self.burst,
            self.burst.div_ceil(self.per_second)
        )
    }

    /// Seconds until `remaining` of the quota is whole again.
    fn reset_after(&self, remaining: u32) -> u32 {
        (self.burst - remaining.min(self.burst)).div_ceil(self.per_second)
    }
}

/// The per-asker request budgets: `per_second` for work (bursts of twice
/// that) and ten times as much for cheap reads. Off when `per_second` is 0.
#[derive(Clone, Default)]
pub struct Budgets(Option<Arc<[Budget; 2]>>);

/// What one request spent: written into its answer's headers.
pub struct Spent<'a> {
    budget: &'a Budget,
    remaining: u32,
}

impl Spent<'_> {
    fn write_headers(&self, headers: &mut axum::http::HeaderMap) {
        let mut put = |name: &'static str, value: String| {
            if let Ok(v) = header::HeaderValue::from_str(&value) {
                headers.insert(header::HeaderName::from_static(name), v);
            }
        };
        put("ratelimit-policy", self.budget.policy());
        put(
            "ratelimit",
            format!(
                "\"{}\";r={};t={}",
                self.budget.name,
                self.remaining,
                self.budget.reset_after(self.remaining)
            ),
        );
    }
}

impl Budgets {
    pub fn new(per_second: u32) -> Self {
        let (Some(work), Some(reads)) = (
            Budget::new("work", per_second),
            Budget::new("reads", per_second.saturating_mul(10)),
        ) else {
            return Self(None);
        };
        let budgets = Arc::new([work, reads]);
        // Forget idle askers now and then, so the tables stay small.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let weak = Arc::downgrade(&budgets);
            runtime.spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(60));
                loop {
                    tick.tick().await;
                    let Some(budgets) = weak.upgrade() else { break };
                    for b in budgets.iter() {
                        b.limiter.retain_recent();
                    }
                }
            });
        }
        Self(Some(budgets))
    }

    /// Takes one request of `cost` from `asker`'s budget; the answer to
    /// send instead (429 with `Retry-After`) when it is spent.
    #[allow(clippy::result_large_err)]
    fn spend(&self, cost: Cost, asker: &str) -> Result<Option<Spent<'_>>, Response> {
        let Some(budgets) = &self.0 else {
            return Ok(None);
        };
        let budget = &budgets[match cost {
            Cost::Work => 0,
            Cost::Read => 1,
        }];
        match budget.limiter.check_key(&asker.to_owned()) {
            Ok(state) => Ok(Some(Spent {
                budget,
                remaining: state.remaining_burst_capacity(),
            })),
            Err(not_until) => {
                use governor::clock::Clock;
                let wait = not_until
                    .wait_time_from(governor::clock::DefaultClock::default().now())
                    .as_secs_f64()
                    .ceil()
                    .max(1.0) as u64;
                let message = match cost {
                    Cost::Work => "too many requests from this client; slow down",
                    Cost::Read => "too many reads from this client; slow down",
                };
                let mut response = ApiError(Error::too_many(message, wait)).into_response();
                Spent {
                    budget,
                    remaining: 0,
                }
                .write_headers(response.headers_mut());
                Err(response)
            }
        }
    }
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
            presented_key(&request(&[("authorization", "Bearer cs_abc")])).as_deref(),
            Some("cs_abc")
        );
        assert_eq!(
            presented_key(&request(&[("cookie", "theme=dark; studio_key=cs_xyz")])).as_deref(),
            Some("cs_xyz")
        );
        assert_eq!(
            presented_key(&request(&[("authorization", "Basic dXNlcg==")])),
            None
        );
        assert_eq!(
            presented_key(&request(&[("authorization", "BEARER    cs_abc")])).as_deref(),
            Some("cs_abc")
        );
        assert_eq!(presented_key(&request(&[])), None);
    }

    #[test]
    fn the_read_ahead_decodes_the_session_in_the_path() {
        let id = |s: &str| session_in_path(s).map(|i| i.as_str().to_owned());
        assert_eq!(id("/api/v1/sessions/abc/assets").as_deref(), Some("abc"));
        assert_eq!(id("/api/v1/sessions/%61bc").as_deref(), Some("abc"));
        assert_eq!(id("/api/v1/sessions/a%2Fb/assets"), None);
        assert_eq!(id("/api/v1/sessions"), None);
    }

    #[test]
    fn public_paths_are_recognised() {
        assert!(is_public("/api/v1/openapi.json") && is_public("/"));
        assert!(!is_public("/api/v1/sessions"));
    }
}
