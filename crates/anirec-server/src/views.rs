//! The JSON shapes of anime and recommendations: one card shape for every list (API responses,
//! HTML cards, the CLI's `--json`) and the full record for an anime's own page.

use anirec_data::catalogue::Anime;
use anirec_data::{MalId, UserId};
use anirec_model::bundle::Bundle;
use anirec_model::query::{Reason, Recommendation};
use serde::{Deserialize, Deserializer, Serialize};

use crate::params::from_text;

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
    /// The card of an anime, with its whole synopsis.
    pub fn of(a: &'a Anime) -> Card<'a> {
        Card::with(a, Synopsis::Full)
    }

    /// The card of an anime with as much synopsis as asked for.
    pub fn with(a: &'a Anime, synopsis: Synopsis) -> Card<'a> {
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
            synopsis: a.synopsis.as_deref().and_then(|t| synopsis.of(t)),
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
    pub fn of(
        bundle: &'a Bundle,
        r: &'a Recommendation,
        synopsis: Synopsis,
    ) -> RecommendationView<'a> {
        RecommendationView {
            anime: Card::with(&bundle.catalogue[r.index], synopsis),
            predicted_rating: r.predicted_rating,
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

#[cfg(test)]
mod tests {
    use super::*;

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
