//! Group commit of list writes on SQLite. SQLite has one writer at a time, and each commit costs
//! about a millisecond here (the statement, the WAL append, its fsync), so list writes that
//! arrive together would queue behind each other's commits. Instead one task takes them in
//! order: it waits for the first, takes whatever else has queued meanwhile (up to [`MAX_BATCH`]),
//! writes them all in one transaction and commits once; each caller is answered only after that
//! commit, so an acknowledged write is as durable as before; when the batch fails, every one of
//! them is told why ([`crate::write`] closes the connection). PostgreSQL commits concurrent
//! transactions well by itself and does not use this.

use tokio::sync::{mpsc, oneshot};

use crate::StoreError;
use crate::account::AccountId;
use crate::list::StoredEntry;
use crate::list_sql::put_entry_statement;
use crate::write::Writes;

/// Most writes one transaction takes.
pub const MAX_BATCH: usize = 64;

/// One list write waiting for its commit.
struct Job {
    account: AccountId,
    stored: StoredEntry,
    /// Whether the entry was written (false: the list was full), or why the batch failed.
    done: oneshot::Sender<Result<bool, StoreError>>,
}

/// The handle list writes are sent through.
#[derive(Debug, Clone)]
pub struct GroupCommit {
    jobs: mpsc::Sender<Job>,
}

impl GroupCommit {
    /// Starts the writing task; it waits for the store's write turn for each transaction, so
    /// other writes never meet a locked database.
    pub fn start(writes: Writes) -> GroupCommit {
        let (jobs, queue) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(write_batches(writes, queue));
        GroupCommit { jobs }
    }

    /// Writes an entry (in the next transaction); false when the list is full.
    pub async fn put(&self, account: AccountId, stored: StoredEntry) -> Result<bool, StoreError> {
        let (done, answer) = oneshot::channel();
        let job = Job {
            account,
            stored,
            done,
        };
        let stopped = || StoreError::Write("the writing task has stopped".into());
        self.jobs.send(job).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// The writing task: one transaction per batch of queued writes, until every handle is gone.
async fn write_batches(writes: Writes, mut queue: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        match write(&writes, &batch).await {
            Ok(written) => {
                for (job, ok) in batch.drain(..).zip(written) {
                    let _ = job.done.send(Ok(ok));
                }
            }
            Err(e) => {
                for job in batch.drain(..) {
                    let _ = job.done.send(Err(shared(&e)));
                }
            }
        }
    }
}

/// Writes a batch in one transaction: for each job, whether its entry was written.
async fn write(writes: &Writes, batch: &[Job]) -> Result<Vec<bool>, StoreError> {
    let mut tx = writes.begin().await?;
    let mut written = Vec::with_capacity(batch.len());
    for job in batch {
        let done = tx
            .run(put_entry_statement(job.account, &job.stored))
            .await?;
        written.push(done.rows_affected() > 0);
    }
    tx.commit().await?;
    Ok(written)
}

/// A batch's failure as each of its writers is told it.
fn shared(e: &StoreError) -> StoreError {
    match e {
        StoreError::Unwritable(reason) => StoreError::Unwritable(reason.clone()),
        other => StoreError::Write(other.to_string()),
    }
}
