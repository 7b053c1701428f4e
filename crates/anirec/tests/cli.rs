//! The `anirec` binary end to end: `ingest --json` on the real sample, `--strict` failures,
//! `split` and `synth`.

use std::path::{Path, PathBuf};

mod common;

use common::{anirec, sample_dir, stdout};

#[test]
fn ingest_json_reports_the_sample_and_writes_a_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("sample.snap");
    let data = sample_dir();
    let out = anirec(&[
        "ingest",
        "--data",
        data.to_str().unwrap(),
        "--json",
        "--snapshot",
        snap.to_str().unwrap(),
    ]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    // MAL 2020's 17,562 and the season pages' 1,099 anime it lacks.
    assert_eq!(json["anime"], 18_661);
    assert_eq!(
        json["sources"],
        serde_json::json!([
            {"source": "mal2020/anime.csv", "anime_added": 17_562, "anime_updated": 0},
            {"source": "jikan/v4", "anime_added": 1_099, "anime_updated": 2_862},
        ])
    );
    assert_eq!(json["synopses"], 16_214);
    assert_eq!(json["empty_synopses"], 8);
    assert_eq!(json["ratings"], 249_998);
    assert_eq!(json["users"], 1_352);
    assert_eq!(json["rated_anime"], 10_493);
    assert_eq!(json["skipped"], serde_json::json!({}));
    assert_eq!(json["synthetic"], false);

    // The snapshot is a valid --data input and reports the same figures.
    let again = anirec(&["ingest", "--data", snap.to_str().unwrap(), "--json"]);
    let json2: serde_json::Value = serde_json::from_str(&stdout(&again)).unwrap();
    for key in [
        "anime",
        "sources",
        "synopses",
        "ratings",
        "users",
        "rated_anime",
        "skipped",
    ] {
        assert_eq!(json2[key], json[key], "{key}");
    }
}

#[test]
fn no_jikan_reads_the_data_folder_alone() {
    let data = sample_dir();
    let out = anirec(&[
        "ingest",
        "--data",
        data.to_str().unwrap(),
        "--no-jikan",
        "--json",
    ]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["anime"], 17_562);
    assert_eq!(json["sources"].as_array().unwrap().len(), 1);
    let jikan = data.join("../jikan");
    let out = anirec(&[
        "ingest",
        "--data",
        data.to_str().unwrap(),
        "--jikan",
        jikan.to_str().unwrap(),
        "--no-jikan",
    ]);
    assert!(
        !out.status.success(),
        "--jikan and --no-jikan together are refused"
    );
}

#[test]
fn strict_stops_with_file_line_and_column_and_lenient_counts() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(sample_dir().join("anime.csv"), dir.path().join("anime.csv")).unwrap();
    std::fs::write(
        dir.path().join("rating_complete.csv"),
        "user_id,anime_id,rating\n0,1,9\n0,5,11\n1,1,x\n",
    )
    .unwrap();
    let d = dir.path().to_str().unwrap();
    let out = anirec(&["ingest", "--data", d, "--strict"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            r#"rating_complete.csv:3: column rating: expected an integer 1-10, found "11""#
        ),
        "{err}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&anirec(&["ingest", "--data", d, "--json"]))).unwrap();
    assert_eq!(json["ratings"], 1);
    assert_eq!(json["skipped"], serde_json::json!({"bad_rating": 2}));

    let missing = anirec(&["ingest", "--data", "/nonexistent/anirec"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no catalogue: expected anime.csv"));
}

#[test]
fn split_writes_the_protocol_files() {
    let dir = tempfile::tempdir().unwrap();
    let data = sample_dir();
    let text = stdout(&anirec(&[
        "split",
        "--data",
        data.to_str().unwrap(),
        "--out",
        dir.path().to_str().unwrap(),
    ]));
    assert!(text.contains("train         200545 ratings"), "{text}");
    assert!(text.contains("test          49453 ratings"), "{text}");
    let test = std::fs::read_to_string(dir.path().join("test.csv")).unwrap();
    assert_eq!(test.lines().count(), 49_453 + 1);
    assert_eq!(test.lines().next(), Some("user_id,anime_id,rating"));
}

#[test]
fn synth_writes_a_labelled_file_that_ingests() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(sample_dir().join("anime.csv"), dir.path().join("anime.csv")).unwrap();
    let out = dir.path().join("rating_complete.csv");
    let text = stdout(&anirec(&[
        "synth",
        "--catalog",
        dir.path().join("anime.csv").to_str().unwrap(),
        "--users",
        "500",
        "--ratings",
        "20000",
        "--seed",
        "3",
        "--out",
        out.to_str().unwrap(),
    ]));
    assert!(
        text.starts_with("SYNTHETIC data: 20000 ratings by 500 users"),
        "{text}"
    );
    let text = stdout(&anirec(&["ingest", "--data", dir.path().to_str().unwrap()]));
    assert!(text.contains("ratings       20000 (SYNTHETIC)"), "{text}");
}

fn mini() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../anirec-data/tests/fixtures/mal2020_mini")
}

