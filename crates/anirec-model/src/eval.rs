//! The evaluation protocol of `EVALUATION.md` over a train/test split: rating errors on test pairs
//! whose user and anime both occur in train, and full-ranking top-10 quality for every test user
//! with a relevant (8+) anime, over candidates that occur in train and that the user has not
//! rated in train.

use anirec_data::AnimeIx;
use anirec_data::csr::Row;
use anirec_data::{Ratings, UserIx};
use rayon::prelude::*;

use crate::entry::LIKED_FROM;
use crate::hybrid::{Hybrid, rated_or_unknown};
use crate::metrics::{RankingMetrics, RatingMetrics, UserRanking, mean_ranking, score_user};
use crate::rating::model::UserState;
use crate::topk::top_k;

/// Cut-off of the ranking metrics.
pub const K: usize = 10;

/// Scores every anime for a user of the train store (higher is better). `out` has one slot per
/// anime and is overwritten.
pub trait Scorer: Sync {
    /// Fills `out` with the scores of `user`.
    fn score(&self, user: UserIx, out: &mut [f32]);
}

/// Predicts the scores (1-10) a user of the train store would give some anime.
pub trait Predictor: Sync {
    /// The predicted scores of `user` for each of `anime`, in order.
    fn predict(&self, user: UserIx, anime: &[u32]) -> Vec<f32>;
}

impl<F: Fn(UserIx, &mut [f32]) + Sync> Scorer for F {
    fn score(&self, user: UserIx, out: &mut [f32]) {
        self(user, out)
    }
}

/// The anime of a held-out row that count as relevant: scored [`LIKED_FROM`] or more, ascending.
pub fn relevant(row: Row<'_>) -> Vec<u32> {
    row.indices
        .iter()
        .zip(row.ratings)
        .filter(|&(_, &r)| r >= LIKED_FROM)
        .map(|(&a, _)| a)
        .collect()
}

/// The share of a user's relevant held-out anime that are among `candidates` (both sorted
/// ascending): how much of them a second stage could rank at all.
pub fn share_found(candidates: &[u32], relevant: &[u32]) -> f64 {
    let found = relevant
        .iter()
        .filter(|a| candidates.binary_search(a).is_ok())
        .count();
    found as f64 / relevant.len().max(1) as f64
}

/// The [`share_found`] of `relevant` (sorted) among `model`'s candidates for a user in `state`,
/// `exclude` leaving anime out: the first stage alone, what a ranking can reach. Every
/// protocol's candidate recall is the mean of it.
pub fn share_among_candidates(
    model: &Hybrid,
    state: &UserState,
    exclude: &dyn Fn(AnimeIx) -> bool,
    relevant: &[u32],
) -> f64 {
    let mut found: Vec<u32> = model
        .candidates(state, exclude)
        .iter()
        .map(|c| c.anime.0)
        .collect();
    found.sort_unstable();
    share_found(&found, relevant)
}

/// The mean [`share_among_candidates`] over the test users with a relevant anime, each known
/// from `train` and ranking the anime the protocol ranks for them ([`rated_or_unknown`]).
pub fn candidate_recall(train: &Ratings, test: &Ratings, model: &Hybrid) -> f64 {
    let shares: Vec<f64> = (0..test.n_users() as u32)
        .into_par_iter()
        .filter_map(|u| {
            let relevant = relevant(test.user(UserIx(u)));
            if relevant.is_empty() {
                return None;
            }
            let state = model.rating.known_user(train, UserIx(u));
            let exclude = rated_or_unknown(train, UserIx(u));
            Some(share_among_candidates(model, &state, &exclude, &relevant))
        })
        .collect();
    shares.iter().sum::<f64>() / shares.len().max(1) as f64
}

/// Rating errors on the test pairs whose user and anime occur in train.
pub fn evaluate_ratings(train: &Ratings, test: &Ratings, model: &dyn Predictor) -> RatingMetrics {
    let pairs: Vec<(f64, f64)> = (0..test.n_users() as u32)
        .into_par_iter()
        .filter(|&u| !train.user(UserIx(u)).is_empty())
        .flat_map_iter(|u| {
            let row = test.user(UserIx(u));
            let (anime, truth): (Vec<u32>, Vec<f64>) = row
                .indices
                .iter()
                .zip(row.ratings)
                .filter(|&(&a, &r)| r > 0 && !train.anime(AnimeIx(a)).is_empty())
                .map(|(&a, &r)| (a, r as f64))
                .unzip();
            let predicted = model.predict(UserIx(u), &anime);
            predicted
                .into_iter()
                .map(|p| p as f64)
                .zip(truth)
                .collect::<Vec<_>>()
        })
        .collect();
    RatingMetrics::from_pairs(pairs)
}

/// Top-10 ranking quality and catalogue coverage.
pub fn evaluate_ranking(train: &Ratings, test: &Ratings, model: &dyn Scorer) -> RankingMetrics {
    let in_train: Vec<bool> = (0..train.n_anime() as u32)
        .map(|a| !train.anime(AnimeIx(a)).is_empty())
        .collect();
    let results: Vec<(UserRanking, Vec<u32>)> = (0..test.n_users() as u32)
        .into_par_iter()
        .map_init(
            || vec![0f32; train.n_anime()],
            |scores, u| {
                let relevant = relevant(test.user(UserIx(u)));
                if relevant.is_empty() {
                    return None;
                }
                model.score(UserIx(u), scores);
                let seen = train.user(UserIx(u));
                let top = top_k(scores, K, |a| {
                    in_train[a as usize] && seen.indices.binary_search(&a).is_err()
                });
                Some((score_user(&top, &relevant, K), top))
            },
        )
        .flatten()
        .collect();
    let mut recommended = vec![false; train.n_anime()];
    for (_, top) in &results {
        for &a in top {
            recommended[a as usize] = true;
        }
    }
    let n_train_anime = in_train.iter().filter(|&&x| x).count().max(1);
    let coverage = recommended.iter().filter(|&&x| x).count() as f64 / n_train_anime as f64;
    let rankings: Vec<UserRanking> = results.into_iter().map(|(r, _)| r).collect();
    mean_ranking(&rankings, coverage)
}
