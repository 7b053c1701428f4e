//! Story embeddings of the catalogue: one L2-normalised sentence embedding per anime (of the
//! text [`crate::story_text`] writes, through the sentence encoder) and nearest-neighbour search
//! over them.
//!
//! Search scans every row: exactly from the float16 rows, or first from 8-bit copies (a quarter
//! of the bytes, with a bound on their error) to pick the rows to score exactly. At catalogue
//! scale that is about a millisecond a query (BENCHMARKS.md "Story search"), so no approximate
//! index is needed.

use anirec_data::AnimeIx;
use half::f16;
use safetensors::Dtype;
use serde::{Deserialize, Serialize};

use crate::stored::{Array, ArrayError, Arrays, Stored, array};
use crate::topk::top_k;
use crate::widen;
#[cfg(target_arch = "x86_64")]
use crate::widen::has_f16_simd;

/// How story embeddings were made, kept in the bundle's manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoryInfo {
    /// The encoder's fingerprint (a digest of its files): a query must be embedded by an
    /// encoder with the same fingerprint to be compared with these vectors.
    pub encoder: String,
    /// Length of each vector.
    pub dim: usize,
    /// What each anime's text holds ([`crate::story_text::STORY_TEXT`]) and how much of it the encoder read.
    pub text: String,
}

/// Why a model's story embeddings cannot be searched with an encoder.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoryOff {
    /// The model was trained without an encoder.
    #[error("the model was trained without story embeddings (train it with --encoder DIR)")]
    NoEmbeddings,
    /// The embeddings and the encoder's queries would not be comparable.
    #[error(
        "the model's story embeddings were made by another encoder ({model}) than this one ({encoder}), or with another word-piece cut (--story-tokens); retrain the model with this encoder and cut"
    )]
    OtherEncoder {
        /// The fingerprint of the encoder that embedded the catalogue.
        model: String,
        /// The fingerprint of the encoder at hand.
        encoder: String,
    },
}

/// One unit-length vector per anime, row by row, held as float16 (as the bundle stores them):
/// half the memory of float32, and a story search's scan over every anime reads half the bytes
/// (it is bound by memory, not arithmetic). Products are computed in float32.
#[derive(Debug, Clone, PartialEq)]
pub struct StoryVectors {
    dim: usize,
    rows: Vec<f16>,
    /// The rows again in 8 bits, for a first pass over every anime in a quarter of the bytes.
    coarse: Coarse,
}

/// Rows quantised to 8 bits, each with its own scale: `row ≈ scale × codes`.
#[derive(Debug, Clone, PartialEq)]
struct Coarse {
    codes: Vec<i8>,
    scales: Vec<f32>,
    /// The largest scale: bounds every row's rounding error.
    largest_scale: f32,
}

impl Coarse {
    fn of(rows: &[f16], dim: usize) -> Coarse {
        let mut codes = Vec::with_capacity(rows.len());
        let scales = rows
            .chunks_exact(dim)
            .map(|row| {
                let largest = row.iter().fold(0f32, |m, h| m.max(h.to_f32().abs()));
                let scale = if largest > 0.0 { largest / 127.0 } else { 1.0 };
                codes.extend(row.iter().map(|h| (h.to_f32() / scale).round() as i8));
                scale
            })
            .collect::<Vec<f32>>();
        let largest_scale = scales.iter().fold(0f32, |m, &s| m.max(s));
        Coarse {
            codes,
            scales,
            largest_scale,
        }
    }
}

/// The name of the array in the bundle's tensor file.
const ARRAY: &str = "story.vectors";

impl StoryVectors {
    /// Vectors of `dim` numbers each, one after another (one row per anime, in catalogue
    /// order), rounded to float16. Fails when `rows` is not a whole number of rows or a number
    /// is not finite (in float16: the vectors are unit length, far inside its range).
    pub fn new(dim: usize, rows: Vec<f32>) -> Result<StoryVectors, ArrayError> {
        StoryVectors::from_halves(dim, rows.iter().map(|&x| f16::from_f32(x)).collect())
    }

    fn from_halves(dim: usize, rows: Vec<f16>) -> Result<StoryVectors, ArrayError> {
        if dim == 0 || !rows.len().is_multiple_of(dim) {
            return Err(ArrayError::Inconsistent(format!(
                "array {ARRAY}: {} numbers are not whole rows of {dim}",
                rows.len()
            )));
        }
        if let Some(at) = rows.iter().position(|x| !x.is_finite()) {
            return Err(ArrayError::Inconsistent(format!(
                "array {ARRAY}: row {} holds a value that is not finite",
                at / dim
            )));
        }
        let coarse = Coarse::of(&rows, dim);
        Ok(StoryVectors { dim, rows, coarse })
    }

