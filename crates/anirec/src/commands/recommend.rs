//! `anirec recommend`: top-k anime for a known user, or for a new user from a ratings CSV or a
//! MyAnimeList export (`.xml` or the `.xml.gz` MAL downloads; folded in, no retraining), with
//! filters and explanations. What of a new user's list was not used is said on stderr.

use anirec_data::Score;
use std::path::{Path, PathBuf};

use anirec_data::formats::fields::parse_id;
use anirec_data::formats::malxml;
use anirec_data::formats::table::Table;
use anirec_data::{AnimeIx, MalId, UserId};
use anirec_model::bundle::Bundle;
use anirec_model::filters::Vocabulary;
use anirec_model::list_use::FanList;
use anirec_model::profile::Profile;
use anirec_model::query::{Filters, Grouping, Listed, Recommendation};
use anirec_server::views::{RecommendationView, Synopsis};
use anyhow::{Context, bail};

/// Catalogue filters shared by the query commands.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct FilterArgs {
    /// Only anime with this genre (repeat for several; all must match).
    #[arg(long = "genre")]
    pub genres: Vec<String>,
    /// Only anime of this type (TV, Movie, OVA, ONA, Special, Music; repeat for several).
    #[arg(long = "type")]
    pub kinds: Vec<String>,
    /// Earliest start year.
    #[arg(long)]
    pub year_min: Option<u16>,
    /// Latest start year.
    #[arg(long)]
    pub year_max: Option<u16>,
    /// Fewest MyAnimeList members.
    #[arg(long)]
    pub min_members: Option<u32>,
    /// Include adult titles.
    #[arg(long)]
    pub include_adult: bool,
    /// Include anime the user already rated.
    #[arg(long)]
    pub include_rated: bool,
    /// Franchises: `series` shows one anime per franchise (leaving out those the user started),
    /// `none` every anime on its own.
    #[arg(long, value_enum, default_value_t = GroupArg::Series)]
    pub group: GroupArg,
    /// Trade popularity for discovery, 0 (the model's balance) to 1.
    #[arg(long, default_value_t = 0.0)]
    pub novelty: f32,
}

/// `--group`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum GroupArg {
    /// One anime per franchise.
    #[default]
    Series,
    /// Every anime on its own.
    None,
}

impl FilterArgs {
    /// As the model's filters, checked against the bundle's catalogue (an unknown genre or type
    /// is an error naming its flag, as the API names its parameter).
    pub fn filters(&self, bundle: &Bundle) -> anyhow::Result<Filters> {
        let filters = Filters {
            genres: self.genres.clone(),
            kinds: self.kinds.clone(),
            year_min: self.year_min,
            year_max: self.year_max,
            min_members: self.min_members,
            include_adult: self.include_adult,
            include_rated: self.include_rated,
            group: match self.group {
                GroupArg::Series => Grouping::Series,
                GroupArg::None => Grouping::None,
            },
            novelty: self.novelty,
        };
        filters
            .check(&Vocabulary::of(&bundle.catalogue))
            .map_err(|e| anyhow::anyhow!("--{}: {}", e.param.replace('_', "-"), e.message))?;
        Ok(filters)
    }
}

