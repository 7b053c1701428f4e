//! The HTTP side of MLflow's REST API: JSON calls under `/api/2.0/mlflow/`, and files through
//! the tracking server's artifact proxy (`/api/2.0/mlflow-artifacts/artifacts/`), with MLflow's
//! own error message carried into ours. Credentials come from the environment variables
//! MLflow's own clients read: `MLFLOW_TRACKING_TOKEN`, or `MLFLOW_TRACKING_USERNAME` and
//! `MLFLOW_TRACKING_PASSWORD`.

use std::fs::File;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;
use serde_json::Value;

/// The prefix of artifact locations the tracking server proxies.
const PROXIED: &str = "mlflow-artifacts:/";

/// A tracking server.
#[derive(Clone)]
pub struct Client {
    uri: String,
    agent: ureq::Agent,
    /// The `Authorization` header's value, when credentials are set.
    authorization: Option<String>,
}

/// One entry of an artifact folder's listing.
#[derive(Debug, Deserialize)]
pub struct ArtifactEntry {
    /// Its name inside the listed folder.
    pub path: String,
    /// Whether it is a folder.
    #[serde(default)]
    pub is_dir: bool,
    /// Its size in bytes (files only).
    #[serde(default)]
    pub file_size: Option<u64>,
}

impl Client {
    /// The tracking server at `uri` (`http://HOST:PORT`, or https).
    pub fn new(uri: &str) -> Client {
        // No limit on a whole call (a bundle can take a while to move), but a server that stops
        // answering or reading is given up on.
        let agent = ureq::Agent::config_builder()
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_per_read(Some(Duration::from_secs(60)))
            .timeout_per_write(Some(Duration::from_secs(60)))
            .http_status_as_error(false)
            .build()
            .into();
        Client {
            uri: uri.trim_end_matches('/').to_owned(),
            agent,
            authorization: authorization(|name| std::env::var(name).ok()),
        }
    }

    /// A request to the REST API's `path`, with the credentials.
    fn request<B>(
        &self,
        new: impl FnOnce(String) -> ureq::RequestBuilder<B>,
        path: &str,
    ) -> ureq::RequestBuilder<B> {
        let request = new(format!("{}{path}", self.uri));
        match &self.authorization {
            Some(value) => request.header("Authorization", value),
            None => request,
        }
    }

    /// POSTs `body` to the REST API's `path` and reads the JSON answer.
    pub fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let request = self.request(|url| self.agent.post(url), path);
        let text = answer(path, request.send_json(body))?
            .with_context(|| format!("{path}: the tracking server answered 404"))?;
        json(path, &text)
    }

    /// GETs the REST API's `path` with `query`; `None` when the server says there is no such
    /// thing (404).
    pub fn get(&self, path: &str, query: &[(&str, &str)]) -> anyhow::Result<Option<Value>> {
        let mut request = self.request(|url| self.agent.get(url), path);
        for (key, value) in query {
            request = request.query(*key, *value);
        }
        match answer(path, request.call())? {
            Some(text) => json(path, &text).map(Some),
            None => Ok(None),
        }
    }

    /// Uploads the file at `from` to the artifact location `to` (`mlflow-artifacts:/…`).
    pub fn upload(&self, from: &Path, to: &str) -> anyhow::Result<()> {
        let path = artifact_path(to)?;
        let file = File::open(from).with_context(|| format!("reading {}", from.display()))?;
        let sent = self.request(|url| self.agent.put(url), &path).send(file);
        answer(&path, sent)?
            .with_context(|| format!("{path}: the tracking server answered 404"))?;
        Ok(())
    }

    /// The entries of the artifact folder at `location` (`mlflow-artifacts:/…`).
    pub fn list(&self, location: &str) -> anyhow::Result<Vec<ArtifactEntry>> {
        let relative = proxied(location)?;
        let path = "/api/2.0/mlflow-artifacts/artifacts";
        let listing = self
            .get(path, &[("path", relative)])?
            .with_context(|| format!("the tracking server has no artifacts at {location}"))?;
        let files = listing
            .get("files")
            .cloned()
            .unwrap_or(Value::Array(vec![]));
        serde_json::from_value(files)
            .with_context(|| format!("{path}: the listing of {location} is not understood"))
    }

    /// Downloads the artifact at `location` into the file `to`, which must come to `bytes`.
    pub fn download(&self, location: &str, to: &Path, bytes: u64) -> anyhow::Result<()> {
        let path = artifact_path(location)?;
        let mut sent = self
            .request(|url| self.agent.get(url), &path)
            .call()
            .with_context(|| format!("calling {path}"))?;
        if !sent.status().is_success() {
            let status = sent.status();
            let text = sent.body_mut().read_to_string().unwrap_or_default();
            bail!(
                "{path}: the tracking server answered {status}: {}",
                message(text)
            );
        }
        let mut file = File::create(to).with_context(|| format!("writing {}", to.display()))?;
        // One byte past the size is enough to tell a longer file.
        let mut body = sent.body_mut().with_config().limit(bytes + 1).reader();
        let got = std::io::copy(&mut body, &mut file)
            .with_context(|| format!("downloading {location}"))?;
        if got != bytes {
            bail!("{location}: downloaded {got} bytes, the tracking server listed {bytes}");
        }
        file.sync_all()
            .with_context(|| format!("writing {}", to.display()))
    }
}

