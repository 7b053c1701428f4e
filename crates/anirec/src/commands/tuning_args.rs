//! The tuning arguments `train` and `eval` share: how many validation carvings the blend
//! weights are tuned on, what orders the candidates, and how many EASE and the genre source
//! add.

use anirec_model::hybrid::Carvings;
use anirec_model::ranker::RankerKind;

/// `--validation-carvings auto|1-8`.
#[derive(clap::Args, Clone, Copy, Debug, Default)]
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
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u16).range(10..=1000))]
    pub collab_candidates: u16,
}
