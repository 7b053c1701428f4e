//! The anime catalogue: the [`Catalogue`] that indexes the [`Anime`] records by MyAnimeList id and
//! holds their franchises. Also the parsers for the free-text catalogue fields (air dates, premiere
//! season, episode duration), which are pure functions tested here.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::air_date::AirDate;
pub use crate::anime::{Anime, Season, StatusCounts};
use crate::franchise::Franchises;
use crate::ids::{AnimeIx, MalId};

/// All anime, in file order; the position of an anime is its dense index everywhere else.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalogue {
    anime: Vec<Anime>,
    #[serde(default)]
    franchises: Franchises,
    #[serde(skip)]
    by_id: HashMap<MalId, u32>,
}

impl Catalogue {
    /// Builds a catalogue; the caller guarantees ids are unique (the readers skip repeats).
    pub fn new(anime: Vec<Anime>) -> Self {
        let by_id = anime
            .iter()
            .enumerate()
            .map(|(i, a)| (a.mal_id, i as u32))
            .collect();
        Catalogue {
            anime,
            franchises: Franchises::default(),
            by_id,
        }
    }

    /// Rebuilds the id and franchise indices (after deserialising).
    pub fn reindex(&mut self) {
        let mut franchises = std::mem::take(&mut self.franchises);
        *self = Catalogue::new(std::mem::take(&mut self.anime));
        franchises.reindex(self.anime.len());
        self.franchises = franchises;
    }

    /// Adds an anime the catalogue lacks (after every other, so no index moves), or updates the
    /// one it has with the newer record's values ([`Anime::update_from`]).
    pub fn upsert(&mut self, newer: Anime) -> Upsert {
        match self.index_of(newer.mal_id) {
            Some(ix) => {
                self.anime[ix.index()].update_from(newer);
                Upsert::Updated
            }
            None => {
                self.by_id.insert(newer.mal_id, self.anime.len() as u32);
                self.anime.push(newer);
                Upsert::Added
            }
        }
    }

    /// Marks the themes and demographics of anime that do not say which of their genres are
    /// which (MyAnimeList 2020 rows): a genre is a theme or a demographic when another anime of
    /// the catalogue lists it as one.
    pub fn mark_themes(&mut self) {
        let mut themes = HashSet::new();
        let mut demographics = HashSet::new();
        for a in &self.anime {
            themes.extend(a.themes.iter().cloned());
            demographics.extend(a.demographics.iter().cloned());
        }
        for a in &mut self.anime {
            if a.themes.is_empty() && a.demographics.is_empty() {
                a.themes = a
                    .genres
                    .iter()
                    .filter(|g| themes.contains(*g))
                    .cloned()
                    .collect();
                a.demographics = a
                    .genres
                    .iter()
                    .filter(|g| demographics.contains(*g))
                    .cloned()
                    .collect();
            }
        }
    }

    /// The franchises its anime are grouped in.
    pub fn franchises(&self) -> &Franchises {
        &self.franchises
    }

    /// Sets the franchises (built over this catalogue's indices).
    pub fn set_franchises(&mut self, franchises: Franchises) {
        self.franchises = franchises;
    }

    /// Number of anime.
    pub fn len(&self) -> usize {
        self.anime.len()
    }

    /// Whether there is no anime at all.
    pub fn is_empty(&self) -> bool {
        self.anime.is_empty()
    }

    /// All anime, by dense index.
    pub fn anime(&self) -> &[Anime] {
        &self.anime
    }

    /// Mutable access for the readers that attach synopses.
    pub(crate) fn anime_mut(&mut self) -> &mut [Anime] {
        &mut self.anime
    }

    /// The anime at an index, if there is one.
    pub fn get(&self, index: AnimeIx) -> Option<&Anime> {
        self.anime.get(index.index())
    }

    /// The index of a MyAnimeList id.
    pub fn index_of(&self, mal_id: MalId) -> Option<AnimeIx> {
        self.by_id.get(&mal_id).copied().map(AnimeIx)
    }

    /// A lookup table from MyAnimeList id (the number) to dense index (`u32::MAX` where absent),
    /// for hot loops.
    pub fn id_table(&self) -> Vec<u32> {
        let max = self.anime.iter().map(|a| a.mal_id.0).max().unwrap_or(0) as usize;
        let mut table = vec![u32::MAX; max + 1];
        for (i, a) in self.anime.iter().enumerate() {
            table[a.mal_id.0 as usize] = i as u32;
        }
        table
    }
}

/// What [`Catalogue::upsert`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upsert {
    /// The anime was new to the catalogue.
    Added,
    /// The catalogue had it; its values were updated.
    Updated,
}

/// `catalogue[ix]`: the anime at an index (which must be one of this catalogue's).
impl std::ops::Index<AnimeIx> for Catalogue {
    type Output = Anime;

    fn index(&self, index: AnimeIx) -> &Anime {
        &self.anime[index.index()]
    }
}

