//! The evaluation split of `EVALUATION.md`: users with at least 5 scored ratings hold out a seeded
//! random 20% (at least one, rounded down) as test; everything else is train. Also writing a split
//! as `train.csv` / `test.csv` with original ids, and reading it back.

use std::io::Write;
use std::path::Path;

use rayon::prelude::*;

use crate::atomic::write_file;
use crate::catalogue::Catalogue;
use crate::csr::Csr;
use crate::error::{DataError, Result};
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
            let row = ratings.user(u as u32);
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
    let by_user = ratings.by_user();
    let part = |want_test: bool| {
        let mut csr = Csr {
            indptr: Vec::with_capacity(ratings.n_users() + 1),
            ..Csr::default()
        };
        csr.indptr.push(0);
        for (u, mask) in masks.iter().enumerate() {
            let row = by_user.row(u);
            for (p, &t) in mask.iter().enumerate() {
                if t == want_test {
                    csr.indices.push(row.indices[p]);
                    csr.ratings.push(row.ratings[p]);
                    if !row.status.is_empty() {
                        csr.status.push(row.status[p]);
                    }
                }
            }
            csr.indptr.push(csr.indices.len() as u64);
        }
        Ratings::from_user_rows(ratings.user_ids().to_vec(), ratings.n_anime(), csr)
    };
    let (train, test) = rayon::join(|| part(false), || part(true));
    Split { train, test }
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
            let row = ratings.user(u as u32);
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
            let n = r.user(u).len();
            assert_eq!(s.test.user(u).len(), test_count(n));
            for &a in s.test.user(u).indices {
                assert_eq!(s.train.user(u).rating_of(a), None);
                assert_eq!(s.test.user(u).rating_of(a), r.user(u).rating_of(a));
            }
        }
        let again = split(&r, 42);
        assert_eq!(again.test, s.test);
        let other = split(&r, 7);
        assert_ne!(other.test, s.test);
    }
}
