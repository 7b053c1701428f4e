//! `anirec eval`: the evaluation protocol of `EVALUATION.md` — fit the hybrid on train, score
//! the test set once — on a data folder (split with a seed) or on given `train.csv` / `test.csv`
//! files, beside the popularity baseline; or, with `--protocol new-users`, the new-fan protocol
//! (users left out of training, folded in), beside EASE's fold-in and popularity; or, with
//! `--protocol new-anime`, the new-anime protocol ([`super::new_anime_eval`]).

use std::time::Instant;

use anirec_data::split::{self, DEFAULT_SEED, Split};
use anirec_data::{AnimeIx, Franchises, UserIx};
use anirec_model::bundle::Bundle;
use anirec_model::eval::K;
use anirec_model::eval::{candidate_recall, evaluate_ranking};
use anirec_model::franchise_eval::{
    ContinueFigures, ListFigures, evaluate_continue, evaluate_lists, train_entries,
};
use anirec_model::hybrid::{ContentScorer, Hybrid, HybridParams, Scored, rated_or_unknown};
use anirec_model::metrics::{RankingFigures, TestMetrics, ValidationFigures};
use anirec_model::new_users::{self, NewUserFigures};
use anirec_model::popularity::Popularity;
use anirec_model::ranker::RankerKind;
use anirec_model::ranker::ablation::Ablation;
use anirec_model::series;
use anirec_model::signal::Weights;
use anirec_model::story::StoryVectors;
use anirec_model::topk::top_k;
use anirec_model::training::score_on_test;
use serde::Serialize;

use super::data_args::DataArgs;
use super::tracking_args::TrackingArgs;
use super::tuning_args::TuningArgs;
use crate::mlflow::{RunLog, final_metrics, flatten};
use crate::story::{EncoderArgs, embed_catalogue};

/// Arguments of `anirec eval`.
#[derive(clap::Args)]
pub struct Args {
    /// Data.
    #[command(flatten)]
    pub data: DataArgs,
    /// Seed of the split (when --train/--test are not given) and of the models.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Blend tuning.
    #[command(flatten)]
    pub tuning: TuningArgs,
    /// Leave parts of the two stages out, an ablation study's runs (comma-separated):
    /// collab-candidates, content-candidates, story-candidates, franchise-candidates,
    /// new-candidates (a candidate source), signal-features, relative-features, catalogue-features,
    /// list-features, fan-features (a group of the ranker's features), spread (the step after
    /// the ranker).
    #[arg(long, value_name = "PARTS", conflicts_with = "model")]
    pub without: Option<Ablation>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Which protocol.
    #[arg(long, value_enum, default_value_t = Protocol::Ratings)]
    pub protocol: Protocol,
    /// Score this bundle (written by `anirec train` on the same --data/--train) instead of
    /// fitting a model: a pipeline's evaluation of the model it trained.
    #[arg(long, value_name = "DIR", requires = "test")]
    pub model: Option<std::path::PathBuf>,
    /// The sentence encoder whose story embeddings feed the blend's story signal
    /// (`--no-encoder`: the blend without it).
    #[command(flatten)]
    pub encoder: EncoderArgs,
    /// MLflow: the evaluation as a run (its figures as metrics).
    #[command(flatten)]
    pub tracking: TrackingArgs,
}

/// The evaluation protocols.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Protocol {
    /// EVALUATION.md: each user holds out 20% of their ratings; the model trains on the rest.
    Ratings,
    /// New fans: 10% of the users are left out of training and folded in from 80% of their
    /// ratings, as the server folds in a list; the other 20% are scored.
    NewUsers,
    /// New anime: 10% of the rated anime lose every training rating; where the test users who
    /// liked them find them in their lists (Recall@50, NDCG@50).
    NewAnime,
}

