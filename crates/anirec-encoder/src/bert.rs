//! The BERT forward pass behind the sentence embeddings: the weights of a Hugging Face
//! `BertModel` (`config.json` + `model.safetensors`) laid out for the CPU at load, and the pass
//! itself over a batch of token sequences, mean-pooled and L2-normalised.
//!
//! Sequences of a batch are stacked row after row, never padded: the dense layers run over all
//! their tokens at once, attention over each sequence's own rows, so a batch costs exactly its
//! tokens. The numbers are those of `transformers`' `BertModel` (post-norm layers, exact GELU,
//! absolute positions, token type 0), checked against sentence-transformers by the crate's
//! reference test.

use safetensors::{Dtype, SafeTensors};
use serde::Deserialize;

use crate::linear::{Linear, Scratch};
use crate::ops::{Norm, gelu, softmax};

/// The fields of `config.json` the pass reads.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct BertConfig {
    pub(crate) vocab_size: usize,
    pub(crate) hidden_size: usize,
    pub(crate) num_hidden_layers: usize,
    pub(crate) num_attention_heads: usize,
    pub(crate) intermediate_size: usize,
    pub(crate) max_position_embeddings: usize,
    #[serde(default = "default_eps")]
    pub(crate) layer_norm_eps: f32,
    #[serde(default = "default_act")]
    pub(crate) hidden_act: String,
    #[serde(default = "default_positions")]
    pub(crate) position_embedding_type: String,
}

fn default_eps() -> f32 {
    1e-12
}

fn default_act() -> String {
    "gelu".into()
}

fn default_positions() -> String {
    "absolute".into()
}

impl BertConfig {
    /// What this pass cannot run, said in `config.json`'s own terms.
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.hidden_act != "gelu" {
            return Err(format!(
                "hidden_act {:?} is not supported (only \"gelu\")",
                self.hidden_act
            ));
        }
        if self.position_embedding_type != "absolute" {
            return Err(format!(
                "position_embedding_type {:?} is not supported (only \"absolute\")",
                self.position_embedding_type
            ));
        }
        let heads = self.num_attention_heads;
        if heads == 0 || self.hidden_size == 0 || !self.hidden_size.is_multiple_of(heads) {
            return Err(format!(
                "hidden_size {} must be a positive multiple of num_attention_heads {heads}",
                self.hidden_size
            ));
        }
        Ok(())
    }
}

/// One encoder layer.
struct Layer {
    /// Query, key and value projections as one layer (`hidden → 3 × hidden`).
    qkv: Linear,
    attention_out: Linear,
    attention_norm: Norm,
    up: Linear,
    down: Linear,
    out_norm: Norm,
}

/// A loaded BERT.
pub(crate) struct Bert {
    hidden: usize,
    heads: usize,
    /// `vocab × hidden`.
    words: Vec<f32>,
    /// `positions × hidden`, with token type 0's row already added.
    positions: Vec<f32>,
    embedding_norm: Norm,
    layers: Vec<Layer>,
}

