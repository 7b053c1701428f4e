//! "This season" over the fixture model: a season's anime by members for anyone, by predicted
//! rating for a known user with the sequels of franchises they liked marked, and bad parameters
//! refused with the parameter named.

mod common;

use anirec_data::{AnimeIx, MalId, UserIx};
use common::*;

fn season_name(k: u32) -> &'static str {
    ["winter", "spring", "summer", "fall"][k as usize % 4]
}

#[tokio::test]
async fn a_season_lists_its_anime_by_members_for_anyone() {
    let app = app();
    // Anime k = 1 of every genre premiered in spring 1992 (three of them).
    let r = get(&app, "/api/v1/seasons/1992/spring?k=10").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    assert_eq!(
        (body["year"].as_u64(), body["season"].as_str()),
        (Some(1992), Some("spring"))
    );
    assert_eq!(body["ranked_for"], "popularity");
    let items = body["items"].as_array().unwrap();
    let expected: Vec<u64> = (0..3)
        .map(|g| u64::from(mal_id(g * PER_GENRE + 1)))
        .collect();
    let mut got: Vec<u64> = items
        .iter()
        .map(|i| i["anime_id"].as_u64().unwrap())
        .collect();
    got.sort_unstable();
    let mut want = expected.clone();
    want.sort_unstable();
    assert_eq!(got, want);
    for item in items {
        assert_eq!(
            (item["year"].as_u64(), item["season"].as_str()),
            (Some(1992), Some("spring"))
        );
        assert!(item.get("predicted_rating").is_none());
    }
    let members: Vec<u64> = items
        .iter()
        .map(|i| i["members"].as_u64().unwrap())
        .collect();
    assert!(members.windows(2).all(|w| w[0] >= w[1]), "{members:?}");
    // k cuts the list, offset continues it; a season without anime answers an empty one.
    let one = get(&app, "/api/v1/seasons/1992/spring?k=1").await.json();
    assert_eq!(one["items"].as_array().unwrap().len(), 1);
    assert_eq!(one["next_offset"], 1);
    let in_order: Vec<u64> = items
        .iter()
        .map(|i| i["anime_id"].as_u64().unwrap())
        .collect();
    let mut paged = Vec::new();
    for offset in 0..3 {
        let path = format!("/api/v1/seasons/1992/spring?k=1&offset={offset}");
        paged.extend(get(&app, &path).await.ids());
    }
    assert_eq!(paged, in_order);
    let last = get(&app, "/api/v1/seasons/1992/spring?k=1&offset=2")
        .await
        .json();
    assert_eq!(last["next_offset"], 3, "a full page: there may be more");
    let past = get(&app, "/api/v1/seasons/1992/spring?k=1&offset=3")
        .await
        .json();
    assert!(past["items"].as_array().unwrap().is_empty() && past["next_offset"].is_null());
    let none = get(&app, "/api/v1/seasons/2099/fall").await.json();
    assert!(none["items"].as_array().unwrap().is_empty());
    // `current` and `upcoming` answer a season of their own.
    for path in ["/api/v1/seasons/current", "/api/v1/seasons/upcoming"] {
        let r = get(&app, path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        assert!(r.json()["year"].as_u64().unwrap() >= 2026, "{path}");
    }
}

#[tokio::test]
async fn a_known_user_gets_the_season_by_predicted_rating_with_their_sequels_marked() {
    let app = app();
    let bundle = bundle();
    let ix = |id: u32| bundle.catalogue.index_of(MalId(id)).unwrap();
    // A user who liked the franchise's first season (101) and has not rated its second (102).
    let (first, second) = (ix(FRANCHISE_ORDER[0]), ix(FRANCHISE_ORDER[1]));
    let liked = |u: u32, a: AnimeIx| {
        bundle
            .ratings
            .user(UserIx(u))
            .rating_of(a.0)
            .is_some_and(|r| r >= 8)
    };
    let rated = |u: u32, a: AnimeIx| bundle.ratings.user(UserIx(u)).rating_of(a.0).is_some();
    let user = (0..bundle.ratings.n_users() as u32)
        .find(|&u| liked(u, first) && !rated(u, second))
        .expect("a fan of the first season who has not rated the second");
    let user_id = bundle.ratings.user_id(UserIx(user));
    let anime = &bundle.catalogue[second];
    let k = anime.start_year.unwrap() as u32 - 1990;
    let uri = format!(
        "/api/v1/seasons/{}/{}?k=20&user_id={}",
        anime.start_year.unwrap(),
        season_name(k / 2),
        user_id
    );
    let r = get(&app, &uri).await;
    assert_eq!(r.status, 200, "{uri}: {}", r.text());
    let body = r.json();
    assert_eq!(body["ranked_for"], "user");
    let items = body["items"].as_array().unwrap();
    let predicted: Vec<f64> = items
        .iter()
        .map(|i| i["predicted_rating"].as_f64().unwrap())
        .collect();
    assert!(predicted.windows(2).all(|w| w[0] >= w[1]), "{predicted:?}");
    let sequel = items
        .iter()
        .find(|i| i["anime_id"] == FRANCHISE_ORDER[1])
        .unwrap_or_else(|| panic!("{} in {body}", FRANCHISE_ORDER[1]));
    assert_eq!(
        sequel["sequel_of"]["anime_id"], FRANCHISE_ORDER[0],
        "{sequel}"
    );
}

#[tokio::test]
async fn bad_seasons_years_and_users_are_refused_with_the_parameter_named() {
    let app = app();
    for (uri, status, param) in [
        ("/api/v1/seasons/20x5/fall", 400, Some("year")),
        ("/api/v1/seasons/1899/fall", 400, Some("year")),
        ("/api/v1/seasons/1992/autumnal", 400, Some("season")),
        ("/api/v1/seasons/1992/spring?k=0", 400, Some("k")),
        (
            "/api/v1/seasons/1992/spring?user_id=x",
            400,
            Some("user_id"),
        ),
        ("/api/v1/seasons/1992/spring?user_id=4000000", 404, None),
    ] {
        let r = get(&app, uri).await;
        assert_problem(&r, status, param);
    }
}
