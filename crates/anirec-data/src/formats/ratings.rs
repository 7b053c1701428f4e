//! Ratings files, parsed in parallel: MAL 2020 `rating_complete.csv` (`user_id,anime_id,rating`,
//! 1-10), MAL 2020 `animelist.csv` (`user_id,anime_id,rating,watching_status,watched_episodes`,
//! rating 0 = not scored) and the 2016 `rating.csv` (-1 = watched but not rated).
//!
//! The file is cut into fixed-size byte ranges read with positional reads (no whole-file buffer,
//! no memory map in the resident set); each range owns the rows that start inside it. A fast path
//! parses well-formed rows without allocating; anything unusual goes to a careful path that
//! produces the exact error. Line numbers are made global after all ranges are done, so errors
//! read `rating_complete.csv:1042: column rating: expected an integer 1-10, found "11"`.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use rayon::prelude::*;

use super::csv::{BOM, CsvReader, SplitError};
use super::fields::{MAX_ID, found, parse_id, parse_int_in};
use super::{Layout, handle};
use crate::error::{DataError, Result, RowError};
use crate::files::Progress;
use crate::report::{FileRead, SkipReason, Skips};

/// Bytes per parallel range.
const CHUNK_BYTES: u64 = 8 << 20;

/// The column layout of a ratings file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RatingsLayout {
    /// `user_id,anime_id,rating`, rating 1-10 (MAL 2020 `rating_complete.csv`, or a split file).
    Complete,
    /// `user_id,anime_id,rating,watching_status,watched_episodes`, rating 0-10 (MAL 2020).
    AnimeList,
    /// `user_id,anime_id,rating`, rating -1 (watched, not rated) or 1-10 (Kaggle 2016).
    Kaggle2016,
}

/// Accepted ratings headers, for messages.
pub const RATINGS_HEADERS: &str =
    "user_id,anime_id,rating or user_id,anime_id,rating,watching_status,watched_episodes";

impl RatingsLayout {
    /// Decides the layout from the header line; the 2016 meaning of `rating` follows the catalogue.
    pub fn detect(header: &[String], catalogue: Layout) -> Option<RatingsLayout> {
        let names: Vec<String> = header
            .iter()
            .map(|h| h.trim().to_ascii_lowercase())
            .collect();
        match names
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["user_id", "anime_id", "rating"] => Some(match catalogue {
                Layout::Mal2020 => RatingsLayout::Complete,
                Layout::Kaggle2016 => RatingsLayout::Kaggle2016,
            }),
            [
                "user_id",
                "anime_id",
                "rating",
                "watching_status",
                "watched_episodes",
            ] => Some(RatingsLayout::AnimeList),
            _ => None,
        }
    }

    /// Number of columns.
    pub fn columns(self) -> usize {
        match self {
            RatingsLayout::AnimeList => 5,
            _ => 3,
        }
    }

    /// Whether rows carry a watching status.
    pub fn has_status(self) -> bool {
        self == RatingsLayout::AnimeList
    }

    /// Name in reports.
    pub fn name(self) -> &'static str {
        match self {
            RatingsLayout::Complete => "mal2020/rating_complete.csv",
            RatingsLayout::AnimeList => "mal2020/animelist.csv",
            RatingsLayout::Kaggle2016 => "kaggle2016/rating.csv",
        }
    }

    fn column_name(self, index: usize) -> &'static str {
        [
            "user_id",
            "anime_id",
            "rating",
            "watching_status",
            "watched_episodes",
        ][index]
    }

    /// The stored rating (0 = no score) for a value read from the file, if valid.
    #[inline]
    fn rating(self, value: i64) -> Option<u8> {
        match (self, value) {
            (_, 1..=10) => Some(value as u8),
            (RatingsLayout::AnimeList, 0) | (RatingsLayout::Kaggle2016, -1) => Some(0),
            _ => None,
        }
    }

    fn rating_expected(self) -> &'static str {
        match self {
            RatingsLayout::Complete => "an integer 1-10",
            RatingsLayout::AnimeList => "an integer 0-10 (0 = not scored)",
            RatingsLayout::Kaggle2016 => "-1 (watched, not rated) or an integer 1-10",
        }
    }
}

