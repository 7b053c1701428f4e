//! Rating prediction: what score (1-10) a user would give an anime.
//!
//! - [`baseline`]: global mean plus user and item biases (item biases shrink toward the
//!   catalogue's public score).
//! - [`knn`]: item neighbourhood over baseline residuals.
//! - [`franchise`]: the fan's residuals on the other entries of an anime's franchise.
//! - [`mf`]: latent factors; [`model`] blends them all.

pub mod baseline;
pub mod checkpoint;
pub mod franchise;
pub mod knn;
pub mod mf;
pub mod model;
