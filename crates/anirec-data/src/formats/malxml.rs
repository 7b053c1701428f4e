//! A MyAnimeList list export (XML): one user's list, the way a fan brings their history.
//!
//! ```xml
//! <myanimelist>
//!   <myinfo><user_name>fan</user_name>...</myinfo>
//!   <anime>
//!     <series_animedb_id>1</series_animedb_id>
//!     <series_title><![CDATA[Cowboy Bebop]]></series_title>
//!     <my_watched_episodes>26</my_watched_episodes>
//!     <my_score>9</my_score>
//!     <my_status>Completed</my_status>
//!   </anime>
//! </myanimelist>
//! ```
//!
//! [`read`] takes an export as MyAnimeList hands it out — the `.xml.gz` of its export page or the
//! plain `.xml`, in UTF-8 or (as some Windows tools write it) UTF-16 — and [`parse`] reads the
//! XML. AniList and Kitsu export the same format.
//!
//! Uploads are untrusted: the size (compressed and unpacked), the number of entries and the
//! nesting depth are capped, a `<!DOCTYPE>` is refused (it is where entity definitions, and so
//! "billion laughs" expansion, would live), and only XML's five predefined entities and numeric
//! character references are resolved. The read is linear in the input. Structural errors stop
//! the read with the line; an entry with a bad value is skipped and counted (or stops the read
//! in strict mode). A manga list is refused with a message saying so.

use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;
use std::borrow::Cow;

use super::fields::{found, parse_id};
use super::gzip;
use super::handle;
use crate::error::{DataError, Result, RowError};
use crate::ids::MalId;
use crate::report::{SkipReason, Skips};
use crate::score::Score;
use crate::watch_status::WatchStatus;

/// Largest export accepted (a list of every anime MyAnimeList has is far smaller).
pub const MAX_XML_BYTES: usize = 32 << 20;
/// Deepest element nesting accepted (a real export nests 3 deep).
pub const MAX_DEPTH: usize = 16;
/// Most `<anime>` entries an export may list (the longest real lists hold a few thousand; all
/// of MyAnimeList is about 25,000 anime).
pub const MAX_ENTRIES: usize = 20_000;
/// `<user_export_type>` of an anime list.
const ANIME_EXPORT: &str = "1";
/// `<user_export_type>` of a manga list.
const MANGA_EXPORT: &str = "2";
/// What a manga list is told.
const MANGA_MESSAGE: &str =
    "this is a manga list; export your anime list from MyAnimeList (Export > Anime List)";

/// One anime of a list export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportEntry {
    /// MyAnimeList id.
    pub anime_id: MalId,
    /// Title as exported.
    pub title: Option<String>,
    /// The fan's score.
    pub score: Score,
    /// List status.
    pub status: Option<WatchStatus>,
    /// Episodes watched.
    pub watched_episodes: u32,
    /// `<update_on_import>`: whether the entry replaces one already on the list (1, or
    /// absent) or only fills a gap (0: the list's own entry wins).
    pub update_on_import: bool,
    /// Line of the entry's `<anime>` tag.
    pub line: u64,
}

/// A parsed list export.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MalList {
    /// `<user_name>` of `<myinfo>`.
    pub user_name: Option<String>,
    /// The entries, in file order.
    pub entries: Vec<ExportEntry>,
    /// Entries skipped, by reason.
    pub skipped: Skips,
}

/// What an `<anime>` element with no child elements is told (it is no entry at all, unlike one
/// with a missing or bad value, which is skipped and counted).
const EMPTY_ENTRY: &str =
    "an empty <anime> element: an entry holds <series_animedb_id>, <my_score>, ...";

/// Fields of the `<anime>` element being read.
#[derive(Default)]
struct Pending {
    line: u64,
    /// Child elements seen, known or not.
    children: usize,
    id: Option<String>,
    title: Option<String>,
    score: Option<String>,
    status: Option<String>,
    episodes: Option<String>,
    update: Option<String>,
}

