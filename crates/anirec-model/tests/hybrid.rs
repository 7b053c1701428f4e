//! The hybrid on a small hand-built world where the right answers are known: three taste
//! clusters (mecha, romance, horror) with distinct synopses and studios, users who each love one
//! cluster, and one horror anime nobody has rated yet; story embeddings, where given, say which
//! cluster a story belongs to.

use anirec_data::Score;
use anirec_data::franchise::{EntryKind, Franchise, Franchises};
use anirec_data::ids::FranchiseId;
use anirec_data::{AnimeIx, MalId, UserId, UserIx, WatchStatus};
use anirec_data::{Catalogue, Ratings};
use anirec_model::bundle::{Bundle, FORMAT_VERSION};
use anirec_model::hybrid::{Carvings, Hybrid, HybridParams, rated_or_unknown};
use anirec_model::metrics::TestMetrics;
use anirec_model::query::{Filters, Listed, SimilarBy};
use anirec_model::ranker::RankerKind;
use anirec_model::signal::{Signal, Weights};
use anirec_model::story::{StoryInfo, StoryOff, StoryVectors};
use anirec_model::story_text::STORY_TEXT;

mod common;
use common::{COLD, PER_CLUSTER, params, world};

fn fitted() -> (Catalogue, Ratings, Hybrid) {
    let (catalogue, ratings) = world();
    let model = Hybrid::fit(&ratings, &catalogue, None, params(), &mut (), None)
        .expect("the blend needs no LightGBM");
    (catalogue, ratings, model)
}

fn cluster(a: AnimeIx) -> u32 {
    a.0 / PER_CLUSTER
}

#[test]
fn a_user_who_loves_one_genre_gets_that_genre() {
    let (catalogue, ratings, model) = fitted();
    let bundle = Bundle::new(model, catalogue, ratings, None);
    for user in [0u32, 1, 2, 45, 46, 47] {
        let profile = bundle.known_user(UserId(user)).unwrap();
        let recs = bundle.recommend(&profile, 3, &Filters::default(), false);
        assert_eq!(recs.len(), 3);
        for r in &recs {
            assert_eq!(cluster(r.index), user % 3, "user {user} got {r:?}");
            assert!(
                profile
                    .state
                    .entries
                    .binary_search_by_key(&r.index, |e| e.anime)
                    .is_err(),
                "already rated"
            );
        }
    }
}

#[test]
fn fold_in_of_a_users_train_ratings_ranks_like_the_trained_user() {
    let (catalogue, ratings, model) = fitted();
    let bundle = Bundle::new(model, catalogue, ratings, None);
    for user in [3u32, 4, 5] {
        let trained = bundle.known_user(UserId(user)).unwrap();
        let (folded, unknown) = bundle.fold_in(&bundle.listed(&trained));
        assert!(unknown.is_empty());
        assert_eq!(folded.state.entries, trained.state.entries);
        let top = |p| -> Vec<AnimeIx> {
            bundle
                .recommend(p, 5, &Filters::default(), false)
                .iter()
                .map(|r| r.index)
                .collect()
        };
        let (a, b) = (top(&trained), top(&folded));
        let overlap = a.iter().filter(|x| b.contains(x)).count();
        assert!(overlap >= 4, "trained {a:?} vs folded {b:?}");
        // Predicted ratings agree closely too.
        for &anime in &a {
            let (x, y) = (
                bundle.model.rating.predict(&trained.state, anime),
                bundle.model.rating.predict(&folded.state, anime),
            );
            assert!((x - y).abs() < 0.75, "{anime:?}: {x} vs {y}");
        }
        // Predicting many at once gives exactly the one-by-one predictions.
        let all: Vec<u32> = (0..bundle.catalogue.len() as u32).collect();
        let one_by_one: Vec<f32> = all
            .iter()
            .map(|&a| bundle.model.rating.predict(&folded.state, AnimeIx(a)))
            .collect();
        assert_eq!(
            bundle.model.rating.predict_many(&folded.state, &all),
            one_by_one
        );
    }
}

