//! The JSON API under `/api/v1` and the operations endpoints. Every endpoint is listed once in
//! [`endpoints`], which builds the router and is checked against the OpenAPI document.

pub mod anime;
pub mod ops;
pub mod recommend;
pub mod users;

use axum::Router;
use axum::http::{Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use serde::Serialize;

use crate::problem::Problem;
use crate::state::AppState;

/// The OpenAPI 3.1 document of the API.
pub const OPENAPI: &str = include_str!("../../assets/openapi.json");

/// Every endpoint: method, path template, handler.
pub fn endpoints() -> Vec<(Method, &'static str, MethodRouter<AppState>)> {
    vec![
        (
            Method::GET,
            "/api/v1/users/{id}/recommendations",
            get(recommend::for_user),
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
        (Method::GET, "/api/v1/anime/{id}", get(anime::detail)),
        (
            Method::GET,
            "/api/v1/anime/{id}/similar",
            get(anime::similar),
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

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
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
