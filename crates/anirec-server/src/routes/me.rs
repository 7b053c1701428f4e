//! A signed-in fan's list and what it powers: `GET/PUT/DELETE /api/v1/me/list[/{anime_id}]`,
//! import of a MyAnimeList export and export back (MyAnimeList XML or CSV), "not interested"
//! (`/api/v1/me/not-interested/{anime_id}`), recommendations folded in from the stored list at
//! request time (`/api/v1/me/recommendations`) and the plan-to-watch list ranked by predicted fit
//! (`/api/v1/me/plan-to-watch`). The list is read from the database on the async side; fold-in
//! and ranking run in the compute pool.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use anirec_data::formats::malxml;
use anirec_data::{MalId, Score, WatchStatus};
use anirec_store::list::title_of;
use anirec_store::{AccountId, ListEntry, ListTitle, StoredEntry};

use super::json;
use crate::answers::ask::{
    Ask, AskParams, ContinueParams, ContinueRow, Recommendations, answer_body, continue_response,
};
use crate::answers::fan::{continue_shown, plan_ranked, recommend_for};
use crate::answers::profiles::{Subject, profile, taste};
use crate::auth::{Signed, store_problem};
use crate::json_body::SmallJson;
use crate::openapi::responses::{
    BadParam, NotFoundForAccount, PROBLEM_JSON, SignedIn, SignedInChange, Unsupported,
};
use crate::openapi::schemas::{ExportForm, GzipExport, MalExport};
use crate::params::{K, PathId, Query, Takes, WholeU32, one_of, value_schema};
use crate::problem::Problem;
use crate::state::AppState;
use crate::upload::Upload;
use crate::views::PlannedView;

/// One list entry as a client sends it (`PUT /api/v1/me/list/{anime_id}`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ListEntryBody)]
pub struct EntryBody {
    /// Optional; when given, the id in the path.
    #[serde(default)]
    #[schema(value_type = Option<WholeU32>, inline)]
    anime_id: Option<MalId>,
    /// 0 (not scored) to 10.
    #[serde(default)]
    score: Score,
    /// `watching`, `completed`, `on_hold`, `dropped` or `plan_to_watch`.
    status: WatchStatus,
    /// Episodes watched.
    #[serde(default)]
    #[schema(value_type = WholeU32)]
    episodes: u32,
}

/// A list entry as the API shows it: the entry, when it changed, and the anime's title when the
/// model's catalogue has it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ListEntry)]
struct EntryView {
    #[serde(flatten)]
    stored: StoredEntry,
    /// The anime's title: the served catalogue's, else the one its import gave.
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    /// Whether the served catalogue has the anime (an entry it lacks is kept, shown and exported
    /// as imported, and counts for recommendations once a catalogue update brings it in).
    in_catalogue: bool,
}

/// Views of stored entries, with titles from the served catalogue (when a model is loaded), else
/// from the imports that kept them (`titles`, by anime id).
fn views(state: &AppState, list: Vec<StoredEntry>, titles: &[ListTitle]) -> Vec<EntryView> {
    let served = state.model();
    list.into_iter()
        .map(|stored| {
            let id = stored.entry.anime_id;
            let known = served.as_ref().and_then(|s| {
                let c = &s.bundle.catalogue;
                c.index_of(id).map(|a| c[a].name.clone())
            });
            let imported = || title_of(titles, id).map(str::to_owned);
            EntryView {
                in_catalogue: known.is_some(),
                title: known.or_else(imported),
                stored,
            }
        })
        .collect()
}

/// An account's list and the titles its imports kept, read together.
async fn list_and_titles(
    state: &AppState,
    account: AccountId,
) -> Result<(Vec<StoredEntry>, Vec<ListTitle>), Problem> {
    let store = state.accounts()?;
    let (list, titles) = tokio::join!(store.list(account), store.titles(account));
    Ok((list.map_err(store_problem)?, titles.map_err(store_problem)?))
}

/// The query of `GET /api/v1/me/list`: an optional status.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only entries with this status.
    status: Option<WatchStatus>,
}

impl Takes for ListParams {}

/// A fan's list.
#[derive(Serialize, ToSchema)]
#[schema(as = ListEntries)]
struct ListAnswer {
    /// The entries, by anime id.
    items: Vec<EntryView>,
}

