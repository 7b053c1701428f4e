//! The hybrid recommender: collaborative ranking (EASE), predicted rating, content similarity
//! (TF-IDF, and story embeddings when the model has them), a popularity prior and an exposure
//! signal (the [`Signal`]s), blended per user.
//!
//! For a user, candidates are the best anime by EASE plus the best by content (so anime nobody
//! rated are reachable) plus, with story embeddings, those nearest the fan's story profile (off
//! by default), plus other entries of the franchises of the anime the profile leans toward, and
//! the best known new anime of the fan's genres (`sources.rs`); content candidates are drawn
//! from the content neighbours of those anime and scored exactly against the profile, rather
//! than scoring the whole catalogue (a quarter of a fold-in's time). The learned ranker
//! orders them (`ranker`), or the blend: each signal standardised over the user's candidates
//! and weighted. The weights are chosen on a validation split carved from train (never the test
//! set), maximising NDCG@10 among the weightings whose catalogue coverage reaches a floor
//! (`tuning.rs`), and the ranker is trained on the same validation users; then every model is
//! refitted on the whole train set.

use std::sync::Arc;

use anirec_data::{AnimeIx, Catalogue, Ratings, UserIx};
use serde::{Deserialize, Serialize};

use crate::cf::ease::{Ease, EaseParams, Weighting};
use crate::content::tfidf::{ContentModel, ContentParams};
use crate::entry::{DROPPED_AGAINST, Entry};
use crate::eval::K;
use crate::metrics::ValidationFigures;
use crate::ranker::ablation::{Ablation, Part};
use crate::ranker::features::AnimeFacts;
use crate::ranker::lightgbm::LightGbmError;
use crate::ranker::{self, CarvingQueries, LearnedRanker, RankedRows, RankerKind};
use crate::rating::franchise::FranchiseMates;
use crate::rating::model::{EpochObserver, FactorProgress, RatingModel, RatingParams, UserState};
use crate::signal::{PerSignal, Signal, Weights};
use crate::story::StoryVectors;
use crate::topk::top_k;
mod cold;
mod sources;
mod tuning;

pub use cold::ColdStart;
use sources::Gathered;
pub use tuning::Carvings;
use tuning::{Tuning, choose_weights};

/// Most anime a user's content candidates are drawn from (neighbours of the anime their profile
/// leans toward). With 2,500, the sample's figures are those of a pass over the whole catalogue
/// (NDCG@10 0.4300 against 0.4301, BENCHMARKS.md "Signed-in recommendations, faster") at a
/// fraction of its cost; with 1,000, NDCG@10 falls to 0.4275.
const CONTENT_POOL: usize = 2_500;

/// Most candidates the franchise source adds (entries of the franchises of a fan's liked anime
/// that EASE and content did not already bring).
const FRANCHISE_CANDIDATES: usize = 50;

/// Most candidates the new-anime source adds (anime nobody rated that borrow a collaborative
/// score, the best known of the fan's genres first, that the sources before it did not bring).
const NEW_CANDIDATES: usize = 30;

/// How many times its share the story, genre and new-anime sources order: the sources before
/// them may have brought some of their best already, and only anime not yet gathered count.
const ORDERED_PER_SLOT: usize = 4;

/// How much a novelty of 1 lowers a candidate's score per standard deviation of popularity
/// above the candidates' mean (the blend's own weights are about 1 per signal).
const NOVELTY_WEIGHT: f32 = 0.4;

