//! `anirec eval`: the evaluation protocol of `EVALUATION.md` — fit the hybrid on train, score
//! the test set once — on a data folder (split with a seed) or on given `train.csv` / `test.csv`
//! files, beside the popularity baseline.

use std::time::Instant;

use anirec_data::split::{self, DEFAULT_SEED, Split};
use anirec_model::eval::{evaluate_ranking, evaluate_ratings};
use anirec_model::hybrid::{Hybrid, HybridParams, HybridScorer};
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
    let ranking = evaluate_ranking(
        &s.train,
        &s.test,
        &HybridScorer {
            model: &model,
            train: &s.train,
        },
    );
    let rating = evaluate_ratings(
        &s.train,
        &s.test,
        &TrainPredictor {
            model: &model.rating,
            train: &s.train,
        },
    );
    let report = serde_json::json!({
        "rmse": rating.rmse,
        "mae": rating.mae,
        "mae_scaled": rating.mae_scaled,
        "mse_scaled": rating.mse_scaled,
        "ndcg_at_10": ranking.ndcg_at_10,
        "precision_at_10": ranking.precision_at_10,
        "recall_at_10": ranking.recall_at_10,
        "map_at_10": ranking.map_at_10,
        "coverage": ranking.coverage,
        "fit_seconds": fit_seconds,
        "rated_pairs": rating.count,
        "ranked_users": ranking.users,
        "train_ratings": s.train.len(),
        "test_ratings": s.test.len(),
        "blend": model.weights,
        "validation": {"ndcg_at_10": model.validation.0, "coverage": model.validation.1, "rmse": model.rating.validation.rmse},
        "baselines": {"popularity": {
            "ndcg_at_10": pop.ndcg_at_10,
            "precision_at_10": pop.precision_at_10,
            "recall_at_10": pop.recall_at_10,
            "map_at_10": pop.map_at_10,
            "coverage": pop.coverage,
        }},
    });
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
        for (name, r) in [("anirec", &ranking), ("popularity", &pop)] {
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
