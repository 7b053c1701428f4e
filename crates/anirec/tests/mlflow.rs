//! `anirec train --mlflow` against a real MLflow tracking server (`mlflow server` from PyPI:
//! `$ANIREC_MLFLOW`, else `mlflow` on the PATH, else installed on first use into
//! `target/mlflow-venv` with python3's venv and pip; the test fails, never skips, without it),
//! started here on loopback with a SQLite store and a temporary artifact folder: the run, its
//! parameters, tags, per-epoch metrics and artifacts are read back through the REST API and
//! compared with the run folder; the bundle registered as a model version, promoted, served
//! from `models:/anirec@champion` and followed when the alias moves; `eval --mlflow` logged; a
//! server that is down or answers errors costs no training.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::server::Server;
use common::{anirec, mini, stdout};
use serde_json::Value;

/// The MLflow release the tests install when none is given (the one `.ci/run` pins).
const MLFLOW_VERSION: &str = "3.17.2";

/// The `mlflow` program: `$ANIREC_MLFLOW`, `mlflow` on the PATH, or the one in
/// `target/mlflow-venv`, made there on first use (once per test process).
fn mlflow_program() -> PathBuf {
    static PROGRAM: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PROGRAM
        .get_or_init(|| {
            if let Some(given) = std::env::var_os("ANIREC_MLFLOW") {
                return PathBuf::from(given);
            }
            let runs = |program: &Path| {
                Command::new(program)
                    .arg("--version")
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success())
            };
            if runs(Path::new("mlflow")) {
                return PathBuf::from("mlflow");
            }
            let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/mlflow-venv");
            let program = venv.join("bin/mlflow");
            if !runs(&program) {
                eprintln!(
                    "installing MLflow {MLFLOW_VERSION} into {} (first run only)",
                    venv.display()
                );
                let made = Command::new("python3")
                    .args(["-m", "venv"])
                    .arg(&venv)
                    .status()
                    .is_ok_and(|s| s.success());
                assert!(
                    made,
                    "this needs MLflow's server, and python3 -m venv could not make {} \
                     (install python3 with its venv module, or set ANIREC_MLFLOW)",
                    venv.display()
                );
                let installed = Command::new(venv.join("bin/pip"))
                    .args(["install", "-q", &format!("mlflow=={MLFLOW_VERSION}")])
                    .status()
                    .is_ok_and(|s| s.success());
                assert!(
                    installed && runs(&program),
                    "this needs MLflow's server, and pip could not install mlflow=={MLFLOW_VERSION} \
                     into {} (set ANIREC_MLFLOW to an `mlflow` program instead)",
                    venv.display()
                );
            }
            program
        })
        .clone()
}

