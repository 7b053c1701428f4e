//! [`SmallJson<T>`]: the extractor of the small JSON bodies the account endpoints take
//! (credentials, one list entry). At most [`MAX_SMALL_JSON`] bytes, `application/json` only, read
//! into `T` with an error that names the field at fault (422), so parsing one is microseconds
//! and stays on the async side. Lists of ratings and exports go through [`crate::upload`].

use axum::extract::{FromRequest, Request};
use axum::http::header;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::de::DeserializeOwned;

use crate::problem::Problem;

/// Largest small JSON body, in bytes.
pub const MAX_SMALL_JSON: usize = 64 << 10;

/// A JSON body read into `T`.
#[derive(Debug, Clone)]
pub struct SmallJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for SmallJson<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, _: &S) -> Result<SmallJson<T>, Problem> {
        let kind = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if kind != "application/json" {
            return Err(Problem::unsupported_media(format!(
                "this endpoint reads application/json, not {kind:?}"
            )));
        }
        let bytes = Limited::new(req.into_body(), MAX_SMALL_JSON)
            .collect()
            .await
            .map_err(|e| {
                if e.downcast_ref::<LengthLimitError>().is_some() {
                    Problem::too_large(format!(
                        "the body is over the limit of {MAX_SMALL_JSON} bytes for this endpoint"
                    ))
                } else {
                    Problem::bad_request(format!("the request body could not be received: {e}"))
                }
            })?
            .to_bytes();
        let mut json = serde_json::Deserializer::from_slice(&bytes);
        let value = serde_path_to_error::deserialize(&mut json).map_err(|e| {
            let path = e.path().to_string();
            let problem = Problem::unprocessable(format!("the body cannot be read: {}", e.inner()));
            if path == "." {
                problem
            } else {
                problem.with_param(path)
            }
        })?;
        json.end()
            .map_err(|e| Problem::unprocessable(format!("the body cannot be read: {e}")))?;
        Ok(SmallJson(value))
    }
}
