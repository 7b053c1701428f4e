//! `GET /api/v1/search`: "describe what you want to watch". The query is embedded by the
//! sentence encoder and matched against every anime's story (titles first when it is a title);
//! for a known fan (`user`, `favourites`, or the signed-in account) the story match is blended
//! with their predicted rating. Encoding and ranking run in the compute pool.

use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use anirec_data::{MalId, Score, UserId};
use anirec_model::profile::Profile;
use anirec_model::query::Listed;
use anirec_model::story_search::StoryHit;

use super::json;
use crate::answers::profiles::{known_user, profile, taste};
use crate::answers::story::{hits, read_query};
use crate::auth::Signed;
use crate::openapi::responses::PROBLEM_JSON;
use crate::params::{K, Offset, Page, Query, Takes, WholeU32, from_text};
use crate::problem::Problem;
use crate::state::{AppState, Served};
use crate::views::Card;

/// Most favourites a search takes.
const MAX_FAVOURITES: usize = 100;

/// The query of `/api/v1/search`: `q`, `k`, `user`, `favourites` and the filters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct StoryParams {
    /// What you want to watch, in your words ("time loop mystery at a high school"), or a
    /// title. Read up to 2,000 characters; the encoder reads the first 256 word pieces of that.
    #[param(required = true, min_length = 1, pattern = r"[^\s\u0085]")]
    q: Option<String>,
    /// How many results.
    #[param(inline)]
    k: K,
    /// How many of the best to skip: the next page starts at the answer's `next_offset`.
    #[param(inline)]
    offset: Offset,
    /// A MyAnimeList user the model knows: the ranking blends the story match with their
    /// predicted rating. An alternative to favourites: give one or the other (both: 400 naming
    /// favourites).
    #[param(value_type = Option<WholeU32>, inline)]
    user: Option<UserId>,
    /// MyAnimeList ids of favourite anime, separated by commas (up to 100): the ranking blends
    /// the story match with the predicted rating of a fan who loves them. An alternative to
    /// user: give one or the other (both: 400 naming favourites). A signed-in fan's own list is
    /// used when neither is given.
    #[param(value_type = Option<String>, pattern = "^[0-9]{1,9}(,[0-9]{1,9}){0,99}$")]
    favourites: Option<Favourites>,
}

impl Takes for StoryParams {
    const FILTERS: bool = true;
}

/// `favourites`: MyAnimeList ids separated by commas.
#[derive(Debug, Clone)]
struct Favourites(Vec<MalId>);

impl<'de> Deserialize<'de> for Favourites {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Favourites, D::Error> {
        from_text(
            d,
            format!("up to {MAX_FAVOURITES} MyAnimeList anime ids separated by commas"),
            |t| {
                let ids: Option<Vec<MalId>> = t
                    .split(',')
                    .map(|p| p.trim().parse().ok().map(MalId))
                    .collect();
                ids.filter(|ids| !ids.is_empty() && ids.len() <= MAX_FAVOURITES)
                    .map(Favourites)
            },
        )
    }
}

/// Anime found by their stories.
#[derive(Serialize, ToSchema)]
#[schema(as = StoryResults)]
struct Answer<'a> {
    /// The query as read (cut at 2,000 characters).
    query: &'a str,
    /// Whether a fan's predicted ratings shaped the ranking.
    personalised: bool,
    /// Anime whose title is the query first, then the closest stories.
    items: Vec<Found<'a>>,
    /// The `offset` that asks for the next page; null at the end.
    next_offset: Option<usize>,
}

/// An anime found by its story or title.
#[derive(Serialize, ToSchema)]
#[schema(as = StoryMatch)]
struct Found<'a> {
    #[serde(flatten)]
    anime: Card<'a>,
    #[serde(flatten)]
    hit: StoryHit,
}

/// Who the search is for.
enum Fan {
    Nobody,
    Known(UserId),
    Favourites(Vec<MalId>),
    Account(Vec<anirec_store::ListEntry>),
}

