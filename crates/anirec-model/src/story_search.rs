//! Story search: anime ranked by how close their story is to a described wish ("time loop
//! mystery at a high school"), titles first when the query is a title, well-known anime first
//! among equally close stories, one per franchise, and — for a fan the model knows — the story
//! match blended with the fan's predicted rating, with the reason said.

use anirec_data::{AnimeIx, MalId};
use serde::Serialize;

use crate::bundle::Bundle;
use crate::filters::{Filters, Grouping};
use crate::query::Profile;
use crate::topk::top_k;

/// Title-search score from which a title hit goes before the story matches (the name equals
/// the query, or starts with it: [`crate::search::TitleIndex::search`]).
pub const TITLE_FIRST: f32 = 3.0;

/// Story matches ranked further (popularity, the fan's predicted rating, one per franchise),
/// best story match first.
const POOL: usize = 200;

/// Weight of an anime's popularity (log members, scaled to 0-1 over the catalogue) beside the
/// story's cosine similarity: among stories about equally close, the ones fans know go first
/// (chosen on bench/story/queries.tsv: BENCHMARKS.md "Story search").
pub const POPULARITY_WEIGHT: f32 = 0.2;

/// Weight of the fan's predicted rating (scaled to -1..1 over 1-10) beside the story's cosine
/// similarity. Cosines of good matches sit around 0.4-0.6, a few hundredths apart, so a rating
/// a point higher moves an anime about two places.
pub const FIT_WEIGHT: f32 = 0.1;

/// What a story search is asked.
pub struct StoryQuery<'a> {
    /// The query as typed.
    pub text: &'a str,
    /// Its embedding by the bundle's encoder.
    pub vector: &'a [f32],
    /// Title-search hits of the same query (best first, with their scores).
    pub titles: &'a [(AnimeIx, f32)],
    /// The fan, when known: personalises the ranking and leaves out their rated anime unless
    /// the filters include them.
    pub profile: Option<&'a Profile>,
    /// How many.
    pub k: usize,
    /// The recommendations' filters.
    pub filters: &'a Filters,
}

/// One anime found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoryHit {
    /// The anime.
    #[serde(skip)]
    pub index: AnimeIx,
    /// Its MyAnimeList id.
    pub anime_id: MalId,
    /// Cosine similarity of its story to the query (-1..1).
    pub story_match: f32,
    /// Whether it is here because its title matches the query.
    pub title_match: bool,
    /// The fan's predicted rating (1-10), for a known fan.
    pub predicted_rating: Option<f32>,
    /// A sentence saying why it was found.
    pub reason: String,
}

