//! The accepted layouts on small fixtures: MAL 2020 (with the `Genres` and `synopsis` spellings;
//! the real sample covers `Genders` and `sypnopsis`), `animelist.csv` with watching status, the
//! 2016 Kaggle layout, and the MyAnimeList XML export.

mod common;

use anirec_data::formats::malxml;
use anirec_data::{MalId, SkipReason, UserId, WatchStatus};
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

    let garden = c.get(c.index_of(MalId(20)).unwrap()).unwrap();
    assert_eq!(garden.name, "Quiet Garden, \"Reprise\"");
    assert_eq!(garden.english_name, None);
    assert_eq!(garden.score, None);
    assert_eq!(garden.score_histogram, None);
    assert_eq!(garden.studios, Vec::<String>::new());
    assert_eq!(garden.synopsis, None);

    let courier = c.get(c.index_of(MalId(10)).unwrap()).unwrap();
    assert_eq!(courier.producers, ["Studio Alpha", "Beta Films"]);
    assert_eq!(
        courier.synopsis.as_deref(),
        Some(
            "A courier crosses the galaxy.\nShe carries \"letters\" nobody else will, <b>and</b> never asks why."
        )
    );
    let detectives = c.get(c.index_of(MalId(40)).unwrap()).unwrap();
    assert_eq!(detectives.episodes, None);
    assert_eq!(detectives.ranked, Some(100));
    let blossom = c.get(c.index_of(MalId(30)).unwrap()).unwrap();
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
    let user1 = d.ratings.user(d.ratings.user_index(UserId(1)).unwrap());
    assert_eq!(user1.ratings, &[9, 0]); // anime 10 scored 9; anime 20 listed, not scored
    assert_eq!(
        user1.status,
        &[
            WatchStatus::Completed.code(),
            WatchStatus::PlanToWatch.code()
        ]
    );
    let by_anime = d.ratings.anime(d.catalogue.index_of(MalId(40)).unwrap());
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
    let gintama = c.get(c.index_of(MalId(9969)).unwrap()).unwrap();
    assert_eq!(gintama.name, "Gintama'");
    assert_eq!(gintama.score, Some(9.16));
    assert_eq!(gintama.members, Some(151_266));
    assert_eq!(
        c.get(c.index_of(MalId(5114)).unwrap()).unwrap().episodes,
        None
    );
    // -1 means watched but not rated: kept as an entry with no score.
    assert_eq!(d.report.ratings, 5);
    let user1 = d.ratings.user(d.ratings.user_index(UserId(1)).unwrap());
    let kimi = c.index_of(MalId(32281)).unwrap();
    assert_eq!(user1.rating_of(kimi.0), Some(0));
    assert_eq!(d.ratings.score_range(), Some((8, 10)));
}

