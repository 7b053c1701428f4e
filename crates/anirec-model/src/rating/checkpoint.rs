//! Factor-training checkpoints: a [`FactorProgress`] in one safetensors file (arrays as tensors,
//! scalars in its metadata), written atomically after each epoch so `anirec train --resume` can
//! continue an interrupted run exactly.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use super::mf::Mf;
use super::model::{FactorProgress, Phase};

/// A checkpoint that could not be written or read.
#[derive(Debug, thiserror::Error)]
#[error("checkpoint {path}: {message}")]
pub struct CheckpointError {
    /// The checkpoint file.
    pub path: PathBuf,
    /// What was wrong.
    pub message: String,
}

/// Writes `progress` to `path` (atomically).
pub fn save(progress: &FactorProgress, path: &Path) -> Result<(), CheckpointError> {
    let fail = |m: String| CheckpointError {
        path: path.to_owned(),
        message: m,
    };
    let mut arrays: Vec<(String, Vec<usize>, &[f32])> = Vec::new();
    for (prefix, mf) in [("current", &progress.current), ("best", &progress.best)] {
        let f = mf.params.factors.max(1);
        arrays.push((
            format!("{prefix}.user_bias"),
            vec![mf.user_bias.len()],
            &mf.user_bias,
        ));
        arrays.push((
            format!("{prefix}.item_bias"),
            vec![mf.item_bias.len()],
            &mf.item_bias,
        ));
        arrays.push((
            format!("{prefix}.item_prior"),
            vec![mf.item_prior.len()],
            &mf.item_prior,
        ));
        arrays.push((
            format!("{prefix}.user_factors"),
            vec![mf.user_factors.len() / f, f],
            &mf.user_factors,
        ));
        arrays.push((
            format!("{prefix}.item_factors"),
            vec![mf.item_factors.len() / f, f],
            &mf.item_factors,
        ));
    }
    let views: Vec<(String, TensorView)> = arrays
        .iter()
        .map(|(name, shape, data)| {
            TensorView::new(Dtype::F32, shape.clone(), bytemuck::cast_slice(data))
                .map(|v| (name.clone(), v))
        })
        .collect::<Result<_, _>>()
        .map_err(|e| fail(e.to_string()))?;
    let mut meta = HashMap::new();
    meta.insert(
        "phase".into(),
        serde_json::to_string(&progress.phase).map_err(|e| fail(e.to_string()))?,
    );
    meta.insert("best_rmse".into(), progress.best_rmse.to_string());
    meta.insert("anchor_rmse".into(), progress.anchor_rmse.to_string());
    meta.insert("since_best".into(), progress.since_best.to_string());
    for (prefix, mf) in [("current", &progress.current), ("best", &progress.best)] {
        meta.insert(
            format!("{prefix}.params"),
            serde_json::to_string(&mf.params).map_err(|e| fail(e.to_string()))?,
        );
        meta.insert(format!("{prefix}.mu"), mf.mu.to_string());
        meta.insert(format!("{prefix}.epochs"), mf.epochs.to_string());
    }
    let bytes = safetensors::serialize(views, Some(meta)).map_err(|e| fail(e.to_string()))?;
    anirec_data::atomic::write_file(path, |out| std::io::Write::write_all(out, &bytes))
        .map_err(|e| fail(e.to_string()))
}

/// Reads a checkpoint written by [`save`].
pub fn load(path: &Path) -> Result<FactorProgress, CheckpointError> {
    let fail = |m: String| CheckpointError {
        path: path.to_owned(),
        message: m,
    };
    let bytes = std::fs::read(path).map_err(|e| fail(format!("reading: {e}")))?;
    let (_, header) =
        SafeTensors::read_metadata(&bytes).map_err(|e| fail(format!("not a checkpoint: {e}")))?;
    let st =
        SafeTensors::deserialize(&bytes).map_err(|e| fail(format!("not a checkpoint: {e}")))?;
    let meta = header.metadata().clone().unwrap_or_default();
    let get = |key: &str| {
        meta.get(key)
            .cloned()
            .ok_or_else(|| fail(format!("missing {key}")))
    };
    let num = |key: &str| -> Result<f64, CheckpointError> {
        get(key)?
            .parse::<f64>()
            .map_err(|_| fail(format!("{key} is not a number")))
    };
    let array = |name: &str| -> Result<Vec<f32>, CheckpointError> {
        let view = st.tensor(name).map_err(|e| fail(format!("{name}: {e}")))?;
        if view.dtype() != Dtype::F32 {
            return Err(fail(format!("{name} is not f32")));
        }
        Ok(bytemuck::pod_collect_to_vec(view.data()))
    };
    let mf = |prefix: &str| -> Result<Mf, CheckpointError> {
        Ok(Mf {
            params: serde_json::from_str(&get(&format!("{prefix}.params"))?)
                .map_err(|e| fail(e.to_string()))?,
            mu: num(&format!("{prefix}.mu"))? as f32,
            user_bias: array(&format!("{prefix}.user_bias"))?,
            item_bias: array(&format!("{prefix}.item_bias"))?,
            item_prior: array(&format!("{prefix}.item_prior"))?,
            user_factors: array(&format!("{prefix}.user_factors"))?,
            item_factors: array(&format!("{prefix}.item_factors"))?,
            epochs: num(&format!("{prefix}.epochs"))? as usize,
        })
    };
    let phase: Phase = serde_json::from_str(&get("phase")?).map_err(|e| fail(e.to_string()))?;
    Ok(FactorProgress {
        phase,
        current: mf("current")?,
        best: mf("best")?,
        best_rmse: num("best_rmse")?,
        anchor_rmse: num("anchor_rmse")?,
        since_best: num("since_best")? as usize,
    })
}