/// Writes a list as MyAnimeList's own export writes it (UTF-8, CRLF lines, the same elements, a
/// `<myinfo>` with the totals, each entry's `update_on_import`: 1 for a stored list's export,
/// so MyAnimeList's importer applies every entry), so `parse(write(list))` gives the list back and MyAnimeList, AniList and Kitsu import
/// it. Entries without a status are written as plan to watch.
pub fn write(user_name: &str, entries: &[ExportEntry]) -> String {
    let status_of = |e: &ExportEntry| e.status.unwrap_or(WatchStatus::PlanToWatch);
    let count = |s: WatchStatus| entries.iter().filter(|e| status_of(e) == s).count();
    let mut out = String::with_capacity(200 + entries.len() * 400);
    let mut line = |text: &str| {
        out.push_str(text);
        out.push_str("\r\n");
    };
    line("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>");
    line("<myanimelist>");
    line("\t<myinfo>");
    line(&format!("\t\t<user_name>{}</user_name>", escape(user_name)));
    line(&format!(
        "\t\t<user_export_type>{ANIME_EXPORT}</user_export_type>"
    ));
    line(&format!(
        "\t\t<user_total_anime>{}</user_total_anime>",
        entries.len()
    ));
    for (tag, status) in [
        ("watching", WatchStatus::Watching),
        ("completed", WatchStatus::Completed),
        ("onhold", WatchStatus::OnHold),
        ("dropped", WatchStatus::Dropped),
        ("plantowatch", WatchStatus::PlanToWatch),
    ] {
        line(&format!(
            "\t\t<user_total_{tag}>{}</user_total_{tag}>",
            count(status)
        ));
    }
    line("\t</myinfo>");
    for e in entries {
        line("\t<anime>");
        line(&format!(
            "\t\t<series_animedb_id>{}</series_animedb_id>",
            e.anime_id
        ));
        line(&format!(
            "\t\t<series_title>{}</series_title>",
            cdata(e.title.as_deref().unwrap_or(""))
        ));
        line(&format!(
            "\t\t<my_watched_episodes>{}</my_watched_episodes>",
            e.watched_episodes
        ));
        line("\t\t<my_start_date>0000-00-00</my_start_date>");
        line("\t\t<my_finish_date>0000-00-00</my_finish_date>");
        line(&format!("\t\t<my_score>{}</my_score>", e.score.code()));
        line(&format!(
            "\t\t<my_status>{}</my_status>",
            status_of(e).words()
        ));
        line("\t\t<my_times_watched>0</my_times_watched>");
        line(&format!(
            "\t\t<update_on_import>{}</update_on_import>",
            u8::from(e.update_on_import)
        ));
        line("\t</anime>");
    }
    line("</myanimelist>");
    out
}

/// Text as XML character data.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Text in a CDATA section (a `]]>` inside is split across two sections).
fn cdata(text: &str) -> String {
    format!("<![CDATA[{}]]>", text.replace("]]>", "]]]]><![CDATA[>"))
}

/// Reads an export as it was downloaded: gzip-compressed or plain, UTF-8 or UTF-16 (see
/// [`decode`]), then [`parse`]s it. `file` names it in messages.
pub fn read(raw: &[u8], file: &str, strict: bool) -> Result<MalList> {
    parse(&decode(raw, file)?, file, strict)
}

/// The UTF-8 XML of an export: unpacks gzip once (at most [`MAX_XML_BYTES`] unpacked, so a
/// compression bomb stops early; gzip inside gzip is refused, so nesting cannot multiply the
/// work), converts UTF-16 (with a byte-order mark, or recognised by its first `<`) and drops a
/// UTF-8 byte-order mark. Anything else is passed on as it is.
pub fn decode<'a>(raw: &'a [u8], file: &str) -> Result<Cow<'a, [u8]>> {
    if !gzip::is_gzip(raw) {
        return decode_text(raw, file);
    }
    let unpacked = gzip::unpack(raw, MAX_XML_BYTES, file)?;
    if gzip::is_gzip(&unpacked) {
        return Err(DataError::Xml {
            file: file.to_owned(),
            line: 1,
            message: "the export is gzip-compressed twice; unpack it once and send that".into(),
        });
    }
    Ok(Cow::Owned(decode_text(&unpacked, file)?.into_owned()))
}

