//! The `anirec` binary: command-line parsing, logging setup, and one module per subcommand that
//! wires the library crates together.

mod commands;
mod curves;
mod mlflow;
mod progress;
mod story;

use std::io::IsTerminal;

use clap::{Parser, Subcommand};

/// A hybrid anime recommender over MyAnimeList data.
#[derive(Parser)]
#[command(name = "anirec", version, about, long_about = None)]
struct Cli {
    /// More log output (-v info, -vv debug; `serve` logs at info already).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Log as JSON lines (one object per event) instead of text.
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Read a data folder, validate it, and report what it holds.
    Ingest(commands::ingest::Args),
    /// Split ratings into train.csv and test.csv (the evaluation protocol's split).
    Split(commands::split::Args),
    /// Train the hybrid recommender and write a model bundle.
    Train(commands::train::Args),
    /// Recommend anime for a user (known, or new from their ratings or MAL export).
    Recommend(commands::recommend::Args),
    /// Anime similar to an anime.
    Similar(commands::similar::Args),
    /// Story search: anime whose story is closest to a description (or whose title it is).
    Search(commands::search::Args),
    /// Users with a similar taste.
    SimilarUsers(commands::similar::UsersArgs),
    /// Evaluate models on the protocol's split, beside the popularity baseline.
    Eval(commands::eval::Args),
    /// Generate a synthetic ratings file at full MyAnimeList scale.
    Synth(commands::synth::Args),
    /// Serve the web UI and the JSON API for a model (or for data, training a model first).
    Serve(commands::serve::Args),
    /// Point an alias of the registered model in MLflow (champion) at one of its versions.
    Promote(commands::promote::Args),
    /// Check that a server answers (exit 0 on a 2xx): for container health checks.
    Probe(commands::probe::Args),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let serving = matches!(cli.command, Command::Serve(_));
    let level = match (cli.verbose, serving) {
        (0, false) => tracing::Level::WARN,
        (0, true) | (1, _) => tracing::Level::INFO,
        _ => tracing::Level::DEBUG,
    };
    let logs = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if cli.log_json {
        logs.json().init();
    } else {
        logs.init();
    }
    let result = match cli.command {
        Command::Ingest(args) => commands::ingest::run(args),
        Command::Split(args) => commands::split::run(args),
        Command::Synth(args) => commands::synth::run(args),
        Command::Eval(args) => commands::eval::run(args),
        Command::Train(args) => commands::train::run(args),
        Command::Recommend(args) => commands::recommend::run(args),
        Command::Similar(args) => commands::similar::run(args),
        Command::SimilarUsers(args) => commands::similar::run_users(args),
        Command::Search(args) => commands::search::run(args),
        Command::Serve(args) => commands::serve::run(args),
        Command::Promote(args) => commands::promote::run(args),
        Command::Probe(args) => commands::probe::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
