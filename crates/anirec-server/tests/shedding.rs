//! The compute pool under pressure: a full queue sheds requests with 503 + `Retry-After` (and
//! counts them) while health and metrics keep answering; a request abandoned while it waits
//! never runs; the request timeout bounds a request stuck behind busy workers.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anirec_server::{Config, problem::Problem};
use common::*;

/// Occupies the pool's only thread until the returned sender is used (or dropped).
async fn hold_the_thread(state: &anirec_server::AppState) -> std::sync::mpsc::Sender<()> {
    let (release, wait) = std::sync::mpsc::channel::<()>();
    let (started, is_started) = tokio::sync::oneshot::channel();
    let compute = state.compute().clone();
    tokio::spawn(async move {
        compute
            .run(move || {
                let _ = started.send(());
                let _ = wait.recv();
                Ok::<(), Problem>(())
            })
            .await
    });
    is_started.await.expect("the blocking job started");
    release
}

fn shed_count(metrics: &str) -> u64 {
    metrics
        .lines()
        .find(|l| l.starts_with("anirec_compute_shed_total"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no anirec_compute_shed_total in:\n{metrics}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_sheds_with_503_and_retry_after_while_health_answers() {
    let state = state(Config {
        compute_threads: 1,
        compute_queue: 0,
        response_cache: 0,
        ..Config::default()
    });
    let app = anirec_server::router(state.clone());
    let before = shed_count(&get(&app, "/metrics").await.text());
    let release = hold_the_thread(&state).await;

    for uri in [
        "/api/v1/users/4/recommendations",
        "/api/v1/anime?q=densetsu",
        &format!("/api/v1/anime/{}/similar", mal_id(3)),
        "/api/v1/users/4/similar",
        "/recommendations?user=4",
    ] {
        let shed = get(&app, uri).await;
        assert_eq!(shed.status, 503, "{uri}: {}", shed.text());
        assert_eq!(shed.headers["retry-after"], "1", "{uri}");
        if uri.starts_with("/api") {
            assert_problem(&shed, 503, None);
            assert_eq!(shed.json()["title"], "Overloaded");
        }
    }
    let shed = post_json(
        &app,
        "/api/v1/recommendations",
        &serde_json::json!({"ratings": [{"anime_id": mal_id(1), "rating": 9}]}),
    )
    .await;
    assert_problem(&shed, 503, None);
    // Health, readiness and metrics need no compute thread.
    assert_eq!(get(&app, "/healthz").await.status, 200);
    assert_eq!(get(&app, "/readyz").await.status, 200);
    let metrics = get(&app, "/metrics").await;
    assert_eq!(metrics.status, 200);
    assert!(shed_count(&metrics.text()) >= before + 6);

    release.send(()).unwrap();
    // The pool takes work again once the thread is free.
    let mut ok = get(&app, "/api/v1/users/4/recommendations").await;
    for _ in 0..100 {
        if ok.status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        ok = get(&app, "/api/v1/users/4/recommendations").await;
    }
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(ok.json()["items"].as_array().unwrap().len(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_abandoned_while_waiting_never_runs() {
    let state = state(Config {
        compute_threads: 1,
        compute_queue: 4,
        ..Config::default()
    });
    let release = hold_the_thread(&state).await;
    let ran = Arc::new(AtomicBool::new(false));
    let flag = ran.clone();
    let waited = tokio::time::timeout(
        Duration::from_millis(50),
        state.compute().run(move || {
            flag.store(true, Ordering::SeqCst);
            Ok::<(), Problem>(())
        }),
    )
    .await;
    assert!(waited.is_err(), "the job could not have had a turn");
    release.send(()).unwrap();
    // A later job runs; the abandoned one never did, and its queue slot is free again.
    let later = state.compute().run(|| Ok::<u32, Problem>(7)).await;
    assert_eq!(later, Ok(7));
    assert!(!ran.load(Ordering::SeqCst));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_timeout_bounds_a_request_waiting_for_the_pool() {
    let state = state(Config {
        compute_threads: 1,
        compute_queue: 4,
        response_cache: 0,
        request_timeout: Duration::from_millis(200),
        ..Config::default()
    });
    let app = anirec_server::router(state.clone());
    let release = hold_the_thread(&state).await;
    let timed_out = get(&app, "/api/v1/users/4/recommendations").await;
    assert_eq!(timed_out.status, 503);
    release.send(()).unwrap();
    let ok = get(&app, "/api/v1/users/4/recommendations").await;
    assert_eq!(ok.status, 200, "{}", ok.text());
}
