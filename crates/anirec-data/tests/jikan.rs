//! The Jikan season pages merged over the MyAnimeList 2020 catalogue, on the real data: what is
//! added and updated, which values win, the anime of 2021-2027 in their franchises, and bad
//! Jikan files skipped or refused with the file, line and JSON path named.

mod common;

use std::path::{Path, PathBuf};

use anirec_data::dataset::load_catalogue;
use anirec_data::report::SourceCounts;
use anirec_data::{
    AiringStatus, Anime, Catalogue, DataError, IngestOptions, IngestReport, MalId, SideFolder,
    SkipReason,
};

/// The Jikan folder beside the sample (`shared/data/jikan`); missing is a failure.
fn jikan_dir() -> PathBuf {
    let dir = common::sample_dir().join("../jikan");
    assert!(
        dir.join("seasons/2023-fall.json").is_file(),
        "the Jikan season pages are missing at {}",
        dir.display()
    );
    dir
}

fn load(jikan: SideFolder, strict: bool) -> Result<(Catalogue, IngestReport), DataError> {
    let opts = IngestOptions {
        jikan,
        strict,
        ..IngestOptions::default()
    };
    let mut report = IngestReport::default();
    let loaded = load_catalogue(&common::sample_dir(), &opts, &mut report)?;
    Ok((loaded.catalogue, report))
}

fn anime(c: &Catalogue, id: u32) -> &Anime {
    let ix = c
        .index_of(MalId(id))
        .unwrap_or_else(|| panic!("{id} is in the catalogue"));
    &c[ix]
}

