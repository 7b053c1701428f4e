//! A whole dataset: the catalogue (with synopses), the ratings store and the ingest report, read
//! from a data folder in one of the known layouts.

use std::path::{Path, PathBuf};

use crate::catalogue::Catalogue;
use crate::catalogue::Upsert;
use crate::error::{DataError, Result, RowError};
use crate::files::{Progress, SideFolder, file_name, read_file};
use crate::formats::jikan;
use crate::formats::mal2020::{self, Repair};
use crate::formats::ratings::{ParseOptions, ParsedRatings, read_ratings};
use crate::formats::{self, Layout};
use crate::franchise::{grouping, relations};
use crate::ratings::{self, Ratings};
use crate::report::{IngestReport, SkipReason, Skips, SourceCounts};

/// How to read a data folder.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// Stop at the first malformed row instead of skipping and counting it.
    pub strict: bool,
    /// Drop users with fewer ratings than this (after duplicates are resolved).
    pub min_user_ratings: usize,
    /// Read ratings from this file instead of the folder's own ratings file.
    pub ratings_file: Option<PathBuf>,
    /// Where the synopsis repairs come from.
    pub synopsis_repairs: SynopsisRepairs,
    /// Where the franchise relation files come from.
    pub relations: SideFolder,
    /// Where the Jikan pages merged over the catalogue come from.
    pub jikan: SideFolder,
}

/// Where repairs of cut-off synopses come from (see [`mal2020::read_repairs`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SynopsisRepairs {
    /// The folder's `synopsis_repairs.csv`, when it has one.
    #[default]
    Folder,
    /// This file.
    File(PathBuf),
    /// None: synopses stay as `anime_with_synopsis.csv` has them.
    Off,
}

/// Catalogue file name in every layout.
pub const CATALOGUE_FILE: &str = "anime.csv";
/// Synopsis file name (MAL 2020).
pub const SYNOPSIS_FILE: &str = "anime_with_synopsis.csv";
/// Synopsis repairs file name (read when present).
pub const REPAIRS_FILE: &str = "synopsis_repairs.csv";
/// Ratings file names, in the order they are looked for.
pub const RATINGS_FILES: [&str; 3] = ["rating_complete.csv", "animelist.csv", "rating.csv"];

/// The catalogue and ratings of one data folder.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// All anime; its order defines the anime indices of `ratings`.
    pub catalogue: Catalogue,
    /// The ratings.
    pub ratings: Ratings,
    /// What was read.
    pub report: IngestReport,
}

/// Where the tests and benchmarks find the real MyAnimeList sample: `$ANIREC_DATA`, else
/// `../shared/data/mal2020` beside the workspace this crate was built in.
pub fn sample_dir() -> PathBuf {
    std::env::var_os("ANIREC_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/mal2020")
        })
}

/// The catalogue of a data folder, with its synopses attached.
pub struct LoadedCatalogue {
    /// The anime.
    pub catalogue: Catalogue,
    /// The release layout the catalogue header showed.
    pub layout: Layout,
}

impl Dataset {
    /// Drops users with fewer than `min` ratings and updates the report's counts.
    pub fn apply_min_user_ratings(&mut self, min: usize) {
        if min > 1 {
            let (kept, dropped) = std::mem::take(&mut self.ratings).with_min_user_ratings(min);
            self.report.skipped.add(SkipReason::MinUserRatings, dropped);
            self.ratings = kept;
        }
        self.report.ratings = self.ratings.len() as u64;
        self.report.users = self.ratings.active_users() as u64;
        self.report.rated_anime = self.ratings.rated_anime() as u64;
    }

    /// Reads a split written as `train.csv` / `test.csv` against the catalogue of `dir`; both
    /// stores share user indices. Repeated pairs in either file keep their last row. The report
    /// describes the train side.
    pub fn load_split(
        dir: &Path,
        train: &Path,
        test: &Path,
        opts: &IngestOptions,
        progress: &dyn Progress,
    ) -> Result<(Catalogue, IngestReport, crate::split::Split)> {
        let strict = opts.strict;
        let mut report = IngestReport::default();
        let loaded = load_catalogue(dir, opts, &mut report)?;
        let mut stores =
            read_ratings_files(&[train, test], &loaded, strict, &mut report, progress)?;
        let test = stores.pop().unwrap_or_default();
        let train = stores.pop().unwrap_or_default();
        report.ratings = train.len() as u64;
        report.users = train.active_users() as u64;
        report.rated_anime = train.rated_anime() as u64;
        Ok((
            loaded.catalogue,
            report,
            crate::split::Split { train, test },
        ))
    }

