//! The training pipeline that `anirec train` and `anirec serve --data` run: fit the hybrid (with
//! per-epoch records and checkpoints), score it once on a test set when there is one, save the
//! bundle, and record the run in its folder — `params.json`, `epochs.csv`,
//! `checkpoint.safetensors`, `metrics.json` and `run.json` (git commit, data, timings). A run
//! interrupted at any point resumes from its folder and ends with the same arrays.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anirec_data::{Catalogue, Ratings};
use serde::Serialize;

use crate::bundle::{Bundle, BundleError, Manifest};
use crate::eval::{evaluate_ranking, evaluate_ratings};
use crate::hybrid::{Carvings, Hybrid, HybridParams, HybridScorer, SourceCounts};
use crate::metrics::{RankingMetrics, RatingMetrics, TestMetrics, ValidationFigures};
use crate::ranker::{RankerKind, RankerReport};
use crate::rating::checkpoint::{self, CheckpointError};
use crate::rating::model::{EpochObserver, EpochReport, FactorProgress, TrainPredictor};
use crate::signal::Weights;
use crate::story::{StoryInfo, StoryVectors};

/// What can stop a run.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct RunError {
    /// The file or folder involved.
    pub path: PathBuf,
    /// What was wrong.
    pub message: String,
}

impl From<BundleError> for RunError {
    fn from(e: BundleError) -> RunError {
        RunError {
            path: e.path,
            message: e.message,
        }
    }
}