/// A tracking server of our own, stopped (with its workers) when dropped.
struct MlflowServer {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl MlflowServer {
    fn start() -> MlflowServer {
        let program = mlflow_program();
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let child = {
            use std::os::unix::process::CommandExt;
            Command::new(&program)
                .args(["server", "--host", "127.0.0.1", "--port", &port.to_string()])
                .args(["--workers", "1", "--backend-store-uri"])
                .arg(format!("sqlite:///{}", dir.path().join("mlflow.db").display()))
                .arg("--artifacts-destination")
                .arg(dir.path().join("artifacts"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
                .unwrap_or_else(|e| {
                    panic!(
                        "this needs MLflow's server ({}: {e}); set ANIREC_MLFLOW to its `mlflow` program",
                        program.display()
                    )
                })
        };
        let server = MlflowServer {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(180);
        while get(&format!("{}/health", server.url)).is_none() {
            assert!(
                Instant::now() < deadline,
                "mlflow server did not answer on {} within 180 s",
                server.url
            );
            std::thread::sleep(Duration::from_millis(500));
        }
        server
    }

    /// A GET on the REST API, as JSON.
    fn api(&self, path: &str) -> Value {
        let text = get(&format!("{}/api/2.0/{path}", self.url))
            .unwrap_or_else(|| panic!("GET {path} failed"));
        serde_json::from_str(&text).unwrap()
    }
}

impl Drop for MlflowServer {
    fn drop(&mut self) {
        // The server runs its workers as children: stop the whole process group, asking first
        // and insisting after 10 s (it can take its time over SIGTERM).
        let group = format!("-{}", self.child.id());
        let signal = |name: &str| Command::new("kill").args([name, "--", &group]).status();
        let _ = signal("-TERM");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let _ = signal("-KILL");
        let _ = self.child.wait();
    }
}

/// The body of a 2xx answer to a GET, or `None`.
fn get(url: &str) -> Option<String> {
    let mut answer = ureq::get(url).call().ok()?;
    answer.body_mut().read_to_string().ok()
}

/// The bytes of a 2xx answer to a GET.
fn get_bytes(url: &str) -> Vec<u8> {
    let mut answer = ureq::get(url).call().unwrap();
    answer
        .body_mut()
        .with_config()
        .limit(1 << 30)
        .read_to_vec()
        .unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `anirec train` on the mini data with `--mlflow URI`; returns (stdout, stderr, run folder).
fn train(dir: &Path, uri: &str) -> (String, String, PathBuf) {
    let (out, runs) = (dir.join("model"), dir.join("runs"));
    let result = anirec(&[
        "train",
        "--data",
        mini().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--runs",
        runs.to_str().unwrap(),
        "--mlflow",
        uri,
        "--experiment",
        "anirec-test",
    ]);
    let stderr = String::from_utf8_lossy(&result.stderr).into_owned();
    let text = stdout(&result);
    let run = std::fs::read_dir(&runs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .next()
        .expect("a run folder");
    (text, stderr, run)
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn a_training_is_logged_to_mlflow_and_reads_back() {
    let server = MlflowServer::start();
    let dir = tempfile::tempdir().unwrap();
    let (text, _, run_dir) = train(dir.path(), &server.url);
    let line = text
        .lines()
        .find(|l| l.starts_with("mlflow"))
        .unwrap_or_else(|| panic!("no mlflow line in {text}"));
    let run_id = line.split_whitespace().nth(2).unwrap();
    assert!(text.contains("registered    models:/anirec/1"), "{text}");

    let run = &server.api(&format!("mlflow/runs/get?run_id={run_id}"))["run"];
    assert_eq!(run["info"]["status"], "FINISHED");
    let local = read_json(&run_dir.join("run.json"));
    assert_eq!(run["info"]["run_name"], local["run_id"]);
    let pairs = |list: &Value| -> Vec<(String, String)> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let v = p["value"].as_str().unwrap().to_owned();
                (p["key"].as_str().unwrap().to_owned(), v)
            })
            .collect()
    };
    let value = |list: &[(String, String)], key: &str| -> String {
        list.iter()
            .find(|(k, _)| k == key)
            .unwrap_or_else(|| panic!("no {key} in {list:?}"))
            .1
            .clone()
    };
    // Every parameter of params.json, flattened.
    let params = pairs(&run["data"]["params"]);
    let local_params = read_json(&run_dir.join("params.json"));
    assert_eq!(value(&params, "seed"), local_params["seed"].to_string());
    assert_eq!(
        value(&params, "ease.lambda"),
        local_params["ease"]["lambda"].to_string()
    );
    assert!(params.len() >= 20, "{params:?}");
    // Tags: the data's size and checksum, and that it is not synthetic.
    let tags = pairs(&run["data"]["tags"]);
    assert_eq!(
        value(&tags, "data.users"),
        local["data"]["users"].to_string()
    );
    assert_eq!(
        value(&tags, "data.ratings_crc32"),
        local["data"]["ratings_crc32"].to_string()
    );
    assert_eq!(value(&tags, "data.synthetic"), "false");
    // The final figures and the per-epoch history, step by step, as the run folder has them.
    let metrics = read_json(&run_dir.join("metrics.json"));
    let latest: Vec<(String, f64)> = run["data"]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["key"].as_str().unwrap().to_owned(),
                m["value"].as_f64().unwrap(),
            )
        })
        .collect();
    let ndcg = latest
        .iter()
        .find(|(k, _)| k == "validation.ndcg_at_10")
        .unwrap()
        .1;
    assert!((ndcg - metrics["validation"]["ndcg_at_10"].as_f64().unwrap()).abs() < 1e-9);
    let epochs = std::fs::read_to_string(run_dir.join("epochs.csv")).unwrap();
    let local_val: Vec<(u64, f64)> = epochs
        .lines()
        .skip(1)
        .filter(|l| l.starts_with("validation,"))
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[1].parse().unwrap(), f[3].parse().unwrap())
        })
        .collect();
    assert!(!local_val.is_empty());
    let history = server.api(&format!(
        "mlflow/metrics/get-history?run_id={run_id}&metric_key=validation_val_rmse"
    ));
    let mut logged: Vec<(u64, f64)> = history["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["step"].as_u64().unwrap(), m["value"].as_f64().unwrap()))
        .collect();
    logged.sort_by_key(|p| p.0);
    assert_eq!(logged, local_val);
    // The artifacts, byte for byte.
    let listed = server.api(&format!("mlflow/artifacts/list?run_id={run_id}"));
    let names: Vec<&str> = listed["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    for name in [
        "epochs.csv",
        "metrics.json",
        "params.json",
        "manifest.json",
        "curves.svg",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    let experiment = run["info"]["experiment_id"].as_str().unwrap();
    let uploaded = get(&format!(
        "{}/api/2.0/mlflow-artifacts/artifacts/{experiment}/{run_id}/artifacts/epochs.csv",
        server.url
    ))
    .unwrap();
    assert_eq!(uploaded, epochs);

    // A second training goes into the same experiment.
    let again = tempfile::tempdir().unwrap();
    let (text, _, _) = train(again.path(), &server.url);
    assert!(
        text.contains(&format!("experiment anirec-test ({experiment})")),
        "{text}"
    );
}

#[test]
fn a_tracking_server_that_is_down_or_refuses_costs_no_training() {
    for uri in [
        // Nothing listens there.
        format!("http://127.0.0.1:{}", free_port()),
        // Something answers, but not MLflow: every call is a 404.
        {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let port = listener.local_addr().unwrap().port();
            std::thread::spawn(move || {
                use std::io::{Read, Write};
                for stream in listener.incoming().take(4) {
                    let mut stream = stream.unwrap();
                    let mut buf = [0u8; 4096];
                    let _ = stream.read(&mut buf);
                    let _ = stream.write_all(
                        b"HTTP/1.1 404 Not Found\r\ncontent-length: 9\r\nconnection: close\r\n\r\nnot here\n",
                    );
                }
            });
            format!("http://127.0.0.1:{port}")
        },
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (text, stderr, run_dir) = train(dir.path(), &uri);
        assert_eq!(
            stderr.matches("MLflow: the run was not logged").count(),
            1,
            "reported once: {stderr}"
        );
        assert!(stderr.contains(&run_dir.display().to_string()), "{stderr}");
        assert!(!text.contains("mlflow "), "{text}");
        assert!(run_dir.join("metrics.json").is_file());
        assert!(dir.path().join("model/manifest.json").is_file());
    }
}

/// The field after `prefix` on the line of `text` that starts with it.
fn field(text: &str, prefix: &str, nth: usize) -> String {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix} line in {text}"))
        .split_whitespace()
        .nth(nth)
        .unwrap()
        .to_owned()
}

