//! `anirec train`: fit the hybrid on a data folder (or on given train/test files), write the
//! model bundle, and record the run in `runs/<run-id>/` (parameters, per-epoch metrics, final
//! metrics, data fingerprint, git commit, timings).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anirec_data::split::DEFAULT_SEED;
use anirec_model::bundle::Bundle;
use anirec_model::hybrid::{Hybrid, HybridParams};
use anirec_model::metrics::{TestMetrics, ValidationFigures};
use anirec_model::rating::checkpoint;
use anirec_model::rating::model::{EpochObserver, EpochReport, FactorProgress};
use anirec_model::signal::Weights;
use anyhow::Context;

use super::data_args::{DataArgs, Loaded};
use super::eval::score_on_test;

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
    /// Folder that receives one sub-folder per run.
    #[arg(long, default_value = "runs")]
    pub runs: PathBuf,
    /// Continue an interrupted run from its folder (its parameters and last checkpoint); the
    /// result equals an uninterrupted run on the same data.
    #[arg(long, conflicts_with = "seed")]
    pub resume: Option<PathBuf>,
}

/// A run's `metrics.json` (written through a `serde_json::Value`: keys sorted, as always).
#[derive(serde::Serialize)]
struct RunMetrics {
    validation: ValidationFigures,
    test: Option<TestMetrics>,
    blend: Weights,
    factor_epochs: usize,
}

/// Writes each factor epoch to `epochs.csv` of the run and to the log, and checkpoints it.
struct EpochLog {
    file: std::io::BufWriter<std::fs::File>,
    phase: &'static str,
    epochs: Vec<EpochReport>,
    checkpoint: PathBuf,
    /// Training time since the last checkpoint, and what the last checkpoint cost.
    since_checkpoint: Instant,
    checkpoint_cost: std::time::Duration,
}

impl EpochObserver for EpochLog {
    fn on_epoch(&mut self, r: &EpochReport, progress: &FactorProgress) {
        self.epochs.push(*r);
        // Checkpoint when at least ten times its cost has gone into training since the last
        // one: at most ~10% of the time goes to checkpoints, whatever the scale.
        if self.since_checkpoint.elapsed() >= self.checkpoint_cost * 10 {
            let started = Instant::now();
            if let Err(e) = checkpoint::save(progress, &self.checkpoint) {
                tracing::warn!("checkpoint not written: {e}");
            }
            self.checkpoint_cost = started.elapsed();
            self.since_checkpoint = Instant::now();
        }
        let phase = if r.val_rmse.is_some() {
            "validation"
        } else {
            self.phase
        };
        let val = r.val_rmse.map_or(String::new(), |v| format!("{v:.6}"));
        let _ = writeln!(
            self.file,
            "{phase},{},{:.6},{val},{}",
            r.epoch,
            r.train_mse.sqrt(),
            r.learning_rate
        );
        // Flushed every epoch so an interrupted run keeps its history.
        let _ = self.file.flush();
        tracing::info!(phase, epoch = r.epoch, train_rmse = r.train_mse.sqrt(), val_rmse = ?r.val_rmse, "epoch");
    }
}

