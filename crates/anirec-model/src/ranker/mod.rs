//! The second stage of recommending: a learned ranker (LambdaMART, LightGBM's `lambdarank`
//! objective) that orders a fan's candidates by their [`features`], in place of the blend's
//! weighted sum. It is trained on the validation users the blend is tuned on ([`training`]),
//! known users and folded-in lists alike, and explains each pick by the features that pushed it
//! up (LightGBM's per-feature contributions, summed per signal).
//!
//! - [`features`]: what the ranker sees of each candidate.
//! - [`ablation`]: what an ablation study leaves out of the two stages.
//! - [`lightgbm`]: training on query groups, predictions and contributions.
//! - [`trees`]: the trained trees walked here, for the scores of every request.
//! - [`training`]: the training set carved from train, and the fit.

pub mod ablation;
pub mod features;
pub mod lightgbm;
pub mod training;
pub mod trees;

use anirec_data::AnimeIx;
use serde::{Deserialize, Serialize};

use crate::hybrid::{Candidate, Hybrid, Scored, Signals};
use crate::rating::model::UserState;
use crate::signal::Signal;
use features::Feature;
use lightgbm::{LightGbmError, Model};
use trees::Trees;

pub use training::{CarvingQueries, RankerQuery};

/// How the candidates are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RankerKind {
    /// The blend: each signal standardised over the candidates, weighted and summed.
    Blend,
    /// LambdaMART over the candidates' features (the default; where validation holds too
    /// few users to train it, the blend).
    #[default]
    LambdaMart,
}

impl RankerKind {
    /// The blend (what a bundle's parameters without a ranker field meant).
    pub fn blend() -> RankerKind {
        RankerKind::Blend
    }
}

impl std::fmt::Display for RankerKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RankerKind::Blend => "blend",
            RankerKind::LambdaMart => "lambdamart",
        })
    }
}

/// A `--ranker` value that is neither `blend` nor `lambdamart`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected blend or lambdamart, found {0:?}")]
pub struct RankerKindError(String);

impl std::str::FromStr for RankerKind {
    type Err = RankerKindError;

    fn from_str(s: &str) -> Result<RankerKind, RankerKindError> {
        match s {
            "blend" => Ok(RankerKind::Blend),
            "lambdamart" => Ok(RankerKind::LambdaMart),
            _ => Err(RankerKindError(s.to_owned())),
        }
    }
}

/// One feature's total gain in the ranker's trees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Importance {
    /// The feature's name.
    pub feature: String,
    /// Total gain of its splits.
    pub gain: f64,
}

/// How the ranker was trained (kept in the bundle's manifest and logged to the run).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankerReport {
    /// LightGBM's parameters.
    pub params: String,
    /// Queries (validation users' lists) trained on and held out for early stopping.
    pub train_queries: usize,
    /// Queries held out for early stopping.
    pub valid_queries: usize,
    /// Rows (candidates) trained on.
    pub train_rows: usize,
    /// NDCG@10 of the held-out queries after each boosting iteration.
    pub curve: Vec<f64>,
    /// The iteration kept (the best held-out NDCG@10).
    pub best_iteration: usize,
    /// Each feature's total gain, largest first.
    pub importance: Vec<Importance>,
    /// The spread step's weight: how much a standard deviation of the ranker's own exposure
    /// above the candidates' mean lowers a score, in standard deviations of the scores.
    pub spread: f32,
    /// NDCG@10 of the held-out queries with the spread step.
    pub valid_ndcg_at_10: f64,
    /// Validation coverage with the spread step (each carving's top-10 lists, averaged).
    pub valid_coverage: f64,
}

/// A trained ranker.
#[derive(Debug)]
pub struct LearnedRanker {
    /// LightGBM's booster (the per-feature contributions).
    model: Model,
    /// The same trees, walked here (the scores).
    trees: Trees,
    /// The model in LightGBM's text format (saved in the bundle as `ranker.txt`).
    pub text: String,
    /// log(1 + how many validation users' top 10 held the anime) under the ranker alone,
    /// per anime: what the spread step lowers.
    pub exposure: Vec<f32>,
    /// How it was trained.
    pub report: RankerReport,
}

/// How much a novelty of 1 lowers a candidate's score per standard deviation of popularity
/// above the candidates' mean, in standard deviations of the ranker's scores (as the blend's
/// `NOVELTY_WEIGHT` does in its own units).
const NOVELTY_WEIGHT: f32 = 0.4;

impl LearnedRanker {
    /// A ranker from a saved model text, its exposure and its report.
    pub fn load(
        text: String,
        exposure: Vec<f32>,
        report: RankerReport,
    ) -> Result<LearnedRanker, LightGbmError> {
        let trees = read_trees(&text)?;
        LearnedRanker::of_trees(trees, text, exposure, report)
    }

