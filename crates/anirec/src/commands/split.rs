//! `anirec split`: the evaluation protocol's train/test split, written as `train.csv` and
//! `test.csv` so other systems can be scored on exactly the same pairs.

use std::path::PathBuf;

use anirec_data::split::{self, DEFAULT_SEED};
use anirec_data::{Dataset, IngestOptions};
use anyhow::Context;

use crate::progress::Bar;

/// Arguments of `anirec split`.
#[derive(clap::Args)]
pub struct Args {
    /// Data folder, or a snapshot written by `anirec ingest --snapshot`.
    #[arg(long)]
    pub data: PathBuf,
    /// Folder to write train.csv and test.csv into.
    #[arg(long)]
    pub out: PathBuf,
    /// Seed of the split.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Drop users with fewer ratings than this before splitting.
    #[arg(long, default_value_t = 0)]
    pub min_user_ratings: usize,
    /// Stop at the first malformed row.
    #[arg(long)]
    pub strict: bool,
}

/// Runs `anirec split`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let opts = IngestOptions {
        strict: args.strict,
        min_user_ratings: args.min_user_ratings,
        ..IngestOptions::default()
    };
    let bar = Bar::new();
    let dataset = Dataset::open(&args.data, &opts, &bar);
    bar.finish();
    let dataset = dataset.with_context(|| format!("reading {}", args.data.display()))?;
    let s = split::split(&dataset.ratings, args.seed);
    split::write_split(&s, &dataset.catalogue, &args.out)
        .with_context(|| format!("writing the split into {}", args.out.display()))?;
    println!("train         {} ratings", s.train.len());
    println!("test          {} ratings", s.test.len());
    println!("users         {}", s.train.active_users());
    println!("anime         {} in train", s.train.rated_anime());
    println!("written       {}", args.out.display());
    Ok(())
}
