//! `anirec-server`: the HTTP JSON API, the web UI and the operational endpoints (health,
//! metrics, hot reload) over a trained model bundle. Not built yet: the crate reserves its place
//! in the workspace layout of `DESIGN.md`, and the serving work is tracked as its own issue.
