//! Accounts and credentials: sign up (`POST /api/v1/accounts`), personal API tokens
//! (`/api/v1/tokens`), browser sessions (`/api/v1/sessions`, the cookie), and the account itself
//! (`/api/v1/me`: who, change password, delete). Passwords are hashed and verified in the
//! compute pool (Argon2id is deliberately slow), every password check (sign-in, a password
//! change, a deletion) is rate-limited per account and per client address, and an unknown
//! username gets the same answer, after the same work, as a wrong password.

use std::net::IpAddr;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use anirec_store::secret::ApiSecret;
use anirec_store::secret::{hash_password, verify_password};
use anirec_store::{ApiToken, Password, TokenId, Username};

use super::json;
use crate::answers::credentials::{close_session, open_session, register, verified};
use crate::auth::{ClientIp, Signed, clear_session_cookie, same_origin, store_problem};
use crate::json_body::SmallJson;
use crate::params::PathId;
use crate::problem::Problem;
use crate::state::AppState;

/// A username and a password, as sign-up and sign-in send them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    username: String,
    password: String,
    /// A name for the API token being made (tokens only).
    #[serde(default)]
    name: Option<String>,
}

/// Longest API token name, in characters.
const MAX_TOKEN_NAME: usize = 100;

impl Credentials {
    /// For sign-up and sign-in: refused (403) when a browser sends it from another site (a
    /// request with an `Origin` that is not this server's), 422 when it names a token, else
    /// [`Credentials::checked`]. `what` is what is being made, for the message.
    fn checked_from_this_site(
        &self,
        headers: &HeaderMap,
        what: &str,
    ) -> Result<(Username, Password), Problem> {
        if headers.contains_key(header::ORIGIN) {
            same_origin(headers)?;
        }
        if self.name.is_some() {
            return Err(Problem::unprocessable(format!(
                "{what} takes no name (only API tokens do)"
            ))
            .with_param("name"));
        }
        self.checked()
    }

    /// The username and password, checked (422 naming the field).
    fn checked(&self) -> Result<(Username, Password), Problem> {
        let username = Username::parse(&self.username)
            .map_err(|e| Problem::unprocessable(e).with_param("username"))?;
        let password = Password::parse(&self.password)
            .map_err(|e| Problem::unprocessable(e).with_param("password"))?;
        Ok((username, password))
    }
}

