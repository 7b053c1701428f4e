//! The statements that write a list entry, shared by the store and its group commit.

use crate::account::AccountId;
use crate::list::{MAX_ENTRIES, StoredEntry};

/// A statement with its arguments bound, ready to run.
type Statement = sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments<'static>>;

/// The statement that adds or replaces a list entry unless the list would pass
/// [`MAX_ENTRIES`] (then it writes nothing).
pub(crate) fn put_entry_statement(id: AccountId, stored: &StoredEntry) -> Statement {
    bind_entry(
        "INSERT INTO list_entries (account_id, anime_id, score, status, episodes, updated_at) \
         SELECT $1, $2, $3, $4, $5, $6 WHERE (SELECT COUNT(*) FROM list_entries \
         WHERE account_id = $1 AND anime_id <> $2) < $7 \
         ON CONFLICT (account_id, anime_id) DO UPDATE SET score = excluded.score, \
         status = excluded.status, episodes = excluded.episodes, \
         updated_at = excluded.updated_at",
        id,
        stored,
    )
    .bind(MAX_ENTRIES as i64)
}

/// The statement that adds or replaces a list entry (an import's, whose size was checked), with
/// the title the export gave when the catalogue lacks the anime (none keeps the stored one).
pub(crate) fn upsert_statement(
    id: AccountId,
    stored: &StoredEntry,
    title: Option<String>,
) -> Statement {
    bind_entry(
        "INSERT INTO list_entries \
         (account_id, anime_id, score, status, episodes, updated_at, title) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (account_id, anime_id) DO UPDATE SET \
         score = excluded.score, status = excluded.status, episodes = excluded.episodes, \
         updated_at = excluded.updated_at, title = COALESCE(excluded.title, list_entries.title)",
        id,
        stored,
    )
    .bind(title)
}

/// `sql` with the account and the entry bound as `$1` to `$6`, in the columns' order.
fn bind_entry(sql: &'static str, id: AccountId, stored: &StoredEntry) -> Statement {
    let e = &stored.entry;
    sqlx::query(sql)
        .bind(id.0)
        .bind(i64::from(e.anime_id.0))
        .bind(i64::from(e.score.code()))
        .bind(i64::from(e.status.code()))
        .bind(i64::from(e.episodes))
        .bind(stored.updated_at)
}
