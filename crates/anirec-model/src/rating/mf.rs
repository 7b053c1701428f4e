//! Biased matrix factorisation trained by stochastic gradient descent (the "SVD" of Funk and
//! Koren): `r̂ = μ + b_u + b_i + p_u·q_i`. Item biases are pulled toward the baselines' item prior,
//! so rarely rated anime keep a sensible bias. Training runs one epoch at a time so a pipeline can
//! evaluate, checkpoint and stop early between epochs; an epoch's order depends only on the seed
//! and the epoch number, so a resumed run repeats an uninterrupted one exactly.

use anirec_data::Ratings;
use anirec_data::rng::Rng;
use faer::linalg::solvers::Solve;
use faer::{Mat, Side};
use serde::{Deserialize, Serialize};

use super::baseline::Baselines;

/// Parameters of [`Mf`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MfParams {
    /// Latent factors.
    pub factors: usize,
    /// Initial learning rate.
    pub learning_rate: f32,
    /// Learning rate multiplier after each epoch.
    pub decay: f32,
    /// L2 regularisation of the factors.
    pub reg: f32,
    /// L2 regularisation of the biases (toward the baselines' priors).
    pub reg_bias: f32,
    /// Standard deviation of the initial factors.
    pub init_std: f32,
    /// Seed of initialisation and of each epoch's order.
    pub seed: u64,
}

impl Default for MfParams {
    fn default() -> Self {
        MfParams {
            factors: 64,
            learning_rate: 0.02,
            decay: 0.92,
            reg: 0.1,
            reg_bias: 0.02,
            init_std: 0.1,
            seed: 42,
        }
    }
}

/// Model state; serialisable so a training run can be checkpointed and resumed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mf {
    /// Parameters.
    pub params: MfParams,
    /// Global mean.
    pub mu: f32,
    /// User biases.
    pub user_bias: Vec<f32>,
    /// Item biases.
    pub item_bias: Vec<f32>,
    /// Item bias priors (where an item bias is pulled).
    pub item_prior: Vec<f32>,
    /// User factors, `n_users × factors`, row-major.
    pub user_factors: Vec<f32>,
    /// Item factors, `n_anime × factors`, row-major.
    pub item_factors: Vec<f32>,
    /// Epochs completed.
    pub epochs: usize,
}

impl Mf {
    /// A fresh model: biases from `baselines`, small random factors.
    pub fn new(train: &Ratings, baselines: &Baselines, params: MfParams) -> Mf {
        let f = params.factors;
        let init = |n: usize, stream: u64| {
            let mut rng = Rng::for_item(params.seed, stream);
            (0..n * f)
                .map(|_| rng.normal() as f32 * params.init_std)
                .collect::<Vec<f32>>()
        };
        Mf {
            params,
            mu: baselines.mu,
            user_bias: baselines.user.clone(),
            item_bias: baselines.item.clone(),
            item_prior: baselines.item_prior.clone(),
            user_factors: init(train.n_users(), 1),
            item_factors: init(train.n_anime(), 2),
            epochs: 0,
        }
    }

    /// The learning rate of the next epoch.
    pub fn learning_rate(&self) -> f32 {
        self.params.learning_rate * self.params.decay.powi(self.epochs as i32)
    }

    /// One pass of SGD over the scored entries of `train`: users in a seeded random order, each
    /// user's ratings in a seeded random order (user-major, so the user's factors stay in cache
    /// and only item factors are fetched). Returns the mean squared training error seen during
    /// the pass.
    pub fn epoch(&mut self, train: &Ratings) -> f64 {
        let f = self.params.factors;
        let lr = self.learning_rate();
        let (reg, reg_b) = (self.params.reg, self.params.reg_bias);
        let by_user = train.by_user();
        let mut rng = Rng::for_item(self.params.seed ^ 0x5EED, self.epochs as u64);
        let mut users: Vec<u32> = (0..train.n_users() as u32).collect();
        rng.choose_front(&mut users, usize::MAX);
        let mut order: Vec<u32> = Vec::new();
        let (mut se, mut n) = (0f64, 0u64);
        for &u in &users {
            let (lo, hi) = (
                by_user.indptr[u as usize] as u32,
                by_user.indptr[u as usize + 1] as u32,
            );
            order.clear();
            order.extend((lo..hi).filter(|&p| by_user.ratings[p as usize] > 0));
            rng.choose_front(&mut order, usize::MAX);
            let u = u as usize;
            let pu = u * f;
            for &p in &order {
                let a = by_user.indices[p as usize] as usize;
                let r = by_user.ratings[p as usize] as f32;
                let qi = a * f;
                let (uf, itf) = (
                    &mut self.user_factors[pu..pu + f],
                    &mut self.item_factors[qi..qi + f],
                );
                let dot: f32 = uf.iter().zip(itf.iter()).map(|(x, y)| x * y).sum();
                let err = r - (self.mu + self.user_bias[u] + self.item_bias[a] + dot);
                se += (err * err) as f64;
                n += 1;
                self.user_bias[u] += lr * (err - reg_b * self.user_bias[u]);
                self.item_bias[a] += lr * (err - reg_b * (self.item_bias[a] - self.item_prior[a]));
                for (x, y) in uf.iter_mut().zip(itf.iter_mut()) {
                    let (px, py) = (*x, *y);
                    *x += lr * (err * py - reg * px);
                    *y += lr * (err * px - reg * py);
                }
            }
        }
        self.epochs += 1;
        se / n.max(1) as f64
    }

