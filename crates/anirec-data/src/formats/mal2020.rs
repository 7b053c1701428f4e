//! The Kaggle "MyAnimeList Database 2020" catalogue files: `anime.csv` (35 columns; the genre
//! column is headed `Genres` or, in early copies, `Genders`) and `anime_with_synopsis.csv`
//! (`sypnopsis` or `synopsis`). The rating files of the same release are read by
//! [`super::ratings`].

use super::fields::{parse_count, parse_id, parse_score};
use super::table::{Row, Table};
use super::{Layout, UniqueAnime, handle};
use crate::anime::AiringStatus;
use crate::catalogue::{
    Anime, Season, StatusCounts, parse_aired, parse_duration, parse_list, parse_premiered,
};
use crate::error::{Result, RowError};
use crate::ids::MalId;
use crate::report::{FileRead, SkipReason, Skips};

/// The header of `anime.csv` as published (with the `Genres` spelling).
pub const ANIME_HEADER: &str = "MAL_ID,Name,Score,Genres,English name,Japanese name,Type,Episodes,Aired,Premiered,Producers,Licensors,Studios,Source,Duration,Rating,Ranked,Popularity,Members,Favorites,Watching,Completed,On-Hold,Dropped,Plan to Watch,Score-10,...,Score-1";

/// The header of `anime_with_synopsis.csv`.
pub const SYNOPSIS_HEADER: &str = "MAL_ID,Name,Score,Genres,synopsis (or sypnopsis)";

/// Column positions of `anime.csv`, looked up by name so column order does not matter.
struct Columns {
    id: usize,
    name: Option<usize>,
    score: Option<usize>,
    genres: Option<usize>,
    english: Option<usize>,
    japanese: Option<usize>,
    kind: Option<usize>,
    episodes: Option<usize>,
    aired: Option<usize>,
    premiered: Option<usize>,
    producers: Option<usize>,
    licensors: Option<usize>,
    studios: Option<usize>,
    source: Option<usize>,
    duration: Option<usize>,
    rating: Option<usize>,
    ranked: Option<usize>,
    popularity: Option<usize>,
    members: Option<usize>,
    favorites: Option<usize>,
    status: [Option<usize>; 5],
    histogram: [Option<usize>; 10],
}

impl Columns {
    fn find(table: &Table) -> Option<Columns> {
        let c = |names: &[&str]| table.column(names);
        let mut histogram = [None; 10];
        for (i, slot) in histogram.iter_mut().enumerate() {
            *slot = c(&[&format!("Score-{}", i + 1)]);
        }
        Some(Columns {
            id: c(&["MAL_ID"])?,
            name: c(&["Name"]),
            score: c(&["Score"]),
            genres: c(&["Genres", "Genders"]),
            english: c(&["English name"]),
            japanese: c(&["Japanese name"]),
            kind: c(&["Type"]),
            episodes: c(&["Episodes"]),
            aired: c(&["Aired"]),
            premiered: c(&["Premiered"]),
            producers: c(&["Producers"]),
            licensors: c(&["Licensors"]),
            studios: c(&["Studios"]),
            source: c(&["Source"]),
            duration: c(&["Duration"]),
            rating: c(&["Rating"]),
            ranked: c(&["Ranked"]),
            popularity: c(&["Popularity"]),
            members: c(&["Members"]),
            favorites: c(&["Favorites"]),
            status: [
                c(&["Watching"]),
                c(&["Completed"]),
                c(&["On-Hold"]),
                c(&["Dropped"]),
                c(&["Plan to Watch"]),
            ],
            histogram,
        })
    }
}

/// Whether a header is the 2020 `anime.csv` layout.
pub fn is_anime_header(header: &[String]) -> bool {
    let has = |n: &str| header.iter().any(|h| h.eq_ignore_ascii_case(n));
    has("MAL_ID") && has("Name") && (has("Genres") || has("Genders") || has("Members"))
}

