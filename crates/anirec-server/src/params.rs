//! Query-string parameters shared by the API and the pages: `k`, the model's filters, flags and
//! ids, each parsed with an error that names the parameter and what was wrong with it.

use anirec_model::filters::{self, Filters, Vocabulary};
use axum::extract::Path;
use axum::extract::rejection::PathRejection;

use crate::problem::Problem;

/// Default and largest `k` of a list endpoint.
pub const DEFAULT_K: usize = 10;
/// Largest `k`.
pub const MAX_K: usize = 100;

/// The decoded query string of one request.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Decodes the query string of an API request (`None`: no query). Values are taken as
    /// sent; an empty one is an error naming it (leave the parameter out instead), as the
    /// OpenAPI document says.
    pub fn parse(query: Option<&str>) -> Result<Params, Problem> {
        let params = Params::decode(query)?;
        if let Some((name, _)) = params.pairs.iter().find(|(_, v)| v.is_empty()) {
            return Err(Problem::bad_param(
                name,
                format!("{name} is empty; give it a value or leave it out"),
            ));
        }
        Ok(params)
    }

    /// Decodes the query string of a page's form: values trimmed, and empty fields (which an
    /// HTML form sends for every field left blank) dropped.
    pub fn parse_form(query: Option<&str>) -> Result<Params, Problem> {
        let mut params = Params::decode(query)?;
        params.pairs.retain_mut(|(_, v)| {
            *v = v.trim().to_owned();
            !v.is_empty()
        });
        Ok(params)
    }

    fn decode(query: Option<&str>) -> Result<Params, Problem> {
        let pairs = serde_urlencoded::from_str::<Vec<(String, String)>>(query.unwrap_or(""))
            .map_err(|e| {
                Problem::bad_request(format!("the query string cannot be decoded: {e}"))
            })?;
        Ok(Params { pairs })
    }

    /// Rejects parameters the endpoint does not know (a misspelt filter would otherwise be
    /// silently ignored).
    pub fn only(self, known: &[&str]) -> Result<Params, Problem> {
        if let Some((name, _)) = self
            .pairs
            .iter()
            .find(|(n, _)| !known.contains(&n.as_str()))
        {
            return Err(Problem::bad_param(
                name,
                format!(
                    "unknown parameter {name:?}; this endpoint takes {}",
                    known.join(", ")
                ),
            ));
        }
        Ok(self)
    }

    /// The last value of a parameter, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a repeatable parameter, comma-separated values split.
    fn all(&self, name: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(n, _)| n == name)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// A number parameter within `range`.
    pub fn number<T>(
        &self,
        name: &str,
        range: std::ops::RangeInclusive<T>,
    ) -> Result<Option<T>, Problem>
    where
        T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
    {
        let Some(text) = self.get(name) else {
            return Ok(None);
        };
        match text.parse::<T>() {
            Ok(v) if range.contains(&v) => Ok(Some(v)),
            _ => Err(Problem::bad_param(
                name,
                format!(
                    "{name} must be a whole number from {} to {}, found {text:?}",
                    range.start(),
                    range.end()
                ),
            )),
        }
    }

    /// `k`: how many results, 1-100 (default 10).
    pub fn k(&self) -> Result<usize, Problem> {
        Ok(self.number("k", 1..=MAX_K)?.unwrap_or(DEFAULT_K))
    }

    /// A yes/no parameter: true/false, 1/0, yes/no, on/off (default false).
    pub fn flag(&self, name: &str) -> Result<bool, Problem> {
        match self.get(name).map(str::to_ascii_lowercase).as_deref() {
            None => Ok(false),
            Some("true" | "1" | "yes" | "on") => Ok(true),
            Some("false" | "0" | "no" | "off") => Ok(false),
            Some(other) => Err(Problem::bad_param(
                name,
                format!("{name} must be true or false, found {other:?}"),
            )),
        }
    }

    /// The filters (named in [`filters::PARAMS`]), parsed, then checked against the
    /// catalogue's genres and types by [`Filters::check`].
    pub fn filters(&self, vocabulary: &Vocabulary) -> Result<Filters, Problem> {
        let filters = Filters {
            genres: self.all("genre"),
            kinds: self.all("type"),
            year_min: self.number("year_min", filters::YEARS)?,
            year_max: self.number("year_max", filters::YEARS)?,
            min_members: self.number("min_members", 0..=u32::MAX)?,
            include_adult: self.flag("include_adult")?,
            include_rated: self.flag("include_rated")?,
        };
        filters
            .check(vocabulary)
            .map_err(|e| Problem::bad_param(e.param, e.message))?;
        Ok(filters)
    }
}

