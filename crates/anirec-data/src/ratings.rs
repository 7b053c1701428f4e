//! The ratings store: dense user and anime indices, CSR by user and CSC by anime.
//!
//! Each rating costs 4 bytes (the other side's index) + 1 byte (rating, 0 = listed without a
//! score) + 1 byte (watching status, only when the source has it) on each side: 10 or 12 bytes in
//! all. Rows are sorted by index, so "did this user rate that anime" is a binary search.
//! [`build`] turns parsed files into stores: it encodes user ids (shared across several files, so
//! a train and a test file index users the same way), drops repeated (user, anime) pairs keeping
//! the last, and transposes.

use rayon::prelude::*;

use crate::csr::{Csr, EntrySource, Row, bucket_by_key};
use crate::formats::ratings::RawChunk;
use crate::ids::{AnimeIx, UserId, UserIx};
use crate::report::{SkipReason, Skips};
use crate::score::Score;
pub use crate::watch_status::WatchStatus;

/// Why [`Ratings::with_users`] refuses a new user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NewUserError {
    /// The user's id is not above every id of the store.
    #[error("user {user} is not above every user id of the store (the highest is {highest})")]
    NotAbove {
        /// The new user.
        user: UserId,
        /// The store's highest id.
        highest: UserId,
    },
    /// The user's entries are not in ascending anime order (or repeat one).
    #[error("user {user}: anime index {} is not in ascending order", anime.0)]
    Unsorted {
        /// The new user.
        user: UserId,
        /// The first entry out of order.
        anime: AnimeIx,
    },
    /// An entry names an anime the catalogue does not have.
    #[error("user {user}: anime index {} is outside the catalogue", anime.0)]
    OutsideCatalogue {
        /// The new user.
        user: UserId,
        /// The entry's anime.
        anime: AnimeIx,
    },
}

/// A user to add to a store ([`Ratings::with_users`]): their id and their entries, by anime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// The user's id (above every id of the store).
    pub id: UserId,
    /// Their entries, ascending by anime.
    pub entries: Vec<NewEntry>,
}

/// One entry of a [`NewUser`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewEntry {
    /// The anime.
    pub anime: AnimeIx,
    /// The score.
    pub score: Score,
    /// The status, when known.
    pub status: Option<WatchStatus>,
}

/// Ratings with dense indices: users `0..n_users` (ordered by original id), anime `0..n_anime`
/// (catalogue order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ratings {
    user_ids: Vec<u32>,
    n_anime: usize,
    by_user: Csr,
    by_anime: Csr,
}

impl Ratings {
    /// Builds a store from its by-user rows (ascending within each row); the by-anime side is
    /// derived. `user_ids` maps each row to its original id and must be ascending.
    pub fn from_user_rows(user_ids: Vec<u32>, n_anime: usize, by_user: Csr) -> Ratings {
        debug_assert_eq!(user_ids.len(), by_user.rows());
        let by_anime = by_user.transpose(n_anime);
        Ratings {
            user_ids,
            n_anime,
            by_user,
            by_anime,
        }
    }

    /// Reassembles a store from both sides (as a snapshot holds them).
    pub fn from_parts(user_ids: Vec<u32>, n_anime: usize, by_user: Csr, by_anime: Csr) -> Ratings {
        Ratings {
            user_ids,
            n_anime,
            by_user,
            by_anime,
        }
    }

    /// Builds a store from `(original user id, anime index, rating)` triples; later repeats win.
    /// Meant for tests and small inputs.
    pub fn from_triples(n_anime: usize, triples: &[(u32, u32, u8)]) -> Ratings {
        let mut skips = Skips::default();
        build(
            vec![vec![RawChunk::from_rows(triples)]],
            n_anime,
            &mut skips,
        )
        .pop()
        .unwrap_or_default()
    }

