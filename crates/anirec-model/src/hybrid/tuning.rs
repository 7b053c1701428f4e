//! How the blend's weights are tuned: validation carvings of train ([`Carvings`]), each with its
//! rating model tuned and EASE fitted on its fit part and its validation users' candidates
//! ([`Tuning::carving`]), then the weights chosen on them all ([`choose_weights`]).

use anirec_data::AnimeIx;
use anirec_data::split::split;
use anirec_data::{Ratings, UserIx};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{
    Candidate, ColdStart, Hybrid, HybridParams, Standardised, log_popularity, rated_or_unknown,
};
use crate::cf::ease::Ease;
use crate::content::tfidf::ContentModel;
use crate::entry::Entry;
use crate::eval::{K, relevant};
use crate::metrics::{UserRanking, mean_ranking, score_user};
use crate::ranker::features::{self, AnimeFacts};
use crate::ranker::{RankerKind, RankerQuery};
use crate::rating::franchise::FranchiseMates;
use crate::rating::model::UserState;
use crate::rating::model::{
    EpochObserver, FactorProgress, RatingModel, RatingParams, validation_seed,
};
use crate::signal::{Signal, Weights};
use crate::story::StoryVectors;

/// Most carvings [`Carvings::Auto`] asks for.
const MOST_AUTO_CARVINGS: usize = 3;

/// How many validation carvings the blend weights are tuned on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Carvings {
    /// As many as it takes for the carvings' validation users to reach
    /// [`HybridParams::max_validation_users`], at most [`MOST_AUTO_CARVINGS`]: 3 on the sample's
    /// 1,352 users, 1 from 5,000 users on (where one carving already has that many). The
    /// default.
    #[default]
    Auto,
    /// Exactly this many (at least 1).
    Fixed(usize),
}

impl Carvings {
    /// The number of carvings for a train set of `users` users.
    pub fn count(self, users: usize, max_validation_users: usize) -> usize {
        match self {
            Carvings::Auto => max_validation_users
                .div_ceil(users.max(1))
                .clamp(1, MOST_AUTO_CARVINGS),
            Carvings::Fixed(n) => n.max(1),
        }
    }
}

impl std::fmt::Display for Carvings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Carvings::Auto => f.write_str("auto"),
            Carvings::Fixed(n) => write!(f, "{n}"),
        }
    }
}

/// A `--carvings` value that is neither `auto` nor a number from 1 to 8.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected auto or a number from 1 to 8, found {0:?}")]
pub struct CarvingsError(String);

impl std::str::FromStr for Carvings {
    type Err = CarvingsError;

    /// `auto` or a number from 1 to 8.
    fn from_str(s: &str) -> Result<Carvings, CarvingsError> {
        match s {
            "auto" => Ok(Carvings::Auto),
            _ => match s.parse::<usize>() {
                Ok(n @ 1..=8) => Ok(Carvings::Fixed(n)),
                _ => Err(CarvingsError(s.to_owned())),
            },
        }
    }
}

/// A validation user: their candidates and their relevant held-out anime.
struct ValidationUser {
    candidates: Vec<Candidate>,
    relevant: Vec<u32>,
}

/// The validation users of one carving, with the number of anime its fit part rates (what its
/// coverage is a share of), and, when a learned ranker is to be trained, their queries.
pub(super) struct Carving {
    users: Vec<ValidationUser>,
    pub(super) rated_anime: usize,
    pub(super) queries: Vec<RankerQuery>,
}

/// What every validation carving is tuned with.
pub(super) struct Tuning<'a> {
    pub(super) train: &'a Ratings,
    pub(super) params: HybridParams,
    pub(super) rating: RatingParams,
    /// MyAnimeList's public score per anime (a rating-model feature).
    pub(super) public: &'a [Option<f32>],
    /// Each anime's franchise mates (a rating-model feature).
    pub(super) franchise: &'a FranchiseMates,
    /// What the catalogue says of each anime (ranker features).
    pub(super) facts: &'a AnimeFacts,
}

