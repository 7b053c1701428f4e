//! Item kNN over baseline residuals (Koren's neighbourhood model, as in Surprise's
//! `KNNBaseline` with Pearson-baseline similarity): the similarity of two anime is the shrunk
//! Pearson correlation of their residuals `r - b_ui` over the users who rated both, and a
//! prediction is the baseline plus the similarity-weighted residuals of the user's `k` most
//! similar rated anime. Each anime keeps its `neighbors` most similar anime; they are computed
//! anime by anime, so memory stays bounded at any catalogue size.

use anirec_data::UserIx;
use anirec_data::{AnimeIx, Ratings};
use rayon::prelude::*;

use super::baseline::{Baselines, scored};
use safetensors::Dtype;

use crate::stored::{Array, ArrayError, Arrays, Stored, vector};

/// Parameters of [`ItemKnn::fit`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct KnnParams {
    /// Neighbours used in one prediction.
    pub k: usize,
    /// Neighbours kept per anime.
    pub neighbors: usize,
    /// Shrinkage of the similarity toward 0 for few common users.
    pub shrinkage: f32,
    /// Most users whose ratings feed the similarities (a seeded sample beyond that): at full
    /// scale the co-rating pass grows with the square of each user's list, and similarities
    /// between anime with thousands of common users hardly move with more.
    #[serde(default = "default_max_users")]
    pub max_users: usize,
}

fn default_max_users() -> usize {
    60_000
}

impl Default for KnnParams {
    fn default() -> Self {
        KnnParams {
            k: 40,
            neighbors: 100,
            shrinkage: 100.0,
            max_users: default_max_users(),
        }
    }
}

/// Each anime's most similar anime, with positive similarities, best first.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemKnn {
    /// `offsets[a]..offsets[a + 1]` indexes the neighbours of anime `a`.
    pub(crate) offsets: Vec<u32>,
    /// Neighbour anime.
    pub(crate) neighbors: Vec<u32>,
    /// Their similarities.
    pub(crate) sims: Vec<f32>,
    /// Parameters used.
    pub params: KnnParams,
}

impl ItemKnn {
    /// Computes neighbours from `train`'s residuals against `baselines`.
    pub fn fit(train: &Ratings, baselines: &Baselines, params: KnnParams) -> ItemKnn {
        let n = train.n_anime();
        // Residuals by user, once (empty for users outside the sample).
        let included = user_sample(train.n_users(), params.max_users);
        let residuals: Vec<Vec<(u32, f32)>> = (0..train.n_users() as u32)
            .into_par_iter()
            .map(|u| {
                if !included[u as usize] {
                    return Vec::new();
                }
                let row = train.user(UserIx(u));
                scored(row.indices, row.ratings)
                    .map(|(a, r)| (a, r - baselines.predict(u, a)))
                    .collect()
            })
            .collect();
        // Item by item: walk the users who rated the anime and their other ratings, summing into
        // one accumulator per worker that stays in cache.
        let lists: Vec<Vec<(u32, f32)>> = (0..n as u32)
            .into_par_iter()
            .map_init(
                || Accumulator::new(n),
                |acc, i| acc.neighbors(train, &residuals, i, params),
            )
            .collect();
        let mut knn = ItemKnn {
            offsets: Vec::with_capacity(n + 1),
            neighbors: Vec::new(),
            sims: Vec::new(),
            params,
        };
        knn.offsets.push(0);
        for list in lists {
            for (j, s) in list {
                knn.neighbors.push(j);
                knn.sims.push(s);
            }
            knn.offsets.push(knn.neighbors.len() as u32);
        }
        knn
    }

    /// The neighbours of anime `a` (as raw indices) and their similarities, best first.
    pub fn of(&self, a: AnimeIx) -> (&[u32], &[f32]) {
        let (lo, hi) = (
            self.offsets[a.index()] as usize,
            self.offsets[a.index() + 1] as usize,
        );
        (&self.neighbors[lo..hi], &self.sims[lo..hi])
    }

    /// The neighbourhood correction for anime `a`: the weighted mean residual of the user's `k`
    /// most similar rated anime. `residual(j)` gives the user's residual on `j`, if rated.
    #[inline]
    pub fn correction(&self, a: u32, residual: impl Fn(u32) -> Option<f32>) -> f32 {
        let (nbrs, sims) = self.of(AnimeIx(a));
        let (mut num, mut den, mut used) = (0f32, 0f32, 0usize);
        for (&j, &s) in nbrs.iter().zip(sims) {
            if let Some(e) = residual(j) {
                num += s * e;
                den += s;
                used += 1;
                if used == self.params.k {
                    break;
                }
            }
        }
        if den > 0.0 { num / den } else { 0.0 }
    }
}

/// Which users feed the similarities: all of them, or a seeded sample of `max`.
fn user_sample(n: usize, max: usize) -> Vec<bool> {
    if n <= max {
        return vec![true; n];
    }
    let mut order: Vec<u32> = (0..n as u32).collect();
    anirec_data::rng::Rng::new(0x4B4E_4E00).choose_front(&mut order, max);
    let mut included = vec![false; n];
    for &u in &order[..max] {
        included[u as usize] = true;
    }
    included
}

