//! Lexical retrieval beside the story vectors: BM25 over each anime's synopsis and genres, in the
//! content model's stemmed words. It finds what a sentence encoder blurs (a "chainsaw", "five
//! yen", "poisons"), and its matched words are the reason a story search shows.

use std::collections::HashMap;

use anirec_data::AnimeIx;
use anirec_data::catalogue::Anime;
use rayon::prelude::*;

use crate::content::tokens::{FieldWeights, Tokenizer};

/// BM25's term-frequency saturation.
pub const K1: f32 = 1.2;
/// BM25's length normalisation.
pub const B: f32 = 0.75;

/// Words of a query that say nothing about a story, beyond the content model's stop words:
/// indefinite pronouns and connectives a synopsis rarely holds (so BM25 would count them as
/// telling), and the words of asking for a show. Sorted.
const QUERY_STOPWORDS: &[&str] = &[
    "although",
    "among",
    "another",
    "anybody",
    "anyone",
    "anything",
    "around",
    "because",
    "else",
    "everybody",
    "everyone",
    "everything",
    "feel",
    "kind",
    "like",
    "looking",
    "nobody",
    "nothing",
    "show",
    "shows",
    "since",
    "somebody",
    "someone",
    "something",
    "somewhere",
    "though",
    "toward",
    "towards",
    "want",
    "watch",
    "whatever",
    "whoever",
    "whose",
];

/// An inverted index of the catalogue's synopses and genres, scored with BM25.
#[derive(Clone)]
pub struct Lexical {
    /// Stemmed word → its number.
    terms: HashMap<String, u32>,
    /// Per term, its inverse document frequency.
    idf: Vec<f32>,
    /// Per term, where its postings start in `docs` / `counts` (one more entry than terms).
    starts: Vec<u32>,
    /// The anime holding each term, in catalogue order within a term.
    docs: Vec<u32>,
    /// How often the term occurs in that anime's text.
    counts: Vec<u16>,
    /// Per anime, BM25's `K1 × (1 − B + B × length / mean length)`.
    norms: Vec<f32>,
}

/// One word of a query that the catalogue holds.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryTerm<'q> {
    /// The word as typed.
    pub word: &'q str,
    /// Its term number.
    term: u32,
    /// Its inverse document frequency: how rare, so how telling, the word is.
    pub idf: f32,
}

impl Lexical {
    /// The index of `anime`'s synopses and genres.
    pub fn build(anime: &[Anime]) -> Lexical {
        // Stemming is most of the work: each anime's words on every core, numbered after.
        let texts: Vec<Vec<String>> = anime
            .par_iter()
            .map_init(
                || Tokenizer::new(FieldWeights::default()),
                |tokenizer, a| {
                    let text = format!(
                        "{} {}",
                        a.genres.join(" "),
                        a.synopsis.as_deref().unwrap_or("")
                    );
                    tokenizer.words(&text)
                },
            )
            .collect();
        let mut terms: HashMap<String, u32> = HashMap::new();
        // (term, anime) for every occurrence, then counted.
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        let lengths: Vec<f32> = texts.iter().map(|words| words.len() as f32).collect();
        for (ix, words) in texts.into_iter().enumerate() {
            for word in words {
                let next = terms.len() as u32;
                let term = *terms.entry(word).or_insert(next);
                pairs.push((term, ix as u32));
            }
        }
        pairs.sort_unstable();
        let mut starts = vec![0u32; terms.len() + 1];
        let (mut docs, mut counts) = (Vec::new(), Vec::<u16>::new());
        for (i, &(term, doc)) in pairs.iter().enumerate() {
            if i > 0 && pairs[i - 1] == (term, doc) {
                let last = counts.len() - 1;
                counts[last] = counts[last].saturating_add(1);
            } else {
                docs.push(doc);
                counts.push(1);
                starts[term as usize + 1] = docs.len() as u32;
            }
        }
        for t in 1..starts.len() {
            starts[t] = starts[t].max(starts[t - 1]);
        }
        let n = anime.len() as f32;
        let idf = starts
            .windows(2)
            .map(|w| {
                let df = (w[1] - w[0]) as f32;
                (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
            })
            .collect();
        let mean = lengths.iter().sum::<f32>() / n.max(1.0);
        let norms = lengths
            .iter()
            .map(|&l| K1 * (1.0 - B + B * l / mean.max(1.0)))
            .collect();
        Lexical {
            terms,
            idf,
            starts,
            docs,
            counts,
            norms,
        }
    }

    /// The words of `query` that the catalogue holds, each once, in query order.
    pub fn terms<'q>(&self, query: &'q str) -> Vec<QueryTerm<'q>> {
        let tokenizer = Tokenizer::new(FieldWeights::default());
        let mut out: Vec<QueryTerm> = Vec::new();
        for word in query.split(|c: char| !c.is_alphanumeric()) {
            if QUERY_STOPWORDS
                .binary_search(&word.to_lowercase().as_str())
                .is_ok()
            {
                continue;
            }
            let Some(stem) = tokenizer.words(word).pop() else {
                continue;
            };
            if let Some(&term) = self.terms.get(&stem)
                && !out.iter().any(|t| t.term == term)
            {
                out.push(QueryTerm {
                    word,
                    term,
                    idf: self.idf[term as usize],
                });
            }
        }
        out
    }

    fn postings(&self, term: u32) -> (&[u32], &[u16]) {
        let (from, to) = (
            self.starts[term as usize] as usize,
            self.starts[term as usize + 1] as usize,
        );
        (&self.docs[from..to], &self.counts[from..to])
    }

    /// Every anime's BM25 score for `terms`, written into `out` (0 for anime holding none).
    pub fn scores_into(&self, terms: &[QueryTerm], out: &mut Vec<f32>) {
        out.clear();
        out.resize(self.norms.len(), 0.0);
        for t in terms {
            let (docs, counts) = self.postings(t.term);
            for (&doc, &count) in docs.iter().zip(counts) {
                let tf = f32::from(count);
                out[doc as usize] += t.idf * tf * (K1 + 1.0) / (tf + self.norms[doc as usize]);
            }
        }
    }

    /// Whether anime `a`'s synopsis or genres hold `term`.
    pub fn holds(&self, a: AnimeIx, term: &QueryTerm) -> bool {
        self.postings(term.term).0.binary_search(&a.0).is_ok()
    }
}

