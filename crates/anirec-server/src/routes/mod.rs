//! The JSON API under `/api/v1` and the operations endpoints. Every endpoint is listed once in
//! [`endpoints`], which builds the router and is checked against the OpenAPI document.

pub mod accounts;
pub mod anime;
pub mod me;
pub mod ops;
pub mod profile;
pub mod recommend;
pub mod seasons;
pub mod story;
pub mod users;

use axum::Router;
use axum::extract::State;
use axum::http::{Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, post, put};

use utoipa::OpenApi;

use crate::openapi::responses::{
    AccountsUnavailable, BadParam, CrossSite, Invalid, ModelUnavailable, NotFound,
    NotFoundForAccount, OtherSite, TooLarge, TooManyPasswordChecks, TooManySignIns, Unauthorized,
    Unsupported,
};
use crate::openapi::{self, ModelTerms, SecuritySchemes};
use crate::problem::Problem;
use crate::state::{AppState, Served};
pub use crate::views::{json, json_body};

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
        (
            Method::GET,
            "/api/v1/seasons/current",
            get(seasons::current),
        ),
        (
            Method::GET,
            "/api/v1/seasons/upcoming",
            get(seasons::upcoming),
        ),
        (
            Method::GET,
            "/api/v1/seasons/{year}/{season}",
            get(seasons::season),
        ),
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
        (Method::GET, "/api/v1/me/profile", get(profile::get_profile)),
        (Method::PUT, "/api/v1/me/profile", put(profile::put_profile)),
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

/// The API's OpenAPI document, generated from the handlers' `#[utoipa::path]` annotations and
/// the types they read and send.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "anirec",
        version = "1",
        description = "Hybrid anime recommendations over MyAnimeList data. Errors are RFC 9457 \
                       problem documents. Query parameters are taken as sent: an empty value is \
                       refused (leave the parameter out instead)."
    ),
    paths(
        recommend::for_user,
        recommend::continue_for_user,
        recommend::for_ratings,
        users::similar,
        story::search,
        anime::search,
        seasons::season,
        seasons::current,
        seasons::upcoming,
        accounts::sign_up,
        accounts::create_token,
        accounts::list_tokens,
        accounts::revoke_token,
        accounts::sign_in,
        accounts::sign_out,
        accounts::me,
        accounts::delete_account,
        accounts::change_password,
        me::list,
        me::put_entry,
        me::delete_entry,
        me::import,
        me::export,
        me::hidden,
        me::hide,
        me::unhide,
        me::recommendations,
        me::continue_row,
        me::plan_to_watch,
        profile::get_profile,
        profile::put_profile,
        anime::detail,
        anime::similar,
        ops::model,
        ops::reload,
        openapi,
        ops::healthz,
        ops::readyz,
        ops::metrics,
    ),
    components(schemas(Problem), responses(
        BadParam,
        Unauthorized,
        CrossSite,
        OtherSite,
        NotFound,
        NotFoundForAccount,
        TooLarge,
        Unsupported,
        Invalid,
        TooManySignIns,
        TooManyPasswordChecks,
        ModelUnavailable,
        AccountsUnavailable,
    )),
    modifiers(&SecuritySchemes)
)]
pub struct ApiDoc;

/// The document as served: with the served model's genres, types and similarity measures, or
/// without them while no model is loaded.
pub fn document(served: Option<&Served>) -> Result<bytes::Bytes, Problem> {
    let model = served.map(|s| ModelTerms {
        vocabulary: &s.vocabulary,
        story: s.bundle.story().is_some(),
    });
    openapi::for_model(&ApiDoc::openapi(), model)
        .map_err(|e| Problem::internal(format!("the OpenAPI document cannot be written: {e}")))
}

#[utoipa::path(
    get,
    path = "/api/openapi.json",
    operation_id = "openapi",
    summary = "This document.",
    responses((status = 200, description = "OpenAPI 3.1 document.", content_type = "application/json"))
)]
/// `GET /api/openapi.json`: the document of the model being served, made once per model on a
/// blocking thread.
async fn openapi(State(state): State<AppState>) -> Result<Response, Problem> {
    let served = state.model();
    let body = match served.as_ref().and_then(|s| s.openapi.get()) {
        Some(body) => body.clone(),
        None => tokio::task::spawn_blocking(move || match served {
            Some(s) => document(Some(&s)).map(|body| s.openapi.get_or_init(|| body).clone()),
            None => document(None),
        })
        .await
        .map_err(|e| Problem::internal(format!("the OpenAPI document was not made: {e}")))??,
    };
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}
