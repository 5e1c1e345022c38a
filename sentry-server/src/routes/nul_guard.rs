//! Refuses NUL characters anywhere in a web API request: in the path, the
//! query or a JSON body. PostgreSQL cannot hold them in text, so a slug,
//! version or name with one would otherwise fail in the store and answer
//! 500; no name the API knows has one, and SQLite behaves the same way.
//! Ingest is not guarded: events are normalized instead.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::error::ApiError;

/// The largest web API body read, as axum's default for JSON bodies.
const MAX_BODY: usize = 2 * 1024 * 1024;

fn refused() -> ApiError {
    ApiError::bad_request("NUL characters are not allowed")
}

/// Whether a JSON value holds a NUL in a string or a key.
fn has_nul(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(fields) => fields
            .iter()
            .any(|(key, value)| key.contains('\0') || has_nul(value)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

/// The middleware: a NUL can only reach a URI percent-encoded, and a JSON
/// body only as `\u0000`, which parsing reveals.
pub async fn refuse_nul(request: Request, next: Next) -> Response {
    let uri = request.uri();
    let encoded_nul = |text: &str| {
        text.as_bytes()
            .windows(3)
            .any(|w| w.eq_ignore_ascii_case(b"%00"))
    };
    if encoded_nul(uri.path()) || uri.query().is_some_and(encoded_nul) {
        return refused().into_response();
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "request body is too large")
            .into_response();
    };
    if let Ok(value) = serde_json::from_slice::<Value>(&bytes) {
        if has_nul(&value) {
            return refused().into_response();
        }
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nul_in_strings_and_keys() {
        assert!(has_nul(&serde_json::json!({"a": ["x", "y\u{0}"]})));
        assert!(has_nul(&serde_json::json!({"a\u{0}": 1})));
        assert!(!has_nul(
            &serde_json::json!({"a": ["x", 1, null, {"b": "\\u0000"}]})
        ));
    }
}
