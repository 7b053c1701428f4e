//! File formats: the readers of every layout anirec accepts, and the detection of which one a
//! file is from its header.
//!
//! - [`mal2020`]: Kaggle MyAnimeList 2020 `anime.csv` and `anime_with_synopsis.csv`.
//! - [`kaggle2016`]: the older Kaggle `anime.csv`.
//! - [`ratings`]: every ratings file (`rating_complete.csv`, `animelist.csv`, 2016 `rating.csv`),
//!   parsed in parallel.
//! - [`malxml`]: a user's MyAnimeList XML list export.
//! - [`jikan`]: Jikan v4 JSON answers (season pages, single anime), merged over the catalogue.
//! - [`gzip`]: gzip-compressed uploads, unpacked up to a limit.

pub mod csv;
pub mod fields;
pub mod gzip;
pub mod jikan;
pub mod kaggle2016;
pub mod mal2020;
pub mod malxml;
pub mod ratings;
pub mod table;

use std::collections::HashSet;

use crate::catalogue::Anime;
use crate::error::{DataError, Result, RowError};
use crate::report::{FileRead, SkipReason, Skips};
use table::Table;

/// The release a data folder follows, decided by its catalogue header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Kaggle MyAnimeList Database 2020.
    Mal2020,
    /// Kaggle Anime Recommendations Database (2016).
    Kaggle2016,
}

impl Layout {
    /// Name of the catalogue layout in reports.
    pub fn anime_layout(self) -> &'static str {
        match self {
            Layout::Mal2020 => "mal2020/anime.csv",
            Layout::Kaggle2016 => "kaggle2016/anime.csv",
        }
    }
}

/// Skips a malformed row (counting it), or stops with it in strict mode. Rows dropped by a data
/// rule (for example a repeated anime id) are always counted, never fatal.
pub fn handle(error: RowError, strict: bool, skips: &mut Skips) -> Result<()> {
    if strict && error.reason.is_malformed() {
        return Err(error.into());
    }
    skips.record(error.reason, || error.to_string());
    Ok(())
}

/// The error for a header that lacks the columns a layout needs.
pub fn unknown_header(table: &Table, expected: &str) -> DataError {
    DataError::UnknownHeader {
        file: table.file().to_owned(),
        found: table.header_line(),
        expected: expected.to_owned(),
    }
}

/// Collects catalogue rows, skipping (and counting) a repeated anime id.
#[derive(Default)]
pub struct UniqueAnime {
    seen: HashSet<crate::ids::MalId>,
    /// The anime kept, in file order.
    pub anime: Vec<Anime>,
}

impl UniqueAnime {
    /// Keeps `anime` unless its id was already seen.
    pub fn push(
        &mut self,
        table: &Table,
        line: u64,
        id_column: Option<usize>,
        anime: Anime,
        strict: bool,
        skips: &mut Skips,
    ) -> Result<()> {
        if self.seen.insert(anime.mal_id) {
            self.anime.push(anime);
            return Ok(());
        }
        let message = format!(
            "anime id {} already appeared; this row is skipped",
            anime.mal_id
        );
        handle(
            table.error(line, id_column, SkipReason::DuplicateAnime, message),
            strict,
            skips,
        )
    }
}

/// Reads a catalogue file of either layout, detected from its header.
pub fn read_catalogue(
    data: &[u8],
    file: &str,
    strict: bool,
    skips: &mut Skips,
) -> Result<(Layout, Vec<Anime>, FileRead)> {
    let expected = format!(
        "the MyAnimeList 2020 header ({}) or the 2016 one ({})",
        mal2020::ANIME_HEADER,
        kaggle2016::ANIME_HEADER
    );
    let table = Table::open(data, file, &expected)?;
    let bytes = data.len() as u64;
    if mal2020::is_anime_header(table.header()) {
        let (anime, read) = mal2020::read_anime(table, strict, skips, bytes)?;
        Ok((Layout::Mal2020, anime, read))
    } else if kaggle2016::is_anime_header(table.header()) {
        let (anime, read) = kaggle2016::read_anime(table, strict, skips, bytes)?;
        Ok((Layout::Kaggle2016, anime, read))
    } else {
        Err(unknown_header(&table, &expected))
    }
}
