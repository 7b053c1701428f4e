//! `anirec-data`: everything about MyAnimeList data on disk and in memory.
//!
//! It reads the public file layouts (the Kaggle MyAnimeList 2020 files, the older 2016 Kaggle
//! layout and a MyAnimeList XML list export), validates them row by row with errors that name the
//! file, line and column, encodes ids densely, and keeps ratings in a compact columnar store
//! ([`Ratings`]: CSR by user and CSC by anime). It also owns the snapshot file, the evaluation
//! split and the synthetic full-scale generator. It knows nothing about models or HTTP.

pub mod air_date;
pub mod anime;
pub mod atomic;
pub mod catalogue;
pub mod csr;
pub mod dataset;
pub mod error;
pub mod files;
pub mod formats;
pub mod franchise;
pub mod ids;
pub mod ratings;
pub mod report;
pub mod rng;
pub mod score;
pub mod snapshot;
pub mod split;
pub mod synth;
pub mod watch_status;

pub use air_date::AirDate;
pub use anime::AiringStatus;
pub use catalogue::{Anime, Catalogue, Season};
pub use csr::Csr;
pub use dataset::{Dataset, IngestOptions, SynopsisRepairs};
pub use error::{DataError, RowError};
pub use files::{Progress, SideFolder};
pub use franchise::{Franchise, Franchises};
pub use ids::{AnimeIx, FranchiseId, MalId, UserId, UserIx};
pub use ratings::{NewEntry, NewUser, NewUserError, Ratings, WatchStatus};
pub use report::{IngestReport, SkipReason};
pub use score::Score;
