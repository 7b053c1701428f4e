//! Franchise grouping on the real catalogue and relation files: the groups a fan would check,
//! the known wrong merges of the relation data kept apart, watching order, and clear errors for
//! a relations folder that is broken.

mod common;

use std::path::PathBuf;

use anirec_data::dataset::load_catalogue;
use anirec_data::franchise::EntryKind;
use anirec_data::{Catalogue, IngestOptions, IngestReport, MalId, SideFolder};

/// The relation files beside the sample (`shared/data/relations`); missing is a failure.
fn relations_dir() -> PathBuf {
    let dir = common::sample_dir().join("../relations");
    assert!(
        dir.join("mal_collection.json").is_file(),
        "the relation files are missing at {}",
        dir.display()
    );
    dir
}

fn catalogue() -> (Catalogue, IngestReport) {
    let opts = IngestOptions {
        relations: SideFolder::Dir(relations_dir()),
        ..IngestOptions::default()
    };
    let mut report = IngestReport::default();
    let loaded = load_catalogue(&common::sample_dir(), &opts, &mut report).unwrap();
    (loaded.catalogue, report)
}

/// The franchise (by id) of a MyAnimeList id.
fn franchise_of(c: &Catalogue, id: u32) -> Option<u32> {
    let ix = c
        .index_of(MalId(id))
        .unwrap_or_else(|| panic!("{id} is in the catalogue"));
    c.franchises().of(ix).map(|(f, _)| f.id.0)
}

/// Franchises a fan would check, each by MyAnimeList ids that must share one group.
const TOGETHER: [(&str, &[u32]); 36] = [
    ("Fullmetal Alchemist", &[121, 5114, 430]),
    ("Shingeki no Kyojin", &[16498, 25777, 35760]),
    ("Monogatari", &[5081, 11597, 17074, 31181, 9260]),
    ("Naruto", &[20, 1735]),
    ("One Piece", &[21, 459]),
    ("Gintama", &[918, 9969, 28977, 34096]),
    ("Haikyuu!!", &[20583, 28891, 32935]),
    ("Fate", &[356, 10087, 22297]),
    ("Gundam", &[80, 85, 6336]),
    ("Dragon Ball", &[223, 813, 30694]),
    ("Overlord", &[29803, 35073, 37675]),
    ("KonoSuba", &[30831, 32937, 38040]),
    ("Re:Zero", &[31240, 39587]),
    ("Youjo Senki", &[32615, 37055]),
    ("Madoka Magica", &[9756, 11981]),
    ("Nisekoi", &[18897, 27787]),
    ("Ghost in the Shell", &[43, 467, 801]),
    ("Nodame Cantabile", &[1698, 4477, 5690]),
    ("Steins;Gate", &[9253, 30484]),
    ("Code Geass", &[1575, 2904]),
    ("Clannad", &[2167, 4181]),
    ("Hunter x Hunter", &[136, 11061]),
    ("Tokyo Ghoul", &[22319, 27899]),
    ("One Punch Man", &[30276, 34134]),
    ("Evangelion", &[30, 32]),
    ("Cowboy Bebop", &[1, 5]),
    ("Sword Art Online", &[11757, 20021]),
    ("Boku no Hero Academia", &[31964, 33486]),
    ("Mob Psycho 100", &[32182, 37510]),
    ("Kaguya-sama", &[37999, 40591]),
    ("Death Note", &[1535, 2994]),
    ("Violet Evergarden", &[33352, 37987]),
    ("Natsume Yuujinchou", &[4081, 5300]),
    ("Mushishi", &[457, 21939]),
    ("K-On!", &[5680, 7791]),
    ("Tensei shitara Slime Datta Ken", &[37430, 39551]),
];

