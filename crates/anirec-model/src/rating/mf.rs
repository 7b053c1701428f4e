//! Biased matrix factorisation trained by stochastic gradient descent (the "SVD" of Funk and
//! Koren): `r̂ = μ + b_u + b_i + p_u·q_i`. Item biases are pulled toward the baselines' item prior,
//! so rarely rated anime keep a sensible bias. Training runs one epoch at a time so a pipeline can
//! evaluate, checkpoint and stop early between epochs; an epoch's order depends only on the seed
//! and the epoch number, so a resumed run repeats an uninterrupted one exactly.

use anirec_data::AnimeIx;
use anirec_data::rng::Rng;
use anirec_data::{Csr, Ratings};
use faer::linalg::solvers::Solve;
use faer::{Mat, Side};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::baseline::Baselines;
use crate::entry::Entry;
use safetensors::Dtype;

use crate::stored::{Array, ArrayError, Arrays, Stored, array, per_anime, vector};

/// Groups of users and of anime in one stratified SGD epoch (fixed, so results do not depend on
/// the number of threads).
pub const STRATA: usize = 4;

/// Anime index boundaries of the [`STRATA`] anime groups, balanced by number of ratings.
fn anime_bounds(train: &Ratings) -> Vec<u32> {
    let n = train.n_anime();
    let total = train.len().max(1);
    let mut bounds = vec![0u32];
    let mut acc = 0usize;
    for a in 0..n {
        acc += train.anime(AnimeIx(a as u32)).len();
        if bounds.len() < STRATA && acc * STRATA >= total * bounds.len() {
            bounds.push(a as u32 + 1);
        }
    }
    while bounds.len() <= STRATA {
        bounds.push(n as u32);
    }
    bounds
}

/// Dot product with eight independent partial sums, so the compiler can vectorise it (a single
/// running float sum cannot be reordered).
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let tail: f32 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f32>() + tail
}

/// What one user's SGD steps read and the anime rows they update.
struct Step<'a> {
    by_user: &'a Csr,
    item_factors: RowsMut<'a>,
    item_bias: RowsMut<'a>,
    item_prior: &'a [f32],
    mu: f32,
    lr: f32,
    reg: f32,
    reg_b: f32,
}

impl Step<'_> {
    /// SGD over one user's entries at `order` (positions in `by_user`): the user's factors and
    /// bias and each anime's move toward every rating. Returns the squared errors seen and their
    /// number. The AVX2 build does the same operations in the same order, wider (no fused
    /// multiply-adds), so both give the same numbers to the bit.
    ///
    /// # Safety
    /// No other thread may use the rows of the anime at `order` meanwhile.
    unsafe fn user(&self, user: (&mut [f32], &mut f32), order: &[usize]) -> (f64, u64) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2; the rows as the caller promises.
            return unsafe { self.user_avx2(user, order) };
        }
        // SAFETY: as the caller promises.
        unsafe { self.user_plain(user, order) }
    }

    /// [`Step::user`] compiled for AVX2.
    ///
    /// # Safety
    /// The CPU has AVX2, and as [`Step::user`].
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn user_avx2(&self, user: (&mut [f32], &mut f32), order: &[usize]) -> (f64, u64) {
        // SAFETY: as the caller promises.
        unsafe { self.user_plain(user, order) }
    }

    /// [`Step::user`]'s body, inlined into each build.
    ///
    /// # Safety
    /// As [`Step::user`].
    #[inline(always)]
    unsafe fn user_plain(&self, (pu, bu): (&mut [f32], &mut f32), order: &[usize]) -> (f64, u64) {
        let (mu, lr, reg, reg_b) = (self.mu, self.lr, self.reg, self.reg_b);
        let (mut se, mut n) = (0f64, 0u64);
        for &p in order {
            let a = self.by_user.indices[p] as usize;
            let r = self.by_user.ratings[p] as f32;
            // SAFETY: as the caller promises.
            let (qi, bi) = unsafe { (self.item_factors.row(a), &mut self.item_bias.row(a)[0]) };
            let dot = dot(pu, qi);
            let err = r - (mu + *bu + *bi + dot);
            se += (err * err) as f64;
            n += 1;
            *bu += lr * (err - reg_b * *bu);
            *bi += lr * (err - reg_b * (*bi - self.item_prior[a]));
            for (x, y) in pu.iter_mut().zip(qi.iter_mut()) {
                let (px, py) = (*x, *y);
                *x += lr * (err * py - reg * px);
                *y += lr * (err * px - reg * py);
            }
        }
        (se, n)
    }
}

/// Rows of a row-major matrix handed to several threads at once. Whoever takes a row promises
/// that no other thread uses it at the same time (the strata of [`Mf::epoch`] guarantee it).
struct RowsMut<'a> {
    ptr: *mut f32,
    width: usize,
    rows: usize,
    _borrow: std::marker::PhantomData<&'a mut [f32]>,
}

