//! The learned ranker on the hand-built world of `common`: trained on the validation carving's
//! users, it recommends each fan their cluster, explains its picks by the signals that pushed
//! them up, and survives a bundle's save and load unchanged; a bundle that lost its ranker file
//! is refused with a message that names it; an ablation's part left out is out of the two
//! stages.

mod common;

use anirec_data::franchise::grouping;
use anirec_data::franchise::relations::Relations;
use anirec_data::{AnimeIx, MalId, Score, UserId};
use anirec_model::bundle::{self, Bundle};
use anirec_model::hybrid::{Hybrid, HybridParams};
use anirec_model::query::{Filters, Listed};
use anirec_model::ranker::RankerKind;
use anirec_model::ranker::ablation::Part;
use anirec_model::ranker::features::Feature;
use anirec_model::signal::Signal;
use anirec_model::story::StoryVectors;
use common::{COLD, PER_CLUSTER, params, world};

fn ranker_params() -> HybridParams {
    HybridParams {
        ranker: RankerKind::LambdaMart,
        ..params()
    }
}

fn bundle() -> Bundle {
    let (catalogue, ratings) = world();
    let model = Hybrid::fit(&ratings, &catalogue, None, ranker_params(), &mut (), None)
        .expect("LightGBM trains on the world's validation users");
    Bundle::new(model, catalogue, ratings, None)
}

fn cluster(a: AnimeIx) -> u32 {
    a.0 / PER_CLUSTER
}

#[test]
fn the_ranker_learns_each_fans_cluster_and_reports_how_it_was_trained() {
    let bundle = bundle();
    let ranker = bundle.model.ranker.as_ref().expect("a ranker was trained");
    let report = &ranker.report;
    assert!(
        report.train_queries > 0 && report.valid_queries > 0,
        "{report:?}"
    );
    assert!(report.best_iteration >= 1 && report.best_iteration <= report.curve.len());
    assert!(report.params.contains("objective=lambdarank"));
    assert_eq!(report.importance.len(), Feature::COUNT);
    assert!(
        report.importance.iter().any(|i| i.gain > 0.0),
        "some feature split"
    );
    assert_eq!(ranker.exposure.len(), bundle.catalogue.len());
    assert_eq!(bundle.manifest.ranker.as_ref(), Some(report));
    for user in [0u32, 1, 2, 45, 46, 47] {
        let profile = bundle.known_user(UserId(user)).unwrap();
        let recs = bundle.recommend(&profile, 3, &Filters::default(), false);
        assert_eq!(recs.len(), 3);
        for r in &recs {
            assert_eq!(cluster(r.index), user % 3, "user {user}: {recs:?}");
        }
    }
}

#[test]
fn the_rankers_picks_are_explained_by_the_signals_that_pushed_them_up() {
    let bundle = bundle();
    let profile = bundle.known_user(UserId(1)).unwrap();
    let recs = bundle.recommend(&profile, 5, &Filters::default(), true);
    assert_eq!(recs.len(), 5);
    for r in &recs {
        assert!(!r.reasons.is_empty(), "{r:?}");
        let total: f32 = r.reasons.iter().map(|x| x.share).sum();
        assert!((total - 1.0).abs() < 1e-4, "shares sum to one: {r:?}");
        assert!(r.reasons.iter().all(|x| x.share > 0.0));
    }
    // A romance fan's picks are romance anime, and the collaborative or content signal (the
    // fans who liked the same, the shared genre and studio) carries them.
    let leading: Vec<Signal> = recs.iter().map(|r| r.reasons[0].signal).collect();
    assert!(
        leading
            .iter()
            .any(|s| matches!(s, Signal::Collab | Signal::Content | Signal::Rating)),
        "{leading:?}"
    );
    // Without explain, no reasons (and no contribution pass).
    let plain = bundle.recommend(&profile, 5, &Filters::default(), false);
    assert!(plain.iter().all(|r| r.reasons.is_empty()));
    let order = |v: &[anirec_model::query::Recommendation]| -> Vec<AnimeIx> {
        v.iter().map(|r| r.index).collect()
    };
    assert_eq!(order(&recs), order(&plain), "explaining does not reorder");
}

