//! The snapshot file: a whole [`Dataset`] in one binary file that loads in a fraction of the
//! time a CSV parse takes, so later commands need not re-read the CSV files.
//!
//! Layout (all integers little-endian):
//!
//! ```text
//! "ANIRSNAP"  8 bytes magic
//! version     u32 (FORMAT_VERSION)
//! header_len  u32
//! header      JSON: counts, and for each section its offset, length and CRC-32
//! sections    raw arrays (user ids, both CSR sides), then the catalogue and report as JSON,
//!             each starting at a multiple of 8 bytes
//! ```
//!
//! Writes are atomic (temporary file in the same folder, fsync, rename). Loads check the magic,
//! the version, the file length and every section's checksum, so a truncated, corrupt or
//! future-version file fails with a message instead of loading wrong data.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::catalogue::Catalogue;
use crate::csr::Csr;
use crate::dataset::{Dataset, IngestOptions};
use crate::error::{DataError, Result};
use crate::files::Progress;
use crate::ratings::Ratings;
use crate::report::IngestReport;

/// The first eight bytes of every snapshot.
pub const MAGIC: &[u8; 8] = b"ANIRSNAP";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 2;

const SECTIONS: [&str; 11] = [
    "user_ids",
    "user_indptr",
    "user_indices",
    "user_ratings",
    "user_status",
    "anime_indptr",
    "anime_indices",
    "anime_ratings",
    "anime_status",
    "catalogue",
    "report",
];

#[derive(Serialize, Deserialize)]
struct Section {
    name: String,
    offset: u64,
    len: u64,
    crc32: u32,
}

#[derive(Serialize, Deserialize)]
struct Header {
    n_users: u64,
    n_anime: u64,
    n_ratings: u64,
    sections: Vec<Section>,
}

/// Writes `dataset` to `path` atomically.
pub fn save(dataset: &Dataset, path: &Path) -> Result<()> {
    if cfg!(target_endian = "big") {
        return Err(snapshot_error(
            path,
            "snapshots are written on little-endian machines only",
        ));
    }
    let r = &dataset.ratings;
    let catalogue_json =
        serde_json::to_vec(&dataset.catalogue).map_err(|e| snapshot_error(path, &e.to_string()))?;
    let report_json =
        serde_json::to_vec(&dataset.report).map_err(|e| snapshot_error(path, &e.to_string()))?;
    let (u, a) = (r.by_user(), r.by_anime());
    let bodies: [&[u8]; 11] = [
        bytemuck::cast_slice(r.user_ids()),
        bytemuck::cast_slice(&u.indptr),
        bytemuck::cast_slice(&u.indices),
        &u.ratings,
        &u.status,
        bytemuck::cast_slice(&a.indptr),
        bytemuck::cast_slice(&a.indices),
        &a.ratings,
        &a.status,
        &catalogue_json,
        &report_json,
    ];
    let crcs: Vec<u32> = bodies.par_iter().map(|b| crc32fast::hash(b)).collect();
    // Offsets are relative to the end of the header, so the header can be sized afterwards.
    let mut sections = Vec::with_capacity(bodies.len());
    let mut offset = 0u64;
    for ((name, body), crc32) in SECTIONS.iter().zip(&bodies).zip(crcs) {
        sections.push(Section {
            name: (*name).to_owned(),
            offset,
            len: body.len() as u64,
            crc32,
        });
        offset = (offset + body.len() as u64).next_multiple_of(8);
    }
    let header = Header {
        n_users: r.n_users() as u64,
        n_anime: r.n_anime() as u64,
        n_ratings: r.len() as u64,
        sections,
    };
    let mut header_json =
        serde_json::to_vec(&header).map_err(|e| snapshot_error(path, &e.to_string()))?;
    // Pad so the first section starts at a multiple of 8.
    while (16 + header_json.len()) % 8 != 0 {
        header_json.push(b' ');
    }
    crate::atomic::write_file(path, |file| {
        file.write_all(MAGIC)?;
        file.write_all(&FORMAT_VERSION.to_le_bytes())?;
        file.write_all(&(header_json.len() as u32).to_le_bytes())?;
        file.write_all(&header_json)?;
        let mut written = 0u64;
        for (section, body) in header.sections.iter().zip(&bodies) {
            let pad = section.offset - written;
            file.write_all(&vec![0u8; pad as usize])?;
            file.write_all(body)?;
            written = section.offset + body.len() as u64;
        }
        Ok(())
    })
}

