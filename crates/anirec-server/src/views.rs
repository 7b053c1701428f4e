//! The JSON shapes of anime and recommendations: one card shape for every list (API responses,
//! HTML cards, the CLI's `--json`), with the anime's place in its franchise, the continue row's
//! entries, and the franchise of an anime's own page.

use anirec_data::{AiringStatus, AnimeIx, Catalogue, FranchiseId, MalId, Score, Season, UserId};
use anirec_model::bundle::Bundle;
use anirec_model::query::{Reason, Recommendation};
use anirec_model::series::Continuation;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::params::{from_text, one_of, value_schema};
use crate::problem::Problem;

/// How much of its synopsis a card carries (`synopsis=none|short|full`, default full): a list of
/// ten with full synopses is about 12 KB, short 5 KB, none 3.7 KB.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Synopsis {
    /// No synopsis.
    None,
    /// At most [`SHORT_SYNOPSIS`] bytes: whole sentences when the first one fits, else cut
    /// after a word.
    Short,
    /// The whole synopsis.
    #[default]
    Full,
}

/// The longest short synopsis, in bytes.
pub const SHORT_SYNOPSIS: usize = 200;

impl Synopsis {
    /// What of `text` a card shows.
    pub fn of(self, text: &str) -> Option<&str> {
        match self {
            Synopsis::None => None,
            Synopsis::Full => Some(text),
            Synopsis::Short if text.len() <= SHORT_SYNOPSIS => Some(text),
            Synopsis::Short => {
                let mut end = SHORT_SYNOPSIS;
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                let head = &text[..end];
                let cut = head
                    .rfind(". ")
                    .map(|p| p + 1)
                    .or_else(|| head.rfind(char::is_whitespace))
                    .unwrap_or(end);
                Some(head[..cut].trim_end())
            }
        }
    }
}

value_schema!(Synopsis => one_of(&["none", "short", "full"], "full"));

impl<'de> Deserialize<'de> for Synopsis {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Synopsis, D::Error> {
        from_text(d, "none, short or full", |t| match t {
            "none" => Some(Synopsis::None),
            "short" => Some(Synopsis::Short),
            "full" => Some(Synopsis::Full),
            _ => None,
        })
    }
}

/// The one picture host the pages allow (the Content-Security-Policy's `img-src`): MyAnimeList's
/// CDN, where every Jikan cover is. A cover elsewhere is left out and the card shows its
/// placeholder.
pub const COVER_ORIGIN: &str = "https://cdn.myanimelist.net";

/// An anime's cover URL, when it is on [`COVER_ORIGIN`].
fn allowed_cover(url: Option<&str>) -> Option<&str> {
    url.filter(|u| {
        u.strip_prefix(COVER_ORIGIN)
            .is_some_and(|path| path.starts_with('/'))
    })
}

/// An anime as a list shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Card<'a> {
    /// MyAnimeList id.
    pub anime_id: MalId,
    /// Main (romanised) title.
    pub name: &'a str,
    /// English title.
    pub english_name: Option<&'a str>,
    /// Japanese title.
    pub japanese_name: Option<&'a str>,
    /// Genres, themes and demographics.
    pub genres: &'a [String],
    /// The themes among the genres.
    pub themes: &'a [String],
    /// The demographics among the genres.
    pub demographics: &'a [String],
    /// TV, Movie, OVA, ...
    #[serde(rename = "type")]
    pub kind: Option<&'a str>,
    /// First aired.
    pub year: Option<u16>,
    /// The season it premiered.
    pub season: Option<Season>,
    /// Whether it has aired (as of the catalogue's last update).
    pub status: Option<AiringStatus>,
    /// Cover picture: an https URL on MyAnimeList's CDN.
    pub cover: Option<&'a str>,
    /// Episodes.
    pub episodes: Option<u32>,
    /// MyAnimeList mean score.
    pub score: Option<f32>,
    /// MyAnimeList members.
    pub members: Option<u32>,
    /// Adult title.
    pub adult: bool,
    /// Synopsis.
    pub synopsis: Option<&'a str>,
    /// Its place in its franchise, when it is in one.
    pub series: Option<SeriesView<'a>>,
}

/// Where an anime sits in its franchise.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Series)]
pub struct SeriesView<'a> {
    /// The franchise's id (the MyAnimeList id of its first entry).
    pub id: FranchiseId,
    /// The franchise's name (its first entry's).
    pub name: &'a str,
    /// The name of the series within the franchise the anime is in (its first entry's): the
    /// franchise's name, or another (Fate/Zero in Fate/stay night's franchise).
    pub series: &'a str,
    /// The anime's place in watching order, from 1.
    #[schema(minimum = 1)]
    pub position: usize,
    /// Entries in the franchise.
    #[schema(minimum = 2)]
    pub entries: usize,
    /// The anime's name within its series: `Season 2`, `Film 1`.
    pub label: String,
    /// When its series tells an earlier series' story again (a remake, a retelling), that
    /// series' name: `Fullmetal Alchemist` for Brotherhood. An alternative, not a sequel.
    pub retells: Option<&'a str>,
    /// What the franchise holds: `3 seasons, 2 films`.
    pub summary: String,
}

