//! The rating model: baselines, the item neighbourhood, the franchise correction and latent
//! factors, blended linearly with
//! weights fitted on a validation split carved from train; then every part is refitted on the
//! whole train set.

use anirec_data::{AnimeIx, Ratings, UserIx};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::baseline::{BaselineParams, Baselines, catalogue_prior, mean_score};
use super::franchise::FranchiseMates;
use super::knn::{ItemKnn, KnnParams};
use super::mf::{Mf, MfParams};
use crate::blend::{apply, least_squares};
use crate::entry::Entry;
use crate::eval::Predictor;
use crate::metrics::RatingMetrics;

/// Most validation users whose held-out ratings fit the rating blend and give its validation
/// RMSE. Four weights need far fewer pairs than a full-scale split holds, and each pair costs
/// a neighbourhood prediction: at 57M ratings, every one of 310,000 users took 12 s of the
/// training; this many take under one. Smaller data (the sample) uses every user.
const BLEND_USERS: usize = 20_000;

/// What the rating blend weighs, in order (after its intercept).
pub const FEATURES: [&str; 4] = ["baseline", "neighbourhood", "franchise", "factors"];

/// Parameters of the rating model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RatingParams {
    /// Baselines.
    pub baseline: BaselineParams,
    /// How strongly item biases lean on the catalogue's public score (0 = not at all).
    pub prior_weight: f32,
    /// Item neighbourhood.
    pub knn: KnnParams,
    /// Latent factors.
    pub mf: MfParams,
    /// Most factor epochs.
    pub max_epochs: usize,
    /// Epochs without a validation improvement of at least `min_improvement` before stopping.
    pub patience: usize,
    /// Smallest drop in validation RMSE that counts as an improvement for early stopping.
    #[serde(default = "default_min_improvement")]
    pub min_improvement: f64,
    /// Factor epochs of the refit on the whole train set. The refit starts from the tuned
    /// factors and runs the tuned schedule's last `refit_epochs` epochs again (their learning
    /// rates), rather than all of them from fresh factors: on the sample the figures are the
    /// same but RMSE (+0.002), at 57M ratings it saves a minute (BENCHMARKS.md "A warm refit, and
    /// EASE in float16").
    #[serde(default = "default_refit_epochs")]
    pub refit_epochs: usize,
    /// Seed of the validation split.
    pub seed: u64,
}

impl Default for RatingParams {
    fn default() -> Self {
        RatingParams {
            baseline: BaselineParams::default(),
            prior_weight: 1.0,
            knn: KnnParams::default(),
            mf: MfParams::default(),
            max_epochs: 40,
            patience: 4,
            min_improvement: default_min_improvement(),
            refit_epochs: default_refit_epochs(),
            seed: 42,
        }
    }
}

fn default_min_improvement() -> f64 {
    1e-3
}

fn default_refit_epochs() -> usize {
    3
}

/// One factor epoch, as reported to an [`EpochObserver`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpochReport {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean squared training error during the epoch.
    pub train_mse: f64,
    /// Validation RMSE of the factor model after the epoch (`None` in the final refit).
    pub val_rmse: Option<f64>,
    /// Learning rate used.
    pub learning_rate: f32,
}

/// Which pass of factor training a [`FactorProgress`] belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Epochs on the carved training part, early-stopped on validation.
    Tuning,
    /// Epochs on the whole train set, as many as tuning chose.
    Refit,
}

/// The factor training state after an epoch: enough to resume exactly where it stopped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FactorProgress {
    /// The pass.
    pub phase: Phase,
    /// The model after the epoch.
    pub current: Mf,
    /// The best validation model of tuning so far (in the refit pass: the tuned model).
    pub best: Mf,
    /// Its validation RMSE.
    pub best_rmse: f64,
    /// The validation RMSE of the last epoch that improved by at least `min_improvement`.
    pub anchor_rmse: f64,
    /// Tuning epochs since that epoch.
    pub since_best: usize,
}

/// Told about each factor epoch (to log, plot, checkpoint).
pub trait EpochObserver {
    /// An epoch finished.
    fn on_epoch(&mut self, report: &EpochReport, progress: &FactorProgress);
}

impl EpochObserver for () {
    fn on_epoch(&mut self, _: &EpochReport, _: &FactorProgress) {}
}

/// A user as the rating model sees them.
#[derive(Debug, Clone, PartialEq)]
pub struct UserState {
    /// Baseline user bias.
    pub bias: f32,
    /// Factor-model user bias.
    pub mf_bias: f32,
    /// Factor-model user factors.
    pub factors: Vec<f32>,
    /// The user's list entries, sorted by anime.
    pub entries: Vec<Entry>,
}

