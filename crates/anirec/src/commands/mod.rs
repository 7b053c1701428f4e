//! One module per subcommand: its arguments and what it runs.

pub mod data_args;
pub mod eval;
pub mod ingest;
pub mod new_anime_eval;
pub mod probe;
pub mod promote;
pub mod recommend;
pub mod search;
pub mod serve;
pub mod similar;
pub mod split;
pub mod synth;
pub mod tracking_args;
pub mod train;
pub mod tuning_args;
