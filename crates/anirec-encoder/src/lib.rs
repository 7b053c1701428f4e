//! The sentence encoder behind story search: all-MiniLM-L6-v2 (or any BERT sentence model in
//! the Hugging Face folder layout) run on the CPU, no network and no Python: `tokenizers` reads
//! the word pieces, our forward pass (packed weights, AVX2 kernels) does the rest.
//!
//! ```no_run
//! let encoder = anirec_encoder::Encoder::load("../shared/models/all-MiniLM-L6-v2".as_ref())?;
//! let query = encoder.embed_one("a melancholic space western")?;
//! assert_eq!(query.len(), encoder.dim());
//! # Ok::<(), anirec_encoder::EncoderError>(())
//! ```

mod bert;
mod cache;
mod encoder;
mod error;
mod linear;
mod ops;

pub use cache::{Embedded, EmbeddingCache};
pub use encoder::{Encoder, MAX_TEXT_CHARS};
pub use error::EncoderError;

use std::path::{Path, PathBuf};

/// Where the tests and benchmarks find the shared encoder: `$ANIREC_ENCODER`, else
/// `../shared/models/all-MiniLM-L6-v2` beside the workspace this crate was built in.
pub fn shared_encoder_dir() -> PathBuf {
    std::env::var_os("ANIREC_ENCODER")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/models/all-MiniLM-L6-v2")
        })
}

/// The shared encoder for a test; panics naming the folder when it is missing (a test that
/// needs the encoder fails, never skips, without it).
pub fn shared_encoder() -> Encoder {
    let dir = shared_encoder_dir();
    Encoder::load(&dir).unwrap_or_else(|e| {
        panic!(
            "this needs the encoder folder {} (set ANIREC_ENCODER): {e}",
            dir.display()
        )
    })
}
