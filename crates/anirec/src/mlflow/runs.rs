//! One MLflow run: what a finished training or evaluation logs (parameters, tags, metrics with
//! their steps, files as artifacts) and how it is logged. A training's run folder
//! (`params.json`, `epochs.csv`, `metrics.json`, `run.json`, the curves) and its bundle's
//! `manifest.json` become one run, with the whole bundle under `bundle/` when it is to be
//! registered. The run is logged after the training has been saved, so a tracking server that
//! is down or refuses never costs a training: the caller reports the error once.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anirec_model::bundle;
use anirec_model::training::run_files;
use anyhow::{Context, bail};
use serde_json::{Value, json};

use super::client::Client;

/// The files of a run folder logged as artifacts (those that exist; not the checkpoint).
const RUN_FILES: [&str; 7] = [
    run_files::PARAMS,
    run_files::EPOCHS,
    run_files::METRICS,
    run_files::RUN,
    run_files::CURVES_PNG,
    run_files::CURVES_SVG,
    run_files::RANKER_CURVE,
];

/// Where a run keeps its bundle among its artifacts.
pub const BUNDLE_ARTIFACTS: &str = "bundle";

/// The most parameters and tags, and metrics, one `log-batch` call may carry.
const PARAMS_PER_BATCH: usize = 100;
const METRICS_PER_BATCH: usize = 1000;

/// One metric value at a step.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// MLflow's key.
    pub key: String,
    /// The value.
    pub value: f64,
    /// The step (an epoch; 0 for final figures).
    pub step: u64,
}

/// What one run logs.
#[derive(Debug, Default)]
pub struct RunLog {
    /// The run's name.
    pub name: String,
    /// Parameters, `key = value` as text.
    pub params: Vec<(String, String)>,
    /// Tags.
    pub tags: Vec<(String, String)>,
    /// Metrics.
    pub metrics: Vec<Metric>,
    /// Files: (where among the run's artifacts, the local file).
    pub artifacts: Vec<(String, PathBuf)>,
}

/// A run as MLflow knows it.
pub struct Logged {
    /// MLflow's run id.
    pub run_id: String,
    /// The experiment's id.
    pub experiment_id: String,
    /// Where its artifacts are (`mlflow-artifacts:/…`).
    pub artifact_uri: String,
}

impl RunLog {
    /// The finished training in `run_dir` whose bundle is `model_dir`; `synthetic` says whether
    /// the ratings were synthetic; `with_bundle` adds the whole bundle under `bundle/`.
    pub fn training(
        run_dir: &Path,
        model_dir: &Path,
        synthetic: bool,
        with_bundle: bool,
    ) -> anyhow::Result<RunLog> {
        let text = |name: &str| -> anyhow::Result<String> {
            let path = run_dir.join(name);
            std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
        };
        let read_json = |name: &str| -> anyhow::Result<Value> {
            serde_json::from_str(&text(name)?).with_context(|| format!("{name} is not JSON"))
        };
        let run = read_json(run_files::RUN)?;
        let mut params = Vec::new();
        flatten("", &read_json(run_files::PARAMS)?, &mut params);
        let data = &run["data"];
        let tags = [
            ("git_commit", run["git_commit"].clone()),
            ("anirec.run_id", run["run_id"].clone()),
            ("data.ratings_crc32", data["ratings_crc32"].clone()),
            ("data.users", data["users"].clone()),
            ("data.anime", data["anime"].clone()),
            ("data.ratings", data["ratings"].clone()),
            ("data.synthetic", json!(synthetic)),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.to_owned(), text_of(&v)))
        .collect();
        let mut metrics = epoch_metrics(&text(run_files::EPOCHS)?)?;
        metrics.extend(final_metrics("", &read_json(run_files::METRICS)?));
        if run_dir.join(run_files::RANKER_CURVE).is_file() {
            metrics.extend(ranker_metrics(&text(run_files::RANKER_CURVE)?)?);
        }
        let mut artifacts: Vec<(String, PathBuf)> = RUN_FILES
            .iter()
            .map(|name| ((*name).to_owned(), run_dir.join(name)))
            .chain(
                [bundle::MANIFEST, bundle::RANKER]
                    .map(|name| (name.to_owned(), model_dir.join(name))),
            )
            .filter(|(_, path)| path.is_file())
            .collect();
        if with_bundle {
            for name in bundle::FILES {
                let path = model_dir.join(name);
                anyhow::ensure!(path.is_file(), "the bundle has no {}", path.display());
                artifacts.push((format!("{BUNDLE_ARTIFACTS}/{name}"), path));
            }
            let ranker = model_dir.join(bundle::RANKER);
            if ranker.is_file() {
                artifacts.push((format!("{BUNDLE_ARTIFACTS}/{}", bundle::RANKER), ranker));
            }
        }
        Ok(RunLog {
            name: run["run_id"].as_str().unwrap_or("anirec").to_owned(),
            params,
            tags,
            metrics,
            artifacts,
        })
    }
}

