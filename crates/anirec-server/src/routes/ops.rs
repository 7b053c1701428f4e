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

use super::json;
use crate::problem::Problem;
use crate::state::AppState;

/// `GET /healthz`: the process answers.
pub async fn healthz(State(state): State<AppState>) -> Response {
    json(&serde_json::json!({
        "status": "ok",
        "uptime_seconds": state.uptime().as_secs_f64(),
    }))
}

/// `GET /readyz`: 200 once a model is loaded while the accounts database (if any) takes writes;
/// 503 saying which is missing otherwise.
pub async fn readyz(State(state): State<AppState>) -> Result<Response, Problem> {
    let served = state.ready()?;
    state
        .accounts_writable()
        .await
        .map_err(|why| Problem::unavailable(format!("not ready: {why}")))?;
    Ok(json(
        &serde_json::json!({ "status": "ready", "model": served.version }),
    ))
}

/// `GET /metrics`: Prometheus text exposition.
pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics().render(),
    )
        .into_response()
}

#[derive(Serialize)]
struct ModelInfo<'a> {
    version: &'a str,
    loaded_at: u64,
    path: Option<&'a std::path::Path>,
    manifest: &'a anirec_model::bundle::Manifest,
}

/// `GET /api/v1/model`: the served model's version and manifest (parameters, data, metrics).
pub async fn model(State(state): State<AppState>) -> Result<Response, Problem> {
    let served = state.ready()?;
    Ok(json(&ModelInfo {
        version: &served.version,
        loaded_at: served.loaded_at,
        path: served.path.as_deref(),
        manifest: &served.bundle.manifest,
    }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReloadBody {
    /// Another bundle folder to serve (default: the current one, read again).
    model: Option<PathBuf>,
}

/// `POST /api/v1/admin/reload` with `Authorization: Bearer TOKEN`: loads the bundle again (or the
/// one named in `{"model": PATH}`) and swaps it in without dropping requests. 401 without the
/// token (or when the server has none: the endpoints are off), 404 when there is nothing at
/// PATH, 422 when what is there does not load.
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
    let request: ReloadBody = if body.iter().all(u8::is_ascii_whitespace) {
        ReloadBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            Problem::unprocessable(format!(
                "expected {{\"model\": \"/path/to/bundle\"}} or no body: {e}"
            ))
        })?
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
