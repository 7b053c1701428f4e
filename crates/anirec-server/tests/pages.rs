//! The web pages through the real router: content, escaping of hostile strings, the security
//! headers, the card fragment of the favourites flow, and the embedded static files.

mod common;

use axum::body::Body;
use axum::http::Request;
use common::*;
use serde_json::json;

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

/// Hostile strings appear only escaped.
fn assert_escaped(html: &str) {
    assert!(!html.contains("<script>alert"), "raw script in page");
    assert!(!html.contains("<b>bold</b>"), "raw markup in page");
    assert!(!html.contains("Adult Title <i>"), "raw markup in page");
}

#[tokio::test]
async fn home_page_has_the_forms_filters_and_security_headers() {
    let app = app();
    let r = get(&app, "/").await;
    assert_eq!(r.status, 200);
    assert!(r.content_type().starts_with("text/html"));
    let csp = r
        .headers
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        csp.contains("default-src 'self'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(r.headers.get("x-content-type-options").unwrap(), "nosniff");
    let html = r.text();
    for needle in [
        "id=\"user-form\"",
        "name=\"user\"",
        "id=\"fav-search\"",
        "id=\"mal-file\"",
        "name=\"genre\"",
        "<option>Romance</option>",
        "name=\"include_adult\"",
    ] {
        assert!(html.contains(needle), "{needle} missing: {html}");
    }
    // No inline script or style (the policy would block them).
    assert!(!html.contains("<script>") && !html.contains("style="));
}

#[tokio::test]
async fn a_users_page_shows_ten_explained_cards_with_escaped_synopses() {
    let app = app();
    let r = get(&app, "/recommendations?user=4&k=10").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let html = r.text();
    assert_eq!(count(&html, "<article class=\"card\""), 10);
    assert_eq!(count(&html, "<details class=\"synopsis\">"), 10);
    assert!(count(&html, "<div class=\"why\">") >= 1);
    assert!(html.contains("Romance Legend"), "English titles shown");
    assert!(html.contains("Romance伝説"), "Japanese titles shown");
    assert!(
        html.contains("&lt;script&gt;alert("),
        "the synopsis is shown escaped"
    );
    assert_escaped(&html);
    assert!(html.contains("data-user=\"4\""));

    let filtered = get(&app, "/recommendations?user=4&type=Movie").await.text();
    assert!(count(&filtered, "<article class=\"card\"") >= 1);
    assert_eq!(count(&filtered, "<li>TV</li>"), 0);

    let unknown = get(&app, "/recommendations?user=777").await;
    assert_eq!(unknown.status, 404);
    let said = unknown.text();
    assert!(
        said.contains("User 777 is not one of the")
            && said.contains("upload your MyAnimeList export"),
        "a fan's words, not the API's: {said}"
    );
    assert!(
        !said.contains("POST") && !said.contains("/api/v1/recommendations"),
        "no API words: {said}"
    );
    let hostile = get(
        &app,
        "/recommendations?user=%3Cscript%3Ealert(1)%3C/script%3E",
    )
    .await;
    assert_eq!(hostile.status, 400);
    assert!(hostile.text().contains("&lt;script&gt;") && !hostile.text().contains("<script>alert"));
}

#[tokio::test]
async fn anime_page_shows_details_and_similar_anime() {
    let app = app();
    let r = get(&app, &format!("/anime/{}?by=content", mal_id(5))).await;
    assert_eq!(r.status, 200);
    let html = r.text();
    assert!(html.contains("<h1>Action Legend 5</h1>"));
    assert!(html.contains("Studio Action"));
    assert!(count(&html, "<article class=\"card\"") >= 5);
    assert!(html.contains("aria-current=\"page\">Story and style"));
    // This model has no story embeddings: no "Similar plot" tab, and asking for it says why.
    assert!(!html.contains("?by=story"));
    let r = get(&app, &format!("/anime/{}?by=story", mal_id(5))).await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("Similar plots are off"));
    assert_eq!(count(&r.text(), "<article class=\"card\""), 0);
    assert_escaped(&html);
    assert_eq!(get(&app, "/anime/5").await.status, 404);
    assert_eq!(get(&app, "/no/such/page").await.status, 404);
}

