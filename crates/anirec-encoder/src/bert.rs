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

/// What makes a configuration or a weights file unusable by this pass.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum ModelError {
    /// `config.json` asks for what this pass cannot run (said in its own terms).
    #[error("{0}")]
    Unsupported(String),
    /// The weights file is not a safetensors file.
    #[error("{0}")]
    File(String),
    /// A tensor the model needs is not there.
    #[error("tensor {0} is missing")]
    Missing(String),
    /// A tensor of another shape than the configuration says.
    #[error("tensor {name} has shape {found:?}, not {expected}")]
    Shape {
        /// The tensor.
        name: String,
        /// Its shape.
        found: Vec<usize>,
        /// The shape it must have.
        expected: String,
    },
    /// A tensor of integers or another non-float type.
    #[error("tensor {name} is {found}, not a float type")]
    Dtype {
        /// The tensor.
        name: String,
        /// Its element type.
        found: String,
    },
}

impl BertConfig {
    /// What this pass cannot run, said in `config.json`'s own terms.
    pub(crate) fn check(&self) -> Result<(), ModelError> {
        if self.hidden_act != "gelu" {
            return Err(ModelError::Unsupported(format!(
                "hidden_act {:?} is not supported (only \"gelu\")",
                self.hidden_act
            )));
        }
        if self.position_embedding_type != "absolute" {
            return Err(ModelError::Unsupported(format!(
                "position_embedding_type {:?} is not supported (only \"absolute\")",
                self.position_embedding_type
            )));
        }
        let heads = self.num_attention_heads;
        if heads == 0 || self.hidden_size == 0 || !self.hidden_size.is_multiple_of(heads) {
            return Err(ModelError::Unsupported(format!(
                "hidden_size {} must be a positive multiple of num_attention_heads {heads}",
                self.hidden_size
            )));
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
    pub(crate) fn load(bytes: &[u8], config: &BertConfig) -> Result<Bert, ModelError> {
        config.check()?;
        let file = SafeTensors::deserialize(bytes).map_err(|e| ModelError::File(e.to_string()))?;
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
            .collect::<Result<Vec<Layer>, ModelError>>()?;
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
        self.embed_with::<1>(sequences)
    }

    /// [`Bert::embed`] compiled for AVX-512: the loops inlined into it are vectorised sixteen
    /// lanes wide.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx2,fma")]
    fn embed_avx512(&self, sequences: &[&[u32]]) -> Vec<f32> {
        self.embed_with::<AVX512_ROWS>(sequences)
    }

    /// [`Bert::embed`] compiled for AVX2 + FMA: the attention, GELU and softmax loops inlined
    /// into it are vectorised eight lanes wide (the dense layers choose their own kernel).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn embed_avx2(&self, sequences: &[&[u32]]) -> Vec<f32> {
        self.embed_with::<AVX2_ROWS>(sequences)
    }

    /// The forward pass, attention taking `ROWS` query rows at a time.
    #[inline(always)]
    fn embed_with<const ROWS: usize>(&self, sequences: &[&[u32]]) -> Vec<f32> {
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
            self.attention::<ROWS>(sequences, &qkv, &mut context);
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
    fn attention<const ROWS: usize>(&self, sequences: &[&[u32]], qkv: &[f32], context: &mut [f32]) {
        let h = self.hidden;
        let size = h / self.heads;
        let longest = sequences.iter().map(|s| s.len()).max().unwrap_or(0);
        let widest = longest.next_multiple_of(KEY_BLOCK);
        let mut head = Head {
            size,
            scale: 1.0 / (size as f32).sqrt(),
            keys: vec![0.0; size * widest],
            values: vec![0.0; size * longest],
            scores: vec![0.0; ROWS * widest],
        };
        let mut start = 0;
        for sequence in sequences {
            let n = sequence.len();
            let width = n.next_multiple_of(KEY_BLOCK);
            let rows = &qkv[start * 3 * h..(start + n) * 3 * h];
            let out = &mut context[start * h..(start + n) * h];
            for offset in (0..h).step_by(size) {
                // This head's keys, transposed (`size × width`), so that a query's scores are
                // a sum of whole rows, and its values side by side (`n × size`). Keys past `n`
                // are whatever an earlier head left: their scores are never read.
                for (j, token) in rows.chunks_exact(3 * h).enumerate() {
                    for (d, &k) in token[h + offset..h + offset + size].iter().enumerate() {
                        head.keys[d * width + j] = k;
                    }
                    head.values[j * size..(j + 1) * size]
                        .copy_from_slice(&token[2 * h + offset..2 * h + offset + size]);
                }
                let query = |i: usize| &rows[i * 3 * h + offset..i * 3 * h + offset + size];
                let whole = n / ROWS * ROWS;
                for first in (0..whole).step_by(ROWS) {
                    let queries: [&[f32]; ROWS] = std::array::from_fn(|r| query(first + r));
                    head.attend(&queries, n, &mut out[first * h + offset..], h);
                }
                for i in whole..n {
                    head.attend(&[query(i)], n, &mut out[i * h + offset..], h);
                }
            }
            start += n;
        }
    }
}

/// Query rows whose attention the AVX-512 build computes together: their sums fill more
/// registers, so that a multiply-add need not wait for the one before it (one row's chain of
/// additions bound attention's time). 800 catalogue texts took 7.1 s instead of 7.8 s; 8 rows
/// were no faster (BENCHMARKS.md "Attention over several query rows").
const AVX512_ROWS: usize = 4;

/// The same for the AVX2 build, whose 16 registers hold the sums of two rows: 400 texts took
/// 5.65 s at two rows, 5.9 s at one and 5.7 s at four, whose sums no longer fit.
const AVX2_ROWS: usize = 2;

/// Keys whose scores are summed together: the key rows are laid out this many wide (a
/// sequence's `n` rounded up), so every block is whole.
const KEY_BLOCK: usize = 32;

/// One attention head of one sequence: its keys and values laid out for the products, and room
/// for the scores of the query rows attended together.
struct Head {
    size: usize,
    scale: f32,
    /// `size × width` (`width`: the sequence's length rounded up to [`KEY_BLOCK`]): the keys,
    /// transposed.
    keys: Vec<f32>,
    /// `n × size`: the values.
    values: Vec<f32>,
    /// `R × width`: the scores of the rows attended together.
    scores: Vec<f32>,
}

impl Head {
    /// The head's output for `R` query rows over the sequence's `n` tokens, written to `out`'s
    /// rows `r × stride` (`size` numbers each).
    #[inline(always)]
    fn attend<const R: usize>(
        &mut self,
        queries: &[&[f32]; R],
        n: usize,
        out: &mut [f32],
        stride: usize,
    ) {
        let width = n.next_multiple_of(KEY_BLOCK);
        let scores = &mut self.scores[..R * width];
        head_scores(queries, &self.keys[..self.size * width], self.scale, scores);
        for row in scores.chunks_exact_mut(width) {
            softmax(&mut row[..n]);
        }
        let weights: [&[f32]; R] = std::array::from_fn(|r| &scores[r * width..r * width + n]);
        let values = &self.values[..n * self.size];
        match self.size {
            // MiniLM's and BERT-base's head size: the sums stay in registers.
            32 => head_mix::<R, 32>(&weights, values, out, stride),
            64 => head_mix::<R, 64>(&weights, values, out, stride),
            size => {
                for (r, weights) in weights.iter().enumerate() {
                    let out = &mut out[r * stride..r * stride + size];
                    out.fill(0.0);
                    for (&w, row) in weights.iter().zip(values.chunks_exact(size)) {
                        for (o, v) in out.iter_mut().zip(row) {
                            *o += w * v;
                        }
                    }
                }
            }
        }
    }
}

/// `scores[r × width + j] = scale · queries[r] · key_j` for every `j` below `width =
/// scores.len() / R`, a multiple of [`KEY_BLOCK`], with the keys transposed (`queries[r].len()`
/// rows of `width`).
#[inline(always)]
fn head_scores<const R: usize>(
    queries: &[&[f32]; R],
    keys: &[f32],
    scale: f32,
    scores: &mut [f32],
) {
    let width = scores.len() / R;
    let size = queries[0].len();
    for start in (0..width).step_by(KEY_BLOCK) {
        // The block's sums for all R rows stay in registers while the queries' numbers go by.
        let mut sums = [[0.0f32; KEY_BLOCK]; R];
        for d in 0..size {
            let keys: &[f32; KEY_BLOCK] = keys[d * width + start..d * width + start + KEY_BLOCK]
                .try_into()
                .expect("a block of keys");
            let q: [f32; R] = std::array::from_fn(|r| queries[r][d]);
            for (sum, q) in sums.iter_mut().zip(q) {
                for (s, k) in sum.iter_mut().zip(keys) {
                    *s += q * k;
                }
            }
        }
        for (r, sum) in sums.iter().enumerate() {
            let out = &mut scores[r * width + start..r * width + start + KEY_BLOCK];
            for (o, s) in out.iter_mut().zip(sum) {
                *o = s * scale;
            }
        }
    }
}

/// `out[r × stride..][..S] = Σ_j weights[r][j] · values_j` for `R` rows of weights, `values`
/// holding one row of `S` per weight.
#[inline(always)]
fn head_mix<const R: usize, const S: usize>(
    weights: &[&[f32]; R],
    values: &[f32],
    out: &mut [f32],
    stride: usize,
) {
    let n = weights[0].len();
    let mut sums = [[0.0f32; S]; R];
    for (j, row) in values.chunks_exact(S).take(n).enumerate() {
        let row: &[f32; S] = row.try_into().expect("S values");
        let w: [f32; R] = std::array::from_fn(|r| weights[r][j]);
        for (sum, w) in sums.iter_mut().zip(w) {
            for (s, v) in sum.iter_mut().zip(row) {
                *s += w * v;
            }
        }
    }
    for (r, sum) in sums.iter().enumerate() {
        out[r * stride..r * stride + S].copy_from_slice(sum);
    }
}

/// The tensors of a safetensors file, read as float32.
struct Weights<'a> {
    file: &'a SafeTensors<'a>,
}

impl Weights<'_> {
    /// The tensor `name` (or `bert.name`), which must have `shape`.
    fn get(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, ModelError> {
        let (found, values) = self.read(name)?;
        if found != shape {
            return Err(ModelError::Shape {
                name: name.to_owned(),
                found,
                expected: format!("{shape:?}"),
            });
        }
        Ok(values)
    }

    /// The tensor `name`, a matrix of rows `width` wide (any number of rows, at least one).
    fn get_rows(&self, name: &str, width: usize) -> Result<Vec<f32>, ModelError> {
        let (found, values) = self.read(name)?;
        match found.as_slice() {
            [rows, w] if *rows >= 1 && *w == width => Ok(values),
            _ => Err(ModelError::Shape {
                name: name.to_owned(),
                found,
                expected: format!("[rows, {width}]"),
            }),
        }
    }

    fn linear(&self, name: &str, outputs: usize, inputs: usize) -> Result<Linear, ModelError> {
        let weight = self.get(&format!("{name}.weight"), &[outputs, inputs])?;
        let bias = self.get(&format!("{name}.bias"), &[outputs])?;
        Ok(Linear::new(&weight, &bias, outputs, inputs))
    }

    fn norm(&self, name: &str, width: usize, eps: f32) -> Result<Norm, ModelError> {
        Ok(Norm {
            scale: self.get(&format!("{name}.weight"), &[width])?,
            shift: self.get(&format!("{name}.bias"), &[width])?,
            eps,
        })
    }

    fn read(&self, name: &str) -> Result<(Vec<usize>, Vec<f32>), ModelError> {
        let view = self
            .file
            .tensor(name)
            .or_else(|_| self.file.tensor(&format!("bert.{name}")))
            .map_err(|_| ModelError::Missing(name.to_owned()))?;
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
            other => {
                return Err(ModelError::Dtype {
                    name: name.to_owned(),
                    found: format!("{other:?}"),
                });
            }
        };
        Ok((view.shape().to_vec(), values))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`Bert::attention`] at one row count.
    type Attention = fn(&Bert, &[&[u32]], &[f32], &mut [f32]);

