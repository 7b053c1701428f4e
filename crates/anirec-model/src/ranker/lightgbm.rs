//! LightGBM, as the ranker uses it: training a LambdaMART model on query groups (a small safe
//! wrapper over `lightgbm3-sys`, since `lightgbm3`'s `Dataset` has no setter for groups), and a
//! trained model's predictions and per-feature contributions (`lightgbm3`'s `Booster`).
//!
//! The model is LightGBM's own text format, so Python's LightGBM reads what we save.

use std::ffi::{CStr, CString, c_char, c_void};
use std::sync::Mutex;

use lightgbm3_sys as sys;

/// A LightGBM call that failed: what we asked and what LightGBM said.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("LightGBM {call}: {message}")]
pub struct LightGbmError {
    /// The C API function.
    pub call: &'static str,
    /// LightGBM's last error message.
    pub message: String,
}

/// Turns a C API return code into a result, with LightGBM's last error message.
fn check(call: &'static str, code: i32) -> Result<(), LightGbmError> {
    if code == 0 {
        return Ok(());
    }
    // SAFETY: LGBM_GetLastError returns a pointer to a NUL-terminated, thread-local buffer.
    let message = unsafe { CStr::from_ptr(sys::LGBM_GetLastError()) }
        .to_string_lossy()
        .into_owned();
    Err(LightGbmError { call, message })
}

fn c_string(text: &str) -> CString {
    CString::new(text).expect("LightGBM parameters and names hold no NUL")
}

/// Rows of features grouped by query (one query per user), with a relevance label per row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Groups {
    /// Row-major features, `features` per row.
    pub rows: Vec<f32>,
    /// One label per row (0 not relevant, 1 relevant).
    pub labels: Vec<f32>,
    /// Rows per query, in order.
    pub sizes: Vec<i32>,
}

impl Groups {
    /// Appends one query's rows (`rows.len()` a multiple of the feature count) and labels.
    pub fn push(&mut self, rows: &[f32], labels: &[f32]) {
        self.rows.extend_from_slice(rows);
        self.labels.extend_from_slice(labels);
        self.sizes.push(labels.len() as i32);
    }

