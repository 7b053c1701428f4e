//! A small trained model for the server tests (three taste clusters, an adult title, hostile
//! strings in titles and synopses, one franchise), and helpers to call the router.

#![allow(dead_code)] // each test binary uses its own subset of the helpers

use std::path::Path;
use std::sync::OnceLock;

use anirec_data::catalogue::{Anime, Catalogue};
use anirec_data::franchise::grouping;
use anirec_data::franchise::relations::Relations;
use anirec_data::ratings::Ratings;
use anirec_model::bundle::Bundle;
use anirec_model::hybrid::{Hybrid, HybridParams};
use anirec_model::ranker::RankerKind;
use anirec_server::{AppState, Config, Served};
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// A synopsis no page may render as markup.
pub const HOSTILE: &str = "<script>alert('x')</script> \"quoted\" & <b>bold</b>";

pub const GENRES: [&str; 3] = ["Action", "Romance", "Horror"];
pub const PER_GENRE: u32 = 12;
/// MyAnimeList id of anime `i` (catalogue order).
pub fn mal_id(i: u32) -> u32 {
    100 + i
}
/// The adult title.
pub const ADULT_ID: u32 = 999;
/// The franchise: Action anime 0-3 (a film, then three TV seasons by air date, named as sequels
/// are: `Kaiju Densetsu`, `Kaiju Densetsu 2`, ...), joined by the relation data as the real files
/// would; its watching order is seasons first, then the film.
pub const FRANCHISE: [u32; 4] = [100, 101, 102, 103];
/// [`FRANCHISE`] in watching order.
pub const FRANCHISE_ORDER: [u32; 4] = [101, 102, 103, 100];
/// The season of the anime `k` of each genre: `SEASONS[k % 4]` of the year 1990 + 2k.
pub const SEASONS: [anirec_data::Season; 4] = [
    anirec_data::Season::Winter,
    anirec_data::Season::Spring,
    anirec_data::Season::Summer,
    anirec_data::Season::Fall,
];
/// Users are 1..=60; user u loves genre u % 3.
pub const USERS: u32 = 60;

fn world() -> (Catalogue, Ratings) {
    let mut anime = Vec::new();
    for (g, genre) in GENRES.iter().enumerate() {
        for k in 0..PER_GENRE {
            let i = g as u32 * PER_GENRE + k;
            let mut a = Anime {
                mal_id: anirec_data::MalId(mal_id(i)),
                name: format!("{genre} Densetsu {k}"),
                english_name: Some(format!("{genre} Legend {k}")),
                japanese_name: Some(format!("{genre}伝説 {k}")),
                genres: vec![genre.to_string()],
                studios: vec![format!("Studio {genre}")],
                kind: Some(if k % 4 == 0 { "Movie" } else { "TV" }.into()),
                // The series have 24 episodes; the films' count is unknown.
                episodes: (k % 4 != 0).then_some(24),
                start_year: Some(1990 + 2 * k as u16),
                season: Some(SEASONS[k as usize % 4]),
                members: Some(50_000 + 1_000 * k),
                score: Some(6.5 + k as f32 / 8.0),
                synopsis: Some(format!(
                    "A {} story: {} Part {k}. {HOSTILE}",
                    genre.to_lowercase(),
                    [
                        "heroes fight a war of swords",
                        "two hearts meet in spring",
                        "a ghost haunts the village"
                    ][g]
                )),
                ..Anime::default()
            };
            if let Some(part) = FRANCHISE.iter().position(|&id| id == mal_id(i)) {
                let sequel = [" Movie", "", " 2", " 3"][part];
                a.name = format!("Kaiju Densetsu{sequel}");
                a.english_name = Some(format!("Kaiju Legend{sequel}"));
            }
            a.update_adult();
            anime.push(a);
        }
    }
    let mut adult = Anime {
        mal_id: anirec_data::MalId(ADULT_ID),
        name: "Adult Title <i>".into(),
        // A romance among the romances by its story, so asking for adult titles can reach it.
        genres: vec!["Hentai".into(), "Romance".into()],
        synopsis: Some("A romance story: two hearts meet in spring.".into()),
        members: Some(9_000_000),
        score: Some(9.9),
        ..Anime::default()
    };
    adult.update_adult();
    anime.push(adult);
    let mut catalogue = Catalogue::new(anime);
    let relations = Relations {
        sets: vec![FRANCHISE.map(anirec_data::MalId).to_vec()],
        files: Vec::new(),
    };
    let franchises = grouping::build(catalogue.anime(), |id| catalogue.index_of(id), &relations);
    catalogue.set_franchises(franchises);
    let mut triples = Vec::new();
    for u in 1..=USERS {
        let fav = u % 3;
        for a in 0..3 * PER_GENRE {
            let g = a / PER_GENRE;
            let seen = if g == fav {
                (a + u / 3) % 3 != 0
            } else {
                (a * 7 + u) % 5 == 0
            };
            if seen {
                let r = if g == fav {
                    8 + ((a + u) % 3) as u8
                } else {
                    3 + ((a + u) % 3) as u8
                };
                triples.push((u, a, r));
            }
        }
    }
    let ratings = Ratings::from_triples(catalogue.len(), &triples);
    (catalogue, ratings)
}