    /// Reads a data folder: `anime.csv`, `anime_with_synopsis.csv` when present, and the ratings
    /// (`rating_complete.csv`, else `animelist.csv`, else `rating.csv`, or `opts.ratings_file`).
    pub fn load_dir(dir: &Path, opts: &IngestOptions, progress: &dyn Progress) -> Result<Dataset> {
        let mut report = IngestReport::default();
        let started = std::time::Instant::now();
        let loaded = load_catalogue(dir, opts, &mut report)?;
        tracing::debug!(seconds = started.elapsed().as_secs_f64(), "catalogue read");
        let ratings_path = match &opts.ratings_file {
            Some(path) => path.clone(),
            None => find_ratings_file(dir)?,
        };
        let mut parsed = read_ratings_files(
            &[&ratings_path],
            &loaded,
            opts.strict,
            &mut report,
            progress,
        )?;
        let mut dataset = Dataset {
            catalogue: loaded.catalogue,
            ratings: parsed.pop().unwrap_or_default(),
            report,
        };
        dataset.apply_min_user_ratings(opts.min_user_ratings);
        Ok(dataset)
    }
}

/// The ratings file a folder holds.
pub fn find_ratings_file(dir: &Path) -> Result<PathBuf> {
    RATINGS_FILES
        .iter()
        .map(|name| dir.join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| DataError::MissingFile {
            dir: dir.to_owned(),
            message: format!(
                "no ratings file: expected one of {}",
                RATINGS_FILES.join(", ")
            ),
        })
}

/// Reads `anime.csv` and, when present, `anime_with_synopsis.csv` of a folder, with the synopsis
/// repairs `opts` names applied, then merges the Jikan pages `opts` names over it (newer values
/// win; anime the folder lacks come after its own) and groups the franchises.
pub fn load_catalogue(
    dir: &Path,
    opts: &IngestOptions,
    report: &mut IngestReport,
) -> Result<LoadedCatalogue> {
    let strict = opts.strict;
    let path = dir.join(CATALOGUE_FILE);
    if !path.is_file() {
        return Err(DataError::MissingFile {
            dir: dir.to_owned(),
            message: format!("no catalogue: expected {CATALOGUE_FILE}"),
        });
    }
    let data = read_file(&path)?;
    let (layout, anime, read) =
        formats::read_catalogue(&data, &file_name(&path), strict, &mut report.skipped)?;
    report.files.push(read);
    let mut catalogue = Catalogue::new(anime);
    report.sources.push(SourceCounts {
        source: layout.anime_layout().to_owned(),
        anime_added: catalogue.len() as u64,
        anime_updated: 0,
    });

    let synopsis_path = dir.join(SYNOPSIS_FILE);
    if synopsis_path.is_file() {
        let data = read_file(&synopsis_path)?;
        let synopses = mal2020::read_synopses(
            &data,
            &file_name(&synopsis_path),
            strict,
            &mut report.skipped,
        )?;
        report.files.push(synopses.read);
        for (id, text) in synopses.entries {
            match catalogue.index_of(id) {
                Some(i) => {
                    report.synopses += 1;
                    if text.is_empty() {
                        report.empty_synopses += 1;
                    } else {
                        catalogue.anime_mut()[i.index()].synopsis = Some(text);
                    }
                }
                None => report.skipped.add(SkipReason::UnknownAnime, 1),
            }
        }
    }
    let repairs = match &opts.synopsis_repairs {
        SynopsisRepairs::Folder => Some(dir.join(REPAIRS_FILE)).filter(|p| p.is_file()),
        SynopsisRepairs::File(path) => Some(path.clone()),
        SynopsisRepairs::Off => None,
    };
    if let Some(path) = repairs {
        let data = read_file(&path)?;
        let file = file_name(&path);
        let (repairs, read) = mal2020::read_repairs(&data, &file, strict, &mut report.skipped)?;
        report.files.push(read);
        apply_repairs(&mut catalogue, repairs, &file, report);
    }
    if let Some(folder) = jikan::folder(&opts.jikan, dir) {
        let (newer, files) = jikan::read_dir(&folder, strict, &mut report.skipped)?;
        report.files.extend(files);
        let mut counts = SourceCounts {
            source: jikan::LAYOUT.to_owned(),
            anime_added: 0,
            anime_updated: 0,
        };
        for anime in newer {
            match catalogue.upsert(anime) {
                Upsert::Added => counts.anime_added += 1,
                Upsert::Updated => counts.anime_updated += 1,
            }
        }
        report.sources.push(counts);
    }
    catalogue.mark_themes();
    report.anime = catalogue.len() as u64;
    report.adult_anime = catalogue.anime().iter().filter(|a| a.adult).count() as u64;
    let relations = match relations::folder(&opts.relations, dir) {
        Some(folder) => relations::read(&folder)?,
        None => relations::Relations::default(),
    };
    report.files.extend(relations.files.iter().cloned());
    let franchises = grouping::build(catalogue.anime(), |id| catalogue.index_of(id), &relations);
    report.franchises = franchises.all().len() as u64;
    report.franchise_anime = franchises
        .all()
        .iter()
        .map(|f| f.entries.len() as u64)
        .sum();
    catalogue.set_franchises(franchises);
    Ok(LoadedCatalogue { catalogue, layout })
}