#[test]
fn mal_xml_export() {
    let data = std::fs::read(fixture("xml/list.xml")).unwrap();
    let list = malxml::parse(&data, "list.xml", true).unwrap();
    assert_eq!(list.user_name.as_deref(), Some("courier_fan"));
    let ids: Vec<u32> = list.entries.iter().map(|e| e.anime_id.0).collect();
    assert_eq!(ids, [10, 40, 20]);
    let first = &list.entries[0];
    assert_eq!(first.title.as_deref(), Some("Starlight Courier"));
    assert_eq!(
        (first.score.get(), first.status, first.watched_episodes),
        (Some(9), Some(WatchStatus::Completed), 26)
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
    let cases: [(&[u8], &str); 11] = [
        (
            b"<myanimelist>\n</myanimelist>",
            "x.xml:2: <myanimelist> holds neither <myinfo> nor an <anime> entry: not a list export",
        ),
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
        (
            b"<myanimelist></myanimelist>\n<myanimelist></myanimelist>",
            "x.xml:2: a second root element <myanimelist> after </myanimelist>",
        ),
        (
            b"<myanimelist></myanimelist>\nnull",
            "x.xml:2: text after the </myanimelist> root element",
        ),
        (
            b"<myanimelist>\n  null\n</myanimelist>",
            "x.xml:2: text directly inside <myanimelist>: expected only elements there",
        ),
        (
            b"<myanimelist>\n<anime>\n</anime></myanimelist>",
            "x.xml:2: an empty <anime> element: an entry holds <series_animedb_id>, <my_score>, ...",
        ),
        (
            b"<myanimelist><anime/></myanimelist>",
            "x.xml:1: an empty <anime> element: an entry holds <series_animedb_id>, <my_score>, ...",
        ),
        (
            b"<myanimelist><anime>5<series_animedb_id>1</series_animedb_id></anime></myanimelist>",
            "x.xml:1: text directly inside <anime>: expected only elements there",
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
            "huge.xml: export too large: {} bytes, at most {}",
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
    assert_eq!(list.entries[0].anime_id, MalId(40));
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

#[test]
fn update_on_import_says_whether_an_entry_replaces_the_lists_own() {
    let xml = |value: &str| {
        format!(
            "<myanimelist><anime><series_animedb_id>5</series_animedb_id><my_status>Completed</my_status>{value}</anime></myanimelist>"
        )
    };
    let read = |value: &str| malxml::parse(xml(value).as_bytes(), "u.xml", false).unwrap();
    assert!(!read("<update_on_import>0</update_on_import>").entries[0].update_on_import);
    assert!(read("<update_on_import>1</update_on_import>").entries[0].update_on_import);
    assert!(
        read("").entries[0].update_on_import,
        "absent: the entry updates"
    );
    let bad = read("<update_on_import>yes</update_on_import>");
    assert!(bad.entries.is_empty());
    assert_eq!(bad.skipped.get(SkipReason::BadField), 1);
    let err = malxml::parse(
        xml("<update_on_import>yes</update_on_import>").as_bytes(),
        "u.xml",
        true,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("column update_on_import: expected 1 (replace the list's entry) or 0 (keep it), found \"yes\""), "{err}");
    // MyAnimeList's own exports say 0 for every entry; ours say 1, and read back the same.
    let mal = malxml::read(&export("animelist.xml"), "animelist.xml", true).unwrap();
    assert!(mal.entries.iter().all(|e| !e.update_on_import));
    let ours: Vec<malxml::ExportEntry> = mal
        .entries
        .iter()
        .map(|e| malxml::ExportEntry {
            update_on_import: true,
            line: 0,
            ..e.clone()
        })
        .collect();
    let back = malxml::parse(malxml::write("fan", &ours).as_bytes(), "ours.xml", true).unwrap();
    assert!(back.entries.iter().all(|e| e.update_on_import));
}

/// The fixture exports of `fixtures/mal_exports` (written by its `make.py`).
fn export(name: &str) -> Vec<u8> {
    std::fs::read(fixture(&format!("mal_exports/{name}"))).unwrap()
}

#[test]
fn mal_exports_read_alike_plain_gzipped_and_utf16() {
    let plain = malxml::read(&export("animelist.xml"), "animelist.xml", true).unwrap();
    assert_eq!(plain.entries.len(), 15);
    assert_eq!(plain.user_name.as_deref(), Some("fixture_fan"));
    assert_eq!(plain.entries[0].anime_id, MalId(1));
    assert_eq!(plain.entries[5].status, Some(WatchStatus::Dropped));
    assert_eq!(plain.entries[8].status, Some(WatchStatus::PlanToWatch));
    assert_eq!(plain.entries[14].title.as_deref(), Some("Spy x Family"));
    // CRLF line ends count as one line each.
    assert_eq!(plain.entries[0].line, 21);
    for name in ["animelist.xml.gz", "animelist-utf16.xml"] {
        let other = malxml::read(&export(name), name, true).unwrap();
        assert_eq!(other, plain, "{name}");
    }
}

#[test]
fn a_manga_list_is_named_as_such() {
    let err = malxml::read(&export("mangalist.xml"), "mangalist.xml", false)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("mangalist.xml:12: this is a manga list"),
        "{err}"
    );
    assert!(err.contains("export your anime list"), "{err}");
    // Without the header, the first <manga> entry says it.
    let bare =
        b"<myanimelist>\n<manga><manga_mangadb_id>2</manga_mangadb_id></manga>\n</myanimelist>";
    let err = malxml::read(bare, "m.xml", false).unwrap_err().to_string();
    assert!(err.starts_with("m.xml:2: this is a manga list"), "{err}");
}

#[test]
fn gzip_bombs_and_broken_gzip_stop_early_with_the_limit() {
    use std::io::Write;
    // Zeros compress about 1000:1: a small upload that would unpack past the limit.
    let mut bomb = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..=(malxml::MAX_XML_BYTES >> 20) {
        bomb.write_all(&zeros).unwrap();
    }
    let bomb = bomb.finish().unwrap();
    assert!(bomb.len() < 100_000);
    let err = malxml::read(&bomb, "bomb.xml.gz", false).unwrap_err();
    assert!(
        matches!(err, anirec_data::DataError::TooLarge { .. }),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "bomb.xml.gz: the gzip-compressed data unpacks to more than {} bytes, the most \
             accepted",
            malxml::MAX_XML_BYTES
        )
    );
    // Gzip inside gzip is refused rather than unpacked again (nesting would multiply the work).
    let mut twice = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    twice.write_all(&export("animelist.xml.gz")).unwrap();
    let err = malxml::read(&twice.finish().unwrap(), "twice.xml.gz.gz", false)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "twice.xml.gz.gz:1: the export is gzip-compressed twice; unpack it once and send that"
    );
    let gz = export("animelist.xml.gz");
    let err = malxml::read(&gz[..gz.len() / 2], "cut.xml.gz", false)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("cut.xml.gz:1: the gzip-compressed data cannot be unpacked"),
        "{err}"
    );
}

