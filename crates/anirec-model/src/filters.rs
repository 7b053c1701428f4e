//! Which anime a list may hold and how it is shaped: [`Filters`], the one vocabulary that the
//! CLI's flags, the API's query string and the pages' form all parse into (the catalogue filters,
//! franchise grouping and the novelty control), the names they go by ([`PARAMS`]), and the one
//! place they are checked ([`Filters::check`], against the catalogue's [`Vocabulary`]).

use std::ops::RangeInclusive;

use anirec_data::{Anime, Catalogue};
use serde::{Deserialize, Serialize};

/// The filters' names, as query parameters and (with `-` for `_`) as CLI flags.
pub const PARAMS: [&str; 9] = [
    "genre",
    "type",
    "year_min",
    "year_max",
    "min_members",
    "include_adult",
    "include_rated",
    "group",
    "novelty",
];

/// The values [`Filters::novelty`] may take.
pub const NOVELTY: RangeInclusive<f32> = 0.0..=1.0;

/// Members an anime needs to be recommended at the popular end of the novelty control
/// (novelty 0, the default): the list of a fan who asks for nothing unusual holds anime that
/// fans have heard of. The floor falls with novelty as (1 - novelty)², to none at 1.
pub const POPULAR_END_MEMBERS: f32 = 10_000.0;

/// How a list treats franchises.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Grouping {
    /// One card per franchise, its entry point for a franchise the fan has not started, nothing
    /// from franchises the fan has started (those are continued in their own row).
    #[default]
    Series,
    /// Every anime on its own.
    None,
}

/// The years a year filter may name.
pub const YEARS: RangeInclusive<u16> = 1900..=2100;

/// Which anime may be recommended.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Filters {
    /// Every one of these genres must be present (case-insensitive).
    pub genres: Vec<String>,
    /// One of these types (TV, Movie, ...), when not empty.
    pub kinds: Vec<String>,
    /// Earliest start year.
    pub year_min: Option<u16>,
    /// Latest start year.
    pub year_max: Option<u16>,
    /// Fewest MyAnimeList members.
    pub min_members: Option<u32>,
    /// Allow adult titles.
    pub include_adult: bool,
    /// Also show anime the user already rated (off by default).
    pub include_rated: bool,
    /// How franchises are treated.
    pub group: Grouping,
    /// How far to trade popularity for discovery, 0 (the model's own balance among anime with
    /// [`POPULAR_END_MEMBERS`] members) to 1 (every anime, popular ones lowered).
    pub novelty: f32,
}

impl Filters {
    /// Whether an anime passes the catalogue filters (not the "already rated" one).
    pub fn allows(&self, a: &Anime) -> bool {
        (self.include_adult || !a.adult)
            && self
                .genres
                .iter()
                .all(|g| a.genres.iter().any(|x| x.eq_ignore_ascii_case(g)))
            && (self.kinds.is_empty()
                || a.kind
                    .as_deref()
                    .is_some_and(|k| self.kinds.iter().any(|x| x.eq_ignore_ascii_case(k))))
            && self
                .year_min
                .is_none_or(|y| a.start_year.is_some_and(|s| s >= y))
            && self
                .year_max
                .is_none_or(|y| a.start_year.is_some_and(|s| s <= y))
            && self.min_members.is_none_or(|m| a.members.unwrap_or(0) >= m)
    }

    /// Fewest members an anime needs to be recommended at this novelty
    /// ([`POPULAR_END_MEMBERS`] at 0, falling to none at 1).
    pub fn members_floor(&self) -> u32 {
        (POPULAR_END_MEMBERS * (1.0 - self.novelty.clamp(0.0, 1.0)).powi(2)).round() as u32
    }

    /// Whether a recommendation list may hold an anime: [`Filters::allows`] it and it has the
    /// members [`Filters::members_floor`] asks at this novelty. Lists a fan looks up (similar
    /// anime, story search, a season) use [`Filters::allows`] alone.
    pub fn recommends(&self, a: &Anime) -> bool {
        self.allows(a) && a.members.unwrap_or(0) >= self.members_floor()
    }