/// Series the relation data merges through crossovers, and titles that only share a common
/// word, which must stay apart.
const APART: [&[u32]; 6] = [
    // Overlord, KonoSuba, Re:Zero, Youjo Senki (joined by Isekai Quartet).
    &[29803, 30831, 31240, 32615, 38472],
    // Bakemonogatari, Madoka Magica, Nisekoi.
    &[5081, 9756, 18897],
    // Kimi no Na wa., Bakemono no Ko, Tenki no Ko.
    &[32281, 28805, 38826],
    // Koukaku Kidoutai, Nodame Cantabile.
    &[467, 1698],
    // Ginga Tetsudou 999 (film), Ginga Senpuu Braiger, and a special called "Ginga".
    &[1301, 4240, 35800],
    // Tokyo Godfathers and a short film called "Tokyo".
    &[759, 38748],
];

#[test]
fn known_franchises_are_grouped() {
    let (c, _) = catalogue();
    for (name, ids) in TOGETHER {
        let groups: Vec<Option<u32>> = ids.iter().map(|&id| franchise_of(&c, id)).collect();
        assert!(groups[0].is_some(), "{name}: {} is in no franchise", ids[0]);
        assert!(
            groups.iter().all(|g| *g == groups[0]),
            "{name}: {ids:?} are in franchises {groups:?}"
        );
    }
}

#[test]
fn crossovers_do_not_merge_series() {
    let (c, _) = catalogue();
    for ids in APART {
        let groups: Vec<Option<u32>> = ids.iter().map(|&id| franchise_of(&c, id)).collect();
        for (i, a) in groups.iter().enumerate() {
            for b in &groups[i + 1..] {
                assert!(
                    a.is_none() || a != b,
                    "{ids:?} share a franchise: {groups:?}"
                );
            }
        }
    }
}

#[test]
fn entries_are_in_watching_order() {
    let (c, report) = catalogue();
    let franchises = c.franchises();
    let snk = c.index_of(MalId(16498)).unwrap();
    let (f, position) = franchises.of(snk).unwrap();
    assert_eq!(position, 0, "Shingeki no Kyojin's first season starts it");
    assert_eq!(f.entry_point(), snk);
    assert_eq!(f.name, "Shingeki no Kyojin");
    let at = |id: u32| franchises.of(c.index_of(MalId(id)).unwrap()).unwrap().1;
    assert!(
        at(16498) < at(25777) && at(25777) < at(35760),
        "seasons by air date"
    );
    // Series by series, the main one first; within each, seasons, films, OVAs, specials; each
    // kind agrees with the catalogue's type.
    assert!(f.series.windows(2).all(|w| w[0] <= w[1]), "{:?}", f.series);
    assert_eq!(f.series[0], 0);
    for p in 1..f.entries.len() {
        if f.series[p] == f.series[p - 1] {
            assert!(f.kinds[p - 1] <= f.kinds[p], "{:?}", f.kinds);
        }
    }
    for (&a, kind) in f.entries.iter().zip(&f.kinds) {
        let expected = match kind {
            EntryKind::Season => "TV",
            EntryKind::Film => "Movie",
            EntryKind::Ova => "OVA",
            EntryKind::Special => "Special",
        };
        assert!(
            c[a].kind.as_deref() == Some(expected) || expected == "OVA",
            "{kind:?}"
        );
    }
    assert_eq!(f.label(0), "Season 1");
    assert_eq!(f.label(at(35760)), "Season 3");
    // Shingeki! Kyojin Chuugakkou is a series of its own, not the third season.
    let spin_off = at(31374);
    assert_eq!(f.label(spin_off), "Season 1");
    assert_eq!(c[f.series_start(spin_off)].mal_id, MalId(31374));
    assert!(f.series[spin_off] > 0);
    // Six from MAL 2020, and The Final Season Part 2 (48583) from the season pages.
    assert!(f.summary().starts_with("7 seasons, "), "{}", f.summary());
    assert!(at(40028) < at(48583), "The Final Season before its Part 2");
    assert!(f.summary().ends_with(" in 2 series"), "{}", f.summary());
    // Naruto starts with Naruto, not Shippuuden.
    let naruto = franchises.of(c.index_of(MalId(1735)).unwrap()).unwrap().0;
    assert_eq!(c[naruto.entry_point()].mal_id, MalId(20));
    // Every franchise has 2+ entries, each anime is in at most one, and the index agrees.
    let mut seen = vec![false; c.len()];
    for f in franchises.all() {
        assert!(f.entries.len() >= 2);
        for (p, &a) in f.entries.iter().enumerate() {
            assert!(!seen[a.index()], "{} is in two franchises", c[a].mal_id);
            seen[a.index()] = true;
            assert_eq!(franchises.of(a).map(|(g, q)| (g.id, q)), Some((f.id, p)));
        }
        assert_eq!(franchises.get(f.id), Some(f));
    }
    let grouped = seen.iter().filter(|&&s| s).count() as u64;
    assert_eq!(report.franchise_anime, grouped);
    assert_eq!(report.franchises, franchises.all().len() as u64);
    // Most of the catalogue's sequels are found; the relation data alone reaches about 9,700.
    assert!(grouped > 9_000, "{grouped} anime in franchises");
}