// SAFETY: rows are only reached through `row`, whose callers guarantee exclusive use.
unsafe impl Send for RowsMut<'_> {}
// SAFETY: as above.
unsafe impl Sync for RowsMut<'_> {}

impl<'a> RowsMut<'a> {
    fn new(data: &'a mut [f32], width: usize) -> RowsMut<'a> {
        RowsMut {
            ptr: data.as_mut_ptr(),
            width,
            rows: data.len() / width.max(1),
            _borrow: std::marker::PhantomData,
        }
    }

    /// Row `r`.
    ///
    /// # Safety
    /// No other live reference to row `r` may exist while the returned one is used.
    #[allow(clippy::mut_from_ref)]
    unsafe fn row(&self, r: usize) -> &'a mut [f32] {
        assert!(r < self.rows, "row {r} out of {}", self.rows);
        // SAFETY: in bounds (checked above); exclusivity is the caller's promise.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(r * self.width), self.width) }
    }
}

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
    pub(crate) mu: f32,
    /// User biases.
    pub(crate) user_bias: Vec<f32>,
    /// Item biases.
    pub(crate) item_bias: Vec<f32>,
    /// Item bias priors (where an item bias is pulled).
    pub(crate) item_prior: Vec<f32>,
    /// User factors, `n_users × factors`, row-major.
    pub(crate) user_factors: Vec<f32>,
    /// Item factors, `n_anime × factors`, row-major.
    pub(crate) item_factors: Vec<f32>,
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

    /// This model as the start of a refit on ratings whose baselines are `baselines` (their
    /// mean and item priors; the learned biases and factors are kept), its schedule set back to
    /// after `epochs` epochs.
    pub fn warm_start(&self, baselines: &Baselines, epochs: usize) -> Mf {
        Mf {
            mu: baselines.mu,
            item_prior: baselines.item_prior.clone(),
            epochs,
            ..self.clone()
        }
    }

    /// The learning rate of the next epoch.
    pub fn learning_rate(&self) -> f32 {
        self.params.learning_rate * self.params.decay.powi(self.epochs as i32)
    }

    /// One pass of SGD over the scored entries of `train`, on all cores yet deterministic
    /// (stratified SGD): users, in a seeded random order, and anime, by index, are cut into
    /// [`STRATA`] groups; in each of [`STRATA`] sub-epochs, user group `t` trains on anime group
    /// `(t + s) % STRATA`, so parallel tasks never share a user or an anime. The result does not
    /// depend on the number of threads. Returns the mean squared training error seen during the
    /// pass.
    pub fn epoch(&mut self, train: &Ratings) -> f64 {
        let f = self.params.factors;
        let lr = self.learning_rate();
        let (reg, reg_b, mu) = (self.params.reg, self.params.reg_bias, self.mu);
        let by_user = train.by_user();
        let mut rng = Rng::for_item(self.params.seed ^ 0x5EED, self.epochs as u64);
        let mut users: Vec<u32> = (0..train.n_users() as u32).collect();
        rng.choose_front(&mut users, usize::MAX);
        let groups: Vec<&[u32]> = users.chunks(users.len().div_ceil(STRATA).max(1)).collect();
        let bounds = anime_bounds(train);
        let step = Step {
            by_user,
            item_factors: RowsMut::new(&mut self.item_factors, f),
            item_bias: RowsMut::new(&mut self.item_bias, 1),
            item_prior: &self.item_prior,
            mu,
            lr,
            reg,
            reg_b,
        };
        let user_factors = RowsMut::new(&mut self.user_factors, f);
        let user_bias = RowsMut::new(&mut self.user_bias, 1);
        let epoch = self.epochs as u64;
        let seed = self.params.seed;
        let (mut se, mut n) = (0f64, 0u64);
        for s in 0..STRATA {
            let parts: Vec<(f64, u64)> = (0..groups.len())
                .into_par_iter()
                .map(|t| {
                    let g = (t + s) % STRATA;
                    let (lo, hi) = (bounds[g], bounds[g + 1]);
                    let mut rng = Rng::for_item(
                        seed ^ 0xD56D,
                        (epoch * STRATA as u64 + s as u64) * STRATA as u64 + t as u64,
                    );
                    let mut order: Vec<usize> = Vec::new();
                    let (mut se, mut n) = (0f64, 0u64);
                    for &u in groups[t] {
                        let (a0, a1) = (
                            by_user.indptr[u as usize] as usize,
                            by_user.indptr[u as usize + 1] as usize,
                        );
                        let row = &by_user.indices[a0..a1];
                        let (p0, p1) = (
                            a0 + row.partition_point(|&a| a < lo),
                            a0 + row.partition_point(|&a| a < hi),
                        );
                        order.clear();
                        order.extend((p0..p1).filter(|&p| by_user.ratings[p] > 0));
                        rng.choose_front(&mut order, usize::MAX);
                        // SAFETY: in this sub-epoch only task t touches the users of group t and
                        // the anime of group (t + s) % STRATA; the groups partition users and
                        // anime, and t ↦ (t + s) % STRATA is one-to-one, so no row is shared.
                        let user = unsafe {
                            (
                                user_factors.row(u as usize),
                                &mut user_bias.row(u as usize)[0],
                            )
                        };
                        // SAFETY: as above, for the anime of this task's group.
                        let (e, c) = unsafe { step.user(user, &order) };
                        se += e;
                        n += c;
                    }
                    (se, n)
                })
                .collect();
            for (a, b) in parts {
                se += a;
                n += b;
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
        let dot = dot(
            &self.user_factors[pu..pu + f],
            &self.item_factors[qi..qi + f],
        );
        self.mu + self.user_bias[user as usize] + self.item_bias[anime as usize] + dot
    }

    /// Bias and factors of a user the model never saw, from (anime, score) entries: a ridge
    /// regression of their residuals on the item factors, with `user_bias` fixed.
    pub fn fold_in(&self, user_bias: f32, entries: &[Entry]) -> Vec<f32> {
        let f = self.params.factors;
        // The normal equations' lower triangle, row by row in a plain buffer (vectorises; a
        // user with thousands of ratings made this the slowest step of a fold-in).
        let lambda = self.params.reg * entries.len().max(1) as f32;
        let mut gram = vec![0f32; f * f];
        for k in 0..f {
            gram[k * f + k] = lambda;
        }
        let mut rhs = vec![0f32; f];
        for entry in entries.iter().filter(|e| e.is_scored()) {
            let anime = entry.anime.index();
            let q = &self.item_factors[anime * f..(anime + 1) * f];
            let e = entry.score.code() as f32 - (self.mu + user_bias + self.item_bias[anime]);
            for (i, &qi) in q.iter().enumerate() {
                rhs[i] += e * qi;
                for (g, &qj) in gram[i * f..=i * f + i].iter_mut().zip(q) {
                    *g += qi * qj;
                }
            }
        }
        let a = Mat::<f32>::from_fn(f, f, |i, j| gram[i.max(j) * f + i.min(j)]);
        let rhs = Mat::<f32>::from_fn(f, 1, |i, _| rhs[i]);
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
        self.mu + user_bias + self.item_bias[anime as usize] + dot(factors, q)
    }
}

/// What factors are rebuilt with besides their arrays (from the manifest).
#[derive(Debug, Clone, Copy)]
pub struct MfScalars {
    /// Their parameters.
    pub params: MfParams,
    /// The mean rating they were fitted around.
    pub mean: f32,
    /// Epochs they were trained for.
    pub epochs: usize,
    /// Anime in the catalogue.
    pub n_anime: usize,
}

/// Stored as `mf.user_bias`, `mf.item_bias`, `mf.item_prior`, `mf.user_factors` and
/// `mf.item_factors` (users or anime × factors); rebuilt with [`MfScalars`].
impl Stored for Mf {
    type With = MfScalars;

    fn arrays(&self) -> Vec<Array> {
        let f = self.params.factors;
        vec![
            vector("mf.user_bias", Dtype::F32, &self.user_bias),
            vector("mf.item_bias", Dtype::F32, &self.item_bias),
            vector("mf.item_prior", Dtype::F32, &self.item_prior),
            array(
                "mf.user_factors",
                Dtype::F32,
                vec![self.user_factors.len() / f.max(1), f],
                &self.user_factors,
            ),
            array(
                "mf.item_factors",
                Dtype::F32,
                vec![self.item_factors.len() / f.max(1), f],
                &self.item_factors,
            ),
        ]
    }

    fn restore(a: &Arrays, with: MfScalars) -> Result<Self, ArrayError> {
        let MfScalars {
            params,
            mean: mu,
            epochs,
            n_anime,
        } = with;
        let mf = Mf {
            params,
            mu,
            user_bias: a.get("mf.user_bias", Dtype::F32)?,
            item_bias: a.get("mf.item_bias", Dtype::F32)?,
            item_prior: a.get("mf.item_prior", Dtype::F32)?,
            user_factors: a.get("mf.user_factors", Dtype::F32)?,
            item_factors: a.get("mf.item_factors", Dtype::F32)?,
            epochs,
        };
        per_anime(&mf.item_bias, "mf.item_bias", n_anime)?;
        if mf.item_factors.len() != n_anime * params.factors {
            return Err(ArrayError::Inconsistent(
                "the factor arrays do not match the numbers of anime and factors".into(),
            ));
        }
        Ok(mf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rating::baseline::BaselineParams;
    use anirec_data::UserIx;

    /// Two taste groups with opposite preferences on two anime families.
    fn taste_data() -> Ratings {
        let mut t = Vec::new();
        for u in 0..80u32 {
            for a in 0..10u32 {
                if (u + a) % 3 == 0 {
                    continue; // leave holes to predict
                }
                let likes = u.is_multiple_of(2) == (a < 5);
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
        let entries: Vec<Entry> = Entry::of_row(train.user(UserIx(0))).collect();
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
