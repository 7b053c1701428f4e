//! The data arguments `train` and `eval` share: a data folder or snapshot, optionally with
//! `train.csv` / `test.csv` files that replace its ratings (its catalogue is still used), and
//! the catalogue's own sources (synopsis repairs, franchise relation files, Jikan pages) that
//! `ingest` takes too.

use std::path::PathBuf;

use anirec_data::{Catalogue, Dataset, IngestOptions, Ratings, SideFolder, SynopsisRepairs};
use anyhow::Context;

use crate::progress::Bar;

/// `--data`, `--train`, `--test`.
#[derive(clap::Args)]
pub struct DataArgs {
    /// Data folder (its catalogue is always used), or a snapshot.
    #[arg(long)]
    pub data: PathBuf,
    /// Train ratings (with --test): replaces the ratings of --data.
    #[arg(long, requires = "test")]
    pub train: Option<PathBuf>,
    /// Test ratings (with --train).
    #[arg(long, requires = "train")]
    pub test: Option<PathBuf>,
    /// Synopsis repairs, franchise relations and Jikan pages.
    #[command(flatten)]
    pub sources: CatalogueArgs,
}

/// `--synopsis-repairs FILE`, `--no-synopsis-repairs`, `--relations DIR`, `--no-relations`,
/// `--jikan DIR`, `--no-jikan`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct CatalogueArgs {
    /// Restore cut-off synopses from this file (default: the data folder's
    /// synopsis_repairs.csv, when it has one).
    #[arg(long, value_name = "FILE", conflicts_with = "no_synopsis_repairs")]
    pub synopsis_repairs: Option<PathBuf>,
    /// Keep synopses as anime_with_synopsis.csv has them.
    #[arg(long)]
    pub no_synopsis_repairs: bool,
    /// Group franchises with the relation files of this folder (default: the `relations`
    /// folder beside the data folder, when there is one).
    #[arg(long, value_name = "DIR", conflicts_with = "no_relations")]
    pub relations: Option<PathBuf>,
    /// Group franchises by titles alone.
    #[arg(long)]
    pub no_relations: bool,
    /// Merge the Jikan v4 pages (season pages, single anime answers) of this folder over the
    /// catalogue (default: the `jikan` folder beside the data folder, when there is one).
    #[arg(long, value_name = "DIR", conflicts_with = "no_jikan")]
    pub jikan: Option<PathBuf>,
    /// Use the data folder's catalogue alone.
    #[arg(long)]
    pub no_jikan: bool,
}

/// The folder a `--DIR` / `--no-` flag pair names.
fn side_folder(dir: &Option<PathBuf>, off: bool) -> SideFolder {
    match (dir, off) {
        (_, true) => SideFolder::Off,
        (Some(dir), false) => SideFolder::Dir(dir.clone()),
        (None, false) => SideFolder::Beside,
    }
}

impl CatalogueArgs {
    /// The ingest options these flags give.
    pub fn options(&self) -> IngestOptions {
        let synopsis_repairs = match (&self.synopsis_repairs, self.no_synopsis_repairs) {
            (_, true) => SynopsisRepairs::Off,
            (Some(file), false) => SynopsisRepairs::File(file.clone()),
            (None, false) => SynopsisRepairs::Folder,
        };
        IngestOptions {
            synopsis_repairs,
            relations: side_folder(&self.relations, self.no_relations),
            jikan: side_folder(&self.jikan, self.no_jikan),
            ..IngestOptions::default()
        }
    }
}

/// What [`DataArgs::load`] read.
pub struct Loaded {
    /// The catalogue of `--data`.
    pub catalogue: Catalogue,
    /// The ratings of `--data`, or of `--train`.
    pub train: Ratings,
    /// The ratings of `--test`, sharing `train`'s user indices.
    pub test: Option<Ratings>,
    /// Whether the ratings are synthetic (made by `anirec synth`).
    pub synthetic: bool,
}

impl DataArgs {
    /// Reads the data, with a progress bar.
    pub fn load(&self) -> anyhow::Result<Loaded> {
        let bar = Bar::new();
        let opts = self.sources.options();
        let loaded = match (&self.train, &self.test) {
            (Some(train), Some(test)) => Dataset::load_split(&self.data, train, test, &opts, &bar)
                .map(|(catalogue, report, s)| Loaded {
                    catalogue,
                    train: s.train,
                    test: Some(s.test),
                    synthetic: report.synthetic,
                }),
            _ => Dataset::open(&self.data, &opts, &bar).map(|d| Loaded {
                catalogue: d.catalogue,
                train: d.ratings,
                test: None,
                synthetic: d.report.synthetic,
            }),
        };
        bar.finish();
        loaded.with_context(|| format!("reading {}", self.data.display()))
    }
}
