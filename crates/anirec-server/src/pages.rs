//! The web pages: the home page (a user-id form, the "new here?" favourites flow, a MyAnimeList
//! upload, filters), a known user's recommendations, an anime's page with similar anime, and the
//! HTML fragment of result cards the page's script asks for when favourites or ratings change.
//! Templates are compiled into the binary and every value is HTML-escaped by the engine.

use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use minijinja::{Environment, context};
use serde::{Deserialize, Serialize};

use anirec_data::{MalId, UserId};
use anirec_model::numbers::thousands;

use crate::answers::ask::{Ask, AskParams};
use crate::answers::lookup;
use crate::answers::profiles::{fold_in, profile, taste};
use crate::answers::season::{SeasonOf, season_picks, season_views};
use crate::answers::story::{hits, read_query};
use crate::auth::Visitor;
use crate::params::By;
use crate::params::{
    FilterParams, Flag, K, Offset, Page, PathId, Query, ShownFilters, Takes, parse_id,
};
use crate::problem::Problem;
use crate::state::{AppState, Served};
use crate::static_files;
use crate::views::{Card, ContinueView, FranchiseView, RecommendationView, SimilarView, Synopsis};

/// The page routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/recommendations", get(user_page))
        .route("/search", get(search_page))
        .route("/anime/{id}", get(anime_page))
        .route("/fragments/recommendations", post(cards_fragment))
        .route("/static/{file}", get(static_files::serve))
}

fn templates() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, source) in [
            ("base.html", include_str!("../templates/base.html")),
            ("cards.html", include_str!("../templates/cards.html")),
            ("filters.html", include_str!("../templates/filters.html")),
            ("home.html", include_str!("../templates/home.html")),
            ("search.html", include_str!("../templates/search.html")),
            (
                "recommendations.html",
                include_str!("../templates/recommendations.html"),
            ),
            ("anime.html", include_str!("../templates/anime.html")),
            ("fragment.html", include_str!("../templates/fragment.html")),
            ("message.html", include_str!("../templates/message.html")),
            ("signin.html", include_str!("../templates/signin.html")),
            ("me.html", include_str!("../templates/me.html")),
            ("profile.html", include_str!("../templates/profile.html")),
        ] {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("template {name} does not compile: {e}"));
        }
        env.add_filter("thousands", thousands);
        env.add_filter("initials", initials);
        // A path of ours ([a-z0-9./]), not to be escaped into `&#x2f;static&#x2f;…`.
        env.add_function("asset", |name: &str| {
            minijinja::Value::from_safe_string(static_files::url(name))
        });
        env
    })
}

/// A serialisable value for a template.
pub(crate) fn v<T: Serialize>(value: T) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(value))
}

/// The initials a cover's placeholder shows: the first letter or digit of the title's first two
/// words (`Frieren: Beyond Journey's End` → `FB`), upper case; `?` for a title without one.
fn initials(title: &str) -> String {
    let out: String = title
        .split_whitespace()
        .filter_map(|w| w.chars().find(|c| c.is_alphanumeric()))
        .take(2)
        .flat_map(char::to_uppercase)
        .collect();
    if out.is_empty() { "?".to_owned() } else { out }
}

/// Renders a template with a status.
pub(crate) fn render(status: StatusCode, name: &str, ctx: minijinja::Value) -> Response {
    match templates().get_template(name).and_then(|t| t.render(ctx)) {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!("template {name}: {e:#}");
            Problem::internal(format!("the page could not be rendered: {e}")).into_response()
        }
    }
}

/// A page that only says something (not found, not ready, bad parameter).
fn message(status: StatusCode, title: &str, text: &str) -> Response {
    render(status, "message.html", context! { title, text })
}

/// The 404 page.
pub fn not_found_page(text: &str) -> Response {
    message(StatusCode::NOT_FOUND, "Not found", text)
}

