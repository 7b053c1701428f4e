//! A fan's anime list as MyAnimeList keeps it: one [`ListEntry`] per anime (score, watching
//! status, episodes watched), and how an imported export merges into it ([`merge`]).

use anirec_data::{MalId, WatchStatus};
use serde::{Deserialize, Serialize};

/// Most entries one list may hold (a long MyAnimeList list has a few thousand).
pub const MAX_ENTRIES: usize = anirec_data::formats::malxml::MAX_ENTRIES;

/// One anime on a fan's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListEntry {
    /// The anime.
    pub anime_id: MalId,
    /// 1-10, or 0 when not scored.
    pub score: u8,
    /// The watching status.
    pub status: WatchStatus,
    /// Episodes watched.
    pub episodes: u32,
}

/// A list entry with the time it last changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Stored {
    /// The entry.
    #[serde(flatten)]
    pub entry: ListEntry,
    /// When it last changed (Unix seconds).
    pub updated_at: i64,
}

impl ListEntry {
    /// Checks the score (0-10).
    pub fn check(&self) -> Result<(), String> {
        if self.score > 10 {
            return Err(format!(
                "score is {}; scores are 0 (not scored) to 10",
                self.score
            ));
        }
        Ok(())
    }
}

/// How an imported entry merges into the one already on the list (`None`: not on the list).
/// The import's status and episodes win; its score wins unless it is 0 (not scored), so an
/// export that lost a score never erases one. Merging the same entry twice changes nothing.
pub fn merge(current: Option<&ListEntry>, imported: &ListEntry) -> ListEntry {
    match current {
        None => *imported,
        Some(c) => ListEntry {
            score: if imported.score > 0 {
                imported.score
            } else {
                c.score
            },
            ..*imported
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(score: u8, status: WatchStatus, episodes: u32) -> ListEntry {
        ListEntry {
            anime_id: MalId(1),
            score,
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
        assert!(entry(11, WatchStatus::Completed, 0).check().is_err());
    }
}
