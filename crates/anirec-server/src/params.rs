//! Query strings and path ids, read into types once at the edge: [`Query<T>`] is the extractor
//! every endpoint with parameters uses (`T` lists what the endpoint takes, as serde fields, and
//! whether it also takes the filters), [`PathId<T>`] the one for `{id}` segments. Every
//! rejection is a problem+json 400 naming the parameter and what was wrong with it; the value
//! types ([`K`], [`Flag`], [`Year`], [`Members`]) say what a valid value is.

use std::fmt;

use anirec_data::{MalId, UserId};
use anirec_model::filters::{self, Filters, Grouping, Vocabulary};
use anirec_model::query::SimilarBy;
use anirec_store::TokenId;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde::{Deserialize, forward_to_deserialize_any};
use serde_json::json;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Required};
use utoipa::{IntoParams, PartialSchema};

use crate::problem::Problem;

/// Default `k` of a list endpoint.
pub const DEFAULT_K: usize = 10;
/// Largest `k`.
pub const MAX_K: usize = 100;
/// Largest `offset`: a list continues ("show more") to its 500th entry.
pub const MAX_OFFSET: usize = 400;

/// What an endpoint's query string may hold: the fields of `Self` (their serde names are the
/// parameter names), plus the filters when [`Takes::FILTERS`].
pub trait Takes: DeserializeOwned {
    /// The endpoint also takes the filters ([`FilterParams`]).
    const FILTERS: bool = false;
    /// Read as a page's form: values trimmed and blank fields (which a form sends for every
    /// field left empty) dropped. Otherwise (the API) a blank value is an error naming it.
    const FORM: bool = false;
}

/// The query string of a request, read into what its endpoint takes.
#[derive(Debug, Clone)]
pub struct Query<T> {
    /// The endpoint's own parameters.
    pub params: T,
    /// The filters (all unset when the endpoint takes none); check them against the model's
    /// vocabulary with [`FilterParams::check`].
    pub filters: FilterParams,
}

impl<S: Send + Sync, T: Takes + Send> FromRequestParts<S> for Query<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        Query::parse(parts.uri.query())
    }
}

impl<T: Takes> Query<T> {
    /// Reads a query string (`None`: there is none). Errors name the parameter: an unknown
    /// one, a blank one (API), one given twice that takes one value, or a value out of range.
    pub fn parse(query: Option<&str>) -> Result<Query<T>, Problem> {
        let mut pairs: Vec<(String, String)> =
            form_urlencoded::parse(query.unwrap_or("").as_bytes())
                .map(|(n, v)| (n.into_owned(), v.into_owned()))
                .collect();
        if T::FORM {
            pairs.retain_mut(|(_, v)| {
                *v = v.trim().to_owned();
                !v.is_empty()
            });
        } else if let Some((name, _)) = pairs.iter().find(|(_, v)| v.is_empty()) {
            return Err(Problem::bad_param(
                name,
                format!("{name} is empty; give it a value or leave it out"),
            ));
        }
        let own = field_names::<T>();
        let filter_names: &[&str] = if T::FILTERS { &filters::PARAMS } else { &[] };
        let known = || own.iter().chain(filter_names).copied();
        for (i, (name, _)) in pairs.iter().enumerate() {
            if !known().any(|k| k == name) {
                return Err(Problem::bad_param(
                    name,
                    format!(
                        "unknown parameter {name:?}; this endpoint takes {}",
                        known().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            if !FilterParams::LISTS.contains(&name.as_str())
                && pairs[..i].iter().any(|(n, _)| n == name)
            {
                return Err(Problem::bad_param(
                    name,
                    format!("{name} is given more than once; give it once"),
                ));
            }
        }
        let (mine, theirs): (Vec<_>, Vec<_>) = pairs
            .into_iter()
            .partition(|(n, _)| own.contains(&n.as_str()));
        Ok(Query {
            params: deserialize(mine)?,
            filters: if T::FILTERS {
                deserialize(theirs)?
            } else {
                FilterParams::default()
            },
        })
    }
}

/// The parameters a [`Query<T>`] reads, for the OpenAPI document: `T`'s, then the filters when
/// `T` takes them.
impl<T: Takes + IntoParams> IntoParams for Query<T> {
    fn into_params(parameter_in: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let mut params = T::into_params(&parameter_in);
        if T::FILTERS {
            params.extend(FilterParams::into_params(&parameter_in));
        }
        params
    }
}

/// Deserialises `T` from name/value pairs, naming the parameter whose value is wrong.
fn deserialize<T: DeserializeOwned>(pairs: Vec<(String, String)>) -> Result<T, Problem> {
    let encoded = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let form = serde_html_form::Deserializer::new(form_urlencoded::parse(encoded.as_bytes()));
    serde_path_to_error::deserialize(form).map_err(|e| {
        let name = match e.path().iter().next() {
            Some(serde_path_to_error::Segment::Map { key }) => key.clone(),
            _ => String::new(),
        };
        if name.is_empty() {
            Problem::bad_request(format!("the query string cannot be read: {}", e.inner()))
        } else {
            Problem::bad_param(&name, format!("{name} {}", e.inner()))
        }
    })
}

/// The parameter names `T` reads: the field names serde's derive hands to `deserialize_struct`.
fn field_names<T: DeserializeOwned>() -> &'static [&'static str] {
    /// A deserializer that only records the fields it is asked for.
    struct Names<'a>(&'a mut &'static [&'static str]);

    impl<'de> Deserializer<'de> for Names<'_> {
        type Error = de::value::Error;

        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("names recorded"))
        }

        forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }

    let mut names: &'static [&'static str] = &[];
    let _ = T::deserialize(Names(&mut names));
    names
}

