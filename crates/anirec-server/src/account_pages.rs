//! The account pages: sign up, sign in and sign out as HTML forms (the session cookie is set and
//! cleared here, and a form posted from another site is refused), and "My list" — the fan's
//! recommendations from their stored list, their plan-to-watch ranked, their entries to edit in
//! place, and import and export. The page script edits the list through the JSON API.

use axum::Router;
use std::net::IpAddr;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::context;
use serde::{Deserialize, Serialize};

use anirec_data::Catalogue;
use anirec_data::{Score, WatchStatus};
use anirec_store::list::title_of;
use anirec_store::{Account, ListEntry, ListTitle, Password, Username};

use crate::answers::ask::{Ask, AskParams};
use crate::answers::credentials::{close_session, open_session, register, verified};
use crate::answers::fan::{plan_ranked, recommend_for};
use crate::answers::profiles::{profile, taste};
use crate::auth::{ClientIp, Visitor, same_origin, store_problem};
use crate::pages::{problem_page, render, v};
use crate::params::{Query, Takes};
use crate::problem::Problem;
use crate::routes::profile::profile_path;
use crate::state::AppState;
use crate::views::{Card, ContinueView, PlannedView, RecommendationView, Synopsis};

/// The account routes of the pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/signin", get(sign_in_page).post(sign_in))
        .route("/signup", get(sign_up_page).post(sign_up))
        .route("/signout", post(sign_out))
        .route("/me", get(my_list))
        .route("/fragments/me/recommendations", get(my_cards))
}

/// The statuses a list shows, with their labels.
const STATUSES: [(WatchStatus, &str); 5] = [
    (WatchStatus::Watching, "Watching"),
    (WatchStatus::Completed, "Completed"),
    (WatchStatus::OnHold, "On hold"),
    (WatchStatus::Dropped, "Dropped"),
    (WatchStatus::PlanToWatch, "Plan to watch"),
];

/// What the sign-in and sign-up forms post.
#[derive(Debug, Deserialize)]
pub struct AccountForm {
    username: String,
    password: String,
}

/// Which of the two forms.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Which {
    SignIn,
    SignUp,
}

/// The form page, with an error and the username to show again.
fn form_page(which: Which, status: StatusCode, error: Option<&str>, username: &str) -> Response {
    let (heading, action) = match which {
        Which::SignIn => ("Sign in", "/signin"),
        Which::SignUp => ("Create an account", "/signup"),
    };
    render(
        status,
        "signin.html",
        context! {
            heading, action, error, username,
            signup => which == Which::SignUp,
        },
    )
}

async fn sign_in_page(visitor: Visitor) -> Response {
    match visitor.account {
        Some(_) => Redirect::to("/me").into_response(),
        None => form_page(Which::SignIn, StatusCode::OK, None, ""),
    }
}

async fn sign_up_page(visitor: Visitor) -> Response {
    match visitor.account {
        Some(_) => Redirect::to("/me").into_response(),
        None => form_page(Which::SignUp, StatusCode::OK, None, ""),
    }
}

/// Checks a posted form: from this site, with a valid username and password.
fn checked(
    headers: &HeaderMap,
    form: Result<Form<AccountForm>, FormRejection>,
) -> Result<(Username, Password), (Problem, String)> {
    let Form(form) = form.map_err(|e| {
        (
            Problem::unprocessable(format!("the form cannot be read: {e}")),
            String::new(),
        )
    })?;
    let name = form.username.clone();
    same_origin(headers).map_err(|p| (p, name.clone()))?;
    let username = Username::parse(&form.username)
        .map_err(|e| (Problem::unprocessable(e.to_string()), name.clone()))?;
    let password = Password::parse(&form.password)
        .map_err(|e| (Problem::unprocessable(e.to_string()), name.clone()))?;
    Ok((username, password))
}

/// Signed in: the session cookie, and on to "My list".
async fn signed_in(state: &AppState, account: &Account) -> Result<Response, Problem> {
    let cookie = open_session(state, account).await?;
    let mut response = Redirect::to("/me").into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// `POST /signin` (a form): a session, or the form again with what was wrong.
async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    form: Result<Form<AccountForm>, FormRejection>,
) -> Response {
    submit(&state, &headers, ip, form, Which::SignIn).await
}

/// `POST /signup` (a form): the account and its first session, or the form again.
async fn sign_up(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    form: Result<Form<AccountForm>, FormRejection>,
) -> Response {
    submit(&state, &headers, ip, form, Which::SignUp).await
}

/// A posted form: checked, then the account verified (sign in) or made (sign up), then a
/// session; or the form again with what was wrong and the username kept.
async fn submit(
    state: &AppState,
    headers: &HeaderMap,
    ip: Option<IpAddr>,
    form: Result<Form<AccountForm>, FormRejection>,
    which: Which,
) -> Response {
    let outcome = match checked(headers, form) {
        Ok((username, password)) => {
            let name = username.as_str().to_owned();
            let account = match which {
                Which::SignIn => verified(state, ip, username, password).await,
                Which::SignUp => register(state, ip, username, password).await,
            };
            match account {
                Ok(account) => signed_in(state, &account).await.map_err(|p| (p, name)),
                Err(p) => Err((p, name)),
            }
        }
        Err(e) => Err(e),
    };
    outcome.unwrap_or_else(|(p, name)| form_page(which, p.status, Some(&p.detail), &name))
}

/// `POST /signout`: ends the session (from this site only) and goes home.
async fn sign_out(State(state): State<AppState>, headers: HeaderMap, visitor: Visitor) -> Response {
    if let Err(p) = same_origin(&headers) {
        return problem_page(p);
    }
    let mut response = Redirect::to("/").into_response();
    if let Some(token) = &visitor.session {
        match close_session(&state, token).await {
            Ok(cookie) => {
                response.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            Err(p) => return problem_page(p),
        }
    }
    response
}

/// The query of "My list": an optional status to show.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MyListParams {
    /// Only entries with this status.
    pub(crate) status: Option<WatchStatus>,
}

