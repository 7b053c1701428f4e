//! Credentials checked and sessions opened, for the API and the sign-in pages alike: an account
//! made ([`register`]), a password verified ([`verified`], rate-limited, an unknown name costing
//! what a wrong password does), a signed-in fan's password confirmed ([`password_confirmed`]),
//! a browser session opened or closed.

use std::net::IpAddr;

use axum::http::HeaderValue;

use anirec_store::secret::SessionToken;
use anirec_store::secret::{hash_password, verify_nothing, verify_password};
use anirec_store::{Account, Password, StoreError, Username};

use crate::auth::{Signed, clear_session_cookie, session_cookie, store_problem};
use crate::problem::Problem;
use crate::state::AppState;

/// Creates an account (the password hashed in the compute pool; sign-ups count against the
/// client address's sign-in limit). 409 naming `username` when it is taken.
pub async fn register(
    state: &AppState,
    ip: Option<IpAddr>,
    username: Username,
    password: Password,
) -> Result<Account, Problem> {
    let store = state.accounts()?;
    let attempt = state.sign_in_limits().attempt(&username, ip)?;
    let hash = state
        .compute()
        .run(move || hash_password(password.expose()).map_err(|e| Problem::internal(e.to_string())))
        .await?;
    match store.create_account(&username, &hash).await {
        Ok(account) => {
            attempt.succeeded();
            Ok(account)
        }
        Err(StoreError::UsernameTaken(name)) => Err(Problem::conflict(format!(
            "the username {name:?} is taken; choose another"
        ))
        .with_param("username")),
        Err(e) => Err(store_problem(e)),
    }
}

/// Checks a username and password (rate-limited; unknown names cost what wrong passwords do).
/// 401 "wrong username or password" for both.
pub async fn verified(
    state: &AppState,
    ip: Option<IpAddr>,
    username: Username,
    password: Password,
) -> Result<Account, Problem> {
    let store = state.accounts()?;
    let attempt = state.sign_in_limits().attempt(&username, ip)?;
    let record = store
        .sign_in_record(&username)
        .await
        .map_err(store_problem)?;
    let account = state
        .compute()
        .run(move || {
            Ok(match record {
                Some((account, hash)) if verify_password(password.expose(), &hash) => Some(account),
                Some(_) => None,
                None => {
                    verify_nothing(password.expose());
                    None
                }
            })
        })
        .await?;
    match account {
        Some(account) => {
            attempt.succeeded();
            Ok(account)
        }
        None => Err(Problem::unauthorized("wrong username or password")),
    }
}

/// Confirms the signed-in account's password (checked in the compute pool, under the limits of
/// signing in: 429 past them); 401 naming `param` when it is wrong.
pub async fn password_confirmed(
    state: &AppState,
    signed: &Signed,
    ip: Option<IpAddr>,
    password: String,
    param: &str,
) -> Result<(), Problem> {
    let username = Username::parse(&signed.account.username)
        .map_err(|e| Problem::internal(format!("a stored username does not parse: {e}")))?;
    let attempt = state.sign_in_limits().attempt(&username, ip)?;
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
        attempt.succeeded();
        Ok(())
    } else {
        Err(Problem::unauthorized("the password is wrong").with_param(param))
    }
}

/// Starts a browser session for an account: the `Set-Cookie` value that carries it.
pub async fn open_session(state: &AppState, account: &Account) -> Result<HeaderValue, Problem> {
    let config = state.config();
    let token = state
        .accounts()?
        .create_session(account.id, config.session_lifetime.as_secs() as i64)
        .await
        .map_err(store_problem)?;
    Ok(session_cookie(
        &token,
        config.session_lifetime,
        config.secure_cookies,
    ))
}

/// Ends a browser session: the `Set-Cookie` value that clears it.
pub async fn close_session(state: &AppState, token: &SessionToken) -> Result<HeaderValue, Problem> {
    state
        .accounts()?
        .end_session(token)
        .await
        .map_err(store_problem)?;
    Ok(clear_session_cookie(state.config().secure_cookies))
}
