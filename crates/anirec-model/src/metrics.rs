//! Evaluation metrics of `EVALUATION.md`: rating errors (RMSE, MAE, and both on the min-max
//! scaled 0-1 scale) and top-k ranking quality (precision, recall, NDCG and AP at k, coverage).

use serde::{Deserialize, Serialize};

/// Rating prediction errors over a set of (prediction, truth) pairs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct RatingMetrics {
    /// Root mean squared error on the 1-10 scale.
    pub rmse: f64,
    /// Mean absolute error on the 1-10 scale.
    pub mae: f64,
    /// MAE on the scaled `(r - 1) / 9` scale.
    pub mae_scaled: f64,
    /// MSE on the scaled scale.
    pub mse_scaled: f64,
    /// Number of pairs.
    pub count: u64,
}

impl RatingMetrics {
    /// Errors of `pairs` of (prediction, truth); predictions are clipped to [1, 10] first.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (f64, f64)>) -> RatingMetrics {
        let (mut se, mut ae, mut n) = (0.0, 0.0, 0u64);
        for (pred, truth) in pairs {
            let e = pred.clamp(1.0, 10.0) - truth;
            se += e * e;
            ae += e.abs();
            n += 1;
        }
        if n == 0 {
            return RatingMetrics::default();
        }
        let (mse, mae) = (se / n as f64, ae / n as f64);
        RatingMetrics {
            rmse: mse.sqrt(),
            mae,
            mae_scaled: mae / 9.0,
            mse_scaled: mse / 81.0,
            count: n,
        }
    }
}

/// Mean top-k ranking quality over evaluated users.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct RankingMetrics {
    /// Mean NDCG@k (binary gains, log2 discount).
    pub ndcg_at_10: f64,
    /// Mean precision@k.
    pub precision_at_10: f64,
    /// Mean recall@k (hits / relevant).
    pub recall_at_10: f64,
    /// Mean AP@k, normalised by min(relevant, k).
    pub map_at_10: f64,
    /// Distinct anime recommended / anime in train.
    pub coverage: f64,
    /// Users evaluated.
    pub users: u64,
}

/// Ranking figures under the protocol's key names (without the user count).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RankingFigures {
    /// Mean NDCG@10.
    pub ndcg_at_10: f64,
    /// Mean precision@10.
    pub precision_at_10: f64,
    /// Mean recall@10.
    pub recall_at_10: f64,
    /// Mean AP@10.
    pub map_at_10: f64,
    /// Distinct anime recommended / anime in train.
    pub coverage: f64,
}

impl From<&RankingMetrics> for RankingFigures {
    fn from(r: &RankingMetrics) -> RankingFigures {
        RankingFigures {
            ndcg_at_10: r.ndcg_at_10,
            precision_at_10: r.precision_at_10,
            recall_at_10: r.recall_at_10,
            map_at_10: r.map_at_10,
            coverage: r.coverage,
        }
    }
}

/// The protocol's figures on a test set, under the keys `eval --json` prints and a bundle's
/// manifest stores (the pair and user counts are reported apart).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TestMetrics {
    /// RMSE on the 1-10 scale.
    pub rmse: f64,
    /// MAE on the 1-10 scale.
    pub mae: f64,
    /// MAE on the 0-1 scale.
    pub mae_scaled: f64,
    /// MSE on the 0-1 scale.
    pub mse_scaled: f64,
    /// The ranking figures.
    #[serde(flatten)]
    pub ranking: RankingFigures,
}

impl TestMetrics {
    /// Both kinds of figure of one test set.
    pub fn new(rating: &RatingMetrics, ranking: &RankingMetrics) -> TestMetrics {
        TestMetrics {
            rmse: rating.rmse,
            mae: rating.mae,
            mae_scaled: rating.mae_scaled,
            mse_scaled: rating.mse_scaled,
            ranking: ranking.into(),
        }
    }
}

