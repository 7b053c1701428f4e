//! `anirec eval`: the evaluation protocol of `EVALUATION.md` on a data folder (split with a seed)
//! or on given `train.csv` / `test.csv` files, beside the popularity baseline.

use std::path::PathBuf;
use std::time::Instant;

use anirec_data::split::{self, DEFAULT_SEED, Split};
use anirec_data::{Dataset, IngestOptions};
use anirec_model::cf::ease::{Ease, EaseParams, EaseScorer};
use anirec_model::eval::evaluate_ranking;
use anirec_model::popularity::Popularity;
use anyhow::Context;

use crate::progress::Bar;

/// Arguments of `anirec eval`.
#[derive(clap::Args)]
pub struct Args {
    /// Data folder (its catalogue is always used), or a snapshot.
    #[arg(long)]
    pub data: PathBuf,
    /// Train ratings (with --test): replaces the ratings of --data.
    #[arg(long, requires = "test")]
    pub train: Option<PathBuf>,
    /// Test ratings (with --train).
    #[arg(long, requires = "train")]
    pub test: Option<PathBuf>,
    /// Seed of the split when --train/--test are not given.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// EASE regularisation.
    #[arg(long, default_value_t = 250.0)]
    pub lambda: f32,
    /// EASE score weighting strength (0 = binary).
    #[arg(long, default_value_t = 0.0)]
    pub alpha: f32,
    /// EASE minimum ratings per anime.
    #[arg(long, default_value_t = 1)]
    pub min_item: usize,
    /// Prior weight.
    #[arg(long, default_value_t = 0.0)]
    pub prior: f32,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

struct Dbg;
impl anirec_model::rating::model::EpochObserver for Dbg { fn on_epoch(&mut self, r: &anirec_model::rating::model::EpochReport, _: &anirec_model::rating::mf::Mf) { eprintln!("{r:?}"); } }
/// Runs `anirec eval`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let bar = Bar::new();
    let mut scores = Vec::new();
    let s: Split = match (&args.train, &args.test) {
        (Some(train), Some(test)) => {
            let (c, _, s) = Dataset::load_split(&args.data, train, test, false, &bar)?;
            scores = c.anime().iter().map(|a| a.score).collect();
            s
        }
        _ => {
            let d = Dataset::open(&args.data, &IngestOptions::default(), &bar)
                .with_context(|| format!("reading {}", args.data.display()))?;
            scores = d.catalogue.anime().iter().map(|a| a.score).collect();
            split::split(&d.ratings, args.seed)
        }
    };
    bar.finish();
    let pop = Popularity::fit(&s.train);
    let pop_metrics = evaluate_ranking(&s.train, &s.test, &pop);
    let started = Instant::now();
    let ease = Ease::fit(
        &s.train,
        EaseParams {
            lambda: args.lambda,
            weighting: if args.alpha > 0.0 {
                anirec_model::cf::ease::Weighting::Scored { alpha: args.alpha }
            } else {
                anirec_model::cf::ease::Weighting::Binary
            },
            min_item_ratings: args.min_item,
        },
    );
    let fit = started.elapsed().as_secs_f64();
    let m = evaluate_ranking(
        &s.train,
        &s.test,
        &EaseScorer {
            model: &ease,
            train: &s.train,
        },
    );
    let started = Instant::now();
    let mut params = anirec_model::rating::model::RatingParams { prior_weight: args.prior, ..Default::default() };
    if let Ok(v) = std::env::var("MFX") { let v: Vec<f32> = v.split(',').map(|x| x.parse().unwrap()).collect(); params.mf.learning_rate = v[0]; params.mf.reg = v[1]; params.mf.reg_bias = v[2]; params.mf.factors = v[3] as usize; params.mf.decay = v[4]; params.patience = 30; params.max_epochs = 30; }
    let model = anirec_model::rating::model::RatingModel::fit(&s.train, &scores, params, &mut Dbg);
    let rating_fit = started.elapsed().as_secs_f64();
    let rating_m = anirec_model::eval::evaluate_ratings(&s.train, &s.test, &anirec_model::rating::model::TrainPredictor { model: &model, train: &s.train });
    println!("{}", serde_json::json!({"ease": m, "fit_seconds": fit, "rating": rating_m, "rating_fit": rating_fit, "blend": model.blend, "epochs": model.epochs, "val": model.validation, "baselines": {"popularity": pop_metrics}}));
    Ok(())
}
