//! Turning a catalogue record into weighted tokens: stemmed synopsis words and prefixed field
//! tokens (`genre:psychological`, `studio:madhouse`, `era:2000s`, ...).

use anirec_data::Anime;
use rust_stemmers::{Algorithm, Stemmer};
use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation;

/// How much each field counts relative to synopsis words.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FieldWeights {
    /// Synopsis words.
    pub synopsis: f32,
    /// Genres.
    pub genre: f32,
    /// Studios.
    pub studio: f32,
    /// Type (TV, Movie, ...).
    pub kind: f32,
    /// Source material.
    pub source: f32,
    /// Decade of the start year.
    pub era: f32,
    /// Age rating.
    pub age: f32,
}

impl Default for FieldWeights {
    fn default() -> Self {
        FieldWeights {
            synopsis: 1.0,
            genre: 3.0,
            studio: 1.5,
            kind: 0.7,
            source: 0.7,
            era: 0.7,
            age: 0.5,
        }
    }
}

/// Common English words that carry no meaning about an anime.
const STOPWORDS: &[&str] = &[
    "a",
    "about",
    "after",
    "again",
    "against",
    "all",
    "also",
    "an",
    "and",
    "anime",
    "ann",
    "any",
    "are",
    "as",
    "at",
    "be",
    "been",
    "before",
    "being",
    "between",
    "both",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "down",
    "during",
    "each",
    "episode",
    "episodes",
    "even",
    "ever",
    "every",
    "few",
    "for",
    "from",
    "further",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "however",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "just",
    "mal",
    "me",
    "more",
    "most",
    "much",
    "must",
    "my",
    "new",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "one",
    "only",
    "or",
    "other",
    "our",
    "out",
    "over",
    "own",
    "rewrite",
    "same",
    "season",
    "series",
    "she",
    "should",
    "so",
    "some",
    "source",
    "story",
    "such",
    "than",
    "that",
    "the",
    "their",
    "them",
    "themselves",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "two",
    "under",
    "until",
    "up",
    "upon",
    "very",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "within",
    "without",
    "would",
    "written",
    "you",
    "your",
];

/// Produces the tokens of catalogue records.
pub struct Tokenizer {
    stemmer: Stemmer,
    weights: FieldWeights,
}

impl Tokenizer {
    /// A tokenizer with the given field weights.
    pub fn new(weights: FieldWeights) -> Tokenizer {
        Tokenizer {
            stemmer: Stemmer::create(Algorithm::English),
            weights,
        }
    }

    /// The stemmed content words of a text.
    pub fn words(&self, text: &str) -> Vec<String> {
        text.unicode_words()
            .map(str::to_lowercase)
            .filter(|w| w.chars().count() > 2 && !w.chars().all(|c| c.is_ascii_digit()))
            .filter(|w| STOPWORDS.binary_search(&w.as_str()).is_err())
            .map(|w| self.stemmer.stem(&w).into_owned())
            .collect()
    }

    /// (token, field weight) pairs of one anime; a token may repeat (term frequency).
    pub fn tokens(&self, anime: &Anime) -> Vec<(String, f32)> {
        let w = &self.weights;
        let mut out: Vec<(String, f32)> = Vec::new();
        if let Some(s) = &anime.synopsis {
            out.extend(self.words(s).into_iter().map(|t| (t, w.synopsis)));
        }
        let field = |prefix: &str, value: &str| format!("{prefix}:{}", value.trim().to_lowercase());
        out.extend(anime.genres.iter().map(|g| (field("genre", g), w.genre)));
        out.extend(anime.studios.iter().map(|s| (field("studio", s), w.studio)));
        if let Some(k) = &anime.kind {
            out.push((field("type", k), w.kind));
        }
        if let Some(s) = &anime.source {
            out.push((field("source", s), w.source));
        }
        if let Some(y) = anime.start_year {
            out.push((format!("era:{}s", y / 10 * 10), w.era));
        }
        if let Some(r) = &anime.age_rating {
            let short = r.split(" - ").next().unwrap_or(r);
            out.push((field("age", short), w.age));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stopwords_are_sorted_for_binary_search() {
        assert!(
            STOPWORDS.windows(2).all(|w| w[0] < w[1]),
            "keep STOPWORDS sorted"
        );
    }

    #[test]
    fn words_are_lowercased_stemmed_and_filtered() {
        let t = Tokenizer::new(FieldWeights::default());
        assert_eq!(
            t.words("The Detectives were investigating 2071 murders"),
            ["detect", "investig", "murder"]
        );
    }

    #[test]
    fn field_tokens_carry_prefixes_and_weights() {
        let t = Tokenizer::new(FieldWeights::default());
        let a = Anime {
            genres: vec!["Psychological".into()],
            studios: vec!["Madhouse".into()],
            kind: Some("TV".into()),
            start_year: Some(2006),
            age_rating: Some("R - 17+ (violence & profanity)".into()),
            ..Anime::default()
        };
        let tokens = t.tokens(&a);
        assert!(tokens.contains(&("genre:psychological".into(), 3.0)));
        assert!(tokens.contains(&("studio:madhouse".into(), 1.5)));
        assert!(tokens.contains(&("era:2000s".into(), 0.7)));
        assert!(tokens.contains(&("age:r".into(), 0.5)));
    }
}