    /// The store with more users appended (their rows after everyone's): each new user's id
    /// must be above every id already in the store and each row sorted by anime without
    /// repeats, else an error names the first that is not. Statuses are kept when the store or
    /// a new entry has one (0, unknown, for the entries that do not).
    pub fn with_users(&self, users: &[NewUser]) -> Result<Ratings, NewUserError> {
        let mut last = self.user_ids.last().copied();
        for u in users {
            if let Some(highest) = last.filter(|&l| u.id.0 <= l) {
                return Err(NewUserError::NotAbove {
                    user: u.id,
                    highest: UserId(highest),
                });
            }
            if let Some(w) = u.entries.windows(2).find(|w| w[0].anime >= w[1].anime) {
                return Err(NewUserError::Unsorted {
                    user: u.id,
                    anime: w[1].anime,
                });
            }
            if let Some(e) = u.entries.iter().find(|e| e.anime.index() >= self.n_anime) {
                return Err(NewUserError::OutsideCatalogue {
                    user: u.id,
                    anime: e.anime,
                });
            }
            last = Some(u.id.0);
        }
        let with_status = self.has_status()
            || users
                .iter()
                .flat_map(|u| &u.entries)
                .any(|e| e.status.is_some());
        let mut by_user = self.by_user.clone();
        if with_status && by_user.status.is_empty() {
            by_user.status = vec![0; by_user.indices.len()];
        }
        let mut user_ids = self.user_ids.clone();
        for u in users {
            for e in &u.entries {
                by_user.indices.push(e.anime.0);
                by_user.ratings.push(e.score.code());
                if with_status {
                    by_user.status.push(e.status.map_or(0, WatchStatus::code));
                }
            }
            by_user.indptr.push(by_user.indices.len() as u64);
            user_ids.push(u.id.0);
        }
        Ok(Ratings::from_user_rows(user_ids, self.n_anime, by_user))
    }

    /// Number of users (rows), including users with no rating in this store.
    pub fn n_users(&self) -> usize {
        self.user_ids.len()
    }

    /// Number of anime (columns).
    pub fn n_anime(&self) -> usize {
        self.n_anime
    }

    /// Number of ratings.
    pub fn len(&self) -> usize {
        self.by_user.nnz()
    }

    /// Whether there is no rating.
    pub fn is_empty(&self) -> bool {
        self.by_user.nnz() == 0
    }

    /// Whether entries carry a watching status.
    pub fn has_status(&self) -> bool {
        !self.by_user.status.is_empty()
    }

    /// Original user ids, by user index (ascending).
    pub fn user_ids(&self) -> &[u32] {
        &self.user_ids
    }

    /// The user index of an original user id.
    pub fn user_index(&self, user_id: UserId) -> Option<UserIx> {
        self.user_ids
            .binary_search(&user_id.0)
            .ok()
            .map(|i| UserIx(i as u32))
    }

    /// The original id of a user index.
    pub fn user_id(&self, user: UserIx) -> UserId {
        UserId(self.user_ids[user.index()])
    }

    /// A user's ratings (anime indices ascending).
    pub fn user(&self, user: UserIx) -> Row<'_> {
        self.by_user.row(user.index())
    }

    /// An anime's ratings (user indices ascending).
    pub fn anime(&self, anime: AnimeIx) -> Row<'_> {
        self.by_anime.row(anime.index())
    }

    /// The CSR by user.
    pub fn by_user(&self) -> &Csr {
        &self.by_user
    }

    /// The CSC by anime (as a CSR of the transpose).
    pub fn by_anime(&self) -> &Csr {
        &self.by_anime
    }

    /// Users with at least one rating.
    pub fn active_users(&self) -> usize {
        (0..self.n_users())
            .filter(|&u| !self.user(UserIx(u as u32)).is_empty())
            .count()
    }

    /// Anime with at least one rating.
    pub fn rated_anime(&self) -> usize {
        (0..self.n_anime)
            .filter(|&a| !self.anime(AnimeIx(a as u32)).is_empty())
            .count()
    }

    /// Smallest and largest score (ignoring "no score"), or `None` when nothing is scored.
    pub fn score_range(&self) -> Option<(u8, u8)> {
        let mut seen = [false; 11];
        for &r in &self.by_user.ratings {
            seen[r as usize] = true;
        }
        let min = (1..=10).find(|&r| seen[r])?;
        let max = (1..=10).rev().find(|&r| seen[r])?;
        Some((min as u8, max as u8))
    }

    /// Drops users with fewer than `min` ratings; returns the store and how many ratings went.
    pub fn with_min_user_ratings(self, min: usize) -> (Ratings, u64) {
        let keep: Vec<bool> = (0..self.n_users())
            .map(|u| self.user(UserIx(u as u32)).len() >= min)
            .collect();
        if keep.iter().all(|&k| k) {
            return (self, 0);
        }
        let by_user = self.by_user.retain_rows(&keep);
        let dropped = (self.len() - by_user.nnz()) as u64;
        let user_ids = self
            .user_ids
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(id, _)| *id)
            .collect();
        (
            Ratings::from_user_rows(user_ids, self.n_anime, by_user),
            dropped,
        )
    }
}