impl Bert {
    /// The weights in `bytes` (a safetensors file of float32, float16 or bfloat16 tensors named
    /// as `BertModel`'s, with or without a `bert.` prefix) for `config`.
    pub(crate) fn load(bytes: &[u8], config: &BertConfig) -> Result<Bert, String> {
        config.check()?;
        let file = SafeTensors::deserialize(bytes).map_err(|e| e.to_string())?;
        let weights = Weights { file: &file };
        let (h, i) = (config.hidden_size, config.intermediate_size);
        let eps = config.layer_norm_eps;
        let words = weights.get("embeddings.word_embeddings.weight", &[config.vocab_size, h])?;
        let mut positions = weights.get(
            "embeddings.position_embeddings.weight",
            &[config.max_position_embeddings, h],
        )?;
        let types = weights.get_rows("embeddings.token_type_embeddings.weight", h)?;
        for row in positions.chunks_exact_mut(h) {
            row.iter_mut().zip(&types[..h]).for_each(|(p, t)| *p += t);
        }
        let embedding_norm = weights.norm("embeddings.LayerNorm", h, eps)?;
        let layers = (0..config.num_hidden_layers)
            .map(|n| {
                let at = |part: &str| format!("encoder.layer.{n}.{part}");
                let mut qkv_weight = Vec::with_capacity(3 * h * h);
                let mut qkv_bias = Vec::with_capacity(3 * h);
                for part in ["query", "key", "value"] {
                    let name = at(&format!("attention.self.{part}"));
                    qkv_weight.extend(weights.get(&format!("{name}.weight"), &[h, h])?);
                    qkv_bias.extend(weights.get(&format!("{name}.bias"), &[h])?);
                }
                Ok(Layer {
                    qkv: Linear::new(&qkv_weight, &qkv_bias, 3 * h, h),
                    attention_out: weights.linear(&at("attention.output.dense"), h, h)?,
                    attention_norm: weights.norm(&at("attention.output.LayerNorm"), h, eps)?,
                    up: weights.linear(&at("intermediate.dense"), i, h)?,
                    down: weights.linear(&at("output.dense"), h, i)?,
                    out_norm: weights.norm(&at("output.LayerNorm"), h, eps)?,
                })
            })
            .collect::<Result<Vec<Layer>, String>>()?;
        Ok(Bert {
            hidden: h,
            heads: config.num_attention_heads,
            words,
            positions,
            embedding_norm,
            layers,
        })
    }

    /// Width of the hidden states and of the embeddings.
    pub(crate) fn hidden(&self) -> usize {
        self.hidden
    }

    /// Number of token ids the word table holds.
    pub(crate) fn vocabulary(&self) -> usize {
        self.words.len() / self.hidden
    }

    /// The sentence embeddings of `sequences` (token ids, [CLS] … [SEP], each within the
    /// position table and the vocabulary): one L2-normalised row of [`Bert::hidden`] numbers per
    /// sequence, the mean of its last hidden states.
    pub(crate) fn embed(&self, sequences: &[&[u32]]) -> Vec<f32> {
        #[cfg(target_arch = "x86_64")]
        if crate::linear::has_avx512_kernels() {
            // SAFETY: the CPU has AVX-512 F, AVX2 and FMA.
            return unsafe { self.embed_avx512(sequences) };
        }
        #[cfg(target_arch = "x86_64")]
        if crate::linear::has_avx2_kernels() {
            // SAFETY: the CPU has AVX2 and FMA.
            return unsafe { self.embed_avx2(sequences) };
        }
        self.embed_with(sequences)
    }

    /// [`Bert::embed`] compiled for AVX-512: the loops inlined into it are vectorised sixteen
    /// lanes wide.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx2,fma")]
    fn embed_avx512(&self, sequences: &[&[u32]]) -> Vec<f32> {
        self.embed_with(sequences)
    }

