//! Helpers of the binary's end-to-end tests: the sample's folder and running `anirec`.

#![allow(dead_code)] // each test binary uses its own subset of the helpers

pub mod server;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The real sample (`ANIREC_DATA` or `../shared/data/mal2020`); fails loudly when missing.
pub fn sample_dir() -> PathBuf {
    let dir = anirec_data::dataset::sample_dir();
    assert!(
        dir.join("anime.csv").is_file(),
        "the sample is missing at {} (set ANIREC_DATA)",
        dir.display()
    );
    dir
}

/// Runs the binary with `args`.
pub fn anirec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_anirec"))
        .args(args)
        // Embedding the whole sample takes minutes: these tests go without story search,
        // which the server's story tests and the encoder's reference test cover.
        .env("ANIREC_NO_ENCODER", "1")
        .output()
        .expect("run anirec")
}

/// Its stdout, after checking it succeeded (showing stderr when it did not).
pub fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "anirec failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// The four-anime fixture in the layout of the 2020 Kaggle files (anime 10, 20, 30, 40).
pub fn mini() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../anirec-data/tests/fixtures/mal2020_mini")
}