#[test]
fn a_dropped_title_counts_against_anime_like_it() {
    let (catalogue, ratings, model) = fitted();
    let bundle = Bundle::new(model, catalogue, ratings, None);
    // A fan of the first cluster who also started one title of the second.
    let fan = |second: Option<WatchStatus>| -> Vec<Listed> {
        let mut list: Vec<Listed> = (0..4)
            .map(|a| Listed {
                mal_id: MalId(1000 + a),
                score: Score::new(9).unwrap(),
                status: Some(WatchStatus::Completed),
            })
            .collect();
        if let Some(status) = second {
            list.push(Listed {
                mal_id: MalId(1000 + PER_CLUSTER),
                score: Score::NONE,
                status: Some(status),
            });
        }
        list
    };
    // The collaborative and the content signal of the second cluster's other anime (mean).
    let signals = |list: &[Listed]| -> (f32, f32) {
        let (profile, _) = bundle.fold_in(list);
        let n = bundle.catalogue.len();
        let (mut collab, mut content) = (vec![0f32; n], vec![0f32; n]);
        let model = &bundle.model;
        model
            .ease
            .score_entries(profile.state.entries.iter().copied(), &mut collab);
        model.content_scores(&profile.state, &mut content);
        let others = (PER_CLUSTER + 1..2 * PER_CLUSTER).map(|a| a as usize);
        let mean = |v: &[f32]| others.clone().map(|a| v[a]).sum::<f32>() / 11.0;
        (mean(&collab), mean(&content))
    };
    let (watching, alone, dropped) = (
        signals(&fan(Some(WatchStatus::Watching))),
        signals(&fan(None)),
        signals(&fan(Some(WatchStatus::Dropped))),
    );
    // Watching it pulls anime like it up; dropping it (unscored) pushes them down.
    assert!(
        watching.0 > alone.0 && watching.1 > alone.1,
        "{watching:?} vs {alone:?}"
    );
    assert!(
        dropped.0 < alone.0 && dropped.1 < alone.1,
        "{dropped:?} vs {alone:?}"
    );
    // A dropped title the fan still scored 9 counts for anime like it, not against.
    let mut liked = fan(Some(WatchStatus::Dropped));
    liked[4].score = Score::new(9).unwrap();
    let liked = signals(&liked);
    assert!(liked.0 > alone.0, "{liked:?} vs {alone:?}");
}

#[test]
fn an_anime_nobody_rated_is_reachable_through_content() {
    let (catalogue, ratings, model) = fitted();
    assert!(ratings.anime(AnimeIx(COLD)).is_empty());
    let bundle = Bundle::new(model, catalogue, ratings, None);
    // Content neighbours of the unrated anime are the other horror anime.
    let similar = bundle.similar(AnimeIx(COLD), SimilarBy::Content, 5, &Filters::default());
    assert!(similar.iter().all(|&(a, _)| cluster(a) == 2), "{similar:?}");
    // A horror fan who rated every other horror anime gets it first.
    let entries: Vec<Listed> = (2 * PER_CLUSTER..COLD)
        .map(|a| Listed {
            mal_id: MalId(1000 + a),
            score: Score::new(9).unwrap(),
            status: None,
        })
        .collect();
    let (profile, _) = bundle.fold_in(&entries);
    let recs = bundle.recommend(&profile, 3, &Filters::default(), true);
    assert_eq!(recs[0].index, AnimeIx(COLD), "{recs:?}");
}