/// `GET /api/v1/me/list?status=`: the signed-in fan's list, by anime id.
#[utoipa::path(
    get,
    path = "/api/v1/me/list",
    operation_id = "myList",
    summary = "The signed-in fan's anime list, by anime id.",
    security(("apiToken" = []), ("sessionCookie" = [])),
    params(Query<ListParams>),
    responses(
        (status = 200, description = "The list.", body = ListAnswer),
        (status = 400, response = BadParam),
        SignedIn,
    )
)]
pub async fn list(
    State(state): State<AppState>,
    query: Query<ListParams>,
    signed: Signed,
) -> Result<Response, Problem> {
    let (mut list, titles) = list_and_titles(&state, signed.account.id).await?;
    if let Some(status) = query.params.status {
        list.retain(|s| s.entry.status == status);
    }
    Ok(json(&ListAnswer {
        items: views(&state, list, &titles),
    }))
}

/// A 422 unless the served catalogue knows the anime (503 before a model is loaded).
fn known_anime(state: &AppState, anime: MalId) -> Result<(), Problem> {
    entry_checks(state, anime, None)
}

/// [`known_anime`], and `episodes` (when given) no more than the anime has, where the
/// catalogue knows how many it has.
fn entry_checks(state: &AppState, anime: MalId, episodes: Option<u32>) -> Result<(), Problem> {
    let served = state.ready()?;
    let Some(ix) = served.bundle.catalogue.index_of(anime) else {
        return Err(Problem::unprocessable(format!(
            "anime {anime} is not in the catalogue; list anime the catalogue has"
        ))
        .with_param("anime_id"));
    };
    let record = &served.bundle.catalogue[ix];
    match (episodes, record.episodes.filter(|&n| n > 0)) {
        (Some(watched), Some(total)) if watched > total => Err(Problem::unprocessable(format!(
            "{} has {total} episodes; {watched} watched is more than that",
            record.shown_title()
        ))
        .with_param("episodes")),
        _ => Ok(()),
    }
}

/// `PUT /api/v1/me/list/{anime_id}`: adds or replaces an entry.
#[utoipa::path(
    put,
    path = "/api/v1/me/list/{id}",
    operation_id = "putListEntry",
    summary = "Add or replace an entry of the list.",
    security(("apiToken" = []), ("sessionCookie" = [])),
    params(PathId<MalId>),
    request_body = EntryBody,
    responses(
        (status = 200, description = "The entry as stored.", body = EntryView),
        (status = 400, response = BadParam),
        (status = 413, description = "The list holds its maximum of 20,000 entries, or the body is over its limit.", body = Problem, content_type = PROBLEM_JSON),
        (status = 415, response = Unsupported),
        (status = 422, description = "A value is wrong (more episodes than the anime has too), or the anime is not in the catalogue; `param` names the field.", body = Problem, content_type = PROBLEM_JSON),
        SignedInChange,
    )
)]
pub async fn put_entry(
    State(state): State<AppState>,
    PathId(anime): PathId<MalId>,
    signed: Signed,
    SmallJson(body): SmallJson<EntryBody>,
) -> Result<Response, Problem> {
    if body.anime_id.is_some_and(|a| a != anime) {
        return Err(Problem::unprocessable(
            "anime_id in the body differs from the one in the path",
        )
        .with_param("anime_id"));
    }
    let entry = ListEntry {
        anime_id: anime,
        score: body.score,
        status: body.status,
        episodes: body.episodes,
    };
    entry_checks(&state, anime, Some(body.episodes))?;
    let stored = state
        .accounts()?
        .put_entry(signed.account.id, &entry)
        .await
        .map_err(store_problem)?;
    Ok(json(&views(&state, vec![stored], &[]).remove(0)))
}

/// `DELETE /api/v1/me/list/{anime_id}`: removes an entry (404 when it is not on the list).
#[utoipa::path(
    delete,
    path = "/api/v1/me/list/{id}",
    operation_id = "deleteListEntry",
    summary = "Remove an entry from the list.",
    security(("apiToken" = []), ("sessionCookie" = [])),
    params(PathId<MalId>),
    responses(
        (status = 204, description = "Removed."),
        (status = 400, response = BadParam),
        (status = 404, response = NotFoundForAccount),
        SignedInChange,
    )
)]
pub async fn delete_entry(
    State(state): State<AppState>,
    PathId(anime): PathId<MalId>,
    signed: Signed,
) -> Result<Response, Problem> {
    let removed = state
        .accounts()?
        .delete_entry(signed.account.id, anime)
        .await
        .map_err(store_problem)?;
    if removed {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(Problem::not_found(format!(
            "anime {anime} is not on your list"
        )))
    }
}

