//! `anirec-model`: the recommenders and their evaluation.
//!
//! - [`metrics`] and [`eval`]: the protocol of `EVALUATION.md`.
//! - [`popularity`]: the baseline every result is reported beside.
//! - [`topk`]: top-k selection.

pub mod blend;
pub mod bundle;
pub mod cf;
pub mod content;
pub mod eval;
pub mod hybrid;
pub mod metrics;
pub mod popularity;
pub mod query;
pub mod rating;
pub mod topk;
