//! Lists that know franchises: the discovery list with one card per franchise (the entry point of
//! a franchise the fan has not started, nothing from the ones they have), and the "continue your
//! series" row (for each franchise the fan rated well and did not drop, the next entry they have
//! not seen).

use anirec_data::{AnimeIx, Franchises, Score};
use serde::{Deserialize, Serialize};

use crate::bundle::Bundle;
use crate::entry::Entry;
use crate::filters::Filters;
use crate::hybrid::Scored;
use crate::profile::Profile;

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
/// franchises in `started` (sorted): a franchise's card is the start of the best-ranked entry
/// that brought it ([`anirec_data::Franchise::start_of`]: Season 1 for Season 3, Fate/Zero for
/// Fate/Zero 2nd Season) when `allowed` accepts it, else that entry itself, with that entry's
/// score and reasons and the rating `predict` gives the card.
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
        let start = franchise.start_of(position);
        let card = if allowed(start) { start } else { s.anime };
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
    /// Entries of the franchise on the fan's list.
    pub seen: usize,
    /// The fan's best score in the franchise (none: nothing of it scored).
    pub best_score: Score,
    /// The rating the model predicts for it.
    pub predicted_rating: f32,
}

/// "Continue your series": for each franchise the fan liked (an entry scored from
/// [`crate::entry::LIKED_FROM`], or listed without a score as watched) and dropped nothing of
/// (without liking it), its first entry in watching order that is not on their list, that
/// `allowed` accepts and that is not another telling of a story they watched (Brotherhood for a
/// fan of the 2003 Fullmetal Alchemist, and the other way round: [`anirec_data::Franchise::alternatives`]); the highest rating `predict` gives first (then the fan's best score).
/// At most `k`. `entries` are sorted by anime, as a profile's are.
pub fn continue_row(
    franchises: &Franchises,
    entries: &[Entry],
    k: usize,
    allowed: impl Fn(AnimeIx) -> bool,
    predict: impl Fn(AnimeIx) -> f32,
) -> Vec<Continuation> {
    // A page after a list's first carries no row: no franchise need be walked nor predicted.
    if k == 0 {
        return Vec::new();
    }
    let on_list = |a: AnimeIx| entries.binary_search_by_key(&a, |e| e.anime).is_ok();
    // The entries by franchise, in one pass and a sort (a list may hold 20,000 entries).
    let mut by_franchise: Vec<(u32, &Entry)> = entries
        .iter()
        .filter_map(|e| franchises.group_of(e.anime).map(|g| (g, e)))
        .collect();
    by_franchise.sort_unstable_by_key(|&(g, e)| (g, e.anime));
    let mut row: Vec<Continuation> = by_franchise
        .chunk_by(|a, b| a.0 == b.0)
        .filter_map(|run| {
            let franchise = &franchises.all()[run[0].0 as usize];
            let mine: Vec<&Entry> = run.iter().map(|&(_, e)| e).collect();
            if mine.iter().any(|e| e.counts_against()) || !mine.iter().any(|e| e.is_liked()) {
                return None;
            }
            let watched: Vec<usize> = mine
                .iter()
                .filter_map(|e| franchises.of(e.anime).map(|(_, p)| p))
                .collect();
            // Not another telling of a story the fan watched, unless they watched that one too.
            let other_telling = |p: usize| {
                watched.iter().any(|&q| franchise.alternatives(p, q))
                    && !watched
                        .iter()
                        .any(|&q| franchise.series[q] == franchise.series[p])
            };
            let next = (0..franchise.entries.len())
                .find(|&p| {
                    let a = franchise.entries[p];
                    !on_list(a) && allowed(a) && !other_telling(p)
                })
                .map(|p| franchise.entries[p])?;
            Some(Continuation {
                index: next,
                seen: mine.len(),
                best_score: mine.iter().map(|e| e.score).max().unwrap_or(Score::NONE),
                predicted_rating: predict(next),
            })
        })
        .collect();
    row.sort_by(|a, b| {
        b.predicted_rating
            .total_cmp(&a.predicted_rating)
            .then(b.best_score.cmp(&a.best_score))
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

#[cfg(test)]
mod tests {
    use anirec_data::franchise::EntryKind;
    use anirec_data::{Franchise, FranchiseId, WatchStatus};

    use super::*;
    use crate::hybrid::Signals;

    /// Anime 0-2: franchise 10 (Season 1, Season 2, a film named after the series); anime 3:
    /// alone; anime 4-5: franchise 40 (Season 1, Season 2).
    fn franchises() -> Franchises {
        let franchise = |id, entries: Vec<u32>, kinds: Vec<EntryKind>| Franchise {
            id: FranchiseId(id),
            name: format!("F{id}"),
            series: vec![0; entries.len()],
            starts: vec![0; entries.len()],
            retells: Vec::new(),
            entries: entries.into_iter().map(AnimeIx).collect(),
            kinds,
        };
        use EntryKind::{Film, Season};
        Franchises::new(
            vec![
                franchise(10, vec![0, 1, 2], vec![Season, Season, Film]),
                franchise(40, vec![4, 5], vec![Season, Season]),
            ],
            6,
        )
    }

    fn scored(anime: u32, score: f32) -> Scored {
        Scored {
            anime: AnimeIx(anime),
            score,
            parts: Signals::default(),
            predicted_rating: 7.0,
        }
    }

    fn entry(anime: u32, score: u8, status: Option<WatchStatus>) -> Entry {
        Entry {
            anime: AnimeIx(anime),
            score: Score::new(score).unwrap(),
            status,
        }
    }

    #[test]
    fn one_card_per_franchise_at_its_start() {
        let f = franchises();
        let ranked = || {
            vec![
                scored(2, 3.0),
                scored(1, 2.5),
                scored(3, 2.0),
                scored(5, 1.0),
            ]
        };
        let ids = |v: Vec<Scored>| v.iter().map(|s| s.anime.0).collect::<Vec<_>>();
        let out = one_per_series(&f, ranked(), &[], 10, |_| true, |_| 8.5);
        assert_eq!(ids(out.clone()), [0, 3, 4]);
        // The card keeps the score of the entry that brought it, with the start's prediction.
        assert_eq!((out[0].score, out[0].predicted_rating), (3.0, 8.5));
        assert_eq!(out[1].predicted_rating, 7.0);
        // A start the filters leave out: the entry itself.
        let out = one_per_series(&f, ranked(), &[], 10, |a| a.0 != 0, |_| 8.5);
        assert_eq!(ids(out), [2, 3, 4]);
        // A started franchise is left out; k cuts the list.
        let started = super::started(&f, &[entry(1, 9, None)]);
        assert_eq!(
            ids(one_per_series(
                &f,
                ranked(),
                &started,
                10,
                |_| true,
                |_| 0.0
            )),
            [3, 4]
        );
        assert_eq!(
            ids(one_per_series(&f, ranked(), &[], 1, |_| true, |_| 0.0)),
            [0]
        );
    }

    #[test]
    fn the_continue_row_takes_the_next_unseen_entry_of_liked_franchises() {
        let f = franchises();
        let next = |entries: &[Entry], allowed: &dyn Fn(AnimeIx) -> bool| {
            continue_row(&f, entries, 10, allowed, |a| a.0 as f32)
                .iter()
                .map(|c| (c.index.0, c.seen, c.best_score.code()))
                .collect::<Vec<_>>()
        };
        let all = |_: AnimeIx| true;
        // Liked season 1 of both: the next seasons, the higher predicted first (here the higher
        // index), whatever the scores.
        assert_eq!(
            next(&[entry(0, 8, None), entry(4, 10, None)], &all),
            [(5, 1, 10), (1, 1, 8)]
        );
        assert_eq!(
            next(&[entry(0, 10, None), entry(4, 8, None)], &all),
            [(5, 1, 8), (1, 1, 10)]
        );
        // Seen out of order: the first entry not on the list.
        assert_eq!(next(&[entry(1, 9, None)], &all), [(0, 1, 9)]);
        // Filtered out: the one after.
        assert_eq!(
            next(&[entry(0, 9, None)], &|a: AnimeIx| a.0 != 1),
            [(2, 1, 9)]
        );
        // Dropped without liking it, or never liked: no row.
        let dropped = [entry(0, 9, None), entry(1, 4, Some(WatchStatus::Dropped))];
        assert_eq!(next(&dropped, &all), []);
        assert_eq!(next(&[entry(0, 5, None)], &all), []);
        // Everything seen: nothing to continue.
        let done = [entry(0, 9, None), entry(1, 9, None), entry(2, 9, None)];
        assert_eq!(next(&done, &all), []);
    }

    #[test]
    fn the_continue_row_keeps_to_the_telling_the_fan_watched() {
        // Anime 0-1: the original series (a season and its film); 2-3: a retelling of it (a
        // season and its sequel), as the 2003 Fullmetal Alchemist and Brotherhood are.
        use EntryKind::{Film, Season};
        let f = Franchises::new(
            vec![Franchise {
                id: FranchiseId(1),
                name: "F".into(),
                entries: [0, 1, 2, 3].map(AnimeIx).to_vec(),
                kinds: vec![Season, Film, Season, Season],
                series: vec![0, 0, 1, 1],
                starts: vec![0, 0, 2, 2],
                retells: vec![0, 0],
            }],
            4,
        );
        let next = |entries: &[Entry]| {
            continue_row(&f, entries, 10, |_| true, |_| 7.0)
                .iter()
                .map(|c| c.index.0)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            next(&[entry(2, 10, None)]),
            [3],
            "the retelling's sequel, not the original"
        );
        assert_eq!(
            next(&[entry(0, 10, None)]),
            [1],
            "the original's film, not the retelling"
        );
        assert_eq!(
            next(&[entry(0, 10, None), entry(1, 9, None)]),
            [] as [u32; 0]
        );
        // A fan who watched both tellings is offered what is left of either.
        assert_eq!(next(&[entry(1, 9, None), entry(2, 9, None)]), [0]);
    }
}
