//! [`Store`]: the connection pool and every query, one method per thing the server asks of the
//! database. SQL is written once for both engines (portable types, `$n` parameters in order of
//! appearance, `ON CONFLICT` upserts) and always parameterised.

use std::future::Future;
use std::pin::Pin;
use std::time::{SystemTime, UNIX_EPOCH};

use anirec_data::{MalId, WatchStatus};
use serde::Serialize;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::{AnyPool, Row};

use crate::StoreError;
use crate::account::{Account, AccountId, Username};
use crate::group_commit::GroupCommit;
use crate::list::{self, ListEntry, MAX_ENTRIES, Stored, Taste};
use crate::secret::{new_token, token_hash};

/// The migrations, compiled in: (version, description, SQL).
const MIGRATIONS: [(i64, &str, &str); 1] = [(
    1,
    "accounts",
    include_str!("../migrations/0001_accounts.sql"),
)];

/// The embedded migrations as sqlx reads them.
#[derive(Debug)]
struct Embedded;

impl<'s> MigrationSource<'s> for Embedded {
    fn resolve(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 's>> {
        Box::pin(async {
            Ok(MIGRATIONS
                .iter()
                .map(|&(version, description, sql)| {
                    Migration::new(
                        version,
                        description.into(),
                        MigrationType::Simple,
                        sql.into(),
                        false,
                    )
                })
                .collect())
        })
    }
}

/// A personal API token's id (tokens themselves are shown once and stored only hashed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct TokenId(pub i64);

impl std::str::FromStr for TokenId {
    type Err = std::num::ParseIntError;

    fn from_str(text: &str) -> Result<TokenId, Self::Err> {
        text.parse().map(TokenId)
    }
}

/// A personal API token as its owner sees it later: never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    /// Its id (to revoke it).
    pub id: TokenId,
    /// The name its owner gave it.
    pub name: String,
    /// When it was made (Unix seconds).
    pub created_at: i64,
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportCounts {
    /// Entries that were not on the list.
    pub added: usize,
    /// Entries the import changed.
    pub changed: usize,
    /// Entries already as the import has them.
    pub unchanged: usize,
}

/// The accounts database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    /// SQLite takes one writer at a time: writes wait for their turn here rather than in
    /// SQLite's busy handler (which sleeps, and refuses a read transaction that turns into a
    /// write). PostgreSQL needs none.
    writer: Option<std::sync::Arc<tokio::sync::Mutex<()>>>,
    /// SQLite's list writes, committed together ([`GroupCommit`]).
    group_commit: Option<GroupCommit>,
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A random id below 2⁵³ (exact in JSON), never 0.
fn new_id() -> Result<i64, StoreError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Random(e.to_string()))?;
    Ok((u64::from_le_bytes(bytes) >> 11) as i64 | 1)
}

fn account(row: &AnyRow) -> Result<Account, sqlx::Error> {
    Ok(Account {
        id: AccountId(row.try_get(0)?),
        username: row.try_get(1)?,
        created_at: row.try_get(2)?,
    })
}

fn stored_entry(row: &AnyRow) -> Result<Stored, sqlx::Error> {
    let number = |i: usize| -> Result<i64, sqlx::Error> { row.try_get(i) };
    let status = number(2)?;
    Ok(Stored {
        entry: ListEntry {
            anime_id: MalId(number(0)? as u32),
            score: number(1)? as u8,
            status: u8::try_from(status)
                .ok()
                .and_then(WatchStatus::from_code)
                .ok_or_else(|| sqlx::Error::Decode(format!("status code {status}").into()))?,
            episodes: number(3)? as u32,
        },
        updated_at: number(4)?,
    })
}