impl<'a> SeriesView<'a> {
    /// The place of an anime in its franchise, if it is in one.
    pub fn of(catalogue: &'a Catalogue, a: AnimeIx) -> Option<SeriesView<'a>> {
        let (f, position) = catalogue.franchises().of(a)?;
        Some(SeriesView {
            id: f.id,
            name: &f.name,
            series: &catalogue[f.series_start(position)].name,
            position: position + 1,
            entries: f.entries.len(),
            label: f.label(position),
            retells: f.retelling_of(position).map(|o| catalogue[o].name.as_str()),
            summary: f.summary(),
        })
    }
}

/// An anime's franchise with all its entries in watching order, for the anime's own page.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Franchise)]
pub struct FranchiseView<'a> {
    /// Where the anime sits.
    #[serde(flatten)]
    pub place: SeriesView<'a>,
    /// Every entry, in watching order.
    pub in_order: Vec<SeriesEntry<'a>>,
}

/// One entry of a [`FranchiseView`].
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SeriesEntry<'a> {
    /// MyAnimeList id.
    pub anime_id: MalId,
    /// Main title.
    pub name: &'a str,
    /// English title.
    pub english_name: Option<&'a str>,
    /// Its name within its series.
    pub label: String,
    /// The name of its series (its first entry's).
    pub series: &'a str,
    /// First aired.
    pub year: Option<u16>,
    /// Adult title.
    pub adult: bool,
}

impl<'a> FranchiseView<'a> {
    /// The franchise of an anime, if it is in one.
    pub fn of(catalogue: &'a Catalogue, a: AnimeIx) -> Option<FranchiseView<'a>> {
        let (f, _) = catalogue.franchises().of(a)?;
        let in_order = f
            .entries
            .iter()
            .enumerate()
            .map(|(p, &e)| {
                let anime = &catalogue[e];
                SeriesEntry {
                    anime_id: anime.mal_id,
                    name: &anime.name,
                    english_name: anime.english_name.as_deref().filter(|n| *n != anime.name),
                    label: f.label(p),
                    series: &catalogue[f.series_start(p)].name,
                    year: anime.start_year,
                    adult: anime.adult,
                }
            })
            .collect();
        Some(FranchiseView {
            place: SeriesView::of(catalogue, a)?,
            in_order,
        })
    }
}

/// A planned anime with the rating the model predicts for the fan (the plan-to-watch list).
#[derive(Serialize, ToSchema)]
#[schema(as = Planned)]
pub struct PlannedView<'a> {
    /// The anime.
    #[serde(flatten)]
    pub anime: Card<'a>,
    /// The rating the model predicts.
    pub predicted_rating: f32,
}

impl<'a> PlannedView<'a> {
    /// The card of `anime` with its predicted rating.
    pub fn of(catalogue: &'a Catalogue, anime: AnimeIx, predicted_rating: f32) -> PlannedView<'a> {
        PlannedView {
            anime: Card::of(catalogue, anime),
            predicted_rating,
        }
    }
}

impl<'a> Card<'a> {
    /// The card of an anime, with its whole synopsis.
    pub fn of(catalogue: &'a Catalogue, a: AnimeIx) -> Card<'a> {
        Card::with(catalogue, a, Synopsis::Full)
    }

    /// The card of an anime with as much synopsis as asked for.
    pub fn with(catalogue: &'a Catalogue, ix: AnimeIx, synopsis: Synopsis) -> Card<'a> {
        let a = &catalogue[ix];
        Card {
            anime_id: a.mal_id,
            name: &a.name,
            english_name: a.english_name.as_deref().filter(|e| *e != a.name),
            japanese_name: a.japanese_name.as_deref(),
            genres: &a.genres,
            themes: &a.themes,
            demographics: &a.demographics,
            kind: a.kind.as_deref(),
            year: a.start_year,
            season: a.season,
            status: a.status,
            cover: allowed_cover(a.cover.as_deref()),
            episodes: a.episodes,
            score: a.score,
            members: a.members,
            adult: a.adult,
            synopsis: a.synopsis.as_deref().and_then(|t| synopsis.of(t)),
            series: SeriesView::of(catalogue, ix),
        }
    }
}

/// The entry of a franchise the fan liked that an anime continues.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SequelOf<'a> {
    /// Its MyAnimeList id.
    pub anime_id: MalId,
    /// Its title.
    pub name: &'a str,
}

/// One anime of a season's list ("this season").
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = SeasonAnime)]
pub struct SeasonView<'a> {
    /// The anime.
    #[serde(flatten)]
    pub anime: Card<'a>,
    /// The rating the model predicts for the fan (absent when ranked by popularity).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predicted_rating: Option<f32>,
    /// When it continues a franchise the fan liked: the entry they liked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequel_of: Option<SequelOf<'a>>,
}

/// One entry of the continue row: the next anime of a franchise the fan is watching.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Continuation)]
pub struct ContinueView<'a> {
    /// The anime.
    #[serde(flatten)]
    pub anime: Card<'a>,
    /// Rating the model expects the fan to give (1-10).
    pub predicted_rating: f32,
    /// Entries of the franchise on the fan's list.
    #[schema(minimum = 1)]
    pub seen: usize,
    /// The fan's best score in the franchise (0: none scored).
    pub best_score: Score,
}