/// What an import did.
#[derive(Serialize, ToSchema)]
struct Imported {
    #[serde(flatten)]
    counts: anirec_store::ImportCounts,
    /// Entries the export's reader skipped (bad values), and entries without a status.
    skipped: usize,
    /// Entries of anime the catalogue does not know yet: kept with the export's title, they count
    /// once a catalogue update brings the anime in.
    not_in_catalogue: usize,
    /// The first few of those anime's ids.
    unknown_anime_ids: Vec<MalId>,
}

/// `POST /api/v1/me/list/import`: merges a MyAnimeList export (XML, `.xml.gz`, UTF-16, or a
/// form upload) into the list by the rules of `anirec_store::list::merge`: the export's status
/// and episodes win, its score wins unless 0. Importing the same file twice changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/me/list/import",
    operation_id = "importList",
    summary = "Merge a MyAnimeList export into the list: the export's status and episodes win, its score wins unless 0; importing the same file twice changes nothing; anime the catalogue does not know yet are kept with the export's title (shown, exported back, and counted once a catalogue update brings them in).",
    security(("apiToken" = []), ("sessionCookie" = [])),
    request_body(content(
        (MalExport = "application/xml"),
        (ExportForm = "multipart/form-data"),
        (MalExport = "text/xml"),
        (GzipExport = "application/gzip"),
    )),
    responses(
        (status = 200, description = "What the import did.", body = Imported),
        (status = 409, description = "An import of this list is already running; wait for it to finish.", body = Problem, content_type = PROBLEM_JSON),
        (status = 413, description = "The upload, or the list it would make, is over a limit; `detail` names it.", body = Problem, content_type = PROBLEM_JSON),
        (status = 415, response = Unsupported),
        (status = 422, description = "The export cannot be read (not XML, a manga list, ...).", body = Problem, content_type = PROBLEM_JSON),
        SignedInChange,
    )
)]
pub async fn import(
    State(state): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let upload = Upload::receive(&headers, body, state.config()).await?;
    let (entries, skipped, unknown, kept) = state
        .run(move |served| {
            let export = upload.read_export()?;
            let mut skipped = export.skipped.total() as usize;
            let mut unknown = Vec::new();
            let mut kept = Vec::new();
            let mut entries = Vec::with_capacity(export.entries.len());
            for e in export.entries {
                let Some(status) = e.status else {
                    skipped += 1;
                    continue;
                };
                if !e.update_on_import {
                    kept.push(e.anime_id);
                }
                if served.bundle.catalogue.index_of(e.anime_id).is_none() {
                    unknown.push(ListTitle {
                        anime_id: e.anime_id,
                        title: e.title.clone().unwrap_or_default(),
                    });
                }
                entries.push(ListEntry {
                    anime_id: e.anime_id,
                    score: e.score,
                    status,
                    episodes: e.watched_episodes,
                });
            }
            entries.sort_by_key(|e| e.anime_id);
            entries.dedup_by_key(|e| e.anime_id);
            unknown.sort_by_key(|t| t.anime_id);
            unknown.dedup_by_key(|t| t.anime_id);
            kept.sort_unstable();
            kept.dedup();
            Ok((entries, skipped, unknown, kept))
        })
        .await?;
    let counts = state
        .accounts()?
        .import_titled(signed.account.id, &entries, &unknown, &kept)
        .await
        .map_err(store_problem)?;
    Ok(json(&Imported {
        counts,
        skipped,
        not_in_catalogue: unknown.len(),
        unknown_anime_ids: unknown.iter().take(5).map(|t| t.anime_id).collect(),
    }))
}

/// The query of `GET /api/v1/me/list/export`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// xml (default) or csv.
    #[param(inline)]
    format: ExportFormat,
}

/// What an export is written as.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// MyAnimeList's XML list export.
    #[default]
    Xml,
    /// `anime_id,title,score,status,episodes,updated_at`.
    Csv,
}

value_schema!(ExportFormat => one_of(&["xml", "csv"], "xml"));

impl Takes for ExportParams {}

