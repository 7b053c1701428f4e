//! [`Score`]: a fan's score of an anime, 1 to 10 or none, as MyAnimeList keeps it (0 for "listed
//! without a score") in its exports, the ratings files and the accounts database.

use serde::{Deserialize, Deserializer, Serialize};

/// A fan's score of an anime: 1 to 10, or none. Written as MyAnimeList's number (0 for none);
/// read only from 0 to 10.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
#[serde(transparent)]
pub struct Score(u8);

impl Score {
    /// No score: listed without one.
    pub const NONE: Score = Score(0);
    /// The highest score's number.
    pub const MAX: u8 = 10;
    /// The highest score.
    pub const BEST: Score = Score(Self::MAX);

    /// The score of MyAnimeList's number (0: none); `None` above [`Score::MAX`].
    pub fn new(code: u8) -> Option<Score> {
        (code <= Self::MAX).then_some(Score(code))
    }

    /// The score, 1 to 10, if there is one.
    pub fn get(self) -> Option<u8> {
        self.is_scored().then_some(self.0)
    }

    /// MyAnimeList's number: 1 to 10, or 0 for none (how files and databases keep it).
    pub fn code(self) -> u8 {
        self.0
    }

    /// Whether there is a score.
    pub fn is_scored(self) -> bool {
        self.0 > 0
    }
}

impl<'de> Deserialize<'de> for Score {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Score, D::Error> {
        let code = u8::deserialize(d)?;
        Score::new(code).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "a score is 0 (not scored) to {}, found {code}",
                Score::MAX
            ))
        })
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Score {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Integer)
            .minimum(Some(0))
            .maximum(Some(Score::MAX))
            .description(Some("1 to 10, or 0 when not scored."))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Score {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_are_zero_to_ten_and_zero_is_none() {
        assert_eq!(Score::new(0), Some(Score::NONE));
        assert_eq!(Score::NONE.get(), None);
        assert!(!Score::NONE.is_scored());
        let nine = Score::new(9).unwrap();
        assert_eq!(
            (nine.get(), nine.code(), nine.is_scored()),
            (Some(9), 9, true)
        );
        assert_eq!(Score::new(11), None);
        assert_eq!(serde_json::to_string(&nine).unwrap(), "9");
        assert_eq!(serde_json::from_str::<Score>("10").unwrap().get(), Some(10));
        let refused = serde_json::from_str::<Score>("11").unwrap_err().to_string();
        assert!(
            refused.contains("a score is 0 (not scored) to 10, found 11"),
            "{refused}"
        );
        assert!(serde_json::from_str::<Score>("-1").is_err());
    }
}
