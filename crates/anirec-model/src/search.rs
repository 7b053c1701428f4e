//! Title search over the catalogue's Name, English and Japanese names: ranked and typo-tolerant
//! (each query word may be a few edits away from a title word), with popular titles first among
//! equally good matches. Titles and queries are compared in one folded form whatever the script:
//! full-width and half-width forms, accents and macrons, romaji long vowels and punctuation
//! fold away, and kana is also read as romaji ("しんげき" finds Shingeki no Kyojin). A kana query
//! is also compared by its consonants with every title's, which is how a katakana loanword finds
//! the English or romaji title it spells ("シュタインズ・ゲート" finds Steins;Gate, whose Japanese
//! name is written in Latin letters).

use anirec_data::AnimeIx;
use anirec_data::catalogue::Catalogue;
use rayon::prelude::*;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::{decompose_canonical, is_combining_mark};
use wana_kana::{ConvertJapanese, IsJapaneseChar};

use crate::topk::top_k;

/// Normalised names of every anime, built once per catalogue.
#[derive(Debug, Clone)]
pub struct TitleIndex {
    /// Per anime: its distinct normalised names.
    names: Vec<Vec<Name>>,
    /// Per anime: a small popularity bonus, log(1 + members) / 100.
    popularity: Vec<f32>,
    /// Every name as (anime, its place in `names[anime]`), in byte order of the name: the names
    /// that start with a query are one run of it, found by binary search.
    by_text: Vec<(u32, u32)>,
    /// Every name's [`consonants`] with its anime, sorted: the keys a kana query is also looked
    /// up by.
    sounds: Vec<(String, u32)>,
}

/// One normalised name (lower case, punctuation as spaces, single spaces), its words, and each
/// word's character set as a 64-bit mask.
#[derive(Debug, Clone)]
struct Name {
    text: String,
    words: Vec<Vec<char>>,
    masks: Vec<u64>,
}

impl Name {
    fn new(text: String) -> Name {
        let words: Vec<Vec<char>> = text.split(' ').map(|w| w.chars().collect()).collect();
        let masks = words.iter().map(|w| char_mask(w)).collect();
        Name { text, words, masks }
    }
}

/// The set of a word's characters, each hashed to one of 64 bits. Characters of a query word
/// whose bit is missing from a title word each need an edit, so the count of such bits bounds
/// the edit distance from below and spares most distance computations.
fn char_mask(word: &[char]) -> u64 {
    word.iter().fold(0, |m, &c| m | 1 << (c as u32 % 64))
}

/// Fewest characters a query word needs before a typo is forgiven; longer words allow more.
const TYPO_MIN_LEN: usize = 4;

/// A normalised query and its words.
struct Query {
    text: String,
    words: Vec<Vec<char>>,
}

/// Rows of the edit-distance table, reused across names.
#[derive(Default)]
struct Scratch {
    before: Vec<usize>,
    prev: Vec<usize>,
    cur: Vec<usize>,
}

impl TitleIndex {
    /// Indexes a catalogue's titles.
    pub fn new(catalogue: &Catalogue) -> TitleIndex {
        let anime = catalogue.anime();
        // On all cores: the scripts' forms of 17,562 anime's names were most of a server's
        // start after its bundle was read.
        let names: Vec<Vec<Name>> = anime
            .par_iter()
            .map(|a| {
                let mut texts: Vec<String> = [Some(&a.name), a.english_name.as_ref()]
                    .into_iter()
                    .chain([a.japanese_name.as_ref()])
                    .flatten()
                    .flat_map(|n| forms(n))
                    .collect();
                texts.sort_unstable();
                texts.dedup();
                texts.into_iter().map(Name::new).collect()
            })
            .collect();
        let popularity = anime
            .iter()
            .map(|a| (1.0 + a.members.unwrap_or(0) as f32).ln() / 100.0)
            .collect();
        let mut sounds: Vec<(String, u32)> = names
            .iter()
            .enumerate()
            .flat_map(|(a, names)| {
                names
                    .iter()
                    .filter_map(move |n| Some((consonants(&n.text)?, a as u32)))
            })
            .collect();
        sounds.par_sort_unstable();
        sounds.dedup();
        let mut index = TitleIndex {
            names,
            popularity,
            by_text: Vec::new(),
            sounds,
        };
        let mut by_text: Vec<(u32, u32)> = index
            .names
            .iter()
            .enumerate()
            .flat_map(|(a, names)| (0..names.len() as u32).map(move |i| (a as u32, i)))
            .collect();
        by_text.par_sort_unstable_by(|&x, &y| index.text(x).cmp(index.text(y)));
        index.by_text = by_text;
        index
    }

