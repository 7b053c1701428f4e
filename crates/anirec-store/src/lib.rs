//! anirec's accounts storage: accounts, browser sessions, personal API tokens and fans' anime
//! lists, in SQLite (the embedded default: one file, WAL, synchronous writes) or PostgreSQL (for
//! several replicas), through one code path ([`Store`], on sqlx's `Any` driver) and one set of
//! versioned migrations (`migrations/`, embedded), applied at start under the database's
//! migration lock so replicas may start together. Every query is parameterised. The crate knows
//! nothing of HTTP or models.

pub mod account;
mod group_commit;
pub mod list;
mod list_sql;
#[cfg(feature = "scratch")]
pub mod scratch;
pub mod secret;
mod store;
pub mod training;
mod write;

pub use account::{Account, AccountId, CredentialError, Password, Username};
pub use list::ListEntry;
pub use list::{ListTitle, StoredEntry, Taste, UnpackError};
pub use store::{ApiToken, IMPORT_CHUNK, ImportCounts, Store, TokenId};

/// A database URL without its password, for logs and messages: the one after the user
/// (`postgres://app:***@db/anirec`) and a `password` parameter (`?password=***`).
pub fn redacted_url(url: &str) -> String {
    let Some(scheme) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[scheme + 3..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let mut out = url[..scheme + 3].to_owned();
    match rest[..authority_end].rfind('@') {
        Some(at) => match rest[..at].split_once(':') {
            Some((user, _)) => {
                out.push_str(user);
                out.push_str(":***");
                out.push_str(&rest[at..authority_end]);
            }
            None => out.push_str(&rest[..authority_end]),
        },
        None => out.push_str(&rest[..authority_end]),
    }
    let tail = &rest[authority_end..];
    match tail.split_once('?') {
        Some((path, query)) => {
            out.push_str(path);
            out.push('?');
            let params: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                    _ => pair.to_owned(),
                })
                .collect();
            out.push_str(&params.join("&"));
        }
        None => out.push_str(tail),
    }
    out
}

/// What can go wrong with the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL is not one this store opens.
    #[error(
        "database URL {0:?} is not supported; use sqlite://PATH or postgres://USER@HOST/DATABASE"
    )]
    Url(String),
    /// The database refused or failed (connection, query, constraint).
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The migrations could not be applied.
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The username is taken (without regard to case).
    #[error("the username {0:?} is taken")]
    UsernameTaken(String),
    /// The list would grow past its cap.
    #[error("a list holds at most {max} entries; this one would hold {would}")]
    ListFull {
        /// The cap ([`list::MAX_ENTRIES`]).
        max: usize,
        /// What it would hold.
        would: usize,
    },
    /// A write that shared its commit with others failed (the database's message).
    #[error("database write: {0}")]
    Write(String),
    /// The database cannot take a write now, for the reason given (a full disk, a file that
    /// cannot be written or is gone); nothing was acknowledged.
    #[error("the accounts database cannot take writes: {0}")]
    Unwritable(String),
    /// An import of the same account is still running.
    #[error("an import of this list is already running; wait for it to finish")]
    ImportRunning,
    /// The system's random source failed (no secret could be made).
    #[error("random source: {0}")]
    Random(String),
}

#[cfg(test)]
mod tests {
    #[test]
    fn urls_lose_their_password() {
        assert_eq!(
            super::redacted_url("postgres://app:s3cr@t@db:5432/anirec?sslmode=require"),
            "postgres://app:***@db:5432/anirec?sslmode=require"
        );
        assert_eq!(
            super::redacted_url("postgres://app@db/anirec"),
            "postgres://app@db/anirec"
        );
        assert_eq!(
            super::redacted_url("sqlite:///var/lib/anirec/accounts.db"),
            "sqlite:///var/lib/anirec/accounts.db"
        );
        assert_eq!(
            super::redacted_url("postgres://app@db/anirec?sslmode=require&password=s3cr%26t&x=1"),
            "postgres://app@db/anirec?sslmode=require&password=***&x=1"
        );
        assert_eq!(
            super::redacted_url("postgres://db?PASSWORD=s3cr"),
            "postgres://db?PASSWORD=***"
        );
    }
}