#[test]
fn a_bundle_with_a_ranker_loads_and_ranks_exactly_as_saved() {
    let bundle = bundle();
    let dir = tempfile::tempdir().unwrap();
    let manifest = bundle.save(dir.path()).unwrap();
    assert!(manifest.files.contains_key(bundle::RANKER), "{manifest:?}");
    let text = std::fs::read_to_string(dir.path().join(bundle::RANKER)).unwrap();
    // LightGBM's own text format, with our feature names.
    assert!(
        text.starts_with("tree\n"),
        "{}",
        &text[..40.min(text.len())]
    );
    assert!(text.contains("feature_names=collab collab_z collab_rank"));
    let back = Bundle::load(dir.path()).unwrap();
    // The report comes back (its floats through JSON, so compared on what is exact).
    let (saved, loaded) = (
        bundle.manifest.ranker.as_ref().unwrap(),
        back.manifest.ranker.as_ref().unwrap(),
    );
    assert_eq!(
        (
            &saved.params,
            saved.best_iteration,
            saved.curve.len(),
            saved.spread
        ),
        (
            &loaded.params,
            loaded.best_iteration,
            loaded.curve.len(),
            loaded.spread
        )
    );
    assert_eq!(
        back.model.ranker.as_ref().unwrap().exposure,
        bundle.model.ranker.as_ref().unwrap().exposure
    );
    let list: Vec<Listed> = (0..4)
        .map(|k| Listed {
            mal_id: MalId(1000 + 2 * PER_CLUSTER + k),
            score: Score::new(9).unwrap(),
            status: None,
        })
        .collect();
    for b in [&bundle, &back] {
        assert!(b.model.ranker.is_some());
    }
    let answers = |b: &Bundle| {
        let known = b.known_user(UserId(4)).unwrap();
        let (folded, _) = b.fold_in(&list);
        [known, folded].map(|p| {
            b.recommend(&p, 6, &Filters::default(), true)
                .into_iter()
                .map(|r| (r.index, r.score, r.reasons.len()))
                .collect::<Vec<_>>()
        })
    };
    let (before, after) = (answers(&bundle), answers(&back));
    assert_eq!(before, after);
    // The folded-in horror fan gets horror.
    assert!(
        before[1].iter().all(|(a, _, _)| cluster(*a) == 2),
        "{before:?}"
    );
}

#[test]
fn a_bundle_that_lost_its_ranker_file_is_refused_naming_it() {
    let bundle = bundle();
    let dir = tempfile::tempdir().unwrap();
    bundle.save(dir.path()).unwrap();
    std::fs::write(dir.path().join(bundle::RANKER), "tree\nversion=v4\n").unwrap();
    let err = Bundle::load(dir.path()).unwrap_err().to_string();
    assert!(err.contains(bundle::RANKER), "{err}");
    std::fs::remove_file(dir.path().join(bundle::RANKER)).unwrap();
    let err = Bundle::load(dir.path()).unwrap_err().to_string();
    assert!(err.contains(bundle::RANKER), "{err}");
}

#[test]
fn an_ablation_leaves_its_part_out_of_the_two_stages() {
    let (catalogue, ratings) = world();
    let fit = |without: &str, min_coverage: f64| {
        let params = HybridParams {
            without: without.parse().unwrap(),
            min_coverage,
            ..ranker_params()
        };
        Hybrid::fit(&ratings, &catalogue, None, params, &mut (), None).unwrap()
    };
    // A feature group left out is missing in every training row: no tree splits on it.
    let masked = [Part::RelativeFeatures, Part::FanFeatures];
    let model = fit("relative-features,fan-features", 0.0);
    let report = &model.ranker.as_ref().expect("a ranker").report;
    for i in &report.importance {
        let feature = Feature::ALL.into_iter().find(|f| f.name() == i.feature);
        let is_masked = masked
            .iter()
            .any(|p| p.features().contains(&feature.unwrap()));
        assert!(
            !is_masked || i.gain == 0.0,
            "{} split: {report:?}",
            i.feature
        );
    }
    assert!(report.importance.iter().any(|i| i.gain > 0.0));
    // A coverage floor no weight reaches takes the widest spread, unless the step is left out.
    let spread = |without: &str| fit(without, 1.0).ranker.as_ref().unwrap().report.spread;
    assert!(spread("") > 0.0);
    assert_eq!(spread("spread"), 0.0);
    // Without EASE's and the new anime's candidates, a fan's candidates are the content
    // source's alone (the world has no franchises): anime pooled as neighbours of their list,
    // at most `candidates.content` of them.
    let without_collab = Bundle::new(
        fit("collab-candidates,new-candidates", 0.0),
        catalogue.clone(),
        ratings.clone(),
        None,
    );
    let profile = without_collab.known_user(UserId(1)).unwrap();
    let cands = without_collab.model.candidates(&profile.state, &|_| false);
    assert!(!cands.is_empty());
    assert!(
        cands.len() <= ranker_params().candidates.content,
        "{}",
        cands.len()
    );
    assert!(cands.iter().all(|c| c.neighbour_of > 0), "{cands:?}");
    let all = bundle().model.candidates(&profile.state, &|_| false);
    assert!(all.len() > cands.len());
}

