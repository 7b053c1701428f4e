//! The router: API and pages, the fallbacks, and the middleware every request passes through —
//! body limit, timeout, compression, security headers (a strict Content-Security-Policy), `no-store` on
//! private answers, metrics and access logs; and [`serve`], which runs it on a listener until a shutdown signal, finishing requests
//! in flight ([`crate::connections`] holds the connections).

use std::future::Future;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

use crate::account_pages;
use crate::auth;
use crate::pages;
use crate::problem::Problem;
use crate::public_profile;
use crate::routes;
use crate::state::AppState;
use crate::telemetry;

/// Scripts, styles and fonts only from this server, pictures also from MyAnimeList's CDN (the
/// covers, [`crate::views::COVER_ORIGIN`]); no inline script, no framing, no plugins.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self' data: https://cdn.myanimelist.net; connect-src 'self'; object-src 'none'; \
    base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// The whole application for a state.
pub fn router(state: AppState) -> Router {
    let config = state.config().clone();
    routes::api()
        .merge(pages::routes())
        .merge(account_pages::routes())
        .merge(public_profile::routes())
        .fallback(not_found)
        .layer(axum::middleware::from_fn(private_answers))
        .layer(axum::middleware::from_fn(telemetry::track))
        .layer(compression())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            config.request_timeout,
        ))
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        // Referrers stay on this site: with no-referrer, browsers would send `Origin: null` on
        // the site's own form posts, which the cross-site check must then refuse.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .with_state(state)
}

/// Gzip or Brotli, whichever the client prefers, on every answer worth it (pages, style sheet,
/// script, JSON; not pictures, not answers under 32 bytes). Brotli at quality 4, not its default
/// 11: a page is compressed on each request, and 11 costs tens of milliseconds where 4 costs
/// about one for nearly the same size.
fn compression() -> CompressionLayer {
    CompressionLayer::new()
        .no_deflate()
        .no_zstd()
        .quality(CompressionLevel::Precise(4))
}

/// Paths whose answers are a fan's own whoever asks (accounts, credentials, lists).
const PRIVATE_PATHS: [&str; 8] = [
    "/api/v1/me",
    "/api/v1/tokens",
    "/api/v1/sessions",
    "/api/v1/accounts",
    "/me",
    "/signin",
    "/signup",
    "/signout",
];

/// `Cache-Control: no-store` on every answer that is private: to a request that carries
/// credentials (an API token, a session cookie), on the account paths, and wherever a cookie is
/// set; unless the handler chose a policy itself (the static files' `public`).
async fn private_answers(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let private = request.headers().contains_key(header::AUTHORIZATION)
        || auth::session_token(request.headers()).is_some()
        || PRIVATE_PATHS
            .iter()
            .any(|p| path == *p || path.strip_prefix(p).is_some_and(|r| r.starts_with('/')));
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if (private || headers.contains_key(header::SET_COOKIE))
        && !headers.contains_key(header::CACHE_CONTROL)
    {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// 404: a problem document under `/api`, a page elsewhere.
async fn not_found(uri: Uri) -> Response {
    if uri.path().starts_with("/api") {
        Problem::not_found(format!("no route {}; see /api/openapi.json", uri.path()))
            .into_response()
    } else {
        pages::not_found_page(&format!("There is no page at {}.", uri.path()))
    }
}

/// Serves `state` on `listener` until `shutdown` resolves, then stops taking connections and
/// finishes the requests in flight (for at most the configured grace).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let upkeep = state.metrics().clone();
    let housekeeping = tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
        loop {
            tick.tick().await;
            upkeep.run_upkeep();
        }
    });
    let limits = state.config().connections;
    crate::connections::serve(listener, router(state), limits, shutdown).await;
    housekeeping.abort();
}
