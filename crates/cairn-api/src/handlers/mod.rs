//! Thin handlers: parse the request, call a cairn-core service, map the result.

pub mod alias_upload;
pub mod aliases;
pub mod content;
pub mod controlpanels;
pub mod files;
pub mod history;
pub mod jobs;
pub mod linkintegrity;
pub mod login;
pub mod mail;
pub mod principals;
pub mod querystring;
pub mod relations;
pub mod search;
pub mod services;
pub mod sharing;
pub mod system;
pub mod translations;
pub mod trash;
pub mod types;
pub mod vocabularies;
pub mod workingcopy;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult, Code};

/// A JSON response with the given status.
pub fn json(status: StatusCode, body: &Value) -> Response {
    json_typed(status, body, "application/json")
}

/// A JSON response with a specific content type (`application/json+schema`).
pub fn json_typed(status: StatusCode, body: &Value, content_type: &'static str) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut r = (status, bytes).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// A 200 response from already serialized JSON.
pub fn bytes_json(bytes: Vec<u8>) -> Response {
    let mut r = (StatusCode::OK, bytes).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// The request body as a JSON object; an empty body counts as `{}`.
pub fn body_object(body: &[u8]) -> ApiResult<Map<String, Value>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::new(
            Code::Deserialization,
            "Malformed body: a JSON object is expected",
        )),
        Err(e) => Err(ApiError::new(
            Code::Deserialization,
            format!("No JSON object could be decoded: {e}"),
        )),
    }
}