/// A problem as a page (with its `Retry-After`, when it has one).
pub(crate) fn problem_page(p: Problem) -> Response {
    let mut page = message(p.status, p.title, &p.detail);
    if let Some(seconds) = p.retry_after {
        page.headers_mut()
            .insert(header::RETRY_AFTER, seconds.into());
    }
    page
}

/// The choices of the filter form: every genre and type in the catalogue, and what the request
/// asked for.
#[derive(Serialize)]
struct FilterForm<'a> {
    genres: &'a [String],
    types: &'a [String],
    #[serde(flatten)]
    shown: ShownFilters,
}

impl<'a> FilterForm<'a> {
    fn new(served: &'a Served, filters: &FilterParams) -> FilterForm<'a> {
        FilterForm {
            genres: &served.vocabulary.genres,
            types: &served.vocabulary.types,
            shown: filters.shown(),
        }
    }
}

/// The form of `/recommendations`: the user, `k` and the filters.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct UserPageParams {
    /// The MyAnimeList user id (required).
    user: Option<String>,
    /// How many.
    k: K,
}

impl Takes for UserPageParams {
    const FILTERS: bool = true;
    const FORM: bool = true;
}

/// The form of `/search`: the description (or title), `k` and the filters.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SearchPageParams {
    /// What the fan wants to watch (required).
    q: Option<String>,
    /// How many.
    k: K,
    /// How many of the best to skip ("Show more").
    offset: Offset,
}

impl Takes for SearchPageParams {
    const FILTERS: bool = true;
    const FORM: bool = true;
}

/// One card of the search page: the anime and why it was found.
#[derive(Serialize)]
struct FoundView<'a> {
    #[serde(flatten)]
    anime: Card<'a>,
    /// Why it was found.
    found_because: String,
}

/// `GET /search?q=&filters`: story search as a page, personalised by the signed-in fan's list.
async fn search_page(
    State(state): State<AppState>,
    visitor: Visitor,
    query: Result<Query<SearchPageParams>, Problem>,
) -> Response {
    let found = async {
        let query = query?;
        let text = query
            .params
            .q
            .as_deref()
            .map(read_query)
            .unwrap_or_default();
        if text.trim().is_empty() {
            return Err(Problem::bad_param(
                "q",
                "describe what you want to watch, or give a title",
            ));
        }
        let served = state.ready()?;
        let encoder = state.story_encoder(&served)?;
        let filters = query.filters.check(&served.vocabulary)?;
        let list = match &visitor.account {
            Some(account) => Some(taste(&state, account.id).await?.list),
            None => None,
        };
        let name = visitor.name().map(str::to_owned);
        state
            .run(move |served| {
                let fan = list.as_ref().map(|l| profile(&served, l));
                let (k, offset) = (query.params.k.0, query.params.offset.0);
                let found = hits(&served, &encoder, &text, fan.as_ref(), offset + k, &filters)?;
                let page = Page::of(found, offset, k);
                let catalogue = &served.bundle.catalogue;
                let items: Vec<FoundView> = page
                    .items
                    .into_iter()
                    .map(|h| FoundView {
                        anime: Card::of(catalogue, h.index),
                        found_because: h.reason,
                    })
                    .collect();
                Ok(render(
                    StatusCode::OK,
                    "search.html",
                    context! {
                        version => served.version.clone(),
                        visitor => name,
                        q => text,
                        personalised => fan.is_some(),
                        items => v(&items),
                        offset,
                        next_offset => page.next_offset,
                        form => v(FilterForm::new(&served, &query.filters)),
                    },
                ))
            })
            .await
    };
    found.await.unwrap_or_else(problem_page)
}

/// The query of an anime's page.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AnimePageParams {
    /// How to compare.
    by: By,
    /// Allow adult titles among the similar anime.
    include_adult: Flag,
    /// How many of the most similar to skip ("Show more").
    offset: Offset,
}

