//! Franchise-aware figures on the protocol's split (beside `eval`'s plain ones): how much of a
//! top-10 list is in franchises the user already rated, NDCG@10 with those franchises removed
//! from both the relevant set and the list ("new franchises"), and what the "continue your series"
//! row holds of the held-out anime.

use anirec_data::{AnimeIx, Franchises, Ratings, UserIx};
use rayon::prelude::*;
use serde::Serialize;

use crate::entry::Entry;
use crate::eval::{K, relevant};
use crate::metrics::score_user;
use crate::series::started;

/// One system's lists, franchise-aware.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ListFigures {
    /// The protocol's NDCG@10 of the list as shown.
    pub ndcg_at_10: f64,
    /// NDCG@10 with the anime of franchises the user rated in train removed from the relevant
    /// set and from the top 10 (the slots they took count as misses: what the fan discovers in
    /// the list as shown).
    pub ndcg_at_10_new_franchises: f64,
    /// Share of the catalogue's anime (those in train) in some user's top 10.
    pub coverage: f64,
    /// Share of the top-10 slots taken by franchises the user rated in train.
    pub started_share: f64,
}

/// What the continue row holds of the held-out anime.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ContinueFigures {
    /// Share of the row's entries (up to 10 per user) that are relevant held-out anime.
    pub precision: f64,
    /// Share of the relevant held-out anime in franchises the user rated in train that the row
    /// holds (the sequel hits the discovery list no longer shows).
    pub sequel_recall: f64,
    /// Users with a row.
    pub users: usize,
}

/// A user's train entries, as a profile holds them (sorted by anime).
pub fn train_entries(train: &Ratings, user: UserIx) -> Vec<Entry> {
    Entry::of_row(train.user(user)).collect()
}

/// A test user the figures count (one with a liked held-out anime and train ratings).
struct TestUser {
    user: UserIx,
    /// Their liked held-out anime, ascending.
    relevant: Vec<u32>,
    /// The franchise numbers their train entries touch, sorted.
    started: Vec<u32>,
}

impl TestUser {
    /// Whether an anime is in a franchise the user started.
    fn in_started(&self, franchises: &Franchises, a: u32) -> bool {
        franchises
            .group_of(AnimeIx(a))
            .is_some_and(|g| self.started.binary_search(&g).is_ok())
    }
}

/// The test users, in parallel.
fn test_users<'a>(
    train: &'a Ratings,
    test: &'a Ratings,
    franchises: &'a Franchises,
) -> impl ParallelIterator<Item = TestUser> + 'a {
    (0..test.n_users() as u32)
        .into_par_iter()
        .filter_map(move |u| {
            let relevant = relevant(test.user(UserIx(u)));
            if relevant.is_empty() || train.user(UserIx(u)).is_empty() {
                return None;
            }
            let user = UserIx(u);
            let started = started(franchises, &train_entries(train, user));
            Some(TestUser {
                user,
                relevant,
                started,
            })
        })
}

/// The figures of a system whose `ranked(user, started)` gives a user's top [`K`], best first
/// (`started`: the franchise numbers the user's train entries touch, sorted), never an anime of
/// the user's train entries.
pub fn evaluate_lists(
    train: &Ratings,
    test: &Ratings,
    franchises: &Franchises,
    ranked: &(dyn Fn(UserIx, &[u32]) -> Vec<u32> + Sync),
) -> ListFigures {
    let per_user: Vec<(f64, Option<f64>, usize, Vec<u32>)> = test_users(train, test, franchises)
        .map(|t| {
            let in_started = |a: u32| t.in_started(franchises, a);
            let top: Vec<u32> = ranked(t.user, &t.started).into_iter().take(K).collect();
            let plain = score_user(&top, &t.relevant, K).ndcg;
            let new_relevant: Vec<u32> = (t.relevant.iter().copied())
                .filter(|&a| !in_started(a))
                .collect();
            let new_top: Vec<u32> = top.iter().copied().filter(|&a| !in_started(a)).collect();
            let new =
                (!new_relevant.is_empty()).then(|| score_user(&new_top, &new_relevant, K).ndcg);
            let started_slots = top.iter().filter(|&&a| in_started(a)).count();
            (plain, new, started_slots, top)
        })
        .collect();
    let users = per_user.len().max(1) as f64;
    let new: Vec<f64> = per_user.iter().filter_map(|u| u.1).collect();
    let slots: usize = per_user.iter().map(|u| u.3.len()).sum();
    let mut shown = vec![false; train.n_anime()];
    per_user
        .iter()
        .flat_map(|u| &u.3)
        .for_each(|&a| shown[a as usize] = true);
    let in_train = (0..train.n_anime() as u32)
        .filter(|&a| !train.anime(AnimeIx(a)).is_empty())
        .count()
        .max(1);
    ListFigures {
        ndcg_at_10: per_user.iter().map(|u| u.0).sum::<f64>() / users,
        ndcg_at_10_new_franchises: new.iter().sum::<f64>() / new.len().max(1) as f64,
        coverage: shown.iter().filter(|&&s| s).count() as f64 / in_train as f64,
        started_share: per_user.iter().map(|u| u.2).sum::<usize>() as f64 / slots.max(1) as f64,
    }
}

/// The figures of a continue row: `row(user)` gives the user's row (up to [`K`] anime).
pub fn evaluate_continue(
    train: &Ratings,
    test: &Ratings,
    franchises: &Franchises,
    row: &(dyn Fn(UserIx) -> Vec<u32> + Sync),
) -> ContinueFigures {
    let per_user: Vec<(usize, usize, usize, usize)> = test_users(train, test, franchises)
        .map(|t| {
            let sequels: Vec<u32> = (t.relevant.iter().copied())
                .filter(|&a| t.in_started(franchises, a))
                .collect();
            let row = row(t.user);
            let hits = row.iter().filter(|a| t.relevant.contains(a)).count();
            let sequel_hits = sequels.iter().filter(|a| row.contains(a)).count();
            (row.len(), hits, sequels.len(), sequel_hits)
        })
        .collect();
    let sum = |f: fn(&(usize, usize, usize, usize)) -> usize| per_user.iter().map(f).sum::<usize>();
    ContinueFigures {
        precision: sum(|u| u.1) as f64 / sum(|u| u.0).max(1) as f64,
        sequel_recall: sum(|u| u.3) as f64 / sum(|u| u.2).max(1) as f64,
        users: per_user.iter().filter(|u| u.0 > 0).count(),
    }
}
