//! `anirec eval`: the evaluation protocol of `EVALUATION.md` — fit the hybrid on train, score
//! the test set once — on a data folder (split with a seed) or on given `train.csv` / `test.csv`
//! files, beside the popularity baseline.

use std::time::Instant;

use anirec_data::Ratings;
use anirec_data::split::{self, DEFAULT_SEED, Split};
use anirec_model::eval::{evaluate_ranking, evaluate_ratings};
use anirec_model::hybrid::{ContentScorer, Hybrid, HybridParams, HybridScorer};
use anirec_model::metrics::{RankingMetrics, RatingMetrics};
use anirec_model::popularity::Popularity;
use anirec_model::rating::model::TrainPredictor;

use super::data_args::DataArgs;

/// Arguments of `anirec eval`.
#[derive(clap::Args)]
pub struct Args {
    /// Data.
    #[command(flatten)]
    pub data: DataArgs,
    /// Seed of the split (when --train/--test are not given) and of the models.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Scores a fitted hybrid once on a test set that shares its train store's indices.
pub fn score_on_test(
    model: &Hybrid,
    train: &Ratings,
    test: &Ratings,
) -> (RatingMetrics, RankingMetrics) {
    let ranking = evaluate_ranking(train, test, &HybridScorer { model, train });
    let rating = evaluate_ratings(
        train,
        test,
        &TrainPredictor {
            model: &model.rating,
            train,
        },
    );
    (rating, ranking)
}

/// The ranking figures under the protocol's key names.
fn ranking_json(r: &RankingMetrics) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert("ndcg_at_10".into(), r.ndcg_at_10.into());
    m.insert("precision_at_10".into(), r.precision_at_10.into());
    m.insert("recall_at_10".into(), r.recall_at_10.into());
    m.insert("map_at_10".into(), r.map_at_10.into());
    m.insert("coverage".into(), r.coverage.into());
    m
}

/// The protocol's rating and ranking figures as one JSON object (the keys `eval --json` documents
/// and a bundle's manifest stores).
pub fn metrics_json(
    rating: &RatingMetrics,
    ranking: &RankingMetrics,
) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert("rmse".into(), rating.rmse.into());
    m.insert("mae".into(), rating.mae.into());
    m.insert("mae_scaled".into(), rating.mae_scaled.into());
    m.insert("mse_scaled".into(), rating.mse_scaled.into());
    m.extend(ranking_json(ranking));
    m
}

/// Runs `anirec eval`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let loaded = args.data.load()?;
    let catalogue = loaded.catalogue;
    let s = match loaded.test {
        Some(test) => Split {
            train: loaded.train,
            test,
        },
        None => split::split(&loaded.train, args.seed),
    };
    let pop = evaluate_ranking(&s.train, &s.test, &Popularity::fit(&s.train));
    let started = Instant::now();
    let params = HybridParams {
        seed: args.seed,
        ..HybridParams::default()
    };
    let model = Hybrid::fit(&s.train, &catalogue, params, &mut (), None);
    let fit_seconds = started.elapsed().as_secs_f64();
    let (rating, ranking) = score_on_test(&model, &s.train, &s.test);
    let content = evaluate_ranking(
        &s.train,
        &s.test,
        &ContentScorer {
            model: &model,
            train: &s.train,
        },
    );
    let mut report = metrics_json(&rating, &ranking);
    report.extend([
        ("fit_seconds".to_owned(), fit_seconds.into()),
        ("rated_pairs".to_owned(), rating.count.into()),
        ("ranked_users".to_owned(), ranking.users.into()),
        ("train_ratings".to_owned(), s.train.len().into()),
        ("test_ratings".to_owned(), s.test.len().into()),
        ("blend".to_owned(), serde_json::to_value(model.weights)?),
        (
            "validation".to_owned(),
            serde_json::json!({"ndcg_at_10": model.validation.0, "coverage": model.validation.1, "rmse": model.rating.validation.rmse}),
        ),
        (
            "baselines".to_owned(),
            serde_json::json!({"popularity": ranking_json(&pop), "content": ranking_json(&content)}),
        ),
    ]);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "split         {} train / {} test ratings",
            s.train.len(),
            s.test.len()
        );
        println!(
            "{:<13} {:>8} {:>8} {:>8} {:>8} {:>8}",
            "", "NDCG@10", "P@10", "R@10", "MAP@10", "coverage"
        );
        for (name, r) in [
            ("anirec", &ranking),
            ("content alone", &content),
            ("popularity", &pop),
        ] {
            println!(
                "{name:<13} {:>8.4} {:>8.4} {:>8.4} {:>8.4} {:>8.4}",
                r.ndcg_at_10, r.precision_at_10, r.recall_at_10, r.map_at_10, r.coverage
            );
        }
        println!(
            "rating        RMSE {:.4}  MAE {:.4}  MAE_scaled {:.4}  MSE_scaled {:.5}  ({} pairs)",
            rating.rmse, rating.mae, rating.mae_scaled, rating.mse_scaled, rating.count
        );
        println!("fit           {fit_seconds:.2} s (all components, validation tuning included)");
    }
    Ok(())
}