    /// A ranker from its trees already read from `text` ([`read_trees`]).
    fn of_trees(
        trees: Trees,
        text: String,
        exposure: Vec<f32>,
        report: RankerReport,
    ) -> Result<LearnedRanker, LightGbmError> {
        Ok(LearnedRanker {
            model: Model::parse(&text, Feature::COUNT)?,
            trees,
            text,
            exposure,
            report,
        })
    }

    /// A fan's candidates scored, best first, with what explaining them needs in the same
    /// order (for [`LearnedRanker::parts`]). `novelty` (0-1) lowers popular anime.
    pub fn rank(
        &self,
        model: &Hybrid,
        user: &UserState,
        cands: &[Candidate],
        novelty: f32,
    ) -> (Vec<Scored>, RankedRows) {
        let rows = features::rows(model, user, cands);
        let mut raw = vec![0f64; cands.len()];
        self.trees.score_rows(&rows, Feature::COUNT, &mut raw);
        let learned: Vec<f32> = raw.into_iter().map(|s| s as f32).collect();
        let mut scores = learned.clone();
        let anime: Vec<AnimeIx> = cands.iter().map(|c| c.anime).collect();
        spread(&mut scores, &anime, &self.exposure, self.report.spread);
        if novelty > 0.0 {
            let popularity: Vec<f32> = rows
                .chunks_exact(Feature::COUNT)
                .map(|row| row[Feature::PopularityZ as usize])
                .collect();
            lower(&mut scores, &popularity, novelty * NOVELTY_WEIGHT);
        }
        let mut order: Vec<usize> = (0..cands.len()).collect();
        order.sort_by(|&i, &j| {
            scores[j]
                .total_cmp(&scores[i])
                .then(cands[i].anime.cmp(&cands[j].anime))
        });
        let ranked = order
            .iter()
            .map(|&i| Scored {
                anime: cands[i].anime,
                score: scores[i],
                parts: Signals::default(),
                predicted_rating: cands[i].predicted_rating,
            })
            .collect();
        let n = Feature::COUNT;
        let sorted = RankedRows {
            rows: order
                .iter()
                .flat_map(|&i| rows[i * n..(i + 1) * n].iter().copied())
                .collect(),
            lifts: order.iter().map(|&i| scores[i] - learned[i]).collect(),
        };
        (ranked, sorted)
    }

    /// The parts of the candidates at `at` of a ranking: each signal's LightGBM contributions
    /// (of the features that stand for it) summed, and what the spread and novelty steps
    /// changed as the exposure signal's part.
    pub fn parts(&self, ranked: &RankedRows, at: &[usize]) -> Result<Vec<Signals>, LightGbmError> {
        let n = Feature::COUNT;
        let rows: Vec<f32> = at
            .iter()
            .flat_map(|&i| ranked.rows[i * n..(i + 1) * n].iter().copied())
            .collect();
        let contributions = self.model.contributions(&rows)?;
        Ok(contributions
            .chunks_exact(n + 1)
            .zip(at)
            .map(|(row, &i)| {
                let mut parts = Signals::default();
                for (f, &c) in Feature::ALL.iter().zip(row) {
                    if let Some(signal) = f.signal() {
                        parts[signal] += c as f32;
                    }
                }
                parts[Signal::Exposure] += ranked.lifts[i];
                parts
            })
            .collect())
    }
}

/// A ranking's candidates as explaining them needs, best first: their feature rows and what
/// the steps after the ranker (spread, novelty) added to their scores.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RankedRows {
    rows: Vec<f32>,
    lifts: Vec<f32>,
}

/// The spread step: lowers each score of `anime` by `weight` × the scores' standard deviation
/// × the anime's `exposure` standardised over them.
pub(crate) fn spread(scores: &mut [f32], anime: &[AnimeIx], exposure: &[f32], weight: f32) {
    if weight == 0.0 || scores.is_empty() {
        return;
    }
    let of: Vec<f32> = anime
        .iter()
        .map(|a| exposure.get(a.index()).copied().unwrap_or(0.0))
        .collect();
    lower(scores, &features::standardised(&of), weight);
}

/// Lowers each score by `weight` × the scores' standard deviation × the candidate's
/// standardised value `z` (one per score).
fn lower(scores: &mut [f32], z: &[f32], weight: f32) {
    let sd = features::mean_var(scores).1.sqrt();
    for (s, z) in scores.iter_mut().zip(z) {
        *s -= weight * sd * z;
    }
}

/// A model text's trees, refused where they read a feature the ranker does not have.
pub(crate) fn read_trees(text: &str) -> Result<Trees, LightGbmError> {
    let read_error = |message: String| LightGbmError {
        call: "reading the trees",
        message,
    };
    let trees = Trees::parse(text).map_err(|e| read_error(e.to_string()))?;
    if trees.features_read() > Feature::COUNT {
        return Err(read_error(format!(
            "the trees read {} features, the ranker has {}",
            trees.features_read(),
            Feature::COUNT
        )));
    }
    Ok(trees)
}