/// `anirec promote` of `version`; returns (success, stdout, stderr).
fn promote(uri: &str, version: &str) -> (bool, String, String) {
    let out = anirec(&["promote", "--mlflow", uri, "--version", version]);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn registered_bundles_are_promoted_served_and_followed() {
    let server = MlflowServer::start();
    let dir = tempfile::tempdir().unwrap();
    let (first, _, _) = train(&dir.path().join("one"), &server.url);
    assert_eq!(field(&first, "registered", 1), "models:/anirec/1");
    let run_id = field(&first, "mlflow", 2);

    // The version is the run's bundle, byte for byte.
    let version = &server.api("mlflow/model-versions/get?name=anirec&version=1")["model_version"];
    assert_eq!(version["run_id"], run_id.as_str());
    let source = version["source"].as_str().unwrap();
    let proxied = source.strip_prefix("mlflow-artifacts:/").unwrap();
    assert!(
        proxied.ends_with(&format!("{run_id}/artifacts/bundle")),
        "{source}"
    );
    for name in ["manifest.json", "model.safetensors", "catalogue.json"] {
        let uploaded = get_bytes(&format!(
            "{}/api/2.0/mlflow-artifacts/artifacts/{proxied}/{name}",
            server.url
        ));
        let local = std::fs::read(dir.path().join("one/model").join(name)).unwrap();
        assert!(uploaded == local, "{name} differs");
    }

    // Nothing is promoted yet: serving the champion fails and says what is missing.
    let cache = dir.path().join("cache");
    let cache = cache.to_str().unwrap();
    let early = anirec(&[
        "serve",
        "--model",
        "models:/anirec@champion",
        "--mlflow",
        &server.url,
        "--addr",
        "127.0.0.1:0",
        "--cache",
        cache,
    ]);
    assert!(!early.status.success());
    let said = String::from_utf8_lossy(&early.stderr);
    assert!(
        said.contains("the registry has no models:/anirec@champion"),
        "{said}"
    );
    // Without a tracking server to read it from, it is refused at once.
    let alone = anirec(&[
        "serve",
        "--model",
        "models:/anirec@champion",
        "--addr",
        "127.0.0.1:0",
    ]);
    assert!(String::from_utf8_lossy(&alone.stderr).contains("give --mlflow URI"));

    let (ok, said, _) = promote(&server.url, "1");
    assert!(
        ok && said.contains("promoted      models:/anirec@champion -> version 1"),
        "{said}"
    );
    let alias = &server.api("mlflow/registered-models/alias?name=anirec&alias=champion");
    assert_eq!(alias["model_version"]["version"], "1");
    let (ok, _, said) = promote(&server.url, "9");
    assert!(
        !ok && said.contains("no version 9 of the model \"anirec\""),
        "{said}"
    );

    // A server of the champion, following it.
    let serving = Server::start(&[
        "--model",
        "models:/anirec@champion",
        "--mlflow",
        &server.url,
        "--watch",
        "1",
        "--cache",
        cache,
        "--no-encoder",
        "--db",
        &format!("sqlite://{cache}/accounts.db"),
    ]);
    serving.wait_for("ready in");
    // Which download it serves (two trainings of the same data can be equal bundles).
    let served = |s: &Server| -> String {
        let (status, body) = s.request("GET", "/api/v1/model", "");
        assert_eq!(status, 200, "{body}");
        serde_json::from_str::<Value>(&body).unwrap()["path"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(served(&serving), format!("{cache}/registry/anirec/1"));

    // A second training is version 2; promoting it swaps it in.
    let (second, _, _) = train(&dir.path().join("two"), &server.url);
    assert_eq!(field(&second, "registered", 1), "models:/anirec/2");
    let (ok, said, _) = promote(&server.url, "2");
    assert!(
        ok && said.contains("-> version 2 (was version 1)"),
        "{said}"
    );
    serving.wait_for("models:/anirec@champion moved to version 2, reloaded");
    assert_eq!(served(&serving), format!("{cache}/registry/anirec/2"));

    // A registered bundle changed behind the registry's back is refused, and nothing of it is
    // left in the cache.
    let manifest_url = format!(
        "{}/api/2.0/mlflow-artifacts/artifacts/{proxied}/manifest.json",
        server.url
    );
    let mut forged: Value = serde_json::from_slice(&get_bytes(&manifest_url)).unwrap();
    forged["created_by"] = Value::from("someone else");
    ureq::put(&manifest_url)
        .send(serde_json::to_vec(&forged).unwrap())
        .unwrap();
    let fresh = dir.path().join("fresh");
    let refused = anirec(&[
        "serve",
        "--model",
        "models:/anirec/1",
        "--mlflow",
        &server.url,
        "--addr",
        "127.0.0.1:0",
        "--cache",
        fresh.to_str().unwrap(),
    ]);
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("manifest.json does not match the one registered"),
        "{said}"
    );
    let left: Vec<_> = std::fs::read_dir(fresh.join("registry/anirec"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // An evaluation is a run too, its figures as metrics (stdout stays the JSON report).
    let eval = anirec(&[
        "eval",
        "--data",
        mini().to_str().unwrap(),
        "--json",
        "--mlflow",
        &server.url,
        "--experiment",
        "anirec-test",
    ]);
    let report: Value = serde_json::from_str(&stdout(&eval)).unwrap();
    let said = String::from_utf8_lossy(&eval.stderr);
    let eval_run = field(&said, "mlflow", 2);
    let run = &server.api(&format!("mlflow/runs/get?run_id={eval_run}"))["run"];
    let ndcg = run["data"]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["key"] == "ndcg_at_10")
        .unwrap_or_else(|| panic!("no ndcg_at_10 in {run}"))["value"]
        .as_f64()
        .unwrap();
    assert!((ndcg - report["ndcg_at_10"].as_f64().unwrap()).abs() < 1e-9);
}
