//! A header-addressed view over a quoted CSV file: rows checked for column count and UTF-8, fields
//! looked up by column name, and errors that name file, line and column.

use std::borrow::Cow;

use super::csv::{CsvReader, SplitError};
use crate::error::{DataError, Result, RowError};
use crate::report::{FileRead, SkipReason};

/// A CSV file with a header, read row by row.
pub struct Table<'a> {
    file: String,
    reader: CsvReader<'a>,
    header: Vec<String>,
    rows: u64,
}

/// One row whose fields are all valid UTF-8 and whose field count matches the header.
pub struct Row<'a> {
    /// 1-based line where the row starts.
    pub line: u64,
    fields: Vec<Cow<'a, [u8]>>,
}

impl<'a> Table<'a> {
    /// Reads the header. `expected` describes the accepted headers for the error messages.
    pub fn open(data: &'a [u8], file: &str, expected: &str) -> Result<Self> {
        let mut reader = CsvReader::new(data);
        let header = match reader.next_record() {
            None => {
                return Err(DataError::EmptyFile {
                    file: file.to_owned(),
                    expected: expected.to_owned(),
                });
            }
            Some(Err(_)) => {
                return Err(DataError::UnknownHeader {
                    file: file.to_owned(),
                    found: String::from_utf8_lossy(
                        data.split(|&b| b == b'\n').next().unwrap_or(b""),
                    )
                    .into_owned(),
                    expected: expected.to_owned(),
                });
            }
            Some(Ok(rec)) => rec
                .fields
                .iter()
                .map(|f| String::from_utf8_lossy(f).trim().to_owned())
                .collect(),
        };
        Ok(Table {
            file: file.to_owned(),
            reader,
            header,
            rows: 0,
        })
    }

    /// The column names.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// The header as one line, for messages.
    pub fn header_line(&self) -> String {
        self.header.join(",")
    }

    /// File name used in messages.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Data rows seen so far (valid or not).
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// What was read of the file so far, recognised as `layout`, of `bytes` bytes.
    pub fn file_read(&self, layout: &str, bytes: u64) -> FileRead {
        FileRead {
            file: self.file.clone(),
            layout: layout.to_owned(),
            rows: self.rows,
            bytes,
        }
    }

    /// Position of the first column called one of `names`.
    pub fn column(&self, names: &[&str]) -> Option<usize> {
        self.header
            .iter()
            .position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
    }

    /// The next row, or the error that makes it unusable.
    pub fn next_row(&mut self) -> Option<Result<Row<'a>, RowError>> {
        let rec = self.reader.next_record()?;
        self.rows += 1;
        Some(match rec {
            Err(SplitError::UnterminatedQuote { line }) => Err(self.error(
                line,
                None,
                SkipReason::UnterminatedQuote,
                "unterminated quoted field: the closing quote is missing".into(),
            )),
            Err(SplitError::BadQuote { line }) => Err(self.error(
                line,
                None,
                SkipReason::BadQuote,
                "unexpected text after a closing quote: expected a comma or a line end".into(),
            )),
            Ok(rec) if rec.fields.len() != self.header.len() => Err(self.error(
                rec.line,
                None,
                SkipReason::ColumnCount,
                format!(
                    "expected {} columns, found {}",
                    self.header.len(),
                    rec.fields.len()
                ),
            )),
            Ok(rec) => match rec
                .fields
                .iter()
                .position(|f| std::str::from_utf8(f).is_err())
            {
                Some(i) => Err(self.error(
                    rec.line,
                    Some(i),
                    SkipReason::InvalidUtf8,
                    "invalid UTF-8".into(),
                )),
                None => Ok(Row {
                    line: rec.line,
                    fields: rec.fields,
                }),
            },
        })
    }

    /// An error at `line`, in column number `column` when given.
    pub fn error(
        &self,
        line: u64,
        column: Option<usize>,
        reason: SkipReason,
        message: String,
    ) -> RowError {
        RowError {
            file: self.file.clone(),
            line,
            column: column.and_then(|c| self.header.get(c).cloned()),
            reason,
            message,
        }
    }
}

impl Row<'_> {
    /// The text of column `index` (empty for an absent column).
    pub fn text(&self, index: Option<usize>) -> &str {
        index
            .and_then(|i| self.fields.get(i))
            .and_then(|f| std::str::from_utf8(f).ok())
            .unwrap_or("")
    }

    /// Like [`Row::text`], with `Unknown` and blanks as `None`.
    pub fn opt_text(&self, index: Option<usize>) -> Option<String> {
        let t = self.text(index).trim();
        (!crate::catalogue::is_missing(t)).then(|| t.to_owned())
    }
}
