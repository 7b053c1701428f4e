//! What a recommendation request asks for ([`Ask`]: how many, filters, reasons, synopsis), read
//! from its query, and the two lists it is answered with ([`Lists`]).

use anirec_model::profile::Profile;
use anirec_model::query::{Filters, Recommendation};
use anirec_model::series::Continuation;
use serde::Deserialize;

use crate::params::{Flag, K, Query, Takes};
use crate::problem::Problem;
use crate::state::Served;
use crate::views::Synopsis;

/// The query of the recommendation endpoints: `k`, `explain`, `synopsis` and the filters.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AskParams {
    /// How many.
    k: K,
    /// With reasons.
    explain: Flag,
    /// How much synopsis.
    synopsis: Synopsis,
}

impl Takes for AskParams {
    const FILTERS: bool = true;
}

/// The query of the continue endpoints: `k`, `synopsis` and the filters.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ContinueParams {
    /// How many.
    k: K,
    /// How much synopsis.
    synopsis: Synopsis,
}

impl Takes for ContinueParams {
    const FILTERS: bool = true;
}

/// What a recommendation request asks for.
pub struct Ask {
    /// How many.
    pub k: usize,
    /// Filters.
    pub filters: Filters,
    /// With reasons.
    pub explain: bool,
    /// How much synopsis each card carries.
    pub synopsis: Synopsis,
}

impl Ask {
    /// The request's query, its filters checked against the model's vocabulary.
    pub fn of(query: &Query<AskParams>, served: &Served) -> Result<Ask, Problem> {
        Ok(Ask {
            k: query.params.k.0,
            filters: query.filters.check(&served.vocabulary)?,
            explain: query.params.explain.0,
            synopsis: query.params.synopsis,
        })
    }

    /// A continue request's query (no reasons), its filters checked.
    pub fn continuing(query: &Query<ContinueParams>, served: &Served) -> Result<Ask, Problem> {
        Ok(Ask {
            k: query.params.k.0,
            filters: query.filters.check(&served.vocabulary)?,
            explain: false,
            synopsis: query.params.synopsis,
        })
    }

    /// Ranks for a profile: the discovery list and the continue row (at most
    /// [`CONTINUE_IN_ANSWER`] entries, or `k` if fewer).
    pub fn run(&self, served: &Served, profile: &Profile) -> Lists {
        Lists {
            recs: served
                .bundle
                .recommend(profile, self.k, &self.filters, self.explain),
            continuing: served.bundle.continue_series(
                profile,
                self.k.min(CONTINUE_IN_ANSWER),
                &self.filters,
            ),
        }
    }
}

/// Most continue-row entries a recommendation answer carries (a row on a page; the continue
/// endpoints give up to `k`). Ten full cards doubled an answer's size.
pub const CONTINUE_IN_ANSWER: usize = 5;

/// The two lists of a recommendation answer.
#[derive(Debug, Clone, Default)]
pub struct Lists {
    /// The discovery list, best first.
    pub recs: Vec<Recommendation>,
    /// The continue row: the next entry of each franchise the fan is watching.
    pub continuing: Vec<Continuation>,
}