/// One anime as the real season page gives it.
fn jikan_value(id: u32) -> serde_json::Value {
    for entry in std::fs::read_dir(jikan_dir().join("seasons")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let page: serde_json::Value = serde_json::from_str(&text).unwrap();
        if let Some(a) = page["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["mal_id"] == id)
        {
            return a.clone();
        }
    }
    panic!("{id} is in no season page")
}

#[test]
fn the_seasons_add_the_new_anime_and_update_the_known_ones() {
    let (merged, report) = load(SideFolder::Beside, false).unwrap();
    let (kaggle, _) = load(SideFolder::Off, false).unwrap();
    assert_eq!(
        report.sources,
        [
            SourceCounts {
                source: "mal2020/anime.csv".into(),
                anime_added: 17_562,
                anime_updated: 0
            },
            SourceCounts {
                source: "jikan/v4".into(),
                anime_added: 1_099,
                anime_updated: 2_862
            },
        ]
    );
    assert_eq!(report.skipped.total(), 0, "{:?}", report.skipped.examples);
    assert_eq!(merged.len(), 18_661);
    // The Kaggle anime keep their indices: models and ratings built on them still line up.
    for (old, new) in kaggle.anime().iter().zip(merged.anime()) {
        assert_eq!(old.mal_id, new.mal_id);
    }

    let frieren = anime(&merged, 52991);
    assert_eq!(frieren.name, "Sousou no Frieren");
    assert_eq!(
        frieren.english_name.as_deref(),
        Some("Frieren: Beyond Journey's End")
    );
    assert_eq!(frieren.status, Some(AiringStatus::Finished));
    assert_eq!(frieren.aired_from.unwrap().to_string(), "2023-09-29");
    assert_eq!(frieren.demographics, ["Shounen"]);
    assert!(
        frieren
            .cover
            .as_deref()
            .unwrap()
            .starts_with("https://cdn.myanimelist.net/")
    );
    let synopsis = frieren.synopsis.as_deref().unwrap();
    assert!(synopsis.contains("Demon King") && !synopsis.contains("[Written by"));

    // Attack on Titan: Jikan's newer figures win, MAL 2020's histogram and status counts (which
    // Jikan lacks) are kept.
    let (old, new) = (anime(&kaggle, 16498), anime(&merged, 16498));
    let page = jikan_value(16498);
    assert_eq!(new.members, Some(page["members"].as_u64().unwrap() as u32));
    assert_ne!(new.members, old.members);
    assert_eq!(new.score, Some(page["score"].as_f64().unwrap() as f32));
    assert_eq!(new.score_histogram, old.score_histogram);
    assert!(new.score_histogram.is_some());
    assert_eq!(new.status_counts, old.status_counts);
    assert_eq!(new.themes, ["Gore", "Military", "Survival"]);
    assert!(
        new.genres.contains(&"Survival".to_owned()) && new.genres.contains(&"Shounen".to_owned())
    );
    assert!(new.cover.is_some() && old.cover.is_none());

    // An anime no season page has is as MAL 2020 gave it, its themes marked from the pages'.
    let (old, new) = (anime(&kaggle, 199), anime(&merged, 199));
    assert_eq!(new.name, old.name);
    assert_eq!(
        (new.members, new.synopsis.as_ref()),
        (old.members, old.synopsis.as_ref())
    );
    let shounen_movie = merged
        .anime()
        .iter()
        .find(|a| a.kind.as_deref() == Some("Movie") && a.genres.iter().any(|g| g == "Shounen"))
        .unwrap();
    assert_eq!(shounen_movie.demographics, ["Shounen"]);
}

#[test]
fn a_short_newer_synopsis_keeps_the_longer_older_one() {
    let (merged, _) = load(SideFolder::Beside, false).unwrap();
    let (kaggle, _) = load(SideFolder::Off, false).unwrap();
    let mut kept = 0;
    for old in kaggle.anime() {
        let Some(page) = old
            .synopsis
            .as_ref()
            .map(|_| ())
            .and(merged.index_of(old.mal_id))
        else {
            continue;
        };
        let new = &merged[page];
        let (Some(before), Some(after)) = (&old.synopsis, &new.synopsis) else {
            continue;
        };
        if before == after && new.cover.is_some() {
            kept += 1;
        }
        assert!(
            after.chars().count() >= anirec_data::anime::SHORT_SYNOPSIS
                || after.chars().count() >= before.chars().count(),
            "{}: {after:?} replaced {before:?}",
            old.mal_id
        );
    }
    assert!(kept > 0, "no merged anime kept its MAL 2020 synopsis");
}

/// Ten series that went on after 2020: (name, an entry MAL 2020 has, a later one only the season
/// pages have).
const CONTINUED: [(&str, u32, u32); 10] = [
    ("Jujutsu Kaisen", 40748, 51009),
    ("Shingeki no Kyojin", 16498, 48583),
    ("Kimetsu no Yaiba", 38000, 51019),
    ("Boku no Hero Academia", 31964, 49918),
    ("Mushoku Tensei", 39535, 45576),
    ("Overlord", 29803, 48895),
    ("Kono Subarashii Sekai ni Shukufuku wo!", 30831, 49458),
    ("Mob Psycho 100", 32182, 50172),
    ("Vinland Saga", 37521, 49387),
    (
        "Youkoso Jitsuryoku Shijou Shugi no Kyoushitsu e",
        35507,
        51096,
    ),
];

/// Series that began after 2020, each in airing order: (name, ids).
const NEW_SERIES: [(&str, &[u32]); 3] = [
    ("Sousou no Frieren", &[52991, 59978]),
    ("Spy x Family", &[50265, 50602, 53887, 59027]),
    ("[Oshi no Ko]", &[52034, 55791, 60058]),
];

#[test]
fn series_that_went_on_after_2020_take_their_new_seasons_in() {
    let (merged, _) = load(SideFolder::Beside, false).unwrap();
    for (name, first, later) in CONTINUED {
        let of = |id: u32| {
            let ix = merged
                .index_of(MalId(id))
                .unwrap_or_else(|| panic!("{name}: {id} missing"));
            merged.franchises().of(ix).map(|(f, _)| f.id)
        };
        assert!(of(first).is_some(), "{name}: {first} has no franchise");
        assert_eq!(of(first), of(later), "{name}: {later} is not with {first}");
    }
    for (name, ids) in NEW_SERIES {
        let first = merged.index_of(MalId(ids[0])).unwrap();
        let (franchise, _) = merged
            .franchises()
            .of(first)
            .unwrap_or_else(|| panic!("{name} has no franchise"));
        let order: Vec<u32> = franchise
            .entries
            .iter()
            .map(|&ix| merged[ix].mal_id.0)
            .filter(|id| ids.contains(id))
            .collect();
        assert_eq!(order, ids, "{name}: the seasons in the franchise's order");
    }
}

/// A Jikan folder holding these files (name, text).
fn folder(files: &[(&str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

fn page(items: &[serde_json::Value]) -> String {
    serde_json::to_string_pretty(&serde_json::json!({"pagination": {}, "data": items})).unwrap()
}

#[test]
fn a_bad_value_skips_its_anime_whole_and_strict_stops() {
    let mut bad = jikan_value(16498);
    bad["members"] = serde_json::json!(-5);
    bad["title"] = serde_json::json!("Changed");
    let good = jikan_value(52991);
    let dir = folder(&[("a.json", page(&[bad, good]))]);
    let (merged, report) = load(SideFolder::Dir(dir.path().to_owned()), false).unwrap();
    assert_eq!(report.skipped.get(SkipReason::BadField), 1);
    let message = &report.skipped.examples[0];
    assert!(
        message.starts_with("a.json:")
            && message.contains(
                "data[0].members: expected a whole non-negative number or null, found -5"
            ),
        "{message}"
    );
    // Nothing of the bad anime was merged; the good one was.
    let (kaggle, _) = load(SideFolder::Off, false).unwrap();
    let (kept, old) = (anime(&merged, 16498), anime(&kaggle, 16498));
    assert_eq!(
        (
            &kept.name,
            kept.members,
            kept.score,
            &kept.genres,
            &kept.cover,
            &kept.synopsis
        ),
        (
            &old.name,
            old.members,
            old.score,
            &old.genres,
            &old.cover,
            &old.synopsis
        )
    );
    assert_eq!(anime(&merged, 52991).name, "Sousou no Frieren");
    assert_eq!(report.sources[1].anime_added, 1);
    assert_eq!(report.sources[1].anime_updated, 0);

    let err = load(SideFolder::Dir(dir.path().to_owned()), true)
        .err()
        .unwrap();
    assert!(err.to_string().contains("data[0].members"), "{err}");
}

#[test]
fn a_file_that_is_not_a_jikan_answer_stops_the_read_with_its_name() {
    let dir = folder(&[
        ("a.json", page(&[jikan_value(52991)])),
        ("b.json", "{\"data\": [{\"mal_id\": 1,".to_owned()),
    ]);
    let err = load(SideFolder::Dir(dir.path().to_owned()), false)
        .err()
        .unwrap();
    assert!(err.to_string().starts_with("b.json: line 1"), "{err}");
    let empty = tempfile::tempdir().unwrap();
    let err = load(SideFolder::Dir(empty.path().to_owned()), false)
        .err()
        .unwrap();
    assert!(err.to_string().contains("no Jikan pages"), "{err}");
    let missing = Path::new("/nonexistent/jikan").to_owned();
    assert!(load(SideFolder::Dir(missing), false).is_err());
}

#[test]
fn an_empty_jikan_folder_beside_the_data_is_no_source_but_one_named_is_an_error() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("mal2020");
    std::fs::create_dir_all(root.path().join("jikan")).unwrap();
    common::copy_sample_catalogue(&data);
    let mut report = IngestReport::default();
    let loaded = load_catalogue(&data, &IngestOptions::default(), &mut report).unwrap();
    assert_eq!(loaded.catalogue.len(), 17_562);
    assert_eq!(report.sources.len(), 1);
    let named = IngestOptions {
        jikan: SideFolder::Dir(root.path().join("jikan")),
        ..IngestOptions::default()
    };
    let err = load_catalogue(&data, &named, &mut IngestReport::default())
        .err()
        .unwrap();
    assert!(err.to_string().contains("no Jikan pages"), "{err}");
}

#[test]
fn a_later_file_wins_field_by_field_and_keeps_what_it_lacks() {
    let first = jikan_value(52991);
    let mut later = serde_json::json!({"mal_id": 52991, "title": "Sousou no Frieren",
        "score": 9.5, "members": null, "synopsis": "Short.",
        "single": "fields Jikan may add are ignored"});
    later["status"] = serde_json::json!("Currently Airing");
    let answer = serde_json::to_string(&serde_json::json!({"data": later})).unwrap();
    let dir = folder(&[
        ("1-season.json", page(std::slice::from_ref(&first))),
        ("2-anime.json", answer),
    ]);
    let (merged, report) = load(SideFolder::Dir(dir.path().to_owned()), true).unwrap();
    let frieren = anime(&merged, 52991);
    assert_eq!(frieren.score, Some(9.5));
    assert_eq!(frieren.status, Some(AiringStatus::Airing));
    assert_eq!(
        frieren.members,
        Some(first["members"].as_u64().unwrap() as u32)
    );
    assert!(
        frieren.synopsis.as_deref().unwrap().len() > 100,
        "a short synopsis replaced a long one"
    );
    assert_eq!(frieren.studios, ["Madhouse"]);
    assert_eq!(report.sources[1].anime_added, 1);
    assert_eq!(report.sources[1].anime_updated, 1);
}