/// The UTF-8 text of an export in one of the encodings [`decode`] reads.
fn decode_text<'a>(raw: &'a [u8], file: &str) -> Result<Cow<'a, [u8]>> {
    Ok(match raw {
        [0xef, 0xbb, 0xbf, rest @ ..] => Cow::Borrowed(rest),
        [0xff, 0xfe, rest @ ..] => Cow::Owned(utf16(rest, u16::from_le_bytes, file)?),
        [0xfe, 0xff, rest @ ..] => Cow::Owned(utf16(rest, u16::from_be_bytes, file)?),
        [b'<', 0, ..] => Cow::Owned(utf16(raw, u16::from_le_bytes, file)?),
        [0, b'<', ..] => Cow::Owned(utf16(raw, u16::from_be_bytes, file)?),
        _ => Cow::Borrowed(raw),
    })
}

/// UTF-16 code units (of the given byte order) as UTF-8.
fn utf16(raw: &[u8], unit: fn([u8; 2]) -> u16, file: &str) -> Result<Vec<u8>> {
    let fail = |message: String| DataError::Xml {
        file: file.to_owned(),
        line: 1,
        message,
    };
    if !raw.len().is_multiple_of(2) {
        return Err(fail(format!(
            "the export looks like UTF-16 but has an odd number of bytes ({}); save it as UTF-8",
            raw.len()
        )));
    }
    let units = raw.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    let mut text = String::with_capacity(raw.len() / 2);
    for (i, ch) in char::decode_utf16(units).enumerate() {
        text.push(ch.map_err(|_| {
            fail(format!(
                "the export is UTF-16 with an unpaired surrogate at byte {}; save it as UTF-8",
                2 * i
            ))
        })?);
    }
    Ok(text.into_bytes())
}

/// Line numbers of byte positions, counted incrementally: positions asked for in increasing
/// order cost one pass over the data in all.
struct Lines<'a> {
    data: &'a [u8],
    pos: usize,
    line: u64,
}

impl Lines<'_> {
    /// The 1-based line of byte `pos`.
    fn at(&mut self, pos: u64) -> u64 {
        let pos = (pos as usize).min(self.data.len());
        if pos < self.pos {
            (self.pos, self.line) = (0, 1);
        }
        self.line += memchr::memchr_iter(b'\n', &self.data[self.pos..pos]).count() as u64;
        self.pos = pos;
        self.line
    }
}