/// The world's bundle ordered by `ranker` (fitted once per test binary and ranker).
fn fitted(ranker: RankerKind) -> Bundle {
    static BUNDLES: [OnceLock<Bundle>; 2] = [OnceLock::new(), OnceLock::new()];
    let slot = match ranker {
        RankerKind::Blend => &BUNDLES[0],
        RankerKind::LambdaMart => &BUNDLES[1],
    };
    slot.get_or_init(|| {
        let (catalogue, ratings) = world();
        let mut p = HybridParams::default();
        p.ease.min_item_ratings = 1;
        p.ease.lambda = 10.0;
        p.candidates.collab = 20;
        p.candidates.content = 10;
        p.min_coverage = 0.0;
        p.rating.max_epochs = 8;
        p.ranker = ranker;
        let model = Hybrid::fit(&ratings, &catalogue, None, p, &mut (), None)
            .expect("LightGBM trains on the world's validation users");
        Bundle::new(model, catalogue, ratings, None)
    })
    .clone()
}

/// The trained bundle, its candidates ordered by the blend.
pub fn bundle() -> Bundle {
    fitted(RankerKind::Blend)
}

/// The trained bundle with a learned ranker (LambdaMART) ordering its candidates.
pub fn ranker_bundle() -> Bundle {
    fitted(RankerKind::LambdaMart)
}

/// Writes the bundle to `dir`.
pub fn save_bundle(dir: &Path) {
    bundle().save(dir).expect("bundle saved");
}

/// A state serving the bundle.
pub fn state(config: Config) -> AppState {
    AppState::with_model(config, Served::new(bundle(), None))
}

/// A state serving the bundle with a learned ranker.
pub fn ranker_state(config: Config) -> AppState {
    AppState::with_model(config, Served::new(ranker_bundle(), None))
}

/// The router serving the bundle with default settings.
pub fn app() -> Router {
    anirec_server::router(state(Config::default()))
}

/// An answer: status, headers, body.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    /// The `anime_id`s of an answer's `items`, in order.
    pub fn ids(&self) -> Vec<u64> {
        self.json()["items"]
            .as_array()
            .unwrap_or_else(|| panic!("no items: {}", self.text()))
            .iter()
            .map(|i| i["anime_id"].as_u64().unwrap())
            .collect()
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// Sends one request through the router.
pub async fn call(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

/// Sends a request with a method, a body and its type.
pub async fn send(
    app: &Router,
    method: &str,
    uri: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Reply {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(t) = content_type {
        request = request.header("content-type", t);
    }
    call(app, request.body(Body::from(body)).unwrap()).await
}

/// GET.
pub async fn get(app: &Router, uri: &str) -> Reply {
    send(app, "GET", uri, None, Vec::new()).await
}

/// POST JSON.
pub async fn post_json(app: &Router, uri: &str, body: &serde_json::Value) -> Reply {
    send(
        app,
        "POST",
        uri,
        Some("application/json"),
        serde_json::to_vec(body).unwrap(),
    )
    .await
}

/// Asserts a problem document with this status (and parameter, if given).
pub fn assert_problem(r: &Reply, status: u16, param: Option<&str>) {
    assert_eq!(r.status.as_u16(), status, "{}", r.text());
    assert_eq!(r.content_type(), "application/problem+json");
    let p = r.json();
    assert_eq!(p["status"], status);
    assert!(p["detail"].as_str().is_some_and(|d| !d.is_empty()));
    if let Some(param) = param {
        assert_eq!(p["param"], param, "{p}");
    }
}