#[test]
fn the_franchise_source_brings_the_unlisted_entries_of_a_liked_anime_s_franchise() {
    let (mut catalogue, ratings) = world();
    // Romance Story 2, which romance fan 1 rated highly, shares a franchise with Mecha Story 4,
    // which they never rated (a crossover the other sources would not think of).
    let (liked, mate) = (PER_CLUSTER + 2, 4u32);
    let relations = Relations {
        sets: vec![vec![MalId(1000 + liked), MalId(1000 + mate)]],
        files: Vec::new(),
    };
    let franchises = grouping::build(catalogue.anime(), |id| catalogue.index_of(id), &relations);
    catalogue.set_franchises(franchises);
    let candidates = |without: &str| {
        let params = HybridParams {
            without: without.parse().unwrap(),
            ..params()
        };
        let model = Hybrid::fit(&ratings, &catalogue, None, params, &mut (), None).unwrap();
        let bundle = Bundle::new(model, catalogue.clone(), ratings.clone(), None);
        let profile = bundle.known_user(UserId(1)).unwrap();
        assert!(
            profile
                .state
                .entries
                .iter()
                .any(|e| e.anime.0 == liked && e.score.get().is_some_and(|s| s >= 8))
        );
        assert!(profile.state.entries.iter().all(|e| e.anime.0 != mate));
        let listed = |a: AnimeIx| profile.state.entries.iter().any(|e| e.anime == a);
        let cands = bundle.model.candidates(&profile.state, &listed);
        cands.iter().map(|c| c.anime.0).collect::<Vec<u32>>()
    };
    assert_eq!(
        candidates("collab-candidates,content-candidates,new-candidates"),
        vec![mate]
    );
    assert!(
        candidates("collab-candidates,content-candidates,franchise-candidates,new-candidates")
            .is_empty()
    );
}

/// The candidates the sources not named in `without` give fan `user` of the world, in the order
/// they came, with `genre_candidates` from the genre source, and the model given `story` (with
/// up to 50 from the story source).
fn candidates_without(
    without: &str,
    genre_candidates: usize,
    story: Option<StoryVectors>,
    user: u32,
) -> (Bundle, Vec<u32>) {
    let (catalogue, ratings) = world();
    let mut params = HybridParams {
        without: without.parse().unwrap(),
        ..params()
    };
    params.candidates.genre = genre_candidates;
    params.candidates.story = 50;
    let model = Hybrid::fit(&ratings, &catalogue, story, params, &mut (), None).unwrap();
    let bundle = Bundle::new(model, catalogue, ratings, None);
    let profile = bundle.known_user(UserId(user)).unwrap();
    let listed = |a: AnimeIx| profile.state.entries.iter().any(|e| e.anime == a);
    let cands = bundle.model.candidates(&profile.state, &listed);
    let ids = cands.iter().map(|c| c.anime.0).collect();
    (bundle, ids)
}

