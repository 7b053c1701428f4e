//! Whether the accounts database takes writes, as readiness reports it: a real write
//! ([`Store::probe_write`]) made at most once per [`WriteProbe::INTERVAL`] however often
//! `/readyz` is asked (callers in between get the last answer), and given up after
//! [`WriteProbe::TIMEOUT`] (a database that does not answer is not ready either).

use std::time::{Duration, Instant};

use anirec_store::Store;
use tokio::sync::Mutex;

/// The last probe's time and outcome.
#[derive(Debug, Default)]
pub struct WriteProbe {
    last: Mutex<Option<Probed>>,
}

#[derive(Debug)]
struct Probed {
    at: Instant,
    /// `Err`: why the database takes no writes.
    outcome: Result<(), Unwritable>,
}

/// Why the accounts database takes no writes now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unwritable {
    /// The probe's write failed (the store's error, which says why).
    #[error("{0}")]
    Refused(String),
    /// The probe's write did not finish in time.
    #[error("the accounts database did not take a write within {} s", WriteProbe::TIMEOUT.as_secs())]
    NoAnswer,
}

impl WriteProbe {
    /// How long one probe's answer stands.
    pub const INTERVAL: Duration = Duration::from_secs(2);
    /// How long a probe may take before the database counts as not answering.
    pub const TIMEOUT: Duration = Duration::from_secs(3);

    /// Ok when `store` took a write within the last [`WriteProbe::INTERVAL`] (probing again
    /// when the last answer is older); `Err` says why not.
    pub async fn check(&self, store: &Store) -> Result<(), Unwritable> {
        let mut last = self.last.lock().await;
        if let Some(probed) = last.as_ref().filter(|p| p.at.elapsed() < Self::INTERVAL) {
            return probed.outcome.clone();
        }
        let outcome = match tokio::time::timeout(Self::TIMEOUT, store.probe_write()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Unwritable::Refused(e.to_string())),
            Err(_) => Err(Unwritable::NoAnswer),
        };
        if let Err(why) = &outcome {
            tracing::warn!(reason = %why, "not ready");
        }
        *last = Some(Probed {
            at: Instant::now(),
            outcome: outcome.clone(),
        });
        outcome
    }
}
