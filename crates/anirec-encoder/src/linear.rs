//! Dense layers, `y = x·Wᵀ + b`, with their weights packed once at load into the column panels
//! the matrix kernels stream through: [`NR`] output columns per panel, each panel `inputs` rows
//! of [`NR`] contiguous weights. One kernel call multiplies a few input rows by one or two
//! panels and keeps the sums in registers. The kernel is chosen once, at load, for the CPU at
//! hand: AVX-512 (two panels by [`MR_WIDE`] rows), AVX2 + FMA + F16C (one panel by [`MR`] rows),
//! or plain Rust, which the compiler vectorises. Packing at load is what makes a search query (a
//! dozen rows) fast: nothing is repacked per call.
//!
//! Weights are rounded to float16 at load and, for the AVX kernels, kept as float16 (widened to
//! float32 in registers; sums stay float32): a query's pass streams every weight once, and half
//! the bytes fit the last-level cache (MiniLM's dense layers: 21 MB instead of 42 MB), which
//! takes a search query's pass from 6.7 to 4.5 ms; the embeddings stay within the reference
//! test's cosine 0.9999 of sentence-transformers' (BENCHMARKS.md "Story search" measures both).

use half::f16;

/// Output columns per panel: two AVX registers of 8 floats, one AVX-512 register of 16.
const NR: usize = 16;

/// Input rows per AVX2 (and plain) kernel call: 6 × 2 accumulators + 2 weight registers + 1
/// broadcast fit the 16 AVX registers.
const MR: usize = 6;

/// Input rows per AVX-512 kernel call, over two panels: 12 × 2 accumulators + 2 weight
/// registers + 1 broadcast fit the 32 AVX-512 registers. Twice the rows of the AVX2 kernel
/// halve the weight loads and conversions per multiply-add.
const MR_WIDE: usize = 12;

/// Input rows multiplied by every panel before the next rows: they stay in the L2 cache while
/// the panels stream past.
const ROW_CHUNK: usize = 48;

/// Which kernel a layer's products run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kernel {
    /// AVX-512 (F): two float16 panels by up to [`MR_WIDE`] rows per call.
    Avx512,
    /// AVX2 + FMA + F16C: one float16 panel by up to [`MR`] rows per call.
    Avx2,
    /// Plain Rust over float32 panels, on any CPU.
    Plain,
}

impl Kernel {
    /// The fastest kernel this CPU runs.
    fn detect() -> Kernel {
        if has_avx512_kernels() {
            Kernel::Avx512
        } else if has_avx2_kernels() {
            Kernel::Avx2
        } else {
            Kernel::Plain
        }
    }
}

/// A dense layer with packed weights.
pub(crate) struct Linear {
    inputs: usize,
    outputs: usize,
    /// `outputs.div_ceil(NR)` panels of `inputs × NR` weights (columns past `outputs` are 0).
    panels: Panels,
    /// The bias, padded with zeros to whole panels.
    bias: Vec<f32>,
    kernel: Kernel,
}

/// The packed weights, float16-rounded, stored as the CPU's kernel reads them.
enum Panels {
    /// float16 bits, for the AVX kernels.
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
        let kernel = Kernel::detect();
        let panels = match kernel {
            Kernel::Avx512 | Kernel::Avx2 => Panels::Half(halves.map(f16::to_bits).collect()),
            Kernel::Plain => Panels::Single(halves.map(f16::to_f32).collect()),
        };
        Linear {
            inputs,
            outputs,
            panels,
            bias: padded,
            kernel,
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
        let panel_count = self.outputs.div_ceil(NR);
        for chunk in (0..rows).step_by(ROW_CHUNK) {
            let chunk_end = (chunk + ROW_CHUNK).min(rows);
            let mut p = 0;
            while p < panel_count {
                // The AVX-512 kernel takes panels two at a time; an odd last one goes to the
                // AVX2 kernel (a CPU with AVX-512 has AVX2).
                let (panel, width, rows_per_call) = match (&self.panels, self.kernel) {
                    (Panels::Half(all), Kernel::Avx512) if p + 1 < panel_count => (
                        Panel::HalfPair(&all[p * panel_len..(p + 2) * panel_len]),
                        2,
                        MR_WIDE,
                    ),
                    (Panels::Half(all), _) => {
                        (Panel::Half(&all[p * panel_len..(p + 1) * panel_len]), 1, MR)
                    }
                    (Panels::Single(all), _) => (
                        Panel::Single(&all[p * panel_len..(p + 1) * panel_len]),
                        1,
                        MR,
                    ),
                };
                let block = Block {
                    x,
                    inputs: self.inputs,
                    panel,
                    bias: &self.bias[p * NR..(p + width) * NR],
                    outputs: self.outputs,
                    column: p * NR,
                };
                let mut row = chunk;
                while row < chunk_end {
                    let count = (chunk_end - row).min(rows_per_call);
                    block.run(row, count, out);
                    row += count;
                }
                p += width;
            }
        }
    }
}