impl Client {
    /// Logs `log` as one run of `experiment` (created when missing); the run ends FINISHED, or
    /// FAILED when part of it could not be logged.
    pub fn log(&self, experiment: &str, log: &RunLog) -> anyhow::Result<Logged> {
        let experiment_id = self.experiment_id(experiment)?;
        let created = self.post(
            "/api/2.0/mlflow/runs/create",
            &json!({"experiment_id": experiment_id, "run_name": log.name, "start_time": now_ms()}),
        )?;
        let info = &created["run"]["info"];
        let run_id = info["run_id"]
            .as_str()
            .context("the tracking server's answer to runs/create has no run id")?
            .to_owned();
        let artifact_uri = info["artifact_uri"].as_str().unwrap_or_default().to_owned();
        let filled = self.fill(&run_id, &artifact_uri, log);
        let status = if filled.is_ok() { "FINISHED" } else { "FAILED" };
        let finished = self.post(
            "/api/2.0/mlflow/runs/update",
            &json!({"run_id": run_id, "status": status, "end_time": now_ms()}),
        );
        filled?;
        finished?;
        Ok(Logged {
            run_id,
            experiment_id,
            artifact_uri,
        })
    }

    /// Parameters, tags, metrics and artifacts of a created run.
    fn fill(&self, run_id: &str, artifact_uri: &str, log: &RunLog) -> anyhow::Result<()> {
        let pairs = |list: &[(String, String)]| -> Vec<Value> {
            list.iter()
                .map(|(k, v)| json!({"key": k, "value": v}))
                .collect()
        };
        for chunk in log.params.chunks(PARAMS_PER_BATCH) {
            self.log_batch(run_id, json!({"params": pairs(chunk)}))?;
        }
        for chunk in log.tags.chunks(PARAMS_PER_BATCH) {
            self.log_batch(run_id, json!({"tags": pairs(chunk)}))?;
        }
        let now = now_ms();
        let points: Vec<Value> = log
            .metrics
            .iter()
            .map(|m| json!({"key": m.key, "value": m.value, "timestamp": now, "step": m.step}))
            .collect();
        for chunk in points.chunks(METRICS_PER_BATCH) {
            self.log_batch(run_id, json!({"metrics": chunk}))?;
        }
        for (name, path) in &log.artifacts {
            self.upload(path, &format!("{artifact_uri}/{name}"))?;
        }
        Ok(())
    }

    /// The id of the experiment named `name`, created when the server does not have it.
    fn experiment_id(&self, name: &str) -> anyhow::Result<String> {
        let found = self.get(
            "/api/2.0/mlflow/experiments/get-by-name",
            &[("experiment_name", name)],
        )?;
        if let Some(id) = found
            .as_ref()
            .and_then(|f| f["experiment"]["experiment_id"].as_str())
        {
            return Ok(id.to_owned());
        }
        let created = self.post("/api/2.0/mlflow/experiments/create", &json!({"name": name}))?;
        created["experiment_id"]
            .as_str()
            .map(str::to_owned)
            .context("the tracking server's answer to experiments/create has no id")
    }

    fn log_batch(&self, run_id: &str, mut batch: Value) -> anyhow::Result<()> {
        batch["run_id"] = json!(run_id);
        self.post("/api/2.0/mlflow/runs/log-batch", &batch)
            .map(drop)
    }
}

/// The per-epoch figures of `epochs.csv` (`phase,epoch,train_rmse,val_rmse,learning_rate`) as
/// metrics: `{phase}_train_rmse`, `{phase}_val_rmse` and `{phase}_learning_rate` at step
/// `epoch` (an empty field, as the refit's validation RMSE is, is left out).
fn epoch_metrics(epochs: &str) -> anyhow::Result<Vec<Metric>> {
    let mut lines = epochs.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    if header.first() != Some(&"phase") || header.get(1) != Some(&"epoch") {
        bail!("epochs.csv does not start with phase,epoch");
    }
    let mut out = Vec::new();
    for (n, line) in lines.enumerate() {
        let fields: Vec<&str> = line.split(',').collect();
        let step: u64 = fields
            .get(1)
            .and_then(|e| e.parse().ok())
            .with_context(|| format!("epochs.csv line {}: no epoch number", n + 2))?;
        for (name, field) in header.iter().zip(&fields).skip(2) {
            if let Ok(value) = field.parse::<f64>() {
                out.push(Metric {
                    key: format!("{}_{name}", fields[0]),
                    value,
                    step,
                });
            }
        }
    }
    Ok(out)
}