impl Store {
    /// Opens a database (`sqlite://PATH`, created when missing; `postgres://...`) and applies
    /// the migrations it lacks.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let (url, connections) = if url.starts_with("sqlite:") {
            let sep = if url.contains('?') { '&' } else { '?' };
            let url = if url.contains("mode=") {
                url.to_owned()
            } else {
                format!("{url}{sep}mode=rwc")
            };
            (url, 4)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (url.to_owned(), 8)
        } else {
            return Err(StoreError::Url(url.to_owned()));
        };
        let sqlite = url.starts_with("sqlite:");
        let pool = AnyPoolOptions::new()
            .max_connections(connections)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if sqlite {
                        // Write-ahead logging: readers never wait for the writer, and the
                        // writer never waits for readers. Commits stay synchronous (FULL).
                        sqlx::query("PRAGMA journal_mode = WAL")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA synchronous = FULL")
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        Migrator::new(Embedded).await?.run(&pool).await?;
        let writer = url
            .starts_with("sqlite:")
            .then(|| std::sync::Arc::new(tokio::sync::Mutex::new(())));
        let group_commit = writer
            .as_ref()
            .map(|turn| GroupCommit::start(pool.clone(), turn.clone()));
        Ok(Store {
            pool,
            writer,
            group_commit,
        })
    }

    /// Waits for this process's turn to write (SQLite; at once for PostgreSQL).
    async fn write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.writer {
            Some(lock) => Some(lock.lock().await),
            None => None,
        }
    }

    /// Closes the pool (waits for connections in use).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Creates an account with a password hash made by [`crate::secret::hash_password`].
    pub async fn create_account(
        &self,
        username: &Username,
        password_hash: &str,
    ) -> Result<Account, StoreError> {
        let _turn = self.write_turn().await;
        let account = Account {
            id: AccountId(new_id()?),
            username: username.as_str().to_owned(),
            created_at: now(),
        };
        let inserted = sqlx::query(
            "INSERT INTO accounts (id, username, username_key, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(account.id.0)
        .bind(&account.username)
        .bind(username.key())
        .bind(password_hash)
        .bind(account.created_at)
        .execute(&self.pool)
        .await;
        match inserted {
            Ok(_) => Ok(account),
            Err(e) if is_unique_violation(&e) => Err(StoreError::UsernameTaken(account.username)),
            Err(e) => Err(e.into()),
        }
    }

    /// The account of a username and its password hash, for signing in.
    pub async fn sign_in_record(
        &self,
        username: &Username,
    ) -> Result<Option<(Account, String)>, StoreError> {
        let row = sqlx::query(
            "SELECT id, username, created_at, password_hash FROM accounts WHERE username_key = $1",
        )
        .bind(username.key())
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(row) => Some((account(&row)?, row.try_get(3)?)),
            None => None,
        })
    }

    /// The password hash of an account.
    pub async fn password_hash(&self, id: AccountId) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT password_hash FROM accounts WHERE id = $1")
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Replaces an account's password hash and ends all its sessions.
    pub async fn set_password(&self, id: AccountId, password_hash: &str) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE accounts SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE account_id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes an account with everything it owns.
    pub async fn delete_account(&self, id: AccountId) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        // The table names are constants of this crate, never input; the id is a parameter.
        for table in ["sessions", "api_tokens", "list_entries", "not_interested"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE account_id = $1"))
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM accounts WHERE id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Starts a session of `lifetime_secs`; returns its token (shown once, stored hashed).
    /// Expired sessions are swept on the way.
    pub async fn create_session(
        &self,
        id: AccountId,
        lifetime_secs: i64,
    ) -> Result<String, StoreError> {
        let _turn = self.write_turn().await;
        let token = new_token()?;
        let at = now();
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(at)
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, account_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash(&token))
        .bind(id.0)
        .bind(at)
        .bind(at + lifetime_secs)
        .execute(&self.pool)
        .await?;
        Ok(token)
    }

    /// The account of a live session token.
    pub async fn session_account(&self, token: &str) -> Result<Option<Account>, StoreError> {
        let row = sqlx::query(
            "SELECT a.id, a.username, a.created_at FROM sessions s \
             JOIN accounts a ON a.id = s.account_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2",
        )
        .bind(token_hash(token))
        .bind(now())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(account).transpose()?)
    }

    /// Ends a session (signing out).
    pub async fn end_session(&self, token: &str) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash(token))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Makes a personal API token; returns it (shown once, stored hashed).
    pub async fn create_token(
        &self,
        id: AccountId,
        name: &str,
    ) -> Result<(ApiToken, String), StoreError> {
        let _turn = self.write_turn().await;
        let token = new_token()?;
        let info = ApiToken {
            id: TokenId(new_id()?),
            name: name.to_owned(),
            created_at: now(),
        };
        sqlx::query(
            "INSERT INTO api_tokens (id, account_id, token_hash, name, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(info.id.0)
        .bind(id.0)
        .bind(token_hash(&token))
        .bind(&info.name)
        .bind(info.created_at)
        .execute(&self.pool)
        .await?;
        Ok((info, token))
    }

    /// The account of an API token.
    pub async fn token_account(&self, token: &str) -> Result<Option<Account>, StoreError> {
        let row = sqlx::query(
            "SELECT a.id, a.username, a.created_at FROM api_tokens t \
             JOIN accounts a ON a.id = t.account_id WHERE t.token_hash = $1",
        )
        .bind(token_hash(token))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(account).transpose()?)
    }

    /// An account's API tokens, oldest first.
    pub async fn tokens(&self, id: AccountId) -> Result<Vec<ApiToken>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, created_at FROM api_tokens WHERE account_id = $1 \
             ORDER BY created_at, id",
        )
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ApiToken {
                    id: TokenId(r.try_get(0)?),
                    name: r.try_get(1)?,
                    created_at: r.try_get(2)?,
                })
            })
            .collect()
    }

    /// Revokes one of an account's tokens; false when it has no such token.
    pub async fn revoke_token(&self, id: AccountId, token: TokenId) -> Result<bool, StoreError> {
        let _turn = self.write_turn().await;
        let done = sqlx::query("DELETE FROM api_tokens WHERE id = $1 AND account_id = $2")
            .bind(token.0)
            .bind(id.0)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// An account's list, by anime id.
    pub async fn list(&self, id: AccountId) -> Result<Vec<Stored>, StoreError> {
        let rows = sqlx::query(
            "SELECT anime_id, score, status, episodes, updated_at FROM list_entries \
             WHERE account_id = $1 ORDER BY anime_id",
        )
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(stored_entry).collect::<Result<_, _>>()?)
    }

    /// An account's [`Taste`] in one round trip and one row: the database packs the list and
    /// the hidden anime into two strings (with a row per entry, the per-row costs of the `Any`
    /// driver were a large part of a signed-in recommendation).
    pub async fn taste(&self, id: AccountId) -> Result<Taste, StoreError> {
        let row = sqlx::query(
            "SELECT (SELECT string_agg(CAST(anime_id AS TEXT) || ' ' || CAST(score AS TEXT) \
             || ' ' || CAST(status AS TEXT) || ' ' || CAST(episodes AS TEXT), ',') \
             FROM list_entries WHERE account_id = $1), \
             (SELECT string_agg(CAST(anime_id AS TEXT), ',') FROM not_interested \
             WHERE account_id = $2)",
        )
        .bind(id.0)
        .bind(id.0)
        .fetch_one(&self.pool)
        .await?;
        let (list, hidden): (Option<String>, Option<String>) = (row.try_get(0)?, row.try_get(1)?);
        Taste::unpack(list.as_deref(), hidden.as_deref())
            .map_err(|e| StoreError::Database(sqlx::Error::Decode(e.into())))
    }

    /// One entry of an account's list.
    pub async fn entry(&self, id: AccountId, anime: MalId) -> Result<Option<Stored>, StoreError> {
        let row = sqlx::query(
            "SELECT anime_id, score, status, episodes, updated_at FROM list_entries \
             WHERE account_id = $1 AND anime_id = $2",
        )
        .bind(id.0)
        .bind(i64::from(anime.0))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(stored_entry).transpose()?)
    }

    /// Adds or replaces an entry (at most [`MAX_ENTRIES`] per list: the insert itself checks
    /// it). On SQLite, writes that arrive together share one commit ([`GroupCommit`]).
    pub async fn put_entry(&self, id: AccountId, entry: &ListEntry) -> Result<Stored, StoreError> {
        let stored = Stored {
            entry: *entry,
            updated_at: now(),
        };
        let written = match &self.group_commit {
            Some(group) => group.put(id, stored).await?,
            None => {
                let done = put_entry_statement(id, &stored).execute(&self.pool).await?;
                done.rows_affected() > 0
            }
        };
        if !written {
            return Err(StoreError::ListFull {
                max: MAX_ENTRIES,
                would: MAX_ENTRIES + 1,
            });
        }
        Ok(stored)
    }

    /// Removes an entry; false when it was not on the list.
    pub async fn delete_entry(&self, id: AccountId, anime: MalId) -> Result<bool, StoreError> {
        let _turn = self.write_turn().await;
        let done = sqlx::query("DELETE FROM list_entries WHERE account_id = $1 AND anime_id = $2")
            .bind(id.0)
            .bind(i64::from(anime.0))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Merges imported entries into a list by [`list::merge`], in one transaction: entries the
    /// merge leaves as they are are not written, so importing the same file twice changes
    /// nothing.
    pub async fn import(
        &self,
        id: AccountId,
        entries: &[ListEntry],
    ) -> Result<ImportCounts, StoreError> {
        let current = self.list(id).await?;
        let mut counts = ImportCounts::default();
        let mut writes = Vec::new();
        let mut size = current.len();
        for imported in entries {
            let on_list = current
                .binary_search_by_key(&imported.anime_id, |s| s.entry.anime_id)
                .ok()
                .map(|p| &current[p].entry);
            let merged = list::merge(on_list, imported);
            match on_list {
                None => {
                    counts.added += 1;
                    size += 1;
                }
                Some(c) if *c == merged => {
                    counts.unchanged += 1;
                    continue;
                }
                Some(_) => counts.changed += 1,
            }
            writes.push(merged);
        }
        if size > MAX_ENTRIES {
            return Err(StoreError::ListFull {
                max: MAX_ENTRIES,
                would: size,
            });
        }
        let at = now();
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        for entry in writes {
            upsert(
                &mut tx,
                id,
                &Stored {
                    entry,
                    updated_at: at,
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(counts)
    }

    /// Marks an anime "not interested" (never recommended to this fan).
    pub async fn hide(&self, id: AccountId, anime: MalId) -> Result<(), StoreError> {
        let _turn = self.write_turn().await;
        sqlx::query(
            "INSERT INTO not_interested (account_id, anime_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (account_id, anime_id) DO NOTHING",
        )
        .bind(id.0)
        .bind(i64::from(anime.0))
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Takes back "not interested"; false when the anime was not marked.
    pub async fn unhide(&self, id: AccountId, anime: MalId) -> Result<bool, StoreError> {
        let _turn = self.write_turn().await;
        let done =
            sqlx::query("DELETE FROM not_interested WHERE account_id = $1 AND anime_id = $2")
                .bind(id.0)
                .bind(i64::from(anime.0))
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The anime an account marked "not interested", ascending.
    pub async fn hidden(&self, id: AccountId) -> Result<Vec<MalId>, StoreError> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT anime_id FROM not_interested WHERE account_id = $1 ORDER BY anime_id",
        )
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(ids.into_iter().map(|a| MalId(a as u32)).collect())
    }

    /// Every account's list entries, by account then anime (what training adds to the data).
    pub async fn all_entries(&self) -> Result<Vec<(AccountId, ListEntry)>, StoreError> {
        let rows = sqlx::query(
            "SELECT anime_id, score, status, episodes, updated_at, account_id FROM list_entries \
             ORDER BY account_id, anime_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((AccountId(r.try_get(5)?), stored_entry(r)?.entry)))
            .collect()
    }
}

/// The statement that adds or replaces a list entry unless the list would pass
/// [`MAX_ENTRIES`] (then it writes nothing).
pub(crate) fn put_entry_statement(
    id: AccountId,
    stored: &Stored,
) -> sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments<'static>> {
    let e = &stored.entry;
    sqlx::query(
        "INSERT INTO list_entries (account_id, anime_id, score, status, episodes, updated_at) \
         SELECT $1, $2, $3, $4, $5, $6 WHERE (SELECT COUNT(*) FROM list_entries \
         WHERE account_id = $1 AND anime_id <> $2) < $7 \
         ON CONFLICT (account_id, anime_id) DO UPDATE SET score = excluded.score, \
         status = excluded.status, episodes = excluded.episodes, \
         updated_at = excluded.updated_at",
    )
    .bind(id.0)
    .bind(i64::from(e.anime_id.0))
    .bind(i64::from(e.score))
    .bind(i64::from(e.status.code()))
    .bind(i64::from(e.episodes))
    .bind(stored.updated_at)
    .bind(MAX_ENTRIES as i64)
}

async fn upsert(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: AccountId,
    stored: &Stored,
) -> Result<(), sqlx::Error> {
    let e = &stored.entry;
    sqlx::query(
        "INSERT INTO list_entries (account_id, anime_id, score, status, episodes, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account_id, anime_id) DO UPDATE SET \
         score = excluded.score, status = excluded.status, episodes = excluded.episodes, \
         updated_at = excluded.updated_at",
    )
    .bind(id.0)
    .bind(i64::from(e.anime_id.0))
    .bind(i64::from(e.score))
    .bind(i64::from(e.status.code()))
    .bind(i64::from(e.episodes))
    .bind(stored.updated_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
}
