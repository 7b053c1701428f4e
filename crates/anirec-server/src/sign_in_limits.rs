//! [`SignInLimits`]: how many password checks an account and a client address may ask for in a
//! window, counted when each is admitted ([`SignInLimits::attempt`]) and taken back from the
//! account when the password was right ([`Attempt::succeeded`]).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anirec_store::Username;

use crate::problem::Problem;

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

    /// Counts a password check on `username`'s account (its name without regard to case) from
    /// `ip`; 429 with `Retry-After` when either is over its limit (the check is then not made,
    /// nor counted).
    pub fn attempt(&self, username: &Username, ip: Option<IpAddr>) -> Result<Attempt<'_>, Problem> {
        let account_key = format!("account:{}", username.key());
        self.admit(&account_key, ip)?;
        Ok(Attempt {
            limits: self,
            account_key,
        })
    }

    /// Counts an attempt on the account `account_key` from `ip`, or refuses it.
    fn admit(&self, account_key: &str, ip: Option<IpAddr>) -> Result<(), Problem> {
        let now = Instant::now();
        let mut attempts = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        if attempts.len() > 100_000 {
            attempts.retain(|_, times| times.iter().any(|t| now - *t < Self::WINDOW));
        }
        let mut wait = None;
        let address_key = ip.map(|ip| format!("address:{ip}"));
        for (key, limit) in [
            (Some(account_key), self.per_account),
            (address_key.as_deref(), self.per_address),
        ] {
            let Some(key) = key else { continue };
            let times = attempts.entry(key.to_owned()).or_default();
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
        for key in std::iter::once(account_key.to_owned()).chain(address_key) {
            attempts.entry(key).or_default().push(now);
        }
        Ok(())
    }
}

/// A password check [`SignInLimits`] admitted: it counts against the account and the address
/// unless [`Attempt::succeeded`] takes it back from the account.
#[must_use = "an attempt whose password was right is taken back with `succeeded`"]
#[derive(Debug)]
pub struct Attempt<'a> {
    limits: &'a SignInLimits,
    account_key: String,
}

impl Attempt<'_> {
    /// The password was right: the attempt no longer counts against the account.
    pub fn succeeded(self) {
        let mut attempts = self
            .limits
            .attempts
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(times) = attempts.get_mut(&self.account_key) {
            times.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_limits_count_failures_per_account_and_attempts_per_address() {
        let limits = SignInLimits::default();
        let ip: IpAddr = "127.0.0.9".parse().unwrap();
        let name = |n: &str| Username::parse(n).unwrap();
        // Right passwords take their attempts back.
        for _ in 0..2 * SignInLimits::PER_ACCOUNT {
            limits.attempt(&name("fan"), Some(ip)).unwrap().succeeded();
        }
        // Attempts count when admitted: those not yet answered fill the account's limit too,
        // whatever the case of the name they were made with.
        let mut pending = Vec::new();
        for case in ["fan", "FAN", "Fan", "fAn", "faN"]
            .iter()
            .take(SignInLimits::PER_ACCOUNT)
        {
            pending.push(limits.attempt(&name(case), Some(ip)).unwrap());
        }
        let refused = limits.attempt(&name("fan"), Some(ip)).unwrap_err();
        assert_eq!(refused.status.as_u16(), 429);
        assert!(refused.retry_after.is_some_and(|s| s > 0 && s <= 300));
        // Other accounts from the same address are still let in, until the address's limit.
        for i in 3 * SignInLimits::PER_ACCOUNT..SignInLimits::PER_ADDRESS {
            pending.push(
                limits
                    .attempt(&name(&format!("other{i}")), Some(ip))
                    .unwrap(),
            );
        }
        assert!(limits.attempt(&name("third"), Some(ip)).is_err());
        assert!(
            limits
                .attempt(&name("third"), Some("127.0.0.10".parse().unwrap()))
                .is_ok()
        );
    }
}
