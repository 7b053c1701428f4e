//! Accounts and credentials: sign up (`POST /api/v1/accounts`), personal API tokens
//! (`/api/v1/tokens`), browser sessions (`/api/v1/sessions`, the cookie), and the account itself
//! (`/api/v1/me`: who, change password, delete). Passwords are hashed and verified in the
//! compute pool (Argon2id is deliberately slow), every password check (sign-in, a password
//! change, a deletion) is rate-limited per account and per client address, and an unknown
//! username gets the same answer, after the same work, as a wrong password.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::schema::{ObjectBuilder, Type};

use anirec_store::account::{PASSWORD_CHARS, USERNAME_CHARS};
use anirec_store::secret::ApiSecret;
use anirec_store::secret::hash_password;
use anirec_store::{Account, ApiToken, Password, TokenId, Username};

use super::json;
use crate::answers::credentials::{
    close_session, open_session, password_confirmed, register, verified,
};
use crate::auth::{ClientIp, Signed, clear_session_cookie, same_origin, store_problem};
use crate::json_body::SmallJson;
use crate::openapi::responses::{
    AccountsUnavailable, BadParam, JsonBody, NotFoundForAccount, OtherSite, PROBLEM_JSON, SignedIn,
    SignedInChange, TooManyPasswordChecks, TooManySignIns,
};
use crate::params::{PathId, value_schema};
use crate::problem::Problem;
use crate::state::AppState;

/// A username as the document shows it: the rules [`Username::parse`] checks.
pub struct UsernameText;

value_schema!(UsernameText as "Username" => ObjectBuilder::new()
    .schema_type(Type::String)
    .min_length(Some(*USERNAME_CHARS.start()))
    .max_length(Some(*USERNAME_CHARS.end()))
    .pattern(Some("^[A-Za-z0-9][A-Za-z0-9_.-]*$")));

/// A password as the document shows it: the length [`Password::parse`] checks.
pub struct PasswordText;

value_schema!(PasswordText as "Password" => ObjectBuilder::new()
    .schema_type(Type::String)
    .min_length(Some(*PASSWORD_CHARS.start()))
    .max_length(Some(*PASSWORD_CHARS.end())));

/// A username and a password, as sign-up and sign-in send them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// Letters, digits, '_', '-' and '.', starting with a letter or digit; unique without regard
    /// to case.
    #[schema(value_type = UsernameText)]
    username: String,
    /// 8 to 256 characters.
    #[schema(value_type = PasswordText)]
    password: String,
}

/// A username and a password, and a name for the API token they make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The account's username.
    #[schema(value_type = UsernameText)]
    username: String,
    /// Its password.
    #[schema(value_type = PasswordText)]
    password: String,
    /// What the token is for (default "API token").
    #[schema(min_length = 1, max_length = 100, pattern = r"[^\s\u0085]")]
    name: Option<String>,
}

/// Longest API token name, in characters.
const MAX_TOKEN_NAME: usize = 100;

impl Credentials {
    /// For sign-up and sign-in: refused (403) when a browser sends it from another site (a
    /// request with an `Origin` that is not this server's), else [`checked`].
    fn checked_from_this_site(&self, headers: &HeaderMap) -> Result<(Username, Password), Problem> {
        if headers.contains_key(header::ORIGIN) {
            same_origin(headers)?;
        }
        checked(&self.username, &self.password)
    }
}

/// A username and password as sent, checked (422 naming the field).
fn checked(username: &str, password: &str) -> Result<(Username, Password), Problem> {
    let username = Username::parse(username)
        .map_err(|e| Problem::unprocessable(e.to_string()).with_param("username"))?;
    let password = Password::parse(password)
        .map_err(|e| Problem::unprocessable(e.to_string()).with_param("password"))?;
    Ok((username, password))
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
#[utoipa::path(
    post,
    path = "/api/v1/accounts",
    operation_id = "signUp",
    summary = "Create an account.",
    request_body = Credentials,
    responses(
        (status = 201, description = "Created.", body = Account),
        (status = 403, response = OtherSite),
        (status = 409, description = "The username is taken (without regard to case).", body = Problem, content_type = PROBLEM_JSON),
        (status = 429, response = TooManySignIns),
        (status = 503, response = AccountsUnavailable),
        JsonBody,
    )
)]
pub async fn sign_up(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    SmallJson(body): SmallJson<Credentials>,
) -> Result<Response, Problem> {
    let (username, password) = body.checked_from_this_site(&headers)?;
    let account = register(&state, ip, username, password).await?;
    Ok(created(account))
}

/// A new API token.
#[derive(Serialize, ToSchema)]
struct NewToken {
    #[serde(flatten)]
    info: ApiToken,
    /// The secret, shown this once: send it as `Authorization: Bearer TOKEN`.
    #[schema(value_type = String, pattern = "^[0-9a-f]{64}$")]
    token: ApiSecret,
}