#[test]
fn explanations_and_filters() {
    let (catalogue, ratings, model) = fitted();
    let bundle = Bundle::new(model, catalogue, ratings, None);
    let profile = bundle.known_user(UserId(0)).unwrap();
    let recs = bundle.recommend(&profile, 3, &Filters::default(), true);
    for r in &recs {
        assert!(!r.reasons.is_empty());
        let total: f32 = r.reasons.iter().map(|x| x.share).sum();
        assert!((total - 1.0).abs() < 1e-3, "{r:?}");
        assert!(
            r.reasons
                .iter()
                .any(|x| x.text.starts_with("because you rated Mecha Story")
                    || x.text.contains("with Mecha Story")),
            "{:?}",
            r.reasons
        );
    }
    // Filters: only romance anime from 2005 on, for a mecha fan.
    let f = Filters {
        genres: vec!["romance".into()],
        year_min: Some(2005),
        ..Filters::default()
    };
    let recs = bundle.recommend(&profile, 5, &f, false);
    assert!(!recs.is_empty());
    for r in &recs {
        let a = &bundle.catalogue[r.index];
        assert!(
            a.genres == ["Romance"] && a.start_year.unwrap() >= 2005,
            "{a:?}"
        );
    }
    // A user with no ratings gets popular, well-rated anime, adult titles only when asked.
    let (empty, _) = bundle.fold_in(&[]);
    let safe = bundle.recommend(&empty, 3, &Filters::default(), true);
    assert!(safe.iter().all(|r| !bundle.catalogue[r.index].adult));
    // The three most popular, best-scored non-adult anime tie (k = 11 of each cluster).
    let top: Vec<AnimeIx> = safe.iter().map(|r| r.index).collect();
    assert_eq!(
        top,
        [PER_CLUSTER - 1, 2 * PER_CLUSTER - 1, 3 * PER_CLUSTER - 1].map(AnimeIx)
    );
    let adult_ok = bundle.recommend(
        &empty,
        3,
        &Filters {
            include_adult: true,
            ..Filters::default()
        },
        false,
    );
    assert!(bundle.catalogue[adult_ok[0].index].adult);
}

#[test]
fn a_rated_franchise_mate_moves_the_predicted_rating_in_a_loaded_bundle_too() {
    let (mut catalogue, ratings) = world();
    // The first three mecha anime are one franchise.
    let entries = vec![AnimeIx(0), AnimeIx(1), AnimeIx(2)];
    let franchise = Franchise {
        id: FranchiseId(1000),
        name: "first mecha".into(),
        kinds: vec![EntryKind::Season; 3],
        series: vec![0; 3],
        starts: vec![0; 3],
        retells: Vec::new(),
        entries,
    };
    catalogue.set_franchises(Franchises::new(vec![franchise], catalogue.len()));
    let mut model = Hybrid::fit(&ratings, &catalogue, None, params(), &mut (), None)
        .expect("the blend needs no LightGBM");
    // The baseline and the franchise correction only, so the correction is what differs
    // between two fans who differ in one score.
    model.rating.blend = vec![0.0, 1.0, 0.0, 1.0, 0.0];
    let bundle = Bundle::new(model, catalogue, ratings, None);
    let dir = tempfile::tempdir().unwrap();
    bundle.save(&dir.path().join("model")).unwrap();
    let back = Bundle::load(&dir.path().join("model")).unwrap();
    let fan = |b: &Bundle, first: u8| {
        let entry = |a: u32, score: u8| Listed {
            mal_id: MalId(1000 + a),
            score: Score::new(score).unwrap(),
            status: Some(WatchStatus::Completed),
        };
        b.fold_in(&[entry(0, first), entry(PER_CLUSTER, 6)]).0
    };
    for b in [&bundle, &back] {
        let (loved, hated) = (fan(b, 10), fan(b, 2));
        let gap = |a: u32| {
            b.predicted_rating(&loved, AnimeIx(a)) - b.predicted_rating(&hated, AnimeIx(a))
        };
        // Every prediction moves with the fan's bias; the franchise's other entries move more.
        assert!(gap(1) > gap(5) + 0.5, "mate {} outsider {}", gap(1), gap(5));
        assert_eq!(gap(1), gap(2));
    }
    let (loved, loaded) = (fan(&bundle, 10), fan(&back, 10));
    assert_eq!(
        bundle.predicted_rating(&loved, AnimeIx(1)),
        back.predicted_rating(&loaded, AnimeIx(1))
    );
}

