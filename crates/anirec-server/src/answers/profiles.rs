//! Whom an answer is for, as a profile of the served model: a user the model knows
//! ([`known_user`]), a received list folded in ([`read_profile`], [`fold_in`]), or a signed-in
//! fan's stored list ([`taste`], [`profile`]).

use std::sync::Arc;

use axum::body::Body;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Serialize;

use anirec_data::UserId;
use anirec_model::list_use::ListUse;
use anirec_model::profile::Profile;
use anirec_model::query::Listed;
use anirec_store::{AccountId, ListEntry, Taste};

use super::ask::{Ask, AskParams, Lists};
use crate::auth::store_problem;
use crate::params::Query;
use crate::problem::Problem;
use crate::state::{AppState, Served};
use crate::upload::Upload;
use crate::views::Synopsis;

/// Who the recommendations are for.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Subject {
    /// The known user they started from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    /// Ratings the profile holds.
    pub ratings: usize,
    /// What of the request's list was used, and why not the rest (requests with a list only).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = ListUse)]
    pub list: Option<ListUse>,
    /// The same in sentences a fan can read (empty when everything was used).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The profile of a known user, or 404.
pub fn known_user(served: &Served, id: UserId) -> Result<Profile, Problem> {
    served.bundle.known_user(id).ok_or_else(|| {
        Problem::not_found(format!(
            "user {id} is not in the model; POST their ratings to /api/v1/recommendations instead"
        ))
    })
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
    /// How many of the best the discovery list skipped (the pages before it).
    pub offset: usize,
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
                offset: ask.offset,
            })
        })
        .await
}

/// A fan's stored list folded into the served model (no retraining).
pub fn profile(served: &Served, list: &[ListEntry]) -> Profile {
    let listed: Vec<Listed> = list
        .iter()
        .map(|e| Listed {
            mal_id: e.anime_id,
            score: e.score,
            status: Some(e.status),
        })
        .collect();
    served.bundle.fold_in(&listed).0
}

/// Reads a fan's [`Taste`] from the database.
pub async fn taste(state: &AppState, account: AccountId) -> Result<Taste, Problem> {
    state
        .accounts()?
        .taste(account)
        .await
        .map_err(store_problem)
}
