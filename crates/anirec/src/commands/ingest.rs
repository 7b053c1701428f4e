//! `anirec ingest`: read a data folder and print what it holds, as text or one JSON object;
//! optionally save a snapshot for later commands.

use std::path::PathBuf;
use std::time::Instant;

use anirec_data::{Catalogue, Dataset, IngestOptions, snapshot};
use anyhow::Context;

use super::data_args::CatalogueArgs;
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
    /// Synopsis repairs, franchise relations and Jikan pages.
    #[command(flatten)]
    pub sources: CatalogueArgs,
}

/// Runs `anirec ingest`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let opts = IngestOptions {
        strict: args.strict,
        min_user_ratings: args.min_user_ratings,
        ratings_file: args.ratings.clone(),
        ..args.sources.options()
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
            serde_json::to_string_pretty(&json_report(&dataset, seconds))?
        );
    } else {
        print_text(&dataset, seconds);
        if let Some(path) = &args.snapshot {
            println!("snapshot      {}", path.display());
        }
    }
    Ok(())
}

/// How many of the largest franchises the report names.
const LARGEST: usize = 8;

/// The largest franchises: (name, entries), largest first.
fn largest_franchises(catalogue: &Catalogue) -> Vec<(&str, usize)> {
    let mut all: Vec<(&str, usize)> = catalogue
        .franchises()
        .all()
        .iter()
        .map(|f| (f.name.as_str(), f.entries.len()))
        .collect();
    all.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    all.truncate(LARGEST);
    all
}

/// The `--json` object: the documented keys first, details after.
fn json_report(dataset: &Dataset, seconds: f64) -> serde_json::Value {
    let report = &dataset.report;
    let largest: Vec<serde_json::Value> = largest_franchises(&dataset.catalogue)
        .into_iter()
        .map(|(name, entries)| serde_json::json!({"name": name, "entries": entries}))
        .collect();
    serde_json::json!({
        "anime": report.anime,
        "sources": report.sources,
        "synopses": report.synopses,
        "empty_synopses": report.empty_synopses,
        "synopses_repaired": report.synopses_repaired,
        "franchises": report.franchises,
        "franchise_anime": report.franchise_anime,
        "largest_franchises": largest,
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

fn print_text(dataset: &Dataset, seconds: f64) {
    let report = &dataset.report;
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
    for source in &report.sources {
        println!(
            "  from        {}: {} added, {} updated",
            source.source, source.anime_added, source.anime_updated
        );
    }
    println!(
        "synopses      {} ({} empty, {} repaired)",
        report.synopses, report.empty_synopses, report.synopses_repaired
    );
    let largest: Vec<String> = largest_franchises(&dataset.catalogue)
        .into_iter()
        .map(|(name, n)| format!("{name} {n}"))
        .collect();
    println!(
        "franchises    {} of 2+ anime ({} anime); largest: {}",
        report.franchises,
        report.franchise_anime,
        largest.join(", ")
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