#[test]
fn bundle_round_trip_and_corruption() {
    let (catalogue, ratings, model) = fitted();
    let metrics: TestMetrics = serde_json::from_value(serde_json::json!({
        "rmse": 1.1, "mae": 0.9, "mae_scaled": 0.1, "mse_scaled": 0.02, "ndcg_at_10": 0.5,
        "precision_at_10": 0.3, "recall_at_10": 0.2, "map_at_10": 0.25, "coverage": 0.15
    }))
    .unwrap();
    let bundle = Bundle::new(model, catalogue, ratings, Some(metrics));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model");
    bundle.save(&path).unwrap();
    let back = Bundle::load(&path).unwrap();
    for user in [0u32, 1, 2] {
        let a = bundle.recommend(
            &bundle.known_user(UserId(user)).unwrap(),
            5,
            &Filters::default(),
            true,
        );
        let b = back.recommend(
            &back.known_user(UserId(user)).unwrap(),
            5,
            &Filters::default(),
            true,
        );
        assert_eq!(a, b);
    }
    assert_eq!(back.manifest.metrics, Some(metrics));
    // Saving again over it is atomic and leaves no temporary folder.
    bundle.save(&path).unwrap();
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["model"]);

    let tensors = path.join("model.safetensors");
    let bytes = std::fs::read(&tensors).unwrap();
    let mut flipped = bytes.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x40;
    std::fs::write(&tensors, &flipped).unwrap();
    let err = Bundle::load(&path).unwrap_err().to_string();
    assert!(
        err.ends_with("model.safetensors is corrupt: checksum mismatch"),
        "{err}"
    );
    std::fs::write(&tensors, &bytes[..bytes.len() - 100]).unwrap();
    let err = Bundle::load(&path).unwrap_err().to_string();
    assert!(
        err.contains("model.safetensors is truncated or altered"),
        "{err}"
    );
    std::fs::write(&tensors, &bytes).unwrap();
    let manifest_path = path.join("manifest.json");
    let manifest = std::fs::read_to_string(&manifest_path).unwrap();
    std::fs::write(
        &manifest_path,
        manifest.replace(
            &format!("\"format_version\": {FORMAT_VERSION}"),
            &format!("\"format_version\": {}", FORMAT_VERSION + 1),
        ),
    )
    .unwrap();
    let err = Bundle::load(&path).unwrap_err().to_string();
    assert!(
        err.ends_with(&format!(
            "format version {}; this anirec reads version {FORMAT_VERSION} (retrain with `anirec train`)",
            FORMAT_VERSION + 1
        )),
        "{err}"
    );
    std::fs::write(&manifest_path, "{not json").unwrap();
    assert!(
        Bundle::load(&path)
            .unwrap_err()
            .to_string()
            .contains("manifest.json is not valid JSON")
    );
    assert!(
        Bundle::load(&dir.path().join("missing"))
            .unwrap_err()
            .to_string()
            .contains("reading manifest.json")
    );
}

/// Keeps a copy of the training state after a chosen tuning epoch and after the refit's first
/// epoch, and counts the refit's epochs.
struct Snapshots {
    tuning_epoch: usize,
    taken: Vec<anirec_model::rating::model::FactorProgress>,
    refit_epochs: usize,
}

impl anirec_model::rating::model::EpochObserver for Snapshots {
    fn on_epoch(
        &mut self,
        r: &anirec_model::rating::model::EpochReport,
        p: &anirec_model::rating::model::FactorProgress,
    ) {
        use anirec_model::rating::model::Phase;
        let take = match p.phase {
            Phase::Tuning => r.epoch == self.tuning_epoch,
            Phase::Refit => {
                self.refit_epochs += 1;
                self.refit_epochs == 1
            }
        };
        if take {
            self.taken.push(p.clone());
        }
    }
}