#[tokio::test]
async fn the_card_fragment_answers_the_favourites_flow() {
    let app = app();
    let r = post_json(
        &app,
        "/fragments/recommendations?k=4",
        &json!({"ratings": [{"anime_id": mal_id(2), "rating": 10}, {"anime_id": mal_id(3), "rating": 9}]}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let html = r.text();
    // Four discovery cards, then the continue row: the fan rated anime 2 and 3, two seasons of
    // the franchise (see `common`), so its first season is next.
    let (discovery, row) = html.split_once("id=\"continue\"").expect("a continue row");
    assert_eq!(count(discovery, "<article class=\"card\""), 4);
    assert_eq!(count(row, "<article class=\"card\""), 1);
    assert!(row.contains("data-anime-id=\"101\""), "{row}");
    assert!(row.contains("Continue your series"));
    assert!(html.contains("data-ratings=\"2\""));
    assert!(html.contains("select data-rate="), "cards can be rated");
    assert!(html.contains("Action Legend"));
    assert_escaped(&html);
    assert!(
        html.contains("Predicted for you: <strong>"),
        "a prediction for a known list"
    );
    // An empty list says nothing of the fan: popular anime, each with its MyAnimeList score
    // labelled so, never a "prediction".
    let empty = post_json(
        &app,
        "/fragments/recommendations?k=4",
        &json!({"ratings": []}),
    )
    .await;
    assert_eq!(empty.status, 200, "{}", empty.text());
    let html = empty.text();
    assert!(count(&html, "<article class=\"card\"") > 0);
    assert!(!html.contains("Predicted for you"), "{html}");
    assert!(html.contains("MyAnimeList score <strong>"), "{html}");
    let bad = post_json(&app, "/fragments/recommendations", &json!({"ratings": "x"})).await;
    assert_problem(&bad, 422, None);
}

#[tokio::test]
async fn pages_link_static_files_by_content_hash_cached_for_a_year() {
    let app = app();
    let html = get(&app, "/").await.text();
    for (stem, ext) in [("style", "css"), ("app", "js"), ("favicon", "svg")] {
        let start = html
            .find(&format!("\"/static/{stem}."))
            .unwrap_or_else(|| panic!("no link to {stem}.{ext}: {html}"));
        let path = &html[start + 1..][..html[start + 1..].find('"').unwrap()];
        let hash = path
            .strip_prefix(&format!("/static/{stem}."))
            .and_then(|h| h.strip_suffix(&format!(".{ext}")))
            .unwrap_or_else(|| panic!("{path}"));
        assert!(
            hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
            "{path}"
        );
        let hashed = get(&app, path).await;
        assert_eq!(hashed.status, 200, "{path}");
        assert_eq!(
            hashed.headers["cache-control"].to_str().unwrap(),
            "public, max-age=31536000, immutable"
        );
        // The same bytes as the plain name, which is cached for an hour only; another hash (a
        // page of the release before) still gets the file, for an hour.
        let plain = get(&app, &format!("/static/{stem}.{ext}")).await;
        assert_eq!(plain.body, hashed.body);
        let stale = get(&app, &format!("/static/{stem}.0000000000000000.{ext}")).await;
        assert_eq!((stale.status.as_u16(), &stale.body), (200, &hashed.body));
        assert_eq!(
            stale.headers["cache-control"].to_str().unwrap(),
            "public, max-age=3600"
        );
    }
}

#[tokio::test]
async fn pages_scripts_and_json_are_compressed_for_clients_that_ask() {
    use std::io::Read;
    let app = app();
    for path in [
        "/",
        "/static/app.js",
        "/static/style.css",
        "/api/v1/users/4/recommendations",
    ] {
        let plain = get(&app, path).await;
        assert_eq!(plain.status, 200, "{path}");
        assert!(plain.headers.get("content-encoding").is_none(), "{path}");
        for encoding in ["gzip", "br"] {
            let r = call(
                &app,
                Request::get(path)
                    .header("accept-encoding", encoding)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
            assert_eq!(r.status, 200, "{path}");
            assert_eq!(r.headers["content-encoding"], encoding, "{path}");
            assert!(
                r.body.len() < plain.body.len(),
                "{path} {encoding}: no smaller"
            );
            assert_eq!(r.headers["vary"], "accept-encoding", "{path}");
            if encoding == "gzip" {
                let mut unpacked = Vec::new();
                flate2::read::GzDecoder::new(&r.body[..])
                    .read_to_end(&mut unpacked)
                    .unwrap();
                assert_eq!(unpacked, plain.body, "{path}");
            }
        }
    }
}

#[tokio::test]
async fn static_files_are_embedded_with_their_types() {
    let app = app();
    for (file, kind) in [
        ("style.css", "text/css"),
        ("app.js", "text/javascript"),
        ("favicon.svg", "image/svg+xml"),
    ] {
        let r = get(&app, &format!("/static/{file}")).await;
        assert_eq!(r.status, 200);
        assert!(r.content_type().starts_with(kind), "{file}");
        // Served byte for byte as the file in assets/ is.
        let on_disk = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("assets")
                .join(file),
        )
        .unwrap();
        assert_eq!(r.body, on_disk, "{file}");
        assert_eq!(
            r.headers["cache-control"].to_str().unwrap(),
            "public, max-age=3600"
        );
    }
    assert_eq!(get(&app, "/static/secret.txt").await.status, 404);
}
