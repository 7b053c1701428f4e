//! `anirec synth`: a synthetic `rating_complete.csv` at full MyAnimeList scale for benchmarks and
//! load tests, always labelled synthetic.

use std::path::PathBuf;
use std::time::Instant;

use anirec_data::Catalogue;
use anirec_data::files::{file_name, read_file};
use anirec_data::formats;
use anirec_data::report::Skips;
use anirec_data::synth::{self, SynthConfig};
use anyhow::Context;

use crate::progress::Bar;

/// Arguments of `anirec synth`.
#[derive(clap::Args)]
pub struct Args {
    /// The catalogue (anime.csv) whose popularity and score histograms the data follows.
    #[arg(long)]
    pub catalog: PathBuf,
    /// Number of users.
    #[arg(long, default_value_t = 310_000)]
    pub users: u32,
    /// Number of ratings.
    #[arg(long, default_value_t = 57_000_000)]
    pub ratings: u64,
    /// Seed: the same seed gives the same file.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Output file (a sidecar OUT.synthetic.json labels it).
    #[arg(long)]
    pub out: PathBuf,
}

/// Runs `anirec synth`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let data = read_file(&args.catalog)?;
    let mut skips = Skips::default();
    let (_, anime, _) =
        formats::read_catalogue(&data, &file_name(&args.catalog), false, &mut skips)
            .with_context(|| format!("reading {}", args.catalog.display()))?;
    let catalogue = Catalogue::new(anime);
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let cfg = SynthConfig::new(args.users, args.ratings, args.seed);
    let started = Instant::now();
    let bar = Bar::new();
    let summary = synth::generate(&catalogue, &cfg, &args.out, &bar);
    bar.finish();
    let summary = summary.with_context(|| format!("writing {}", args.out.display()))?;
    println!(
        "SYNTHETIC data: {} ratings by {} users over {} anime, {:.1} MB, seed {}, {:.1} s",
        summary.ratings,
        summary.users,
        summary.anime,
        summary.bytes as f64 / 1e6,
        args.seed,
        started.elapsed().as_secs_f64()
    );
    println!("written       {}", args.out.display());
    println!("label         {}", synth::label_path(&args.out).display());
    Ok(())
}