/// Parameters of the hybrid.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HybridParams {
    /// Collaborative ranking model.
    pub ease: EaseParams,
    /// Rating model.
    pub rating: RatingParams,
    /// Content model.
    pub content: ContentParams,
    /// How many candidates each source adds per fan (kept under the keys `collab_candidates`,
    /// `content_candidates`, `genre_candidates` and `story_candidates`).
    #[serde(flatten)]
    pub candidates: SourceCounts,
    /// Smallest validation coverage a weighting may have.
    pub min_coverage: f64,
    /// Most validation users the blend weights are tuned on per carving (a seeded sample
    /// beyond that).
    pub max_validation_users: usize,
    /// Validation carvings the blend weights are tuned on: each its own split of train with
    /// its own rating model and EASE, their validation users pooled and their coverages
    /// averaged. More carvings make the chosen weights steadier (BENCHMARKS.md "How much the
    /// seeds move the figures") at the cost of one more tuning fit each. A fitted model's
    /// parameters hold the number used.
    pub validation_carvings: Carvings,
    /// Seed (validation split, factor initialisation).
    pub seed: u64,
    /// How the candidates are ordered: a learned ranker trained on the validation carvings
    /// (the default), or the blend of the signals. A bundle from before the ranker reads as
    /// the blend.
    #[serde(default = "RankerKind::blend")]
    pub ranker: RankerKind,
    /// What an ablation study leaves out (`anirec eval --without`): nothing in a served model.
    #[serde(default, skip_serializing_if = "Ablation::is_none")]
    pub without: Ablation,
}

impl Default for HybridParams {
    fn default() -> Self {
        HybridParams {
            ease: EaseParams {
                lambda: 450.0,
                weighting: Weighting::Scored { alpha: 1.5 },
                min_item_ratings: 10,
                max_items: 12_000,
            },
            rating: RatingParams::default(),
            content: ContentParams::default(),
            candidates: SourceCounts::default(),
            min_coverage: 0.15,
            max_validation_users: 5000,
            validation_carvings: Carvings::default(),
            seed: 42,
            ranker: RankerKind::LambdaMart,
            without: Ablation::default(),
        }
    }
}

/// How many candidates the counted sources add per fan (the franchise and new-anime sources
/// add at most [`FRANCHISE_CANDIDATES`] and [`NEW_CANDIDATES`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SourceCounts {
    /// EASE's best anime (`--collab-candidates`; 300 by default: 150 serve 37% faster on the
    /// sample and cost known users 0.011 NDCG@10, BENCHMARKS.md "57M training under three
    /// minutes; two serving levers measured").
    #[serde(rename = "collab_candidates")]
    pub collab: usize,
    /// The best by content similarity.
    #[serde(rename = "content_candidates")]
    pub content: usize,
    /// Well-known anime of the fan's genres (`--genre-candidates`; none by default: on the
    /// sample, 30 of them raised the candidates' recall but cost known users' and new fans'
    /// top ten more than they gave new anime, BENCHMARKS.md "Two more candidate sources").
    #[serde(rename = "genre_candidates", default)]
    pub genre: usize,
    /// The anime nearest to the fan's story profile, when the model has story embeddings
    /// (`--story-candidates`; none by default: on the sample, 20 or 50 of them moved known
    /// users' and new fans' top ten by less than the seeds do, known users up and new fans
    /// down, and 50 cost about a fifth of the ranked answers a second, BENCHMARKS.md "The
    /// story source"). A bundle from before the source has none.
    #[serde(rename = "story_candidates", default)]
    pub story: usize,
}

impl Default for SourceCounts {
    fn default() -> Self {
        SourceCounts {
            collab: 300,
            content: 50,
            genre: 0,
            story: 0,
        }
    }
}

/// One candidate's raw signals.
pub type Signals = PerSignal<f32>;

/// A candidate anime with its raw signals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// The anime.
    pub anime: AnimeIx,
    /// Each signal's raw value.
    pub signals: Signals,
    /// The rating the model predicts (also the rating signal).
    pub predicted_rating: f32,
    /// How many of the anime the user's profile leans toward have it among the content
    /// neighbours their candidates were drawn from.
    pub neighbour_of: u16,
}

/// The fitted hybrid.
#[derive(Debug, Clone)]
pub struct Hybrid {
    /// Parameters.
    pub params: HybridParams,
    /// Collaborative ranking model.
    pub ease: Ease,
    /// Rating model.
    pub rating: RatingModel,
    /// Content model.
    pub content: ContentModel,
    /// The catalogue's story embeddings (the story signal), when trained with an encoder.
    pub story: Option<StoryVectors>,
    /// log(1 + train ratings) per anime (for an unrated one, what its members predict).
    pub popularity: Vec<f32>,
    /// How unrated anime borrow a collaborative score.
    pub cold: ColdStart,
    /// log(1 + validation top-10 appearances) per anime.
    pub exposure: Vec<f32>,
    /// Blend weights.
    pub weights: Weights,
    /// Validation figures of the chosen weights: (NDCG@10, coverage).
    pub validation: (f64, f64),
    /// What the catalogue says of each anime (the ranker's facts).
    pub facts: AnimeFacts,
    /// The learned ranker, when the model orders candidates with one
    /// ([`HybridParams::ranker`]).
    pub ranker: Option<Arc<LearnedRanker>>,
}

