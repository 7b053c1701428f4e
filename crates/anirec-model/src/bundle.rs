//! The model bundle: a folder that holds everything serving needs.
//!
//! ```text
//! MODEL/
//!   manifest.json       format version, parameters, blend weights, validation and test metrics,
//!                       data checksums, and the size and CRC-32 of every other file
//!   model.safetensors   every array: factors, biases, EASE weights, neighbours, TF-IDF rows
//!                       (CSR arrays), popularity, the users' ratings (CSR arrays)
//!   catalogue.json      the catalogue the model was trained with
//! ```
//!
//! `model.safetensors` opens from Python with `safetensors.numpy.load_file`. A bundle is written
//! into a temporary sibling folder and renamed into place, so a crash never leaves a half-written
//! bundle under the real name; loading checks the format version and every file's checksum.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};

use anirec_data::csr::Csr;
use anirec_data::{Catalogue, Ratings};
use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use serde::{Deserialize, Serialize};

use crate::cf::ease::Ease;
use crate::content::tfidf::ContentModel;
use crate::hybrid::{Hybrid, HybridParams};
use crate::metrics::{RatingMetrics, TestMetrics};
use crate::rating::baseline::{BaselineParams, Baselines};
use crate::rating::knn::{ItemKnn, KnnParams};
use crate::rating::mf::{Mf, MfParams};
use crate::rating::model::RatingModel;
use crate::signal::Weights;

/// The bundle format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
const MANIFEST: &str = "manifest.json";
const TENSORS: &str = "model.safetensors";
const CATALOGUE: &str = "catalogue.json";

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
    /// Blend weights (intercept, baseline, neighbourhood, factors).
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
    /// The model.
    pub model: Hybrid,
    /// Per user: mean score and norm of the centred scores (for similar users), made on first
    /// use.
    pub(crate) user_stats: std::sync::OnceLock<Vec<(f32, f32)>>,
}

