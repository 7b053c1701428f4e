//! The evaluation split of `EVALUATION.md`: users with at least 5 scored ratings hold out a seeded
//! random 20% (at least one, rounded down) as test; everything else is train. Also writing a split
//! as `train.csv` / `test.csv` with original ids, and reading it back; and the splits of the
//! new-fan ([`hold_out_users`]) and new-anime ([`hold_out_anime`]) protocols.

use std::io::Write;
use std::path::Path;

use rayon::prelude::*;

use crate::atomic::write_file;
use crate::catalogue::Catalogue;
use crate::csr::Csr;
use crate::error::{DataError, Result};
use crate::ids::{AnimeIx, UserIx};
use crate::ratings::Ratings;
use crate::rng::Rng;

/// Default seed of the protocol.
pub const DEFAULT_SEED: u64 = 42;
/// Fraction of a user's scored ratings held out.
pub const TEST_FRACTION: f64 = 0.2;
/// Users with fewer scored ratings than this are train only.
pub const MIN_RATINGS_TO_SPLIT: usize = 5;

/// Train and test ratings over the same user and anime indices.
#[derive(Debug, Clone)]
pub struct Split {
    /// Training ratings (all unscored list entries stay here).
    pub train: Ratings,
    /// Held-out ratings.
    pub test: Ratings,
}

/// How many of `n` scored ratings a user holds out.
pub fn test_count(n: usize) -> usize {
    if n < MIN_RATINGS_TO_SPLIT {
        0
    } else {
        ((n as f64 * TEST_FRACTION).floor() as usize).max(1)
    }
}

/// Splits `ratings` for `seed`. Each user's choice depends only on the seed and the user's
/// original id, so it is the same whatever else the file holds and however many threads run.
pub fn split(ratings: &Ratings, seed: u64) -> Split {
    let masks: Vec<Vec<bool>> = (0..ratings.n_users())
        .into_par_iter()
        .map(|u| {
            let row = ratings.user(UserIx(u as u32));
            let mut scored: Vec<usize> = (0..row.len()).filter(|&p| row.ratings[p] > 0).collect();
            let k = test_count(scored.len());
            let mut rng = Rng::for_item(seed, ratings.user_ids()[u] as u64);
            rng.choose_front(&mut scored, k);
            let mut is_test = vec![false; row.len()];
            for &p in &scored[..k] {
                is_test[p] = true;
            }
            is_test
        })
        .collect();
    let part = |want_test: bool| entries_where(ratings, |u, p| masks[u][p] == want_test);
    let (train, test) = rayon::join(|| part(false), || part(true));
    Split { train, test }
}

/// The entries of `ratings` for which `keep(user, position in the user's row)` holds, over the
/// same users and anime.
fn entries_where(ratings: &Ratings, keep: impl Fn(usize, usize) -> bool) -> Ratings {
    let by_user = ratings.by_user();
    let mut csr = Csr {
        indptr: Vec::with_capacity(ratings.n_users() + 1),
        ..Csr::default()
    };
    csr.indptr.push(0);
    for u in 0..ratings.n_users() {
        let row = by_user.row(u);
        for p in (0..row.len()).filter(|&p| keep(u, p)) {
            csr.indices.push(row.indices[p]);
            csr.ratings.push(row.ratings[p]);
            if !row.status.is_empty() {
                csr.status.push(row.status[p]);
            }
        }
        csr.indptr.push(csr.indices.len() as u64);
    }
    Ratings::from_user_rows(ratings.user_ids().to_vec(), ratings.n_anime(), csr)
}

/// Fraction of the users who hold out ratings that the new-fan protocol leaves out of training.
pub const NEW_USER_FRACTION: f64 = 0.1;

/// The new-fan protocol's split (strong generalisation, as Liang et al. 2018 evaluate on
/// MovieLens-20M): a seeded [`NEW_USER_FRACTION`] of the users who hold out ratings under
/// [`split`] leave training whole; each is folded in from their [`split`] train part and scored
/// on its test part. All three stores keep every user index (a user outside one has an empty row).
#[derive(Debug, Clone)]
pub struct UserSplit {
    /// Everyone else's ratings, whole.
    pub train: Ratings,
    /// The new users' ratings to fold in (80% of their scored ratings, and their unscored ones).
    pub fold_in: Ratings,
    /// The new users' held-out ratings.
    pub test: Ratings,
    /// The new users, ascending.
    pub users: Vec<u32>,
}

