//! Queries over a trained [`Bundle`]: top-k recommendations with filters and explanations (for a
//! known user, or a new one folded in from their ratings), a non-personalised list for users with
//! no ratings, similar anime (by content, collaborative signal, or both), similar users, and title
//! lookup with suggestions.

use anirec_data::{Anime, AnimeIx, MalId, Score, UserId, UserIx, WatchStatus};
use serde::{Deserialize, Serialize};

use crate::bundle::Bundle;
use crate::entry::Entry;
pub use crate::filters::{Filters, Grouping};
use crate::hybrid::Scored;
use crate::numbers::thousands;
use crate::profile::Profile;
use crate::search::TitleIndex;
use crate::series;
use crate::signal::Signal;
use crate::topk::top_k;

/// How many times `k` popular anime are ranked before one card per franchise is kept.
const POPULAR_DEPTH: usize = 8;

/// Why an anime was recommended: one signal's reason and its share of the score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reason {
    /// The signal it is the reason of (written by name: `collab`, `content`, ...).
    pub signal: Signal,
    /// A sentence a fan can read.
    pub text: String,
    /// Share of the positive score contributions (0-1).
    pub share: f32,
}

/// One recommended anime.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    /// The anime's index.
    pub index: AnimeIx,
    /// MyAnimeList id.
    pub anime_id: MalId,
    /// Blended score (relative within one list).
    pub score: f32,
    /// Predicted rating, 1-10: the model's for this fan, or, when the fan's list is empty
    /// ([`Recommendation::personal`] false), the anime's MyAnimeList score.
    pub predicted_rating: f32,
    /// Whether the list was ranked for the fan (false: popular anime for a fan we know nothing
    /// of).
    pub personal: bool,
    /// Reasons, strongest first (empty unless asked for).
    pub reasons: Vec<Reason>,
}

/// One anime of a fan's list as a request or an export gives it: by MyAnimeList id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listed {
    /// MyAnimeList anime id.
    pub mal_id: MalId,
    /// The score.
    pub score: Score,
    /// Watching status, when given.
    pub status: Option<WatchStatus>,
}

impl Bundle {
    /// The profile of a known user (by MyAnimeList user id).
    pub fn known_user(&self, user_id: UserId) -> Option<Profile> {
        let u = self.ratings.user_index(user_id)?;
        Some(Profile {
            state: self.model.rating.known_user(&self.ratings, u),
        })
    }

    /// The profile of a new user from their list (scores above 10 count as 10; for an anime
    /// listed twice the later entry counts); MyAnimeList ids the catalogue does not know are
    /// returned separately.
    pub fn fold_in(&self, list: &[Listed]) -> (Profile, Vec<MalId>) {
        let mut known = Vec::with_capacity(list.len());
        let mut unknown = Vec::new();
        for l in list {
            match self.catalogue.index_of(l.mal_id) {
                Some(anime) => known.push(Entry {
                    anime,
                    score: l.score,
                    status: l.status,
                }),
                None => unknown.push(l.mal_id),
            }
        }
        let state = self.model.rating.fold_in(&known);
        (Profile { state }, unknown)
    }

    /// The rating (1-10) the rating model predicts a profile would give an anime.
    pub fn predicted_rating(&self, profile: &Profile, anime: AnimeIx) -> f32 {
        self.model.rating.predict(&profile.state, anime)
    }

    /// A profile's entries as a list by MyAnimeList id (to fold in again with more entries).
    pub fn listed(&self, profile: &Profile) -> Vec<Listed> {
        profile
            .state
            .entries
            .iter()
            .map(|e| Listed {
                mal_id: self.catalogue[e.anime].mal_id,
                score: e.score,
                status: e.status,
            })
            .collect()
    }

