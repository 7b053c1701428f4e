//! The pool that runs requests' CPU work (reading large bodies, fold-in, ranking, search,
//! similar users, rendering) off the async runtime's threads, so `/healthz`, `/readyz` and
//! `/metrics` always answer, however busy the models are.
//!
//! At most `threads` jobs run at once on tokio's blocking threads, and at most `queue` more wait
//! for a turn; a request that finds the queue full is refused at once with 503 and
//! `Retry-After` (load shedding, counted as `anirec_compute_shed_total`). A request abandoned
//! while it waits (its client went away, or the request timeout fired) leaves the queue and its
//! work never starts.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::problem::Problem;

/// Seconds a shed request is told to wait before trying again.
pub const RETRY_AFTER_SECONDS: u64 = 1;

/// A bounded pool for CPU-bound work; cheap to clone.
#[derive(Debug, Clone)]
pub struct Compute {
    /// One permit per job admitted (running or waiting).
    admitted: Arc<Semaphore>,
    /// One permit per job running.
    running: Arc<Semaphore>,
}

impl Compute {
    /// A pool running `threads` jobs at once (at least 1) with `queue` more waiting.
    pub fn new(threads: usize, queue: usize) -> Compute {
        let threads = threads.max(1);
        Compute {
            admitted: Arc::new(Semaphore::new(threads + queue)),
            running: Arc::new(Semaphore::new(threads)),
        }
    }

    /// Runs `work` on a blocking thread when a turn comes; 503 at once when the queue is full.
    pub async fn run<T, F>(&self, work: F) -> Result<T, Problem>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, Problem> + Send + 'static,
    {
        let Ok(admitted) = self.admitted.clone().try_acquire_owned() else {
            metrics::counter!("anirec_compute_shed_total").increment(1);
            return Err(Problem::overloaded(RETRY_AFTER_SECONDS));
        };
        let running = self
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Problem::unavailable("the server is shutting down"))?;
        // Dropped with this future (a timeout, a client gone): the job then never starts.
        let waiting = Abandoned::default();
        let abandoned = waiting.flag.clone();
        let job = tokio::task::spawn_blocking(move || {
            let _permits: (OwnedSemaphorePermit, OwnedSemaphorePermit) = (admitted, running);
            if abandoned.load(Ordering::Acquire) {
                return None;
            }
            Some(work())
        });
        match job.await {
            Ok(Some(answer)) => answer,
            Ok(None) => Err(Problem::unavailable("the request was abandoned")),
            Err(e) => Err(Problem::internal(format!("the request's work failed: {e}"))),
        }
    }
}

/// Sets its flag when dropped.
#[derive(Default)]
struct Abandoned {
    flag: Arc<AtomicBool>,
}

impl Drop for Abandoned {
    fn drop(&mut self) {
        self.flag.store(true, Ordering::Release);
    }
}