#[test]
fn broken_utf16_is_named() {
    let mut odd = export("animelist-utf16.xml");
    odd.pop();
    let err = malxml::read(&odd, "odd.xml", false)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("looks like UTF-16 but has an odd number of bytes"),
        "{err}"
    );
    // A lone high surrogate (0xD800) right after the byte-order mark.
    let lone = [0xff, 0xfe, 0x00, 0xd8, b'<', 0];
    let err = malxml::read(&lone, "lone.xml", false)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "lone.xml:1: the export is UTF-16 with an unpaired surrogate at byte 0; save it as UTF-8"
    );
}

#[test]
fn an_export_over_the_entry_limit_is_refused_by_its_limit() {
    let entry = "<anime><series_animedb_id>1</series_animedb_id></anime>\n";
    let at_limit = format!(
        "<myanimelist>\n{}</myanimelist>",
        entry.repeat(malxml::MAX_ENTRIES)
    );
    let list = malxml::read(at_limit.as_bytes(), "max.xml", true).unwrap();
    assert_eq!(list.entries.len(), malxml::MAX_ENTRIES);
    assert_eq!(
        list.entries.last().unwrap().line,
        malxml::MAX_ENTRIES as u64 + 1
    );
    let over = format!(
        "<myanimelist>\n{}</myanimelist>",
        entry.repeat(malxml::MAX_ENTRIES + 1)
    );
    let err = malxml::read(over.as_bytes(), "over.xml", true).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "over.xml: the export lists more than {0} anime; at most {0} are read",
            malxml::MAX_ENTRIES
        )
    );
}

#[test]
fn synopsis_repairs_are_checked_before_they_apply() {
    use anirec_data::files::NoProgress;
    use anirec_data::{Dataset, IngestOptions, SynopsisRepairs};
    let repairs = fixture("synopsis_repairs/repairs.csv");
    let opts = |strict| IngestOptions {
        strict,
        synopsis_repairs: SynopsisRepairs::File(repairs.clone()),
        ..IngestOptions::default()
    };
    let d = Dataset::load_dir(&fixture("mal2020_mini"), &opts(false), &NoProgress).unwrap();
    let synopsis = |id: u32| {
        let c = &d.catalogue;
        c.get(c.index_of(MalId(id)).unwrap())
            .unwrap()
            .synopsis
            .clone()
    };
    assert_eq!(d.report.synopses_repaired, 1);
    assert_eq!(
        synopsis(40).as_deref(),
        Some("Not so fast. Two detectives, one clock, no alibi.")
    );
    // A text that does not end with the synopsis it repairs, or repairs none, is not used.
    assert!(
        synopsis(10)
            .unwrap()
            .starts_with("A courier crosses the galaxy.")
    );
    assert_eq!(synopsis(20), None);
    let s = &d.report.skipped;
    assert_eq!(s.get(SkipReason::RepairMismatch), 2);
    assert_eq!(s.get(SkipReason::BadAnimeId), 1);
    // Anime 77 is not in the catalogue (nor is the synopsis file's anime 99).
    assert_eq!(s.get(SkipReason::UnknownAnime), 2);
    assert!(
        s.examples.iter().any(|e| e.starts_with(
            "repairs.csv:3: column synopsis: the repaired synopsis of anime 10 is not \"X\""
        )),
        "{:?}",
        s.examples
    );
    let read = d
        .report
        .files
        .iter()
        .find(|f| f.file == "repairs.csv")
        .unwrap();
    assert_eq!(
        (read.layout.as_str(), read.rows),
        ("mal2020/synopsis_repairs.csv", 5)
    );
    // Strict mode stops at the malformed row, not at the mismatches (a data rule).
    let err = Dataset::load_dir(&fixture("mal2020_mini"), &opts(true), &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("repairs.csv:6: column MAL_ID:"), "{err}");
}
