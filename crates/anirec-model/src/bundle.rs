//! The model bundle: a folder that holds everything serving needs.
//!
//! ```text
//! MODEL/
//!   manifest.json       format version, parameters, blend weights, validation and test metrics,
//!                       data checksums, and the size and CRC-32 of every other file
//!   model.safetensors   every array: factors, biases, EASE weights, neighbours, TF-IDF rows
//!                       (CSR arrays), popularity, the users' ratings (CSR arrays), and the
//!                       story embeddings (`story.vectors`, float16) when trained with an encoder
//!   catalogue.json      the catalogue the model was trained with
//! ```
//!
//! `model.safetensors` opens from Python with `safetensors.numpy.load_file`. A bundle is written
//! into a temporary sibling folder and renamed into place, so a crash never leaves a half-written
//! bundle under the real name; loading checks the format version and every file's checksum.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use anirec_data::csr::Csr;
use anirec_data::{Catalogue, Ratings};
use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use serde::{Deserialize, Serialize};

use crate::cf::ease::Ease;
use crate::content::tfidf::ContentModel;
use crate::hybrid::{ColdStart, Hybrid, HybridParams};
use crate::lexical::Lexical;
use crate::metrics::{RatingMetrics, TestMetrics};
use crate::ranker::features::AnimeFacts;
use crate::ranker::{LearnedRanker, RankerReport};
use crate::rating::baseline::{BaselineParams, Baselines};
use crate::rating::franchise::FranchiseMates;
use crate::rating::knn::{ItemKnn, KnnParams};
use crate::rating::mf::{Mf, MfParams, MfScalars};
use crate::rating::model::{FEATURES, RatingModel};
use crate::signal::Weights;
use crate::stored::{self, Array, Stored, per_anime, vector};
use crate::story::{StoryInfo, StoryOff, StoryVectors};

/// The bundle format this build writes and reads (5: EASE's weights in float16).
pub const FORMAT_VERSION: u32 = 5;
/// The bundle's manifest.
pub const MANIFEST: &str = "manifest.json";
/// The bundle's arrays.
pub const TENSORS: &str = "model.safetensors";
/// The bundle's catalogue.
pub const CATALOGUE: &str = "catalogue.json";
/// The learned ranker's model, in LightGBM's text format (only in a bundle trained with one).
pub const RANKER: &str = "ranker.txt";
/// The array of the learned ranker's exposure per anime (its spread step).
const RANKER_EXPOSURE: &str = "ranker.exposure";
/// Every file of a bundle.
pub const FILES: [&str; 3] = [MANIFEST, TENSORS, CATALOGUE];

/// What can go wrong with a bundle.
#[derive(Debug, thiserror::Error)]
#[error("model bundle {path}: {message}")]
pub struct BundleError {
    /// The bundle folder or file.
    pub path: PathBuf,
    /// What was wrong.
    pub message: String,
}

/// Size and checksum of one bundle file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileInfo {
    /// Bytes.
    pub bytes: u64,
    /// CRC-32 of the content.
    pub crc32: u32,
}

/// Scalars of the rating model (its arrays live in the tensor file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RatingState {
    /// Baseline mean.
    pub mu: f32,
    /// Baseline parameters.
    pub baseline: BaselineParams,
    /// Neighbourhood parameters.
    pub knn: KnnParams,
    /// Factor parameters.
    pub mf: MfParams,
    /// Factor-model mean.
    pub mf_mu: f32,
    /// Factor epochs trained.
    pub epochs: usize,
    /// Blend weights (the intercept, then [`FEATURES`]' weights).
    pub blend: Vec<f32>,
    /// Validation errors of the blend.
    pub validation: RatingMetrics,
}

/// The data the model was trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataInfo {
    /// Users.
    pub users: u64,
    /// Anime in the catalogue.
    pub anime: u64,
    /// Train ratings.
    pub ratings: u64,
    /// CRC-32 of the train ratings arrays.
    pub ratings_crc32: u32,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Bundle format version.
    pub format_version: u32,
    /// The anirec version that wrote it.
    pub created_by: String,
    /// When, in seconds since the Unix epoch.
    pub created_at: u64,
    /// Hybrid parameters.
    pub params: HybridParams,
    /// Blend weights of the hybrid.
    pub weights: Weights,
    /// Validation (NDCG@10, coverage) of the blend weights.
    pub validation: (f64, f64),
    /// Rating model scalars.
    pub rating: RatingState,
    /// Test metrics, when the model was evaluated before saving.
    pub metrics: Option<TestMetrics>,
    /// Training data summary.
    pub data: DataInfo,
    /// Every other file of the bundle.
    pub files: BTreeMap<String, FileInfo>,
    /// How the story embeddings were made; absent when the model was trained without an
    /// encoder (then story search is off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub story: Option<StoryInfo>,
    /// How the learned ranker was trained; absent when the blend orders the candidates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ranker: Option<RankerReport>,
}

