//! [`Store`]: the connection pool and every query, one method per thing the server asks of the
//! database. SQL is written once for both engines (portable types, `$n` parameters in order of
//! appearance, `ON CONFLICT` upserts) and always parameterised.

use std::future::Future;
use std::pin::Pin;
use std::time::{SystemTime, UNIX_EPOCH};

use anirec_data::{MalId, Score, WatchStatus};
use serde::Serialize;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::{AnyPool, Row};

use crate::StoreError;
use crate::account::{Account, AccountId, Username};
use crate::group_commit::GroupCommit;
use crate::list::{self, ListEntry, ListTitle, MAX_ENTRIES, StoredEntry, Taste};
use crate::list_sql::{put_entry_statement, upsert_statement};
use crate::secret::{ApiSecret, SessionToken};
use crate::write::{DatabaseFile, Write, Writes};

/// The migrations, compiled in: (version, description, SQL).
const MIGRATIONS: [(i64, &str, &str); 4] = [
    (
        1,
        "accounts",
        include_str!("../migrations/0001_accounts.sql"),
    ),
    (
        2,
        "write probe",
        include_str!("../migrations/0002_write_probe.sql"),
    ),
    (
        3,
        "list titles",
        include_str!("../migrations/0003_list_titles.sql"),
    ),
    (
        4,
        "public profile",
        include_str!("../migrations/0004_public_profile.sql"),
    ),
];

/// Longest wait for a connection (a new one, or one of the pool's).
const ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Entries an import writes per transaction: between them other fans' writes take their turn
/// (a whole 17,000-entry list in one transaction held SQLite's write lock for up to a second).
pub const IMPORT_CHUNK: usize = 500;

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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenId(pub i64);

impl std::str::FromStr for TokenId {
    type Err = std::num::ParseIntError;

    fn from_str(text: &str) -> Result<TokenId, Self::Err> {
        text.parse().map(TokenId)
    }
}

/// A personal API token as its owner sees it later: never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportCounts {
    /// Entries that were not on the list.
    pub added: usize,
    /// Entries the import changed.
    pub changed: usize,
    /// Entries already as the import has them.
    pub unchanged: usize,
    /// Entries on the list that the import left as they were because its entry said so
    /// (MyAnimeList's `update_on_import` 0).
    pub kept: usize,
}

/// The accounts database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    /// Where every change is made ([`Writes`]).
    writes: Writes,
    /// SQLite's list writes, committed together ([`GroupCommit`]).
    group_commit: Option<GroupCommit>,
    /// Accounts with an import in progress (one at a time per account).
    importing: std::sync::Arc<std::sync::Mutex<std::collections::HashSet<AccountId>>>,
}

/// An account's turn to import; the account is free again when it is dropped.
struct ImportTurn<'s> {
    importing: &'s std::sync::Mutex<std::collections::HashSet<AccountId>>,
    account: AccountId,
}

impl Drop for ImportTurn<'_> {
    fn drop(&mut self) {
        self.importing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.account);
    }
}

