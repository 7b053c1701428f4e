//! Embeddings kept between runs: one safetensors file per encoder fingerprint, holding each
//! text's SHA-256 and its embedding. A retrain on the same catalogue embeds nothing; a catalogue
//! with a few new or changed synopses embeds only those. A missing, unreadable or corrupt cache
//! costs a recomputation, never a failed training.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use sha2::{Digest, Sha256};

use crate::encoder::Encoder;
use crate::error::EncoderError;

/// Embeddings of texts, with what the cache saved.
#[derive(Debug, Clone, PartialEq)]
pub struct Embedded {
    /// One row of the encoder's dimension per text, in order.
    pub rows: Vec<f32>,
    /// Texts whose embedding came from the cache.
    pub reused: usize,
    /// Texts embedded now.
    pub computed: usize,
    /// Why the cache could not be read or written, when it could not (the embeddings are
    /// still complete).
    pub cache_warning: Option<String>,
}

type TextHash = [u8; 32];

/// The cache of one encoder in a folder.
#[derive(Debug, Clone)]
pub struct EmbeddingCache {
    file: PathBuf,
}

impl EmbeddingCache {
    /// The cache of `encoder` in `dir` (created when first written).
    pub fn new(dir: &Path, encoder: &Encoder) -> EmbeddingCache {
        EmbeddingCache {
            file: dir.join(format!("{}.safetensors", encoder.fingerprint())),
        }
    }

    /// The cache file.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Embeds `texts`, reusing cached rows and storing the new ones. `progress` is called after
    /// each batch with the texts it embedded and the number of texts to embed in all (reused
    /// texts are not counted).
    pub fn embed(
        &self,
        encoder: &Encoder,
        texts: &[&str],
        mut progress: impl FnMut(usize, usize),
    ) -> Result<Embedded, EncoderError> {
        let dim = encoder.dim();
        let (mut known, mut warning) = match self.read(dim) {
            Ok(known) => (known, None),
            Err(why) => (HashMap::new(), why),
        };
        let hashes: Vec<TextHash> = texts.iter().map(|t| Sha256::digest(t).into()).collect();
        let missing: Vec<usize> = (0..texts.len())
            .filter(|&i| !known.contains_key(&hashes[i]))
            .collect();
        let todo: Vec<&str> = missing.iter().map(|&i| texts[i]).collect();
        let fresh = encoder.embed(&todo, |n| progress(n, todo.len()))?;
        for (&i, row) in missing.iter().zip(fresh.chunks_exact(dim)) {
            known.insert(hashes[i], row.to_vec());
        }
        let mut rows = Vec::with_capacity(texts.len() * dim);
        for hash in &hashes {
            rows.extend_from_slice(&known[hash]);
        }
        if !missing.is_empty()
            && let Err(e) = self.write(&known, dim)
        {
            warning = Some(format!("could not write {}: {e}", self.file.display()));
        }
        Ok(Embedded {
            rows,
            reused: texts.len() - missing.len(),
            computed: missing.len(),
            cache_warning: warning,
        })
    }

    /// The cached rows by text hash; `Err(None)` when there is no cache yet, `Err(Some(why))`
    /// when it is unusable.
    fn read(&self, dim: usize) -> Result<HashMap<TextHash, Vec<f32>>, Option<String>> {
        let bytes = match std::fs::read(&self.file) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(None),
            Err(e) => return Err(Some(format!("could not read {}: {e}", self.file.display()))),
        };
        let unusable = |why: String| Some(format!("ignored {}: {why}", self.file.display()));
        let st = SafeTensors::deserialize(&bytes).map_err(|e| unusable(e.to_string()))?;
        let hashes = st.tensor("hashes").map_err(|e| unusable(e.to_string()))?;
        let vectors = st.tensor("vectors").map_err(|e| unusable(e.to_string()))?;
        let n = hashes.shape().first().copied().unwrap_or(0);
        if hashes.dtype() != Dtype::U8
            || vectors.dtype() != Dtype::F32
            || hashes.shape() != [n, 32]
            || vectors.shape() != [n, dim]
        {
            return Err(unusable("unexpected array shapes".into()));
        }
        let values: Vec<f32> = vectors
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        Ok(hashes
            .data()
            .chunks_exact(32)
            .zip(values.chunks_exact(dim))
            .map(|(h, row)| {
                let mut hash = [0; 32];
                hash.copy_from_slice(h);
                (hash, row.to_vec())
            })
            .collect())
    }

    /// Writes every known row, atomically (a temporary file renamed into place).
    fn write(&self, known: &HashMap<TextHash, Vec<f32>>, dim: usize) -> std::io::Result<()> {
        let mut entries: Vec<(&TextHash, &Vec<f32>)> = known.iter().collect();
        entries.sort_unstable_by_key(|(h, _)| *h);
        let hashes: Vec<u8> = entries
            .iter()
            .flat_map(|(h, _)| h.iter().copied())
            .collect();
        let vectors: Vec<u8> = entries
            .iter()
            .flat_map(|(_, row)| row.iter().flat_map(|x| x.to_le_bytes()))
            .collect();
        let n = entries.len();
        let invalid = |e: safetensors::SafeTensorError| std::io::Error::other(e.to_string());
        let views = [
            (
                "hashes",
                TensorView::new(Dtype::U8, vec![n, 32], &hashes).map_err(invalid)?,
            ),
            (
                "vectors",
                TensorView::new(Dtype::F32, vec![n, dim], &vectors).map_err(invalid)?,
            ),
        ];
        let bytes = safetensors::serialize(views, None).map_err(invalid)?;
        let dir = self.file.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let temp = self.file.with_extension("safetensors.tmp");
        std::fs::write(&temp, bytes)?;
        std::fs::rename(&temp, &self.file)
    }
}
