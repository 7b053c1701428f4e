//! The sentence encoder behind story search: all-MiniLM-L6-v2 (or any BERT sentence model in
//! the Hugging Face folder layout) run on the CPU with candle, no network and no Python.
//!
//! ```no_run
//! let encoder = anirec_encoder::Encoder::load("../shared/models/all-MiniLM-L6-v2".as_ref())?;
//! let query = encoder.embed_one("a melancholic space western")?;
//! assert_eq!(query.len(), encoder.dim());
//! # Ok::<(), anirec_encoder::EncoderError>(())
//! ```

mod cache;
mod encoder;
mod error;

pub use cache::{Embedded, EmbeddingCache};
pub use encoder::{Encoder, MAX_TEXT_CHARS};
pub use error::EncoderError;