fn snapshot_error(path: &Path, message: &str) -> DataError {
    DataError::Snapshot {
        path: path.to_owned(),
        message: message.to_owned(),
    }
}

/// Loads a snapshot written by [`save`], verifying it.
pub fn load(path: &Path) -> Result<Dataset> {
    if cfg!(target_endian = "big") {
        return Err(snapshot_error(
            path,
            "snapshots are read on little-endian machines only",
        ));
    }
    let bad = |m: &str| snapshot_error(path, m);
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    let size = file.metadata().map_err(|e| DataError::io(path, e))?.len();
    let mut fixed = [0u8; 16];
    if size < 16 || file.read_exact_at(&mut fixed, 0).is_err() {
        return Err(bad("not an anirec snapshot: the file is too short"));
    }
    if &fixed[..8] != MAGIC {
        return Err(bad("not an anirec snapshot: wrong magic bytes"));
    }
    let version = u32::from_le_bytes([fixed[8], fixed[9], fixed[10], fixed[11]]);
    if version != FORMAT_VERSION {
        return Err(bad(&format!(
            "snapshot format version {version}; this anirec reads version {FORMAT_VERSION} (re-run `anirec ingest --snapshot`)"
        )));
    }
    let header_len = u32::from_le_bytes([fixed[12], fixed[13], fixed[14], fixed[15]]) as u64;
    if 16 + header_len > size {
        return Err(bad("truncated: the header is cut off"));
    }
    let mut header_bytes = vec![0u8; header_len as usize];
    file.read_exact_at(&mut header_bytes, 16)
        .map_err(|e| DataError::io(path, e))?;
    let header: Header =
        serde_json::from_slice(&header_bytes).map_err(|e| bad(&format!("corrupt header: {e}")))?;
    let names: Vec<&str> = header.sections.iter().map(|s| s.name.as_str()).collect();
    if names != SECTIONS {
        return Err(bad("corrupt header: unexpected sections"));
    }
    let base = 16 + header_len;
    let end = header
        .sections
        .iter()
        .map(|s| s.offset.saturating_add(s.len))
        .max()
        .unwrap_or(0);
    if base + end != size {
        return Err(bad(&format!(
            "truncated or padded: expected {} bytes, found {size}",
            base + end
        )));
    }

    // Read and verify all sections in parallel.
    let read = |i: usize| -> Result<Vec<u8>> {
        let s = &header.sections[i];
        let mut buf = vec![0u8; s.len as usize];
        file.read_exact_at(&mut buf, base + s.offset)
            .map_err(|e| DataError::io(path, e))?;
        Ok(buf)
    };
    let read_typed = |i: usize, out: &mut [u8]| -> Result<()> {
        let s = &header.sections[i];
        if out.len() as u64 != s.len {
            return Err(bad(&format!(
                "corrupt header: section {} has the wrong length",
                s.name
            )));
        }
        file.read_exact_at(out, base + s.offset)
            .map_err(|e| DataError::io(path, e))
    };
    let n_users = header.n_users as usize;
    let n_anime = header.n_anime as usize;
    let nnz = header.n_ratings as usize;
    let status_len = header.sections[4].len as usize;
    let mut user_ids = vec![0u32; n_users];
    let mut user_side = empty_csr(n_users, nnz, status_len);
    let mut anime_side = empty_csr(n_anime, nnz, status_len);
    let mut blobs: Vec<Vec<u8>> = Vec::new();
    {
        let mut jobs: Vec<(usize, &mut [u8])> = vec![
            (0, bytemuck::cast_slice_mut(&mut user_ids)),
            (1, bytemuck::cast_slice_mut(&mut user_side.indptr)),
            (2, bytemuck::cast_slice_mut(&mut user_side.indices)),
            (3, &mut user_side.ratings),
            (4, &mut user_side.status),
            (5, bytemuck::cast_slice_mut(&mut anime_side.indptr)),
            (6, bytemuck::cast_slice_mut(&mut anime_side.indices)),
            (7, &mut anime_side.ratings),
            (8, &mut anime_side.status),
        ];
        let (typed, json) = rayon::join(
            || {
                jobs.par_iter_mut()
                    .map(|(i, out)| {
                        read_typed(*i, out)?;
                        check_crc(&header.sections[*i], out, path)
                    })
                    .collect::<Result<Vec<()>>>()
            },
            || {
                [9usize, 10]
                    .par_iter()
                    .map(|&i| {
                        let buf = read(i)?;
                        check_crc(&header.sections[i], &buf, path)?;
                        Ok(buf)
                    })
                    .collect::<Result<Vec<Vec<u8>>>>()
            },
        );
        typed?;
        blobs.extend(json?);
    }
    let mut catalogue: Catalogue =
        serde_json::from_slice(&blobs[0]).map_err(|e| bad(&format!("corrupt catalogue: {e}")))?;
    catalogue.reindex();
    let report: IngestReport =
        serde_json::from_slice(&blobs[1]).map_err(|e| bad(&format!("corrupt report: {e}")))?;
    if !(csr_is_consistent(&user_side, n_anime) && csr_is_consistent(&anime_side, n_users)) {
        return Err(bad("corrupt: ratings arrays are inconsistent"));
    }
    if catalogue.len() != n_anime {
        return Err(bad(
            "corrupt: catalogue and ratings disagree on the number of anime",
        ));
    }
    Ok(Dataset {
        catalogue,
        ratings: Ratings::from_parts(user_ids, n_anime, user_side, anime_side),
        report,
    })
}