/// The `Authorization` value for the credentials `var` reads: a bearer token, or basic
/// credentials (a user name alone has an empty password).
fn authorization(var: impl Fn(&str) -> Option<String>) -> Option<String> {
    use base64::Engine;
    if let Some(token) = var("MLFLOW_TRACKING_TOKEN").filter(|t| !t.is_empty()) {
        return Some(format!("Bearer {token}"));
    }
    let user = var("MLFLOW_TRACKING_USERNAME").filter(|u| !u.is_empty())?;
    let password = var("MLFLOW_TRACKING_PASSWORD").unwrap_or_default();
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    Some(format!("Basic {encoded}"))
}

/// The proxy's path (`/api/2.0/mlflow-artifacts/artifacts/…`) of an artifact location.
fn artifact_path(location: &str) -> anyhow::Result<String> {
    Ok(format!(
        "/api/2.0/mlflow-artifacts/artifacts/{}",
        proxied(location)?
    ))
}

/// The part of an artifact location (`mlflow-artifacts:/EXPERIMENT/RUN/artifacts/…`) below
/// the proxy's root.
fn proxied(location: &str) -> anyhow::Result<&str> {
    match location.strip_prefix(PROXIED) {
        Some(rest) => Ok(rest.trim_start_matches('/')),
        None => bail!(
            "the tracking server keeps artifacts at {location:?}, which only it can reach: start it with artifact proxying (mlflow server --artifacts-destination DIR)"
        ),
    }
}

/// The body of the answer to a request to `path`: `None` for a 404, an error carrying MLflow's
/// message for no answer or any other status outside 2xx.
fn answer(
    path: &str,
    sent: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> anyhow::Result<Option<String>> {
    let mut answer = sent.with_context(|| format!("calling {path}"))?;
    let status = answer.status();
    let text = answer.body_mut().read_to_string().unwrap_or_default();
    if status == ureq::http::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !status.is_success() {
        bail!(
            "{path}: the tracking server answered {status}: {}",
            message(text)
        );
    }
    Ok(Some(text))
}

/// MLflow's `message` out of an error answer, or the answer as it came.
fn message(text: String) -> String {
    serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_owned))
        .unwrap_or(text)
}

fn json(path: &str, text: &str) -> anyhow::Result<Value> {
    serde_json::from_str(text).with_context(|| format!("{path}: the answer is not JSON"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_proxied_locations_are_reachable() {
        assert_eq!(
            artifact_path("mlflow-artifacts:/1/abc/artifacts/bundle/x.json").unwrap(),
            "/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/bundle/x.json"
        );
        let err = artifact_path("/var/mlruns/1/abc/artifacts").unwrap_err();
        assert!(err.to_string().contains("--artifacts-destination"), "{err}");
        assert_eq!(
            message(r#"{"message": "no such run"}"#.into()),
            "no such run"
        );
        assert_eq!(message("Bad gateway".into()), "Bad gateway");
    }

    #[test]
    fn credentials_come_as_mlflow_reads_them() {
        let from = |vars: &'static [(&'static str, &'static str)]| {
            authorization(move |name| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            })
        };
        assert_eq!(from(&[]), None);
        assert_eq!(
            from(&[
                ("MLFLOW_TRACKING_TOKEN", "t0k"),
                ("MLFLOW_TRACKING_USERNAME", "u")
            ]),
            Some("Bearer t0k".to_owned())
        );
        // "ml:ops" in base64.
        assert_eq!(
            from(&[
                ("MLFLOW_TRACKING_USERNAME", "ml"),
                ("MLFLOW_TRACKING_PASSWORD", "ops")
            ]),
            Some("Basic bWw6b3Bz".to_owned())
        );
    }
}
