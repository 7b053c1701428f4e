//! Recommendations: for a user the model knows (`GET /api/v1/users/{id}/recommendations`) and for
//! anyone from their ratings (`POST /api/v1/recommendations`, a JSON list or a MyAnimeList
//! export), folded into the model without retraining; each answer holds the discovery list and
//! the "continue your series" row (alone: `GET /api/v1/users/{id}/continue`). The body is
//! received on the async side (with the limit of its kind, see [`crate::upload`]); reading it,
//! the fold-in and the ranking run in the compute pool.

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderName, header};
use axum::response::{IntoResponse, Response};

use bytes::Bytes;

use anirec_data::UserId;

use crate::answers::ask::{
    Ask, AskParams, ContinueParams, ContinueRow, Recommendations, answer_body, continue_response,
};
use crate::answers::profiles::{Subject, fold_in, known_user};
use crate::openapi::responses::{ModelLookup, PROBLEM_JSON};
use crate::openapi::schemas::{GzipExport, MalExport, RatingsForm};
use crate::params::{PathId, Query};
use crate::problem::Problem;
use crate::state::AppState;
use crate::upload::RatingsBody;

/// `GET /api/v1/users/{id}/continue?k=&filters`: a known user's continue row alone, computed in
/// the compute pool.
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}/continue",
    operation_id = "continueForUser",
    summary = "A known user's continue row: the next entry of each franchise they liked and dropped nothing of.",
    params(PathId<UserId>, Query<ContinueParams>),
    responses(
        (status = 200, description = "The continue row, the highest predicted rating first.", body = ContinueRow),
        ModelLookup,
    )
)]
pub async fn continue_for_user(
    State(state): State<AppState>,
    PathId(id): PathId<UserId>,
    query: Query<ContinueParams>,
) -> Result<Response, Problem> {
    state
        .run(move |served| {
            let ask = Ask::continuing(&query, &served)?;
            let profile = known_user(&served, id)?;
            let row = served.bundle.continue_series(&profile, ask.k, &ask.filters);
            continue_response(&served, Some(id), &row, ask.synopsis)
        })
        .await
}

/// `GET /api/v1/users/{id}/recommendations?k=&explain=&filters`. Answers are cached per model
/// (`x-cache: hit` or `miss`); a miss is computed in the compute pool.
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}/recommendations",
    operation_id = "recommendForUser",
    summary = "Top-k anime for a user the model was trained with.",
    params(PathId<UserId>, Query<AskParams>),
    responses(
        (status = 200, description = "Recommendations, best first.", body = Recommendations),
        ModelLookup,
    )
)]
pub async fn for_user(
    State(state): State<AppState>,
    PathId(id): PathId<UserId>,
    RawQuery(raw): RawQuery,
    query: Query<AskParams>,
) -> Result<Response, Problem> {
    let served = state.ready()?;
    let key = format!("{id}?{}", raw.as_deref().unwrap_or(""));
    if let Some(body) = served.cache.get(&key) {
        return Ok(cached_json(body, "hit"));
    }
    let body = state
        .run(move |served| {
            let ask = Ask::of(&query, &served)?;
            let profile = known_user(&served, id)?;
            let lists = ask.run(&served, &profile);
            let subject = Subject {
                user_id: Some(id),
                ratings: profile.state.entries.len(),
                list: None,
                notes: Vec::new(),
            };
            let body = answer_body(&served, &subject, &lists, ask.synopsis)?;
            served.cache.put(key, body.clone());
            Ok(body)
        })
        .await?;
    Ok(cached_json(body, "miss"))
}

fn cached_json(body: Bytes, cache: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (HeaderName::from_static("x-cache"), cache),
        ],
        body,
    )
        .into_response()
}

/// `POST /api/v1/recommendations?k=&explain=&filters` with ratings or a MyAnimeList export.
#[utoipa::path(
    post,
    path = "/api/v1/recommendations",
    operation_id = "recommendForRatings",
    summary = "Top-k anime for anyone, from their ratings (JSON) or their MyAnimeList export (XML as MyAnimeList writes it, the .xml.gz it downloads, UTF-8 or UTF-16; AniList and Kitsu export the same format), folded into the model without retraining. The answer's subject says what of the list was used and why not the rest.",
    description = "Limits: a JSON body up to the server's --max-body-bytes (4 MiB by default), an export up to --max-export-bytes as sent (32 MiB by default; gzip fits about ten times more) and 32 MiB unpacked, at most 20,000 entries either way. A body may be sent with `Content-Encoding: gzip`.",
    params(Query<AskParams>),
    request_body(content(
        (RatingsBody = "application/json"),
        (MalExport = "application/xml"),
        (RatingsForm = "multipart/form-data"),
        (MalExport = "text/xml"),
        (GzipExport = "application/gzip"),
    )),
    responses(
        (status = 200, description = "Recommendations, best first.", body = Recommendations),
        (status = 413, description = "The body, or the list it holds, is over a limit (JSON body bytes, export bytes sent or unpacked, 20,000 entries); the detail names the limit and how to fit in.", body = Problem, content_type = PROBLEM_JSON),
        (status = 415, description = "The body's content type or content encoding is not read here.", body = Problem, content_type = PROBLEM_JSON),
        (status = 422, description = "The body cannot be read (malformed JSON or XML, a value out of range, a manga list); the detail says what and where.", body = Problem, content_type = PROBLEM_JSON),
        ModelLookup,
    )
)]
pub async fn for_ratings(
    State(state): State<AppState>,
    query: Query<AskParams>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    fold_in(&state, query, &headers, body, false, |f| {
        let body = answer_body(&f.served, &f.subject, &f.lists, f.synopsis)?;
        Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
    })
    .await
}
