//! The HTTP API. Handlers only translate HTTP into calls of the library and
//! its answers back into HTTP; no business rule lives here.

pub mod agent;
pub mod assets;
pub mod auth;
pub mod brand;
pub mod compose;
pub mod error;
pub mod guard;
pub mod idempotency;
pub mod openapi;
pub mod sessions;
pub mod templates;
pub mod timeline;
pub mod tools;
pub mod transcripts;
pub mod uploads;
pub mod voices;
pub mod web;
pub mod webhooks;

use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

use crate::studio::Studio;

/// Largest JSON body accepted by the JSON routes.
pub const MAX_JSON_BYTES: usize = 4 * 1024 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Content Studio API",
        description = "Make short narrated videos step by step: generate or upload assets in a session, then compose them into an MP4.\n\nAny POST may carry an `Idempotency-Key` header (1–255 visible ASCII characters, unique per request): a retry with the same key and the same request within 24 hours gets the first successful answer again (same status and body, same job; header `Idempotent-Replayed: true`) and nothing is done twice. The same key with a different request is 422 `idempotency_key_reused`; while the first request still runs, 409 `idempotency_key_in_use`. Refusals are not kept."
    ),
    tags(
        (name = "sessions", description = "Sessions hold every asset a user makes."),
        (name = "assets", description = "Listing, serving, uploading and deleting assets."),
        (name = "tools", description = "Generation tools: image, voice-over, social post."),
        (name = "compose", description = "Timelines into MP4 videos; jobs with progress."),
        (name = "webhooks", description = "Signed callbacks when jobs end, and their deliveries."),
        (name = "templates", description = "Templates with fields, rendered with rows of values."),
        (name = "brand", description = "Brand kits: a logo, a font and colours for a session's renders, and a key's default."),
    )
)]
struct ApiDoc;

/// The OpenAPI document: generated from the handlers, completed by
/// [`openapi::complete`] with the statuses and constraints the server enforces.
pub fn openapi() -> serde_json::Value {
    openapi::complete(openapi_raw(), None)
}

/// The document as the handlers' annotations alone describe it.
pub fn openapi_raw() -> utoipa::openapi::OpenApi {
    api_routes(None).merge(upload_routes(0)).split_for_parts().1
}

fn upload_routes(limit: usize) -> OpenApiRouter<Studio> {
    OpenApiRouter::new()
        .routes(routes!(uploads::upload))
        .layer(DefaultBodyLimit::max(limit))
}

/// `timeout`: how long the quick routes may take (`None`: no limit).
fn api_routes(timeout: Option<Duration>) -> OpenApiRouter<Studio> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(quick_routes(timeout))
        .routes(routes!(assets::content))
        .routes(routes!(agent::agent))
        .routes(routes!(transcripts::create))
        .routes(routes!(compose::compose))
        .routes(routes!(templates::render))
        .routes(routes!(compose::events))
        .layer(DefaultBodyLimit::max(MAX_JSON_BYTES))
}

/// Routes that answer within the request timeout (the rest stream media,
/// render synchronously or run the coordinator's pipeline).
fn quick_routes(timeout: Option<Duration>) -> OpenApiRouter<Studio> {
    let routes = OpenApiRouter::new()
        .routes(routes!(sessions::create, sessions::list))
        .routes(routes!(sessions::get, sessions::delete))
        .routes(routes!(assets::list))
        .routes(routes!(assets::get, assets::delete))
        .routes(routes!(tools::image))
        .routes(routes!(tools::audio))
        .routes(routes!(voices::voices))
        .routes(routes!(voices::voice_sample))
        .routes(routes!(tools::social))
        .routes(routes!(transcripts::get))
        .routes(routes!(transcripts::cuts))
        .routes(routes!(agent::messages))
        .routes(routes!(timeline::get, timeline::put))
        .routes(routes!(timeline::versions))
        .routes(routes!(timeline::frame))
        .routes(routes!(compose::job, compose::cancel))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(webhooks::get, webhooks::put, webhooks::delete))
        .routes(routes!(brand::get, brand::put, brand::delete))
        .routes(routes!(
            brand::get_default,
            brand::put_default,
            brand::delete_default
        ))
        .routes(routes!(templates::create, templates::list))
        .routes(routes!(templates::get, templates::put, templates::delete))
        .routes(routes!(templates::from_timeline))
        .routes(routes!(templates::batch, templates::cancel_batch));
    match timeout {
        Some(t) => routes.layer(axum::middleware::from_fn_with_state(t, time_limit)),
        None => routes,
    }
}

