//! The small hand-built world the hybrid and ranker tests share: three taste clusters (mecha,
//! romance, horror) with distinct synopses and studios, users who each love one cluster, and
//! one horror anime nobody has rated yet.

use anirec_data::{Anime, Catalogue, MalId, Ratings};
use anirec_model::hybrid::{Carvings, HybridParams};
use anirec_model::ranker::RankerKind;

/// Each cluster's genre, studio and story words.
pub const CLUSTERS: [(&str, &str, &str); 3] = [
    (
        "Mecha",
        "Sunrise",
        "giant robot pilots defend the colony with mobile suits in space battles",
    ),
    (
        "Romance",
        "Kyoto Animation",
        "shy classmates fall in love during the school festival and confess feelings",
    ),
    (
        "Horror",
        "Madhouse",
        "a cursed village hides a monster that haunts survivors through bloody nights",
    ),
];
/// Anime per cluster (the last horror one is never rated).
pub const PER_CLUSTER: u32 = 12;
/// The horror anime nobody rated.
pub const COLD: u32 = 3 * PER_CLUSTER - 1;

/// The catalogue (the clusters' anime and one adult title) and 90 users' ratings.
pub fn world() -> (Catalogue, Ratings) {
    let mut anime = Vec::new();
    for (c, (genre, studio, words)) in CLUSTERS.iter().enumerate() {
        for k in 0..PER_CLUSTER {
            let id = c as u32 * PER_CLUSTER + k;
            let mut a = Anime {
                mal_id: MalId(1000 + id),
                name: format!("{genre} Story {k}"),
                english_name: Some(format!("{genre} Tale {k}")),
                genres: vec![genre.to_string()],
                studios: vec![studio.to_string()],
                kind: Some("TV".into()),
                start_year: Some(2000 + k as u16),
                members: Some(10_000 + 1000 * k),
                score: Some(7.0 + k as f32 / 10.0),
                synopsis: Some(format!("{words}. Chapter {k} of the saga.")),
                ..Anime::default()
            };
            a.update_adult();
            anime.push(a);
        }
    }
    let mut adult = Anime {
        mal_id: MalId(9999),
        name: "Adult Title".into(),
        genres: vec!["Hentai".into()],
        members: Some(10_000_000),
        score: Some(9.9),
        ..Anime::default()
    };
    adult.update_adult();
    anime.push(adult);
    let catalogue = Catalogue::new(anime);

    // 90 users; user u loves cluster u % 3 and has seen most of it plus a few others.
    let mut triples = Vec::new();
    for u in 0..90u32 {
        let fav = u % 3;
        for a in 0..3 * PER_CLUSTER {
            if a == COLD {
                continue;
            }
            let cluster = a / PER_CLUSTER;
            let seen = if cluster == fav {
                (a + u) % 4 != 0
            } else {
                (a * 7 + u) % 6 == 0
            };
            if seen {
                let r = if cluster == fav {
                    8 + ((a + u) % 3) as u8
                } else {
                    2 + ((a + u) % 3) as u8
                };
                triples.push((u, a, r));
            }
        }
    }
    (
        catalogue.clone(),
        Ratings::from_triples(catalogue.len(), &triples),
    )
}

/// Parameters sized for the world.
pub fn params() -> HybridParams {
    let mut p = HybridParams::default();
    p.ease.min_item_ratings = 1;
    p.ease.lambda = 10.0;
    p.candidates.collab = 20;
    p.candidates.content = 10;
    p.min_coverage = 0.0;
    p.rating.max_epochs = 10;
    // One carving of this world's 48 users: its validation ties between many weightings, and
    // these tests check what its one-carving weights give (`auto` is tested on its own).
    p.validation_carvings = Carvings::Fixed(1);
    // The blend: the ranker's own tests ask for it.
    p.ranker = RankerKind::Blend;
    p
}
