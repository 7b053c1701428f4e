//! One anime of the catalogue ([`Anime`]) with the season it premiered in ([`Season`]) and its
//! list counts ([`StatusCounts`]): a leaf the catalogue, the franchises and the formats build on.

use serde::{Deserialize, Serialize};

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
    /// Genres, in catalogue order.
    pub genres: Vec<String>,
    /// TV, Movie, OVA, ONA, Special or Music.
    pub kind: Option<String>,
    /// Number of episodes.
    pub episodes: Option<u32>,
    /// Year it started airing.
    pub start_year: Option<u16>,
    /// Season it premiered (from `Premiered`, else from the first air date's month).
    pub season: Option<Season>,
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
}

impl Anime {
    /// Recomputes the adult flag from the age rating and genres.
    pub fn update_adult(&mut self) {
        self.adult = self
            .age_rating
            .as_deref()
            .is_some_and(|r| r.starts_with("Rx"))
            || self.genres.iter().any(|g| g.eq_ignore_ascii_case("Hentai"));
    }
}
