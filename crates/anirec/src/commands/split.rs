//! `anirec split`: the evaluation protocol's train/test split, written as `train.csv` and
//! `test.csv` so other systems can be scored on exactly the same pairs; or, with `--protocol
//! new-users`, the new-fan protocol's `train.csv`, `fold_in.csv` and `test.csv` (the users `eval
//! --protocol new-users` holds out with the same seed).

use std::path::PathBuf;

use anirec_data::split::{self, DEFAULT_SEED};
use anirec_data::{Dataset, IngestOptions};
use anyhow::Context;

use super::eval::Protocol;
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
    /// Which protocol's split.
    #[arg(long, value_enum, default_value_t = Protocol::Ratings)]
    pub protocol: Protocol,
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
    let writing = || format!("writing the split into {}", args.out.display());
    if args.protocol == Protocol::NewUsers {
        let s = split::hold_out_users(&dataset.ratings, args.seed);
        split::write_user_split(&s, &dataset.catalogue, &args.out).with_context(writing)?;
        println!("train         {} ratings", s.train.len());
        println!("new users     {}", s.users.len());
        println!("fold-in       {} ratings", s.fold_in.len());
        println!("test          {} ratings", s.test.len());
        println!("written       {}", args.out.display());
        return Ok(());
    }
    let s = split::split(&dataset.ratings, args.seed);
    split::write_split(&s, &dataset.catalogue, &args.out).with_context(writing)?;
    println!("train         {} ratings", s.train.len());
    println!("test          {} ratings", s.test.len());
    println!("users         {}", s.train.active_users());
    println!("anime         {} in train", s.train.rated_anime());
    println!("written       {}", args.out.display());
    Ok(())
}