/// The `{id}` segment of a path, or a 400 naming it.
pub fn segment(path: Result<Path<String>, PathRejection>) -> Result<String, Problem> {
    path.map(|p| p.0)
        .map_err(|e| Problem::bad_param("id", format!("the id in the path cannot be read: {e}")))
}

/// A MyAnimeList id from a path segment.
pub fn parse_id(param: &str, text: &str) -> Result<u32, Problem> {
    text.parse::<u32>().map_err(|_| {
        Problem::bad_param(
            param,
            format!("{param} must be a MyAnimeList id (a whole number), found {text:?}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use anirec_data::catalogue::{Anime, Catalogue};

    fn catalogue() -> Catalogue {
        Catalogue::new(vec![Anime {
            mal_id: anirec_data::MalId(1),
            genres: vec!["Action".into(), "Sci-Fi".into()],
            kind: Some("TV".into()),
            ..Anime::default()
        }])
    }

    #[test]
    fn filters_parse_and_name_what_is_wrong() {
        let p = Params::parse(Some(
            "genre=action,sci-fi&type=TV&year_min=1990&k=5&include_adult=1",
        ))
        .unwrap();
        let f = p.filters(&Vocabulary::of(&catalogue())).unwrap();
        assert_eq!(f.genres, ["action", "sci-fi"]);
        assert_eq!(f.year_min, Some(1990));
        assert!(f.include_adult && !f.include_rated);
        assert_eq!(p.k().unwrap(), 5);

        let err = |q: &str| {
            let p = Params::parse(Some(q)).unwrap();
            p.k()
                .and(p.filters(&Vocabulary::of(&catalogue())).map(|_| 0))
                .unwrap_err()
        };
        assert_eq!(err("k=0").param.as_deref(), Some("k"));
        assert_eq!(err("k=101").param.as_deref(), Some("k"));
        assert_eq!(err("k=ten").param.as_deref(), Some("k"));
        assert_eq!(err("genre=Mecha").param.as_deref(), Some("genre"));
        assert!(err("genre=Mecha").detail.contains("Action, Sci-Fi"));
        assert_eq!(err("type=Film").param.as_deref(), Some("type"));
        // An empty year range is no error: it matches nothing.
        let empty = Params::parse(Some("year_min=2001&year_max=2000")).unwrap();
        let f = empty.filters(&Vocabulary::of(&catalogue())).unwrap();
        assert_eq!((f.year_min, f.year_max), (Some(2001), Some(2000)));
        assert_eq!(err("year_max=99999").param.as_deref(), Some("year_max"));
        assert_eq!(
            err("include_adult=maybe").param.as_deref(),
            Some("include_adult")
        );
        // The API refuses an empty value by name; a page's form drops it.
        assert_eq!(
            Params::parse(Some("k=5&genre="))
                .unwrap_err()
                .param
                .as_deref(),
            Some("genre")
        );
        let form = Params::parse_form(Some("k=5&genre=&year_min=+1990+")).unwrap();
        assert_eq!(
            (form.get("genre"), form.get("year_min")),
            (None, Some("1990"))
        );
        let unknown = Params::parse(Some("kk=3"))
            .unwrap()
            .only(&["k"])
            .unwrap_err();
        assert_eq!(unknown.param.as_deref(), Some("kk"));
        assert_eq!(
            parse_id("id", "12x").unwrap_err().param.as_deref(),
            Some("id")
        );
    }
}
