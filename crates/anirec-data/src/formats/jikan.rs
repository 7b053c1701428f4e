//! Jikan v4 JSON (the unofficial MyAnimeList API, <https://docs.api.jikan.moe>): season pages
//! (`GET /v4/seasons/{year}/{season}`: `{"pagination": ..., "data": [anime, ...]}`) and single
//! anime (`GET /v4/anime/{id}`: `{"data": {...}}`), read into [`Anime`] records that the catalogue
//! merges over the Kaggle ones (see [`crate::catalogue::Catalogue::upsert`]).
//!
//! A value of the wrong type skips its anime (counted; `--strict` stops) with the file, the line
//! the anime starts on and the JSON path of the value: `2023-fall.json:812: data[3].score:
//! expected a number from 0 to 10 or null, found "high"`. A file that is not JSON, or whose
//! `data` is neither an anime nor a list of them, stops the read.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::handle;
use crate::air_date::AirDate;
use crate::anime::{AiringStatus, Anime, Season};
use crate::catalogue::parse_duration;
use crate::error::{DataError, Result, RowError};
use crate::files::{SideFolder, file_name, read_file};
use crate::formats::fields::{MAX_ID, found, shortened};
use crate::ids::MalId;
use crate::report::{FileRead, SkipReason, Skips};

/// The layout name of Jikan files in reports.
pub const LAYOUT: &str = "jikan/v4";

/// MyAnimeList's text for an anime with no synopsis yet (treated as none).
const NO_SYNOPSIS: &str = "No synopsis has been added for this series yet";

/// The anime of one Jikan file, in file order, and what was read.
pub struct JikanFile {
    /// The anime read (those with a bad value are skipped and counted).
    pub anime: Vec<Anime>,
    /// What was read.
    pub read: FileRead,
}

/// The outer object of both answers; `data` is kept raw so each anime's line can be found.
#[derive(Deserialize)]
struct Answer<'a> {
    #[serde(borrow)]
    data: &'a RawValue,
}

/// Reads one Jikan answer (a season page or one anime).
pub fn read(data: &[u8], file: &str, strict: bool, skips: &mut Skips) -> Result<JikanFile> {
    let fail = |message: String| DataError::Jikan {
        file: file.to_owned(),
        message,
    };
    let text = std::str::from_utf8(data).map_err(|e| {
        fail(format!(
            "not UTF-8 (byte {}): expected Jikan v4 JSON",
            e.valid_up_to()
        ))
    })?;
    let answer: Answer = serde_json::from_str(text).map_err(|e| {
        fail(format!(
            "line {} column {}: expected a Jikan v4 answer {{\"data\": ...}}: {e}",
            e.line(),
            e.column()
        ))
    })?;
    let raw = answer.data.get();
    let items: Vec<(String, &RawValue)> = if raw.starts_with('[') {
        let list: Vec<&RawValue> = serde_json::from_str(raw)
            .map_err(|e| fail(format!("data: expected a list of anime: {e}")))?;
        list.into_iter()
            .enumerate()
            .map(|(i, item)| (format!("data[{i}]"), item))
            .collect()
    } else if raw.starts_with('{') {
        vec![("data".to_owned(), answer.data)]
    } else {
        return Err(fail(format!(
            "data: expected an anime or a list of anime, found {}",
            json_text(raw)
        )));
    };
    let mut anime = Vec::with_capacity(items.len());
    let mut lines = LineCounter::new(text);
    for (path, item) in &items {
        let line = lines.line_at(item.get());
        let parsed = serde_json::from_str::<Value>(item.get())
            .map_err(|e| Bad {
                message: format!("{path}: {e}"),
                reason: SkipReason::BadField,
            })
            .and_then(|value| {
                parse_anime(&Node {
                    value: &value,
                    path: path.clone(),
                })
            });
        match parsed {
            Ok(a) => anime.push(a),
            Err(bad) => {
                let error = RowError {
                    file: file.to_owned(),
                    line,
                    column: None,
                    reason: bad.reason,
                    message: bad.message,
                };
                handle(error, strict, skips)?;
            }
        }
    }
    Ok(JikanFile {
        anime,
        read: FileRead {
            file: file.to_owned(),
            layout: LAYOUT.to_owned(),
            rows: items.len() as u64,
            bytes: data.len() as u64,
        },
    })
}

