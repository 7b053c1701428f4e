//! `anirec search "a melancholic space western"`: story search from the command line, the way
//! `GET /api/v1/search` answers it (titles first, then the closest stories; personalised for a
//! known user), with the time the query took to embed.

use std::path::PathBuf;
use std::time::Instant;

use anirec_model::search::TitleIndex;
use anirec_model::story_search::StoryQuery;
use anyhow::{Context, bail};

use super::recommend::{FilterArgs, load_bundle};
use crate::story::EncoderArgs;

/// Arguments of `anirec search`.
#[derive(clap::Args)]
pub struct Args {
    /// Model bundle (trained with an encoder).
    #[arg(long)]
    pub model: PathBuf,
    /// What you want to watch, in your words, or a title.
    pub query: String,
    /// Personalise for this MyAnimeList user (known to the model).
    #[arg(long)]
    pub user: Option<u32>,
    /// How many anime.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=100))]
    pub k: u16,
    /// The encoder that embeds the query (the one the model was trained with).
    #[command(flatten)]
    pub encoder: EncoderArgs,
    /// Filters.
    #[command(flatten)]
    pub filters: FilterArgs,
}

/// Runs `anirec search`.
pub fn run(args: Args) -> anyhow::Result<()> {
    if args.query.trim().is_empty() {
        bail!("the query is empty: describe what you want to watch, or give a title");
    }
    let bundle = load_bundle(&args.model)?;
    let Some(encoder) = args.encoder.load()? else {
        bail!("story search needs the encoder (drop --no-encoder)");
    };
    if let Err(why) = bundle.story_for(encoder.fingerprint()) {
        bail!(
            "{}: {why} (the encoder: {})",
            args.model.display(),
            encoder.dir().display()
        );
    }
    let profile = match args.user {
        Some(user) => Some(
            bundle
                .known_user(anirec_data::UserId(user))
                .with_context(|| format!("user {user} is not in the model"))?,
        ),
        None => None,
    };
    let filters = args.filters.filters(&bundle)?;
    let started = Instant::now();
    let vector = encoder.embed_one(&args.query)?;
    let embed_ms = started.elapsed().as_secs_f64() * 1e3;
    let k = args.k as usize;
    let titles = TitleIndex::new(&bundle.catalogue);
    let started = Instant::now();
    let titles = titles.leading(&args.query, k);
    let hits = bundle.story_search(&StoryQuery {
        text: &args.query,
        vector: &vector,
        titles: &titles,
        profile: profile.as_ref(),
        k,
        filters: &filters,
    });
    let rank_ms = started.elapsed().as_secs_f64() * 1e3;
    println!("query embedded in {embed_ms:.1} ms, titles and stories ranked in {rank_ms:.2} ms");
    for (rank, hit) in hits.iter().enumerate() {
        let a = &bundle.catalogue[hit.index];
        println!(
            "{:>2}. {} (id {}) · {} · story match {:.3} · {}",
            rank + 1,
            a.name,
            a.mal_id,
            a.genres.join(", "),
            hit.story_match,
            hit.reason
        );
    }
    Ok(())
}
