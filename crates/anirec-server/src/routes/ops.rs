//! Operations: liveness (`/healthz`), readiness (`/readyz`: a model is loaded and the accounts
//! database takes writes), Prometheus
//! metrics (`/metrics`), the served model's manifest (`/api/v1/model`) and the authenticated
//! hot reload (`POST /api/v1/admin/reload`).

use std::path::PathBuf;

use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::json;
use crate::openapi::responses::PROBLEM_JSON;
use crate::problem::Problem;
use crate::state::{AppState, Reloaded};

/// The answer of `/healthz`.
#[derive(Serialize, ToSchema)]
struct Health {
    /// Always `ok`.
    #[schema(value_type = String, pattern = "^ok$")]
    status: &'static str,
    /// Seconds since the server started.
    uptime_seconds: f64,
}

/// `GET /healthz`: the process answers.
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "healthz",
    summary = "Liveness: the process answers.",
    responses((status = 200, description = "Alive.", body = Health))
)]
pub async fn healthz(State(state): State<AppState>) -> Response {
    json(&Health {
        status: "ok",
        uptime_seconds: state.uptime().as_secs_f64(),
    })
}

/// The answer of `/readyz`.
#[derive(Serialize, ToSchema)]
struct Ready<'a> {
    /// The version of the model served.
    model: &'a str,
    /// Always `ready`.
    #[schema(value_type = String, pattern = "^ready$")]
    status: &'static str,
}

/// `GET /readyz`: 200 once a model is loaded while the accounts database (if any) takes writes;
/// 503 saying which is missing otherwise.
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "readyz",
    summary = "Readiness: a model is loaded and the accounts database takes writes.",
    responses(
        (status = 200, description = "Ready.", body = Ready),
        (status = 503, description = "The model is still loading, or the accounts database cannot take a write now (a full disk, an unwritable or moved file, a database that does not answer); the detail says which.", body = Problem, content_type = PROBLEM_JSON),
    )
)]
pub async fn readyz(State(state): State<AppState>) -> Result<Response, Problem> {
    let served = state.ready()?;
    state
        .accounts_writable()
        .await
        .map_err(|why| Problem::unavailable(format!("not ready: {why}")))?;
    Ok(json(&Ready {
        model: &served.version,
        status: "ready",
    }))
}

/// `GET /metrics`: Prometheus text exposition.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    summary = "Prometheus metrics: requests and latency per route, model version.",
    responses((status = 200, description = "Prometheus text format.", body = String, content_type = "text/plain"))
)]
pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics().render(),
    )
        .into_response()
}

/// The model served.
#[derive(Serialize, ToSchema)]
struct ModelInfo<'a> {
    /// A short version: the bundle's creation time and tensor checksum.
    version: &'a str,
    /// When it was loaded, in seconds since the Unix epoch.
    loaded_at: u64,
    /// The folder it was loaded from, if from disk.
    #[schema(value_type = Option<String>)]
    path: Option<&'a std::path::Path>,
    /// The bundle's manifest: parameters, data, metrics.
    #[schema(value_type = Object)]
    manifest: &'a anirec_model::bundle::Manifest,
}

/// `GET /api/v1/model`: the served model's version and manifest (parameters, data, metrics).
#[utoipa::path(
    get,
    path = "/api/v1/model",
    operation_id = "getModel",
    summary = "The served model's version and manifest (parameters, data, metrics).",
    responses(
        (status = 200, description = "The model.", body = ModelInfo),
        (status = 503, description = "The model is still loading.", body = Problem, content_type = PROBLEM_JSON),
    )
)]
pub async fn model(State(state): State<AppState>) -> Result<Response, Problem> {
    let served = state.ready()?;
    Ok(json(&ModelInfo {
        version: &served.version,
        loaded_at: served.loaded_at,
        path: served.path.as_deref(),
        manifest: &served.bundle.manifest,
    }))
}

/// What to reload.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ReloadBody {
    /// Bundle folder on the server (default: the one served, read again).
    #[schema(value_type = Option<String>)]
    model: Option<PathBuf>,
}

/// `POST /api/v1/admin/reload` with `Authorization: Bearer TOKEN`: loads the bundle again (or the
/// one named in `{"model": PATH}`) and swaps it in without dropping requests. 401 without the
/// token (or when the server has none: the endpoints are off), 404 when there is nothing at
/// PATH, 422 when what is there does not load.
#[utoipa::path(
    post,
    path = "/api/v1/admin/reload",
    operation_id = "reloadModel",
    summary = "Load the model bundle again (or another one) and swap it in without dropping requests.",
    security(("adminToken" = [])),
    request_body(content = Option<ReloadBody>, content_type = "application/json"),
    responses(
        (status = 200, description = "Reloaded.", body = Reloaded),
        (status = 401, description = "The admin token is missing or wrong, or the admin endpoints are off (the server was started without one): the detail says which.", body = Problem, content_type = PROBLEM_JSON),
        (status = 404, description = "There is no bundle at the path given.", body = Problem, content_type = PROBLEM_JSON),
        (status = 422, description = "The bundle at the path could not be loaded (the model served is unchanged).", body = Problem, content_type = PROBLEM_JSON),
    )
)]
pub async fn reload(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let Some(token) = &state.config().admin_token else {
        // No token is right while none is configured: 401, as for a wrong one.
        return Err(Problem::unauthorized(
            "the admin endpoints are off; start the server with --admin-token (or ANIREC_ADMIN_TOKEN)",
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if !given.is_some_and(|g| constant_time_eq(g.as_bytes(), token.as_bytes())) {
        return Err(Problem::unauthorized(
            "send the admin token as `Authorization: Bearer TOKEN`",
        ));
    }
    let body = body.map_err(|e| Problem::bad_request(format!("body not received: {e}")))?;
    // No body, and a JSON `null` (the document's "no body" as some clients send it), reload
    // the model served.
    let request: ReloadBody = if body.iter().all(u8::is_ascii_whitespace) {
        ReloadBody::default()
    } else {
        serde_json::from_slice::<Option<ReloadBody>>(&body)
            .map_err(|e| {
                Problem::unprocessable(format!(
                    "expected {{\"model\": \"/path/to/bundle\"}} or no body: {e}"
                ))
            })?
            .unwrap_or_default()
    };
    if let Some(path) = request.model.as_deref().filter(|p| !p.exists()) {
        return Err(
            Problem::not_found(format!("there is no bundle at {}", path.display()))
                .with_param("model"),
        );
    }
    let reloaded = state
        .reload(request.model)
        .await
        .map_err(|e| Problem::unprocessable(format!("the model was not reloaded: {e}")))?;
    Ok(json(&reloaded))
}

/// Compares secrets in time that does not depend on where they differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