/// Parses a list export (UTF-8 XML; see [`read`] for a file as downloaded). `file` names it in
/// messages.
pub fn parse(data: &[u8], file: &str, strict: bool) -> Result<MalList> {
    let mut lines = Lines {
        data,
        pos: 0,
        line: 1,
    };
    let fail = |line: u64, message: String| DataError::Xml {
        file: file.to_owned(),
        line,
        message,
    };
    if data.len() > MAX_XML_BYTES {
        return Err(DataError::TooLarge {
            file: file.to_owned(),
            message: format!(
                "export too large: {} bytes, at most {MAX_XML_BYTES}",
                data.len()
            ),
        });
    }
    let mut listed = 0usize;
    // Text is not trimmed per event: spaces around `&amp;` belong to the value.
    let mut reader = Reader::from_reader(data);
    let mut list = MalList::default();
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut pending: Option<Pending> = None;
    let mut saw_root = false;
    let mut saw_myinfo = false;
    loop {
        // Where the next event starts, for messages: past the whitespace before it.
        let pos = reader.buffer_position();
        let pos = pos
            + data[(pos as usize).min(data.len())..]
                .iter()
                .take_while(|b| b.is_ascii_whitespace())
                .count() as u64;
        let event = reader.read_event().map_err(|e| {
            fail(
                lines.at(reader.error_position()),
                format!("malformed XML: {e}"),
            )
        })?;
        match event {
            Event::DocType(_) => {
                return Err(fail(
                    lines.at(pos),
                    "DOCTYPE declarations are not allowed (they can define entities that expand without bound)".into(),
                ));
            }
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                if path.is_empty() {
                    if saw_root {
                        return Err(fail(
                            lines.at(pos),
                            format!("a second root element <{name}> after </myanimelist>"),
                        ));
                    }
                    if name != "myanimelist" {
                        return Err(fail(
                            lines.at(pos),
                            format!("expected a <myanimelist> root element, found <{name}>"),
                        ));
                    }
                    saw_root = true;
                }
                if path.len() >= MAX_DEPTH {
                    return Err(fail(
                        lines.at(pos),
                        format!("elements nested deeper than {MAX_DEPTH}"),
                    ));
                }
                if path.len() == 1 && name == "manga" {
                    return Err(fail(lines.at(pos), MANGA_MESSAGE.into()));
                }
                saw_myinfo |= path.len() == 1 && name == "myinfo";
                if path.len() == 1 && name == "anime" {
                    listed += 1;
                    if listed > MAX_ENTRIES {
                        return Err(DataError::TooLarge {
                            file: file.to_owned(),
                            message: format!(
                                "the export lists more than {MAX_ENTRIES} anime; at most \
                                 {MAX_ENTRIES} are read"
                            ),
                        });
                    }
                    pending = Some(Pending {
                        line: lines.at(pos),
                        ..Pending::default()
                    });
                }
                if path.len() == 2
                    && path[1] == "anime"
                    && let Some(p) = pending.as_mut()
                {
                    p.children += 1;
                }
                path.push(name);
                text.clear();
            }
            Event::Empty(e) if path.len() == 1 && e.name().as_ref() == b"anime" => {
                return Err(fail(lines.at(pos), EMPTY_ENTRY.into()));
            }
            Event::Empty(e) if path.len() == 1 && e.name().as_ref() == b"manga" => {
                return Err(fail(lines.at(pos), MANGA_MESSAGE.into()));
            }
            Event::Empty(_) if path.len() == 2 && path[1] == "anime" => {
                if let Some(p) = pending.as_mut() {
                    p.children += 1;
                }
            }
            Event::Empty(e) if path.is_empty() => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                return Err(fail(
                    lines.at(pos),
                    format!("expected a <myanimelist> root element, found <{name}/>"),
                ));
            }
            Event::Text(t) if path.is_empty() && !t.iter().all(u8::is_ascii_whitespace) => {
                let message = if saw_root {
                    "text after the </myanimelist> root element"
                } else {
                    "expected a <myanimelist> root element, found text"
                };
                return Err(fail(lines.at(pos), message.into()));
            }
            Event::Text(t) if is_container(&path) && !t.iter().all(u8::is_ascii_whitespace) => {
                let open = path.last().map_or("", String::as_str);
                return Err(fail(
                    lines.at(pos),
                    format!("text directly inside <{open}>: expected only elements there"),
                ));
            }
            Event::Text(t) => text.push_str(
                &t.decode()
                    .map_err(|e| fail(lines.at(pos), format!("bad text: {e}")))?,
            ),
            Event::CData(t) => text.push_str(&String::from_utf8_lossy(&t)),
            Event::GeneralRef(r) => {
                let name = r
                    .decode()
                    .map_err(|e| fail(lines.at(pos), format!("bad reference: {e}")))?;
                if let Some(ch) = r.resolve_char_ref().map_err(|e| {
                    fail(
                        lines.at(pos),
                        format!("bad character reference &{name};: {e}"),
                    )
                })? {
                    text.push(ch);
                } else if let Some(s) = resolve_predefined_entity(&name) {
                    text.push_str(s);
                } else {
                    return Err(fail(
                        lines.at(pos),
                        format!(
                            "unknown entity &{name}; (only XML's predefined entities are allowed)"
                        ),
                    ));
                }
            }
            Event::End(_) => {
                let name = path.pop().unwrap_or_default();
                let value = std::mem::take(&mut text).trim().to_owned();
                match (path.len(), name.as_str()) {
                    (1, "anime") => {
                        if let Some(p) = pending.take() {
                            if p.children == 0 {
                                return Err(fail(p.line, EMPTY_ENTRY.into()));
                            }
                            match entry(p, file) {
                                Ok(e) => list.entries.push(e),
                                Err(e) => handle(e, strict, &mut list.skipped)?,
                            }
                        }
                    }
                    (2, field) if path[1] == "anime" => {
                        if let Some(p) = pending.as_mut() {
                            let slot = match field {
                                "series_animedb_id" => &mut p.id,
                                "series_title" => &mut p.title,
                                "my_score" => &mut p.score,
                                "my_status" => &mut p.status,
                                "my_watched_episodes" => &mut p.episodes,
                                "update_on_import" => &mut p.update,
                                _ => continue,
                            };
                            *slot = Some(value);
                        }
                    }
                    (2, "user_name") if path[1] == "myinfo" => list.user_name = Some(value),
                    (2, "user_export_type") if path[1] == "myinfo" => match value.as_str() {
                        ANIME_EXPORT => {}
                        MANGA_EXPORT => return Err(fail(lines.at(pos), MANGA_MESSAGE.into())),
                        other => {
                            return Err(fail(
                                lines.at(pos),
                                format!(
                                    "<user_export_type> must be {ANIME_EXPORT} (an anime list), \
                                     found {}",
                                    found(other)
                                ),
                            ));
                        }
                    },
                    _ => {}
                }
            }
            Event::Eof => {
                if let Some(open) = path.last() {
                    return Err(fail(
                        lines.at(data.len() as u64),
                        format!("unexpected end of file: <{open}> is not closed"),
                    ));
                }
                if !saw_root {
                    return Err(fail(
                        1,
                        "empty export: expected a <myanimelist> root element".into(),
                    ));
                }
                // MyAnimeList, AniList and Kitsu write <myinfo> even for an empty list.
                if !saw_myinfo && listed == 0 {
                    return Err(fail(
                        lines.at(data.len() as u64),
                        "<myanimelist> holds neither <myinfo> nor an <anime> entry: not a list export".into(),
                    ));
                }
                return Ok(list);
            }
            _ => {}
        }
    }
}