    /// The normalised text of one name of `by_text`.
    fn text(&self, (anime, i): (u32, u32)) -> &str {
        &self.names[anime as usize][i as usize].text
    }

    /// Up to `k` anime matching `query`, best first, with their match score:
    /// an exact name scores 4, a name that starts with the query 3, a name holding every query
    /// word as the start of one of its words 2, as a substring 1.5; otherwise each query word may
    /// be up to one edit (two for words of 8+ characters) from a title word, scoring 1 less 0.25
    /// per edit. A kana query whose consonants equal a name's scores 3, and 2 where they start
    /// them ([`consonants`]). Anime that match nothing are left out.
    pub fn search(&self, query: &str, k: usize) -> Vec<(AnimeIx, f32)> {
        let queries: Vec<Query> = forms(query)
            .into_iter()
            .map(|text| Query {
                words: text.split(' ').map(|w| w.chars().collect()).collect(),
                text,
            })
            .collect();
        if queries.is_empty() || k == 0 {
            return Vec::new();
        }
        let mut scratch = Scratch::default();
        let mut best = vec![0f32; self.names.len()];
        for (best, names) in best.iter_mut().zip(&self.names) {
            for (n, q) in names
                .iter()
                .flat_map(|n| queries.iter().map(move |q| (n, q)))
            {
                *best = best.max(match_score(q, n, &mut scratch));
            }
        }
        self.sounded(query, &mut best, true);
        self.top(k, best)
    }

    /// Up to `k` anime with a name that equals `query` (score 4) or starts with it (score 3),
    /// after normalising, or the same consonants as a kana query (score 3), plus the popularity
    /// bonus, best first: the title hits of
    /// [`TitleIndex::search`] without its typo-tolerant pass, for a query that is probably not
    /// a title (a story search puts only these before the stories).
    pub fn leading(&self, query: &str, k: usize) -> Vec<(AnimeIx, f32)> {
        let queries = forms(query);
        if queries.is_empty() || k == 0 {
            return Vec::new();
        }
        let mut best = vec![0f32; self.names.len()];
        for q in &queries {
            let start = self.by_text.partition_point(|&n| self.text(n) < q.as_str());
            for &(anime, i) in &self.by_text[start..] {
                let score = match self.text((anime, i)).strip_prefix(q.as_str()) {
                    Some("") => 4.0,
                    Some(_) => 3.0,
                    None => break,
                };
                let best = &mut best[anime as usize];
                *best = best.max(score);
            }
        }
        self.sounded(query, &mut best, false);
        self.top(k, best)
    }

    /// Raises `best` (per anime) where a kana `query`'s consonants equal a name's (3, as a name
    /// starting with the query) or, `with_prefixes`, start them (2, as a name with the query's
    /// words): one key stands for many spellings, so a sounded match ranks below a written one.
    fn sounded(&self, query: &str, best: &mut [f32], with_prefixes: bool) {
        let Some(key) = romaji(query).and_then(|r| consonants(&r)) else {
            return;
        };
        let start = self
            .sounds
            .partition_point(|(s, _)| s.as_str() < key.as_str());
        for (sound, anime) in &self.sounds[start..] {
            let score = match sound.strip_prefix(key.as_str()) {
                Some("") => 3.0,
                Some(_) if with_prefixes => 2.0,
                Some(_) => continue,
                None => break,
            };
            let best = &mut best[*anime as usize];
            *best = best.max(score);
        }
    }

    /// Up to `k` anime by their `best` name score (0: no match) plus their popularity bonus,
    /// best first.
    fn top(&self, k: usize, mut scores: Vec<f32>) -> Vec<(AnimeIx, f32)> {
        for (score, bonus) in scores.iter_mut().zip(&self.popularity) {
            if *score > 0.0 {
                *score += bonus;
            }
        }
        top_k(&scores, k, |a| scores[a as usize] > 0.0)
            .into_iter()
            .map(|a| (AnimeIx(a), scores[a as usize]))
            .collect()
    }

