//! Who is asking: [`Signed`], the extractor of endpoints that need an account — a personal API
//! token (`Authorization: Bearer`) or a browser session (the `anirec_session` cookie: random,
//! `HttpOnly`, `SameSite=Lax`, `Secure` behind HTTPS, stored only hashed). A request that a
//! cookie authenticates and that changes state must come from this site: its `Origin` must be
//! this server's, else 403 (no cross-site request forgery). Also the session cookie itself
//! ([`session_cookie`], [`clear_session_cookie`]); the rate limits on password checks are
//! [`crate::sign_in_limits`]'s.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use anirec_store::Account;
use anirec_store::secret::{ApiSecret, SessionToken};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};

use crate::problem::Problem;
use crate::state::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "anirec_session";

/// The account a request acts for, and how it proved it.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The account.
    pub account: Account,
    /// The session token, when a cookie authenticated the request (to sign it out).
    pub session: Option<SessionToken>,
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Signed, Problem> {
        let store = state.accounts()?;
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .and_then(|t| ApiSecret::parse(t.trim()))
                .ok_or_else(|| {
                    Problem::unauthorized("the Authorization header holds no API token")
                })?;
            let account = store
                .token_account(&token)
                .await
                .map_err(store_problem)?
                .ok_or_else(|| {
                    Problem::unauthorized("the API token is not valid (revoked or unknown)")
                })?;
            return Ok(Signed {
                account,
                session: None,
            });
        }
        let Some(token) = session_token(&parts.headers) else {
            return Err(Problem::unauthorized(
                "sign in first: send an API token as Authorization: Bearer TOKEN, or the \
                 session cookie of a browser",
            ));
        };
        if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
            same_origin(&parts.headers)?;
        }
        let account = store
            .session_account(&token)
            .await
            .map_err(store_problem)?
            .ok_or_else(|| Problem::unauthorized("the session has ended; sign in again"))?;
        Ok(Signed {
            account,
            session: Some(token),
        })
    }
}

/// The account of a page request's session cookie, if it has a live one (pages show who is
/// signed in; without a database or a session it is `None`, never an error).
#[derive(Debug, Clone, Default)]
pub struct Visitor {
    /// The signed-in account.
    pub account: Option<Account>,
    /// Its session token.
    pub session: Option<SessionToken>,
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Visitor, Self::Rejection> {
        let (Ok(store), Some(token)) = (state.accounts(), session_token(&parts.headers)) else {
            return Ok(Visitor::default());
        };
        let account = store.session_account(&token).await.ok().flatten();
        Ok(Visitor {
            session: account.as_ref().map(|_| token),
            account,
        })
    }
}

impl Visitor {
    /// The signed-in username, for the page header.
    pub fn name(&self) -> Option<&str> {
        self.account.as_ref().map(|a| a.username.as_str())
    }
}

/// The session token of the request's cookies, if it carries one.
pub fn session_token(headers: &HeaderMap) -> Option<SessionToken> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .and_then(|(_, value)| SessionToken::parse(value))
}

/// 403 unless the request's `Origin` (or, lacking it, `Referer`) is this server's own origin
/// (the `Host` it was sent to).
pub fn same_origin(headers: &HeaderMap) -> Result<(), Problem> {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let origin = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    let from_here = origin.is_some_and(|o| {
        let rest = o
            .strip_prefix("https://")
            .or_else(|| o.strip_prefix("http://"))
            .unwrap_or("");
        !host.is_empty() && rest.split('/').next() == Some(host)
    });
    if from_here {
        Ok(())
    } else {
        Err(Problem::forbidden(format!(
            "a signed-in browser request that changes something must come from this site; \
             its origin was {}",
            origin.map_or("not given".to_owned(), |o| format!("{o:?}"))
        )))
    }
}

/// The `Set-Cookie` value that starts a session.
pub fn session_cookie(token: &SessionToken, max_age: Duration, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        token.expose(),
        max_age.as_secs()
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The `Set-Cookie` value that ends a session in the browser.
pub fn clear_session_cookie(secure: bool) -> HeaderValue {
    HeaderValue::from_static(if secure {
        "anirec_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Secure"
    } else {
        "anirec_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
    })
}

/// A store failure as a problem: 413 for a list at its cap, 409 for an import while another
/// runs, 503 naming why for a database that cannot take writes, else a 503 (the detail is
/// logged, not sent: it may name the database).
pub fn store_problem(e: anirec_store::StoreError) -> Problem {
    use anirec_store::StoreError;
    match e {
        StoreError::ListFull { .. } => Problem::too_large(e.to_string()),
        StoreError::ImportRunning => Problem::conflict(e.to_string()),
        StoreError::Unwritable(reason) => {
            tracing::error!(reason = %reason, "accounts database cannot take writes");
            Problem::unavailable(format!(
                "nothing was saved: the accounts database cannot take writes now ({reason}); \
                 try again shortly"
            ))
        }
        e => {
            tracing::error!(error = %e, "accounts database");
            Problem::unavailable("the accounts database is not answering; try again shortly")
        }
    }
}

/// The client's address, for the sign-in limits: the connection's peer, or — behind a proxy the
/// operator names with `--client-ip-header` (an ingress) — the right-most address of that header
/// (the one the proxy itself added). `None` when neither is known.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<ClientIp, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let forwarded = state.config().client_ip_header.as_ref().and_then(|name| {
            parts
                .headers
                .get_all(name.as_str())
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|ip| ip.trim().parse::<IpAddr>().ok())
                .next_back()
        });
        Ok(ClientIp(forwarded.or(peer)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_and_origins() {
        let mut headers = HeaderMap::new();
        let token = "ab".repeat(32);
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("theme=dark; {SESSION_COOKIE}={token}")).unwrap(),
        );
        let parsed = session_token(&headers).unwrap();
        assert_eq!(parsed.expose(), token);
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("anirec_session=short"),
        );
        assert_eq!(session_token(&headers), None);

        headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert!(same_origin(&headers).is_err());
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8080"),
        );
        assert!(same_origin(&headers).is_ok());
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert_eq!(same_origin(&headers).unwrap_err().status.as_u16(), 403);
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8080.evil.example"),
        );
        assert!(same_origin(&headers).is_err());

        let c = session_cookie(&parsed, Duration::from_secs(60), true);
        let c = c.to_str().unwrap();
        assert!(c.starts_with(&format!("{SESSION_COOKIE}={token};")), "{c}");
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.contains("Secure"));
    }
}