/// Whether the element open at `path` holds elements only: the root, `<myinfo>` and `<anime>`.
fn is_container(path: &[String]) -> bool {
    path.len() == 1 || (path.len() == 2 && matches!(path[1].as_str(), "myinfo" | "anime"))
}

/// Validates one `<anime>` element.
fn entry(p: Pending, file: &str) -> Result<ExportEntry, RowError> {
    let err = |column: &str, reason, message| RowError {
        file: file.to_owned(),
        line: p.line,
        column: Some(column.to_owned()),
        reason,
        message,
    };
    let anime_id = match &p.id {
        Some(id) => parse_id(id)
            .map_err(|m| err("series_animedb_id", SkipReason::BadAnimeId, m.to_string()))?,
        None => {
            return Err(err(
                "series_animedb_id",
                SkipReason::BadAnimeId,
                "missing: every <anime> needs a <series_animedb_id>".into(),
            ));
        }
    };
    let score = match p.score.as_deref().map(str::trim) {
        None | Some("") => Score::NONE,
        Some(s) => match s.parse::<u8>().ok().and_then(Score::new) {
            Some(score) => score,
            None => {
                return Err(err(
                    "my_score",
                    SkipReason::BadRating,
                    format!(
                        "expected an integer 0-10 (0 = not scored), found {}",
                        found(s)
                    ),
                ));
            }
        },
    };
    let status = match p.status.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => Some(WatchStatus::parse(s).ok_or_else(|| {
            err(
                "my_status",
                SkipReason::BadStatus,
                format!(
                    "expected Watching, Completed, On-Hold, Dropped or Plan to Watch, found {}",
                    found(s)
                ),
            )
        })?),
    };
    let watched_episodes = match p.episodes.as_deref().map(str::trim) {
        None | Some("") => 0,
        Some(s) => s.parse::<u32>().map_err(|_| {
            err(
                "my_watched_episodes",
                SkipReason::BadField,
                format!("expected a whole number, found {}", found(s)),
            )
        })?,
    };
    let update_on_import = match p.update.as_deref().map(str::trim) {
        None | Some("") | Some("1") => true,
        Some("0") => false,
        Some(s) => {
            return Err(err(
                "update_on_import",
                SkipReason::BadField,
                format!(
                    "expected 1 (replace the list's entry) or 0 (keep it), found {}",
                    found(s)
                ),
            ));
        }
    };
    Ok(ExportEntry {
        anime_id: MalId(anime_id),
        title: p.title.filter(|t| !t.is_empty()),
        score,
        status,
        watched_episodes,
        update_on_import,
        line: p.line,
    })
}
