//! Dense layers, `y = x·Wᵀ + b`, with their weights packed once at load into the column panels
//! the matrix kernel streams through: [`NR`] output columns per panel, each panel `inputs` rows
//! of [`NR`] contiguous weights. One kernel call multiplies up to [`MR`] input rows by one panel
//! and keeps the `MR × NR` sums in registers (AVX2 + FMA + F16C where the CPU has them, checked
//! at run time; plain Rust, which the compiler vectorises, otherwise). Packing at load is what
//! makes a search query (a dozen rows) fast: nothing is repacked per call.
//!
//! Weights are rounded to float16 at load and, for the AVX2 kernel, kept as float16 (widened to
//! float32 in registers; sums stay float32): a query's pass streams every weight once, and half
//! the bytes fit the last-level cache (MiniLM's dense layers: 21 MB instead of 42 MB), which
//! takes a search query's pass from 6.7 to 4.5 ms; the embeddings stay within the reference
//! test's cosine 0.9999 of sentence-transformers' (BENCHMARKS.md "Story search" measures both).

use half::f16;

/// Output columns per panel: two AVX registers of 8 floats.
const NR: usize = 16;

/// Input rows per kernel call: 6 × 2 accumulators + 2 weight registers + 1 broadcast fit the
/// 16 AVX registers.
const MR: usize = 6;

/// Input rows multiplied by every panel before the next rows: they stay in the L2 cache while
/// the panels stream past.
const ROW_CHUNK: usize = 48;

/// A dense layer with packed weights.
pub(crate) struct Linear {
    inputs: usize,
    outputs: usize,
    /// `outputs.div_ceil(NR)` panels of `inputs × NR` weights (columns past `outputs` are 0).
    panels: Panels,
    /// The bias, padded with zeros to whole panels.
    bias: Vec<f32>,
}

/// The packed weights, float16-rounded, stored as the CPU's kernel reads them.
enum Panels {
    /// float16 bits, for the AVX2 + F16C kernel.
    Half(Vec<u16>),
    /// float32 values, for the plain kernel.
    Single(Vec<f32>),
}

impl Linear {
    /// A layer from PyTorch's layout: `weight` is `outputs × inputs`, row-major.
    pub(crate) fn new(weight: &[f32], bias: &[f32], outputs: usize, inputs: usize) -> Linear {
        assert_eq!(weight.len(), outputs * inputs, "weight shape");
        assert_eq!(bias.len(), outputs, "bias shape");
        let count = outputs.div_ceil(NR);
        let mut panels = vec![0.0; count * inputs * NR];
        for (column, row) in weight.chunks_exact(inputs).enumerate() {
            let panel = &mut panels[(column / NR) * inputs * NR..][..inputs * NR];
            for (k, &w) in row.iter().enumerate() {
                panel[k * NR + column % NR] = w;
            }
        }
        let mut padded = bias.to_vec();
        padded.resize(count * NR, 0.0);
        let halves = panels.iter().map(|&w| f16::from_f32(w));
        let panels = if has_avx2_kernels() {
            Panels::Half(halves.map(f16::to_bits).collect())
        } else {
            Panels::Single(halves.map(f16::to_f32).collect())
        };
        Linear {
            inputs,
            outputs,
            panels,
            bias: padded,
        }
    }

    /// Width of the output rows.
    pub(crate) fn outputs(&self) -> usize {
        self.outputs
    }

    /// `out` (`m × outputs`) = `x` (`m × inputs`) · Wᵀ + b, for `m = x.len() / inputs`.
    pub(crate) fn apply(&self, x: &[f32], out: &mut [f32]) {
        let rows = x.len() / self.inputs;
        assert_eq!(x.len(), rows * self.inputs, "input width");
        assert_eq!(out.len(), rows * self.outputs, "output size");
        let panel_len = self.inputs * NR;
        for chunk in (0..rows).step_by(ROW_CHUNK) {
            let chunk_end = (chunk + ROW_CHUNK).min(rows);
            for p in 0..self.outputs.div_ceil(NR) {
                let panel = match &self.panels {
                    Panels::Half(all) => Panel::Half(&all[p * panel_len..(p + 1) * panel_len]),
                    Panels::Single(all) => Panel::Single(&all[p * panel_len..(p + 1) * panel_len]),
                };
                let block = Block {
                    x,
                    inputs: self.inputs,
                    panel,
                    bias: &self.bias[p * NR..(p + 1) * NR],
                    outputs: self.outputs,
                    column: p * NR,
                };
                let mut row = chunk;
                while row < chunk_end {
                    let count = (chunk_end - row).min(MR);
                    block.run(row, count, out);
                    row += count;
                }
            }
        }
    }
}

/// One panel of packed weights.
#[derive(Clone, Copy)]
enum Panel<'a> {
    Half(&'a [u16]),
    Single(&'a [f32]),
}

/// One panel of a layer applied to some rows of its input.
struct Block<'a> {
    x: &'a [f32],
    inputs: usize,
    panel: Panel<'a>,
    bias: &'a [f32],
    outputs: usize,
    /// The panel's first output column.
    column: usize,
}