/// A trained model with what it needs to serve: the catalogue and the users' ratings.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// The manifest.
    pub manifest: Manifest,
    /// The catalogue (anime indices of the model are positions in it).
    pub catalogue: Catalogue,
    /// The train ratings (users known to the model).
    pub ratings: Ratings,
    /// The model (with the catalogue's story embeddings when trained with an encoder).
    pub model: Hybrid,
    /// Story search's popularity prior per anime, computed on the first search.
    pub(crate) story_prior: OnceLock<Vec<f32>>,
    /// Story search's BM25 index of the catalogue, built on the first search.
    pub(crate) lexical: OnceLock<Lexical>,
}

/// The CRC-32 of a ratings store's arrays, as the manifest's `data.ratings_crc32` holds it for
/// the train ratings: tells whether given ratings are those a model was trained on.
pub fn ratings_crc32(r: &Ratings) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(bytemuck::cast_slice(r.user_ids()));
    h.update(bytemuck::cast_slice(&r.by_user().indptr));
    h.update(bytemuck::cast_slice(&r.by_user().indices));
    h.update(&r.by_user().ratings);
    h.finalize()
}

impl Bundle {
    /// Packs a trained model with its catalogue and train ratings.
    pub fn new(
        model: Hybrid,
        catalogue: Catalogue,
        ratings: Ratings,
        metrics: Option<TestMetrics>,
    ) -> Bundle {
        let r = &model.rating;
        let manifest = Manifest {
            format_version: FORMAT_VERSION,
            created_by: format!("anirec {}", env!("CARGO_PKG_VERSION")),
            created_at: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            params: model.params,
            weights: model.weights,
            validation: model.validation,
            rating: RatingState {
                mu: r.baselines.mu,
                baseline: r.baselines.params,
                knn: r.knn.params,
                mf: r.mf.params,
                mf_mu: r.mf.mu,
                epochs: r.epochs,
                blend: r.blend.clone(),
                validation: r.validation,
            },
            metrics,
            data: DataInfo {
                users: ratings.n_users() as u64,
                anime: catalogue.len() as u64,
                ratings: ratings.len() as u64,
                ratings_crc32: ratings_crc32(&ratings),
            },
            files: BTreeMap::new(),
            story: None,
            ranker: model.ranker.as_ref().map(|r| r.report.clone()),
        };
        Bundle {
            manifest,
            catalogue,
            ratings,
            model,
            story_prior: OnceLock::new(),
            lexical: OnceLock::new(),
        }
    }

    /// The bundle with story embeddings (one per anime of its catalogue), made as `info` says.
    /// The blend's story weight stays as fitted: 0 for a model fitted without them.
    pub fn with_story(mut self, info: StoryInfo, vectors: StoryVectors) -> Bundle {
        debug_assert_eq!(vectors.len(), self.catalogue.len());
        self.manifest.story = Some(info);
        self.model.story = Some(vectors);
        self
    }

    /// The catalogue's story embeddings, when the model has them.
    pub fn story(&self) -> Option<&StoryVectors> {
        self.model.story.as_ref()
    }

    /// Whether a query embedded by the encoder with `fingerprint` can be searched against the
    /// model's story embeddings, or why not.
    pub fn story_for(&self, fingerprint: &str) -> Result<&StoryVectors, StoryOff> {
        match (&self.manifest.story, self.story()) {
            (Some(info), Some(vectors)) if info.encoder == fingerprint => Ok(vectors),
            (Some(info), Some(_)) => Err(StoryOff::OtherEncoder {
                model: info.encoder.clone(),
                encoder: fingerprint.to_owned(),
            }),
            _ => Err(StoryOff::NoEmbeddings),
        }
    }

