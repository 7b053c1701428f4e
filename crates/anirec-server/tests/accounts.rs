//! Accounts through the API, on SQLite and on PostgreSQL: sign-up, tokens, sessions with their
//! cookie and cross-site refusal, sign-in limits, a fan's list (edits, import, export and its
//! round trip, "not interested"), recommendations from the stored list, and bad input that never
//! changes stored data.

mod common;

use anirec_server::Config;
use anirec_store::scratch::Scratch;
use axum::Router;
use axum::body::Body;
use axum::http::Request;
use common::*;
use serde_json::json;

/// The test model's server with accounts on `db`.
fn accounts_app(db: &Scratch) -> Router {
    let state = state(Config::default());
    state.attach_accounts(db.store.clone());
    anirec_server::router(state)
}

/// A request with a bearer token (or none) and optional JSON body.
async fn authed(
    app: &Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> Reply {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        request = request.header("authorization", format!("Bearer {t}"));
    }
    let body = match body {
        Some(b) => {
            request = request.header("content-type", "application/json");
            Body::from(serde_json::to_vec(&b).unwrap())
        }
        None => Body::empty(),
    };
    call(app, request.body(body).unwrap()).await
}

/// Signs up `name` and returns an API token for it.
async fn token_for(app: &Router, name: &str) -> String {
    let credentials = json!({"username": name, "password": "a long enough password"});
    let r = post_json(app, "/api/v1/accounts", &credentials).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let r = post_json(app, "/api/v1/tokens", &credentials).await;
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["token"].as_str().unwrap().to_owned()
}