/// Splits `ratings` for the new-fan protocol with `seed`.
pub fn hold_out_users(ratings: &Ratings, seed: u64) -> UserSplit {
    let by_rating = split(ratings, seed);
    let mut users: Vec<u32> = (0..ratings.n_users() as u32)
        .filter(|&u| !by_rating.test.user(UserIx(u)).is_empty())
        .collect();
    let n = (users.len() as f64 * NEW_USER_FRACTION).round() as usize;
    Rng::new(seed ^ 0x4E45_5755).choose_front(&mut users, n);
    users.truncate(n);
    users.sort_unstable();
    let mut new = vec![false; ratings.n_users()];
    for &u in &users {
        new[u as usize] = true;
    }
    UserSplit {
        train: entries_where(ratings, |u, _| !new[u]),
        fold_in: entries_where(&by_rating.train, |u, _| new[u]),
        test: entries_where(&by_rating.test, |u, _| new[u]),
        users,
    }
}

/// Fraction of the rated anime the new-anime protocol makes new to the model.
pub const NEW_ANIME_FRACTION: f64 = 0.1;

/// The new-anime protocol's split: the [`split`] of the ratings, whose train side loses every
/// rating of a seeded [`NEW_ANIME_FRACTION`] of the anime rated in it. A model fitted on it meets
/// those anime as it meets anime nobody has rated yet; the test side keeps their held-out
/// ratings, which say where they should have ranked.
#[derive(Debug, Clone)]
pub struct AnimeSplit {
    /// The train ratings, without the new anime's.
    pub train: Ratings,
    /// The held-out ratings, unchanged.
    pub test: Ratings,
    /// Whether each anime (by index) is one of the new ones.
    pub new: Vec<bool>,
}

/// Splits `ratings` for the new-anime protocol with `seed`.
pub fn hold_out_anime(ratings: &Ratings, seed: u64) -> AnimeSplit {
    let by_rating = split(ratings, seed);
    let mut rated: Vec<u32> = (0..ratings.n_anime() as u32)
        .filter(|&a| !by_rating.train.anime(AnimeIx(a)).is_empty())
        .collect();
    let n = (rated.len() as f64 * NEW_ANIME_FRACTION).round() as usize;
    Rng::new(seed ^ 0x414E_494D).choose_front(&mut rated, n);
    let mut new = vec![false; ratings.n_anime()];
    for &a in &rated[..n] {
        new[a as usize] = true;
    }
    let train = &by_rating.train;
    AnimeSplit {
        train: entries_where(train, |u, p| {
            !new[train.user(UserIx(u as u32)).indices[p] as usize]
        }),
        test: by_rating.test,
        new,
    }
}

/// Writes `ratings` as `user_id,anime_id,rating` with original ids (unscored entries are left out:
/// the file format has no way to say "listed, not scored"). Atomic.
pub fn write_csv(ratings: &Ratings, catalogue: &Catalogue, path: &Path) -> Result<()> {
    let ids: Vec<u32> = catalogue.anime().iter().map(|a| a.mal_id.0).collect();
    write_file(path, |out| {
        out.write_all(b"user_id,anime_id,rating\n")?;
        let mut line = Vec::with_capacity(32);
        for u in 0..ratings.n_users() {
            let user = ratings.user_ids()[u];
            let row = ratings.user(UserIx(u as u32));
            for (&a, &r) in row.indices.iter().zip(row.ratings) {
                if r == 0 {
                    continue;
                }
                line.clear();
                writeln!(line, "{user},{},{r}", ids[a as usize])?;
                out.write_all(&line)?;
            }
        }
        Ok(())
    })
}

/// Writes `train.csv` and `test.csv` into `dir` (created if needed).
pub fn write_split(split: &Split, catalogue: &Catalogue, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
    write_csv(&split.train, catalogue, &dir.join("train.csv"))?;
    write_csv(&split.test, catalogue, &dir.join("test.csv"))
}

