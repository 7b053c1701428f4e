//! How anime nobody in the train ratings has rated (the season's new ones above all) enter the
//! lists. EASE knows only anime rated often enough, so each unrated one borrows the
//! collaborative score of the anime EASE scores that are most like it: the other entries of its
//! franchise first (a fan who loved Season 1 is the fan for Season 2), then its nearest content
//! neighbours, weighted by their similarity. Only those with MyAnimeList members borrow (an
//! obscure special of a liked franchise is more often unwatched than new), and one with fewer
//! expected raters than its donors borrows a share of their score (the ratio of the two, see
//! [`ColdStart::build`]). Its popularity comes from its MyAnimeList members, put on the train
//! ratings' scale by a line fitted over the rated anime. Both are measured by `anirec eval
//! --protocol new-anime` (BENCHMARKS.md "New anime enter by what they borrow").

use anirec_data::{AnimeIx, Catalogue, Ratings};
use rayon::prelude::*;

use super::log_popularity;
use crate::cf::ease::Ease;
use crate::content::tfidf::ContentModel;

/// Most donors an unrated anime borrows from.
const DONORS: usize = 10;
/// An unrated anime borrows only with at least as many MyAnimeList members as this share of the
/// rated anime have: evidence that fans watch it and the raters have not reached it yet. Chosen
/// on validation (a new-anime split of a train file) with the shrink of [`ColdStart::build`]:
/// 0.5 and 0 tie there, and 0.5 keeps the served new-fan lists freer of obscure specials
/// (BENCHMARKS.md "New anime enter by what they borrow").
const MEMBERS_QUANTILE: f64 = 0.5;
/// The weight of a franchise entry among the donors (content neighbours weigh their cosine,
/// below 1).
const FRANCHISE_WEIGHT: f32 = 1.0;

/// The donors of every unrated anime that has some, as flat arrays.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColdStart {
    /// The unrated anime with donors, ascending.
    anime: Vec<u32>,
    /// `offsets[i]..offsets[i + 1]` indexes anime `i`'s donors.
    offsets: Vec<u32>,
    /// Donor anime (rated ones).
    donors: Vec<u32>,
    /// Each donor's weight.
    weights: Vec<f32>,
    /// Per unrated anime, the share of its donors' score it borrows (0-1].
    shares: Vec<f32>,
}

impl ColdStart {
    /// The donors (anime `ease` scores) of the anime nobody in `train` rated that have the
    /// members ([`MEMBERS_QUANTILE`]), from `catalogue`'s franchises and `content`'s neighbours.
    /// `popularity` is [`popularity`]'s: an anime whose members predict fewer raters than its
    /// donors have borrows their score times the ratio, exp(its popularity - the donors' weighted
    /// mean popularity); one that predicts more borrows it whole. (A larger share for the more
    /// popular ones found more held-out new anime but filled fans' lists with unrated anime they
    /// had not asked for: BENCHMARKS.md.)
    pub fn build(
        ease: &Ease,
        content: &ContentModel,
        catalogue: &Catalogue,
        train: &Ratings,
        popularity: &[f32],
    ) -> ColdStart {
        let n = catalogue.len();
        let mut warm = vec![false; n];
        for &a in ease.items() {
            if let Some(w) = warm.get_mut(a as usize) {
                *w = true;
            }
        }
        let rated = |a: usize| a < train.n_anime() && !train.anime(AnimeIx(a as u32)).is_empty();
        let members = |a: usize| catalogue.anime()[a].members.unwrap_or(0);
        let mut warm_members: Vec<u32> = (0..n).filter(|&a| rated(a)).map(members).collect();
        warm_members.sort_unstable();
        let floor = warm_members
            .get((warm_members.len() as f64 * MEMBERS_QUANTILE) as usize)
            .copied()
            .unwrap_or(0);
        let per_anime: Vec<(u32, Vec<(u32, f32)>)> = (0..n as u32)
            .into_par_iter()
            .filter(|&a| !rated(a as usize) && members(a as usize) >= floor)
            .filter_map(|a| {
                let mut donors: Vec<(u32, f32)> = Vec::new();
                if let Some((franchise, _)) = catalogue.franchises().of(AnimeIx(a)) {
                    donors.extend(
                        franchise
                            .entries
                            .iter()
                            .filter(|b| warm[b.index()])
                            .map(|b| (b.0, FRANCHISE_WEIGHT)),
                    );
                }
                if a < content.len() as u32 {
                    let similarity = content.similarity_to(AnimeIx(a));
                    for b in content.neighbours(AnimeIx(a)) {
                        if warm[b.index()] && !donors.iter().any(|d| d.0 == b.0) {
                            donors.push((b.0, similarity(b)));
                        }
                    }
                }
                donors.retain(|d| d.1 > 0.0);
                donors.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
                donors.truncate(DONORS);
                (!donors.is_empty()).then_some((a, donors))
            })
            .collect();
        let mut cold = ColdStart {
            offsets: vec![0],
            ..ColdStart::default()
        };
        for (a, donors) in per_anime {
            let weight: f32 = donors.iter().map(|d| d.1).sum();
            let donors_popularity = donors
                .iter()
                .map(|d| d.1 * popularity[d.0 as usize])
                .sum::<f32>()
                / weight;
            let share = (popularity[a as usize] - donors_popularity).exp().min(1.0);
            cold.shares.push(share);
            cold.anime.push(a);
            for (d, w) in donors {
                cold.donors.push(d);
                cold.weights.push(w);
            }
            cold.offsets.push(cold.donors.len() as u32);
        }
        cold
    }