/// One scored candidate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    /// The anime.
    pub anime: AnimeIx,
    /// Final score.
    pub score: f32,
    /// Each signal's contribution to the score (weight × standardised value).
    pub parts: Signals,
    /// The predicted rating.
    pub predicted_rating: f32,
}

impl Hybrid {
    /// Fits on `train` with the catalogue's content and, when given, its story embeddings (one
    /// row per anime of the catalogue). `resume` continues an interrupted run from its last
    /// factor checkpoint; the result equals an uninterrupted run's. Fails only where the learned
    /// ranker is asked for and LightGBM cannot train it.
    pub fn fit(
        train: &Ratings,
        catalogue: &Catalogue,
        story: Option<StoryVectors>,
        params: HybridParams,
        observer: &mut dyn EpochObserver,
        resume: Option<&FactorProgress>,
    ) -> Result<Hybrid, LightGbmError> {
        let clock = std::time::Instant::now();
        let lap = |what: &str| tracing::debug!(seconds = clock.elapsed().as_secs_f64(), "{what}");
        let public: Vec<Option<f32>> = catalogue.anime().iter().map(|a| a.score).collect();
        let franchise = FranchiseMates::of(catalogue.franchises(), catalogue.len());
        let content = ContentModel::fit(catalogue, params.content);
        let facts = AnimeFacts::of(catalogue);
        lap("content model fitted");
        let rating_params = RatingParams {
            seed: params.seed,
            ..params.rating
        };
        // The first carving's rating model is the one refitted below (its epochs are observed
        // and can be resumed); the others only give more validation users.
        let on = Tuning {
            train,
            params,
            rating: rating_params,
            public: &public,
            franchise: &franchise,
            facts: &facts,
        };
        let (rating, first, mut content, mut story) =
            on.carving(0, content, story, observer, resume);
        let mut carvings = vec![first];
        let count = params
            .validation_carvings
            .count(train.n_users(), params.max_validation_users);
        for c in 1..count as u64 {
            let (_, carving, c_content, c_story) = on.carving(c, content, story, &mut (), None);
            (content, story) = (c_content, c_story);
            carvings.push(carving);
        }
        let with_story = story.is_some();
        let (weights, exposure, validation) =
            choose_weights(&params, with_story, train.n_anime(), &mut carvings);
        lap("blend weights chosen");
        // LightGBM trains on one thread (for reproducible trees): EASE's fit on all of train
        // takes the other core meanwhile, and both when the ranker is done.
        let (ranker, ease) = rayon::join(
            || match params.ranker {
                RankerKind::Blend => Ok(None),
                RankerKind::LambdaMart => {
                    let queries = carvings
                        .into_iter()
                        .map(|c| CarvingQueries {
                            queries: c.queries,
                            rated_anime: c.rated_anime,
                        })
                        .collect();
                    let ranker = ranker::training::train(
                        queries,
                        &exposure,
                        params.seed,
                        params.min_coverage,
                        params.without,
                    );
                    lap("ranker trained");
                    ranker.map(|r| {
                        r.filter(|r| reaches_as_far(&r.report, params.min_coverage, validation))
                            .map(Arc::new)
                    })
                }
            },
            || {
                let ease = Ease::fit(train, params.ease);
                lap("EASE fitted");
                ease
            },
        );
        let ranker = ranker?;
        let rating = rating.refit(train, &public, observer, resume);
        lap("rating model refitted");
        let popularity = cold::popularity(train, catalogue);
        let cold = ColdStart::build(&ease, &content, catalogue, train, &popularity);
        lap("unrated anime given donors");
        Ok(Hybrid {
            params: HybridParams {
                validation_carvings: Carvings::Fixed(count),
                ..params
            },
            ease,
            rating,
            content,
            story,
            popularity,
            cold,
            exposure,
            weights,
            validation,
            facts,
            ranker,
        })
    }

