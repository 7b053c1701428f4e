//! Schemas of bodies that have no Rust type of their own in the server: the MyAnimeList export
//! (read by a streaming XML reader, `anirec_data::formats::malxml`), its gzip file, and the
//! forms that upload either. These types exist only to be documented; their fields are what
//! the readers take; every element of an export may be left out, and a real export holds many
//! more, which the reader ignores. (They derive `Deserialize` only for the forms'
//! `deny_unknown_fields`, which the schema derive reads: a form holds its file and nothing else.)

use serde::Deserialize;
use utoipa::ToSchema;

use crate::upload::RatingsBody;

/// A MyAnimeList list export, as MyAnimeList's export page writes it (AniList and Kitsu write
/// the same). Elements not listed here are ignored. An `<anime>` entry whose fields cannot be
/// read (no id, a score outside 0-10, an unknown status) is skipped and counted in the answer's
/// `subject.skipped`, so the rest of the list is still used.
#[derive(Deserialize, ToSchema)]
#[schema(xml(name = "myanimelist"))]
pub struct MalExport {
    /// Who exported it, and what: `<user_name>` (any text) and `<user_export_type>` (1 for an
    /// anime list; a manga list, 2, is refused with 422). Read as text, as XML is, and not typed
    /// here: nothing else in it is read.
    #[schema(required = false)]
    pub myinfo: serde_json::Value,
    /// The list.
    #[schema(required = false, max_items = 20000)]
    pub anime: Vec<ExportEntry>,
}

/// One `<anime>` of an export. Its values are not typed here: one that cannot be read skips
/// the entry (counted in the answer), it does not refuse the export.
#[derive(Deserialize, ToSchema)]
pub struct ExportEntry {
    /// MyAnimeList anime id, a whole number (an entry without one is skipped).
    #[schema(required = false, value_type = Value)]
    pub series_animedb_id: u32,
    /// The title.
    #[schema(required = false)]
    pub series_title: String,
    /// Episodes watched, a whole number (otherwise the entry is skipped).
    #[schema(required = false, value_type = Value)]
    pub my_watched_episodes: u32,
    /// 0-10, 0 = not scored (otherwise the entry is skipped).
    #[schema(required = false, value_type = Value)]
    pub my_score: u8,
    /// Watching, Completed, On-Hold, Dropped or Plan to Watch, or their codes 1-4 and 6
    /// (otherwise the entry is skipped).
    #[schema(required = false, value_type = Value)]
    pub my_status: String,
}

/// The `.xml.gz` MyAnimeList's export page downloads.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct GzipExport(pub Vec<u8>);

/// A form upload of a fan's list.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingsForm {
    /// The file of a form upload: a ratings JSON document (as `application/json`), or a
    /// MyAnimeList list export (.xml or .xml.gz, see MalExport).
    pub file: RatingsBody,
}

/// A form upload of a MyAnimeList export.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportForm {
    /// The export (.xml or .xml.gz).
    pub file: MalExport,
}
