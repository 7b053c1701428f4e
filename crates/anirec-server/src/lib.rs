//! `anirec-server`: the HTTP face of a trained model bundle — the JSON API under `/api/v1`, the
//! server-rendered web pages, health and Prometheus metrics, and hot reload of a new bundle.
//!
//! - [`auth`]: who a request acts for (API tokens, browser sessions) and CSRF.
//! - [`sign_in_limits`]: rate limits on password checks, per account and per address.
//! - [`state`]: the model being served (swappable without dropping requests) and the settings.
//! - [`compute`]: the bounded pool that runs requests' CPU work off the async threads.
//! - [`cache`]: answers kept per model for repeated requests (and query embeddings).
//! - [`query_encoder`]: the sentence encoder with its recent queries' embeddings.
//! - [`app`]: the router with its middleware (limits, timeouts, security headers, telemetry).
//! - [`connections`]: connections accepted up to a cap, with header and idle timeouts and a
//!   shutdown deadline.
//! - [`answers`]: what the API and the pages answer alike (asks, profiles, a fan's lists,
//!   story hits, credentials), below both.
//! - [`routes`]: the JSON API, one module per resource, and the operations endpoints.
//! - [`openapi`]: the parts of the OpenAPI document no one handler owns (shared error answers,
//!   security schemes, schemas of bodies without a Rust type) and its form for a served model;
//!   the document itself is generated from the handlers (`routes::ApiDoc`).
//! - [`account_pages`]: sign up, sign in and out, and "My list".
//! - [`pages`]: the HTML pages and the embedded static files.
//! - [`params`]: query-string parameters (k, filters, flags) with errors that name them.
//! - [`json_body`]: the small JSON bodies of the account endpoints.
//! - [`upload`]: bodies that carry a fan's list, received with their limits and read.
//! - [`views`]: the JSON shapes of anime and recommendations, shared with the CLI.
//! - [`problem`]: errors as `application/problem+json`.
//! - [`telemetry`]: request metrics and access logs.
//! - [`write_probe`]: whether the accounts database takes writes, for readiness.

pub mod account_pages;
pub mod answers;
pub mod app;
pub mod auth;
pub mod cache;
pub mod compute;
pub mod connections;
pub mod json_body;
pub mod openapi;
pub mod pages;
pub mod params;
pub mod problem;
pub mod public_profile;
pub mod query_encoder;
pub mod routes;
pub mod sign_in_limits;
pub mod state;
pub mod static_files;
pub mod telemetry;
pub mod upload;
pub mod views;
pub mod write_probe;

pub use app::{router, serve};
pub use state::{AppState, Config, NoEncoder, ReloadError, Served};