    /// What orders the candidates: the learned ranker when the model has one (it may have
    /// been asked for and not trained, for want of validation users), else the blend.
    pub fn ranked_by(&self) -> RankerKind {
        match self.ranker {
            Some(_) => RankerKind::LambdaMart,
            None => RankerKind::Blend,
        }
    }

    /// The mean popularity signal of a fan's list (0 for an empty one): how widely watched
    /// what they watch is.
    pub fn list_popularity(&self, entries: &[Entry]) -> f32 {
        let sum: f32 = entries
            .iter()
            .map(|e| self.popularity[e.anime.index()])
            .sum();
        sum / entries.len().max(1) as f32
    }

    /// What the blend's tuning saw on validation.
    pub fn validation_figures(&self) -> ValidationFigures {
        ValidationFigures {
            ndcg_at_10: self.validation.0,
            coverage: self.validation.1,
            rmse: self.rating.validation.rmse,
        }
    }

    /// The content signal for a user over all anime: the cosine of each anime's TF-IDF vector
    /// with the user's profile (their entries' vectors weighted by score above their mean and
    /// by watching status).
    pub fn content_scores(&self, user: &UserState, out: &mut [f32]) {
        let (query, _) = self.content_query(&Self::profile_weights(user));
        self.content.score_all(&query, out);
    }

    /// The story signal for a user over all anime: each anime's story embedding against the
    /// user's profile (weighted as the content signal's). False, `out` untouched, when the model
    /// has no story embeddings.
    pub fn story_scores(&self, user: &UserState, out: &mut [f32]) -> bool {
        let Some(vectors) = &self.story else {
            return false;
        };
        let profile = self.story_profile(&Self::profile_weights(user));
        for (a, slot) in out.iter_mut().enumerate() {
            *slot = vectors.dot(AnimeIx(a as u32), &profile);
        }
        true
    }

    /// How much each of a user's entries pulls their profile toward its anime: score above their
    /// mean (unscored entries a little), times the watching status's weight; a dropped title
    /// pulls away from its story, whatever its score.
    fn profile_weights(user: &UserState) -> Vec<(AnimeIx, f32)> {
        let (sum, n) = user
            .entries
            .iter()
            .filter(|e| e.is_scored())
            .fold((0f32, 0usize), |(s, n), e| {
                (s + e.score.code() as f32, n + 1)
            });
        let mean = if n == 0 { 0.0 } else { sum / n as f32 };
        user.entries
            .iter()
            .map(|e| {
                let w = if e.is_scored() {
                    e.score.code() as f32 - mean + 0.5
                } else {
                    0.5
                };
                let w = if e.counts_against() {
                    -w.abs() * DROPPED_AGAINST
                } else {
                    w * e.status_weight()
                };
                (e.anime, w)
            })
            .collect()
    }

    /// A user's content profile (a dense query over terms: their entries' TF-IDF vectors with
    /// [`Hybrid::profile_weights`]) and the anime it leans toward (the entries with a positive
    /// weight), strongest first.
    fn content_query(&self, weights: &[(AnimeIx, f32)]) -> (Vec<f32>, Vec<AnimeIx>) {
        let mut query = vec![0f32; self.content.terms.len()];
        for &(a, w) in weights {
            self.content.add_to_query(&mut query, a, w);
        }
        let mut toward: Vec<(AnimeIx, f32)> =
            weights.iter().copied().filter(|e| e.1 > 0.0).collect();
        toward.sort_by(|x, y| y.1.total_cmp(&x.1));
        (query, toward.into_iter().map(|(a, _)| a).collect())
    }

    /// A user's story profile: their entries' story embeddings with
    /// [`Hybrid::profile_weights`], summed (empty without story embeddings). A candidate's story
    /// signal is its embedding's dot product with it: its cosine with the profile, times the
    /// profile's length, which standardising over the candidates removes.
    fn story_profile(&self, weights: &[(AnimeIx, f32)]) -> Vec<f32> {
        let Some(story) = &self.story else {
            return Vec::new();
        };
        let mut profile = vec![0f32; story.dim()];
        for &(a, w) in weights {
            story.add_scaled(a, w, &mut profile);
        }
        profile
    }

