//! The ids MyAnimeList gives things, as distinct types: [`MalId`] names an anime and [`UserId`]
//! a user of the data. Inside anirec, anime and users are dense indices (positions in the
//! catalogue and in the ratings store), always plain `u32`; the two kinds cannot be mixed up,
//! because an id is never a bare number. `Catalogue::index_of` and `Ratings::user_index` turn ids
//! into indices, `Anime::mal_id` and `Ratings::user_id` turn them back.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A MyAnimeList anime id (written as the plain number in files and JSON).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct MalId(pub u32);

/// A user id of the data (a MyAnimeList user's number in the Kaggle files).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct UserId(pub u32);

impl fmt::Display for MalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<u32> for MalId {
    fn from(id: u32) -> MalId {
        MalId(id)
    }
}

impl From<u32> for UserId {
    fn from(id: u32) -> UserId {
        UserId(id)
    }
}