    /// Top `k` for a profile, shaped by the filters' grouping (one card per franchise, none
    /// from franchises the profile has started: [`series::one_per_series`]) and novelty. A
    /// profile without ratings gets [`Bundle::popular`].
    pub fn recommend(
        &self,
        profile: &Profile,
        k: usize,
        filters: &Filters,
        explain: bool,
    ) -> Vec<Recommendation> {
        if profile.state.entries.is_empty() {
            return self.popular(k, filters);
        }
        let exclude = |a: AnimeIx| {
            (!filters.include_rated && profile.lists(a)) || !filters.recommends(&self.catalogue[a])
        };
        let ranking = self.model.rank(&profile.state, &exclude, filters.novelty);
        let mut ranked = match filters.group {
            Grouping::None => ranking.scored.iter().take(k).copied().collect(),
            Grouping::Series => {
                let all = ranking.scored.iter().copied();
                let franchises = self.catalogue.franchises();
                let started = if filters.include_rated {
                    Vec::new()
                } else {
                    series::started(franchises, &profile.state.entries)
                };
                series::one_per_series(
                    franchises,
                    all,
                    &started,
                    k,
                    |a| !exclude(a),
                    |a| self.predicted_rating(profile, a),
                )
            }
        };
        if explain {
            ranking.explain(&mut ranked);
        }
        ranked
            .into_iter()
            .map(|s| self.recommendation(&s, profile, explain))
            .collect()
    }

    /// Popular, well-rated anime (adult titles only when the filters allow): for users with no
    /// ratings. Ranked by a damped score: the mean public score pulled toward 6.5 by 5,000
    /// pseudo-votes, times log(members) (times members^(-novelty / 4), so that novelty favours
    /// the less watched); one card per franchise unless the filters say `group=none`.
    pub fn popular(&self, k: usize, filters: &Filters) -> Vec<Recommendation> {
        let scores: Vec<f32> = self
            .catalogue
            .anime()
            .iter()
            .map(|a| {
                let members = a.members.unwrap_or(0) as f32;
                let votes = a
                    .score_histogram
                    .map_or(members, |h| h.iter().sum::<u32>() as f32);
                let mean = a.score.unwrap_or(6.5);
                let damped = (mean * votes + 6.5 * 5000.0) / (votes + 5000.0);
                damped * (1.0 + members).ln() * (1.0 + members).powf(-filters.novelty * 0.25)
            })
            .collect();
        let anime = self.catalogue.anime();
        let allowed = |a: AnimeIx| filters.recommends(&anime[a.index()]);
        let best: Vec<u32> = match filters.group {
            Grouping::None => top_k(&scores, k, |a| allowed(AnimeIx(a))),
            Grouping::Series => {
                let ranked = top_k(&scores, k * POPULAR_DEPTH, |a| allowed(AnimeIx(a)))
                    .into_iter()
                    .map(|a| Scored {
                        anime: AnimeIx(a),
                        score: scores[a as usize],
                        parts: Default::default(),
                        predicted_rating: 0.0,
                    });
                let franchises = self.catalogue.franchises();
                series::one_per_series(franchises, ranked, &[], k, allowed, |_| 0.0)
                    .into_iter()
                    .map(|s| s.anime.0)
                    .collect()
            }
        };
        best.into_iter()
            .map(|a| Recommendation {
                index: AnimeIx(a),
                anime_id: anime[a as usize].mal_id,
                score: scores[a as usize],
                predicted_rating: anime[a as usize].score.unwrap_or(0.0),
                personal: false,
                reasons: vec![Reason {
                    signal: Signal::Popularity,
                    text: format!(
                        "popular and well rated: {} members, mean score {}",
                        thousands(anime[a as usize].members.unwrap_or(0).into()),
                        anime[a as usize]
                            .score
                            .map_or("unknown".into(), |s| format!("{s:.2}"))
                    ),
                    share: 1.0,
                }],
            })
            .collect()
    }

    fn recommendation(&self, s: &Scored, profile: &Profile, explain: bool) -> Recommendation {
        Recommendation {
            index: s.anime,
            anime_id: self.catalogue[s.anime].mal_id,
            score: s.score,
            predicted_rating: s.predicted_rating,
            personal: true,
            reasons: if explain {
                self.reasons(s, profile)
            } else {
                Vec::new()
            },
        }
    }

