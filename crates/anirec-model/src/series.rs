//! Lists that know franchises: the discovery list with one card per franchise (the entry point of
//! a franchise the fan has not started, nothing from the ones they have), and the "continue your
//! series" row (for each franchise the fan rated well and did not drop, the next entry they have
//! not seen).

use anirec_data::{AnimeIx, FranchiseId, Franchises};
use serde::{Deserialize, Serialize};

use crate::bundle::Bundle;
use crate::entry::Entry;
use crate::hybrid::Scored;
use crate::query::{Filters, Profile};

/// The franchises (by number, see [`Franchises::group_of`]) a fan's entries touch, sorted.
pub fn started(franchises: &Franchises, entries: &[Entry]) -> Vec<u32> {
    let mut groups: Vec<u32> = entries
        .iter()
        .filter_map(|e| franchises.group_of(e.anime))
        .collect();
    groups.sort_unstable();
    groups.dedup();
    groups
}

/// The first `k` of a ranked list with at most one anime per franchise and none from the
/// franchises in `started` (sorted): a franchise's card is the first entry that `allowed` accepts
/// of the series (within the franchise) of the best-ranked entry that brought it (Season 1 for
/// Season 3, Fate/Zero for Fate/Zero 2nd Season), with that entry's score and reasons and the
/// rating `predict` gives the card.
pub fn one_per_series(
    franchises: &Franchises,
    ranked: impl IntoIterator<Item = Scored>,
    started: &[u32],
    k: usize,
    allowed: impl Fn(AnimeIx) -> bool,
    predict: impl Fn(AnimeIx) -> f32,
) -> Vec<Scored> {
    let mut shown: Vec<u32> = Vec::new();
    let mut out = Vec::with_capacity(k);
    for s in ranked {
        if out.len() == k {
            break;
        }
        let Some(group) = franchises.group_of(s.anime) else {
            out.push(s);
            continue;
        };
        if started.binary_search(&group).is_ok() || shown.contains(&group) {
            continue;
        }
        shown.push(group);
        let (franchise, position) = franchises.of(s.anime).expect("the anime has a franchise");
        let card = franchise
            .series_of(position)
            .find(|&a| a == s.anime || allowed(a))
            .unwrap_or(s.anime);
        out.push(if card == s.anime {
            s
        } else {
            Scored {
                anime: card,
                predicted_rating: predict(card),
                ..s
            }
        });
    }
    out
}

/// The next entry of a franchise a fan is watching.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Continuation {
    /// The anime's index.
    pub index: AnimeIx,
    /// Its franchise.
    pub franchise: FranchiseId,
    /// Entries of the franchise on the fan's list.
    pub seen: usize,
    /// The fan's best score in the franchise (0: none scored).
    pub best_score: u8,
    /// The rating the model predicts for it.
    pub predicted_rating: f32,
}

/// "Continue your series": for each franchise the fan liked (an entry scored from
/// [`crate::entry::LIKED_FROM`], or listed without a score as watched) and dropped nothing of
/// (without liking it), its first entry in watching order that is not on their list and that
/// `allowed` accepts; the franchises they scored best first, then by the rating `predict` gives.
/// At most `k`. `entries` are sorted by anime, as a profile's are.
pub fn continue_row(
    franchises: &Franchises,
    entries: &[Entry],
    k: usize,
    allowed: impl Fn(AnimeIx) -> bool,
    predict: impl Fn(AnimeIx) -> f32,
) -> Vec<Continuation> {
    let on_list = |a: AnimeIx| entries.binary_search_by_key(&a, |e| e.anime).is_ok();
    let mut row: Vec<Continuation> = started(franchises, entries)
        .into_iter()
        .filter_map(|group| {
            let franchise = &franchises.all()[group as usize];
            let mine: Vec<&Entry> = entries
                .iter()
                .filter(|e| franchises.group_of(e.anime) == Some(group))
                .collect();
            if mine.iter().any(|e| e.counts_against()) || !mine.iter().any(|e| e.is_liked()) {
                return None;
            }
            let next = franchise
                .entries
                .iter()
                .copied()
                .find(|&a| !on_list(a) && allowed(a))?;
            Some(Continuation {
                index: next,
                franchise: franchise.id,
                seen: mine.len(),
                best_score: mine.iter().map(|e| e.score).max().unwrap_or(0),
                predicted_rating: predict(next),
            })
        })
        .collect();
    row.sort_by(|a, b| {
        b.best_score
            .cmp(&a.best_score)
            .then(b.predicted_rating.total_cmp(&a.predicted_rating))
            .then(a.index.cmp(&b.index))
    });
    row.truncate(k);
    row
}

impl Bundle {
    /// A profile's [`continue_row`], with the filters.
    pub fn continue_series(
        &self,
        profile: &Profile,
        k: usize,
        filters: &Filters,
    ) -> Vec<Continuation> {
        continue_row(
            self.catalogue.franchises(),
            &profile.state.entries,
            k,
            |a| filters.allows(&self.catalogue[a]),
            |a| self.predicted_rating(profile, a),
        )
    }
}
