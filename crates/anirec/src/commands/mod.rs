//! One module per subcommand: its arguments and what it runs.

pub mod eval;
pub mod ingest;
pub mod split;
pub mod synth;