    /// The reasons behind one recommendation.
    fn reasons(&self, s: &Scored, profile: &Profile) -> Vec<Reason> {
        let name = |a: AnimeIx| self.catalogue[a].name.clone();
        let positive: f32 = s
            .parts
            .0
            .iter()
            .filter(|&&p| p > 0.0)
            .sum::<f32>()
            .max(1e-6);
        let entries = &profile.state.entries;
        let list_popularity = self.model.list_popularity(entries);
        let less_watched = |a: AnimeIx| match self.model.ranker {
            Some(_) => self.model.popularity[a.index()] < list_popularity,
            None => self.model.weights[Signal::Popularity] < 0.0,
        };
        let mut reasons = Vec::new();
        for (signal, part) in s.parts.iter() {
            if part <= 0.0 {
                continue;
            }
            let share = part / positive;
            let text = match signal {
                Signal::Collab => {
                    // The liked anime that fans of this one also liked most: its item-kNN
                    // similarity (co-rating), then its EASE weight as a tie-breaker.
                    let (nbrs, sims) = self.model.rating.knn.of(s.anime);
                    let mut knn: Vec<(u32, f32)> =
                        nbrs.iter().copied().zip(sims.iter().copied()).collect();
                    knn.sort_unstable_by_key(|e| e.0);
                    let best = most(entries, |e| {
                        let sim = knn
                            .binary_search_by_key(&e.anime.0, |n| n.0)
                            .map_or(0.0, |p| knn[p].1);
                        let ease = self.model.ease.weight(e.anime, s.anime)
                            * self.model.params.ease.weighting.weight(e.score.code());
                        (sim, ease)
                    });
                    match best {
                        Some(e) if e.is_scored() => {
                            format!("because you rated {} {}/10", name(e.anime), e.score.code())
                        }
                        Some(e) => format!("because {} is on your list", name(e.anime)),
                        None => continue,
                    }
                }
                Signal::Content => {
                    let similarity = self.model.content.similarity_to(s.anime);
                    let best = most(entries, |e| (similarity(e.anime), 0.0));
                    let Some(&Entry { anime: a, .. }) = best else {
                        continue;
                    };
                    let shared: Vec<String> = self
                        .model
                        .content
                        .shared_fields(a, s.anime)
                        .into_iter()
                        .map(|t| display_field(t, &self.catalogue[s.anime]))
                        .collect();
                    if shared.is_empty() {
                        format!("its story is like {}", name(a))
                    } else {
                        format!("shares {} with {}", join_words(&shared), name(a))
                    }
                }
                Signal::Story => {
                    let Some(story) = self.story() else { continue };
                    let best = most(entries, |e| (story.similarity(e.anime, s.anime), 0.0));
                    match best {
                        Some(e) => format!("its story is like that of {}", name(e.anime)),
                        None => continue,
                    }
                }
                Signal::Rating => {
                    format!("we predict you would rate it {:.1}/10", s.predicted_rating)
                }
                // A positive part under the blend's negative weight means "less watched than
                // the others"; the learned ranker says which way by the anime itself: less
                // watched than the fan's list on average, or not.
                Signal::Popularity if less_watched(s.anime) => {
                    "a less-watched title that fits your taste".to_owned()
                }
                Signal::Popularity => "widely watched".to_owned(),
                Signal::Exposure => "a less obvious pick that suits you".to_owned(),
            };
            reasons.push(Reason {
                signal,
                text,
                share,
            });
        }
        reasons.sort_by(|a, b| b.share.total_cmp(&a.share));
        reasons
    }

