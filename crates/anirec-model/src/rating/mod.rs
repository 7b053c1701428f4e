//! Rating prediction: what score (1-10) a user would give an anime.
//!
//! - [`baseline`]: global mean plus user and item biases (item biases shrink toward the
//!   catalogue's public score).
//! - [`knn`]: item neighbourhood over baseline residuals.

pub mod baseline;
pub mod checkpoint;
pub mod knn;
pub mod mf;
pub mod model;
