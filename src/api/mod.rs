//! The HTTP API. Handlers only translate HTTP into calls of the library and
//! its answers back into HTTP; no business rule lives here.

pub mod assets;
pub mod compose;
pub mod error;
pub mod generate;
pub mod guard;
pub mod sessions;
pub mod timeline;
pub mod uploads;
pub mod web;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::DefaultBodyLimit;
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
        description = "Make short narrated videos step by step: generate or upload assets in a session, then compose them into an MP4."
    ),
    tags(
        (name = "sessions", description = "Sessions hold every asset a user makes."),
        (name = "assets", description = "Listing, serving, uploading and deleting assets."),
        (name = "tools", description = "Generation tools: image, voice-over, social post."),
        (name = "compose", description = "Timelines into MP4 videos; jobs with progress."),
    )
)]
struct ApiDoc;

/// The OpenAPI document, generated from the handlers.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_routes().split_for_parts().1
}

fn api_routes() -> OpenApiRouter<Studio> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(sessions::create, sessions::list))
        .routes(routes!(sessions::get, sessions::delete))
        .routes(routes!(assets::list))
        .routes(routes!(assets::get, assets::delete))
        .routes(routes!(assets::content))
        .routes(routes!(generate::image))
        .routes(routes!(generate::audio))
        .routes(routes!(generate::voices))
        .routes(routes!(generate::voice_sample))
        .routes(routes!(generate::social))
        .routes(routes!(generate::agent))
        .routes(routes!(generate::messages))
        .routes(routes!(timeline::get, timeline::put))
        .routes(routes!(timeline::versions))
        .routes(routes!(compose::compose))
        .routes(routes!(compose::job, compose::cancel))
        .routes(routes!(compose::events))
        .layer(DefaultBodyLimit::max(MAX_JSON_BYTES))
}

/// The whole application: API, OpenAPI document, docs page, health check,
/// behind the browser-safety guard. `local` is the address it listens on.
pub fn router(studio: Studio, local: Option<std::net::IpAddr>) -> Router {
    let config = studio.config();
    let guard = guard::Guard::new(&config.allowed_hosts, &config.allowed_origins, local);
    let upload_limit = usize::try_from(studio.config().max_upload_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(1024 * 1024);
    let uploads = OpenApiRouter::new()
        .routes(routes!(uploads::upload))
        .layer(DefaultBodyLimit::max(upload_limit));
    let (api, doc) = api_routes().merge(uploads).split_for_parts();

    api.merge(SwaggerUi::new("/docs").url("/api/v1/openapi.json", doc))
        .route("/healthz", get(healthz))
        .merge(web::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(guard, guard::guard))
        .layer(TraceLayer::new_for_http())
        .with_state(studio)
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

/// Serves the app on `listener` until `shutdown` resolves; requests in
/// flight finish first.
pub async fn serve(
    listener: tokio::net::TcpListener,
    studio: Studio,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let local = listener.local_addr().ok().map(|a| a.ip());
    let app = router(studio, local);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
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
    tracing::info!("shutting down; letting requests in flight finish");
}