#[test]
fn a_franchise_holds_series_each_with_its_own_start() {
    let (c, _) = catalogue();
    let franchises = c.franchises();
    let start_of = |id: u32| {
        let (f, p) = franchises.of(c.index_of(MalId(id)).unwrap()).unwrap();
        c[f.series_start(p)].mal_id.0
    };
    // Fate is one franchise of several series: Fate/Zero's second season starts at Fate/Zero.
    assert_eq!(franchise_of(&c, 11741), franchise_of(&c, 356));
    assert_eq!(start_of(11741), 10087);
    assert_eq!(
        start_of(35760),
        16498,
        "Shingeki no Kyojin Season 3 starts at Season 1"
    );
    // Where a fan starts: the first entry of the series the anime is named after.
    let start = |id: u32| {
        let (f, p) = franchises.of(c.index_of(MalId(id)).unwrap()).unwrap();
        c[f.start_of(p)].mal_id.0
    };
    assert_eq!(start(35760), 16498);
    assert_eq!(start(11741), 10087);
    assert_eq!(
        start(11981),
        9756,
        "Madoka's third film starts at the TV series"
    );
    // Final Fantasy VII: Advent Children is not named after Final Fantasy: Unlimited, nor after
    // The Spirits Within (whose Japanese title is just "Final Fantasy").
    assert_eq!(start(317), 317);
    // Prisma Illya is a series of the Fate franchise, starting at its own first season.
    assert_eq!(franchise_of(&c, 14829), franchise_of(&c, 356));
    assert_eq!(start_of(14829), 14829);
}

/// Retellings a fan would name, each with the series whose story it tells again: an
/// alternative to that series, not its next season.
const RETELLINGS: [(&str, u32, u32); 13] = [
    ("Fullmetal Alchemist: Brotherhood", 5114, 121),
    ("Hunter x Hunter (2011)", 11061, 136),
    ("Fruits Basket 1st Season (2019)", 38680, 120),
    ("Fate/stay night: Unlimited Blade Works", 22297, 356),
    ("Rurouni Kenshin (2023)", 50613, 45),
    ("Shaman King (2021)", 42205, 154),
    ("Urusei Yatsura (2022)", 50710, 1293),
    ("Hellsing Ultimate", 777, 270),
    ("Kino no Tabi: The Animated Series (2017)", 35079, 486),
    ("Mahoujin Guruguru (2017)", 34745, 331),
    ("Kanon (2006)", 1530, 144),
    ("Trigun Stampede", 52093, 6),
    ("Sailor Moon Crystal", 14751, 530),
];

/// Sequels that stay sequels, each with the first entry of the series it continues: a
/// retelling's own sequels, and continuations whose titles or years look like a new version.
const SEQUELS: [(&str, u32, u32); 10] = [
    ("Fruits Basket 2nd Season", 40417, 38680),
    ("Trigun Stargaze", 54863, 52093),
    ("Sailor Moon Crystal Season III", 31733, 14751),
    ("Fullmetal Alchemist: The Sacred Star of Milos", 9135, 5114),
    ("Fairy Tail (2014)", 22043, 6702),
    ("Berserk (2016)", 32379, 33),
    ("Naruto: Shippuuden", 1735, 20),
    (
        "Dragon Ball Kai (2014), in Dragon Ball's series",
        22777,
        223,
    ),
    ("Shingeki no Kyojin Season 3", 35760, 16498),
    ("Fate/Zero 2nd Season", 11741, 10087),
];

