//! Helpers shared by the integration tests: where the real sample and the fixtures are, and
//! scratch data folders built from a fixture catalogue plus a ratings text.

#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};

use anirec_data::files::NoProgress;
use anirec_data::{DataError, Dataset, IngestOptions, SideFolder};

/// The real MyAnimeList sample: `$ANIREC_DATA`, else `../shared/data/mal2020` beside the project.
/// Panics (fails the test) when it is missing: these tests must not be skipped silently.
pub fn sample_dir() -> PathBuf {
    let dir = std::env::var_os("ANIREC_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/mal2020")
        });
    assert!(
        dir.join("anime.csv").is_file(),
        "the MyAnimeList sample is missing at {} (set ANIREC_DATA)",
        dir.display()
    );
    dir
}

/// A committed fixture.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A temporary data folder: the mini 2020 catalogue (ids 10, 20, 30, 40) plus a ratings file.
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    /// A folder whose `rating_complete.csv` holds `ratings` exactly.
    pub fn with_ratings(ratings: &[u8]) -> Scratch {
        Scratch::with_file("rating_complete.csv", ratings)
    }

    /// A folder whose file `name` holds `content` exactly (beside the mini catalogue).
    pub fn with_file(name: &str, content: &[u8]) -> Scratch {
        let dir = tempfile::tempdir().expect("temp dir");
        if name != "anime.csv" {
            std::fs::copy(
                fixture("mal2020_mini/anime.csv"),
                dir.path().join("anime.csv"),
            )
            .expect("copy catalogue");
        }
        if name == "anime.csv" {
            std::fs::write(
                dir.path().join("rating_complete.csv"),
                "user_id,anime_id,rating\n1,10,9\n",
            )
            .expect("write ratings");
        }
        std::fs::write(dir.path().join(name), content).expect("write file");
        Scratch { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Ingests the folder.
    pub fn load(&self, strict: bool) -> Result<Dataset, DataError> {
        load(self.path(), strict)
    }
}

/// Ingests a folder with default options, strict or not.
pub fn load(dir: &Path, strict: bool) -> Result<Dataset, DataError> {
    let opts = IngestOptions {
        strict,
        ..IngestOptions::default()
    };
    Dataset::load_dir(dir, &opts, &NoProgress)
}

/// Ingests a folder alone, without the Jikan pages beside it, strict or not.
pub fn load_without_jikan(dir: &Path, strict: bool) -> Result<Dataset, DataError> {
    let opts = IngestOptions {
        strict,
        jikan: SideFolder::Off,
        ..IngestOptions::default()
    };
    Dataset::load_dir(dir, &opts, &NoProgress)
}

/// Copies the sample's catalogue files (not its ratings) into `dir`.
pub fn copy_sample_catalogue(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for name in ["anime.csv", "anime_with_synopsis.csv"] {
        std::fs::copy(sample_dir().join(name), dir.join(name)).unwrap();
    }
}
