//! The element-wise parts of the forward pass: layer normalisation, the exact (erf) GELU and
//! softmax, written as loops the compiler vectorises. GELU and softmax are inlined into the
//! forward pass, which [`crate::bert`] compiles a second time for AVX2 + FMA and chooses at run
//! time. `erf` and `exp` are the
//! vectorisable approximations used by XLA/Eigen (a rational fit of erf on [-4, 4], error below
//! 1e-7) and Cephes (`expf`: a degree-5 polynomial after reduction by ln 2, relative error about
//! 1e-7), where the standard library's scalar calls would cost more than the matrix products.

/// A layer normalisation's learned scale and shift.
pub(crate) struct Norm {
    /// Per-feature scale (γ).
    pub(crate) scale: Vec<f32>,
    /// Per-feature shift (β).
    pub(crate) shift: Vec<f32>,
    /// Added to the variance (`layer_norm_eps`).
    pub(crate) eps: f32,
}

impl Norm {
    /// Normalises each row of `x` (rows of `scale.len()` features) in place.
    pub(crate) fn apply(&self, x: &mut [f32]) {
        let width = self.scale.len();
        for row in x.chunks_exact_mut(width) {
            let mean = row.iter().sum::<f32>() / width as f32;
            let variance = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / width as f32;
            let inverse = 1.0 / (variance + self.eps).sqrt();
            for ((v, scale), shift) in row.iter_mut().zip(&self.scale).zip(&self.shift) {
                *v = (*v - mean) * inverse * scale + shift;
            }
        }
    }

    /// `x ← norm(x + residual)`, row by row.
    pub(crate) fn apply_with_residual(&self, x: &mut [f32], residual: &[f32]) {
        for (v, r) in x.iter_mut().zip(residual) {
            *v += r;
        }
        self.apply(x);
    }
}

/// `x ← x · Φ(x)`, the exact GELU BERT uses (`0.5 x (1 + erf(x / √2))`), in place.
#[inline(always)]
pub(crate) fn gelu(x: &mut [f32]) {
    for v in x.iter_mut() {
        *v = 0.5 * *v * (1.0 + erf(*v * std::f32::consts::FRAC_1_SQRT_2));
    }
}

/// The error function, as a rational fit on [-4, 4] (±1 beyond, to float precision).
#[inline(always)]
fn erf(x: f32) -> f32 {
    const ALPHA: [f32; 7] = [
        -2.726_142_3e-10,
        2.770_681_4e-8,
        -2.101_024e-6,
        -5.692_506_4e-5,
        -7.349_906e-4,
        -2.954_6e-3,
        -1.609_603_3e-2,
    ];
    const BETA: [f32; 5] = [
        -1.456_607_2e-5,
        -2.133_740_6e-4,
        -1.682_827e-3,
        -7.373_329e-3,
        -1.426_474e-2,
    ];
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let p = ALPHA.iter().skip(1).fold(ALPHA[0], |p, &a| p * x2 + a);
    let q = BETA.iter().skip(1).fold(BETA[0], |q, &b| q * x2 + b);
    x * p / q
}

/// `x ← softmax(x)` over the whole slice.
#[inline(always)]
pub(crate) fn softmax(x: &mut [f32]) {
    // Eight running maxima and sums, so that the loops vectorise (a single running sum is a
    // chain the compiler must keep in order).
    let mut lanes = [f32::NEG_INFINITY; 8];
    let mut chunks = x.chunks_exact(8);
    for chunk in &mut chunks {
        for (m, &v) in lanes.iter_mut().zip(chunk) {
            *m = if v > *m { v } else { *m };
        }
    }
    let max = chunks
        .remainder()
        .iter()
        .chain(&lanes)
        .fold(f32::NEG_INFINITY, |m, &v| if v > m { v } else { m });
    for v in x.iter_mut() {
        *v = exp(*v - max);
    }
    let mut sums = [0.0f32; 8];
    let mut chunks = x.chunks_exact(8);
    for chunk in &mut chunks {
        for (s, v) in sums.iter_mut().zip(chunk) {
            *s += v;
        }
    }
    let sum: f32 = sums.iter().chain(chunks.remainder()).sum();
    let inverse = 1.0 / sum;
    for v in x.iter_mut() {
        *v *= inverse;
    }
}