impl Takes for AnimePageParams {
    const FORM: bool = true;
}

/// The query of `/`: where this season's list continues ("Show more").
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct HomeParams {
    /// How many of this season's best to skip.
    season_offset: Offset,
}

impl Takes for HomeParams {
    const FORM: bool = true;
}

/// `GET /?season_offset=`: the home page.
async fn home(
    State(state): State<AppState>,
    visitor: Visitor,
    query: Result<Query<HomeParams>, Problem>,
) -> Response {
    let offset = match query {
        Ok(q) => q.params.season_offset.0,
        Err(p) => return problem_page(p),
    };
    if state.model().is_none() {
        return message(
            StatusCode::SERVICE_UNAVAILABLE,
            "Warming up",
            "The model is still loading. This page will work in a moment.",
        );
    }
    // A signed-in fan's list ranks this season for them (a store that fails leaves the season
    // ranked by popularity: the home page does not depend on the database).
    let list = match (&visitor.account, state.accounts()) {
        (Some(account), Ok(_)) => taste(&state, account.id).await.ok().map(|t| t.list),
        _ => None,
    };
    let name = visitor.name().map(str::to_owned);
    state
        .run(move |served| {
            let fan = list.as_ref().map(|l| profile(&served, l));
            let of = SeasonOf::current();
            let picks = season_picks(
                &served.bundle,
                of,
                fan.as_ref(),
                false,
                offset + HOME_SEASON,
            );
            let page = Page::of(picks, offset, HOME_SEASON);
            Ok(render(
                StatusCode::OK,
                "home.html",
                context! {
                    version => served.version.clone(),
                    visitor => name,
                    form => v(FilterForm::new(&served, &FilterParams::default())),
                    sample_user => served.bundle.ratings.user_ids().first().copied(),
                    users => served.bundle.ratings.n_users(),
                    anime => served.bundle.catalogue.len(),
                    season => v(SeasonHeading { year: of.year, season: of.season }),
                    season_items => v(season_views(&served.bundle.catalogue, &page.items)),
                    season_offset => offset,
                    season_next => page.next_offset,
                    season_for_you => fan.is_some(),
                },
            ))
        })
        .await
        .unwrap_or_else(problem_page)
}

/// How many of this season's anime the home page shows.
const HOME_SEASON: usize = 8;

/// A season as a page heading says it.
#[derive(Serialize)]
struct SeasonHeading {
    year: u16,
    season: anirec_data::Season,
}

/// `GET /recommendations?user=ID&filters`: a known user's recommendations, explained.
async fn user_page(
    State(state): State<AppState>,
    visitor: Visitor,
    query: Result<Query<UserPageParams>, Problem>,
) -> Response {
    let query = match query {
        Ok(query) => query,
        Err(p) => return problem_page(p),
    };
    state
        .run(move |served| render_user_page(&served, &query, visitor.name()))
        .await
        .unwrap_or_else(problem_page)
}

/// The page of [`user_page`], or the problem to show instead.
fn render_user_page(
    served: &Served,
    query: &Query<UserPageParams>,
    visitor: Option<&str>,
) -> Result<Response, Problem> {
    let Some(user) = &query.params.user else {
        return Err(Problem::bad_param("user", "enter a MyAnimeList user id"));
    };
    let user_id = UserId(parse_id("user", user)?);
    let ask = Ask {
        k: query.params.k.0,
        offset: 0,
        filters: query.filters.check(&served.vocabulary)?,
        explain: true,
        synopsis: Synopsis::Full,
    };
    let profile = served.bundle.known_user(user_id).ok_or_else(|| {
        Problem::not_found(format!(
            "User {user_id} is not one of the {} MyAnimeList fans whose ratings this site learned from. Pick a few favourites or upload your MyAnimeList export on the home page instead.",
            thousands(served.bundle.ratings.n_users() as u64)
        ))
    })?;
    let lists = ask.run(served, &profile);
    let items = RecommendationView::list(&served.bundle, &lists.recs, ask.synopsis);
    let continuing = ContinueView::list(&served.bundle, &lists.continuing, ask.synopsis);
    Ok(render(
        StatusCode::OK,
        "recommendations.html",
        context! {
            version => served.version.clone(),
            visitor,
            user_id => user_id.0,
            rated => profile.state.entries.len(),
            items => v(&items),
            next_offset => lists.next_offset,
            continuing => v(&continuing),
            form => v(FilterForm::new(served, &query.filters)),
        },
    ))
}