impl Takes for MyListParams {
    const FORM: bool = true;
}

/// The rows of a list the page shows, of one status or all; each titled from the catalogue, or
/// from the export for an anime the catalogue lacks yet.
pub(crate) fn list_rows<'a>(
    catalogue: &'a Catalogue,
    list: &[ListEntry],
    titles: &[ListTitle],
    status: Option<WatchStatus>,
) -> Vec<Row<'a>> {
    list.iter()
        .filter(|e| status.is_none_or(|w| e.status == w))
        .map(|e| {
            let known = catalogue.index_of(e.anime_id);
            Row {
                anime_id: e.anime_id.0,
                title: match known {
                    Some(a) => Some(catalogue[a].shown_title().to_owned()),
                    None => title_of(titles, e.anime_id).map(str::to_owned),
                },
                card: known.map(|a| Card::with(catalogue, a, Synopsis::None)),
                score: e.score,
                status: e.status.name(),
                episodes: e.episodes,
            }
        })
        .collect()
}

/// Each status of a list with its label and how many entries have it (the list's tabs).
pub(crate) fn status_counts(list: &[ListEntry]) -> [(&'static str, &'static str, usize); 5] {
    STATUSES.map(|(s, label)| {
        let count = list.iter().filter(|e| e.status == s).count();
        (s.name(), label, count)
    })
}

/// One row of the list as the page shows it.
#[derive(Serialize)]
pub(crate) struct Row<'a> {
    anime_id: u32,
    title: Option<String>,
    /// The anime's card (for its cover), when the catalogue has it; an entry without one is an
    /// import's anime the catalogue lacks yet, shown with the export's title.
    card: Option<Card<'a>>,
    score: Score,
    status: &'static str,
    episodes: u32,
}

/// `GET /me?status=`: "My list" (signed-in visitors; others go to the sign-in page).
async fn my_list(
    State(state): State<AppState>,
    visitor: Visitor,
    query: Result<Query<MyListParams>, Problem>,
) -> Response {
    let Some(account) = visitor.account.clone() else {
        return Redirect::to("/signin").into_response();
    };
    let status = match query {
        Ok(q) => q.params.status,
        Err(p) => return problem_page(p),
    };
    let store = match state.accounts() {
        Ok(store) => store,
        Err(p) => return problem_page(p),
    };
    let (taste, tokens, titles, public) = match tokio::join!(
        taste(&state, account.id),
        store.tokens(account.id),
        store.titles(account.id),
        store.is_public(account.id),
    ) {
        (Ok(taste), Ok(tokens), Ok(titles), Ok(public)) => {
            (taste, tokens, titles, public.unwrap_or(false))
        }
        (Err(p), ..) => return problem_page(p),
        (_, Err(e), ..) | (_, _, Err(e), _) | (.., Err(e)) => {
            return problem_page(store_problem(e));
        }
    };
    let name = account.username.clone();
    let profile_url = profile_path(&name);
    state
        .run(move |served| {
            let catalogue = &served.bundle.catalogue;
            let ask = Ask::first_page(12, Synopsis::Full);
            let profile = profile(&served, &taste.list);
            let lists = recommend_for(&served, &profile, &taste.hidden, &ask);
            let items = RecommendationView::list(&served.bundle, &lists.recs, ask.synopsis);
            let continuing = ContinueView::list(&served.bundle, &lists.continuing, ask.synopsis);
            let planned: Vec<PlannedView> = plan_ranked(&served, &profile, &taste.list, 20)
                .into_iter()
                .map(|p| PlannedView::of(catalogue, p.anime, p.predicted_rating))
                .collect();
            let entries = list_rows(catalogue, &taste.list, &titles, status);
            Ok(render(
                StatusCode::OK,
                "me.html",
                context! {
                    version => served.version.clone(),
                    visitor => name,
                    items => v(&items),
                    next_offset => lists.next_offset,
                    continuing => v(&continuing),
                    planned => v(&planned),
                    entries => v(&entries),
                    total => taste.list.len(),
                    statuses => v(status_counts(&taste.list)),
                    tokens => v(&tokens),
                    public,
                    profile_url,
                    status => status.map(WatchStatus::name),
                },
            ))
        })
        .await
        .unwrap_or_else(problem_page)
}

/// `GET /fragments/me/recommendations?k=&filters`: the signed-in fan's cards, for the page
/// script to put in place after the list changed.
async fn my_cards(
    State(state): State<AppState>,
    visitor: Visitor,
    query: Query<AskParams>,
) -> Result<Response, Problem> {
    let Some(account) = visitor.account else {
        return Err(Problem::unauthorized("sign in first"));
    };
    let served = state.ready()?;
    let mut ask = Ask::of(&query, &served)?;
    ask.explain = true;
    let taste = taste(&state, account.id).await?;
    state
        .run(move |served| {
            let profile = profile(&served, &taste.list);
            let ratings = profile.state.entries.len();
            let lists = recommend_for(&served, &profile, &taste.hidden, &ask);
            let items = RecommendationView::list(&served.bundle, &lists.recs, ask.synopsis);
            let continuing = ContinueView::list(&served.bundle, &lists.continuing, ask.synopsis);
            let subject = context! { ratings, notes => Vec::<String>::new() };
            Ok(render(
                StatusCode::OK,
                "fragment.html",
                context! {
                    items => v(&items),
                    offset => ask.offset,
                    next_offset => lists.next_offset,
                    continuing => v(&continuing),
                    subject,
                    rate => true,
                },
            ))
        })
        .await
}
