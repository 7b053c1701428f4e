//! The answers the API and the web pages share, below both: what a request asks for
//! ([`ask`]), whom it is for ([`profiles`]), a signed-in fan's lists ([`fan`]), story search's
//! hits ([`story`]), a season's anime ([`season`]), an anime looked up ([`lookup`]) and
//! credentials checked ([`credentials`]).
//! Routes and pages build their responses from these; nothing here knows of either.

pub mod ask;
pub mod credentials;
pub mod fan;
pub mod profiles;
pub mod season;
pub mod story;

use anirec_data::{AnimeIx, MalId};

use crate::problem::Problem;
use crate::state::Served;

/// The catalogue index of a MyAnimeList id, or 404.
pub fn lookup(served: &Served, id: MalId) -> Result<AnimeIx, Problem> {
    served
        .bundle
        .catalogue
        .index_of(id)
        .ok_or_else(|| Problem::not_found(format!("no anime with id {id} in the catalogue")))
}
