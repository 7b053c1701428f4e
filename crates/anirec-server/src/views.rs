//! The JSON shapes of anime and recommendations: one card shape for every list (API responses,
//! HTML cards, the CLI's `--json`) and the full record for an anime's own page.

use anirec_data::catalogue::Anime;
use anirec_data::{MalId, UserId};
use anirec_model::bundle::Bundle;
use anirec_model::query::{Reason, Recommendation};
use serde::Serialize;

/// An anime as a list shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Card<'a> {
    /// MyAnimeList id.
    pub anime_id: MalId,
    /// Main (romanised) title.
    pub name: &'a str,
    /// English title.
    pub english_name: Option<&'a str>,
    /// Japanese title.
    pub japanese_name: Option<&'a str>,
    /// Genres.
    pub genres: &'a [String],
    /// TV, Movie, OVA, ...
    #[serde(rename = "type")]
    pub kind: Option<&'a str>,
    /// First aired.
    pub year: Option<u16>,
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
}

impl<'a> Card<'a> {
    /// The card of an anime.
    pub fn of(a: &'a Anime) -> Card<'a> {
        Card {
            anime_id: a.mal_id,
            name: &a.name,
            english_name: a.english_name.as_deref().filter(|e| *e != a.name),
            japanese_name: a.japanese_name.as_deref(),
            genres: &a.genres,
            kind: a.kind.as_deref(),
            year: a.start_year,
            episodes: a.episodes,
            score: a.score,
            members: a.members,
            adult: a.adult,
            synopsis: a.synopsis.as_deref(),
        }
    }
}

/// One recommendation: the anime's card, the predicted rating and the reasons.
#[derive(Debug, Clone, Serialize)]
pub struct RecommendationView<'a> {
    /// The anime.
    #[serde(flatten)]
    pub anime: Card<'a>,
    /// Rating the model expects the user to give (1-10).
    pub predicted_rating: f32,
    /// The hybrid's score (higher ranks first).
    pub rank_score: f32,
    /// Why it was picked, largest share first (empty unless explanations were asked for).
    pub reasons: &'a [Reason],
}

impl<'a> RecommendationView<'a> {
    /// The view of a recommendation.
    pub fn of(bundle: &'a Bundle, r: &'a Recommendation) -> RecommendationView<'a> {
        RecommendationView {
            anime: Card::of(&bundle.catalogue[r.index]),
            predicted_rating: r.predicted_rating,
            rank_score: r.score,
            reasons: &r.reasons,
        }
    }

    /// The views of a list.
    pub fn list(bundle: &'a Bundle, recs: &'a [Recommendation]) -> Vec<RecommendationView<'a>> {
        recs.iter()
            .map(|r| RecommendationView::of(bundle, r))
            .collect()
    }
}

/// An anime with a similarity score.
#[derive(Debug, Clone, Serialize)]
pub struct SimilarView<'a> {
    /// The anime.
    #[serde(flatten)]
    pub anime: Card<'a>,
    /// Similarity (higher is closer; comparable within one list).
    pub similarity: f32,
}

/// A user with a similar taste.
#[derive(Debug, Clone, Serialize)]
pub struct SimilarUser {
    /// MyAnimeList user id.
    pub user_id: UserId,
    /// Similarity (cosine of mean-centred ratings, damped by overlap).
    pub similarity: f32,
    /// Anime both rated.
    pub common: usize,
}
