//! Dense layers, `y = x·Wᵀ + b`, with their weights packed once at load into the column panels
//! the matrix kernels stream through: [`NR`] output columns per panel, each panel `inputs` rows
//! of [`NR`] contiguous weights. One kernel call multiplies a few input rows by one or two
//! panels and keeps the sums in registers. The kernel is chosen once, at load, for the CPU at
//! hand: AVX-512 BF16 or AVX-512 (two panels by [`MR_WIDE`] rows), AVX2 + FMA + F16C (one panel
//! by [`MR`] rows), or plain Rust, which the compiler vectorises. Packing at load is what makes
//! a search query (a dozen rows) fast: nothing is repacked per call.
//!
//! Weights are rounded to float16 at load and, for the AVX kernels, kept as float16 (widened to
//! float32 in registers; sums stay float32): a query's pass streams every weight once, and half
//! the bytes fit the last-level cache (MiniLM's dense layers: 21 MB instead of 42 MB), which
//! takes a search query's pass from 6.7 to 4.5 ms. Where the CPU has AVX-512 BF16, weights and
//! inputs are rounded to bfloat16 instead and one instruction multiplies two inputs by their
//! weights for sixteen columns and adds both to float32 sums (`vdpbf16ps`): twice the
//! multiply-adds of a float32 FMA, which halves the dense layers' time. Both stay within the
//! reference test's cosine 0.9999 of sentence-transformers' embeddings (BENCHMARKS.md "Story
//! search" measures them).

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
    /// AVX-512 BF16: two bfloat16 panels by up to [`MR_WIDE`] rows per call, inputs taken two
    /// at a time.
    Bf16,
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
        if has_bf16_kernel() {
            Kernel::Bf16
        } else if has_avx512_kernels() {
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
    /// `outputs.div_ceil(NR)` panels (rounded up to an even count for the BF16 kernel, which
    /// takes them in pairs) of `depth × NR` weights; columns past `outputs` and rows past
    /// `inputs` are 0.
    panels: Panels,
    /// Rows per panel: `inputs`, rounded up to even for the BF16 kernel.
    depth: usize,
    /// The bias, padded with zeros to whole panels.
    bias: Vec<f32>,
    kernel: Kernel,
}

/// The packed weights, stored as the CPU's kernel reads them.
enum Panels {
    /// bfloat16 bits, for the BF16 kernel: each panel `depth / 2` rows of [`NR`] pairs, a
    /// column's weights for two consecutive inputs side by side.
    Brain(Vec<u16>),
    /// float16 bits, for the AVX kernels.
    Half(Vec<u16>),
    /// float32 values, for the plain kernel.
    Single(Vec<f32>),
}

impl Linear {
    /// A layer from PyTorch's layout: `weight` is `outputs × inputs`, row-major.
    pub(crate) fn new(weight: &[f32], bias: &[f32], outputs: usize, inputs: usize) -> Linear {
        Linear::for_kernel(weight, bias, outputs, inputs, Kernel::detect())
    }

    /// [`Linear::new`] packed for `kernel`.
    fn for_kernel(
        weight: &[f32],
        bias: &[f32],
        outputs: usize,
        inputs: usize,
        kernel: Kernel,
    ) -> Linear {
        assert_eq!(weight.len(), outputs * inputs, "weight shape");
        assert_eq!(bias.len(), outputs, "bias shape");
        let (count, depth) = match kernel {
            Kernel::Bf16 => (outputs.div_ceil(2 * NR) * 2, inputs.div_ceil(2) * 2),
            _ => (outputs.div_ceil(NR), inputs),
        };
        let mut panels = vec![0.0; count * depth * NR];
        for (column, row) in weight.chunks_exact(inputs).enumerate() {
            let panel = &mut panels[(column / NR) * depth * NR..][..depth * NR];
            for (k, &w) in row.iter().enumerate() {
                panel[k * NR + column % NR] = w;
            }
        }
        let mut padded = bias.to_vec();
        padded.resize(count * NR, 0.0);
        let halves = panels.iter().map(|&w| f16::from_f32(w));
        let panels = match kernel {
            // Rows 2i and 2i + 1 of a panel become row i's pairs.
            Kernel::Bf16 => Panels::Brain(
                panels
                    .chunks_exact(2 * NR)
                    .flat_map(|rows| (0..2 * NR).map(move |i| rows[(i % 2) * NR + i / 2]))
                    .map(|w| half::bf16::from_f32(w).to_bits())
                    .collect(),
            ),
            Kernel::Avx512 | Kernel::Avx2 => Panels::Half(halves.map(f16::to_bits).collect()),
            Kernel::Plain => Panels::Single(halves.map(f16::to_f32).collect()),
        };
        Linear {
            inputs,
            outputs,
            panels,
            depth,
            bias: padded,
            kernel,
        }
    }

