//! Synthetic ratings at full MyAnimeList scale, for scale benchmarks and load tests.
//!
//! The output is a `rating_complete.csv` (`user_id,anime_id,rating`) shaped like the real one:
//! - which anime users rate follows the catalogue's popularity (its `Completed` counts, else
//!   `Members`);
//! - each anime's scores follow its own `Score-1..Score-10` histogram;
//! - users' activity is heavy-tailed (log-normal, scaled to the requested total);
//! - there is latent taste structure a model can learn: every user belongs to a taste archetype
//!   (a random preference over genres plus a few hidden factors); archetypes tilt both what a
//!   user picks and where in an anime's score distribution the user's score falls (a Gaussian
//!   copula, so the histogram is kept while the scores carry user bias and taste).
//!
//! The same seed gives the same file, byte for byte, whatever the number of threads. A sidecar
//! `<out>.synthetic.json` records the parameters, and ingest labels such data synthetic.

use std::io::Write;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::atomic::write_file;
use crate::catalogue::Catalogue;
use crate::error::{DataError, Result};
use crate::files::Progress;
use crate::rng::{Rng, mix64};

/// Parameters of a synthetic file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SynthConfig {
    /// Number of users (ids `0..users`).
    pub users: u32,
    /// Total ratings to write.
    pub ratings: u64,
    /// Seed.
    pub seed: u64,
    /// Number of taste archetypes.
    pub archetypes: usize,
    /// How strongly taste tilts what users pick (0 = popularity only).
    pub pick_taste: f64,
    /// Correlation of a score with the user's taste for the anime (0-1).
    pub score_taste: f64,
    /// Correlation of a score with the user's overall leniency (0-1).
    pub score_bias: f64,
}

impl SynthConfig {
    /// Defaults for `users` and `ratings`.
    pub fn new(users: u32, ratings: u64, seed: u64) -> Self {
        SynthConfig {
            users,
            ratings,
            seed,
            archetypes: 32,
            pick_taste: 1.2,
            score_taste: 0.55,
            score_bias: 0.45,
        }
    }
}

/// The sidecar written next to a synthetic file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SynthLabel {
    /// Always `true`: the file is synthetic.
    pub synthetic: bool,
    /// The parameters used.
    pub config: SynthConfig,
    /// Ratings actually written.
    pub written: u64,
}

/// Where the sidecar of a ratings file lives.
pub fn label_path(ratings_file: &Path) -> PathBuf {
    let mut name = ratings_file.as_os_str().to_owned();
    name.push(".synthetic.json");
    PathBuf::from(name)
}

/// Hidden factors per anime and archetype, beside genre preferences.
const HIDDEN: usize = 4;
/// Users per generation block (the unit of parallel work and of output order).
const BLOCK_USERS: u32 = 1024;

/// An alias table: O(1) draws from a discrete distribution.
struct Alias {
    prob: Vec<f64>,
    alias: Vec<u32>,
}