    /// Candidates and their raw signals for a user. `exclude(a)` removes anime (already rated,
    /// filtered out).
    pub fn candidates(
        &self,
        user: &UserState,
        exclude: &dyn Fn(AnimeIx) -> bool,
    ) -> Vec<Candidate> {
        let n = self.popularity.len();
        let mut collab = vec![0f32; n];
        self.ease
            .score_entries(user.entries.iter().copied(), &mut collab);
        self.cold.impute(&mut collab);
        let source = |part: Part, k: usize| {
            if self.params.without.leaves_out(part) {
                0
            } else {
                k
            }
        };
        let collab_k = source(Part::CollabCandidates, self.params.candidates.collab);
        let content_k = source(Part::ContentCandidates, self.params.candidates.content);
        let mut gathered = Gathered::new(n);
        for a in top_k(&collab, collab_k, |a| !exclude(AnimeIx(a))) {
            gathered.add(a);
        }
        // The content signal, scored where needed: first up to CONTENT_POOL neighbours of what
        // the profile leans toward, strongest entries first (the content candidates are their
        // best), then the other candidates.
        let weights = Self::profile_weights(user);
        let (query, toward) = self.content_query(&weights);
        let story = self.story_profile(&weights);
        let mut content = vec![f32::NEG_INFINITY; n];
        let mut neighbour_of = vec![0u16; n];
        let mut rows: Vec<_> = toward.iter().map(|&a| self.content.neighbours(a)).collect();
        let mut pooled = 0;
        // Round by round: each entry's nearest neighbour, then each one's second, ...
        while pooled < CONTENT_POOL && !rows.is_empty() {
            rows.retain_mut(|row| match row.next() {
                Some(b) if pooled < CONTENT_POOL => {
                    if content[b.index()] == f32::NEG_INFINITY {
                        content[b.index()] = self.content.score(&query, b);
                        pooled += 1;
                    }
                    neighbour_of[b.index()] = neighbour_of[b.index()].saturating_add(1);
                    true
                }
                _ => false,
            });
        }
        for a in top_k(&content, content_k, |a| {
            content[a as usize] > f32::NEG_INFINITY && !exclude(AnimeIx(a))
        }) {
            gathered.add(a);
        }
        let keep = |a: u32| !exclude(AnimeIx(a));
        let story_k = source(Part::StoryCandidates, self.params.candidates.story);
        gathered.add_up_to(
            story_k,
            self.story_source(&story, story_k * ORDERED_PER_SLOT, keep),
        );
        // The franchise source: the other entries of the franchises of what the profile leans
        // toward, strongest entries first.
        let franchise_k = source(Part::FranchiseCandidates, FRANCHISE_CANDIDATES);
        let mates = toward
            .iter()
            .flat_map(|a| self.rating.franchise.mates(a.0))
            .copied()
            .filter(|&m| !exclude(AnimeIx(m)));
        gathered.add_up_to(franchise_k, mates);
        let genre_k = self.params.candidates.genre;
        gathered.add_up_to(
            genre_k,
            self.genre_source(user, genre_k * ORDERED_PER_SLOT, keep),
        );
        let new_k = source(Part::NewCandidates, NEW_CANDIDATES);
        gathered.add_up_to(
            new_k,
            self.new_anime_source(user, new_k * ORDERED_PER_SLOT, keep),
        );
        let ids = gathered.into_ids();
        for &a in &ids {
            if content[a as usize] == f32::NEG_INFINITY {
                content[a as usize] = self.content.score(&query, AnimeIx(a));
            }
        }
        let predictions = self.rating.predict_many(user, &ids);
        ids.into_iter()
            .zip(predictions)
            .map(|(a, predicted)| {
                let c = if collab[a as usize].is_finite() {
                    collab[a as usize]
                } else {
                    0.0
                };
                let mut signals = Signals::default();
                signals[Signal::Collab] = c;
                signals[Signal::Rating] = predicted;
                signals[Signal::Content] = content[a as usize];
                if let Some(vectors) = &self.story {
                    signals[Signal::Story] = vectors.dot(AnimeIx(a), &story);
                }
                signals[Signal::Popularity] = self.popularity[a as usize];
                signals[Signal::Exposure] = self.exposure[a as usize];
                Candidate {
                    anime: AnimeIx(a),
                    signals,
                    predicted_rating: predicted,
                    neighbour_of: neighbour_of[a as usize],
                }
            })
            .collect()
    }

