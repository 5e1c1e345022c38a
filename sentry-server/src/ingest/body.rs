//! Request bodies: read whole up to a limit, within the ingest memory
//! budget ([`MemoryBudget`]), then decoded according to `Content-Encoding`
//! (`gzip`, `deflate`, `br`, `zstd`, `identity`), with the decoded size
//! capped too, so a compression bomb stops at the limit.

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Limited};
use sentry_core::encoding::{ContentEncoding, DecodeError};

use crate::error::ApiError;
use crate::ingest::memory::{MemoryBudget, Reservation};

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("request body exceeds the limit of {limit} bytes"),
    )
}

/// Reads and decodes a request body, reserving its bytes (raw and
/// decoded) from the ingest memory budget as they arrive; the reservation
/// is to be kept until the request is answered.
///
/// # Errors
///
/// 413 past `limit` (raw or decoded), 415 for an unknown encoding, 400 for
/// a body that does not decode or a connection that breaks off, 429 when
/// the memory budget is spent.
pub async fn read(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    budget: &MemoryBudget,
) -> Result<(Bytes, Reservation), ApiError> {
    let encoding = content_encoding(headers)?;
    let mut reservation = budget.reservation();
    let mut body = Limited::new(body, limit);
    let mut raw = BytesMut::new();
    // Past the budget the rest of the body is read and dropped, so that
    // the client, still sending, gets the 429 rather than a broken
    // connection.
    let mut refused = None;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| {
            if error.is::<http_body_util::LengthLimitError>() {
                too_large(limit)
            } else {
                ApiError::bad_request("failed to read request body")
            }
        })?;
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        if refused.is_some() {
            continue;
        }
        match reservation.grow(chunk.len()) {
            Ok(()) => raw.extend_from_slice(&chunk),
            Err(error) => {
                refused = Some(error);
                raw = BytesMut::new();
                reservation = budget.reservation();
            }
        }
    }
    if let Some(error) = refused {
        return Err(error);
    }
    let raw = raw.freeze();
    let decoded = match encoding {
        ContentEncoding::Identity => raw,
        encoding => tokio::task::spawn_blocking(move || decode(encoding, &raw, limit))
            .await
            .map_err(|_| ApiError::bad_request("failed to decode request body"))??,
    };
    if encoding != ContentEncoding::Identity {
        reservation.grow(decoded.len())?;
    }
    Ok((decoded, reservation))
}

fn content_encoding(headers: &HeaderMap) -> Result<ContentEncoding, ApiError> {
    let Some(value) = headers.get(axum::http::header::CONTENT_ENCODING) else {
        return Ok(ContentEncoding::Identity);
    };
    let name = value
        .to_str()
        .map_err(|_| ApiError::bad_request("invalid Content-Encoding header"))?;
    ContentEncoding::from_name(name).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "unsupported content encoding `{}`",
                name.trim().to_ascii_lowercase()
            ),
        )
    })
}

fn decode(encoding: ContentEncoding, raw: &[u8], limit: usize) -> Result<Bytes, ApiError> {
    encoding.decode(raw, limit).map_err(|error| match error {
        DecodeError::TooLarge { .. } => too_large(limit),
        DecodeError::Invalid { .. } => ApiError::bad_request(error.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bomb_is_too_large_and_bad_bytes_a_bad_request() {
        let error = decode(ContentEncoding::Zstd, b"not zstd", 1000).unwrap_err();
        assert_eq!(error.status(), StatusCode::BAD_REQUEST);
        let error = decode(ContentEncoding::Identity, &[0; 1001], 1000).unwrap_err();
        assert_eq!(error.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[test]
    fn unknown_encoding_is_unsupported() {
        let mut headers = HeaderMap::new();
        headers.insert(
            axum::http::header::CONTENT_ENCODING,
            "compress".parse().unwrap(),
        );
        assert_eq!(
            content_encoding(&headers).unwrap_err().status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        );
    }
}
