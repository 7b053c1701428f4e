//! The sentence encoder's arguments (`--encoder DIR`, `--no-encoder`, `--embedding-cache DIR`)
//! and the catalogue's story embeddings computed with them: reused from the cache where the
//! texts are unchanged, the rest embedded in batches with a progress bar.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anirec_data::Catalogue;
use anirec_encoder::{EmbeddingCache, Encoder};
use anirec_model::story::{StoryInfo, StoryVectors};
use anirec_model::story_text::{STORY_TEXT, story_texts};
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

/// The shared all-MiniLM-L6-v2 folder beside the repository, as `--data` is used from there.
pub const DEFAULT_ENCODER: &str = "../shared/models/all-MiniLM-L6-v2";

/// `--encoder`, `--no-encoder`, `--embedding-cache`.
#[derive(clap::Args, Debug, Clone)]
pub struct EncoderArgs {
    /// Sentence encoder for story search: a folder in the Hugging Face layout (config.json,
    /// tokenizer.json, model.safetensors).
    #[arg(long, value_name = "DIR", env = "ANIREC_ENCODER", default_value = DEFAULT_ENCODER)]
    pub encoder: PathBuf,
    /// Go without story embeddings (story search and `similar --by story` answer that they
    /// are off).
    #[arg(long, env = "ANIREC_NO_ENCODER", value_parser = clap::builder::BoolishValueParser::new())]
    pub no_encoder: bool,
    /// Where embeddings are kept between runs [default: $XDG_CACHE_HOME/anirec/embeddings or
    /// ~/.cache/anirec/embeddings].
    #[arg(long, value_name = "DIR", env = "ANIREC_EMBEDDING_CACHE")]
    pub embedding_cache: Option<PathBuf>,
    /// Word pieces the encoder reads from each text (synopses and queries), [CLS] and [SEP]
    /// included; at most the model's own limit (256 for all-MiniLM-L6-v2, which was trained
    /// on 128). The catalogue and the queries must be embedded with the same limit.
    #[arg(long, value_name = "N", env = "ANIREC_STORY_TOKENS", default_value_t = DEFAULT_STORY_TOKENS,
          value_parser = clap::value_parser!(u16).range(2..))]
    pub story_tokens: u16,
}

/// Word pieces read from each text by default: what all-MiniLM-L6-v2 was trained on, and
/// enough for two thirds of the sample's story texts whole (BENCHMARKS.md "Story search"
/// measures the time and the quality against 256).
pub const DEFAULT_STORY_TOKENS: u16 = 128;

impl EncoderArgs {
    /// The encoder, unless `--no-encoder`; an encoder folder that is missing or broken is an
    /// error naming the file.
    pub fn load(&self) -> anyhow::Result<Option<Encoder>> {
        if self.no_encoder {
            return Ok(None);
        }
        let started = Instant::now();
        let encoder = Encoder::load(&self.encoder)
            .and_then(|encoder| encoder.limit_tokens(self.story_tokens.into()))
            .with_context(|| {
                format!(
                    "loading the sentence encoder from {} (give --encoder DIR, or --no-encoder to go without story search)",
                    self.encoder.display()
                )
            })?;
        tracing::info!(
            dir = %self.encoder.display(),
            seconds = started.elapsed().as_secs_f64(),
            "sentence encoder loaded"
        );
        Ok(Some(encoder))
    }

    /// The embedding cache folder.
    pub fn cache_dir(&self) -> PathBuf {
        self.embedding_cache
            .clone()
            .unwrap_or_else(default_cache_dir)
    }
}

fn default_cache_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    base.join("anirec").join("embeddings")
}

/// Every anime's story vector, from the cache in `cache_dir` where it can, with a progress
/// bar for the rest; says on stderr what was reused and how long the rest took.
pub fn embed_catalogue(
    encoder: &Encoder,
    catalogue: &Catalogue,
    cache_dir: &Path,
) -> anyhow::Result<(StoryInfo, StoryVectors)> {
    let texts = story_texts(catalogue.anime());
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let cache = EmbeddingCache::new(cache_dir, encoder);
    let bar = ProgressBar::hidden();
    let started = Instant::now();
    let mut shown = false;
    let embedded = cache.embed(encoder, &texts, |done, total| {
        if !shown {
            bar.set_length(total as u64);
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg:>24} [{bar:40.cyan/blue}] {pos}/{len} {per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.set_message("embedding synopses");
            shown = true;
        }
        bar.inc(done as u64);
    });
    bar.finish_and_clear();
    let embedded = embedded.context("embedding the catalogue's synopses")?;
    if let Some(warning) = &embedded.cache_warning {
        eprintln!("embedding cache: {warning}");
    }
    eprintln!(
        "story embeddings: {} reused from {}, {} computed in {:.1} s",
        embedded.reused,
        cache.file().display(),
        embedded.computed,
        started.elapsed().as_secs_f64()
    );
    let info = StoryInfo {
        encoder: encoder.fingerprint().to_owned(),
        dim: encoder.dim(),
        text: format!(
            "{STORY_TEXT}, the first {} word pieces",
            encoder.max_tokens()
        ),
    };
    let vectors = StoryVectors::new(encoder.dim(), embedded.rows)
        .map_err(|e| anyhow::anyhow!("story embeddings: {e}"))?;
    Ok((info, vectors))
}
