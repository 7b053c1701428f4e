//! Every kind of bad input: the exact error in strict mode, the exact skip count otherwise, and
//! never a panic.

mod common;

use anirec_data::SkipReason::*;
use anirec_data::{Dataset, SkipReason, UserIx};
use common::Scratch;

const HEADER: &str = "user_id,anime_id,rating\n";

/// Loads `rows` (after the header) strictly and returns the error message.
fn strict_error(rows: &[u8]) -> String {
    let mut data = HEADER.as_bytes().to_vec();
    data.extend_from_slice(rows);
    match Scratch::with_ratings(&data).load(true) {
        Ok(_) => panic!("strict ingest accepted {:?}", String::from_utf8_lossy(rows)),
        Err(e) => e.to_string(),
    }
}

/// Loads `rows` (after the header) leniently.
fn lenient(rows: &[u8]) -> Dataset {
    let mut data = HEADER.as_bytes().to_vec();
    data.extend_from_slice(rows);
    Scratch::with_ratings(&data)
        .load(false)
        .expect("lenient ingest")
}

fn skipped(d: &Dataset, reason: SkipReason) -> u64 {
    d.report.skipped.get(reason)
}

#[test]
fn out_of_range_rating() {
    assert_eq!(
        strict_error(b"1,10,9\n1,20,11\n"),
        r#"rating_complete.csv:3: column rating: expected an integer 1-10, found "11""#
    );
    let d = lenient(b"1,10,9\n1,20,11\n2,20,0\n");
    assert_eq!(skipped(&d, BadRating), 2);
    assert_eq!(d.report.ratings, 1);
    assert_eq!(
        d.report.skipped.examples,
        [
            r#"rating_complete.csv:3: column rating: expected an integer 1-10, found "11""#,
            r#"rating_complete.csv:4: column rating: expected an integer 1-10, found "0""#
        ]
    );
}

#[test]
fn non_numeric_rating() {
    assert_eq!(
        strict_error(b"1,10,nine\n"),
        r#"rating_complete.csv:2: column rating: expected an integer 1-10, found "nine""#
    );
    assert_eq!(skipped(&lenient(b"1,10,9.5\n"), BadRating), 1);
}

#[test]
fn wrong_column_count() {
    assert_eq!(
        strict_error(b"1,10,9\n1,20\n"),
        "rating_complete.csv:3: expected 3 columns, found 2"
    );
    assert_eq!(
        strict_error(b"1,10,9,4\n"),
        "rating_complete.csv:2: expected 3 columns, found 4"
    );
    let d = lenient(b"1,10,9\n1,20\n1,30,5,5\n2,40,7\n");
    assert_eq!(skipped(&d, ColumnCount), 2);
    assert_eq!(d.report.ratings, 2);
}

#[test]
fn unterminated_quote() {
    assert_eq!(
        strict_error(b"1,\"10,9\n2,10,8\n"),
        "rating_complete.csv:2: unterminated quoted field: the closing quote is missing on this line"
    );
    let d = lenient(b"1,\"10,9\n2,10,8\n");
    assert_eq!(skipped(&d, UnterminatedQuote), 1);
    assert_eq!(d.report.ratings, 1, "the next line is still read");
}

#[test]
fn quoted_numbers_are_fine() {
    let d = lenient(b"\"1\",\"10\",\"9\"\n");
    assert_eq!(d.report.ratings, 1);
    assert_eq!(d.report.skipped.total(), 0);
}

#[test]
fn negative_and_huge_ids() {
    assert_eq!(
        strict_error(b"-1,10,9\n"),
        r#"rating_complete.csv:2: column user_id: expected a non-negative integer id, found "-1""#
    );
    assert_eq!(
        strict_error(b"1,99999999999,9\n"),
        r#"rating_complete.csv:2: column anime_id: id out of range (at most 2147483647), found "99999999999""#
    );
    assert_eq!(
        strict_error(b"4294967296,10,9\n"),
        r#"rating_complete.csv:2: column user_id: id out of range (at most 2147483647), found "4294967296""#
    );
    let d = lenient(b"-1,10,9\n1,-10,9\n1,99999999999,9\n2147483647,10,9\n");
    assert_eq!(skipped(&d, BadUserId), 1);
    assert_eq!(skipped(&d, BadAnimeId), 2);
    // The largest allowed user id is kept, without a table sized by it.
    assert_eq!(d.ratings.user_ids(), &[2_147_483_647]);
}

