//! EASE (Steck 2019): a closed-form item-item model. With the Gram matrix `G = XᵀX` of the
//! user-item matrix, `P = (G + λI)⁻¹` and `B = I - P·diag(1/diag(P))` with a zero diagonal; a
//! user's scores are `x_u B`. One Cholesky factorisation and inverse of an items × items matrix.

use anirec_data::{AnimeIx, Ratings, UserIx, WatchStatus};
use faer::linalg::solvers::DenseSolveCore;
use faer::{MatRef, Side};
use half::f16;
use rayon::prelude::*;

use crate::entry::{Entry, status_weight};
use safetensors::Dtype;

use crate::stored::{Array, ArrayError, Arrays, Stored, array, vector};
use crate::widen;

/// Multiply-adds above which [`Ease::score_entries`] splits its work across threads (about 700
/// ratings over 12,000 modelled anime).
const PARALLEL_SCORING_WORK: usize = 8_000_000;

/// How a rating becomes an entry of the user-item matrix.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Weighting {
    /// 1 for every listed anime.
    Binary,
    /// `1 + alpha * (r - 5.5) / 4.5` for a score r (1 for an unscored entry): liked anime weigh
    /// more than disliked ones.
    Scored {
        /// Strength of the score's effect, 0-1.
        alpha: f32,
    },
}

impl Weighting {
    /// The matrix entry for a stored rating (0 = no score).
    #[inline]
    pub fn weight(self, rating: u8) -> f32 {
        match self {
            Weighting::Binary => 1.0,
            Weighting::Scored { alpha } if rating > 0 => 1.0 + alpha * (rating as f32 - 5.5) / 4.5,
            Weighting::Scored { .. } => 1.0,
        }
    }
}

/// Parameters of [`Ease::fit`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EaseParams {
    /// L2 regularisation λ.
    pub lambda: f32,
    /// Input weighting.
    pub weighting: Weighting,
    /// Anime with fewer train ratings than this are left out of the model.
    pub min_item_ratings: usize,
    /// Most anime in the model (the most rated ones): the fit costs the cube of this.
    #[serde(default = "default_max_items")]
    pub max_items: usize,
}

fn default_max_items() -> usize {
    12_000
}

impl Default for EaseParams {
    fn default() -> Self {
        EaseParams {
            lambda: 250.0,
            weighting: Weighting::Binary,
            min_item_ratings: 1,
            max_items: default_max_items(),
        }
    }
}

/// A fitted EASE model over a subset of anime.
#[derive(Debug, Clone)]
pub struct Ease {
    /// Anime index of each model item.
    items: Vec<u32>,
    /// Model item of each anime (`u32::MAX` when the anime is not modelled).
    slot: Vec<u32>,
    /// Item-item weights, `items.len()²`, row-major: `b[i * n + j]` is i's weight toward j. In
    /// float16: a fan's scores read one row per list entry, and half the bytes is nearly half
    /// the time; the sample's figures move by 0.0001 (BENCHMARKS.md "A warm refit, and EASE in
    /// float16").
    b: Vec<f16>,
    params: EaseParams,
}

impl Ease {
    /// Fits on `train`.
    pub fn fit(train: &Ratings, params: EaseParams) -> Ease {
        let mut items: Vec<u32> = (0..train.n_anime() as u32)
            .filter(|&a| train.anime(AnimeIx(a)).len() >= params.min_item_ratings.max(1))
            .collect();
        if items.len() > params.max_items {
            items.sort_by_key(|&a| (std::cmp::Reverse(train.anime(AnimeIx(a)).len()), a));
            items.truncate(params.max_items);
            items.sort_unstable();
        }
        let n = items.len();
        let mut slot = vec![u32::MAX; train.n_anime()];
        for (i, &a) in items.iter().enumerate() {
            slot[a as usize] = i as u32;
        }
        let clock = std::time::Instant::now();
        let lap = |what: &str| {
            tracing::debug!(seconds = clock.elapsed().as_secs_f64(), n, "EASE: {what}")
        };
        let mut g = gram(train, &items, &slot, params.weighting);
        lap("Gram built");
        for i in 0..n {
            g[i * n + i] += params.lambda;
        }
        // Factor, then free G before inverting: at most two n×n matrices are alive at a time.
        let llt = match MatRef::from_column_major_slice(&g, n, n).llt(Side::Lower) {
            Ok(llt) => Some(llt),
            // G + λI is positive definite for λ > 0; guard anyway with a stronger ridge.
            Err(_) => {
                for i in 0..n {
                    g[i * n + i] += params.lambda.max(1.0);
                }
                MatRef::from_column_major_slice(&g, n, n)
                    .llt(Side::Lower)
                    .ok()
            }
        };
        drop(g);
        lap("factorised");
        let p = llt.map_or_else(|| faer::Mat::zeros(n, n), |l| l.inverse());
        lap("inverted");
        // B[i][j] = -P[i][j] / P[j][j], zero diagonal. P is symmetric: column j = row j.
        let diag: Vec<f32> = (0..n).map(|j| p[(j, j)]).collect();
        let mut b = vec![f16::ZERO; n * n];
        b.par_chunks_mut(n.max(1)).enumerate().for_each(|(i, row)| {
            let col = p.col(i);
            for j in 0..n {
                row[j] = if i == j || diag[j] == 0.0 {
                    f16::ZERO
                } else {
                    f16::from_f32(-col[j] / diag[j])
                };
            }
        });
        Ease {
            items,
            slot,
            b,
            params,
        }
    }

