//! The sentence encoder: a BERT model in the Hugging Face folder layout (all-MiniLM-L6-v2 by
//! default) turning texts into L2-normalised sentence embeddings exactly as sentence-transformers
//! does (word pieces cut at the model's limit, mean of the last hidden states over the tokens,
//! then L2 normalisation). `tokenizers` reads `tokenizer.json`; the forward pass is
//! [`crate::bert`]'s, on the CPU. Many texts are embedded in batches spread over all cores; one
//! text (a search query) runs on the calling thread.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use sha2::{Digest, Sha256};
use tokenizers::{Tokenizer, TruncationParams};

use crate::bert::{Bert, BertConfig};
use crate::error::EncoderError;

/// Texts longer than this many characters are cut before tokenising. The model reads at most
/// [`Encoder::max_tokens`] word pieces (256 for all-MiniLM-L6-v2), which even short words
/// exhaust well before this length; the cut only bounds the tokeniser's work on huge inputs.
pub const MAX_TEXT_CHARS: usize = 4096;

/// Word pieces in one batch of the forward pass (texts are sorted by length and cut into
/// batches of about this many tokens): enough rows for the dense layers' kernels, few enough
/// that a batch's states stay small.
const BATCH_TOKENS: usize = 2048;

/// Batches handed to the cores between two progress reports.
const BATCHES_PER_REPORT: usize = 8;

/// The forward pass's own version, part of the fingerprint: embeddings cached or stored by a
/// pass that computes differently (candle's, float32 weights) are not taken for this one's. Its
/// kernels' roundings (float16 weights, or bfloat16 weights and inputs where the CPU has AVX-512
/// BF16) are not part of it: both agree with sentence-transformers to the reference test's
/// cosine 0.9999, so vectors made on one CPU serve queries embedded on another, as a model
/// trained on one machine and served on others needs.
const FORWARD_PASS: &str = "anirec-bert 1: float16 weights, float32 sums";

/// Word pieces read when the folder has no `sentence_bert_config.json`.
const DEFAULT_MAX_TOKENS: usize = 256;

/// A loaded sentence encoder.
pub struct Encoder {
    model: Bert,
    tokenizer: Tokenizer,
    max_tokens: usize,
    /// The most word pieces the model reads (`max_seq_length`, bounded by its position table).
    model_max_tokens: usize,
    /// The digest of the encoder's files, which the fingerprint extends with the settings.
    files: Sha256,
    fingerprint: String,
    dir: PathBuf,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder")
            .field("dir", &self.dir)
            .field("dim", &self.dim())
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
        let invalid_config = |message: String| EncoderError::Invalid {
            path: config_path.clone(),
            message,
        };
        let config: BertConfig =
            serde_json::from_str(&config_text).map_err(|e| invalid_config(e.to_string()))?;
        config.check().map_err(|e| invalid_config(e.to_string()))?;
        let max_tokens = read_max_tokens(dir, &config)?;

        let tokenizer_path = dir.join("tokenizer.json");
        let tokenizer_bytes = read_bytes(&tokenizer_path)?;
        let invalid_tokenizer = |message: String| EncoderError::Invalid {
            path: tokenizer_path.clone(),
            message,
        };
        let mut tokenizer = Tokenizer::from_bytes(&tokenizer_bytes)
            .map_err(|e| invalid_tokenizer(e.to_string()))?;
        truncate_at(&mut tokenizer, max_tokens).map_err(|e| invalid_tokenizer(e.to_string()))?;
        tokenizer.with_padding(None);

        let weights_path = dir.join("model.safetensors");
        let weights = read_bytes(&weights_path)?;
        let mut files = Sha256::new();
        for part in [config_text.as_bytes(), &tokenizer_bytes, &weights] {
            files.update((part.len() as u64).to_le_bytes());
            files.update(part);
        }

        let model = Bert::load(&weights, &config).map_err(|e| EncoderError::Invalid {
            path: weights_path.clone(),
            message: e.to_string(),
        })?;

