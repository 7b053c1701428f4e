//! The one path every change to the database takes: [`Writes::begin`] opens a transaction on a
//! connection of its own, [`Write::commit`] commits it, and a write is acknowledged only when
//! that commit succeeded on a healthy connection. A transaction that ends any other way (an
//! error, a failed commit, a dropped future) closes its connection instead of handing it back
//! to the pool: a connection left inside an open transaction would take every later write into
//! a transaction that never commits, and hold SQLite's write lock against the others.
//!
//! On SQLite a commit is also checked against the file: the database must still be the file at
//! the path it was opened from (a deleted or moved folder leaves the open file writable but
//! gone, and a restart would start from nothing).

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sqlx::any::{AnyArguments, AnyQueryResult};
use sqlx::pool::PoolConnection;
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, AnyPool};
use tokio::sync::{Mutex, MutexGuard};

use crate::StoreError;

/// Where writes are made: the pool, SQLite's one-writer turn and its file.
#[derive(Debug, Clone)]
pub(crate) struct Writes {
    pool: AnyPool,
    /// SQLite takes one writer at a time: writes wait for their turn here rather than in
    /// SQLite's busy handler (which sleeps, and refuses a read transaction that turns into a
    /// write). PostgreSQL needs none.
    turn: Option<Arc<Mutex<()>>>,
    /// SQLite's file, checked after each commit.
    file: Option<Arc<DatabaseFile>>,
}

impl Writes {
    /// Writes on `pool`; for SQLite (`file` given), one at a time, checked against the file.
    pub(crate) fn new(pool: AnyPool, file: Option<DatabaseFile>) -> Writes {
        Writes {
            pool,
            turn: file.as_ref().map(|_| Arc::new(Mutex::new(()))),
            file: file.map(Arc::new),
        }
    }

    /// Waits for this process's turn to write, then begins a transaction.
    pub(crate) async fn begin(&self) -> Result<Write<'_>, StoreError> {
        let turn = match &self.turn {
            Some(lock) => Some(lock.lock().await),
            None => None,
        };
        // The file is checked after the commit only: that check decides the acknowledgement,
        // and a write made into a file moved away is simply not acknowledged.
        let file = self.file.as_deref();
        let conn = self.pool.acquire().await.map_err(fault)?;
        let mut write = Write {
            conn: Some(conn),
            file,
            _turn: turn,
        };
        // IMMEDIATE: SQLite takes its write lock now, not at the first change.
        let begin = if file.is_some() {
            "BEGIN IMMEDIATE"
        } else {
            "BEGIN"
        };
        sqlx::query(begin)
            .execute(write.conn())
            .await
            .map_err(fault)?;
        Ok(write)
    }
}

/// A transaction in progress. Dropped without [`Write::commit`] (an error, a cancelled request),
/// it closes its connection, which rolls the transaction back.
pub(crate) struct Write<'w> {
    /// `None` once committed.
    conn: Option<PoolConnection<Any>>,
    file: Option<&'w DatabaseFile>,
    _turn: Option<MutexGuard<'w, ()>>,
}

impl Write<'_> {
    /// The connection the transaction's statements run on.
    pub(crate) fn conn(&mut self) -> &mut AnyConnection {
        self.conn
            .as_deref_mut()
            .expect("a write's connection is there until it commits")
    }

    /// Runs one statement of the transaction.
    pub(crate) async fn run<'q>(
        &mut self,
        statement: Query<'q, Any, AnyArguments<'q>>,
    ) -> Result<AnyQueryResult, StoreError> {
        statement.execute(self.conn()).await.map_err(fault)
    }

    /// Commits. Only an `Ok` here means the change is kept; on an error the connection is
    /// closed (never reused) and the change may not have been made.
    pub(crate) async fn commit(mut self) -> Result<(), StoreError> {
        sqlx::query("COMMIT")
            .execute(self.conn())
            .await
            .map_err(fault)?;
        // Committed on a healthy connection: it goes back to the pool.
        drop(self.conn.take());
        match self.file {
            Some(file) => file.still_there(),
            None => Ok(()),
        }
    }
}

impl Drop for Write<'_> {
    fn drop(&mut self) {
        if let Some(mut conn) = self.conn.take() {
            conn.close_on_drop();
        }
    }
}

/// A SQLite database file, known by its device and inode.
#[derive(Debug)]
pub(crate) struct DatabaseFile {
    path: PathBuf,
    device: u64,
    inode: u64,
}

impl DatabaseFile {
    /// The file at `path` as it is now (`None` when there is none, as for `:memory:`).
    pub(crate) fn at(path: &Path) -> Option<DatabaseFile> {
        let meta = std::fs::metadata(path).ok()?;
        Some(DatabaseFile {
            path: path.to_owned(),
            device: meta.dev(),
            inode: meta.ino(),
        })
    }

    /// Ok while the path still names the file that was opened. One `stat` of a local file (a
    /// WAL database is never on a network file system): made here, since handing it to a
    /// blocking thread cost list writes a tenth of their throughput (BENCHMARKS.md).
    pub(crate) fn still_there(&self) -> Result<(), StoreError> {
        let same = std::fs::metadata(&self.path)
            .is_ok_and(|m| m.dev() == self.device && m.ino() == self.inode);
        if same {
            Ok(())
        } else {
            // The path is the operator's business, logged at start; fans are told what happened.
            Err(StoreError::Unwritable(
                "the database file is no longer at its path (its folder was moved or deleted)"
                    .to_owned(),
            ))
        }
    }
}

/// A failed write as the store reports it: [`StoreError::Unwritable`] with the reason in a
/// fan's words when the database says its disk is full or its file cannot be written, else the
/// database's own error.
pub(crate) fn fault(e: sqlx::Error) -> StoreError {
    let reason = match e.as_database_error() {
        Some(d) if d.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() => {
            // SQLite's primary result codes are the low byte of its extended ones.
            let code = d.code().and_then(|c| c.parse::<i32>().ok());
            code.and_then(|c| sqlite_reason(c & 0xff))
        }
        // PostgreSQL's SQLSTATE for a full disk.
        Some(d) => (d.code().as_deref() == Some("53100")).then_some(DISK_FULL),
        None => None,
    };
    match reason {
        Some(reason) => StoreError::Unwritable(reason.to_owned()),
        None => StoreError::Database(e),
    }
}

const DISK_FULL: &str = "the disk that holds the database is full";

/// What a SQLite primary result code means for a write, when it means the file cannot take one.
fn sqlite_reason(code: i32) -> Option<&'static str> {
    Some(match code {
        13 => DISK_FULL,
        10 => "the database file could not be written (an I/O error)",
        8 => "the database file is read-only",
        14 => "the database file could not be opened",
        3 => "the database file may not be written (permission denied)",
        _ => return None,
    })
}
