//! One anime of the catalogue ([`Anime`]) with the season it premiered in ([`Season`]), whether
//! it still airs ([`AiringStatus`]) and its list counts ([`StatusCounts`]): a leaf the catalogue,
//! the franchises and the formats build on.

use serde::{Deserialize, Serialize};

use crate::air_date::AirDate;
use crate::ids::MalId;

/// A season of the anime year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Season {
    /// January to March.
    Winter,
    /// April to June.
    Spring,
    /// July to September.
    Summer,
    /// October to December.
    Fall,
}

impl Season {
    /// Parses `Winter`, `Spring`, `Summer` or `Fall` (case-insensitive).
    pub fn parse(text: &str) -> Option<Season> {
        match text.to_ascii_lowercase().as_str() {
            "winter" => Some(Season::Winter),
            "spring" => Some(Season::Spring),
            "summer" => Some(Season::Summer),
            "fall" | "autumn" => Some(Season::Fall),
            _ => None,
        }
    }

    /// The season a calendar month (1-12) falls in.
    pub fn of_month(month: u32) -> Option<Season> {
        match month {
            1..=3 => Some(Season::Winter),
            4..=6 => Some(Season::Spring),
            7..=9 => Some(Season::Summer),
            10..=12 => Some(Season::Fall),
            _ => None,
        }
    }
}

/// Whether an anime has aired, airs now, or is still to come (as of its source's last update).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AiringStatus {
    /// Every episode has aired.
    Finished,
    /// Airing now.
    Airing,
    /// Announced, not aired yet.
    NotYetAired,
}

impl AiringStatus {
    /// MyAnimeList's words (`Finished Airing`, `Currently Airing`, `Not yet aired`),
    /// case-insensitive.
    pub fn parse(text: &str) -> Option<AiringStatus> {
        match text.trim().to_ascii_lowercase().as_str() {
            "finished airing" => Some(AiringStatus::Finished),
            "currently airing" => Some(AiringStatus::Airing),
            "not yet aired" => Some(AiringStatus::NotYetAired),
            _ => None,
        }
    }

    /// How a page says it.
    pub fn label(self) -> &'static str {
        match self {
            AiringStatus::Finished => "Finished",
            AiringStatus::Airing => "Airing",
            AiringStatus::NotYetAired => "Not yet aired",
        }
    }
}

/// How many users have an anime in each list status (MyAnimeList's own counts).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusCounts {
    /// Currently watching.
    pub watching: u32,
    /// Completed.
    pub completed: u32,
    /// On hold.
    pub on_hold: u32,
    /// Dropped.
    pub dropped: u32,
    /// Plan to watch.
    pub plan_to_watch: u32,
}

/// One anime of the catalogue, with its fields parsed. Missing values (`Unknown`) are `None` or empty.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Anime {
    /// MyAnimeList id.
    pub mal_id: MalId,
    /// The main (romanised) title.
    pub name: String,
    /// English title.
    pub english_name: Option<String>,
    /// Japanese title.
    pub japanese_name: Option<String>,
    /// Other titles (Jikan's synonyms).
    #[serde(default)]
    pub synonyms: Vec<String>,
    /// Genres, themes and demographics as one list, as MyAnimeList 2020's `Genres` column has
    /// them (what the content model and the genre filter read); `themes` and `demographics` say
    /// which of them are themes and demographics.
    pub genres: Vec<String>,
    /// The themes among `genres` (School, Isekai, Time Travel, ...).
    #[serde(default)]
    pub themes: Vec<String>,
    /// The demographics among `genres` (Shounen, Seinen, ...).
    #[serde(default)]
    pub demographics: Vec<String>,
    /// TV, Movie, OVA, ONA, Special or Music.
    pub kind: Option<String>,
    /// Number of episodes.
    pub episodes: Option<u32>,
    /// Year it started airing.
    pub start_year: Option<u16>,
    /// Season it premiered (from `Premiered`, else from the first air date's month).
    pub season: Option<Season>,
    /// Whether it has aired.
    #[serde(default)]
    pub status: Option<AiringStatus>,
    /// First day it aired.
    #[serde(default)]
    pub aired_from: Option<AirDate>,
    /// Last day it aired.
    #[serde(default)]
    pub aired_to: Option<AirDate>,
    /// Studios.
    pub studios: Vec<String>,
    /// Producers.
    pub producers: Vec<String>,
    /// Licensors.
    pub licensors: Vec<String>,
    /// Source material (Manga, Original, Light novel, ...).
    pub source: Option<String>,
    /// Minutes per episode.
    pub minutes_per_episode: Option<f32>,
    /// Age rating as written (`PG-13 - Teens 13 or older`, `Rx - Hentai`, ...).
    pub age_rating: Option<String>,
    /// Adult title: age rating `Rx - Hentai` or genre Hentai.
    pub adult: bool,
    /// Mean MyAnimeList score.
    pub score: Option<f32>,
    /// Rank by score.
    pub ranked: Option<u32>,
    /// Rank by members.
    pub popularity: Option<u32>,
    /// Users with the anime in their list.
    pub members: Option<u32>,
    /// Users who made it a favourite.
    pub favorites: Option<u32>,
    /// Users per list status.
    pub status_counts: Option<StatusCounts>,
    /// Number of users who gave each score; index 0 is score 1, index 9 is score 10.
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<Vec<u32>>, min_items = 10, max_items = 10)
    )]
    pub score_histogram: Option<[u32; 10]>,
    /// Synopsis, when the synopsis file has one.
    pub synopsis: Option<String>,
    /// Cover picture URL (`https://cdn.myanimelist.net/...`), when a source has one.
    #[serde(default)]
    pub cover: Option<String>,
}