/// Runs `anirec train`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let started = Instant::now();
    let Loaded {
        catalogue,
        train,
        test,
    } = args.data.load()?;
    let load_seconds = started.elapsed().as_secs_f64();

    let (run_dir, params, resume, earlier) = match &args.resume {
        Some(dir) => {
            let text = std::fs::read(dir.join("params.json"))
                .with_context(|| format!("reading {}", dir.join("params.json").display()))?;
            let params: HybridParams = serde_json::from_slice(&text).context("params.json")?;
            let progress = checkpoint::load(&dir.join("checkpoint.safetensors"))?;
            let earlier = read_epochs(&dir.join("epochs.csv"))?;
            eprintln!(
                "resuming {} after {:?} epoch {}",
                dir.display(),
                progress.phase,
                progress.current.epochs
            );
            (dir.clone(), params, Some(progress), earlier)
        }
        None => {
            let dir = args.runs.join(format!("{}-seed{}", unix_now(), args.seed));
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let params = HybridParams {
                seed: args.seed,
                ..HybridParams::default()
            };
            write_json(&dir.join("params.json"), &params)?;
            (dir, params, None, Vec::new())
        }
    };
    let run_id = run_dir
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let epochs_path = run_dir.join("epochs.csv");
    let epochs = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&epochs_path)?;
    let mut log = EpochLog {
        file: std::io::BufWriter::new(epochs),
        phase: "final",
        epochs: earlier,
        checkpoint: run_dir.join("checkpoint.safetensors"),
        since_checkpoint: Instant::now(),
        checkpoint_cost: std::time::Duration::ZERO,
    };
    if log.epochs.is_empty() {
        writeln!(log.file, "phase,epoch,train_rmse,val_rmse,learning_rate")?;
    }

    eprintln!(
        "training on {} ratings by {} users ...",
        train.len(),
        train.active_users()
    );
    let fit_started = Instant::now();
    let model = Hybrid::fit(&train, &catalogue, params, &mut log, resume.as_ref());
    let fit_seconds = fit_started.elapsed().as_secs_f64();
    log.file.flush()?;
    crate::curves::draw(&run_dir, &log.epochs)?;

    let metrics = test.as_ref().map(|test| {
        let (rating, ranking) = score_on_test(&model, &train, test);
        TestMetrics::new(&rating, &ranking)
    });
    let bundle = Bundle::new(model, catalogue, train, metrics);
    let save_started = Instant::now();
    let manifest = bundle.save(&args.out)?;
    let save_seconds = save_started.elapsed().as_secs_f64();

    let final_metrics = RunMetrics {
        validation: bundle.model.validation_figures(),
        test: metrics,
        blend: bundle.model.weights,
        factor_epochs: bundle.model.rating.epochs,
    };
    write_json(
        &run_dir.join("metrics.json"),
        &serde_json::to_value(&final_metrics)?,
    )?;
    write_json(
        &run_dir.join("run.json"),
        &serde_json::json!({
            "run_id": run_id,
            "model": args.out,
            "git_commit": git_commit(),
            "data": manifest.data,
            "timings": {"load_seconds": load_seconds, "fit_seconds": fit_seconds, "save_seconds": save_seconds},
        }),
    )?;
    println!("model         {}", args.out.display());
    println!("run           {}", run_dir.display());
    println!(
        "fit           {fit_seconds:.2} s ({} factor epochs)",
        bundle.model.rating.epochs
    );
    println!(
        "validation    NDCG@10 {:.4}, coverage {:.4}, RMSE {:.4}",
        bundle.model.validation.0, bundle.model.validation.1, bundle.model.rating.validation.rmse
    );
    if let Some(m) = metrics {
        println!("test          {}", serde_json::to_value(m)?);
    }
    Ok(())
}

/// The epochs an interrupted run already logged (for its curves).
fn read_epochs(path: &Path) -> anyhow::Result<Vec<EpochReport>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let bad = || {
            anyhow::anyhow!(
                "{}:{}: expected phase,epoch,train_rmse,val_rmse,learning_rate",
                path.display(),
                i + 1
            )
        };
        if f.len() != 5 {
            return Err(bad());
        }
        let train_rmse: f64 = f[2].parse().map_err(|_| bad())?;
        out.push(EpochReport {
            epoch: f[1].parse().map_err(|_| bad())?,
            train_mse: train_rmse * train_rmse,
            val_rmse: if f[3].is_empty() {
                None
            } else {
                Some(f[3].parse().map_err(|_| bad())?)
            },
            learning_rate: f[4].parse().map_err(|_| bad())?,
        });
    }
    Ok(out)
}

fn write_json(path: &Path, value: &impl serde::Serialize) -> anyhow::Result<()> {
    let text = serde_json::to_vec_pretty(value)?;
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The commit of the working tree, when it is a git checkout.
fn git_commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}
