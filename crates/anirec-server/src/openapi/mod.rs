//! The parts of the OpenAPI 3.1 document that are not any one handler's: the error answers many
//! operations share ([`responses`]), the schemas of what has no Rust type of its own
//! ([`schemas`]: the MyAnimeList export, the upload form), the security schemes
//! ([`SecuritySchemes`]), and the document's form for a served model ([`for_model`]). The
//! document itself is generated from the handlers' annotations and the types they read and
//! send (`routes::ApiDoc`).

pub mod responses;
pub mod schemas;

use anirec_model::filters::Vocabulary;
use utoipa::Modify;
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};

/// Adds the security schemes the operations name (`security(("adminToken" = []))`): the admin
/// token, a personal API token and the browser's session cookie.
pub struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, doc: &mut OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        let bearer = |description: &str| {
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(description))
                    .build(),
            )
        };
        components.add_security_scheme(
            "adminToken",
            bearer("The token given to `anirec serve --admin-token` (or ANIREC_ADMIN_TOKEN)."),
        );
        components.add_security_scheme(
            "apiToken",
            bearer("A personal API token from POST /api/v1/tokens (64 hex digits)."),
        );
        components.add_security_scheme(
            "sessionCookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::SESSION_COOKIE,
                "The browser session cookie set by POST /api/v1/sessions. Requests that change \
                 something must also carry this site's Origin.",
            ))),
        );
    }
}

/// What a served model changes in the document.
#[derive(Debug, Clone, Copy)]
pub struct ModelTerms<'a> {
    /// The model's genres and types: the only values of the `genre` and `type` parameters (the
    /// server refuses others), so a client that follows the document sends nothing refused.
    pub vocabulary: &'a Vocabulary,
    /// Whether the model has story embeddings (without them, `by` of the similar endpoint
    /// loses `story`).
    pub story: bool,
}

/// The document as JSON, with a served model's terms when there is one.
pub fn for_model(
    doc: &OpenApi,
    model: Option<ModelTerms<'_>>,
) -> Result<bytes::Bytes, serde_json::Error> {
    let mut doc = serde_json::to_value(doc)?;
    if let Some(model) = model {
        restrict_parameters(&mut doc, model);
    }
    Ok(serde_json::to_vec(&doc)?.into())
}

/// Narrows the `genre`, `type` and `by` parameters of every operation to what `model` serves.
fn restrict_parameters(doc: &mut serde_json::Value, model: ModelTerms<'_>) {
    let parameters = doc["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(|path| path.as_object_mut())
        .flat_map(|path| path.values_mut())
        .filter_map(|operation| operation.get_mut("parameters"))
        .filter_map(|p| p.as_array_mut())
        .flatten();
    for parameter in parameters {
        match parameter["name"].as_str() {
            Some("by") if !model.story => {
                if let Some(values) = parameter["schema"]["enum"].as_array_mut() {
                    values.retain(|v| v != "story");
                }
            }
            Some("genre") => {
                parameter["schema"]["items"]["enum"] = serde_json::json!(model.vocabulary.genres)
            }
            Some("type") => {
                parameter["schema"]["items"]["enum"] = serde_json::json!(model.vocabulary.types)
            }
            _ => {}
        }
    }
}
