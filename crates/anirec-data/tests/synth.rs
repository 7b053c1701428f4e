//! The synthetic generator: deterministic, labelled, and shaped like the real data (popularity,
//! per-anime score histograms, heavy-tailed users, learnable taste).

mod common;

use std::collections::HashMap;

use anirec_data::files::NoProgress;
use anirec_data::synth::{self, SynthConfig};
use anirec_data::{AnimeIx, Catalogue, Dataset, UserIx};

fn generate(cfg: &SynthConfig) -> (tempfile::TempDir, Dataset) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        common::sample_dir().join("anime.csv"),
        dir.path().join("anime.csv"),
    )
    .unwrap();
    // The catalogue the scratch folder holds: MAL 2020's alone.
    let catalogue = common::load_without_jikan(&common::sample_dir(), true)
        .unwrap()
        .catalogue;
    synth::generate(
        &catalogue,
        cfg,
        &dir.path().join("rating_complete.csv"),
        &NoProgress,
    )
    .unwrap();
    let d = common::load(dir.path(), true).unwrap();
    (dir, d)
}

fn pearson(xs: &[f64], ys: &[f64]) -> f64 {
    let n = xs.len() as f64;
    let (mx, my) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
    let cov: f64 = xs.iter().zip(ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let vx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    let vy: f64 = ys.iter().map(|y| (y - my).powi(2)).sum();
    cov / (vx * vy).sqrt()
}

#[test]
fn same_seed_same_bytes_and_labelled() {
    let catalogue: Catalogue = common::load(&common::fixture("mal2020_mini"), true)
        .unwrap()
        .catalogue;
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, seed| {
        let path = dir.path().join(name);
        synth::generate(
            &catalogue,
            &SynthConfig::new(300, 500, seed),
            &path,
            &NoProgress,
        )
        .unwrap();
        std::fs::read(path).unwrap()
    };
    let (a, b, c) = (write("a.csv", 1), write("b.csv", 1), write("c.csv", 2));
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert!(a.starts_with(b"user_id,anime_id,rating\n"));
    let label: serde_json::Value = serde_json::from_slice(
        &std::fs::read(synth::label_path(&dir.path().join("a.csv"))).unwrap(),
    )
    .unwrap();
    assert_eq!(label["synthetic"], true);
    assert_eq!(label["config"]["seed"], 1);
    // Impossible requests are refused with the flag named.
    let err = synth::generate(
        &catalogue,
        &SynthConfig::new(10, 5, 1),
        &dir.path().join("x.csv"),
        &NoProgress,
    )
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("invalid parameter --ratings"), "{err}");
}

#[test]
fn shaped_like_the_catalogue() {
    let (_dir, d) = generate(&SynthConfig::new(3_000, 300_000, 7));
    assert!(d.report.synthetic);
    assert_eq!(d.report.ratings, 300_000);
    assert_eq!(d.report.users, 3_000);
    assert_eq!(d.report.skipped.total(), 0);
    let r = &d.ratings;

    // Popularity: rating counts follow the catalogue's Completed counts (log scale).
    let (mut pop, mut count) = (Vec::new(), Vec::new());
    // Scores: each well-rated anime's mean follows the mean of its histogram.
    let (mut hist_mean, mut synth_mean) = (Vec::new(), Vec::new());
    for (a, anime) in d.catalogue.anime().iter().enumerate() {
        let col = r.anime(AnimeIx(a as u32));
        if let Some(s) = anime.status_counts.filter(|s| s.completed > 1000) {
            pop.push((s.completed as f64).ln());
            count.push((col.len() as f64 + 1.0).ln());
        }
        if let Some(h) = anime.score_histogram.filter(|_| col.len() >= 100) {
            let total: f64 = h.iter().map(|&c| c as f64).sum();
            hist_mean.push(
                h.iter()
                    .enumerate()
                    .map(|(i, &c)| (i + 1) as f64 * c as f64)
                    .sum::<f64>()
                    / total,
            );
            synth_mean.push(col.ratings.iter().map(|&x| x as f64).sum::<f64>() / col.len() as f64);
        }
    }
    eprintln!(
        "popularity {:.3}, scores {:.3}",
        pearson(&pop, &count),
        pearson(&hist_mean, &synth_mean)
    );
    assert!(
        pearson(&pop, &count) > 0.7,
        "popularity {}",
        pearson(&pop, &count)
    );
    assert!(hist_mean.len() > 200);
    assert!(
        pearson(&hist_mean, &synth_mean) > 0.8,
        "scores {}",
        pearson(&hist_mean, &synth_mean)
    );

    // Heavy-tailed activity: the busiest 10% of users give more than a third of the ratings.
    let mut per_user: Vec<usize> = (0..r.n_users() as u32)
        .map(|u| r.user(UserIx(u)).len())
        .collect();
    per_user.sort_unstable_by(|a, b| b.cmp(a));
    let top: usize = per_user[..300].iter().sum();
    eprintln!("top decile {top}");
    assert!(top * 3 > 300_000, "top decile {top}");
}