impl Block<'_> {
    /// Output rows `row..row + count` (`count ≤ MR`) of this panel's columns.
    fn run(&self, row: usize, count: usize, out: &mut [f32]) {
        let mut sums = [[0.0f32; NR]; MR];
        match self.panel {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: half panels are made only where the CPU has AVX2, FMA and F16C.
            Panel::Half(panel) => unsafe {
                match count {
                    6 => self.sums_avx2::<6>(panel, row, &mut sums),
                    5 => self.sums_avx2::<5>(panel, row, &mut sums),
                    4 => self.sums_avx2::<4>(panel, row, &mut sums),
                    3 => self.sums_avx2::<3>(panel, row, &mut sums),
                    2 => self.sums_avx2::<2>(panel, row, &mut sums),
                    _ => self.sums_avx2::<1>(panel, row, &mut sums),
                }
            },
            #[cfg(not(target_arch = "x86_64"))]
            Panel::Half(_) => unreachable!("half panels are made for the AVX2 kernel only"),
            Panel::Single(panel) => self.sums_plain(panel, row, count, &mut sums),
        }
        let columns = (self.outputs - self.column).min(NR);
        for (r, sum) in sums.iter().take(count).enumerate() {
            let start = (row + r) * self.outputs + self.column;
            out[start..start + columns].copy_from_slice(&sum[..columns]);
        }
    }

    /// The sums in plain Rust (any CPU).
    fn sums_plain(&self, panel: &[f32], row: usize, count: usize, sums: &mut [[f32; NR]; MR]) {
        for sum in sums.iter_mut().take(count) {
            sum.copy_from_slice(self.bias);
        }
        for (k, w) in panel.chunks_exact(NR).enumerate() {
            for (r, sum) in sums.iter_mut().take(count).enumerate() {
                let x = self.x[(row + r) * self.inputs + k];
                for (s, w) in sum.iter_mut().zip(w) {
                    *s += x * w;
                }
            }
        }
    }

    /// The sums of `R` rows with AVX2, FMA and F16C: 2 × `R` accumulators held in registers,
    /// the float16 weights widened as they are loaded.
    ///
    /// # Safety
    /// The CPU must have AVX2, FMA and F16C.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn sums_avx2<const R: usize>(
        &self,
        panel: &[u16],
        row: usize,
        sums: &mut [[f32; NR]; MR],
    ) {
        use std::arch::x86_64::{
            __m128i, __m256, _mm_loadu_si128, _mm256_broadcast_ss, _mm256_cvtph_ps,
            _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_storeu_ps,
        };
        assert!((row + R) * self.inputs <= self.x.len() && self.bias.len() == NR);
        assert_eq!(panel.len(), self.inputs * NR);
        let x = self.x[row * self.inputs..].as_ptr();
        let w = panel.as_ptr();
        // SAFETY: every pointer below stays inside `x` (rows `row..row + R`, checked above),
        // the panel (`inputs × NR`) or the bias (`NR`).
        unsafe {
            let low = _mm256_loadu_ps(self.bias.as_ptr());
            let high = _mm256_loadu_ps(self.bias.as_ptr().add(8));
            let mut acc: [[__m256; 2]; R] = [[low, high]; R];
            for k in 0..self.inputs {
                let w0 = _mm256_cvtph_ps(_mm_loadu_si128(w.add(k * NR).cast::<__m128i>()));
                let w1 = _mm256_cvtph_ps(_mm_loadu_si128(w.add(k * NR + 8).cast::<__m128i>()));
                for (r, acc) in acc.iter_mut().enumerate() {
                    let v = _mm256_broadcast_ss(&*x.add(r * self.inputs + k));
                    acc[0] = _mm256_fmadd_ps(v, w0, acc[0]);
                    acc[1] = _mm256_fmadd_ps(v, w1, acc[1]);
                }
            }
            for (sum, acc) in sums.iter_mut().zip(&acc) {
                _mm256_storeu_ps(sum.as_mut_ptr(), acc[0]);
                _mm256_storeu_ps(sum.as_mut_ptr().add(8), acc[1]);
            }
        }
    }
}

/// Whether this CPU runs the AVX2 kernels: AVX2, FMA and F16C (cached by the standard
/// library).
pub(crate) fn has_avx2_kernels() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
            && std::arch::is_x86_feature_detected!("f16c")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A layer of awkward sizes (columns not a multiple of the panel, rows not of the kernel)
    /// against the textbook product of its float16-rounded weights, on this CPU's kernel and
    /// on the plain one.
    #[test]
    fn matches_the_textbook_product() {
        let (rows, inputs, outputs) = (13, 37, 21);
        let value = |i: usize| ((i * 7919) % 1000) as f32 / 500.0 - 1.0;
        let x: Vec<f32> = (0..rows * inputs).map(value).collect();
        let weight: Vec<f32> = (0..outputs * inputs).map(|i| value(i + 3)).collect();
        let bias: Vec<f32> = (0..outputs).map(|i| value(i + 11)).collect();
        let layer = Linear::new(&weight, &bias, outputs, inputs);
        let rounded = |w: f32| f16::from_f32(w).to_f32();
        let mut expected = vec![0.0f32; rows * outputs];
        for r in 0..rows {
            for c in 0..outputs {
                expected[r * outputs + c] = bias[c]
                    + (0..inputs)
                        .map(|k| x[r * inputs + k] * rounded(weight[c * inputs + k]))
                        .sum::<f32>();
            }
        }
        let mut out = vec![f32::NAN; rows * outputs];
        layer.apply(&x, &mut out);
        let close = |a: &[f32]| a.iter().zip(&expected).all(|(a, b)| (a - b).abs() < 1e-4);
        assert!(close(&out), "this CPU's kernel");

        let single: Vec<f32> = match &layer.panels {
            Panels::Half(h) => h.iter().map(|&b| f16::from_bits(b).to_f32()).collect(),
            Panels::Single(s) => s.clone(),
        };
        let plain = Linear {
            panels: Panels::Single(single),
            bias: layer.bias.clone(),
            ..layer
        };
        let mut out = vec![f32::NAN; rows * outputs];
        plain.apply(&x, &mut out);
        assert!(close(&out), "the plain kernel");
    }
}