/// Watching status codes of MyAnimeList (5 is unused).
pub fn valid_status(code: i64) -> bool {
    matches!(code, 1..=4 | 6)
}

/// The rows of one byte range, in file order.
#[derive(Debug, Default)]
pub struct RawChunk {
    /// Original user ids.
    pub users: Vec<u32>,
    /// Catalogue indices of the anime.
    pub anime: Vec<u32>,
    /// Ratings, 0 = listed without a score.
    pub ratings: Vec<u8>,
    /// Watching status codes (empty when the layout has none).
    pub status: Vec<u8>,
    /// Largest original user id seen.
    pub max_user: u32,
    newlines: u64,
    skips: Skips,
    /// Malformed rows with their line counted from the start of the range: (offset, error).
    errors: Vec<(u64, RowError)>,
    unknown_anime: u64,
}

impl RawChunk {
    /// A chunk holding `(original user id, anime index, rating)` rows, as if read in that order.
    pub fn from_rows(rows: &[(u32, u32, u8)]) -> RawChunk {
        RawChunk {
            users: rows.iter().map(|t| t.0).collect(),
            anime: rows.iter().map(|t| t.1).collect(),
            ratings: rows.iter().map(|t| t.2).collect(),
            max_user: rows.iter().map(|t| t.0).max().unwrap_or(0),
            ..RawChunk::default()
        }
    }

    /// Number of rows kept.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether no row was kept.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }
}

/// A whole ratings file, parsed: its ranges in file order plus what was read.
#[derive(Debug)]
pub struct ParsedRatings {
    /// The ranges, in file order.
    pub chunks: Vec<RawChunk>,
    /// The layout found.
    pub layout: RatingsLayout,
    /// What was read.
    pub read: FileRead,
}

impl ParsedRatings {
    /// Total rows kept.
    pub fn len(&self) -> usize {
        self.chunks.iter().map(RawChunk::len).sum()
    }

    /// Whether no row was kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What the parser needs from its caller.
pub struct ParseOptions<'a> {
    /// Stop at the first malformed row instead of skipping it.
    pub strict: bool,
    /// MyAnimeList id → catalogue index (`u32::MAX` where absent).
    pub anime_table: &'a [u32],
    /// The catalogue's layout (decides what `rating` means in a 3-column file).
    pub catalogue: Layout,
    /// Told about bytes as they are parsed.
    pub progress: &'a dyn Progress,
}