    /// Prediction for a known user.
    #[inline]
    pub fn predict(&self, user: u32, anime: u32) -> f32 {
        let f = self.params.factors;
        let (pu, qi) = (user as usize * f, anime as usize * f);
        let dot: f32 = (0..f)
            .map(|k| self.user_factors[pu + k] * self.item_factors[qi + k])
            .sum();
        self.mu + self.user_bias[user as usize] + self.item_bias[anime as usize] + dot
    }

    /// Bias and factors of a user the model never saw, from (anime, score) entries: a ridge
    /// regression of their residuals on the item factors, with `user_bias` fixed.
    pub fn fold_in(&self, user_bias: f32, entries: &[(u32, u8)]) -> Vec<f32> {
        let f = self.params.factors;
        let mut a = Mat::<f32>::zeros(f, f);
        let mut rhs = Mat::<f32>::zeros(f, 1);
        let lambda = self.params.reg * entries.len().max(1) as f32;
        for k in 0..f {
            a[(k, k)] = lambda;
        }
        for &(anime, r) in entries.iter().filter(|e| e.1 > 0) {
            let q = &self.item_factors[anime as usize * f..(anime as usize + 1) * f];
            let e = r as f32 - (self.mu + user_bias + self.item_bias[anime as usize]);
            for i in 0..f {
                rhs[(i, 0)] += e * q[i];
                for j in 0..f {
                    a[(i, j)] += q[i] * q[j];
                }
            }
        }
        match a.llt(Side::Lower) {
            Ok(llt) => {
                let x = llt.solve(&rhs);
                (0..f).map(|i| x[(i, 0)]).collect()
            }
            Err(_) => vec![0.0; f],
        }
    }

    /// Prediction from a folded-in user's bias and factors.
    pub fn predict_folded(&self, user_bias: f32, factors: &[f32], anime: u32) -> f32 {
        let f = self.params.factors;
        let q = &self.item_factors[anime as usize * f..(anime as usize + 1) * f];
        self.mu
            + user_bias
            + self.item_bias[anime as usize]
            + factors.iter().zip(q).map(|(a, b)| a * b).sum::<f32>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rating::baseline::BaselineParams;

    /// Two taste groups with opposite preferences on two anime families.
    fn taste_data() -> Ratings {
        let mut t = Vec::new();
        for u in 0..80u32 {
            for a in 0..10u32 {
                if (u + a) % 3 == 0 {
                    continue; // leave holes to predict
                }
                let likes = (u % 2 == 0) == (a < 5);
                t.push((u, a, if likes { 9 } else { 3 }));
            }
        }
        Ratings::from_triples(10, &t)
    }

    #[test]
    fn learns_taste_and_lowers_training_error() {
        let train = taste_data();
        let b = Baselines::fit(&train, vec![0.0; 10], BaselineParams::default());
        let mut mf = Mf::new(
            &train,
            &b,
            MfParams {
                factors: 4,
                learning_rate: 0.05,
                ..MfParams::default()
            },
        );
        let first = mf.epoch(&train);
        let mut last = first;
        for _ in 0..40 {
            last = mf.epoch(&train);
        }
        assert!(last < first * 0.2, "{first} -> {last}");
        // User 0 (even: likes 0-4) on the held-out anime 3 vs 6: (0 + 3) % 3 == 0 and 6 too.
        assert!(
            mf.predict(0, 3) > 7.0 && mf.predict(0, 6) < 5.0,
            "{} {}",
            mf.predict(0, 3),
            mf.predict(0, 6)
        );
        // Fold-in of user 0's own ratings predicts like the trained user.
        let row = train.user(0);
        let entries: Vec<(u32, u8)> = row
            .indices
            .iter()
            .copied()
            .zip(row.ratings.iter().copied())
            .collect();
        let folded = mf.fold_in(mf.user_bias[0], &entries);
        let (x, y) = (
            mf.predict_folded(mf.user_bias[0], &folded, 3),
            mf.predict(0, 3),
        );
        assert!((x - y).abs() < 1.0, "{x} vs {y}");
    }

    #[test]
    fn epochs_resume_exactly() {
        let train = taste_data();
        let b = Baselines::fit(&train, vec![0.0; 10], BaselineParams::default());
        let mut straight = Mf::new(&train, &b, MfParams::default());
        for _ in 0..6 {
            straight.epoch(&train);
        }
        let mut resumed = Mf::new(&train, &b, MfParams::default());
        for _ in 0..3 {
            resumed.epoch(&train);
        }
        let saved = serde_json::to_string(&resumed).unwrap();
        let mut resumed: Mf = serde_json::from_str(&saved).unwrap();
        for _ in 0..3 {
            resumed.epoch(&train);
        }
        assert_eq!(resumed, straight);
    }
}
