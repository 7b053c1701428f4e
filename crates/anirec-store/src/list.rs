//! A fan's anime list as MyAnimeList keeps it: one [`ListEntry`] per anime (score, watching
//! status, episodes watched), and how an imported export merges into it ([`merge`]).

use anirec_data::{MalId, Score, WatchStatus};
use serde::{Deserialize, Serialize};

/// Most entries one list may hold (a long MyAnimeList list has a few thousand).
pub const MAX_ENTRIES: usize = anirec_data::formats::malxml::MAX_ENTRIES;

/// One anime on a fan's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListEntry {
    /// The anime.
    pub anime_id: MalId,
    /// The fan's score.
    pub score: Score,
    /// The watching status.
    pub status: WatchStatus,
    /// Episodes watched.
    pub episodes: u32,
}

/// The title an import kept for an anime the catalogue lacked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListTitle {
    /// The anime.
    pub anime_id: MalId,
    /// Its title, as the export gave it.
    pub title: String,
}

/// The title kept for `anime` among `titles` (sorted by anime id, as [`crate::Store::titles`]
/// gives them).
pub fn title_of(titles: &[ListTitle], anime: MalId) -> Option<&str> {
    titles
        .binary_search_by_key(&anime, |t| t.anime_id)
        .ok()
        .map(|p| titles[p].title.as_str())
}

/// A list entry with the time it last changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoredEntry {
    /// The entry.
    #[serde(flatten)]
    pub entry: ListEntry,
    /// When it last changed (Unix seconds).
    pub updated_at: i64,
}

/// How an imported entry merges into the one already on the list (`None`: not on the list).
/// The import's status and episodes win; its score wins unless it is 0 (not scored), so an
/// export that lost a score never erases one. Merging the same entry twice changes nothing.
pub fn merge(current: Option<&ListEntry>, imported: &ListEntry) -> ListEntry {
    match current {
        None => *imported,
        Some(c) => ListEntry {
            score: if imported.score.is_scored() {
                imported.score
            } else {
                c.score
            },
            ..*imported
        },
    }
}

/// What recommendations need of an account: its list (by anime id) and the anime it marked
/// not interested (ascending), read together ([`crate::Store::taste`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Taste {
    /// The list, by anime id.
    pub list: Vec<ListEntry>,
    /// The anime marked not interested, ascending.
    pub hidden: Vec<MalId>,
}

/// A piece of a packed [`Taste`] that does not parse (a database that holds what the store never
/// writes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnpackError {
    /// An entry that is not `anime score status episodes` in range.
    #[error("packed list entry {0:?}")]
    Entry(String),
    /// A hidden anime that is not an id.
    #[error("packed hidden anime {0:?}")]
    Hidden(String),
}

impl Taste {
    /// Reads the packed form the database aggregates it into (one row, rather than a row per
    /// entry): entries as `anime score status episodes` joined by commas, hidden anime as ids
    /// joined by commas; `None` for none. The error names the piece that did not parse.
    pub fn unpack(list: Option<&str>, hidden: Option<&str>) -> Result<Taste, UnpackError> {
        fn pieces(packed: Option<&str>) -> impl Iterator<Item = &str> {
            packed
                .into_iter()
                .filter(|p| !p.is_empty())
                .flat_map(|p| p.split(','))
        }
        let bad = |piece: &str| UnpackError::Entry(piece.to_owned());
        let number = |field: Option<&str>, piece: &str| -> Result<u32, UnpackError> {
            field.and_then(|f| f.parse().ok()).ok_or_else(|| bad(piece))
        };
        let mut entries = pieces(list)
            .map(|piece| {
                let mut fields = piece.split(' ');
                let anime_id = MalId(number(fields.next(), piece)?);
                let score = u8::try_from(number(fields.next(), piece)?)
                    .ok()
                    .and_then(Score::new)
                    .ok_or_else(|| bad(piece))?;
                let status = u8::try_from(number(fields.next(), piece)?)
                    .ok()
                    .and_then(WatchStatus::from_code)
                    .ok_or_else(|| bad(piece))?;
                let episodes = number(fields.next(), piece)?;
                match fields.next() {
                    None => Ok(ListEntry {
                        anime_id,
                        score,
                        status,
                        episodes,
                    }),
                    Some(_) => Err(bad(piece)),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        entries.sort_unstable_by_key(|e| e.anime_id);
        let mut hidden = pieces(hidden)
            .map(|piece| {
                piece
                    .parse()
                    .map(MalId)
                    .map_err(|_| UnpackError::Hidden(piece.to_owned()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        hidden.sort_unstable();
        Ok(Taste {
            list: entries,
            hidden,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(score: u8, status: WatchStatus, episodes: u32) -> ListEntry {
        ListEntry {
            anime_id: MalId(1),
            score: Score::new(score).unwrap(),
            status,
            episodes,
        }
    }

    #[test]
    fn imports_merge_by_the_documented_rules() {
        let on_list = entry(9, WatchStatus::Watching, 5);
        let import = entry(0, WatchStatus::Completed, 12);
        let merged = merge(Some(&on_list), &import);
        assert_eq!(merged, entry(9, WatchStatus::Completed, 12));
        // Idempotent.
        assert_eq!(merge(Some(&merged), &import), merged);
        assert_eq!(merge(None, &import), import);
        assert_eq!(
            merge(Some(&on_list), &entry(7, WatchStatus::Dropped, 3)),
            entry(7, WatchStatus::Dropped, 3)
        );
    }

    #[test]
    fn packed_tastes_unpack_sorted_and_bad_pieces_are_named() {
        let taste = Taste::unpack(Some("30 9 2 26,1 0 6 0"), Some("5,3")).unwrap();
        assert_eq!(
            taste.list,
            vec![
                ListEntry {
                    anime_id: MalId(1),
                    score: Score::NONE,
                    status: WatchStatus::PlanToWatch,
                    episodes: 0
                },
                ListEntry {
                    anime_id: MalId(30),
                    score: Score::new(9).unwrap(),
                    status: WatchStatus::Completed,
                    episodes: 26
                },
            ]
        );
        assert_eq!(taste.hidden, vec![MalId(3), MalId(5)]);
        assert_eq!(Taste::unpack(None, None).unwrap(), Taste::default());
        for bad in [
            "30 9 2",
            "30 9 2 26 1",
            "30 900 2 26",
            "30 9 9 26",
            "x 9 2 26",
        ] {
            let e = Taste::unpack(Some(bad), None).unwrap_err();
            assert_eq!(e, UnpackError::Entry(bad.to_owned()));
            assert!(e.to_string().contains(bad), "{e}");
        }
        assert_eq!(
            Taste::unpack(None, Some("7,")).unwrap_err(),
            UnpackError::Hidden(String::new())
        );
    }
}