/// Parses a ratings file. Skipped rows are counted in `skips`; in strict mode the first malformed
/// row (by line) is returned as the error.
pub fn read_ratings(path: &Path, opts: &ParseOptions, skips: &mut Skips) -> Result<ParsedRatings> {
    let file_name = crate::files::file_name(path);
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    let size = file.metadata().map_err(|e| DataError::io(path, e))?.len();
    let io = |e| DataError::io(path, e);

    // The header: the first line (a UTF-8 byte-order mark is allowed).
    let mut head = vec![0u8; size.min(64 << 10) as usize];
    file.read_exact_at(&mut head, 0).map_err(io)?;
    let bom = if head.starts_with(BOM) { BOM.len() } else { 0 };
    let header_end = match memchr::memchr(b'\n', &head) {
        Some(i) => i + 1,
        None if (head.len() as u64) == size => head.len(),
        None => {
            return Err(DataError::UnknownHeader {
                file: file_name,
                found: found(&String::from_utf8_lossy(&head[..80.min(head.len())])),
                expected: RATINGS_HEADERS.to_owned(),
            });
        }
    };
    let header_fields: Vec<String> = match CsvReader::new(&head[..header_end]).next_record() {
        Some(Ok(rec)) => rec
            .fields
            .iter()
            .map(|f| String::from_utf8_lossy(f).trim().to_owned())
            .collect(),
        None if head[bom..header_end].iter().all(u8::is_ascii_whitespace) => {
            return Err(DataError::EmptyFile {
                file: file_name,
                expected: RATINGS_HEADERS.to_owned(),
            });
        }
        _ => vec![
            String::from_utf8_lossy(&head[bom..header_end])
                .trim()
                .to_owned(),
        ],
    };
    let layout = RatingsLayout::detect(&header_fields, opts.catalogue).ok_or_else(|| {
        DataError::UnknownHeader {
            file: file_name.clone(),
            found: header_fields.join(","),
            expected: RATINGS_HEADERS.to_owned(),
        }
    })?;

    let header_end = header_end as u64;
    let n_chunks = size.div_ceil(CHUNK_BYTES).max(1);
    let ctx = ChunkContext {
        file: &file,
        size,
        header_end,
        layout,
        file_name: &file_name,
        opts,
    };
    let mut chunks: Vec<RawChunk> = (0..n_chunks)
        .into_par_iter()
        .map_init(Vec::new, |buf, k| {
            let start = k * CHUNK_BYTES;
            let end = ((k + 1) * CHUNK_BYTES).min(size);
            let chunk = ctx.parse(start, end, buf);
            opts.progress.advance(end - start);
            chunk
        })
        .collect::<std::result::Result<_, _>>()
        .map_err(io)?;

    // Make line numbers global, then count or raise errors in file order.
    let mut lines_before = 1u64;
    let mut rows = 0u64;
    for chunk in &mut chunks {
        for (offset, error) in &mut chunk.errors {
            error.line = lines_before + *offset;
        }
        lines_before += chunk.newlines;
        rows +=
            (chunk.len() + chunk.errors.len()) as u64 + chunk.skips.total() + chunk.unknown_anime;
    }
    for chunk in &mut chunks {
        for (_, error) in chunk.errors.drain(..) {
            handle(error, opts.strict, skips)?;
        }
        let counted = std::mem::take(&mut chunk.skips);
        skips.merge(Skips {
            counts: counted.counts,
            examples: Vec::new(),
        });
        skips.add(SkipReason::UnknownAnime, chunk.unknown_anime);
    }
    Ok(ParsedRatings {
        chunks,
        layout,
        read: FileRead {
            file: file_name,
            layout: layout.name().to_owned(),
            rows,
            bytes: size,
        },
    })
}

/// How many malformed rows a range keeps in full (its counts are always complete).
const ERRORS_PER_CHUNK: usize = crate::report::MAX_EXAMPLES;

struct ChunkContext<'a> {
    file: &'a File,
    size: u64,
    header_end: u64,
    layout: RatingsLayout,
    file_name: &'a str,
    opts: &'a ParseOptions<'a>,
}

