//! The request interface.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Other;

/// The HTTP request an application was handling.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// The URL, without the query string.
    pub url: Option<String>,
    /// The HTTP method.
    pub method: Option<String>,
    /// The request body.
    pub data: Option<Value>,
    /// The query string, as text, an object or a list of pairs.
    pub query_string: Option<Value>,
    /// The URL fragment.
    pub fragment: Option<String>,
    /// Cookies, as text, an object or a list of pairs.
    pub cookies: Option<Value>,
    /// Headers, as an object or a list of pairs.
    pub headers: Option<Value>,
    /// Server environment variables.
    pub env: Option<Value>,
    /// The size of the body in bytes.
    pub body_size: Option<u64>,
    /// The content type of `data`, as inferred.
    pub inferred_content_type: Option<String>,
    /// The API style (`graphql`, ...).
    pub api_target: Option<String>,
    /// The protocol (`HTTP/1.1`, ...).
    pub protocol: Option<String>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub other: Other,
}
