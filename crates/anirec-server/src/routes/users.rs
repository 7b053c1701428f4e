//! `/api/v1/users/{id}/similar`: users of the model with a similar taste.

use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use anirec_data::UserId;

use super::json;
use crate::answers::profiles::known_user;
use crate::params::{K, PathId, Query, Takes};
use crate::problem::Problem;
use crate::state::AppState;
use crate::views::SimilarUser;

/// The query of `/api/v1/users/{id}/similar`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SimilarUsersParams {
    /// How many.
    k: K,
}

impl Takes for SimilarUsersParams {}

#[derive(Serialize)]
struct Answer {
    user_id: UserId,
    items: Vec<SimilarUser>,
}

/// `GET /api/v1/users/{id}/similar?k=`: compares against every user, in the compute pool.
pub async fn similar(
    State(state): State<AppState>,
    PathId(user_id): PathId<UserId>,
    query: Query<SimilarUsersParams>,
) -> Result<Response, Problem> {
    let k = query.params.k.0;
    state
        .run(move |served| {
            let profile = known_user(&served, user_id)?;
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