/// Reads every anime of a 2020 `anime.csv` whose header was already recognised.
pub fn read_anime(
    mut table: Table<'_>,
    strict: bool,
    skips: &mut Skips,
    bytes: u64,
) -> Result<(Vec<Anime>, FileRead)> {
    let Some(cols) = Columns::find(&table) else {
        return Err(super::unknown_header(&table, ANIME_HEADER));
    };
    let mut unique = UniqueAnime::default();
    while let Some(row) = table.next_row() {
        let parsed = row.and_then(|row| parse_anime(&table, &cols, &row));
        match parsed {
            Ok((line, a)) => unique.push(&table, line, Some(cols.id), a, strict, skips)?,
            Err(e) => handle(e, strict, skips)?,
        }
    }
    let read = table.file_read(Layout::Mal2020.anime_layout(), bytes);
    Ok((unique.anime, read))
}

fn parse_anime(table: &Table, cols: &Columns, row: &Row) -> Result<(u64, Anime), RowError> {
    let err = |col: usize, reason: SkipReason, message: String| {
        table.error(row.line, Some(col), reason, message)
    };
    let field_err =
        |col: Option<usize>, message: String| err(col.unwrap_or(0), SkipReason::BadField, message);
    let count = |col: Option<usize>| -> Result<Option<u32>, RowError> {
        parse_count(row.text(col)).map_err(|m| field_err(col, m.to_string()))
    };

    let mal_id = parse_id(row.text(Some(cols.id)))
        .map_err(|m| err(cols.id, SkipReason::BadAnimeId, m.to_string()))?;
    let name = row.text(cols.name).trim().to_owned();
    let score =
        parse_score(row.text(cols.score)).map_err(|m| field_err(cols.score, m.to_string()))?;
    let aired = parse_aired(row.text(cols.aired));
    let premiered = parse_premiered(row.text(cols.premiered));
    let status = cols
        .status
        .iter()
        .map(|&c| count(c))
        .collect::<Result<Vec<_>, _>>()?;
    let status_counts = match status.as_slice() {
        [
            Some(watching),
            Some(completed),
            Some(on_hold),
            Some(dropped),
            Some(plan_to_watch),
        ] => Some(StatusCounts {
            watching: *watching,
            completed: *completed,
            on_hold: *on_hold,
            dropped: *dropped,
            plan_to_watch: *plan_to_watch,
        }),
        _ => None,
    };
    let mut histogram = [0u32; 10];
    let mut complete = true;
    for (slot, &col) in histogram.iter_mut().zip(&cols.histogram) {
        match count(col)? {
            Some(v) => *slot = v,
            None => complete = false,
        }
    }
    let mut anime = Anime {
        mal_id: MalId(mal_id),
        name,
        english_name: row.opt_text(cols.english),
        japanese_name: row.opt_text(cols.japanese),
        genres: parse_list(row.text(cols.genres)),
        kind: row.opt_text(cols.kind),
        episodes: count(cols.episodes)?,
        start_year: premiered.map(|p| p.1).or(aired.map(|a| a.from.year)),
        season: premiered.map(|p| p.0).or_else(|| {
            aired
                .and_then(|a| a.from.month)
                .and_then(|m| Season::of_month(m.into()))
        }),
        // Only "finished" can still be trusted of a 2020 row: what aired then may have ended.
        status: aired.filter(|a| a.ended).map(|_| AiringStatus::Finished),
        aired_from: aired.map(|a| a.from),
        aired_to: aired.and_then(|a| a.to),
        studios: parse_list(row.text(cols.studios)),
        producers: parse_list(row.text(cols.producers)),
        licensors: parse_list(row.text(cols.licensors)),
        source: row.opt_text(cols.source),
        minutes_per_episode: parse_duration(row.text(cols.duration)),
        age_rating: row.opt_text(cols.rating),
        adult: false,
        score,
        ranked: count(cols.ranked)?,
        popularity: count(cols.popularity)?,
        members: count(cols.members)?,
        favorites: count(cols.favorites)?,
        status_counts,
        score_histogram: complete.then_some(histogram),
        synopsis: None,
        ..Anime::default()
    };
    anime.update_adult();
    Ok((row.line, anime))
}

