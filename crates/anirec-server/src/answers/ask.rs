//! What a recommendation request asks for ([`Ask`]: how many, filters, reasons, synopsis), read
//! from its query, and the two lists it is answered with ([`Lists`]).

use anirec_data::UserId;
use anirec_model::profile::Profile;
use anirec_model::query::{Filters, Recommendation};
use anirec_model::series::Continuation;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::profiles::Subject;
use crate::params::{Flag, K, Offset, Page, Query, Takes};
use crate::problem::Problem;
use crate::state::Served;
use crate::views::{ContinueView, RecommendationView, Synopsis, json_body};

/// The query of the recommendation endpoints: `k`, `explain`, `synopsis` and the filters (the
/// fields' doc comments are the parameters' descriptions in the OpenAPI document).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct AskParams {
    /// How many results.
    #[param(inline)]
    k: K,
    /// How many of the best to skip: the next page of the list starts at the answer's
    /// `next_offset`. The continue row comes with the first page only.
    #[param(inline)]
    offset: Offset,
    /// Add the reasons for each pick.
    #[param(inline)]
    explain: Flag,
    /// How much of each synopsis to send: none, short (at most 200 bytes: whole sentences when
    /// the first fits, else cut after a word) or full. A list of ten is about 12 KB with full
    /// synopses, 5 KB short and 3.7 KB with none.
    #[param(inline)]
    synopsis: Synopsis,
}

impl Takes for AskParams {
    const FILTERS: bool = true;
}

/// The query of the continue endpoints: `k`, `synopsis` and the filters.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct ContinueParams {
    /// How many results.
    #[param(inline)]
    k: K,
    /// How much of each synopsis to send: none, short (at most 200 bytes: whole sentences when
    /// the first fits, else cut after a word) or full. A list of ten is about 12 KB with full
    /// synopses, 5 KB short and 3.7 KB with none.
    #[param(inline)]
    synopsis: Synopsis,
}

impl Takes for ContinueParams {
    const FILTERS: bool = true;
}

/// What a recommendation request asks for.
pub struct Ask {
    /// How many.
    pub k: usize,
    /// How many of the best to skip (the pages before this one).
    pub offset: usize,
    /// Filters.
    pub filters: Filters,
    /// With reasons.
    pub explain: bool,
    /// How much synopsis each card carries.
    pub synopsis: Synopsis,
}

impl Ask {
    /// The request's query, its filters checked against the model's vocabulary.
    pub fn of(query: &Query<AskParams>, served: &Served) -> Result<Ask, Problem> {
        Ok(Ask {
            k: query.params.k.0,
            offset: query.params.offset.0,
            filters: query.filters.check(&served.vocabulary)?,
            explain: query.params.explain.0,
            synopsis: query.params.synopsis,
        })
    }

    /// A continue request's query (no reasons), its filters checked.
    pub fn continuing(query: &Query<ContinueParams>, served: &Served) -> Result<Ask, Problem> {
        Ok(Ask {
            k: query.params.k.0,
            offset: 0,
            filters: query.filters.check(&served.vocabulary)?,
            explain: false,
            synopsis: query.params.synopsis,
        })
    }

    /// The first `k` of a fan's picks under the default filters, with their reasons: the lists
    /// a page shows before any filter is chosen (My list, a public profile).
    pub fn first_page(k: usize, synopsis: Synopsis) -> Ask {
        Ask {
            k,
            offset: 0,
            filters: Filters::default(),
            explain: true,
            synopsis,
        }
    }

    /// How many of the best a ranking needs for this page: the pages before it and this one.
    pub fn depth(&self) -> usize {
        self.offset + self.k
    }

    /// How many continue-row entries this page carries: up to [`CONTINUE_IN_ANSWER`] (or `k`
    /// if fewer) on the first page, none on the pages after it.
    pub fn row(&self) -> usize {
        if self.offset == 0 {
            self.k.min(CONTINUE_IN_ANSWER)
        } else {
            0
        }
    }

    /// This page of a discovery list ranked best first ([`Ask::depth`] long, or shorter at the
    /// list's end), with the continue row.
    pub fn lists(&self, ranked: Vec<Recommendation>, continuing: Vec<Continuation>) -> Lists {
        let page = Page::of(ranked, self.offset, self.k);
        Lists {
            recs: page.items,
            next_offset: page.next_offset,
            continuing,
        }
    }

    /// Ranks for a profile: this page of the discovery list and the continue row.
    pub fn run(&self, served: &Served, profile: &Profile) -> Lists {
        self.lists(
            served
                .bundle
                .recommend(profile, self.depth(), &self.filters, self.explain),
            served
                .bundle
                .continue_series(profile, self.row(), &self.filters),
        )
    }
}

/// Most continue-row entries a recommendation answer carries (a row on a page; the continue
/// endpoints give up to `k`). Ten full cards doubled an answer's size.
pub const CONTINUE_IN_ANSWER: usize = 5;

/// The two lists of a recommendation answer.
#[derive(Debug, Clone, Default)]
pub struct Lists {
    /// The discovery list, best first.
    pub recs: Vec<Recommendation>,
    /// The continue row: the next entry of each franchise the fan is watching.
    pub continuing: Vec<Continuation>,
    /// Where the discovery list's next page starts; `None` at its end.
    pub next_offset: Option<usize>,
}

/// Recommendations with the continue row.
#[derive(Serialize, ToSchema)]
pub struct Recommendations<'a> {
    /// The model's version.
    model: &'a str,
    /// Who they are for.
    subject: &'a Subject,
    /// Recommendations, best first.
    items: Vec<RecommendationView<'a>>,
    /// The `offset` that asks for the list's next page; null at its end.
    next_offset: Option<usize>,
    /// Continue your series: for each franchise the fan liked and dropped nothing of, its next
    /// entry not on the list, the highest predicted rating first; at most 5 (or k) here, up to
    /// k from the continue endpoints.
    continue_watching: Vec<ContinueView<'a>>,
}

/// The JSON answer of the recommendation endpoints.
pub fn answer_body(
    served: &Served,
    subject: &Subject,
    lists: &Lists,
    synopsis: Synopsis,
) -> Result<Bytes, Problem> {
    json_body(&Recommendations {
        model: &served.version,
        subject,
        items: RecommendationView::list(&served.bundle, &lists.recs, synopsis),
        next_offset: lists.next_offset,
        continue_watching: ContinueView::list(&served.bundle, &lists.continuing, synopsis),
    })
}

/// A continue row.
#[derive(Serialize, ToSchema)]
pub struct ContinueRow<'a> {
    /// The model's version.
    model: &'a str,
    /// The known user it is for.
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<UserId>,
    /// The row, the highest predicted rating first.
    items: Vec<ContinueView<'a>>,
}

/// The JSON answer of the continue endpoints.
pub fn continue_response(
    served: &Served,
    user_id: Option<UserId>,
    row: &[Continuation],
    synopsis: Synopsis,
) -> Result<Response, Problem> {
    let body = json_body(&ContinueRow {
        model: &served.version,
        user_id,
        items: ContinueView::list(&served.bundle, row, synopsis),
    })?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}