impl Tuning<'_> {
    /// Carving `c` of train (0: the one whose rating model is refitted): its rating model tuned
    /// and EASE fitted on its fit part, and its validation users' candidates. The content model
    /// and story embeddings are lent and given back.
    pub(super) fn carving(
        &self,
        c: u64,
        content: ContentModel,
        story: Option<StoryVectors>,
        observer: &mut dyn EpochObserver,
        resume: Option<&FactorProgress>,
    ) -> (RatingModel, Carving, ContentModel, Option<StoryVectors>) {
        // Each carving's split and validation sample are seeded apart; carving 0 keeps the
        // seeds of a single carving.
        let salt = c.wrapping_mul(0x9E37_79B9);
        let carved = split(self.train, validation_seed(self.params.seed) ^ salt);
        let (fit, val) = (&carved.train, &carved.test);
        let rating = RatingModel::tune(
            fit,
            val,
            self.public,
            self.franchise.clone(),
            self.rating,
            observer,
            resume,
        );
        let tuned = Hybrid {
            params: self.params,
            ease: Ease::fit(fit, self.params.ease),
            rating,
            content,
            story,
            popularity: log_popularity(fit),
            cold: ColdStart::default(),
            exposure: vec![0.0; self.train.n_anime()],
            weights: Weights::collab_only(),
            validation: (0.0, 0.0),
            facts: self.facts.clone(),
            ranker: None,
        };
        let carving = tuned.validation_users(fit, val, salt);
        (tuned.rating, carving, tuned.content, tuned.story)
    }
}

impl Hybrid {
    /// The validation users of a carving (this model fitted on its `fit` part; `salt` sets it
    /// apart from the others): each one's candidates and relevant held-out anime, a seeded
    /// sample of at most `max_validation_users`; with a learned ranker to train, each one's
    /// ranker query too, a seeded half of them folded in from their list rather than known.
    fn validation_users(&self, fit: &Ratings, val: &Ratings, salt: u64) -> Carving {
        let rated_anime = (0..fit.n_anime() as u32)
            .filter(|&a| !fit.anime(AnimeIx(a)).is_empty())
            .count()
            .max(1);
        let mut sample: Vec<u32> = (0..val.n_users() as u32).collect();
        if sample.len() > self.params.max_validation_users {
            let seed = self.params.seed ^ 0x5A3F ^ salt;
            let mut rng = anirec_data::rng::Rng::new(seed);
            rng.choose_front(&mut sample, self.params.max_validation_users);
            sample.truncate(self.params.max_validation_users);
            sample.sort_unstable();
        }
        let learned = self.params.ranker == RankerKind::LambdaMart;
        let fold_seed = self.params.seed ^ 0xF01D ^ salt;
        let (users, queries): (Vec<ValidationUser>, Vec<Option<RankerQuery>>) = sample
            .into_par_iter()
            .filter_map(|u| {
                let relevant = relevant(val.user(UserIx(u)));
                if relevant.is_empty() || fit.user(UserIx(u)).is_empty() {
                    return None;
                }
                let state = self.rating.known_user(fit, UserIx(u));
                let exclude = rated_or_unknown(fit, UserIx(u));
                let candidates = self.candidates(&state, &exclude);
                let query = learned.then(|| {
                    let folded = anirec_data::rng::Rng::new(fold_seed ^ u64::from(u)).below(2) == 1;
                    if folded {
                        let entries: Vec<Entry> = Entry::of_row(fit.user(UserIx(u))).collect();
                        let state = self.rating.fold_in(&entries);
                        let candidates = self.candidates(&state, &exclude);
                        ranker_query(self, &state, &candidates, &relevant)
                    } else {
                        ranker_query(self, &state, &candidates, &relevant)
                    }
                });
                Some((
                    ValidationUser {
                        candidates,
                        relevant,
                    },
                    query,
                ))
            })
            .unzip();
        Carving {
            users,
            rated_anime,
            queries: queries.into_iter().flatten().collect(),
        }
    }
}

/// A validation user's ranker query: their candidates' features, labelled by `relevant`
/// (sorted).
fn ranker_query(
    model: &Hybrid,
    state: &UserState,
    candidates: &[Candidate],
    relevant: &[u32],
) -> RankerQuery {
    RankerQuery {
        anime: candidates.iter().map(|c| c.anime).collect(),
        rows: features::rows(model, state, candidates),
        labels: candidates
            .iter()
            .map(|c| f32::from(u8::from(relevant.binary_search(&c.anime.0).is_ok())))
            .collect(),
        relevant: relevant.to_vec(),
    }
}