/// The fitted rating model.
#[derive(Debug, Clone)]
pub struct RatingModel {
    /// Parameters.
    pub params: RatingParams,
    /// Baselines.
    pub baselines: Baselines,
    /// Item neighbourhood.
    pub knn: ItemKnn,
    /// Latent factors.
    pub mf: Mf,
    /// Each anime's franchise mates (from the catalogue; not stored in a bundle).
    pub franchise: FranchiseMates,
    /// Blend weights over [`FEATURES`].
    pub blend: Vec<f32>,
    /// Validation RMSE of the blend (the figure tuning saw).
    pub validation: RatingMetrics,
    /// Factor epochs used (the best validation epoch).
    pub epochs: usize,
}

impl RatingModel {
    /// Fits every part on `fit` and tunes the factor epochs (early stopping) and the blend on
    /// `val`, which must share `fit`'s user and anime indices. `resume` continues the factor
    /// epochs from a checkpoint of the same run.
    pub fn tune(
        fit: &Ratings,
        val: &Ratings,
        public_scores: &[Option<f32>],
        franchise: FranchiseMates,
        params: RatingParams,
        observer: &mut dyn EpochObserver,
        resume: Option<&FactorProgress>,
    ) -> RatingModel {
        let clock = std::time::Instant::now();
        let parts = Parts::fit(fit, public_scores, &params);
        tracing::debug!(
            seconds = clock.elapsed().as_secs_f64(),
            "baselines and neighbourhood fitted"
        );
        let fresh = Mf::new(fit, &parts.baselines, params.mf);
        let mut state = match resume {
            Some(p) => p.clone(),
            None => FactorProgress {
                phase: Phase::Tuning,
                best: fresh.clone(),
                current: fresh,
                best_rmse: f64::INFINITY,
                anchor_rmse: f64::INFINITY,
                since_best: 0,
            },
        };
        while state.phase == Phase::Tuning
            && state.current.epochs < params.max_epochs
            && state.since_best < params.patience
        {
            let mf = &mut state.current;
            let learning_rate = mf.learning_rate();
            let train_mse = mf.epoch(fit);
            let rmse = val_rmse(val, |u, a| mf.predict(u, a));
            if rmse < state.best_rmse {
                (state.best, state.best_rmse) = (mf.clone(), rmse);
            }
            if rmse < state.anchor_rmse - params.min_improvement {
                (state.anchor_rmse, state.since_best) = (rmse, 0);
            } else {
                state.since_best += 1;
            }
            let report = EpochReport {
                epoch: state.current.epochs,
                train_mse,
                val_rmse: Some(rmse),
                learning_rate,
            };
            observer.on_epoch(&report, &state);
        }
        let best = state.best;
        let epochs = best.epochs;
        tracing::debug!(
            seconds = clock.elapsed().as_secs_f64(),
            epochs,
            "factor epochs run"
        );
        let mut model = RatingModel {
            params,
            baselines: parts.baselines,
            knn: parts.knn,
            mf: best,
            franchise,
            blend: vec![0.0, 1.0, 1.0, 0.0, 0.0],
            validation: RatingMetrics::default(),
            epochs,
        };
        let (features, targets): (Vec<Vec<f32>>, Vec<f32>) = blend_users(fit, val, params.seed)
            .into_par_iter()
            .flat_map_iter(|u| {
                let state = model.known_user(fit, UserIx(u));
                let row = val.user(UserIx(u));
                row.indices
                    .iter()
                    .zip(row.ratings)
                    .filter(|&(&a, &r)| r > 0 && !fit.anime(AnimeIx(a)).is_empty())
                    .map(|(&a, &r)| (model.features(&state, a).to_vec(), r as f32))
                    .collect::<Vec<_>>()
            })
            .unzip();
        // With no validation pair (tiny data) the default blend stays: baseline + neighbourhood.
        if !features.is_empty() {
            model.blend = least_squares(&features, &targets, 1.0);
        }
        model.validation = RatingMetrics::from_pairs(
            features
                .iter()
                .zip(&targets)
                .map(|(x, &y)| (apply(&model.blend, x) as f64, y as f64)),
        );
        model
    }

