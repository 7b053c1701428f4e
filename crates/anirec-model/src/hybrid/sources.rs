//! The candidate set a fan's sources fill, and three of the sources: the anime nearest to the
//! fan's story profile, and two ordered by how well known an anime is in the fan's genres: new
//! anime (nobody in train rated them; they borrow a collaborative score, see `cold.rs`), and any
//! anime (the genre source, off by default).
//! EASE's, content's and the franchises' sources are in `mod.rs`, beside the profile they read.

use anirec_data::AnimeIx;

use super::Hybrid;
use crate::ranker::features::ListLabels;
use crate::rating::model::UserState;

/// The candidates gathered so far, each once, in the order their sources brought them.
pub(super) struct Gathered {
    ids: Vec<u32>,
    taken: Vec<bool>,
}

impl Gathered {
    /// An empty set over a catalogue of `n` anime.
    pub(super) fn new(n: usize) -> Gathered {
        Gathered {
            ids: Vec::with_capacity(512),
            taken: vec![false; n],
        }
    }

    /// Adds anime `a` unless it is in already; whether it was added.
    pub(super) fn add(&mut self, a: u32) -> bool {
        let slot = &mut self.taken[a as usize];
        if *slot {
            return false;
        }
        *slot = true;
        self.ids.push(a);
        true
    }

    /// Adds up to `k` of `anime` that are not in already.
    pub(super) fn add_up_to(&mut self, k: usize, anime: impl IntoIterator<Item = u32>) {
        let mut added = 0;
        for a in anime {
            if added == k {
                break;
            }
            if self.add(a) {
                added += 1;
            }
        }
    }

    /// The candidates, in the order they came.
    pub(super) fn into_ids(self) -> Vec<u32> {
        self.ids
    }
}

impl Hybrid {
    /// The `k` anime whose story embeddings are nearest to a fan's story `profile` (their
    /// list's embeddings, weighted as their content profile), best first, for which `keep`
    /// holds: none when the model has no story embeddings. It scans every anime's vector.
    pub(super) fn story_source(
        &self,
        profile: &[f32],
        k: usize,
        keep: impl FnMut(u32) -> bool,
    ) -> Vec<u32> {
        match &self.story {
            Some(vectors) if k > 0 => vectors
                .nearest(profile, k, keep)
                .into_iter()
                .map(|(a, _)| a.0)
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The well-known anime of a fan's genres: best by the share of their list in the anime's
    /// genres, themes and demographics times its popularity, among those that share a label
    /// with the list and for which `keep` holds.
    pub(super) fn genre_source(
        &self,
        user: &UserState,
        k: usize,
        keep: impl FnMut(u32) -> bool,
    ) -> Vec<u32> {
        let among = 0..self.popularity.len() as u32;
        self.best_known_of_genres(user, among, k, keep)
    }

    /// The new anime (nobody in train rated them; those with a borrowed collaborative score,
    /// [`super::ColdStart`]) best known in the fan's genres (as [`Hybrid::genre_source`] orders
    /// them), for which `keep` holds. (Ordered by the borrowed score instead, they found fewer
    /// of the new anime fans liked: BENCHMARKS.md "Two more candidate sources".)
    pub(super) fn new_anime_source(
        &self,
        user: &UserState,
        k: usize,
        keep: impl FnMut(u32) -> bool,
    ) -> Vec<u32> {
        let among = self.cold.anime().iter().copied();
        self.best_known_of_genres(user, among, k, keep)
    }

    /// The best `k` of `among` by the list's share in their labels times their popularity
    /// (ties by index), leaving out those without a shared label and those `keep` refuses.
    fn best_known_of_genres(
        &self,
        user: &UserState,
        among: impl Iterator<Item = u32>,
        k: usize,
        mut keep: impl FnMut(u32) -> bool,
    ) -> Vec<u32> {
        if k == 0 {
            return Vec::new();
        }
        let labels = ListLabels::of(&self.facts, &user.entries);
        let mut keyed: Vec<(f32, u32)> = among
            .filter_map(|a| {
                let share = labels.share(&self.facts, AnimeIx(a))?;
                (share > 0.0 && keep(a)).then(|| (share * self.popularity[a as usize], a))
            })
            .collect();
        let order = |x: &(f32, u32), y: &(f32, u32)| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1));
        if keyed.len() > k {
            keyed.select_nth_unstable_by(k - 1, order);
            keyed.truncate(k);
        }
        keyed.sort_unstable_by(order);
        keyed.into_iter().map(|(_, a)| a).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gathered_set_keeps_each_anime_once_in_the_order_it_came() {
        let mut set = Gathered::new(10);
        assert!(set.add(3));
        assert!(!set.add(3));
        set.add_up_to(2, [3, 5, 3, 7, 9]);
        set.add_up_to(0, [1]);
        assert_eq!(set.into_ids(), vec![3, 5, 7]);
    }
}