    /// Every candidate for a user, best first: ordered by the learned ranker when the model
    /// has one, else by the blend. `novelty` (0-1) lowers popular anime further (see
    /// [`NOVELTY_WEIGHT`]).
    pub fn rank(
        &self,
        user: &UserState,
        exclude: &dyn Fn(AnimeIx) -> bool,
        novelty: f32,
    ) -> Ranking<'_> {
        let cands = self.candidates(user, exclude);
        if let Some(ranker) = &self.ranker {
            let (scored, rows) = ranker.rank(self, user, &cands, novelty);
            return Ranking {
                scored,
                learned: Some((ranker, rows)),
            };
        }
        let mut weights = self.weights;
        weights[Signal::Popularity] -= novelty * NOVELTY_WEIGHT;
        Ranking {
            scored: rank(&cands, &weights, usize::MAX),
            learned: None,
        }
    }

    /// The top `k` anime for a user, best first (see [`Hybrid::rank`]; the learned ranker's
    /// picks come without parts: [`Ranking::explain`] gives them).
    pub fn recommend(
        &self,
        user: &UserState,
        k: usize,
        exclude: &dyn Fn(AnimeIx) -> bool,
        novelty: f32,
    ) -> Vec<Scored> {
        let mut scored = self.rank(user, exclude, novelty).scored;
        scored.truncate(k);
        scored
    }
}

/// A user's candidates ranked, best first, with what explaining a pick needs.
pub struct Ranking<'a> {
    /// Every candidate, best first. The blend's carry each signal's part; the learned
    /// ranker's none until [`Ranking::explain`].
    pub scored: Vec<Scored>,
    /// The learned ranker and what explaining the candidates needs, in `scored`'s order.
    learned: Option<(&'a LearnedRanker, RankedRows)>,
}

impl Ranking<'_> {
    /// Gives picks taken from this ranking their parts: the learned ranker's per-signal
    /// contributions (one LightGBM contribution pass over the picks); the blend's are there
    /// already. A pick that is not a candidate here keeps its parts.
    pub fn explain(&self, picks: &mut [Scored]) {
        let Some((ranker, rows)) = &self.learned else {
            return;
        };
        let at: Vec<Option<usize>> = picks
            .iter()
            .map(|p| self.scored.iter().position(|s| s.anime == p.anime))
            .collect();
        let found: Vec<usize> = at.iter().flatten().copied().collect();
        match ranker.parts(rows, &found) {
            Ok(parts) => {
                let found = picks.iter_mut().zip(&at).filter(|(_, i)| i.is_some());
                for ((pick, _), p) in found.zip(parts) {
                    pick.parts = p;
                }
            }
            Err(e) => tracing::error!(error = %e, "the ranker's contributions failed"),
        }
    }
}

/// Whether a trained ranker's validation coverage (its spread step's) reaches the floor or,
/// where it does not, the blend's on the same validation users (`blend`: the blend's NDCG@10
/// and coverage there). Where not, the log says so and the blend orders the candidates:
/// coverage is a constraint, so the one that comes nearer to it serves.
fn reaches_as_far(ranker: &ranker::RankerReport, floor: f64, blend: (f64, f64)) -> bool {
    let (blend_ndcg_at_10, blend_coverage) = blend;
    let reaches = ranker.valid_coverage >= floor || ranker.valid_coverage >= blend_coverage;
    if !reaches {
        tracing::warn!(
            ranker_coverage = ranker.valid_coverage,
            ranker_ndcg_at_10 = ranker.valid_ndcg_at_10,
            blend_coverage,
            blend_ndcg_at_10,
            floor,
            "the learned ranker's validation coverage stays below the floor and the blend's: \
             the blend orders the candidates"
        );
    }
    reaches
}

