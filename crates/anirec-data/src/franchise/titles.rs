//! What an anime's titles say about which series it belongs to: each title (romaji, English,
//! Japanese) folded to one comparable form, and the rules by which two anime's titles show they
//! are one series ([`TitleKey::links`]) or that one is named after the other
//! ([`TitleKey::named_after`]).

use unicode_normalization::UnicodeNormalization;

use crate::anime::Anime;

/// Shortest folded title that counts when found inside another (`"Overlord"` in
/// `"Overlord II"`); shorter ones (`"Air"` in `"Air Gear"`) say nothing.
const MIN_CONTAINED: usize = 4;
/// Shortest common beginning of two folded titles that links them, and the share of the shorter
/// title it must cover (`"Re:Zero kara Hajimeru Break Time"` with `"Re:Zero kara Hajimeru Isekai
/// Seikatsu"` does not reach it; `"Kono Subarashii Sekai ni Shukufuku wo! 2"` does).
const MIN_PREFIX: usize = 6;
const PREFIX_SHARE: f32 = 0.75;
/// Shortest common ending of the first words of two romaji titles that links them: the
/// Monogatari series (`Bakemonogatari`, `Nisemonogatari`, `Owarimonogatari`).
const MIN_FIRST_WORD_SUFFIX: usize = 8;
/// Shortest word that counts as a series word ([`TitleKey::words`]).
const MIN_WORD: usize = 4;

/// An anime's titles, folded for comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct TitleKey {
    /// Each known title, NFKC-folded, lower case, letters and digits only (any script).
    pub folded: Vec<String>,
    /// The words of the romaji title (Latin letters and digits, lower case).
    pub romaji_words: Vec<String>,
    /// Words of the romaji and English titles of at least [`MIN_WORD`] characters, not numbers,
    /// sorted and unique.
    pub words: Vec<String>,
}

impl TitleKey {
    /// The key of an anime.
    pub fn of(anime: &Anime) -> TitleKey {
        let titles = std::iter::once(anime.name.as_str())
            .chain(anime.english_name.as_deref())
            .chain(anime.japanese_name.as_deref());
        let folded = titles
            .map(fold)
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>();
        let romaji_words = words(&anime.name);
        let mut series_words: Vec<String> = romaji_words
            .iter()
            .cloned()
            .chain(anime.english_name.as_deref().map(words).unwrap_or_default())
            .filter(|w| w.chars().count() >= MIN_WORD && !w.chars().all(|c| c.is_ascii_digit()))
            .collect();
        series_words.sort_unstable();
        series_words.dedup();
        TitleKey {
            folded,
            romaji_words,
            words: series_words,
        }
    }

    /// Whether the titles of two anime show one series: one folded title inside another, a long
    /// common beginning, or first words with a long common ending.
    pub fn links(&self, other: &TitleKey) -> bool {
        let any_pair = self
            .folded
            .iter()
            .any(|x| other.folded.iter().any(|y| folded_link(x, y)));
        any_pair || self.first_words_link(other)
    }

    /// [`TitleKey::links`] by the romaji titles alone, the first-word rule only for different
    /// words: whether a TV series is a season of the main series rather than a spin-off whose
    /// English title or first word names it (`Shingeki! Kyojin Chuugakkou`, `Attack on Titan:
    /// Junior High`, beside `Shingeki no Kyojin`).
    pub fn links_by_romaji(&self, other: &TitleKey) -> bool {
        let romaji = match (self.folded.first(), other.folded.first()) {
            (Some(x), Some(y)) => folded_link(x, y),
            _ => false,
        };
        romaji
            || (self.romaji_words.first() != other.romaji_words.first()
                && self.first_words_link(other))
    }

    /// Whether the first words of the romaji titles share a long ending.
    fn first_words_link(&self, other: &TitleKey) -> bool {
        match (self.romaji_words.first(), other.romaji_words.first()) {
            (Some(a), Some(b)) => {
                let common = a
                    .chars()
                    .rev()
                    .zip(b.chars().rev())
                    .take_while(|(x, y)| x == y)
                    .count();
                common >= MIN_FIRST_WORD_SUFFIX
            }
            _ => false,
        }
    }

