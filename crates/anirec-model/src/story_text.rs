//! The text each anime's story vector is embedded from: its genres and its synopsis, without
//! titles or names. The sentence encoder clusters on both — with the romaji title first,
//! Boku dake ga Inai Machi's nearest stories were titles that begin with "Boku"; without it but
//! with the names, ERASED's nearest was another story whose hero is also called Satoru — so
//! the text leaves out the titles and every capitalised word the catalogue's synopses never
//! write in lower case (a character's or a place's name). BENCHMARKS.md "Story search that
//! understands stories" measures each choice.

use std::collections::HashSet;

use anirec_data::catalogue::Anime;

/// The parts of an anime that its story text holds, in order.
pub const STORY_TEXT: &str = "genres, synopsis without names";

/// Every anime's story text, in catalogue order: `Genres: ... . SYNOPSIS`, the synopsis on one
/// line with the names left out ([`Names`] of the same anime). An anime without a synopsis
/// keeps its title after the genres, the only story it has.
pub fn story_texts(anime: &[Anime]) -> Vec<String> {
    let names = Names::of(anime);
    anime.iter().map(|a| names.story_text(a)).collect()
}

/// Which capitalised words are names: those no synopsis of the catalogue writes in lower case.
pub struct Names {
    lower: HashSet<String>,
}

impl Names {
    /// The words the synopses of `anime` write in lower case.
    pub fn of(anime: &[Anime]) -> Names {
        let lower = anime
            .iter()
            .filter_map(|a| a.synopsis.as_deref())
            .flat_map(letter_runs)
            .filter(|w| w.chars().all(char::is_lowercase))
            .map(str::to_owned)
            .collect();
        Names { lower }
    }

    /// Whether a word as written (punctuation and a possessive included: `Satoru's,`) is a
    /// name: its first run of letters is capitalised (one capital, then lower case) and never
    /// written in lower case.
    pub fn is_name(&self, word: &str) -> bool {
        let Some(core) = letter_runs(word.split('\'').next().unwrap_or(word)).next() else {
            return false;
        };
        let mut chars = core.chars();
        let capitalised = chars.next().is_some_and(char::is_uppercase)
            && chars.clone().next().is_some()
            && chars.all(char::is_lowercase);
        capitalised && !self.lower.contains(&core.to_lowercase())
    }

    /// One anime's story text.
    pub fn story_text(&self, anime: &Anime) -> String {
        let mut text = String::from("Genres: ");
        text.push_str(&anime.genres.join(", "));
        text.push('.');
        match anime.synopsis.as_deref() {
            Some(synopsis) if !synopsis.trim().is_empty() => {
                for word in synopsis.split_whitespace().filter(|w| !self.is_name(w)) {
                    text.push(' ');
                    text.push_str(word);
                }
            }
            _ => {
                text.push(' ');
                text.push_str(&anime.name);
            }
        }
        text
    }
}

/// The runs of letters in a text.
fn letter_runs(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anime(name: &str, genres: &[&str], synopsis: Option<&str>) -> Anime {
        Anime {
            name: name.into(),
            genres: genres.iter().map(|&g| g.into()).collect(),
            synopsis: synopsis.map(Into::into),
            ..Anime::default()
        }
    }

    #[test]
    fn the_text_holds_genres_and_synopsis_without_titles_or_names() {
        let catalogue = [
            anime(
                "Boku dake ga Inai Machi",
                &["Mystery", "Time Travel"],
                Some(
                    "When tragedy is about to strike, Satoru Fujinuma finds himself sent back.\nThe detached manga artist calls it \"Revival.\" When he is accused, Satoru's mother...",
                ),
            ),
            anime(
                "Gintama",
                &["Comedy"],
                Some(
                    "Edo is a city where the samurai lost to aliens. Nobody says revival there when it rains.",
                ),
            ),
            anime("Untold", &["Drama"], None),
        ];
        let texts = story_texts(&catalogue);
        assert_eq!(
            texts[0],
            "Genres: Mystery, Time Travel. When tragedy is about to strike, finds himself sent back. The detached manga artist calls it \"Revival.\" When he is accused, mother..."
        );
        // "Revival", "When" and "The" stay because another synopsis writes them in lower case;
        // in this small catalogue nothing does for "Nobody", so it goes as a name would.
        assert_eq!(
            texts[1],
            "Genres: Comedy. is a city where the samurai lost to aliens. says revival there when it rains."
        );
        assert_eq!(texts[2], "Genres: Drama. Untold");
    }

    #[test]
    fn a_name_is_a_capitalised_word_never_written_in_lower_case() {
        let names = Names::of(&[anime("", &[], Some("a boy and the city of tokyo-3"))]);
        assert!(names.is_name("Satoru"));
        assert!(names.is_name("Satoru's,"));
        assert!(names.is_name("(Fujinuma)"));
        assert!(!names.is_name("Tokyo"), "written in lower case somewhere");
        assert!(!names.is_name("The"), "'the' is written in lower case");
        assert!(!names.is_name("NERV"), "not capitalised: all capitals");
        assert!(!names.is_name("A"), "one letter");
        assert!(!names.is_name("2071,"), "no letters");
        assert!(!names.is_name("McDonald"), "a capital inside");
    }
}
