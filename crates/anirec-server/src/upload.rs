//! Request bodies that carry a fan's list — JSON ratings, a MyAnimeList export (XML as MAL
//! writes it, its `.xml.gz`, UTF-16) or a form upload of either — received with the limit of
//! their kind ([`Upload::receive`], on the async side: no parsing) and read into list entries
//! ([`Upload::read`], CPU work for the compute pool).
//!
//! Limits: a JSON body is at most `Config::max_body_bytes` (sent, and unpacked); an export at
//! most `Config::max_export_bytes` as sent (a gzip-compressed one fits ten times more) and
//! `malxml::MAX_XML_BYTES` unpacked; a list at most [`MAX_ENTRIES`] entries either way. Over a
//! limit the answer is 413 naming the limit (and, for bytes, how to fit in).

use axum::body::Body;
use axum::http::{HeaderMap, header};
use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::Deserialize;
use serde_json::Number;
use utoipa::ToSchema;

use anirec_data::formats::malxml::MalList;
use anirec_data::formats::{gzip, malxml};
use anirec_data::{DataError, MalId, Score, UserId, WatchStatus};
use anirec_model::list_use::FanList;
use anirec_model::query::Listed;

use crate::params::WholeU32;
use crate::problem::Problem;
use crate::state::Config;

/// Most entries one list may hold, JSON or export (a long MyAnimeList list has a few thousand).
pub const MAX_ENTRIES: usize = malxml::MAX_ENTRIES;

/// What a body holds, by its content type.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// `{"ratings": [...], "user_id"?}`.
    Json,
    /// A MyAnimeList export: `application/xml`, `text/xml`, `application/gzip`.
    Export,
    /// `multipart/form-data` with this content type (it names the boundary); once received,
    /// [`Kind::FormFile`].
    Form(String),
    /// The `file` field of a form: JSON ratings or an export, told apart by their first byte.
    FormFile,
}

/// A received body, not yet read.
#[derive(Debug)]
pub struct Upload {
    kind: Kind,
    /// Sent with `Content-Encoding: gzip`.
    gzip_encoded: bool,
    bytes: Bytes,
    /// Largest JSON body, unpacked.
    max_json: usize,
}

/// A JSON body: ratings, optionally on top of a known user's. Numbers are read as JSON Schema
/// reads an integer: `5` and `5.0` alike.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingsBody {
    /// Start from this known user's ratings (null or absent: from none); the body's override
    /// theirs.
    #[schema(value_type = Option<WholeU32>, inline)]
    user_id: Option<Number>,
    /// The ratings.
    #[schema(max_items = 20000)]
    ratings: Vec<RatingEntry>,
}

/// One rating of a [`RatingsBody`].
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingEntry {
    /// MyAnimeList anime id.
    #[schema(value_type = WholeU32)]
    anime_id: Number,
    /// 0 = watched, not scored.
    #[schema(value_type = Score)]
    rating: Number,
    /// The list status: dropped, on-hold and plan-to-watch entries count less and are never
    /// taken as liked.
    #[serde(default)]
    status: Option<WatchStatus>,
}

