//! A fan's list as a request or an export gave it ([`FanList`]), and what of it a fold-in used
//! and what it could not ([`ListUse`]): entries the reader skipped (by reason) and anime the
//! catalogue does not know (newer than the data, or wrong ids). The API answer carries it, and
//! the page and the CLI say it in [`ListUse::notes`].

use std::collections::{BTreeMap, HashMap};

use anirec_data::formats::malxml::MalList;
use anirec_data::report::Skips;
use anirec_data::{MalId, SkipReason, UserId};
use serde::Serialize;

use crate::query::Listed;

/// A fan's list as a body, a file or an export gave it.
#[derive(Debug, Default)]
pub struct FanList {
    /// A known user whose ratings the list adds to.
    pub user_id: Option<UserId>,
    /// The entries, in list order.
    pub entries: Vec<Listed>,
    /// Entries the reader skipped, by reason.
    pub skipped: Skips,
    /// Titles the list gave, by MyAnimeList id.
    titles: HashMap<MalId, String>,
}

impl FanList {
    /// A list of bare entries (JSON ratings, a ratings CSV: no titles, nothing skipped).
    pub fn of_entries(user_id: Option<UserId>, entries: Vec<Listed>) -> FanList {
        FanList {
            user_id,
            entries,
            ..FanList::default()
        }
    }

    /// The list of a MyAnimeList export, with its titles and what its reader skipped.
    pub fn from_export(list: MalList) -> FanList {
        let mut titles = HashMap::new();
        let entries = list
            .entries
            .into_iter()
            .map(|e| {
                if let Some(title) = e.title {
                    titles.insert(e.anime_id, title);
                }
                Listed {
                    mal_id: e.anime_id,
                    score: e.score,
                    status: e.status,
                }
            })
            .collect();
        FanList {
            user_id: None,
            entries,
            skipped: list.skipped,
            titles,
        }
    }

    /// The title the list gave an anime, if any.
    pub fn title(&self, mal_id: MalId) -> Option<&str> {
        self.titles.get(&mal_id).map(String::as_str)
    }

    /// What of the list was used, given the ids the fold-in did not know.
    pub fn used(&self, unknown: Vec<MalId>) -> ListUse {
        ListUse::new(
            self.entries.len(),
            unknown,
            |id| self.title(id),
            &self.skipped,
        )
    }
}

/// Titles of unknown anime named in a note or an answer.
pub const MAX_UNKNOWN_TITLES: usize = 5;
/// Characters of a title kept in a note (a list's titles are the uploader's text).
const MAX_TITLE_CHARS: usize = 80;

/// What of a list was used.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListUse {
    /// Entries of the list that went into the profile (in an answer to a request with a list).
    #[cfg_attr(feature = "openapi", schema(required = false))]
    pub used: usize,
    /// Entries the reader could not read, by reason.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub skipped: BTreeMap<SkipReason, u64>,
    /// Anime of the list the catalogue does not know, each counted once (in an answer to a
    /// request with a list).
    #[cfg_attr(feature = "openapi", schema(required = false))]
    pub not_in_catalogue: usize,
    /// Their MyAnimeList ids, in list order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown_anime_ids: Vec<MalId>,
    /// The first few of their titles, as the list names them (exports carry titles; JSON
    /// ratings do not).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown_titles: Vec<String>,
}

impl ListUse {
    /// The account of a list of `listed` entries read, of which the entries `unknown` (ids
    /// from [`Bundle::fold_in`](crate::bundle::Bundle), repeats included) are not in the
    /// catalogue; `title` names an anime as the list did, `skipped` is what its reader skipped.
    pub fn new<'a>(
        listed: usize,
        unknown: Vec<MalId>,
        title: impl Fn(MalId) -> Option<&'a str>,
        skipped: &Skips,
    ) -> ListUse {
        let used = listed - unknown.len().min(listed);
        let mut seen = std::collections::HashSet::new();
        let unknown: Vec<MalId> = unknown.into_iter().filter(|&id| seen.insert(id)).collect();
        ListUse {
            used,
            skipped: skipped.counts.clone(),
            not_in_catalogue: unknown.len(),
            unknown_titles: unknown
                .iter()
                .filter_map(|&id| title(id))
                .take(MAX_UNKNOWN_TITLES)
                .map(shorten)
                .collect(),
            unknown_anime_ids: unknown,
        }
    }

    /// Sentences for the fan about what was not used (none when everything was).
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if self.not_in_catalogue > 0 {
            let n = self.not_in_catalogue;
            let mut note = if n == 1 {
                "1 title on your list is newer than our catalogue (or unknown to it) and was not used"
                    .to_owned()
            } else {
                format!(
                    "{n} titles on your list are newer than our catalogue (or unknown to it) and \
                     were not used"
                )
            };
            if !self.unknown_titles.is_empty() {
                let more = if n > self.unknown_titles.len() {
                    ", …"
                } else {
                    ""
                };
                note.push_str(&format!(": {}{more}", self.unknown_titles.join(", ")));
            }
            notes.push(note);
        }
        let skipped: u64 = self.skipped.values().sum();
        if skipped > 0 {
            let reasons: Vec<String> = self
                .skipped
                .iter()
                .map(|(reason, n)| format!("{n} {}", reason_words(*reason)))
                .collect();
            notes.push(format!(
                "{skipped} {} could not be read ({})",
                if skipped == 1 { "entry" } else { "entries" },
                reasons.join(", ")
            ));
        }
        notes
    }
}

/// A title cut to [`MAX_TITLE_CHARS`].
fn shorten(title: &str) -> String {
    match title.char_indices().nth(MAX_TITLE_CHARS) {
        Some((cut, _)) => format!("{}…", &title[..cut]),
        None => title.to_owned(),
    }
}

/// A skip reason in a fan's words.
fn reason_words(reason: SkipReason) -> &'static str {
    match reason {
        SkipReason::BadAnimeId => "without a valid anime id",
        SkipReason::BadRating => "with a score outside 0-10",
        SkipReason::BadStatus => "with an unknown watching status",
        SkipReason::BadField => "with an unreadable field",
        _ => "malformed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_used_says_nothing() {
        let all = ListUse::new(3, Vec::new(), |_| None, &Skips::default());
        assert_eq!((all.used, all.not_in_catalogue), (3, 0));
        assert!(all.notes().is_empty());
    }

    #[test]
    fn unknown_anime_and_skipped_entries_are_named() {
        let mut skips = Skips::default();
        skips.add(SkipReason::BadRating, 2);
        skips.add(SkipReason::BadAnimeId, 1);
        let titles = |id: MalId| match id.0 {
            52991 => Some("Sousou no Frieren"),
            50265 => Some("Spy x Family"),
            _ => None,
        };
        let ids = [52991, 7, 52991, 50265].map(MalId).to_vec();
        let u = ListUse::new(11, ids, titles, &skips);
        assert_eq!((u.used, u.not_in_catalogue), (7, 3));
        assert_eq!(u.unknown_titles, ["Sousou no Frieren", "Spy x Family"]);
        assert_eq!(
            u.notes(),
            [
                "3 titles on your list are newer than our catalogue (or unknown to it) and were \
                 not used: Sousou no Frieren, Spy x Family, …",
                "3 entries could not be read (1 without a valid anime id, 2 with a score outside \
                 0-10)",
            ]
        );
        let json = serde_json::to_value(&u).unwrap();
        assert_eq!(json["skipped"]["bad_rating"], 2);
        assert_eq!(
            json["unknown_anime_ids"],
            serde_json::json!([52991, 7, 50265])
        );
    }
}
