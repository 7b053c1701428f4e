//! The real MyAnimeList sample, end to end: counts, parsed fields, the protocol's split, and a
//! snapshot round trip.

mod common;

use anirec_data::files::NoProgress;
use anirec_data::split::{self, write_split};
use anirec_data::{Dataset, IngestOptions, MalId, Season, SynopsisRepairs, UserIx, snapshot};

#[test]
fn sample_counts_match_the_data_readme() {
    let d = common::load_without_jikan(&common::sample_dir(), true)
        .expect("the sample ingests strictly");
    let r = &d.report;
    assert_eq!(r.anime, 17_562);
    assert_eq!(r.synopses, 16_214);
    assert_eq!(r.empty_synopses, 8);
    assert_eq!(r.synopses_repaired, 5_517);
    assert_eq!(r.ratings, 249_998);
    assert_eq!(r.users, 1_352);
    assert_eq!(r.rated_anime, 10_493);
    assert_eq!(r.skipped.total(), 0, "{:?}", r.skipped);
    assert!(!r.synthetic);
    assert_eq!(d.ratings.score_range(), Some((1, 10)));
}

#[test]
fn catalogue_fields_are_parsed() {
    let d = common::load(&common::sample_dir(), true).unwrap();
    let c = &d.catalogue;
    let bebop = c.get(c.index_of(MalId(1)).unwrap()).unwrap();
    assert_eq!(bebop.name, "Cowboy Bebop");
    assert_eq!(bebop.english_name.as_deref(), Some("Cowboy Bebop"));
    assert_eq!(bebop.japanese_name.as_deref(), Some("カウボーイビバップ"));
    assert_eq!(
        bebop.genres,
        ["Action", "Adventure", "Comedy", "Drama", "Sci-Fi", "Space"]
    );
    assert_eq!(bebop.kind.as_deref(), Some("TV"));
    assert_eq!(bebop.episodes, Some(26));
    assert_eq!(
        (bebop.start_year, bebop.season),
        (Some(1998), Some(Season::Spring))
    );
    assert_eq!(bebop.studios, ["Sunrise"]);
    assert_eq!(bebop.licensors, ["Funimation", "Bandai Entertainment"]);
    assert_eq!(bebop.source.as_deref(), Some("Original"));
    assert_eq!(bebop.minutes_per_episode, Some(24.0));
    assert_eq!(bebop.score, Some(8.78));
    assert_eq!(bebop.members, Some(1_251_960));
    assert_eq!(bebop.status_counts.unwrap().completed, 718_161);
    assert_eq!(bebop.score_histogram.unwrap()[9], 229_170); // Score-10, written "229170.0"
    assert!(!bebop.adult);
    assert!(
        bebop
            .synopsis
            .as_deref()
            .unwrap()
            .starts_with("In the year 2071")
    );
    // The movie has no premiere season: the season comes from its air date (Sep → summer).
    let movie = c.get(c.index_of(MalId(5)).unwrap()).unwrap();
    assert_eq!(
        (movie.start_year, movie.season),
        (Some(2001), Some(Season::Summer))
    );
    assert_eq!(movie.minutes_per_episode, Some(115.0));
    // Hentai titles are in anime.csv but not in the synopsis file; all are flagged adult.
    let adult: Vec<_> = c.anime().iter().filter(|a| a.adult).collect();
    assert_eq!(adult.len() as u64, d.report.adult_anime);
    assert!(adult.len() > 1000);
    assert!(adult.iter().all(|a| a.synopsis.is_none()));
}

#[test]
fn cut_off_synopses_start_with_their_first_word_again() {
    let synopsis = |d: &Dataset, id: u32| {
        let c = &d.catalogue;
        c.get(c.index_of(MalId(id)).unwrap())
            .unwrap()
            .synopsis
            .clone()
            .unwrap()
    };
    let repaired = common::load(&common::sample_dir(), true).unwrap();
    assert!(synopsis(&repaired, 20).starts_with("Moments prior to Naruto Uzumaki's birth"));
    assert!(synopsis(&repaired, 5).starts_with("Another day, another bounty"));
    let cut = Dataset::open(
        &common::sample_dir(),
        &IngestOptions {
            strict: true,
            synopsis_repairs: SynopsisRepairs::Off,
            ..IngestOptions::default()
        },
        &NoProgress,
    )
    .unwrap();
    assert_eq!(cut.report.synopses_repaired, 0);
    assert!(synopsis(&cut, 20).starts_with("oments prior to Naruto Uzumaki's birth"));
    // A repair only ever adds its prefix: the rest of the text is the original's.
    assert!(synopsis(&repaired, 20).ends_with(&synopsis(&cut, 20)));
    assert_eq!(cut.catalogue.len(), repaired.catalogue.len());
}

#[test]
fn protocol_split_has_the_reference_sizes_and_round_trips_through_csv() {
    let d = common::load(&common::sample_dir(), true).unwrap();
    let s = split::split(&d.ratings, 42);
    assert_eq!(s.train.len(), 200_545);
    assert_eq!(s.test.len(), 49_453);
    assert_eq!(s.train.active_users(), 1_352);
    let evaluated_users = (0..s.test.n_users() as u32)
        .filter(|&u| s.test.user(UserIx(u)).ratings.iter().any(|&r| r >= 8))
        .count();
    assert!(evaluated_users > 1_200, "{evaluated_users}");

    let out = tempfile::tempdir().unwrap();
    write_split(&s, &d.catalogue, out.path()).unwrap();
    let (catalogue, report, back) = Dataset::load_split(
        &common::sample_dir(),
        &out.path().join("train.csv"),
        &out.path().join("test.csv"),
        &IngestOptions {
            strict: true,
            ..IngestOptions::default()
        },
        &NoProgress,
    )
    .unwrap();
    // MAL 2020's anime and the 1,099 the season pages beside it add.
    assert_eq!(catalogue.len(), 18_661);
    assert_eq!(report.ratings, 200_545);
    assert_eq!(back.train, s.train);
    assert_eq!(back.test, s.test);
}

#[test]
fn snapshot_of_the_sample_round_trips() {
    let d = common::load(&common::sample_dir(), true).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sample.snap");
    snapshot::save(&d, &path).unwrap();
    let back = snapshot::load(&path).unwrap();
    assert_eq!(back.ratings, d.ratings);
    assert_eq!(back.catalogue, d.catalogue);
    assert_eq!(back.report, d.report);
    // The franchises travel with the catalogue, their per-anime index rebuilt.
    assert!(back.catalogue.franchises().all().len() > 2_000);
    let snk = back.catalogue.index_of(MalId(35760)).unwrap();
    assert_eq!(back.catalogue.franchises().of(snk).map(|(_, p)| p), Some(2));
    assert_eq!(
        back.catalogue.index_of(MalId(1)),
        d.catalogue.index_of(MalId(1))
    );
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["sample.snap"], "no temporary file is left behind");
}
