//! Error types of the data layer: [`RowError`] for one bad row or field (file, line, column,
//! what was expected) and [`DataError`] for everything that stops a read.

use std::fmt;
use std::path::PathBuf;

use crate::report::SkipReason;

/// One malformed row: where it is and what was wrong with it.
///
/// Displays as `rating_complete.csv:1042: column rating: expected an integer 1-10, found "11"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// File name (not the whole path) the row came from.
    pub file: String,
    /// 1-based line number where the row starts (the header is line 1).
    pub line: u64,
    /// Column name, when the problem is in one field.
    pub column: Option<String>,
    /// The category this error is counted under when rows are skipped.
    pub reason: SkipReason,
    /// What was expected and what was found.
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file, self.line)?;
        if let Some(column) = &self.column {
            write!(f, "column {column}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for RowError {}

/// Everything that can stop reading or writing data.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The operating system refused a read or write.
    #[error("{path}: {cause}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error (shown in the message, so not chained as a source).
        cause: std::io::Error,
    },
    /// A malformed row met in `--strict` mode, or a malformed header.
    #[error("{0}")]
    Row(#[from] RowError),
    /// A file with no header line at all.
    #[error("{file}: empty file: expected a header line ({expected})")]
    EmptyFile {
        /// File name.
        file: String,
        /// The header that was expected.
        expected: String,
    },
    /// A header that matches none of the known layouts.
    #[error("{file}:1: unknown header {found:?}: expected {expected}")]
    UnknownHeader {
        /// File name.
        file: String,
        /// The header line as found.
        found: String,
        /// The layouts that would have been accepted.
        expected: String,
    },
    /// A data folder without the files a dataset needs.
    #[error("{dir}: {message}")]
    MissingFile {
        /// The folder that was searched.
        dir: PathBuf,
        /// Which files were looked for.
        message: String,
    },
    /// A MyAnimeList XML export that cannot be used.
    #[error("{file}:{line}: {message}")]
    Xml {
        /// File name.
        file: String,
        /// 1-based line of the problem.
        line: u64,
        /// What was wrong.
        message: String,
    },
    /// An input over one of its documented size limits (bytes, or entries of a list export).
    #[error("{file}: {message}")]
    TooLarge {
        /// File name.
        file: String,
        /// Which limit, and how large the input was.
        message: String,
    },
    /// A snapshot file that is corrupt, truncated, or from another format version.
    #[error("{path}: {message}")]
    Snapshot {
        /// The snapshot file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// A franchise relation file that is not in its expected layout.
    #[error("{path}: {message}")]
    Relations {
        /// The relation file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// A Jikan file that is not a Jikan v4 answer.
    #[error("{file}: {message}")]
    Jikan {
        /// File name.
        file: String,
        /// What was wrong, and where.
        message: String,
    },
    /// A parameter outside its allowed range.
    #[error("invalid parameter {name}: {message}")]
    Parameter {
        /// The parameter (flag) name.
        name: &'static str,
        /// What was expected.
        message: String,
    },
}

impl DataError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, cause: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            cause,
        }
    }
}

/// Result alias of the data layer.
pub type Result<T, E = DataError> = std::result::Result<T, E>;
