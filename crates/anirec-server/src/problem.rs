//! Errors as RFC 9457 problem details: an `application/problem+json` body with the status, a
//! short title, a detail that names what was wrong, and the offending parameter when there is one.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An error answer of the API.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// HTTP status.
    #[serde(serialize_with = "status_code")]
    #[schema(value_type = u16)]
    pub status: StatusCode,
    /// Short, fixed summary of the kind of problem.
    pub title: &'static str,
    /// What exactly was wrong.
    pub detail: String,
    /// The query parameter or body field at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    /// Seconds to wait before trying again (sent as `Retry-After`).
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

fn status_code<S: serde::Serializer>(s: &StatusCode, out: S) -> Result<S::Ok, S::Error> {
    out.serialize_u16(s.as_u16())
}

impl Problem {
    fn new(status: StatusCode, title: &'static str, detail: impl Into<String>) -> Problem {
        Problem {
            status,
            title,
            detail: detail.into(),
            param: None,
            retry_after: None,
        }
    }

    /// 400: parameter `param` is wrong.
    pub fn bad_param(param: &str, detail: impl Into<String>) -> Problem {
        Problem {
            param: Some(param.to_owned()),
            ..Problem::new(StatusCode::BAD_REQUEST, "Bad parameter", detail)
        }
    }

    /// 400: the request is malformed in a way no single parameter explains.
    pub fn bad_request(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, "Bad request", detail)
    }

    /// 401: no credentials, or wrong ones (an admin token, an API token, a session, a
    /// password). Sent with `WWW-Authenticate: Bearer`.
    pub fn unauthorized(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::UNAUTHORIZED, "Unauthorized", detail)
    }

    /// 403: a signed-in browser request from another site.
    pub fn forbidden(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::FORBIDDEN, "Forbidden", detail)
    }

    /// 409: the request conflicts with what exists (a username taken).
    pub fn conflict(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::CONFLICT, "Conflict", detail)
    }

    /// 429 with `Retry-After`: too many password checks (sign-ins, password changes, deletions).
    pub fn too_many(retry_after: u64) -> Problem {
        Problem {
            retry_after: Some(retry_after),
            ..Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many attempts",
                format!("too many password attempts; try again in {retry_after} s"),
            )
        }
    }

    /// 404: no such user, anime or route.
    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, "Not found", detail)
    }

    /// 405: the route exists, the method does not.
    pub fn method_not_allowed() -> Problem {
        Problem::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method not allowed",
            "this route does not take that method; see /api/openapi.json",
        )
    }

    /// 413: the body, or what it holds, is over a limit; `detail` names the limit.
    pub fn too_large(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "Body too large", detail)
    }

    /// 415: a body of a type the endpoint does not read.
    pub fn unsupported_media(detail: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported media type",
            detail,
        )
    }

    /// 422: the body was received but cannot be read (bad JSON, bad XML, bad values).
    pub fn unprocessable(detail: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Unreadable request body",
            detail,
        )
    }

    /// 503: no model is loaded yet, or the server is shutting down.
    pub fn unavailable(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::SERVICE_UNAVAILABLE, "Not ready", detail)
    }

    /// 503 with `Retry-After`: the server is at capacity and sheds this request.
    pub fn overloaded(retry_after: u64) -> Problem {
        Problem {
            retry_after: Some(retry_after),
            ..Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Overloaded",
                format!(
                    "the server is answering as many requests as it can; try again in \
                     {retry_after} s"
                ),
            )
        }
    }

    /// 500: something on our side failed (never bad input).
    pub fn internal(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal error", detail)
    }

    /// The same problem about a body field rather than a query parameter.
    pub fn with_param(mut self, param: impl Into<String>) -> Problem {
        self.param = Some(param.into());
        self
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"anirec\""),
            );
        }
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
