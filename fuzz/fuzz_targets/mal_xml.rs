//! Fuzzes the MyAnimeList XML export reader, leniently and strictly.
#![no_main]

use anirec_data::formats::malxml;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = malxml::parse(data, "list.xml", false);
    let _ = malxml::parse(data, "list.xml", true);
});