    /// Length of each vector.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of anime.
    pub fn len(&self) -> usize {
        self.rows.len() / self.dim
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn row(&self, ix: AnimeIx) -> &[f16] {
        let at = ix.0 as usize * self.dim;
        &self.rows[at..at + self.dim]
    }

    /// The vector of anime `ix`, in float32.
    pub fn vector(&self, ix: AnimeIx) -> Vec<f32> {
        self.row(ix).iter().map(|h| h.to_f32()).collect()
    }

    /// `acc += weight × the vector of anime ix` (a fan's story profile sums one per entry).
    pub fn add_scaled(&self, ix: AnimeIx, weight: f32, acc: &mut [f32]) {
        widen::add_scaled(self.row(ix), weight, acc);
    }

    /// The dot product of anime `ix`'s vector with `v` ([`StoryVectors::dim`] long).
    pub fn dot(&self, ix: AnimeIx, v: &[f32]) -> f32 {
        #[cfg(target_arch = "x86_64")]
        if has_f16_simd() {
            // SAFETY: the CPU has AVX2, FMA and F16C.
            return unsafe { dot_f16c(self.row(ix), v) };
        }
        dot_plain(self.row(ix), v)
    }

    /// Cosine similarity of `query` (unit length, [`StoryVectors::dim`] long) to every
    /// anime, written into `out`.
    pub fn scores_into(&self, query: &[f32], out: &mut Vec<f32>) {
        out.clear();
        out.resize(self.len(), 0.0);
        #[cfg(target_arch = "x86_64")]
        if has_f16_simd() {
            // SAFETY: the CPU has AVX2, FMA and F16C.
            return unsafe { scores_f16c(&self.rows, self.dim, query, out) };
        }
        for (o, row) in out.iter_mut().zip(self.rows.chunks_exact(self.dim)) {
            *o = dot_plain(row, query);
        }
    }

    /// Approximate cosine similarity of `query` to every anime, from the 8-bit rows (within
    /// [`StoryVectors::coarse_error`] of [`StoryVectors::dot`]), written into `out`: a first
    /// pass that reads a quarter of the bytes, for picking the anime to score exactly.
    pub fn coarse_scores_into(&self, query: &[f32], out: &mut Vec<f32>) {
        out.clear();
        out.resize(self.len(), 0.0);
        let query_scale = query_scale(query);
        let codes: Vec<i16> = query
            .iter()
            .take(self.dim)
            .map(|x| (x / query_scale).round() as i16)
            .collect();
        let rows = self.coarse.codes.chunks_exact(self.dim);
        let sums = out.iter_mut().zip(rows);
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2.
            for (o, row) in sums {
                *o = unsafe { dot_i8_avx2(row, &codes) } as f32;
            }
        } else {
            for (o, row) in sums {
                *o = dot_i8(row, &codes) as f32;
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        for (o, row) in sums {
            *o = dot_i8(row, &codes) as f32;
        }
        for (o, scale) in out.iter_mut().zip(&self.coarse.scales) {
            *o *= scale * query_scale;
        }
    }

    /// How far a coarse score of `query` can be from the exact one, for any anime: each row's
    /// numbers are rounded to within half its scale, the query's to within half of its own:
    /// `|x·q − s c·t d| ≤ s/2 ‖q‖₁ + s t/2 · 127 · dim`, plus a margin for float rounding.
    pub fn coarse_error(&self, query: &[f32]) -> f32 {
        let l1: f32 = query.iter().map(|x| x.abs()).sum();
        let s = self.coarse.largest_scale;
        s * (l1 + query_scale(query) * 127.0 * self.dim as f32) / 2.0 + 1e-4
    }

    /// The `k` anime most similar to `query` for which `keep` holds, best first, with their
    /// cosine similarity.
    pub fn nearest(
        &self,
        query: &[f32],
        k: usize,
        keep: impl FnMut(u32) -> bool,
    ) -> Vec<(AnimeIx, f32)> {
        let mut scores = Vec::with_capacity(self.len());
        self.scores_into(query, &mut scores);
        top_k(&scores, k, keep)
            .into_iter()
            .map(|ix| (AnimeIx(ix), scores[ix as usize]))
            .collect()
    }

    /// Cosine similarity of two anime's stories.
    pub fn similarity(&self, a: AnimeIx, b: AnimeIx) -> f32 {
        self.dot(a, &self.vector(b))
    }
}

/// The scale that maps a query's largest number to 32767 (its 16-bit codes).
fn query_scale(query: &[f32]) -> f32 {
    let largest = query.iter().fold(0f32, |m, x| m.max(x.abs()));
    if largest > 0.0 {
        largest / 32767.0
    } else {
        1.0
    }
}

/// `out[i] = row_i · query` over every row: the scan a story search makes.
///
/// # Safety
/// The CPU must have AVX2, FMA and F16C.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn scores_f16c(rows: &[f16], dim: usize, query: &[f32], out: &mut [f32]) {
    for (o, row) in out.iter_mut().zip(rows.chunks_exact(dim)) {
        // SAFETY: this function's features are the callee's.
        *o = unsafe { dot_f16c(row, query) };
    }
}

/// `row · v` with the float16 row widened eight numbers at a time, in four accumulators.
///
/// # Safety
/// The CPU must have AVX2, FMA and F16C.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,f16c")]
#[inline]
unsafe fn dot_f16c(row: &[f16], v: &[f32]) -> f32 {
    use std::arch::x86_64::{
        __m128i, _mm_loadu_si128, _mm256_cvtph_ps, _mm256_fmadd_ps, _mm256_loadu_ps,
        _mm256_setzero_ps, _mm256_storeu_ps,
    };
    let n = row.len().min(v.len());
    let whole = n / 32 * 32;
    let mut lanes = [0.0f32; 8];
    // SAFETY: every load reads 8 numbers at an offset below `whole ≤ n`, inside both slices.
    unsafe {
        let mut acc = [_mm256_setzero_ps(); 4];
        for start in (0..whole).step_by(32) {
            for (j, acc) in acc.iter_mut().enumerate() {
                let at = start + 8 * j;
                let w = _mm256_cvtph_ps(_mm_loadu_si128(row.as_ptr().add(at).cast::<__m128i>()));
                let x = _mm256_loadu_ps(v.as_ptr().add(at));
                *acc = _mm256_fmadd_ps(w, x, *acc);
            }
        }
        for acc in acc {
            let mut part = [0.0f32; 8];
            _mm256_storeu_ps(part.as_mut_ptr(), acc);
            lanes.iter_mut().zip(part).for_each(|(l, p)| *l += p);
        }
    }
    lanes.iter().sum::<f32>() + dot_plain(&row[whole..n], &v[whole..n])
}

/// `row · query` in whole numbers (exact: 384 products of at most 127 × 32767 stay far inside
/// 32 bits).
fn dot_i8(row: &[i8], query: &[i16]) -> i32 {
    row.iter()
        .zip(query)
        .map(|(&r, &q)| i32::from(r) * i32::from(q))
        .sum()
}

/// [`dot_i8`] sixteen numbers at a time (sign-extended to 16 bits, multiplied and added in
/// pairs), the same whole number.
///
/// # Safety
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn dot_i8_avx2(row: &[i8], query: &[i16]) -> i32 {
    use std::arch::x86_64::{
        __m128i, __m256i, _mm_loadu_si128, _mm256_add_epi32, _mm256_cvtepi8_epi16,
        _mm256_loadu_si256, _mm256_madd_epi16, _mm256_setzero_si256, _mm256_storeu_si256,
    };
    let n = row.len().min(query.len());
    let whole = n / 16 * 16;
    let mut lanes = [0i32; 8];
    // SAFETY: every load reads 16 numbers at an offset below `whole ≤ n`, inside both slices.
    unsafe {
        let mut acc = _mm256_setzero_si256();
        for at in (0..whole).step_by(16) {
            let r = _mm256_cvtepi8_epi16(_mm_loadu_si128(row.as_ptr().add(at).cast::<__m128i>()));
            let q = _mm256_loadu_si256(query.as_ptr().add(at).cast::<__m256i>());
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(r, q));
        }
        _mm256_storeu_si256(lanes.as_mut_ptr().cast::<__m256i>(), acc);
    }
    lanes.iter().sum::<i32>() + dot_i8(&row[whole..n], &query[whole..n])
}