/// What `eval --protocol new-users --json` prints.
#[derive(Serialize)]
struct NewUserReport {
    protocol: &'static str,
    users: usize,
    train_ratings: usize,
    fold_in_ratings: usize,
    test_ratings: usize,
    fit_seconds: f64,
    blend: Weights,
    /// What orders the candidates.
    ranker: RankerKind,
    /// The share of the users' relevant held-out anime among their candidates (what any
    /// ordering of them can reach).
    candidate_recall: f64,
    /// Over the protocol's candidates, the anime that occur in train.
    anirec: NewUserFigures,
    /// Over every anime, as the server answers (anime no train user rated can never be a hit).
    anirec_served: NewUserFigures,
    ease: NewUserFigures,
    popularity: NewUserFigures,
}

/// What `eval --json` prints.
#[derive(Serialize)]
struct EvalReport {
    #[serde(flatten)]
    test: TestMetrics,
    /// Absent when the model was given (`--model`).
    #[serde(skip_serializing_if = "Option::is_none")]
    fit_seconds: Option<f64>,
    rated_pairs: u64,
    ranked_users: u64,
    train_ratings: usize,
    test_ratings: usize,
    blend: Weights,
    /// What orders the candidates.
    ranker: RankerKind,
    /// The share of the test users' relevant held-out anime among their candidates.
    candidate_recall: f64,
    validation: ValidationFigures,
    baselines: Baselines,
    franchises: FranchiseReport,
}

/// The franchise-aware figures (see [`franchise_eval`]).
#[derive(Serialize)]
struct FranchiseReport {
    /// The hybrid's list as ranked (`group=none`).
    anirec: ListFigures,
    /// The hybrid's discovery list: one card per franchise, none from started franchises.
    anirec_grouped: ListFigures,
    /// EASE's ranking.
    ease: ListFigures,
    /// The continue row of the grouped list.
    continue_row: ContinueFigures,
    /// The discovery list at a few novelty settings.
    novelty: Vec<NoveltyFigures>,
}

/// The discovery list at one novelty setting.
#[derive(Serialize)]
struct NoveltyFigures {
    novelty: f32,
    #[serde(flatten)]
    figures: ListFigures,
}

/// The novelty settings the report shows.
const NOVELTY_SETTINGS: [f32; 4] = [0.0, 0.25, 0.5, 1.0];

/// The franchise-aware figures of a hybrid fitted on `s.train`, beside EASE's.
fn franchise_report(model: &Hybrid, s: &Split, franchises: &Franchises) -> FranchiseReport {
    let train = &s.train;
    let ranked = |u: UserIx, novelty: f32| -> Vec<Scored> {
        let state = model.rating.known_user(train, u);
        model.recommend(&state, usize::MAX, &rated_or_unknown(train, u), novelty)
    };
    let grouped = |novelty: f32| {
        evaluate_lists(train, &s.test, franchises, &|u, started| {
            let exclude = rated_or_unknown(train, u);
            series::one_per_series(
                franchises,
                ranked(u, novelty),
                started,
                K,
                |a| !exclude(a),
                |_| 0.0,
            )
            .into_iter()
            .map(|x| x.anime.0)
            .collect()
        })
    };
    let anirec = evaluate_lists(train, &s.test, franchises, &|u, _| {
        ranked(u, 0.0)
            .into_iter()
            .take(K)
            .map(|x| x.anime.0)
            .collect()
    });
    let ease = evaluate_lists(train, &s.test, franchises, &|u, _| {
        let mut scores = vec![0f32; train.n_anime()];
        model
            .ease
            .score_entries(train_entries(train, u).into_iter(), &mut scores);
        let exclude = rated_or_unknown(train, u);
        top_k(&scores, K, |a| !exclude(AnimeIx(a)))
    });
    let continue_row = evaluate_continue(train, &s.test, franchises, &|u| {
        let state = model.rating.known_user(train, u);
        let exclude = rated_or_unknown(train, u);
        series::continue_row(
            franchises,
            &state.entries,
            K,
            |a| !exclude(a),
            |a| model.rating.predict(&state, a),
        )
        .into_iter()
        .map(|c| c.index.0)
        .collect()
    });
    let novelty = NOVELTY_SETTINGS
        .iter()
        .map(|&novelty| NoveltyFigures {
            novelty,
            figures: grouped(novelty),
        })
        .collect::<Vec<_>>();
    FranchiseReport {
        anirec,
        anirec_grouped: novelty[0].figures,
        ease,
        continue_row,
        novelty,
    }
}