    /// Anime most similar to anime `a`: `by` is `content`, `collab`, `hybrid` or `story`
    /// (none when the bundle has no story embeddings). Anime of its own franchise are left out
    /// unless the filters say `group=none`.
    pub fn similar(
        &self,
        a: AnimeIx,
        by: SimilarBy,
        k: usize,
        filters: &Filters,
    ) -> Vec<(AnimeIx, f32)> {
        let scores = match (by, self.story()) {
            (SimilarBy::Story, Some(story)) => {
                let mut scores = Vec::with_capacity(self.catalogue.len());
                story.scores_into(&story.vector(a), &mut scores);
                scores
            }
            (SimilarBy::Story, None) => return Vec::new(),
            _ => self.content_and_collab_similarity(a, by),
        };
        let anime = self.catalogue.anime();
        let franchises = self.catalogue.franchises();
        let own = franchises
            .group_of(a)
            .filter(|_| filters.group == Grouping::Series);
        top_k(&scores, k, |j| {
            j != a.0
                && scores[j as usize] > 0.0
                && filters.allows(&anime[j as usize])
                && (own.is_none() || franchises.group_of(AnimeIx(j)) != own)
        })
        .into_iter()
        .map(|j| (AnimeIx(j), scores[j as usize]))
        .collect()
    }

    /// Every anime's content similarity to `a`, its collaborative similarity, or their sum
    /// (`by` is `content`, `collab` or `hybrid`).
    fn content_and_collab_similarity(&self, a: AnimeIx, by: SimilarBy) -> Vec<f32> {
        let n = self.catalogue.len();
        let mut content = vec![0f32; n];
        if by != SimilarBy::Collab {
            let mut query = vec![0f32; self.model.content.terms.len()];
            self.model.content.add_to_query(&mut query, a, 1.0);
            self.model.content.score_all(&query, &mut content);
        }
        let mut collab = vec![0f32; n];
        if by != SimilarBy::Content {
            let (nbrs, sims) = self.model.rating.knn.of(a);
            for (&j, &s) in nbrs.iter().zip(sims) {
                collab[j as usize] = s;
            }
            for j in 0..n as u32 {
                collab[j as usize] += self.model.ease.weight(a, AnimeIx(j)).max(0.0) * 10.0;
            }
        }
        content.iter().zip(&collab).map(|(c, l)| c + l).collect()
    }

    /// Users whose ratings look most like this profile's (cosine of mean-centred ratings over
    /// shared anime, damped by overlap): (MyAnimeList user id, similarity, anime in common).
    /// Walks only the users who rated one of the profile's anime, through the by-anime index;
    /// `stats` are the users' means and norms ([`UserStats::of`] the bundle's ratings, kept by
    /// the caller for repeated queries).
    pub fn similar_users(
        &self,
        stats: &UserStats,
        profile: &Profile,
        k: usize,
        skip_user: Option<UserId>,
    ) -> Vec<(UserId, f32, usize)> {
        let stats = &stats.0;
        let entries = &profile.state.entries;
        let (mean, norm_mine) = mean_and_norm(entries.iter().map(|e| e.score.code()));
        let mine = entries
            .iter()
            .filter(|e| e.is_scored())
            .map(|e| (e.anime, e.score.code() as f32 - mean));
        let n = self.ratings.n_users();
        let (mut dot, mut common) = (vec![0f32; n], vec![0u32; n]);
        for (a, m) in mine {
            let raters = self.ratings.anime(a);
            for (&u, &r) in raters.indices.iter().zip(raters.ratings) {
                if r > 0 {
                    dot[u as usize] += m * (r as f32 - stats[u as usize].0);
                    common[u as usize] += 1;
                }
            }
        }
        let sims: Vec<f32> = (0..n)
            .map(|u| {
                let c = common[u] as f32;
                dot[u] / (stats[u].1 * norm_mine) * (c / (c + 10.0))
            })
            .collect();
        top_k(&sims, k, |u| {
            let u = u as usize;
            common[u] > 0
                && sims[u] > 0.0
                && Some(self.ratings.user_id(UserIx(u as u32))) != skip_user
        })
        .into_iter()
        .map(|u| {
            (
                self.ratings.user_id(UserIx(u)),
                sims[u as usize],
                common[u as usize] as usize,
            )
        })
        .collect()
    }

    /// Anime whose Name, English or Japanese name equals `title` (ignoring case and
    /// punctuation), or else the closest titles as suggestions (`Err`). Builds a
    /// [`TitleIndex`]; keep one for repeated lookups.
    pub fn find_title(&self, title: &str) -> Result<AnimeIx, Vec<AnimeIx>> {
        TitleIndex::new(&self.catalogue).find(title)
    }
}