/// Largest original user id for which ids are encoded through a direct lookup table.
const DENSE_USER_TABLE_LIMIT: u32 = 1 << 25;

/// Original user id → dense index, over every user of every source.
struct UserMap {
    ids: Vec<u32>,
    table: Option<Vec<u32>>,
}

impl UserMap {
    fn build(sources: &[Vec<RawChunk>]) -> UserMap {
        let chunks = || sources.iter().flatten();
        let max = chunks().map(|c| c.max_user).max().unwrap_or(0);
        if max < DENSE_USER_TABLE_LIMIT {
            let mut table = vec![0u32; max as usize + 1];
            for chunk in chunks() {
                for &u in &chunk.users {
                    table[u as usize] = 1;
                }
            }
            let mut ids = Vec::new();
            for (id, slot) in table.iter_mut().enumerate() {
                if *slot == 1 {
                    *slot = ids.len() as u32;
                    ids.push(id as u32);
                } else {
                    *slot = u32::MAX;
                }
            }
            UserMap {
                ids,
                table: Some(table),
            }
        } else {
            let mut ids: Vec<u32> = chunks().flat_map(|c| c.users.iter().copied()).collect();
            ids.par_sort_unstable();
            ids.dedup();
            UserMap { ids, table: None }
        }
    }

    #[inline]
    fn index(&self, id: u32) -> u32 {
        match &self.table {
            Some(table) => table[id as usize],
            None => self.ids.binary_search(&id).map_or(u32::MAX, |i| i as u32),
        }
    }
}

/// Builds one store per source (each a file's chunks in file order), all sharing one user index
/// space. Repeated (user, anime) pairs within a source keep the last row; the dropped ones are
/// counted as [`SkipReason::Duplicate`].
pub fn build(mut sources: Vec<Vec<RawChunk>>, n_anime: usize, skips: &mut Skips) -> Vec<Ratings> {
    let started = std::time::Instant::now();
    let map = UserMap::build(&sources);
    let n_users = map.ids.len();
    sources.par_iter_mut().flatten().for_each(|chunk| {
        for u in &mut chunk.users {
            *u = map.index(*u);
        }
    });
    tracing::debug!(
        users = n_users,
        seconds = started.elapsed().as_secs_f64(),
        "user ids encoded"
    );
    sources
        .into_iter()
        .map(|chunks| {
            let started = std::time::Instant::now();
            let (by_user, duplicates) = user_rows(chunks, n_users);
            tracing::debug!(
                seconds = started.elapsed().as_secs_f64(),
                "rows by user built"
            );
            skips.add(SkipReason::Duplicate, duplicates);
            let started = std::time::Instant::now();
            let ratings = Ratings::from_user_rows(map.ids.clone(), n_anime, by_user);
            tracing::debug!(
                seconds = started.elapsed().as_secs_f64(),
                "rows by anime built"
            );
            ratings
        })
        .collect()
}

/// Consecutive parsed chunks, as a block of (user, anime, rating, status) entries.
struct ChunkGroup<'a>(&'a [RawChunk]);

impl EntrySource for ChunkGroup<'_> {
    fn for_each(&self, mut f: impl FnMut(u32, u32, u8, u8)) {
        for chunk in self.0 {
            let with_status = !chunk.status.is_empty();
            for i in 0..chunk.len() {
                let st = if with_status { chunk.status[i] } else { 0 };
                f(chunk.users[i], chunk.anime[i], chunk.ratings[i], st);
            }
        }
    }
}

