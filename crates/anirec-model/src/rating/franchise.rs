//! The franchise correction of the rating model: how a fan rated the other entries of an anime's
//! franchise, above or below what the baselines expected. A fan who gave Season 1 a 10 where
//! the baselines said 8 likely rates Season 2 above its baseline too; the item neighbourhood sees
//! that only where enough fans rated both, the franchise groups see it for every sequel.

use anirec_data::franchise::Franchises;

/// Pseudo-entries of residual 0 added to a fan's rated franchise mates: one rated mate counts
/// for half its residual, several for nearly their mean. Chosen on validation (BENCHMARKS.md
/// "The franchise correction"): 0.5, 1, 2 and 3 gave validation RMSE 1.1268, 1.1270, 1.1286 and
/// 1.1304, and 1 the best validation NDCG@10 of the blend.
const SHRINKAGE: f32 = 1.0;

/// Each anime's franchise mates (the other entries of its franchise), built from the
/// catalogue's franchise groups.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FranchiseMates {
    /// Per anime: its franchise's number, `u32::MAX` for none.
    group: Vec<u32>,
    /// `offsets[g]..offsets[g + 1]` indexes franchise `g`'s entries in `entries`.
    offsets: Vec<u32>,
    /// Every franchise's entries, one franchise after another.
    entries: Vec<u32>,
}

impl FranchiseMates {
    /// The mates of the catalogue's `n_anime` anime in `franchises`.
    pub fn of(franchises: &Franchises, n_anime: usize) -> FranchiseMates {
        let mut mates = FranchiseMates {
            group: vec![u32::MAX; n_anime],
            offsets: vec![0],
            entries: Vec::new(),
        };
        for (g, franchise) in franchises.all().iter().enumerate() {
            for a in &franchise.entries {
                if let Some(slot) = mates.group.get_mut(a.index()) {
                    *slot = g as u32;
                }
            }
            mates.entries.extend(franchise.entries.iter().map(|a| a.0));
            mates.offsets.push(mates.entries.len() as u32);
        }
        mates
    }

    /// The entries of anime `a`'s franchise, itself included (empty outside a franchise).
    pub fn mates(&self, a: u32) -> &[u32] {
        match self.group.get(a as usize) {
            Some(&g) if g != u32::MAX => {
                &self.entries
                    [self.offsets[g as usize] as usize..self.offsets[g as usize + 1] as usize]
            }
            _ => &[],
        }
    }

    /// The correction for anime `a`: the sum of the fan's residuals on the other entries of its
    /// franchise over their number plus [`SHRINKAGE`] (0 outside a franchise or with none
    /// rated). `residual(j)` gives the fan's residual on `j`, if rated.
    #[inline]
    pub fn correction(&self, a: u32, residual: impl Fn(u32) -> Option<f32>) -> f32 {
        let Some(&g) = self.group.get(a as usize).filter(|&&g| g != u32::MAX) else {
            return 0.0;
        };
        let (lo, hi) = (
            self.offsets[g as usize] as usize,
            self.offsets[g as usize + 1] as usize,
        );
        let (mut sum, mut rated) = (0f32, 0f32);
        for &j in self.entries[lo..hi].iter().filter(|&&j| j != a) {
            if let Some(r) = residual(j) {
                sum += r;
                rated += 1.0;
            }
        }
        sum / (rated + SHRINKAGE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anirec_data::AnimeIx;
    use anirec_data::franchise::{EntryKind, Franchise};
    use anirec_data::ids::FranchiseId;

    fn franchise(id: u32, entries: &[u32]) -> Franchise {
        Franchise {
            id: FranchiseId(id),
            name: format!("franchise {id}"),
            entries: entries.iter().map(|&a| AnimeIx(a)).collect(),
            kinds: vec![EntryKind::Season; entries.len()],
            series: vec![0; entries.len()],
            starts: vec![0; entries.len()],
            retells: Vec::new(),
        }
    }

    #[test]
    fn the_correction_is_the_shrunk_mean_residual_of_the_rated_mates_only() {
        let franchises = Franchises::new(vec![franchise(1, &[0, 2, 3]), franchise(5, &[4, 5])], 6);
        let mates = FranchiseMates::of(&franchises, 6);
        // The fan rated anime 0 (+2), 3 (-1), 4 (+1.5); anime 1 is in no franchise.
        let residual = |j: u32| match j {
            0 => Some(2.0),
            3 => Some(-1.0),
            4 => Some(1.5),
            _ => None,
        };
        assert_eq!(
            mates.correction(2, residual),
            (2.0 - 1.0) / (2.0 + SHRINKAGE)
        );
        // Its own rating does not count: only mate 3 remains for anime 0.
        assert_eq!(mates.correction(0, residual), -1.0 / (1.0 + SHRINKAGE));
        assert_eq!(mates.correction(5, residual), 1.5 / (1.0 + SHRINKAGE));
        assert_eq!(
            mates.correction(4, residual),
            0.0,
            "its one mate is unrated"
        );
        assert_eq!(mates.correction(1, residual), 0.0, "no franchise");
        assert_eq!(
            FranchiseMates::default().correction(0, residual),
            0.0,
            "no franchises at all"
        );
    }
}