impl From<CheckpointError> for RunError {
    fn from(e: CheckpointError) -> RunError {
        RunError {
            path: e.path,
            message: e.message,
        }
    }
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> RunError + '_ {
    move |e| RunError {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

/// The files of a run folder, by name.
pub mod run_files {
    /// The hybrid's parameters.
    pub const PARAMS: &str = "params.json";
    /// One line per factor epoch: `phase,epoch,train_rmse,val_rmse,learning_rate`.
    pub const EPOCHS: &str = "epochs.csv";
    /// The final figures.
    pub const METRICS: &str = "metrics.json";
    /// The run's id, commit, data summary and timings.
    pub const RUN: &str = "run.json";
    /// Where an interrupted run continues from.
    pub const CHECKPOINT: &str = "checkpoint.safetensors";
    /// The training curves, drawn by the binary.
    pub const CURVES_PNG: &str = "curves.png";
    /// The training curves as SVG.
    pub const CURVES_SVG: &str = "curves.svg";
    /// The learned ranker's validation curve, one line per boosting iteration:
    /// `iteration,valid_ndcg_at_10` (only in a run that trains one).
    pub const RANKER_CURVE: &str = "ranker.csv";
    /// Every file a run folder may hold.
    pub const ALL: [&str; 8] = [
        PARAMS,
        EPOCHS,
        METRICS,
        RUN,
        CHECKPOINT,
        CURVES_PNG,
        CURVES_SVG,
        RANKER_CURVE,
    ];
}

/// Where a run starts from and where it writes.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The bundle folder to write.
    pub out: PathBuf,
    /// The folder that receives one sub-folder per run.
    pub runs: PathBuf,
    /// The run's folder itself instead of a new sub-folder of `runs` (a pipeline's fixed
    /// place); the files of a run recorded there before are replaced.
    pub run_dir: Option<PathBuf>,
    /// Seed of the models and of the validation split (a new run).
    pub seed: u64,
    /// Validation carvings the blend weights are tuned on (a new run; see
    /// [`HybridParams::validation_carvings`]).
    pub validation_carvings: Carvings,
    /// How the candidates are ordered (a new run; see [`HybridParams::ranker`]).
    pub ranker: RankerKind,
    /// How many candidates each source adds per fan (a new run; see
    /// [`HybridParams::candidates`]).
    pub candidates: SourceCounts,
    /// Continue the interrupted run in this folder (its parameters and last checkpoint).
    pub resume: Option<PathBuf>,
    /// The catalogue's story embeddings, kept in the bundle (computed by the caller, which
    /// holds the sentence encoder).
    pub story: Option<(StoryInfo, StoryVectors)>,
}

/// A finished run.
pub struct Run {
    /// The model, as saved.
    pub bundle: Bundle,
    /// Its manifest.
    pub manifest: Manifest,
    /// The run's folder.
    pub dir: PathBuf,
    /// Every factor epoch of the run (an interrupted run's earlier ones included), for curves.
    pub epochs: Vec<EpochReport>,
    /// The test figures, when a test set was given.
    pub test: Option<TestMetrics>,
    /// Seconds spent fitting.
    pub fit_seconds: f64,
}

/// A run's `metrics.json`.
#[derive(Serialize)]
struct RunMetrics {
    validation: ValidationFigures,
    test: Option<TestMetrics>,
    blend: Weights,
    factor_epochs: usize,
    /// How the learned ranker was trained, when the model has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    ranker: Option<RankerSummary>,
}

/// The learned ranker's figures in `metrics.json` (its curve is `ranker.csv`).
#[derive(Serialize)]
struct RankerSummary {
    best_iteration: usize,
    best_valid_ndcg_at_10: f64,
    train_queries: usize,
    valid_queries: usize,
    train_rows: usize,
    /// Each feature's total gain.
    gain: std::collections::BTreeMap<String, f64>,
}

impl RankerSummary {
    fn of(report: &RankerReport) -> RankerSummary {
        RankerSummary {
            best_iteration: report.best_iteration,
            best_valid_ndcg_at_10: report
                .curve
                .get(report.best_iteration.wrapping_sub(1))
                .copied()
                .unwrap_or(0.0),
            train_queries: report.train_queries,
            valid_queries: report.valid_queries,
            train_rows: report.train_rows,
            gain: report
                .importance
                .iter()
                .map(|i| (i.feature.clone(), i.gain))
                .collect(),
        }
    }
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

/// Trains on `train` (scored on `test` when given), saves the bundle at `opts.out` and records
/// the run; `load_seconds` is what reading the data took, for `run.json`.
pub fn run(
    catalogue: Catalogue,
    train: Ratings,
    test: Option<&Ratings>,
    load_seconds: f64,
    opts: &RunOptions,
) -> Result<Run, RunError> {
    let (dir, params, resume, earlier) = match &opts.resume {
        Some(dir) => {
            let path = dir.join(run_files::PARAMS);
            let text = std::fs::read(&path).map_err(io_error(&path))?;
            let params: HybridParams = serde_json::from_slice(&text).map_err(|e| RunError {
                path: path.clone(),
                message: e.to_string(),
            })?;
            let progress = checkpoint::load(&dir.join(run_files::CHECKPOINT))?;
            let earlier = read_epochs(&dir.join(run_files::EPOCHS))?;
            tracing::info!(
                run = %dir.display(),
                phase = ?progress.phase,
                epoch = progress.current.epochs,
                "resuming"
            );
            (dir.clone(), params, Some(progress), earlier)
        }
        None => {
            let dir = match &opts.run_dir {
                Some(dir) => {
                    for name in run_files::ALL {
                        let file = dir.join(name);
                        if file.is_file() {
                            std::fs::remove_file(&file).map_err(io_error(&file))?;
                        }
                    }
                    dir.clone()
                }
                None => opts.runs.join(format!("{}-seed{}", unix_now(), opts.seed)),
            };
            std::fs::create_dir_all(&dir).map_err(io_error(&dir))?;
            let params = HybridParams {
                seed: opts.seed,
                validation_carvings: opts.validation_carvings,
                ranker: opts.ranker,
                candidates: opts.candidates,
                ..HybridParams::default()
            };
            write_json(&dir.join(run_files::PARAMS), &params)?;
            (dir, params, None, Vec::new())
        }
    };
    let epochs_path = dir.join(run_files::EPOCHS);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&epochs_path)
        .map_err(io_error(&epochs_path))?;
    let mut log = EpochLog {
        file: std::io::BufWriter::new(file),
        epochs: earlier,
        checkpoint: dir.join(run_files::CHECKPOINT),
        since_checkpoint: Instant::now(),
        checkpoint_cost: Duration::ZERO,
    };
    if log.epochs.is_empty() {
        writeln!(log.file, "phase,epoch,train_rmse,val_rmse,learning_rate")
            .map_err(io_error(&epochs_path))?;
    }

