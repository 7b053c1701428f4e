//! `/api/v1/anime`: title search, one anime's record, and anime similar to it.

use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use anirec_data::MalId;
use anirec_data::catalogue::Anime;
use anirec_model::query::{Grouping, SimilarBy};
use anirec_model::story::StoryOff;

use super::json;
use crate::answers::lookup;
use crate::params::By;
use crate::params::{Flag, K, PathId, Query, Takes};
use crate::problem::Problem;
use crate::state::AppState;
use crate::views::{Card, FranchiseView, SeriesEntry, SimilarView};

/// Longest search query, in characters.
const MAX_QUERY_CHARS: usize = 200;

/// The query of `/api/v1/anime`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SearchParams {
    /// The title to search for (required).
    q: Option<String>,
    /// How many.
    k: K,
    /// Allow adult titles.
    include_adult: Flag,
}

impl Takes for SearchParams {}

/// The query of `/api/v1/anime/{id}/similar`: `k`, `by` and the filters.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SimilarParams {
    /// How many.
    k: K,
    /// How to compare.
    by: By,
}

impl Takes for SimilarParams {
    const FILTERS: bool = true;
}

#[derive(Serialize)]
struct SearchAnswer<'a> {
    query: &'a str,
    items: Vec<Hit<'a>>,
}

#[derive(Serialize)]
struct Hit<'a> {
    #[serde(flatten)]
    anime: Card<'a>,
    relevance: f32,
}

/// `GET /api/v1/anime?q=&k=`: anime whose titles match, best first (typo-tolerant); searched
/// in the compute pool.
pub async fn search(
    State(state): State<AppState>,
    Query { params, .. }: Query<SearchParams>,
) -> Result<Response, Problem> {
    let Some(query) = params.q else {
        return Err(Problem::bad_param(
            "q",
            "q (the title to search for) is required",
        ));
    };
    if query.trim().is_empty() {
        return Err(Problem::bad_param(
            "q",
            "q has nothing but spaces; give a title to search for",
        ));
    }
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(Problem::bad_param(
            "q",
            format!("q is longer than {MAX_QUERY_CHARS} characters"),
        ));
    }
    let (k, adult) = (params.k.0, params.include_adult.0);
    state
        .run(move |served| {
            let items = served
                .titles
                .search(&query, k * 2)
                .into_iter()
                .filter(|&(a, _)| adult || !served.bundle.catalogue[a].adult)
                .take(k)
                .map(|(a, relevance)| Hit {
                    anime: Card::of(&served.bundle.catalogue, a),
                    relevance,
                })
                .collect();
            Ok(json(&SearchAnswer {
                query: &query,
                items,
            }))
        })
        .await
}

#[derive(Serialize)]
struct Detail<'a> {
    #[serde(flatten)]
    anime: &'a Anime,
    /// Users of the model who rated it.
    model_ratings: usize,
    /// Its franchise with every entry in watching order, when it is in one.
    franchise: Option<FranchiseView<'a>>,
}

/// `GET /api/v1/anime/{id}`: the full catalogue record.
pub async fn detail(
    State(state): State<AppState>,
    PathId(id): PathId<MalId>,
) -> Result<Response, Problem> {
    let served = state.ready()?;
    let a = lookup(&served, id)?;
    Ok(json(&Detail {
        anime: &served.bundle.catalogue[a],
        model_ratings: served.bundle.ratings.anime(a.0).indices.len(),
        franchise: FranchiseView::of(&served.bundle.catalogue, a),
    }))
}

#[derive(Serialize)]
struct SimilarAnswer<'a> {
    anime_id: MalId,
    by: SimilarBy,
    items: Vec<SimilarView<'a>>,
    /// Its own franchise, left out of `items` (with `group=series`), every entry in watching
    /// order (empty when it is in none, or with `group=none`).
    in_this_series: Vec<SeriesEntry<'a>>,
}

/// `GET /api/v1/anime/{id}/similar?by=&k=&filters`, ranked in the compute pool.
pub async fn similar(
    State(state): State<AppState>,
    PathId(id): PathId<MalId>,
    query: Query<SimilarParams>,
) -> Result<Response, Problem> {
    state
        .run(move |served| {
            let a = lookup(&served, id)?;
            let (k, by) = (query.params.k.0, query.params.by.0);
            let filters = query.filters.check(&served.vocabulary)?;
            if by == SimilarBy::Story && served.bundle.story().is_none() {
                return Err(Problem::unavailable(format!(
                    "similar by story is off: {}",
                    StoryOff::NoEmbeddings
                )));
            }
            let items = served
                .bundle
                .similar(a, by, k, &filters)
                .into_iter()
                .map(|(j, similarity)| SimilarView {
                    anime: Card::of(&served.bundle.catalogue, j),
                    similarity,
                })
                .collect();
            let in_this_series = match filters.group {
                Grouping::Series => FranchiseView::of(&served.bundle.catalogue, a)
                    .map(|f| f.in_order)
                    .unwrap_or_default(),
                Grouping::None => Vec::new(),
            };
            Ok(json(&SimilarAnswer {
                anime_id: served.bundle.catalogue[a].mal_id,
                by,
                items,
                in_this_series,
            }))
        })
        .await
}