/// `GET /api/v1/me/list/export?format=xml|csv`: the list as a file to download.
#[utoipa::path(
    get,
    path = "/api/v1/me/list/export",
    operation_id = "exportList",
    summary = "The list as a file: MyAnimeList's XML export format (imports into MyAnimeList, AniList, Kitsu and back here) or CSV.",
    security(("apiToken" = []), ("sessionCookie" = [])),
    params(Query<ExportParams>),
    responses(
        (status = 200, description = "The file (Content-Disposition: attachment).", content(
            (MalExport = "application/xml"),
            (String = "text/csv"),
        )),
        (status = 400, response = BadParam),
        SignedIn,
    )
)]
pub async fn export(
    State(state): State<AppState>,
    query: Query<ExportParams>,
    signed: Signed,
) -> Result<Response, Problem> {
    let (list, titles) = list_and_titles(&state, signed.account.id).await?;
    let views = views(&state, list, &titles);
    let (body, kind, file) = match query.params.format {
        ExportFormat::Xml => {
            let entries: Vec<malxml::ExportEntry> = views
                .iter()
                .map(|v| malxml::ExportEntry {
                    anime_id: v.stored.entry.anime_id,
                    title: v.title.clone(),
                    score: v.stored.entry.score,
                    status: Some(v.stored.entry.status),
                    watched_episodes: v.stored.entry.episodes,
                    update_on_import: true,
                    line: 0,
                })
                .collect();
            (
                malxml::write(&signed.account.username, &entries),
                "application/xml",
                "animelist.xml",
            )
        }
        ExportFormat::Csv => (csv(&views), "text/csv; charset=utf-8", "animelist.csv"),
    };
    let mut response = (
        [(header::CONTENT_TYPE, HeaderValue::from_static(kind))],
        body,
    )
        .into_response();
    if let Ok(disposition) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, disposition);
    }
    Ok(response)
}

/// The list as CSV (RFC 4180 quoting).
fn csv(views: &[EntryView]) -> String {
    let quote = |text: &str| {
        if text.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", text.replace('"', "\"\""))
        } else {
            text.to_owned()
        }
    };
    let mut out = String::from("anime_id,title,score,status,episodes,updated_at\n");
    for v in views {
        let e = &v.stored.entry;
        out.push_str(&format!(
            "{},{},{},{},{},{}\n",
            e.anime_id,
            quote(v.title.as_deref().unwrap_or("")),
            e.score.code(),
            e.status.name(),
            e.episodes,
            v.stored.updated_at
        ));
    }
    out
}

