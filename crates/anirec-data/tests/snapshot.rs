//! Snapshot files: round trip, and the clear failures of a corrupt, truncated, foreign or
//! future-version file.

mod common;

use anirec_data::files::NoProgress;
use anirec_data::snapshot::{self, FORMAT_VERSION};
use anirec_data::{Dataset, IngestOptions};

fn saved() -> (tempfile::TempDir, std::path::PathBuf, Dataset) {
    let d = common::load(&common::fixture("mal2020_mini"), true).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mini.snap");
    snapshot::save(&d, &path).unwrap();
    (dir, path, d)
}

fn load_error(path: &std::path::Path) -> String {
    snapshot::load(path).unwrap_err().to_string()
}

#[test]
fn round_trip_and_open_as_data() {
    let (_dir, path, d) = saved();
    let back = Dataset::open(&path, &IngestOptions::default(), &NoProgress).unwrap();
    assert_eq!(back.ratings, d.ratings);
    assert_eq!(back.catalogue, d.catalogue);
    assert_eq!(back.report, d.report);
    // --min-user-ratings applies to a snapshot too.
    let opts = IngestOptions {
        min_user_ratings: 3,
        ..IngestOptions::default()
    };
    let filtered = Dataset::open(&path, &opts, &NoProgress).unwrap();
    assert_eq!(filtered.report.users, 2);
    assert_eq!(filtered.report.ratings, 6);
}

#[test]
fn corrupt_byte_fails_the_checksum() {
    let (_dir, path, _) = saved();
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 3;
    bytes[last] ^= 0x55;
    std::fs::write(&path, &bytes).unwrap();
    let err = load_error(&path);
    assert!(
        err.ends_with("checksum mismatch in section report: the file is corrupt"),
        "{err}"
    );
}

#[test]
fn truncated_file_is_refused() {
    let (_dir, path, _) = saved();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 10]).unwrap();
    let err = load_error(&path);
    assert!(err.contains("truncated or padded: expected"), "{err}");
    std::fs::write(&path, &bytes[..40]).unwrap();
    assert!(load_error(&path).contains("truncated: the header is cut off"));
    std::fs::write(&path, &bytes[..5]).unwrap();
    assert!(load_error(&path).contains("the file is too short"));
}

#[test]
fn future_version_and_foreign_files_are_refused() {
    let (_dir, path, _) = saved();
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    std::fs::write(&path, &bytes).unwrap();
    let err = load_error(&path);
    assert!(
        err.ends_with(&format!(
            "snapshot format version {}; this anirec reads version {FORMAT_VERSION} (re-run `anirec ingest --snapshot`)",
            FORMAT_VERSION + 1
        )),
        "{err}"
    );
    std::fs::write(&path, b"user_id,anime_id,rating\n1,2,3\n").unwrap();
    assert!(load_error(&path).ends_with("not an anirec snapshot: wrong magic bytes"));
}

#[test]
fn failed_write_leaves_the_old_file_intact() {
    let (dir, path, d) = saved();
    let before = std::fs::read(&path).unwrap();
    // Writing into a folder that does not exist fails, and nothing half-written appears.
    let missing = dir.path().join("nope/mini.snap");
    assert!(snapshot::save(&d, &missing).is_err());
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["mini.snap"]);
}