/// Standardises each signal over the candidates and ranks by the weighted sum.
fn rank(cands: &[Candidate], weights: &Weights, k: usize) -> Vec<Scored> {
    let ready = Standardised::of(cands);
    let mut scored: Vec<Scored> = cands
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let parts = ready.parts(i, weights);
            Scored {
                anime: c.anime,
                score: parts.0.iter().sum(),
                parts,
                predicted_rating: c.predicted_rating,
            }
        })
        .collect();
    scored.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.anime.cmp(&b.anime)));
    scored.truncate(k);
    scored
}

/// A user's candidates standardised: each signal less its mean over the candidates, and its
/// standard deviation (1 where it does not vary). Computed once, it ranks the candidates under
/// any weighting: [`rank`] for one, the blend's tuning ([`Standardised::top`]) for many.
struct Standardised {
    anime: Vec<AnimeIx>,
    centred: Vec<Signals>,
    sd: Signals,
}

impl Standardised {
    fn of(cands: &[Candidate]) -> Standardised {
        let n = cands.len().max(1) as f32;
        let mut mean = Signals::default();
        let mut sd = Signals::default();
        for s in Signal::ALL {
            mean[s] = cands.iter().map(|c| c.signals[s]).sum::<f32>() / n;
            let var = cands
                .iter()
                .map(|c| (c.signals[s] - mean[s]).powi(2))
                .sum::<f32>()
                / n;
            sd[s] = if var > 1e-12 { var.sqrt() } else { 1.0 };
        }
        let centred = cands
            .iter()
            .map(|c| {
                let mut d = Signals::default();
                for s in Signal::ALL {
                    d[s] = c.signals[s] - mean[s];
                }
                d
            })
            .collect();
        Standardised {
            anime: cands.iter().map(|c| c.anime).collect(),
            centred,
            sd,
        }
    }

    /// Candidate `i`'s signals standardised and weighted: their sum is its score.
    fn parts(&self, i: usize, weights: &Weights) -> Signals {
        let mut parts = Signals::default();
        for s in Signal::ALL {
            parts[s] = weights[s] * self.centred[i][s] / self.sd[s];
        }
        parts
    }

    /// The top `k` anime under `weights`, best first, as [`rank`] orders them, selected rather
    /// than every candidate sorted.
    fn top(&self, weights: &Weights, k: usize) -> Vec<u32> {
        if k == 0 {
            return Vec::new();
        }
        let mut scored: Vec<(f32, AnimeIx)> = (0..self.anime.len())
            .map(|i| (self.parts(i, weights).0.iter().sum(), self.anime[i]))
            .collect();
        let order =
            |x: &(f32, AnimeIx), y: &(f32, AnimeIx)| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1));
        if scored.len() > k {
            scored.select_nth_unstable_by(k - 1, order);
            scored.truncate(k);
        }
        scored.sort_by(order);
        scored.into_iter().map(|(_, a)| a.0).collect()
    }
}

/// Anime the protocol does not rank for `user`: those nobody rated in train, and the user's own.
pub fn rated_or_unknown(train: &Ratings, user: UserIx) -> impl Fn(AnimeIx) -> bool + '_ {
    let seen = train.user(user);
    move |a| train.anime(a).is_empty() || seen.indices.binary_search(&a.0).is_ok()
}

fn log_popularity(train: &Ratings) -> Vec<f32> {
    (0..train.n_anime() as u32)
        .map(|a| (1.0 + train.anime(AnimeIx(a)).len() as f32).ln())
        .collect()
}

/// A [`Hybrid`] scoring the users of its train store, for the evaluation protocol: the top
/// candidates get their blended score, everything else negative infinity.
pub struct HybridScorer<'a> {
    /// The model.
    pub model: &'a Hybrid,
    /// The train store it was fitted on.
    pub train: &'a Ratings,
}

/// The content signal of a [`Hybrid`] alone, scoring the users of its train store (an ablation
/// beside the blend).
pub struct ContentScorer<'a> {
    /// The model.
    pub model: &'a Hybrid,
    /// The train store it was fitted on.
    pub train: &'a Ratings,
}