/// The folder of Jikan pages for a data folder: `jikan` beside it by default (when it holds a
/// `.json` file), the folder named, or none.
pub fn folder(source: &SideFolder, data_dir: &Path) -> Option<PathBuf> {
    source.folder(data_dir, "jikan", |dir| {
        files_under(dir).is_ok_and(|files| !files.is_empty())
    })
}

/// Every `.json` file under `dir` (and its subfolders), in path order.
pub fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(folder) = pending.pop() {
        let entries = std::fs::read_dir(&folder).map_err(|e| DataError::io(&folder, e))?;
        for entry in entries {
            let path = entry.map_err(|e| DataError::io(&folder, e))?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The anime of every Jikan file under a folder, files in path order (a later file's anime
/// updates an earlier one's), and the files read.
pub fn read_dir(
    dir: &Path,
    strict: bool,
    skips: &mut Skips,
) -> Result<(Vec<Anime>, Vec<FileRead>)> {
    let paths = files_under(dir)?;
    if paths.is_empty() {
        return Err(DataError::MissingFile {
            dir: dir.to_owned(),
            message: "no Jikan pages: expected .json files of Jikan v4 answers".to_owned(),
        });
    }
    let mut anime = Vec::new();
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        let page = read(&read_file(&path)?, &file_name(&path), strict, skips)?;
        anime.extend(page.anime);
        files.push(page.read);
    }
    Ok((anime, files))
}

/// Finds the 1-based line of positions in a text, moving forward only.
struct LineCounter<'a> {
    text: &'a str,
    offset: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        LineCounter {
            text,
            offset: 0,
            line: 1,
        }
    }

    /// The line `part` (a slice of the text, after every earlier one asked for) starts on.
    fn line_at(&mut self, part: &str) -> u64 {
        let at = (part.as_ptr() as usize)
            .saturating_sub(self.text.as_ptr() as usize)
            .clamp(self.offset, self.text.len());
        self.line +=
            memchr::memchr_iter(b'\n', &self.text.as_bytes()[self.offset..at]).count() as u64;
        self.offset = at;
        self.line
    }
}

/// A bad value: its JSON path, what was expected and what was found, and what it counts as.
struct Bad {
    message: String,
    reason: SkipReason,
}

/// A JSON value with the path it was reached by, for messages.
struct Node<'v> {
    value: &'v Value,
    path: String,
}

impl<'v> Node<'v> {
    /// The member `key` (null when absent).
    fn get(&self, key: &str) -> Node<'v> {
        Node {
            value: self.value.get(key).unwrap_or(&Value::Null),
            path: format!("{}.{key}", self.path),
        }
    }

    fn bad(&self, expected: &str) -> Bad {
        let shown = match self.value {
            Value::String(s) => found(s),
            other => json_text(&other.to_string()),
        };
        Bad {
            message: format!("{}: expected {expected}, found {shown}", self.path),
            reason: SkipReason::BadField,
        }
    }

    /// A string, none for null or a blank one.
    fn text(&self) -> Result<Option<String>, Bad> {
        match self.value {
            Value::Null => Ok(None),
            Value::String(s) if s.trim().is_empty() => Ok(None),
            Value::String(s) => Ok(Some(s.trim().to_owned())),
            _ => Err(self.bad("a string or null")),
        }
    }

    /// A whole non-negative number that fits 32 bits, none for null.
    fn count(&self) -> Result<Option<u32>, Bad> {
        match self.value {
            Value::Null => Ok(None),
            Value::Number(n) => n
                .as_u64()
                .and_then(|v| u32::try_from(v).ok())
                .map(Some)
                .ok_or_else(|| self.bad("a whole non-negative number or null")),
            _ => Err(self.bad("a whole non-negative number or null")),
        }
    }

    /// A list of strings (null or absent: empty).
    fn texts(&self) -> Result<Vec<String>, Bad> {
        self.list(|item| item.text())
    }

    /// A list of `{"name": ...}` objects, as Jikan writes studios, genres and the like.
    fn names(&self) -> Result<Vec<String>, Bad> {
        self.list(|item| match item.value {
            Value::Object(_) => item.get("name").text(),
            _ => Err(item.bad("an object with a name")),
        })
    }

    fn list(
        &self,
        each: impl Fn(&Node<'v>) -> Result<Option<String>, Bad>,
    ) -> Result<Vec<String>, Bad> {
        match self.value {
            Value::Null => Ok(Vec::new()),
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, value) in items.iter().enumerate() {
                    let item = Node {
                        value,
                        path: format!("{}[{i}]", self.path),
                    };
                    if let Some(text) = each(&item)?
                        && !out.contains(&text)
                    {
                        out.push(text);
                    }
                }
                Ok(out)
            }
            _ => Err(self.bad("a list or null")),
        }
    }
}