fn empty_csr(rows: usize, nnz: usize, status_len: usize) -> Csr {
    Csr {
        indptr: vec![0u64; rows + 1],
        indices: vec![0u32; nnz],
        ratings: vec![0u8; nnz],
        status: vec![0u8; status_len],
    }
}

fn check_crc(section: &Section, bytes: &[u8], path: &Path) -> Result<()> {
    if crc32fast::hash(bytes) == section.crc32 {
        Ok(())
    } else {
        Err(snapshot_error(
            path,
            &format!(
                "checksum mismatch in section {}: the file is corrupt",
                section.name
            ),
        ))
    }
}

/// Whether `csr` has the structure a checksum cannot vouch for: offsets ascending and in range,
/// indices below `columns`, one status per rating or none.
fn csr_is_consistent(csr: &Csr, columns: usize) -> bool {
    let nnz = csr.indices.len() as u64;
    let ok_ptr = csr.indptr.first() == Some(&0)
        && csr.indptr.last() == Some(&nnz)
        && csr.indptr.windows(2).all(|w| w[0] <= w[1]);
    let ok_idx = csr.indices.par_iter().all(|&i| (i as usize) < columns);
    let ok_status = csr.status.is_empty() || csr.status.len() == csr.indices.len();
    ok_ptr && ok_idx && ok_status
}
/// Opening "a folder or a snapshot" lives here, beside the snapshot reader, so that the dataset
/// module never depends on the snapshot that depends on it.
impl Dataset {
    /// Opens a data folder, or a snapshot file written by `anirec ingest --snapshot`.
    pub fn open(path: &Path, opts: &IngestOptions, progress: &dyn Progress) -> Result<Dataset> {
        if !path.is_file() {
            return Dataset::load_dir(path, opts, progress);
        }
        if opts.ratings_file.is_some() {
            return Err(DataError::Parameter {
                name: "--ratings",
                message:
                    "a snapshot already holds its ratings; pass a data folder to read another file"
                        .into(),
            });
        }
        let mut dataset = load(path)?;
        dataset.apply_min_user_ratings(opts.min_user_ratings);
        Ok(dataset)
    }
}