impl ChunkContext<'_> {
    /// Parses the rows that start in `[start, end)`, reading through the reusable buffer `buf`.
    fn parse(&self, start: u64, end: u64, buf: &mut Vec<u8>) -> std::io::Result<RawChunk> {
        // Read from one byte before the range so a row start right at `start` is recognised.
        let from = start.saturating_sub(1);
        buf.clear();
        buf.resize((end - from) as usize, 0);
        self.file.read_exact_at(buf, from)?;
        let mut chunk = RawChunk {
            newlines: memchr::memchr_iter(b'\n', &buf[(start - from) as usize..]).count() as u64,
            ..RawChunk::default()
        };
        let expected_rows = (end - start) as usize / 12;
        chunk.users.reserve(expected_rows);
        chunk.anime.reserve(expected_rows);
        chunk.ratings.reserve(expected_rows);
        if self.layout.has_status() {
            chunk.status.reserve(expected_rows);
        }

        // First row start (buffer offset) and newlines between `start` and it.
        let (mut pos, mut line_offset) = if start == 0 {
            (self.header_end as usize, 1)
        } else {
            match memchr::memchr(b'\n', buf) {
                Some(i) => (i + 1, u64::from(from + i as u64 + 1 > start)),
                None => return Ok(chunk),
            }
        };
        let end_local = (end - from) as usize;
        while pos < end_local {
            let at_eof = from + buf.len() as u64 == self.size;
            if let Some(next) = self.fast_row(buf, pos, at_eof, &mut chunk) {
                pos = next;
                line_offset += 1;
                continue;
            }
            // Anything unusual: find the whole line (reading on past the range if needed).
            let line_end = loop {
                if let Some(i) = memchr::memchr(b'\n', &buf[pos..]) {
                    break Some(pos + i);
                }
                let read_to = from + buf.len() as u64;
                if read_to >= self.size {
                    break None;
                }
                let more = (64u64 << 10).min(self.size - read_to) as usize;
                let old = buf.len();
                buf.resize(old + more, 0);
                self.file.read_exact_at(&mut buf[old..], read_to)?;
            };
            let line = &buf[pos..line_end.unwrap_or(buf.len())];
            self.slow_row(line, line_offset, &mut chunk);
            line_offset += 1;
            pos = line_end.map_or(usize::MAX, |i| i + 1);
        }
        Ok(chunk)
    }

    /// Parses a well-formed row starting at `buf[i]` without allocating and returns where the
    /// next row starts; `None` hands the row to `slow_row`. A row must end with a newline unless
    /// the buffer ends where the file does.
    #[inline]
    fn fast_row(
        &self,
        buf: &[u8],
        mut i: usize,
        at_eof: bool,
        chunk: &mut RawChunk,
    ) -> Option<usize> {
        let user = digits(buf, &mut i)?;
        expect(buf, &mut i, b',')?;
        let anime = digits(buf, &mut i)?;
        expect(buf, &mut i, b',')?;
        let negative = buf.get(i) == Some(&b'-');
        i += usize::from(negative);
        let value = digits(buf, &mut i)? as i64;
        let rating = self.layout.rating(if negative { -value } else { value })?;
        let mut status = 0u8;
        if self.layout.has_status() {
            expect(buf, &mut i, b',')?;
            let code = digits(buf, &mut i)?;
            if !valid_status(code as i64) {
                return None;
            }
            expect(buf, &mut i, b',')?;
            digits(buf, &mut i)?;
            status = code as u8;
        }
        if buf.get(i) == Some(&b'\r') {
            i += 1;
        }
        let next = match buf.get(i) {
            Some(b'\n') => i + 1,
            None if at_eof => i,
            _ => return None,
        };
        if user > MAX_ID as u64 || anime > MAX_ID as u64 {
            return None;
        }
        self.keep(chunk, user as u32, anime as u32, rating, status);
        Some(next)
    }

    #[inline(always)]
    fn keep(&self, chunk: &mut RawChunk, user: u32, anime: u32, rating: u8, status: u8) {
        let index = self
            .opts
            .anime_table
            .get(anime as usize)
            .copied()
            .unwrap_or(u32::MAX);
        if index == u32::MAX {
            chunk.unknown_anime += 1;
            return;
        }
        chunk.users.push(user);
        chunk.anime.push(index);
        chunk.ratings.push(rating);
        if self.layout.has_status() {
            chunk.status.push(status);
        }
        chunk.max_user = chunk.max_user.max(user);
    }

    /// Parses a row the fast path refused: keeps it if it is valid after all (spaces, quotes),
    /// otherwise records the exact error.
    fn slow_row(&self, line: &[u8], line_offset: u64, chunk: &mut RawChunk) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            return; // a blank line carries no row
        }
        match self.check_row(line) {
            Ok((user, anime, rating, status)) => self.keep(chunk, user, anime, rating, status),
            Err((column, reason, message)) => {
                let error = RowError {
                    file: self.file_name.to_owned(),
                    line: 0,
                    column: column.map(|c| self.layout.column_name(c).to_owned()),
                    reason,
                    message,
                };
                if chunk.errors.len() < ERRORS_PER_CHUNK {
                    chunk.errors.push((line_offset, error));
                } else {
                    chunk.skips.add(reason, 1);
                }
            }
        }
    }

    #[allow(clippy::type_complexity)]
    fn check_row(
        &self,
        line: &[u8],
    ) -> std::result::Result<(u32, u32, u8, u8), (Option<usize>, SkipReason, String)> {
        let record = match CsvReader::new(line).next_record() {
            Some(Ok(record)) => record,
            Some(Err(SplitError::UnterminatedQuote { .. })) => {
                return Err((
                    None,
                    SkipReason::UnterminatedQuote,
                    "unterminated quoted field: the closing quote is missing on this line".into(),
                ));
            }
            Some(Err(SplitError::BadQuote { .. })) | None => {
                return Err((
                    None,
                    SkipReason::BadQuote,
                    "unexpected text after a closing quote: expected a comma or a line end".into(),
                ));
            }
        };
        let expected = self.layout.columns();
        if record.fields.len() != expected {
            return Err((
                None,
                SkipReason::ColumnCount,
                format!("expected {expected} columns, found {}", record.fields.len()),
            ));
        }
        let mut text = Vec::with_capacity(expected);
        for (i, field) in record.fields.iter().enumerate() {
            match std::str::from_utf8(field) {
                Ok(t) => text.push(t),
                Err(_) => return Err((Some(i), SkipReason::InvalidUtf8, "invalid UTF-8".into())),
            }
        }
        let user =
            parse_id(text[0]).map_err(|m| (Some(0), SkipReason::BadUserId, m.to_string()))?;
        let anime =
            parse_id(text[1]).map_err(|m| (Some(1), SkipReason::BadAnimeId, m.to_string()))?;
        let rating_err = || {
            (
                Some(2),
                SkipReason::BadRating,
                format!(
                    "expected {}, found {}",
                    self.layout.rating_expected(),
                    found(text[2].trim())
                ),
            )
        };
        let value = text[2].trim().parse::<i64>().map_err(|_| rating_err())?;
        let rating = self.layout.rating(value).ok_or_else(rating_err)?;
        let mut status = 0;
        if self.layout.has_status() {
            status = parse_int_in(text[3], 0, 6, "a watching status 1, 2, 3, 4 or 6")
                .ok()
                .filter(|&c| valid_status(c))
                .ok_or_else(|| {
                    (
                        Some(3),
                        SkipReason::BadStatus,
                        format!(
                            "expected a watching status 1, 2, 3, 4 or 6, found {}",
                            found(text[3].trim())
                        ),
                    )
                })? as u8;
            parse_int_in(text[4], 0, 1 << 20, "a non-negative episode count")
                .map_err(|m| (Some(4), SkipReason::BadField, m.to_string()))?;
        }
        Ok((user, anime, rating, status))
    }
}

/// Steps over `byte` at `*i`, or `None` when something else is there.
#[inline]
fn expect(buf: &[u8], i: &mut usize, byte: u8) -> Option<()> {
    (buf.get(*i) == Some(&byte)).then(|| *i += 1)
}

/// Reads 1 to 10 ASCII digits at `*i`, advancing it. `None` when there is no digit or too many.
#[inline(always)]
fn digits(line: &[u8], i: &mut usize) -> Option<u64> {
    let start = *i;
    let mut value = 0u64;
    while let Some(&b) = line.get(*i) {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        // Past 10 digits the row is refused anyway; stop accumulating so nothing overflows.
        if *i - start < 10 {
            value = value * 10 + d as u64;
        }
        *i += 1;
    }
    let n = *i - start;
    (1..=10).contains(&n).then_some(value)
}
