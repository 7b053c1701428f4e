//! A day an anime aired, as precisely as the source knows it ([`AirDate`]: a year, a month or a
//! day), read from Jikan's ISO 8601 timestamps and from MyAnimeList 2020's `Aired` text, and
//! written as ISO 8601 (`2023`, `2023-09`, `2023-09-29`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A calendar date that may lack its day, or its month and day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AirDate {
    /// The year.
    pub year: u16,
    /// The month (1-12), when known.
    pub month: Option<u8>,
    /// The day of the month (1-31), when known (only with a month).
    pub day: Option<u8>,
}

/// The English month abbreviations MyAnimeList writes.
const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

impl AirDate {
    /// A date from its parts, refused when a part is out of range or a day comes without a month.
    pub fn new(year: u16, month: Option<u8>, day: Option<u8>) -> Option<AirDate> {
        let month_ok = month.is_none_or(|m| (1..=12).contains(&m));
        let day_ok = match (month, day) {
            (_, None) => true,
            (Some(_), Some(d)) => (1..=31).contains(&d),
            (None, Some(_)) => false,
        };
        ((1900..=2100).contains(&year) && month_ok && day_ok).then_some(AirDate {
            year,
            month,
            day,
        })
    }

    /// An ISO 8601 date or timestamp (`2023-09-29T00:00:00+00:00`, `2023-09-29`, `2023-09`,
    /// `2023`); the time of day is ignored.
    pub fn parse_iso(text: &str) -> Option<AirDate> {
        let date = text.trim().split('T').next()?;
        let mut parts = date.split('-');
        let year = parse_digits(parts.next()?, 4)?;
        let month = match parts.next() {
            Some(m) => Some(parse_digits(m, 2)?),
            None => None,
        };
        let day = match parts.next() {
            Some(d) => Some(parse_digits(d, 2)?),
            None => None,
        };
        if parts.next().is_some() {
            return None;
        }
        AirDate::new(year, month.map(|m| m as u8), day.map(|d| d as u8))
    }

    /// One date as MyAnimeList writes it: `Apr 3, 1998`, `Apr 1998`, `1998`.
    pub fn parse_mal(text: &str) -> Option<AirDate> {
        let text = text.trim();
        let lower = text.to_ascii_lowercase();
        let month = MONTHS
            .iter()
            .position(|m| lower.starts_with(m))
            .map(|i| i as u8 + 1);
        let numbers: Vec<&str> = text
            .split(|c: char| !c.is_ascii_digit())
            .filter(|t| !t.is_empty())
            .collect();
        let year = numbers.iter().find(|t| t.len() == 4)?.parse().ok()?;
        let day = match (month, numbers.as_slice()) {
            (Some(_), [day, _year]) if day.len() <= 2 => day.parse().ok(),
            _ => None,
        };
        AirDate::new(year, month, day)
    }
}

/// Parses exactly `len` ASCII digits.
fn parse_digits(text: &str, len: usize) -> Option<u16> {
    (text.len() == len && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

impl fmt::Display for AirDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.year)?;
        if let Some(month) = self.month {
            write!(f, "-{month:02}")?;
            if let Some(day) = self.day {
                write!(f, "-{day:02}")?;
            }
        }
        Ok(())
    }
}

impl Serialize for AirDate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AirDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<AirDate, D::Error> {
        let text = String::deserialize(d)?;
        AirDate::parse_iso(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "expected a date YYYY, YYYY-MM or YYYY-MM-DD, found {text:?}"
            ))
        })
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for AirDate {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"))
            .description(Some(
                "ISO 8601 date, as precise as the source knows it: YYYY, YYYY-MM or YYYY-MM-DD.",
            ))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for AirDate {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_and_timestamps_parse_to_their_precision() {
        let day = AirDate::parse_iso("2023-09-29T00:00:00+00:00").unwrap();
        assert_eq!(day, AirDate::new(2023, Some(9), Some(29)).unwrap());
        assert_eq!(day.to_string(), "2023-09-29");
        assert_eq!(
            AirDate::parse_iso("2023-09").unwrap().to_string(),
            "2023-09"
        );
        assert_eq!(AirDate::parse_iso("2023").unwrap().to_string(), "2023");
        for bad in [
            "",
            "23-09-29",
            "2023-13-01",
            "2023-09-32",
            "2023-9-1",
            "soon",
            "2023-01-01-01",
        ] {
            assert_eq!(AirDate::parse_iso(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn mal_dates_parse_to_their_precision() {
        assert_eq!(
            AirDate::parse_mal("Apr 3, 1998").unwrap().to_string(),
            "1998-04-03"
        );
        assert_eq!(
            AirDate::parse_mal("Apr 1998").unwrap().to_string(),
            "1998-04"
        );
        assert_eq!(AirDate::parse_mal("1998").unwrap().to_string(), "1998");
        assert_eq!(AirDate::parse_mal("?"), None);
    }

    #[test]
    fn serde_round_trips_and_refuses_bad_text() {
        let date = AirDate::new(2006, Some(4), None).unwrap();
        let json = serde_json::to_string(&date).unwrap();
        assert_eq!(json, "\"2006-04\"");
        assert_eq!(serde_json::from_str::<AirDate>(&json).unwrap(), date);
        let err = serde_json::from_str::<AirDate>("\"April\"").unwrap_err();
        assert!(err.to_string().contains("found \"April\""), "{err}");
    }
}