    /// Width of the output rows.
    pub(crate) fn outputs(&self) -> usize {
        self.outputs
    }

    /// `out` (`m × outputs`) = `x` (`m × inputs`) · Wᵀ + b, for `m = x.len() / inputs`.
    /// `scratch` holds the input rounded for the BF16 kernel, and is kept between calls so
    /// that its room is reused.
    pub(crate) fn apply(&self, x: &[f32], out: &mut [f32], scratch: &mut Scratch) {
        let rows = x.len() / self.inputs;
        assert_eq!(x.len(), rows * self.inputs, "input width");
        assert_eq!(out.len(), rows * self.outputs, "output size");
        let pairs: &[u32] = match self.panels {
            Panels::Brain(_) => {
                // Every pair is written below, so only new room is zeroed.
                scratch.pairs.resize(rows * self.depth / 2, 0);
                // SAFETY: bfloat16 panels are made only where the CPU has AVX-512 BF16.
                #[cfg(target_arch = "x86_64")]
                unsafe {
                    round_to_pairs(x, self.inputs, &mut scratch.pairs)
                };
                &scratch.pairs
            }
            _ => &[],
        };
        let panel_len = self.depth * NR;
        let panel_count = self.bias.len() / NR;
        for chunk in (0..rows).step_by(ROW_CHUNK) {
            let chunk_end = (chunk + ROW_CHUNK).min(rows);
            let mut p = 0;
            while p < panel_count {
                // The AVX-512 kernels take panels two at a time (the BF16 kernel's count is
                // even); an odd last float16 one goes to the AVX2 kernel (a CPU with AVX-512
                // has AVX2).
                let (panel, width, rows_per_call) = match (&self.panels, self.kernel) {
                    (Panels::Brain(all), _) => (
                        Panel::BrainPair(&all[p * panel_len..(p + 2) * panel_len]),
                        2,
                        MR_WIDE,
                    ),
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
                    pairs,
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

/// Room a layer's kernel may need beside its input: the input rounded to bfloat16 pairs for
/// the BF16 kernel. One per forward pass, handed to every layer.
#[derive(Default)]
pub(crate) struct Scratch {
    /// Each input row as `depth / 2` pairs of bfloat16 bits (the first input in the low half).
    pairs: Vec<u32>,
}

/// Rounds each row of `x` (rows of `inputs` numbers) to bfloat16 (to nearest, ties to even) as
/// pairs into `pairs` (rows of `inputs.div_ceil(2)` pairs, an odd row's last pair padded with
/// zero).
///
/// # Safety
/// The CPU must have AVX-512 F and BF16.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bf16")]
unsafe fn round_to_pairs(x: &[f32], inputs: usize, pairs: &mut [u32]) {
    use std::arch::x86_64::{
        __m512bh, __m512i, _mm512_cvtne2ps_pbh, _mm512_loadu_ps, _mm512_storeu_si512,
    };
    let width = inputs.div_ceil(2);
    assert_eq!(pairs.len() * inputs, x.len() * width, "pairs for every row");
    for (row, out) in x.chunks_exact(inputs).zip(pairs.chunks_exact_mut(width)) {
        let whole = inputs / 32 * 32;
        for (chunk, out) in row[..whole].chunks_exact(32).zip(out.chunks_exact_mut(16)) {
            // SAFETY: `chunk` holds 32 floats and `out` 16 pairs, as read and written.
            unsafe {
                let low = _mm512_loadu_ps(chunk.as_ptr());
                let high = _mm512_loadu_ps(chunk.as_ptr().add(16));
                let rounded = _mm512_cvtne2ps_pbh(high, low);
                let rounded = std::mem::transmute::<__m512bh, __m512i>(rounded);
                _mm512_storeu_si512(out.as_mut_ptr().cast(), rounded);
            }
        }
        let bits = |v: Option<&f32>| v.map_or(0, |&v| u32::from(half::bf16::from_f32(v).to_bits()));
        for (i, pair) in out[whole / 2..].iter_mut().enumerate() {
            let k = whole + 2 * i;
            *pair = bits(row.get(k)) | bits(row.get(k + 1)) << 16;
        }
    }
}

/// The packed weights one kernel call reads.
#[derive(Clone, Copy)]
enum Panel<'a> {
    /// Two consecutive bfloat16 panels, for the BF16 kernel.
    BrainPair(&'a [u16]),
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
    /// `x` as bfloat16 pairs for the BF16 kernel (empty for the others).
    pairs: &'a [u32],
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
        /// The kernel instance for `count` rows (1 ..= the listed counts).
        macro_rules! by_rows {
            ($kernel:ident, $count:expr, [$($rows:literal),+]) => {
                match $count {
                    $($rows => Self::$kernel::<$rows>,)+
                    _ => Self::$kernel::<1>,
                }
            };
        }
        match self.panel {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: bfloat16 panels are made only where the CPU has AVX-512 F and BF16.
            Panel::BrainPair(panels) => unsafe {
                let kernel = by_rows!(sums_bf16, count, [12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2]);
                kernel(self, panels, row, dst, stride)
            },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: pairs are handed out only for the AVX-512 kernel, which is chosen only
            // where the CPU has AVX-512 F.
            Panel::HalfPair(panels) => unsafe {
                let kernel = by_rows!(sums_avx512, count, [12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2]);
                kernel(self, panels, row, dst, stride)
            },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: half panels are made only where the CPU has AVX2, FMA and F16C.
            Panel::Half(panel) => unsafe {
                let kernel = by_rows!(sums_avx2, count, [6, 5, 4, 3, 2]);
                kernel(self, panel, row, dst, stride)
            },
            #[cfg(not(target_arch = "x86_64"))]
            Panel::BrainPair(_) | Panel::HalfPair(_) | Panel::Half(_) => {
                unreachable!("16-bit panels are made for the AVX kernels only")
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

    /// The sums of `R` rows by two panels with AVX-512 BF16: 2 × `R` accumulators of 16 floats
    /// held in registers; each instruction multiplies a row's pair of inputs by both inputs'
    /// weights for 16 columns and adds the two products to the sums.
    ///
    /// # Safety
    /// The CPU must have AVX-512 F and BF16.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bf16")]
    unsafe fn sums_bf16<const R: usize>(
        &self,
        panels: &[u16],
        row: usize,
        dst: &mut [f32],
        stride: usize,
    ) {
        use std::arch::x86_64::{
            __m512, __m512bh, _mm512_dpbf16_ps, _mm512_loadu_ps, _mm512_loadu_si512,
            _mm512_set1_epi32, _mm512_storeu_ps,
        };
        let width = self.inputs.div_ceil(2);
        let panel_len = 2 * width * NR;
        assert!(R <= MR_WIDE && (row + R) * width <= self.pairs.len());
        assert!(self.bias.len() == 2 * NR && panels.len() == 2 * panel_len);
        assert!((R - 1) * stride + 2 * NR <= dst.len());
        let x = self.pairs[row * width..].as_ptr();
        let w = panels.as_ptr();
        // SAFETY: every pointer below stays inside the pairs (rows `row..row + R`, checked
        // above), the two panels (`2 × width × 2 NR`), the bias (`2 × NR`) or `dst` (`R` rows
        // of `2 × NR` at `stride`). The transmutes reinterpret 512 bits as 32 bfloat16s.
        unsafe {
            let first = _mm512_loadu_ps(self.bias.as_ptr());
            let second = _mm512_loadu_ps(self.bias.as_ptr().add(NR));
            let mut acc: [[__m512; 2]; R] = [[first, second]; R];
            for k in 0..width {
                let w0: __m512bh =
                    std::mem::transmute(_mm512_loadu_si512(w.add(2 * k * NR).cast()));
                let w1: __m512bh =
                    std::mem::transmute(_mm512_loadu_si512(w.add(panel_len + 2 * k * NR).cast()));
                for (r, acc) in acc.iter_mut().enumerate() {
                    let v: __m512bh =
                        std::mem::transmute(_mm512_set1_epi32(*x.add(r * width + k) as i32));
                    acc[0] = _mm512_dpbf16_ps(acc[0], v, w0);
                    acc[1] = _mm512_dpbf16_ps(acc[1], v, w1);
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

/// Whether this CPU runs the BF16 kernel (and the AVX-512 and AVX2 kernels beside it).
pub(crate) fn has_bf16_kernel() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        has_avx512_kernels() && std::arch::is_x86_feature_detected!("avx512bf16")
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

    /// A layer of awkward sizes (an odd number of inputs; an odd number of panels, the last
    /// one part empty; rows past one chunk and not a multiple of any kernel's) against the
    /// textbook product of its rounded numbers (float16 weights; bfloat16 weights and inputs
    /// for the BF16 kernel), on every kernel this CPU runs.
    #[test]
    fn matches_the_textbook_product() {
        let (rows, inputs, outputs) = (53, 37, 45);
        let value = |i: usize| ((i * 7919) % 1000) as f32 / 500.0 - 1.0;
        let x: Vec<f32> = (0..rows * inputs).map(value).collect();
        let weight: Vec<f32> = (0..outputs * inputs).map(|i| value(i + 3)).collect();
        let bias: Vec<f32> = (0..outputs).map(|i| value(i + 11)).collect();
        let textbook = |round_x: fn(f32) -> f32, round_w: fn(f32) -> f32| {
            let mut product = vec![0.0f32; rows * outputs];
            for r in 0..rows {
                for c in 0..outputs {
                    product[r * outputs + c] = bias[c]
                        + (0..inputs)
                            .map(|k| round_x(x[r * inputs + k]) * round_w(weight[c * inputs + k]))
                            .sum::<f32>();
                }
            }
            product
        };
        let half = textbook(|x| x, |w| f16::from_f32(w).to_f32());
        let brain = textbook(
            |x| half::bf16::from_f32(x).to_f32(),
            |w| half::bf16::from_f32(w).to_f32(),
        );
        let mut kernels = vec![Kernel::Plain];
        kernels.extend(has_avx2_kernels().then_some(Kernel::Avx2));
        kernels.extend(has_avx512_kernels().then_some(Kernel::Avx512));
        kernels.extend(has_bf16_kernel().then_some(Kernel::Bf16));
        assert_eq!(
            kernels.last(),
            Some(&Kernel::detect()),
            "this CPU's own kernel is among those tested"
        );
        for kernel in kernels {
            let layer = Linear::for_kernel(&weight, &bias, outputs, inputs, kernel);
            let expected = if kernel == Kernel::Bf16 {
                &brain
            } else {
                &half
            };
            let mut out = vec![f32::NAN; rows * outputs];
            layer.apply(&x, &mut out, &mut Scratch::default());
            for (i, (got, want)) in out.iter().zip(expected).enumerate() {
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
