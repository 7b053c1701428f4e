//! The new-anime protocol: anime nobody has rated yet ([`anirec_data::split::hold_out_anime`]:
//! a seeded tenth of the rated anime lose every train rating), and where each system ranks them
//! for the test users who liked them (held-out score 8+): Recall@50 and NDCG@50 over those
//! anime, in each user's ranking of every anime they have not rated. anirec ranks as its
//! known-user lists do ([`Hybrid::recommend`]); beside it the content signal alone, the story
//! signal alone (with story embeddings) and MyAnimeList's members (what a new anime has before
//! anyone here rates it). Each is scored twice ([`Pool`]): over every anime the user has not
//! rated, and over the anime nobody rated alone, where a system cannot raise its recall by
//! filling the list with unrated anime, only by ordering them well.

use anirec_data::split::AnimeSplit;
use anirec_data::{AnimeIx, Catalogue, Ratings, UserIx};
use rayon::prelude::*;
use serde::Serialize;

use crate::eval::{relevant, share_among_candidates};
use crate::hybrid::Hybrid;
use crate::metrics::score_user;
use crate::new_users::recall;
use crate::topk::top_k;

/// The cut-off of both figures.
pub const CUT: usize = 50;

/// What a system ranks for a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pool {
    /// Every anime the user has not rated.
    Unseen,
    /// Only the anime nobody rated in train (the new ones among them).
    Unrated,
}

impl Pool {
    /// Whether anime `a` is outside the pool for a user who rated `seen` (ascending).
    fn leaves_out(self, train: &Ratings, seen: &[u32], a: u32) -> bool {
        seen.binary_search(&a).is_ok()
            || (self == Pool::Unrated
                && (a as usize) < train.n_anime()
                && !train.anime(AnimeIx(a)).is_empty())
    }
}

/// A system under the protocol: a user of the train store to their best [`CUT`] anime of the
/// pool, best first.
pub type Ranker<'a> = dyn Fn(UserIx) -> Vec<u32> + Sync + 'a;

/// Mean figures over the test users who liked a new anime.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct NewAnimeFigures {
    /// Liked new anime in the top 50 / min(50, liked new anime).
    pub recall_at_50: f64,
    /// NDCG@50 of the liked new anime (binary gains).
    pub ndcg_at_50: f64,
}

/// Scores `rank` on the users of `split` who liked a new anime; also returns how many there were.
pub fn evaluate(split: &AnimeSplit, rank: &Ranker<'_>) -> (NewAnimeFigures, usize) {
    let per_user: Vec<[f64; 2]> = (0..split.test.n_users() as u32)
        .into_par_iter()
        .filter_map(|u| {
            let liked = liked_new(split, UserIx(u));
            if liked.is_empty() {
                return None;
            }
            let top = rank(UserIx(u));
            Some([
                recall(&top, &liked, CUT),
                score_user(&top, &liked, CUT).ndcg,
            ])
        })
        .collect();
    let n = per_user.len();
    let mean = |i: usize| per_user.iter().map(|f| f[i]).sum::<f64>() / n.max(1) as f64;
    let figures = NewAnimeFigures {
        recall_at_50: mean(0),
        ndcg_at_50: mean(1),
    };
    (figures, n)
}

/// The new anime test user `u` liked (held-out score 8+), ascending.
fn liked_new(split: &AnimeSplit, u: UserIx) -> Vec<u32> {
    relevant(split.test.user(u))
        .into_iter()
        .filter(|&a| split.new[a as usize])
        .collect()
}

/// The share of each scored user's liked new anime that are among anirec's candidates for them
/// (drawn from every anime they have not rated), the mean over the users: how many of them the
/// ranker could place at all.
pub fn candidate_recall(split: &AnimeSplit, model: &Hybrid) -> f64 {
    let train = &split.train;
    let shares: Vec<f64> = (0..split.test.n_users() as u32)
        .into_par_iter()
        .filter_map(|u| {
            let liked = liked_new(split, UserIx(u));
            if liked.is_empty() {
                return None;
            }
            let state = model.rating.known_user(train, UserIx(u));
            let seen = train.user(UserIx(u)).indices;
            let rated = |a: AnimeIx| seen.binary_search(&a.0).is_ok();
            Some(share_among_candidates(model, &state, &rated, &liked))
        })
        .collect();
    shares.iter().sum::<f64>() / shares.len().max(1) as f64
}

/// anirec's ranking of a known user: the hybrid's list over the pool.
pub fn hybrid<'a>(
    model: &'a Hybrid,
    train: &'a Ratings,
    pool: Pool,
) -> impl Fn(UserIx) -> Vec<u32> + Sync + 'a {
    move |u| {
        let state = model.rating.known_user(train, u);
        let seen = train.user(u).indices;
        let left_out = |a: AnimeIx| pool.leaves_out(train, seen, a.0);
        model
            .recommend(&state, CUT, &left_out, 0.0)
            .into_iter()
            .map(|s| s.anime.0)
            .collect()
    }
}

/// The hybrid's content signal alone.
pub fn content<'a>(
    model: &'a Hybrid,
    train: &'a Ratings,
    pool: Pool,
) -> impl Fn(UserIx) -> Vec<u32> + Sync + 'a {
    move |u| {
        let mut scores = vec![0f32; train.n_anime()];
        model.content_scores(&model.rating.known_user(train, u), &mut scores);
        best_of_pool(&scores, train, u, pool)
    }
}

/// The hybrid's story signal alone; none when the model has no story embeddings.
pub fn story<'a>(
    model: &'a Hybrid,
    train: &'a Ratings,
    pool: Pool,
) -> Option<impl Fn(UserIx) -> Vec<u32> + Sync + 'a> {
    model.story.as_ref()?;
    Some(move |u| {
        let mut scores = vec![0f32; train.n_anime()];
        model.story_scores(&model.rating.known_user(train, u), &mut scores);
        best_of_pool(&scores, train, u, pool)
    })
}

/// The anime with the most MyAnimeList members, the same for everyone.
pub fn members<'a>(
    catalogue: &Catalogue,
    train: &'a Ratings,
    pool: Pool,
) -> impl Fn(UserIx) -> Vec<u32> + Sync + 'a {
    let scores: Vec<f32> = catalogue
        .anime()
        .iter()
        .map(|a| a.members.unwrap_or(0) as f32)
        .collect();
    move |u| best_of_pool(&scores, train, u, pool)
}

/// The best [`CUT`] anime of the pool by `scores` for `u`.
fn best_of_pool(scores: &[f32], train: &Ratings, u: UserIx, pool: Pool) -> Vec<u32> {
    let seen = train.user(u).indices;
    top_k(scores, CUT, |a| {
        scores[a as usize].is_finite() && !pool.leaves_out(train, seen, a)
    })
}
