//! Content-based similarity: what each anime *is* (synopsis, genres, studios, type, source, era,
//! age rating), so anime nobody has rated are still reachable.

pub mod tfidf;
pub mod tokens;
