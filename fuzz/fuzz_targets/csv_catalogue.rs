//! Fuzzes the catalogue readers (both layouts, detected from the header) and the synopsis
//! reader, leniently and strictly: any input must give a result or an error, never a panic.
#![no_main]

use anirec_data::formats::{mal2020, read_catalogue};
use anirec_data::report::Skips;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for strict in [false, true] {
        let mut skips = Skips::default();
        let _ = read_catalogue(data, "anime.csv", strict, &mut skips);
        let _ = mal2020::read_synopses(data, "anime_with_synopsis.csv", strict, &mut skips);
    }
});
