//! `/api/v1/users/{id}/similar`: users of the model with a similar taste.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use serde::Serialize;

use super::json;
use super::recommend::known_user;
use anirec_data::UserId;

use crate::params::{Params, segment};
use crate::problem::Problem;
use crate::state::AppState;
use crate::views::SimilarUser;

#[derive(Serialize)]
struct Answer {
    user_id: UserId,
    items: Vec<SimilarUser>,
}

/// `GET /api/v1/users/{id}/similar?k=`: compares against every user, in the compute pool.
pub async fn similar(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
) -> Result<Response, Problem> {
    let params = Params::parse(q.as_deref())?.only(&["k"])?;
    let k = params.k()?;
    let id = segment(id)?;
    state
        .run(move |served| {
            let (user_id, profile) = known_user(&served, &id)?;
            let items = served
                .bundle
                .similar_users(served.user_stats(), &profile, k, Some(user_id))
                .into_iter()
                .map(|(user_id, similarity, common)| SimilarUser {
                    user_id,
                    similarity,
                    common,
                })
                .collect();
            Ok(json(&Answer { user_id, items }))
        })
        .await
}
