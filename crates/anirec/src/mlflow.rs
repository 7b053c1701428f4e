//! Experiment tracking in MLflow through its REST API (`/api/2.0/mlflow/...`): a finished
//! training's run folder (`params.json`, `epochs.csv`, `metrics.json`, `run.json`, the curves)
//! and its bundle's `manifest.json` become one MLflow run — every parameter, the per-epoch
//! figures as steps, the final figures, tags (git commit, data checksum and sizes, synthetic or
//! not) and the files as artifacts, uploaded through the tracking server's artifact proxy. The
//! run is logged after the training has been saved, so a tracking server that is down or refuses
//! never costs a training: the caller reports the error once and the run stays in its folder.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use serde_json::{Value, json};

/// The files of a run folder logged as artifacts (those that exist).
const RUN_FILES: [&str; 6] = [
    "params.json",
    "epochs.csv",
    "metrics.json",
    "run.json",
    "curves.png",
    "curves.svg",
];

/// The most parameters and tags, and metrics, one `log-batch` call may carry.
const PARAMS_PER_BATCH: usize = 100;
const METRICS_PER_BATCH: usize = 1000;

/// The prefix of artifact locations the tracking server proxies.
const PROXIED: &str = "mlflow-artifacts:/";

/// A tracking server and the experiment runs go into.
pub struct Tracking {
    uri: String,
    experiment: String,
    agent: ureq::Agent,
}

/// A run as MLflow knows it.
pub struct Logged {
    /// MLflow's run id.
    pub run_id: String,
    /// The experiment's id.
    pub experiment_id: String,
}

impl Tracking {
    /// The server at `uri` (`http://HOST:PORT`, or https), runs going into `experiment`
    /// (created when missing).
    pub fn new(uri: &str, experiment: &str) -> Tracking {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(30)))
            .http_status_as_error(false)
            .build()
            .into();
        Tracking {
            uri: uri.trim_end_matches('/').to_owned(),
            experiment: experiment.to_owned(),
            agent,
        }
    }

    /// Logs the finished run in `run_dir` (and the bundle's `manifest.json` in `model_dir`) as
    /// one MLflow run; `synthetic` says whether the ratings were synthetic.
    pub fn log_run(
        &self,
        run_dir: &Path,
        model_dir: &Path,
        synthetic: bool,
    ) -> anyhow::Result<Logged> {
        let record = RunRecord::read(run_dir)?;
        let experiment_id = self.experiment_id()?;
        let now = now_ms();
        let name = record.run["run_id"].as_str().unwrap_or("anirec").to_owned();
        let created = self.post(
            "/api/2.0/mlflow/runs/create",
            &json!({"experiment_id": experiment_id, "run_name": name, "start_time": now}),
        )?;
        let info = &created["run"]["info"];
        let run_id = info["run_id"]
            .as_str()
            .context("the tracking server's answer to runs/create has no run id")?
            .to_owned();
        let logged = self.fill(&run_id, info, &record, synthetic, run_dir, model_dir);
        let status = if logged.is_ok() { "FINISHED" } else { "FAILED" };
        let finished = self.post(
            "/api/2.0/mlflow/runs/update",
            &json!({"run_id": run_id, "status": status, "end_time": now_ms()}),
        );
        logged?;
        finished?;
        Ok(Logged {
            run_id,
            experiment_id,
        })
    }

    /// Parameters, tags, metrics and artifacts of a created run (`info`: MLflow's run info).
    fn fill(
        &self,
        run_id: &str,
        info: &Value,
        record: &RunRecord,
        synthetic: bool,
        run_dir: &Path,
        model_dir: &Path,
    ) -> anyhow::Result<()> {
        let RunRecord {
            run,
            params,
            metrics,
            epochs,
        } = record;
        let mut flat = Vec::new();
        flatten("", params, &mut flat);
        let data = &run["data"];
        let tags: Vec<(String, String)> = [
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
        .map(|(k, v)| (k.to_owned(), text(&v)))
        .collect();
        let pairs = |list: &[(String, String)]| -> Vec<Value> {
            list.iter()
                .map(|(k, v)| json!({"key": k, "value": v}))
                .collect()
        };
        for chunk in flat.chunks(PARAMS_PER_BATCH) {
            self.log_batch(run_id, json!({"params": pairs(chunk)}))?;
        }
        self.log_batch(run_id, json!({"tags": pairs(&tags)}))?;

        let now = now_ms();
        let mut points = epoch_metrics(epochs, now)?;
        let mut finals = Vec::new();
        flatten("", metrics, &mut finals);
        for (key, value) in finals {
            if let Ok(v) = value.parse::<f64>() {
                points.push(json!({"key": key, "value": v, "timestamp": now, "step": 0}));
            }
        }
        for chunk in points.chunks(METRICS_PER_BATCH) {
            self.log_batch(run_id, json!({"metrics": chunk}))?;
        }

        let root = info["artifact_uri"].as_str().unwrap_or_default();
        let Some(root) = root.strip_prefix(PROXIED) else {
            bail!(
                "the tracking server keeps artifacts at {root:?}, which only it can write: start it with artifact proxying (mlflow server --artifacts-destination DIR)"
            );
        };
        let files = RUN_FILES
            .iter()
            .map(|name| run_dir.join(name))
            .chain([model_dir.join("manifest.json")]);
        for path in files.filter(|p| p.is_file()) {
            let bytes =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
            let path = format!("/api/2.0/mlflow-artifacts/artifacts/{root}/{name}");
            let url = format!("{}{path}", self.uri);
            answer(&path, self.agent.put(url).send(&bytes[..]))?;
        }
        Ok(())
    }

    /// The id of the experiment, created when the server does not have it.
    fn experiment_id(&self) -> anyhow::Result<String> {
        let found = self
            .agent
            .get(format!(
                "{}/api/2.0/mlflow/experiments/get-by-name",
                self.uri
            ))
            .query("experiment_name", &self.experiment)
            .call()
            .context("asking for the experiment")?;
        if found.status().is_success() {
            let mut found = found;
            let body: Value = found.body_mut().read_json()?;
            if let Some(id) = body["experiment"]["experiment_id"].as_str() {
                return Ok(id.to_owned());
            }
        }
        let created = self.post(
            "/api/2.0/mlflow/experiments/create",
            &json!({"name": self.experiment}),
        )?;
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

    /// POSTs `body` to the REST API's `path` and reads the JSON answer.
    fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.uri);
        let text = answer(path, self.agent.post(url).send_json(body))?;
        serde_json::from_str(&text).with_context(|| format!("{path}: the answer is not JSON"))
    }
}