/// `GET /api/v1/search?q=&k=&user=&favourites=&filters`.
#[utoipa::path(
    get,
    path = "/api/v1/search",
    operation_id = "searchStories",
    summary = "Describe what you want to watch: anime ranked by how close their story is to the description, titles that match first, personalised for a known fan.",
    params(Query<StoryParams>),
    responses(
        (status = 200, description = "Anime whose title is the query first, then the closest stories (personalised for a known fan).", body = Answer),
        (status = 400, description = "A parameter is wrong, or user and favourites were both given (they are alternatives); `param` names it.", body = Problem, content_type = PROBLEM_JSON),
        (status = 401, description = "An Authorization header was sent with a token that is not valid.", body = Problem, content_type = PROBLEM_JSON),
        (status = 404, description = "user is not in the model.", body = Problem, content_type = PROBLEM_JSON),
        (status = 503, description = "The model is still loading, the server is at capacity (then with Retry-After), or story search is off: the server has no sentence encoder, or the model has no story embeddings from it; the detail says which.", body = Problem, content_type = PROBLEM_JSON, headers(("Retry-After" = u64, description = "Seconds to wait before retrying (when at capacity)."))),
    )
)]
pub async fn search(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Query<StoryParams>,
    signed: Result<Signed, Problem>,
) -> Result<Response, Problem> {
    let Query { params, filters } = query;
    // Every parameter is checked before the query is looked at, so a bad one is named even
    // when q is missing.
    let served = state.ready()?;
    let filters = filters.check(&served.vocabulary)?;
    let text = params.q.unwrap_or_default();
    if text.trim().is_empty() {
        return Err(Problem::bad_param(
            "q",
            "q is required: describe what you want to watch, or give a title",
        ));
    }
    let text = read_query(&text);
    let encoder = state.story_encoder(&served)?;
    let fan = match (params.user, params.favourites, signed) {
        (Some(_), Some(_), _) => {
            return Err(Problem::bad_param(
                "favourites",
                "give user or favourites, not both",
            ));
        }
        (Some(user), None, _) => Fan::Known(user),
        (None, Some(f), _) => Fan::Favourites(f.0),
        (None, None, Ok(signed)) => {
            let taste = taste(&state, signed.account.id).await?;
            Fan::Account(taste.list)
        }
        // A token that was sent but is not valid is an error; no credentials, or a browser
        // session that ended, is an anonymous search.
        (None, None, Err(e)) if headers.contains_key(header::AUTHORIZATION) => return Err(e),
        (None, None, Err(_)) => Fan::Nobody,
    };
    let (k, offset) = (params.k.0, params.offset.0);
    state
        .run(move |served| {
            let profile: Option<Profile> = match &fan {
                Fan::Nobody => None,
                Fan::Known(user) => Some(known_user(&served, *user)?),
                Fan::Favourites(ids) => Some(favourites_profile(&served, ids)?),
                Fan::Account(list) => Some(profile(&served, list)),
            };
            let found = hits(
                &served,
                &encoder,
                &text,
                profile.as_ref(),
                offset + k,
                &filters,
            )?;
            let page = Page::of(found, offset, k);
            let catalogue = &served.bundle.catalogue;
            Ok(json(&Answer {
                query: &text,
                personalised: profile.is_some(),
                next_offset: page.next_offset,
                items: page
                    .items
                    .into_iter()
                    .map(|hit| Found {
                        anime: Card::of(catalogue, hit.index),
                        hit,
                    })
                    .collect(),
            }))
        })
        .await
}

/// A profile from favourites (each counted as a 10), or 404 naming the ids the catalogue lacks.
fn favourites_profile(served: &Served, ids: &[MalId]) -> Result<Profile, Problem> {
    let list: Vec<Listed> = ids
        .iter()
        .map(|&mal_id| Listed {
            mal_id,
            score: Score::BEST,
            status: None,
        })
        .collect();
    let (profile, unknown) = served.bundle.fold_in(&list);
    if unknown.is_empty() {
        Ok(profile)
    } else {
        let ids: Vec<String> = unknown.iter().map(|id| id.to_string()).collect();
        Err(Problem::bad_param(
            "favourites",
            format!("no anime with id {} in the catalogue", ids.join(", ")),
        ))
    }
}
