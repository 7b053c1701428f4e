//! One entry of a user's list as the models read it — the anime (a catalogue index), the score
//! and the watching status — and what an entry says about taste: how much it weighs and whether
//! it counts as liked. Training (EASE's Gram matrix) and scoring (a fan's profile) weigh entries
//! by the same rules, so a plan-to-watch title counts as little at scoring time as in training.

use anirec_data::csr::Row;
use anirec_data::{AnimeIx, Score, WatchStatus};

/// A score at or above this marks an anime the user liked: the evaluation counts such a test
/// rating as relevant, the blend is tuned to find them, and explanations point at them.
pub const LIKED_FROM: u8 = 8;

/// One anime of a user's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The anime.
    pub anime: AnimeIx,
    /// The score.
    pub score: Score,
    /// Watching status, when the source has one.
    pub status: Option<WatchStatus>,
}

impl Entry {
    /// An entry from a ratings store's columns (status code 0 or absent: unknown). A store holds
    /// scores 0-10 only (its readers refuse others).
    pub fn from_codes(anime: u32, score: u8, status: Option<u8>) -> Entry {
        Entry {
            anime: AnimeIx(anime),
            score: Score::new(score).unwrap_or(Score::NONE),
            status: status.and_then(WatchStatus::from_code),
        }
    }

    /// The entries of a ratings store's row, in its order.
    pub fn of_row(row: Row<'_>) -> impl Iterator<Item = Entry> + '_ {
        row.indices
            .iter()
            .zip(row.ratings)
            .enumerate()
            .map(move |(p, (&anime, &score))| {
                Entry::from_codes(anime, score, row.status.get(p).copied())
            })
    }

    /// Whether the entry carries a score.
    pub fn is_scored(&self) -> bool {
        self.score.is_scored()
    }

    /// How much the entry says about taste, by its status (see [`status_weight`]).
    pub fn status_weight(&self) -> f32 {
        status_weight(self.status)
    }

    /// Whether the entry counts against anime like it when scoring: dropped, and not liked
    /// (a score of [`LIKED_FROM`] or more speaks louder than the status).
    pub fn counts_against(&self) -> bool {
        self.status == Some(WatchStatus::Dropped) && !self.is_liked()
    }

    /// The entry's weight at scoring time: its [`status_weight`], or [`DROPPED_AGAINST`]
    /// against similar anime when it [counts against](Entry::counts_against) them.
    pub fn scoring_weight(&self) -> f32 {
        if self.counts_against() {
            -DROPPED_AGAINST
        } else {
            self.status_weight()
        }
    }

    /// Whether the user liked it: scored [`LIKED_FROM`] or more, or listed without a score as
    /// watched (not dropped, on hold or planned).
    pub fn is_liked(&self) -> bool {
        if self.is_scored() {
            self.score.code() >= LIKED_FROM
        } else {
            !matches!(
                self.status,
                Some(WatchStatus::Dropped | WatchStatus::OnHold | WatchStatus::PlanToWatch)
            )
        }
    }
}

/// How much a title the fan dropped without liking it counts against anime like it, at scoring
/// time (training still counts it, lightly, as a co-occurrence).
pub const DROPPED_AGAINST: f32 = 0.3;

/// How much a list entry counts by its MyAnimeList watching status (`None`: unknown): dropped,
/// on-hold and plan-to-watch entries say less about taste than watched ones.
#[inline]
pub fn status_weight(status: Option<WatchStatus>) -> f32 {
    match status {
        Some(WatchStatus::OnHold) => 0.6,
        Some(WatchStatus::Dropped) => 0.3,
        Some(WatchStatus::PlanToWatch) => 0.4,
        None | Some(WatchStatus::Watching | WatchStatus::Completed) => 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_weights_follow_engagement() {
        let w = |s| status_weight(Some(s));
        assert_eq!(w(WatchStatus::Completed), 1.0);
        assert_eq!(status_weight(None), 1.0);
        assert!(w(WatchStatus::Dropped) < w(WatchStatus::OnHold));
        assert!(w(WatchStatus::OnHold) < w(WatchStatus::Watching));
        assert!(w(WatchStatus::PlanToWatch) < 1.0);
    }

    #[test]
    fn liked_means_scored_high_or_watched_unscored() {
        let e = |score: u8, status| Entry {
            anime: AnimeIx(0),
            score: Score::new(score).unwrap(),
            status,
        };
        assert!(e(8, None).is_liked());
        assert!(!e(7, Some(WatchStatus::Completed)).is_liked());
        assert!(e(0, None).is_liked());
        assert!(e(0, Some(WatchStatus::Watching)).is_liked());
        assert!(!e(0, Some(WatchStatus::PlanToWatch)).is_liked());
        assert!(!e(0, Some(WatchStatus::Dropped)).is_liked());
        // A score speaks louder than the status.
        assert!(e(9, Some(WatchStatus::Dropped)).is_liked());
        // Dropped and not liked counts against similar anime at scoring time.
        assert!(e(3, Some(WatchStatus::Dropped)).scoring_weight() < 0.0);
        assert!(e(0, Some(WatchStatus::Dropped)).scoring_weight() < 0.0);
        assert!(e(9, Some(WatchStatus::Dropped)).scoring_weight() > 0.0);
        assert_eq!(e(0, Some(WatchStatus::PlanToWatch)).scoring_weight(), 0.4);
    }
}