/// `PUT /api/v1/me/not-interested/{anime_id}`: never recommend this anime to the fan.
#[utoipa::path(
    put,
    path = "/api/v1/me/not-interested/{id}",
    operation_id = "markNotInterested",
    summary = "Never recommend this anime to the fan.",
    security(("apiToken" = []), ("sessionCookie" = [])),
    params(PathId<MalId>),
    responses(
        (status = 204, description = "Marked."),
        (status = 400, response = BadParam),
        (status = 422, description = "The anime is not in the catalogue.", body = Problem, content_type = PROBLEM_JSON),
        SignedInChange,
    )
)]
pub async fn hide(
    State(state): State<AppState>,
    PathId(anime): PathId<MalId>,
    signed: Signed,
) -> Result<Response, Problem> {
    known_anime(&state, anime)?;
    state
        .accounts()?
        .hide(signed.account.id, anime)
        .await
        .map_err(store_problem)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /api/v1/me/not-interested/{anime_id}`: takes "not interested" back.
#[utoipa::path(
    delete,
    path = "/api/v1/me/not-interested/{id}",
    operation_id = "unmarkNotInterested",
    summary = "Take 'not interested' back.",
    security(("apiToken" = []), ("sessionCookie" = [])),
    params(PathId<MalId>),
    responses(
        (status = 204, description = "Unmarked."),
        (status = 400, response = BadParam),
        (status = 404, response = NotFoundForAccount),
        SignedInChange,
    )
)]
pub async fn unhide(
    State(state): State<AppState>,
    PathId(anime): PathId<MalId>,
    signed: Signed,
) -> Result<Response, Problem> {
    let was = state
        .accounts()?
        .unhide(signed.account.id, anime)
        .await
        .map_err(store_problem)?;
    if was {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(Problem::not_found(format!(
            "anime {anime} is not marked not interested"
        )))
    }
}

/// The anime a fan marked not interested.
#[derive(Serialize, ToSchema)]
#[schema(as = AnimeIds)]
struct Hidden {
    /// Their MyAnimeList ids, ascending.
    items: Vec<MalId>,
}

/// `GET /api/v1/me/not-interested`: the anime marked not interested.
#[utoipa::path(
    get,
    path = "/api/v1/me/not-interested",
    operation_id = "notInterested",
    summary = "The anime marked not interested.",
    security(("apiToken" = []), ("sessionCookie" = [])),
    responses(
        (status = 200, description = "Their MyAnimeList ids, ascending.", body = Hidden),
        SignedIn,
    )
)]
pub async fn hidden(State(state): State<AppState>, signed: Signed) -> Result<Response, Problem> {
    let items = state
        .accounts()?
        .hidden(signed.account.id)
        .await
        .map_err(store_problem)?;
    Ok(json(&Hidden { items }))
}

/// `GET /api/v1/me/recommendations?k=&explain=&filters`: recommendations folded in from the
/// stored list (no retraining): everything on the list is left out (unless `include_rated`),
/// and so is everything marked not interested, always. The parameters are checked before the
/// credentials, as on every endpoint.
#[utoipa::path(
    get,
    path = "/api/v1/me/recommendations",
    operation_id = "myRecommendations",
    summary = "Recommendations folded in from the stored list at request time: everything on the list is left out (unless include_rated), and everything marked not interested always.",
    security(("apiToken" = []), ("sessionCookie" = [])),
    params(Query<AskParams>),
    responses(
        (status = 200, description = "Recommendations, best first.", body = Recommendations),
        (status = 400, response = BadParam),
        SignedIn,
    )
)]
pub async fn recommendations(
    State(state): State<AppState>,
    query: Query<AskParams>,
    signed: Result<Signed, Problem>,
) -> Result<Response, Problem> {
    let ask = Ask::of(&query, &*state.ready()?)?;
    let taste = taste(&state, signed?.account.id).await?;
    state
        .run(move |served| {
            let profile = profile(&served, &taste.list);
            let lists = recommend_for(&served, &profile, &taste.hidden, &ask);
            let subject = Subject {
                user_id: None,
                ratings: profile.state.entries.len(),
                list: None,
                notes: Vec::new(),
            };
            let body = answer_body(&served, &subject, &lists, ask.synopsis)?;
            Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
        })
        .await
}

/// `GET /api/v1/me/continue?k=&filters`: the continue row alone, from the stored list, the
/// anime marked not interested left out.
#[utoipa::path(
    get,
    path = "/api/v1/me/continue",
    operation_id = "myContinue",
    summary = "The signed-in fan's continue row, from the stored list (anime marked not interested left out).",
    security(("apiToken" = []), ("sessionCookie" = [])),
    params(Query<ContinueParams>),
    responses(
        (status = 200, description = "The continue row, the highest predicted rating first.", body = ContinueRow),
        (status = 400, response = BadParam),
        SignedIn,
    )
)]
pub async fn continue_row(
    State(state): State<AppState>,
    query: Query<ContinueParams>,
    signed: Result<Signed, Problem>,
) -> Result<Response, Problem> {
    let ask = Ask::continuing(&query, &*state.ready()?)?;
    let taste = taste(&state, signed?.account.id).await?;
    state
        .run(move |served| {
            let profile = profile(&served, &taste.list);
            let row = continue_shown(&served, &profile, &taste.hidden, ask.k, &ask.filters);
            continue_response(&served, None, &row, ask.synopsis)
        })
        .await
}

/// The query of `GET /api/v1/me/plan-to-watch`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct PlanParams {
    /// How many results.
    #[param(inline)]
    k: K,
}

impl Takes for PlanParams {}

/// A fan's plan-to-watch entries.
#[derive(Serialize, ToSchema)]
#[schema(as = PlanToWatch)]
struct PlanAnswer<'a> {
    /// The entries, best predicted fit first.
    items: Vec<PlannedView<'a>>,
}

/// `GET /api/v1/me/plan-to-watch?k=`: the fan's plan-to-watch entries, best predicted fit first.
#[utoipa::path(
    get,
    path = "/api/v1/me/plan-to-watch",
    operation_id = "planToWatch",
    summary = "The fan's plan-to-watch entries, best predicted fit first.",
    security(("apiToken" = []), ("sessionCookie" = [])),
    params(Query<PlanParams>),
    responses(
        (status = 200, description = "The entries, with the predicted rating.", body = PlanAnswer),
        (status = 400, response = BadParam),
        SignedIn,
    )
)]
pub async fn plan_to_watch(
    State(state): State<AppState>,
    query: Query<PlanParams>,
    signed: Signed,
) -> Result<Response, Problem> {
    let taste = taste(&state, signed.account.id).await?;
    let k = query.params.k.0;
    state
        .run(move |served| {
            let catalogue = &served.bundle.catalogue;
            let profile = profile(&served, &taste.list);
            let items = plan_ranked(&served, &profile, &taste.list, k)
                .into_iter()
                .map(|p| PlannedView::of(catalogue, p.anime, p.predicted_rating))
                .collect();
            Ok(json(&PlanAnswer { items }))
        })
        .await
}
