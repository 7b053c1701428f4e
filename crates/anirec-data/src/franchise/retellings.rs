//! Retellings: a later series of a franchise that tells the same story again — a remake, a
//! reboot, a more faithful adaptation — which fans treat as an alternative to the earlier one,
//! not as its sequel (Fullmetal Alchemist: Brotherhood and the 2003 series; Hunter x Hunter
//! (2011) and the 1999 series; Fate/stay night: Unlimited Blade Works and Fate/stay night).
//!
//! The catalogue has no relation types, so what the titles and synopses say decides. A TV series
//! (or an OVA or ONA series) retells an earlier TV or OVA series whose title its own title
//! begins with, having started in a later year, when
//! 1. its title adds only the year it aired in, MyAnimeList's mark of a new version
//!    (`Hunter x Hunter (2011)`, `Urusei Yatsura (2022)`), and its synopsis does not open as a
//!    continuation does (`Fairy Tail (2014)`: "The Grand Magic Games reaches its climax
//!    following..."; `Dragon Ball Kai (2014)`: "Remastered version of the Majin Buu saga");
//! 2. its title adds a first season (`Fruits Basket 1st Season`, after the 2001 series);
//! 3. its title adds a word of a retelling ([`RETELLING_WORDS`]: `Brotherhood`, `Crystal`,
//!    `Stampede`, `Ultimate`, `Unlimited Blade Works`, `The Animated Series`); or
//! 4. its synopsis says it is a remake, a reboot, a retelling or a new adaptation.

use crate::anime::Anime;

use super::EntryKind;
use super::titles::TitleKey;

/// Title words (as [`TitleKey::romaji_words`] has them) that, added to an earlier series' title,
/// name a retelling of it.
const RETELLING_WORDS: [&[&str]; 8] = [
    &["brotherhood"],
    &["crystal"],
    &["stampede"],
    &["ultimate"],
    &["remake"],
    &["reboot"],
    &["unlimited", "blade", "works"],
    &["the", "animated", "series"],
];

/// What a title adds to say it is a series' first season.
const FIRST_SEASON: [&[&str]; 4] = [
    &["1st", "season"],
    &["first", "season"],
    &["season", "1"],
    &["part", "1"],
];

/// What a synopsis says of a retelling of itself.
const SAYS_RETELLING: [&str; 6] = [
    "remake",
    "retelling",
    "reboot",
    "re-adaptation",
    "new adaptation",
    "reimagining",
];

/// What the opening of a continuation's synopsis says (its first two sentences, lower case).
const SAYS_CONTINUATION: [&str; 11] = [
    "season",
    "sequel",
    "continu",
    "following",
    "after the events",
    "events of",
    "episodes",
    "remaster",
    "new series",
    "climax",
    "arc ",
];

/// Fewest episodes of an OVA or ONA that is a series rather than a one-off.
const SERIES_EPISODES: u32 = 4;

/// Whether `later` tells the story of `earlier` again (module doc); `keys` are their titles'.
pub fn retells(
    later: &Anime,
    later_key: &TitleKey,
    earlier: &Anime,
    earlier_key: &TitleKey,
) -> bool {
    if !is_series(later) || !is_series(earlier) {
        return false;
    }
    match (later.start_year, earlier.start_year) {
        (Some(l), Some(e)) if l > e => {}
        _ => return false,
    }
    let (later_words, earlier_words) = (
        without_year(&later_key.romaji_words, later),
        without_year(&earlier_key.romaji_words, earlier),
    );
    let Some(added) = later_words.strip_prefix(earlier_words) else {
        return false;
    };
    let synopsis = later.synopsis.as_deref().unwrap_or("").to_lowercase();
    let year_only = added.is_empty() && later_words.len() < later_key.romaji_words.len();
    (year_only && !synopsis.is_empty() && !opens_as_continuation(&synopsis))
        || FIRST_SEASON.iter().any(|s| added == *s)
        || RETELLING_WORDS
            .iter()
            .any(|w| added.windows(w.len()).any(|x| x == *w))
        || SAYS_RETELLING.iter().any(|s| synopsis.contains(s))
}

/// A TV series, or an OVA or ONA of [`SERIES_EPISODES`] or more.
fn is_series(a: &Anime) -> bool {
    match EntryKind::of(a) {
        EntryKind::Season => true,
        EntryKind::Ova => a.episodes.is_some_and(|n| n >= SERIES_EPISODES),
        _ => false,
    }
}

/// The title's words without a last word that is the year it started (`hunter x hunter 2011`).
fn without_year<'w>(words: &'w [String], a: &Anime) -> &'w [String] {
    match (words.split_last(), a.start_year) {
        (Some((last, rest)), Some(year)) if *last == year.to_string() => rest,
        _ => words,
    }
}