/// Gathers rows by user (file order within a user), then sorts each row and drops repeats.
fn user_rows(chunks: Vec<RawChunk>, n_users: usize) -> (Csr, u64) {
    let with_status = chunks.iter().any(|c| !c.status.is_empty());
    let per_group = chunks
        .len()
        .div_ceil(rayon::current_num_threads() * 2)
        .max(1);
    let groups: Vec<ChunkGroup> = chunks.chunks(per_group).map(ChunkGroup).collect();
    let Csr {
        mut indptr,
        mut indices,
        mut ratings,
        mut status,
    } = bucket_by_key(&groups, n_users, with_status);
    drop(groups);
    drop(chunks);
    let nnz = indices.len();

    // Sort each row by anime; among repeats the last row in file order wins.
    let kept: Vec<u64> = {
        let mut rows = Vec::with_capacity(n_users);
        let (mut idx, mut rat, mut st) = (&mut indices[..], &mut ratings[..], &mut status[..]);
        for u in 0..n_users {
            let len = (indptr[u + 1] - indptr[u]) as usize;
            let (a, rest_i) = idx.split_at_mut(len);
            let (b, rest_r) = rat.split_at_mut(len);
            let (c, rest_s) = st.split_at_mut(if with_status { len } else { 0 });
            rows.push((a, b, c));
            (idx, rat, st) = (rest_i, rest_r, rest_s);
        }
        rows.into_par_iter()
            .map(|(a, b, c)| sort_dedup_row(a, b, c) as u64)
            .collect()
    };
    let duplicates = nnz as u64 - kept.iter().sum::<u64>();
    if duplicates > 0 {
        // Close the gaps the dropped repeats left.
        let mut write = 0usize;
        for u in 0..n_users {
            let read = indptr[u] as usize;
            let len = kept[u] as usize;
            indices.copy_within(read..read + len, write);
            ratings.copy_within(read..read + len, write);
            if with_status {
                status.copy_within(read..read + len, write);
            }
            indptr[u] = write as u64;
            write += len;
        }
        indptr[n_users] = write as u64;
        indices.truncate(write);
        ratings.truncate(write);
        status.truncate(if with_status { write } else { 0 });
    }
    (
        Csr {
            indptr,
            indices,
            ratings,
            status,
        },
        duplicates,
    )
}