impl<'a> ContinueView<'a> {
    /// The views of a continue row.
    pub fn list(
        bundle: &'a Bundle,
        row: &'a [Continuation],
        synopsis: Synopsis,
    ) -> Vec<ContinueView<'a>> {
        row.iter()
            .map(|c| ContinueView {
                anime: Card::with(&bundle.catalogue, c.index, synopsis),
                predicted_rating: c.predicted_rating,
                seen: c.seen,
                best_score: c.best_score,
            })
            .collect()
    }
}

/// One recommendation: the anime's card, the predicted rating and the reasons.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Recommendation)]
pub struct RecommendationView<'a> {
    /// The anime.
    #[serde(flatten)]
    pub anime: Card<'a>,
    /// Rating the model expects the user to give (1-10); when `personal` is false (an empty
    /// list), the anime's MyAnimeList score.
    pub predicted_rating: f32,
    /// Whether the list was ranked for the user (false: popular anime, for a list that says
    /// nothing yet).
    pub personal: bool,
    /// The hybrid's score (higher ranks first).
    pub rank_score: f32,
    /// Why it was picked, largest share first (empty unless explanations were asked for).
    pub reasons: &'a [Reason],
}

impl<'a> RecommendationView<'a> {
    /// The view of a recommendation.
    pub fn of(
        bundle: &'a Bundle,
        r: &'a Recommendation,
        synopsis: Synopsis,
    ) -> RecommendationView<'a> {
        RecommendationView {
            anime: Card::with(&bundle.catalogue, r.index, synopsis),
            predicted_rating: r.predicted_rating,
            personal: r.personal,
            rank_score: r.score,
            reasons: &r.reasons,
        }
    }

    /// The views of a list.
    pub fn list(
        bundle: &'a Bundle,
        recs: &'a [Recommendation],
        synopsis: Synopsis,
    ) -> Vec<RecommendationView<'a>> {
        recs.iter()
            .map(|r| RecommendationView::of(bundle, r, synopsis))
            .collect()
    }
}

/// An anime with a similarity score.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = SimilarAnimeItem)]
pub struct SimilarView<'a> {
    /// The anime.
    #[serde(flatten)]
    pub anime: Card<'a>,
    /// Similarity (higher is closer; comparable within one list).
    pub similarity: f32,
}

/// A user with a similar taste.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SimilarUser {
    /// MyAnimeList user id.
    pub user_id: UserId,
    /// Similarity (cosine of mean-centred ratings, damped by overlap).
    pub similarity: f32,
    /// Anime both rated.
    pub common: usize,
}

/// A JSON response of a borrowed value.
pub fn json<T: Serialize>(value: &T) -> Response {
    match json_body(value) {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(problem) => problem.into_response(),
    }
}

/// A value serialised as a JSON body (to send, or to keep).
pub fn json_body<T: Serialize>(value: &T) -> Result<bytes::Bytes, Problem> {
    serde_json::to_vec(value)
        .map(bytes::Bytes::from)
        .map_err(|e| Problem::internal(format!("response not serialisable: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_come_from_the_one_allowed_host_only() {
        let mal = "https://cdn.myanimelist.net/images/anime/1015/138006l.jpg";
        assert_eq!(allowed_cover(Some(mal)), Some(mal));
        for other in [
            "https://cdn.myanimelist.net.evil.example/x.jpg",
            "http://cdn.myanimelist.net/images/x.jpg",
            "https://example.com/https://cdn.myanimelist.net/x.jpg",
            "https://cdn.myanimelist.net",
        ] {
            assert_eq!(allowed_cover(Some(other)), None, "{other}");
        }
        assert_eq!(allowed_cover(None), None);
        assert!(
            crate::app::CONTENT_SECURITY_POLICY
                .contains(&format!("img-src 'self' data: {COVER_ORIGIN};")),
            "the pages' policy allows the cover host for pictures"
        );
    }

    #[test]
    fn short_synopses_keep_whole_sentences_or_whole_words() {
        let sentences = format!(
            "{} Second one. {}",
            "First sentence here.",
            "x ".repeat(150)
        );
        assert_eq!(
            Synopsis::Short.of(&sentences),
            Some("First sentence here. Second one.")
        );
        let words = "word ".repeat(60);
        let cut = Synopsis::Short.of(&words).unwrap();
        assert!(cut.len() <= SHORT_SYNOPSIS && cut.ends_with("word") && words.starts_with(cut));
        // A cut inside a multi-byte character moves back to its start.
        let kana = "ア".repeat(100);
        let cut = Synopsis::Short.of(&kana).unwrap();
        assert!(cut.len() <= SHORT_SYNOPSIS && kana.starts_with(cut) && !cut.is_empty());
        assert_eq!(Synopsis::Short.of("Brief."), Some("Brief."));
        assert_eq!(Synopsis::None.of("Brief."), None);
        assert_eq!(Synopsis::Full.of(&words), Some(words.as_str()));
    }
}