#[test]
fn carries_taste_a_model_can_learn() {
    // Users' scores on one half of their genres predict their scores on the other half beyond
    // what the anime's own average explains: per (user, genre) residual means agree across halves.
    // With taste switched off the agreement vanishes, so the check measures taste.
    let with_taste = genre_agreement(&SynthConfig::new(2_000, 200_000, 11));
    let without = genre_agreement(&SynthConfig {
        pick_taste: 0.0,
        score_taste: 0.0,
        ..SynthConfig::new(2_000, 200_000, 11)
    });
    eprintln!("taste agreement {with_taste:.3}, without taste {without:.3}");
    assert!(with_taste > 0.2, "taste agreement {with_taste}");
    assert!(without.abs() < 0.05, "agreement without taste {without}");
}

fn genre_agreement(cfg: &SynthConfig) -> f64 {
    let (_dir, d) = generate(cfg);
    let r = &d.ratings;
    let mean_of = |a: u32| {
        let col = r.anime(AnimeIx(a));
        col.ratings.iter().map(|&x| x as f64).sum::<f64>() / col.len() as f64
    };
    let anime_mean: Vec<f64> = (0..r.n_anime() as u32)
        .map(|a| {
            if r.anime(AnimeIx(a)).is_empty() {
                0.0
            } else {
                mean_of(a)
            }
        })
        .collect();
    let (mut first, mut second) = (Vec::new(), Vec::new());
    for u in 0..r.n_users() as u32 {
        let row = r.user(UserIx(u));
        let mut sums: HashMap<&str, [(f64, f64); 2]> = HashMap::new();
        for (i, (&a, &score)) in row.indices.iter().zip(row.ratings).enumerate() {
            for g in &d.catalogue.anime()[a as usize].genres {
                let slot = &mut sums.entry(g.as_str()).or_default()[i % 2];
                slot.0 += score as f64 - anime_mean[a as usize];
                slot.1 += 1.0;
            }
        }
        // Each half is compared with its own overall mean, so the halves stay independent.
        let mut half_mean = [(0.0f64, 0.0f64); 2];
        for (i, (&a, &score)) in row.indices.iter().zip(row.ratings).enumerate() {
            half_mean[i % 2].0 += score as f64 - anime_mean[a as usize];
            half_mean[i % 2].1 += 1.0;
        }
        let mean = |h: usize| half_mean[h].0 / half_mean[h].1.max(1.0);
        for halves in sums.values().filter(|h| h[0].1 >= 5.0 && h[1].1 >= 5.0) {
            first.push(halves[0].0 / halves[0].1 - mean(0));
            second.push(halves[1].0 / halves[1].1 - mean(1));
        }
    }
    assert!(first.len() > 1000);
    pearson(&first, &second)
}