impl Upload {
    /// Receives a body with the limit of its kind. Errors: 415 a type or encoding not read
    /// here, 413 over the limit, 400 a body that could not be received.
    pub async fn receive(
        headers: &HeaderMap,
        body: Body,
        config: &Config,
    ) -> Result<Upload, Problem> {
        let header = |name| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
        };
        let full_type = header(header::CONTENT_TYPE);
        let base = full_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let kind = match base.as_str() {
            "application/json" | "" => Kind::Json,
            "application/xml" | "text/xml" | "application/gzip" | "application/x-gzip" => {
                Kind::Export
            }
            "multipart/form-data" => Kind::Form(full_type.to_owned()),
            other => {
                return Err(Problem::unsupported_media(format!(
                    "content type {other:?} is not read here; send application/json ratings, or \
                     a MyAnimeList export as application/xml, application/gzip (the .xml.gz) or \
                     a multipart/form-data file"
                )));
            }
        };
        let gzip_encoded = match header(header::CONTENT_ENCODING)
            .trim()
            .to_ascii_lowercase()
            .as_str()
        {
            "" | "identity" => false,
            "gzip" | "x-gzip" => true,
            other => {
                return Err(Problem::unsupported_media(format!(
                    "content encoding {other:?} is not read here; send the body as it is or \
                     gzip-compressed"
                )));
            }
        };
        let limit = match kind {
            Kind::Json => config.max_body_bytes,
            Kind::Export | Kind::Form(_) | Kind::FormFile => config.max_export_bytes,
        };
        let is_json = kind == Kind::Json;
        let too_large = || {
            if is_json {
                Problem::too_large(format!(
                    "the JSON body is over the limit of {limit} bytes; send a long list as a \
                 MyAnimeList export (application/xml or application/gzip, up to {} bytes)",
                    config.max_export_bytes
                ))
            } else {
                Problem::too_large(format!(
                    "the upload is over the limit of {limit} bytes for MyAnimeList exports; send \
                 the .xml.gz that MyAnimeList's export page downloads (about a tenth of the \
                 size), or ask the operator to raise --max-export-bytes"
                ))
            }
        };
        let declared = header(header::CONTENT_LENGTH).trim().parse::<u64>().ok();
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(too_large());
        }
        let (kind, bytes) = match kind {
            Kind::Form(content_type) => (
                Kind::FormFile,
                form_file(&content_type, body, limit, too_large).await?,
            ),
            kind => {
                let bytes = Limited::new(body, limit)
                    .collect()
                    .await
                    .map_err(|e| {
                        if e.downcast_ref::<LengthLimitError>().is_some() {
                            too_large()
                        } else {
                            Problem::bad_request(format!(
                                "the request body could not be received: {e}"
                            ))
                        }
                    })?
                    .to_bytes();
                (kind, bytes)
            }
        };
        Ok(Upload {
            kind,
            gzip_encoded,
            bytes,
            max_json: config.max_body_bytes,
        })
    }

    /// Reads the list. Errors: 413 a list over a limit (unpacked bytes, [`MAX_ENTRIES`]), 422 a
    /// body that cannot be read (naming what and where).
    pub fn read(self) -> Result<FanList, Problem> {
        match &self.kind {
            Kind::Json => {
                let unpacked;
                let body: &[u8] = if self.gzip_encoded {
                    unpacked =
                        gzip::unpack(&self.bytes, self.max_json, "body").map_err(data_problem)?;
                    &unpacked
                } else {
                    &self.bytes
                };
                read_json(body)
            }
            Kind::Export => read_export(&self.bytes),
            Kind::FormFile | Kind::Form(_) => {
                if self.bytes.trim_ascii_start().starts_with(b"{") {
                    read_json(&self.bytes)
                } else {
                    read_export(&self.bytes)
                }
            }
        }
    }
}

impl Upload {
    /// Reads a MyAnimeList export as it is, episodes and all (for importing into an account);
    /// a JSON body is refused (415): an import takes an export.
    pub fn read_export(self) -> Result<MalList, Problem> {
        if self.kind == Kind::Json || self.gzip_encoded && self.kind != Kind::Export {
            return Err(Problem::unsupported_media(
                "an import takes a MyAnimeList export: application/xml, application/gzip (the \
                 .xml.gz) or a multipart/form-data file",
            ));
        }
        malxml::read(&self.bytes, "upload", false).map_err(data_problem)
    }
}

/// The form field that carries the upload (`curl -F file=@animelist.xml.gz`, or the page's
/// file input).
pub const FILE_FIELD: &str = "file";

