//! A signed-in fan's lists: recommendations and the continue row with the anime they marked not
//! interested left out, and their plan-to-watch entries ranked by predicted fit.

use anirec_data::{AnimeIx, MalId, WatchStatus};
use anirec_model::profile::Profile;
use anirec_model::query::Filters;
use anirec_model::series::Continuation;
use anirec_store::ListEntry;

use super::ask::{Ask, Lists};
use crate::state::Served;

/// Recommendations and the continue row for a fan's profile (folded in from the stored list:
/// everything on it left out unless `include_rated`), the hidden anime always left out.
pub fn recommend_for(served: &Served, profile: &Profile, hidden: &[MalId], ask: &Ask) -> Lists {
    let mut ranked = served.bundle.recommend(
        profile,
        ask.depth() + hidden.len(),
        &ask.filters,
        ask.explain,
    );
    ranked.retain(|r| hidden.binary_search(&r.anime_id).is_err());
    let row = continue_shown(served, profile, hidden, ask.row(), &ask.filters);
    ask.lists(ranked, row)
}

/// A fan's continue row of up to `k` entries, the hidden anime left out (asked for `k` more, so
/// that hiding some does not shorten it).
pub fn continue_shown(
    served: &Served,
    profile: &Profile,
    hidden: &[MalId],
    k: usize,
    filters: &Filters,
) -> Vec<Continuation> {
    if k == 0 {
        return Vec::new();
    }
    let catalogue = &served.bundle.catalogue;
    let mut row = served
        .bundle
        .continue_series(profile, k + hidden.len(), filters);
    row.retain(|c| hidden.binary_search(&catalogue[c.index].mal_id).is_err());
    row.truncate(k);
    row
}

/// A planned anime with the rating the model predicts for the fan.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlanRank {
    /// The anime.
    pub anime: AnimeIx,
    /// The fan's predicted rating.
    pub predicted_rating: f32,
}

/// A fan's plan-to-watch entries with the rating the model predicts for each (from their
/// profile), best first.
pub fn plan_ranked(
    served: &Served,
    profile: &Profile,
    list: &[ListEntry],
    k: usize,
) -> Vec<PlanRank> {
    let catalogue = &served.bundle.catalogue;
    let mut ranked: Vec<PlanRank> = list
        .iter()
        .filter(|e| e.status == WatchStatus::PlanToWatch)
        .filter_map(|e| catalogue.index_of(e.anime_id))
        .map(|anime| PlanRank {
            anime,
            predicted_rating: served.bundle.predicted_rating(profile, anime),
        })
        .collect();
    ranked.sort_by(|x, y| {
        y.predicted_rating
            .total_cmp(&x.predicted_rating)
            .then(x.anime.cmp(&y.anime))
    });
    ranked.truncate(k);
    ranked
}