/// `anirec train` on the tiny catalogue into `model`, its run under `runs`, with `extra`
/// arguments.
fn train_on_mini(model: &Path, runs: &Path, extra: &[&str]) -> std::process::Output {
    let data = mini();
    let mut args = vec![
        "train",
        "--data",
        data.to_str().unwrap(),
        "--out",
        model.to_str().unwrap(),
        "--runs",
        runs.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    anirec(&args)
}

#[test]
fn train_recommend_similar_and_eval_on_a_tiny_catalogue() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    let runs = dir.path().join("runs");
    let data = mini();
    let text = stdout(&train_on_mini(&model, &runs, &[]));
    assert!(text.contains("model "), "{text}");
    for file in ["manifest.json", "model.safetensors", "catalogue.json"] {
        assert!(model.join(file).is_file(), "{file}");
    }
    let run = std::fs::read_dir(&runs)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    for file in [
        "params.json",
        "epochs.csv",
        "metrics.json",
        "run.json",
        "curves.png",
        "curves.svg",
    ] {
        assert!(run.join(file).is_file(), "{file}");
    }

    // A new user from a ratings CSV: JSON with titles, never an anime they rated, no adult title.
    let ratings = dir.path().join("mine.csv");
    std::fs::write(&ratings, "anime_id,rating\n10,9\n").unwrap();
    let m = model.to_str().unwrap();
    let out = stdout(&anirec(&[
        "recommend",
        "--model",
        m,
        "--ratings",
        ratings.to_str().unwrap(),
        "--k",
        "5",
        "--json",
        "--explain",
    ]));
    let recs: serde_json::Value = serde_json::from_str(&out).unwrap();
    let recs = recs.as_array().unwrap();
    assert!(!recs.is_empty() && recs.len() <= 5);
    for r in recs {
        assert_ne!(r["anime_id"], 10);
        assert_ne!(r["anime_id"], 30, "the adult title is off by default");
        assert!(r["name"].is_string() && r["reasons"].is_array());
    }
    let known = stdout(&anirec(&[
        "recommend",
        "--model",
        m,
        "--user",
        "2",
        "--k",
        "3",
    ]));
    assert!(
        known.contains("Clockwork Detectives") || known.contains("Quiet Garden"),
        "{known}"
    );
    // User 1 has rated every non-adult anime: nothing is left, and the output says so.
    let none = stdout(&anirec(&["recommend", "--model", m, "--user", "1"]));
    assert!(none.contains("no anime left to recommend"), "{none}");
    let missing = anirec(&["recommend", "--model", m, "--user", "999"]);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("user 999 is not in the model"));
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "anime_id,rating\n10,11\n").unwrap();
    let err = anirec(&[
        "recommend",
        "--model",
        m,
        "--ratings",
        bad.to_str().unwrap(),
    ]);
    assert!(
        String::from_utf8_lossy(&err.stderr)
            .contains(r#"bad.csv:2: column rating: expected an integer 0-10, found "11""#)
    );

    // Users with a similar taste: never the user themself.
    let similar_users = stdout(&anirec(&["similar-users", "--model", m, "--user", "2"]));
    assert!(
        similar_users.starts_with(" 1. user 1 · similarity"),
        "{similar_users}"
    );
    assert!(!similar_users.contains("user 2 "), "{similar_users}");

    // Filters are checked against the catalogue as the API checks them, naming the flag.
    let genre = anirec(&["recommend", "--model", m, "--user", "2", "--genre", "Mecha"]);
    assert!(!genre.status.success());
    assert!(
        String::from_utf8_lossy(&genre.stderr).contains("--genre: unknown genre \"Mecha\""),
        "{}",
        String::from_utf8_lossy(&genre.stderr)
    );
    let year = anirec(&[
        "recommend",
        "--model",
        m,
        "--user",
        "2",
        "--year-max",
        "1850",
    ]);
    assert!(String::from_utf8_lossy(&year.stderr).contains("--year-max: year_max must be a year"));

    // Titles match case-insensitively; a typo gets suggestions.
    let similar = stdout(&anirec(&[
        "similar",
        "--model",
        m,
        "starlight courier",
        "--by",
        "content",
    ]));
    assert!(
        similar.starts_with("similar to Starlight Courier (id 10)"),
        "{similar}"
    );
    let typo = anirec(&["similar", "--model", m, "Clockwork Detectivs"]);
    assert!(
        String::from_utf8_lossy(&typo.stderr).contains("closest: Clockwork Detectives (id 40)")
    );

    let eval = stdout(&anirec(&[
        "eval",
        "--data",
        data.to_str().unwrap(),
        "--json",
    ]));
    let json: serde_json::Value = serde_json::from_str(&eval).unwrap();
    for key in [
        "rmse",
        "mae",
        "mae_scaled",
        "mse_scaled",
        "ndcg_at_10",
        "precision_at_10",
        "recall_at_10",
        "map_at_10",
        "coverage",
        "fit_seconds",
    ] {
        assert!(json[key].is_number(), "{key}");
    }
    for key in [
        "ndcg_at_10",
        "precision_at_10",
        "recall_at_10",
        "map_at_10",
        "coverage",
    ] {
        assert!(json["baselines"]["popularity"][key].is_number(), "{key}");
    }
}