/// The filters as the query string and the pages' form send them (see [`filters::PARAMS`]);
/// their doc comments are the parameters' descriptions in the OpenAPI document.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct FilterParams {
    /// Only anime with every one of these genres (repeat the parameter or separate with commas).
    #[param(explode)]
    genre: Vec<String>,
    /// Only anime of one of these types (TV, Movie, OVA, ONA, Special, Music).
    #[serde(rename = "type")]
    #[param(explode)]
    kind: Vec<String>,
    /// Earliest start year (a year_min after year_max matches no anime).
    #[param(inline)]
    year_min: Option<Year>,
    /// Latest start year.
    #[param(inline)]
    year_max: Option<Year>,
    /// Fewest MyAnimeList members.
    #[param(inline)]
    min_members: Option<Members>,
    /// Include adult titles (off by default).
    #[param(inline)]
    include_adult: Flag,
    /// Include anime the user already rated (excluded by default).
    #[param(inline)]
    include_rated: Flag,
    /// How franchises are treated: series (one card per franchise, the entry point of one not
    /// started, none from franchises already on the list, which the continue row carries; for
    /// similar anime, the anime's own franchise left out) or none (every anime on its own).
    #[param(inline)]
    group: Option<Group>,
    /// Trade popularity for discovery: 0 (the model's own balance) to 1 (favour less-watched
    /// anime).
    #[param(inline)]
    novelty: Option<Novelty>,
}

impl FilterParams {
    /// The filters that may be given more than once.
    const LISTS: [&str; 2] = ["genre", "type"];

    /// Whether adult titles are allowed.
    pub fn include_adult(&self) -> bool {
        self.include_adult.0
    }

    /// The model's [`Filters`], checked against its genres and types by [`Filters::check`].
    pub fn check(&self, vocabulary: &Vocabulary) -> Result<Filters, Problem> {
        let split = |values: &[String]| -> Vec<String> {
            values
                .iter()
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let filters = Filters {
            genres: split(&self.genre),
            kinds: split(&self.kind),
            year_min: self.year_min.map(|y| y.0),
            year_max: self.year_max.map(|y| y.0),
            min_members: self.min_members.map(|m| m.0),
            include_adult: self.include_adult.0,
            include_rated: self.include_rated.0,
            group: self.group.map_or(Grouping::Series, |g| g.0),
            novelty: self.novelty.map_or(0.0, |n| n.0),
        };
        filters
            .check(vocabulary)
            .map_err(|e| Problem::bad_param(e.param, e.message))?;
        Ok(filters)
    }

    /// The values as sent, for a page's form to show again (`None`: not given).
    pub fn shown(&self) -> ShownFilters {
        ShownFilters {
            genre: self.genre.first().cloned(),
            kind: self.kind.first().cloned(),
            year_min: self.year_min.map(|y| y.0),
            year_max: self.year_max.map(|y| y.0),
            min_members: self.min_members.map(|m| m.0),
            include_adult: self.include_adult.0,
            novelty: self.novelty.map_or(0.0, |n| n.0),
            group_none: self.group.is_some_and(|g| g.0 == Grouping::None),
        }
    }
}

/// The filters a page's form shows filled in.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ShownFilters {
    /// The genre asked for.
    pub genre: Option<String>,
    /// The type asked for.
    pub kind: Option<String>,
    /// Earliest year.
    pub year_min: Option<u16>,
    /// Latest year.
    pub year_max: Option<u16>,
    /// Fewest members.
    pub min_members: Option<u32>,
    /// Adult titles allowed.
    pub include_adult: bool,
    /// The novelty asked for (0 when not given).
    pub novelty: f32,
    /// Every anime on its own (`group=none`).
    pub group_none: bool,
}

