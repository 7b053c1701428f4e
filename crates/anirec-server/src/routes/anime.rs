//! `/api/v1/anime`: title search, one anime's record, and anime similar to it.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use serde::Serialize;

use anirec_data::MalId;
use anirec_data::catalogue::Anime;
use anirec_model::filters;
use anirec_model::query::SimilarBy;

use super::json;
use crate::params::{Params, parse_id, segment};
use crate::problem::Problem;
use crate::state::{AppState, Served};
use crate::views::{Card, SimilarView};

/// Longest search query, in characters.
const MAX_QUERY_CHARS: usize = 200;

/// The catalogue index of a MyAnimeList id in a path, or 404.
pub fn lookup(served: &Served, id: &str) -> Result<u32, Problem> {
    let id = parse_id("id", id)?;
    served
        .bundle
        .catalogue
        .index_of(MalId(id))
        .ok_or_else(|| Problem::not_found(format!("no anime with id {id} in the catalogue")))
}

/// `by` of the similar endpoints: content, collab or hybrid (default).
pub fn similar_by(params: &Params) -> Result<SimilarBy, Problem> {
    match params.get("by").map(str::to_ascii_lowercase).as_deref() {
        None | Some("hybrid") => Ok(SimilarBy::Hybrid),
        Some("content") => Ok(SimilarBy::Content),
        Some("collab") => Ok(SimilarBy::Collab),
        Some(other) => Err(Problem::bad_param(
            "by",
            format!("by must be content, collab or hybrid, found {other:?}"),
        )),
    }
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
    RawQuery(q): RawQuery,
) -> Result<Response, Problem> {
    let params = Params::parse(q.as_deref())?.only(&["q", "k", "include_adult"])?;
    let Some(query) = params.get("q").map(str::to_owned) else {
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
    let k = params.k()?;
    let adult = params.flag("include_adult")?;
    state
        .run(move |served| {
            let anime = served.bundle.catalogue.anime();
            let items = served
                .titles
                .search(&query, k * 2)
                .into_iter()
                .filter(|&(a, _)| adult || !anime[a as usize].adult)
                .take(k)
                .map(|(a, relevance)| Hit {
                    anime: Card::of(&anime[a as usize]),
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
}

/// `GET /api/v1/anime/{id}`: the full catalogue record.
pub async fn detail(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, Problem> {
    let served = state.ready()?;
    let a = lookup(&served, &segment(id)?)?;
    Ok(json(&Detail {
        anime: &served.bundle.catalogue.anime()[a as usize],
        model_ratings: served.bundle.ratings.anime(a).indices.len(),
    }))
}

#[derive(Serialize)]
struct SimilarAnswer<'a> {
    anime_id: MalId,
    by: SimilarBy,
    items: Vec<SimilarView<'a>>,
}

/// `GET /api/v1/anime/{id}/similar?by=&k=&filters`, ranked in the compute pool.
pub async fn similar(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
) -> Result<Response, Problem> {
    let mut known = vec!["k", "by"];
    known.extend(filters::PARAMS);
    let params = Params::parse(q.as_deref())?.only(&known)?;
    let id = segment(id)?;
    state
        .run(move |served| {
            let a = lookup(&served, &id)?;
            let (k, by, filters) = (
                params.k()?,
                similar_by(&params)?,
                params.filters(&served.vocabulary)?,
            );
            let anime = served.bundle.catalogue.anime();
            let items = served
                .bundle
                .similar(a, by, k, &filters)
                .into_iter()
                .map(|(j, similarity)| SimilarView {
                    anime: Card::of(&anime[j as usize]),
                    similarity,
                })
                .collect();
            Ok(json(&SimilarAnswer {
                anime_id: anime[a as usize].mal_id,
                by,
                items,
            }))
        })
        .await
}