#[test]
fn the_candidate_sources_counts_are_kept_in_the_bundle_and_absurd_ones_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    let runs = dir.path().join("runs");
    let train = |genre: &str, collab: &str, story: &str| {
        let counts = [
            "--genre-candidates",
            genre,
            "--collab-candidates",
            collab,
            "--story-candidates",
            story,
        ];
        train_on_mini(&model, &runs, &counts)
    };
    for (flag, absurd, refused) in [
        ("--genre-candidates", "501", train("501", "120", "7")),
        ("--collab-candidates", "9", train("20", "9", "7")),
        ("--story-candidates", "501", train("20", "120", "501")),
    ] {
        assert!(!refused.status.success());
        let err = String::from_utf8_lossy(&refused.stderr);
        assert!(err.contains(flag) && err.contains(absurd), "{err}");
        assert!(!model.exists(), "a refused run writes no bundle");
    }
    stdout(&train("20", "120", "7"));
    let manifest = std::fs::read_to_string(model.join("manifest.json")).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    assert_eq!(manifest["params"]["genre_candidates"], 20, "{manifest}");
    assert_eq!(manifest["params"]["collab_candidates"], 120, "{manifest}");
    assert_eq!(manifest["params"]["story_candidates"], 7, "{manifest}");
    assert_eq!(manifest["params"]["content_candidates"], 50, "{manifest}");
}