/// Puts each repaired synopsis in place of the cut-off one it repairs, after checking that it
/// is its prefix followed by that very text; a row that is not is skipped and counted.
fn apply_repairs(
    catalogue: &mut Catalogue,
    repairs: Vec<Repair>,
    file: &str,
    report: &mut IngestReport,
) {
    for repair in repairs {
        let Some(i) = catalogue.index_of(repair.mal_id) else {
            report.skipped.add(SkipReason::UnknownAnime, 1);
            continue;
        };
        let anime = &mut catalogue.anime_mut()[i.index()];
        let fits = anime.synopsis.as_deref().is_some_and(|cut| {
            repair.synopsis.len() == repair.prefix.len() + cut.len()
                && repair.synopsis.starts_with(&repair.prefix)
                && repair.synopsis.ends_with(cut)
        });
        if fits {
            anime.synopsis = Some(repair.synopsis);
            report.synopses_repaired += 1;
        } else {
            let error = RowError {
                file: file.to_owned(),
                line: repair.line,
                column: Some("synopsis".to_owned()),
                reason: SkipReason::RepairMismatch,
                message: format!(
                    "the repaired synopsis of anime {} is not {:?} followed by the synopsis it \
                     repairs; skipped",
                    repair.mal_id, repair.prefix
                ),
            };
            report.skipped.record(error.reason, || error.to_string());
        }
    }
}

/// Reads ratings files against a catalogue; the stores returned share one user index space.
pub fn read_ratings_files(
    paths: &[&Path],
    catalogue: &LoadedCatalogue,
    strict: bool,
    report: &mut IngestReport,
    progress: &dyn Progress,
) -> Result<Vec<Ratings>> {
    let table = catalogue.catalogue.id_table();
    let opts = ParseOptions {
        strict,
        anime_table: &table,
        catalogue: catalogue.layout,
        progress,
    };
    let mut sources = Vec::with_capacity(paths.len());
    for path in paths {
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        progress.start(&file_name(path), size);
        report.synthetic |= crate::synth::label_path(path).is_file();
        let mut skips = Skips::default();
        let started = std::time::Instant::now();
        let ParsedRatings { chunks, read, .. } = read_ratings(path, &opts, &mut skips)?;
        tracing::debug!(file = %read.file, seconds = started.elapsed().as_secs_f64(), "parsed");
        report.skipped.merge(skips);
        report.files.push(read);
        sources.push(chunks);
    }
    Ok(ratings::build(
        sources,
        catalogue.catalogue.len(),
        &mut report.skipped,
    ))
}