/// Arguments of `anirec recommend`.
#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("who").required(true).args(["user", "ratings", "mal_xml"])))]
pub struct Args {
    /// Model bundle written by `anirec train`.
    #[arg(long)]
    pub model: PathBuf,
    /// A user the model was trained with (MyAnimeList user id).
    #[arg(long)]
    pub user: Option<u32>,
    /// A new user's ratings: CSV with `anime_id,rating` columns (rating 0-10, 0 = not scored).
    #[arg(long)]
    pub ratings: Option<PathBuf>,
    /// A new user's MyAnimeList list export (`.xml`, or the `.xml.gz` MyAnimeList downloads).
    #[arg(long)]
    pub mal_xml: Option<PathBuf>,
    /// How many anime (1-100).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=100))]
    pub k: u16,
    /// Show why each anime was picked.
    #[arg(long)]
    pub explain: bool,
    /// Filters.
    #[command(flatten)]
    pub filters: FilterArgs,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Loads a bundle, naming it in the error.
pub fn load_bundle(path: &Path) -> anyhow::Result<Bundle> {
    Bundle::load(path).map_err(anyhow::Error::from)
}

/// Reads `anime_id,rating` pairs from a CSV file.
pub fn read_ratings_csv(path: &Path) -> anyhow::Result<Vec<Listed>> {
    let data = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let name = anirec_data::files::file_name(path);
    let mut table = Table::open(&data, &name, "anime_id,rating")?;
    let (Some(id_col), Some(r_col)) = (
        table.column(&["anime_id", "MAL_ID"]),
        table.column(&["rating", "score", "my_score"]),
    ) else {
        bail!(
            "{name}:1: expected columns anime_id and rating, found {:?}",
            table.header_line()
        );
    };
    let mut out = Vec::new();
    while let Some(row) = table.next_row() {
        let row = row?;
        let id = parse_id(row.text(Some(id_col)))
            .map_err(|m| anyhow::anyhow!("{name}:{}: column anime_id: {m}", row.line))?;
        let text = row.text(Some(r_col)).trim();
        let Some(score) = text.parse::<u8>().ok().and_then(Score::new) else {
            bail!(
                "{name}:{}: column rating: expected an integer 0-10, found {text:?}",
                row.line
            )
        };
        out.push(Listed {
            mal_id: MalId(id),
            score,
            status: None,
        });
    }
    Ok(out)
}

/// The profile the arguments describe.
fn profile(bundle: &Bundle, args: &Args) -> anyhow::Result<Profile> {
    if let Some(user) = args.user {
        return bundle.known_user(UserId(user)).with_context(|| {
            format!(
                "user {user} is not in the model ({} users); use --ratings or --mal-xml for a new user",
                bundle.ratings.n_users()
            )
        });
    }
    let list = if let Some(path) = &args.ratings {
        FanList::of_entries(None, read_ratings_csv(path)?)
    } else if let Some(path) = &args.mal_xml {
        let data = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        FanList::from_export(malxml::read(
            &data,
            &anirec_data::files::file_name(path),
            false,
        )?)
    } else {
        FanList::default()
    };
    let (profile, unknown) = bundle.fold_in(&list.entries);
    let used = list.used(unknown);
    eprintln!("used {} of {} entries", used.used, list.entries.len());
    for note in used.notes() {
        eprintln!("note: {note}");
    }
    for example in &list.skipped.examples {
        eprintln!("  {example}");
    }
    Ok(profile)
}

/// Runs `anirec recommend`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let bundle = load_bundle(&args.model)?;
    let started = std::time::Instant::now();
    let profile = profile(&bundle, &args)?;
    let filters = args.filters.filters(&bundle)?;
    let recs = bundle.recommend(&profile, args.k as usize, &filters, args.explain);
    tracing::info!(
        milliseconds = started.elapsed().as_secs_f64() * 1e3,
        entries = profile.state.entries.len(),
        "profile built and recommendations ranked"
    );
    if args.json {
        let items: Vec<RecommendationView> = recs
            .iter()
            .map(|r| RecommendationView::of(&bundle, r, Synopsis::Full))
            .collect();
        println!("{}", serde_json::to_string_pretty(&items)?);
    } else if recs.is_empty() {
        println!(
            "no anime left to recommend with these filters (rated anime are excluded unless --include-rated)"
        );
    } else {
        for (i, r) in recs.iter().enumerate() {
            print_rec(&bundle, i + 1, r);
        }
        let row = bundle.continue_series(&profile, args.k as usize, &filters);
        if !row.is_empty() {
            println!("\ncontinue your series:");
        }
        for c in &row {
            let a = &bundle.catalogue[c.index];
            println!(
                "  - {} ({}, predicted {:.1}/10; {} of the series on the list)",
                a.name,
                series_label(&bundle, c.index).unwrap_or_default(),
                c.predicted_rating,
                c.seen
            );
        }
    }
    Ok(())
}

/// `Season 2 of Shingeki no Kyojin (5 seasons, 5 films, ...)`, for an anime in a franchise.
fn series_label(bundle: &Bundle, a: AnimeIx) -> Option<String> {
    let (f, position) = bundle.catalogue.franchises().of(a)?;
    Some(format!(
        "{} of {}: {}",
        f.label(position),
        f.name,
        f.summary()
    ))
}

/// Prints one recommendation as a few lines of text.
pub fn print_rec(bundle: &Bundle, rank: usize, r: &Recommendation) {
    let a = &bundle.catalogue[r.index];
    let english = a
        .english_name
        .as_deref()
        .filter(|e| *e != a.name)
        .map(|e| format!(" / {e}"))
        .unwrap_or_default();
    let japanese = a
        .japanese_name
        .as_deref()
        .map(|j| format!(" ({j})"))
        .unwrap_or_default();
    println!("{rank:>2}. {}{english}{japanese}", a.name);
    println!(
        "    {} · {} · {} · MAL score {} · predicted {:.1}/10",
        a.genres.join(", "),
        a.kind.as_deref().unwrap_or("?"),
        a.start_year.map_or("?".into(), |y| y.to_string()),
        a.score.map_or("?".into(), |s| format!("{s:.2}")),
        r.predicted_rating
    );
    if let Some(series) = series_label(bundle, r.index) {
        println!("    {series}");
    }
    for reason in &r.reasons {
        println!("    - {} ({:.0}%)", reason.text, reason.share * 100.0);
    }
}
