//! The compressed sparse row matrix both sides of the ratings store use, and its parallel
//! construction: a stable, blocked counting sort ([`bucket_by_key`]) that builds rows from
//! ordered blocks of entries on all cores, used both to gather ratings by user from parsed
//! chunks and to transpose by-user rows into by-anime rows.

use rayon::prelude::*;

/// Compressed sparse rows: row `r` holds `indices[indptr[r]..indptr[r+1]]` and its values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Csr {
    /// Row offsets, `rows + 1` of them.
    pub indptr: Vec<u64>,
    /// Column index of each entry, ascending within a row.
    pub indices: Vec<u32>,
    /// Rating of each entry (0 = no score).
    pub ratings: Vec<u8>,
    /// Watching status of each entry, or empty when the source has none.
    pub status: Vec<u8>,
}

/// One row of a [`Csr`].
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    /// Column indices, ascending.
    pub indices: &'a [u32],
    /// Ratings (0 = no score).
    pub ratings: &'a [u8],
    /// Watching statuses, empty when the source has none.
    pub status: &'a [u8],
}

impl Row<'_> {
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    /// Whether the row is empty.
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    /// The rating at column `index`, if present (0 = listed without a score).
    pub fn rating_of(&self, index: u32) -> Option<u8> {
        self.indices
            .binary_search(&index)
            .ok()
            .map(|p| self.ratings[p])
    }
}

impl Csr {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.indptr.len().saturating_sub(1)
    }

    /// Number of entries.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// Row `r`.
    pub fn row(&self, r: usize) -> Row<'_> {
        let (a, b) = (self.indptr[r] as usize, self.indptr[r + 1] as usize);
        Row {
            indices: &self.indices[a..b],
            ratings: &self.ratings[a..b],
            status: if self.status.is_empty() {
                &[]
            } else {
                &self.status[a..b]
            },
        }
    }

    /// Keeps only the rows for which `keep` is true (renumbering them in order).
    pub(crate) fn retain_rows(&self, keep: &[bool]) -> Csr {
        let mut out = Csr {
            indptr: vec![0],
            ..Csr::default()
        };
        for (r, _) in keep.iter().enumerate().filter(|(_, k)| **k) {
            let row = self.row(r);
            out.indices.extend_from_slice(row.indices);
            out.ratings.extend_from_slice(row.ratings);
            out.status.extend_from_slice(row.status);
            out.indptr.push(out.indices.len() as u64);
        }
        out
    }
}

/// Entries grouped in ordered blocks: the input of [`bucket_by_key`]. Crate-private: the
/// scatter's writes are in bounds only because every block yields the same entries on both
/// passes, which this crate's sources guarantee and an outside one need not.
pub(crate) trait EntrySource: Sync {
    /// Calls `f(key, index, rating, status)` for every entry of the block, in order, the same
    /// entries every time it is called.
    fn for_each(&self, f: impl FnMut(u32, u32, u8, u8));
}

/// A raw pointer that may be shared between threads, for writes to disjoint positions.
#[derive(Clone, Copy)]
struct SharedMut<T>(*mut T);

// SAFETY: only used by `bucket_by_key`, whose blocks write to disjoint positions.
unsafe impl<T: Send> Send for SharedMut<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for SharedMut<T> {}

impl<T> SharedMut<T> {
    /// Writes `value` at position `i`.
    ///
    /// # Safety
    /// `i` must be in bounds and no other thread may access position `i` concurrently.
    #[inline]
    unsafe fn write(self, i: usize, value: T) {
        // SAFETY: guaranteed by the caller.
        unsafe { self.0.add(i).write(value) }
    }
}

/// Builds a [`Csr`] with `n_keys` rows from ordered blocks of `(key, index, rating, status)`
/// entries. Within a row, entries keep their order (block order, then order within a block):
/// a stable counting sort. Blocks are counted and scattered in parallel.
pub(crate) fn bucket_by_key<S: EntrySource>(blocks: &[S], n_keys: usize, with_status: bool) -> Csr {
    // Pass 1: per-block counts of each key.
    let counts: Vec<Vec<u32>> = blocks
        .par_iter()
        .map(|block| {
            let mut c = vec![0u32; n_keys];
            block.for_each(|key, _, _, _| c[key as usize] += 1);
            c
        })
        .collect();
    // Row offsets, and where each block starts writing in each row.
    let mut indptr = vec![0u64; n_keys + 1];
    let mut starts: Vec<Vec<u64>> = vec![vec![0u64; n_keys]; blocks.len()];
    let mut total = 0u64;
    for key in 0..n_keys {
        indptr[key] = total;
        for (b, c) in counts.iter().enumerate() {
            starts[b][key] = total;
            total += c[key] as u64;
        }
    }
    indptr[n_keys] = total;
    drop(counts);

    let nnz = total as usize;
    let mut indices = vec![0u32; nnz];
    let mut ratings = vec![0u8; nnz];
    let mut status = vec![0u8; if with_status { nnz } else { 0 }];
    let (pi, pr, ps) = (
        SharedMut(indices.as_mut_ptr()),
        SharedMut(ratings.as_mut_ptr()),
        SharedMut(status.as_mut_ptr()),
    );
    // Pass 2: each block writes its entries from its own start in each row.
    blocks
        .par_iter()
        .zip(starts.par_iter_mut())
        .for_each(|(block, cursor)| {
            block.for_each(|key, index, rating, st| {
                let slot = &mut cursor[key as usize];
                let p = *slot as usize;
                *slot += 1;
                // SAFETY: block b writes row `key` only in `starts[b][key]..starts[b][key] +
                // counts[b][key]`, a range no other block writes, and within `0..nnz` because
                // the counts add up to `nnz`. The pass-2 entries are the pass-1 entries.
                unsafe {
                    pi.write(p, index);
                    pr.write(p, rating);
                    if with_status {
                        ps.write(p, st);
                    }
                }
            });
        });
    Csr {
        indptr,
        indices,
        ratings,
        status,
    }
}