/// `POST /api/v1/tokens` `{"username", "password", "name"?}`: a personal API token, shown once.
#[utoipa::path(
    post,
    path = "/api/v1/tokens",
    operation_id = "createToken",
    summary = "Make a personal API token (shown once) with a username and password.",
    request_body = TokenRequest,
    responses(
        (status = 201, description = "The token; store it, it is not shown again.", body = NewToken),
        (status = 429, response = TooManySignIns),
        SignedIn,
        JsonBody,
    )
)]
pub async fn create_token(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    SmallJson(body): SmallJson<TokenRequest>,
) -> Result<Response, Problem> {
    let name = body.name.clone().unwrap_or_else(|| "API token".to_owned());
    if name.trim().is_empty() || name.chars().count() > MAX_TOKEN_NAME {
        return Err(Problem::unprocessable(format!(
            "a token's name has 1 to {MAX_TOKEN_NAME} characters"
        ))
        .with_param("name"));
    }
    let (username, password) = checked(&body.username, &body.password)?;
    let account = verified(&state, ip, username, password).await?;
    let (info, token) = state
        .accounts()?
        .create_token(account.id, &name)
        .await
        .map_err(store_problem)?;
    Ok(created(NewToken { info, token }))
}

/// An account's API tokens.
#[derive(Serialize, ToSchema)]
struct Tokens {
    /// The tokens, oldest first.
    items: Vec<ApiToken>,
}

/// `GET /api/v1/tokens`: the signed-in account's tokens (never their secrets).
#[utoipa::path(
    get,
    path = "/api/v1/tokens",
    operation_id = "listTokens",
    summary = "The signed-in account's API tokens (never their secrets).",
    security(("apiToken" = []), ("sessionCookie" = [])),
    responses(
        (status = 200, description = "The tokens, oldest first.", body = Tokens),
        SignedIn,
    )
)]
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
#[utoipa::path(
    delete,
    path = "/api/v1/tokens/{id}",
    operation_id = "revokeToken",
    summary = "Revoke one of the account's API tokens.",
    security(("apiToken" = []), ("sessionCookie" = [])),
    params(PathId<TokenId>),
    responses(
        (status = 204, description = "Revoked."),
        (status = 400, response = BadParam),
        (status = 404, response = NotFoundForAccount),
        SignedInChange,
    )
)]
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
#[utoipa::path(
    post,
    path = "/api/v1/sessions",
    operation_id = "signIn",
    summary = "Sign a browser in: sets the HttpOnly session cookie.",
    request_body = Credentials,
    responses(
        (status = 200, description = "Signed in.", body = Account, headers(("Set-Cookie" = String, description = "The session cookie (HttpOnly, SameSite=Lax)."))),
        (status = 403, response = OtherSite),
        (status = 429, response = TooManySignIns),
        SignedIn,
        JsonBody,
    )
)]
pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    SmallJson(body): SmallJson<Credentials>,
) -> Result<Response, Problem> {
    let (username, password) = body.checked_from_this_site(&headers)?;
    let account = verified(&state, ip, username, password).await?;
    let cookie = open_session(&state, &account).await?;
    let mut response = json(&account);
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// `DELETE /api/v1/sessions`: signs the browser out (the session ends on the server too).
#[utoipa::path(
    delete,
    path = "/api/v1/sessions",
    operation_id = "signOut",
    summary = "Sign out: ends the session on the server and clears the cookie.",
    security(("apiToken" = []), ("sessionCookie" = [])),
    responses(
        (status = 204, description = "Signed out."),
        SignedInChange,
    )
)]
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
#[utoipa::path(
    get,
    path = "/api/v1/me",
    operation_id = "me",
    summary = "The signed-in account.",
    security(("apiToken" = []), ("sessionCookie" = [])),
    responses(
        (status = 200, description = "The account.", body = Account),
        SignedIn,
    )
)]
pub async fn me(signed: Signed) -> Response {
    json(&signed.account)
}

/// A password change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    /// The password now.
    #[schema(max_length = 1024)]
    current: String,
    /// The new password: 8 to 256 characters.
    #[schema(value_type = PasswordText)]
    new: String,
}

/// `PUT /api/v1/me/password` `{"current", "new"}`: changes the password, ends every session of
/// the account and revokes all its API tokens.
#[utoipa::path(
    put,
    path = "/api/v1/me/password",
    operation_id = "changePassword",
    summary = "Change the password; every session of the account ends and every API token of it is revoked.",
    security(("apiToken" = []), ("sessionCookie" = [])),
    request_body = NewPassword,
    responses(
        (status = 204, description = "Changed."),
        (status = 429, response = TooManyPasswordChecks),
        SignedInChange,
        JsonBody,
    )
)]
pub async fn change_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    signed: Signed,
    SmallJson(body): SmallJson<NewPassword>,
) -> Result<Response, Problem> {
    let new = Password::parse(&body.new)
        .map_err(|e| Problem::unprocessable(e.to_string()).with_param("new"))?;
    password_confirmed(&state, &signed, ip, body.current, "current").await?;
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
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Confirm {
    /// The account's password.
    #[schema(max_length = 1024)]
    password: String,
}

/// `DELETE /api/v1/me` `{"password"}`: deletes the account, its list, sessions and tokens.
#[utoipa::path(
    delete,
    path = "/api/v1/me",
    operation_id = "deleteAccount",
    summary = "Delete the account with its list, sessions and tokens (confirmed by the password).",
    security(("apiToken" = []), ("sessionCookie" = [])),
    request_body = Confirm,
    responses(
        (status = 204, description = "Deleted."),
        (status = 429, response = TooManyPasswordChecks),
        SignedInChange,
        JsonBody,
    )
)]
pub async fn delete_account(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    signed: Signed,
    SmallJson(body): SmallJson<Confirm>,
) -> Result<Response, Problem> {
    password_confirmed(&state, &signed, ip, body.password, "password").await?;
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