/// Writes the new-fan protocol's `train.csv` (everyone else), `fold_in.csv` and `test.csv` (the
/// held-out users') into `dir` (created if needed).
pub fn write_user_split(split: &UserSplit, catalogue: &Catalogue, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
    write_csv(&split.train, catalogue, &dir.join("train.csv"))?;
    write_csv(&split.fold_in, catalogue, &dir.join("fold_in.csv"))?;
    write_csv(&split.test, catalogue, &dir.join("test.csv"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_follow_the_protocol() {
        assert_eq!(test_count(4), 0);
        assert_eq!(test_count(5), 1);
        assert_eq!(test_count(9), 1);
        assert_eq!(test_count(10), 2);
        assert_eq!(test_count(14), 2);
        assert_eq!(test_count(15), 3);
    }

    #[test]
    fn split_is_disjoint_complete_and_seeded() {
        let mut triples = Vec::new();
        for u in 0..20u32 {
            for a in 0..(u % 12) {
                triples.push((u * 7, a, (1 + (u + a) % 10) as u8));
            }
        }
        let r = Ratings::from_triples(12, &triples);
        let s = split(&r, 42);
        assert_eq!(s.train.len() + s.test.len(), r.len());
        for u in 0..r.n_users() as u32 {
            let n = r.user(UserIx(u)).len();
            assert_eq!(s.test.user(UserIx(u)).len(), test_count(n));
            for &a in s.test.user(UserIx(u)).indices {
                assert_eq!(s.train.user(UserIx(u)).rating_of(a), None);
                assert_eq!(
                    s.test.user(UserIx(u)).rating_of(a),
                    r.user(UserIx(u)).rating_of(a)
                );
            }
        }
        let again = split(&r, 42);
        assert_eq!(again.test, s.test);
        let other = split(&r, 7);
        assert_ne!(other.test, s.test);
    }

    #[test]
    fn new_anime_lose_every_train_rating_and_keep_their_test_ones() {
        let mut triples = Vec::new();
        for u in 0..200u32 {
            for a in 0..(3 + u % 40) {
                triples.push((u * 3, a, (1 + (u + a) % 10) as u8));
            }
        }
        let r = Ratings::from_triples(50, &triples);
        let s = hold_out_anime(&r, 42);
        let base = split(&r, 42);
        assert_eq!(s.test, base.test);
        let rated = (0..50)
            .filter(|&a| !base.train.anime(AnimeIx(a)).is_empty())
            .count();
        let new: Vec<u32> = (0..50u32).filter(|&a| s.new[a as usize]).collect();
        assert_eq!(
            new.len(),
            (rated as f64 * NEW_ANIME_FRACTION).round() as usize
        );
        for a in 0..50u32 {
            let train = s.train.anime(AnimeIx(a)).len();
            if s.new[a as usize] {
                assert_eq!(train, 0, "new anime {a} kept train ratings");
            } else {
                assert_eq!(train, base.train.anime(AnimeIx(a)).len());
            }
        }
        assert!(new.iter().any(|&a| !s.test.anime(AnimeIx(a)).is_empty()));
        let again = hold_out_anime(&r, 42);
        assert_eq!(again.new, s.new);
        assert_ne!(hold_out_anime(&r, 7).new, s.new);
    }

    #[test]
    fn new_users_leave_training_whole_and_split_like_the_protocol() {
        let mut triples = Vec::new();
        for u in 0..200u32 {
            for a in 0..(3 + u % 20) {
                triples.push((u * 3, a, (1 + (u + a) % 10) as u8));
            }
        }
        let r = Ratings::from_triples(30, &triples);
        let s = hold_out_users(&r, 42);
        let eligible = (0..r.n_users() as u32)
            .filter(|&u| test_count(r.user(UserIx(u)).len()) > 0)
            .count();
        assert_eq!(
            s.users.len(),
            (eligible as f64 * NEW_USER_FRACTION).round() as usize
        );
        assert!(!s.users.is_empty());
        let by_rating = split(&r, 42);
        for u in 0..r.n_users() as u32 {
            let new = s.users.binary_search(&u).is_ok();
            if new {
                assert!(s.train.user(UserIx(u)).is_empty());
                assert_eq!(
                    s.fold_in.user(UserIx(u)).indices,
                    by_rating.train.user(UserIx(u)).indices
                );
                assert_eq!(
                    s.test.user(UserIx(u)).indices,
                    by_rating.test.user(UserIx(u)).indices
                );
            } else {
                assert_eq!(s.train.user(UserIx(u)).indices, r.user(UserIx(u)).indices);
                assert!(s.fold_in.user(UserIx(u)).is_empty() && s.test.user(UserIx(u)).is_empty());
            }
        }
        assert_eq!(s.train.len() + s.fold_in.len() + s.test.len(), r.len());
        assert_eq!(hold_out_users(&r, 42).users, s.users);
        assert_ne!(hold_out_users(&r, 7).users, s.users);
    }
}