    fn arrays(&self) -> Vec<Array> {
        let m = &self.model;
        let r = &m.rating;
        let users = self.ratings.by_user();
        let mut out = m.ease.arrays();
        out.extend(r.baselines.arrays());
        out.extend(r.knn.arrays());
        out.extend(r.mf.arrays());
        out.extend(m.content.arrays());
        out.extend([
            vector("popularity", Dtype::F32, &m.popularity),
            vector("exposure", Dtype::F32, &m.exposure),
            vector("users.ids", Dtype::U32, self.ratings.user_ids()),
            vector("users.indptr", Dtype::U64, &users.indptr),
            vector("users.indices", Dtype::U32, &users.indices),
            vector("users.ratings", Dtype::U8, &users.ratings),
        ]);
        if !users.status.is_empty() {
            out.push(vector("users.status", Dtype::U8, &users.status));
        }
        if let Some(story) = &m.story {
            out.extend(story.arrays());
        }
        if let Some(ranker) = &m.ranker {
            out.push(vector(RANKER_EXPOSURE, Dtype::F32, &ranker.exposure));
        }
        out
    }

    /// Writes the bundle to `dir` atomically (replacing an existing bundle there).
    pub fn save(&self, dir: &Path) -> Result<Manifest, BundleError> {
        let fail = |m: String| BundleError {
            path: dir.to_owned(),
            message: m,
        };
        let arrays = self.arrays();
        let views: Vec<(&str, TensorView)> = arrays
            .iter()
            .map(|a| {
                TensorView::new(a.dtype, a.shape.clone(), &a.bytes).map(|v| (a.name.as_str(), v))
            })
            .collect::<Result<_, _>>()
            .map_err(|e| fail(format!("packing arrays: {e}")))?;
        // One metadata key, so the file is byte-for-byte reproducible (the map's order is not).
        let meta = HashMap::from([("format".to_owned(), format!("anirec/{FORMAT_VERSION}"))]);
        let tensors = safetensors::serialize(views, Some(meta))
            .map_err(|e| fail(format!("packing arrays: {e}")))?;
        let catalogue = serde_json::to_vec(&self.catalogue).map_err(|e| fail(e.to_string()))?;
        let mut manifest = self.manifest.clone();
        manifest.files.clear();
        let ranker = self.model.ranker.as_ref().map(|r| r.text.as_bytes());
        let mut files: Vec<(&str, &[u8])> = vec![(TENSORS, &tensors), (CATALOGUE, &catalogue)];
        files.extend(ranker.map(|text| (RANKER, text)));
        for &(name, bytes) in &files {
            manifest.files.insert(
                name.to_owned(),
                FileInfo {
                    bytes: bytes.len() as u64,
                    crc32: crc32fast::hash(bytes),
                },
            );
        }
        let manifest_json =
            serde_json::to_vec_pretty(&manifest).map_err(|e| fail(e.to_string()))?;

        files.push((MANIFEST, &manifest_json));
        anirec_data::atomic::write_dir(dir, &files).map_err(|e| fail(format!("writing: {e}")))?;
        Ok(manifest)
    }