        Ok(Encoder {
            model,
            tokenizer,
            max_tokens,
            model_max_tokens: max_tokens,
            fingerprint: fingerprint(&files, max_tokens),
            files,
            dir: dir.to_path_buf(),
        })
    }

    /// The encoder reading at most `limit` word pieces of a text ([CLS] and [SEP] included; at
    /// least 2, at most what the model reads). A different limit gives different embeddings of
    /// long texts, so it is part of the [`Encoder::fingerprint`].
    pub fn limit_tokens(mut self, limit: usize) -> Result<Encoder, EncoderError> {
        let limit = limit.clamp(2, self.model_max_tokens);
        truncate_at(&mut self.tokenizer, limit).map_err(|e| EncoderError::Invalid {
            path: self.dir.join("tokenizer.json"),
            message: e.to_string(),
        })?;
        self.max_tokens = limit;
        self.fingerprint = fingerprint(&self.files, limit);
        Ok(self)
    }

    /// Most word pieces the model itself reads (its `max_seq_length`), whatever the limit set
    /// by [`Encoder::limit_tokens`].
    pub fn model_max_tokens(&self) -> usize {
        self.model_max_tokens
    }

    /// Length of each embedding (384 for all-MiniLM-L6-v2).
    pub fn dim(&self) -> usize {
        self.model.hidden()
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

    /// Embeds one text on the calling thread (see [`Encoder::embed`]).
    pub fn embed_one(&self, text: &str) -> Result<Vec<f32>, EncoderError> {
        let ids = self.tokenize(text)?;
        Ok(self.model.embed(&[&ids]))
    }

    /// Embeds texts: one row of [`Encoder::dim`] numbers per text, in their order, one after
    /// another, the batches spread over all cores (rayon's pool). Calls `progress` with the
    /// number of texts done as batches finish. Texts are cut at [`MAX_TEXT_CHARS`] characters and
    /// [`Encoder::max_tokens`] word pieces; an empty text gets the embedding of "[CLS] [SEP]", as
    /// in the reference.
    pub fn embed(
        &self,
        texts: &[&str],
        mut progress: impl FnMut(usize),
    ) -> Result<Vec<f32>, EncoderError> {
        let tokens = texts
            .par_iter()
            .map(|text| self.tokenize(text))
            .collect::<Result<Vec<Vec<u32>>, EncoderError>>()?;
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| tokens[i].len());
        let batches = batches(&order, |i| tokens[i].len());
        let dim = self.dim();
        let mut out = vec![0.0; texts.len() * dim];
        for group in batches.chunks(BATCHES_PER_REPORT) {
            let pooled: Vec<Vec<f32>> = group
                .par_iter()
                .map(|batch| {
                    let sequences: Vec<&[u32]> = batch.iter().map(|&i| &tokens[i][..]).collect();
                    self.model.embed(&sequences)
                })
                .collect();
            for (batch, rows) in group.iter().zip(&pooled) {
                for (&i, row) in batch.iter().zip(rows.chunks_exact(dim)) {
                    out[i * dim..(i + 1) * dim].copy_from_slice(row);
                }
                progress(batch.len());
            }
        }
        Ok(out)
    }

    /// A text's word pieces, [CLS] … [SEP], cut at the model's limit.
    fn tokenize(&self, text: &str) -> Result<Vec<u32>, EncoderError> {
        let encoding = self
            .tokenizer
            .encode(cut(text), true)
            .map_err(|e| EncoderError::Run(format!("tokenising: {e}")))?;
        let ids = encoding.get_ids();
        let vocabulary = self.model.vocabulary();
        match ids.iter().find(|&&id| id as usize >= vocabulary) {
            Some(id) => Err(EncoderError::Run(format!(
                "the tokenizer gave id {id}, past the model's {vocabulary} words"
            ))),
            None => Ok(ids.to_vec()),
        }
    }
}

/// `order` (indices sorted by length) cut into runs of about [`BATCH_TOKENS`] tokens (a longer
/// text alone is a batch of its own).
fn batches(order: &[usize], len: impl Fn(usize) -> usize) -> Vec<Vec<usize>> {
    let mut batches: Vec<Vec<usize>> = Vec::new();
    let mut tokens = 0;
    for &i in order {
        match batches.last_mut() {
            Some(batch) if tokens + len(i) <= BATCH_TOKENS => batch.push(i),
            _ => {
                batches.push(vec![i]);
                tokens = 0;
            }
        }
        tokens += len(i);
    }
    batches
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
fn read_max_tokens(dir: &Path, config: &BertConfig) -> Result<usize, EncoderError> {
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

/// Cuts the tokenizer's output at `max_tokens` word pieces.
fn truncate_at(tokenizer: &mut Tokenizer, max_tokens: usize) -> tokenizers::Result<()> {
    tokenizer
        .with_truncation(Some(TruncationParams {
            max_length: max_tokens,
            ..Default::default()
        }))
        .map(|_| ())
}

/// The fingerprint of an encoder whose files hash to `files`, reading `max_tokens` word pieces
/// with this forward pass.
fn fingerprint(files: &Sha256, max_tokens: usize) -> String {
    let mut hash = files.clone();
    hash.update((max_tokens as u64).to_le_bytes());
    hash.update(FORWARD_PASS.as_bytes());
    hex(&hash.finalize()[..16])
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