/// Receives a `multipart/form-data` body (with `multer`) and keeps the content of its one
/// field, [`FILE_FIELD`]; a form with other fields, two files or none is refused naming them,
/// a body over `limit` bytes with `too_large`.
async fn form_file(
    content_type: &str,
    body: Body,
    limit: usize,
    too_large: impl Fn() -> Problem,
) -> Result<Bytes, Problem> {
    let unreadable =
        |e: String| Problem::unprocessable(format!("the form upload cannot be read: {e}"));
    let boundary = multer::parse_boundary(content_type).map_err(|e| unreadable(e.to_string()))?;
    let constraints =
        multer::Constraints::new().size_limit(multer::SizeLimit::new().whole_stream(limit as u64));
    let mut form =
        multer::Multipart::with_constraints(body.into_data_stream(), boundary, constraints);
    let failed = |e: multer::Error| match e {
        multer::Error::StreamSizeExceeded { .. } => too_large(),
        other => unreadable(other.to_string()),
    };
    let mut file = None;
    while let Some(field) = form.next_field().await.map_err(failed)? {
        match field.name() {
            Some(FILE_FIELD) if file.is_none() => file = Some(field.bytes().await.map_err(failed)?),
            Some(FILE_FIELD) => {
                return Err(unreadable("the form has two file fields; send one".into()));
            }
            other => {
                return Err(unreadable(format!(
                    "the form has a field {:?} besides the file; send only the file, as field \
                     {FILE_FIELD:?}",
                    other.unwrap_or("")
                )));
            }
        }
    }
    file.ok_or_else(|| {
        unreadable(format!(
            "the form has no field {FILE_FIELD:?} with the upload"
        ))
    })
}

fn read_json(body: &[u8]) -> Result<FanList, Problem> {
    let parsed: RatingsBody = serde_json::from_slice(body).map_err(|e| {
        Problem::unprocessable(format!(
            "the body is not a ratings document ({e}); expected {{\"ratings\": [{{\"anime_id\": 1, \"rating\": 9}}]}}"
        ))
    })?;
    if parsed.ratings.len() > MAX_ENTRIES {
        return Err(Problem::too_large(format!(
            "{} ratings sent; at most {MAX_ENTRIES} are read",
            parsed.ratings.len()
        ))
        .with_param("ratings"));
    }
    let mut entries = Vec::with_capacity(parsed.ratings.len());
    for (i, e) in parsed.ratings.iter().enumerate() {
        let score = whole(&e.rating, 0..=u8::MAX)
            .and_then(Score::new)
            .ok_or_else(|| {
                Problem::unprocessable(format!(
                    "ratings[{i}].rating is {}; ratings are 0 (watched, not scored) to 10",
                    e.rating
                ))
                .with_param(format!("ratings[{i}].rating"))
            })?;
        let mal_id = whole(&e.anime_id, 0..=u32::MAX).ok_or_else(|| {
            Problem::unprocessable(format!(
                "ratings[{i}].anime_id is {}; expected a MyAnimeList id (a whole number)",
                e.anime_id
            ))
            .with_param(format!("ratings[{i}].anime_id"))
        })?;
        entries.push(Listed {
            mal_id: MalId(mal_id),
            score,
            status: e.status,
        });
    }
    let user_id = match &parsed.user_id {
        None => None,
        Some(n) => Some(whole(n, 0..=u32::MAX).map(UserId).ok_or_else(|| {
            Problem::unprocessable(format!(
                "user_id is {n}; expected a MyAnimeList user id (a whole number)"
            ))
            .with_param("user_id")
        })?),
    };
    Ok(FanList::of_entries(user_id, entries))
}

fn read_export(body: &[u8]) -> Result<FanList, Problem> {
    let list = malxml::read(body, "upload", false).map_err(data_problem)?;
    Ok(FanList::from_export(list))
}

/// A JSON number that is a whole number within `range` (`5` or `5.0`), as that type.
fn whole<T>(n: &Number, range: std::ops::RangeInclusive<T>) -> Option<T>
where
    T: TryFrom<i64> + PartialOrd,
{
    let v = n.as_i64().or_else(|| {
        n.as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
            .map(|f| f as i64)
    })?;
    T::try_from(v).ok().filter(|t| range.contains(t))
}

/// An export that cannot be used: 413 over a limit, 422 otherwise.
fn data_problem(e: DataError) -> Problem {
    match e {
        DataError::TooLarge { message, .. } => Problem::too_large(message),
        other => Problem::unprocessable(format!("the MyAnimeList export cannot be read: {other}")),
    }
}
