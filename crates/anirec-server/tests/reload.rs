//! Hot reload: the admin endpoint's authentication, a new bundle swapped in while requests keep
//! coming (none may fail), and a bad bundle leaving the old model in place.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use anirec_server::{AppState, Config, Served};
use common::*;
use serde_json::json;

fn admin_state(dir: &std::path::Path) -> AppState {
    let served = Served::load(dir).expect("bundle loads");
    AppState::with_model(
        Config {
            admin_token: Some("s3cret".into()),
            ..Config::default()
        },
        served,
    )
}

async fn reload(app: &axum::Router, token: &str, body: serde_json::Value) -> Reply {
    let request = axum::http::Request::post("/api/v1/admin/reload")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(serde_json::to_vec(&body).unwrap()))
        .unwrap();
    call(app, request).await
}

#[tokio::test]
async fn admin_reload_needs_the_token_and_is_off_without_one() {
    // Off (no token configured): no token is right, and the answer says the endpoints are off.
    let off = app();
    let refused = reload(&off, "anything", json!({})).await;
    assert_problem(&refused, 401, None);
    assert!(
        refused.json()["detail"]
            .as_str()
            .unwrap()
            .contains("admin endpoints are off"),
        "{}",
        refused.text()
    );
    let dir = tempfile::tempdir().unwrap();
    save_bundle(dir.path());
    let app = anirec_server::router(admin_state(dir.path()));
    assert_problem(&reload(&app, "wrong", json!({})).await, 401, None);
    assert_problem(
        &post_json(&app, "/api/v1/admin/reload", &json!({})).await,
        401,
        None,
    );
    let missing = reload(&app, "s3cret", json!({"model": dir.path().join("nope")})).await;
    assert_problem(&missing, 404, Some("model"));
    // Something that is there but is no bundle: 422, and the model served stays.
    let not_a_bundle = reload(
        &app,
        "s3cret",
        json!({"model": dir.path().join("model.safetensors")}),
    )
    .await;
    assert_problem(&not_a_bundle, 422, None);
    let ok = reload(&app, "s3cret", json!({})).await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert!(ok.json()["seconds"].is_number());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn swapping_models_under_load_fails_no_request() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    save_bundle(&a);
    // A second bundle with another version: the same model, made a minute later.
    let mut later = bundle();
    later.manifest.created_at += 60;
    later.save(&b).unwrap();
    let state = admin_state(&a);
    let app = anirec_server::router(state.clone());
    let first = get(&app, "/readyz").await.json()["model"].clone();

    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for c in 0..6u32 {
        let (app, stop, answered) = (app.clone(), stop.clone(), answered.clone());
        clients.push(tokio::spawn(async move {
            let mut failures = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let r = if c % 2 == 0 {
                    get(
                        &app,
                        &format!("/api/v1/users/{}/recommendations?k=5", 1 + c),
                    )
                    .await
                } else {
                    post_json(
                        &app,
                        "/api/v1/recommendations",
                        &json!({"ratings": [{"anime_id": mal_id(c), "rating": 9}]}),
                    )
                    .await
                };
                let full = r.json()["items"].as_array().map_or(0, Vec::len) == 5;
                if r.status != 200 || (c % 2 == 0 && !full) {
                    failures.push(format!("{} {}", r.status, r.text()));
                }
                answered.fetch_add(1, Ordering::Relaxed);
            }
            failures
        }));
    }
    let mut versions = vec![first];
    for round in 0..6 {
        // The clients get answers from the model in place before each swap (so the swaps
        // happen while they run, however the threads are scheduled).
        let before = answered.load(Ordering::Relaxed);
        let waited = std::time::Instant::now();
        while answered.load(Ordering::Relaxed) < before + 4 {
            assert!(
                waited.elapsed().as_secs() < 60,
                "the clients stopped getting answers"
            );
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        let target = if round % 2 == 0 { &b } else { &a };
        let r = reload(&app, "s3cret", json!({"model": target})).await;
        assert_eq!(r.status, 200, "{}", r.text());
        versions.push(r.json()["version"].clone());
    }
    // A broken bundle is refused and the model in place keeps serving.
    std::fs::write(b.join("model.safetensors"), b"garbage").unwrap();
    assert_problem(
        &reload(&app, "s3cret", json!({"model": &b})).await,
        422,
        None,
    );
    stop.store(true, Ordering::Relaxed);
    let mut failures = Vec::new();
    for c in clients {
        failures.extend(c.await.unwrap());
    }
    assert!(
        failures.is_empty(),
        "{} failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(3)]
    );
    assert!(
        answered.load(Ordering::Relaxed) >= 24,
        "the clients ran during the swaps"
    );
    assert_ne!(
        versions[0], versions[1],
        "the two bundles have different versions"
    );
    assert_eq!(get(&app, "/readyz").await.json()["model"], versions[6]);
    assert_eq!(
        get(&app, "/api/v1/users/1/recommendations").await.status,
        200
    );
}
