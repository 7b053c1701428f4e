//! Fuzzes the parallel ratings parser through a real file (it reads with positional reads), with
//! and without a small catalogue, leniently and strictly.
#![no_main]

use anirec_data::dataset::NoProgress;
use anirec_data::formats::Layout;
use anirec_data::formats::ratings::{ParseOptions, read_ratings};
use anirec_data::report::Skips;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("anirec-fuzz-{}.csv", std::process::id()));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let table: Vec<u32> = (0..64).map(|i| if i % 3 == 0 { u32::MAX } else { i }).collect();
    for (strict, catalogue) in [(false, Layout::Mal2020), (true, Layout::Kaggle2016)] {
        let opts = ParseOptions {
            strict,
            anime_table: &table,
            catalogue,
            progress: &NoProgress,
        };
        let mut skips = Skips::default();
        if let Ok(parsed) = read_ratings(&path, &opts, &mut skips) {
            let _ = anirec_data::ratings::build(vec![parsed.chunks], table.len(), &mut skips);
        }
    }
});