    /// Reassembles a model from its stored parts: the anime index of each model item and the
    /// row-major item-item weights. `None` when the sizes disagree.
    pub fn from_parts(
        items: Vec<u32>,
        b: Vec<f16>,
        n_anime: usize,
        params: EaseParams,
    ) -> Option<Ease> {
        if b.len() != items.len() * items.len() || items.iter().any(|&a| a as usize >= n_anime) {
            return None;
        }
        let mut slot = vec![u32::MAX; n_anime];
        for (i, &a) in items.iter().enumerate() {
            slot[a as usize] = i as u32;
        }
        Some(Ease {
            items,
            slot,
            b,
            params,
        })
    }

    /// The anime index of each model item.
    pub fn items(&self) -> &[u32] {
        &self.items
    }

    /// The item-item weights, row-major.
    pub fn weights(&self) -> &[f16] {
        &self.b
    }

    /// Parameters used.
    pub fn params(&self) -> EaseParams {
        self.params
    }

    /// Number of modelled anime.
    pub fn n_items(&self) -> usize {
        self.items.len()
    }

    /// Scores all anime for a user's list entries, each weighted by its score and its watching
    /// status ([`Entry::scoring_weight`]: as in training, except that a title dropped without
    /// being liked counts against anime like it); anime outside the model score negative
    /// infinity. `out` has one slot per anime. A long list (a user with
    /// thousands of ratings reads hundreds of MB of weights) is split by columns across
    /// threads: each column still sums its rows in the same order, so the result is the same
    /// to the bit.
    pub fn score_entries(&self, entries: impl Iterator<Item = Entry>, out: &mut [f32]) {
        let n = self.items.len();
        let rows: Vec<(usize, f32)> = entries
            .filter_map(|e| {
                let s = self.slot.get(e.anime.index()).copied().unwrap_or(u32::MAX);
                (s != u32::MAX).then(|| {
                    (
                        s as usize,
                        self.params.weighting.weight(e.score.code()) * e.scoring_weight(),
                    )
                })
            })
            .collect();
        let acc = self.accumulate(&rows, rows.len() * n >= PARALLEL_SCORING_WORK);
        out.fill(f32::NEG_INFINITY);
        for (i, &a) in self.items.iter().enumerate() {
            out[a as usize] = acc[i];
        }
    }

    /// Σ w · B[s, :] over `rows` of (slot, weight), by columns split across threads when
    /// `parallel`.
    fn accumulate(&self, rows: &[(usize, f32)], parallel: bool) -> Vec<f32> {
        let n = self.items.len();
        let add = |first: usize, acc: &mut [f32]| {
            for &(s, w) in rows {
                widen::add_scaled(&self.b[s * n + first..s * n + first + acc.len()], w, acc);
            }
        };
        let mut acc = vec![0f32; n];
        if parallel {
            let chunk = n.div_ceil(rayon::current_num_threads() * 4).max(64);
            acc.par_chunks_mut(chunk)
                .enumerate()
                .for_each(|(c, part)| add(c * chunk, part));
        } else {
            add(0, &mut acc);
        }
        acc
    }

    /// The weight of anime `from` toward anime `to` (0 when either is outside the model).
    pub fn weight(&self, from: AnimeIx, to: AnimeIx) -> f32 {
        let (s, t) = (self.slot[from.index()], self.slot[to.index()]);
        if s == u32::MAX || t == u32::MAX {
            return 0.0;
        }
        self.b[s as usize * self.items.len() + t as usize].to_f32()
    }
}