/// The systems reported beside the hybrid.
#[derive(Serialize)]
struct Baselines {
    popularity: RankingFigures,
    /// The hybrid's content signal alone.
    content: RankingFigures,
}

/// Runs `anirec eval`.
pub fn run(args: Args) -> anyhow::Result<()> {
    if args.protocol != Protocol::Ratings {
        let name = match args.protocol {
            Protocol::NewAnime => "new-anime",
            _ => "new-users",
        };
        anyhow::ensure!(
            args.data.train.is_none() && args.model.is_none(),
            "--protocol {name} splits the ratings and fits its model itself; give --data without --train/--test/--model"
        );
        let loaded = args.data.load()?;
        return match args.protocol {
            Protocol::NewAnime => super::new_anime_eval::run(args, loaded.catalogue, &loaded.train),
            _ => new_users(args, loaded.catalogue, &loaded.train),
        };
    }
    let loaded = args.data.load()?;
    let catalogue = loaded.catalogue;
    let s = match loaded.test {
        Some(test) => Split {
            train: loaded.train,
            test,
        },
        None => split::split(&loaded.train, args.seed),
    };
    let pop = evaluate_ranking(&s.train, &s.test, &Popularity::fit(&s.train));
    let (model, fit_seconds) = match &args.model {
        Some(dir) => (trained_on(dir, &s.train)?, None),
        None => {
            let story = story_vectors(&args.encoder, &catalogue)?;
            let (model, seconds) = fit(&s.train, &catalogue, story, &args)?;
            (model, Some(seconds))
        }
    };
    let (rating, ranking) = score_on_test(&model, &s.train, &s.test);
    let content = evaluate_ranking(
        &s.train,
        &s.test,
        &ContentScorer {
            model: &model,
            train: &s.train,
        },
    );
    let report = EvalReport {
        test: TestMetrics::new(&rating, &ranking),
        fit_seconds,
        rated_pairs: rating.count,
        ranked_users: ranking.users,
        train_ratings: s.train.len(),
        test_ratings: s.test.len(),
        blend: model.weights,
        ranker: model.ranked_by(),
        candidate_recall: candidate_recall(&s.train, &s.test, &model),
        validation: model.validation_figures(),
        baselines: Baselines {
            popularity: (&pop).into(),
            content: (&content).into(),
        },
        franchises: franchise_report(&model, &s, catalogue.franchises()),
    };
    if args.json {
        print_json(&report)?;
    } else {
        if let Some(dir) = &args.model {
            println!("model         {}", dir.display());
        }
        println!(
            "split         {} train / {} test ratings",
            s.train.len(),
            s.test.len()
        );
        println!(
            "{:<13} {:>8} {:>8} {:>8} {:>8} {:>8}",
            "", "NDCG@10", "P@10", "R@10", "MAP@10", "coverage"
        );
        for (name, r) in [
            ("anirec", &ranking),
            ("content alone", &content),
            ("popularity", &pop),
        ] {
            println!(
                "{name:<13} {:>8.4} {:>8.4} {:>8.4} {:>8.4} {:>8.4}",
                r.ndcg_at_10, r.precision_at_10, r.recall_at_10, r.map_at_10, r.coverage
            );
        }
        println!(
            "rating        RMSE {:.4}  MAE {:.4}  MAE_scaled {:.4}  MSE_scaled {:.5}  ({} pairs)",
            rating.rmse, rating.mae, rating.mae_scaled, rating.mse_scaled, rating.count
        );
        print_franchises(&report.franchises);
        if let Some(seconds) = fit_seconds {
            println!("fit           {seconds:.2} s (all components, validation tuning included)");
        }
    }
    log_to_mlflow(&args, "ratings", &report)
}

