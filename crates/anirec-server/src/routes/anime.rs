//! `/api/v1/anime`: title search, one anime's record, and anime similar to it.

use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use anirec_data::MalId;
use anirec_data::catalogue::Anime;
use anirec_model::query::{Grouping, SimilarBy};
use anirec_model::story::StoryOff;

use super::json;
use crate::answers::lookup;
use crate::openapi::responses::{BadParam, ModelLookup, ModelUnavailable};
use crate::params::By;
use crate::params::{Flag, K, Offset, Page, PathId, Query, Takes};
use crate::problem::Problem;
use crate::state::AppState;
use crate::views::{Card, FranchiseView, SeriesEntry, SimilarView};

/// Longest search query, in characters.
const MAX_QUERY_CHARS: usize = 200;

/// The query of `/api/v1/anime`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// The title to look for. At least one character other than a space.
    // The pattern (here, for q of story search and a token's name): a character that is not
    // ECMAScript's `\s` nor U+0085, which Rust's `trim` removes too, so it is what the server
    // counts as more than spaces.
    #[param(
        required = true,
        min_length = 1,
        max_length = 200,
        pattern = r"[^\s\u0085]"
    )]
    q: Option<String>,
    /// How many results.
    #[param(inline)]
    k: K,
    /// Include adult titles (off by default).
    #[param(inline)]
    include_adult: Flag,
}

impl Takes for SearchParams {}

/// The query of `/api/v1/anime/{id}/similar`: `k`, `by` and the filters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct SimilarParams {
    /// How many results.
    #[param(inline)]
    k: K,
    /// How many of the most similar to skip: the next page starts at the answer's
    /// `next_offset`.
    #[param(inline)]
    offset: Offset,
    /// content: synopsis and fields; collab: fans' ratings; hybrid: both; story: the sentence
    /// embeddings of their stories (503 when the server runs without them).
    #[param(inline)]
    by: By,
}

impl Takes for SimilarParams {
    const FILTERS: bool = true;
}

/// Anime whose titles match a query.
#[derive(Serialize, ToSchema)]
#[schema(as = SearchResults)]
struct SearchAnswer<'a> {
    /// The query as read.
    query: &'a str,
    /// Matches, best first.
    items: Vec<Hit<'a>>,
}

/// An anime whose title matches.
#[derive(Serialize, ToSchema)]
#[schema(as = TitleMatch)]
struct Hit<'a> {
    #[serde(flatten)]
    anime: Card<'a>,
    /// How well the title matches (higher is closer).
    relevance: f32,
}

/// `GET /api/v1/anime?q=&k=`: anime whose titles match, best first (typo-tolerant); searched
/// in the compute pool.
#[utoipa::path(
    get,
    path = "/api/v1/anime",
    operation_id = "searchAnime",
    summary = "Title search over Name, English and Japanese names; ranked and typo-tolerant.",
    params(Query<SearchParams>),
    responses(
        (status = 200, description = "Matches, best first.", body = SearchAnswer),
        (status = 400, response = BadParam),
        (status = 503, response = ModelUnavailable),
    )
)]
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

/// One anime's catalogue record, with what the model knows of it.
#[derive(Serialize, ToSchema)]
#[schema(as = AnimeDetail)]
struct Detail<'a> {
    #[serde(flatten)]
    anime: &'a Anime,
    /// Users of the model who rated it.
    model_ratings: usize,
    /// Its franchise with every entry in watching order, when it is in one.
    franchise: Option<FranchiseView<'a>>,
}

/// `GET /api/v1/anime/{id}`: the full catalogue record.
#[utoipa::path(
    get,
    path = "/api/v1/anime/{id}",
    operation_id = "getAnime",
    summary = "One anime's catalogue record.",
    params(PathId<MalId>),
    responses(
        (status = 200, description = "The record.", body = Detail),
        ModelLookup,
    )
)]
pub async fn detail(
    State(state): State<AppState>,
    PathId(id): PathId<MalId>,
) -> Result<Response, Problem> {
    let served = state.ready()?;
    let a = lookup(&served, id)?;
    Ok(json(&Detail {
        anime: &served.bundle.catalogue[a],
        model_ratings: served.bundle.ratings.anime(a).indices.len(),
        franchise: FranchiseView::of(&served.bundle.catalogue, a),
    }))
}

/// Anime like one anime.
#[derive(Serialize, ToSchema)]
#[schema(as = SimilarAnime)]
struct SimilarAnswer<'a> {
    /// The anime they are like.
    anime_id: MalId,
    /// How they were compared.
    #[schema(value_type = String)]
    by: SimilarBy,
    /// Anime, most similar first.
    items: Vec<SimilarView<'a>>,
    /// The `offset` that asks for the next page; null at the end.
    next_offset: Option<usize>,
    /// Its own franchise, left out of `items` (with `group=series`), every entry in watching
    /// order (empty when it is in none, or with `group=none`).
    in_this_series: Vec<SeriesEntry<'a>>,
}

/// `GET /api/v1/anime/{id}/similar?by=&k=&filters`, ranked in the compute pool.
#[utoipa::path(
    get,
    path = "/api/v1/anime/{id}/similar",
    operation_id = "similarAnime",
    summary = "Anime most like this one.",
    params(PathId<MalId>, Query<SimilarParams>),
    responses(
        (status = 200, description = "Anime, most similar first.", body = SimilarAnswer),
        ModelLookup,
    )
)]
pub async fn similar(
    State(state): State<AppState>,
    PathId(id): PathId<MalId>,
    query: Query<SimilarParams>,
) -> Result<Response, Problem> {
    state
        .run(move |served| {
            let a = lookup(&served, id)?;
            let (k, offset, by) = (query.params.k.0, query.params.offset.0, query.params.by.0);
            let filters = query.filters.check(&served.vocabulary)?;
            if by == SimilarBy::Story && served.bundle.story().is_none() {
                return Err(Problem::unavailable(format!(
                    "similar by story is off: {}",
                    StoryOff::NoEmbeddings
                )));
            }
            let page = Page::of(
                served.bundle.similar(a, by, offset + k, &filters),
                offset,
                k,
            );
            let items = page
                .items
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
                next_offset: page.next_offset,
                in_this_series,
            }))
        })
        .await
}