#[test]
fn resume_gives_the_same_result_as_an_uninterrupted_run() {
    use anirec_model::rating::checkpoint;
    use anirec_model::rating::model::Phase;
    let (catalogue, ratings) = world();
    let mut snaps = Snapshots {
        tuning_epoch: 3,
        taken: Vec::new(),
        refit_epochs: 0,
    };
    let straight = Hybrid::fit(&ratings, &catalogue, None, params(), &mut snaps, None)
        .expect("the blend needs no LightGBM");
    assert_eq!(snaps.taken.len(), 2, "the run reached both checkpoints");
    // The refit continues from the tuned factors for the last `refit_epochs` epochs of their
    // schedule, so resuming after its first one still has epochs to run.
    let refit_epochs = params().rating.refit_epochs;
    assert!(refit_epochs >= 2);
    assert_eq!(snaps.refit_epochs, refit_epochs);
    assert_eq!(snaps.taken[1].phase, Phase::Refit);
    assert_eq!(
        snaps.taken[1].current.epochs,
        straight.rating.epochs - refit_epochs + 1
    );
    let dir = tempfile::tempdir().unwrap();
    for progress in &snaps.taken {
        // Through the checkpoint file, as `anirec train --resume` does.
        let path = dir.path().join("checkpoint.safetensors");
        checkpoint::save(progress, &path).unwrap();
        let loaded = checkpoint::load(&path).unwrap();
        assert_eq!(&loaded.current, &progress.current);
        let resumed = Hybrid::fit(&ratings, &catalogue, None, params(), &mut (), Some(&loaded))
            .expect("the blend needs no LightGBM");
        assert_eq!(
            resumed.rating.mf, straight.rating.mf,
            "{:?}",
            progress.phase
        );
        assert_eq!(resumed.rating.blend, straight.rating.blend);
        assert_eq!(resumed.weights, straight.weights);
        assert_eq!(resumed.ease.weights(), straight.ease.weights());
    }
}

/// Story embeddings that say which cluster an anime's story belongs to (the adult title apart).
fn cluster_stories(catalogue: &Catalogue) -> StoryVectors {
    let dim = 4;
    let rows = (0..catalogue.len() as u32)
        .flat_map(|a| {
            let mut row = vec![0f32; dim];
            row[cluster(AnimeIx(a)).min(3) as usize] = 1.0;
            row
        })
        .collect();
    StoryVectors::new(dim, rows).unwrap()
}

#[test]
fn the_story_signal_leans_toward_the_stories_a_fan_liked() {
    let (catalogue, ratings) = world();
    let stories = cluster_stories(&catalogue);
    let mut model = Hybrid::fit(
        &ratings,
        &catalogue,
        Some(stories.clone()),
        params(),
        &mut (),
        None,
    )
    .expect("the blend needs no LightGBM");
    assert!(
        Signal::Story
            .weight_grid()
            .contains(&model.weights[Signal::Story])
    );
    for user in [0u32, 1, 2] {
        let state = model.rating.known_user(&ratings, UserIx(user));
        let candidates = model.candidates(&state, &rated_or_unknown(&ratings, UserIx(user)));
        let mean_story = |c: u32| {
            let of: Vec<f32> = candidates
                .iter()
                .filter(|x| cluster(x.anime) == c)
                .map(|x| x.signals[Signal::Story])
                .collect();
            of.iter().sum::<f32>() / of.len().max(1) as f32
        };
        let favourite = mean_story(user % 3);
        assert!(favourite > 0.0, "user {user}: {favourite}");
        for other in (0..3).filter(|&c| c != user % 3) {
            assert!(
                favourite > mean_story(other),
                "user {user} vs cluster {other}"
            );
        }
    }
    // Weighted alone, it recommends the fan's cluster and says whose story it is like.
    model.weights = Weights::default();
    model.weights[Signal::Story] = 1.0;
    let bundle = Bundle::new(model, catalogue, ratings, None);
    let profile = bundle.known_user(UserId(1)).unwrap();
    let recs = bundle.recommend(&profile, 3, &Filters::default(), true);
    assert_eq!(recs.len(), 3);
    for r in &recs {
        assert_eq!(cluster(r.index), 1, "{r:?}");
        let story = r.reasons.iter().find(|x| x.signal == Signal::Story);
        let text = &story
            .unwrap_or_else(|| panic!("no story reason: {r:?}"))
            .text;
        assert!(
            text.starts_with("its story is like that of Romance Story"),
            "{text}"
        );
    }
}

