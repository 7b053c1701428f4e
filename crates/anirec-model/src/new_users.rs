//! The new-fan protocol (strong generalisation): users the model never saw
//! ([`anirec_data::split::hold_out_users`]) are folded in from 80% of their ratings and scored on
//! the other 20%, with the cut-offs Liang et al. 2018 report on MovieLens-20M (NDCG@10,
//! Recall@20, Recall@50, NDCG@100). anirec answers as the server answers `POST
//! /api/v1/recommendations` ([`Bundle::fold_in`], then the hybrid's ranking with the default
//! filters), over the protocol's candidates (anime that occur in train) and, apart, over every
//! anime as the server does; EASE's own fold-in (the list times B) and popularity are scored on
//! the same users, with the same catalogue filter and the listed anime left out.

use anirec_data::UserIx;
use anirec_data::split::UserSplit;
use anirec_data::{AnimeIx, Catalogue, Ratings};
use rayon::prelude::*;
use serde::Serialize;

use crate::bundle::Bundle;
use crate::cf::ease::Ease;
use crate::entry::Entry;
use crate::eval::{relevant, share_among_candidates};
use crate::filters::{Filters, Grouping};
use crate::metrics::score_user;
use crate::query::Listed;
use crate::topk::top_k;

/// How deep each list is ranked (the deepest cut-off).
pub const DEPTH: usize = 100;

/// A system under the protocol: a new user's entries to their best [`DEPTH`] anime, best first.
pub type Ranker<'a> = dyn Fn(&[Entry]) -> Vec<AnimeIx> + Sync + 'a;

/// Mean figures over the new users with a relevant (scored 8+) held-out anime.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct NewUserFigures {
    /// NDCG@10 (binary gains).
    pub ndcg_at_10: f64,
    /// Hits in the top 20 / min(20, relevant).
    pub recall_at_20: f64,
    /// Hits in the top 50 / min(50, relevant).
    pub recall_at_50: f64,
    /// NDCG@100.
    pub ndcg_at_100: f64,
}

/// `measure(list, relevant)` for every new user of `split` with a relevant held-out anime: their
/// folded-in list and their relevant held-out anime (sorted), in parallel.
fn per_new_user<T: Send>(
    split: &UserSplit,
    measure: impl Fn(&[Entry], &[u32]) -> T + Sync,
) -> Vec<T> {
    split
        .users
        .par_iter()
        .filter_map(|&u| {
            let relevant = relevant(split.test.user(UserIx(u)));
            if relevant.is_empty() {
                return None;
            }
            let entries: Vec<Entry> = Entry::of_row(split.fold_in.user(UserIx(u))).collect();
            Some(measure(&entries, &relevant))
        })
        .collect()
}

/// Scores `rank` on the new users of `split`; also returns how many users were scored.
pub fn evaluate(split: &UserSplit, rank: &Ranker<'_>) -> (NewUserFigures, usize) {
    let per_user: Vec<[f64; 4]> = per_new_user(split, |entries, relevant| {
        let top: Vec<u32> = rank(entries).into_iter().map(|a| a.0).collect();
        [
            score_user(&top, relevant, 10).ndcg,
            recall(&top, relevant, 20),
            recall(&top, relevant, 50),
            score_user(&top, relevant, DEPTH).ndcg,
        ]
    });
    let n = per_user.len();
    let mean = |i: usize| per_user.iter().map(|f| f[i]).sum::<f64>() / n.max(1) as f64;
    let figures = NewUserFigures {
        ndcg_at_10: mean(0),
        recall_at_20: mean(1),
        recall_at_50: mean(2),
        ndcg_at_100: mean(3),
    };
    (figures, n)
}

/// The mean share of the new users' relevant held-out anime among the candidates anirec draws
/// for their folded-in list (the first stage alone: what the ranking can reach).
pub fn candidate_recall(split: &UserSplit, bundle: &Bundle) -> f64 {
    let shares = per_new_user(split, |entries, relevant| {
        let state = bundle.model.rating.fold_in(entries);
        let listed = |a: AnimeIx| entries.iter().any(|e| e.anime == a);
        share_among_candidates(&bundle.model, &state, &listed, relevant)
    });
    shares.iter().sum::<f64>() / shares.len().max(1) as f64
}

