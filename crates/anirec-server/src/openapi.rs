//! The OpenAPI 3.1 document of the API ([`OPENAPI`], kept in `assets/openapi.json` and checked
//! against the router by the tests), and its form for a served model ([`openapi_for`]).

use anirec_model::filters::Vocabulary;

/// The OpenAPI 3.1 document of the API.
pub const OPENAPI: &str = include_str!("../assets/openapi.json");

/// The OpenAPI document for a model: [`OPENAPI`] with the model's genres and types as the only
/// values of the `genre` and `type` parameters (the server refuses others), so a client that
/// follows the document sends nothing the server rejects; for a model without story embeddings,
/// `by` of the similar endpoint without `story`.
pub fn openapi_for(vocabulary: &Vocabulary, story: bool) -> bytes::Bytes {
    let Ok(mut doc) = serde_json::from_str::<serde_json::Value>(OPENAPI) else {
        return bytes::Bytes::from_static(OPENAPI.as_bytes());
    };
    let operations = doc["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(|path| path.as_object_mut())
        .flat_map(|path| path.values_mut());
    for operation in operations {
        let Some(parameters) = operation
            .get_mut("parameters")
            .and_then(|p| p.as_array_mut())
        else {
            continue;
        };
        for parameter in parameters {
            if !story && parameter["name"] == "by" {
                let without: Vec<serde_json::Value> = parameter["schema"]["enum"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|v| *v != "story")
                    .cloned()
                    .collect();
                parameter["schema"]["enum"] = serde_json::Value::Array(without);
                continue;
            }
            let values = match parameter["name"].as_str() {
                Some("genre") => &vocabulary.genres,
                Some("type") => &vocabulary.types,
                _ => continue,
            };
            parameter["schema"]["items"]["enum"] = serde_json::json!(values);
        }
    }
    serde_json::to_vec(&doc).map_or_else(
        |_| bytes::Bytes::from_static(OPENAPI.as_bytes()),
        Into::into,
    )
}
