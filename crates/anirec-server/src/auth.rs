//! Who is asking: [`Signed`], the extractor of endpoints that need an account — a personal API
//! token (`Authorization: Bearer`) or a browser session (the `anirec_session` cookie: random,
//! `HttpOnly`, `SameSite=Lax`, `Secure` behind HTTPS, stored only hashed). A request that a
//! cookie authenticates and that changes state must come from this site: its `Origin` must be
//! this server's, else 403 (no cross-site request forgery). Also the session cookie itself
//! ([`session_cookie`], [`clear_session_cookie`]) and the sign-in rate limits ([`SignInLimits`]).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anirec_store::Account;
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
    pub session: Option<String>,
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
                .map(str::trim)
                .filter(|t| is_token(t))
                .ok_or_else(|| {
                    Problem::unauthorized("the Authorization header holds no API token")
                })?;
            let account = store
                .token_account(token)
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
    pub session: Option<String>,
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

/// Whether text is shaped like one of our tokens (64 hex digits): anything else is refused
/// without a database lookup.
fn is_token(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The session token of the request's cookies, if it carries one.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|t| is_token(t))
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
pub fn session_cookie(token: &str, max_age: Duration, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
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

/// Password checks allowed per account and per client address (any attempt, sign-ups included)
/// in [`SignInLimits::WINDOW`]. An attempt counts from the moment it is admitted, so concurrent
/// guesses meet the limit as sequential ones do; a right password takes its attempt back from
/// the account's count (a fan who signs in often is never locked out by it).
#[derive(Debug)]
pub struct SignInLimits {
    attempts: Mutex<HashMap<String, Vec<Instant>>>,
    per_account: usize,
    per_address: usize,
}

impl Default for SignInLimits {
    fn default() -> SignInLimits {
        SignInLimits::new(Self::PER_ACCOUNT, Self::PER_ADDRESS)
    }
}

impl SignInLimits {
    /// The window attempts are counted over.
    pub const WINDOW: Duration = Duration::from_secs(300);
    /// Wrong (or still unchecked) passwords an account may see per window, by default.
    pub const PER_ACCOUNT: usize = 5;
    /// Attempts one address may make per window, by default (many fans behind one NAT may need
    /// more: `--sign-ins-per-address`).
    pub const PER_ADDRESS: usize = 30;

    /// Limits of `per_account` failures and `per_address` attempts per window.
    pub fn new(per_account: usize, per_address: usize) -> SignInLimits {
        SignInLimits {
            attempts: Mutex::new(HashMap::new()),
            per_account: per_account.max(1),
            per_address: per_address.max(1),
        }
    }

    /// Counts an attempt on `username_key` from `ip`; 429 with `Retry-After` when either is
    /// over its limit (the attempt is then not made, nor counted).
    pub fn admit(&self, username_key: &str, ip: Option<IpAddr>) -> Result<(), Problem> {
        let now = Instant::now();
        let mut attempts = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        if attempts.len() > 100_000 {
            attempts.retain(|_, times| times.iter().any(|t| now - *t < Self::WINDOW));
        }
        let mut wait = None;
        let account_key = format!("account:{username_key}");
        let address_key = ip.map(|ip| format!("address:{ip}"));
        for (key, limit) in [
            (Some(&account_key), self.per_account),
            (address_key.as_ref(), self.per_address),
        ] {
            let Some(key) = key else { continue };
            let times = attempts.entry(key.clone()).or_default();
            times.retain(|t| now - *t < Self::WINDOW);
            if times.len() >= limit {
                let oldest = times[0];
                let after = Self::WINDOW.saturating_sub(now - oldest).as_secs().max(1);
                wait = Some(wait.map_or(after, |w: u64| w.max(after)));
            }
        }
        if let Some(seconds) = wait {
            return Err(Problem::too_many(seconds));
        }
        for key in std::iter::once(account_key).chain(address_key) {
            attempts.entry(key).or_default().push(now);
        }
        Ok(())
    }

    /// Takes back an admitted attempt on an account whose password was right.
    pub fn succeeded(&self, username_key: &str) {
        let mut attempts = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(times) = attempts.get_mut(&format!("account:{username_key}")) {
            times.pop();
        }
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
        assert_eq!(session_token(&headers), Some(token.clone()));
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

        let c = session_cookie(&token, Duration::from_secs(60), true);
        let c = c.to_str().unwrap();
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.contains("Secure"));
    }

    #[test]
    fn sign_in_limits_count_failures_per_account_and_attempts_per_address() {
        let limits = SignInLimits::default();
        let ip: IpAddr = "127.0.0.9".parse().unwrap();
        // Right passwords take their attempts back.
        for _ in 0..2 * SignInLimits::PER_ACCOUNT {
            limits.admit("fan", Some(ip)).unwrap();
            limits.succeeded("fan");
        }
        // Attempts count when admitted: those not yet answered fill the account's limit too.
        for _ in 0..SignInLimits::PER_ACCOUNT {
            limits.admit("fan", Some(ip)).unwrap();
        }
        let refused = limits.admit("fan", Some(ip)).unwrap_err();
        assert_eq!(refused.status.as_u16(), 429);
        assert!(refused.retry_after.is_some_and(|s| s > 0 && s <= 300));
        // Other accounts from the same address are still let in, until the address's limit.
        for i in 3 * SignInLimits::PER_ACCOUNT..SignInLimits::PER_ADDRESS {
            limits.admit(&format!("other{i}"), Some(ip)).unwrap();
        }
        assert!(limits.admit("third", Some(ip)).is_err());
        assert!(
            limits
                .admit("third", Some("127.0.0.10".parse().unwrap()))
                .is_ok()
        );
    }
}