    /// Rows held.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether no row is held.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

/// A LightGBM dataset handle, freed on drop.
struct Dataset(sys::DatasetHandle);

impl Dataset {
    /// A dataset of `groups` with `names` as feature names, binned as `reference` is (for a
    /// validation set) or on its own.
    fn of(
        groups: &Groups,
        names: &[&str],
        params: &str,
        reference: Option<&Dataset>,
    ) -> Result<Dataset, LightGbmError> {
        let n_features = names.len() as i32;
        let params = c_string(params);
        let mut handle: sys::DatasetHandle = std::ptr::null_mut();
        // SAFETY: `rows` holds `len() × n_features` floats, row-major; LightGBM copies them.
        check("DatasetCreateFromMat", unsafe {
            sys::LGBM_DatasetCreateFromMat(
                groups.rows.as_ptr() as *const c_void,
                sys::C_API_DTYPE_FLOAT32 as i32,
                groups.len() as i32,
                n_features,
                1,
                params.as_ptr(),
                reference.map_or(std::ptr::null_mut(), |r| r.0),
                &mut handle,
            )
        })?;
        let dataset = Dataset(handle);
        // One label (f32) per row and one size (i32) per group.
        dataset.set_field("label", &groups.labels, sys::C_API_DTYPE_FLOAT32)?;
        dataset.set_field("group", &groups.sizes, sys::C_API_DTYPE_INT32)?;
        let names: Vec<CString> = names.iter().map(|n| c_string(n)).collect();
        let pointers: Vec<*const c_char> = names.iter().map(|n| n.as_ptr()).collect();
        // SAFETY: `pointers` holds `n_features` NUL-terminated names that outlive the call.
        check("DatasetSetFeatureNames", unsafe {
            sys::LGBM_DatasetSetFeatureNames(dataset.0, pointers.as_ptr() as *mut _, n_features)
        })?;
        Ok(dataset)
    }
}

impl Dataset {
    /// Sets the field `name` to `values`, of LightGBM's type `dtype` (which must be `T`'s).
    fn set_field<T>(&self, name: &str, values: &[T], dtype: u32) -> Result<(), LightGbmError> {
        let c_name = c_string(name);
        // SAFETY: `values` holds `len()` elements of the type `dtype` names; LightGBM copies
        // them before returning.
        check("DatasetSetField", unsafe {
            sys::LGBM_DatasetSetField(
                self.0,
                c_name.as_ptr(),
                values.as_ptr() as *const c_void,
                values.len() as i32,
                dtype as i32,
            )
        })
    }
}

impl Drop for Dataset {
    fn drop(&mut self) {
        // SAFETY: the handle came from LGBM_DatasetCreateFromMat and is freed once.
        unsafe { sys::LGBM_DatasetFree(self.0) };
    }
}

/// A booster being trained, freed on drop.
struct Training(sys::BoosterHandle);

impl Drop for Training {
    fn drop(&mut self) {
        // SAFETY: the handle came from LGBM_BoosterCreate and is freed once.
        unsafe { sys::LGBM_BoosterFree(self.0) };
    }
}

/// What training gave: the model text at its best iteration and how validation went.
#[derive(Debug, Clone, PartialEq)]
pub struct Trained {
    /// The model in LightGBM's text format, cut at the best iteration.
    pub text: String,
    /// The validation metric after each iteration.
    pub curve: Vec<f64>,
    /// The iteration (1-based) with the best validation metric.
    pub best_iteration: usize,
    /// Total gain of each feature's splits in the kept trees.
    pub gain: Vec<f64>,
}

/// Trains on `train`, stopping when the first validation metric (`params` sets it) has not
/// improved for `patience` iterations or after `iterations`. Feature names are `names`.
pub fn train(
    train: &Groups,
    valid: &Groups,
    names: &[&str],
    params: &str,
    iterations: usize,
    patience: usize,
) -> Result<Trained, LightGbmError> {
    let train_set = Dataset::of(train, names, params, None)?;
    let valid_set = Dataset::of(valid, names, params, Some(&train_set))?;
    let c_params = c_string(params);
    let mut handle: sys::BoosterHandle = std::ptr::null_mut();
    // SAFETY: the datasets are alive for the booster's lifetime (dropped after it, below).
    check("BoosterCreate", unsafe {
        sys::LGBM_BoosterCreate(train_set.0, c_params.as_ptr(), &mut handle)
    })?;
    let booster = Training(handle);
    check("BoosterAddValidData", unsafe {
        sys::LGBM_BoosterAddValidData(booster.0, valid_set.0)
    })?;
    let mut counts = 0;
    check("BoosterGetEvalCounts", unsafe {
        sys::LGBM_BoosterGetEvalCounts(booster.0, &mut counts)
    })?;
    let mut results = vec![0f64; counts.max(1) as usize];
    let mut curve = Vec::new();
    let (mut best, mut best_iteration) = (f64::NEG_INFINITY, 0);
    for iteration in 1..=iterations {
        let mut finished = 0;
        check("BoosterUpdateOneIter", unsafe {
            sys::LGBM_BoosterUpdateOneIter(booster.0, &mut finished)
        })?;
        let mut len = 0;
        // SAFETY: `results` has room for every metric (LGBM_BoosterGetEvalCounts).
        check("BoosterGetEval", unsafe {
            sys::LGBM_BoosterGetEval(booster.0, 1, &mut len, results.as_mut_ptr())
        })?;
        let metric = results[0];
        curve.push(metric);
        // A later iteration as good as the best is kept: the held-out metric saw no harm in
        // its trees, which a small or easy validation set cannot tell apart.
        if metric >= best {
            (best, best_iteration) = (metric, iteration);
        }
        if finished != 0 || iteration - best_iteration >= patience {
            break;
        }
    }
    let text = model_text(&booster, best_iteration)?;
    let mut gain = vec![0f64; names.len()];
    check("BoosterFeatureImportance", unsafe {
        sys::LGBM_BoosterFeatureImportance(
            booster.0,
            best_iteration as i32,
            sys::C_API_FEATURE_IMPORTANCE_GAIN as i32,
            gain.as_mut_ptr(),
        )
    })?;
    drop(booster);
    drop(valid_set);
    drop(train_set);
    Ok(Trained {
        text,
        curve,
        best_iteration,
        gain,
    })
}

/// The booster's first `iterations` trees in LightGBM's text format.
fn model_text(booster: &Training, iterations: usize) -> Result<String, LightGbmError> {
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let mut len: i64 = 0;
        // SAFETY: LightGBM writes at most `buffer.len()` bytes and says how many it needed.
        check("BoosterSaveModelToString", unsafe {
            sys::LGBM_BoosterSaveModelToString(
                booster.0,
                0,
                iterations as i32,
                sys::C_API_FEATURE_IMPORTANCE_GAIN as i32,
                buffer.len() as i64,
                &mut len,
                buffer.as_mut_ptr() as *mut c_char,
            )
        })?;
        if (len as usize) <= buffer.len() {
            buffer.truncate((len as usize).saturating_sub(1));
            return Ok(String::from_utf8_lossy(&buffer).into_owned());
        }
        buffer = vec![0u8; len as usize];
    }
}