/// A newer synopsis shorter than this does not replace an older, longer one (Jikan's "Third
/// season of One Punch Man." against MyAnimeList 2020's paragraph).
pub const SHORT_SYNOPSIS: usize = 60;

impl Anime {
    /// Takes every value a newer record of the same anime has; keeps what it lacks (a `None`, an
    /// empty list or title). A short newer synopsis ([`SHORT_SYNOPSIS`]) keeps a longer older one.
    pub fn update_from(&mut self, newer: Anime) {
        fn take<T>(old: &mut Option<T>, new: Option<T>) {
            if new.is_some() {
                *old = new;
            }
        }
        fn take_list(old: &mut Vec<String>, new: Vec<String>) {
            if !new.is_empty() {
                *old = new;
            }
        }
        debug_assert_eq!(self.mal_id, newer.mal_id);
        if !newer.name.is_empty() {
            self.name = newer.name;
        }
        take(&mut self.english_name, newer.english_name);
        take(&mut self.japanese_name, newer.japanese_name);
        take_list(&mut self.synonyms, newer.synonyms);
        // Genres, themes and demographics are one classification: a newer one replaces all three.
        if !newer.genres.is_empty() {
            self.genres = newer.genres;
            self.themes = newer.themes;
            self.demographics = newer.demographics;
        }
        take(&mut self.kind, newer.kind);
        take(&mut self.episodes, newer.episodes);
        take(&mut self.start_year, newer.start_year);
        take(&mut self.season, newer.season);
        take(&mut self.status, newer.status);
        take(&mut self.aired_from, newer.aired_from);
        take(&mut self.aired_to, newer.aired_to);
        take_list(&mut self.studios, newer.studios);
        take_list(&mut self.producers, newer.producers);
        take_list(&mut self.licensors, newer.licensors);
        take(&mut self.source, newer.source);
        take(&mut self.minutes_per_episode, newer.minutes_per_episode);
        take(&mut self.age_rating, newer.age_rating);
        take(&mut self.score, newer.score);
        take(&mut self.ranked, newer.ranked);
        take(&mut self.popularity, newer.popularity);
        take(&mut self.members, newer.members);
        take(&mut self.favorites, newer.favorites);
        take(&mut self.status_counts, newer.status_counts);
        take(&mut self.score_histogram, newer.score_histogram);
        let longer_kept = |new: &str| {
            new.chars().count() < SHORT_SYNOPSIS
                && self
                    .synopsis
                    .as_ref()
                    .is_some_and(|old| old.chars().count() > new.chars().count())
        };
        if let Some(synopsis) = newer.synopsis.filter(|s| !longer_kept(s)) {
            self.synopsis = Some(synopsis);
        }
        take(&mut self.cover, newer.cover);
        self.update_adult();
    }

    /// The title pages show first: the English one where there is one, else the romaji name.
    pub fn shown_title(&self) -> &str {
        self.english_name.as_deref().unwrap_or(&self.name)
    }

    /// Recomputes the adult flag from the age rating and genres.
    pub fn update_adult(&mut self) {
        self.adult = self
            .age_rating
            .as_deref()
            .is_some_and(|r| r.starts_with("Rx"))
            || self.genres.iter().any(|g| g.eq_ignore_ascii_case("Hentai"));
    }
}
