//! Baseline estimates `b_ui = μ + b_u + b_i`, fitted by regularised alternating least squares.
//! Item biases shrink toward an optional per-anime prior (the catalogue's public score), so an
//! anime with few train ratings still gets a sensible bias.

use anirec_data::Ratings;
use anirec_data::{AnimeIx, UserIx};
use rayon::prelude::*;

use crate::entry::Entry;
use safetensors::Dtype;

use crate::stored::{Array, ArrayError, Arrays, Stored, per_anime, vector};

/// Parameters of [`Baselines::fit`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BaselineParams {
    /// Regularisation of item biases (in "pseudo-ratings").
    pub reg_item: f32,
    /// Regularisation of user biases.
    pub reg_user: f32,
    /// Alternating passes.
    pub iterations: usize,
}

impl Default for BaselineParams {
    fn default() -> Self {
        BaselineParams {
            reg_item: 10.0,
            reg_user: 10.0,
            iterations: 10,
        }
    }
}

/// Global mean and user and item biases.
#[derive(Debug, Clone, PartialEq)]
pub struct Baselines {
    /// Mean score.
    pub(crate) mu: f32,
    /// User biases.
    pub(crate) user: Vec<f32>,
    /// Item biases.
    pub(crate) item: Vec<f32>,
    /// What each item bias shrinks toward.
    pub(crate) item_prior: Vec<f32>,
    /// Parameters used.
    pub params: BaselineParams,
}

impl Baselines {
    /// Fits on the scored entries of `train`. `item_prior[a]` (relative to the mean) is where an
    /// anime's bias goes when it has no rating; pass zeros for the classic baseline.
    pub fn fit(train: &Ratings, item_prior: Vec<f32>, params: BaselineParams) -> Baselines {
        let mu = mean_score(train);
        let mut b = Baselines {
            mu,
            user: vec![0.0; train.n_users()],
            item: item_prior.clone(),
            item_prior,
            params,
        };
        for _ in 0..params.iterations {
            b.user = (0..train.n_users() as u32)
                .into_par_iter()
                .map(|u| {
                    let row = train.user(UserIx(u));
                    let (s, n) = scored(row.indices, row.ratings)
                        .fold((0f32, 0f32), |(s, n), (a, r)| {
                            (s + r - mu - b.item[a as usize], n + 1.0)
                        });
                    s / (params.reg_user + n)
                })
                .collect();
            b.item = (0..train.n_anime() as u32)
                .into_par_iter()
                .map(|a| {
                    let col = train.anime(AnimeIx(a));
                    let (s, n) = scored(col.indices, col.ratings)
                        .fold((0f32, 0f32), |(s, n), (u, r)| {
                            (s + r - mu - b.user[u as usize], n + 1.0)
                        });
                    (s + params.reg_item * b.item_prior[a as usize]) / (params.reg_item + n)
                })
                .collect();
        }
        b
    }

    /// The baseline of a known user for an anime.
    #[inline]
    pub fn predict(&self, user: u32, anime: u32) -> f32 {
        self.mu + self.user[user as usize] + self.item[anime as usize]
    }

    /// The bias of a user the model never saw, from their (anime, score) entries.
    pub fn fold_in_user(&self, entries: &[Entry]) -> f32 {
        let (s, n) = entries
            .iter()
            .filter(|e| e.is_scored())
            .fold((0f32, 0f32), |(s, n), e| {
                (
                    s + e.score.code() as f32 - self.mu - self.item[e.anime.index()],
                    n + 1.0,
                )
            });
        s / (self.params.reg_user + n)
    }
}

/// The mean of the scored ratings (5.5, the middle of the scale, when nothing is scored).
pub fn mean_score(ratings: &Ratings) -> f32 {
    let (sum, n) = ratings
        .by_user()
        .ratings
        .iter()
        .filter(|&&r| r > 0)
        .fold((0f64, 0u64), |(s, n), &r| (s + r as f64, n + 1));
    if n > 0 { (sum / n as f64) as f32 } else { 5.5 }
}

/// The scored entries of a row, as (index, score).
pub fn scored<'a>(indices: &'a [u32], ratings: &'a [u8]) -> impl Iterator<Item = (u32, f32)> + 'a {
    indices
        .iter()
        .zip(ratings)
        .filter(|e| *e.1 > 0)
        .map(|(&i, &r)| (i, r as f32))
}

/// Item priors from the catalogue's public mean scores, relative to the train mean; anime without
/// a public score get 0.
pub fn catalogue_prior(scores: &[Option<f32>], train_mean: f32, weight: f32) -> Vec<f32> {
    scores
        .iter()
        .map(|s| s.map_or(0.0, |s| weight * (s - train_mean)))
        .collect()
}

/// Stored as `baseline.user`, `baseline.item`, `baseline.item_prior`; rebuilt with (mean,
/// parameters, anime).
impl Stored for Baselines {
    type With = (f32, BaselineParams, usize);

    fn arrays(&self) -> Vec<Array> {
        vec![
            vector("baseline.user", Dtype::F32, &self.user),
            vector("baseline.item", Dtype::F32, &self.item),
            vector("baseline.item_prior", Dtype::F32, &self.item_prior),
        ]
    }

    fn restore(a: &Arrays, (mu, params, n_anime): Self::With) -> Result<Self, ArrayError> {
        let baselines = Baselines {
            mu,
            user: a.get("baseline.user", Dtype::F32)?,
            item: a.get("baseline.item", Dtype::F32)?,
            item_prior: a.get("baseline.item_prior", Dtype::F32)?,
            params,
        };
        per_anime(&baselines.item, "baseline.item", n_anime)?;
        per_anime(&baselines.item_prior, "baseline.item_prior", n_anime)?;
        Ok(baselines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn biases_separate_generous_users_from_good_anime() {
        // User 1 rates everything 2 points above user 0; anime 1 is 3 points better than anime 0.
        let mut triples = Vec::new();
        for (u, shift) in [(0u32, 0u8), (1, 2)] {
            triples.push((u, 0, 4 + shift));
            triples.push((u, 1, 7 + shift));
        }
        let train = Ratings::from_triples(3, &triples);
        let b = Baselines::fit(
            &train,
            vec![0.0; 3],
            BaselineParams {
                reg_item: 0.01,
                reg_user: 0.01,
                iterations: 50,
            },
        );
        assert!((b.predict(1, 0) - b.predict(0, 0) - 2.0).abs() < 0.05);
        assert!((b.predict(0, 1) - b.predict(0, 0) - 3.0).abs() < 0.05);
        assert!((b.predict(0, 0) - 4.0).abs() < 0.05);
        // The unrated anime 2 stays at its prior (0).
        assert_eq!(b.item[2], 0.0);
        let entry = |anime, score| Entry {
            anime: anirec_data::AnimeIx(anime),
            score: anirec_data::Score::new(score).unwrap(),
            status: None,
        };
        let folded = b.fold_in_user(&[entry(0, 6), entry(1, 9)]);
        assert!((folded - b.user[1]).abs() < 0.05);
    }
}