/// One array to store.
struct Array {
    name: &'static str,
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

fn array<T: bytemuck::Pod>(
    name: &'static str,
    dtype: Dtype,
    shape: Vec<usize>,
    data: &[T],
) -> Array {
    Array {
        name,
        dtype,
        shape,
        bytes: bytemuck::cast_slice(data).to_vec(),
    }
}

fn ratings_crc(r: &Ratings) -> u32 {
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
                ratings_crc32: ratings_crc(&ratings),
            },
            files: BTreeMap::new(),
        };
        Bundle {
            manifest,
            catalogue,
            ratings,
            model,
            user_stats: Default::default(),
        }
    }

    fn arrays(&self) -> Vec<Array> {
        let m = &self.model;
        let r = &m.rating;
        let n_items = m.ease.items().len();
        let f = r.mf.params.factors;
        let terms: Vec<u8> = m.content.terms.join("\0").into_bytes();
        let users = self.ratings.by_user();
        let mut out = vec![
            array("ease.items", Dtype::U32, vec![n_items], m.ease.items()),
            array(
                "ease.weights",
                Dtype::F32,
                vec![n_items, n_items],
                m.ease.weights(),
            ),
            array(
                "baseline.user",
                Dtype::F32,
                vec![r.baselines.user.len()],
                &r.baselines.user,
            ),
            array(
                "baseline.item",
                Dtype::F32,
                vec![r.baselines.item.len()],
                &r.baselines.item,
            ),
            array(
                "baseline.item_prior",
                Dtype::F32,
                vec![r.baselines.item_prior.len()],
                &r.baselines.item_prior,
            ),
            array(
                "knn.offsets",
                Dtype::U32,
                vec![r.knn.offsets.len()],
                &r.knn.offsets,
            ),
            array(
                "knn.neighbors",
                Dtype::U32,
                vec![r.knn.neighbors.len()],
                &r.knn.neighbors,
            ),
            array("knn.sims", Dtype::F32, vec![r.knn.sims.len()], &r.knn.sims),
            array(
                "mf.user_bias",
                Dtype::F32,
                vec![r.mf.user_bias.len()],
                &r.mf.user_bias,
            ),
            array(
                "mf.item_bias",
                Dtype::F32,
                vec![r.mf.item_bias.len()],
                &r.mf.item_bias,
            ),
            array(
                "mf.item_prior",
                Dtype::F32,
                vec![r.mf.item_prior.len()],
                &r.mf.item_prior,
            ),
            array(
                "mf.user_factors",
                Dtype::F32,
                vec![r.mf.user_factors.len() / f.max(1), f],
                &r.mf.user_factors,
            ),
            array(
                "mf.item_factors",
                Dtype::F32,
                vec![r.mf.item_factors.len() / f.max(1), f],
                &r.mf.item_factors,
            ),
            array("content.terms", Dtype::U8, vec![terms.len()], &terms),
            array(
                "content.idf",
                Dtype::F32,
                vec![m.content.idf.len()],
                &m.content.idf,
            ),
            array(
                "content.offsets",
                Dtype::U32,
                vec![m.content.offsets.len()],
                &m.content.offsets,
            ),
            array(
                "content.term_ids",
                Dtype::U32,
                vec![m.content.term_ids.len()],
                &m.content.term_ids,
            ),
            array(
                "content.values",
                Dtype::F32,
                vec![m.content.values.len()],
                &m.content.values,
            ),
            array(
                "popularity",
                Dtype::F32,
                vec![m.popularity.len()],
                &m.popularity,
            ),
            array("exposure", Dtype::F32, vec![m.exposure.len()], &m.exposure),
            array(
                "users.ids",
                Dtype::U32,
                vec![self.ratings.n_users()],
                self.ratings.user_ids(),
            ),
            array(
                "users.indptr",
                Dtype::U64,
                vec![users.indptr.len()],
                &users.indptr,
            ),
            array(
                "users.indices",
                Dtype::U32,
                vec![users.indices.len()],
                &users.indices,
            ),
            array(
                "users.ratings",
                Dtype::U8,
                vec![users.ratings.len()],
                &users.ratings,
            ),
        ];
        if !users.status.is_empty() {
            out.push(array(
                "users.status",
                Dtype::U8,
                vec![users.status.len()],
                &users.status,
            ));
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
            .map(|a| TensorView::new(a.dtype, a.shape.clone(), &a.bytes).map(|v| (a.name, v)))
            .collect::<Result<_, _>>()
            .map_err(|e| fail(format!("packing arrays: {e}")))?;
        // One metadata key, so the file is byte-for-byte reproducible (the map's order is not).
        let meta = HashMap::from([("format".to_owned(), format!("anirec/{FORMAT_VERSION}"))]);
        let tensors = safetensors::serialize(views, Some(meta))
            .map_err(|e| fail(format!("packing arrays: {e}")))?;
        let catalogue = serde_json::to_vec(&self.catalogue).map_err(|e| fail(e.to_string()))?;
        let mut manifest = self.manifest.clone();
        manifest.files.clear();
        for (name, bytes) in [(TENSORS, &tensors), (CATALOGUE, &catalogue)] {
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

        anirec_data::atomic::write_dir(
            dir,
            &[
                (TENSORS, &tensors),
                (CATALOGUE, &catalogue),
                (MANIFEST, &manifest_json),
            ],
        )
        .map_err(|e| fail(format!("writing: {e}")))?;
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
        let arrays = Arrays { st: &st, dir };
        let bundle = assemble(manifest, catalogue, &arrays);
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

/// Typed access to the stored arrays.
struct Arrays<'a> {
    st: &'a SafeTensors<'a>,
    dir: &'a Path,
}

impl Arrays<'_> {
    fn get<T: bytemuck::Pod>(&self, name: &str, dtype: Dtype) -> Result<Vec<T>, BundleError> {
        let fail = |m: String| BundleError {
            path: self.dir.to_owned(),
            message: m,
        };
        let view = self
            .st
            .tensor(name)
            .map_err(|e| fail(format!("array {name}: {e}")))?;
        if view.dtype() != dtype {
            return Err(fail(format!(
                "array {name} is {:?}, expected {dtype:?}",
                view.dtype()
            )));
        }
        Ok(bytemuck::pod_collect_to_vec(view.data()))
    }

    fn has(&self, name: &str) -> bool {
        self.st.tensor(name).is_ok()
    }
}

fn assemble(manifest: Manifest, catalogue: Catalogue, a: &Arrays) -> Result<Bundle, BundleError> {
    // The users' ratings (with their transpose) and the model's arrays are independent: both
    // halves are copied and checked at once.
    let n_anime = catalogue.len();
    let (ratings, model) = rayon::join(
        || assemble_ratings(&manifest, n_anime, a),
        || assemble_model(&manifest, n_anime, a),
    );
    let (ratings, model) = (ratings?, model?);
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
        user_stats: Default::default(),
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
        status: if a.has("users.status") {
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
    if ratings_crc(&ratings) != manifest.data.ratings_crc32 {
        return Err(fail(
            "the users' ratings do not match the manifest's data checksum",
        ));
    }
    Ok(ratings)
}

/// The model's arrays (per-user lengths are checked by [`assemble`]).
fn assemble_model(manifest: &Manifest, n_anime: usize, a: &Arrays) -> Result<Hybrid, BundleError> {
    let fail = |m: &str| BundleError {
        path: a.dir.to_owned(),
        message: m.to_owned(),
    };
    let s = &manifest.rating;
    let per_anime = |v: &Vec<f32>, name: &str| {
        if v.len() == n_anime {
            Ok(())
        } else {
            Err(fail(&format!(
                "array {name} does not have one value per anime"
            )))
        }
    };
    let baselines = Baselines {
        mu: s.mu,
        user: a.get("baseline.user", Dtype::F32)?,
        item: a.get("baseline.item", Dtype::F32)?,
        item_prior: a.get("baseline.item_prior", Dtype::F32)?,
        params: s.baseline,
    };
    per_anime(&baselines.item, "baseline.item")?;
    per_anime(&baselines.item_prior, "baseline.item_prior")?;
    let knn = ItemKnn {
        offsets: a.get("knn.offsets", Dtype::U32)?,
        neighbors: a.get("knn.neighbors", Dtype::U32)?,
        sims: a.get("knn.sims", Dtype::F32)?,
        params: s.knn,
    };
    let knn_ok = knn.offsets.len() == n_anime + 1
        && knn.offsets.last().copied() == Some(knn.neighbors.len() as u32)
        && knn.offsets.windows(2).all(|w| w[0] <= w[1])
        && knn.sims.len() == knn.neighbors.len()
        && knn.neighbors.iter().all(|&j| (j as usize) < n_anime);
    if !knn_ok {
        return Err(fail("the neighbourhood arrays are inconsistent"));
    }
    let f = s.mf.factors;
    let mf = Mf {
        params: s.mf,
        mu: s.mf_mu,
        user_bias: a.get("mf.user_bias", Dtype::F32)?,
        item_bias: a.get("mf.item_bias", Dtype::F32)?,
        item_prior: a.get("mf.item_prior", Dtype::F32)?,
        user_factors: a.get("mf.user_factors", Dtype::F32)?,
        item_factors: a.get("mf.item_factors", Dtype::F32)?,
        epochs: s.epochs,
    };
    per_anime(&mf.item_bias, "mf.item_bias")?;
    if mf.item_factors.len() != n_anime * f {
        return Err(fail(
            "the factor arrays do not match the numbers of anime and factors",
        ));
    }
    if s.blend.len() != 4 {
        return Err(fail("the rating blend needs 4 weights"));
    }
    let rating = RatingModel {
        params: manifest.params.rating,
        baselines,
        knn,
        mf,
        blend: s.blend.clone(),
        validation: s.validation,
        epochs: s.epochs,
    };
    let ease = Ease::from_parts(
        a.get("ease.items", Dtype::U32)?,
        a.get("ease.weights", Dtype::F32)?,
        n_anime,
        manifest.params.ease,
    )
    .ok_or_else(|| fail("the EASE arrays are inconsistent"))?;
    let terms_bytes: Vec<u8> = a.get("content.terms", Dtype::U8)?;
    let terms: Vec<String> = String::from_utf8(terms_bytes)
        .map_err(|_| fail("content.terms is not UTF-8"))?
        .split('\0')
        .map(str::to_owned)
        .collect();
    let content = ContentModel::from_parts(
        manifest.params.content,
        terms,
        a.get("content.idf", Dtype::F32)?,
        a.get("content.offsets", Dtype::U32)?,
        a.get("content.term_ids", Dtype::U32)?,
        a.get("content.values", Dtype::F32)?,
    )
    .filter(|c| c.len() == n_anime)
    .ok_or_else(|| fail("the content arrays are inconsistent"))?;
    let popularity = a.get("popularity", Dtype::F32)?;
    let exposure = a.get("exposure", Dtype::F32)?;
    per_anime(&popularity, "popularity")?;
    per_anime(&exposure, "exposure")?;
    let model = Hybrid {
        params: manifest.params,
        ease,
        rating,
        content,
        popularity,
        exposure,
        weights: manifest.weights,
        validation: manifest.validation,
    };
    Ok(model)
}
