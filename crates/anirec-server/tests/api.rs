//! The JSON API through the real router: every endpoint, every error status, fold-in, the
//! OpenAPI document against the routes, and the operations endpoints.

mod common;

use anirec_data::Score;
use std::collections::BTreeSet;

use anirec_data::{MalId, UserId};
use anirec_model::query::{Filters, Listed};
use anirec_server::{AppState, Config, Served};
use common::*;
use serde_json::json;

fn genre_of(id: u64) -> &'static str {
    GENRES[((id - 100) / PER_GENRE as u64) as usize]
}

#[tokio::test]
async fn a_list_continues_page_by_page_from_next_offset() {
    let app = app();
    for base in [
        "/api/v1/users/4/recommendations?group=none",
        "/api/v1/users/4/recommendations?genre=Action",
    ] {
        let whole = get(&app, &format!("{base}&k=100")).await;
        assert_eq!(whole.status, 200, "{}", whole.text());
        let all = whole.ids();
        assert!(all.len() > 4, "{base}: {all:?}");
        assert!(
            whole.json()["next_offset"].is_null(),
            "{base}: the whole list in one page"
        );
        // Pages of 3 from each answer's next_offset: the same anime in the same order, each
        // once, and the continue row only on the first.
        let (mut paged, mut offset, mut pages) = (Vec::new(), Some(0), 0);
        while let Some(o) = offset {
            let r = get(&app, &format!("{base}&k=3&offset={o}")).await;
            assert_eq!(r.status, 200, "{}", r.text());
            if o > 0 {
                assert_eq!(
                    r.json()["continue_watching"],
                    json!([]),
                    "{base} offset {o}"
                );
            }
            paged.extend(r.ids());
            offset = r.json()["next_offset"].as_u64();
            pages += 1;
            assert!(pages <= all.len() / 3 + 2, "{base}: no end");
        }
        assert_eq!(paged, all, "{base}");
        // Past the end: nothing, and no next page.
        let past = get(&app, &format!("{base}&k=3&offset={}", all.len())).await;
        assert!(past.ids().is_empty() && past.json()["next_offset"].is_null());
    }
    // Similar anime page the same way.
    let similar = |query: &str| format!("/api/v1/anime/{}/similar?{query}", mal_id(5));
    let twelve = get(&app, &similar("k=12")).await;
    let first = get(&app, &similar("k=6")).await;
    let second = get(&app, &similar("k=6&offset=6")).await;
    assert_eq!(first.json()["next_offset"], 6);
    assert_eq!([first.ids(), second.ids()].concat(), twelve.ids());
    assert_eq!(twelve.ids().len(), 12);
}

#[tokio::test]
async fn synopsis_length_is_the_callers_choice() {
    let app = app();
    let ask = |synopsis: &str| {
        let app = app.clone();
        let url = format!("/api/v1/users/4/recommendations?k=5{synopsis}");
        async move { get(&app, &url).await }
    };
    let full = ask("").await.json();
    let none = ask("&synopsis=none").await.json();
    let short = ask("&synopsis=short").await.json();
    let (full, none, short) = (
        full["items"].as_array().unwrap().clone(),
        none["items"].as_array().unwrap().clone(),
        short["items"].as_array().unwrap().clone(),
    );
    assert_eq!(full.len(), 5);
    for ((f, n), s) in full.iter().zip(&none).zip(&short) {
        assert_eq!(f["anime_id"], n["anime_id"]);
        assert_eq!(f["anime_id"], s["anime_id"]);
        let whole = f["synopsis"].as_str().unwrap();
        assert!(n["synopsis"].is_null(), "{n}");
        let cut = s["synopsis"].as_str().unwrap();
        assert!(whole.starts_with(cut) && !cut.is_empty() && cut.len() <= 200);
    }
    let bad = ask("&synopsis=tiny").await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.text().contains("synopsis") && bad.text().contains("none, short or full"),
        "{}",
        bad.text()
    );
}

