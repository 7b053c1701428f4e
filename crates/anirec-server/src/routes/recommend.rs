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
use serde::Serialize;

use anirec_data::UserId;
use anirec_model::series::Continuation;

use super::json_body;
use crate::answers::ask::{Ask, AskParams, ContinueParams, Lists};
use crate::answers::profiles::{Subject, fold_in, known_user};
use crate::params::{PathId, Query};
use crate::problem::Problem;
use crate::state::{AppState, Served};
use crate::views::{ContinueView, RecommendationView, Synopsis};

#[derive(Serialize)]
struct Answer<'a> {
    model: &'a str,
    subject: &'a Subject,
    items: Vec<RecommendationView<'a>>,
    continue_watching: Vec<ContinueView<'a>>,
}

/// The JSON answer of the recommendation endpoints.
pub fn answer_body(
    served: &Served,
    subject: &Subject,
    lists: &Lists,
    synopsis: Synopsis,
) -> Result<Bytes, Problem> {
    json_body(&Answer {
        model: &served.version,
        subject,
        items: RecommendationView::list(&served.bundle, &lists.recs, synopsis),
        continue_watching: ContinueView::list(&served.bundle, &lists.continuing, synopsis),
    })
}

#[derive(Serialize)]
struct ContinueAnswer<'a> {
    model: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<UserId>,
    items: Vec<ContinueView<'a>>,
}

/// The JSON answer of the continue endpoints.
pub fn continue_response(
    served: &Served,
    user_id: Option<UserId>,
    row: &[Continuation],
    synopsis: Synopsis,
) -> Result<Response, Problem> {
    let body = json_body(&ContinueAnswer {
        model: &served.version,
        user_id,
        items: ContinueView::list(&served.bundle, row, synopsis),
    })?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// `GET /api/v1/users/{id}/continue?k=&filters`: a known user's continue row alone, computed in
/// the compute pool.
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
