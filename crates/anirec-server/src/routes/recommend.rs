//! Recommendations: for a user the model knows (`GET /api/v1/users/{id}/recommendations`) and for
//! anyone from their ratings (`POST /api/v1/recommendations`, a JSON list or a MyAnimeList XML
//! export), folded into the model without retraining.

use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderName, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use anirec_data::formats::malxml;
use anirec_model::query::{Filters, Profile, Recommendation};

use super::{json, json_body};
use crate::multipart;
use crate::params::{FILTER_PARAMS, Params, parse_id, segment};
use crate::problem::Problem;
use crate::state::{AppState, Served};
use crate::views::RecommendationView;

/// Most ratings one request may carry (a long MyAnimeList list has a few thousand).
pub const MAX_RATINGS: usize = 20_000;

/// Parameters of the recommendation endpoints.
pub fn known_params() -> Vec<&'static str> {
    let mut known = vec!["k", "explain"];
    known.extend(FILTER_PARAMS);
    known
}

/// What a recommendation request asks for, from its query string.
pub struct Ask {
    /// How many.
    pub k: usize,
    /// Filters.
    pub filters: Filters,
    /// With reasons.
    pub explain: bool,
}

impl Ask {
    /// Reads `k`, the filters and `explain`.
    pub fn parse(query: Option<&str>, served: &Served) -> Result<Ask, Problem> {
        let params = Params::parse(query)?.only(&known_params())?;
        Ok(Ask {
            k: params.k()?,
            filters: params.filters(&served.vocabulary)?,
            explain: params.flag("explain")?,
        })
    }

    /// Ranks for a profile.
    pub fn run(&self, served: &Served, profile: &Profile) -> Vec<Recommendation> {
        served
            .bundle
            .recommend(profile, self.k, &self.filters, self.explain)
    }
}

/// Who the recommendations are for.
#[derive(Debug, Clone, Serialize)]
pub struct Subject {
    /// The known user they started from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<u32>,
    /// Ratings the profile holds.
    pub ratings: usize,
    /// Anime ids of the request that are not in the catalogue (ignored).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown_anime_ids: Vec<u32>,
}

#[derive(Serialize)]
struct Answer<'a> {
    model: &'a str,
    subject: &'a Subject,
    items: Vec<RecommendationView<'a>>,
}

/// The JSON answer of both endpoints.
fn answer<'a>(served: &'a Served, subject: &'a Subject, recs: &'a [Recommendation]) -> Answer<'a> {
    Answer {
        model: &served.version,
        subject,
        items: RecommendationView::list(&served.bundle, recs),
    }
}

/// The profile of a known user, or 404.
pub fn known_user(served: &Served, id: &str) -> Result<(u32, Profile), Problem> {
    let id = parse_id("id", id)?;
    let profile = served.bundle.known_user(id).ok_or_else(|| {
        Problem::not_found(format!(
            "user {id} is not in the model; POST their ratings to /api/v1/recommendations instead"
        ))
    })?;
    Ok((id, profile))
}

/// `GET /api/v1/users/{id}/recommendations?k=&explain=&filters`. Answers are cached per model
/// (`x-cache: hit` or `miss`).
pub async fn for_user(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
) -> Result<Response, Problem> {
    let served = state.ready()?;
    let id = segment(id)?;
    let key = format!("{id}?{}", q.as_deref().unwrap_or(""));
    if let Some(body) = served.cache.get(&key) {
        return Ok(cached_json(body, "hit"));
    }
    let ask = Ask::parse(q.as_deref(), &served)?;
    let (user_id, profile) = known_user(&served, &id)?;
    let recs = ask.run(&served, &profile);
    let subject = Subject {
        user_id: Some(user_id),
        ratings: profile.state.entries.len(),
        unknown_anime_ids: Vec::new(),
    };
    let body = json_body(&answer(&served, &subject, &recs))?;
    served.cache.put(key, body.clone());
    Ok(cached_json(body, "miss"))
}

fn cached_json(body: Bytes, cache: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (HeaderName::from_static("x-cache"), cache),
        ],
        body,
    )
        .into_response()
}

/// A JSON body: ratings, optionally on top of a known user's.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RatingsBody {
    /// Start from this known user's ratings (the body's ratings override theirs).
    user_id: Option<u32>,
    ratings: Vec<RatingEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RatingEntry {
    anime_id: u32,
    rating: i64,
}

