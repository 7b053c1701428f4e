//! MyAnimeList exports as fans bring them: the `.xml.gz` MyAnimeList downloads (as
//! `application/gzip`, `Content-Encoding: gzip` or a form upload), UTF-16 files, manga lists,
//! lists longer than a JSON body may be, titles newer than the catalogue, and watching statuses
//! that count at scoring time as in training.

mod common;

use std::io::Write;

use anirec_server::Config;
use axum::body::Body;
use axum::http::Request;
use common::*;

/// One `<anime>` entry as MyAnimeList writes it.
fn entry(id: u32, title: &str, score: u8, status: &str) -> String {
    format!(
        "\t<anime>\r\n\t\t<series_animedb_id>{id}</series_animedb_id>\r\n\t\t<series_title><![CDATA[{title}]]></series_title>\r\n\t\t<my_watched_episodes>12</my_watched_episodes>\r\n\t\t<my_score>{score}</my_score>\r\n\t\t<my_status>{status}</my_status>\r\n\t</anime>\r\n"
    )
}

/// An export of `entries` (CRLF lines, as MyAnimeList writes it).
fn export(entries: &str) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\r\n<myanimelist>\r\n\t<myinfo>\r\n\t\t<user_name>fan</user_name>\r\n\t\t<user_export_type>1</user_export_type>\r\n\t</myinfo>\r\n{entries}</myanimelist>\r\n"
    )
    .into_bytes()
}

/// A horror fan's list with two titles newer than the catalogue and one unreadable entry.
fn horror_fan() -> Vec<u8> {
    let mut entries = String::new();
    for (i, score) in [(24, 10), (25, 9), (26, 8)] {
        entries.push_str(&entry(mal_id(i), "Horror", score, "Completed"));
    }
    entries.push_str(&entry(52991, "Sousou no Frieren", 10, "Completed"));
    entries.push_str(&entry(50265, "Spy x Family", 8, "Completed"));
    entries.push_str(&entry(mal_id(27), "Bad score", 11, "Completed"));
    export(&entries)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

fn utf16(data: &[u8]) -> Vec<u8> {
    let text = std::str::from_utf8(data).unwrap();
    let mut out = vec![0xff, 0xfe];
    out.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    out
}

fn form(file_name: &str, file: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--AaB03x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(b"\r\n--AaB03x--\r\n");
    body
}

#[tokio::test]
async fn gzip_and_utf16_exports_answer_like_the_plain_one_and_say_what_was_not_used() {
    let app = app();
    let uri = "/api/v1/recommendations?k=6";
    let plain = send(&app, "POST", uri, Some("application/xml"), horror_fan()).await;
    assert_eq!(plain.status, 200, "{}", plain.text());
    let subject = &plain.json()["subject"];
    assert_eq!(subject["ratings"], 3);
    assert_eq!(subject["used"], 3);
    assert_eq!(subject["not_in_catalogue"], 2);
    assert_eq!(
        subject["unknown_anime_ids"],
        serde_json::json!([52991, 50265])
    );
    assert_eq!(
        subject["unknown_titles"],
        serde_json::json!(["Sousou no Frieren", "Spy x Family"])
    );
    assert_eq!(subject["skipped"], serde_json::json!({"bad_rating": 1}));
    assert_eq!(
        subject["notes"],
        serde_json::json!([
            "2 titles on your list are newer than our catalogue (or unknown to it) and were not used: Sousou no Frieren, Spy x Family",
            "1 entry could not be read (1 with a score outside 0-10)"
        ])
    );
    assert_eq!(plain.ids().len(), 6);

    let gz = gzip(&horror_fan());
    let encoded = Request::post(uri)
        .header("content-type", "application/xml")
        .header("content-encoding", "gzip")
        .body(Body::from(gz.clone()))
        .unwrap();
    for (name, reply) in [
        (
            "application/gzip",
            send(&app, "POST", uri, Some("application/gzip"), gz.clone()).await,
        ),
        ("content-encoding", call(&app, encoded).await),
        (
            "form .xml.gz",
            send(
                &app,
                "POST",
                uri,
                Some("multipart/form-data; boundary=AaB03x"),
                form("animelist.xml.gz", &gz),
            )
            .await,
        ),
        (
            "utf-16",
            send(&app, "POST", uri, Some("text/xml"), utf16(&horror_fan())).await,
        ),
    ] {
        assert_eq!(reply.status, 200, "{name}: {}", reply.text());
        assert_eq!(reply.json()["subject"], plain.json()["subject"], "{name}");
        assert_eq!(reply.ids(), plain.ids(), "{name}");
    }
}

#[tokio::test]
async fn a_form_carries_one_file_field_and_anything_else_is_named() {
    let app = app();
    let part = |name: &str, content: &str| {
        format!("--AaB03x\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{content}\r\n")
    };
    let json = format!(
        r#"{{"ratings": [{{"anime_id": {}, "rating": 9}}]}}"#,
        mal_id(3)
    );
    let json = json.as_str();
    let post = |kind: &'static str, body: String| {
        let app = app.clone();
        async move {
            send(
                &app,
                "POST",
                "/api/v1/recommendations",
                Some(kind),
                body.into_bytes(),
            )
            .await
        }
    };
    let kind = "multipart/form-data; boundary=AaB03x";
    let ok = post(
        kind,
        format!("preamble\r\n{}--AaB03x--\r\n", part("file", json)),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(ok.json()["subject"]["used"], 1);
    for (body, says) in [
        (
            format!("{}{}--AaB03x--\r\n", part("note", "hi"), part("file", json)),
            "a field \"note\" besides the file",
        ),
        (
            format!("{}{}--AaB03x--\r\n", part("file", json), part("file", json)),
            "two file fields",
        ),
        (
            format!("{}--AaB03x--\r\n", part("other", json)),
            "\"other\"",
        ),
        ("--AaB03x--\r\n".to_owned(), "no field \"file\""),
        (part("file", json), "cannot be read"),
    ] {
        let r = post(kind, body).await;
        assert_problem(&r, 422, None);
        let detail = r.json()["detail"].as_str().unwrap().to_owned();
        assert!(detail.contains(says), "{detail}");
    }
    let no_boundary = post("multipart/form-data", part("file", json)).await;
    assert_problem(&no_boundary, 422, None);
}

#[tokio::test]
async fn json_may_come_gzip_encoded_and_other_encodings_are_named() {
    let app = app();
    let json = serde_json::json!({"ratings": [{"anime_id": mal_id(1), "rating": 9}]});
    let body = serde_json::to_vec(&json).unwrap();
    let encoded = Request::post("/api/v1/recommendations")
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(Body::from(gzip(&body)))
        .unwrap();
    let r = call(&app, encoded).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["subject"]["used"], 1);
    let br = Request::post("/api/v1/recommendations")
        .header("content-type", "application/json")
        .header("content-encoding", "br")
        .body(Body::from(body))
        .unwrap();
    let r = call(&app, br).await;
    assert_problem(&r, 415, None);
    assert!(r.json()["detail"].as_str().unwrap().contains("\"br\""));
}

