//! The JSON API under `/api/v1` and the operations endpoints. Every endpoint is listed once in
//! [`endpoints`], which builds the router and is checked against the OpenAPI document.

pub mod accounts;
pub mod anime;
pub mod me;
pub mod ops;
pub mod recommend;
pub mod story;
pub mod users;

use axum::Router;
use axum::extract::State;
use axum::http::{Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, post, put};
use serde::Serialize;

use crate::openapi::OPENAPI;
use crate::problem::Problem;
use crate::state::AppState;

/// Every endpoint: method, path template, handler.
pub fn endpoints() -> Vec<(Method, &'static str, MethodRouter<AppState>)> {
    vec![
        (
            Method::GET,
            "/api/v1/users/{id}/recommendations",
            get(recommend::for_user),
        ),
        (
            Method::GET,
            "/api/v1/users/{id}/continue",
            get(recommend::continue_for_user),
        ),
        (
            Method::POST,
            "/api/v1/recommendations",
            post(recommend::for_ratings),
        ),
        (
            Method::GET,
            "/api/v1/users/{id}/similar",
            get(users::similar),
        ),
        (Method::GET, "/api/v1/anime", get(anime::search)),
        (Method::GET, "/api/v1/search", get(story::search)),
        (Method::GET, "/api/v1/anime/{id}", get(anime::detail)),
        (
            Method::GET,
            "/api/v1/anime/{id}/similar",
            get(anime::similar),
        ),
        (Method::POST, "/api/v1/accounts", post(accounts::sign_up)),
        (Method::POST, "/api/v1/tokens", post(accounts::create_token)),
        (Method::GET, "/api/v1/tokens", get(accounts::list_tokens)),
        (
            Method::DELETE,
            "/api/v1/tokens/{id}",
            delete(accounts::revoke_token),
        ),
        (Method::POST, "/api/v1/sessions", post(accounts::sign_in)),
        (
            Method::DELETE,
            "/api/v1/sessions",
            delete(accounts::sign_out),
        ),
        (Method::GET, "/api/v1/me", get(accounts::me)),
        (
            Method::DELETE,
            "/api/v1/me",
            delete(accounts::delete_account),
        ),
        (
            Method::PUT,
            "/api/v1/me/password",
            put(accounts::change_password),
        ),
        (Method::GET, "/api/v1/me/list", get(me::list)),
        (Method::PUT, "/api/v1/me/list/{id}", put(me::put_entry)),
        (
            Method::DELETE,
            "/api/v1/me/list/{id}",
            delete(me::delete_entry),
        ),
        (Method::POST, "/api/v1/me/list/import", post(me::import)),
        (Method::GET, "/api/v1/me/list/export", get(me::export)),
        (Method::GET, "/api/v1/me/not-interested", get(me::hidden)),
        (Method::PUT, "/api/v1/me/not-interested/{id}", put(me::hide)),
        (
            Method::DELETE,
            "/api/v1/me/not-interested/{id}",
            delete(me::unhide),
        ),
        (
            Method::GET,
            "/api/v1/me/recommendations",
            get(me::recommendations),
        ),
        (Method::GET, "/api/v1/me/continue", get(me::continue_row)),
        (
            Method::GET,
            "/api/v1/me/plan-to-watch",
            get(me::plan_to_watch),
        ),
        (Method::GET, "/api/v1/model", get(ops::model)),
        (Method::POST, "/api/v1/admin/reload", post(ops::reload)),
        (Method::GET, "/api/openapi.json", get(openapi)),
        (Method::GET, "/healthz", get(ops::healthz)),
        (Method::GET, "/readyz", get(ops::readyz)),
        (Method::GET, "/metrics", get(ops::metrics)),
    ]
}

/// The API and operations routes, with JSON 404/405 answers.
pub fn api() -> Router<AppState> {
    endpoints()
        .into_iter()
        .fold(Router::new(), |router, (_, path, handler)| {
            router.route(path, handler)
        })
        .method_not_allowed_fallback(|| async { Problem::method_not_allowed() })
}

/// `GET /api/openapi.json`: the document of the model being served (see
/// [`crate::openapi::openapi_for`]), or
/// the static one while no model is loaded.
async fn openapi(State(state): State<AppState>) -> Response {
    let body = match state.model() {
        Some(served) => served.openapi.clone(),
        None => bytes::Bytes::from_static(OPENAPI.as_bytes()),
    };
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// A JSON response of a borrowed value.
pub fn json<T: Serialize>(value: &T) -> Response {
    match json_body(value) {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(problem) => problem.into_response(),
    }
}

/// A value serialised as a JSON body (to send, or to keep).
pub fn json_body<T: Serialize>(value: &T) -> Result<bytes::Bytes, Problem> {
    serde_json::to_vec(value)
        .map(bytes::Bytes::from)
        .map_err(|e| Problem::internal(format!("response not serialisable: {e}")))
}