/// `ranker.csv` (`iteration,valid_ndcg_at_10`) as the step metric `ranker_valid_ndcg_at_10`.
fn ranker_metrics(curve: &str) -> anyhow::Result<Vec<Metric>> {
    let mut lines = curve.lines();
    if lines.next() != Some("iteration,valid_ndcg_at_10") {
        bail!("ranker.csv does not start with iteration,valid_ndcg_at_10");
    }
    lines
        .enumerate()
        .map(|(n, line)| {
            let parsed = line
                .split_once(',')
                .and_then(|(i, v)| Some((i.parse::<u64>().ok()?, v.parse::<f64>().ok()?)));
            let (step, value) =
                parsed.with_context(|| format!("ranker.csv line {}: {line:?}", n + 2))?;
            Ok(Metric {
                key: "ranker_valid_ndcg_at_10".to_owned(),
                value,
                step,
            })
        })
        .collect()
}

/// Every number of a JSON tree as a metric at step 0, keyed `prefix.key.sub` (MLflow keeps
/// metrics as numbers: text and flags are left out).
pub fn final_metrics(prefix: &str, tree: &Value) -> Vec<Metric> {
    let mut flat = Vec::new();
    flatten(prefix, tree, &mut flat);
    flat.into_iter()
        .filter_map(|(key, value)| {
            let value = value.parse::<f64>().ok().filter(|v| v.is_finite())?;
            Some(Metric {
                key,
                value,
                step: 0,
            })
        })
        .collect()
}

/// A JSON tree as `key.sub.key = value` pairs (values as text, as MLflow keeps parameters);
/// the items of an array are keyed by their place.
pub fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
    let key = |k: &str| {
        if prefix.is_empty() {
            k.to_owned()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                flatten(&key(k), v, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                flatten(&key(&i.to_string()), v, out);
            }
        }
        Value::Null => {}
        other => out.push((prefix.to_owned(), text_of(other))),
    }
}

/// A JSON value as text: strings without their quotes.
fn text_of(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned)
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_become_steps_per_phase_and_params_flatten() {
        let csv = "phase,epoch,train_rmse,val_rmse,learning_rate\nvalidation,1,1.2,1.3,0.02\nrefit,1,1.1,,0.02\n";
        let points = epoch_metrics(csv).unwrap();
        let keys: Vec<(&str, u64)> = points.iter().map(|p| (p.key.as_str(), p.step)).collect();
        assert_eq!(
            keys,
            [
                ("validation_train_rmse", 1),
                ("validation_val_rmse", 1),
                ("validation_learning_rate", 1),
                ("refit_train_rmse", 1),
                ("refit_learning_rate", 1),
            ]
        );
        assert!(epoch_metrics("epoch,phase\n").is_err());
        let mut flat = Vec::new();
        flatten(
            "",
            &json!({"ease": {"lambda": 450.0, "weighting": {"Scored": {"alpha": 1.5}}}, "seed": 42, "none": null}),
            &mut flat,
        );
        assert_eq!(
            flat,
            [
                ("ease.lambda".to_owned(), "450.0".to_owned()),
                ("ease.weighting.Scored.alpha".to_owned(), "1.5".to_owned()),
                ("seed".to_owned(), "42".to_owned()),
            ]
        );
    }

    #[test]
    fn final_metrics_keep_numbers_only() {
        let report = json!({
            "ndcg_at_10": 0.43,
            "protocol": "ratings",
            "novelty": [{"novelty": 0.5, "coverage": 0.2}],
            "flag": true,
        });
        let metrics = final_metrics("test", &report);
        let keys: Vec<&str> = metrics.iter().map(|m| m.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "test.ndcg_at_10",
                "test.novelty.0.coverage",
                "test.novelty.0.novelty"
            ]
        );
        assert!(metrics.iter().all(|m| m.step == 0));
        assert_eq!(metrics[0].value, 0.43);
    }
}
