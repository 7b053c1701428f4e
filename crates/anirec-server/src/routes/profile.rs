//! A fan's public profile switch: `GET/PUT /api/v1/me/profile`. Off until the fan turns it on;
//! on, their list and picks show at `/u/{username}` ([`crate::public_profile`]).

use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::json;
use crate::auth::{Signed, store_problem};
use crate::json_body::SmallJson;
use crate::openapi::responses::{BadParam, PROBLEM_JSON, SignedIn, SignedInChange, Unsupported};
use crate::problem::Problem;
use crate::state::AppState;

/// Whether the profile is public, as a client sends it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileBody {
    /// Show the list and picks at `/u/{username}` to anyone with the link.
    public: bool,
}

/// The profile switch as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileView {
    /// Whether the list and picks show at `url`.
    public: bool,
    /// The profile's path (`/u/{username}`); it answers 404 while the profile is private.
    url: String,
}

fn view(signed: &Signed, public: bool) -> ProfileView {
    ProfileView {
        public,
        url: profile_path(&signed.account.username),
    }
}

/// The path of a fan's public profile.
pub fn profile_path(username: &str) -> String {
    format!("/u/{username}")
}

/// `GET /api/v1/me/profile`: whether the fan's profile is public, and its link.
#[utoipa::path(
    get,
    path = "/api/v1/me/profile",
    operation_id = "myProfile",
    summary = "Whether the fan's list and picks are public at /u/{username} (off by default), and the link.",
    security(("apiToken" = []), ("sessionCookie" = [])),
    responses(
        (status = 200, description = "The switch and the link.", body = ProfileView),
        SignedIn,
    )
)]
pub async fn get_profile(
    State(state): State<AppState>,
    signed: Signed,
) -> Result<Response, Problem> {
    let public = state
        .accounts()?
        .is_public(signed.account.id)
        .await
        .map_err(store_problem)?
        .unwrap_or(false);
    Ok(json(&view(&signed, public)))
}

/// `PUT /api/v1/me/profile`: makes the fan's profile public or private again.
#[utoipa::path(
    put,
    path = "/api/v1/me/profile",
    operation_id = "setMyProfile",
    summary = "Make the fan's list and picks public at /u/{username}, or private again.",
    security(("apiToken" = []), ("sessionCookie" = [])),
    request_body = ProfileBody,
    responses(
        (status = 200, description = "The switch as stored, and the link.", body = ProfileView),
        (status = 400, response = BadParam),
        (status = 415, response = Unsupported),
        (status = 422, description = "The body is not `{\"public\": true}` or `{\"public\": false}`.", body = Problem, content_type = PROBLEM_JSON),
        SignedInChange,
    )
)]
pub async fn put_profile(
    State(state): State<AppState>,
    signed: Signed,
    SmallJson(body): SmallJson<ProfileBody>,
) -> Result<Response, Problem> {
    state
        .accounts()?
        .set_public(signed.account.id, body.public)
        .await
        .map_err(store_problem)?;
    Ok(json(&view(&signed, body.public)))
}
