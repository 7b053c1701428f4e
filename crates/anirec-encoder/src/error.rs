//! What can go wrong loading or running the encoder; every file error names the file.

use std::path::PathBuf;

/// An encoder that could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum EncoderError {
    /// A file of the encoder folder could not be read (missing, unreadable).
    #[error("cannot read the encoder file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file was read but is not what the encoder needs.
    #[error("the encoder file {path} is not usable: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// Tokenising or the forward pass failed.
    #[error("the encoder failed: {0}")]
    Run(String),
}
