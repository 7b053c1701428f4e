//! The sentence encoder: a BERT model in the Hugging Face folder layout (all-MiniLM-L6-v2 by
//! default), run on the CPU with candle, turning texts into L2-normalised sentence embeddings
//! exactly as sentence-transformers does (word pieces cut at the model's limit, mean of the last
//! hidden states over the real tokens, then L2 normalisation).

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use sha2::{Digest, Sha256};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use crate::error::EncoderError;

/// Texts longer than this many characters are cut before tokenising. The model reads at most
/// [`Encoder::max_tokens`] word pieces (256 for all-MiniLM-L6-v2), which even short words
/// exhaust well before this length; the cut only bounds the tokeniser's work on huge inputs.
pub const MAX_TEXT_CHARS: usize = 4096;

/// Texts encoded together in one forward pass: sorted by length first, so each batch pads to
/// nearly its own length.
const BATCH: usize = 16;

/// Word pieces read when the folder has no `sentence_bert_config.json`.
const DEFAULT_MAX_TOKENS: usize = 256;

/// A loaded sentence encoder.
pub struct Encoder {
    model: BertModel,
    tokenizer: Tokenizer,
    max_tokens: usize,
    dim: usize,
    fingerprint: String,
    dir: PathBuf,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder")
            .field("dir", &self.dir)
            .field("dim", &self.dim)
            .field("max_tokens", &self.max_tokens)
            .finish()
    }
}

impl Encoder {
    /// Loads the encoder in `dir`: `config.json`, `tokenizer.json`, `model.safetensors` and,
    /// when present, `sentence_bert_config.json` (its `max_seq_length`). Every error names the
    /// file that is missing or wrong.
    pub fn load(dir: &Path) -> Result<Encoder, EncoderError> {
        let config_path = dir.join("config.json");
        let config_text = read_text(&config_path)?;
        let config: Config =
            serde_json::from_str(&config_text).map_err(|e| EncoderError::Invalid {
                path: config_path.clone(),
                message: e.to_string(),
            })?;
        let max_tokens = read_max_tokens(dir, &config)?;

        let tokenizer_path = dir.join("tokenizer.json");
        let tokenizer_bytes = read_bytes(&tokenizer_path)?;
        let mut tokenizer =
            Tokenizer::from_bytes(&tokenizer_bytes).map_err(|e| EncoderError::Invalid {
                path: tokenizer_path.clone(),
                message: e.to_string(),
            })?;
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: max_tokens,
                ..Default::default()
            }))
            .map_err(|e| EncoderError::Invalid {
                path: tokenizer_path.clone(),
                message: e.to_string(),
            })?;
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            pad_id: config.pad_token_id as u32,
            ..Default::default()
        }));

        let weights_path = dir.join("model.safetensors");
        let weights = read_bytes(&weights_path)?;
        let mut hash = Sha256::new();
        for part in [config_text.as_bytes(), &tokenizer_bytes, &weights] {
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part);
        }
        hash.update((max_tokens as u64).to_le_bytes());
        let fingerprint = hex(&hash.finalize()[..16]);

        let invalid_weights = |e: candle_core::Error| EncoderError::Invalid {
            path: weights_path.clone(),
            message: e.to_string(),
        };
        let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, &Device::Cpu)
            .map_err(invalid_weights)?;
        let model = BertModel::load(vb, &config).map_err(invalid_weights)?;

        Ok(Encoder {
            model,
            tokenizer,
            max_tokens,
            dim: config.hidden_size,
            fingerprint,
            dir: dir.to_path_buf(),
        })
    }

    /// Length of each embedding (384 for all-MiniLM-L6-v2).
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Most word pieces read from one text, [CLS] and [SEP] included.
    pub fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    /// A digest of the encoder's files and settings: two encoders with the same fingerprint
    /// give the same embeddings, so cached embeddings are keyed by it.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The folder the encoder was loaded from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Embeds one text (see [`Encoder::embed`]).
    pub fn embed_one(&self, text: &str) -> Result<Vec<f32>, EncoderError> {
        self.embed(&[text], |_| {})
    }

    /// Embeds texts: one row of [`Encoder::dim`] numbers per text, in their order, one after
    /// another. Calls `progress` with the number of texts done after each batch. Texts are cut at [`MAX_TEXT_CHARS`] characters and [`Encoder::max_tokens`]
    /// word pieces; an empty text gets the embedding of "[CLS] [SEP]", as in the reference.
    pub fn embed(
        &self,
        texts: &[&str],
        mut progress: impl FnMut(usize),
    ) -> Result<Vec<f32>, EncoderError> {
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| texts[i].len());
        let mut out = vec![0.0; texts.len() * self.dim];
        for batch in order.chunks(BATCH) {
            let inputs: Vec<&str> = batch.iter().map(|&i| cut(texts[i])).collect();
            let pooled = self.forward(&inputs)?;
            for (row, &i) in pooled.chunks_exact(self.dim).zip(batch) {
                out[i * self.dim..(i + 1) * self.dim].copy_from_slice(row);
            }
            progress(batch.len());
        }
        Ok(out)
    }

    /// One forward pass over a batch: mean-pooled, L2-normalised rows, flattened.
    fn forward(&self, texts: &[&str]) -> Result<Vec<f32>, EncoderError> {
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| EncoderError::Run(format!("tokenising: {e}")))?;
        let len = encodings.first().map_or(0, |e| e.len());
        let mut ids = Vec::with_capacity(texts.len() * len);
        let mut mask = Vec::with_capacity(texts.len() * len);
        for e in &encodings {
            ids.extend_from_slice(e.get_ids());
            mask.extend_from_slice(e.get_attention_mask());
        }
        let run = |e: candle_core::Error| EncoderError::Run(e.to_string());
        let shape = (texts.len(), len);
        let ids = Tensor::from_vec(ids, shape, &Device::Cpu).map_err(run)?;
        let mask = Tensor::from_vec(mask, shape, &Device::Cpu).map_err(run)?;
        let types = ids.zeros_like().map_err(run)?;
        let hidden = self.model.forward(&ids, &types, Some(&mask)).map_err(run)?;
        let mask = mask
            .to_dtype(DType::F32)
            .map_err(run)?
            .unsqueeze(2)
            .map_err(run)?;
        let summed = hidden
            .broadcast_mul(&mask)
            .and_then(|h| h.sum(1))
            .map_err(run)?;
        let counts = mask.sum(1).map_err(run)?;
        let mean = summed.broadcast_div(&counts).map_err(run)?;
        let mut rows: Vec<f32> = mean.flatten_all().and_then(|t| t.to_vec1()).map_err(run)?;
        for row in rows.chunks_exact_mut(self.dim) {
            let norm = row.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
            row.iter_mut().for_each(|x| *x /= norm);
        }
        Ok(rows)
    }
}

