//! `anirec-model`: the recommenders and their evaluation.
//!
//! - [`entry`]: one entry of a user's list (anime, score, status) and what it says about taste.
//! - [`metrics`] and [`eval`]: the protocol of `EVALUATION.md`; [`new_users`]: the new-fan
//!   protocol (users the model never saw, folded in).
//! - [`popularity`]: the baseline every result is reported beside.
//! - [`cf`]: collaborative ranking (EASE).
//! - [`rating`]: rating prediction (baselines, item kNN, factors, their blend, checkpoints).
//! - [`content`]: TF-IDF content similarity.
//! - [`hybrid`]: the blended recommender and the tuning of its weights; [`blend`]: least squares.
//! - [`ranker`]: the learned ranker (LambdaMART over the candidates' features), the second
//!   stage in place of the blend when a model is trained with it.
//! - [`filters`]: the one filter vocabulary, its names and its checks.
//! - [`query`]: recommendations with filters and reasons, fold-in, similar anime and users.
//! - [`list_use`]: what of a fan's list a fold-in used, and why not the rest.
//! - [`signal`]: the blended signals, their weights and tuning grids.
//! - [`search`]: typo-tolerant title search in every script; [`story`]: story embeddings and
//!   exact nearest neighbours over them; [`story_text`]: the text they are embedded from;
//!   [`lexical`]: BM25 over synopses and genres; [`story_search`]: "describe what you want to
//!   watch", the two fused.
//! - [`stored`]: the arrays each model keeps in a bundle, and how it is rebuilt from them.
//! - [`bundle`]: the model bundle on disk.
//! - [`topk`]: top-k selection; [`numbers`]: numbers written for people.
//! - [`training`]: the training pipeline (fit, score, save, record the run).

pub mod blend;
pub mod bundle;
pub mod cf;
pub mod content;
pub mod entry;
pub mod eval;
pub mod filters;
pub mod franchise_eval;
pub mod hybrid;
pub mod lexical;
pub mod list_use;
pub mod metrics;
pub mod new_anime;
pub mod new_users;
pub mod numbers;
pub mod popularity;
pub mod profile;
pub mod query;
pub mod ranker;
pub mod rating;
pub mod search;
pub mod series;
pub mod signal;
pub mod stored;
pub mod story;
pub mod story_search;
pub mod story_text;
pub mod topk;
pub mod training;
pub mod widen;
