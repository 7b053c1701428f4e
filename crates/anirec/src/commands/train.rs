//! `anirec train`: the library's training pipeline ([`anirec_model::training`]) on a data folder
//! (or on given train/test files) — the model bundle, and the run recorded in `runs/<run-id>/` —
//! with the run's training curves drawn and a summary printed.

use std::path::PathBuf;
use std::time::Instant;

use anirec_data::split::DEFAULT_SEED;
use anirec_encoder::Encoder;
use anirec_model::training::{self, RunOptions};
use anirec_store::Store;
use anirec_store::training::account_users;
use anyhow::Context;

use super::data_args::{DataArgs, Loaded};
use super::tracking_args::TrackingArgs;
use super::tuning_args::TuningArgs;
use crate::mlflow::RunLog;
use crate::story::{EncoderArgs, embed_catalogue};

/// Arguments of `anirec train`.
#[derive(clap::Args)]
pub struct Args {
    /// Data; with --test the model is evaluated on it once and the metrics stored in the bundle.
    #[command(flatten)]
    pub data: DataArgs,
    /// Where to write the model bundle (a folder).
    #[arg(long)]
    pub out: PathBuf,
    /// Seed of the models and of the validation split carved from train.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Blend tuning.
    #[command(flatten)]
    pub tuning: TuningArgs,
    /// Folder that receives one sub-folder per run.
    #[arg(long, default_value = "runs")]
    pub runs: PathBuf,
    /// Record the run in exactly this folder instead of a new sub-folder of --runs (a
    /// pipeline's fixed place: `dvc.yaml`'s plots); a run recorded there before is replaced.
    #[arg(long, conflicts_with = "resume")]
    pub run_dir: Option<PathBuf>,
    /// Continue an interrupted run from its folder (its parameters and last checkpoint); the
    /// result equals an uninterrupted run on the same data.
    #[arg(long, conflicts_with = "seed")]
    pub resume: Option<PathBuf>,
    /// Also learn from the accounts' lists in this database (sqlite://PATH or postgres://...):
    /// each account becomes a training user with an id from 3,000,000,000 up, apart from the
    /// dataset's users.
    #[arg(long, env = "ANIREC_DB", hide_env_values = true)]
    pub db: Option<String>,
    /// The sentence encoder that embeds each anime's story (for story search).
    #[command(flatten)]
    pub encoder: EncoderArgs,
    /// MLflow: the run's parameters, per-epoch figures, final figures, tags and files.
    #[command(flatten)]
    pub tracking: TrackingArgs,
    /// With --mlflow: register the bundle (uploaded with the run) as a new version of this
    /// registered model, for `anirec promote` and `serve --model models:/NAME@ALIAS`.
    #[arg(long, value_name = "NAME", default_value = "anirec")]
    pub registered_model: String,
    /// With --mlflow: log the run only, without uploading and registering the bundle.
    #[arg(long)]
    pub no_register: bool,
}

/// `train` with the accounts' lists of the database at `url` added as users.
fn with_accounts(
    train: anirec_data::Ratings,
    catalogue: &anirec_data::Catalogue,
    url: &str,
) -> anyhow::Result<anirec_data::Ratings> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let entries = runtime.block_on(async {
        let store = Store::open(url).await.with_context(|| {
            format!(
                "opening the accounts database {}",
                anirec_store::redacted_url(url)
            )
        })?;
        let entries = store.all_entries().await?;
        store.close().await;
        anyhow::Ok(entries)
    })?;
    let (users, unknown) = account_users(&entries, catalogue);
    let added: usize = users.iter().map(|u| u.entries.len()).sum();
    let train = train
        .with_users(&users)
        .map_err(|e| anyhow::anyhow!("adding the accounts' lists: {e}"))?;
    eprintln!(
        "added {added} list entries of {} accounts{}",
        users.len(),
        if unknown > 0 {
            format!(" ({unknown} of anime the catalogue lacks left out)")
        } else {
            String::new()
        }
    );
    Ok(train)
}

/// Runs `anirec train`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let encoder = args.encoder.load()?;
    run_with(args, encoder.as_ref())
}

/// Runs `anirec train` with the sentence encoder already loaded (none: `--no-encoder`).
pub fn run_with(args: Args, encoder: Option<&Encoder>) -> anyhow::Result<()> {
    let started = Instant::now();
    let Loaded {
        catalogue,
        mut train,
        test,
        synthetic,
    } = args.data.load()?;
    if let Some(db) = &args.db {
        train = with_accounts(train, &catalogue, db)?;
    }
    let load_seconds = started.elapsed().as_secs_f64();
    let story = match encoder {
        Some(encoder) => Some(embed_catalogue(
            encoder,
            &catalogue,
            &args.encoder.cache_dir(),
        )?),
        None => None,
    };
    eprintln!(
        "training on {} ratings by {} users ...",
        train.len(),
        train.active_users()
    );
    let opts = RunOptions {
        out: args.out.clone(),
        runs: args.runs.clone(),
        run_dir: args.run_dir.clone(),
        seed: args.seed,
        validation_carvings: args.tuning.validation_carvings,
        ranker: args.tuning.ranker,
        candidates: args.tuning.candidates(),
        resume: args.resume.clone(),
        story,
    };
    let run = training::run(catalogue, train, test.as_ref(), load_seconds, &opts)?;
    crate::curves::draw(&run.dir, &run.epochs)?;
    let model = &run.bundle.model;
    let validation = model.validation_figures();
    println!("model         {}", args.out.display());
    println!("run           {}", run.dir.display());
    println!(
        "fit           {:.2} s ({} factor epochs)",
        run.fit_seconds, model.rating.epochs
    );
    println!(
        "validation    NDCG@10 {:.4}, coverage {:.4}, RMSE {:.4}",
        validation.ndcg_at_10, validation.coverage, validation.rmse
    );
    if let Some(m) = run.test {
        println!("test          {}", serde_json::to_value(m)?);
    }
    let register = !args.no_register;
    let logged = args.tracking.log(
        || RunLog::training(&run.dir, &args.out, synthetic, register),
        &run.dir.display().to_string(),
    );
    if let Some((client, logged)) = logged {
        println!("{}", args.tracking.said(&logged));
        if !register {
            return Ok(());
        }
        match client.register(&args.registered_model, &logged, &args.out) {
            Ok(v) => println!("registered    models:/{}/{}", v.name, v.version),
            Err(e) => eprintln!(
                "MLflow: the bundle was logged with run {} but not registered as a version of {}: {e:#}",
                logged.run_id, args.registered_model
            ),
        }
    }
    Ok(())
}