/// Per user of a ratings store: the mean of their scores and the norm of their mean-centred
/// scores (at least 1e-6), what [`Bundle::similar_users`] compares with. Derived from the
/// ratings, so kept beside a bundle (by whoever serves it), not in it.
#[derive(Debug, Clone, PartialEq)]
pub struct UserStats(Vec<(f32, f32)>);

impl UserStats {
    /// The statistics of every user of `ratings`, on all cores.
    pub fn of(ratings: &anirec_data::Ratings) -> UserStats {
        use rayon::prelude::*;
        UserStats(
            (0..ratings.n_users() as u32)
                .into_par_iter()
                .map(|u| mean_and_norm(ratings.user(UserIx(u)).ratings.iter().copied()))
                .collect(),
        )
    }
}

/// How to compare anime in [`Bundle::similar`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SimilarBy {
    /// Synopsis and fields.
    Content,
    /// Who watched and liked both.
    Collab,
    /// Both.
    Hybrid,
    /// Story: the sentence embeddings of their synopses.
    Story,
}

/// The mean of the scores (0 = not scored, left out) and the norm of the scores less that mean
/// (at least 1e-6).
/// The liked entry with the greatest `(key, tie-breaker)`, each computed once (the last of equals,
/// as [`Iterator::max_by`] picks).
fn most(entries: &[Entry], key: impl Fn(&Entry) -> (f32, f32)) -> Option<&Entry> {
    entries
        .iter()
        .filter(|e| e.is_liked())
        .map(|e| (key(e), e))
        .max_by(|(a, _), (b, _)| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)))
        .map(|(_, e)| e)
}

fn mean_and_norm(ratings: impl Iterator<Item = u8> + Clone) -> (f32, f32) {
    let scored = ratings.filter(|&r| r > 0).map(f32::from);
    let mean = scored.clone().sum::<f32>() / scored.clone().count().max(1) as f32;
    let norm = scored
        .map(|r| (r - mean) * (r - mean))
        .sum::<f32>()
        .sqrt()
        .max(1e-6);
    (mean, norm)
}

/// A field token as words: `genre:psychological` → `Psychological` (the catalogue's spelling).
fn display_field(token: &str, anime: &Anime) -> String {
    let (field, value) = token.split_once(':').unwrap_or(("", token));
    let pretty = |list: &[String]| list.iter().find(|x| x.eq_ignore_ascii_case(value)).cloned();
    match field {
        "genre" => pretty(&anime.genres).unwrap_or_else(|| value.to_owned()),
        "studio" => format!(
            "studio {}",
            pretty(&anime.studios).unwrap_or_else(|| value.to_owned())
        ),
        _ => value.to_owned(),
    }
}

/// "a", "a and b", "a, b and c".
fn join_words(words: &[String]) -> String {
    match words {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_distances() {
        assert_eq!(
            join_words(&["A".into(), "B".into(), "C".into()]),
            "A, B and C"
        );
    }

    #[test]
    fn filters() {
        let a = Anime {
            genres: vec!["Action".into(), "Sci-Fi".into()],
            kind: Some("TV".into()),
            start_year: Some(1998),
            members: Some(1000),
            ..Anime::default()
        };
        assert!(Filters::default().allows(&a));
        let f = Filters {
            genres: vec!["sci-fi".into()],
            kinds: vec!["tv".into()],
            year_min: Some(1990),
            year_max: Some(2000),
            min_members: Some(500),
            ..Filters::default()
        };
        assert!(f.allows(&a));
        assert!(
            !Filters {
                year_min: Some(2000),
                ..Filters::default()
            }
            .allows(&a)
        );
        assert!(
            !Filters {
                genres: vec!["Comedy".into()],
                ..Filters::default()
            }
            .allows(&a)
        );
        let adult = Anime {
            adult: true,
            ..a.clone()
        };
        assert!(!Filters::default().allows(&adult));
        assert!(
            Filters {
                include_adult: true,
                ..Filters::default()
            }
            .allows(&adult)
        );
    }
}