    /// [`Bert::embed`] compiled for AVX2 + FMA: the attention, GELU and softmax loops inlined
    /// into it are vectorised eight lanes wide (the dense layers choose their own kernel).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn embed_avx2(&self, sequences: &[&[u32]]) -> Vec<f32> {
        self.embed_with(sequences)
    }

    #[inline(always)]
    fn embed_with(&self, sequences: &[&[u32]]) -> Vec<f32> {
        let h = self.hidden;
        let tokens: usize = sequences.iter().map(|s| s.len()).sum();
        let mut states = vec![0.0; tokens * h];
        let mut row = 0;
        for sequence in sequences {
            for (position, &id) in sequence.iter().enumerate() {
                let out = &mut states[row * h..(row + 1) * h];
                let word = &self.words[id as usize * h..][..h];
                let place = &self.positions[position * h..][..h];
                for ((o, w), p) in out.iter_mut().zip(word).zip(place) {
                    *o = w + p;
                }
                row += 1;
            }
        }
        self.embedding_norm.apply(&mut states);

        let mut qkv = vec![0.0; tokens * 3 * h];
        let mut context = vec![0.0; tokens * h];
        let mut next = vec![0.0; tokens * h];
        let mut wide = vec![0.0; tokens * self.layers.first().map_or(0, |l| l.up.outputs())];
        let mut scratch = Scratch::default();
        for layer in &self.layers {
            layer.qkv.apply(&states, &mut qkv, &mut scratch);
            self.attention(sequences, &qkv, &mut context);
            layer.attention_out.apply(&context, &mut next, &mut scratch);
            layer.attention_norm.apply_with_residual(&mut next, &states);
            std::mem::swap(&mut states, &mut next);
            wide.resize(tokens * layer.up.outputs(), 0.0);
            layer.up.apply(&states, &mut wide, &mut scratch);
            gelu(&mut wide);
            layer.down.apply(&wide, &mut next, &mut scratch);
            layer.out_norm.apply_with_residual(&mut next, &states);
            std::mem::swap(&mut states, &mut next);
        }

        let mut pooled = vec![0.0; sequences.len() * h];
        let mut start = 0;
        for (sequence, out) in sequences.iter().zip(pooled.chunks_exact_mut(h)) {
            for state in states[start * h..(start + sequence.len()) * h].chunks_exact(h) {
                out.iter_mut().zip(state).for_each(|(o, s)| *o += s);
            }
            start += sequence.len();
            let norm = out.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
            out.iter_mut().for_each(|x| *x /= norm);
        }
        pooled
    }

    /// Self-attention of each sequence over its own rows: `qkv` holds each token's query, key
    /// and value (`3 × hidden`), `context` receives the heads' outputs side by side.
    #[inline(always)]
    fn attention(&self, sequences: &[&[u32]], qkv: &[f32], context: &mut [f32]) {
        let h = self.hidden;
        let size = h / self.heads;
        let scale = 1.0 / (size as f32).sqrt();
        let longest = sequences.iter().map(|s| s.len()).max().unwrap_or(0);
        let mut keys = vec![0.0; size * longest];
        let mut values = vec![0.0; size * longest];
        let mut scores = vec![0.0; longest];
        let mut start = 0;
        for sequence in sequences {
            let n = sequence.len();
            let rows = &qkv[start * 3 * h..(start + n) * 3 * h];
            let out = &mut context[start * h..(start + n) * h];
            for head in 0..self.heads {
                let offset = head * size;
                // This head's keys, transposed (`size × n`), so that a query's scores are a
                // sum of whole rows, and its values side by side (`n × size`).
                for (j, token) in rows.chunks_exact(3 * h).enumerate() {
                    for (d, &k) in token[h + offset..h + offset + size].iter().enumerate() {
                        keys[d * n + j] = k;
                    }
                    values[j * size..(j + 1) * size]
                        .copy_from_slice(&token[2 * h + offset..2 * h + offset + size]);
                }
                for (i, token) in rows.chunks_exact(3 * h).enumerate() {
                    let query = &token[offset..offset + size];
                    let scores = &mut scores[..n];
                    head_scores(query, &keys[..size * n], scale, scores);
                    softmax(scores);
                    let out = &mut out[i * h + offset..i * h + offset + size];
                    head_mix(scores, &values[..n * size], out);
                }
            }
            start += n;
        }
    }
}