#[test]
fn story_embeddings_and_their_weight_survive_a_bundle_round_trip() {
    let (catalogue, ratings) = world();
    let stories = cluster_stories(&catalogue);
    let model = Hybrid::fit(&ratings, &catalogue, Some(stories), params(), &mut (), None)
        .expect("the blend needs no LightGBM");
    let mut bundle = Bundle::new(model, catalogue, ratings, None);
    bundle.manifest.story = Some(StoryInfo {
        encoder: "test".into(),
        dim: 4,
        text: STORY_TEXT.into(),
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model");
    bundle.save(&path).unwrap();
    let back = Bundle::load(&path).unwrap();
    assert_eq!(back.story(), bundle.story());
    assert_eq!(back.model.weights, bundle.model.weights);
    assert!(back.story_for("test").is_ok());
    let other = back.story_for("another").unwrap_err().to_string();
    assert!(other.contains("another encoder (test)"), "{other}");
    for user in [0u32, 1, 2] {
        let recommend = |b: &Bundle| {
            b.recommend(
                &b.known_user(UserId(user)).unwrap(),
                5,
                &Filters::default(),
                true,
            )
        };
        assert_eq!(recommend(&back), recommend(&bundle));
    }
    // Without embeddings the signal is 0 and searching stories says why.
    let (catalogue, ratings, plain) = fitted();
    assert_eq!(plain.weights[Signal::Story], 0.0);
    let state = plain.rating.known_user(&ratings, UserIx(0));
    let candidates = plain.candidates(&state, &rated_or_unknown(&ratings, UserIx(0)));
    assert!(candidates.iter().all(|c| c.signals[Signal::Story] == 0.0));
    let plain = Bundle::new(plain, catalogue, ratings, None);
    assert_eq!(plain.story_for("test").unwrap_err(), StoryOff::NoEmbeddings);
}

#[test]
fn blend_weights_tuned_on_several_carvings_come_from_the_grids() {
    let (catalogue, ratings) = world();
    // This world's few users get the most carvings of `auto`.
    let p = HybridParams {
        validation_carvings: Carvings::Auto,
        ..params()
    };
    let model = Hybrid::fit(&ratings, &catalogue, None, p, &mut (), None)
        .expect("the blend needs no LightGBM");
    // The carvings' validation users were scored (a pooled NDCG, coverage averaged).
    let (ndcg, coverage) = model.validation;
    assert!(ndcg > 0.0 && coverage > 0.0, "{:?}", model.validation);
    for s in Signal::ALL {
        assert!(
            s.weight_grid().contains(&model.weights[s]),
            "{s:?}: {:?}",
            model.weights
        );
    }
    let bundle = Bundle::new(model, catalogue, ratings, None);
    assert_eq!(
        bundle.manifest.params.validation_carvings,
        Carvings::Fixed(3),
        "the parameters kept say how many were used"
    );
    // (Which anime come first depends on the weights this tiny world's carvings choose.)
    let profile = bundle.known_user(UserId(0)).unwrap();
    let recs = bundle.recommend(&profile, 3, &Filters::default(), false);
    assert_eq!(recs.len(), 3);
}

#[test]
fn auto_carvings_reach_the_validation_users_wanted_and_settings_parse() {
    let auto = |users: usize| Carvings::Auto.count(users, 5000);
    assert_eq!(auto(1352), 3, "the sample's users");
    assert_eq!(auto(2500), 2);
    assert_eq!(auto(5000), 1);
    assert_eq!(auto(310_000), 1, "full scale");
    assert_eq!(auto(0), 3);
    assert_eq!(Carvings::Fixed(2).count(1352, 5000), 2);
    assert_eq!("auto".parse(), Ok(Carvings::Auto));
    assert_eq!("4".parse(), Ok(Carvings::Fixed(4)));
    for bad in ["0", "9", "-1", "three", ""] {
        let err = bad.parse::<Carvings>().unwrap_err();
        assert!(
            err.to_string()
                .contains("expected auto or a number from 1 to 8"),
            "{err}"
        );
    }
    let mut json = serde_json::to_value(HybridParams::default()).unwrap();
    assert_eq!(json["validation_carvings"], "auto");
    // The learned ranker is the default; parameters written before it (no `ranker`) are the
    // blend's.
    assert_eq!(json["ranker"], "lambdamart");
    json.as_object_mut().unwrap().remove("ranker");
    let old: HybridParams = serde_json::from_value(json).unwrap();
    assert_eq!(old.ranker, RankerKind::Blend);
    assert_eq!(Carvings::Fixed(3).to_string(), "3");
}