/// `XᵀX` over the modelled items, row-major; entries are weighted by score and, when the
/// ratings carry it, by watching status. Only what the Cholesky factorisation reads is
/// computed: row `i` holds columns `j ≥ i` (the lower triangle of the column-major matrix), the
/// rest stays 0.
///
/// The users' modelled entries are first laid out as [`UserEntries`]; then row by row in
/// parallel, row `i` walks the users who rated item `i` and adds their entries from item `i` on,
/// read in one run from where item `i` sits in each user's list. Each task writes one row that
/// stays in cache, the symmetric half is never summed, and nothing is searched per user.
fn gram(train: &Ratings, items: &[u32], slot: &[u32], weighting: Weighting) -> Vec<f32> {
    let n = items.len();
    let lists = UserEntries::new(train, items, slot, weighting);
    let mut g = vec![0f32; n * n];
    g.par_chunks_mut(n.max(1)).enumerate().for_each(|(i, row)| {
        let users = train.anime(AnimeIx(items[i])).indices;
        for (&u, &at) in users.iter().zip(lists.item_positions(i)) {
            let list = lists.list(u);
            let (_, wi) = list[at as usize];
            for &(j, wj) in &list[at as usize..] {
                row[j as usize] += wi * wj;
            }
        }
    });
    g
}

/// Every user's modelled entries, `(slot, x_uj)` in slot order (which is anime order), and,
/// for each item, where it sits in the list of each user who rated it.
struct UserEntries {
    /// The users' lists one after another.
    entries: Vec<(u32, f32)>,
    /// User `u`'s list is `entries[starts[u]..starts[u + 1]]`.
    starts: Vec<usize>,
    /// Each item's place in the list of each of its users, in the order `Ratings::anime` gives
    /// them (users ascending); item `i`'s are `positions[offsets[i]..offsets[i + 1]]`.
    positions: Vec<u32>,
    /// Where each item's positions start.
    offsets: Vec<usize>,
}

impl UserEntries {
    /// Lays out the modelled entries of every user of `train`.
    fn new(train: &Ratings, items: &[u32], slot: &[u32], weighting: Weighting) -> UserEntries {
        let mut offsets = Vec::with_capacity(items.len() + 1);
        offsets.push(0);
        for &a in items {
            offsets.push(offsets.last().copied().unwrap_or(0) + train.anime(AnimeIx(a)).len());
        }
        let mut next = offsets[..items.len()].to_vec();
        let mut positions = vec![0u32; offsets[items.len()]];
        let mut entries = Vec::with_capacity(positions.len());
        let mut starts = Vec::with_capacity(train.n_users() + 1);
        starts.push(0);
        for u in 0..train.n_users() as u32 {
            let user = train.user(UserIx(u));
            let start = entries.len();
            for (q, (&a, &r)) in user.indices.iter().zip(user.ratings).enumerate() {
                let j = slot[a as usize];
                if j == u32::MAX {
                    continue;
                }
                let status = user
                    .status
                    .get(q)
                    .map_or(1.0, |&code| status_weight(WatchStatus::from_code(code)));
                // Users ascend, so each item's positions come in the order of its users.
                positions[next[j as usize]] = (entries.len() - start) as u32;
                next[j as usize] += 1;
                entries.push((j, weighting.weight(r) * status));
            }
            starts.push(entries.len());
        }
        UserEntries {
            entries,
            starts,
            positions,
            offsets,
        }
    }

    /// User `u`'s list.
    fn list(&self, u: u32) -> &[(u32, f32)] {
        &self.entries[self.starts[u as usize]..self.starts[u as usize + 1]]
    }

    /// Where item `i` sits in the list of each of its users.
    fn item_positions(&self, i: usize) -> &[u32] {
        &self.positions[self.offsets[i]..self.offsets[i + 1]]
    }
}

/// An [`Ease`] scoring the users of a train store.
pub struct EaseScorer<'a> {
    /// The model.
    pub model: &'a Ease,
    /// The users' ratings.
    pub train: &'a Ratings,
}

impl crate::eval::Scorer for EaseScorer<'_> {
    fn score(&self, user: UserIx, out: &mut [f32]) {
        self.model
            .score_entries(Entry::of_row(self.train.user(user)), out);
    }
}

/// Stored as `ease.items` and `ease.weights` (items × items); rebuilt with (parameters, anime).
impl Stored for Ease {
    type With = (EaseParams, usize);