impl Alias {
    fn new(weights: &[f64]) -> Alias {
        let n = weights.len();
        let total: f64 = weights.iter().sum();
        let mut prob: Vec<f64> = weights.iter().map(|w| w * n as f64 / total).collect();
        let mut alias = vec![0u32; n];
        let (mut small, mut large): (Vec<usize>, Vec<usize>) = (0..n).partition(|&i| prob[i] < 1.0);
        while let (Some(s), Some(&l)) = (small.pop(), large.last()) {
            alias[s] = l as u32;
            prob[l] -= 1.0 - prob[s];
            if prob[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        for i in large.into_iter().chain(small) {
            prob[i] = 1.0;
        }
        Alias { prob, alias }
    }

    #[inline]
    fn draw(&self, rng: &mut Rng) -> usize {
        let i = rng.below(self.prob.len() as u64) as usize;
        if rng.next_f64() < self.prob[i] {
            i
        } else {
            self.alias[i] as usize
        }
    }
}

/// Standard normal CDF (Abramowitz and Stegun 7.1.26, error < 1.5e-7).
fn normal_cdf(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-x * x).exp();
    0.5 * (1.0 + if z >= 0.0 { erf } else { -erf })
}

/// Everything precomputed from the catalogue.
struct Model {
    /// MyAnimeList id of each eligible anime.
    ids: Vec<u32>,
    /// Cumulative score distribution per eligible anime (10 values, last = 1).
    cdf: Vec<[f64; 10]>,
    /// Standardised taste of each archetype for each eligible anime: `taste[k * n + a]`.
    taste: Vec<f32>,
    /// Pick distribution per archetype.
    pick: Vec<Alias>,
}

impl Model {
    fn new(catalogue: &Catalogue, cfg: &SynthConfig) -> Result<Model> {
        let eligible: Vec<usize> = (0..catalogue.len())
            .filter(|&i| popularity(catalogue, i) > 0.0)
            .collect();
        if eligible.len() < 2 {
            return Err(DataError::Parameter {
                name: "--catalog",
                message: "the catalogue needs at least two anime with Members or Completed counts"
                    .into(),
            });
        }
        let n = eligible.len();
        let anime = catalogue.anime();
        // Global histogram for anime without one.
        let mut global = [1.0f64; 10];
        for &i in &eligible {
            if let Some(h) = anime[i].score_histogram {
                for (g, &c) in global.iter_mut().zip(&h) {
                    *g += c as f64;
                }
            }
        }
        let cdf = eligible
            .iter()
            .map(|&i| {
                let h: [f64; 10] = match anime[i].score_histogram {
                    Some(h) if h.iter().any(|&c| c > 0) => h.map(|c| c as f64),
                    _ => global,
                };
                let total: f64 = h.iter().sum();
                let mut acc = 0.0;
                let mut out = [0.0; 10];
                for (o, c) in out.iter_mut().zip(h) {
                    acc += c / total;
                    *o = acc;
                }
                out[9] = 1.0;
                out
            })
            .collect();

        // Genre vocabulary and per-anime hidden factors.
        let mut genres: Vec<&str> = eligible
            .iter()
            .flat_map(|&i| anime[i].genres.iter().map(String::as_str))
            .collect();
        genres.sort_unstable();
        genres.dedup();
        let anime_genres: Vec<Vec<usize>> = eligible
            .iter()
            .map(|&i| {
                anime[i]
                    .genres
                    .iter()
                    .filter_map(|g| genres.binary_search(&g.as_str()).ok())
                    .collect()
            })
            .collect();
        let hidden: Vec<[f64; HIDDEN]> = eligible
            .iter()
            .map(|&i| {
                let mut rng = Rng::for_item(cfg.seed ^ 0xA11CE, anime[i].mal_id.0 as u64);
                std::array::from_fn(|_| rng.normal())
            })
            .collect();

        let k = cfg.archetypes.max(1);
        let mut taste = vec![0f32; k * n];
        let mut pick = Vec::with_capacity(k);
        for arch in 0..k {
            let mut rng = Rng::for_item(cfg.seed ^ 0xBEEF, arch as u64);
            let likes: Vec<f64> = genres.iter().map(|_| rng.normal() * 1.5 - 0.3).collect();
            let hidden_w: [f64; HIDDEN] = std::array::from_fn(|_| rng.normal());
            let raw: Vec<f64> = (0..n)
                .map(|a| {
                    let g = &anime_genres[a];
                    let genre = if g.is_empty() {
                        0.0
                    } else {
                        g.iter().map(|&j| likes[j]).sum::<f64>() / (g.len() as f64).sqrt()
                    };
                    let h: f64 = hidden[a].iter().zip(&hidden_w).map(|(x, w)| x * w).sum();
                    genre + 0.7 * h
                })
                .collect();
            let mean = raw.iter().sum::<f64>() / n as f64;
            let sd = (raw.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64)
                .sqrt()
                .max(1e-9);
            let row = &mut taste[arch * n..(arch + 1) * n];
            let mut weights = Vec::with_capacity(n);
            for a in 0..n {
                let z = (raw[a] - mean) / sd;
                row[a] = z as f32;
                weights.push(popularity(catalogue, eligible[a]) * (cfg.pick_taste * z).exp());
            }
            pick.push(Alias::new(&weights));
        }
        Ok(Model {
            ids: eligible.iter().map(|&i| anime[i].mal_id.0).collect(),
            cdf,
            taste,
            pick,
        })
    }
}

/// How often an anime gets rated, relative to others.
fn popularity(catalogue: &Catalogue, i: usize) -> f64 {
    let a = &catalogue.anime()[i];
    match (a.status_counts, a.members) {
        (Some(s), _) if s.completed > 0 => s.completed as f64,
        (_, Some(m)) => m as f64,
        _ => 0.0,
    }
}

/// Ratings per user: log-normal activity scaled to `total`, each between 1 and `cap`.
fn activity(cfg: &SynthConfig, cap: u64) -> Result<Vec<u32>> {
    let users = cfg.users as u64;
    if users == 0 || cfg.ratings < users || cfg.ratings > users * cap {
        return Err(DataError::Parameter {
            name: "--ratings",
            message: format!(
                "{} ratings cannot be spread over {} users with 1 to {cap} ratings each",
                cfg.ratings, cfg.users
            ),
        });
    }
    let raw: Vec<f64> = (0..cfg.users)
        .into_par_iter()
        .map(|u| (1.1 * Rng::for_item(cfg.seed ^ 0xAC71, u as u64).normal()).exp())
        .collect();
    let sum: f64 = raw.iter().sum();
    let scale = cfg.ratings as f64 / sum;
    let mut n: Vec<u32> = raw
        .iter()
        .map(|r| ((r * scale).round() as u64).clamp(1, cap) as u32)
        .collect();
    // Settle the rounding and capping difference, walking users in a seeded order.
    let mut have: u64 = n.iter().map(|&x| x as u64).sum();
    let start = mix64(cfg.seed) % users;
    let mut i = 0u64;
    while have != cfg.ratings {
        let u = ((start + i) % users) as usize;
        if have < cfg.ratings && (n[u] as u64) < cap {
            n[u] += 1;
            have += 1;
        } else if have > cfg.ratings && n[u] > 1 {
            n[u] -= 1;
            have -= 1;
        }
        i += 1;
    }
    Ok(n)
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SynthSummary {
    /// Ratings written.
    pub ratings: u64,
    /// Users written.
    pub users: u32,
    /// Distinct anime that can appear.
    pub anime: usize,
    /// Bytes written.
    pub bytes: u64,
}

/// Writes a synthetic `rating_complete.csv` to `out`, and its sidecar label.
pub fn generate(
    catalogue: &Catalogue,
    cfg: &SynthConfig,
    out: &Path,
    progress: &dyn Progress,
) -> Result<SynthSummary> {
    let model = Model::new(catalogue, cfg)?;
    let n_anime = model.ids.len();
    let cap = (n_anime as u64 / 2).max(1);
    let counts = activity(cfg, cap)?;
    progress.start("generating", cfg.ratings);
    let blocks: Vec<u32> = (0..cfg.users.div_ceil(BLOCK_USERS)).collect();
    let mut bytes = 0u64;
    write_file(out, |file| {
        file.write_all(b"user_id,anime_id,rating\n")?;
        bytes += 24;
        // Bounded batches of blocks: parallel generation, in-order writing.
        for batch in blocks.chunks(rayon::current_num_threads() * 8) {
            let texts: Vec<Vec<u8>> = batch
                .par_iter()
                .map(|&b| {
                    let text = block_text(&model, cfg, &counts, b);
                    let rows: u64 = user_range(b, cfg.users)
                        .map(|u| counts[u as usize] as u64)
                        .sum();
                    progress.advance(rows);
                    text
                })
                .collect();
            for text in texts {
                file.write_all(&text)?;
                bytes += text.len() as u64;
            }
        }
        Ok(())
    })?;
    let label = SynthLabel {
        synthetic: true,
        config: cfg.clone(),
        written: cfg.ratings,
    };
    let label_file = label_path(out);
    let json = serde_json::to_vec_pretty(&label)
        .map_err(|e| DataError::io(&label_file, std::io::Error::other(e)))?;
    write_file(&label_file, |f| f.write_all(&json))?;
    Ok(SynthSummary {
        ratings: cfg.ratings,
        users: cfg.users,
        anime: n_anime,
        bytes,
    })
}

fn user_range(block: u32, users: u32) -> std::ops::Range<u32> {
    block * BLOCK_USERS..((block + 1) * BLOCK_USERS).min(users)
}

/// The CSV text of one block of users.
fn block_text(model: &Model, cfg: &SynthConfig, counts: &[u32], block: u32) -> Vec<u8> {
    let n = model.ids.len();
    let k = model.pick.len();
    let mut seen = vec![0u64; n.div_ceil(64)];
    let mut picked: Vec<u32> = Vec::new();
    let mut rows: Vec<(u32, u8)> = Vec::new();
    let mut text = Vec::with_capacity(counts[block as usize * BLOCK_USERS as usize] as usize * 16);
    let noise = (1.0 - cfg.score_taste.powi(2) - cfg.score_bias.powi(2))
        .max(0.0)
        .sqrt();
    for user in user_range(block, cfg.users) {
        let mut rng = Rng::for_item(cfg.seed, user as u64);
        let main = rng.below(k as u64) as usize;
        let second = rng.below(k as u64) as usize;
        let leniency = rng.normal();
        let want = counts[user as usize] as usize;

        picked.clear();
        let mut attempts = 0usize;
        while picked.len() < want && attempts < want * 20 {
            attempts += 1;
            let arch = if rng.next_f64() < 0.75 { main } else { second };
            let a = model.pick[arch].draw(&mut rng);
            if seen[a / 64] & (1 << (a % 64)) == 0 {
                seen[a / 64] |= 1 << (a % 64);
                picked.push(a as u32);
            }
        }
        // A very heavy user exhausts the popular titles: fill up uniformly from the rest.
        let mut a = rng.below(n as u64) as usize;
        while picked.len() < want {
            if seen[a / 64] & (1 << (a % 64)) == 0 {
                seen[a / 64] |= 1 << (a % 64);
                picked.push(a as u32);
            }
            a = (a + 1) % n;
        }

        rows.clear();
        for &a in &picked {
            let a = a as usize;
            seen[a / 64] = 0;
            let taste = model.taste[main * n + a] as f64;
            let z = cfg.score_taste * taste + cfg.score_bias * leniency + noise * rng.normal();
            let p = normal_cdf(z);
            let score = model.cdf[a].iter().position(|&c| p <= c).unwrap_or(9) as u8 + 1;
            rows.push((model.ids[a], score));
        }
        rows.sort_unstable_by_key(|r| r.0);
        for &(id, score) in &rows {
            // Infallible: writing into a Vec.
            let _ = writeln!(text, "{user},{id},{score}");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_draws_follow_weights() {
        let alias = Alias::new(&[1.0, 3.0, 0.0, 6.0]);
        let mut rng = Rng::new(3);
        let mut counts = [0u32; 4];
        for _ in 0..100_000 {
            counts[alias.draw(&mut rng)] += 1;
        }
        assert_eq!(counts[2], 0);
        assert!((9_000..11_000).contains(&counts[0]), "{counts:?}");
        assert!((28_000..32_000).contains(&counts[1]), "{counts:?}");
        assert!((58_000..62_000).contains(&counts[3]), "{counts:?}");
    }

    #[test]
    fn normal_cdf_matches_known_values() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(1.96) - 0.975).abs() < 1e-4);
        assert!((normal_cdf(-1.0) - 0.158_655).abs() < 1e-5);
    }

    #[test]
    fn activity_sums_exactly_and_respects_bounds() {
        let cfg = SynthConfig::new(1000, 50_000, 9);
        let n = activity(&cfg, 400).unwrap();
        assert_eq!(n.iter().map(|&x| x as u64).sum::<u64>(), 50_000);
        assert!(n.iter().all(|&x| (1..=400).contains(&x)));
        // Heavy tail: the busiest 10% of users give well over 10% of ratings.
        let mut sorted = n.clone();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        let top: u64 = sorted[..100].iter().map(|&x| x as u64).sum();
        assert!(top > 15_000, "{top}");
        assert!(activity(&SynthConfig::new(10, 5, 1), 400).is_err());
    }
}
