//! `anirec eval --protocol new-anime`: anime nobody has rated yet, and how high each system ranks
//! them for the fans who will like them ([`anirec_model::new_anime`]), as JSON or a table.

use anirec_data::split;
use anirec_model::new_anime::{self, NewAnimeFigures};
use anirec_model::signal::Weights;
use serde::Serialize;

use super::eval::{Args, fit, log_to_mlflow, print_json, story_vectors};

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
    anirec: NewAnimeFigures,
    content: NewAnimeFigures,
    /// Absent without story embeddings.
    #[serde(skip_serializing_if = "Option::is_none")]
    story: Option<NewAnimeFigures>,
    /// MyAnimeList members.
    popularity: NewAnimeFigures,
}

/// Runs the protocol on `ratings` over `catalogue`.
pub fn run(
    args: Args,
    catalogue: anirec_data::Catalogue,
    ratings: &anirec_data::Ratings,
) -> anyhow::Result<()> {
    let s = split::hold_out_anime(ratings, args.seed);
    let story_vectors = story_vectors(&args.encoder, &catalogue)?;
    let (model, fit_seconds) = fit(&s.train, &catalogue, story_vectors, &args);
    let (anirec, users) = new_anime::evaluate(&s, &new_anime::hybrid(&model, &s.train));
    let report = NewAnimeReport {
        protocol: "new-anime",
        new_anime: s.new.iter().filter(|&&n| n).count(),
        users,
        train_ratings: s.train.len(),
        test_ratings: s.test.len(),
        fit_seconds,
        blend: model.weights,
        anirec,
        content: new_anime::evaluate(&s, &new_anime::content(&model, &s.train)).0,
        story: new_anime::story(&model, &s.train).map(|rank| new_anime::evaluate(&s, &rank).0),
        popularity: new_anime::evaluate(&s, &new_anime::members(&catalogue, &s.train)).0,
    };
    if args.json {
        print_json(&report)?;
    } else {
        println!(
            "new anime     {} (no train rating); {} test users liked one; {} train ratings",
            report.new_anime, report.users, report.train_ratings
        );
        println!("{:<13} {:>8} {:>8}", "", "R@50", "NDCG@50");
        let mut rows = vec![
            ("anirec", &report.anirec),
            ("content alone", &report.content),
        ];
        if let Some(story) = &report.story {
            rows.push(("story alone", story));
        }
        rows.push(("popularity", &report.popularity));
        for (name, f) in rows {
            println!("{name:<13} {:>8.4} {:>8.4}", f.recall_at_50, f.ndcg_at_50);
        }
        println!("fit           {fit_seconds:.2} s");
    }
    log_to_mlflow(&args, "new-anime", &report)
}
