//! A fan's public profile, `/u/{username}`: their picks (the top of their recommendations) and
//! their list by status, shown only while they keep it public (`PUT /api/v1/me/profile`).
//! Nothing private is shown: not the anime they marked not interested, not their tokens, not
//! their account. A private profile and a missing account answer the same 404, so nobody can
//! learn which usernames exist.

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use minijinja::context;

use anirec_store::Username;

use crate::account_pages::{MyListParams, list_rows, status_counts};
use crate::answers::ask::Ask;
use crate::answers::fan::recommend_for;
use crate::answers::profiles::{profile, taste};
use crate::auth::{Visitor, store_problem};
use crate::pages::{not_found_page, problem_page, render, v};
use crate::params::Query;
use crate::problem::Problem;
use crate::routes::profile::profile_path;
use crate::state::AppState;
use crate::views::{RecommendationView, Synopsis};

/// Picks a public profile shows.
const PICKS: usize = 10;

/// The public profile route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/u/{username}", get(public_profile))
}

/// `GET /u/{username}?status=`: a public profile, or the same 404 for a private one and none.
async fn public_profile(
    State(state): State<AppState>,
    visitor: Visitor,
    name: Result<Path<String>, PathRejection>,
    query: Result<Query<MyListParams>, Problem>,
) -> Response {
    let name = name.map(|p| p.0).unwrap_or_default();
    let missing = || not_found_page(&format!("There is no public profile for {name}."));
    let status = match query {
        Ok(q) => q.params.status,
        Err(p) => return problem_page(p),
    };
    let Ok(username) = Username::parse(&name) else {
        return missing();
    };
    let store = match state.accounts() {
        Ok(store) => store,
        Err(p) => return problem_page(p),
    };
    let account = match store.public_account(&username).await {
        Ok(Some(account)) => account,
        Ok(None) => return missing(),
        Err(e) => return problem_page(store_problem(e)),
    };
    let (taste, titles) = match tokio::join!(taste(&state, account.id), store.titles(account.id)) {
        (Ok(taste), Ok(titles)) => (taste, titles),
        (Err(p), _) => return problem_page(p),
        (_, Err(e)) => return problem_page(store_problem(e)),
    };
    let own = visitor.name() == Some(account.username.as_str());
    let visitor = visitor.name().map(str::to_owned);
    let mut page = state
        .run(move |served| {
            // Without reasons: they speak to the fan whose list it is ("because you rated").
            let mut ask = Ask::first_page(PICKS, Synopsis::Short);
            ask.explain = false;
            let profile = profile(&served, &taste.list);
            let lists = recommend_for(&served, &profile, &taste.hidden, &ask);
            let catalogue = &served.bundle.catalogue;
            Ok(render(
                StatusCode::OK,
                "profile.html",
                context! {
                    version => served.version.clone(),
                    visitor,
                    owner => account.username,
                    own,
                    url => profile_path(&name),
                    picks => v(RecommendationView::list(&served.bundle, &lists.recs, ask.synopsis)),
                    entries => v(list_rows(catalogue, &taste.list, &titles, status)),
                    total => taste.list.len(),
                    statuses => v(status_counts(&taste.list)),
                    status => status.map(|s| s.name()),
                },
            ))
        })
        .await
        .unwrap_or_else(problem_page);
    // Its owner may make it private at any moment: no copy of it is kept anywhere.
    page.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    page
}