/// Liang et al.'s recall: hits in the top `k` over min(`k`, relevant). `relevant` is sorted.
pub(crate) fn recall(top: &[u32], relevant: &[u32], k: usize) -> f64 {
    let hits = top
        .iter()
        .take(k)
        .filter(|a| relevant.binary_search(a).is_ok())
        .count();
    hits as f64 / relevant.len().min(k).max(1) as f64
}

/// Which anime a system under the protocol may rank.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Candidates {
    /// The protocol's: anime that occur in train (`EVALUATION.md`, "New fans"; EASE and
    /// popularity can rank no other).
    TrainAnime,
    /// Every anime, as the server answers: anime no train user rated come in through content,
    /// franchise and members ([`crate::hybrid::ColdStart`]), and can never be a held-out hit.
    Catalogue,
}

/// anirec as the server answers a new fan: fold in the list, rank with the default filters but
/// every anime on its own (`group=none`: the ranking EASE's is compared with; the franchise
/// figures are `eval`'s other protocol), over `candidates`.
pub fn served(
    bundle: &Bundle,
    candidates: Candidates,
) -> impl Fn(&[Entry]) -> Vec<AnimeIx> + Sync + '_ {
    let filters = Filters {
        group: Grouping::None,
        ..Filters::default()
    };
    let rankable: Vec<bool> = (0..bundle.catalogue.len() as u32)
        .map(|a| match candidates {
            Candidates::TrainAnime => !bundle.ratings.anime(AnimeIx(a)).is_empty(),
            Candidates::Catalogue => true,
        })
        .collect();
    move |entries| {
        let list: Vec<Listed> = entries
            .iter()
            .map(|e| Listed {
                mal_id: bundle.catalogue[e.anime].mal_id,
                score: e.score,
                status: e.status,
            })
            .collect();
        let (profile, _) = bundle.fold_in(&list);
        let exclude = |a: AnimeIx| {
            profile.lists(a) || !rankable[a.0 as usize] || !filters.recommends(&bundle.catalogue[a])
        };
        bundle
            .model
            .recommend(&profile.state, DEPTH, &exclude, filters.novelty)
            .into_iter()
            .map(|r| r.anime)
            .collect()
    }
}

/// EASE's own fold-in: the list's rows of B summed (weighted as in training), best first.
pub fn ease_fold_in<'a>(
    ease: &'a Ease,
    catalogue: &'a Catalogue,
) -> impl Fn(&[Entry]) -> Vec<AnimeIx> + Sync + 'a {
    move |entries| {
        let mut scores = vec![0f32; catalogue.len()];
        ease.score_entries(entries.iter().copied(), &mut scores);
        best_unlisted(&scores, entries, catalogue)
    }
}

/// The anime with the most train ratings, the same for everyone.
pub fn popular<'a>(
    train: &Ratings,
    catalogue: &'a Catalogue,
) -> impl Fn(&[Entry]) -> Vec<AnimeIx> + Sync + 'a {
    let counts: Vec<f32> = (0..train.n_anime() as u32)
        .map(|a| train.anime(AnimeIx(a)).len() as f32)
        .collect();
    move |entries| best_unlisted(&counts, entries, catalogue)
}

/// The best [`DEPTH`] anime by `scores` that are not listed, have a finite score and pass the
/// default filters.
fn best_unlisted(scores: &[f32], entries: &[Entry], catalogue: &Catalogue) -> Vec<AnimeIx> {
    let filters = Filters::default();
    let mut listed: Vec<AnimeIx> = entries.iter().map(|e| e.anime).collect();
    listed.sort_unstable();
    top_k(scores, DEPTH, |a| {
        scores[a as usize].is_finite()
            && listed.binary_search(&AnimeIx(a)).is_err()
            && filters.allows(&catalogue[AnimeIx(a)])
    })
    .into_iter()
    .map(AnimeIx)
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recall_divides_by_the_smaller_of_k_and_relevant() {
        let top = [5, 1, 9, 3];
        assert_eq!(recall(&top, &[1, 3], 20), 1.0);
        assert_eq!(recall(&top, &[1, 2, 3, 4], 20), 0.5);
        assert_eq!(recall(&top, &[3, 5], 1), 1.0);
        assert_eq!(recall(&top, &[3, 4], 1), 0.0);
    }
}