/// Whether the first two sentences of a (lower-case) synopsis read as a continuation.
fn opens_as_continuation(synopsis: &str) -> bool {
    let opening: String = synopsis.split_inclusive(['.', '!', '?']).take(2).collect();
    SAYS_CONTINUATION.iter().any(|c| opening.contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anime(name: &str, kind: &str, year: u16, episodes: u32, synopsis: &str) -> Anime {
        Anime {
            name: name.into(),
            kind: Some(kind.into()),
            start_year: Some(year),
            episodes: Some(episodes),
            synopsis: (!synopsis.is_empty()).then(|| synopsis.into()),
            ..Anime::default()
        }
    }

    fn retold(later: &Anime, earlier: &Anime) -> bool {
        retells(later, &TitleKey::of(later), earlier, &TitleKey::of(earlier))
    }

    #[test]
    fn each_rule_and_what_it_leaves_alone() {
        let hxh = anime(
            "Hunter x Hunter",
            "TV",
            1999,
            62,
            "Hunters are specialized.",
        );
        let hxh11 = anime(
            "Hunter x Hunter (2011)",
            "TV",
            2011,
            148,
            "Hunters devote themselves to hazardous tasks.",
        );
        assert!(retold(&hxh11, &hxh));
        assert!(!retold(&hxh, &hxh11), "the earlier never retells the later");
        // A year-named continuation says so in its opening.
        let ft = anime("Fairy Tail", "TV", 2009, 175, "Lucy wants to join.");
        let ft14 = anime(
            "Fairy Tail (2014)",
            "TV",
            2014,
            102,
            "The Grand Magic Games reaches its climax following a victory.",
        );
        assert!(!retold(&ft14, &ft));
        // Without a synopsis a year says nothing.
        let bare = anime("Fairy Tail (2014)", "TV", 2014, 102, "");
        assert!(!retold(&bare, &ft));
        let fma = anime(
            "Fullmetal Alchemist",
            "TV",
            2003,
            51,
            "Edward and Alphonse.",
        );
        let fmab = anime(
            "Fullmetal Alchemist: Brotherhood",
            "TV",
            2009,
            64,
            "After a horrific alchemy experiment goes wrong.",
        );
        assert!(retold(&fmab, &fma));
        let fruba = anime("Fruits Basket", "TV", 2001, 26, "Tohru.");
        let fruba19 = anime("Fruits Basket 1st Season", "TV", 2019, 25, "Tohru Honda.");
        let fruba20 = anime("Fruits Basket 2nd Season", "TV", 2020, 25, "Tohru Honda.");
        assert!(retold(&fruba19, &fruba));
        assert!(!retold(&fruba20, &fruba), "a second season is a sequel");
        let kenshin = anime(
            "Rurouni Kenshin: Meiji Kenkaku Romantan",
            "TV",
            1996,
            94,
            "Kenshin.",
        );
        let kenshin23 = anime(
            "Rurouni Kenshin: Meiji Kenkaku Romantan (2023)",
            "TV",
            2023,
            24,
            "It is a remake of the original adaptation.",
        );
        assert!(retold(&kenshin23, &kenshin));
        // Sequels by title, a film, a one-off OVA and the same year are not retellings.
        let snk = anime("Shingeki no Kyojin", "TV", 2013, 25, "Humanity.");
        let snk2 = anime("Shingeki no Kyojin Season 2", "TV", 2017, 12, "Eren.");
        assert!(!retold(&snk2, &snk));
        let film = anime("Hunter x Hunter (2011)", "Movie", 2011, 1, "Hunters.");
        assert!(!retold(&film, &hxh));
        let hellsing = anime("Hellsing", "TV", 2001, 13, "Alucard.");
        let ultimate = anime("Hellsing Ultimate", "OVA", 2006, 10, "Alucard.");
        let one_off = anime("Hellsing Ultimate", "OVA", 2006, 1, "Alucard.");
        assert!(retold(&ultimate, &hellsing));
        assert!(!retold(&one_off, &hellsing));
        let same_year = anime("Hellsing Ultimate", "OVA", 2001, 10, "Alucard.");
        assert!(!retold(&same_year, &hellsing));
        // A title that only begins like another's is another series.
        let dbz = anime(
            "Dragon Ball Z",
            "TV",
            1989,
            291,
            "Five years after the events of Dragon Ball.",
        );
        let db = anime("Dragon Ball", "TV", 1986, 153, "Goku.");
        assert!(!retold(&dbz, &db));
    }
}