fn created(body: impl Serialize) -> Response {
    let mut response = json(&body);
    *response.status_mut() = StatusCode::CREATED;
    response
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /api/v1/accounts` `{"username", "password"}`: 201 with the account, 409 when the name
/// is taken.
pub async fn sign_up(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    SmallJson(body): SmallJson<Credentials>,
) -> Result<Response, Problem> {
    let (username, password) = body.checked_from_this_site(&headers, "an account")?;
    let account = register(&state, ip, username, password).await?;
    Ok(created(account))
}

#[derive(Serialize)]
struct NewToken {
    #[serde(flatten)]
    info: ApiToken,
    /// The secret: shown this once.
    token: ApiSecret,
}

/// `POST /api/v1/tokens` `{"username", "password", "name"?}`: a personal API token, shown once.
pub async fn create_token(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    SmallJson(body): SmallJson<Credentials>,
) -> Result<Response, Problem> {
    let name = body.name.clone().unwrap_or_else(|| "API token".to_owned());
    if name.trim().is_empty() || name.chars().count() > MAX_TOKEN_NAME {
        return Err(Problem::unprocessable(format!(
            "a token's name has 1 to {MAX_TOKEN_NAME} characters"
        ))
        .with_param("name"));
    }
    let (username, password) = body.checked()?;
    let account = verified(&state, ip, username, password).await?;
    let (info, token) = state
        .accounts()?
        .create_token(account.id, &name)
        .await
        .map_err(store_problem)?;
    Ok(created(NewToken { info, token }))
}

#[derive(Serialize)]
struct Tokens {
    items: Vec<ApiToken>,
}

/// `GET /api/v1/tokens`: the signed-in account's tokens (never their secrets).
pub async fn list_tokens(
    State(state): State<AppState>,
    signed: Signed,
) -> Result<Response, Problem> {
    let items = state
        .accounts()?
        .tokens(signed.account.id)
        .await
        .map_err(store_problem)?;
    Ok(json(&Tokens { items }))
}

/// `DELETE /api/v1/tokens/{id}`: revokes one of the account's tokens (404 for any other id).
pub async fn revoke_token(
    State(state): State<AppState>,
    PathId(id): PathId<TokenId>,
    signed: Signed,
) -> Result<Response, Problem> {
    let revoked = state
        .accounts()?
        .revoke_token(signed.account.id, id)
        .await
        .map_err(store_problem)?;
    if revoked {
        Ok(no_content())
    } else {
        Err(Problem::not_found(format!("you have no token {}", id.0)))
    }
}

/// `POST /api/v1/sessions` `{"username", "password"}`: signs a browser in (the session cookie);
/// a request from another site is refused.
pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    SmallJson(body): SmallJson<Credentials>,
) -> Result<Response, Problem> {
    let (username, password) = body.checked_from_this_site(&headers, "a session")?;
    let account = verified(&state, ip, username, password).await?;
    let cookie = open_session(&state, &account).await?;
    let mut response = json(&account);
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// `DELETE /api/v1/sessions`: signs the browser out (the session ends on the server too).
pub async fn sign_out(State(state): State<AppState>, signed: Signed) -> Result<Response, Problem> {
    let cookie = match &signed.session {
        Some(token) => close_session(&state, token).await?,
        None => clear_session_cookie(state.config().secure_cookies),
    };
    let mut response = no_content();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// `GET /api/v1/me`: the signed-in account.
pub async fn me(signed: Signed) -> Response {
    json(&signed.account)
}

/// A password change.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    current: String,
    new: String,
}

/// Checks the signed-in account's password in the compute pool (401 naming `param` when wrong),
/// under the same limits as signing in (429 past them).
async fn check_password(
    state: &AppState,
    signed: &Signed,
    ip: Option<IpAddr>,
    password: String,
    param: &str,
) -> Result<(), Problem> {
    let key = signed.account.username.to_ascii_lowercase();
    state.sign_in_limits().admit(&key, ip)?;
    let hash = state
        .accounts()?
        .password_hash(signed.account.id)
        .await
        .map_err(store_problem)?
        .unwrap_or_default();
    let right = state
        .compute()
        .run(move || Ok(verify_password(&password, &hash)))
        .await?;
    if right {
        state.sign_in_limits().succeeded(&key);
        Ok(())
    } else {
        Err(Problem::unauthorized("the password is wrong").with_param(param))
    }
}

/// `PUT /api/v1/me/password` `{"current", "new"}`: changes the password, ends every session of
/// the account and revokes all its API tokens.
pub async fn change_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    signed: Signed,
    SmallJson(body): SmallJson<NewPassword>,
) -> Result<Response, Problem> {
    let new =
        Password::parse(&body.new).map_err(|e| Problem::unprocessable(e).with_param("new"))?;
    check_password(&state, &signed, ip, body.current, "current").await?;
    let hash = state
        .compute()
        .run(move || hash_password(new.expose()).map_err(|e| Problem::internal(e.to_string())))
        .await?;
    state
        .accounts()?
        .set_password(signed.account.id, &hash)
        .await
        .map_err(store_problem)?;
    let mut response = no_content();
    response.headers_mut().insert(
        header::SET_COOKIE,
        clear_session_cookie(state.config().secure_cookies),
    );
    Ok(response)
}

/// An account deletion, confirmed by the password.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Confirm {
    password: String,
}

/// `DELETE /api/v1/me` `{"password"}`: deletes the account, its list, sessions and tokens.
pub async fn delete_account(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    signed: Signed,
    SmallJson(body): SmallJson<Confirm>,
) -> Result<Response, Problem> {
    check_password(&state, &signed, ip, body.password, "password").await?;
    state
        .accounts()?
        .delete_account(signed.account.id)
        .await
        .map_err(store_problem)?;
    let mut response = no_content();
    response.headers_mut().insert(
        header::SET_COOKIE,
        clear_session_cookie(state.config().secure_cookies),
    );
    Ok(response)
}
