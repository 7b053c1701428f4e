//! Files as every reader meets them, below all of them: a file's name for messages
//! ([`file_name`]), a whole file read with an error that names it ([`read_file`]), and the
//! progress of long reads ([`Progress`]), and where a folder of extra data beside the data folder
//! comes from ([`SideFolder`]).

use std::path::{Path, PathBuf};

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

/// Where a folder of extra catalogue data comes from (the franchise relation files, the Jikan
/// pages): beside the data folder by default, a folder named on the command line, or none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SideFolder {
    /// The folder of that name beside the data folder, when there is one that holds the data.
    #[default]
    Beside,
    /// This folder.
    Dir(PathBuf),
    /// None.
    Off,
}

impl SideFolder {
    /// The folder to read for `data_dir`: `name` beside it when `holds` says it has the data,
    /// the folder named, or none.
    pub fn folder(
        &self,
        data_dir: &Path,
        name: &str,
        holds: impl Fn(&Path) -> bool,
    ) -> Option<PathBuf> {
        match self {
            SideFolder::Beside => data_dir.parent().map(|p| p.join(name)).filter(|p| holds(p)),
            SideFolder::Dir(dir) => Some(dir.clone()),
            SideFolder::Off => None,
        }
    }
}
