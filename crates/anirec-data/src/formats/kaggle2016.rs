//! The older (2016) Kaggle "Anime Recommendations Database" catalogue: `anime.csv` with
//! `anime_id,name,genre,type,episodes,rating,members`. Its `rating.csv` (where -1 means watched
//! but not rated) is read by [`super::ratings`].

use super::fields::{parse_count, parse_id, parse_score};
use super::table::Table;
use super::{Layout, UniqueAnime, handle};
use crate::catalogue::{Anime, is_missing, parse_list};
use crate::error::Result;
use crate::ids::MalId;
use crate::report::{FileRead, SkipReason, Skips};

/// The 2016 catalogue header.
pub const ANIME_HEADER: &str = "anime_id,name,genre,type,episodes,rating,members";

/// Whether a header is the 2016 catalogue layout.
pub fn is_anime_header(header: &[String]) -> bool {
    let has = |n: &str| header.iter().any(|h| h.eq_ignore_ascii_case(n));
    has("anime_id") && has("name") && has("genre")
}

/// Decodes the HTML entities the 2016 titles carry (`Gintama&#039;`, `&quot;`, `&amp;`).
fn decode_entities(text: &str) -> String {
    text.replace("&#039;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Reads every anime of a 2016 `anime.csv` whose header was already recognised.
pub fn read_anime(
    mut table: Table<'_>,
    strict: bool,
    skips: &mut Skips,
    bytes: u64,
) -> Result<(Vec<Anime>, FileRead)> {
    let c = |names: &[&str]| table.column(names);
    let (id, name, genre, kind, episodes, rating, members) = (
        c(&["anime_id"]),
        c(&["name"]),
        c(&["genre"]),
        c(&["type"]),
        c(&["episodes"]),
        c(&["rating"]),
        c(&["members"]),
    );
    let Some(id) = id else {
        return Err(super::unknown_header(&table, ANIME_HEADER));
    };
    let mut unique = UniqueAnime::default();
    while let Some(row) = table.next_row() {
        let parsed = row.and_then(|row| {
            let bad = |col: Option<usize>, reason, m| table.error(row.line, col, reason, m);
            let mal_id = parse_id(row.text(Some(id)))
                .map_err(|m| bad(Some(id), SkipReason::BadAnimeId, m.to_string()))?;
            let kind_text = row.text(kind).trim();
            let mut a = Anime {
                mal_id: MalId(mal_id),
                name: decode_entities(row.text(name).trim()),
                genres: parse_list(row.text(genre)),
                kind: (!is_missing(kind_text)).then(|| kind_text.to_owned()),
                episodes: parse_count(row.text(episodes))
                    .map_err(|m| bad(episodes, SkipReason::BadField, m.to_string()))?,
                score: parse_score(row.text(rating))
                    .map_err(|m| bad(rating, SkipReason::BadField, m.to_string()))?,
                members: parse_count(row.text(members))
                    .map_err(|m| bad(members, SkipReason::BadField, m.to_string()))?,
                ..Anime::default()
            };
            a.update_adult();
            Ok((row.line, a))
        });
        match parsed {
            Ok((line, a)) => unique.push(&table, line, Some(id), a, strict, skips)?,
            Err(e) => handle(e, strict, skips)?,
        }
    }
    let read = table.file_read(Layout::Kaggle2016.anime_layout(), bytes);
    Ok((unique.anime, read))
}