/// `scores[j] = scale · query · key_j`, with the keys transposed (`query.len()` rows of
/// `scores.len()`).
#[inline(always)]
fn head_scores(query: &[f32], keys: &[f32], scale: f32, scores: &mut [f32]) {
    let n = scores.len();
    // 32 scores at a time, their sums held in four eight-lane accumulators while the query's
    // numbers go by: no pass over `scores` per number.
    let whole = n / 32 * 32;
    for start in (0..whole).step_by(32) {
        let mut sums = [[0.0f32; 8]; 4];
        for (d, &q) in query.iter().enumerate() {
            let row = &keys[d * n + start..d * n + start + 32];
            for (sum, k) in sums.iter_mut().zip(row.chunks_exact(8)) {
                for (s, k) in sum.iter_mut().zip(k) {
                    *s += q * k;
                }
            }
        }
        for (out, sum) in scores[start..start + 32].chunks_exact_mut(8).zip(&sums) {
            for (o, s) in out.iter_mut().zip(sum) {
                *o = s * scale;
            }
        }
    }
    let rest = &mut scores[whole..];
    rest.fill(0.0);
    for (d, &q) in query.iter().enumerate() {
        for (s, k) in rest.iter_mut().zip(&keys[d * n + whole..(d + 1) * n]) {
            *s += q * k;
        }
    }
    rest.iter_mut().for_each(|s| *s *= scale);
}

/// `out = Σ_j weights[j] · values_j`, `values` holding one row of `out.len()` per weight.
#[inline(always)]
fn head_mix(weights: &[f32], values: &[f32], out: &mut [f32]) {
    match out.len() {
        // MiniLM's and BERT-base's head size: the sums stay in registers.
        32 => head_mix_sized::<32>(weights, values, out),
        64 => head_mix_sized::<64>(weights, values, out),
        size => {
            out.fill(0.0);
            for (&w, row) in weights.iter().zip(values.chunks_exact(size)) {
                for (o, v) in out.iter_mut().zip(row) {
                    *o += w * v;
                }
            }
        }
    }
}

#[inline(always)]
fn head_mix_sized<const S: usize>(weights: &[f32], values: &[f32], out: &mut [f32]) {
    let mut sums = [0.0f32; S];
    for (&w, row) in weights.iter().zip(values.chunks_exact(S)) {
        for (s, v) in sums.iter_mut().zip(row) {
            *s += w * v;
        }
    }
    out.copy_from_slice(&sums);
}

/// The tensors of a safetensors file, read as float32.
struct Weights<'a> {
    file: &'a SafeTensors<'a>,
}

impl Weights<'_> {
    /// The tensor `name` (or `bert.name`), which must have `shape`.
    fn get(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, String> {
        let (found, values) = self.read(name)?;
        if found != shape {
            return Err(format!("tensor {name} has shape {found:?}, not {shape:?}"));
        }
        Ok(values)
    }

    /// The tensor `name`, a matrix of rows `width` wide (any number of rows, at least one).
    fn get_rows(&self, name: &str, width: usize) -> Result<Vec<f32>, String> {
        let (found, values) = self.read(name)?;
        match found.as_slice() {
            [rows, w] if *rows >= 1 && *w == width => Ok(values),
            _ => Err(format!(
                "tensor {name} has shape {found:?}, not [rows, {width}]"
            )),
        }
    }

    fn linear(&self, name: &str, outputs: usize, inputs: usize) -> Result<Linear, String> {
        let weight = self.get(&format!("{name}.weight"), &[outputs, inputs])?;
        let bias = self.get(&format!("{name}.bias"), &[outputs])?;
        Ok(Linear::new(&weight, &bias, outputs, inputs))
    }

    fn norm(&self, name: &str, width: usize, eps: f32) -> Result<Norm, String> {
        Ok(Norm {
            scale: self.get(&format!("{name}.weight"), &[width])?,
            shift: self.get(&format!("{name}.bias"), &[width])?,
            eps,
        })
    }

    fn read(&self, name: &str) -> Result<(Vec<usize>, Vec<f32>), String> {
        let view = self
            .file
            .tensor(name)
            .or_else(|_| self.file.tensor(&format!("bert.{name}")))
            .map_err(|_| format!("tensor {name} is missing"))?;
        let bytes = view.data();
        let values = match view.dtype() {
            Dtype::F32 => bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            Dtype::F16 => bytes
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            Dtype::BF16 => bytes
                .chunks_exact(2)
                .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            other => return Err(format!("tensor {name} is {other:?}, not a float type")),
        };
        Ok((view.shape().to_vec(), values))
    }
}