    /// The anime whose name equals `title` (after normalising; the most popular if several), or
    /// else the five best matches as suggestions (`Err`).
    pub fn find(&self, title: &str) -> Result<AnimeIx, Vec<AnimeIx>> {
        let hits = self.search(title, 5);
        match hits.first() {
            Some(&(a, score)) if score >= 4.0 => Ok(a),
            _ => Err(hits.into_iter().map(|h| h.0).collect()),
        }
    }
}

/// The folded forms of a title or query: [`normalise`]d, and when it holds kana, also its
/// romaji reading normalised (without long-vowel marks, which the folding drops in romaji
/// anyway). Empty forms are left out.
fn forms(text: &str) -> Vec<String> {
    let mut out = vec![normalise(text)];
    if let Some(bare) = without_qualifier(text) {
        out.push(normalise(bare));
    }
    out.extend(romaji(text));
    out.retain(|f| !f.is_empty());
    out.dedup();
    out
}

/// Longest trailing parenthesis that qualifies a name rather than being part of it:
/// MyAnimeList's "(TV)", "(2018)", "(Movie)", "(OVA)".
const MAX_QUALIFIER: usize = 8;

/// A name without MyAnimeList's trailing qualifier, so "Jujutsu Kaisen (TV)" is also named
/// "Jujutsu Kaisen" (and ranks beside the 2018 promotional clip of that name by members, not
/// below it); `None` when the name has none.
fn without_qualifier(name: &str) -> Option<&str> {
    let inner = name.strip_suffix(')')?;
    let (bare, qualifier) = inner.rsplit_once(" (")?;
    (!bare.trim().is_empty() && !qualifier.is_empty() && qualifier.chars().count() <= MAX_QUALIFIER)
        .then_some(bare)
}

/// The romaji reading of a text holding kana, normalised (long-vowel marks dropped first);
/// `None` without kana.
fn romaji(text: &str) -> Option<String> {
    let nfkc: String = text.nfkc().filter(|&c| c != 'ー').collect();
    nfkc.chars()
        .any(|c| c.is_kana())
        .then(|| normalise(&nfkc.as_str().to_romaji()))
}

/// Fewest consonants a [`consonants`] key needs: shorter keys are shared by too many titles.
const MIN_CONSONANTS: usize = 3;

/// The consonants of a normalised romaji or English name as a katakana loanword keeps them, so
/// that a loanword and the words it spells share one key: vowels, `y`, `w` and an `r` before a
/// consonant or at the end ("art" is アート, "aato") are silent; sounds katakana writes alike
/// are one letter (`sh` and `s`; `ch`, `ts` and `t`; `th`, `z`, `j` and `s`; `f`, `ph` and `h`;
/// `c`, `ck`, `q` and `k`; `l` and `r`; `v` and `b`; `m` and `n`); spaces and doubled letters
/// go. "shutainzu geto" (シュタインズ・ゲート) and "steins gate" are both "stnsgt". `None` for a
/// name with other letters than ASCII (kanji, kana left as written) or too few consonants.
fn consonants(name: &str) -> Option<String> {
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' ') {
        return None;
    }
    let letters: Vec<u8> = name.bytes().filter(|&b| b != b' ').collect();
    let silent = |b: u8| matches!(b, b'a' | b'e' | b'i' | b'o' | b'u' | b'y' | b'w');
    let mut out = String::new();
    let mut i = 0;
    while i < letters.len() {
        let next = letters.get(i + 1).copied();
        let (sound, read) = match (letters[i], next) {
            (b's', Some(b'h')) | (b't', Some(b'h')) => ("s", 2),
            (b'c', Some(b'h')) | (b't', Some(b's')) => ("t", 2),
            (b'p', Some(b'h')) => ("h", 2),
            (b'c', Some(b'k')) => ("k", 2),
            (b'r', next) if !next.is_some_and(silent) => ("", 1),
            (b, _) if silent(b) => ("", 1),
            (b'z' | b'j', _) => ("s", 1),
            (b'f', _) => ("h", 1),
            (b'c' | b'q', _) => ("k", 1),
            (b'l', _) => ("r", 1),
            (b'v', _) => ("b", 1),
            (b'm', _) => ("n", 1),
            (b'x', _) => ("ks", 1),
            (_, _) => (std::str::from_utf8(&letters[i..=i]).unwrap_or(""), 1),
        };
        for c in sound.chars() {
            if !out.ends_with(c) {
                out.push(c);
            }
        }
        i += read;
    }
    (out.len() >= MIN_CONSONANTS).then_some(out)
}

