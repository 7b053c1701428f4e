//! The accepted layouts on small fixtures: MAL 2020 (with the `Genres` and `synopsis` spellings;
//! the real sample covers `Genders` and `sypnopsis`), `animelist.csv` with watching status, the
//! 2016 Kaggle layout, and the MyAnimeList XML export.

mod common;

use anirec_data::formats::malxml;
use anirec_data::{SkipReason, WatchStatus};
use common::fixture;

#[test]
fn mal2020_mini_catalogue_and_synopses() {
    let d = common::load(&fixture("mal2020_mini"), true).unwrap();
    let c = &d.catalogue;
    assert_eq!(d.report.anime, 4);
    assert_eq!(d.report.adult_anime, 1);
    // Three synopses match the catalogue (one empty); the fourth names an unknown anime.
    assert_eq!(d.report.synopses, 3);
    assert_eq!(d.report.empty_synopses, 1);
    assert_eq!(d.report.skipped.get(SkipReason::UnknownAnime), 1);

    let garden = c.get(c.index_of(20).unwrap()).unwrap();
    assert_eq!(garden.name, "Quiet Garden, \"Reprise\"");
    assert_eq!(garden.english_name, None);
    assert_eq!(garden.score, None);
    assert_eq!(garden.score_histogram, None);
    assert_eq!(garden.studios, Vec::<String>::new());
    assert_eq!(garden.synopsis, None);

    let courier = c.get(c.index_of(10).unwrap()).unwrap();
    assert_eq!(courier.producers, ["Studio Alpha", "Beta Films"]);
    assert_eq!(
        courier.synopsis.as_deref(),
        Some(
            "A courier crosses the galaxy.\nShe carries \"letters\" nobody else will, <b>and</b> never asks why."
        )
    );
    let detectives = c.get(c.index_of(40).unwrap()).unwrap();
    assert_eq!(detectives.episodes, None);
    assert_eq!(detectives.ranked, Some(100));
    let blossom = c.get(c.index_of(30).unwrap()).unwrap();
    assert!(blossom.adult);

    assert_eq!(d.report.ratings, 8);
    assert_eq!(d.report.users, 3);
    assert_eq!(d.report.rated_anime, 4);
    assert!(!d.ratings.has_status());
}

#[test]
fn animelist_keeps_status_and_unscored_entries() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["anime.csv", "animelist.csv"] {
        std::fs::copy(fixture("mal2020_mini").join(f), dir.path().join(f)).unwrap();
    }
    let d = common::load(dir.path(), true).unwrap();
    assert_eq!(d.report.ratings, 3);
    assert!(d.ratings.has_status());
    let user1 = d.ratings.user(d.ratings.user_index(1).unwrap());
    assert_eq!(user1.ratings, &[9, 0]); // anime 10 scored 9; anime 20 listed, not scored
    assert_eq!(
        user1.status,
        &[
            WatchStatus::Completed.code(),
            WatchStatus::PlanToWatch.code()
        ]
    );
    let by_anime = d.ratings.anime(d.catalogue.index_of(40).unwrap());
    assert_eq!(by_anime.status, &[WatchStatus::Watching.code()]);
    assert_eq!(d.report.files[1].layout, "mal2020/animelist.csv");
}

#[test]
fn kaggle2016_layout() {
    let d = common::load(&fixture("kaggle2016_mini"), true).unwrap();
    let c = &d.catalogue;
    assert_eq!(d.report.files[0].layout, "kaggle2016/anime.csv");
    assert_eq!(d.report.files[1].layout, "kaggle2016/rating.csv");
    assert_eq!(c.len(), 4);
    let gintama = c.get(c.index_of(9969).unwrap()).unwrap();
    assert_eq!(gintama.name, "Gintama'");
    assert_eq!(gintama.score, Some(9.16));
    assert_eq!(gintama.members, Some(151_266));
    assert_eq!(c.get(c.index_of(5114).unwrap()).unwrap().episodes, None);
    // -1 means watched but not rated: kept as an entry with no score.
    assert_eq!(d.report.ratings, 5);
    let user1 = d.ratings.user(d.ratings.user_index(1).unwrap());
    let kimi = c.index_of(32281).unwrap();
    assert_eq!(user1.rating_of(kimi), Some(0));
    assert_eq!(d.ratings.score_range(), Some((8, 10)));
}