impl crate::eval::Scorer for ContentScorer<'_> {
    fn score(&self, user: UserIx, out: &mut [f32]) {
        let state = self.model.rating.known_user(self.train, user);
        self.model.content_scores(&state, out);
        let exclude = rated_or_unknown(self.train, user);
        for (a, score) in out.iter_mut().enumerate() {
            if exclude(AnimeIx(a as u32)) {
                *score = f32::NEG_INFINITY;
            }
        }
    }
}

impl crate::eval::Scorer for HybridScorer<'_> {
    fn score(&self, user: UserIx, out: &mut [f32]) {
        let state = self.model.rating.known_user(self.train, user);
        let exclude = rated_or_unknown(self.train, user);
        out.fill(f32::NEG_INFINITY);
        for s in self.model.recommend(&state, K, &exclude, 0.0) {
            out[s.anime.index()] = s.score;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardised_tops_are_ranks_lists_exactly() {
        // Pseudo-random signals with many ties (values on a coarse grid), one signal constant.
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % 7) as f32 * 0.5
        };
        for n in [0usize, 1, 5, 10, 11, 350] {
            let cands: Vec<Candidate> = (0..n as u32)
                .map(|a| {
                    let mut signals = Signals::default();
                    for s in Signal::ALL {
                        signals[s] = if s == Signal::Story { 0.25 } else { next() };
                    }
                    Candidate {
                        anime: AnimeIx(1000 - a),
                        signals,
                        predicted_rating: signals[Signal::Rating],
                        neighbour_of: 0,
                    }
                })
                .collect();
            let ready = Standardised::of(&cands);
            for round in 0..20 {
                let mut w = Weights::collab_only();
                for s in Signal::ALL {
                    w[s] = next() - 1.5;
                }
                if round == 0 {
                    w = Weights::collab_only();
                }
                for k in [0, 1, 10, 400] {
                    let want: Vec<u32> = rank(&cands, &w, k).iter().map(|s| s.anime.0).collect();
                    assert_eq!(ready.top(&w, k), want, "n {n}, k {k}, weights {w:?}");
                    assert_eq!(want.len(), k.min(n));
                }
            }
        }
    }

    #[test]
    fn a_ranker_that_covers_less_than_the_floor_and_the_blend_gives_way() {
        let report = |valid_coverage: f64| ranker::RankerReport {
            params: String::new(),
            train_queries: 100,
            valid_queries: 25,
            train_rows: 10_000,
            curve: vec![0.3],
            best_iteration: 1,
            importance: Vec::new(),
            spread: 0.85,
            valid_ndcg_at_10: 0.10,
            valid_coverage,
        };
        // Floor 0.15; the blend reached 0.155 at NDCG@10 0.137 (the 57M synthetic run's case).
        let blend = (0.137, 0.155);
        assert!(reaches_as_far(&report(0.16), 0.15, blend));
        assert!(reaches_as_far(&report(0.15), 0.15, blend));
        assert!(!reaches_as_far(&report(0.091), 0.15, blend));
        // Where neither reaches the floor, the wider one serves.
        assert!(reaches_as_far(&report(0.12), 0.15, (0.2, 0.11)));
        assert!(!reaches_as_far(&report(0.10), 0.15, (0.2, 0.11)));
    }

    #[test]
    fn the_source_counts_keep_their_keys_and_a_bundle_from_before_the_later_sources_has_none() {
        let params = HybridParams::default();
        let json = serde_json::to_value(params).unwrap();
        for key in [
            "collab_candidates",
            "content_candidates",
            "genre_candidates",
        ] {
            assert!(json[key].is_u64(), "{key}: {json}");
        }
        assert!(json["story_candidates"].is_u64(), "{json}");
        let mut before = json.clone();
        before["collab_candidates"] = 120.into();
        let fields = before.as_object_mut().unwrap();
        fields.remove("story_candidates");
        fields.remove("genre_candidates");
        let read: HybridParams = serde_json::from_value(before).unwrap();
        assert_eq!((read.candidates.story, read.candidates.genre), (0, 0));
        assert_eq!(read.candidates.collab, 120);
        assert_eq!(
            serde_json::from_value::<HybridParams>(json).unwrap(),
            params
        );
    }
}