    /// The same model (parameters, epochs, blend) fitted again on `train`: baselines and
    /// neighbourhood afresh, the factors continued from the tuned ones for
    /// [`RatingParams::refit_epochs`]. `resume` continues the factor epochs from a refit
    /// checkpoint of the same run.
    pub fn refit(
        &self,
        train: &Ratings,
        public_scores: &[Option<f32>],
        observer: &mut dyn EpochObserver,
        resume: Option<&FactorProgress>,
    ) -> RatingModel {
        let parts = Parts::fit(train, public_scores, &self.params);
        let mut state = FactorProgress {
            phase: Phase::Refit,
            current: match resume {
                Some(p) if p.phase == Phase::Refit => p.current.clone(),
                _ => self.mf.warm_start(
                    &parts.baselines,
                    self.epochs.saturating_sub(self.params.refit_epochs),
                ),
            },
            best: self.mf.clone(),
            best_rmse: f64::NAN,
            anchor_rmse: f64::NAN,
            since_best: 0,
        };
        while state.current.epochs < self.epochs {
            let learning_rate = state.current.learning_rate();
            let train_mse = state.current.epoch(train);
            let report = EpochReport {
                epoch: state.current.epochs,
                train_mse,
                val_rmse: None,
                learning_rate,
            };
            observer.on_epoch(&report, &state);
        }
        let mf = state.current;
        RatingModel {
            params: self.params,
            baselines: parts.baselines,
            knn: parts.knn,
            mf,
            franchise: self.franchise.clone(),
            blend: self.blend.clone(),
            validation: self.validation,
            epochs: self.epochs,
        }
    }

    /// The state of a user of the train store.
    pub fn known_user(&self, train: &Ratings, user: UserIx) -> UserState {
        let (row, u) = (train.user(user), user.index());
        let f = self.mf.params.factors;
        UserState {
            bias: self.baselines.user[u],
            mf_bias: self.mf.user_bias[u],
            factors: self.mf.user_factors[u * f..(u + 1) * f].to_vec(),
            entries: Entry::of_row(row).collect(),
        }
    }

    /// The state of a user the model never saw, from list entries (any order; repeats keep the
    /// last).
    pub fn fold_in(&self, entries: &[Entry]) -> UserState {
        let mut sorted: Vec<Entry> = Vec::with_capacity(entries.len());
        let mut seen = entries.to_vec();
        seen.reverse();
        seen.sort_by_key(|e| e.anime); // stable: for repeats, the last given comes first
        for e in seen {
            if sorted.last().is_none_or(|l| l.anime != e.anime) {
                sorted.push(e);
            }
        }
        let bias = self.baselines.fold_in_user(&sorted);
        UserState {
            bias,
            mf_bias: bias,
            factors: self.mf.fold_in(bias, &sorted),
            entries: sorted,
        }
    }

    /// The blend's inputs for one anime ([`FEATURES`]).
    fn features(&self, user: &UserState, anime: u32) -> [f32; FEATURES.len()] {
        let b = &self.baselines;
        self.features_by(user, anime, |j| {
            user.entries
                .binary_search_by_key(&j, |e| e.anime.0)
                .ok()
                .and_then(|p| user.entries[p].score.get())
                .map(|r| r as f32 - (b.mu + user.bias + b.item[j as usize]))
        })
    }

    /// [`RatingModel::features`] with the user's residual over the baseline for anime `j` given
    /// by `residual` (`None`: not rated).
    fn features_by(
        &self,
        user: &UserState,
        anime: u32,
        residual: impl Fn(u32) -> Option<f32>,
    ) -> [f32; FEATURES.len()] {
        let b = &self.baselines;
        [
            b.mu + user.bias + b.item[anime as usize],
            self.knn.correction(anime, &residual),
            self.franchise.correction(anime, &residual),
            self.mf.predict_folded(user.mf_bias, &user.factors, anime),
        ]
    }

    /// The predicted score, clipped to 1-10.
    pub fn predict(&self, user: &UserState, anime: AnimeIx) -> f32 {
        apply(&self.blend, &self.features(user, anime.0)).clamp(1.0, 10.0)
    }

    /// [`RatingModel::predict`] for many anime: the user's residuals are laid out once in a
    /// table by anime, so each neighbour is a lookup rather than a search (same results).
    pub fn predict_many(&self, user: &UserState, anime: &[u32]) -> Vec<f32> {
        let b = &self.baselines;
        let mut residuals = vec![f32::NAN; b.item.len()];
        for e in user.entries.iter().filter(|e| e.is_scored()) {
            let j = e.anime.index();
            residuals[j] = e.score.code() as f32 - (b.mu + user.bias + b.item[j]);
        }
        let residual = |j: u32| Some(residuals[j as usize]).filter(|v| !v.is_nan());
        anime
            .iter()
            .map(|&a| apply(&self.blend, &self.features_by(user, a, residual)).clamp(1.0, 10.0))
            .collect()
    }
}