/// Declares the OpenAPI schema of a value type. Without a name it is used inline
/// (`#[param(inline)]`: a parameter's description sits beside its schema). A body field that
/// has a doc comment names it instead (`$ty as "Name"`): the field becomes a reference with its
/// description, where an inline schema would be wrapped in an `allOf` with an object.
macro_rules! value_schema {
    ($ty:ty $(as $name:literal)? => $schema:expr) => {
        impl utoipa::PartialSchema for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $schema.into()
            }
        }

        impl utoipa::ToSchema for $ty {
            $(
                fn name() -> std::borrow::Cow<'static, str> {
                    $name.into()
                }
            )?
        }
    };
}
pub(crate) use value_schema;

/// The schema of a whole number from `min` to `max`.
fn whole(min: u64, max: u64) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(min))
        .maximum(Some(max))
}

/// The schema of one of `values`, `default` when left out.
pub(crate) fn one_of(values: &[&str], default: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
        .default(Some(json!(default)))
}

value_schema!(K => whole(1, MAX_K as u64).default(Some(json!(DEFAULT_K))));
value_schema!(Offset => whole(0, MAX_OFFSET as u64).default(Some(json!(0))));
value_schema!(Flag => ObjectBuilder::new()
    .schema_type(Type::Boolean)
    .default(Some(json!(false))));
value_schema!(Year => whole(
    u64::from(*filters::YEARS.start()),
    u64::from(*filters::YEARS.end()),
));
value_schema!(Members => whole(0, u64::from(u32::MAX)));

/// A whole number from 0 to 2³²-1, as ids and counts are read: its schema in the document
/// (`u32`'s own says `int32`, which stops at 2³¹-1). Its format, `int64`, tells clients (and
/// test generators) to send digits only: `1.0` is an integer to JSON Schema, not to a path.
pub struct WholeU32;

value_schema!(WholeU32 as "WholeNumber" => whole(0, u64::from(u32::MAX))
    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64))));
value_schema!(Group => one_of(&["series", "none"], "series"));
value_schema!(Novelty => ObjectBuilder::new()
    .schema_type(Type::Number)
    .minimum(Some(*filters::NOVELTY.start()))
    .maximum(Some(*filters::NOVELTY.end()))
    .default(Some(json!(0))));
value_schema!(By => one_of(&["content", "collab", "hybrid", "story"], "hybrid"));

/// Reads a value from its text with `parse`; `expected` says what a valid one is, as the end
/// of "k must be ...".
pub fn from_text<'de, D, T>(
    d: D,
    expected: impl fmt::Display,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    let text = String::deserialize(d)?;
    parse(&text).ok_or_else(|| de::Error::custom(format!("must be {expected}, found {text:?}")))
}

/// `k`: how many results, 1-100 (default 10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct K(pub usize);

impl Default for K {
    fn default() -> K {
        K(DEFAULT_K)
    }
}

impl<'de> Deserialize<'de> for K {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<K, D::Error> {
        from_text(d, format!("a whole number from 1 to {MAX_K}"), |t| {
            t.parse().ok().filter(|k| (1..=MAX_K).contains(k)).map(K)
        })
    }
}

/// `offset`: how many of the list's best to skip, 0-400 (default 0): the next page of a list
/// starts at the `next_offset` of the one before.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Offset(pub usize);

impl<'de> Deserialize<'de> for Offset {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Offset, D::Error> {
        from_text(d, format!("a whole number from 0 to {MAX_OFFSET}"), |t| {
            t.parse().ok().filter(|o| *o <= MAX_OFFSET).map(Offset)
        })
    }
}

/// The offset of a list's next page: after `offset + shown` when the page was full (`shown ==
/// k`) and the next would start within [`MAX_OFFSET`]; `None` at the list's end.
fn next_offset(offset: usize, k: usize, shown: usize) -> Option<usize> {
    let next = offset + shown;
    (shown == k && next <= MAX_OFFSET).then_some(next)
}

/// One page of a ranked list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The entries from `offset` on, at most `k`.
    pub items: Vec<T>,
    /// Where the next page starts ([`next_offset`]).
    pub next_offset: Option<usize>,
}