    let fit_started = Instant::now();
    let (story_info, story) = opts.story.clone().unzip();
    let model =
        Hybrid::fit(&train, &catalogue, story, params, &mut log, resume.as_ref()).map_err(|e| {
            RunError {
                path: dir.clone(),
                message: format!("training the ranker: {e}"),
            }
        })?;
    let fit_seconds = fit_started.elapsed().as_secs_f64();
    log.file.flush().map_err(io_error(&epochs_path))?;

    let test = test.map(|test| {
        let (rating, ranking) = score_on_test(&model, &train, test);
        TestMetrics::new(&rating, &ranking)
    });
    let mut bundle = Bundle::new(model, catalogue, train, test);
    bundle.manifest.story = story_info;
    let save_started = Instant::now();
    let manifest = bundle.save(&opts.out)?;
    let save_seconds = save_started.elapsed().as_secs_f64();

    let metrics = RunMetrics {
        validation: bundle.model.validation_figures(),
        test,
        blend: bundle.model.weights,
        factor_epochs: bundle.model.rating.epochs,
        ranker: manifest.ranker.as_ref().map(RankerSummary::of),
    };
    write_json(&dir.join(run_files::METRICS), &metrics)?;
    if let Some(report) = &manifest.ranker {
        let path = dir.join(run_files::RANKER_CURVE);
        let mut curve = String::from("iteration,valid_ndcg_at_10\n");
        for (i, ndcg) in report.curve.iter().enumerate() {
            curve.push_str(&format!("{},{ndcg:.6}\n", i + 1));
        }
        std::fs::write(&path, curve).map_err(io_error(&path))?;
    }
    let run_id = dir
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    write_json(
        &dir.join(run_files::RUN),
        &serde_json::json!({
            "run_id": run_id,
            "model": opts.out,
            "git_commit": git_commit(),
            "data": manifest.data,
            "timings": {"load_seconds": load_seconds, "fit_seconds": fit_seconds, "save_seconds": save_seconds},
        }),
    )?;
    Ok(Run {
        bundle,
        manifest,
        dir,
        epochs: log.epochs,
        test,
        fit_seconds,
    })
}

/// Writes each factor epoch to `epochs.csv` of the run and to the log, and checkpoints it.
struct EpochLog {
    file: std::io::BufWriter<std::fs::File>,
    epochs: Vec<EpochReport>,
    checkpoint: PathBuf,
    /// Training time since the last checkpoint, and what the last checkpoint cost.
    since_checkpoint: Instant,
    checkpoint_cost: Duration,
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
            "final"
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

/// The epochs an interrupted run already logged (for its curves).
fn read_epochs(path: &Path) -> Result<Vec<EpochReport>, RunError> {
    let text = std::fs::read_to_string(path).map_err(io_error(path))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let bad = || RunError {
            path: path.to_owned(),
            message: format!(
                "line {}: expected phase,epoch,train_rmse,val_rmse,learning_rate",
                i + 1
            ),
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

/// Writes a value as pretty JSON with its objects' keys sorted.
fn write_json(path: &Path, value: &impl Serialize) -> Result<(), RunError> {
    let fail = |message: String| RunError {
        path: path.to_owned(),
        message,
    };
    let sorted = serde_json::to_value(value).map_err(|e| fail(e.to_string()))?;
    let text = serde_json::to_vec_pretty(&sorted).map_err(|e| fail(e.to_string()))?;
    std::fs::write(path, text).map_err(io_error(path))
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
