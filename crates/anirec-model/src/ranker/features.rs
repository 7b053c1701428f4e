//! The ranker's features: for each of a fan's candidates, every signal's value, its value
//! standardised over the fan's candidates and its rank among them, what the catalogue says of
//! the anime (year, type, episodes, MyAnimeList score and members), how it relates to the fan's
//! list (franchise mates listed, how many listed anime it neighbours, the list's share in its
//! genres) and the fan's own figures (list size, how popular the list is).

use std::collections::HashMap;

use anirec_data::{AnimeIx, Catalogue};

use crate::entry::Entry;
use crate::hybrid::{Candidate, Hybrid};
use crate::rating::model::UserState;
use crate::signal::Signal;

/// One feature of a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    /// EASE's score.
    Collab,
    /// EASE's score standardised over the fan's candidates.
    CollabZ,
    /// Rank by EASE's score among the candidates (0 best).
    CollabRank,
    /// The predicted rating.
    Rating,
    /// The predicted rating standardised over the candidates.
    RatingZ,
    /// TF-IDF similarity to the fan's profile.
    Content,
    /// The content signal standardised over the candidates.
    ContentZ,
    /// Rank by content among the candidates.
    ContentRank,
    /// Story-embedding similarity to the fan's profile (0 without story embeddings).
    Story,
    /// The story signal standardised over the candidates.
    StoryZ,
    /// Rank by story among the candidates.
    StoryRank,
    /// log(1 + train ratings).
    Popularity,
    /// Popularity standardised over the candidates.
    PopularityZ,
    /// log(1 + validation top-10 appearances).
    Exposure,
    /// How many of the fan's liked anime have it among their content neighbours.
    NeighbourOf,
    /// The year it started airing.
    Year,
    /// Its type (TV, movie, OVA, ONA, special, music) as a code.
    Kind,
    /// Its episodes.
    Episodes,
    /// MyAnimeList's mean score.
    PublicScore,
    /// log(1 + MyAnimeList members).
    Members,
    /// How many entries of its franchise are on the fan's list.
    MatesListed,
    /// log(1 + the fan's list size).
    ListSize,
    /// The mean popularity of the fan's list.
    ListPopularity,
    /// The share of the fan's list in its genres, themes and demographics (mean over them).
    GenreShare,
}

impl Feature {
    /// Every feature, in column order.
    pub const ALL: [Feature; 24] = [
        Feature::Collab,
        Feature::CollabZ,
        Feature::CollabRank,
        Feature::Rating,
        Feature::RatingZ,
        Feature::Content,
        Feature::ContentZ,
        Feature::ContentRank,
        Feature::Story,
        Feature::StoryZ,
        Feature::StoryRank,
        Feature::Popularity,
        Feature::PopularityZ,
        Feature::Exposure,
        Feature::NeighbourOf,
        Feature::Year,
        Feature::Kind,
        Feature::Episodes,
        Feature::PublicScore,
        Feature::Members,
        Feature::MatesListed,
        Feature::ListSize,
        Feature::ListPopularity,
        Feature::GenreShare,
    ];

    /// Features per row.
    pub const COUNT: usize = Feature::ALL.len();

    /// The feature's name (in the LightGBM model and the run's importances).
    pub fn name(self) -> &'static str {
        match self {
            Feature::Collab => "collab",
            Feature::CollabZ => "collab_z",
            Feature::CollabRank => "collab_rank",
            Feature::Rating => "rating",
            Feature::RatingZ => "rating_z",
            Feature::Content => "content",
            Feature::ContentZ => "content_z",
            Feature::ContentRank => "content_rank",
            Feature::Story => "story",
            Feature::StoryZ => "story_z",
            Feature::StoryRank => "story_rank",
            Feature::Popularity => "popularity",
            Feature::PopularityZ => "popularity_z",
            Feature::Exposure => "exposure",
            Feature::NeighbourOf => "neighbour_of",
            Feature::Year => "year",
            Feature::Kind => "kind",
            Feature::Episodes => "episodes",
            Feature::PublicScore => "public_score",
            Feature::Members => "members",
            Feature::MatesListed => "mates_listed",
            Feature::ListSize => "list_size",
            Feature::ListPopularity => "list_popularity",
            Feature::GenreShare => "genre_share",
        }
    }

    /// The signal a feature's contribution is explained as (none for the catalogue's facts and
    /// the fan's figures, which say why a pick ranks where it does, not why it suits).
    pub fn signal(self) -> Option<Signal> {
        match self {
            Feature::Collab | Feature::CollabZ | Feature::CollabRank | Feature::MatesListed => {
                Some(Signal::Collab)
            }
            Feature::Rating | Feature::RatingZ => Some(Signal::Rating),
            Feature::Content
            | Feature::ContentZ
            | Feature::ContentRank
            | Feature::NeighbourOf
            | Feature::GenreShare => Some(Signal::Content),
            Feature::Story | Feature::StoryZ | Feature::StoryRank => Some(Signal::Story),
            Feature::Popularity | Feature::PopularityZ | Feature::Members => {
                Some(Signal::Popularity)
            }
            Feature::Exposure => Some(Signal::Exposure),
            Feature::Year
            | Feature::Kind
            | Feature::Episodes
            | Feature::PublicScore
            | Feature::ListSize
            | Feature::ListPopularity => None,
        }
    }
}