    /// A model of `heads` heads over 64 features with no layers: enough for its attention.
    fn bare(heads: usize) -> Bert {
        Bert {
            hidden: 64,
            heads,
            words: Vec::new(),
            positions: Vec::new(),
            embedding_norm: Norm {
                scale: Vec::new(),
                shift: Vec::new(),
                eps: 1e-12,
            },
            layers: Vec::new(),
        }
    }

    /// Softmax(q·kᵀ / √size)·v of each head and sequence, one query at a time, in f64.
    fn textbook(model: &Bert, lengths: &[usize], qkv: &[f32]) -> Vec<f64> {
        let h = model.hidden;
        let size = h / model.heads;
        let mut out = vec![0.0; qkv.len() / 3];
        let mut start = 0;
        for &n in lengths {
            let at = |token: usize, part: usize, head: usize, d: usize| {
                f64::from(qkv[(start + token) * 3 * h + part * h + head * size + d])
            };
            for head in 0..model.heads {
                for i in 0..n {
                    let scores: Vec<f64> = (0..n)
                        .map(|j| {
                            (0..size)
                                .map(|d| at(i, 0, head, d) * at(j, 1, head, d))
                                .sum::<f64>()
                                / (size as f64).sqrt()
                        })
                        .collect();
                    let most = scores.iter().cloned().fold(f64::MIN, f64::max);
                    let weights: Vec<f64> = scores.iter().map(|s| (s - most).exp()).collect();
                    let total: f64 = weights.iter().sum();
                    for d in 0..size {
                        out[(start + i) * h + head * size + d] =
                            (0..n).map(|j| weights[j] * at(j, 2, head, d)).sum::<f64>() / total;
                    }
                }
            }
            start += n;
        }
        out
    }

