//! Gzip-compressed uploads (MyAnimeList's `.xml.gz` export, a `Content-Encoding: gzip` body),
//! unpacked as a stream that stops past a limit, so a compression bomb costs at most the limit.

use std::io::Read;

use crate::error::{DataError, Result};

/// Whether `data` starts like a gzip stream.
pub fn is_gzip(data: &[u8]) -> bool {
    data.starts_with(&[0x1f, 0x8b])
}

/// Unpacks a gzip stream (several members read as one, as `gzip` writes them) of at most
/// `limit` bytes unpacked; `file` names it in messages.
pub fn unpack(raw: &[u8], limit: usize, file: &str) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(raw.len().saturating_mul(8).min(limit));
    flate2::read::MultiGzDecoder::new(raw)
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| DataError::Xml {
            file: file.to_owned(),
            line: 1,
            message: format!("the gzip-compressed data cannot be unpacked: {e}"),
        })?;
    if out.len() > limit {
        return Err(DataError::TooLarge {
            file: file.to_owned(),
            message: format!(
                "the gzip-compressed data unpacks to more than {limit} bytes, the most accepted"
            ),
        });
    }
    Ok(out)
}
