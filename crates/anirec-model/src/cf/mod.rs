//! Collaborative ranking models: what a user will watch and like, from implicit signal.

pub mod ease;
