//! "This season": `GET /api/v1/seasons/{year}/{season}`, `/current` and `/upcoming` — a season's
//! anime ranked for the fan when we know them (signed in, or `user_id`), by members otherwise,
//! sequels of franchises the fan liked marked ([`crate::answers::season`]).

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use anirec_data::{Season, UserId};
use anirec_model::filters::YEARS;

use super::json;
use crate::answers::profiles::{known_user, profile, taste};
use crate::answers::season::{SeasonOf, season_picks, season_views};
use crate::auth::Visitor;
use crate::openapi::responses::ModelLookup;
use crate::params::{Flag, K, Offset, Page, Query, Takes, WholeU32};
use crate::problem::Problem;
use crate::state::AppState;
use crate::views::SeasonView;

/// The query of the season endpoints.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct SeasonParams {
    /// How many anime.
    #[param(inline)]
    k: K,
    /// How many of the best to skip: the next page starts at the answer's `next_offset`.
    #[param(inline)]
    offset: Offset,
    /// Rank for this MyAnimeList user of the model (a signed-in fan's own list is used
    /// otherwise, when there is one).
    #[param(value_type = Option<WholeU32>)]
    user_id: Option<UserId>,
    /// Include adult titles (off by default).
    #[param(inline)]
    include_adult: Flag,
}

impl Takes for SeasonParams {}

/// How a season's list was ranked.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum RankedFor {
    /// For the signed-in fan's list.
    Account,
    /// For the `user_id` given.
    User,
    /// By MyAnimeList members.
    Popularity,
}

/// A season's anime.
#[derive(Serialize, ToSchema)]
struct SeasonAnswer<'a> {
    /// The year.
    year: u16,
    /// The season.
    season: Season,
    /// How the list was ranked.
    ranked_for: RankedFor,
    /// The anime, best first.
    items: Vec<SeasonView<'a>>,
    /// The `offset` that asks for the next page; null at the end.
    next_offset: Option<usize>,
}

/// `GET /api/v1/seasons/{year}/{season}`.
#[utoipa::path(
    get,
    path = "/api/v1/seasons/{year}/{season}",
    operation_id = "season",
    summary = "A season's anime: ranked for the fan when known (signed in, or user_id), by MyAnimeList members otherwise; sequels of franchises the fan liked marked.",
    params(
        ("year" = u16, Path, description = "The year, 1900-2100.", minimum = 1900, maximum = 2100),
        ("season" = Season, Path, description = "winter, spring, summer or fall."),
        Query<SeasonParams>,
    ),
    responses(
        (status = 200, description = "The season's anime, best first.", body = SeasonAnswer),
        ModelLookup,
    )
)]
pub async fn season(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    query: Query<SeasonParams>,
    visitor: Visitor,
) -> Result<Response, Problem> {
    let Path((year, season)) =
        path.map_err(|e| Problem::bad_param("year", format!("a bad path: {e}")))?;
    let year = year
        .parse::<u16>()
        .ok()
        .filter(|y| YEARS.contains(y))
        .ok_or_else(|| {
            Problem::bad_param(
                "year",
                format!("year must be a whole number from 1900 to 2100, found {year:?}"),
            )
        })?;
    let season = Season::parse(&season).ok_or_else(|| {
        Problem::bad_param(
            "season",
            format!("season must be winter, spring, summer or fall, found {season:?}"),
        )
    })?;
    answer(&state, SeasonOf { year, season }, query.params, visitor).await
}

/// `GET /api/v1/seasons/current`: the season today's date (UTC) is in.
#[utoipa::path(
    get,
    path = "/api/v1/seasons/current",
    operation_id = "currentSeason",
    summary = "This season's anime (the season today's date, UTC, is in), ranked as /api/v1/seasons/{year}/{season} ranks.",
    params(Query<SeasonParams>),
    responses(
        (status = 200, description = "The season's anime, best first.", body = SeasonAnswer),
        ModelLookup,
    )
)]
pub async fn current(
    State(state): State<AppState>,
    query: Query<SeasonParams>,
    visitor: Visitor,
) -> Result<Response, Problem> {
    answer(&state, SeasonOf::current(), query.params, visitor).await
}

/// `GET /api/v1/seasons/upcoming`: the season after this one.
#[utoipa::path(
    get,
    path = "/api/v1/seasons/upcoming",
    operation_id = "upcomingSeason",
    summary = "Next season's anime, ranked as /api/v1/seasons/{year}/{season} ranks.",
    params(Query<SeasonParams>),
    responses(
        (status = 200, description = "The season's anime, best first.", body = SeasonAnswer),
        ModelLookup,
    )
)]
pub async fn upcoming(
    State(state): State<AppState>,
    query: Query<SeasonParams>,
    visitor: Visitor,
) -> Result<Response, Problem> {
    answer(&state, SeasonOf::current().next(), query.params, visitor).await
}

/// The season's answer: for `user_id`, else the signed-in fan, else by members.
async fn answer(
    state: &AppState,
    of: SeasonOf,
    params: SeasonParams,
    visitor: Visitor,
) -> Result<Response, Problem> {
    let list = match (&params.user_id, &visitor.account) {
        (None, Some(account)) => Some(taste(state, account.id).await?.list),
        _ => None,
    };
    state
        .run(move |served| {
            let (fan, ranked_for) = match (params.user_id, &list) {
                (Some(user), _) => (Some(known_user(&served, user)?), RankedFor::User),
                (None, Some(list)) => (Some(profile(&served, list)), RankedFor::Account),
                (None, None) => (None, RankedFor::Popularity),
            };
            let bundle = &served.bundle;
            let (k, offset) = (params.k.0, params.offset.0);
            let adult = params.include_adult.0;
            let picks = season_picks(bundle, of, fan.as_ref(), adult, offset + k);
            let page = Page::of(picks, offset, k);
            Ok(json(&SeasonAnswer {
                year: of.year,
                season: of.season,
                ranked_for,
                items: season_views(&bundle.catalogue, &page.items),
                next_offset: page.next_offset,
            }))
        })
        .await
}
