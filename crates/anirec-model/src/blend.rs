//! Linear blending of model outputs: least squares with a small ridge, fitted on validation data.

use faer::linalg::solvers::Solve;
use faer::{Mat, Side};

/// Weights `w` (the first is an intercept) minimising `Σ (w₀ + Σ wₖ xₖ - y)² + ridge·|w|²` over
/// rows of features `x` and targets `y`.
pub fn least_squares(rows: &[Vec<f32>], targets: &[f32], ridge: f64) -> Vec<f32> {
    let d = rows.first().map_or(0, Vec::len) + 1;
    let mut a = Mat::<f64>::zeros(d, d);
    let mut b = Mat::<f64>::zeros(d, 1);
    for (row, &y) in rows.iter().zip(targets) {
        let x: Vec<f64> = std::iter::once(1.0)
            .chain(row.iter().map(|&v| v as f64))
            .collect();
        for i in 0..d {
            b[(i, 0)] += x[i] * y as f64;
            for j in 0..d {
                a[(i, j)] += x[i] * x[j];
            }
        }
    }
    for i in 1..d {
        a[(i, i)] += ridge;
    }
    a[(0, 0)] += 1e-9;
    match a.llt(Side::Lower) {
        Ok(llt) => {
            let w = llt.solve(&b);
            (0..d).map(|i| w[(i, 0)] as f32).collect()
        }
        Err(_) => {
            let mut w = vec![0.0; d];
            w[0] = targets.iter().sum::<f32>() / targets.len().max(1) as f32;
            w
        }
    }
}

/// Applies weights from [`least_squares`] to one row of features.
#[inline]
pub fn apply(weights: &[f32], features: &[f32]) -> f32 {
    weights[0]
        + weights[1..]
            .iter()
            .zip(features)
            .map(|(w, x)| w * x)
            .sum::<f32>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_a_known_linear_combination() {
        let rows: Vec<Vec<f32>> = (0..50)
            .map(|i| vec![i as f32, ((i * 7) % 11) as f32])
            .collect();
        let y: Vec<f32> = rows.iter().map(|r| 2.0 + 0.5 * r[0] - 1.5 * r[1]).collect();
        let w = least_squares(&rows, &y, 0.0);
        for (got, want) in w.iter().zip([2.0, 0.5, -1.5]) {
            assert!((got - want).abs() < 1e-3, "{w:?}");
        }
        assert!((apply(&w, &[4.0, 2.0]) - 1.0).abs() < 1e-3);
    }
}