/// The evaluation as an MLflow run, when `--mlflow` is given: the command's options as
/// parameters, every figure of its JSON as a metric.
pub(super) fn log_to_mlflow(
    args: &Args,
    protocol: &str,
    report: &impl Serialize,
) -> anyhow::Result<()> {
    let report = serde_json::to_value(report)?;
    let mut params = vec![
        ("protocol".to_owned(), protocol.to_owned()),
        ("seed".to_owned(), args.seed.to_string()),
        ("data".to_owned(), args.data.data.display().to_string()),
    ];
    // (A given model was tuned by its own training's settings.)
    if args.model.is_none() {
        let carvings = args.tuning.validation_carvings.to_string();
        params.push(("validation_carvings".to_owned(), carvings));
        params.push(("ranker".to_owned(), args.tuning.ranker.to_string()));
        let counts = serde_json::to_value(args.tuning.candidates())?;
        for (key, count) in counts.as_object().into_iter().flatten() {
            params.push((key.clone(), count.to_string()));
        }
        if let Some(without) = args.without {
            params.push(("without".to_owned(), without.to_string()));
        }
    }
    let files = [
        ("train", &args.data.train),
        ("test", &args.data.test),
        ("model", &args.model),
    ];
    for (name, path) in files {
        if let Some(path) = path {
            params.push((name.to_owned(), path.display().to_string()));
        }
    }
    flatten("blend", &report["blend"], &mut params);
    let logged = args.tracking.log(
        || {
            Ok(RunLog {
                name: format!("eval-{protocol}"),
                params,
                tags: vec![("anirec.command".to_owned(), "eval".to_owned())],
                metrics: final_metrics("", &report),
                artifacts: Vec::new(),
            })
        },
        "the output above",
    );
    // On stderr: stdout may be the --json report.
    if let Some((_, logged)) = logged {
        eprintln!("{}", args.tracking.said(&logged));
    }
    Ok(())
}

/// The model of the bundle in `dir`, which must have been trained on `train` (its checksum of
/// the train ratings says so), so that the test ratings' users are the model's.
fn trained_on(dir: &std::path::Path, train: &anirec_data::Ratings) -> anyhow::Result<Hybrid> {
    let bundle = Bundle::load(dir)?;
    let given = anirec_model::bundle::ratings_crc32(train);
    anyhow::ensure!(
        bundle.manifest.data.ratings_crc32 == given,
        "the model {} was trained on other ratings (CRC-32 {:08x}, {} ratings) than --train gives ({given:08x}, {}): give the --data/--train it was trained on",
        dir.display(),
        bundle.manifest.data.ratings_crc32,
        bundle.manifest.data.ratings,
        train.len()
    );
    Ok(bundle.model)
}

/// The franchise figures as text.
fn print_franchises(f: &FranchiseReport) {
    println!(
        "{:<22} {:>8} {:>12} {:>8} {:>14}",
        "franchises", "NDCG@10", "new-fr NDCG", "coverage", "started share"
    );
    let mut rows = vec![
        ("anirec (group=none)".to_owned(), f.anirec),
        ("EASE".to_owned(), f.ease),
    ];
    rows.extend(
        f.novelty
            .iter()
            .map(|n| (format!("anirec, novelty {}", n.novelty), n.figures)),
    );
    for (name, l) in rows {
        println!(
            "{name:<22} {:>8.4} {:>12.4} {:>8.4} {:>14.4}",
            l.ndcg_at_10, l.ndcg_at_10_new_franchises, l.coverage, l.started_share
        );
    }
    println!(
        "continue row           precision {:.4}, sequel recall {:.4} ({} users with a row)",
        f.continue_row.precision, f.continue_row.sequel_recall, f.continue_row.users
    );
}

