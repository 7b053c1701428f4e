//! The popularity baseline: every user gets the anime with the most train ratings.

use anirec_data::AnimeIx;
use anirec_data::{Ratings, UserIx};

/// Scores each anime by its number of train ratings.
#[derive(Debug, Clone)]
pub struct Popularity {
    counts: Vec<f32>,
}

impl Popularity {
    /// Counts ratings per anime.
    pub fn fit(train: &Ratings) -> Popularity {
        Popularity {
            counts: (0..train.n_anime() as u32)
                .map(|a| train.anime(AnimeIx(a)).len() as f32)
                .collect(),
        }
    }

    /// Number of train ratings per anime.
    pub fn counts(&self) -> &[f32] {
        &self.counts
    }
}

impl crate::eval::Scorer for Popularity {
    fn score(&self, _user: UserIx, out: &mut [f32]) {
        out.copy_from_slice(&self.counts);
    }
}
