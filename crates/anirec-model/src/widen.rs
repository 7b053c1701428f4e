//! Float16 rows added into float32 sums: `acc += weight × row`, eight numbers at a time with
//! F16C where the CPU has it. Story embeddings (a fan's story profile) and EASE's item-item
//! weights (a fan's collaborative scores) are kept in float16 and summed this way.

use half::f16;

/// `acc += weight × row` over the first `min(row.len(), acc.len())` numbers. Multiplied and
/// added apart (no fused multiply-add), so every CPU gets the same sums to the bit.
pub fn add_scaled(row: &[f16], weight: f32, acc: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if has_f16_simd() {
        // SAFETY: the CPU has AVX2, FMA and F16C.
        return unsafe { add_scaled_f16c(row, weight, acc) };
    }
    add_scaled_plain(row, weight, acc);
}

/// Whether the CPU widens float16 in SIMD registers (AVX2, FMA, F16C; cached by the standard
/// library).
#[cfg(target_arch = "x86_64")]
pub fn has_f16_simd() -> bool {
    std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("fma")
        && std::arch::is_x86_feature_detected!("f16c")
}

/// `acc += weight × row`, one number at a time.
fn add_scaled_plain(row: &[f16], weight: f32, acc: &mut [f32]) {
    for (a, h) in acc.iter_mut().zip(row) {
        *a += weight * h.to_f32();
    }
}

/// [`add_scaled_plain`] with the float16 row widened eight numbers at a time.
///
/// # Safety
/// The CPU must have AVX2, FMA and F16C.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn add_scaled_f16c(row: &[f16], weight: f32, acc: &mut [f32]) {
    use std::arch::x86_64::{
        __m128i, _mm_loadu_si128, _mm256_add_ps, _mm256_cvtph_ps, _mm256_loadu_ps, _mm256_mul_ps,
        _mm256_set1_ps, _mm256_storeu_ps,
    };
    let n = row.len().min(acc.len());
    let whole = n / 8 * 8;
    // SAFETY: every load and store touches 8 numbers at an offset below `whole ≤ n`, inside
    // both slices.
    unsafe {
        let w = _mm256_set1_ps(weight);
        for at in (0..whole).step_by(8) {
            let h = _mm256_cvtph_ps(_mm_loadu_si128(row.as_ptr().add(at).cast::<__m128i>()));
            let a = acc.as_mut_ptr().add(at);
            _mm256_storeu_ps(a, _mm256_add_ps(_mm256_loadu_ps(a), _mm256_mul_ps(w, h)));
        }
    }
    add_scaled_plain(&row[whole..n], weight, &mut acc[whole..n]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wide_and_plain_sums_agree_to_the_bit() {
        // 37 numbers: four whole groups of eight and a tail.
        let row: Vec<f16> = (0..37)
            .map(|i| f16::from_f32((i as f32 * 0.731).sin() * 3e-3))
            .collect();
        let start: Vec<f32> = (0..37).map(|i| (i as f32 * 1.3).cos()).collect();
        let mut plain = start.clone();
        add_scaled_plain(&row, 1.7, &mut plain);
        let mut chosen = start.clone();
        add_scaled(&row, 1.7, &mut chosen);
        assert!(
            plain
                .iter()
                .zip(&chosen)
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
        assert!(plain.iter().zip(&start).any(|(a, b)| a != b));
    }
}