/// Answers 503 with the error body (and `Retry-After`) when a quick route
/// takes longer than `limit`; the handler's work is dropped.
async fn time_limit(
    axum::extract::State(limit): axum::extract::State<Duration>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            let mut response = error::error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "timeout",
                format!(
                    "the request took longer than {} s; the studio may be busy, try again",
                    limit.as_secs()
                ),
                None,
            );
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, 5.into());
            response
        }
    }
}

/// The whole application: API, OpenAPI document, docs page, health check,
/// behind the browser-safety guard. `local` is the address it listens on.
/// Fails when the configured coordinator cannot be built.
pub fn router(studio: Studio, local: Option<std::net::IpAddr>) -> crate::error::Result<Router> {
    let config = studio.config();
    // The coordinator sits above the studio: it calls the tools through it.
    let coordinator = std::sync::Arc::new(crate::agent::Agent::from_config(config)?);
    let guard = guard::Guard::new(
        &config.server.allowed_hosts,
        &config.server.allowed_origins,
        local,
    );
    let upload_limit = usize::try_from(studio.config().max_upload_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(1024 * 1024);
    let uploads = upload_routes(upload_limit);
    let timeout = Duration::from_secs(config.server.request_timeout_secs.max(1));
    let (api, doc) = api_routes(Some(timeout)).merge(uploads).split_for_parts();
    let providers = openapi::Providers {
        image: studio.image_tool().provider_names(),
        speech: studio.speech_tool().provider_names(),
        social: studio.social_tool().provider_names(),
    };
    let doc = openapi::complete(doc, Some(&providers));

    let api = api.layer(axum::middleware::from_fn_with_state(
        studio.clone(),
        idempotency::idempotent,
    ));
    let app = api
        .merge(SwaggerUi::new("/docs").external_url_unchecked("/api/v1/openapi.json", doc))
        .route("/healthz", get(healthz))
        .merge(web::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            auth::Gate {
                studio: studio.clone(),
                failed: auth::FailedKeys::new(),
                budgets: auth::Budgets::new(config.server.requests_per_second),
            },
            auth::authenticate,
        ))
        .layer(axum::Extension(coordinator));
    // Outermost first: trace, browser guard, CORS (answers preflights),
    // then who asks (and their request budget).
    let app = if config.server.allowed_origins.is_empty() {
        app
    } else {
        app.layer(cors(&config.server.allowed_origins))
    };
    Ok(app
        .layer(axum::middleware::from_fn_with_state(guard, guard::guard))
        .layer(TraceLayer::new_for_http())
        .with_state(studio))
}

/// CORS for the configured other origins (without any, CORS stays off and
/// only same-origin pages can read answers or send keys and JSON).
fn cors(origins: &[String]) -> tower_http::cors::CorsLayer {
    use axum::http::{HeaderValue, Method, header};
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o.trim().trim_end_matches('/')).ok())
        .collect();
    tower_http::cors::CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::RANGE,
            header::IF_NONE_MATCH,
            header::HeaderName::from_static(idempotency::HEADER),
        ])
        .expose_headers([
            header::RETRY_AFTER,
            header::ETAG,
            header::CONTENT_RANGE,
            header::LOCATION,
            header::HeaderName::from_static("idempotent-replayed"),
        ])
        .max_age(Duration::from_secs(600))
}

async fn healthz() -> &'static str {
    "ok"
}

async fn not_found() -> Response {
    error::error_response(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such route".into(),
        None,
    )
}

async fn method_not_allowed() -> Response {
    error::error_response(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not accept that method".into(),
        None,
    )
}

/// Open connections at most; more are closed as they come.
pub const MAX_CONNECTIONS: usize = 4096;

/// How long requests in flight may take to finish when the server stops.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(10);

/// How long a client may take to send a request's headers.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a request body may go without a byte before the request fails
/// (408) and its connection is closed.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(15);

/// Open connections one client address may hold: well below
/// [`MAX_CONNECTIONS`], so one address cannot lock the others out.
pub const MAX_CONNECTIONS_PER_ADDRESS: usize = 256;

/// Open connections per client address, and a slot that gives its place
/// back when its connection ends.
#[derive(Clone, Default)]
struct PerAddress(
    std::sync::Arc<std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>>,
);

struct AddressSlot(PerAddress, std::net::IpAddr);

impl PerAddress {
    fn take(&self, ip: std::net::IpAddr) -> Option<AddressSlot> {
        let mut open = self.0.lock().expect("connection table lock");
        let n = open.entry(ip).or_default();
        if *n >= MAX_CONNECTIONS_PER_ADDRESS {
            return None;
        }
        *n += 1;
        Some(AddressSlot(self.clone(), ip))
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut open = (self.0).0.lock().expect("connection table lock");
        if let Some(n) = open.get_mut(&self.1) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.1);
            }
        }
    }
}