/// Reads a request body into a profile: JSON `{"ratings": [{"anime_id", "rating"}], "user_id"?}`
/// or a MyAnimeList XML export (`application/xml`, `text/xml`, or the file of a
/// `multipart/form-data` upload). Errors: 413 over the size
/// limit, 415 another type, 422 unreadable, 404 an unknown `user_id`.
pub fn read_profile(
    served: &Served,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    limit: usize,
) -> Result<(Profile, Subject), Problem> {
    let body = body.map_err(|e| match e.status() {
        axum::http::StatusCode::PAYLOAD_TOO_LARGE => Problem::too_large(limit),
        _ => Problem::bad_request(format!("the request body could not be received: {e}")),
    })?;
    let full_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let kind = full_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let (base, entries) = match kind.as_str() {
        "application/json" | "" => read_json(&body)?,
        "application/xml" | "text/xml" => (None, read_mal_xml(&body)?),
        "multipart/form-data" => {
            let file = multipart::first_file(full_type, &body).map_err(|e| {
                Problem::unprocessable(format!("the form upload cannot be read: {e}"))
            })?;
            if file.trim_ascii_start().starts_with(b"{") {
                read_json(file)?
            } else {
                (None, read_mal_xml(file)?)
            }
        }
        other => {
            return Err(Problem::unsupported_media(format!(
                "content type {other:?} is not read here; send application/json ratings, or a \
                 MyAnimeList export as application/xml or a multipart/form-data file"
            )));
        }
    };
    // The known user's ratings first, then the body's: for an anime listed twice the fold-in
    // keeps the later entry.
    let mut merged: Vec<(u32, u8)> = Vec::new();
    if let Some(user) = base {
        let profile = served.bundle.known_user(user).ok_or_else(|| {
            Problem::not_found(format!("user {user} is not in the model")).with_param("user_id")
        })?;
        let ids = served.bundle.catalogue.anime();
        merged.extend(
            profile
                .state
                .entries
                .iter()
                .map(|&(a, r)| (ids[a as usize].mal_id, r)),
        );
    }
    merged.extend(entries);
    let (profile, unknown) = served.bundle.fold_in(&merged);
    let subject = Subject {
        user_id: base,
        ratings: profile.state.entries.len(),
        unknown_anime_ids: unknown,
    };
    Ok((profile, subject))
}

/// (MyAnimeList anime id, score 0-10) pairs.
type Entries = Vec<(u32, u8)>;

fn read_json(body: &[u8]) -> Result<(Option<u32>, Entries), Problem> {
    let parsed: RatingsBody = serde_json::from_slice(body).map_err(|e| {
        Problem::unprocessable(format!(
            "the body is not a ratings document ({e}); expected {{\"ratings\": [{{\"anime_id\": 1, \"rating\": 9}}]}}"
        ))
    })?;
    if parsed.ratings.len() > MAX_RATINGS {
        return Err(Problem::unprocessable(format!(
            "{} ratings sent; at most {MAX_RATINGS} are read",
            parsed.ratings.len()
        ))
        .with_param("ratings"));
    }
    let mut out = Vec::with_capacity(parsed.ratings.len());
    for (i, e) in parsed.ratings.iter().enumerate() {
        let Ok(r @ 0..=10) = u8::try_from(e.rating) else {
            return Err(Problem::unprocessable(format!(
                "ratings[{i}].rating is {}; ratings are 0 (watched, not scored) to 10",
                e.rating
            ))
            .with_param(format!("ratings[{i}].rating")));
        };
        out.push((e.anime_id, r));
    }
    Ok((parsed.user_id, out))
}

fn read_mal_xml(body: &[u8]) -> Result<Entries, Problem> {
    if body.starts_with(&[0x1f, 0x8b]) {
        return Err(Problem::unprocessable(
            "the upload is gzip-compressed; unpack the .xml.gz MyAnimeList export and send the .xml",
        ));
    }
    let list = malxml::parse(body, "upload", false).map_err(|e| {
        Problem::unprocessable(format!("the MyAnimeList export cannot be read: {e}"))
    })?;
    if list.entries.len() > MAX_RATINGS {
        return Err(Problem::unprocessable(format!(
            "the export lists {} anime; at most {MAX_RATINGS} are read",
            list.entries.len()
        )));
    }
    Ok(list.entries.iter().map(|e| (e.anime_id, e.score)).collect())
}

/// A fold-in request answered: the model it ran on, who it was for, the ranked anime.
pub struct FoldIn {
    /// The model (kept alive for the response even if another is swapped in meanwhile).
    pub served: Arc<Served>,
    /// Who the recommendations are for.
    pub subject: Subject,
    /// Best first.
    pub recs: Vec<Recommendation>,
}

/// Reads a ratings body and its query, folds the ratings in and ranks; `explain` forces the
/// reasons on.
pub fn fold_in(
    state: &AppState,
    query: Option<&str>,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    explain: bool,
) -> Result<FoldIn, Problem> {
    let served = state.ready()?;
    let mut ask = Ask::parse(query, &served)?;
    ask.explain |= explain;
    let (profile, subject) = read_profile(&served, headers, body, state.config().max_body_bytes)?;
    let recs = ask.run(&served, &profile);
    Ok(FoldIn {
        served,
        subject,
        recs,
    })
}

/// `POST /api/v1/recommendations?k=&explain=&filters` with ratings or a MyAnimeList export.
pub async fn for_ratings(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let f = fold_in(&state, q.as_deref(), &headers, body, false)?;
    Ok(json(&answer(&f.served, &f.subject, &f.recs)))
}