    /// Checks the filters against a catalogue's vocabulary: every genre and type must be one it
    /// has (in any case), and years must be in [`YEARS`]. A `year_min` after `year_max` is no
    /// error: it matches nothing.
    pub fn check(&self, vocabulary: &Vocabulary) -> Result<(), FilterError> {
        for (param, values, known) in [
            ("genre", &self.genres, &vocabulary.genres),
            ("type", &self.kinds, &vocabulary.types),
        ] {
            if let Some(bad) = values
                .iter()
                .find(|v| !known.iter().any(|k| k.eq_ignore_ascii_case(v)))
            {
                return Err(FilterError {
                    param,
                    message: format!("unknown {param} {bad:?}; known: {}", known.join(", ")),
                });
            }
        }
        if !NOVELTY.contains(&self.novelty) {
            return Err(FilterError {
                param: "novelty",
                message: format!("novelty must be from 0 to 1, found {}", self.novelty),
            });
        }
        for (param, year) in [("year_min", self.year_min), ("year_max", self.year_max)] {
            if let Some(y) = year.filter(|y| !YEARS.contains(y)) {
                return Err(FilterError {
                    param,
                    message: format!(
                        "{param} must be a year from {} to {}, found {y}",
                        YEARS.start(),
                        YEARS.end()
                    ),
                });
            }
        }
        Ok(())
    }
}

/// A filter that does not fit the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{param}: {message}")]
pub struct FilterError {
    /// The filter's name (one of [`PARAMS`]).
    pub param: &'static str,
    /// What was wrong.
    pub message: String,
}

/// The values the genre and type filters accept: the catalogue's, sorted.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    /// Every genre.
    pub genres: Vec<String>,
    /// Every type (TV, Movie, ...).
    pub types: Vec<String>,
}

impl Vocabulary {
    /// The genres and types of a catalogue.
    pub fn of(catalogue: &Catalogue) -> Vocabulary {
        let distinct = |values: Vec<&String>| {
            let mut v: Vec<String> = values.into_iter().cloned().collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        let anime = catalogue.anime();
        Vocabulary {
            genres: distinct(anime.iter().flat_map(|a| &a.genres).collect()),
            types: distinct(anime.iter().filter_map(|a| a.kind.as_ref()).collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_popular_end_recommends_only_well_known_anime_and_novelty_lowers_the_floor() {
        let at = |novelty| Filters {
            novelty,
            ..Filters::default()
        };
        let floors: Vec<u32> = [0.0, 0.25, 0.5, 0.75, 1.0]
            .map(|n| at(n).members_floor())
            .to_vec();
        assert_eq!(floors, [10_000, 5_625, 2_500, 625, 0]);
        let known = |members| Anime {
            members,
            ..Anime::default()
        };
        // 511 members (the obscure picks fans saw at the popular end) only from novelty 0.75.
        assert!(!at(0.0).recommends(&known(Some(511))));
        assert!(!at(0.5).recommends(&known(Some(511))));
        assert!(at(1.0).recommends(&known(Some(511))));
        assert!(at(0.0).recommends(&known(Some(10_000))));
        assert!(!at(0.0).recommends(&known(None)));
        assert!(at(1.0).recommends(&known(None)));
        // The floor adds to the other filters, and never stops a lookup ([`Filters::allows`]).
        let adult = Anime {
            adult: true,
            ..known(Some(1_000_000))
        };
        assert!(!at(0.0).recommends(&adult));
        assert!(at(0.0).allows(&known(Some(1))));
    }

    #[test]
    fn filters_are_checked_against_the_vocabulary() {
        let vocabulary = Vocabulary {
            genres: vec!["Action".into(), "Sci-Fi".into()],
            types: vec!["TV".into()],
        };
        let ok = Filters {
            genres: vec!["action".into()],
            kinds: vec!["tv".into()],
            year_min: Some(2010),
            year_max: Some(2000),
            ..Filters::default()
        };
        assert_eq!(ok.check(&vocabulary), Ok(()));
        let genre = Filters {
            genres: vec!["Mecha".into()],
            ..Filters::default()
        };
        let err = genre.check(&vocabulary).unwrap_err();
        assert_eq!(err.param, "genre");
        assert!(err.message.contains("Action, Sci-Fi"), "{err}");
        let year = Filters {
            year_max: Some(1850),
            ..Filters::default()
        };
        assert_eq!(year.check(&vocabulary).unwrap_err().param, "year_max");
        for novelty in [-0.1, 1.5, f32::NAN] {
            let f = Filters {
                novelty,
                ..Filters::default()
            };
            assert_eq!(f.check(&vocabulary).unwrap_err().param, "novelty");
        }
    }
}