#[test]
fn mal_xml_export() {
    let data = std::fs::read(fixture("xml/list.xml")).unwrap();
    let list = malxml::parse(&data, "list.xml", true).unwrap();
    assert_eq!(list.user_name.as_deref(), Some("courier_fan"));
    let ids: Vec<u32> = list.entries.iter().map(|e| e.anime_id).collect();
    assert_eq!(ids, [10, 40, 20]);
    let first = &list.entries[0];
    assert_eq!(first.title.as_deref(), Some("Starlight Courier"));
    assert_eq!(
        (first.score, first.status, first.watched_episodes),
        (9, Some(WatchStatus::Completed), 26)
    );
    assert_eq!(first.line, 8);
    assert_eq!(
        list.entries[1].title.as_deref(),
        Some("Clockwork & Detectives ❤")
    );
    assert_eq!(list.entries[2].status, Some(WatchStatus::PlanToWatch));
}

fn xml_error(name: &str) -> String {
    let data = std::fs::read(fixture(&format!("xml/{name}"))).unwrap();
    malxml::parse(&data, name, false).unwrap_err().to_string()
}

#[test]
fn xml_entity_expansion_is_refused() {
    assert_eq!(
        xml_error("billion_laughs.xml"),
        "billion_laughs.xml:2: DOCTYPE declarations are not allowed (they can define entities that expand without bound)"
    );
    assert_eq!(
        xml_error("external_entity.xml"),
        "external_entity.xml:5: unknown entity &xxe; (only XML's predefined entities are allowed)"
    );
}

#[test]
fn malformed_xml_names_the_line() {
    let err = xml_error("malformed.xml");
    assert!(err.starts_with("malformed.xml:5: malformed XML:"), "{err}");
    let cases: [(&[u8], &str); 4] = [
        (
            b"\xff\xfe<myanimelist/>",
            "x.xml:1: expected a <myanimelist> root element, found text",
        ),
        (
            b"",
            "x.xml:1: empty export: expected a <myanimelist> root element",
        ),
        (
            b"<html><body/></html>",
            "x.xml:1: expected a <myanimelist> root element, found <html>",
        ),
        (
            b"<myanimelist>\n<anime>\n<my_score>5",
            "x.xml:3: unexpected end of file: <my_score> is not closed",
        ),
    ];
    for (data, expected) in cases {
        let err = malxml::parse(data, "x.xml", false).unwrap_err().to_string();
        assert_eq!(err, expected);
    }
    let deep = format!("<myanimelist>{}", "<a>".repeat(100));
    let err = malxml::parse(deep.as_bytes(), "deep.xml", false)
        .unwrap_err()
        .to_string();
    assert_eq!(err, "deep.xml:1: elements nested deeper than 16");
    let huge = vec![b' '; malxml::MAX_XML_BYTES + 1];
    let err = malxml::parse(&huge, "huge.xml", false)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!(
            "huge.xml:1: export too large: {} bytes, at most {}",
            huge.len(),
            malxml::MAX_XML_BYTES
        )
    );
}

#[test]
fn xml_entries_with_bad_values_are_skipped_or_fatal_in_strict_mode() {
    let data = std::fs::read(fixture("xml/bad_entries.xml")).unwrap();
    let list = malxml::parse(&data, "bad_entries.xml", false).unwrap();
    assert_eq!(list.entries.len(), 1);
    assert_eq!(list.entries[0].anime_id, 40);
    assert_eq!(list.entries[0].status, Some(WatchStatus::Completed));
    let s = &list.skipped;
    assert_eq!(
        (
            s.get(SkipReason::BadRating),
            s.get(SkipReason::BadAnimeId),
            s.get(SkipReason::BadStatus)
        ),
        (1, 2, 1)
    );
    let err = malxml::parse(&data, "bad_entries.xml", true)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        r#"bad_entries.xml:2: column my_score: expected an integer 0-10 (0 = not scored), found "11""#
    );
}