/// The body of the answer to a request to `path`; no answer, or one other than 2xx, is an
/// error carrying MLflow's message.
fn answer(
    path: &str,
    sent: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> anyhow::Result<String> {
    let mut answer = sent.with_context(|| format!("calling {path}"))?;
    let status = answer.status();
    let text = answer.body_mut().read_to_string().unwrap_or_default();
    if !status.is_success() {
        let message = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_owned))
            .unwrap_or(text);
        bail!("{path}: the tracking server answered {status}: {message}");
    }
    Ok(text)
}

/// What a run folder records: `run.json`, `params.json`, `metrics.json` and `epochs.csv`.
struct RunRecord {
    run: Value,
    params: Value,
    metrics: Value,
    epochs: String,
}

impl RunRecord {
    fn read(dir: &Path) -> anyhow::Result<RunRecord> {
        let text = |name: &str| -> anyhow::Result<String> {
            let path = dir.join(name);
            std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
        };
        let json = |name: &str| -> anyhow::Result<Value> {
            serde_json::from_str(&text(name)?).with_context(|| format!("{name} is not JSON"))
        };
        Ok(RunRecord {
            run: json("run.json")?,
            params: json("params.json")?,
            metrics: json("metrics.json")?,
            epochs: text("epochs.csv")?,
        })
    }
}

/// The per-epoch figures of `epochs.csv` (`phase,epoch,train_rmse,val_rmse,learning_rate`) as
/// MLflow metrics: `{phase}_train_rmse`, `{phase}_val_rmse` and `{phase}_learning_rate` at step
/// `epoch` (an empty field, as the refit's validation RMSE is, is left out).
fn epoch_metrics(epochs: &str, timestamp: u128) -> anyhow::Result<Vec<Value>> {
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
                out.push(json!({
                    "key": format!("{}_{name}", fields[0]),
                    "value": value,
                    "timestamp": timestamp,
                    "step": step,
                }));
            }
        }
    }
    Ok(out)
}

/// A JSON tree as `key.sub.key = value` pairs (values as text, as MLflow keeps parameters).
fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        Value::Null => {}
        other => out.push((prefix.to_owned(), text(other))),
    }
}

/// A JSON value as text: strings without their quotes.
fn text(value: &Value) -> String {
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
        let points = epoch_metrics(csv, 7).unwrap();
        let keys: Vec<(&str, u64)> = points
            .iter()
            .map(|p| (p["key"].as_str().unwrap(), p["step"].as_u64().unwrap()))
            .collect();
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
        assert!(epoch_metrics("epoch,phase\n", 0).is_err());
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
}
