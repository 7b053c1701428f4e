//! `/api/v1/users/{id}/similar`: users of the model with a similar taste.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use serde::Serialize;

use super::json;
use super::recommend::known_user;
use crate::params::{Params, segment};
use crate::problem::Problem;
use crate::state::AppState;
use crate::views::SimilarUser;

#[derive(Serialize)]
struct Answer {
    user_id: u32,
    items: Vec<SimilarUser>,
}

/// `GET /api/v1/users/{id}/similar?k=`: compares against every user, so it runs on a blocking
/// thread.
pub async fn similar(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
) -> Result<Response, Problem> {
    let params = Params::parse(q.as_deref())?.only(&["k"])?;
    let k = params.k()?;
    let served = state.ready()?;
    let (user_id, profile) = known_user(&served, &segment(id)?)?;
    let items = tokio::task::spawn_blocking(move || {
        served
            .bundle
            .similar_users(&profile, k, Some(user_id))
            .into_iter()
            .map(|(user_id, similarity, common)| SimilarUser {
                user_id,
                similarity,
                common,
            })
            .collect()
    })
    .await
    .map_err(|e| Problem::internal(format!("the similar-users task failed: {e}")))?;
    Ok(json(&Answer { user_id, items }))
}
