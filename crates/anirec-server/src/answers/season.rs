//! "This season": the anime of one season of the catalogue, ranked for a fan when we know them
//! (the rating model's prediction, which counts what they thought of the rest of each anime's
//! franchise) and by MyAnimeList members otherwise, each sequel of a franchise the fan liked
//! marked with the entry they liked.

use std::time::{SystemTime, UNIX_EPOCH};

use anirec_data::{AnimeIx, Catalogue, Season};
use anirec_model::bundle::Bundle;
use anirec_model::profile::Profile;

use crate::views::{Card, SeasonView, SequelOf, Synopsis};

/// A season of a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeasonOf {
    /// The year.
    pub year: u16,
    /// The season.
    pub season: Season,
}

impl SeasonOf {
    /// The season today's date (UTC) is in.
    pub fn current() -> SeasonOf {
        let days = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() / 86_400) as i64;
        let (year, month) = civil_from_days(days);
        SeasonOf {
            year: year as u16,
            season: Season::of_month(month).unwrap_or(Season::Winter),
        }
    }

    /// The season after this one.
    pub fn next(self) -> SeasonOf {
        match self.season {
            Season::Winter => SeasonOf {
                season: Season::Spring,
                ..self
            },
            Season::Spring => SeasonOf {
                season: Season::Summer,
                ..self
            },
            Season::Summer => SeasonOf {
                season: Season::Fall,
                ..self
            },
            Season::Fall => SeasonOf {
                year: self.year + 1,
                season: Season::Winter,
            },
        }
    }
}

/// The year and month of a day counted from 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month)
}

/// One anime of the season as ranked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeasonPick {
    /// The anime.
    pub anime: AnimeIx,
    /// The rating the model predicts for the fan (none without a fan).
    pub predicted_rating: Option<f32>,
    /// The entry of its franchise the fan liked, when it continues one.
    pub sequel_of: Option<AnimeIx>,
}

/// The season's anime (adult ones only with `adult`), at most `k`: for `fan`, by the rating the
/// model predicts, then members; without one, by members.
pub fn season_picks(
    bundle: &Bundle,
    of: SeasonOf,
    fan: Option<&Profile>,
    adult: bool,
    k: usize,
) -> Vec<SeasonPick> {
    let catalogue = &bundle.catalogue;
    let members = |a: AnimeIx| catalogue[a].members.unwrap_or(0);
    let mut picks: Vec<SeasonPick> = catalogue
        .anime()
        .iter()
        .enumerate()
        .filter(|(_, a)| {
            a.start_year == Some(of.year) && a.season == Some(of.season) && (adult || !a.adult)
        })
        .map(|(i, _)| {
            let anime = AnimeIx(i as u32);
            SeasonPick {
                anime,
                predicted_rating: fan.map(|p| bundle.predicted_rating(p, anime)),
                sequel_of: fan.and_then(|p| liked_in_franchise(bundle, p, anime)),
            }
        })
        .collect();
    picks.sort_by(|x, y| {
        let predicted = |p: &SeasonPick| p.predicted_rating.unwrap_or(0.0);
        predicted(y)
            .total_cmp(&predicted(x))
            .then(members(y.anime).cmp(&members(x.anime)))
            .then(x.anime.cmp(&y.anime))
    });
    picks.truncate(k);
    picks
}

/// The cards of a season's picks, with short synopses.
pub fn season_views<'a>(catalogue: &'a Catalogue, picks: &[SeasonPick]) -> Vec<SeasonView<'a>> {
    picks
        .iter()
        .map(|p| SeasonView {
            anime: Card::with(catalogue, p.anime, Synopsis::Short),
            predicted_rating: p.predicted_rating,
            sequel_of: p.sequel_of.map(|e| SequelOf {
                anime_id: catalogue[e].mal_id,
                name: &catalogue[e].name,
            }),
        })
        .collect()
}

/// The first entry of `anime`'s franchise (in watching order) that the fan liked, other than
/// `anime` itself.
fn liked_in_franchise(bundle: &Bundle, fan: &Profile, anime: AnimeIx) -> Option<AnimeIx> {
    let (franchise, _) = bundle.catalogue.franchises().of(anime)?;
    franchise.entries.iter().copied().find(|&e| {
        e != anime
            && fan
                .state
                .entries
                .iter()
                .any(|entry| entry.anime == e && entry.is_liked())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_turn_into_their_year_and_month() {
        assert_eq!(civil_from_days(0), (1970, 1));
        assert_eq!(civil_from_days(19_722), (2023, 12)); // 2023-12-31
        assert_eq!(civil_from_days(19_723), (2024, 1));
        assert_eq!(civil_from_days(20_793), (2026, 12)); // 2026-12-06
        assert_eq!(civil_from_days(19_782), (2024, 2)); // 2024-02-29
    }

    #[test]
    fn seasons_follow_each_other_across_years() {
        let fall = SeasonOf {
            year: 2026,
            season: Season::Fall,
        };
        assert_eq!(
            fall.next(),
            SeasonOf {
                year: 2027,
                season: Season::Winter
            }
        );
        assert_eq!(fall.next().next().season, Season::Spring);
    }
}
