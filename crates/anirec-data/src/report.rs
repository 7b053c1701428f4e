//! The ingest report: what was read, and every skipped or dropped row counted by reason.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How many example messages a report keeps (the counts are always complete).
pub const MAX_EXAMPLES: usize = 10;

/// Why a row was skipped or dropped. The snake_case name is the key in `--json` output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SkipReason {
    /// A quoted field whose closing quote never came.
    UnterminatedQuote,
    /// Characters between a closing quote and the next separator.
    BadQuote,
    /// A row with more or fewer fields than the header.
    ColumnCount,
    /// Bytes that are not UTF-8.
    InvalidUtf8,
    /// A user id that is not a non-negative integer in range.
    BadUserId,
    /// An anime id that is not a non-negative integer in range.
    BadAnimeId,
    /// A rating outside the layout's range.
    BadRating,
    /// A watching status that is not one of MyAnimeList's codes.
    BadStatus,
    /// Any other field that does not parse (catalogue numbers, episode counts).
    BadField,
    /// An anime id that appears twice in the catalogue (the later row is skipped).
    DuplicateAnime,
    /// A rating or synopsis of an anime missing from the catalogue (dropped).
    UnknownAnime,
    /// A repeated (user, anime) pair: the earlier row is dropped, the last one wins.
    Duplicate,
    /// Ratings of users below `--min-user-ratings` (dropped).
    MinUserRatings,
    /// A synopsis repair whose text is not its prefix plus the catalogue's synopsis (skipped).
    RepairMismatch,
}

impl SkipReason {
    /// Whether this reason marks a malformed row (as opposed to a well-formed row that was dropped
    /// by a data rule). `--strict` stops only on malformed rows.
    pub fn is_malformed(self) -> bool {
        !matches!(
            self,
            SkipReason::UnknownAnime
                | SkipReason::Duplicate
                | SkipReason::MinUserRatings
                | SkipReason::DuplicateAnime
                | SkipReason::RepairMismatch
        )
    }
}

/// Counts of skipped rows by reason, plus the first few messages in file order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Skips {
    /// Rows skipped or dropped, by reason (only reasons that occurred).
    pub counts: BTreeMap<SkipReason, u64>,
    /// Up to [`MAX_EXAMPLES`] messages of skipped malformed rows.
    pub examples: Vec<String>,
}

impl Skips {
    /// Counts `n` rows under `reason`.
    pub fn add(&mut self, reason: SkipReason, n: u64) {
        if n > 0 {
            *self.counts.entry(reason).or_default() += n;
        }
    }

    /// Counts one skipped row under `reason` and keeps its message (made only then) while
    /// there is room.
    pub fn record(&mut self, reason: SkipReason, message: impl FnOnce() -> String) {
        self.add(reason, 1);
        if self.examples.len() < MAX_EXAMPLES {
            self.examples.push(message());
        }
    }

    /// Adds another set of counts and examples to this one.
    pub fn merge(&mut self, other: Skips) {
        for (reason, n) in other.counts {
            self.add(reason, n);
        }
        let room = MAX_EXAMPLES.saturating_sub(self.examples.len());
        self.examples.extend(other.examples.into_iter().take(room));
    }

    /// Count for one reason (0 when it never occurred).
    pub fn get(&self, reason: SkipReason) -> u64 {
        self.counts.get(&reason).copied().unwrap_or(0)
    }

    /// Total rows skipped or dropped.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }
}

/// One file that was read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileRead {
    /// File name.
    pub file: String,
    /// The layout it was recognised as (e.g. `mal2020/anime.csv`).
    pub layout: String,
    /// Data rows read (valid or not), not counting the header.
    pub rows: u64,
    /// Size in bytes.
    pub bytes: u64,
}

/// What one catalogue source brought: anime new to the catalogue and anime it updated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceCounts {
    /// The source's layout (`mal2020/anime.csv`, `jikan/v4`).
    pub source: String,
    /// Anime the catalogue did not have before this source.
    pub anime_added: u64,
    /// Anime it had, whose values this source updated.
    pub anime_updated: u64,
}

/// What an ingest read: the figures `anirec ingest` prints.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IngestReport {
    /// Anime in the catalogue.
    pub anime: u64,
    /// What each catalogue source added and updated, in merge order.
    #[serde(default)]
    pub sources: Vec<SourceCounts>,
    /// Catalogue entries flagged adult (Rx - Hentai or genre Hentai).
    pub adult_anime: u64,
    /// Synopses read (including empty ones).
    pub synopses: u64,
    /// Synopses that are empty.
    pub empty_synopses: u64,
    /// Synopses whose lost first characters were restored from `synopsis_repairs.csv`.
    #[serde(default)]
    pub synopses_repaired: u64,
    /// Franchises of two or more anime.
    #[serde(default)]
    pub franchises: u64,
    /// Anime in those franchises.
    #[serde(default)]
    pub franchise_anime: u64,
    /// Ratings kept (after dropping duplicates, unknown anime and filtered users).
    pub ratings: u64,
    /// Users with at least one kept rating.
    pub users: u64,
    /// Anime with at least one kept rating.
    pub rated_anime: u64,
    /// Skipped and dropped rows by reason.
    pub skipped: Skips,
    /// The files read, in order.
    pub files: Vec<FileRead>,
    /// Whether the ratings came from `anirec synth` (a `.synthetic.json` label sits beside them).
    pub synthetic: bool,
}
