//! `anirec ingest`: read a data folder and print what it holds, as text or one JSON object;
//! optionally save a snapshot for later commands.

use std::path::PathBuf;
use std::time::Instant;

use anirec_data::{Dataset, IngestOptions, IngestReport, snapshot};
use anyhow::Context;

use super::data_args::RepairArgs;
use crate::progress::Bar;

/// Arguments of `anirec ingest`.
#[derive(clap::Args)]
pub struct Args {
    /// Data folder (anime.csv, anime_with_synopsis.csv, rating_complete.csv | animelist.csv | rating.csv),
    /// or a snapshot file.
    #[arg(long)]
    pub data: PathBuf,
    /// Read ratings from this file instead of the folder's ratings file.
    #[arg(long)]
    pub ratings: Option<PathBuf>,
    /// Stop at the first malformed row instead of skipping and counting it.
    #[arg(long)]
    pub strict: bool,
    /// Drop users with fewer ratings than this.
    #[arg(long, default_value_t = 0)]
    pub min_user_ratings: usize,
    /// Write a snapshot of the dataset here (loads in a fraction of the parse time).
    #[arg(long)]
    pub snapshot: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Synopsis repairs.
    #[command(flatten)]
    pub repairs: RepairArgs,
}

/// Runs `anirec ingest`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let opts = IngestOptions {
        strict: args.strict,
        min_user_ratings: args.min_user_ratings,
        ratings_file: args.ratings.clone(),
        synopsis_repairs: args.repairs.source(),
    };
    let started = Instant::now();
    let bar = Bar::new();
    let dataset = Dataset::open(&args.data, &opts, &bar);
    bar.finish();
    let dataset = dataset.with_context(|| format!("reading {}", args.data.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    if let Some(path) = &args.snapshot {
        snapshot::save(&dataset, path).with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json_report(&dataset.report, seconds))?
        );
    } else {
        print_text(&dataset.report, seconds);
        if let Some(path) = &args.snapshot {
            println!("snapshot      {}", path.display());
        }
    }
    Ok(())
}

/// The `--json` object: the documented keys first, details after.
fn json_report(report: &IngestReport, seconds: f64) -> serde_json::Value {
    serde_json::json!({
        "anime": report.anime,
        "synopses": report.synopses,
        "empty_synopses": report.empty_synopses,
        "synopses_repaired": report.synopses_repaired,
        "adult_anime": report.adult_anime,
        "ratings": report.ratings,
        "users": report.users,
        "rated_anime": report.rated_anime,
        "skipped": report.skipped.counts,
        "synthetic": report.synthetic,
        "examples": report.skipped.examples,
        "files": report.files,
        "seconds": seconds,
    })
}

fn print_text(report: &IngestReport, seconds: f64) {
    for file in &report.files {
        println!(
            "read          {} ({}, {} rows, {:.1} MB)",
            file.file,
            file.layout,
            file.rows,
            file.bytes as f64 / 1e6
        );
    }
    println!(
        "anime         {} ({} adult)",
        report.anime, report.adult_anime
    );
    println!(
        "synopses      {} ({} empty, {} repaired)",
        report.synopses, report.empty_synopses, report.synopses_repaired
    );
    let label = if report.synthetic { " (SYNTHETIC)" } else { "" };
    println!("ratings       {}{label}", report.ratings);
    println!("users         {}", report.users);
    println!("rated anime   {}", report.rated_anime);
    if report.skipped.counts.is_empty() {
        println!("skipped       none");
    } else {
        for (reason, n) in &report.skipped.counts {
            println!(
                "skipped       {n} {}",
                serde_json::to_string(reason)
                    .unwrap_or_default()
                    .trim_matches('"')
            );
        }
        for example in &report.skipped.examples {
            println!("  e.g. {example}");
        }
    }
    println!("time          {seconds:.3} s");
}