/// Sorts one row by index, keeping the last of repeated indices; returns the kept length.
fn sort_dedup_row(indices: &mut [u32], ratings: &mut [u8], status: &mut [u8]) -> usize {
    if indices.windows(2).all(|w| w[0] < w[1]) {
        return indices.len();
    }
    let mut order: Vec<u32> = (0..indices.len() as u32).collect();
    order.sort_by_key(|&p| indices[p as usize]); // stable: file order among repeats
    let mut kept: Vec<(u32, u8, u8)> = Vec::with_capacity(order.len());
    for &p in &order {
        let p = p as usize;
        let entry = (indices[p], ratings[p], status.get(p).copied().unwrap_or(0));
        match kept.last_mut() {
            Some(last) if last.0 == entry.0 => *last = entry,
            _ => kept.push(entry),
        }
    }
    for (i, (a, r, s)) in kept.iter().enumerate() {
        indices[i] = *a;
        ratings[i] = *r;
        if !status.is_empty() {
            status[i] = *s;
        }
    }
    kept.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triples_build_sorted_rows_and_the_transpose() {
        let r = Ratings::from_triples(4, &[(50, 3, 7), (10, 1, 9), (50, 0, 5), (10, 3, 2)]);
        assert_eq!(r.user_ids(), &[10, 50]);
        assert_eq!(r.user(UserIx(0)).indices, &[1, 3]);
        assert_eq!(r.user(UserIx(0)).ratings, &[9, 2]);
        assert_eq!(r.user(UserIx(1)).indices, &[0, 3]);
        assert_eq!(r.anime(AnimeIx(3)).indices, &[0, 1]);
        assert_eq!(r.anime(AnimeIx(3)).ratings, &[2, 7]);
        assert!(r.anime(AnimeIx(2)).is_empty());
        assert_eq!(r.rated_anime(), 3);
        assert_eq!(r.user(UserIx(1)).rating_of(3), Some(7));
        assert_eq!(r.user_index(UserId(50)), Some(UserIx(1)));
        assert_eq!(r.user_index(UserId(11)), None);
        assert_eq!(r.user_id(UserIx(1)), UserId(50));
    }

    #[test]
    fn users_are_appended_with_their_statuses() {
        let r = Ratings::from_triples(4, &[(50, 3, 7), (10, 1, 9)]);
        let entry = |anime, score, status| NewEntry {
            anime: AnimeIx(anime),
            score: Score::new(score).unwrap(),
            status,
        };
        let more = r
            .with_users(&[NewUser {
                id: UserId(3_000_000_000),
                entries: vec![
                    entry(1, 8, Some(WatchStatus::Completed)),
                    entry(2, 0, Some(WatchStatus::PlanToWatch)),
                ],
            }])
            .unwrap();
        assert_eq!(more.user_ids(), &[10, 50, 3_000_000_000]);
        assert_eq!(more.len(), 4);
        assert!(more.has_status());
        assert_eq!(more.user(UserIx(0)).status, &[0]);
        assert_eq!(more.user(UserIx(2)).ratings, &[8, 0]);
        assert_eq!(more.user(UserIx(2)).status, &[2, 6]);
        assert_eq!(more.anime(AnimeIx(1)).indices, &[0, 2]);
        // Ids must stay ascending, rows sorted, anime inside the catalogue.
        let bad = |id, entries| {
            r.with_users(&[NewUser {
                id: UserId(id),
                entries,
            }])
        };
        assert_eq!(
            bad(50, vec![]).unwrap_err().to_string(),
            "user 50 is not above every user id of the store (the highest is 50)"
        );
        assert_eq!(
            bad(60, vec![entry(2, 1, None), entry(1, 1, None)])
                .unwrap_err()
                .to_string(),
            "user 60: anime index 1 is not in ascending order"
        );
        assert_eq!(
            bad(60, vec![entry(4, 1, None)]).unwrap_err(),
            NewUserError::OutsideCatalogue {
                user: UserId(60),
                anime: AnimeIx(4)
            }
        );
        assert!(!bad(60, vec![entry(3, 5, None)]).unwrap().has_status());
    }

    #[test]
    fn repeated_pairs_keep_the_last_row() {
        let chunk = RawChunk::from_rows;
        // The repeat spans two chunks: file order decides.
        let sources = vec![vec![
            chunk(&[(1, 2, 4), (1, 0, 8)]),
            chunk(&[(1, 2, 9), (2, 2, 1)]),
        ]];
        let mut skips = Skips::default();
        let r = build(sources, 3, &mut skips).remove(0);
        assert_eq!(skips.get(SkipReason::Duplicate), 1);
        assert_eq!(r.len(), 3);
        assert_eq!(r.user(UserIx(0)).indices, &[0, 2]);
        assert_eq!(r.user(UserIx(0)).ratings, &[8, 9]);
        assert_eq!(r.user(UserIx(1)).ratings, &[1]);
        assert_eq!(r.anime(AnimeIx(2)).ratings, &[9, 1]);
    }

    #[test]
    fn min_user_ratings_drops_light_users() {
        let r = Ratings::from_triples(3, &[(1, 0, 5), (1, 1, 6), (2, 2, 7)]);
        let (r, dropped) = r.with_min_user_ratings(2);
        assert_eq!(dropped, 1);
        assert_eq!(r.user_ids(), &[1]);
        assert_eq!(r.anime(AnimeIx(2)).len(), 0);
        assert_eq!(r.score_range(), Some((5, 6)));
    }

    #[test]
    fn watch_status_words_and_codes() {
        assert_eq!(
            WatchStatus::parse("Plan to Watch"),
            Some(WatchStatus::PlanToWatch)
        );
        assert_eq!(WatchStatus::parse("On-Hold"), Some(WatchStatus::OnHold));
        assert_eq!(WatchStatus::parse("2"), Some(WatchStatus::Completed));
        assert_eq!(WatchStatus::parse("5"), None);
    }
}
