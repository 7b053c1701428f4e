//! Group commit of list writes on SQLite. SQLite has one writer at a time, and each commit costs
//! about a millisecond here (the statement, the WAL append, its fsync), so list writes that
//! arrive together would queue behind each other's commits. Instead one task takes them in
//! order: it waits for the first, takes whatever else has queued meanwhile (up to [`MAX_BATCH`]),
//! writes them all in one transaction and commits once; each caller is answered only after that
//! commit, so an acknowledged write is as durable as before. PostgreSQL commits concurrent
//! transactions well by itself and does not use this.

use std::sync::Arc;

use sqlx::AnyPool;
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::StoreError;
use crate::account::AccountId;
use crate::list::Stored;
use crate::store::put_entry_statement;

/// Most writes one transaction takes.
pub const MAX_BATCH: usize = 64;

/// One list write waiting for its commit.
struct Job {
    account: AccountId,
    stored: Stored,
    /// Whether the entry was written (false: the list was full), or why the batch failed.
    done: oneshot::Sender<Result<bool, String>>,
}

/// The handle list writes are sent through.
#[derive(Debug, Clone)]
pub struct GroupCommit {
    jobs: mpsc::Sender<Job>,
}

impl GroupCommit {
    /// Starts the writing task on `pool`; it takes `turn` (the store's one-writer lock) for
    /// each transaction, so other writes never meet a locked database.
    pub fn start(pool: AnyPool, turn: Arc<Mutex<()>>) -> GroupCommit {
        let (jobs, queue) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(write_batches(pool, turn, queue));
        GroupCommit { jobs }
    }

    /// Writes an entry (in the next transaction); false when the list is full.
    pub async fn put(&self, account: AccountId, stored: Stored) -> Result<bool, StoreError> {
        let (done, answer) = oneshot::channel();
        let job = Job {
            account,
            stored,
            done,
        };
        let stopped = || StoreError::Write("the writing task has stopped".into());
        self.jobs.send(job).await.map_err(|_| stopped())?;
        answer
            .await
            .map_err(|_| stopped())?
            .map_err(StoreError::Write)
    }
}

/// The writing task: one transaction per batch of queued writes, until every handle is gone.
async fn write_batches(pool: AnyPool, turn: Arc<Mutex<()>>, mut queue: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let outcome = {
            let _turn = turn.lock().await;
            write(&pool, &batch).await
        };
        match outcome {
            Ok(written) => {
                for (job, ok) in batch.drain(..).zip(written) {
                    let _ = job.done.send(Ok(ok));
                }
            }
            Err(e) => {
                let message = e.to_string();
                for job in batch.drain(..) {
                    let _ = job.done.send(Err(message.clone()));
                }
            }
        }
    }
}

/// Writes a batch in one transaction: for each job, whether its entry was written.
async fn write(pool: &AnyPool, batch: &[Job]) -> Result<Vec<bool>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let mut written = Vec::with_capacity(batch.len());
    for job in batch {
        let done = put_entry_statement(job.account, &job.stored)
            .execute(&mut *tx)
            .await?;
        written.push(done.rows_affected() > 0);
    }
    tx.commit().await?;
    Ok(written)
}
