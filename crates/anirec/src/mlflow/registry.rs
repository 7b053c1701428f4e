//! MLflow's model registry: each trained bundle registered as a version of a registered model,
//! aliases (`champion`) set by an operator, and `models:/NAME@ALIAS` or `models:/NAME/VERSION`
//! resolved and downloaded into a local folder that `serve` loads (and so verifies: the
//! bundle's manifest holds every file's checksum, and the version's tag the manifest's).

use std::path::{Path, PathBuf};
use std::str::FromStr;

use anirec_model::bundle;
use anyhow::{Context, bail};
use serde_json::{Value, json};

use super::client::Client;
use super::runs::{BUNDLE_ARTIFACTS, Logged};

/// The tag of a model version that holds its `manifest.json`'s CRC-32.
const MANIFEST_TAG: &str = "anirec.manifest_crc32";

/// A model in the registry, as `models:/NAME@ALIAS` or `models:/NAME/VERSION` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelUri {
    /// The registered model.
    pub name: String,
    /// Which of its versions.
    pub version: VersionRef,
}

/// How a [`ModelUri`] picks a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionRef {
    /// The version an alias points at (it can move: `serve --watch` follows it).
    Alias(String),
    /// A fixed version number.
    Number(u64),
}

/// How a registered model's URI is written.
const URI_SHAPE: &str = "a registered model is named models:/NAME@ALIAS or models:/NAME/VERSION";

/// Why a text is not a registered model's URI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelUriError {
    /// It does not start with `models:/`.
    #[error("{0:?} is not a model URI: {shape}", shape = URI_SHAPE)]
    NotAUri(String),
    /// It names neither an alias nor a version.
    #[error("{0:?} names no version: {shape}", shape = URI_SHAPE)]
    NoVersion(String),
    /// Its version is not a number.
    #[error("{uri:?}: the version {version:?} is not a number: {shape}", shape = URI_SHAPE)]
    Version {
        /// The text.
        uri: String,
        /// The version it gives.
        version: String,
    },
    /// Its name holds something other than letters, digits, `-`, `_` and `.`.
    #[error("{uri:?}: {name:?} is not a model name: {shape}", shape = URI_SHAPE)]
    Name {
        /// The text.
        uri: String,
        /// The name it gives.
        name: String,
    },
    /// Its alias holds something other than letters, digits, `-`, `_` and `.`.
    #[error("{uri:?}: {alias:?} is not an alias: {shape}", shape = URI_SHAPE)]
    Alias {
        /// The text.
        uri: String,
        /// The alias it gives.
        alias: String,
    },
}

impl FromStr for ModelUri {
    type Err = ModelUriError;

    fn from_str(s: &str) -> Result<ModelUri, ModelUriError> {
        let rest = s
            .strip_prefix("models:/")
            .ok_or_else(|| ModelUriError::NotAUri(s.to_owned()))?;
        let (name, version) = if let Some((name, alias)) = rest.split_once('@') {
            (name, VersionRef::Alias(alias.to_owned()))
        } else if let Some((name, number)) = rest.rsplit_once('/') {
            let number = number.parse().map_err(|_| ModelUriError::Version {
                uri: s.to_owned(),
                version: number.to_owned(),
            })?;
            (name, VersionRef::Number(number))
        } else {
            return Err(ModelUriError::NoVersion(s.to_owned()));
        };
        let valid =
            |t: &str| !t.is_empty() && t.chars().all(|c| c.is_alphanumeric() || "-_.".contains(c));
        if !valid(name) {
            return Err(ModelUriError::Name {
                uri: s.to_owned(),
                name: name.to_owned(),
            });
        }
        if let VersionRef::Alias(alias) = &version
            && !valid(alias)
        {
            return Err(ModelUriError::Alias {
                uri: s.to_owned(),
                alias: alias.clone(),
            });
        }
        Ok(ModelUri {
            name: name.to_owned(),
            version,
        })
    }
}

