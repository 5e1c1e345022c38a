//! Reading the JSON body of a web API request, the one way handlers do.

use serde::Deserialize;

use crate::error::ApiError;

/// Reads a JSON body into a type.
///
/// # Errors
///
/// 400 naming what does not read.
pub fn parse<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
}