    /// The unrated anime with donors, ascending.
    pub fn anime(&self) -> &[u32] {
        &self.anime
    }

    /// Unrated anime with donors.
    pub fn len(&self) -> usize {
        self.anime.len()
    }

    /// Whether no unrated anime has a donor.
    pub fn is_empty(&self) -> bool {
        self.anime.is_empty()
    }

    /// Gives each unrated anime of `collab` (one score per anime, negative infinity where EASE
    /// has none) the weighted mean of its donors' scores, times its share (divided by it where
    /// the mean is negative: less expected to be watched is less likely, either way).
    pub fn impute(&self, collab: &mut [f32]) {
        for (i, &a) in self.anime.iter().enumerate() {
            let (lo, hi) = (self.offsets[i] as usize, self.offsets[i + 1] as usize);
            let (mut sum, mut weight) = (0f32, 0f32);
            for (&d, &w) in self.donors[lo..hi].iter().zip(&self.weights[lo..hi]) {
                let score = collab[d as usize];
                if score.is_finite() {
                    sum += w * score;
                    weight += w;
                }
            }
            if weight > 0.0 {
                let mean = sum / weight;
                let share = self.shares[i];
                collab[a as usize] = if mean >= 0.0 {
                    mean * share
                } else {
                    mean / share
                };
            }
        }
    }
}

/// log(1 + train ratings) per anime; an anime without any takes the value its MyAnimeList
/// members predict, by a least-squares line of log(1 + ratings) on log(1 + members) over the
/// rated anime (0 without members, or without rated anime to fit on).
pub fn popularity(train: &Ratings, catalogue: &Catalogue) -> Vec<f32> {
    let counts = log_popularity(train);
    let members = |a: usize| {
        catalogue
            .anime()
            .get(a)
            .and_then(|x| x.members)
            .map(|m| (1.0 + m as f64).ln())
    };
    let points: Vec<(f64, f64)> = (0..counts.len())
        .filter(|&a| counts[a] > 0.0)
        .filter_map(|a| members(a).map(|x| (x, counts[a] as f64)))
        .collect();
    let n = points.len() as f64;
    if points.len() < 2 {
        return counts;
    }
    let (mx, my) = (
        points.iter().map(|p| p.0).sum::<f64>() / n,
        points.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    counts
        .iter()
        .enumerate()
        .map(|(a, &c)| match (c > 0.0, members(a)) {
            (false, Some(x)) => (my + slope * (x - mx)).max(0.0) as f32,
            _ => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use anirec_data::{Anime, MalId};

    #[test]
    fn an_unrated_anime_takes_its_donors_weighted_mean() {
        let cold = ColdStart {
            anime: vec![3, 4],
            offsets: vec![0, 2, 3],
            donors: vec![0, 1, 2],
            weights: vec![1.0, 0.5, 1.0],
            shares: vec![1.0, 1.0],
        };
        let mut collab = [
            2.0,
            -1.0,
            f32::NEG_INFINITY,
            f32::NEG_INFINITY,
            f32::NEG_INFINITY,
        ];
        cold.impute(&mut collab);
        assert_eq!(collab[3], (2.0 - 0.5) / 1.5);
        // A donor EASE does not score leaves its borrower as it was.
        assert_eq!(collab[4], f32::NEG_INFINITY);
        assert_eq!(&collab[..3], &[2.0, -1.0, f32::NEG_INFINITY]);
    }

    #[test]
    fn an_unrated_anime_less_expected_than_its_donors_borrows_its_share() {
        // Anime 2 borrows from 0 (score 2), anime 3 from 1 (score -1); both expect a quarter
        // of their donors' raters.
        let cold = ColdStart {
            anime: vec![2, 3],
            offsets: vec![0, 1, 2],
            donors: vec![0, 1],
            weights: vec![1.0, 1.0],
            shares: vec![0.25, 0.25],
        };
        let mut collab = [2.0, -1.0, f32::NEG_INFINITY, f32::NEG_INFINITY];
        cold.impute(&mut collab);
        // A positive score shrinks toward 0, a negative one grows away from it: both rank lower.
        assert_eq!(collab[2], 0.5);
        assert_eq!(collab[3], -4.0);
    }

    #[test]
    fn unrated_anime_get_the_popularity_their_members_predict() {
        // Anime 0-3 rated 1, 2, 4 and 8 times with members growing alike; 4 unrated with many
        // members, 5 unrated with none.
        let members = [10, 20, 40, 80, 1_000, 0];
        let anime: Vec<Anime> = members
            .iter()
            .enumerate()
            .map(|(i, &m)| Anime {
                mal_id: MalId(i as u32 + 1),
                members: (m > 0).then_some(m),
                ..Anime::default()
            })
            .collect();
        let catalogue = Catalogue::new(anime);
        let mut triples = Vec::new();
        for (a, n) in [(0u32, 1u32), (1, 2), (2, 4), (3, 8)] {
            for u in 0..n {
                triples.push((u, a, 7));
            }
        }
        let train = Ratings::from_triples(6, &triples);
        let p = popularity(&train, &catalogue);
        assert_eq!(p[0], 2f32.ln());
        assert_eq!(p[3], 9f32.ln());
        assert!(p[4] > p[3], "{p:?}");
        assert_eq!(p[5], 0.0);
    }
}
