//! Story search: anime ranked by how close their story is to a described wish ("time loop
//! mystery at a high school"), titles first when the query is a title, well-known anime first
//! among equally close stories, one per franchise, and — for a fan the model knows — the story
//! match blended with the fan's predicted rating, with the reason said.

use anirec_data::{AnimeIx, MalId};
use serde::Serialize;

use crate::bundle::Bundle;
use crate::filters::{Filters, Grouping};
use crate::profile::Profile;
use crate::story::StoryVectors;
use crate::topk::top_k;

/// Title-search score from which a title hit goes before the story matches (the name equals
/// the query, or starts with it: [`crate::search::TitleIndex::search`]).
pub const TITLE_FIRST: f32 = 3.0;

/// Story matches ranked further (popularity, the fan's predicted rating, one per franchise),
/// best story match first.
const POOL: usize = 200;

/// Candidates beyond the pool taken from the coarse (8-bit) pass and scored exactly: enough
/// that the coarse error bound proves the pool exact for real queries (when it cannot, every
/// anime is scored exactly; BENCHMARKS.md "Story search" counts how often).
const RESCORED: usize = 300;

/// Weight of an anime's popularity (log members, scaled to 0-1 over the catalogue) beside the
/// story's cosine similarity: among stories about equally close, the ones fans know go first.
/// Chosen on bench/story/queries.tsv and checked on the held-out bench/story/heldout.tsv
/// (`bench/story/ranking.py`; BENCHMARKS.md "Story search's ranking, checked on held-out
/// queries").
pub const POPULARITY_WEIGHT: f32 = 0.3;

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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
        let exact = |a: AnimeIx| story.dot(a, q.vector);

        let mut hits: Vec<StoryHit> = q
            .titles
            .iter()
            .filter(|&&(a, score)| score >= TITLE_FIRST && allowed(a))
            .take(q.k)
            .map(|&(a, _)| {
                let predicted = q.profile.map(|p| self.predicted_rating(p, a));
                self.hit(q, a, exact(a), true, predicted)
            })
            .collect();
        let wanted = q.k - hits.len();
        let taken: Vec<AnimeIx> = hits.iter().map(|h| h.index).collect();
        let pool = story_pool(
            story,
            self.story_prior(),
            q.vector,
            POOL.max(wanted),
            RESCORED,
            |j| !taken.contains(&AnimeIx(j)) && allowed(AnimeIx(j)),
        );
        // (score, anime, story match, predicted rating); reasons are written for the kept ones
        // only.
        let mut matches: Vec<(f32, AnimeIx, f32, Option<f32>)> = pool
            .into_iter()
            .map(|(blended, story_match, a)| {
                let predicted = q.profile.map(|p| self.predicted_rating(p, a));
                let fit = predicted.map_or(0.0, |r| FIT_WEIGHT * (r - 5.5) / 4.5);
                (blended + fit, a, story_match, predicted)
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
            matches.retain(|&(_, a, _, _)| match franchises.group_of(a) {
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
                .map(|(_, a, story_match, predicted)| {
                    self.hit(q, a, story_match, false, predicted)
                }),
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

/// The `size` anime with the best story match + `prior` among those `keep` allows, best first,
/// as (story match + prior, story match, anime): exactly those that scoring every anime exactly
/// would give. A coarse (8-bit) pass picks `size + extra` candidates and only they are scored
/// exactly; when the coarse error bound cannot prove that no other anime belongs in the pool
/// (the last candidate's coarse score plus the bound reaches the pool's last exact score),
/// every allowed anime is scored exactly instead.
fn story_pool(
    story: &StoryVectors,
    prior: &[f32],
    query: &[f32],
    size: usize,
    extra: usize,
    keep: impl Fn(u32) -> bool,
) -> Vec<(f32, f32, AnimeIx)> {
    let mut coarse = Vec::with_capacity(story.len());
    story.coarse_scores_into(query, &mut coarse);
    for (c, p) in coarse.iter_mut().zip(prior) {
        *c += p;
    }
    let found = top_k(&coarse, size + extra, &keep);
    let exact = |j: u32| {
        let story_match = story.dot(AnimeIx(j), query);
        (story_match + prior[j as usize], story_match, AnimeIx(j))
    };
    let best_first = |mut scored: Vec<(f32, f32, AnimeIx)>| {
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        scored.truncate(size);
        scored
    };
    let scored = best_first(found.iter().map(|&j| exact(j)).collect());
    let everyone_scored = found.len() < size + extra;
    let proven = match (found.last(), scored.get(size.saturating_sub(1))) {
        (Some(&last), Some(&(threshold, _, _))) => {
            coarse[last as usize] + story.coarse_error(query) < threshold
        }
        _ => false,
    };
    if everyone_scored || proven {
        scored
    } else {
        best_first(
            (0..story.len() as u32)
                .filter(|&j| keep(j))
                .map(exact)
                .collect(),
        )
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

impl Bundle {
    /// Per anime, what story search adds to the story's cosine for popularity:
    /// [`POPULARITY_WEIGHT`] × log(1 + members) / log(1 + the most
    /// members); computed once, on first use.
    pub fn story_prior(&self) -> &[f32] {
        self.story_prior.get_or_init(|| {
            let anime = self.catalogue.anime();
            let most = anime.iter().filter_map(|a| a.members).max().unwrap_or(0);
            let scale = POPULARITY_WEIGHT / (1.0 + most as f32).ln().max(1.0);
            anime
                .iter()
                .map(|a| scale * (1.0 + a.members.unwrap_or(0) as f32).ln())
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anirec_data::catalogue::Anime;

    /// Pseudo-random unit rows whose best matches to a query lie close together, and a prior.
    fn world(n: usize, dim: usize) -> (StoryVectors, Vec<f32>, Vec<f32>) {
        let mut state = 0x9e37_79b9_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % 20_000) as f32 / 10_000.0 - 1.0
        };
        let unit = |v: Vec<f32>| {
            let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.into_iter().map(|x| x / n).collect::<Vec<f32>>()
        };
        let query = unit((0..dim).map(|_| next()).collect());
        let rows: Vec<f32> = (0..n)
            .flat_map(|_| {
                // Half query, half noise: many rows about equally close to it.
                let noise = unit((0..dim).map(|_| next()).collect());
                unit(query.iter().zip(&noise).map(|(q, x)| 0.5 * q + x).collect())
            })
            .collect();
        let prior = (0..n).map(|_| 0.01 * next()).collect();
        (
            StoryVectors::new(dim, rows).expect("whole rows"),
            prior,
            query,
        )
    }

    #[test]
    fn the_pool_is_the_exact_one_with_or_without_proof() {
        let (story, prior, query) = world(3000, 384);
        let keep = |j: u32| j % 7 != 3;
        let mut exact: Vec<(f32, f32, AnimeIx)> = (0..3000u32)
            .filter(|&j| keep(j))
            .map(|j| {
                let m = story.dot(AnimeIx(j), &query);
                (m + prior[j as usize], m, AnimeIx(j))
            })
            .collect();
        exact.sort_by(|a, b| b.0.total_cmp(&a.0));
        exact.truncate(50);
        // Enough candidates to prove it, none beyond the pool (the fallback), and more
        // candidates than there are anime allowed.
        for extra in [1000, 0, 5000] {
            assert_eq!(
                story_pool(&story, &prior, &query, 50, extra, keep),
                exact,
                "extra {extra}"
            );
        }
    }

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