    fn arrays(&self) -> Vec<Array> {
        let n = self.items.len();
        vec![
            vector("ease.items", Dtype::U32, &self.items),
            array("ease.weights", Dtype::F16, vec![n, n], &self.b),
        ]
    }

    fn restore(a: &Arrays, (params, n_anime): Self::With) -> Result<Self, ArrayError> {
        Ease::from_parts(
            a.get("ease.items", Dtype::U32)?,
            a.get("ease.weights", Dtype::F16)?,
            n_anime,
            params,
        )
        .ok_or_else(|| ArrayError::Inconsistent("the EASE arrays are inconsistent".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::Scorer;

    #[test]
    fn co_watched_items_are_recommended() {
        // Anime 0-2 are always watched together, 3-5 too. A user with 0 and 1 should get 2 first.
        let mut triples = Vec::new();
        for u in 0..40u32 {
            let base = if u.is_multiple_of(2) { 0 } else { 3 };
            for a in base..base + 3 {
                triples.push((u, a, 8));
            }
        }
        triples.push((100, 0, 9));
        triples.push((100, 1, 9));
        let train = Ratings::from_triples(6, &triples);
        let ease = Ease::fit(
            &train,
            EaseParams {
                lambda: 1.0,
                ..EaseParams::default()
            },
        );
        let mut out = vec![0f32; 6];
        let user = train.user_index(anirec_data::UserId(100)).unwrap();
        EaseScorer {
            model: &ease,
            train: &train,
        }
        .score(user, &mut out);
        let best = crate::topk::top_k(&out, 1, |a| a >= 2);
        assert_eq!(best, vec![2]);
        assert!(out[2] > out[3] && out[2] > out[4] && out[2] > out[5]);
        assert!(ease.weight(AnimeIx(0), AnimeIx(2)) > 0.0);
        assert_eq!(ease.weight(AnimeIx(0), AnimeIx(0)), 0.0);
    }

    #[test]
    fn the_gram_holds_xtx_where_the_factorisation_reads_it() {
        // 30 users rating pseudo-random anime of 12; the model keeps 8 of them (3, 5, 7 and 9
        // left out), so a user's list interleaves modelled and unmodelled anime.
        let mut triples = Vec::new();
        for u in 0..30u32 {
            for a in 0..12u32 {
                if (u * 7 + a * 5) % 3 != 0 {
                    triples.push((u, a, 1 + ((u + 3 * a) % 10) as u8));
                }
            }
        }
        let train = Ratings::from_triples(12, &triples);
        let items: Vec<u32> = vec![0, 1, 2, 4, 6, 8, 10, 11];
        let mut slot = vec![u32::MAX; 12];
        for (i, &a) in items.iter().enumerate() {
            slot[a as usize] = i as u32;
        }
        let weighting = Weighting::Scored { alpha: 1.5 };
        let g = gram(&train, &items, &slot, weighting);
        let n = items.len();
        for i in 0..n {
            for j in 0..n {
                let expected: f32 = if j < i {
                    0.0
                } else {
                    (0..train.n_users() as u32)
                        .map(|u| {
                            let user = train.user(UserIx(u));
                            let x = |a: u32| {
                                user.indices
                                    .binary_search(&a)
                                    .map_or(0.0, |p| weighting.weight(user.ratings[p]))
                            };
                            x(items[i]) * x(items[j])
                        })
                        .sum()
                };
                let got = g[i * n + j];
                assert!(
                    (got - expected).abs() < 1e-4,
                    "G[{i}][{j}] = {got}, not {expected}"
                );
            }
        }
        assert!(g.iter().any(|&x| x > 0.0));
    }

    #[test]
    fn scoring_split_by_columns_gives_the_same_bits() {
        let n = 300usize;
        let mut state = 12345u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 33) as f32 / (1u64 << 31) as f32) - 0.5
        };
        let weights: Vec<f16> = (0..n * n).map(|_| f16::from_f32(next() * 1e-2)).collect();
        let ease =
            Ease::from_parts((0..n as u32).collect(), weights, n, EaseParams::default()).unwrap();
        let rows: Vec<(usize, f32)> = (0..500).map(|i| ((i * 7919) % n, 1.0 + next())).collect();
        let one = ease.accumulate(&rows, false);
        let split = ease.accumulate(&rows, true);
        assert!(
            one.iter()
                .zip(&split)
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
    }
}