impl<T> Page<T> {
    /// The page of `ranked` (best first, at least `offset + k` long where the list is) that
    /// starts at `offset` and holds at most `k`.
    pub fn of(mut ranked: Vec<T>, offset: usize, k: usize) -> Page<T> {
        ranked.truncate(offset + k);
        ranked.drain(..offset.min(ranked.len()));
        Page {
            next_offset: next_offset(offset, k, ranked.len()),
            items: ranked,
        }
    }
}

/// A yes/no parameter: true/false, 1/0, yes/no, on/off (default false).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flag(pub bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Flag, D::Error> {
        from_text(d, "true or false", |t| {
            match t.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Some(Flag(true)),
                "false" | "0" | "no" | "off" => Some(Flag(false)),
                _ => None,
            }
        })
    }
}

/// A start year within [`filters::YEARS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Year(pub u16);

impl<'de> Deserialize<'de> for Year {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Year, D::Error> {
        let (first, last) = (filters::YEARS.start(), filters::YEARS.end());
        from_text(d, format!("a year from {first} to {last}"), |t| {
            t.parse()
                .ok()
                .filter(|y| filters::YEARS.contains(y))
                .map(Year)
        })
    }
}

/// `group`: how a list treats franchises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Group(pub Grouping);

impl<'de> Deserialize<'de> for Group {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Group, D::Error> {
        from_text(d, "series or none", |t| match t {
            "series" => Some(Group(Grouping::Series)),
            "none" => Some(Group(Grouping::None)),
            _ => None,
        })
    }
}

/// `novelty`: a number from 0 to 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Novelty(pub f32);

impl<'de> Deserialize<'de> for Novelty {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Novelty, D::Error> {
        from_text(d, "a number from 0 to 1", |t| {
            t.parse()
                .ok()
                .filter(|n| filters::NOVELTY.contains(n))
                .map(Novelty)
        })
    }
}

/// A number of MyAnimeList members (0 to 2³²-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Members(pub u32);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Members, D::Error> {
        from_text(d, format!("a whole number from 0 to {}", u32::MAX), |t| {
            t.parse().ok().map(Members)
        })
    }
}

/// The `{id}` segment of a path as an id type (`MalId`, `UserId`, `TokenId`): a whole number,
/// or a 400 naming `id`.
#[derive(Debug, Clone, Copy)]
pub struct PathId<T>(pub T);

impl<S: Send + Sync, T: std::str::FromStr + Send> FromRequestParts<S> for PathId<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        let Path(text) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| {
                Problem::bad_param("id", format!("the id in the path cannot be read: {e}"))
            })?;
        text.parse::<T>().map(PathId).map_err(|_| {
            Problem::bad_param("id", format!("id must be a whole number, found {text:?}"))
        })
    }
}

/// What an id type is when it is a path's `{id}`, for the OpenAPI document.
pub trait PathIdDoc {
    /// The parameter's description.
    const DESCRIPTION: &'static str;
    /// The values it takes.
    fn schema() -> RefOr<Schema>;
}

impl PathIdDoc for MalId {
    const DESCRIPTION: &'static str = "MyAnimeList anime id.";
    fn schema() -> RefOr<Schema> {
        WholeU32::schema()
    }
}

impl PathIdDoc for UserId {
    const DESCRIPTION: &'static str = "MyAnimeList user id.";
    fn schema() -> RefOr<Schema> {
        WholeU32::schema()
    }
}

impl PathIdDoc for TokenId {
    const DESCRIPTION: &'static str = "The token's id.";
    fn schema() -> RefOr<Schema> {
        i64::schema()
    }
}

/// The `{id}` parameter a [`PathId<T>`] reads, for the OpenAPI document.
impl<T: PathIdDoc> IntoParams for PathId<T> {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            ParameterBuilder::new()
                .name("id")
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .description(Some(T::DESCRIPTION))
                .schema(Some(T::schema()))
                .build(),
        ]
    }
}

/// A MyAnimeList id (anime or user) from its text, or a 400 naming `param`.
pub fn parse_id(param: &str, text: &str) -> Result<u32, Problem> {
    text.parse::<u32>().map_err(|_| {
        Problem::bad_param(
            param,
            format!("{param} must be a MyAnimeList id (a whole number), found {text:?}"),
        )
    })
}

/// `by` of the similar endpoints: content, collab, hybrid (default) or story, in any case.
#[derive(Debug, Clone, Copy)]
pub struct By(pub SimilarBy);

impl Default for By {
    fn default() -> By {
        By(SimilarBy::Hybrid)
    }
}

