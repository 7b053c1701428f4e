//! MLflow through its REST API, without its Python client: runs of trainings and evaluations
//! (parameters, per-epoch metrics as steps, final figures, tags, files), the model registry
//! (each trained bundle a version of a registered model, aliases such as `champion`), and the
//! bundles of registered versions downloaded for `serve --model models:/…`.

mod client;
pub mod registry;
mod runs;

pub use client::Client;
pub use registry::ModelUri;
pub use runs::{Logged, RunLog, final_metrics, flatten};