#[test]
fn retellings_are_alternatives_not_seasons_and_sequels_stay_sequels() {
    let (c, _) = catalogue();
    let franchises = c.franchises();
    let at = |id: u32| {
        let (f, p) = franchises
            .of(c.index_of(MalId(id)).unwrap())
            .unwrap_or_else(|| panic!("{id} is in a franchise"));
        (f, p)
    };
    let id = |a| c[a].mal_id.0;
    for (name, retelling, original) in RETELLINGS {
        let ((f, r), (g, o)) = (at(retelling), at(original));
        assert_eq!(f.id, g.id, "{name} is in its original's franchise");
        assert_eq!(
            id(f.series_start(r)),
            retelling,
            "{name} starts a series of its own"
        );
        assert_eq!(
            f.retelling_of(r).map(id),
            Some(original),
            "{name} retells {original}"
        );
        assert!(f.alternatives(r, o) && f.alternatives(o, r), "{name}");
        assert_eq!(
            f.retelling_of(o),
            None,
            "{original} is the original of {name}"
        );
    }
    for (name, sequel, first) in SEQUELS {
        let ((f, s), (_, p)) = (at(sequel), at(first));
        assert_eq!(
            id(f.series_start(s)),
            first,
            "{name} continues {first}'s series"
        );
        assert!(!f.alternatives(s, p), "{name}");
    }
    for sequel in [40417, 54863, 22043, 32379, 1735] {
        let (f, s) = at(sequel);
        assert_eq!(f.label(s), "Season 2", "{sequel}");
    }
    // A film or OVA series that came before every TV season opens its series: the 1995 Ghost
    // in the Shell film is not "Film 1 of Stand Alone Complex", FLCL not an OVA of a later one.
    for (opener, later, label) in [(43, 467, "Film 1"), (227, 51305, "OVA 1")] {
        let ((f, o), (_, l)) = (at(opener), at(later));
        assert_eq!(f.label(o), label);
        assert_eq!(id(f.series_start(o)), opener);
        assert_eq!(
            id(f.series_start(l)),
            opener,
            "{later} is in the series {opener} opens"
        );
        assert!(o < l);
    }
}

#[test]
fn titles_alone_group_sequels_without_relation_files() {
    let opts = IngestOptions {
        relations: SideFolder::Off,
        ..IngestOptions::default()
    };
    let mut report = IngestReport::default();
    let c = load_catalogue(&common::sample_dir(), &opts, &mut report)
        .unwrap()
        .catalogue;
    let naruto = |id| franchise_of(&c, id);
    assert!(naruto(20).is_some());
    assert_eq!(naruto(20), naruto(1735));
    assert!(report.franchises > 0);
}

#[test]
fn a_broken_relations_folder_is_named() {
    let dir = tempfile::tempdir().unwrap();
    for file in [
        "mal_collection.json",
        "anime-list-mini.json",
        "anime-relations.txt",
    ] {
        std::fs::copy(relations_dir().join(file), dir.path().join(file)).unwrap();
    }
    std::fs::write(dir.path().join("mal_collection.json"), "[{\"name\": 3").unwrap();
    let opts = IngestOptions {
        relations: SideFolder::Dir(dir.path().to_owned()),
        ..IngestOptions::default()
    };
    let err = load_catalogue(&common::sample_dir(), &opts, &mut IngestReport::default())
        .err()
        .expect("a truncated collection file is an error");
    let message = err.to_string();
    assert!(message.contains("mal_collection.json"), "{message}");
    std::fs::remove_file(dir.path().join("anime-relations.txt")).unwrap();
    std::fs::write(dir.path().join("mal_collection.json"), "[]").unwrap();
    let err = load_catalogue(&common::sample_dir(), &opts, &mut IngestReport::default())
        .err()
        .expect("a missing redirect file is an error");
    assert!(err.to_string().contains("anime-relations.txt"), "{err}");
}
