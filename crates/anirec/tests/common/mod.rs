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

/// The four-anime fixture copied under `dir` with every episode count "Unknown", so that a
/// write may set any number of episodes watched (the durability test writes its sequence
/// number there; the server refuses more episodes than an anime is known to have).
pub fn without_episode_counts(dir: &Path) -> PathBuf {
    let (from, to) = (mini(), dir.join("uncounted"));
    std::fs::create_dir_all(&to).unwrap();
    for file in [
        "anime_with_synopsis.csv",
        "animelist.csv",
        "rating_complete.csv",
    ] {
        std::fs::copy(from.join(file), to.join(file)).unwrap();
    }
    let csv = std::fs::read_to_string(from.join("anime.csv")).unwrap();
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    let column = header.split(',').position(|h| h == "Episodes").unwrap();
    let mut out = format!("{header}\n");
    for line in lines {
        // Fields as written (quotes kept): split at the commas outside quotes.
        let (mut fields, mut start, mut quoted) = (Vec::new(), 0, false);
        for (i, c) in line.char_indices() {
            match c {
                '"' => quoted = !quoted,
                ',' if !quoted => {
                    fields.push(&line[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        fields.push(&line[start..]);
        fields[column] = "Unknown";
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    std::fs::write(to.join("anime.csv"), out).unwrap();
    to
}