/// What the blend's tuning saw on the validation split carved from train.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ValidationFigures {
    /// NDCG@10 of the chosen weights.
    pub ndcg_at_10: f64,
    /// Their catalogue coverage.
    pub coverage: f64,
    /// The rating model's RMSE.
    pub rmse: f64,
}

/// Precision, recall, NDCG and AP of one ranked list against a sorted set of relevant items.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct UserRanking {
    /// Hits / k.
    pub precision: f64,
    /// Hits / relevant.
    pub recall: f64,
    /// DCG / ideal DCG.
    pub ndcg: f64,
    /// Average precision, normalised by min(relevant, k).
    pub ap: f64,
}

/// Scores one user's top-`k` list. `relevant` must be sorted and non-empty.
pub fn score_user(top: &[u32], relevant: &[u32], k: usize) -> UserRanking {
    let (mut hits, mut dcg, mut ap) = (0usize, 0.0, 0.0);
    for (rank, item) in top.iter().take(k).enumerate() {
        if relevant.binary_search(item).is_ok() {
            hits += 1;
            dcg += 1.0 / ((rank + 2) as f64).log2();
            ap += hits as f64 / (rank + 1) as f64;
        }
    }
    let ideal_hits = relevant.len().min(k);
    let idcg: f64 = (0..ideal_hits).map(|r| 1.0 / ((r + 2) as f64).log2()).sum();
    UserRanking {
        precision: hits as f64 / k as f64,
        recall: hits as f64 / relevant.len() as f64,
        ndcg: if idcg > 0.0 { dcg / idcg } else { 0.0 },
        ap: if ideal_hits > 0 {
            ap / ideal_hits as f64
        } else {
            0.0
        },
    }
}

/// Averages per-user rankings; `coverage` is computed by the caller.
pub fn mean_ranking(users: &[UserRanking], coverage: f64) -> RankingMetrics {
    let n = users.len().max(1) as f64;
    let sum = |f: fn(&UserRanking) -> f64| users.iter().map(f).sum::<f64>() / n;
    RankingMetrics {
        ndcg_at_10: sum(|u| u.ndcg),
        precision_at_10: sum(|u| u.precision),
        recall_at_10: sum(|u| u.recall),
        map_at_10: sum(|u| u.ap),
        coverage,
        users: users.len() as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn rating_errors_by_hand() {
        // Errors 1, -2 and (clipped 12 → 10) 0.
        let m = RatingMetrics::from_pairs([(8.0, 7.0), (3.0, 5.0), (12.0, 10.0)]);
        assert!(close(m.rmse, (5.0f64 / 3.0).sqrt()));
        assert!(close(m.mae, 1.0));
        assert!(close(m.mae_scaled, 1.0 / 9.0));
        assert!(close(m.mse_scaled, 5.0 / 3.0 / 81.0));
        assert_eq!(m.count, 3);
    }

    #[test]
    fn ranking_by_hand() {
        // Relevant {2, 5, 9}; hits at ranks 1 and 3 of 4.
        let r = score_user(&[5, 7, 2, 8], &[2, 5, 9], 4);
        assert!(close(r.precision, 0.5));
        assert!(close(r.recall, 2.0 / 3.0));
        let dcg = 1.0 + 1.0 / 4f64.log2();
        let idcg = 1.0 + 1.0 / 3f64.log2() + 1.0 / 4f64.log2();
        assert!(close(r.ndcg, dcg / idcg));
        assert!(close(r.ap, (1.0 + 2.0 / 3.0) / 3.0));
        // A perfect list.
        let p = score_user(&[9, 2, 5], &[2, 5, 9], 10);
        assert!(close(p.ndcg, 1.0));
        assert!(close(p.ap, 1.0));
        assert!(close(p.precision, 0.3));
        let m = mean_ranking(&[r, p], 0.5);
        assert!(close(m.recall_at_10, (2.0 / 3.0 + 1.0) / 2.0));
        assert_eq!(m.users, 2);
    }
}