/// `row · v`, in eight independent lanes.
fn dot_plain(row: &[f16], v: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let whole = row.len().min(v.len()) / 8 * 8;
    for (h, x) in row[..whole].chunks_exact(8).zip(v[..whole].chunks_exact(8)) {
        for l in 0..8 {
            lanes[l] += h[l].to_f32() * x[l];
        }
    }
    let tail: f32 = row[whole..]
        .iter()
        .zip(&v[whole..])
        .map(|(h, x)| h.to_f32() * x)
        .sum();
    lanes.iter().sum::<f32>() + tail
}

impl Stored for StoryVectors {
    /// The manifest's description and the number of anime.
    type With = (StoryInfo, usize);

    /// Stored as float16, as held: the nearest neighbours barely move against float32
    /// (BENCHMARKS.md "Story search" measures it).
    fn arrays(&self) -> Vec<Array> {
        vec![array(
            ARRAY,
            Dtype::F16,
            vec![self.len(), self.dim],
            &self.rows,
        )]
    }

    fn restore(arrays: &Arrays, (info, n_anime): Self::With) -> Result<Self, ArrayError> {
        let rows: Vec<f16> = arrays.get(ARRAY, Dtype::F16)?;
        if rows.len() != n_anime * info.dim {
            return Err(ArrayError::Inconsistent(format!(
                "array {ARRAY} does not have {n_anime} rows of {}",
                info.dim
            )));
        }
        StoryVectors::from_halves(info.dim, rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    #[test]
    fn nearest_ranks_by_cosine_and_skips_what_is_not_kept() {
        let rows: Vec<f32> = [
            unit(&[1.0, 0.0, 0.0]),
            unit(&[0.9, 0.1, 0.0]),
            unit(&[0.0, 1.0, 0.0]),
            unit(&[0.7, 0.0, 0.7]),
        ]
        .concat();
        let v = StoryVectors::new(3, rows).expect("whole rows");
        assert_eq!(v.len(), 4);
        let found = v.nearest(&[1.0, 0.0, 0.0], 3, |ix| ix != 1);
        let order: Vec<u32> = found.iter().map(|&(ix, _)| ix.0).collect();
        assert_eq!(order, vec![0, 3, 2]);
        assert!((found[0].1 - 1.0).abs() < 1e-6);
        assert!(
            (v.similarity(AnimeIx(0), AnimeIx(3)) - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-3
        );
    }

    #[test]
    fn the_dot_product_reads_every_element() {
        // 70 numbers: two SIMD blocks of 32 and a tail of 6; small integers are exact in
        // float16, so the product is exact on every path.
        let a: Vec<f32> = (0..70).map(|i| (i % 11) as f32).collect();
        let b: Vec<f32> = (0..70).map(|i| (i % 3) as f32 - 1.0).collect();
        let expected: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        let v = StoryVectors::new(70, a.clone()).expect("one row");
        assert_eq!(v.dot(AnimeIx(0), &b), expected);
        let halves: Vec<f16> = a.iter().map(|&x| f16::from_f32(x)).collect();
        assert_eq!(dot_plain(&halves, &b), expected);
        let mut scores = Vec::new();
        v.scores_into(&b, &mut scores);
        assert_eq!(scores, vec![expected]);
        let mut acc = vec![1.0; 70];
        v.add_scaled(AnimeIx(0), 2.0, &mut acc);
        assert!(acc.iter().zip(&a).all(|(s, x)| *s == 1.0 + 2.0 * x));
        assert_eq!(v.vector(AnimeIx(0)), a);
    }

    #[test]
    fn coarse_scores_are_close_to_the_exact_ones() {
        // Pseudo-random unit vectors of MiniLM's width (and a tail past the SIMD blocks).
        for dim in [384, 37] {
            let mut state = 0x2545_f491_u64;
            let mut next = || {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state % 20_000) as f32 / 10_000.0 - 1.0
            };
            let rows: Vec<f32> = (0..300)
                .flat_map(|_| unit(&(0..dim).map(|_| next()).collect::<Vec<_>>()))
                .collect();
            let v = StoryVectors::new(dim, rows).expect("whole rows");
            for _ in 0..20 {
                let query = unit(&(0..dim).map(|_| next()).collect::<Vec<_>>());
                let (mut exact, mut coarse) = (Vec::new(), Vec::new());
                v.scores_into(&query, &mut exact);
                v.coarse_scores_into(&query, &mut coarse);
                let worst = exact
                    .iter()
                    .zip(&coarse)
                    .map(|(e, c)| (e - c).abs())
                    .fold(0f32, f32::max);
                let bound = v.coarse_error(&query);
                assert!(worst <= bound, "dim {dim}: off by {worst}, beyond {bound}");
                assert!(bound < 0.05, "dim {dim}: a useful bound ({bound})");
                assert!(
                    exact.iter().any(|e| e.abs() > 0.05),
                    "the scores are not all near 0"
                );
            }
        }
        let zero = StoryVectors::new(2, vec![0.0, 0.0]).expect("a zero row");
        let mut out = Vec::new();
        zero.coarse_scores_into(&[0.0, 0.0], &mut out);
        assert_eq!(out, vec![0.0]);
    }

    #[test]
    fn broken_rows_are_refused() {
        assert!(StoryVectors::new(3, vec![1.0; 4]).is_err());
        assert!(StoryVectors::new(0, vec![]).is_err());
        let err = StoryVectors::new(2, vec![1.0, 0.0, f32::NAN, 1.0]).expect_err("NaN");
        assert!(err.to_string().contains("row 1"), "{err}");
    }
}