/// Co-rating sums of one anime against all anime; only touched entries are visited and reset.
struct Accumulator {
    /// Per anime: Σ e_i e_j, Σ e_i², Σ e_j², count — together, so one update touches one
    /// cache line.
    sums: Vec<[f32; 4]>,
    touched: Vec<u32>,
}

impl Accumulator {
    fn new(n: usize) -> Accumulator {
        Accumulator {
            sums: vec![[0.0; 4]; n],
            touched: Vec::new(),
        }
    }

    /// The neighbour list of anime `i`.
    fn neighbors(
        &mut self,
        train: &Ratings,
        residuals: &[Vec<(u32, f32)>],
        i: u32,
        params: KnnParams,
    ) -> Vec<(u32, f32)> {
        for &u in train.anime(AnimeIx(i)).indices {
            let row = &residuals[u as usize];
            let Ok(p) = row.binary_search_by_key(&i, |e| e.0) else {
                continue; // listed without a score
            };
            let ei = row[p].1;
            for &(j, ej) in row {
                let s = &mut self.sums[j as usize];
                if s[3] == 0.0 {
                    self.touched.push(j);
                }
                s[0] += ei * ej;
                s[1] += ei * ei;
                s[2] += ej * ej;
                s[3] += 1.0;
            }
        }
        let mut list: Vec<(u32, f32)> = Vec::new();
        for &j in &self.touched {
            let s = std::mem::take(&mut self.sums[j as usize]);
            let (c, den) = (s[3], (s[1] * s[2]).sqrt());
            if j != i && c >= 2.0 && den > 0.0 {
                let sim = s[0] / den * (c - 1.0) / (c - 1.0 + params.shrinkage);
                if sim > 0.0 {
                    list.push((j, sim));
                }
            }
        }
        self.touched.clear();
        let keep = params.neighbors.min(list.len());
        if keep < list.len() {
            list.select_nth_unstable_by(keep, |a, b| b.1.total_cmp(&a.1));
            list.truncate(keep);
        }
        list.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        list
    }
}

/// Stored as `knn.offsets`, `knn.neighbors`, `knn.sims`; rebuilt with (parameters, anime).
impl Stored for ItemKnn {
    type With = (KnnParams, usize);

    fn arrays(&self) -> Vec<Array> {
        vec![
            vector("knn.offsets", Dtype::U32, &self.offsets),
            vector("knn.neighbors", Dtype::U32, &self.neighbors),
            vector("knn.sims", Dtype::F32, &self.sims),
        ]
    }

    fn restore(a: &Arrays, (params, n_anime): Self::With) -> Result<Self, ArrayError> {
        let knn = ItemKnn {
            offsets: a.get("knn.offsets", Dtype::U32)?,
            neighbors: a.get("knn.neighbors", Dtype::U32)?,
            sims: a.get("knn.sims", Dtype::F32)?,
            params,
        };
        let consistent = knn.offsets.len() == n_anime + 1
            && knn.offsets.last().copied() == Some(knn.neighbors.len() as u32)
            && knn.offsets.windows(2).all(|w| w[0] <= w[1])
            && knn.sims.len() == knn.neighbors.len()
            && knn.neighbors.iter().all(|&j| (j as usize) < n_anime);
        if consistent {
            Ok(knn)
        } else {
            Err(ArrayError::Inconsistent(
                "the neighbourhood arrays are inconsistent".into(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rating::baseline::BaselineParams;

    #[test]
    fn residuals_of_a_similar_anime_carry_over() {
        // Anime 0 and 1 move together across users (both loved or both disliked); anime 2 is
        // unrelated noise. A user who loved 0 should be predicted above baseline on 1.
        let mut triples = Vec::new();
        for u in 0..60u32 {
            let love = u.is_multiple_of(2);
            triples.push((u, 0, if love { 10 } else { 3 }));
            triples.push((u, 1, if love { 9 } else { 2 }));
            triples.push((u, 2, [4, 8, 6][(u % 3) as usize]));
        }
        triples.push((100, 0, 10));
        triples.push((100, 2, 6));
        let train = Ratings::from_triples(3, &triples);
        let b = Baselines::fit(&train, vec![0.0; 3], BaselineParams::default());
        let knn = ItemKnn::fit(
            &train,
            &b,
            KnnParams {
                shrinkage: 1.0,
                ..KnnParams::default()
            },
        );
        let (nbrs, sims) = knn.of(AnimeIx(1));
        assert_eq!(nbrs[0], 0);
        assert!(sims[0] > 0.9, "{sims:?}");
        let u = train.user_index(anirec_data::UserId(100)).unwrap().0;
        let row = train.user(UserIx(u));
        let residual = |j: u32| row.rating_of(j).map(|r| r as f32 - b.predict(u, j));
        assert!(knn.correction(1, residual) > 1.0);
    }
}