impl std::fmt::Display for ModelUri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.version {
            VersionRef::Alias(alias) => write!(f, "models:/{}@{alias}", self.name),
            VersionRef::Number(n) => write!(f, "models:/{}/{n}", self.name),
        }
    }
}

/// One version of a registered model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelVersion {
    /// The registered model.
    pub name: String,
    /// Its version number.
    pub version: u64,
    /// Where its bundle is (`mlflow-artifacts:/…/bundle`).
    pub source: String,
    /// The run that trained it.
    pub run_id: String,
    /// The CRC-32 of its `manifest.json`, when it was registered by anirec.
    pub manifest_crc32: Option<u32>,
}

impl ModelVersion {
    fn from_json(v: &Value) -> anyhow::Result<ModelVersion> {
        let field = |key: &str| v[key].as_str().unwrap_or_default().to_owned();
        let version = field("version");
        let manifest_crc32 = v["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|t| t["key"] == MANIFEST_TAG)
            .and_then(|t| t["value"].as_str()?.parse().ok());
        Ok(ModelVersion {
            name: field("name"),
            version: version
                .parse()
                .with_context(|| format!("the model version {version:?} is not a number"))?,
            source: field("source"),
            run_id: field("run_id"),
            manifest_crc32,
        })
    }
}

impl Client {
    /// Registers the bundle logged with the run `logged` as a new version of the registered
    /// model `name` (created when missing); `model_dir` is the local bundle it was logged from.
    pub fn register(
        &self,
        name: &str,
        logged: &Logged,
        model_dir: &Path,
    ) -> anyhow::Result<ModelVersion> {
        let existing = self.get("/api/2.0/mlflow/registered-models/get", &[("name", name)])?;
        if existing.is_none() {
            self.post(
                "/api/2.0/mlflow/registered-models/create",
                &json!({"name": name, "description": "anirec model bundles (anirec train --mlflow)"}),
            )?;
        }
        let manifest = std::fs::read(model_dir.join(bundle::MANIFEST))
            .with_context(|| format!("reading {}", model_dir.join(bundle::MANIFEST).display()))?;
        let created = self.post(
            "/api/2.0/mlflow/model-versions/create",
            &json!({
                "name": name,
                "source": format!("{}/{BUNDLE_ARTIFACTS}", logged.artifact_uri),
                "run_id": logged.run_id,
                "tags": [{"key": MANIFEST_TAG, "value": crc32fast::hash(&manifest).to_string()}],
            }),
        )?;
        ModelVersion::from_json(&created["model_version"])
    }

    /// Points `alias` of the registered model `name` at `version`.
    pub fn set_alias(&self, name: &str, alias: &str, version: u64) -> anyhow::Result<()> {
        let found = self.get(
            "/api/2.0/mlflow/model-versions/get",
            &[("name", name), ("version", &version.to_string())],
        )?;
        if found.is_none() {
            bail!("the registry has no version {version} of the model {name:?}");
        }
        self.post(
            "/api/2.0/mlflow/registered-models/alias",
            &json!({"name": name, "alias": alias, "version": version.to_string()}),
        )
        .map(drop)
    }

    /// The version `uri` names now.
    pub fn resolve(&self, uri: &ModelUri) -> anyhow::Result<ModelVersion> {
        let number = match &uri.version {
            VersionRef::Number(n) => *n,
            // The registered model lists its aliases (asking for a missing alias is a 400
            // that says less).
            VersionRef::Alias(alias) => {
                let model = self
                    .get(
                        "/api/2.0/mlflow/registered-models/get",
                        &[("name", &uri.name)],
                    )?
                    .with_context(|| format!("the registry has no model {:?}", uri.name))?;
                let aliases = model["registered_model"]["aliases"].as_array();
                let version = aliases
                    .into_iter()
                    .flatten()
                    .find(|a| a["alias"] == alias.as_str())
                    .and_then(|a| a["version"].as_str())
                    .with_context(|| format!("the registry has no {uri}"))?;
                version
                    .parse()
                    .with_context(|| format!("{uri}: the version {version:?} is not a number"))?
            }
        };
        let found = self
            .get(
                "/api/2.0/mlflow/model-versions/get",
                &[("name", &uri.name), ("version", &number.to_string())],
            )?
            .with_context(|| format!("the registry has no {uri}"))?;
        ModelVersion::from_json(&found["model_version"])
    }