    /// Attention over one, two or four query rows at a time, with heads of 32 (the registers'
    /// path) and of 16 numbers, and sequences shorter and longer than a key block and not a
    /// multiple of the rows, against the textbook formula.
    #[test]
    fn attention_matches_the_textbook_for_every_row_count() {
        let lengths = [37, 5, 1, 64];
        let tokens: usize = lengths.iter().sum();
        let sequences: Vec<Vec<u32>> = lengths.iter().map(|&n| vec![0; n]).collect();
        let sequences: Vec<&[u32]> = sequences.iter().map(|s| &s[..]).collect();
        let qkv: Vec<f32> = (0..tokens * 3 * 64)
            .map(|i| ((i * 7919) % 1000) as f32 / 250.0 - 2.0)
            .collect();
        for heads in [2, 4] {
            let model = bare(heads);
            let want = textbook(&model, &lengths, &qkv);
            let runs: [(usize, Attention); 3] = [
                (1, |m, s, q, c| m.attention::<1>(s, q, c)),
                (2, |m, s, q, c| m.attention::<2>(s, q, c)),
                (4, |m, s, q, c| m.attention::<4>(s, q, c)),
            ];
            for (rows, run) in runs {
                let mut got = vec![f32::NAN; tokens * 64];
                run(&model, &sequences, &qkv, &mut got);
                for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                    assert!(
                        (f64::from(*g) - w).abs() < 1e-4,
                        "{heads} heads, {rows} rows: feature {i}: {g} vs {w}"
                    );
                }
            }
        }
    }
}
