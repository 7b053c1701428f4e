//! The sentence encoder as the server uses it: query embeddings are kept in a bounded cache, so
//! a query asked again (the next page, other filters, another fan) is not embedded twice.

use std::sync::Arc;

use anirec_encoder::{Encoder, EncoderError};

use crate::cache::BoundedCache;

/// Query embeddings kept (each 384 numbers for all-MiniLM-L6-v2: about 6 MB in all).
const CACHED_QUERIES: usize = 4096;

/// The encoder and the embeddings of recent queries.
#[derive(Debug)]
pub struct QueryEncoder {
    encoder: Encoder,
    recent: BoundedCache<Arc<[f32]>>,
}

impl QueryEncoder {
    /// Wraps a loaded encoder.
    pub fn new(encoder: Encoder) -> QueryEncoder {
        QueryEncoder {
            encoder,
            recent: BoundedCache::new(CACHED_QUERIES),
        }
    }

    /// The encoder itself.
    pub fn encoder(&self) -> &Encoder {
        &self.encoder
    }

    /// The embedding of `text`: from the cache when it was asked recently, else computed (on
    /// the caller's thread: call it from the compute pool) and kept.
    pub fn embed(&self, text: &str) -> Result<Arc<[f32]>, EncoderError> {
        if let Some(vector) = self.recent.get(text) {
            return Ok(vector);
        }
        let vector: Arc<[f32]> = self.encoder.embed_one(text)?.into();
        self.recent.put(text.to_owned(), vector.clone());
        Ok(vector)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_asked_again_gets_the_same_embedding_from_the_cache() {
        let encoder = QueryEncoder::new(anirec_encoder::shared_encoder());
        let first = encoder.embed("a melancholic space western").unwrap();
        let again = encoder.embed("a melancholic space western").unwrap();
        assert!(
            Arc::ptr_eq(&first, &again),
            "the second answer is the cached one"
        );
        let other = encoder.embed("cozy food anime").unwrap();
        assert_eq!(other.len(), encoder.encoder().dim());
        assert_ne!(&other[..], &first[..]);
    }
}