#[test]
fn a_run_resumed_from_its_folder_ends_with_the_same_model() {
    let dir = tempfile::tempdir().unwrap();
    let (data, runs) = (mini(), dir.path().join("runs"));
    let train = |out: &str, extra: &[&str]| {
        let model = dir.path().join(out);
        stdout(&train_on_mini(&model, &runs, extra));
        std::fs::read(model.join("model.safetensors")).unwrap()
    };
    let straight = train("a", &[]);
    let run = std::fs::read_dir(&runs)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert!(run.join("checkpoint.safetensors").is_file());
    let epochs_before = std::fs::read_to_string(run.join("epochs.csv")).unwrap();
    let resumed = train("b", &["--resume", run.to_str().unwrap()]);
    assert!(resumed == straight, "the resumed run's arrays differ");
    // The run folder keeps one history: the resumed epochs are appended, not restarted.
    let epochs_after = std::fs::read_to_string(run.join("epochs.csv")).unwrap();
    assert!(epochs_after.starts_with(&epochs_before));
    assert_eq!(epochs_after.matches("phase,epoch").count(), 1);
    let metrics: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("metrics.json")).unwrap()).unwrap();
    assert!(metrics["validation"]["ndcg_at_10"].is_number(), "{metrics}");
    assert!(metrics["blend"]["collab"].is_number(), "{metrics}");
    // A folder that is no run is named in the error.
    let bad = anirec(&[
        "train",
        "--data",
        data.to_str().unwrap(),
        "--resume",
        "/nonexistent",
        "--out",
        "x",
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("/nonexistent/params.json"));
}

/// The DVC pipeline's chain (dvc.yaml) on the tiny catalogue: split, train with the run at a
/// fixed folder, then `eval --model` scores that very bundle.
#[test]
fn a_pipeline_trains_into_fixed_folders_and_evaluates_the_bundle_it_trained() {
    let dir = tempfile::tempdir().unwrap();
    let path = |p: &str| dir.path().join(p).to_str().unwrap().to_owned();
    let (model, run_dir) = (path("model"), path("run"));
    let data = mini();
    let data = data.to_str().unwrap();
    stdout(&anirec(&["split", "--data", data, "--out", &path("split")]));
    let files = [
        "--data",
        data,
        "--train",
        &path("split/train.csv"),
        "--test",
        &path("split/test.csv"),
    ];
    let train = || {
        let mut args = vec!["train"];
        args.extend(files);
        args.extend(["--out", &model, "--run-dir", &run_dir]);
        stdout(&anirec(&args))
    };
    train();
    let epochs = std::fs::read_to_string(dir.path().join("run/epochs.csv")).unwrap();
    // Again: the run's files are replaced, not added to.
    train();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("run/epochs.csv")).unwrap(),
        epochs
    );
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("run/run.json")).unwrap()).unwrap();
    assert_eq!(run["run_id"], "run");

    let mut args = vec!["eval"];
    args.extend(files);
    args.extend(["--model", &model, "--json"]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&anirec(&args))).unwrap();
    // The figures `train --test` stored in the bundle: the same model, scored the same way.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("model/manifest.json")).unwrap())
            .unwrap();
    for key in ["ndcg_at_10", "coverage", "rmse"] {
        assert_eq!(report[key], manifest["metrics"][key], "{key}");
    }
    assert!(report.get("fit_seconds").is_none());

    // Ratings other than those the bundle was trained on (the split turned around): refused,
    // with why.
    let other = anirec(&[
        "eval",
        "--data",
        data,
        "--train",
        &path("split/test.csv"),
        "--test",
        &path("split/train.csv"),
        "--model",
        &path("model"),
    ]);
    assert!(!other.status.success());
    let said = String::from_utf8_lossy(&other.stderr);
    assert!(said.contains("was trained on other ratings"), "{said}");
}