#[tokio::test]
async fn a_manga_list_is_refused_as_such() {
    let app = app();
    let manga = b"<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\r\n<myanimelist>\r\n<myinfo>\r\n<user_export_type>2</user_export_type>\r\n</myinfo>\r\n<manga><manga_mangadb_id>2</manga_mangadb_id><my_score>10</my_score></manga>\r\n</myanimelist>\r\n";
    for body in [manga.to_vec(), gzip(manga)] {
        let r = send(
            &app,
            "POST",
            "/api/v1/recommendations",
            Some("application/xml"),
            body,
        )
        .await;
        assert_problem(&r, 422, None);
        let detail = r.json()["detail"].as_str().unwrap().to_owned();
        assert!(
            detail.contains("upload:4: this is a manga list; export your anime list"),
            "{detail}"
        );
    }
}

#[tokio::test]
async fn long_lists_fit_as_exports_and_the_limits_say_how() {
    // 5,000 entries of about 1 KB, as real exports run: more than a JSON body may be, less
    // than an export.
    let title = "A Very Long Title of a Long-Running Show ".repeat(20);
    let entries: String = (0..5_000)
        .map(|i| entry(mal_id(i % 36), &title, 1 + (i % 10) as u8, "Completed"))
        .collect();
    let heavy = export(&entries);
    let config = Config::default();
    assert!(heavy.len() > config.max_body_bytes && heavy.len() < config.max_export_bytes);
    let app = app();
    let r = send(
        &app,
        "POST",
        "/api/v1/recommendations",
        Some("application/xml"),
        heavy.clone(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["subject"]["used"], 5_000);

    // Over the export limit: 413 naming the limit and the ways to fit.
    let small = anirec_server::router(state(Config {
        max_export_bytes: 1 << 20,
        max_body_bytes: 100_000,
        ..Config::default()
    }));
    for kind in ["application/xml", "multipart/form-data; boundary=AaB03x"] {
        let r = send(
            &small,
            "POST",
            "/api/v1/recommendations",
            Some(kind),
            heavy.clone(),
        )
        .await;
        assert_problem(&r, 413, None);
        let detail = r.json()["detail"].as_str().unwrap().to_owned();
        assert!(detail.contains("limit of 1048576 bytes"), "{detail}");
        assert!(
            detail.contains(".xml.gz") && detail.contains("--max-export-bytes"),
            "{detail}"
        );
    }
    // The same list gzip-compressed fits.
    let r = send(
        &small,
        "POST",
        "/api/v1/recommendations",
        Some("application/gzip"),
        gzip(&heavy),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    // A JSON body over its limit points at the export route.
    let json = serde_json::json!({"ratings": (0..6_000).map(|i| serde_json::json!({"anime_id": i, "rating": 5})).collect::<Vec<_>>()});
    let r = post_json(&small, "/api/v1/recommendations", &json).await;
    assert_problem(&r, 413, None);
    assert!(
        r.json()["detail"]
            .as_str()
            .unwrap()
            .contains("MyAnimeList export")
    );
    // A gzip bomb: 413 naming the unpacked limit, from a small upload.
    let bomb = gzip(&vec![
        b' ';
        anirec_data::formats::malxml::MAX_XML_BYTES + 10
    ]);
    assert!(bomb.len() < 100_000);
    let r = send(
        &small,
        "POST",
        "/api/v1/recommendations",
        Some("application/gzip"),
        bomb,
    )
    .await;
    assert_problem(&r, 413, None);
    assert!(
        r.json()["detail"]
            .as_str()
            .unwrap()
            .contains("unpacks to more than")
    );
}

#[tokio::test]
async fn too_many_entries_are_refused_by_the_entry_limit() {
    let entries: String = (0..=anirec_server::upload::MAX_ENTRIES)
        .map(|i| {
            format!(
                "<anime><series_animedb_id>{}</series_animedb_id></anime>",
                mal_id((i % 36) as u32)
            )
        })
        .collect();
    let r = send(
        &app(),
        "POST",
        "/api/v1/recommendations",
        Some("application/xml"),
        export(&entries),
    )
    .await;
    assert_problem(&r, 413, None);
    assert!(
        r.json()["detail"]
            .as_str()
            .unwrap()
            .contains("at most 20000 are read")
    );
}

/// The anime ids and reason texts of an answer.
fn reasons(r: &Reply) -> Vec<String> {
    r.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["reasons"].as_array().unwrap().clone())
        .map(|x| x["text"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn plan_to_watch_and_dropped_entries_are_not_liked_at_scoring_time() {
    let app = app();
    // A horror fan who also plans to watch four romance anime and dropped one.
    let mut entries = String::new();
    for (i, score) in [(24, 10), (25, 9), (26, 9), (27, 8)] {
        entries.push_str(&entry(mal_id(i), "Horror", score, "Completed"));
    }
    for i in 12..16 {
        entries.push_str(&entry(mal_id(i), "Romance", 0, "Plan to Watch"));
    }
    entries.push_str(&entry(mal_id(16), "Romance", 0, "Dropped"));
    let list = export(&entries);
    let r = send(
        &app,
        "POST",
        "/api/v1/recommendations?k=5&explain=true",
        Some("application/xml"),
        list.clone(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let texts = reasons(&r);
    assert!(!texts.is_empty());
    assert!(
        texts.iter().all(|t| !t.contains("Romance Densetsu")),
        "a planned or dropped title was given as a reason: {texts:?}"
    );
    // The same list with the statuses left out reads the unscored entries as watched: the
    // romance anime then rank higher among all the others.
    let unknown = String::from_utf8(list.clone())
        .unwrap()
        .replace("<my_status>Plan to Watch</my_status>", "")
        .replace("<my_status>Dropped</my_status>", "");
    // The mean place of the romance anime not on the list (30 for one outside the top 30).
    let romance_rank = |r: &Reply| {
        let ids = r.ids();
        let unlisted = mal_id(17)..mal_id(24);
        let places: Vec<usize> = unlisted
            .clone()
            .map(|a| ids.iter().position(|&id| id == u64::from(a)).unwrap_or(30))
            .collect();
        assert!(places.iter().any(|&p| p < 30), "{ids:?}");
        places.iter().sum::<usize>() as f64 / places.len() as f64
    };
    let all = "/api/v1/recommendations?k=30";
    let with_status = send(&app, "POST", all, Some("application/xml"), list).await;
    let without = send(
        &app,
        "POST",
        all,
        Some("application/xml"),
        unknown.into_bytes(),
    )
    .await;
    assert_eq!(without.status, 200, "{}", without.text());
    assert!(
        romance_rank(&with_status) > romance_rank(&without),
        "{} vs {}",
        romance_rank(&with_status),
        romance_rank(&without)
    );
    // Statuses in JSON ratings count the same way.
    let json = serde_json::json!({"ratings": [
        {"anime_id": mal_id(24), "rating": 10, "status": "completed"},
        {"anime_id": mal_id(12), "rating": 0, "status": "plan_to_watch"},
        {"anime_id": mal_id(13), "rating": 0, "status": "plan_to_watch"}
    ]});
    let j = post_json(&app, "/api/v1/recommendations?k=5&explain=true", &json).await;
    assert_eq!(j.status, 200, "{}", j.text());
    assert!(
        reasons(&j).iter().all(|t| !t.contains("Romance Densetsu")),
        "{:?}",
        reasons(&j)
    );
    let bad = post_json(
        &app,
        "/api/v1/recommendations",
        &serde_json::json!({"ratings": [{"anime_id": mal_id(24), "rating": 10, "status": "finished"}]}),
    )
    .await;
    assert_problem(&bad, 422, None);
}

#[tokio::test]
async fn the_page_fragment_says_what_was_not_used() {
    let app = app();
    let r = send(
        &app,
        "POST",
        "/fragments/recommendations",
        Some("application/xml"),
        horror_fan(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let html = r.text();
    assert!(
        html.contains("2 titles on your list are newer than our catalogue (or unknown to it) and were not used: Sousou no Frieren, Spy x Family"),
        "{html}"
    );
    assert!(html.contains("1 entry could not be read"), "{html}");
}