/// The header of `synopsis_repairs.csv`.
pub const REPAIRS_HEADER: &str = "MAL_ID,restored_prefix,sources,synopsis";

/// A synopsis whose first characters were lost upstream, restored: `synopsis` is `prefix`
/// followed by the text as `anime_with_synopsis.csv` has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repair {
    /// MyAnimeList id.
    pub mal_id: MalId,
    /// The restored first characters.
    pub prefix: String,
    /// The whole restored synopsis.
    pub synopsis: String,
    /// Line of the row, for messages.
    pub line: u64,
}

/// Reads `synopsis_repairs.csv` (`MAL_ID,restored_prefix,sources,synopsis`): the repairs in
/// file order, and what was read.
pub fn read_repairs(
    data: &[u8],
    file: &str,
    strict: bool,
    skips: &mut Skips,
) -> Result<(Vec<Repair>, FileRead)> {
    let mut table = Table::open(data, file, REPAIRS_HEADER)?;
    let (Some(id_col), Some(prefix_col), Some(text_col)) = (
        table.column(&["MAL_ID"]),
        table.column(&["restored_prefix"]),
        table.column(&["synopsis"]),
    ) else {
        return Err(super::unknown_header(&table, REPAIRS_HEADER));
    };
    let mut repairs = Vec::new();
    while let Some(row) = table.next_row() {
        let parsed = row.and_then(|row| {
            let mal_id = parse_id(row.text(Some(id_col))).map_err(|m| {
                table.error(
                    row.line,
                    Some(id_col),
                    SkipReason::BadAnimeId,
                    m.to_string(),
                )
            })?;
            Ok(Repair {
                mal_id: MalId(mal_id),
                prefix: row.text(Some(prefix_col)).to_owned(),
                synopsis: row.text(Some(text_col)).trim().to_owned(),
                line: row.line,
            })
        });
        match parsed {
            Ok(repair) => repairs.push(repair),
            Err(e) => handle(e, strict, skips)?,
        }
    }
    let read = table.file_read("mal2020/synopsis_repairs.csv", data.len() as u64);
    Ok((repairs, read))
}

/// Synopses read from `anime_with_synopsis.csv`: `(mal_id, synopsis)` in file order.
pub struct Synopses {
    /// The pairs read.
    pub entries: Vec<(MalId, String)>,
    /// What was read.
    pub read: FileRead,
}

/// Reads `anime_with_synopsis.csv`.
pub fn read_synopses(data: &[u8], file: &str, strict: bool, skips: &mut Skips) -> Result<Synopses> {
    let mut table = Table::open(data, file, SYNOPSIS_HEADER)?;
    let (Some(id_col), Some(text_col)) = (
        table.column(&["MAL_ID"]),
        table.column(&["sypnopsis", "synopsis"]),
    ) else {
        return Err(super::unknown_header(&table, SYNOPSIS_HEADER));
    };
    let mut entries = Vec::new();
    while let Some(row) = table.next_row() {
        let parsed = row.and_then(|row| {
            let id = parse_id(row.text(Some(id_col))).map_err(|m| {
                table.error(
                    row.line,
                    Some(id_col),
                    SkipReason::BadAnimeId,
                    m.to_string(),
                )
            })?;
            Ok((MalId(id), row.text(Some(text_col)).trim().to_owned()))
        });
        match parsed {
            Ok(entry) => entries.push(entry),
            Err(e) => handle(e, strict, skips)?,
        }
    }
    Ok(Synopses {
        entries,
        read: table.file_read("mal2020/anime_with_synopsis.csv", data.len() as u64),
    })
}
