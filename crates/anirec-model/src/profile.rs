//! [`Profile`]: a user as the bundle ranks for them (a known user, or a new one folded in), the
//! one input every query, the continue row and story search share.

use crate::rating::model::UserState;

/// A user the bundle can recommend for.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// The rating model's view of the user.
    pub state: UserState,
}