/// A range of rows of a CSR, as a block of (column, row, rating, status) entries: the blocks of
/// a transpose.
struct RowRange<'a> {
    csr: &'a Csr,
    rows: std::ops::Range<usize>,
}

impl EntrySource for RowRange<'_> {
    fn for_each(&self, mut f: impl FnMut(u32, u32, u8, u8)) {
        let with_status = !self.csr.status.is_empty();
        for r in self.rows.clone() {
            let (a, b) = (self.csr.indptr[r] as usize, self.csr.indptr[r + 1] as usize);
            let idx = &self.csr.indices[a..b];
            let rat = &self.csr.ratings[a..b];
            for i in 0..idx.len() {
                let st = if with_status {
                    self.csr.status[a + i]
                } else {
                    0
                };
                f(idx[i], r as u32, rat[i], st);
            }
        }
    }
}

impl Csr {
    /// The transpose, with `columns` rows; rows of the result are ascending.
    pub fn transpose(&self, columns: usize) -> Csr {
        let blocks = balanced_row_ranges(self, rayon::current_num_threads() * 4)
            .into_iter()
            .map(|rows| RowRange { csr: self, rows })
            .collect::<Vec<_>>();
        bucket_by_key(&blocks, columns, !self.status.is_empty())
    }
}

/// Splits the rows into about `parts` consecutive ranges holding similar numbers of entries.
fn balanced_row_ranges(csr: &Csr, parts: usize) -> Vec<std::ops::Range<usize>> {
    let rows = csr.rows();
    let nnz = csr.nnz() as u64;
    let parts = parts.max(1) as u64;
    let mut ranges = Vec::new();
    let mut start = 0usize;
    for p in 1..=parts {
        let target = nnz * p / parts;
        let end = if p == parts {
            rows
        } else {
            csr.indptr
                .partition_point(|&x| x < target)
                .saturating_sub(1)
                .clamp(start, rows)
        };
        if end > start || (p == parts && start < rows) {
            ranges.push(start..end);
            start = end;
        }
    }
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csr(rows: &[&[(u32, u8)]]) -> Csr {
        let mut m = Csr {
            indptr: vec![0],
            ..Csr::default()
        };
        for row in rows {
            for &(i, r) in *row {
                m.indices.push(i);
                m.ratings.push(r);
            }
            m.indptr.push(m.indices.len() as u64);
        }
        m
    }

    #[test]
    fn transpose_twice_is_identity_and_rows_stay_sorted() {
        let rows: Vec<Vec<(u32, u8)>> = (0..50u32)
            .map(|r| {
                (0..7u32)
                    .filter(|c| (r * 3 + c) % 4 != 0)
                    .map(|c| (c, (r % 10 + 1) as u8))
                    .collect()
            })
            .collect();
        let refs: Vec<&[(u32, u8)]> = rows.iter().map(Vec::as_slice).collect();
        let m = csr(&refs);
        let t = m.transpose(7);
        assert_eq!(t.rows(), 7);
        assert_eq!(t.nnz(), m.nnz());
        for c in 0..7 {
            assert!(t.row(c).indices.windows(2).all(|w| w[0] < w[1]));
        }
        assert_eq!(t.transpose(50), m);
    }

    #[test]
    fn balanced_ranges_cover_all_rows_once() {
        let m = csr(&[&[(0, 1)], &[], &[(1, 1), (2, 1), (3, 1)], &[(0, 2)], &[]]);
        for parts in 1..8 {
            let ranges = balanced_row_ranges(&m, parts);
            let covered: Vec<usize> = ranges.iter().flat_map(|r| r.clone()).collect();
            assert_eq!(covered, (0..5).collect::<Vec<_>>(), "{parts}: {ranges:?}");
        }
    }
}