/// Chooses blend weights on the carvings' validation users (NDCG@10 over all of them, coverage
/// the mean of each carving's). First the weights of rating, content (and story, with story
/// embeddings) and popularity by coordinate search for the best NDCG@10; then the exposure
/// signal (how often each anime lands in those users' top 10) is measured and its weight, with
/// popularity's, chosen for the best NDCG@10 among weightings whose coverage reaches the floor
/// (or, if none does, the widest coverage). Returns the weights, the exposure signal and the
/// validation (NDCG@10, coverage).
pub(super) fn choose_weights(
    params: &HybridParams,
    with_story: bool,
    n_anime: usize,
    carvings: &mut [Carving],
) -> (Weights, Vec<f32>, (f64, f64)) {
    let top_lists = |users: &[Standardised], w: &Weights| -> Vec<Vec<u32>> {
        users.par_iter().map(|user| user.top(w, K)).collect()
    };
    let evaluate = |carvings: &[Carving], ready: &[Vec<Standardised>], w: &Weights| {
        let mut rankings: Vec<UserRanking> = Vec::new();
        let mut coverage = 0.0;
        for (carving, users) in carvings.iter().zip(ready) {
            let tops = top_lists(users, w);
            rankings.extend(
                tops.iter()
                    .zip(&carving.users)
                    .map(|(top, user)| score_user(top, &user.relevant, K)),
            );
            let mut seen = vec![false; n_anime];
            tops.iter().flatten().for_each(|&a| seen[a as usize] = true);
            coverage += seen.iter().filter(|&&x| x).count() as f64 / carving.rated_anime as f64;
        }
        let coverage = coverage / carvings.len().max(1) as f64;
        (mean_ranking(&rankings, coverage).ndcg_at_10, coverage)
    };
    let ready = |carvings: &[Carving]| -> Vec<Vec<Standardised>> {
        carvings
            .iter()
            .map(|c| {
                c.users
                    .par_iter()
                    .map(|user| Standardised::of(&user.candidates))
                    .collect()
            })
            .collect()
    };
    // Coordinate search, two passes over `signals`, each weight over its grid.
    let search = |carvings: &[Carving],
                  users: &[Vec<Standardised>],
                  start: Weights,
                  signals: &[Signal],
                  floor: f64| {
        let key = |m: (f64, f64)| if m.1 >= floor { (1, m.0) } else { (0, m.1) };
        let evaluate = |w: &Weights| evaluate(carvings, users, w);
        let mut best_w = start;
        let mut best = evaluate(&best_w);
        for _pass in 0..2 {
            for &s in signals {
                for &v in s.weight_grid() {
                    let mut w = best_w;
                    w[s] = v;
                    let m = evaluate(&w);
                    let (k, b) = (key(m), key(best));
                    if k.0 > b.0 || (k.0 == b.0 && k.1 > b.1) {
                        (best_w, best) = (w, m);
                    }
                }
            }
        }
        (best_w, best)
    };
    // Without story embeddings the story signal is 0 everywhere: no weight to tune.
    let first: Vec<Signal> = [
        Signal::Rating,
        Signal::Content,
        Signal::Story,
        Signal::Popularity,
    ]
    .into_iter()
    .filter(|&s| s != Signal::Story || with_story)
    .collect();
    let users = ready(carvings);
    let (base, _) = search(carvings, &users, Weights::collab_only(), &first, 0.0);
    let mut counts = vec![0u32; n_anime];
    for users in &users {
        top_lists(users, &base)
            .iter()
            .flatten()
            .for_each(|&a| counts[a as usize] += 1);
    }
    let exposure: Vec<f32> = counts.iter().map(|&c| (1.0 + c as f32).ln()).collect();
    for carving in carvings.iter_mut() {
        for user in &mut carving.users {
            for c in user.candidates.iter_mut() {
                c.signals[Signal::Exposure] = exposure[c.anime.index()];
            }
        }
    }
    let spread = [Signal::Exposure, Signal::Popularity];
    // The exposure signal changed: standardise again.
    let (w, m) = search(
        carvings,
        &ready(carvings),
        base,
        &spread,
        params.min_coverage,
    );
    (w, exposure, m)
}
