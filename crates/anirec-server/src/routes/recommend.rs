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
use std::sync::Arc;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use anirec_data::UserId;
use anirec_model::list_use::ListUse;
use anirec_model::query::{Filters, Profile, Recommendation};
use anirec_model::series::Continuation;

use super::json_body;
use crate::params::{Flag, K, PathId, Query, Takes};
use crate::problem::Problem;
use crate::state::{AppState, Served};
use crate::upload::Upload;
use crate::views::{ContinueView, RecommendationView, Synopsis};

/// The query of the recommendation endpoints: `k`, `explain`, `synopsis` and the filters.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AskParams {
    /// How many.
    k: K,
    /// With reasons.
    explain: Flag,
    /// How much synopsis.
    synopsis: Synopsis,
}

impl Takes for AskParams {
    const FILTERS: bool = true;
}

/// The query of the continue endpoints: `k`, `synopsis` and the filters.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ContinueParams {
    /// How many.
    k: K,
    /// How much synopsis.
    synopsis: Synopsis,
}

impl Takes for ContinueParams {
    const FILTERS: bool = true;
}

/// What a recommendation request asks for.
pub struct Ask {
    /// How many.
    pub k: usize,
    /// Filters.
    pub filters: Filters,
    /// With reasons.
    pub explain: bool,
    /// How much synopsis each card carries.
    pub synopsis: Synopsis,
}

impl Ask {
    /// The request's query, its filters checked against the model's vocabulary.
    pub fn of(query: &Query<AskParams>, served: &Served) -> Result<Ask, Problem> {
        Ok(Ask {
            k: query.params.k.0,
            filters: query.filters.check(&served.vocabulary)?,
            explain: query.params.explain.0,
            synopsis: query.params.synopsis,
        })
    }

    /// A continue request's query (no reasons), its filters checked.
    pub fn continuing(query: &Query<ContinueParams>, served: &Served) -> Result<Ask, Problem> {
        Ok(Ask {
            k: query.params.k.0,
            filters: query.filters.check(&served.vocabulary)?,
            explain: false,
            synopsis: query.params.synopsis,
        })
    }

    /// Ranks for a profile: the discovery list and the continue row (at most
    /// [`CONTINUE_IN_ANSWER`] entries, or `k` if fewer).
    pub fn run(&self, served: &Served, profile: &Profile) -> Lists {
        Lists {
            recs: served
                .bundle
                .recommend(profile, self.k, &self.filters, self.explain),
            continuing: served.bundle.continue_series(
                profile,
                self.k.min(CONTINUE_IN_ANSWER),
                &self.filters,
            ),
        }
    }
}

/// Most continue-row entries a recommendation answer carries (a row on a page; the continue
/// endpoints give up to `k`). Ten full cards doubled an answer's size.
pub const CONTINUE_IN_ANSWER: usize = 5;

/// The two lists of a recommendation answer.
#[derive(Debug, Clone, Default)]
pub struct Lists {
    /// The discovery list, best first.
    pub recs: Vec<Recommendation>,
    /// The continue row: the next entry of each franchise the fan is watching.
    pub continuing: Vec<Continuation>,
}

/// Who the recommendations are for.
#[derive(Debug, Clone, Serialize)]
pub struct Subject {
    /// The known user they started from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    /// Ratings the profile holds.
    pub ratings: usize,
    /// What of the request's list was used, and why not the rest (requests with a list only).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub list: Option<ListUse>,
    /// The same in sentences a fan can read (empty when everything was used).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

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

/// The profile of a known user, or 404.
pub fn known_user(served: &Served, id: UserId) -> Result<Profile, Problem> {
    served.bundle.known_user(id).ok_or_else(|| {
        Problem::not_found(format!(
            "user {id} is not in the model; POST their ratings to /api/v1/recommendations instead"
        ))
    })
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

/// Builds the profile of a received body: its list (and a known user's ratings under it, when
/// the JSON names a `user_id`) folded into the model. Errors: 404 an unknown `user_id`, and those
/// of [`Upload::read`].
pub fn read_profile(served: &Served, upload: Upload) -> Result<(Profile, Subject), Problem> {
    let list = upload.read()?;
    // The known user's ratings first, then the body's: for an anime listed twice the fold-in
    // keeps the later entry.
    let mut merged = Vec::new();
    if let Some(user) = list.user_id {
        let profile = served.bundle.known_user(user).ok_or_else(|| {
            Problem::not_found(format!("user {user} is not in the model")).with_param("user_id")
        })?;
        merged.extend(served.bundle.listed(&profile));
    }
    merged.extend_from_slice(&list.entries);
    let (profile, unknown) = served.bundle.fold_in(&merged);
    let used = list.used(unknown);
    let subject = Subject {
        user_id: list.user_id,
        ratings: profile.state.entries.len(),
        notes: used.notes(),
        list: Some(used),
    };
    Ok((profile, subject))
}

/// A fold-in request answered: the model it ran on, who it was for, the ranked anime.
pub struct FoldIn {
    /// The model (kept alive for the response even if another is swapped in meanwhile).
    pub served: Arc<Served>,
    /// Who the recommendations are for.
    pub subject: Subject,
    /// The discovery list and the continue row.
    pub lists: Lists,
    /// How much synopsis each card carries.
    pub synopsis: Synopsis,
}

/// Receives a ratings body, then in the compute pool reads it and its query, folds the ratings
/// in, ranks (`explain` forces the reasons on) and makes the response with `respond`.
pub async fn fold_in<F>(
    state: &AppState,
    query: Query<AskParams>,
    headers: &HeaderMap,
    body: Body,
    explain: bool,
    respond: F,
) -> Result<Response, Problem>
where
    F: FnOnce(FoldIn) -> Result<Response, Problem> + Send + 'static,
{
    let upload = Upload::receive(headers, body, state.config()).await?;
    state
        .run(move |served| {
            let mut ask = Ask::of(&query, &served)?;
            ask.explain |= explain;
            let (profile, subject) = read_profile(&served, upload)?;
            let lists = ask.run(&served, &profile);
            respond(FoldIn {
                served,
                subject,
                lists,
                synopsis: ask.synopsis,
            })
        })
        .await
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
