//! Top-k selection over a score vector, skipping excluded items, without sorting everything.

use std::cmp::Ordering;

/// The `k` highest-scoring indices of `scores` for which `keep` is true, best first. Ties break
/// toward the lower index so results are deterministic.
pub fn top_k(scores: &[f32], k: usize, mut keep: impl FnMut(u32) -> bool) -> Vec<u32> {
    let mut best: Vec<(f32, u32)> = Vec::with_capacity(k + 1);
    let better = |a: &(f32, u32), b: &(f32, u32)| match b.0.partial_cmp(&a.0) {
        Some(Ordering::Equal) | None => a.1.cmp(&b.1),
        Some(o) => o,
    };
    for (i, &s) in scores.iter().enumerate() {
        if k == 0 || s.is_nan() {
            continue;
        }
        if best.len() == k && s <= best[k - 1].0 {
            continue;
        }
        if !keep(i as u32) {
            continue;
        }
        let pos = best.partition_point(|b| better(b, &(s, i as u32)) == Ordering::Less);
        best.insert(pos, (s, i as u32));
        best.truncate(k);
    }
    best.into_iter().map(|(_, i)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_best_kept_items_in_order() {
        let scores = [0.5, 3.0, 2.0, 3.0, f32::NAN, 9.0, -1.0];
        assert_eq!(top_k(&scores, 3, |i| i != 5), vec![1, 3, 2]);
        assert_eq!(top_k(&scores, 10, |_| true), vec![5, 1, 3, 2, 0, 6]);
        assert!(top_k(&scores, 0, |_| true).is_empty());
    }
}
