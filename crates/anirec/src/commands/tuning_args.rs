//! The tuning arguments `train` and `eval` share: how many validation carvings the blend
//! weights are tuned on, what orders the candidates, and how many EASE, the genre source and
//! the story source add.

use anirec_model::hybrid::{Carvings, SourceCounts};
use anirec_model::ranker::RankerKind;

/// `--validation-carvings`, `--ranker` and the candidate sources' counts.
#[derive(clap::Args, Clone, Copy, Debug)]
pub struct TuningArgs {
    /// Validation carvings the blend weights are tuned on, `auto` or 1-8: more make the chosen
    /// weights steadier across seeds, each costs one more tuning fit (BENCHMARKS.md "How much
    /// the seeds move the figures"); `auto` takes enough to tune on 5,000 validation users, at
    /// most 3 (3 on the sample, 1 at full scale).
    #[arg(long, default_value_t)]
    pub validation_carvings: Carvings,
    /// What orders each fan's candidates: `blend` (the signals standardised and weighted) or
    /// `lambdamart` (a LightGBM ranker trained on the validation carvings' users, known and
    /// folded in).
    #[arg(long, default_value_t)]
    pub ranker: RankerKind,
    /// Well-known anime of each fan's genres added to their candidates, 0-500 (0 by default:
    /// on the sample 30 of them cost the top ten more than they gave, BENCHMARKS.md "Two more
    /// candidate sources").
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u16).range(0..=500))]
    pub genre_candidates: u16,
    /// EASE's best anime taken as each fan's candidates, 10-1000 (300 by default). Fewer make
    /// a ranked answer cheaper for a less accurate top ten: on the sample 150 served 37% more
    /// requests a second and lost 0.011 NDCG@10 (BENCHMARKS.md "57M training under three
    /// minutes; two serving levers measured").
    #[arg(long, default_value_t = SourceCounts::default().collab as u16,
          value_parser = clap::value_parser!(u16).range(10..=1000))]
    pub collab_candidates: u16,
    /// The anime nearest to each fan's story profile added to their candidates, 0-500, when
    /// the model has story embeddings (0 by default: on the sample 20 or 50 of them moved the
    /// top ten by less than the seeds do and 50 cost a fifth of the ranked answers a second,
    /// BENCHMARKS.md "The story source").
    #[arg(long, default_value_t = SourceCounts::default().story as u16,
          value_parser = clap::value_parser!(u16).range(0..=500))]
    pub story_candidates: u16,
}

impl Default for TuningArgs {
    /// What the flags give when none is written (`serve --data` trains with these), read by
    /// clap itself so that the two cannot differ.
    fn default() -> Self {
        #[derive(clap::Parser)]
        struct Unwritten {
            #[command(flatten)]
            tuning: TuningArgs,
        }
        <Unwritten as clap::Parser>::parse_from(["anirec"]).tuning
    }
}

impl TuningArgs {
    /// How many candidates each source adds per fan: the counts given, the others' defaults.
    pub fn candidates(&self) -> SourceCounts {
        SourceCounts {
            collab: self.collab_candidates.into(),
            genre: self.genre_candidates.into(),
            story: self.story_candidates.into(),
            ..SourceCounts::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_the_flags_own() {
        let tuning = TuningArgs::default();
        assert_eq!(tuning.candidates(), SourceCounts::default());
        assert_eq!(tuning.ranker, RankerKind::LambdaMart);
        assert_eq!(tuning.validation_carvings, Carvings::default());
    }
}
