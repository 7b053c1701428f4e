//! A small RFC 4180 record reader over an in-memory file, used for the catalogue files.
//!
//! It exists (instead of a general CSV crate) so that every failure is reported exactly: an
//! unterminated quote names the line where the field opened, stray characters after a closing
//! quote name their line, and line numbers stay right across quoted multi-line fields. It accepts
//! a UTF-8 byte-order mark, CRLF line ends, a missing final newline, and skips blank lines.

use std::borrow::Cow;

/// One record: the line it starts on and its fields (still bytes).
#[derive(Debug)]
pub struct Record<'a> {
    /// 1-based line where the record starts.
    pub line: u64,
    /// The fields, with quotes removed and doubled quotes unescaped.
    pub fields: Vec<Cow<'a, [u8]>>,
}

/// A record that could not be split into fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitError {
    /// A quoted field never closed; the rest of the file was consumed. Carries the line it opened on.
    UnterminatedQuote {
        /// Line where the record started.
        line: u64,
    },
    /// Something other than a separator or line end followed a closing quote.
    BadQuote {
        /// Line where the record started.
        line: u64,
    },
}

/// Reads records one at a time from a byte slice.
pub struct CsvReader<'a> {
    data: &'a [u8],
    pos: usize,
    line: u64,
}

/// The UTF-8 byte-order mark some editors put at the start of a file.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

impl<'a> CsvReader<'a> {
    /// Starts reading at the beginning of `data`, skipping a byte-order mark.
    pub fn new(data: &'a [u8]) -> Self {
        let data = data.strip_prefix(BOM).unwrap_or(data);
        CsvReader {
            data,
            pos: 0,
            line: 1,
        }
    }

    /// The next record, `None` at the end of the input.
    pub fn next_record(&mut self) -> Option<Result<Record<'a>, SplitError>> {
        // Blank lines carry no record.
        loop {
            match self.data.get(self.pos) {
                None => return None,
                Some(b'\n') => {
                    self.pos += 1;
                    self.line += 1;
                }
                Some(b'\r') if self.data.get(self.pos + 1) == Some(&b'\n') => {
                    self.pos += 2;
                    self.line += 1;
                }
                Some(_) => break,
            }
        }
        let start_line = self.line;
        let mut fields = Vec::new();
        loop {
            let field = if self.data.get(self.pos) == Some(&b'"') {
                match self.quoted_field() {
                    Some(field) => field,
                    None => {
                        self.pos = self.data.len();
                        return Some(Err(SplitError::UnterminatedQuote { line: start_line }));
                    }
                }
            } else {
                let rest = &self.data[self.pos..];
                let end = memchr::memchr2(b',', b'\n', rest).unwrap_or(rest.len());
                let mut field = &rest[..end];
                if rest.get(end) != Some(&b',') {
                    field = field.strip_suffix(b"\r").unwrap_or(field);
                }
                self.pos += end;
                Cow::Borrowed(field)
            };
            fields.push(field);
            match self.data.get(self.pos) {
                None => break,
                Some(b',') => self.pos += 1,
                Some(b'\n') => {
                    self.pos += 1;
                    self.line += 1;
                    break;
                }
                Some(b'\r') if self.data.get(self.pos + 1) == Some(&b'\n') => {
                    self.pos += 2;
                    self.line += 1;
                    break;
                }
                Some(_) => {
                    self.skip_line();
                    return Some(Err(SplitError::BadQuote { line: start_line }));
                }
            }
        }
        Some(Ok(Record {
            line: start_line,
            fields,
        }))
    }

    /// Reads a quoted field starting at the opening quote; `None` when it never closes.
    fn quoted_field(&mut self) -> Option<Cow<'a, [u8]>> {
        let mut owned: Option<Vec<u8>> = None;
        let mut seg = self.pos + 1;
        loop {
            let rest = &self.data[seg..];
            let close = memchr::memchr(b'"', rest)?;
            self.line += memchr::memchr_iter(b'\n', &rest[..close]).count() as u64;
            let quote = seg + close;
            if self.data.get(quote + 1) == Some(&b'"') {
                // A doubled quote stands for one quote character.
                owned
                    .get_or_insert_with(Vec::new)
                    .extend_from_slice(&self.data[seg..=quote]);
                seg = quote + 2;
                continue;
            }
            self.pos = quote + 1;
            return Some(match owned {
                Some(mut buf) => {
                    buf.extend_from_slice(&self.data[seg..quote]);
                    Cow::Owned(buf)
                }
                None => Cow::Borrowed(&self.data[seg..quote]),
            });
        }
    }

    fn skip_line(&mut self) {
        match memchr::memchr(b'\n', &self.data[self.pos..]) {
            Some(i) => {
                self.pos += i + 1;
                self.line += 1;
            }
            None => self.pos = self.data.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(data: &[u8]) -> Vec<Result<(u64, Vec<String>), SplitError>> {
        let mut reader = CsvReader::new(data);
        let mut out = Vec::new();
        while let Some(rec) = reader.next_record() {
            out.push(rec.map(|r| {
                (
                    r.line,
                    r.fields
                        .iter()
                        .map(|f| String::from_utf8_lossy(f).into_owned())
                        .collect(),
                )
            }));
        }
        out
    }

    #[test]
    fn quoted_fields_with_commas_quotes_and_newlines_keep_line_numbers() {
        let data = b"a,b\r\n1,\"x, \"\"y\"\"\nz\"\r\n\n2,plain\n";
        let recs = all(data);
        assert_eq!(
            recs,
            vec![
                Ok((1, vec!["a".into(), "b".into()])),
                Ok((2, vec!["1".into(), "x, \"y\"\nz".into()])),
                Ok((5, vec!["2".into(), "plain".into()])),
            ]
        );
    }

    #[test]
    fn bom_and_missing_final_newline_are_accepted() {
        let recs = all(b"\xEF\xBB\xBFid,name\n7,last");
        assert_eq!(recs[0], Ok((1, vec!["id".into(), "name".into()])));
        assert_eq!(recs[1], Ok((2, vec!["7".into(), "last".into()])));
    }

    #[test]
    fn unterminated_quote_names_the_line_it_opened_on() {
        let recs = all(b"a,b\n1,ok\n2,\"never closed\n3,x\n");
        assert_eq!(recs.len(), 3);
        assert_eq!(recs[2], Err(SplitError::UnterminatedQuote { line: 3 }));
    }

    #[test]
    fn text_after_a_closing_quote_is_an_error_and_reading_resumes() {
        let recs = all(b"1,\"a\"b,c\n2,d\n");
        assert_eq!(recs[0], Err(SplitError::BadQuote { line: 1 }));
        assert_eq!(recs[1], Ok((2, vec!["2".into(), "d".into()])));
    }
}