/// Splits a comma-separated list field (`"Action, Adventure"`); `Unknown` and blanks give nothing.
pub fn parse_list(text: &str) -> Vec<String> {
    if is_missing(text) {
        return Vec::new();
    }
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty() && !is_missing(s))
        .map(str::to_owned)
        .collect()
}

/// Whether a field means "no value" (`Unknown`, `None found, add some`, or blank).
pub fn is_missing(text: &str) -> bool {
    let t = text.trim();
    t.is_empty() || t.eq_ignore_ascii_case("unknown") || t.starts_with("None found")
}

/// What an `Aired` field says: when the anime began, and when (or whether) it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aired {
    /// The first day.
    pub from: AirDate,
    /// The last day, when the field gives one.
    pub to: Option<AirDate>,
    /// Whether it had ended when the field was written: one release (`Sep 1, 2001`) or a
    /// range with an end (`Apr 3, 1998 to Apr 24, 1999`), not an open one (`2005 to ?`).
    pub ended: bool,
}

/// An `Aired` field: `"Apr 3, 1998 to Apr 24, 1999"` → from 1998-04-03 to 1999-04-24, ended.
pub fn parse_aired(text: &str) -> Option<Aired> {
    let mut parts = text.split(" to ");
    let from = AirDate::parse_mal(parts.next()?)?;
    let (to, ended) = match parts.next() {
        None => (None, true),
        Some(end) => {
            let to = AirDate::parse_mal(end);
            (to, to.is_some())
        }
    };
    Some(Aired { from, to, ended })
}

/// A `Premiered` field: `"Spring 1998"` → (Spring, 1998).
pub fn parse_premiered(text: &str) -> Option<(Season, u16)> {
    let mut parts = text.split_whitespace();
    let season = Season::parse(parts.next()?)?;
    let year = parts.next()?.parse().ok()?;
    Some((season, year))
}

/// Minutes per episode from a `Duration` field: `"24 min. per ep."` → 24, `"1 hr. 55 min."` → 115,
/// `"30 sec."` → 0.5.
pub fn parse_duration(text: &str) -> Option<f32> {
    let mut minutes = 0.0f32;
    let mut found = false;
    let tokens: Vec<&str> = text.split_whitespace().collect();
    for pair in tokens.windows(2) {
        let Ok(value) = pair[0].parse::<f32>() else {
            continue;
        };
        let unit = pair[1].trim_end_matches('.');
        let factor = match unit {
            "hr" | "hrs" => 60.0,
            "min" | "mins" => 1.0,
            "sec" | "secs" => 1.0 / 60.0,
            _ => continue,
        };
        minutes += value * factor;
        found = true;
    }
    found.then_some(minutes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aired_gives_first_and_last_days_and_whether_it_ended() {
        let date = |text: &str| AirDate::parse_iso(text).unwrap();
        let aired = parse_aired("Apr 3, 1998 to Apr 24, 1999").unwrap();
        assert_eq!(
            aired,
            Aired {
                from: date("1998-04-03"),
                to: Some(date("1999-04-24")),
                ended: true
            }
        );
        let once = parse_aired("Sep 1, 2001").unwrap();
        assert_eq!(
            (once.from, once.to, once.ended),
            (date("2001-09-01"), None, true)
        );
        let open = parse_aired("2005 to ?").unwrap();
        assert_eq!(
            (open.from, open.to, open.ended),
            (date("2005"), None, false)
        );
        assert_eq!(parse_aired("Unknown"), None);
    }

    #[test]
    fn premiered_and_duration_parse() {
        assert_eq!(parse_premiered("Spring 1998"), Some((Season::Spring, 1998)));
        assert_eq!(parse_premiered("Unknown"), None);
        assert_eq!(parse_duration("24 min. per ep."), Some(24.0));
        assert_eq!(parse_duration("1 hr. 55 min."), Some(115.0));
        assert_eq!(parse_duration("30 sec. per ep."), Some(0.5));
        assert_eq!(parse_duration("Unknown"), None);
    }

    #[test]
    fn lists_drop_unknown_and_blanks() {
        assert_eq!(
            parse_list("Action, Adventure,  Comedy"),
            ["Action", "Adventure", "Comedy"]
        );
        assert!(parse_list("Unknown").is_empty());
        assert!(parse_list("None found, add some").is_empty());
    }

    #[test]
    fn adult_flag_follows_rating_or_genre() {
        let mut a = Anime {
            age_rating: Some("Rx - Hentai".into()),
            ..Anime::default()
        };
        a.update_adult();
        assert!(a.adult);
        let mut b = Anime {
            genres: vec!["Hentai".into()],
            age_rating: Some("R+ - Mild Nudity".into()),
            ..Anime::default()
        };
        b.update_adult();
        assert!(b.adult);
        let mut c = Anime {
            age_rating: Some("R+ - Mild Nudity".into()),
            ..Anime::default()
        };
        c.update_adult();
        assert!(!c.adult);
    }
}