/// A trained model, ready to score rows.
///
/// LightGBM documents prediction on one booster from several threads as thread-safe, but
/// creating its predictor writes shared fields (LightGBM issue 6142), so calls are serialised
/// here; a call over a user's few hundred candidates takes well under a millisecond.
pub struct Model {
    booster: Mutex<lightgbm3::Booster>,
    n_features: usize,
}

// SAFETY: the booster's handle is only used under the mutex, and LightGBM's booster has no
// thread affinity.
unsafe impl Send for Model {}
// SAFETY: as above: every use goes through the mutex.
unsafe impl Sync for Model {}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("n_features", &self.n_features)
            .finish_non_exhaustive()
    }
}

impl Model {
    /// Loads a model from LightGBM's text format; it must take `n_features` features.
    pub fn parse(text: &str, n_features: usize) -> Result<Model, LightGbmError> {
        let booster = lightgbm3::Booster::from_string(text).map_err(|e| LightGbmError {
            call: "BoosterLoadModelFromString",
            message: e.to_string(),
        })?;
        if booster.num_features() as usize != n_features {
            return Err(LightGbmError {
                call: "BoosterLoadModelFromString",
                message: format!(
                    "the model takes {} features, the ranker {n_features}",
                    booster.num_features()
                ),
            });
        }
        Ok(Model {
            booster: Mutex::new(booster),
            n_features,
        })
    }

    fn booster(&self) -> std::sync::MutexGuard<'_, lightgbm3::Booster> {
        // A panic while predicting leaves the booster as it was: the lock can be taken again.
        self.booster.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One score per row of `rows` (row-major, the model's feature count per row): LightGBM's
    /// own, which the tests hold the ranker's tree walk to.
    #[cfg(test)]
    pub fn predict(&self, rows: &[f32]) -> Result<Vec<f64>, LightGbmError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        self.booster()
            .predict_with_params(rows, self.n_features as i32, true, "num_threads=1")
            .map_err(|e| LightGbmError {
                call: "BoosterPredictForMat",
                message: e.to_string(),
            })
    }

    /// Each row's per-feature contributions (SHAP values), `n_features + 1` per row (the last
    /// is the expected value).
    pub fn contributions(&self, rows: &[f32]) -> Result<Vec<f64>, LightGbmError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        self.booster()
            .predict_contrib(rows, self.n_features as i32, true)
            .map_err(|e| LightGbmError {
                call: "BoosterPredictForMat(contrib)",
                message: e.to_string(),
            })
    }
}