    /// Whether this anime's romaji title, folded, is inside `other`'s (`other` is named after
    /// this one, as `Shingeki no Kyojin Season 3` after `Shingeki no Kyojin`). The romaji title
    /// alone: `Final Fantasy: The Spirits Within` is `ファイナルファンタジー` in Japanese, inside
    /// every Final Fantasy's Japanese title.
    pub fn romaji_named_after(&self, other: &TitleKey) -> bool {
        match (self.folded.first(), other.folded.first()) {
            (Some(x), Some(y)) => x.chars().count() >= MIN_CONTAINED && y.contains(x.as_str()),
            _ => false,
        }
    }

    /// Whether one of this anime's folded titles is inside one of `other`'s (`other` is named
    /// after this one, as a spin-off is after its main series).
    pub fn named_after(&self, other: &TitleKey) -> bool {
        self.folded.iter().any(|x| {
            x.chars().count() >= MIN_CONTAINED
                && other.folded.iter().any(|y| y.contains(x.as_str()))
        })
    }
}

/// Whether two folded titles show one series: one inside the other, or a long common beginning.
fn folded_link(x: &str, y: &str) -> bool {
    let (short, long) = if x.len() <= y.len() { (x, y) } else { (y, x) };
    let short_chars = short.chars().count();
    if short_chars >= MIN_CONTAINED && long.contains(short) {
        return true;
    }
    let common = x.chars().zip(y.chars()).take_while(|(a, b)| a == b).count();
    common >= MIN_PREFIX && common as f32 >= PREFIX_SHARE * short_chars as f32
}

/// A title folded for comparison: NFKC (full-width letters and half-width kana become their
/// usual forms), lower case, and only letters and digits of any script kept (`"Steins;Gate"` and
/// `"Steins Gate"` both give `"steinsgate"`).
pub fn fold(title: &str) -> String {
    title
        .nfkc()
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// The Latin words of a title, lower case: `"Fate/Zero 2nd Season"` → `fate zero 2nd season`.
pub fn words(title: &str) -> Vec<String> {
    let folded: String = title.nfkc().flat_map(char::to_lowercase).collect();
    folded
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str, english: Option<&str>, japanese: Option<&str>) -> TitleKey {
        TitleKey::of(&Anime {
            name: name.into(),
            english_name: english.map(Into::into),
            japanese_name: japanese.map(Into::into),
            ..Anime::default()
        })
    }

    #[test]
    fn folding_ignores_width_case_and_punctuation() {
        assert_eq!(fold("Steins;Gate"), fold("steins gate"));
        assert_eq!(fold("ＳＴＥＩＮＳ；ＧＡＴＥ"), "steinsgate");
        assert_eq!(fold("ｼｭﾀｲﾝｽﾞ･ｹﾞｰﾄ"), fold("シュタインズ・ゲート"));
        assert_eq!(
            words("Fate/Zero 2nd Season"),
            ["fate", "zero", "2nd", "season"]
        );
    }

    #[test]
    fn sequels_spin_offs_and_the_monogatari_names_link() {
        let overlord = key("Overlord", Some("Overlord"), Some("オーバーロード"));
        let overlord2 = key("Overlord II", None, Some("オーバーロードⅡ"));
        assert!(overlord.links(&overlord2));
        assert!(overlord.named_after(&overlord2));
        let bake = key("Bakemonogatari", None, Some("化物語"));
        let owari = key("Owarimonogatari", None, Some("終物語"));
        assert!(bake.links(&owari));
        assert!(!bake.named_after(&owari));
        let innocence = key("Innocence", Some("Ghost in the Shell 2:Innocence"), None);
        let gits = key("Koukaku Kidoutai", Some("Ghost in the Shell"), None);
        assert!(gits.links(&innocence));
    }

    #[test]
    fn different_series_do_not_link() {
        let nisekoi = key("Nisekoi", Some("Nisekoi:False Love"), Some("ニセコイ"));
        let nise = key("Nisemonogatari", None, Some("偽物語"));
        assert!(!nisekoi.links(&nise));
        let air = key("Air", None, None);
        let air_gear = key("Air Gear", None, None);
        assert!(!air.links(&air_gear));
        let kimi = key("Kimi no Na wa.", Some("Your Name."), Some("君の名は。"));
        let tenki = key("Tenki no Ko", Some("Weathering With You"), Some("天気の子"));
        assert!(!kimi.links(&tenki));
    }
}