impl Bundle {
    /// Runs a story search; empty when the bundle has no story embeddings.
    pub fn story_search(&self, q: &StoryQuery) -> Vec<StoryHit> {
        let Some(story) = self.story() else {
            return Vec::new();
        };
        let anime = self.catalogue.anime();
        let rated = |a: AnimeIx| {
            q.profile.is_some_and(|p| {
                p.state
                    .entries
                    .binary_search_by_key(&a, |e| e.anime)
                    .is_ok()
            })
        };
        let allowed = |a: AnimeIx| {
            q.filters.allows(&anime[a.0 as usize]) && (q.filters.include_rated || !rated(a))
        };
        let mut scores = Vec::with_capacity(anime.len());
        story.scores_into(q.vector, &mut scores);

        let mut hits: Vec<StoryHit> = q
            .titles
            .iter()
            .filter(|&&(a, score)| score >= TITLE_FIRST && allowed(a))
            .take(q.k)
            .map(|&(a, _)| {
                let predicted = q.profile.map(|p| self.predicted_rating(p, a));
                self.hit(q, a, scores[a.0 as usize], true, predicted)
            })
            .collect();
        let wanted = q.k - hits.len();
        let blended: Vec<f32> = scores
            .iter()
            .zip(self.story_prior())
            .map(|(s, prior)| s + prior)
            .collect();
        let taken: Vec<AnimeIx> = hits.iter().map(|h| h.index).collect();
        let found = top_k(&blended, POOL.max(wanted), |j| {
            !taken.contains(&AnimeIx(j)) && allowed(AnimeIx(j))
        });
        // (score, anime, predicted rating); reasons are written for the kept ones only.
        let mut matches: Vec<(f32, AnimeIx, Option<f32>)> = found
            .into_iter()
            .map(|j| {
                let predicted = q.profile.map(|p| self.predicted_rating(p, AnimeIx(j)));
                let fit = predicted.map_or(0.0, |r| FIT_WEIGHT * (r - 5.5) / 4.5);
                (blended[j as usize] + fit, AnimeIx(j), predicted)
            })
            .collect();
        matches.sort_by(|a, b| b.0.total_cmp(&a.0));
        // One anime per franchise (its best match), unless the filters say group=none.
        if q.filters.group == Grouping::Series {
            let franchises = self.catalogue.franchises();
            let mut seen: Vec<u32> = hits
                .iter()
                .filter_map(|h| franchises.group_of(h.index))
                .collect();
            matches.retain(|&(_, a, _)| match franchises.group_of(a) {
                Some(g) if seen.contains(&g) => false,
                Some(g) => {
                    seen.push(g);
                    true
                }
                None => true,
            });
        }
        hits.extend(
            matches
                .into_iter()
                .take(wanted)
                .map(|(_, a, predicted)| self.hit(q, a, scores[a.0 as usize], false, predicted)),
        );
        hits
    }

    /// One anime found, with the reason said.
    fn hit(
        &self,
        q: &StoryQuery,
        a: AnimeIx,
        story_match: f32,
        title_match: bool,
        predicted_rating: Option<f32>,
    ) -> StoryHit {
        let mut reason = if title_match {
            "its title matches".to_owned()
        } else {
            let words = matched_words(q.text, &self.catalogue[a]);
            if words.is_empty() {
                "its story is close to what you describe".to_owned()
            } else {
                format!("matches '{}'", words.join(" "))
            }
        };
        if let Some(r) = predicted_rating {
            reason.push_str(&format!("; fans like you rate it {r:.1}"));
        }
        StoryHit {
            index: a,
            anime_id: self.catalogue[a].mal_id,
            story_match,
            title_match,
            predicted_rating,
            reason,
        }
    }
}

/// Words too common to be a reason.
const STOP_WORDS: &[&str] = &[
    "the",
    "and",
    "for",
    "with",
    "about",
    "that",
    "this",
    "from",
    "into",
    "who",
    "where",
    "what",
    "anime",
    "show",
    "series",
    "some",
    "something",
    "want",
    "like",
    "watch",
];

/// The query's words (three letters or more, not [`STOP_WORDS`]) that the anime's synopsis,
/// titles or genres hold, in query order.
fn matched_words<'q>(query: &'q str, anime: &anirec_data::catalogue::Anime) -> Vec<&'q str> {
    let haystack = crate::story::story_text(anime).to_lowercase();
    let mut out: Vec<&str> = Vec::new();
    for word in query.split(|c: char| !c.is_alphanumeric()) {
        let lower = word.to_lowercase();
        if word.chars().count() >= 3
            && !STOP_WORDS.contains(&lower.as_str())
            && haystack.contains(&lower)
            && !out.iter().any(|w| w.eq_ignore_ascii_case(word))
        {
            out.push(word);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use anirec_data::catalogue::Anime;

    #[test]
    fn the_reason_names_the_query_words_the_story_holds() {
        let anime = Anime {
            name: "Steins;Gate".into(),
            genres: vec!["Sci-Fi".into(), "Thriller".into()],
            synopsis: Some("A self-proclaimed mad scientist finds a way to send messages to the past, and a time loop begins.".into()),
            ..Anime::default()
        };
        assert_eq!(
            matched_words("a Time LOOP mystery about the past", &anime),
            vec!["Time", "LOOP", "past"]
        );
        assert!(matched_words("cozy food", &anime).is_empty());
    }
}
