//! Story embeddings of the catalogue: one L2-normalised sentence embedding per anime (its
//! titles, genres and synopsis, through the sentence encoder), the text each anime is embedded
//! from, and exact nearest-neighbour search over them.
//!
//! Exact search is a dot product with every row: 17,562 × 384 multiply-adds, about 2 ms on one
//! core of the 2-core test machine (BENCHMARKS.md "Story search"), so no approximate index is
//! needed at catalogue scale.

use anirec_data::AnimeIx;
use anirec_data::catalogue::Anime;
use half::f16;
use safetensors::Dtype;
use serde::{Deserialize, Serialize};

use crate::stored::{Array, Arrays, Stored, array};
use crate::topk::top_k;

/// How story embeddings were made, kept in the bundle's manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoryInfo {
    /// The encoder's fingerprint (a digest of its files): a query must be embedded by an
    /// encoder with the same fingerprint to be compared with these vectors.
    pub encoder: String,
    /// Length of each vector.
    pub dim: usize,
    /// What each anime's text holds ([`STORY_TEXT`]).
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
        "the model's story embeddings were made by another encoder ({model}) than this one ({encoder}); retrain the model with this encoder"
    )]
    OtherEncoder {
        /// The fingerprint of the encoder that embedded the catalogue.
        model: String,
        /// The fingerprint of the encoder at hand.
        encoder: String,
    },
}

/// The parts of an anime that its story text holds, in order.
pub const STORY_TEXT: &str = "title, English title, genres, synopsis";

/// The text an anime is embedded from: its title (and English title when different), its
/// genres, and its synopsis. The titles and genres give short or missing synopses context.
pub fn story_text(anime: &Anime) -> String {
    let mut text = anime.name.clone();
    if let Some(english) = anime.english_name.as_deref().filter(|e| *e != anime.name) {
        text.push_str(" (");
        text.push_str(english);
        text.push(')');
    }
    if !anime.genres.is_empty() {
        text.push_str(". Genres: ");
        text.push_str(&anime.genres.join(", "));
    }
    text.push_str(". ");
    text.push_str(anime.synopsis.as_deref().unwrap_or(""));
    text
}

/// One unit-length vector per anime, row by row.
#[derive(Debug, Clone, PartialEq)]
pub struct StoryVectors {
    dim: usize,
    rows: Vec<f32>,
}

/// The name of the array in the bundle's tensor file.
const ARRAY: &str = "story.vectors";

impl StoryVectors {
    /// Vectors of `dim` numbers each, one after another (one row per anime, in catalogue
    /// order). Fails when `rows` is not a whole number of rows or a row is not finite.
    pub fn new(dim: usize, rows: Vec<f32>) -> Result<StoryVectors, String> {
        if dim == 0 || !rows.len().is_multiple_of(dim) {
            return Err(format!(
                "{} numbers are not whole rows of {dim}",
                rows.len()
            ));
        }
        if let Some(at) = rows.iter().position(|x| !x.is_finite()) {
            return Err(format!("row {} holds a value that is not finite", at / dim));
        }
        Ok(StoryVectors { dim, rows })
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

    /// The vector of anime `ix`.
    pub fn row(&self, ix: AnimeIx) -> &[f32] {
        let at = ix.0 as usize * self.dim;
        &self.rows[at..at + self.dim]
    }

    /// Cosine similarity of `query` (unit length, [`StoryVectors::dim`] long) to every
    /// anime, written into `out`.
    pub fn scores_into(&self, query: &[f32], out: &mut Vec<f32>) {
        out.clear();
        out.resize(self.len(), 0.0);
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU has AVX2 and FMA.
            return unsafe { scores_avx2(&self.rows, self.dim, query, out) };
        }
        scores_body(&self.rows, self.dim, query, out);
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
        dot(self.row(a), self.row(b))
    }
}

/// `out[i] = rows_i · query`, compiled for AVX2 + FMA (eight-lane adds twice as wide as the
/// baseline's): the scan over every anime a story search makes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn scores_avx2(rows: &[f32], dim: usize, query: &[f32], out: &mut [f32]) {
    scores_body(rows, dim, query, out);
}

#[inline(always)]
fn scores_body(rows: &[f32], dim: usize, query: &[f32], out: &mut [f32]) {
    for (o, row) in out.iter_mut().zip(rows.chunks_exact(dim)) {
        *o = dot(row, query);
    }
}

/// The dot product of two vectors of the same length, in eight independent lanes, which the
/// compiler turns into SIMD adds.
#[inline(always)]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (a8, a_rest) = a.split_at(a.len() / 8 * 8);
    let (b8, b_rest) = b.split_at(a8.len());
    for (x, y) in a8.chunks_exact(8).zip(b8.chunks_exact(8)) {
        for l in 0..8 {
            lanes[l] += x[l] * y[l];
        }
    }
    let tail: f32 = a_rest.iter().zip(b_rest).map(|(x, y)| x * y).sum();
    lanes.iter().sum::<f32>() + tail
}

impl Stored for StoryVectors {
    /// The manifest's description and the number of anime.
    type With = (StoryInfo, usize);

    /// Stored as float16: half the bytes, and the nearest neighbours barely move
    /// (BENCHMARKS.md "Story search" measures it).
    fn arrays(&self) -> Vec<Array> {
        let halves: Vec<u16> = self
            .rows
            .iter()
            .map(|&x| f16::from_f32(x).to_bits())
            .collect();
        vec![array(
            ARRAY,
            Dtype::F16,
            vec![self.len(), self.dim],
            &halves,
        )]
    }

    fn restore(arrays: &Arrays, (info, n_anime): Self::With) -> Result<Self, String> {
        let halves: Vec<u16> = arrays.get(ARRAY, Dtype::F16)?;
        if halves.len() != n_anime * info.dim {
            return Err(format!(
                "array {ARRAY} does not have {n_anime} rows of {}",
                info.dim
            ));
        }
        let rows = halves
            .into_iter()
            .map(|h| f16::from_bits(h).to_f32())
            .collect();
        StoryVectors::new(info.dim, rows).map_err(|e| format!("array {ARRAY}: {e}"))
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
        let a: Vec<f32> = (0..19).map(|i| i as f32).collect();
        let b: Vec<f32> = (0..19).map(|i| (i % 3) as f32).collect();
        let expected: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert_eq!(dot(&a, &b), expected);
    }

    #[test]
    fn broken_rows_are_refused() {
        assert!(StoryVectors::new(3, vec![1.0; 4]).is_err());
        assert!(StoryVectors::new(0, vec![]).is_err());
        let err = StoryVectors::new(2, vec![1.0, 0.0, f32::NAN, 1.0]).expect_err("NaN");
        assert!(err.contains("row 1"), "{err}");
    }

    #[test]
    fn the_story_text_holds_titles_genres_and_synopsis() {
        let anime = Anime {
            name: "Cowboy Bebop".into(),
            english_name: Some("Cowboy Bebop".into()),
            genres: vec!["Action".into(), "Space".into()],
            synopsis: Some("In the year 2071, humanity has colonized...".into()),
            ..Anime::default()
        };
        assert_eq!(
            story_text(&anime),
            "Cowboy Bebop. Genres: Action, Space. In the year 2071, humanity has colonized..."
        );
    }
}
