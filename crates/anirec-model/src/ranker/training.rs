//! The ranker's training set and fit. Each validation user of the blend's carvings gives one
//! query: their candidates' feature rows, labelled 1 where the anime is among their held-out
//! liked anime. A seeded half of the users come in as known users (the factors trained on their
//! fit ratings), the other half folded in from the same list, as a fan who uploads an export is
//! (so the ranker learns both cases). A seeded fifth of the queries is held out to stop the
//! boosting at its best NDCG@10.
//!
//! Then the spread step, after the ranker: each score is lowered by a weight times the
//! candidate's standardised exposure under the ranker (how often the ranker alone put it in the
//! validation users' top 10), the weight chosen for the best held-out NDCG@10 among those whose
//! catalogue coverage reaches the floor, as the blend's own exposure weight is: coverage is a
//! constraint on the re-ranking, not a penalty inside the learned scores.

use anirec_data::AnimeIx;
use rayon::prelude::*;

use super::ablation::{Ablation, Part};
use super::features::Feature;
use super::lightgbm::{self, Groups, LightGbmError};
use super::trees::Trees;
use super::{Importance, LearnedRanker, RankerReport, read_trees, spread};
use crate::eval::K;
use crate::metrics::score_user;

/// Most boosting iterations.
const ITERATIONS: usize = 600;

/// Iterations without a better held-out NDCG@10 before boosting stops.
const PATIENCE: usize = 40;

/// Fewest informative queries (validation users with a relevant candidate) a ranker is trained
/// on, and held out to stop it: with fewer, the blend orders the candidates.
const FEWEST_QUERIES: usize = 20;
const FEWEST_HELD_OUT: usize = 5;

/// Most rows a training query keeps: every relevant candidate and a seeded sample of the others
/// (a fan's few hundred candidates are mostly easy negatives; the sample keeps their spread and
/// cuts the training time about threefold).
const ROWS_PER_QUERY: usize = 100;

/// The spread weights tried (in standard deviations of the ranker's scores per standard
/// deviation of exposure).
const SPREAD_GRID: [f32; 16] = [
    0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.85, 1.0, 1.25,
];

/// One validation user's candidates, as the ranker trains on them.
#[derive(Debug, Clone, PartialEq)]
pub struct RankerQuery {
    /// The candidates' anime, in row order.
    pub anime: Vec<AnimeIx>,
    /// Their feature rows ([`Feature::COUNT`] each).
    pub rows: Vec<f32>,
    /// 1 where the anime is a held-out liked anime of the user, else 0.
    pub labels: Vec<f32>,
    /// Every held-out liked anime of the user (candidates or not), ascending.
    pub relevant: Vec<u32>,
}

impl RankerQuery {
    /// Whether the query can teach anything: some candidate relevant, some not.
    pub fn informative(&self) -> bool {
        self.labels.iter().any(|&l| l > 0.0) && self.labels.contains(&0.0)
    }
}

/// One validation carving's queries, with the number of anime its fit part rates (what its
/// coverage is a share of).
#[derive(Debug, Clone, PartialEq)]
pub struct CarvingQueries {
    /// The carving's validation users' queries.
    pub queries: Vec<RankerQuery>,
    /// Anime rated in the carving's fit part.
    pub rated_anime: usize,
}

/// LightGBM's parameters for the ranker (`seed` makes a run reproducible).
pub fn params(seed: u64) -> String {
    format!(
        "objective=lambdarank metric=ndcg eval_at=10 learning_rate=0.1 num_leaves=31 \
         min_data_in_leaf=100 feature_fraction=0.9 bagging_fraction=0.8 bagging_freq=1 \
         lambdarank_truncation_level=30 max_bin=255 deterministic=true force_row_wise=true \
         num_threads=1 verbosity=-1 seed={}",
        seed % (i32::MAX as u64)
    )
}

