//! `anirec eval --protocol new-anime`: anime nobody has rated yet, and how high each system ranks
//! them for the fans who will like them ([`anirec_model::new_anime`]), as JSON or a table.

use anirec_data::split;
use anirec_model::hybrid::Hybrid;
use anirec_model::new_anime::{self, NewAnimeFigures, Pool};
use anirec_model::signal::Weights;
use serde::Serialize;

use super::eval::{Args, fit, log_to_mlflow, print_json, story_vectors};

/// Each system's figures over one pool.
#[derive(Serialize)]
struct Systems {
    anirec: NewAnimeFigures,
    content: NewAnimeFigures,
    /// Absent without story embeddings.
    #[serde(skip_serializing_if = "Option::is_none")]
    story: Option<NewAnimeFigures>,
    /// MyAnimeList members.
    popularity: NewAnimeFigures,
}

impl Systems {
    /// Scores every system over `pool`; also returns how many users were scored.
    fn over(
        s: &split::AnimeSplit,
        model: &Hybrid,
        catalogue: &anirec_data::Catalogue,
        pool: Pool,
    ) -> (Systems, usize) {
        let train = &s.train;
        let (anirec, users) = new_anime::evaluate(s, &new_anime::hybrid(model, train, pool));
        let systems = Systems {
            anirec,
            content: new_anime::evaluate(s, &new_anime::content(model, train, pool)).0,
            story: new_anime::story(model, train, pool).map(|rank| new_anime::evaluate(s, &rank).0),
            popularity: new_anime::evaluate(s, &new_anime::members(catalogue, train, pool)).0,
        };
        (systems, users)
    }

    /// The table's rows.
    fn rows(&self) -> Vec<(&'static str, &NewAnimeFigures)> {
        let mut rows = vec![("anirec", &self.anirec), ("content alone", &self.content)];
        if let Some(story) = &self.story {
            rows.push(("story alone", story));
        }
        rows.push(("popularity", &self.popularity));
        rows
    }
}

/// What `eval --protocol new-anime --json` prints.
#[derive(Serialize)]
struct NewAnimeReport {
    protocol: &'static str,
    /// Anime made new (no train rating).
    new_anime: usize,
    /// Test users who liked one of them (scored 8+), the users scored.
    users: usize,
    train_ratings: usize,
    test_ratings: usize,
    fit_seconds: f64,
    blend: Weights,
    /// The share of a scored user's liked new anime among anirec's candidates (mean).
    candidate_recall: f64,
    /// Each system ranking every anime the user has not rated.
    #[serde(flatten)]
    unseen: Systems,
    /// Each system ranking only the anime nobody rated in train: how well it orders them,
    /// whatever share of a list it would give them.
    among_unrated: Systems,
}

/// Runs the protocol on `ratings` over `catalogue`.
pub fn run(
    args: Args,
    catalogue: anirec_data::Catalogue,
    ratings: &anirec_data::Ratings,
) -> anyhow::Result<()> {
    let s = split::hold_out_anime(ratings, args.seed);
    let story_vectors = story_vectors(&args.encoder, &catalogue)?;
    let (model, fit_seconds) = fit(&s.train, &catalogue, story_vectors, &args)?;
    let (unseen, users) = Systems::over(&s, &model, &catalogue, Pool::Unseen);
    let report = NewAnimeReport {
        protocol: "new-anime",
        new_anime: s.new.iter().filter(|&&n| n).count(),
        users,
        train_ratings: s.train.len(),
        test_ratings: s.test.len(),
        fit_seconds,
        blend: model.weights,
        candidate_recall: new_anime::candidate_recall(&s, &model),
        unseen,
        among_unrated: Systems::over(&s, &model, &catalogue, Pool::Unrated).0,
    };
    if args.json {
        print_json(&report)?;
    } else {
        println!(
            "new anime     {} (no train rating); {} test users liked one; {} train ratings",
            report.new_anime, report.users, report.train_ratings
        );
        println!(
            "{:<13} {:>8} {:>8}   among unrated: {:>8} {:>8}",
            "", "R@50", "NDCG@50", "R@50", "NDCG@50"
        );
        let among = report.among_unrated.rows();
        for ((name, f), (_, g)) in report.unseen.rows().into_iter().zip(among) {
            println!(
                "{name:<13} {:>8.4} {:>8.4}                  {:>8.4} {:>8.4}",
                f.recall_at_50, f.ndcg_at_50, g.recall_at_50, g.ndcg_at_50
            );
        }
        println!(
            "candidates    {:.4} of the liked new anime",
            report.candidate_recall
        );
        println!("fit           {fit_seconds:.2} s");
    }
    log_to_mlflow(&args, "new-anime", &report)
}