/// e^x for x ≤ 0 down to the smallest normal float (softmax's range), Cephes' `expf`.
#[inline(always)]
fn exp(x: f32) -> f32 {
    const P: [f32; 6] = [
        1.987_569_1e-4,
        1.398_2e-3,
        8.333_452e-3,
        4.166_579_6e-2,
        1.666_666_5e-1,
        0.5,
    ];
    const LN2_HIGH: f32 = 0.693_359_4;
    const LN2_LOW: f32 = -2.121_944_4e-4;
    // Adding 1.5 × 2²³ rounds to an integer n held in the low bits of the sum's mantissa,
    // where 2ⁿ's exponent is read from without a float-to-integer conversion (Rust's `as`
    // saturates, which keeps the loop from vectorising).
    const ROUND: f32 = 12_582_912.0;
    let x = x.max(-87.0);
    let shifted = x * std::f32::consts::LOG2_E + ROUND;
    let n = shifted - ROUND;
    let r = x - n * LN2_HIGH - n * LN2_LOW;
    let p = P.iter().skip(1).fold(P[0], |p, &c| p * r + c);
    let e = p * r * r + r + 1.0;
    let two_to_n = shifted
        .to_bits()
        .wrapping_sub(ROUND.to_bits())
        .wrapping_add(127)
        << 23;
    e * f32::from_bits(two_to_n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_and_exp_are_within_float_precision() {
        for i in -6000..=6000 {
            // The reference at the very float the approximation reads.
            let x = (i as f32 / 1000.0) as f64;
            let want = libm_erf(x);
            let got = erf(x as f32) as f64;
            assert!((got - want).abs() < 5e-7, "erf({x}) = {got}, not {want}");
        }
        for i in 0..=8600 {
            let x = (-(i as f32) / 100.0) as f64;
            let want = x.exp();
            let got = exp(x as f32) as f64;
            assert!(
                (got - want).abs() <= 2e-7 * want,
                "exp({x}) = {got}, not {want}"
            );
        }
    }

    /// erf by its Taylor series (|x| ≤ 3) or its continued fraction tail: the reference.
    fn libm_erf(x: f64) -> f64 {
        if x.abs() > 3.0 {
            // erfc(x) ≈ e^{-x²}/(x√π) · (1 - 1/(2x²) + 3/(4x⁴)): below 1e-9 past 3.
            let a = x.abs();
            let tail = (-a * a).exp() / (a * std::f64::consts::PI.sqrt())
                * (1.0 - 1.0 / (2.0 * a * a) + 3.0 / (4.0 * a.powi(4)));
            return x.signum() * (1.0 - tail);
        }
        let mut term = x;
        let mut sum = x;
        for n in 1..200 {
            term *= -x * x / n as f64;
            sum += term / (2 * n + 1) as f64;
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    }

    #[test]
    fn gelu_and_softmax_match_their_definitions() {
        let mut x = vec![-5.0, -1.0, -0.1, 0.0, 0.3, 1.0, 2.5, 7.0];
        let want: Vec<f64> = x
            .iter()
            .map(|&v: &f32| {
                let v = v as f64;
                0.5 * v * (1.0 + libm_erf(v / std::f64::consts::SQRT_2))
            })
            .collect();
        gelu(&mut x);
        for (got, want) in x.iter().zip(&want) {
            assert!((*got as f64 - want).abs() < 1e-6, "{got} vs {want}");
        }
        let mut s = vec![1.0, 2.0, 3.0, -40.0];
        softmax(&mut s);
        let total: f64 = [1.0f64, 2.0, 3.0, -40.0].iter().map(|v| v.exp()).sum();
        for (got, v) in s.iter().zip([1.0f64, 2.0, 3.0, -40.0]) {
            assert!((*got as f64 - v.exp() / total).abs() < 1e-6);
        }
    }

    #[test]
    fn a_norm_centres_and_scales_each_row() {
        let norm = Norm {
            scale: vec![2.0, 2.0, 2.0],
            shift: vec![1.0, 1.0, 1.0],
            eps: 1e-12,
        };
        let mut x = vec![1.0, 2.0, 3.0, 10.0, 10.0, 13.0];
        norm.apply_with_residual(&mut x, &[0.0, 0.0, 0.0, 0.0, 0.0, -3.0]);
        let s = (2.0f32 / 3.0).sqrt();
        for (got, want) in x.iter().zip([1.0 - 2.0 / s, 1.0, 1.0 + 2.0 / s]) {
            assert!((got - want).abs() < 1e-5, "{got} vs {want}");
        }
        assert!(x[3..].iter().all(|v| (v - 1.0).abs() < 1e-6));
    }
}
