//! Story search's answer: the query as read and its hits (titles that match first, then the
//! closest stories, personalised for a known fan).

use anirec_model::filters::Filters;
use anirec_model::profile::Profile;
use anirec_model::story_search::{StoryHit, StoryQuery};

use crate::problem::Problem;
use crate::query_encoder::QueryEncoder;
use crate::state::Served;

/// Longest query read, in characters: the encoder reads at most 256 word pieces (128 by default,
/// `--story-tokens`), which this many characters always exceed; the rest of a longer query is cut
/// (not refused).
pub const QUERY_CHARS_READ: usize = 2000;

/// The query as read: its first [`QUERY_CHARS_READ`] characters.
pub fn read_query(text: &str) -> String {
    text.chars().take(QUERY_CHARS_READ).collect()
}

/// A story search's hits: the query embedded (here, on the caller's thread: run it in the
/// compute pool) and ranked against the stories, titles that match first.
pub fn hits(
    served: &Served,
    encoder: &QueryEncoder,
    text: &str,
    profile: Option<&Profile>,
    k: usize,
    filters: &Filters,
) -> Result<Vec<StoryHit>, Problem> {
    let vector = encoder
        .embed(text)
        .map_err(|e| Problem::internal(format!("embedding the query: {e}")))?;
    let titles = served.titles.leading(text, k);
    Ok(served.bundle.story_search(&StoryQuery {
        text,
        vector: &vector,
        titles: &titles,
        profile,
        k,
        filters,
    }))
}
