//! `anirec serve` as a process: it trains and caches a model for `--data`, answers over real
//! HTTP with the same fold-in results as `anirec recommend`, passes `anirec probe`, reloads on
//! SIGHUP and stops cleanly on SIGTERM.

mod common;

use std::process::Command;

use common::mini;
use common::server::Server;

#[test]
fn serve_trains_caches_answers_like_the_cli_reloads_and_stops() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let (data, cache_s) = (mini(), cache.to_str().unwrap().to_owned());
    let data_s = data.to_str().unwrap();

    // First start: trains on the data without story embeddings and serves that model at once,
    // then embeds the stories (with the shared encoder, kept in an embedding cache of the
    // test's own), trains again and swaps the full model in; both bundles are cached.
    let embeddings = dir.path().join("embeddings");
    let embeddings_s = embeddings.to_str().unwrap();
    let encoder = anirec_encoder::shared_encoder_dir();
    let with_cache = [
        "--data",
        data_s,
        "--cache",
        &cache_s,
        "--embedding-cache",
        embeddings_s,
        "--encoder",
        encoder.to_str().unwrap(),
    ];
    let server = Server::start(&with_cache);
    server.wait_for("ready in");
    server.wait_for("story embeddings: 0 reused");
    server.wait_for("story search ready in");
    let (status, found) = server.request("GET", "/api/v1/search?q=space&k=2", "");
    assert_eq!(
        status, 200,
        "story search works on a model trained by serve: {found}"
    );
    let found: serde_json::Value = serde_json::from_str(&found).unwrap();
    assert_eq!(found["items"].as_array().unwrap().len(), 2);
    let (status, ready) = server.request("GET", "/readyz", "");
    assert_eq!(status, 200, "{ready}");
    // The container health check: `anirec probe` succeeds on 2xx only.
    let probe = |path: &str| {
        Command::new(env!("CARGO_BIN_EXE_anirec"))
            .args(["probe", &format!("http://{}{path}", server.addr)])
            .output()
            .unwrap()
    };
    assert!(probe("/readyz").status.success());
    let missing = probe("/api/v1/nothing");
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("answered 404"));
    // Without a URL it asks the /readyz of the server ANIREC_ADDR names (as the image does),
    // on loopback when that is every address.
    let port = server.addr.rsplit(':').next().unwrap();
    for addr in [server.addr.clone(), format!("0.0.0.0:{port}")] {
        let own = Command::new(env!("CARGO_BIN_EXE_anirec"))
            .arg("probe")
            .env("ANIREC_ADDR", &addr)
            .output()
            .unwrap();
        assert!(
            own.status.success(),
            "{addr}: {}",
            String::from_utf8_lossy(&own.stderr)
        );
    }

    // The fold-in endpoint gives the CLI's list for the same ratings.
    let (status, body) = server.request(
        "POST",
        "/api/v1/recommendations?k=5&explain=true",
        r#"{"ratings": [{"anime_id": 10, "rating": 9}]}"#,
    );
    assert_eq!(status, 200, "{body}");
    let served: serde_json::Value = serde_json::from_str(&body).unwrap();
    let model = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.join("manifest.json").is_file())
        .expect("a cached bundle");
    let ratings = dir.path().join("mine.csv");
    std::fs::write(&ratings, "anime_id,rating\n10,9\n").unwrap();
    let cli = Command::new(env!("CARGO_BIN_EXE_anirec"))
        .args(["recommend", "--model", model.to_str().unwrap(), "--ratings"])
        .arg(&ratings)
        .args(["--k", "5", "--explain", "--json"])
        .output()
        .unwrap();
    assert!(
        cli.status.success(),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    let cli: serde_json::Value = serde_json::from_slice(&cli.stdout).unwrap();
    assert!(!cli.as_array().unwrap().is_empty());
    assert_eq!(served["items"], cli);

    // SIGHUP reloads; the server keeps answering; SIGTERM stops it cleanly.
    server.signal("HUP");
    server.wait_for("reloaded: model");
    assert_eq!(server.request("GET", "/api/v1/anime/10", "").0, 200);
    server.signal("TERM");
    server.wait_for("stopped");
    let mut server = server;
    let status = server.child.wait().unwrap();
    assert!(status.success(), "{status}");

    // Second start on the same data: the cached model is used, no training.
    let again = Server::start(&with_cache);
    again.wait_for("using the model trained earlier");
    again.wait_for("ready in");
    assert_eq!(again.request("GET", "/healthz", "").0, 200);
}

#[test]
fn serve_refuses_a_missing_model() {
    // Its own cache folder: the accounts database is opened there before the model is read.
    let cache = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_anirec"))
        .args([
            "serve",
            "--model",
            "/nonexistent/bundle",
            "--addr",
            "127.0.0.1:0",
            "--cache",
            cache.path().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/bundle"), "{err}");
}
