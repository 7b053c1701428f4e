//! The embedded static files (style sheet, script, icon) and their content-hashed names: pages
//! link `/static/app.<hash>.js`, which is cached for a year and never changes, because a new
//! file has a new name. The plain name (`/static/app.js`) and a name with another hash (a page of
//! the previous release during a rolling update) still answer, with the current file and a short
//! cache.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::extract::rejection::PathRejection;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::pages::not_found_page;

/// How long a file under its content-hashed name may be cached: a year, unchanged.
const HASHED_CACHE: &str = "public, max-age=31536000, immutable";
/// How long a file under any other name may be cached.
const PLAIN_CACHE: &str = "public, max-age=3600";

/// One embedded file.
pub struct StaticFile {
    /// Its plain name, `app.js`.
    pub name: &'static str,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// Its bytes.
    pub body: &'static str,
    /// Its name with the content's hash before the extension, `app.1f2e3d4c5b6a7980.js`.
    pub hashed: String,
}

/// The embedded files, with their hashed names computed once.
pub fn files() -> &'static [StaticFile] {
    static FILES: OnceLock<Vec<StaticFile>> = OnceLock::new();
    FILES.get_or_init(|| {
        [
            (
                "style.css",
                "text/css; charset=utf-8",
                include_str!("../assets/style.css"),
            ),
            (
                "app.js",
                "text/javascript; charset=utf-8",
                include_str!("../assets/app.js"),
            ),
            (
                "favicon.svg",
                "image/svg+xml",
                include_str!("../assets/favicon.svg"),
            ),
        ]
        .into_iter()
        .map(|(name, content_type, body)| StaticFile {
            name,
            content_type,
            body,
            hashed: hashed_name(name, body),
        })
        .collect()
    })
}

/// The path a page links a static file by: its content-hashed name (`/static/app.<hash>.js`);
/// the plain path for a name that is not embedded.
pub fn url(name: &str) -> String {
    match files().iter().find(|f| f.name == name) {
        Some(f) => format!("/static/{}", f.hashed),
        None => format!("/static/{name}"),
    }
}

/// `name` with the 64-bit FNV-1a hash of `body` (16 hex digits) before its extension.
fn hashed_name(name: &str, body: &str) -> String {
    let hash = body.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    match name.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}.{hash:016x}.{ext}"),
        None => format!("{name}.{hash:016x}"),
    }
}

/// The embedded file a requested name stands for, and whether it was asked by its current hashed
/// name: `app.js`, `app.<current hash>.js` and `app.<16 hex digits>.js` are all `app.js`.
fn resolve(requested: &str) -> Option<(&'static StaticFile, bool)> {
    files().iter().find_map(|f| {
        if requested == f.hashed {
            return Some((f, true));
        }
        if requested == f.name {
            return Some((f, false));
        }
        let (stem, ext) = f.name.rsplit_once('.')?;
        let hash = requested
            .strip_prefix(stem)?
            .strip_prefix('.')?
            .strip_suffix(ext)?
            .strip_suffix('.')?;
        (hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit())).then_some((f, false))
    })
}

/// `GET /static/{file}`: an embedded file by its plain or hashed name.
pub async fn serve(file: Result<Path<String>, PathRejection>) -> Response {
    let requested = file.map(|p| p.0).unwrap_or_default();
    match resolve(&requested) {
        Some((f, current)) => (
            [
                (header::CONTENT_TYPE, f.content_type),
                (
                    header::CACHE_CONTROL,
                    if current { HASHED_CACHE } else { PLAIN_CACHE },
                ),
            ],
            f.body,
        )
            .into_response(),
        None => not_found_page(&format!("There is no file {requested:?}.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hashed_name_changes_with_the_content_and_keeps_the_extension() {
        let a = hashed_name("app.js", "let x = 1;");
        assert!(a.starts_with("app.") && a.ends_with(".js") && a.len() == "app..js".len() + 16);
        assert_ne!(a, hashed_name("app.js", "let x = 2;"));
        assert_eq!(a, hashed_name("app.js", "let x = 1;"));
    }

    #[test]
    fn plain_current_and_stale_hashed_names_resolve_and_others_do_not() {
        let app = files().iter().find(|f| f.name == "app.js").unwrap();
        assert!(matches!(resolve(&app.hashed), Some((f, true)) if f.name == "app.js"));
        assert!(matches!(resolve("app.js"), Some((f, false)) if f.name == "app.js"));
        let stale = if app.hashed.contains("0123456789abcdef") {
            "app.fedcba9876543210.js"
        } else {
            "app.0123456789abcdef.js"
        };
        assert!(matches!(resolve(stale), Some((f, false)) if f.name == "app.js"));
        for bad in [
            "app.css",
            "app.zz23456789abcdef.js",
            "app..js",
            "secret.txt",
            "../Cargo.toml",
            "",
        ] {
            assert!(resolve(bad).is_none(), "{bad}");
        }
        assert_eq!(url("style.css"), format!("/static/{}", files()[0].hashed));
    }
}
