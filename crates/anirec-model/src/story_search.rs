//! Story search: anime ranked by how close their story is to a described wish ("time loop
//! mystery at a high school"): the story vectors' cosine fused with BM25 over the synopses and
//! genres, titles first when the query is a title, well-known anime first among equally close
//! stories, one per franchise (its best-known close entry), and — for a fan the model knows —
//! the story match blended with the fan's predicted rating, with the reason said (the telling
//! words the synopsis shares with the query).

use anirec_data::{AnimeIx, MalId};
use serde::Serialize;

use crate::bundle::Bundle;
use crate::filters::{Filters, Grouping};
use crate::lexical::{Lexical, QueryTerm};
use crate::profile::Profile;
use crate::story::StoryVectors;
use crate::topk::top_k;

/// Title-search score from which a title hit goes before the story matches (the name equals
/// the query, or starts with it: [`crate::search::TitleIndex::search`]).
pub const TITLE_FIRST: f32 = 3.0;

/// Story matches ranked further (popularity, the fan's predicted rating, one per franchise),
/// best story match first; as many again are taken from the best BM25 matches.
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

/// Weight of the query's BM25 score, divided by the best BM25 score in the catalogue (so 0-1),
/// beside the story's cosine similarity. Chosen with [`POPULARITY_WEIGHT`] on
/// bench/story/queries.tsv and checked on the held-out heldout.tsv and natural.tsv
/// (`bench/story/fusion.py`; BENCHMARKS.md "Story search that understands stories").
pub const LEXICAL_WEIGHT: f32 = 0.3;

/// A franchise is shown by its best-known entry (the most members) among its entries in this
/// many best matches: the series a fan knows (Spy x Family, not its second season) when their
/// stories are about as close.
const KNOWN_WITHIN: usize = 100;