    /// The bundle of `version`, downloaded under `cache` (`NAME/VERSION`) unless it already
    /// is; files are written into a temporary sibling folder and renamed into place, each
    /// checked against the size the server lists, the manifest against the version's tag.
    pub fn download_bundle(&self, version: &ModelVersion, cache: &Path) -> anyhow::Result<PathBuf> {
        let dir = cache.join(&version.name).join(version.version.to_string());
        if dir.join(bundle::MANIFEST).is_file() {
            return Ok(dir);
        }
        let parent = dir.parent().unwrap_or(cache);
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
        let partial = partial_dir(parent)?;
        let fetched = self.fetch_bundle(version, &partial);
        if let Err(e) = fetched {
            let _ = std::fs::remove_dir_all(&partial);
            return Err(e);
        }
        std::fs::rename(&partial, &dir)
            .with_context(|| format!("moving the bundle into {}", dir.display()))?;
        Ok(dir)
    }

    /// Downloads the files of `version`'s bundle into `partial` and checks them.
    fn fetch_bundle(&self, version: &ModelVersion, partial: &Path) -> anyhow::Result<()> {
        for entry in self.list(&version.source)? {
            if entry.is_dir {
                continue;
            }
            let name = Path::new(&entry.path)
                .file_name()
                .and_then(|n| n.to_str())
                .context("an artifact without a file name")?;
            let bytes = entry
                .file_size
                .with_context(|| format!("the tracking server lists no size for {name}"))?;
            self.download(
                &format!("{}/{name}", version.source),
                &partial.join(name),
                bytes,
            )?;
        }
        let manifest = partial.join(bundle::MANIFEST);
        let text = std::fs::read(&manifest).with_context(|| {
            format!(
                "{} has no manifest.json: not an anirec bundle",
                version.source
            )
        })?;
        if let Some(expected) = version.manifest_crc32
            && crc32fast::hash(&text) != expected
        {
            bail!(
                "{}: manifest.json does not match the one registered (CRC-32 {:08x}, registered {expected:08x})",
                version.source,
                crc32fast::hash(&text)
            );
        }
        Ok(())
    }
}

/// A new empty folder in `parent` for a download in progress (`.partial-PID-N`), which a
/// failed download removes and a crash leaves for no later download to read.
fn partial_dir(parent: &Path) -> anyhow::Result<PathBuf> {
    let mut n = 0u32;
    loop {
        let dir = parent.join(format!(".partial-{}-{n}", std::process::id()));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => n += 1,
            Err(e) => return Err(e).with_context(|| format!("creating {}", dir.display())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_uris_parse_and_print_back() {
        for (text, version) in [
            (
                "models:/anirec@champion",
                VersionRef::Alias("champion".into()),
            ),
            ("models:/anirec/12", VersionRef::Number(12)),
        ] {
            let uri: ModelUri = text.parse().unwrap();
            assert_eq!(uri.name, "anirec");
            assert_eq!(uri.version, version);
            assert_eq!(uri.to_string(), text);
        }
        for bad in [
            "anirec@champion",
            "models:/anirec",
            "models:/anirec/latest",
            "models:/@champion",
            "models:/anirec@",
            "models:/a b@champion",
            "models:/anirec@champ/ion",
        ] {
            let err = bad.parse::<ModelUri>().unwrap_err();
            assert!(
                err.to_string().contains("models:/NAME@ALIAS"),
                "{bad}: {err}"
            );
        }
    }
}