impl<'de> Deserialize<'de> for By {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<By, D::Error> {
        from_text(d, "content, collab, hybrid or story", |t| {
            match t.to_ascii_lowercase().as_str() {
                "hybrid" => Some(By(SimilarBy::Hybrid)),
                "content" => Some(By(SimilarBy::Content)),
                "collab" => Some(By(SimilarBy::Collab)),
                "story" => Some(By(SimilarBy::Story)),
                _ => None,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anirec_data::catalogue::{Anime, Catalogue};

    fn vocabulary() -> Vocabulary {
        Vocabulary::of(&Catalogue::new(vec![Anime {
            mal_id: anirec_data::MalId(1),
            genres: vec!["Action".into(), "Sci-Fi".into()],
            kind: Some("TV".into()),
            ..Anime::default()
        }]))
    }

    #[derive(Debug, Deserialize)]
    struct Listing {
        #[serde(default)]
        k: K,
        #[serde(default)]
        explain: Flag,
    }

    impl Takes for Listing {
        const FILTERS: bool = true;
    }

    #[derive(Debug, Deserialize)]
    struct Form {
        #[serde(default)]
        k: K,
    }

    impl Takes for Form {
        const FILTERS: bool = true;
        const FORM: bool = true;
    }

    fn err(query: &str) -> Problem {
        Query::<Listing>::parse(Some(query))
            .and_then(|q| q.filters.check(&vocabulary()).map(|_| ()))
            .unwrap_err()
    }

    #[test]
    fn parameters_parse_into_their_types() {
        let q = Query::<Listing>::parse(Some(
            "genre=action,sci-fi&type=TV&year_min=1990&k=5&include_adult=1&explain=yes",
        ))
        .unwrap();
        assert_eq!((q.params.k, q.params.explain), (K(5), Flag(true)));
        let f = q.filters.check(&vocabulary()).unwrap();
        assert_eq!(f.genres, ["action", "sci-fi"]);
        assert_eq!(f.kinds, ["TV"]);
        assert_eq!(f.year_min, Some(1990));
        assert!(f.include_adult && !f.include_rated);
        let repeated = Query::<Listing>::parse(Some("genre=action&genre=sci-fi")).unwrap();
        assert_eq!(
            repeated.filters.check(&vocabulary()).unwrap().genres,
            ["action", "sci-fi"]
        );
        let none = Query::<Listing>::parse(None).unwrap();
        assert_eq!(none.params.k, K(DEFAULT_K));
        assert_eq!(
            none.filters.check(&vocabulary()).unwrap(),
            Filters::default()
        );
        // An empty year range is no error: it matches nothing.
        let empty = Query::<Listing>::parse(Some("year_min=2001&year_max=2000")).unwrap();
        let f = empty.filters.check(&vocabulary()).unwrap();
        assert_eq!((f.year_min, f.year_max), (Some(2001), Some(2000)));
    }

    #[test]
    fn every_rejection_names_its_parameter() {
        for (query, param) in [
            ("k=0", "k"),
            ("k=101", "k"),
            ("k=ten", "k"),
            ("k=5&k=6", "k"),
            ("genre=Mecha", "genre"),
            ("type=Film", "type"),
            ("year_max=99999", "year_max"),
            ("min_members=-5", "min_members"),
            ("include_adult=maybe", "include_adult"),
            ("explain=perhaps", "explain"),
            ("kk=3", "kk"),
            ("k=5&genre=", "genre"),
        ] {
            assert_eq!(err(query).param.as_deref(), Some(param), "{query}");
        }
        assert!(err("genre=Mecha").detail.contains("Action, Sci-Fi"));
        assert_eq!(
            err("k=0").detail,
            "k must be a whole number from 1 to 100, found \"0\""
        );
        assert!(err("kk=3").detail.contains("k, explain, genre, type"));
    }

    #[test]
    fn a_form_drops_blank_fields_and_trims_values() {
        let form = Query::<Form>::parse(Some("k=5&genre=&year_min=+1990+")).unwrap();
        assert_eq!(form.params.k, K(5));
        let shown = form.filters.shown();
        assert_eq!((shown.genre, shown.year_min), (None, Some(1990)));
    }

    #[test]
    fn an_endpoint_without_filters_refuses_them() {
        #[derive(Debug, Deserialize)]
        struct Plain {
            #[serde(default)]
            k: K,
        }
        impl Takes for Plain {}
        let p = Query::<Plain>::parse(Some("genre=action")).unwrap_err();
        assert_eq!(p.param.as_deref(), Some("genre"));
        assert_eq!(field_names::<Plain>(), ["k"]);
        assert_eq!(Query::<Plain>::parse(Some("k=3")).unwrap().params.k, K(3));
        assert_eq!(
            parse_id("id", "12x").unwrap_err().param.as_deref(),
            Some("id")
        );
    }
}
