//! [`Profile`]: a user as the bundle ranks for them (a known user, or a new one folded in), the
//! one input every query, the continue row and story search share.

use anirec_data::AnimeIx;

use crate::rating::model::UserState;

/// A user the bundle can recommend for.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// The rating model's view of the user.
    pub state: UserState,
}

impl Profile {
    /// Whether the user's list holds anime `a` (rated or with a status).
    pub fn lists(&self, a: AnimeIx) -> bool {
        self.state
            .entries
            .binary_search_by_key(&a, |e| e.anime)
            .is_ok()
    }
}
