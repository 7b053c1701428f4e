//! The four numbers that name an anime or a user, as distinct types. [`MalId`] and [`UserId`]
//! are what MyAnimeList calls them (in files, the API and the CLI); [`AnimeIx`] and [`UserIx`]
//! are anirec's dense indices (positions in the catalogue and in a ratings store), what the
//! models work with. The conversions live in one place each: `Catalogue::index_of` and
//! `Ratings::user_index` turn ids into indices, `Catalogue[ix].mal_id` and `Ratings::user_id`
//! turn them back.
//!
//! Inside the storage and a model's own arrays (CSR rows, neighbour lists, safetensors) indices
//! are plain `u32` for layout and speed; the `.0` of an index type crosses that line.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A MyAnimeList anime id (written as the plain number in files and JSON).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MalId(pub u32);

/// A user id of the data (a MyAnimeList user's number in the Kaggle files).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserId(pub u32);

/// A franchise's id: the MyAnimeList id of its first entry (written as the plain number).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FranchiseId(pub u32);

/// A position in the catalogue (`0..catalogue.len()`): how the models name an anime.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
#[repr(transparent)]
pub struct AnimeIx(pub u32);

/// A position among a ratings store's users (`0..n_users`, in ascending [`UserId`] order).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
#[repr(transparent)]
pub struct UserIx(pub u32);

impl AnimeIx {
    /// The index into a slice by anime.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl UserIx {
    /// The index into a slice by user.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

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

impl std::str::FromStr for MalId {
    type Err = std::num::ParseIntError;

    fn from_str(text: &str) -> Result<MalId, Self::Err> {
        text.parse().map(MalId)
    }
}

impl std::str::FromStr for UserId {
    type Err = std::num::ParseIntError;

    fn from_str(text: &str) -> Result<UserId, Self::Err> {
        text.parse().map(UserId)
    }
}
