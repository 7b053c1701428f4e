//! `anirec similar` (anime like a given anime) and `anirec similar-users` (users with a taste
//! like a given user's).

use std::path::PathBuf;

use anirec_model::query::{Grouping, SimilarBy, UserStats};
use anirec_model::story::StoryOff;
use anyhow::{Context, bail};

use super::recommend::{FilterArgs, load_bundle};

/// Arguments of `anirec similar`.
#[derive(clap::Args)]
pub struct Args {
    /// Model bundle.
    #[arg(long)]
    pub model: PathBuf,
    /// The anime's MyAnimeList id.
    #[arg(long, conflicts_with = "title")]
    pub id: Option<u32>,
    /// The anime's title (Name, English or Japanese; case-insensitive).
    #[arg(required_unless_present = "id")]
    pub title: Option<String>,
    /// What "similar" means.
    #[arg(long, value_enum, default_value_t = By::Hybrid)]
    pub by: By,
    /// How many anime.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=100))]
    pub k: u16,
    /// Filters.
    #[command(flatten)]
    pub filters: FilterArgs,
}

/// `--by` values.
#[derive(clap::ValueEnum, Clone, Copy)]
pub enum By {
    /// Synopsis and fields.
    Content,
    /// Watched and liked by the same users.
    Collab,
    /// Both.
    Hybrid,
    /// The sentence embeddings of their stories (a model trained with an encoder).
    Story,
}

/// Runs `anirec similar`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let bundle = load_bundle(&args.model)?;
    let anime = &bundle.catalogue;
    let index = match (args.id, &args.title) {
        (Some(id), _) => bundle
            .catalogue
            .index_of(anirec_data::MalId(id))
            .with_context(|| format!("anime id {id} is not in the catalogue"))?,
        (None, Some(title)) => match bundle.find_title(title) {
            Ok(i) => i,
            Err(suggestions) => {
                let names: Vec<String> = suggestions
                    .iter()
                    .map(|&s| format!("{} (id {})", anime[s].name, anime[s].mal_id))
                    .collect();
                bail!("no anime titled {title:?}; closest: {}", names.join("; "));
            }
        },
        (None, None) => bail!("give --id or a title"),
    };
    let by = match args.by {
        By::Content => SimilarBy::Content,
        By::Collab => SimilarBy::Collab,
        By::Hybrid => SimilarBy::Hybrid,
        By::Story => SimilarBy::Story,
    };
    if by == SimilarBy::Story && bundle.story().is_none() {
        bail!("{}: {}", args.model.display(), StoryOff::NoEmbeddings);
    }
    println!(
        "similar to {} (id {}):",
        anime[index].name, anime[index].mal_id
    );
    let filters = args.filters.filters(&bundle)?;
    for (rank, (j, score)) in bundle
        .similar(index, by, args.k as usize, &filters)
        .into_iter()
        .enumerate()
    {
        let a = &anime[j];
        println!(
            "{:>2}. {} (id {}) · {} · similarity {score:.3}",
            rank + 1,
            a.name,
            a.mal_id,
            a.genres.join(", ")
        );
    }
    // Its own franchise, left out above, in watching order.
    if let Some((f, _)) = bundle.catalogue.franchises().of(index)
        && filters.group == Grouping::Series
    {
        println!("in this series ({}):", f.summary());
        let others = f.entries.iter().enumerate().filter(|&(_, &e)| e != index);
        for (p, &e) in others.clone().take(SERIES_SHOWN) {
            println!(
                "  - {} (id {}) · {}",
                anime[e].name,
                anime[e].mal_id,
                f.label(p)
            );
        }
        let more = others.count().saturating_sub(SERIES_SHOWN);
        if more > 0 {
            println!("  ... and {more} more");
        }
    }
    Ok(())
}

/// How many of its franchise's other entries `similar` lists.
const SERIES_SHOWN: usize = 20;

/// Arguments of `anirec similar-users`.
#[derive(clap::Args)]
pub struct UsersArgs {
    /// Model bundle.
    #[arg(long)]
    pub model: PathBuf,
    /// The user (MyAnimeList user id).
    #[arg(long)]
    pub user: u32,
    /// How many users.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=100))]
    pub k: u16,
}

/// Runs `anirec similar-users`.
pub fn run_users(args: UsersArgs) -> anyhow::Result<()> {
    let bundle = load_bundle(&args.model)?;
    let profile = bundle
        .known_user(anirec_data::UserId(args.user))
        .with_context(|| format!("user {} is not in the model", args.user))?;
    for (rank, (id, sim, common)) in bundle
        .similar_users(
            &UserStats::of(&bundle.ratings),
            &profile,
            args.k as usize,
            Some(anirec_data::UserId(args.user)),
        )
        .into_iter()
        .enumerate()
    {
        println!(
            "{:>2}. user {id} · similarity {sim:.3} · {common} anime in common",
            rank + 1
        );
    }
    Ok(())
}
