//! Parsers for single field values shared by every format: ids, counts, scores. Each error is a
//! [`FieldError`], whose message a [`crate::RowError`] carries (what was wrong, what was found).

/// Largest id accepted for users and anime (MyAnimeList ids are signed 32-bit integers).
pub const MAX_ID: u32 = i32::MAX as u32;

/// Longest part of a found value an error message shows, in characters.
const FOUND_LIMIT: usize = 40;

/// The first [`FOUND_LIMIT`] characters of a value too long to show whole; none when it fits.
pub fn shortened(text: &str) -> Option<String> {
    (text.chars().count() > FOUND_LIMIT).then(|| text.chars().take(FOUND_LIMIT).collect())
}

/// Quotes a found value for an error message, shortened so a huge field can't flood a log.
pub fn found(text: &str) -> String {
    match shortened(text) {
        None => format!("{text:?}"),
        Some(short) => format!("{short:?}..."),
    }
}

/// A field value that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{problem}, found {found}")]
pub struct FieldError {
    /// What was wrong: what was expected, or the range it left.
    pub problem: String,
    /// The value, quoted and shortened ([`found`]).
    pub found: String,
}

impl FieldError {
    /// The error of `text` for `problem`.
    fn new(problem: impl Into<String>, text: &str) -> FieldError {
        FieldError {
            problem: problem.into(),
            found: found(text),
        }
    }
}

/// A non-negative integer id no larger than [`MAX_ID`].
pub fn parse_id(text: &str) -> Result<u32, FieldError> {
    let t = text.trim();
    if t.starts_with('-') && t.len() > 1 && t[1..].bytes().all(|b| b.is_ascii_digit()) {
        return Err(FieldError::new("expected a non-negative integer id", t));
    }
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FieldError::new("expected an integer id", t));
    }
    match t.parse::<u64>() {
        Ok(v) if v <= MAX_ID as u64 => Ok(v as u32),
        _ => Err(FieldError::new(
            format!("id out of range (at most {MAX_ID})"),
            t,
        )),
    }
}

/// A whole, non-negative count that may be written as a float (`229170.0`); `Unknown` is `None`.
pub fn parse_count(text: &str) -> Result<Option<u32>, FieldError> {
    let t = text.trim();
    if crate::catalogue::is_missing(t) {
        return Ok(None);
    }
    let expected = || FieldError::new("expected a whole non-negative number", t);
    if let Ok(v) = t.parse::<u32>() {
        return Ok(Some(v));
    }
    let v: f64 = t.parse().map_err(|_| expected())?;
    if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= u32::MAX as f64 {
        Ok(Some(v as u32))
    } else {
        Err(expected())
    }
}

/// A mean score between 0 and 10; `Unknown` is `None`.
pub fn parse_score(text: &str) -> Result<Option<f32>, FieldError> {
    let t = text.trim();
    if crate::catalogue::is_missing(t) {
        return Ok(None);
    }
    match t.parse::<f32>() {
        Ok(v) if (0.0..=10.0).contains(&v) => Ok(Some(v)),
        _ => Err(FieldError::new("expected a score from 0 to 10", t)),
    }
}

/// An integer within `lo..=hi`, described as `what` in the error.
pub fn parse_int_in(text: &str, lo: i64, hi: i64, what: &str) -> Result<i64, FieldError> {
    let t = text.trim();
    match t.parse::<i64>() {
        Ok(v) if (lo..=hi).contains(&v) => Ok(v),
        _ => Err(FieldError::new(format!("expected {what}"), t)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert_eq!(parse_id(" 42 "), Ok(42));
        let message = |text| parse_id(text).unwrap_err().to_string();
        assert_eq!(
            message("-5"),
            "expected a non-negative integer id, found \"-5\""
        );
        assert_eq!(
            message("99999999999"),
            "id out of range (at most 2147483647), found \"99999999999\""
        );
        assert_eq!(message("4x"), "expected an integer id, found \"4x\"");
        assert_eq!(
            parse_id(""),
            Err(FieldError {
                problem: "expected an integer id".into(),
                found: "\"\"".into()
            })
        );
    }

    #[test]
    fn counts_accept_float_spelling_and_unknown() {
        assert_eq!(parse_count("229170.0"), Ok(Some(229170)));
        assert_eq!(parse_count("Unknown"), Ok(None));
        assert!(parse_count("1.5").is_err());
        assert!(parse_count("-3").is_err());
        assert!(parse_count("NaN").is_err());
    }

    #[test]
    fn long_values_are_shortened_in_messages() {
        let long = "x".repeat(100);
        let msg = parse_id(&long).unwrap_err().to_string();
        assert!(msg.len() < 80, "{msg}");
        assert!(msg.ends_with("..."));
    }
}