/// `anirec eval --protocol new-users`.
fn new_users(
    args: Args,
    catalogue: anirec_data::Catalogue,
    ratings: &anirec_data::Ratings,
) -> anyhow::Result<()> {
    let s = split::hold_out_users(ratings, args.seed);
    let story = story_vectors(&args.encoder, &catalogue)?;
    let (model, fit_seconds) = fit(&s.train, &catalogue, story, &args)?;
    let bundle = Bundle::new(model, catalogue, s.train.clone(), None);
    let (anirec, users) = new_users::evaluate(
        &s,
        &new_users::served(&bundle, new_users::Candidates::TrainAnime),
    );
    let served = new_users::served(&bundle, new_users::Candidates::Catalogue);
    let ease = new_users::ease_fold_in(&bundle.model.ease, &bundle.catalogue);
    let popular = new_users::popular(&s.train, &bundle.catalogue);
    let report = NewUserReport {
        protocol: "new-users",
        users,
        train_ratings: s.train.len(),
        fold_in_ratings: s.fold_in.len(),
        test_ratings: s.test.len(),
        fit_seconds,
        blend: bundle.model.weights,
        ranker: bundle.model.ranked_by(),
        candidate_recall: new_users::candidate_recall(&s, &bundle),
        anirec,
        anirec_served: new_users::evaluate(&s, &served).0,
        ease: new_users::evaluate(&s, &ease).0,
        popularity: new_users::evaluate(&s, &popular).0,
    };
    if args.json {
        print_json(&report)?;
    } else {
        println!(
            "new users     {} (of {} held out), {} ratings folded in, {} scored; {} train ratings",
            report.users,
            s.users.len(),
            report.fold_in_ratings,
            report.test_ratings,
            report.train_ratings
        );
        println!(
            "{:<13} {:>8} {:>8} {:>8} {:>8}",
            "", "NDCG@10", "R@20", "R@50", "NDCG@100"
        );
        for (name, f) in [
            ("anirec", &report.anirec),
            ("all anime", &report.anirec_served),
            ("EASE fold-in", &report.ease),
            ("popularity", &report.popularity),
        ] {
            println!(
                "{name:<13} {:>8.4} {:>8.4} {:>8.4} {:>8.4}",
                f.ndcg_at_10, f.recall_at_20, f.recall_at_50, f.ndcg_at_100
            );
        }
        println!(
            "candidates    {:.4} of the relevant held-out anime ({} ranker)",
            report.candidate_recall, report.ranker
        );
        println!("fit           {fit_seconds:.2} s");
    }
    log_to_mlflow(&args, "new-users", &report)
}

/// Prints a report as JSON through a `serde_json::Value`, whose objects keep their keys sorted,
/// as the output always was.
pub(super) fn print_json(report: &impl Serialize) -> anyhow::Result<()> {
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::to_value(report)?)?
    );
    Ok(())
}

/// The catalogue's story embeddings, unless `--no-encoder`.
pub(super) fn story_vectors(
    encoder: &EncoderArgs,
    catalogue: &anirec_data::Catalogue,
) -> anyhow::Result<Option<StoryVectors>> {
    let Some(loaded) = encoder.load()? else {
        return Ok(None);
    };
    let (_, vectors) = embed_catalogue(&loaded, catalogue, &encoder.cache_dir())?;
    Ok(Some(vectors))
}

/// The hybrid fitted on `train` (with the catalogue's story embeddings when given) with the
/// seed and validation carvings of `args`, and the seconds it took.
pub(super) fn fit(
    train: &anirec_data::Ratings,
    catalogue: &anirec_data::Catalogue,
    story: Option<StoryVectors>,
    args: &Args,
) -> anyhow::Result<(Hybrid, f64)> {
    let started = Instant::now();
    let params = HybridParams {
        seed: args.seed,
        validation_carvings: args.tuning.validation_carvings,
        ranker: args.tuning.ranker,
        candidates: args.tuning.candidates(),
        without: args.without.unwrap_or_default(),
        ..HybridParams::default()
    };
    let model = Hybrid::fit(train, catalogue, story, params, &mut (), None)?;
    Ok((model, started.elapsed().as_secs_f64()))
}