#[test]
fn empty_file_and_header_only() {
    for strict in [true, false] {
        let err = Scratch::with_ratings(b"")
            .load(strict)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("rating_complete.csv: empty file: expected a header line"),
            "{err}"
        );
    }
    let d = Scratch::with_ratings(HEADER.as_bytes()).load(true).unwrap();
    assert_eq!(d.report.ratings, 0);
    assert_eq!(d.report.users, 0);
    let err = Scratch::with_file("anime.csv", b"")
        .load(true)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("anime.csv: empty file"), "{err}");
}

#[test]
fn bom_and_crlf_are_accepted() {
    let d = Scratch::with_ratings(b"\xEF\xBB\xBFuser_id,anime_id,rating\r\n1,10,9\r\n2,20,8\r\n")
        .load(true)
        .unwrap();
    assert_eq!(d.report.ratings, 2);
    assert_eq!(d.ratings.user(UserIx(1)).ratings, &[8]);
}

#[test]
fn invalid_utf8() {
    assert_eq!(
        strict_error(b"1,10,9\n1,20,\xff\n"),
        "rating_complete.csv:3: column rating: invalid UTF-8"
    );
    assert_eq!(skipped(&lenient(b"1,\xc3\x28,9\n"), InvalidUtf8), 1);
}

#[test]
fn unknown_header() {
    let err = Scratch::with_ratings(b"a,b,c\n1,2,3\n")
        .load(false)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        r#"rating_complete.csv:1: unknown header "a,b,c": expected user_id,anime_id,rating or user_id,anime_id,rating,watching_status,watched_episodes"#
    );
    let err = Scratch::with_file("anime.csv", b"id,title\n1,x\n")
        .load(false)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(
            r#"anime.csv:1: unknown header "id,title": expected the MyAnimeList 2020 header"#
        ),
        "{err}"
    );
}

#[test]
fn duplicate_rows_keep_the_last() {
    let d = lenient(b"1,10,9\n1,20,5\n1,10,3\n1,10,4\n");
    assert_eq!(skipped(&d, Duplicate), 2);
    assert_eq!(d.report.ratings, 2);
    assert_eq!(d.ratings.user(UserIx(0)).rating_of(0), Some(4));
    // Duplicates are a data rule, not malformed rows: strict mode counts them too.
    let mut data = HEADER.as_bytes().to_vec();
    data.extend_from_slice(b"1,10,9\n1,10,3\n");
    let d = Scratch::with_ratings(&data).load(true).unwrap();
    assert_eq!(skipped(&d, Duplicate), 1);
}

#[test]
fn truncated_last_line() {
    assert_eq!(
        strict_error(b"1,10,9\n2,2"),
        "rating_complete.csv:3: expected 3 columns, found 2"
    );
    // A complete last line without its newline is fine.
    assert_eq!(lenient(b"1,10,9\n2,20,8").report.ratings, 2);
    // A last line cut inside the rating is still a valid row only if the digits are valid.
    assert_eq!(skipped(&lenient(b"1,10,9\n2,20,"), BadRating), 1);
}

#[test]
fn ratings_of_unknown_anime_are_dropped_and_counted() {
    let d = Scratch::with_ratings(b"user_id,anime_id,rating\n1,10,9\n1,77,9\n2,78,1\n")
        .load(true)
        .unwrap();
    assert_eq!(skipped(&d, UnknownAnime), 2);
    assert_eq!(d.report.ratings, 1);
    assert_eq!(d.report.users, 1);
}