async fn sign_up_tokens_and_bad_credentials(app: &Router) {
    let r = post_json(
        app,
        "/api/v1/accounts",
        &json!({"username": "Fan", "password": "hunter2hunter2"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["username"], "Fan");
    let taken = post_json(
        app,
        "/api/v1/accounts",
        &json!({"username": "fan", "password": "hunter2hunter2"}),
    )
    .await;
    assert_problem(&taken, 409, Some("username"));
    for (body, param) in [
        (
            json!({"username": "x".repeat(33), "password": "hunter2hunter2"}),
            "username",
        ),
        (
            json!({"username": "ok_name", "password": "p".repeat(1025)}),
            "password",
        ),
        (
            json!({"username": "ok_name", "password": "short"}),
            "password",
        ),
        (
            json!({"username": "Robert'); DROP TABLE accounts;--", "password": "hunter2hunter2"}),
            "username",
        ),
        (
            json!({"username": 5, "password": "hunter2hunter2"}),
            "username",
        ),
    ] {
        assert_problem(
            &post_json(app, "/api/v1/accounts", &body).await,
            422,
            Some(param),
        );
    }

    // Unknown username and wrong password: the same answer.
    let wrong = post_json(
        app,
        "/api/v1/tokens",
        &json!({"username": "fan", "password": "not the password"}),
    )
    .await;
    let unknown = post_json(
        app,
        "/api/v1/tokens",
        &json!({"username": "nobody", "password": "not the password"}),
    )
    .await;
    assert_problem(&wrong, 401, None);
    assert_eq!(
        (wrong.status, wrong.text()),
        (unknown.status, unknown.text())
    );
    assert!(wrong.headers.contains_key("www-authenticate"));

    let made = post_json(
        app,
        "/api/v1/tokens",
        &json!({"username": "FAN", "password": "hunter2hunter2", "name": "my script"}),
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.text());
    let token = made.json()["token"].as_str().unwrap().to_owned();
    let id = made.json()["id"].as_i64().unwrap();
    let me = authed(app, "GET", "/api/v1/me", Some(&token), None).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["username"], "Fan");
    let listed = authed(app, "GET", "/api/v1/tokens", Some(&token), None).await;
    assert_eq!(listed.json()["items"][0]["name"], "my script");
    assert!(
        !listed.text().contains(&token),
        "a token is shown once only"
    );

    // Forged and revoked tokens are refused; nobody else revokes mine.
    for forged in ["0".repeat(64), "not-a-token".to_owned()] {
        assert_problem(
            &authed(app, "GET", "/api/v1/me", Some(&forged), None).await,
            401,
            None,
        );
    }
    assert_problem(&get(app, "/api/v1/me").await, 401, None);
    let other = token_for(app, "other_fan").await;
    let theirs = authed(
        app,
        "DELETE",
        &format!("/api/v1/tokens/{id}"),
        Some(&other),
        None,
    )
    .await;
    assert_problem(&theirs, 404, None);
    let revoked = authed(
        app,
        "DELETE",
        &format!("/api/v1/tokens/{id}"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(revoked.status, 204);
    assert_problem(
        &authed(app, "GET", "/api/v1/me", Some(&token), None).await,
        401,
        None,
    );
}

#[tokio::test]
async fn accounts_and_tokens_on_both_engines() {
    for db in Scratch::both().await {
        sign_up_tokens_and_bad_credentials(&accounts_app(&db)).await;
        db.remove().await;
    }
}

#[tokio::test]
async fn browser_sessions_use_a_cookie_and_refuse_other_sites() {
    let db = Scratch::sqlite().await;
    let app = accounts_app(&db);
    let credentials = json!({"username": "browser", "password": "hunter2hunter2"});
    assert_eq!(
        post_json(&app, "/api/v1/accounts", &credentials)
            .await
            .status,
        201
    );
    let signed_in = post_json(&app, "/api/v1/sessions", &credentials).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.text());
    let cookie = signed_in.headers["set-cookie"].to_str().unwrap().to_owned();
    for part in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="] {
        assert!(cookie.contains(part), "{cookie}");
    }
    let session = cookie.split(';').next().unwrap().to_owned();
    let with_cookie =
        |method: &str, uri: &str, origin: Option<&str>, body: Option<serde_json::Value>| {
            let mut request = Request::builder()
                .method(method)
                .uri(uri)
                .header("host", "127.0.0.1:8080")
                .header("cookie", &session);
            if let Some(o) = origin {
                request = request.header("origin", o);
            }
            let body = match body {
                Some(b) => {
                    request = request.header("content-type", "application/json");
                    Body::from(serde_json::to_vec(&b).unwrap())
                }
                None => Body::empty(),
            };
            request.body(body).unwrap()
        };
    let me = call(&app, with_cookie("GET", "/api/v1/me", None, None)).await;
    assert_eq!(me.json()["username"], "browser");
    let entry = json!({"score": 9, "status": "completed", "episodes": 12});
    let uri = format!("/api/v1/me/list/{}", mal_id(0));
    // A state change from another site (or with no origin at all) is refused, and changes nothing.
    for origin in [Some("https://evil.example"), None] {
        let forged = call(&app, with_cookie("PUT", &uri, origin, Some(entry.clone()))).await;
        assert_problem(&forged, 403, None);
    }
    let list = call(&app, with_cookie("GET", "/api/v1/me/list", None, None)).await;
    assert_eq!(list.json()["items"].as_array().unwrap().len(), 0);
    let own = call(
        &app,
        with_cookie("PUT", &uri, Some("http://127.0.0.1:8080"), Some(entry)),
    )
    .await;
    assert_eq!(own.status, 200, "{}", own.text());
    // Signing out ends the session on the server: the old cookie is worthless.
    let out = call(
        &app,
        with_cookie(
            "DELETE",
            "/api/v1/sessions",
            Some("http://127.0.0.1:8080"),
            None,
        ),
    )
    .await;
    assert_eq!(out.status, 204);
    assert!(
        out.headers["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_problem(
        &call(&app, with_cookie("GET", "/api/v1/me", None, None)).await,
        401,
        None,
    );
    // Signing in from another site is refused too.
    let mut foreign = Request::builder()
        .method("POST")
        .uri("/api/v1/sessions")
        .header("host", "127.0.0.1:8080")
        .header("origin", "https://evil.example")
        .header("content-type", "application/json");
    foreign = foreign.header("accept", "application/json");
    let r = call(
        &app,
        foreign.body(Body::from(credentials.to_string())).unwrap(),
    )
    .await;
    assert_problem(&r, 403, None);
    db.remove().await;
}

#[tokio::test]
async fn sign_in_attempts_are_limited() {
    let db = Scratch::sqlite().await;
    let app = accounts_app(&db);
    token_for(&app, "target").await;
    let wrong = json!({"username": "target", "password": "wrong password"});
    for _ in 0..5 {
        assert_eq!(post_json(&app, "/api/v1/tokens", &wrong).await.status, 401);
    }
    let limited = post_json(&app, "/api/v1/tokens", &wrong).await;
    assert_problem(&limited, 429, None);
    assert!(
        limited.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );
    // Even the right password waits now: the limit is per account.
    let right = json!({"username": "target", "password": "a long enough password"});
    assert_eq!(post_json(&app, "/api/v1/tokens", &right).await.status, 429);
    db.remove().await;
}

/// A MyAnimeList export of `(anime, score, status words, episodes)`.
#[tokio::test]
async fn concurrent_guesses_meet_the_limit_as_sequential_ones_do() {
    let db = Scratch::sqlite().await;
    let app = accounts_app(&db);
    token_for(&app, "target").await;
    let wrong = json!({"username": "target", "password": "wrong password"});
    // Thirty at once: every one is admitted or refused before any password is checked.
    let mut sent = tokio::task::JoinSet::new();
    for _ in 0..30 {
        let (app, wrong) = (app.clone(), wrong.clone());
        sent.spawn(async move { post_json(&app, "/api/v1/tokens", &wrong).await });
    }
    let answers = sent.join_all().await;
    let checked = answers.iter().filter(|r| r.status == 401).count();
    let limited = answers.iter().filter(|r| r.status == 429).count();
    assert_eq!(checked + limited, 30);
    assert_eq!(
        checked,
        anirec_server::sign_in_limits::SignInLimits::PER_ACCOUNT,
        "passwords checked of 30 sent at once"
    );
    db.remove().await;
}

#[tokio::test]
async fn a_signed_in_fans_password_checks_are_limited_and_a_new_password_revokes_tokens() {
    let db = Scratch::sqlite().await;
    let app = accounts_app(&db);
    let token = token_for(&app, "guarded").await;
    let other = token_for(&app, "bystander").await;
    // Guesses through a stolen token: five are checked, then 429, for changes and deletion.
    for _ in 0..anirec_server::sign_in_limits::SignInLimits::PER_ACCOUNT {
        let r = authed(
            &app,
            "PUT",
            "/api/v1/me/password",
            Some(&token),
            Some(json!({"current": "a guess at it", "new": "a brand new password"})),
        )
        .await;
        assert_problem(&r, 401, Some("current"));
    }
    let limited = authed(
        &app,
        "PUT",
        "/api/v1/me/password",
        Some(&token),
        Some(json!({"current": "a long enough password", "new": "a brand new password"})),
    )
    .await;
    assert_problem(&limited, 429, None);
    let limited = authed(
        &app,
        "DELETE",
        "/api/v1/me",
        Some(&token),
        Some(json!({"password": "a long enough password"})),
    )
    .await;
    assert_problem(&limited, 429, None);
    // Another account is not held up by it.
    let changed = authed(
        &app,
        "PUT",
        "/api/v1/me/password",
        Some(&other),
        Some(json!({"current": "a long enough password", "new": "a brand new password"})),
    )
    .await;
    assert_eq!(changed.status, 204, "{}", changed.text());
    // The new password revoked the account's tokens.
    let after = authed(&app, "GET", "/api/v1/me", Some(&other), None).await;
    assert_problem(&after, 401, None);
    let fresh = post_json(
        &app,
        "/api/v1/tokens",
        &json!({"username": "bystander", "password": "a brand new password"}),
    )
    .await;
    assert_eq!(fresh.status, 201, "{}", fresh.text());
    db.remove().await;
}

#[tokio::test]
async fn private_answers_are_never_stored_and_public_ones_keep_their_policy() {
    let db = Scratch::sqlite().await;
    let app = accounts_app(&db);
    let credentials = json!({"username": "private", "password": "a long enough password"});
    let made = post_json(&app, "/api/v1/accounts", &credentials).await;
    let token_answer = post_json(&app, "/api/v1/tokens", &credentials).await;
    let token = token_answer.json()["token"].as_str().unwrap().to_owned();
    let session = post_json(&app, "/api/v1/sessions", &credentials).await;
    let cookie = session.headers["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let me = authed(&app, "GET", "/api/v1/me", Some(&token), None).await;
    let list = authed(&app, "GET", "/api/v1/me/list", Some(&token), None).await;
    let tokens = authed(&app, "GET", "/api/v1/tokens", Some(&token), None).await;
    let page = call(
        &app,
        Request::get("/me")
            .header("cookie", &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let home_signed_in = call(
        &app,
        Request::get("/")
            .header("cookie", &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    for (what, r) in [
        ("sign-up", &made),
        ("a new token", &token_answer),
        ("sign-in", &session),
        ("/api/v1/me", &me),
        ("/api/v1/me/list", &list),
        ("/api/v1/tokens", &tokens),
        ("/me", &page),
        ("a page signed in", &home_signed_in),
    ] {
        assert!(r.status.is_success(), "{what}: {}", r.text());
        assert_eq!(
            r.headers.get("cache-control").map(|v| v.to_str().unwrap()),
            Some("no-store"),
            "{what}"
        );
    }
    // A public answer asked anonymously is not marked; a static file keeps its own policy.
    let public = get(&app, "/api/v1/anime?q=a").await;
    assert!(public.headers.get("cache-control").is_none());
    let static_file = call(
        &app,
        Request::get("/static/app.js")
            .header("cookie", &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(static_file.status, 200);
    assert_eq!(
        static_file.headers["cache-control"].to_str().unwrap(),
        "public, max-age=3600"
    );
    db.remove().await;
}

fn export(entries: &[(u32, u8, &str, u32)]) -> Vec<u8> {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\r\n<myanimelist>\r\n<myinfo><user_name>fan</user_name><user_export_type>1</user_export_type></myinfo>\r\n",
    );
    for (id, score, status, episodes) in entries {
        xml.push_str(&format!("<anime><series_animedb_id>{id}</series_animedb_id><series_title><![CDATA[t]]></series_title><my_watched_episodes>{episodes}</my_watched_episodes><my_score>{score}</my_score><my_status>{status}</my_status></anime>\r\n"));
    }
    xml.push_str("</myanimelist>\r\n");
    xml.into_bytes()
}

async fn post_export(app: &Router, token: &str, body: Vec<u8>) -> Reply {
    let request = Request::builder()
        .method("POST")
        .uri("/api/v1/me/list/import")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/xml")
        .body(Body::from(body))
        .unwrap();
    call(app, request).await
}

async fn a_fans_list(app: &Router) {
    let token = token_for(app, "lister").await;
    let other = token_for(app, "someone_else").await;
    let t = Some(token.as_str());
    // Edits.
    let put = |anime: u32, body: serde_json::Value| {
        let token = token.clone();
        async move {
            authed(
                app,
                "PUT",
                &format!("/api/v1/me/list/{anime}"),
                Some(&token),
                Some(body),
            )
            .await
        }
    };
    let r = put(
        mal_id(0),
        json!({"score": 10, "status": "completed", "episodes": 24}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["status"], "completed");
    assert!(r.json()["title"].is_string());
    // Bad entries are refused by name and change nothing.
    for (anime, body, param) in [
        (
            mal_id(1),
            json!({"score": 11, "status": "completed"}),
            "score",
        ),
        (mal_id(1), json!({"score": 5, "status": "binged"}), "status"),
        (
            5_000_000,
            json!({"score": 5, "status": "completed"}),
            "anime_id",
        ),
        (
            mal_id(1),
            json!({"anime_id": mal_id(2), "score": 5, "status": "completed"}),
            "anime_id",
        ),
        (
            mal_id(1),
            json!({"score": "9'; DELETE FROM list_entries;--", "status": "completed"}),
            "score",
        ),
    ] {
        assert_problem(&put(anime, body).await, 422, Some(param));
    }
    // More episodes watched than the series has is refused, naming the count; where the
    // catalogue does not know the count (a film here), any number is taken.
    let over = put(
        mal_id(1),
        json!({"score": 5, "status": "watching", "episodes": 25}),
    )
    .await;
    assert_problem(&over, 422, Some("episodes"));
    assert!(
        over.json()["detail"]
            .as_str()
            .unwrap()
            .contains("has 24 episodes; 25 watched is more than that"),
        "{}",
        over.text()
    );
    let list = authed(app, "GET", "/api/v1/me/list", t, None).await;
    assert_eq!(list.ids(), [u64::from(mal_id(0))]);
    // Another fan sees none of it and cannot delete it.
    let theirs = authed(app, "GET", "/api/v1/me/list", Some(&other), None).await;
    assert!(theirs.ids().is_empty());
    let r = authed(
        app,
        "DELETE",
        &format!("/api/v1/me/list/{}", mal_id(0)),
        Some(&other),
        None,
    )
    .await;
    assert_problem(&r, 404, None);

    // Import a MyAnimeList export twice: the second changes nothing.
    let file = export(&[
        (mal_id(0), 0, "Completed", 24),
        (mal_id(1), 9, "Completed", 12),
        (mal_id(2), 8, "Watching", 3),
        (mal_id(3), 0, "Plan to Watch", 0),
        (mal_id(4), 0, "Plan to Watch", 0),
        (mal_id(13), 2, "Dropped", 1),
        (777_777, 7, "Completed", 1),
    ]);
    // (777,777 is an anime the catalogue lacks: kept, with the export's title "t".)
    let first = post_export(app, &token, file.clone()).await;
    assert_eq!(first.status, 200, "{}", first.text());
    let f = first.json();
    assert_eq!(
        (
            f["added"].as_u64(),
            f["unchanged"].as_u64(),
            f["not_in_catalogue"].as_u64()
        ),
        (Some(6), Some(1), Some(1))
    );
    assert_eq!(f["unknown_anime_ids"], serde_json::json!([777_777]));
    let before = authed(app, "GET", "/api/v1/me/list", t, None).await.json();
    let kept = before["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["anime_id"] == 777_777)
        .expect("the anime the catalogue lacks is on the list");
    assert_eq!(
        (
            &kept["title"],
            &kept["in_catalogue"],
            &kept["score"],
            &kept["episodes"]
        ),
        (&json!("t"), &json!(false), &json!(7), &json!(1))
    );
    let second = post_export(app, &token, file).await.json();
    assert_eq!(
        (second["added"].as_u64(), second["changed"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(
        authed(app, "GET", "/api/v1/me/list", t, None).await.json(),
        before
    );
    // The stored 10 survived the export's unscored entry.
    assert_eq!(before["items"][0]["score"], 10);
    // An in-app edit, then a re-import whose entry says update_on_import 0 (as MyAnimeList's
    // own exports do): the list's entry wins, and the answer says it was kept.
    let edit = json!({"score": 4, "status": "dropped", "episodes": 2});
    assert_eq!(put(mal_id(2), edit).await.status, 200);
    let stale = String::from_utf8(export(&[(mal_id(2), 8, "Watching", 3)]))
        .unwrap()
        .replace(
            "</my_status>",
            "</my_status><update_on_import>0</update_on_import>",
        );
    let again = post_export(app, &token, stale.into_bytes()).await;
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(
        (
            again.json()["kept"].as_u64(),
            again.json()["changed"].as_u64()
        ),
        (Some(1), Some(0))
    );
    let list = authed(app, "GET", "/api/v1/me/list", t, None).await.json();
    let mine = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["anime_id"] == mal_id(2))
        .expect("the edited entry");
    assert_eq!(
        (&mine["score"], &mine["status"], &mine["episodes"]),
        (&json!(4), &json!("dropped"), &json!(2))
    );
    // Put back as it was, for the export below.
    let back = json!({"score": 8, "status": "watching", "episodes": 3});
    assert_eq!(put(mal_id(2), back).await.status, 200);

    // Export as MyAnimeList XML; importing it into a new account gives the same list.
    let exported = authed(app, "GET", "/api/v1/me/list/export", t, None).await;
    assert_eq!(exported.status, 200);
    assert_eq!(exported.content_type(), "application/xml");
    let copy = token_for(app, "copy_of_lister").await;
    let imported = post_export(app, &copy, exported.body.clone()).await;
    assert_eq!(imported.json()["added"].as_u64(), Some(7));
    assert_eq!(imported.json()["not_in_catalogue"].as_u64(), Some(1));
    let strip = |v: serde_json::Value| -> Vec<(
        serde_json::Value,
        serde_json::Value,
        serde_json::Value,
        serde_json::Value,
    )> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["anime_id"].clone(),
                    i["score"].clone(),
                    i["status"].clone(),
                    i["episodes"].clone(),
                )
            })
            .collect()
    };
    let copied = authed(app, "GET", "/api/v1/me/list", Some(&copy), None)
        .await
        .json();
    assert_eq!(strip(copied.clone()), strip(before.clone()));
    let title_of = |list: &serde_json::Value| {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["anime_id"] == 777_777)
            .map(|i| i["title"].clone())
    };
    assert_eq!(title_of(&copied), Some(json!("t")));
    let csv = authed(app, "GET", "/api/v1/me/list/export?format=csv", t, None).await;
    assert!(
        csv.text()
            .starts_with("anime_id,title,score,status,episodes,updated_at\n")
    );
    assert_eq!(csv.text().lines().count(), 8);
    assert!(
        csv.text().contains("\n777777,t,7,completed,1,"),
        "{}",
        csv.text()
    );

    // Recommendations from the stored list leave out the list and "not interested".
    let recs = authed(app, "GET", "/api/v1/me/recommendations?k=5", t, None).await;
    assert_eq!(recs.status, 200, "{}", recs.text());
    let first_pick = recs.ids()[0];
    let listed: Vec<u64> = before["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["anime_id"].as_u64().unwrap())
        .collect();
    assert!(
        recs.ids().iter().all(|a| !listed.contains(a)),
        "{:?}",
        recs.ids()
    );
    let hide = authed(
        app,
        "PUT",
        &format!("/api/v1/me/not-interested/{first_pick}"),
        t,
        None,
    )
    .await;
    assert_eq!(hide.status, 204, "{}", hide.text());
    let again = authed(app, "GET", "/api/v1/me/recommendations?k=5", t, None).await;
    assert!(!again.ids().contains(&first_pick));
    assert_eq!(again.ids().len(), 5);
    let hidden = authed(app, "GET", "/api/v1/me/not-interested", t, None).await;
    assert_eq!(hidden.json()["items"], json!([first_pick]));
    // The taste: a fan of the first genre gets the first genre.
    assert!(
        again
            .ids()
            .iter()
            .take(3)
            .all(|&a| a < u64::from(mal_id(PER_GENRE))),
        "{:?}",
        again.ids()
    );

    // Plan to watch, ranked by predicted fit.
    let plan = authed(app, "GET", "/api/v1/me/plan-to-watch", t, None).await;
    assert_eq!(plan.status, 200, "{}", plan.text());
    let items = plan.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2);
    assert!(items[0]["predicted_rating"].as_f64() >= items[1]["predicted_rating"].as_f64());

    // Deleting the account deletes the list.
    let gone = authed(
        app,
        "DELETE",
        "/api/v1/me",
        t,
        Some(json!({"password": "wrong"})),
    )
    .await;
    assert_problem(&gone, 401, Some("password"));
    let gone = authed(
        app,
        "DELETE",
        "/api/v1/me",
        t,
        Some(json!({"password": "a long enough password"})),
    )
    .await;
    assert_eq!(gone.status, 204);
    assert_problem(
        &authed(app, "GET", "/api/v1/me/list", t, None).await,
        401,
        None,
    );
}

#[tokio::test]
async fn a_fans_list_on_both_engines() {
    for db in Scratch::both().await {
        a_fans_list(&accounts_app(&db)).await;
        db.remove().await;
    }
}

/// A bundle with a learned ranker behind accounts: a signed-in fan's stored list and a posted
/// list are both ranked by it, their picks explained, on the store's engine `db`.
async fn a_rankers_answers(db: &Scratch) {
    let state = ranker_state(Config::default());
    state.attach_accounts(db.store.clone());
    let app = anirec_server::router(state);
    let token = token_for(&app, "Ranked").await;
    let t = Some(token.as_str());
    for k in 0..5 {
        let body = json!({"status": "completed", "score": 9});
        let uri = format!("/api/v1/me/list/{}", mal_id(k));
        let r = authed(&app, "PUT", &uri, t, Some(body)).await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let uri = "/api/v1/me/recommendations?k=4&explain=true";
    let stored = authed(&app, "GET", uri, t, None).await;
    let list: Vec<_> = (0..5)
        .map(|k| json!({"anime_id": mal_id(k), "rating": 9}))
        .collect();
    let uri = "/api/v1/recommendations?k=4&explain=true";
    let posted = post_json(&app, uri, &json!({ "ratings": list })).await;
    for r in [&stored, &posted] {
        assert_eq!(r.status, 200, "{}", r.text());
        let items = r.json()["items"].as_array().unwrap().clone();
        assert_eq!(items.len(), 4, "{}", r.text());
        for item in &items {
            let reasons = item["reasons"].as_array().unwrap();
            assert!(!reasons.is_empty(), "explained: {item}");
        }
        // A fan of the first genre gets the first genre.
        assert!(
            r.ids()
                .iter()
                .take(3)
                .all(|&a| a < u64::from(mal_id(PER_GENRE))),
            "{:?}",
            r.ids()
        );
    }
}

#[tokio::test]
async fn a_learned_ranker_serves_and_explains_on_both_engines() {
    for db in Scratch::both().await {
        a_rankers_answers(&db).await;
        db.remove().await;
    }
}

async fn a_public_profile(app: &Router) {
    let token = token_for(app, "Shown").await;
    let t = Some(token.as_str());
    for (anime, status, score) in [
        (101, "completed", 9),
        (102, "watching", 0),
        (113, "plan_to_watch", 0),
    ] {
        let body = json!({"status": status, "score": score});
        let r = authed(
            app,
            "PUT",
            &format!("/api/v1/me/list/{anime}"),
            t,
            Some(body),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let hidden = 104;
    assert_eq!(
        authed(
            app,
            "PUT",
            &format!("/api/v1/me/not-interested/{hidden}"),
            t,
            None
        )
        .await
        .status,
        204
    );
    // Private until made public: its page and a name nobody has answer alike.
    let private = get(app, "/u/Shown").await;
    let nobody = get(app, "/u/nobody").await;
    assert_eq!(
        (private.status.as_u16(), nobody.status.as_u16()),
        (404, 404)
    );
    assert!(
        private
            .text()
            .contains("There is no public profile for Shown."),
        "{}",
        private.text()
    );
    assert!(
        nobody
            .text()
            .contains("There is no public profile for nobody.")
    );
    assert_eq!(get(app, "/u/%3Cscript%3E").await.status, 404);
    let r = authed(app, "GET", "/api/v1/me/profile", t, None).await;
    assert_eq!(r.json(), json!({"public": false, "url": "/u/Shown"}));
    // Only its owner turns it on, with a body that says so.
    assert_eq!(
        authed(
            app,
            "PUT",
            "/api/v1/me/profile",
            None,
            Some(json!({"public": true}))
        )
        .await
        .status,
        401
    );
    for bad in [
        json!({"public": "yes"}),
        json!({}),
        json!({"public": true, "list": "all"}),
    ] {
        let r = authed(app, "PUT", "/api/v1/me/profile", t, Some(bad.clone())).await;
        assert!(r.status.is_client_error(), "{bad}: {}", r.text());
    }
    assert_eq!(get(app, "/u/Shown").await.status, 404);
    let r = authed(
        app,
        "PUT",
        "/api/v1/me/profile",
        t,
        Some(json!({"public": true})),
    )
    .await;
    assert_eq!(r.json(), json!({"public": true, "url": "/u/Shown"}));
    // Public: the list by status and the picks, found by any case of the name; never the anime
    // marked not interested, never cached.
    let page = get(app, "/u/shown").await;
    assert_eq!(page.status, 200, "{}", page.text());
    assert_eq!(page.headers["cache-control"], "no-store");
    let html = page.text();
    assert!(
        html.contains("Shown</span>'s anime") && html.contains("3 anime on Shown's list"),
        "{html}"
    );
    for listed in [101, 102, 113] {
        assert!(
            html.contains(&format!("<tr data-anime-id=\"{listed}\">")),
            "{listed}: {html}"
        );
    }
    assert!(
        html.contains("Picks for Shown") && html.contains("class=\"card\""),
        "{html}"
    );
    // The picks speak of their owner, not of whoever reads them.
    assert!(
        html.contains("Predicted for Shown: ") && !html.contains("Predicted for you"),
        "{html}"
    );
    assert!(!html.contains("because you rated"), "{html}");
    assert!(
        !html.contains(&format!("data-anime-id=\"{hidden}\""))
            && !html.contains(&format!("/anime/{hidden}\""))
    );
    let watching = get(app, "/u/Shown?status=watching").await.text();
    assert!(
        watching.contains("<tr data-anime-id=\"102\">")
            && !watching.contains("<tr data-anime-id=\"101\">")
    );
    assert_eq!(get(app, "/u/Shown?status=sleeping").await.status, 400);
    // Private again: gone.
    authed(
        app,
        "PUT",
        "/api/v1/me/profile",
        t,
        Some(json!({"public": false})),
    )
    .await;
    assert_eq!(get(app, "/u/Shown").await.status, 404);
}

#[tokio::test]
async fn a_public_profile_on_both_engines() {
    for db in Scratch::both().await {
        a_public_profile(&accounts_app(&db)).await;
        db.remove().await;
    }
}

#[tokio::test]
async fn without_a_database_accounts_are_off() {
    let app = app();
    let r = post_json(
        &app,
        "/api/v1/accounts",
        &json!({"username": "fan", "password": "hunter2hunter2"}),
    )
    .await;
    assert_problem(&r, 503, None);
}

/// A form post to a page, with an origin and a cookie when given.
async fn form(
    app: &Router,
    uri: &str,
    origin: Option<&str>,
    cookie: Option<&str>,
    body: &str,
) -> Reply {
    let mut request = Request::builder()
        .method("POST")
        .uri(uri)
        .header("host", "127.0.0.1:8080")
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(o) = origin {
        request = request.header("origin", o);
    }
    if let Some(c) = cookie {
        request = request.header("cookie", c);
    }
    call(app, request.body(Body::from(body.to_owned())).unwrap()).await
}

async fn page(app: &Router, uri: &str, cookie: Option<&str>) -> Reply {
    let mut request = Request::builder().uri(uri).header("host", "127.0.0.1:8080");
    if let Some(c) = cookie {
        request = request.header("cookie", c);
    }
    call(app, request.body(Body::empty()).unwrap()).await
}

#[tokio::test]
async fn the_account_pages_sign_up_in_and_out() {
    let db = Scratch::sqlite().await;
    let app = accounts_app(&db);
    let here = Some("http://127.0.0.1:8080");
    let signin = page(&app, "/signin", None).await;
    assert_eq!(signin.status, 200);
    assert!(signin.text().contains("autocomplete=\"current-password\""));
    assert_eq!(page(&app, "/me", None).await.headers["location"], "/signin");

    // From another site: refused, and no account is made.
    let forged = form(
        &app,
        "/signup",
        Some("https://evil.example"),
        None,
        "username=page_fan&password=hunter2hunter2",
    )
    .await;
    assert_eq!(forged.status, 403);
    let made = form(
        &app,
        "/signup",
        here,
        None,
        "username=page_fan&password=hunter2hunter2",
    )
    .await;
    assert_eq!(made.status, 303, "{}", made.text());
    assert_eq!(made.headers["location"], "/me");
    let cookie = made.headers["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let me = page(&app, "/me", Some(&cookie)).await;
    assert_eq!(me.status, 200, "{}", me.text());
    assert!(me.text().contains("Signed in as page_fan"));
    assert!(me.text().contains("data-signed-in=\"page_fan\""));
    // The home page says who is signed in.
    assert!(
        page(&app, "/", Some(&cookie))
            .await
            .text()
            .contains("Sign out page_fan")
    );

    // A wrong password shows the form again with the error, keeping the username.
    let wrong = form(
        &app,
        "/signin",
        here,
        None,
        "username=page_fan&password=not+the+password",
    )
    .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.text().contains("wrong username or password"));
    assert!(wrong.text().contains("value=\"page_fan\""));
    let taken = form(
        &app,
        "/signup",
        here,
        None,
        "username=PAGE_FAN&password=hunter2hunter2",
    )
    .await;
    assert_eq!(taken.status, 409);

    // Signing out from another site does nothing; from here it ends the session.
    let forged_out = form(
        &app,
        "/signout",
        Some("https://evil.example"),
        Some(&cookie),
        "",
    )
    .await;
    assert_eq!(forged_out.status, 403);
    assert_eq!(page(&app, "/me", Some(&cookie)).await.status, 200);
    let out = form(&app, "/signout", here, Some(&cookie), "").await;
    assert_eq!(out.status, 303);
    assert_eq!(
        page(&app, "/me", Some(&cookie)).await.headers["location"],
        "/signin"
    );
    let back = form(
        &app,
        "/signin",
        here,
        None,
        "username=page_fan&password=hunter2hunter2",
    )
    .await;
    assert_eq!(back.status, 303);
    db.remove().await;
}

#[tokio::test]
async fn behind_a_proxy_the_forwarded_address_is_the_clients() {
    let db = Scratch::sqlite().await;
    let state = state(Config {
        client_ip_header: Some("x-forwarded-for".into()),
        sign_ins_per_address: 3,
        ..Config::default()
    });
    state.attach_accounts(db.store.clone());
    let app = anirec_server::router(state);
    let attempt = |from: &'static str| {
        let app = app.clone();
        async move {
            let request = Request::builder()
                .method("POST")
                .uri("/api/v1/tokens")
                .header("content-type", "application/json")
                .header("x-forwarded-for", from)
                .body(Body::from(
                    json!({"username": "nobody", "password": "not the password"}).to_string(),
                ))
                .unwrap();
            call(&app, request).await.status.as_u16()
        }
    };
    // The right-most address is the one the proxy saw; a client cannot dodge the limit by
    // putting other addresses in front.
    for spoofed in [
        "1.1.1.1, 203.0.113.7",
        "2.2.2.2, 203.0.113.7",
        "203.0.113.7",
    ] {
        assert_eq!(attempt(spoofed).await, 401);
    }
    assert_eq!(attempt("9.9.9.9, 203.0.113.7").await, 429);
    // Another client behind the same proxy is not held back.
    assert_eq!(attempt("198.51.100.4").await, 401);
    db.remove().await;
}