/// Most genre, theme and demographic labels told apart (the rest share the last bit).
const LABELS: usize = 128;

/// What the catalogue says of each anime, as the ranker reads it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnimeFacts {
    year: Vec<f32>,
    kind: Vec<f32>,
    episodes: Vec<f32>,
    public_score: Vec<f32>,
    members: Vec<f32>,
    /// Bit set of each anime's genres, themes and demographics.
    labels: Vec<u128>,
}

impl AnimeFacts {
    /// The facts of every anime of `catalogue` (missing values are NaN, which LightGBM reads
    /// as missing).
    pub fn of(catalogue: &Catalogue) -> AnimeFacts {
        // Each label's bit, in order of first appearance.
        let mut bits: HashMap<&str, usize> = HashMap::new();
        let mut facts = AnimeFacts::default();
        for a in catalogue.anime() {
            facts.year.push(a.start_year.map_or(f32::NAN, f32::from));
            facts.kind.push(kind_code(a.kind.as_deref()));
            facts
                .episodes
                .push(a.episodes.map_or(f32::NAN, |e| e as f32));
            facts.public_score.push(a.score.unwrap_or(f32::NAN));
            facts
                .members
                .push(a.members.map_or(f32::NAN, |m| (1.0 + m as f32).ln()));
            let labels = a.genres.iter().chain(&a.themes).chain(&a.demographics);
            let mut set = 0u128;
            for label in labels {
                let next = bits.len();
                let at = *bits.entry(label.as_str()).or_insert(next);
                set |= 1u128 << at.min(LABELS - 1);
            }
            facts.labels.push(set);
        }
        facts
    }
}

/// How many of a fan's entries carry each genre, theme and demographic label: what the
/// [`Feature::GenreShare`] feature and the genre candidate source read.
#[derive(Debug, Clone)]
pub struct ListLabels {
    counts: [u16; LABELS],
    list_size: f32,
}

impl ListLabels {
    /// The label counts of `entries`.
    pub fn of(facts: &AnimeFacts, entries: &[Entry]) -> ListLabels {
        let mut counts = [0u16; LABELS];
        for e in entries {
            let set = facts.labels.get(e.anime.index()).copied().unwrap_or(0);
            labels_of(set).for_each(|l| counts[l] = counts[l].saturating_add(1));
        }
        ListLabels {
            counts,
            list_size: entries.len().max(1) as f32,
        }
    }

    /// The share of the list in anime `a`'s labels, the mean over them (0-1; `None` for an
    /// anime without labels).
    pub fn share(&self, facts: &AnimeFacts, a: AnimeIx) -> Option<f32> {
        let labels = facts.labels.get(a.index()).copied().unwrap_or(0);
        if labels == 0 {
            return None;
        }
        let sum: f32 = labels_of(labels).map(|l| f32::from(self.counts[l])).sum();
        Some(sum / (self.list_size * labels.count_ones() as f32))
    }
}

/// The labels (bit positions) of a label set, lowest first.
fn labels_of(mut set: u128) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        (set != 0).then(|| {
            let at = set.trailing_zeros() as usize;
            set &= set - 1;
            at
        })
    })
}

/// A type as a number (the types a model's catalogue may hold, in MyAnimeList's order).
fn kind_code(kind: Option<&str>) -> f32 {
    match kind.map(str::to_ascii_lowercase).as_deref() {
        Some("tv") => 0.0,
        Some("movie") => 1.0,
        Some("ova") => 2.0,
        Some("ona") => 3.0,
        Some("special") => 4.0,
        Some("music") => 5.0,
        Some(_) => 6.0,
        None => f32::NAN,
    }
}