/// The packed weights one kernel call reads.
#[derive(Clone, Copy)]
enum Panel<'a> {
    /// Two consecutive float16 panels, for the AVX-512 kernel.
    HalfPair(&'a [u16]),
    /// One float16 panel, for the AVX2 kernel.
    Half(&'a [u16]),
    /// One float32 panel, for the plain kernel.
    Single(&'a [f32]),
}

/// One or two panels of a layer applied to some rows of its input.
struct Block<'a> {
    x: &'a [f32],
    inputs: usize,
    panel: Panel<'a>,
    /// The bias of the panels' columns.
    bias: &'a [f32],
    outputs: usize,
    /// The first panel's first output column.
    column: usize,
}

impl Block<'_> {
    /// Output rows `row..row + count` (`count` ≤ the kernel's rows per call) of the panels'
    /// columns.
    fn run(&self, row: usize, count: usize, out: &mut [f32]) {
        let width = self.bias.len();
        let columns = (self.outputs - self.column).min(width);
        if columns == width {
            // Whole panels: the kernel stores its rows straight into `out`.
            let start = row * self.outputs + self.column;
            self.sums(row, count, &mut out[start..], self.outputs);
        } else {
            // The last, part-empty panel: its rows go through a buffer, and only the columns
            // that exist are copied out.
            let mut sums = [0.0f32; 2 * NR * MR_WIDE];
            self.sums(row, count, &mut sums, width);
            for (r, sum) in sums.chunks_exact(width).take(count).enumerate() {
                let start = (row + r) * self.outputs + self.column;
                out[start..start + columns].copy_from_slice(&sum[..columns]);
            }
        }
    }

    /// The sums of rows `row..row + count` stored in `dst`, row `r` at `r × stride` (the
    /// panels' width of numbers each).
    fn sums(&self, row: usize, count: usize, dst: &mut [f32], stride: usize) {
        match self.panel {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: pairs are handed out only for the AVX-512 kernel, which is chosen only
            // where the CPU has AVX-512 F.
            Panel::HalfPair(panels) => unsafe {
                let kernel = match count {
                    12 => Self::sums_avx512::<12>,
                    11 => Self::sums_avx512::<11>,
                    10 => Self::sums_avx512::<10>,
                    9 => Self::sums_avx512::<9>,
                    8 => Self::sums_avx512::<8>,
                    7 => Self::sums_avx512::<7>,
                    6 => Self::sums_avx512::<6>,
                    5 => Self::sums_avx512::<5>,
                    4 => Self::sums_avx512::<4>,
                    3 => Self::sums_avx512::<3>,
                    2 => Self::sums_avx512::<2>,
                    _ => Self::sums_avx512::<1>,
                };
                kernel(self, panels, row, dst, stride)
            },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: half panels are made only where the CPU has AVX2, FMA and F16C.
            Panel::Half(panel) => unsafe {
                let kernel = match count {
                    6 => Self::sums_avx2::<6>,
                    5 => Self::sums_avx2::<5>,
                    4 => Self::sums_avx2::<4>,
                    3 => Self::sums_avx2::<3>,
                    2 => Self::sums_avx2::<2>,
                    _ => Self::sums_avx2::<1>,
                };
                kernel(self, panel, row, dst, stride)
            },
            #[cfg(not(target_arch = "x86_64"))]
            Panel::HalfPair(_) | Panel::Half(_) => {
                unreachable!("half panels are made for the AVX kernels only")
            }
            Panel::Single(panel) => self.sums_plain(panel, row, count, dst, stride),
        }
    }

    /// The sums in plain Rust (any CPU).
    fn sums_plain(&self, panel: &[f32], row: usize, count: usize, dst: &mut [f32], stride: usize) {
        for r in 0..count {
            dst[r * stride..r * stride + NR].copy_from_slice(self.bias);
        }
        for (k, w) in panel.chunks_exact(NR).enumerate() {
            for r in 0..count {
                let x = self.x[(row + r) * self.inputs + k];
                for (s, w) in dst[r * stride..r * stride + NR].iter_mut().zip(w) {
                    *s += x * w;
                }
            }
        }
    }

    /// The sums of `R` rows by one panel with AVX2, FMA and F16C: 2 × `R` accumulators held in
    /// registers, the float16 weights widened as they are loaded.
    ///
    /// # Safety
    /// The CPU must have AVX2, FMA and F16C.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn sums_avx2<const R: usize>(
        &self,
        panel: &[u16],
        row: usize,
        dst: &mut [f32],
        stride: usize,
    ) {
        use std::arch::x86_64::{
            __m128i, __m256, _mm_loadu_si128, _mm256_broadcast_ss, _mm256_cvtph_ps,
            _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_storeu_ps,
        };
        assert!(R <= MR && (row + R) * self.inputs <= self.x.len() && self.bias.len() == NR);
        assert!(panel.len() == self.inputs * NR && (R - 1) * stride + NR <= dst.len());
        let x = self.x[row * self.inputs..].as_ptr();
        let w = panel.as_ptr();
        // SAFETY: every pointer below stays inside `x` (rows `row..row + R`, checked above),
        // the panel (`inputs × NR`), the bias (`NR`) or `dst` (`R` rows of `NR` at `stride`).
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
            for (r, acc) in acc.iter().enumerate() {
                let sum = dst.as_mut_ptr().add(r * stride);
                _mm256_storeu_ps(sum, acc[0]);
                _mm256_storeu_ps(sum.add(8), acc[1]);
            }
        }
    }

    /// The sums of `R` rows by two panels with AVX-512: 2 × `R` accumulators of 16 floats held
    /// in registers, the float16 weights of both panels widened as they are loaded.
    ///
    /// # Safety
    /// The CPU must have AVX-512 F.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn sums_avx512<const R: usize>(
        &self,
        panels: &[u16],
        row: usize,
        dst: &mut [f32],
        stride: usize,
    ) {
        use std::arch::x86_64::{
            __m256i, __m512, _mm256_loadu_si256, _mm512_cvtph_ps, _mm512_fmadd_ps, _mm512_loadu_ps,
            _mm512_set1_ps, _mm512_storeu_ps,
        };
        let panel_len = self.inputs * NR;
        assert!(R <= MR_WIDE && (row + R) * self.inputs <= self.x.len());
        assert!(self.bias.len() == 2 * NR && panels.len() == 2 * panel_len);
        assert!((R - 1) * stride + 2 * NR <= dst.len());
        let x = self.x[row * self.inputs..].as_ptr();
        let w = panels.as_ptr();
        // SAFETY: every pointer below stays inside `x` (rows `row..row + R`, checked above),
        // the two panels (`2 × inputs × NR`), the bias (`2 × NR`) or `dst` (`R` rows of
        // `2 × NR` at `stride`).
        unsafe {
            let first = _mm512_loadu_ps(self.bias.as_ptr());
            let second = _mm512_loadu_ps(self.bias.as_ptr().add(NR));
            let mut acc: [[__m512; 2]; R] = [[first, second]; R];
            for k in 0..self.inputs {
                let w0 = _mm512_cvtph_ps(_mm256_loadu_si256(w.add(k * NR).cast::<__m256i>()));
                let w1 = _mm512_cvtph_ps(_mm256_loadu_si256(
                    w.add(panel_len + k * NR).cast::<__m256i>(),
                ));
                for (r, acc) in acc.iter_mut().enumerate() {
                    let v = _mm512_set1_ps(*x.add(r * self.inputs + k));
                    acc[0] = _mm512_fmadd_ps(v, w0, acc[0]);
                    acc[1] = _mm512_fmadd_ps(v, w1, acc[1]);
                }
            }
            for (r, acc) in acc.iter().enumerate() {
                let sum = dst.as_mut_ptr().add(r * stride);
                _mm512_storeu_ps(sum, acc[0]);
                _mm512_storeu_ps(sum.add(NR), acc[1]);
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

/// Whether this CPU runs the AVX-512 kernel (and the AVX2 kernels beside it).
pub(crate) fn has_avx512_kernels() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        has_avx2_kernels() && std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A layer of awkward sizes (an odd number of panels, the last one part empty; rows past
    /// one chunk and not a multiple of any kernel's) against the textbook product of its
    /// float16-rounded weights, on every kernel this CPU runs.
    #[test]
    fn matches_the_textbook_product() {
        let (rows, inputs, outputs) = (53, 37, 45);
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
        let single: Vec<f32> = match &layer.panels {
            Panels::Half(h) => h.iter().map(|&b| f16::from_bits(b).to_f32()).collect(),
            Panels::Single(s) => s.clone(),
        };
        let mut kernels = vec![(Kernel::Plain, Panels::Single(single))];
        if let Panels::Half(half) = &layer.panels {
            kernels.push((Kernel::Avx2, Panels::Half(half.clone())));
            if has_avx512_kernels() {
                kernels.push((Kernel::Avx512, Panels::Half(half.clone())));
            }
        }
        assert_eq!(
            kernels.last().map(|(kernel, _)| *kernel),
            Some(Kernel::detect()),
            "this CPU's own kernel is among those tested"
        );
        for (kernel, panels) in kernels {
            let variant = Linear {
                inputs,
                outputs,
                panels,
                bias: layer.bias.clone(),
                kernel,
            };
            let mut out = vec![f32::NAN; rows * outputs];
            variant.apply(&x, &mut out);
            for (i, (got, want)) in out.iter().zip(&expected).enumerate() {
                assert!(
                    (got - want).abs() < 1e-4,
                    "{kernel:?}: row {}, column {}: {got} vs {want}",
                    i / outputs,
                    i % outputs
                );
            }
        }
    }
}
