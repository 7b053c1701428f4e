//! Files as every reader meets them, below all of them: a file's name for messages
//! ([`file_name`]), a whole file read with an error that names it ([`read_file`]), and the
//! progress of long reads ([`Progress`]).

use std::path::Path;

use crate::error::{DataError, Result};

/// Receives progress of long reads (a progress bar, a log line, or nothing).
pub trait Progress: Sync {
    /// A new phase of `total` units (bytes) begins.
    fn start(&self, _what: &str, _total: u64) {}
    /// `n` more units are done. Called from several threads.
    fn advance(&self, _n: u64) {}
}

/// A [`Progress`] that shows nothing.
pub struct NoProgress;

impl Progress for NoProgress {}

/// The name of a file (for messages), or the whole path when it has none.
pub fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Reads a whole file.
pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| DataError::io(path, e))
}