/// A fan's candidates' features, one row of [`Feature::COUNT`] after another, in the
/// candidates' order.
pub fn rows(model: &Hybrid, user: &UserState, cands: &[Candidate]) -> Vec<f32> {
    let n = cands.len();
    let mut out = vec![0f32; n * Feature::COUNT];
    if n == 0 {
        return out;
    }
    let facts = &model.facts;
    let listed: Vec<u32> = user.entries.iter().map(|e| e.anime.0).collect();
    let list_size = user.entries.len().max(1) as f32;
    let list_popularity = model.list_popularity(&user.entries);
    let list_labels = ListLabels::of(facts, &user.entries);
    let column = |s: Signal| -> Vec<f32> { cands.iter().map(|c| c.signals[s]).collect() };
    let collab = column(Signal::Collab);
    let rating = column(Signal::Rating);
    let content = column(Signal::Content);
    let story = column(Signal::Story);
    let popularity = column(Signal::Popularity);
    let per_column = [
        (Feature::CollabZ, Some(Feature::CollabRank), &collab),
        (Feature::RatingZ, None, &rating),
        (Feature::ContentZ, Some(Feature::ContentRank), &content),
        (Feature::StoryZ, Some(Feature::StoryRank), &story),
        (Feature::PopularityZ, None, &popularity),
    ];
    for (z, rank, values) in per_column {
        for (i, v) in standardised(values).into_iter().enumerate() {
            out[i * Feature::COUNT + z as usize] = v;
        }
        if let Some(rank) = rank {
            for (i, r) in ranks(values).into_iter().enumerate() {
                out[i * Feature::COUNT + rank as usize] = r as f32;
            }
        }
    }
    for (i, c) in cands.iter().enumerate() {
        let a = c.anime.index();
        let row = &mut out[i * Feature::COUNT..(i + 1) * Feature::COUNT];
        let mut set = |f: Feature, v: f32| row[f as usize] = v;
        set(Feature::Collab, collab[i]);
        set(Feature::Rating, rating[i]);
        set(Feature::Content, content[i]);
        set(Feature::Story, story[i]);
        set(Feature::Popularity, popularity[i]);
        set(Feature::Exposure, c.signals[Signal::Exposure]);
        set(Feature::NeighbourOf, f32::from(c.neighbour_of));
        set(Feature::Year, facts.year[a]);
        set(Feature::Kind, facts.kind[a]);
        set(Feature::Episodes, facts.episodes[a]);
        set(Feature::PublicScore, facts.public_score[a]);
        set(Feature::Members, facts.members[a]);
        let mates = model.rating.franchise.mates(c.anime.0);
        let mates_listed = mates
            .iter()
            .filter(|m| listed.binary_search(m).is_ok())
            .count();
        set(Feature::MatesListed, mates_listed as f32);
        set(Feature::ListSize, (1.0 + list_size).ln());
        set(Feature::ListPopularity, list_popularity);
        let share = list_labels.share(facts, c.anime);
        set(Feature::GenreShare, share.unwrap_or(f32::NAN));
    }
    out
}

/// The mean and the (population) variance of `values` (0 and 0 for none).
pub(crate) fn mean_var(values: &[f32]) -> (f32, f32) {
    let n = values.len().max(1) as f32;
    let mean = values.iter().sum::<f32>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n;
    (mean, var)
}

/// `values` less their mean, over their standard deviation (0 where they do not vary).
pub(crate) fn standardised(values: &[f32]) -> Vec<f32> {
    let (mean, var) = mean_var(values);
    let sd = if var > 1e-12 {
        var.sqrt()
    } else {
        f32::INFINITY
    };
    values.iter().map(|v| (v - mean) / sd).collect()
}

/// Each value's rank among `values`, largest first from 0; equal values share the rank of the
/// first of them (so a signal that does not vary ranks every candidate 0).
fn ranks(values: &[f32]) -> Vec<u32> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&i, &j| values[j].total_cmp(&values[i]));
    let mut out = vec![0u32; values.len()];
    for (at, &i) in order.iter().enumerate() {
        out[i] = if at > 0 && values[order[at - 1]] == values[i] {
            out[order[at - 1]]
        } else {
            at as u32
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardised_values_have_mean_zero_and_unit_spread_or_are_zero() {
        let z = standardised(&[1.0, 2.0, 3.0, 6.0]);
        assert!(z.iter().sum::<f32>().abs() < 1e-5);
        let var = z.iter().map(|v| v * v).sum::<f32>() / 4.0;
        assert!((var - 1.0).abs() < 1e-5, "{var}");
        assert_eq!(standardised(&[2.5, 2.5]), vec![0.0, 0.0]);
    }

    #[test]
    fn ranks_count_from_the_largest_and_ties_share_one() {
        assert_eq!(ranks(&[0.5, 2.0, 0.5, -1.0]), vec![1, 0, 1, 3]);
        assert_eq!(ranks(&[0.0; 4]), vec![0; 4]);
        assert!(ranks(&[]).is_empty());
    }

    #[test]
    fn kinds_are_coded_case_blind_and_missing_is_nan() {
        assert_eq!(kind_code(Some("TV")), 0.0);
        assert_eq!(kind_code(Some("Movie")), 1.0);
        assert_eq!(kind_code(Some("TV Special")), 6.0);
        assert!(kind_code(None).is_nan());
    }
}