/// The form names are compared in: NFKC (full-width letters and digits as ASCII, half-width
/// kana as full-width), lower case, accents and macrons of Latin letters dropped ("Kyōjin" as
/// "kyojin"), romaji long vowels written once ("ou", "uu", "oo" as "o", "u", "o": "Shippuuden"
/// as "Shippuden", "Toukyou" as "Tokyo"), every run of other characters as one space, trimmed.
fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.nfkc().flat_map(char::to_lowercase) {
        // Only Latin letters lose their marks: kana keep their voicing marks.
        let mut base = c;
        if (c as u32) < 0x0250 {
            let mut first = None;
            decompose_canonical(c, |d| {
                if first.is_none() && !is_combining_mark(d) {
                    first = Some(d);
                }
            });
            base = first.unwrap_or(c);
        }
        if base.is_alphanumeric() {
            let long_vowel = matches!(
                (out.chars().last(), base),
                (Some('o'), 'u') | (Some('u'), 'u') | (Some('o'), 'o')
            );
            if !long_vowel {
                out.push(base);
            }
        } else if !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// How well a name matches the query (0 = not at all); see [`TitleIndex::search`].
fn match_score(query: &Query, name: &Name, scratch: &mut Scratch) -> f32 {
    if name.text == query.text {
        return 4.0;
    }
    if name.text.starts_with(&query.text) {
        return 3.0;
    }
    let prefixed = |w: &Vec<char>| name.words.iter().any(|n| n.starts_with(w));
    if query.words.iter().all(prefixed) {
        return 2.0;
    }
    if name.text.contains(&query.text) {
        return 1.5;
    }
    let mut edits = 0;
    for w in &query.words {
        if prefixed(w) {
            continue;
        }
        let allowed = match w.len() {
            n if n < TYPO_MIN_LEN => return 0.0,
            n if n < 8 => 1,
            _ => 2,
        };
        let mask = char_mask(w);
        let best = name
            .words
            .iter()
            .zip(&name.masks)
            .filter(|&(_, m)| (mask & !m).count_ones() as usize <= allowed)
            .map(|(n, _)| word_distance(w, n, allowed, scratch))
            .min()
            .unwrap_or(usize::MAX);
        if best > allowed {
            return 0.0;
        }
        edits += best;
    }
    (1.0 - 0.25 * edits as f32).max(0.1)
}

/// Edit distance (with transpositions) from query word `a` to title word `b`, where `b` may go
/// on past `a` (a prefix match costs nothing), or `limit + 1` once it is certainly over `limit`.
fn word_distance(a: &[char], b: &[char], limit: usize, s: &mut Scratch) -> usize {
    if b.len() + limit < a.len() {
        return limit + 1;
    }
    for row in [&mut s.before, &mut s.prev, &mut s.cur] {
        row.clear();
        row.resize(b.len() + 1, 0);
    }
    for (j, x) in s.prev.iter_mut().enumerate() {
        *x = j;
    }
    for (i, ca) in a.iter().enumerate() {
        s.cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let mut d = (s.prev[j] + usize::from(ca != cb))
                .min(s.prev[j + 1] + 1)
                .min(s.cur[j] + 1);
            if i > 0 && j > 0 && a[i - 1] == *cb && b[j - 1] == *ca {
                // A transposition ("nartuo") is one edit.
                d = d.min(s.before[j - 1] + 1);
            }
            s.cur[j + 1] = d;
        }
        let lowest = |row: &[usize]| row.iter().copied().min().unwrap_or(0);
        if lowest(&s.cur) > limit && lowest(&s.prev) > limit {
            return limit + 1;
        }
        std::mem::swap(&mut s.before, &mut s.prev);
        std::mem::swap(&mut s.prev, &mut s.cur);
    }
    // The whole query word against any prefix of the title word.
    s.prev.iter().copied().min().unwrap_or(a.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use anirec_data::catalogue::Anime;

    fn catalogue() -> Catalogue {
        let anime = |id: u32, name: &str, english: Option<&str>, members: u32| Anime {
            mal_id: anirec_data::MalId(id),
            name: name.into(),
            english_name: english.map(Into::into),
            members: Some(members),
            ..Anime::default()
        };
        Catalogue::new(vec![
            anime(1, "Naruto", None, 1_800_000),
            anime(2, "Naruto: Shippuuden", Some("Naruto Shippuden"), 1_300_000),
            anime(3, "Steins;Gate", None, 2_000_000),
            anime(4, "Shingeki no Kyojin", Some("Attack on Titan"), 2_500_000),
            anime(5, "Boruto: Naruto Next Generations", None, 500_000),
            anime(6, "Steins;Gate 0", None, 900_000),
        ])
    }

    #[test]
    fn exact_prefix_word_and_typo_matches_rank_in_that_order() {
        let index = TitleIndex::new(&catalogue());
        let ids = |q: &str| -> Vec<u32> { index.search(q, 10).iter().map(|h| h.0.0).collect() };
        assert_eq!(ids("naruto"), vec![0, 1, 4]);
        assert_eq!(ids("steins gate"), vec![2, 5]);
        assert_eq!(ids("attack titan"), vec![3]);
        // Typos: a substitution, a transposition, a missing letter.
        assert_eq!(ids("naruta")[..2], [0, 1]);
        assert_eq!(ids("nartuo")[..2], [0, 1]);
        assert_eq!(ids("shingeki kyojn"), vec![3]);
        assert!(ids("zzzz").is_empty());
        assert!(ids("  ").is_empty());
        assert_eq!(index.find("Steins;Gate"), Ok(AnimeIx(2)));
        assert_eq!(index.find("STEINS GATE"), Ok(AnimeIx(2)));
        assert_eq!(index.find("Steins Gat").unwrap_err()[0], AnimeIx(2));
    }

    #[test]
    fn a_qualified_name_matches_as_its_bare_name_and_members_decide() {
        let anime = |id: u32, name: &str, members: u32| Anime {
            mal_id: anirec_data::MalId(id),
            name: name.into(),
            members: Some(members),
            ..Anime::default()
        };
        let index = TitleIndex::new(&Catalogue::new(vec![
            anime(38777, "Jujutsu Kaisen", 14_000),
            anime(40748, "Jujutsu Kaisen (TV)", 708_000),
            anime(9, "Ghost in the Shell (Stand Alone Complex Movie)", 50_000),
        ]));
        let ids = |q: &str| -> Vec<u32> { index.search(q, 10).iter().map(|h| h.0.0).collect() };
        assert_eq!(
            ids("jujutsu kaisen")[..2],
            [1, 0],
            "the TV series before the clip"
        );
        assert_eq!(index.leading("Jujutsu Kaisen", 2)[0].0, AnimeIx(1));
        // A long parenthesis is part of the name, not a qualifier.
        assert_eq!(
            without_qualifier("Ghost in the Shell (Stand Alone Complex Movie)"),
            None
        );
        assert_eq!(
            without_qualifier("Jujutsu Kaisen (TV)"),
            Some("Jujutsu Kaisen")
        );
        assert_eq!(
            without_qualifier("Hunter x Hunter (2011)"),
            Some("Hunter x Hunter")
        );
        assert_eq!(without_qualifier("(TV)"), None);
        assert_eq!(without_qualifier("Naruto"), None);
    }

    #[test]
    fn titles_match_across_scripts_widths_accents_and_long_vowels() {
        let mut anime = catalogue().anime().to_vec();
        anime[2].japanese_name = Some("シュタインズ・ゲート".into());
        anime[3].japanese_name = Some("進撃の巨人".into());
        anime.push(Anime {
            mal_id: anirec_data::MalId(7),
            name: "Toukyou Ghoul".into(),
            english_name: Some("Tokyo Ghoul".into()),
            members: Some(1_000),
            ..Anime::default()
        });
        let index = TitleIndex::new(&Catalogue::new(anime));
        let first = |q: &str| index.search(q, 3).first().map(|h| h.0.0);
        // Kana read as romaji; kanji and katakana as written.
        assert_eq!(first("しんげき"), Some(3));
        assert_eq!(first("シンゲキ ノ キョジン"), Some(3));
        assert_eq!(first("進撃"), Some(3));
        assert_eq!(first("シュタインズ・ゲート"), Some(2));
        assert_eq!(first("シュタインズ ゲート"), Some(2));
        // Full-width and half-width forms.
        assert_eq!(first("ＳＴＥＩＮＳ；ＧＡＴＥ"), Some(2));
        assert_eq!(first("ｼｭﾀｲﾝｽﾞ･ｹﾞｰﾄ"), Some(2));
        // Macrons and doubled vowels.
        assert_eq!(first("Shingeki no Kyōjin"), Some(3));
        assert_eq!(first("Tōkyō Ghoul"), Some(6));
        assert_eq!(first("Tokyo Ghoul"), Some(6));
        assert_eq!(index.find("Naruto Shippūden"), Ok(AnimeIx(1)));
        assert_eq!(normalise("Café  au-lait!"), "cafe au lait");
        assert_eq!(normalise("ゲーム"), "ゲーム");
        assert_eq!(forms("とうきょう"), vec!["とうきょう", "tokyo"]);
    }

    #[test]
    fn leading_keeps_only_names_that_equal_or_start_with_the_query() {
        let index = TitleIndex::new(&catalogue());
        let hits = |q: &str| -> Vec<(u32, f32)> {
            let hits = index.leading(q, 10);
            // The same anime and scores as the full search's exact and prefix hits.
            let full: Vec<(AnimeIx, f32)> = index
                .search(q, 10)
                .into_iter()
                .filter(|h| h.1 >= 3.0)
                .collect();
            assert_eq!(hits, full, "{q}");
            hits.into_iter().map(|(a, s)| (a.0, s.floor())).collect()
        };
        assert_eq!(hits("steins;gate"), vec![(2, 4.0), (5, 3.0)]);
        assert_eq!(hits("NARUTO"), vec![(0, 4.0), (1, 3.0)]);
        // Consonants: a whole title's only (the full search also takes their starts).
        assert_eq!(hits("ｼｭﾀｲﾝｽﾞ･ｹﾞｰﾄ"), vec![(2, 3.0)]);
        assert_eq!(hits("ｼｭﾀｲﾝｽﾞ"), vec![]);
        // One letter starts many names (and names of one anime more than once).
        assert!(hits("s").len() >= 3, "{:?}", hits("s"));
        // Word starts and typos are the full search's alone.
        assert_eq!(hits("titan"), vec![]);
        assert_eq!(hits("naruta"), vec![]);
        assert!(index.leading("  ", 10).is_empty());
    }

    /// Katakana loanwords find the English or romaji titles they spell, though no name is
    /// written in kana; a kana query that sounds like no title finds none by sound.
    #[test]
    fn katakana_loanwords_find_the_titles_they_spell() {
        let mut anime = catalogue().anime().to_vec();
        let mut add = |id: u32, name: &str, members: u32| {
            anime.push(Anime {
                mal_id: anirec_data::MalId(id),
                name: name.into(),
                members: Some(members),
                ..Anime::default()
            })
        };
        add(7, "Death Note", 2_500_000);
        add(8, "Sword Art Online", 2_300_000);
        add(9, "Cowboy Bebop", 1_200_000);
        add(10, "Full Metal Panic!", 500_000);
        add(11, "Black Lagoon", 900_000);
        let index = TitleIndex::new(&Catalogue::new(anime));
        let ids = |q: &str| -> Vec<u32> { index.search(q, 3).iter().map(|h| h.0.0).collect() };
        assert_eq!(ids("シュタインズ・ゲート"), vec![2, 5]);
        assert_eq!(ids("ソードアート・オンライン"), vec![7]);
        assert_eq!(ids("デスノート"), vec![6]);
        assert_eq!(ids("カウボーイビバップ"), vec![8]);
        assert_eq!(ids("フルメタル・パニック"), vec![9]);
        assert_eq!(ids("ブラック・ラグーン"), vec![10]);
        // Found by sound, a title ranks as a name starting with the query, below a written one.
        let score = index.search("デスノート", 1)[0].1;
        assert!((3.0..4.0).contains(&score), "{score}");
        assert!(ids("ラーメン").is_empty());
        assert_eq!(consonants("shutainzu geto").as_deref(), Some("stnsgt"));
        assert_eq!(consonants("steins gate").as_deref(), Some("stnsgt"));
        assert_eq!(consonants("sword art online").as_deref(), Some("sdtnrn"));
        assert_eq!(consonants("進撃"), None);
        assert_eq!(consonants("ai"), None);
    }

    #[test]
    fn distances() {
        let d = |a: &str, b: &str| {
            let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
            word_distance(&a, &b, 1, &mut Scratch::default())
        };
        assert_eq!(d("naruto", "naruto"), 0);
        assert_eq!(d("naru", "naruto"), 0);
        assert_eq!(d("naruta", "naruto"), 1);
        assert_eq!(d("nartuo", "naruto"), 1);
        assert_eq!(d("xyzxyz", "naruto"), 2);
        assert_eq!(d("kyojn", "kyojin"), 1);
    }
}