#[tokio::test]
async fn known_user_recommendations_follow_taste_filters_and_k() {
    let app = app();
    let r = get(&app, "/api/v1/users/4/recommendations?k=5&explain=true").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.content_type(), "application/json");
    // The same request again is answered from the model's cache, identically.
    assert_eq!(r.headers["x-cache"], "miss");
    let again = get(&app, "/api/v1/users/4/recommendations?k=5&explain=true").await;
    assert_eq!(again.headers["x-cache"], "hit");
    assert_eq!(again.body, r.body);
    let body = r.json();
    assert_eq!(body["subject"]["user_id"], 4);
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 5);
    // User 4 loves genre 4 % 3 = Romance: the top picks are unrated Romance titles.
    let bundle = bundle();
    let rated: BTreeSet<u32> = bundle
        .known_user(UserId(4))
        .unwrap()
        .state
        .entries
        .iter()
        .map(|e| bundle.catalogue[e.anime].mal_id.0)
        .collect();
    for item in items {
        let id = item["anime_id"].as_u64().unwrap();
        assert!(
            !rated.contains(&(id as u32)),
            "rated anime {id} recommended"
        );
        assert_ne!(id, ADULT_ID as u64);
        assert!(item["name"].is_string() && item["synopsis"].is_string());
        assert!(
            item["reasons"].as_array().is_some_and(|r| !r.is_empty()),
            "{item}"
        );
    }
    assert_eq!(genre_of(items[0]["anime_id"].as_u64().unwrap()), "Romance");

    // Without explain: no reasons. Filters: type, year range, genre.
    let plain = get(&app, "/api/v1/users/4/recommendations?k=3")
        .await
        .json();
    assert!(
        plain["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["reasons"] == json!([]))
    );
    let movies = get(&app, "/api/v1/users/4/recommendations?type=Movie&k=20").await;
    assert!(!movies.ids().is_empty());
    assert!(
        movies.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["type"] == "Movie")
    );
    let years = get(
        &app,
        "/api/v1/users/4/recommendations?year_min=2000&year_max=2004&k=20",
    )
    .await;
    assert!(years.json()["items"].as_array().unwrap().iter().all(|i| {
        let y = i["year"].as_u64().unwrap();
        (2000..=2004).contains(&y)
    }));
    let horror = get(&app, "/api/v1/users/4/recommendations?genre=horror&k=20").await;
    assert!(!horror.ids().is_empty());
    assert!(horror.ids().iter().all(|&id| genre_of(id) == "Horror"));
    let with_rated = get(
        &app,
        "/api/v1/users/4/recommendations?include_rated=true&k=100",
    )
    .await;
    assert!(
        with_rated
            .ids()
            .iter()
            .any(|id| rated.contains(&(*id as u32)))
    );
    let with_adult = get(
        &app,
        "/api/v1/users/4/recommendations?include_adult=true&k=100",
    )
    .await;
    assert!(with_adult.ids().contains(&(ADULT_ID as u64)));
}

#[tokio::test]
async fn bad_parameters_are_400_naming_them_and_unknown_ids_404() {
    let app = app();
    for (uri, param) in [
        ("/api/v1/users/4/recommendations?k=0", "k"),
        ("/api/v1/users/4/recommendations?k=101", "k"),
        ("/api/v1/users/4/recommendations?k=abc", "k"),
        ("/api/v1/users/4/recommendations?genre=Mecha", "genre"),
        ("/api/v1/users/4/recommendations?type=Film", "type"),
        (
            "/api/v1/users/4/recommendations?min_members=-5",
            "min_members",
        ),
        ("/api/v1/users/4/recommendations?explain=perhaps", "explain"),
        ("/api/v1/users/4/recommendations?colour=red", "colour"),
        ("/api/v1/users/abc/recommendations", "id"),
        ("/api/v1/users/99999999999/recommendations", "id"),
        ("/api/v1/anime/x1", "id"),
        ("/api/v1/anime/100/similar?by=vibes", "by"),
        ("/api/v1/anime", "q"),
        ("/api/v1/anime?q=", "q"),
        ("/api/v1/users/4/similar?k=1000", "k"),
        ("/api/v1/users/4/recommendations?offset=401", "offset"),
        ("/api/v1/users/4/recommendations?offset=-1", "offset"),
    ] {
        assert_problem(&get(&app, uri).await, 400, Some(param));
    }
    let long = format!("/api/v1/anime?q={}", "a".repeat(300));
    assert_problem(&get(&app, &long).await, 400, Some("q"));
    assert_problem(
        &get(&app, "/api/v1/users/5000/recommendations").await,
        404,
        None,
    );
    assert_problem(&get(&app, "/api/v1/users/5000/similar").await, 404, None);
    assert_problem(&get(&app, "/api/v1/anime/5").await, 404, None);
    assert_problem(&get(&app, "/api/v1/anime/5/similar").await, 404, None);
    assert_problem(&get(&app, "/api/v1/nothing/here").await, 404, None);
    assert_problem(
        &send(&app, "DELETE", "/api/v1/anime/100", None, vec![]).await,
        405,
        None,
    );
}