/// The text cut at [`MAX_TEXT_CHARS`] characters (on a character boundary).
fn cut(text: &str) -> &str {
    match text.char_indices().nth(MAX_TEXT_CHARS) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

/// `max_seq_length` from `sentence_bert_config.json` when the folder has one, bounded by the
/// model's position table.
fn read_max_tokens(dir: &Path, config: &Config) -> Result<usize, EncoderError> {
    let path = dir.join("sentence_bert_config.json");
    let max = if path.exists() {
        let value: serde_json::Value =
            serde_json::from_str(&read_text(&path)?).map_err(|e| EncoderError::Invalid {
                path: path.clone(),
                message: e.to_string(),
            })?;
        match value.get("max_seq_length").map(|v| v.as_u64()) {
            None => DEFAULT_MAX_TOKENS,
            Some(Some(n)) if n >= 2 => n as usize,
            Some(_) => {
                return Err(EncoderError::Invalid {
                    path,
                    message: "max_seq_length must be a whole number of at least 2".into(),
                });
            }
        }
    } else {
        DEFAULT_MAX_TOKENS
    };
    Ok(max.min(config.max_position_embeddings))
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, EncoderError> {
    std::fs::read(path).map_err(|source| EncoderError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn read_text(path: &Path) -> Result<String, EncoderError> {
    String::from_utf8(read_bytes(path)?).map_err(|_| EncoderError::Invalid {
        path: path.to_path_buf(),
        message: "not UTF-8 text".into(),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
