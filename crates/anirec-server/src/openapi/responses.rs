//! The error answers many operations share, as named response components
//! (`#/components/responses/...`): each is a problem+json body ([`Problem`]) with the doc comment
//! as the description a client reads, and the header it comes with, if any. Operations whose
//! error means something of their own describe it inline.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::Schema;
use utoipa::openapi::{ContentBuilder, Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::problem::Problem;

/// The media type of every error answer.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A header an answer carries: its name, its values and its description.
struct Header {
    name: &'static str,
    schema: RefOr<Schema>,
    description: &'static str,
}

/// A problem+json response: `doc` is the doc comment's lines, `header` one it carries.
fn problem(doc: &[&str], header: Option<Header>) -> RefOr<Response> {
    let description = doc.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ");
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name(Problem::name())))
        .build();
    let mut response = ResponseBuilder::new()
        .description(description)
        .content(PROBLEM_JSON, content);
    if let Some(header) = header {
        response = response.header(
            header.name,
            HeaderBuilder::new()
                .schema(Some(header.schema))
                .description(Some(header.description))
                .build(),
        );
    }
    response.build().into()
}

/// Declares response components: `/// doc` then `Name;`, or `Name with "Header": Type =
/// "its description";`.
macro_rules! problem_responses {
    ($($(#[doc = $doc:literal])+ $name:ident $(with $header:literal : $ty:ty = $about:literal)?;)+) => {$(
        $(#[doc = $doc])+
        pub struct $name;

        impl<'r> utoipa::ToResponse<'r> for $name {
            fn response() -> (&'r str, RefOr<Response>) {
                let header: Option<Header> = None $(.or(Some(Header {
                    name: $header,
                    schema: <$ty as PartialSchema>::schema(),
                    description: $about,
                })))?;
                (stringify!($name), problem(&[$($doc),+], header))
            }
        }
    )+};
}

problem_responses! {
    /// A parameter is wrong; `param` names it.
    BadParam;
    /// Not signed in, or the credentials are wrong (an unknown username and a wrong password get
    /// the same answer), expired or revoked.
    Unauthorized with "WWW-Authenticate": String = "Bearer realm=\"anirec\".";
    /// A request that a session cookie authenticates and that changes something came from
    /// another site (its Origin is not this server's).
    CrossSite;
    /// A sign-up or sign-in sent from another site (its Origin is not this server's).
    OtherSite;
    /// No such user, anime or route.
    NotFound;
    /// No such entry, token or route (another account's resources are never found).
    NotFoundForAccount;
    /// The body is over its limit; `detail` names it.
    TooLarge;
    /// The body's content type is not read here.
    Unsupported;
    /// The body cannot be read or a value is wrong; `param` names the field.
    Invalid;
    /// Too many sign-in attempts for this account or from this address; `Retry-After` says
    /// when to try again.
    TooManySignIns with "Retry-After": u64 = "Seconds to wait.";
    /// Too many password checks for this account or from this address; `Retry-After` says when
    /// to try again.
    TooManyPasswordChecks with "Retry-After": u64 = "Seconds to wait.";
    /// The model is still loading, or the server is at capacity: then the request is refused
    /// at once with `Retry-After` (seconds) and may be retried.
    ModelUnavailable with "Retry-After": u64 = "Seconds to wait before retrying (when at capacity).";
    /// The accounts database or the model is not available (accounts off without --db, a model
    /// still loading, a database that cannot take writes now), or the server is at capacity
    /// (then with `Retry-After`).
    AccountsUnavailable with "Retry-After": u64 = "Seconds to wait before retrying (when at capacity).";
}

/// Declares sets of the responses above that many operations give together, for
/// `responses((status = 200, ...), SignedIn)`: `Name => [("401", Unauthorized), ...];`.
macro_rules! response_sets {
    ($($(#[doc = $doc:literal])+ $name:ident => [$(($status:literal, $response:ident)),+ $(,)?];)+) => {$(
        $(#[doc = $doc])+
        pub struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses() -> std::collections::BTreeMap<String, RefOr<Response>> {
                [$(($status, <$response as utoipa::ToResponse>::response().0)),+]
                    .into_iter()
                    .map(|(status, name)| {
                        (status.to_owned(), Ref::from_response_name(name).into())
                    })
                    .collect()
            }
        }
    )+};
}

response_sets! {
    /// What any operation of a signed-in fan may answer besides its own: not signed in (401),
    /// the accounts database unavailable (503).
    SignedIn => [("401", Unauthorized), ("503", AccountsUnavailable)];
    /// The same for an operation that changes something: also refused from another site (403).
    SignedInChange => [("401", Unauthorized), ("403", CrossSite), ("503", AccountsUnavailable)];
    /// What an operation with a small JSON body may answer about it: too large (413), not JSON
    /// (415), unreadable or a value wrong (422).
    JsonBody => [("413", TooLarge), ("415", Unsupported), ("422", Invalid)];
    /// What an operation that looks something up in the model may answer besides its own: a
    /// parameter wrong (400), no such user or anime (404), the model unavailable (503).
    ModelLookup => [("400", BadParam), ("404", NotFound), ("503", ModelUnavailable)];
}
