//! What an ablation study leaves out of the two stages (`anirec eval --without`,
//! `bench/ablation.sh`): a candidate source, a group of the ranker's features, or the spread
//! step. A served model leaves out nothing.

use serde::{Deserialize, Serialize};

use super::features::Feature;

/// One part of the two stages that can be left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Part {
    /// EASE's best anime as candidates.
    CollabCandidates,
    /// The content neighbours of the fan's list as candidates.
    ContentCandidates,
    /// The story neighbours of the fan's list (nearest to their story profile) as candidates,
    /// when the model has story embeddings.
    StoryCandidates,
    /// The other entries of the franchises of the fan's liked anime as candidates.
    FranchiseCandidates,
    /// New anime (nobody rated them) of the fan's genres as candidates.
    NewCandidates,
    /// The signals' own values (EASE, predicted rating, content, story, popularity, exposure).
    SignalFeatures,
    /// The signals standardised over the fan's candidates and their ranks among them.
    RelativeFeatures,
    /// What the catalogue says of the anime (year, type, episodes, score, members).
    CatalogueFeatures,
    /// How the anime relates to the fan's list (neighbours, franchise mates, genre share).
    ListFeatures,
    /// The fan's own figures (list size, the list's popularity).
    FanFeatures,
    /// The spread step after the ranker.
    Spread,
}

impl Part {
    /// Every part, in the order the ablation table lists them.
    pub const ALL: [Part; 11] = [
        Part::CollabCandidates,
        Part::ContentCandidates,
        Part::StoryCandidates,
        Part::FranchiseCandidates,
        Part::NewCandidates,
        Part::SignalFeatures,
        Part::RelativeFeatures,
        Part::CatalogueFeatures,
        Part::ListFeatures,
        Part::FanFeatures,
        Part::Spread,
    ];

    /// The part's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Part::CollabCandidates => "collab-candidates",
            Part::ContentCandidates => "content-candidates",
            Part::StoryCandidates => "story-candidates",
            Part::FranchiseCandidates => "franchise-candidates",
            Part::NewCandidates => "new-candidates",
            Part::SignalFeatures => "signal-features",
            Part::RelativeFeatures => "relative-features",
            Part::CatalogueFeatures => "catalogue-features",
            Part::ListFeatures => "list-features",
            Part::FanFeatures => "fan-features",
            Part::Spread => "spread",
        }
    }

    /// The ranker's features the part is (none for a candidate source or the spread step).
    pub fn features(self) -> &'static [Feature] {
        use Feature as F;
        match self {
            Part::SignalFeatures => &[
                F::Collab,
                F::Rating,
                F::Content,
                F::Story,
                F::Popularity,
                F::Exposure,
            ],
            Part::RelativeFeatures => &[
                F::CollabZ,
                F::CollabRank,
                F::RatingZ,
                F::ContentZ,
                F::ContentRank,
                F::StoryZ,
                F::StoryRank,
                F::PopularityZ,
            ],
            Part::CatalogueFeatures => &[F::Year, F::Kind, F::Episodes, F::PublicScore, F::Members],
            Part::ListFeatures => &[F::NeighbourOf, F::MatesListed, F::GenreShare],
            Part::FanFeatures => &[F::ListSize, F::ListPopularity],
            Part::CollabCandidates
            | Part::ContentCandidates
            | Part::StoryCandidates
            | Part::FranchiseCandidates
            | Part::NewCandidates
            | Part::Spread => &[],
        }
    }
}

/// A `--without` value that names no part.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a part that can be left out (expected a comma-separated list of: {list})",
    list = Part::ALL.map(Part::name).join(", ")
)]
pub struct PartError(String);

/// The parts left out: none in a served model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "Vec<Part>", from = "Vec<Part>")]
pub struct Ablation {
    bits: u16,
}

impl Ablation {
    /// Whether `part` is left out.
    pub fn leaves_out(self, part: Part) -> bool {
        self.bits & (1 << part as u16) != 0
    }

    /// Whether nothing is left out.
    pub fn is_none(&self) -> bool {
        self.bits == 0
    }

    /// Whether the ranker is trained without `feature` (its column missing in every row).
    pub fn masks(self, feature: Feature) -> bool {
        Part::ALL
            .iter()
            .any(|&p| self.leaves_out(p) && p.features().contains(&feature))
    }
}

impl From<Vec<Part>> for Ablation {
    fn from(parts: Vec<Part>) -> Ablation {
        Ablation {
            bits: parts.iter().fold(0, |bits, &p| bits | 1 << p as u16),
        }
    }
}

impl From<Ablation> for Vec<Part> {
    fn from(ablation: Ablation) -> Vec<Part> {
        Part::ALL
            .into_iter()
            .filter(|&p| ablation.leaves_out(p))
            .collect()
    }
}

impl std::str::FromStr for Ablation {
    type Err = PartError;

    /// A comma-separated list of part names (empty: none).
    fn from_str(s: &str) -> Result<Ablation, PartError> {
        let parts = s
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(|name| {
                Part::ALL
                    .into_iter()
                    .find(|p| p.name() == name)
                    .ok_or_else(|| PartError(name.to_owned()))
            })
            .collect::<Result<Vec<Part>, PartError>>()?;
        Ok(Ablation::from(parts))
    }
}

impl std::fmt::Display for Ablation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<Part> = (*self).into();
        f.write_str(&parts.iter().map(|p| p.name()).collect::<Vec<_>>().join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_read_from_names_round_trip_and_unknown_ones_are_named() {
        let ablation: Ablation = "list-features, spread".parse().unwrap();
        assert!(ablation.leaves_out(Part::ListFeatures) && ablation.leaves_out(Part::Spread));
        assert!(!ablation.leaves_out(Part::FanFeatures));
        assert_eq!(ablation.to_string(), "list-features,spread");
        assert!(ablation.masks(Feature::GenreShare) && !ablation.masks(Feature::Collab));
        let json = serde_json::to_string(&ablation).unwrap();
        assert_eq!(json, r#"["list-features","spread"]"#);
        assert_eq!(serde_json::from_str::<Ablation>(&json).unwrap(), ablation);
        assert!("".parse::<Ablation>().unwrap().is_none());
        let err = "spread,genres".parse::<Ablation>().unwrap_err().to_string();
        assert!(
            err.contains("\"genres\"") && err.contains("catalogue-features"),
            "{err}"
        );
    }

    #[test]
    fn every_feature_belongs_to_exactly_one_group() {
        for f in Feature::ALL {
            let groups = Part::ALL
                .iter()
                .filter(|p| p.features().contains(&f))
                .count();
            assert_eq!(groups, 1, "{}", f.name());
        }
    }
}
