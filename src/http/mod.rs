//! HTTP: [`router`] assembles the API, metrics and pages behind one middleware stack.
//! Handlers translate HTTP into use cases; they never write SQL or publish events.
//! Layer order, outermost first: canonical path (trailing slash) → observe (request id, log
//! line, metrics) → gzip → security headers → error envelope → panic catcher → CORS → timeout
//! → body limit → flood guard (per address) → route.

pub mod api;
pub mod canonical;
pub mod connections;
pub mod error;
pub mod extract;
pub mod limits;
pub mod metrics;
pub mod middleware;
pub mod prepared;
pub mod server;
pub mod state;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::routing::get;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

use crate::http::state::AppState;

/// Content-Security-Policy for every response: same-origin scripts, styles and connections
/// only (no CDN), no framing, no plugins.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The API reference page's policy: Swagger UI sets inline styles, nothing else differs.
const DOCS_CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The whole application router: the API, its document, `/metrics` and `pages` (the web
/// app, and tests' probes) behind one middleware stack. The pages come in from `app`, so
/// this layer does not know the web app that uses it.
pub fn router(state: AppState, pages: Router<AppState>) -> Router {
    let config = state.config.clone();
    let (api, document) = api::router();
    let canonical =
        std::sync::Arc::new(canonical::CanonicalPaths::new(document.paths.paths.keys()));
    // The API reference page: Swagger UI, vendored into the binary, reading our document.
    let docs: Router<AppState> = Router::from(
        utoipa_swagger_ui::SwaggerUi::new("/api/v1/docs")
            .external_url_unchecked("/api/v1/openapi.json", api::contract::finish(&document)),
    )
    .layer(SetResponseHeaderLayer::overriding(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DOCS_CONTENT_SECURITY_POLICY),
    ));
    let routes = Router::new()
        .merge(api)
        .merge(docs)
        .route("/metrics", get(metrics::render_metrics))
        .merge(pages)
        .fallback(middleware::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::flood_guard,
        ));

    // No ALLOWED_ORIGINS: no CORS headers at all, so browsers allow same-origin only.
    let cors = (!config.allowed_origins.is_empty()).then(|| {
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(config.allowed_origins.clone()))
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("last-event-id"),
                HeaderName::from_static("x-csrf-token"),
            ])
            .expose_headers([middleware::REQUEST_ID.clone()])
            .allow_credentials(true)
    });

    let hsts = config
        .public_base_url
        .as_ref()
        .is_some_and(|url| url.scheme() == "https");
    let security_headers = ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            hsts.then(|| HeaderValue::from_static("max-age=31536000; includeSubDomains")),
        ));

    let app = routes
        .layer(
            ServiceBuilder::new()
                .layer(axum::middleware::from_fn(middleware::observe))
                // gzip for clients that ask; the default predicate leaves event streams,
                // images and bodies under 32 bytes alone.
                .layer(CompressionLayer::new())
                .layer(security_headers)
                .layer(axum::middleware::from_fn(middleware::envelope_errors))
                .layer(CatchPanicLayer::custom(middleware::panic_response))
                .option_layer(cors)
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    config.request_timeout,
                ))
                // The largest body any route takes (an image upload); every extractor keeps
                // to `max_body_bytes` unless its route raises it (`DefaultBodyLimit`).
                .layer(RequestBodyLimitLayer::new(
                    config.max_body_bytes.max(crate::images::MAX_UPLOAD_BYTES),
                ))
                .layer(DefaultBodyLimit::max(config.max_body_bytes)),
        )
        .with_state(state);
    // Paths are made canonical before routing, so a path with or without its trailing
    // slash reaches the same handler.
    Router::new().fallback_service(
        ServiceBuilder::new()
            .map_request(move |request| canonical.rewrite(request))
            .service(app),
    )
}