/// Trains the ranker on the carvings' queries with `exposure` (each anime's exposure signal,
/// measured after the queries were built) written into their rows, then chooses its spread
/// weight for a validation coverage of at least `min_coverage`. The features `without` masks
/// are missing in every row (so no tree splits on them) and without the spread step its
/// weight is 0. None, said in the log, where the carvings hold too few informative queries to
/// learn from ([`FEWEST_QUERIES`]).
pub fn train(
    mut carvings: Vec<CarvingQueries>,
    exposure: &[f32],
    seed: u64,
    min_coverage: f64,
    without: Ablation,
) -> Result<Option<LearnedRanker>, LightGbmError> {
    let masked: Vec<usize> = Feature::ALL
        .iter()
        .filter(|&&f| without.masks(f))
        .map(|&f| f as usize)
        .collect();
    let mut rng = anirec_data::rng::Rng::new(seed ^ 0x7A4B_2C1D);
    // Which queries are held out: a seeded fifth of each carving's.
    let mut held_out: Vec<Vec<bool>> = Vec::new();
    let (mut train, mut valid) = (Groups::default(), Groups::default());
    for carving in &mut carvings {
        let n = carving.queries.len();
        let mut order: Vec<u32> = (0..n as u32).collect();
        rng.choose_front(&mut order, n / 5);
        let mut is_valid = vec![false; n];
        for &q in &order[..n / 5] {
            is_valid[q as usize] = true;
        }
        for (q, query) in carving.queries.iter_mut().enumerate() {
            for (i, a) in query.anime.iter().enumerate() {
                let row = &mut query.rows[i * Feature::COUNT..(i + 1) * Feature::COUNT];
                row[Feature::Exposure as usize] = exposure[a.index()];
                masked.iter().for_each(|&f| row[f] = f32::NAN);
            }
            if !query.informative() {
                continue;
            }
            if is_valid[q] {
                valid.push(&query.rows, &query.labels);
            } else {
                let kept = sample_rows(&query.labels, ROWS_PER_QUERY, &mut rng);
                let rows: Vec<f32> = kept
                    .iter()
                    .flat_map(|&i| {
                        query.rows[i * Feature::COUNT..(i + 1) * Feature::COUNT]
                            .iter()
                            .copied()
                    })
                    .collect();
                let labels: Vec<f32> = kept.iter().map(|&i| query.labels[i]).collect();
                train.push(&rows, &labels);
            }
        }
        held_out.push(is_valid);
    }
    if train.sizes.len() < FEWEST_QUERIES || valid.sizes.len() < FEWEST_HELD_OUT {
        tracing::warn!(
            queries = train.sizes.len(),
            held_out = valid.sizes.len(),
            "too few validation users with a liked anime among their candidates to train a \
             ranker; the blend orders the candidates"
        );
        return Ok(None);
    }
    let names: Vec<&str> = Feature::ALL.iter().map(|f| f.name()).collect();
    let params = params(seed);
    tracing::info!(
        queries = train.sizes.len(),
        rows = train.len(),
        held_out = valid.sizes.len(),
        "training the ranker"
    );
    let trained = lightgbm::train(&train, &valid, &names, &params, ITERATIONS, PATIENCE)?;
    let trees = read_trees(&trained.text)?;
    let grid: &[f32] = if without.leaves_out(Part::Spread) {
        &[0.0]
    } else {
        &SPREAD_GRID
    };
    let (choice, spread_exposure) = choose_spread(
        &trees,
        &carvings,
        &held_out,
        exposure.len(),
        min_coverage,
        grid,
    );
    tracing::info!(
        spread = choice.weight,
        valid_ndcg_at_10 = choice.ndcg_at_10,
        coverage = choice.coverage,
        "ranker spread chosen"
    );
    let mut importance: Vec<Importance> = names
        .iter()
        .zip(&trained.gain)
        .map(|(name, &gain)| Importance {
            feature: (*name).to_owned(),
            gain,
        })
        .collect();
    importance.sort_by(|a, b| b.gain.total_cmp(&a.gain));
    let report = RankerReport {
        params,
        train_queries: train.sizes.len(),
        valid_queries: valid.sizes.len(),
        train_rows: train.len(),
        curve: trained.curve,
        best_iteration: trained.best_iteration,
        importance,
        spread: choice.weight,
        valid_ndcg_at_10: choice.ndcg_at_10,
        valid_coverage: choice.coverage,
    };
    LearnedRanker::of_trees(trees, trained.text, spread_exposure, report).map(Some)
}

/// The rows of a query a training set keeps: every relevant one, and of the others a seeded
/// sample so that at most `most` remain (in their order).
fn sample_rows(labels: &[f32], most: usize, rng: &mut anirec_data::rng::Rng) -> Vec<usize> {
    let (relevant, mut others): (Vec<usize>, Vec<usize>) =
        (0..labels.len()).partition(|&i| labels[i] > 0.0);
    let room = most.saturating_sub(relevant.len());
    if others.len() > room {
        rng.choose_front(&mut others, room);
        others.truncate(room);
    }
    let mut kept = relevant;
    kept.extend(others);
    kept.sort_unstable();
    kept
}

/// The spread weight chosen and what it gave on validation.
#[derive(Debug, Clone, Copy, PartialEq)]
struct SpreadChoice {
    weight: f32,
    ndcg_at_10: f64,
    coverage: f64,
}