/// One Jikan anime object.
fn parse_anime(node: &Node) -> Result<Anime, Bad> {
    if !node.value.is_object() {
        return Err(node.bad("an anime object"));
    }
    let id_node = node.get("mal_id");
    let mal_id = match id_node.count() {
        Ok(Some(id)) if (1..=MAX_ID).contains(&id) => MalId(id),
        _ => {
            return Err(Bad {
                reason: SkipReason::BadAnimeId,
                ..id_node.bad(&format!("an anime id from 1 to {MAX_ID}"))
            });
        }
    };
    let default_title = node.get("titles").list(|t| match t.value {
        Value::Object(_) if t.get("type").value.as_str() == Some("Default") => {
            t.get("title").text()
        }
        Value::Object(_) => Ok(None),
        _ => Err(t.bad("an object with a type and a title")),
    })?;
    let Some(name) = node
        .get("title")
        .text()?
        .or(default_title.into_iter().next())
    else {
        return Err(node.get("title").bad("a title"));
    };
    let score_node = node.get("score");
    let score = match score_node.value {
        Value::Null => None,
        Value::Number(n) => match n.as_f64() {
            Some(v) if (0.0..=10.0).contains(&v) => Some(v as f32),
            _ => return Err(score_node.bad("a number from 0 to 10 or null")),
        },
        _ => return Err(score_node.bad("a number from 0 to 10 or null")),
    };
    let aired = node.get("aired");
    let date = |key: &str| -> Result<Option<AirDate>, Bad> {
        let at = aired.get(key);
        match at.text()? {
            None => Ok(None),
            Some(text) => AirDate::parse_iso(&text)
                .map(Some)
                .ok_or_else(|| at.bad("an ISO 8601 date or null")),
        }
    };
    let aired_from = date("from")?;
    let aired_to = date("to")?;
    let status_node = node.get("status");
    let status = match status_node.text()? {
        None => None,
        Some(text) => Some(AiringStatus::parse(&text).ok_or_else(|| {
            status_node.bad("Finished Airing, Currently Airing, Not yet aired or null")
        })?),
    };
    let season_node = node.get("season");
    let season = match season_node.text()? {
        None => None,
        Some(text) => Some(
            Season::parse(&text)
                .ok_or_else(|| season_node.bad("winter, spring, summer, fall or null"))?,
        ),
    };
    let year_node = node.get("year");
    let year = match year_node.count()? {
        None => None,
        Some(y) => Some(
            u16::try_from(y)
                .ok()
                .filter(|y| (1900..=2100).contains(y))
                .ok_or_else(|| year_node.bad("a year from 1900 to 2100 or null"))?,
        ),
    };
    let cover_node = node.get("images").get("jpg").get("image_url");
    let cover = match cover_node.text()? {
        Some(url) if !url.starts_with("https://") || url.contains(char::is_whitespace) => {
            return Err(cover_node.bad("an https URL or null"));
        }
        other => other,
    };
    let kind_genres = node.get("genres").names()?;
    let explicit = node.get("explicit_genres").names()?;
    let themes = node.get("themes").names()?;
    let demographics = node.get("demographics").names()?;
    let mut genres = Vec::new();
    for name in kind_genres
        .iter()
        .chain(&explicit)
        .chain(&themes)
        .chain(&demographics)
    {
        if !genres.contains(name) {
            genres.push(name.clone());
        }
    }
    let mut anime = Anime {
        mal_id,
        name,
        english_name: node.get("title_english").text()?,
        japanese_name: node.get("title_japanese").text()?,
        synonyms: node.get("title_synonyms").texts()?,
        genres,
        themes,
        demographics,
        kind: node.get("type").text()?,
        episodes: node.get("episodes").count()?,
        start_year: year.or(aired_from.map(|d| d.year)),
        season: season.or_else(|| {
            aired_from
                .and_then(|d| d.month)
                .and_then(|m| Season::of_month(m.into()))
        }),
        status,
        aired_from,
        aired_to,
        studios: node.get("studios").names()?,
        producers: node.get("producers").names()?,
        licensors: node.get("licensors").names()?,
        source: node.get("source").text()?,
        minutes_per_episode: node
            .get("duration")
            .text()?
            .and_then(|d| parse_duration(&d)),
        age_rating: node.get("rating").text()?,
        score,
        ranked: node.get("rank").count()?,
        popularity: node.get("popularity").count()?,
        members: node.get("members").count()?,
        favorites: node.get("favorites").count()?,
        synopsis: node
            .get("synopsis")
            .text()?
            .and_then(|s| clean_synopsis(&s)),
        cover,
        ..Anime::default()
    };
    anime.update_adult();
    Ok(anime)
}