#[tokio::test]
async fn fold_in_from_json_and_xml_matches_the_model_and_reports_unknown_ids() {
    let app = app();
    let body = json!({"ratings": [
        {"anime_id": mal_id(24), "rating": 10},
        {"anime_id": mal_id(25), "rating": 9},
        {"anime_id": mal_id(26), "rating": 8},
        {"anime_id": 5, "rating": 7}
    ]});
    let r = post_json(&app, "/api/v1/recommendations?k=6&explain=true", &body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let got = r.json();
    assert_eq!(got["subject"]["ratings"], 3);
    assert_eq!(got["subject"]["unknown_anime_ids"], json!([5]));
    // The same as the model's own fold-in and ranking.
    let bundle = bundle();
    let listed = |i, score| Listed {
        mal_id: MalId(mal_id(i)),
        score: Score::new(score).unwrap(),
        status: None,
    };
    let (profile, _) = bundle.fold_in(&[listed(24, 10), listed(25, 9), listed(26, 8)]);
    let want: Vec<u64> = bundle
        .recommend(&profile, 6, &Filters::default(), true)
        .iter()
        .map(|r| r.anime_id.0 as u64)
        .collect();
    assert_eq!(r.ids(), want);
    assert!(
        r.ids().iter().take(3).all(|&id| genre_of(id) == "Horror"),
        "{got}"
    );

    // A MAL export with the same scores gives the same list.
    let xml = format!(
        "<?xml version=\"1.0\"?><myanimelist><myinfo><user_name>fan</user_name></myinfo>{}</myanimelist>",
        [(24, 10), (25, 9), (26, 8)]
            .iter()
            .map(|(i, s)| format!(
                "<anime><series_animedb_id>{}</series_animedb_id><series_title>t</series_title><my_score>{s}</my_score><my_status>Completed</my_status></anime>",
                mal_id(*i)
            ))
            .collect::<String>()
    );
    let x = send(
        &app,
        "POST",
        "/api/v1/recommendations?k=6",
        Some("application/xml"),
        xml.clone().into_bytes(),
    )
    .await;
    assert_eq!(x.status, 200, "{}", x.text());
    assert_eq!(x.ids(), want);
    // And as a form upload.
    let form = format!(
        "--AaB03x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"animelist.xml\"\r\nContent-Type: text/xml\r\n\r\n{xml}\r\n--AaB03x--\r\n"
    );
    let f = send(
        &app,
        "POST",
        "/api/v1/recommendations?k=6",
        Some("multipart/form-data; boundary=AaB03x"),
        form.into_bytes(),
    )
    .await;
    assert_eq!(f.status, 200, "{}", f.text());
    assert_eq!(f.ids(), want);

    // On top of a known user: their ratings plus the body's.
    let merged = post_json(
        &app,
        "/api/v1/recommendations",
        &json!({"user_id": 4, "ratings": [{"anime_id": mal_id(30), "rating": 10}]}),
    )
    .await;
    assert_eq!(merged.status, 200);
    let own = bundle.known_user(UserId(4)).unwrap().state.entries.len();
    let with_new = own
        + usize::from(
            !bundle
                .known_user(UserId(4))
                .unwrap()
                .state
                .entries
                .iter()
                .any(|e| e.anime == anirec_data::AnimeIx(30)),
        );
    assert_eq!(merged.json()["subject"]["ratings"], with_new);
    assert!(!merged.ids().contains(&(mal_id(30) as u64)));

    // No ratings at all: popular titles, still no adult one.
    let empty = post_json(&app, "/api/v1/recommendations", &json!({"ratings": []})).await;
    assert_eq!(empty.status, 200);
    assert_eq!(empty.ids().len(), 10);
    assert!(!empty.ids().contains(&(ADULT_ID as u64)));
}

#[tokio::test]
async fn franchises_shape_the_lists_and_fill_the_continue_row() {
    let app = app();
    let in_franchise = |id: &u64| FRANCHISE.contains(&(*id as u32));
    // A fan of the first two seasons (and of Action): the discovery list leaves the franchise to
    // the continue row, whose entry is the next season.
    let fan = json!({"ratings": [
        {"anime_id": 101, "rating": 10},
        {"anime_id": 102, "rating": 9},
        {"anime_id": mal_id(5), "rating": 9},
        {"anime_id": mal_id(6), "rating": 8}
    ]});
    let r = post_json(&app, "/api/v1/recommendations?k=12", &fan).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    assert_eq!(r.ids().len(), 12);
    assert!(!r.ids().iter().any(in_franchise), "{body}");
    let row = body["continue_watching"].as_array().unwrap();
    assert_eq!(row.len(), 1, "{body}");
    assert_eq!(row[0]["anime_id"], 103);
    assert_eq!(row[0]["seen"], 2);
    assert_eq!(row[0]["best_score"], 10);
    assert_eq!(row[0]["series"]["label"], "Season 3");
    assert_eq!(row[0]["series"]["position"], 3);
    assert_eq!(row[0]["series"]["summary"], "3 seasons, 1 film");
    // group=none: every anime on its own, the unseen season and the film among them.
    let plain = post_json(&app, "/api/v1/recommendations?k=12&group=none", &fan).await;
    assert_eq!(plain.status, 200);
    assert!(plain.ids().iter().any(in_franchise), "{}", plain.text());
    // A fan who dropped the first season gets no continue row for it.
    let dropped = json!({"ratings": [
        {"anime_id": 101, "rating": 3, "status": "dropped"},
        {"anime_id": mal_id(5), "rating": 9}
    ]});
    let d = post_json(&app, "/api/v1/recommendations", &dropped).await;
    assert_eq!(d.status, 200, "{}", d.text());
    assert_eq!(d.json()["continue_watching"], json!([]));
    assert!(!d.ids().iter().any(in_franchise));
    // A fan who has not started it sees one card for it at most, its first season.
    let newcomer = json!({"ratings": [{"anime_id": mal_id(5), "rating": 10}, {"anime_id": mal_id(7), "rating": 9}]});
    let n = post_json(&app, "/api/v1/recommendations?k=20", &newcomer).await;
    let shown: Vec<u64> = n.ids().into_iter().filter(in_franchise).collect();
    assert!(
        shown.len() <= 1 && shown.iter().all(|&id| id == 101),
        "{shown:?}"
    );

    // The record lists the franchise in watching order; similar anime leave it out by default.
    let detail = get(&app, "/api/v1/anime/102").await.json();
    let order: Vec<u64> = detail["franchise"]["in_order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["anime_id"].as_u64().unwrap())
        .collect();
    assert_eq!(order, FRANCHISE_ORDER.map(u64::from));
    assert_eq!(detail["franchise"]["label"], "Season 2");
    assert_eq!(detail["franchise"]["in_order"][3]["label"], "Film 1");
    assert!(get(&app, "/api/v1/anime/104").await.json()["franchise"].is_null());
    let similar = get(&app, "/api/v1/anime/101/similar?k=10").await;
    assert!(
        !similar.ids().iter().any(in_franchise),
        "{}",
        similar.text()
    );
    let series: Vec<u64> = similar.json()["in_this_series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["anime_id"].as_u64().unwrap())
        .collect();
    assert_eq!(
        series,
        FRANCHISE_ORDER.map(u64::from),
        "shown apart, in order"
    );
    let all = get(&app, "/api/v1/anime/101/similar?k=10&group=none").await;
    assert!(all.ids().iter().any(in_franchise), "{}", all.text());
    assert_eq!(all.json()["in_this_series"], json!([]));
    let alone = get(&app, "/api/v1/anime/104/similar").await.json();
    assert_eq!(alone["in_this_series"], json!([]));

    // A known user's continue row alone: entries of franchises on their list, not on it.
    for user in 1..=USERS {
        let c = get(&app, &format!("/api/v1/users/{user}/continue")).await;
        assert_eq!(c.status, 200, "{}", c.text());
        let on_list: BTreeSet<u64> = bundle()
            .known_user(UserId(user))
            .unwrap()
            .state
            .entries
            .iter()
            .map(|e| u64::from(bundle().catalogue[e.anime].mal_id.0))
            .collect();
        for id in c.ids() {
            assert!(
                in_franchise(&id) && !on_list.contains(&id),
                "user {user}: {id}"
            );
        }
    }

    // Novelty and grouping are checked like every parameter.
    for (query, param) in [
        ("novelty=1.5", "novelty"),
        ("novelty=x", "novelty"),
        ("group=all", "group"),
    ] {
        let bad = get(&app, &format!("/api/v1/users/4/recommendations?{query}")).await;
        assert_eq!(bad.status, 400, "{query}");
        assert_eq!(bad.json()["param"], param, "{query}");
    }
    // More novelty, less popular picks.
    let members = |r: &Reply| -> f64 {
        let items = r.json()["items"].as_array().unwrap().clone();
        items
            .iter()
            .map(|i| i["members"].as_f64().unwrap())
            .sum::<f64>()
            / items.len() as f64
    };
    let low = get(&app, "/api/v1/users/4/recommendations?k=8&novelty=0").await;
    let high = get(&app, "/api/v1/users/4/recommendations?k=8&novelty=1").await;
    assert!(
        members(&high) <= members(&low),
        "{} vs {}",
        members(&high),
        members(&low)
    );
}

#[tokio::test]
async fn unreadable_too_large_and_wrongly_typed_bodies() {
    let app = app();
    let post = |body: &'static str, kind: &'static str| {
        let app = app.clone();
        async move {
            send(
                &app,
                "POST",
                "/api/v1/recommendations",
                Some(kind),
                body.as_bytes().to_vec(),
            )
            .await
        }
    };
    assert_problem(
        &post("{\"ratings\": [", "application/json").await,
        422,
        None,
    );
    assert_problem(
        &post("{\"rating\": []}", "application/json").await,
        422,
        None,
    );
    assert_problem(&post("[1,2,3]", "application/json").await, 422, None);
    assert_problem(
        &post(
            "{\"ratings\": [{\"anime_id\": 100, \"rating\": 11}]}",
            "application/json",
        )
        .await,
        422,
        Some("ratings[0].rating"),
    );
    assert_problem(
        &post(
            "{\"ratings\": [{\"anime_id\": -3, \"rating\": 5}]}",
            "application/json",
        )
        .await,
        422,
        None,
    );
    assert_problem(
        &post("<myanimelist><anime>", "application/xml").await,
        422,
        None,
    );
    assert_problem(
        &post("<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>", "text/xml").await,
        422,
        None,
    );
    assert_problem(&post("anime_id,rating\n1,2", "text/csv").await, 415, None);
    let gz = send(
        &app,
        "POST",
        "/api/v1/recommendations",
        Some("application/xml"),
        vec![0x1f, 0x8b, 8, 0],
    )
    .await;
    assert_problem(&gz, 422, None);
    assert!(gz.json()["detail"].as_str().unwrap().contains("gzip"));
    assert_problem(
        &post_json(
            &app,
            "/api/v1/recommendations",
            &json!({"user_id": 777, "ratings": []}),
        )
        .await,
        404,
        Some("user_id"),
    );

    let small = anirec_server::router(state(Config {
        max_body_bytes: 1000,
        ..Config::default()
    }));
    let big = json!({"ratings": (0..200).map(|i| json!({"anime_id": i, "rating": 5})).collect::<Vec<_>>()});
    assert_problem(
        &post_json(&small, "/api/v1/recommendations", &big).await,
        413,
        None,
    );
}

#[tokio::test]
async fn anime_search_detail_similar_and_similar_users() {
    let app = app();
    let detail = get(&app, &format!("/api/v1/anime/{}", mal_id(13))).await;
    assert_eq!(detail.status, 200);
    let d = detail.json();
    assert_eq!(d["name"], "Romance Densetsu 1");
    assert_eq!(d["english_name"], "Romance Legend 1");
    assert!(d["synopsis"].as_str().unwrap().contains(HOSTILE));
    assert!(d["model_ratings"].as_u64().unwrap() > 0);

    for by in ["content", "collab", "hybrid"] {
        let s = get(
            &app,
            &format!("/api/v1/anime/{}/similar?by={by}&k=5", mal_id(13)),
        )
        .await;
        assert_eq!(s.status, 200, "{}", s.text());
        assert_eq!(s.json()["by"], by);
        let similar = s.ids();
        assert!(!similar.is_empty() && similar.len() <= 5);
        assert!(!similar.contains(&(mal_id(13) as u64)));
        assert_eq!(genre_of(similar[0]), "Romance", "{by}");
    }

    // Search: exact, English title, typo, Japanese title; adult titles only when asked.
    let first = |q: &str| {
        let app = app.clone();
        let q = q.to_owned();
        async move { get(&app, &format!("/api/v1/anime?q={q}&k=3")).await.ids() }
    };
    assert_eq!(first("Horror%20Densetsu%205").await[0], mal_id(29) as u64);
    assert_eq!(first("horror%20legend%205").await[0], mal_id(29) as u64);
    assert_eq!(first("horor%20legend%205").await[0], mal_id(29) as u64);
    assert_eq!(
        first("Horror%E4%BC%9D%E8%AA%AC%205").await[0],
        mal_id(29) as u64
    );
    assert!(first("Adult%20Title").await.is_empty());
    let adult = get(&app, "/api/v1/anime?q=Adult%20Title&include_adult=true").await;
    assert_eq!(adult.ids(), vec![ADULT_ID as u64]);

    let users = get(&app, "/api/v1/users/4/similar?k=5").await;
    assert_eq!(users.status, 200);
    let u = users.json();
    let items = u["items"].as_array().unwrap();
    assert_eq!(items.len(), 5);
    for item in items {
        let id = item["user_id"].as_u64().unwrap();
        assert_ne!(id, 4);
        assert_eq!(id % 3, 1, "users who love the same genre: {u}");
    }
}

#[tokio::test]
async fn openapi_document_matches_the_routes() {
    let app = app();
    let r = get(&app, "/api/openapi.json").await;
    assert_eq!(r.status, 200);
    let doc = r.json();
    assert_eq!(doc["openapi"], "3.1.0");
    // The served document lists the model's genres as the only values of `genre`: the first
    // is taken, a made-up one refused.
    let genre = doc["paths"]["/api/v1/users/{id}/recommendations"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "genre")
        .unwrap();
    let genres = genre["schema"]["items"]["enum"].as_array().unwrap();
    assert!(!genres.is_empty());
    let first = genres[0].as_str().unwrap();
    let uri = format!("/api/v1/users/4/recommendations?genre={first}");
    assert_eq!(get(&app, &uri).await.status, 200, "{uri}");
    assert!(!genres.iter().any(|g| g == "Not A Genre"));
    let refused = get(
        &app,
        "/api/v1/users/4/recommendations?genre=Not%20A%20Genre",
    )
    .await;
    assert_eq!(refused.status, 400);
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    let routed: BTreeSet<(String, String)> = anirec_server::routes::endpoints()
        .into_iter()
        .map(|(m, p, _)| (m.to_string(), p.to_owned()))
        .collect();
    assert_eq!(documented, routed);

    // Every documented operation is routed (no "no route" 404, no 405) and its documented
    // responses include the status it gives.
    for (method, path) in &documented {
        let uri = path.replace("{id}", if path.contains("users") { "4" } else { "113" });
        let uri = if uri == "/api/v1/anime" {
            "/api/v1/anime?q=legend".to_owned()
        } else {
            uri
        };
        let reply = send(
            &app,
            method,
            &uri,
            Some("application/json"),
            b"{\"ratings\": []}".to_vec(),
        )
        .await;
        assert_ne!(reply.status, 405, "{method} {uri}");
        if reply.status == 404 {
            assert!(
                !reply.text().contains("no route"),
                "{method} {uri}: {}",
                reply.text()
            );
        }
        let op = &doc["paths"][path][method.to_lowercase()];
        assert!(
            op["responses"].get(reply.status.as_str()).is_some(),
            "{method} {path} answered {} which is not documented",
            reply.status
        );
        // Parameters the document lists are the ones the endpoint accepts: an unknown one is
        // refused with the list of those it takes, which is the documented list.
        let documented_query: BTreeSet<&str> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "query")
            .filter_map(|p| p["name"].as_str())
            .collect();
        if !documented_query.is_empty() {
            let sep = if uri.contains('?') { '&' } else { '?' };
            let unknown = send(
                &app,
                method,
                &format!("{uri}{sep}no_such_param=1"),
                Some("application/json"),
                b"{\"ratings\": []}".to_vec(),
            )
            .await;
            assert_eq!(unknown.status, 400, "{method} {uri}: {}", unknown.text());
            let detail = unknown.json()["detail"].as_str().unwrap().to_owned();
            let takes: BTreeSet<&str> = detail
                .split_once("this endpoint takes ")
                .map(|(_, list)| list.split(", ").collect())
                .unwrap_or_default();
            assert_eq!(takes, documented_query, "{method} {path}");
        }
        for p in op["parameters"].as_array().into_iter().flatten() {
            if p["in"] == "query" && *method == "GET" && p["name"] != "q" {
                let sep = if uri.contains('?') { '&' } else { '?' };
                let bad = format!("{uri}{sep}{}=%00%00bad", p["name"].as_str().unwrap());
                let reply = get(&app, &bad).await;
                assert_eq!(reply.status, 400, "{bad}: {}", reply.text());
                assert_eq!(reply.json()["param"], p["name"], "{bad}");
            }
        }
        // Every security requirement names a scheme the document defines.
        for requirement in op["security"].as_array().into_iter().flatten() {
            for scheme in requirement.as_object().unwrap().keys() {
                assert!(
                    doc["components"]["securitySchemes"].get(scheme).is_some(),
                    "{method} {path} names the undefined scheme {scheme}"
                );
            }
        }
    }

    // Every reference points at a component the document holds (the generated document adds
    // each type a handler names; one left out would dangle).
    fn refs<'a>(value: &'a serde_json::Value, out: &mut Vec<&'a str>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(r) = map.get("$ref").and_then(|r| r.as_str()) {
                    out.push(r);
                }
                map.values().for_each(|v| refs(v, out));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    // No schema asks for two types at once (an `allOf` of an integer and an object, which an
    // inline value type with a doc comment turns into, is satisfied by no value).
    fn conflicting_types(value: &serde_json::Value, at: &str, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(parts) = map.get("allOf").and_then(|a| a.as_array()) {
                    let types: BTreeSet<String> = parts
                        .iter()
                        .filter_map(|p| p.get("type"))
                        .map(|t| t.to_string())
                        .collect();
                    if types.len() > 1 {
                        out.push(format!("{at}: {types:?}"));
                    }
                }
                for (k, v) in map {
                    conflicting_types(v, &format!("{at}/{k}"), out);
                }
            }
            serde_json::Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    conflicting_types(v, &format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
    }
    let mut conflicts = Vec::new();
    conflicting_types(&doc, "", &mut conflicts);
    assert!(conflicts.is_empty(), "{conflicts:#?}");

    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(all.len() > 100, "only {} references", all.len());
    for r in all {
        let pointer = r.strip_prefix('#').expect("a local reference");
        assert!(doc.pointer(pointer).is_some(), "{r} points at nothing");
    }
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let state = AppState::new(Config::default());
    let app = anirec_server::router(state.clone());
    assert_eq!(get(&app, "/healthz").await.status, 200);
    assert_problem(&get(&app, "/readyz").await, 503, None);
    assert_problem(
        &get(&app, "/api/v1/users/4/recommendations").await,
        503,
        None,
    );
    assert_eq!(get(&app, "/").await.status, 503);
    state.install(Served::new(bundle(), None));
    let ready = get(&app, "/readyz").await;
    assert_eq!(ready.status, 200);
    let version = ready.json()["model"].as_str().unwrap().to_owned();
    assert_eq!(
        get(&app, "/api/v1/model").await.json()["version"],
        version.as_str()
    );

    get(&app, "/api/v1/users/4/recommendations").await;
    get(&app, "/api/v1/anime/9").await;
    let metrics = get(&app, "/metrics").await;
    assert_eq!(metrics.status, 200);
    assert!(metrics.content_type().starts_with("text/plain"));
    let text = metrics.text();
    assert!(text.contains("anirec_http_requests_total{method=\"GET\",route=\"/api/v1/users/{id}/recommendations\",status=\"200\"}"), "{text}");
    assert!(
        text.contains(
            "anirec_http_requests_total{method=\"GET\",route=\"/api/v1/anime/{id}\",status=\"404\"}"
        ),
        "{text}"
    );
    assert!(text.contains("anirec_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/users/{id}/recommendations\",le=\"0.005\"}"), "{text}");
    assert!(
        text.contains(&format!("anirec_model_info{{version=\"{version}\"}} 1")),
        "{text}"
    );
}

#[tokio::test]
async fn hostile_requests_never_get_a_server_error() {
    let app = app();
    for uri in [
        "/api/v1/users/%FF%FE/recommendations",
        "/api/v1/users/-1/recommendations",
        "/api/v1/users/4/recommendations?k=%ZZ",
        "/api/v1/users/4/recommendations?genre=%00",
        "/api/v1/users/4/recommendations?year_min=99999999999999999999",
        "/api/v1/anime?q=%3Cscript%3E",
        "/api/v1/anime?q=%E2%80%8B%E2%80%8B",
        "/api/v1/anime/4294967296",
        "/api/v1/anime/100/similar?k=100&by=collab&genre=Action,Horror",
        "/recommendations?user=%3Cb%3E",
        "/recommendations?user=4&k=1000",
        "/anime/%3Cscript%3E",
        "/static/..%2F..%2FCargo.toml",
        "/fragments/recommendations",
    ] {
        let r = get(&app, uri).await;
        assert!(r.status.as_u16() < 500, "{uri}: {} {}", r.status, r.text());
        if r.content_type().starts_with("text/html") {
            assert!(
                !r.text().contains("<script>alert") && !r.text().contains("<b>"),
                "{uri}"
            );
        }
    }
    for (kind, body) in [
        ("application/json", vec![0xff; 64]),
        (
            "application/json",
            b"{\"ratings\": [{\"anime_id\": 1e99, \"rating\": 5}]}".to_vec(),
        ),
        (
            "application/xml",
            b"<?xml version=\"1.0\" encoding=\"bogus\"?><a/>".to_vec(),
        ),
        ("application/xml", vec![b'<'; 5000]),
        ("multipart/form-data; boundary=x", b"--x--".to_vec()),
    ] {
        let r = send(&app, "POST", "/api/v1/recommendations", Some(kind), body).await;
        assert!(
            r.status.is_client_error(),
            "{kind}: {} {}",
            r.status,
            r.text()
        );
    }
}

#[tokio::test]
async fn an_empty_year_range_matches_nothing() {
    let r = get(
        &app(),
        "/api/v1/users/4/recommendations?year_min=2010&year_max=2000",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["items"], serde_json::json!([]));
    let some = get(
        &app(),
        "/api/v1/users/4/recommendations?year_min=2000&year_max=2010",
    )
    .await;
    assert!(!some.json()["items"].as_array().unwrap().is_empty());
}