/// The seed of the validation split carved from train, derived from the model seed.
pub fn validation_seed(seed: u64) -> u64 {
    seed ^ 0x7A1D
}

/// Baselines and neighbourhood fitted on one set of ratings.
struct Parts {
    baselines: Baselines,
    knn: ItemKnn,
}

impl Parts {
    fn fit(ratings: &Ratings, public_scores: &[Option<f32>], params: &RatingParams) -> Parts {
        let prior = catalogue_prior(public_scores, mean_score(ratings), params.prior_weight);
        let baselines = Baselines::fit(ratings, prior, params.baseline);
        let knn = ItemKnn::fit(ratings, &baselines, params.knn);
        Parts { baselines, knn }
    }
}

/// RMSE of `predict` over the scored validation pairs (predictions clipped to 1-10), summed in
/// parallel without materialising the pairs.
fn val_rmse(val: &Ratings, predict: impl Fn(u32, u32) -> f32 + Sync) -> f64 {
    let (se, n) = (0..val.n_users() as u32)
        .into_par_iter()
        .map(|u| {
            let row = val.user(UserIx(u));
            row.indices
                .iter()
                .zip(row.ratings)
                .filter(|e| *e.1 > 0)
                .fold((0f64, 0u64), |(se, n), (&a, &r)| {
                    let e = predict(u, a).clamp(1.0, 10.0) as f64 - r as f64;
                    (se + e * e, n + 1)
                })
        })
        .reduce(|| (0.0, 0), |x, y| (x.0 + y.0, x.1 + y.1));
    (se / n.max(1) as f64).sqrt()
}

/// A [`RatingModel`] predicting for the users of its train store.
pub struct TrainPredictor<'a> {
    /// The model.
    pub model: &'a RatingModel,
    /// The train store it was fitted on.
    pub train: &'a Ratings,
}

impl Predictor for TrainPredictor<'_> {
    fn predict(&self, user: UserIx, anime: &[u32]) -> Vec<f32> {
        let state = self.model.known_user(self.train, user);
        anime
            .iter()
            .map(|&a| self.model.predict(&state, AnimeIx(a)))
            .collect()
    }
}

/// The validation users the rating blend is fitted on: those with ratings on both sides, a
/// seeded sample of [`BLEND_USERS`] where there are more, in index order.
fn blend_users(fit: &Ratings, val: &Ratings, seed: u64) -> Vec<u32> {
    let mut users: Vec<u32> = (0..val.n_users() as u32)
        .filter(|&u| !fit.user(UserIx(u)).is_empty() && !val.user(UserIx(u)).is_empty())
        .collect();
    if users.len() > BLEND_USERS {
        let mut rng = anirec_data::rng::Rng::new(seed ^ 0xB1E7_D0C5);
        rng.choose_front(&mut users, BLEND_USERS);
        users.truncate(BLEND_USERS);
        users.sort_unstable();
    }
    users
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `users` users (ids 1, 2, ...), each with anime 0 in one part and anime 1 in the other.
    fn parts(users: u32) -> (Ratings, Ratings) {
        let side = |a: u32| -> Vec<(u32, u32, u8)> { (1..=users).map(|u| (u, a, 7)).collect() };
        (
            Ratings::from_triples(2, &side(0)),
            Ratings::from_triples(2, &side(1)),
        )
    }

    #[test]
    fn the_rating_blend_is_fitted_on_every_user_of_small_data_and_a_seeded_sample_of_large() {
        let (fit, val) = parts(1_000);
        assert_eq!(
            blend_users(&fit, &val, 42),
            (0..1_000).collect::<Vec<u32>>()
        );

        let (fit, val) = parts(BLEND_USERS as u32 + 5_000);
        let sample = blend_users(&fit, &val, 42);
        assert_eq!(sample.len(), BLEND_USERS);
        assert!(
            sample.windows(2).all(|w| w[0] < w[1]),
            "in index order, no repeat"
        );
        assert!(*sample.last().unwrap() < BLEND_USERS as u32 + 5_000);
        assert_eq!(
            blend_users(&fit, &val, 42),
            sample,
            "the same seed, the same users"
        );
        assert_ne!(
            blend_users(&fit, &val, 7),
            sample,
            "another seed, other users"
        );
        // Drawn across the whole range, not its first users.
        assert!(sample.iter().any(|&u| u >= BLEND_USERS as u32));
    }
}