/// A word of the query names a reason when at most about one anime in twenty holds it
/// (BM25's inverse document frequency `ln(1 + (n − df + ½) / (df + ½))` of 1/20 is about 3).
const TELLING_IDF: f32 = 3.0;

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
        let rated = |a: AnimeIx| q.profile.is_some_and(|p| p.lists(a));
        let allowed = |a: AnimeIx| {
            q.filters.allows(&anime[a.0 as usize]) && (q.filters.include_rated || !rated(a))
        };
        let exact = |a: AnimeIx| story.dot(a, q.vector);
        let lexical = self.lexical();
        let terms = lexical.terms(q.text);

        let mut hits: Vec<StoryHit> = q
            .titles
            .iter()
            .filter(|&&(a, score)| score >= TITLE_FIRST && allowed(a))
            .take(q.k)
            .map(|&(a, _)| {
                let predicted = q.profile.map(|p| self.predicted_rating(p, a));
                self.hit(a, exact(a), true, predicted, &terms)
            })
            .collect();
        let wanted = q.k - hits.len();
        let taken: Vec<AnimeIx> = hits.iter().map(|h| h.index).collect();
        let keep = |j: u32| !taken.contains(&AnimeIx(j)) && allowed(AnimeIx(j));
        let prior = self.story_prior();
        let mut bm25 = Vec::with_capacity(anime.len());
        lexical.scores_into(&terms, &mut bm25);
        let lexical_scale = LEXICAL_WEIGHT / bm25.iter().fold(f32::EPSILON, |m, &s| m.max(s));
        // The best story matches, then the best BM25 matches not among them, each scored with
        // both.
        let size = POOL.max(wanted);
        let mut pool: Vec<(f32, f32, AnimeIx)> =
            story_pool(story, prior, q.vector, size, RESCORED, keep);
        let mut in_pool: Vec<u32> = pool.iter().map(|&(_, _, a)| a.0).collect();
        in_pool.sort_unstable();
        for j in top_k(&bm25, size, |j| bm25[j as usize] > 0.0 && keep(j)) {
            if in_pool.binary_search(&j).is_err() {
                let story_match = exact(AnimeIx(j));
                pool.push((story_match + prior[j as usize], story_match, AnimeIx(j)));
            }
        }
        let mut matches: Vec<Match> = pool
            .into_iter()
            .map(|(dense, story_match, a)| {
                let predicted = q.profile.map(|p| self.predicted_rating(p, a));
                let fit = predicted.map_or(0.0, |r| FIT_WEIGHT * (r - 5.5) / 4.5);
                Match {
                    score: dense + lexical_scale * bm25[a.0 as usize] + fit,
                    anime: a,
                    story_match,
                    predicted,
                }
            })
            .collect();
        matches.sort_by(|a, b| b.score.total_cmp(&a.score));
        if q.filters.group == Grouping::Series {
            let titled: Vec<u32> = hits
                .iter()
                .filter_map(|h| self.catalogue.franchises().group_of(h.index))
                .collect();
            matches = self.one_per_franchise(matches, &titled);
        }
        hits.extend(
            matches
                .into_iter()
                .take(wanted)
                .map(|m| self.hit(m.anime, m.story_match, false, m.predicted, &terms)),
        );
        hits
    }

    /// `matches` (best first) with one anime per franchise, none of the franchises `shown`
    /// already: each franchise at the place of its best match, shown by its best-known entry
    /// (the most members) among its entries in the first [`KNOWN_WITHIN`] matches.
    fn one_per_franchise(&self, matches: Vec<Match>, shown: &[u32]) -> Vec<Match> {
        let franchises = self.catalogue.franchises();
        let members = |m: &Match| self.catalogue[m.anime].members.unwrap_or(0);
        // (franchise, position in `matches` of its best-known close entry)
        let mut best_known: Vec<(u32, usize)> = Vec::new();
        for (i, m) in matches.iter().enumerate().take(KNOWN_WITHIN) {
            let Some(g) = franchises.group_of(m.anime) else {
                continue;
            };
            match best_known.iter_mut().find(|(f, _)| *f == g) {
                Some((_, at)) if members(m) > members(&matches[*at]) => *at = i,
                Some(_) => {}
                None => best_known.push((g, i)),
            }
        }
        let mut seen: Vec<u32> = shown.to_vec();
        let mut out = Vec::with_capacity(matches.len());
        for (i, m) in matches.iter().enumerate() {
            let chosen = match franchises.group_of(m.anime) {
                Some(g) if seen.contains(&g) => continue,
                Some(g) => {
                    seen.push(g);
                    best_known
                        .iter()
                        .find(|(f, _)| *f == g)
                        .map_or(i, |&(_, at)| at)
                }
                None => i,
            };
            out.push(matches[chosen].clone());
        }
        out
    }

    /// One anime found, with the reason said.
    fn hit(
        &self,
        a: AnimeIx,
        story_match: f32,
        title_match: bool,
        predicted_rating: Option<f32>,
        terms: &[QueryTerm],
    ) -> StoryHit {
        let mut reason = if title_match {
            "its title matches".to_owned()
        } else {
            let words = telling_words(self.lexical(), a, terms);
            if words.is_empty() {
                "its story is close to what you describe".to_owned()
            } else {
                format!("its story has {}", words.join(", "))
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

/// A story match being ranked.
#[derive(Debug, Clone)]
struct Match {
    /// Cosine + popularity prior + weighted BM25 + the fan's fit.
    score: f32,
    anime: AnimeIx,
    /// The story vectors' cosine alone.
    story_match: f32,
    predicted: Option<f32>,
}

/// The query's telling words (at most three, rarest first, as typed) that anime `a`'s synopsis
/// or genres hold.
fn telling_words<'q>(lexical: &Lexical, a: AnimeIx, terms: &[QueryTerm<'q>]) -> Vec<&'q str> {
    let mut held: Vec<&QueryTerm> = terms
        .iter()
        .filter(|t| t.idf >= TELLING_IDF && lexical.holds(a, t))
        .collect();
    held.sort_by(|x, y| y.idf.total_cmp(&x.idf));
    held.into_iter().take(3).map(|t| t.word).collect()
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

    /// Story search's BM25 index of the catalogue, built on first use (about a quarter of a
    /// second on two cores for the sample's 18,661 anime; the server builds it before serving).
    pub fn lexical(&self) -> &Lexical {
        self.lexical
            .get_or_init(|| Lexical::build(self.catalogue.anime()))
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
    fn the_reason_names_the_telling_words_the_story_holds() {
        let mut catalogue: Vec<Anime> = (0..40)
            .map(|i| Anime {
                genres: vec!["Drama".into()],
                synopsis: Some(format!("A boy and a girl meet at school, story {i}.")),
                ..Anime::default()
            })
            .collect();
        catalogue.push(Anime {
            genres: vec!["Sci-Fi".into(), "Thriller".into()],
            synopsis: Some("A self-proclaimed mad scientist and a boy send messages to the past, and a time loop begins.".into()),
            ..Anime::default()
        });
        let lexical = Lexical::build(&catalogue);
        let terms = lexical.terms("a boy in a Time LOOP who can change the past with his messages");
        // "boy" is in every synopsis; "can", "his", "the" are stop words.
        assert_eq!(
            telling_words(&lexical, AnimeIx(40), &terms),
            vec!["Time", "LOOP", "past"],
            "the three rarest, as typed"
        );
        assert!(telling_words(&lexical, AnimeIx(0), &terms).is_empty());
    }
}