/// The ranker's exposure over `n_anime` anime (log(1 + how many queries' top 10 hold each,
/// unspread)) and the spread weight of `grid` ([`SPREAD_GRID`], smallest first) with the best
/// NDCG@10 over the held-out queries among those whose coverage (each carving's top-10 lists
/// over all its queries, averaged) reaches `min_coverage`; the widest coverage if none does.
fn choose_spread(
    trees: &Trees,
    carvings: &[CarvingQueries],
    held_out: &[Vec<bool>],
    n_anime: usize,
    min_coverage: f64,
    grid: &[f32],
) -> (SpreadChoice, Vec<f32>) {
    // Each query's scores, once.
    let scored: Vec<Vec<Vec<f32>>> = carvings
        .iter()
        .map(|c| {
            c.queries
                .par_iter()
                .map(|q| {
                    let mut raw = vec![0f64; q.anime.len()];
                    trees.score_rows(&q.rows, Feature::COUNT, &mut raw);
                    raw.into_iter().map(|s| s as f32).collect()
                })
                .collect()
        })
        .collect();
    let mut counts = vec![0u32; n_anime];
    for (carving, scores) in carvings.iter().zip(&scored) {
        for (q, s) in carving.queries.iter().zip(scores) {
            for a in top(&q.anime, s, K) {
                counts[a as usize] += 1;
            }
        }
    }
    let exposure: Vec<f32> = counts.iter().map(|&c| (1.0 + c as f32).ln()).collect();
    let figures = |weight: f32| -> SpreadChoice {
        let (mut ndcg, mut users, mut coverage) = (0.0, 0usize, 0.0);
        for ((carving, scores), held) in carvings.iter().zip(&scored).zip(held_out) {
            let tops: Vec<Vec<u32>> = carving
                .queries
                .par_iter()
                .zip(scores)
                .map(|(q, s)| {
                    let mut s = s.clone();
                    spread(&mut s, &q.anime, &exposure, weight);
                    top(&q.anime, &s, K)
                })
                .collect();
            for (top, (q, &held)) in tops.iter().zip(carving.queries.iter().zip(held)) {
                if held {
                    ndcg += score_user(top, &q.relevant, K).ndcg;
                    users += 1;
                }
            }
            let mut shown: Vec<u32> = tops.into_iter().flatten().collect();
            shown.sort_unstable();
            shown.dedup();
            coverage += shown.len() as f64 / carving.rated_anime.max(1) as f64;
        }
        SpreadChoice {
            weight,
            ndcg_at_10: ndcg / users.max(1) as f64,
            coverage: coverage / carvings.len().max(1) as f64,
        }
    };
    let tried: Vec<SpreadChoice> = grid.iter().map(|&w| figures(w)).collect();
    for t in &tried {
        tracing::debug!(
            weight = t.weight,
            ndcg_at_10 = t.ndcg_at_10,
            coverage = t.coverage,
            "spread tried"
        );
    }
    let key = |c: &SpreadChoice| -> (u8, f64) {
        if c.coverage >= min_coverage {
            (1, c.ndcg_at_10)
        } else {
            (0, c.coverage)
        }
    };
    // The first weight (the smallest) wins a tie: no more spread than the figures ask for.
    let mut best = tried[0];
    for t in &tried[1..] {
        if key(t) > key(&best) {
            best = *t;
        }
    }
    (best, exposure)
}

/// The anime of the `k` best scores, best first (ties by anime).
fn top(anime: &[AnimeIx], scores: &[f32], k: usize) -> Vec<u32> {
    let mut order: Vec<usize> = (0..anime.len()).collect();
    order.sort_by(|&i, &j| {
        scores[j]
            .total_cmp(&scores[i])
            .then(anime[i].cmp(&anime[j]))
    });
    order.into_iter().take(k).map(|i| anime[i].0).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sampled_query_keeps_every_relevant_row_and_at_most_the_limit() {
        let mut labels = vec![0.0f32; 300];
        for i in [3, 150, 299] {
            labels[i] = 1.0;
        }
        let mut rng = anirec_data::rng::Rng::new(7);
        let kept = sample_rows(&labels, 100, &mut rng);
        assert_eq!(kept.len(), 100);
        assert!(
            kept.windows(2).all(|w| w[0] < w[1]),
            "in row order, no repeats"
        );
        for i in [3, 150, 299] {
            assert!(kept.contains(&i), "relevant row {i} kept");
        }
        // The sample reaches beyond the first rows (it is not a prefix).
        assert!(kept.iter().filter(|&&i| i >= 100).count() > 20, "{kept:?}");
        // Seeded: the same seed keeps the same rows; a short query is kept whole.
        assert_eq!(
            kept,
            sample_rows(&labels, 100, &mut anirec_data::rng::Rng::new(7))
        );
        assert_eq!(
            sample_rows(&labels[..50], 100, &mut rng),
            (0..50).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_query_teaches_only_with_relevant_and_other_rows() {
        let query = |labels: Vec<f32>| RankerQuery {
            anime: (0..labels.len() as u32).map(AnimeIx).collect(),
            rows: vec![0.0; labels.len() * Feature::COUNT],
            relevant: Vec::new(),
            labels,
        };
        assert!(query(vec![0.0, 1.0]).informative());
        assert!(!query(vec![0.0, 0.0]).informative());
        assert!(!query(vec![1.0, 1.0]).informative());
        assert!(!query(Vec::new()).informative());
    }
}