#[test]
fn line_numbers_stay_exact_across_parallel_ranges() {
    // ~13 MB: more than one 8 MB range, with errors in both.
    let mut rows = Vec::new();
    for i in 0..1_000_000u32 {
        let line = match i {
            5 => "1,10,12\n".to_owned(),
            899_999 => "7,20,x\n".to_owned(),
            _ => format!(
                "{},{},{}\n",
                i / 100,
                [10, 20, 30, 40][i as usize % 4],
                i % 10 + 1
            ),
        };
        rows.extend_from_slice(line.as_bytes());
    }
    let d = lenient(&rows);
    assert_eq!(skipped(&d, BadRating), 2);
    assert_eq!(
        d.report.skipped.examples,
        [
            r#"rating_complete.csv:7: column rating: expected an integer 1-10, found "12""#,
            r#"rating_complete.csv:900001: column rating: expected an integer 1-10, found "x""#
        ]
    );
    // 10,000 users with 100 rows each over the same 4 anime: the repeats collapse.
    assert_eq!(d.report.users, 10_000);
    assert_eq!(d.report.ratings, 40_000);
    assert_eq!(skipped(&d, Duplicate), 999_998 - 40_000);
    assert_eq!(
        strict_error(&rows),
        r#"rating_complete.csv:7: column rating: expected an integer 1-10, found "12""#
    );
}

#[test]
fn catalogue_row_errors_name_line_and_column() {
    let header = std::fs::read_to_string(common::fixture("mal2020_mini/anime.csv")).unwrap();
    let mut lines = header.lines();
    let head = lines.next().unwrap();
    let good = lines.next().unwrap();
    let bad_score = good.replacen(",8.5,", ",high,", 1);
    let data = format!("{head}\n{good}\n{bad_score}\n");
    let s = Scratch::with_file("anime.csv", data.as_bytes());
    assert_eq!(
        s.load(true).unwrap_err().to_string(),
        r#"anime.csv:3: column Score: expected a score from 0 to 10, found "high""#
    );
    // The same id again, a short row, and an unterminated quote that runs to the end.
    let data = format!(
        "{head}\n{good}\n{good}\n1,short\n{}\n",
        good.replacen("10,", "11,", 1)
            .replacen("\"Action", "\"Action\"x", 1)
    );
    let d = Scratch::with_file("anime.csv", data.as_bytes())
        .load(false)
        .unwrap();
    assert_eq!(d.report.anime, 1);
    assert_eq!(d.report.skipped.get(DuplicateAnime), 1);
    assert_eq!(d.report.skipped.get(ColumnCount), 1);
    assert_eq!(d.report.skipped.get(BadQuote), 1);
    let data = format!("{head}\n{good}\n11,\"Never closed,8.0\n");
    let err = Scratch::with_file("anime.csv", data.as_bytes())
        .load(true)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "anime.csv:3: unterminated quoted field: the closing quote is missing"
    );
}

#[test]
fn animelist_status_and_episode_errors() {
    let s = Scratch::with_file(
        "animelist.csv",
        b"user_id,anime_id,rating,watching_status,watched_episodes\n1,10,9,2,26\n1,20,0,5,0\n1,30,4,4,x\n",
    );
    let e = s.load(true).unwrap_err().to_string();
    assert_eq!(
        e,
        r#"animelist.csv:3: column watching_status: expected a watching status 1, 2, 3, 4 or 6, found "5""#
    );
    let d = s.load(false).unwrap();
    assert_eq!(d.report.skipped.get(BadStatus), 1);
    assert_eq!(d.report.skipped.get(BadField), 1);
    assert_eq!(d.report.ratings, 1);
}

#[test]
fn fuzzer_finds_stay_fixed() {
    // Found by `cargo fuzz run csv_ratings`: a digit run long enough to overflow the fast parser.
    let crash = std::fs::read(common::fixture("fuzz/ratings-digit-overflow.csv")).unwrap();
    for strict in [false, true] {
        let _ = Scratch::with_ratings(&crash).load(strict);
    }
    assert_eq!(
        strict_error(b"1,10,123456789012345678901234567890\n"),
        r#"rating_complete.csv:2: column rating: expected an integer 1-10, found "123456789012345678901234567890""#
    );
}