#[test]
fn the_genre_source_brings_the_fan_s_genres_most_widely_watched_first() {
    // Romance fan 1 (who also rated a few mecha and horror anime) alone with the genre source.
    let (bundle, cands) = candidates_without(
        "collab-candidates,content-candidates,franchise-candidates,new-candidates",
        30,
        None,
        1,
    );
    let profile = bundle.known_user(UserId(1)).unwrap();
    let listed = |a: u32| profile.state.entries.iter().any(|e| e.anime.0 == a);
    let romance: Vec<u32> = (PER_CLUSTER..2 * PER_CLUSTER)
        .filter(|&a| !listed(a))
        .collect();
    assert!(!romance.is_empty());
    let mut first: Vec<u32> = cands[..romance.len()].to_vec();
    first.sort_unstable();
    assert_eq!(first, romance, "{cands:?}");
    // The rest share a genre with the list too: never the adult title, which shares none.
    assert!(cands.iter().all(|&a| a < 3 * PER_CLUSTER), "{cands:?}");
    // Among the romance ones, the more widely watched first.
    let popularity = |a: u32| bundle.model.popularity[a as usize];
    assert!(
        cands[..romance.len()]
            .windows(2)
            .all(|w| popularity(w[0]) >= popularity(w[1])),
        "{cands:?}"
    );
}

#[test]
fn the_new_anime_source_brings_the_anime_nobody_rated_that_borrow_a_score() {
    // Horror fan 2 alone with the new-anime source: the horror anime nobody rated, which
    // borrows its horror neighbours' score (not the adult title nobody rated either: it shares
    // no genre with the list and has no donor).
    let (bundle, cands) = candidates_without(
        "collab-candidates,content-candidates,franchise-candidates",
        0,
        None,
        2,
    );
    assert_eq!(cands, vec![COLD]);
    assert!(bundle.ratings.anime(AnimeIx(COLD)).is_empty());
    let (_, all) = candidates_without("", 0, None, 2);
    assert!(all.contains(&COLD), "{all:?}");
}

/// The mecha anime whose story (in `romance_told_stories`) is a romance's.
const ROMANCE_TOLD: u32 = 4;

/// Story embeddings that say which cluster an anime's story belongs to (the adult title apart),
/// except that mecha anime [`ROMANCE_TOLD`] tells a romance.
fn romance_told_stories(n: u32) -> StoryVectors {
    let dim = 4;
    let rows = (0..n)
        .flat_map(|a| {
            let mut row = vec![0f32; dim];
            let told = if a == ROMANCE_TOLD {
                1
            } else {
                cluster(AnimeIx(a)).min(3)
            };
            row[told as usize] = 1.0;
            row
        })
        .collect();
    StoryVectors::new(dim, rows).unwrap()
}

#[test]
fn the_story_source_brings_the_anime_whose_stories_are_nearest_the_fan_s() {
    // Romance fan 1 alone with the story source: the unlisted anime that tell a romance come
    // first, the mecha one among them, though neither its genre nor its synopsis is romance's.
    let only_story = "collab-candidates,content-candidates,franchise-candidates,new-candidates";
    let (catalogue, _) = world();
    let stories = romance_told_stories(catalogue.len() as u32);
    let (bundle, cands) = candidates_without(only_story, 0, Some(stories.clone()), 1);
    let profile = bundle.known_user(UserId(1)).unwrap();
    let listed = |a: u32| profile.state.entries.iter().any(|e| e.anime.0 == a);
    assert!(!listed(ROMANCE_TOLD));
    let mut romance: Vec<u32> = (PER_CLUSTER..2 * PER_CLUSTER)
        .chain([ROMANCE_TOLD])
        .filter(|&a| !listed(a))
        .collect();
    romance.sort_unstable();
    let mut first: Vec<u32> = cands[..romance.len()].to_vec();
    first.sort_unstable();
    assert_eq!(first, romance, "{cands:?}");
    // Then the others, nearest first; none the fan listed.
    let story: Vec<f32> = bundle
        .model
        .candidates(&profile.state, &|x| listed(x.0))
        .iter()
        .map(|c| c.signals[Signal::Story])
        .collect();
    assert!(story.windows(2).all(|w| w[0] >= w[1]), "{story:?}");
    assert!(story[romance.len()] < story[0], "{story:?}");
    assert!(cands.iter().all(|&a| !listed(a)), "{cands:?}");
    // Without story embeddings, or with the source left out, it brings none.
    let (_, none) = candidates_without(only_story, 0, None, 1);
    assert!(none.is_empty(), "{none:?}");
    let everything_out = format!("{only_story},story-candidates");
    let (_, none) = candidates_without(&everything_out, 0, Some(stories), 1);
    assert!(none.is_empty(), "{none:?}");
}