impl std::fmt::Debug for Lexical {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lexical")
            .field("terms", &self.terms.len())
            .field("postings", &self.docs.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXTS: [(&str, &str); 4] = [
        (
            "Action",
            "A boy merges with his chainsaw devil dog and hunts devils.",
        ),
        (
            "Action",
            "A boy hunts ghosts in a long, long story about a city of ghosts whose school is haunted.",
        ),
        ("Slice of Life", "Girls go camping by a lake in winter."),
        ("Comedy", "A boy and a girl at school."),
    ];

    #[test]
    fn query_stop_words_are_sorted_for_binary_search() {
        assert!(QUERY_STOPWORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn bm25_ranks_rare_words_and_short_texts_first() {
        let catalogue: Vec<Anime> = TEXTS
            .iter()
            .map(|&(genre, synopsis)| Anime {
                genres: vec![genre.into()],
                synopsis: Some(synopsis.into()),
                ..Anime::default()
            })
            .collect();
        let index = Lexical::build(&catalogue);
        let terms = index.terms("something about a boy who hunts devils with a chainsaw");
        let words: Vec<&str> = terms.iter().map(|t| t.word).collect();
        assert_eq!(
            words,
            ["boy", "hunts", "devils", "chainsaw"],
            "stop words out"
        );
        let mut scores = Vec::new();
        index.scores_into(&terms, &mut scores);
        assert!(
            scores[0] > scores[1] && scores[1] > scores[3] && scores[3] > 0.0,
            "{scores:?}"
        );
        assert_eq!(scores[2], 0.0);
        // The hand-computed score of anime 3 ("boy" once; 3 of 4 anime hold it).
        let idf = (1.0f32 + (4.0 - 3.0 + 0.5) / (3.0 + 0.5)).ln();
        let tokenizer = Tokenizer::new(FieldWeights::default());
        let lengths: Vec<f32> = TEXTS
            .iter()
            .map(|(g, s)| tokenizer.words(&format!("{g} {s}")).len() as f32)
            .collect();
        let mean = lengths.iter().sum::<f32>() / 4.0;
        let norm = K1 * (1.0 - B + B * lengths[3] / mean);
        assert!((scores[3] - idf * (K1 + 1.0) / (1.0 + norm)).abs() < 1e-5);
        let chainsaw = &terms[3];
        assert!(index.holds(AnimeIx(0), chainsaw) && !index.holds(AnimeIx(1), chainsaw));
        assert!(chainsaw.idf > terms[0].idf, "a rare word tells more");
        // Genres are searched too; words the catalogue lacks are not terms.
        let camp = index.terms("slice of life camping zzz");
        assert_eq!(camp.len(), 3);
        index.scores_into(&camp, &mut scores);
        assert!(scores[2] > 0.0 && scores.iter().filter(|&&s| s > 0.0).count() == 1);
        assert!(index.terms("").is_empty());
        let asked: Vec<&str> = index
            .terms("Something WHOSE chainsaw")
            .iter()
            .map(|t| t.word)
            .collect();
        assert_eq!(
            asked,
            ["chainsaw"],
            "'whose' is in the catalogue but says nothing"
        );
    }
}