/// Serves the app on `listener` until `shutdown` resolves; requests in
/// flight finish first. Connections that do not finish their headers within
/// [`HEADER_READ_TIMEOUT`] are closed (slow clients cannot hold them open).
pub async fn serve(
    listener: tokio::net::TcpListener,
    studio: Studio,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::TokioIo;

    let local = listener.local_addr().ok().map(|a| a.ip());
    let app = router(studio, local).map_err(std::io::Error::other)?;
    let builder = connection_builder();
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let admission = Admission::default();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    not_accepted(e).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Some(admitted) = admission.admit(remote) else {
            continue;
        };
        let service = tower::ServiceExt::map_request(
            app.clone(),
            move |req: axum::http::Request<hyper::body::Incoming>| with_timeouts(req, remote),
        );
        let service = hyper_util::service::TowerToHyperService::new(service);
        let (builder, watcher) = (builder.clone(), graceful.watcher());
        tokio::spawn(async move {
            let _permit = admitted;
            if !says_something(&stream).await {
                return;
            }
            let connection = builder
                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                .into_owned();
            if let Err(e) = watcher.watch(connection).await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    wind_down(graceful).await;
    Ok(())
}

/// The HTTP/1 and HTTP/2 connection builder: headers within
/// [`HEADER_READ_TIMEOUT`], HTTP/2 keep-alive pings every 30 s.
fn connection_builder() -> hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor> {
    use hyper_util::rt::{TokioExecutor, TokioTimer};
    use hyper_util::server::conn::auto::Builder;

    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(Duration::from_secs(30)));
    builder
}

/// After a failed accept (out of file descriptors and the like): a warning,
/// and a short wait before going on.
async fn not_accepted(e: std::io::Error) {
    tracing::warn!(error = %e, "could not accept a connection");
    tokio::time::sleep(Duration::from_millis(50)).await;
}

/// The caps on open connections: [`MAX_CONNECTIONS`] in all and
/// [`MAX_CONNECTIONS_PER_ADDRESS`] from one address.
struct Admission {
    connections: std::sync::Arc<tokio::sync::Semaphore>,
    per_address: PerAddress,
}

impl Default for Admission {
    fn default() -> Self {
        Admission {
            connections: std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS)),
            per_address: PerAddress::default(),
        }
    }
}

impl Admission {
    /// A place for a new connection from `remote`, held while it is open;
    /// None (and a warning) beyond a cap: the connection is closed at once,
    /// so sockets cannot be hoarded until the process runs out of file
    /// descriptors.
    fn admit(
        &self,
        remote: std::net::SocketAddr,
    ) -> Option<(tokio::sync::OwnedSemaphorePermit, AddressSlot)> {
        let Ok(permit) = self.connections.clone().try_acquire_owned() else {
            tracing::warn!(%remote, "too many open connections; closing a new one");
            return None;
        };
        let Some(slot) = self.per_address.take(remote.ip()) else {
            tracing::warn!(%remote, "too many open connections from this address; closing a new one");
            return None;
        };
        Some((permit, slot))
    }
}

/// A request whose body must keep coming within [`BODY_READ_TIMEOUT`] (a
/// body that stalls fails its request instead of holding the connection for
/// as long as the client likes), with the client's address.
fn with_timeouts(
    req: axum::http::Request<hyper::body::Incoming>,
    remote: std::net::SocketAddr,
) -> axum::http::Request<axum::body::Body> {
    let mut req = req.map(|body| {
        axum::body::Body::new(tower_http::timeout::TimeoutBody::new(
            BODY_READ_TIMEOUT,
            body,
        ))
    });
    req.extensions_mut().insert(ConnectInfo(remote));
    req
}

/// Whether a new connection sends something within [`HEADER_READ_TIMEOUT`]:
/// one that sends nothing is closed like one that does not finish its headers.
async fn says_something(stream: &tokio::net::TcpStream) -> bool {
    let mut first = [0u8; 1];
    matches!(
        tokio::time::timeout(HEADER_READ_TIMEOUT, stream.peek(&mut first)).await,
        Ok(Ok(n)) if n > 0
    )
}

/// Waits for the connections to finish, for [`SHUTDOWN_WAIT`] at most: open
/// event streams would hold the shutdown forever.
async fn wind_down(graceful: hyper_util::server::graceful::GracefulShutdown) {
    if tokio::time::timeout(SHUTDOWN_WAIT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after {SHUTDOWN_WAIT:?}; closing them");
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