    /// Loads and verifies a bundle.
    pub fn load(dir: &Path) -> Result<Bundle, BundleError> {
        let fail = |m: String| BundleError {
            path: dir.to_owned(),
            message: m,
        };
        let read = |name: &str| {
            std::fs::read(dir.join(name)).map_err(|e| fail(format!("reading {name}: {e}")))
        };
        // The files are mapped rather than read: the arrays are copied out of the mapping once,
        // instead of being read into a buffer and copied again.
        let map = |name: &str| {
            let file =
                File::open(dir.join(name)).map_err(|e| fail(format!("reading {name}: {e}")))?;
            // SAFETY: the mapping is read-only and dropped before `load` returns; a bundle is
            // written to a new folder and renamed into place, never rewritten where it is read
            // (and a file changed under us fails the checksum or the array checks below).
            unsafe { memmap2::Mmap::map(&file) }.map_err(|e| fail(format!("reading {name}: {e}")))
        };
        let manifest_bytes = read(MANIFEST)?;
        let version: serde_json::Value = serde_json::from_slice(&manifest_bytes)
            .map_err(|e| fail(format!("{MANIFEST} is not valid JSON: {e}")))?;
        match version.get("format_version").and_then(|v| v.as_u64()) {
            Some(v) if v == FORMAT_VERSION as u64 => {}
            Some(v) => {
                return Err(fail(format!(
                    "format version {v}; this anirec reads version {FORMAT_VERSION} (retrain with `anirec train`)"
                )));
            }
            None => {
                return Err(fail(format!(
                    "{MANIFEST} has no format_version: not an anirec bundle"
                )));
            }
        }
        let manifest: Manifest =
            serde_json::from_value(version).map_err(|e| fail(format!("{MANIFEST}: {e}")))?;
        let started = std::time::Instant::now();
        let mut files = HashMap::new();
        for (name, info) in &manifest.files {
            let bytes = map(name)?;
            if bytes.len() as u64 != info.bytes {
                return Err(fail(format!(
                    "{name} is truncated or altered: expected {} bytes, found {}",
                    info.bytes,
                    bytes.len()
                )));
            }
            if parallel_crc(&bytes) != info.crc32 {
                return Err(fail(format!("{name} is corrupt: checksum mismatch")));
            }
            files.insert(name.clone(), bytes);
        }
        let (Some(tensor_bytes), Some(catalogue_bytes)) =
            (files.get(TENSORS), files.get(CATALOGUE))
        else {
            return Err(fail(format!(
                "the manifest does not list {TENSORS} and {CATALOGUE}"
            )));
        };
        tracing::debug!(
            seconds = started.elapsed().as_secs_f64(),
            "bundle files read and verified"
        );
        let mut catalogue: Catalogue = serde_json::from_slice(catalogue_bytes)
            .map_err(|e| fail(format!("{CATALOGUE}: {e}")))?;
        catalogue.reindex();
        tracing::debug!(
            seconds = started.elapsed().as_secs_f64(),
            "bundle catalogue parsed"
        );
        let st =
            SafeTensors::deserialize(tensor_bytes).map_err(|e| fail(format!("{TENSORS}: {e}")))?;
        let arrays = Arrays {
            st: stored::Arrays::new(&st),
            dir,
        };
        let ranker = match (&manifest.ranker, files.get(RANKER)) {
            (None, _) => None,
            (Some(report), Some(text)) => {
                let text = std::str::from_utf8(text)
                    .map_err(|e| fail(format!("{RANKER} is not UTF-8: {e}")))?;
                let exposure: Vec<f32> = arrays.get(RANKER_EXPOSURE, Dtype::F32)?;
                per_anime(&exposure, RANKER_EXPOSURE, catalogue.len())
                    .map_err(|e| fail(e.to_string()))?;
                let ranker = LearnedRanker::load(text.to_owned(), exposure, report.clone())
                    .map_err(|e| fail(format!("{RANKER}: {e}")))?;
                Some(Arc::new(ranker))
            }
            (Some(_), None) => {
                return Err(fail(format!(
                    "the manifest has a ranker but does not list {RANKER}"
                )));
            }
        };
        let bundle = assemble(manifest, catalogue, &arrays).map(|mut b| {
            b.model.ranker = ranker;
            b
        });
        tracing::debug!(
            seconds = started.elapsed().as_secs_f64(),
            "bundle arrays assembled"
        );
        bundle
    }
}

/// CRC-32 of `bytes`, computed over 16 MB pieces on all cores and combined.
fn parallel_crc(bytes: &[u8]) -> u32 {
    use rayon::prelude::*;
    bytes
        .par_chunks(16 << 20)
        .map(|piece| {
            let mut h = crc32fast::Hasher::new();
            h.update(piece);
            h
        })
        .reduce_with(|mut a, b| {
            a.combine(&b);
            a
        })
        .unwrap_or_default()
        .finalize()
}

/// The stored arrays of the bundle at `dir` (named in errors).
struct Arrays<'a> {
    st: stored::Arrays<'a>,
    dir: &'a Path,
}

impl Arrays<'_> {
    fn fail(&self, message: String) -> BundleError {
        BundleError {
            path: self.dir.to_owned(),
            message,
        }
    }

    fn get<T: bytemuck::Pod>(&self, name: &str, dtype: Dtype) -> Result<Vec<T>, BundleError> {
        self.st
            .get(name, dtype)
            .map_err(|e| self.fail(e.to_string()))
    }

    /// A model rebuilt from its arrays.
    fn restore<M: Stored>(&self, with: M::With) -> Result<M, BundleError> {
        M::restore(&self.st, with).map_err(|e| self.fail(e.to_string()))
    }
}