/// The file of a SQLite URL (`sqlite://PATH?…` or `sqlite:PATH`); `None` for memory.
fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or(url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    (!path.is_empty() && path != ":memory:").then(|| path.into())
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

fn stored_entry(row: &AnyRow) -> Result<StoredEntry, sqlx::Error> {
    let number = |i: usize| -> Result<i64, sqlx::Error> { row.try_get(i) };
    let (score, status) = (number(1)?, number(2)?);
    Ok(StoredEntry {
        entry: ListEntry {
            anime_id: MalId(number(0)? as u32),
            score: u8::try_from(score)
                .ok()
                .and_then(Score::new)
                .ok_or_else(|| sqlx::Error::Decode(format!("score {score}").into()))?,
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
            // A database that cannot be reached is said so within seconds, at start and later,
            // rather than after sqlx's default half minute of retries.
            .acquire_timeout(ACQUIRE_TIMEOUT)
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
        let file = if sqlite {
            let path = sqlite_path(&url).ok_or_else(|| StoreError::Url(url.clone()))?;
            Some(DatabaseFile::at(&path).ok_or_else(|| {
                StoreError::Unwritable(format!("{} was not created", path.display()))
            })?)
        } else {
            None
        };
        let writes = Writes::new(pool.clone(), file);
        let group_commit = sqlite.then(|| GroupCommit::start(writes.clone()));
        Ok(Store {
            pool,
            writes,
            group_commit,
            importing: Default::default(),
        })
    }

    /// Begins a write transaction (after this process's turn to write, on SQLite).
    async fn begin(&self) -> Result<Write<'_>, StoreError> {
        self.writes.begin().await
    }

    /// Writes and commits a row of its own, to learn whether the database takes writes now
    /// (readiness): `Err` names why not.
    pub async fn probe_write(&self) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        tx.run(
            sqlx::query(
                "INSERT INTO write_probe (id, probed_at) VALUES (1, $1) \
                 ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at",
            )
            .bind(now()),
        )
        .await?;
        tx.commit().await
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
        let account = Account {
            id: AccountId(new_id()?),
            username: username.as_str().to_owned(),
            created_at: now(),
        };
        let mut tx = self.begin().await?;
        let inserted = tx
            .run(
                sqlx::query(
                    "INSERT INTO accounts (id, username, username_key, password_hash, \
                     created_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(account.id.0)
                .bind(&account.username)
                .bind(username.key())
                .bind(password_hash)
                .bind(account.created_at),
            )
            .await;
        match inserted {
            Ok(_) => {
                tx.commit().await?;
                Ok(account)
            }
            Err(StoreError::Database(e)) if is_unique_violation(&e) => {
                Err(StoreError::UsernameTaken(account.username))
            }
            Err(e) => Err(e),
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

    /// Replaces an account's password hash, ends all its sessions and revokes all its API
    /// tokens (whoever knew the old password may have made some).
    pub async fn set_password(&self, id: AccountId, password_hash: &str) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        tx.run(
            sqlx::query("UPDATE accounts SET password_hash = $1 WHERE id = $2")
                .bind(password_hash)
                .bind(id.0),
        )
        .await?;
        for table in ["sessions", "api_tokens"] {
            // The table names are constants of this crate, never input; the id is a parameter.
            tx.run(sqlx::query(&format!("DELETE FROM {table} WHERE account_id = $1")).bind(id.0))
                .await?;
        }
        tx.commit().await
    }

    /// Whether an account shows its list and picks at `/u/{username}` (off until its owner turns
    /// it on); `None` for an account that does not exist.
    pub async fn is_public(&self, id: AccountId) -> Result<Option<bool>, StoreError> {
        let flag: Option<i64> =
            sqlx::query_scalar("SELECT public_profile FROM accounts WHERE id = $1")
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await?;
        Ok(flag.map(|f| f != 0))
    }

    /// Turns an account's public profile on or off.
    pub async fn set_public(&self, id: AccountId, public: bool) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        tx.run(
            sqlx::query("UPDATE accounts SET public_profile = $1 WHERE id = $2")
                .bind(i64::from(public))
                .bind(id.0),
        )
        .await?;
        tx.commit().await
    }

    /// The account of a username (any case) when its profile is public; `None` both when there
    /// is no such account and when its profile is private, so that nobody can tell them apart.
    pub async fn public_account(&self, username: &Username) -> Result<Option<Account>, StoreError> {
        let row = sqlx::query(
            "SELECT id, username, created_at FROM accounts \
             WHERE username_key = $1 AND public_profile <> 0",
        )
        .bind(username.key())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(account).transpose()?)
    }

    /// Deletes an account with everything it owns.
    pub async fn delete_account(&self, id: AccountId) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        // The table names are constants of this crate, never input; the id is a parameter.
        for table in ["sessions", "api_tokens", "list_entries", "not_interested"] {
            tx.run(sqlx::query(&format!("DELETE FROM {table} WHERE account_id = $1")).bind(id.0))
                .await?;
        }
        tx.run(sqlx::query("DELETE FROM accounts WHERE id = $1").bind(id.0))
            .await?;
        tx.commit().await
    }

    /// Starts a session of `lifetime_secs`; returns its token (shown once, stored hashed).
    /// Expired sessions are swept on the way.
    pub async fn create_session(
        &self,
        id: AccountId,
        lifetime_secs: i64,
    ) -> Result<SessionToken, StoreError> {
        let token = SessionToken::new()?;
        let at = now();
        let mut tx = self.begin().await?;
        tx.run(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(at))
            .await?;
        tx.run(
            sqlx::query(
                "INSERT INTO sessions (token_hash, account_id, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(token.digest())
            .bind(id.0)
            .bind(at)
            .bind(at + lifetime_secs),
        )
        .await?;
        tx.commit().await?;
        Ok(token)
    }

    /// The account of a live session token.
    pub async fn session_account(
        &self,
        token: &SessionToken,
    ) -> Result<Option<Account>, StoreError> {
        let row = sqlx::query(
            "SELECT a.id, a.username, a.created_at FROM sessions s \
             JOIN accounts a ON a.id = s.account_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2",
        )
        .bind(token.digest())
        .bind(now())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(account).transpose()?)
    }

    /// Ends a session (signing out).
    pub async fn end_session(&self, token: &SessionToken) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        tx.run(sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token.digest()))
            .await?;
        tx.commit().await
    }

    /// Makes a personal API token; returns it (shown once, stored hashed).
    pub async fn create_token(
        &self,
        id: AccountId,
        name: &str,
    ) -> Result<(ApiToken, ApiSecret), StoreError> {
        let token = ApiSecret::new()?;
        let info = ApiToken {
            id: TokenId(new_id()?),
            name: name.to_owned(),
            created_at: now(),
        };
        let mut tx = self.begin().await?;
        tx.run(
            sqlx::query(
                "INSERT INTO api_tokens (id, account_id, token_hash, name, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(info.id.0)
            .bind(id.0)
            .bind(token.digest())
            .bind(&info.name)
            .bind(info.created_at),
        )
        .await?;
        tx.commit().await?;
        Ok((info, token))
    }

    /// The account of an API token.
    pub async fn token_account(&self, token: &ApiSecret) -> Result<Option<Account>, StoreError> {
        let row = sqlx::query(
            "SELECT a.id, a.username, a.created_at FROM api_tokens t \
             JOIN accounts a ON a.id = t.account_id WHERE t.token_hash = $1",
        )
        .bind(token.digest())
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
        let mut tx = self.begin().await?;
        let done = tx
            .run(
                sqlx::query("DELETE FROM api_tokens WHERE id = $1 AND account_id = $2")
                    .bind(token.0)
                    .bind(id.0),
            )
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// An account's list, by anime id.
    pub async fn list(&self, id: AccountId) -> Result<Vec<StoredEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT anime_id, score, status, episodes, updated_at FROM list_entries \
             WHERE account_id = $1 ORDER BY anime_id",
        )
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(stored_entry).collect::<Result<_, _>>()?)
    }

    /// The titles imports kept for anime the catalogue lacked, by anime id.
    pub async fn titles(&self, id: AccountId) -> Result<Vec<ListTitle>, StoreError> {
        let rows = sqlx::query(
            "SELECT anime_id, title FROM list_entries \
             WHERE account_id = $1 AND title IS NOT NULL ORDER BY anime_id",
        )
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let anime: i64 = row.try_get(0)?;
                Ok(ListTitle {
                    anime_id: MalId(
                        u32::try_from(anime)
                            .map_err(|_| sqlx::Error::Decode(format!("anime id {anime}").into()))?,
                    ),
                    title: row.try_get(1)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
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
            .map_err(|e| StoreError::Database(sqlx::Error::Decode(Box::new(e))))
    }

    /// One entry of an account's list.
    pub async fn entry(
        &self,
        id: AccountId,
        anime: MalId,
    ) -> Result<Option<StoredEntry>, StoreError> {
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
    pub async fn put_entry(
        &self,
        id: AccountId,
        entry: &ListEntry,
    ) -> Result<StoredEntry, StoreError> {
        let stored = StoredEntry {
            entry: *entry,
            updated_at: now(),
        };
        let written = match &self.group_commit {
            Some(group) => group.put(id, stored).await?,
            None => {
                let mut tx = self.begin().await?;
                let done = tx.run(put_entry_statement(id, &stored)).await?;
                tx.commit().await?;
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
        let mut tx = self.begin().await?;
        let done = tx
            .run(
                sqlx::query("DELETE FROM list_entries WHERE account_id = $1 AND anime_id = $2")
                    .bind(id.0)
                    .bind(i64::from(anime.0)),
            )
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// Merges imported entries into a list by [`list::merge`], [`IMPORT_CHUNK`] entries per
    /// transaction so that other fans' writes are not held up; one import per account at a
    /// time ([`StoreError::ImportRunning`] for a second). Entries the merge leaves as they are
    /// are not written, so importing the same file twice changes nothing, and an import that
    /// failed part-way is finished by importing the file again.
    pub async fn import(
        &self,
        id: AccountId,
        entries: &[ListEntry],
    ) -> Result<ImportCounts, StoreError> {
        self.import_titled(id, entries, &[], &[]).await
    }

    /// [`Store::import`], keeping the title the export gave each anime of `titles` (those the
    /// catalogue lacks, sorted by id) with its entry: the list shows it and exports it back.
    /// An anime of `kept` (sorted) that is already on the list keeps its entry as it is (the
    /// export said not to update it); one not on the list is added.
    pub async fn import_titled(
        &self,
        id: AccountId,
        entries: &[ListEntry],
        titles: &[ListTitle],
        kept: &[MalId],
    ) -> Result<ImportCounts, StoreError> {
        let _turn = self.import_turn(id)?;
        let current = self.list(id).await?;
        let mut counts = ImportCounts::default();
        let mut writes = Vec::new();
        let mut size = current.len();
        for imported in entries {
            let on_list = current
                .binary_search_by_key(&imported.anime_id, |s| s.entry.anime_id)
                .ok()
                .map(|p| &current[p].entry);
            if on_list.is_some() && kept.binary_search(&imported.anime_id).is_ok() {
                counts.kept += 1;
                continue;
            }
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
        for chunk in writes.chunks(IMPORT_CHUNK) {
            let mut tx = self.begin().await?;
            for &entry in chunk {
                let stored = StoredEntry {
                    entry,
                    updated_at: at,
                };
                let title = list::title_of(titles, entry.anime_id).map(str::to_owned);
                tx.run(upsert_statement(id, &stored, title)).await?;
            }
            tx.commit().await?;
        }
        Ok(counts)
    }

    /// Takes the account's one import turn, or says an import of it is running.
    fn import_turn(&self, account: AccountId) -> Result<ImportTurn<'_>, StoreError> {
        let mut importing = self.importing.lock().unwrap_or_else(|e| e.into_inner());
        if !importing.insert(account) {
            return Err(StoreError::ImportRunning);
        }
        Ok(ImportTurn {
            importing: &self.importing,
            account,
        })
    }

    /// Marks an anime "not interested" (never recommended to this fan).
    pub async fn hide(&self, id: AccountId, anime: MalId) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        tx.run(
            sqlx::query(
                "INSERT INTO not_interested (account_id, anime_id, created_at) \
                 VALUES ($1, $2, $3) ON CONFLICT (account_id, anime_id) DO NOTHING",
            )
            .bind(id.0)
            .bind(i64::from(anime.0))
            .bind(now()),
        )
        .await?;
        tx.commit().await
    }

    /// Takes back "not interested"; false when the anime was not marked.
    pub async fn unhide(&self, id: AccountId, anime: MalId) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let done = tx
            .run(
                sqlx::query("DELETE FROM not_interested WHERE account_id = $1 AND anime_id = $2")
                    .bind(id.0)
                    .bind(i64::from(anime.0)),
            )
            .await?;
        tx.commit().await?;
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

fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
}