/// `POST /fragments/recommendations?filters`: the result cards for a ratings body (the same
/// bodies as `POST /api/v1/recommendations`), for the page's script to put in place.
async fn cards_fragment(
    State(state): State<AppState>,
    query: Query<AskParams>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    fold_in(&state, query, &headers, body, true, |f| {
        let bundle = &f.served.bundle;
        let items = RecommendationView::list(bundle, &f.lists.recs, f.synopsis);
        let continuing = ContinueView::list(bundle, &f.lists.continuing, f.synopsis);
        Ok(render(
            StatusCode::OK,
            "fragment.html",
            context! {
                items => v(&items),
                offset => f.offset,
                next_offset => f.lists.next_offset,
                continuing => v(&continuing),
                subject => v(&f.subject),
                rate => true,
            },
        ))
    })
    .await
}

/// `GET /anime/{id}?by=`: an anime's details and the anime most like it.
async fn anime_page(
    State(state): State<AppState>,
    visitor: Visitor,
    id: Result<PathId<MalId>, Problem>,
    query: Result<Query<AnimePageParams>, Problem>,
) -> Response {
    let (PathId(id), Query { params, .. }) = match id.and_then(|id| Ok((id, query?))) {
        Ok(read) => read,
        Err(p) => return problem_page(p),
    };
    state
        .run(move |served| render_anime_page(&served, id, &params, visitor.name()))
        .await
        .unwrap_or_else(problem_page)
}

/// Similar anime the anime page shows at a time.
const SIMILAR: usize = 12;

/// The page of [`anime_page`], or the problem to show instead.
fn render_anime_page(
    served: &Served,
    id: MalId,
    params: &AnimePageParams,
    visitor: Option<&str>,
) -> Result<Response, Problem> {
    let a = lookup(served, id)?;
    let by = params.by.0;
    let filters = anirec_model::query::Filters {
        include_adult: params.include_adult.0,
        ..Default::default()
    };
    let offset = params.offset.0;
    let page = Page::of(
        served.bundle.similar(a, by, offset + SIMILAR, &filters),
        offset,
        SIMILAR,
    );
    let similar: Vec<SimilarView> = page
        .items
        .into_iter()
        .map(|(j, similarity)| SimilarView {
            anime: Card::of(&served.bundle.catalogue, j),
            similarity,
        })
        .collect();
    let record = &served.bundle.catalogue[a];
    Ok(render(
        StatusCode::OK,
        "anime.html",
        context! {
            version => served.version.clone(),
            visitor,
            anime => v(record),
            card => v(Card::of(&served.bundle.catalogue, a)),
            franchise => v(FranchiseView::of(&served.bundle.catalogue, a)),
            similar => v(&similar),
            offset,
            next_offset => page.next_offset,
            by => v(by),
            story_on => served.bundle.story().is_some(),
            adult => params.include_adult.0,
        },
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn initials_are_the_first_two_words_letters() {
        assert_eq!(super::initials("Frieren: Beyond Journey's End"), "FB");
        assert_eq!(super::initials("[Oshi no Ko]"), "ON");
        assert_eq!(super::initials("Mob Psycho 100"), "MP");
        assert_eq!(super::initials("86"), "8");
        assert_eq!(super::initials("葬送のフリーレン"), "葬");
        assert_eq!(super::initials(" -- "), "?");
    }
}