/// A JSON value's text for a message, shortened like [`found`] but not quoted.
fn json_text(text: &str) -> String {
    match shortened(text) {
        None => text.to_owned(),
        Some(short) => short + "...",
    }
}

/// A synopsis without MyAnimeList's closing credit line (`[Written by MAL Rewrite]`); none for
/// MyAnimeList's "no synopsis yet" text.
fn clean_synopsis(text: &str) -> Option<String> {
    if text.starts_with(NO_SYNOPSIS) {
        return None;
    }
    let mut text = text.trim_end();
    if let Some((body, last)) = text.rsplit_once('\n') {
        let last = last.trim();
        if last.starts_with("[Written by") && last.ends_with(']') {
            text = body.trim_end();
        }
    }
    (!text.is_empty()).then(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(items: &str) -> String {
        format!("{{\"pagination\": {{\"has_next_page\": false}},\n\"data\": [\n{items}\n]}}")
    }

    const FRIEREN: &str = r#"{"mal_id": 52991, "title": "Sousou no Frieren",
 "images": {"jpg": {"image_url": "https://cdn.myanimelist.net/images/anime/1015/138006l.jpg"}},
 "title_english": "Frieren: Beyond Journey's End", "title_japanese": "葬送のフリーレン",
 "title_synonyms": ["Frieren at the Funeral"], "type": "TV", "source": "Manga", "episodes": 28,
 "status": "Finished Airing", "aired": {"from": "2023-09-29T00:00:00+00:00", "to": "2024-03-22T00:00:00+00:00"},
 "duration": "24 min per ep", "rating": "PG-13 - Teens 13 or older", "score": 9.29, "rank": 1,
 "popularity": 119, "members": 1288804, "favorites": 80859,
 "synopsis": "Frieren outlives her party.\n\n[Written by MAL Rewrite]", "season": "fall", "year": 2023,
 "studios": [{"type": "anime", "name": "Madhouse"}],
 "genres": [{"type": "anime", "name": "Adventure"}, {"type": "anime", "name": "Fantasy"}],
 "explicit_genres": [], "themes": [], "demographics": [{"type": "anime", "name": "Shounen"}]}"#;

    #[test]
    fn a_season_page_reads_every_field_a_fan_sees() {
        let mut skips = Skips::default();
        let file = read(
            page(FRIEREN).as_bytes(),
            "2023-fall.json",
            false,
            &mut skips,
        )
        .unwrap();
        assert_eq!(skips.total(), 0);
        let [a] = file.anime.as_slice() else {
            panic!("{:?}", file.anime)
        };
        assert_eq!(
            (a.mal_id, a.name.as_str()),
            (MalId(52991), "Sousou no Frieren")
        );
        assert_eq!(
            a.english_name.as_deref(),
            Some("Frieren: Beyond Journey's End")
        );
        assert_eq!(a.synonyms, ["Frieren at the Funeral"]);
        assert_eq!(a.genres, ["Adventure", "Fantasy", "Shounen"]);
        assert_eq!(a.demographics, ["Shounen"]);
        assert_eq!(a.status, Some(AiringStatus::Finished));
        assert_eq!(a.aired_from.unwrap().to_string(), "2023-09-29");
        assert_eq!(a.aired_to.unwrap().to_string(), "2024-03-22");
        assert_eq!((a.start_year, a.season), (Some(2023), Some(Season::Fall)));
        assert_eq!(a.minutes_per_episode, Some(24.0));
        assert_eq!(
            (a.score, a.members, a.episodes),
            (Some(9.29), Some(1288804), Some(28))
        );
        assert_eq!(a.synopsis.as_deref(), Some("Frieren outlives her party."));
        assert!(
            a.cover
                .as_deref()
                .unwrap()
                .starts_with("https://cdn.myanimelist.net/")
        );
        assert_eq!((file.read.rows, file.read.layout.as_str()), (1, LAYOUT));
    }

    #[test]
    fn a_single_anime_answer_reads_too() {
        let answer = format!("{{\"data\": {FRIEREN}}}");
        let file = read(answer.as_bytes(), "52991.json", true, &mut Skips::default()).unwrap();
        assert_eq!(file.anime.len(), 1);
    }

    #[test]
    fn a_bad_value_skips_its_anime_with_file_line_and_path() {
        let bad = FRIEREN.replace("\"score\": 9.29", "\"score\": \"high\"");
        let other = r#"{"mal_id": 1, "title": "Cowboy Bebop"}"#;
        let text = page(&format!("{other},\n{bad}"));
        let mut skips = Skips::default();
        let file = read(text.as_bytes(), "2023-fall.json", false, &mut skips).unwrap();
        assert_eq!(file.anime.len(), 1);
        assert_eq!(file.anime[0].mal_id, MalId(1));
        assert_eq!(skips.get(SkipReason::BadField), 1);
        assert_eq!(
            skips.examples,
            [
                "2023-fall.json:4: data[1].score: expected a number from 0 to 10 or null, found \"high\""
            ]
        );
        let strict = read(
            text.as_bytes(),
            "2023-fall.json",
            true,
            &mut Skips::default(),
        );
        let message = strict.err().unwrap().to_string();
        assert!(message.contains("data[1].score"), "{message}");
    }

    #[test]
    fn bad_ids_titles_lists_and_dates_are_named() {
        let cases = [
            (
                r#"{"mal_id": -3, "title": "x"}"#,
                "data[0].mal_id: expected an anime id",
            ),
            (
                r#"{"mal_id": 5}"#,
                "data[0].title: expected a title, found null",
            ),
            (
                r#"{"mal_id": 5, "title": "x", "genres": "Action"}"#,
                "data[0].genres: expected a list or null",
            ),
            (
                r#"{"mal_id": 5, "title": "x", "genres": [{"name": 4}]}"#,
                "data[0].genres[0].name: expected a string or null, found 4",
            ),
            (
                r#"{"mal_id": 5, "title": "x", "aired": {"from": "someday"}}"#,
                "data[0].aired.from: expected an ISO 8601 date",
            ),
            (
                r#"{"mal_id": 5, "title": "x", "status": "Cancelled"}"#,
                "data[0].status: expected Finished Airing",
            ),
            (
                r#"{"mal_id": 5, "title": "x", "images": {"jpg": {"image_url": "javascript:alert(1)"}}}"#,
                "data[0].images.jpg.image_url: expected an https URL",
            ),
            ("[1]", "data[0]: expected an anime object"),
        ];
        for (item, expected) in cases {
            let mut skips = Skips::default();
            let file = read(page(item).as_bytes(), "p.json", false, &mut skips).unwrap();
            assert!(file.anime.is_empty(), "{item}");
            assert_eq!(skips.total(), 1, "{item}");
            assert!(
                skips.examples[0].contains(expected),
                "{item}: {:?}",
                skips.examples
            );
        }
    }

    #[test]
    fn files_that_are_not_jikan_answers_stop_with_the_file_named() {
        for (text, expected) in [
            ("{\"data\": [", "p.json: line 1 column 10"),
            ("[1, 2]", "expected a Jikan v4 answer"),
            (
                "{\"data\": 3}",
                "data: expected an anime or a list of anime, found 3",
            ),
            ("{\"items\": []}", "missing field `data`"),
        ] {
            let err = read(text.as_bytes(), "p.json", false, &mut Skips::default())
                .err()
                .unwrap()
                .to_string();
            assert!(err.contains(expected), "{text}: {err}");
        }
        let err = read(b"\xff{}", "p.json", false, &mut Skips::default())
            .err()
            .unwrap();
        assert!(err.to_string().contains("not UTF-8"), "{err}");
    }

    #[test]
    fn placeholder_synopses_are_none_and_credits_are_dropped() {
        assert_eq!(
            clean_synopsis(
                "No synopsis has been added for this series yet. Click here to update this information."
            ),
            None
        );
        assert_eq!(
            clean_synopsis("A story.\n\n[Written by MAL Rewrite]").as_deref(),
            Some("A story.")
        );
        assert_eq!(
            clean_synopsis("A story. (Source: ANN)").as_deref(),
            Some("A story. (Source: ANN)")
        );
    }
}