fn assemble(manifest: Manifest, catalogue: Catalogue, a: &Arrays) -> Result<Bundle, BundleError> {
    // The users' ratings (with their transpose) and the model's arrays are independent: both
    // halves are copied and checked at once.
    let n_anime = catalogue.len();
    let (ratings, model) = rayon::join(
        || assemble_ratings(&manifest, n_anime, a),
        || assemble_model(&manifest, &catalogue, a),
    );
    let (ratings, mut model) = (ratings?, model?);
    model.cold = ColdStart::build(
        &model.ease,
        &model.content,
        &catalogue,
        &ratings,
        &model.popularity,
    );
    let n_users = ratings.n_users();
    let rating = &model.rating;
    if rating.baselines.user.len() != n_users
        || rating.mf.user_bias.len() != n_users
        || rating.mf.user_factors.len() != n_users * rating.mf.params.factors
    {
        return Err(BundleError {
            path: a.dir.to_owned(),
            message: "the per-user arrays do not have one entry per user".into(),
        });
    }
    Ok(Bundle {
        manifest,
        catalogue,
        ratings,
        model,
        story_prior: OnceLock::new(),
        lexical: OnceLock::new(),
    })
}

/// The users' ratings, checked against the manifest's data checksum.
fn assemble_ratings(
    manifest: &Manifest,
    n_anime: usize,
    a: &Arrays,
) -> Result<Ratings, BundleError> {
    let fail = |m: &str| BundleError {
        path: a.dir.to_owned(),
        message: m.to_owned(),
    };
    let users = Csr {
        indptr: a.get("users.indptr", Dtype::U64)?,
        indices: a.get("users.indices", Dtype::U32)?,
        ratings: a.get("users.ratings", Dtype::U8)?,
        status: if a.st.has("users.status") {
            a.get("users.status", Dtype::U8)?
        } else {
            Vec::new()
        },
    };
    let user_ids: Vec<u32> = a.get("users.ids", Dtype::U32)?;
    let n_users = user_ids.len();
    let sane = users.indptr.len() == n_users + 1
        && users.indptr.first() == Some(&0)
        && users.indptr.last() == Some(&(users.indices.len() as u64))
        && users.indptr.windows(2).all(|w| w[0] <= w[1])
        && users.ratings.len() == users.indices.len()
        && users.indices.iter().all(|&i| (i as usize) < n_anime)
        && user_ids.windows(2).all(|w| w[0] < w[1]);
    if !sane {
        return Err(fail("the users' ratings arrays are inconsistent"));
    }
    let ratings = Ratings::from_user_rows(user_ids, n_anime, users);
    if ratings_crc32(&ratings) != manifest.data.ratings_crc32 {
        return Err(fail(
            "the users' ratings do not match the manifest's data checksum",
        ));
    }
    Ok(ratings)
}

/// The model's arrays (per-user lengths are checked by [`assemble`]).
fn assemble_model(
    manifest: &Manifest,
    catalogue: &Catalogue,
    a: &Arrays,
) -> Result<Hybrid, BundleError> {
    let n_anime = catalogue.len();
    let fail = |m: &str| BundleError {
        path: a.dir.to_owned(),
        message: m.to_owned(),
    };
    let s = &manifest.rating;
    let params = &manifest.params;
    if s.blend.len() != FEATURES.len() + 1 {
        return Err(fail(&format!(
            "the rating blend needs {} weights (an intercept and {})",
            FEATURES.len() + 1,
            FEATURES.join(", ")
        )));
    }
    let rating = RatingModel {
        params: params.rating,
        baselines: a.restore::<Baselines>((s.mu, s.baseline, n_anime))?,
        knn: a.restore::<ItemKnn>((s.knn, n_anime))?,
        mf: a.restore::<Mf>(MfScalars {
            params: s.mf,
            mean: s.mf_mu,
            epochs: s.epochs,
            n_anime,
        })?,
        franchise: FranchiseMates::of(catalogue.franchises(), n_anime),
        blend: s.blend.clone(),
        validation: s.validation,
        epochs: s.epochs,
    };
    let ease = a.restore::<Ease>((params.ease, n_anime))?;
    let content = a.restore::<ContentModel>((params.content, n_anime))?;
    let popularity = a.get("popularity", Dtype::F32)?;
    let exposure = a.get("exposure", Dtype::F32)?;
    per_anime(&popularity, "popularity", n_anime).map_err(|e| fail(&e.to_string()))?;
    per_anime(&exposure, "exposure", n_anime).map_err(|e| fail(&e.to_string()))?;
    let model = Hybrid {
        params: manifest.params,
        facts: AnimeFacts::of(catalogue),
        ranker: None,
        cold: ColdStart::default(),
        ease,
        rating,
        content,
        story: match &manifest.story {
            Some(info) => Some(a.restore::<StoryVectors>((info.clone(), n_anime))?),
            None => None,
        },
        popularity,
        exposure,
        weights: manifest.weights,
        validation: manifest.validation,
    };
    Ok(model)
}
