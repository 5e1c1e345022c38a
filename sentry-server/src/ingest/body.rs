//! Request bodies: read whole up to a limit, then decoded according to
//! `Content-Encoding` (`gzip`, `deflate`, `br`, `zstd`, `identity`), with the
//! decoded size capped too, so a compression bomb stops at the limit.

use std::io::Read;

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};

use crate::error::ApiError;

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("request body exceeds the limit of {limit} bytes"),
    )
}

/// Reads and decodes a request body.
///
/// # Errors
///
/// 413 past `limit` (raw or decoded), 415 for an unknown encoding, 400 for
/// a body that does not decode or a connection that breaks off.
pub async fn read(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let encoding = content_encoding(headers)?;
    let raw = Limited::new(body, limit).collect().await.map_err(|error| {
        if error.is::<http_body_util::LengthLimitError>() {
            too_large(limit)
        } else {
            ApiError::bad_request("failed to read request body")
        }
    })?;
    let raw = raw.to_bytes();
    match encoding {
        Encoding::Identity => Ok(raw),
        encoding => tokio::task::spawn_blocking(move || decode(encoding, &raw, limit))
            .await
            .map_err(|_| ApiError::bad_request("failed to decode request body"))?,
    }
}

/// A supported `Content-Encoding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Identity,
    Gzip,
    Deflate,
    Brotli,
    Zstd,
}

fn content_encoding(headers: &HeaderMap) -> Result<Encoding, ApiError> {
    let Some(value) = headers.get(axum::http::header::CONTENT_ENCODING) else {
        return Ok(Encoding::Identity);
    };
    let name = value
        .to_str()
        .map_err(|_| ApiError::bad_request("invalid Content-Encoding header"))?
        .trim()
        .to_ascii_lowercase();
    match name.as_str() {
        "" | "identity" => Ok(Encoding::Identity),
        "gzip" | "x-gzip" => Ok(Encoding::Gzip),
        "deflate" => Ok(Encoding::Deflate),
        "br" => Ok(Encoding::Brotli),
        "zstd" => Ok(Encoding::Zstd),
        other => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("unsupported content encoding `{other}`"),
        )),
    }
}

fn decode(encoding: Encoding, raw: &[u8], limit: usize) -> Result<Bytes, ApiError> {
    let result = match encoding {
        Encoding::Identity => return Ok(Bytes::copy_from_slice(raw)),
        Encoding::Gzip => read_capped(flate2::read::MultiGzDecoder::new(raw), limit),
        // HTTP's `deflate` is zlib-wrapped; some clients send raw deflate.
        Encoding::Deflate => read_capped(flate2::read::ZlibDecoder::new(raw), limit)
            .or_else(|_| read_capped(flate2::read::DeflateDecoder::new(raw), limit)),
        Encoding::Brotli => read_capped(
            brotli_decompressor::Decompressor::new(raw, 64 * 1024),
            limit,
        ),
        Encoding::Zstd => zstd::stream::read::Decoder::new(raw)
            .map_err(Decode::Invalid)
            .and_then(|decoder| read_capped(decoder, limit)),
    };
    match result {
        Ok(decoded) => Ok(Bytes::from(decoded)),
        Err(Decode::TooLarge) => Err(too_large(limit)),
        Err(Decode::Invalid(error)) => {
            let name = match encoding {
                Encoding::Gzip => "gzip",
                Encoding::Deflate => "deflate",
                Encoding::Brotli => "br",
                Encoding::Zstd => "zstd",
                Encoding::Identity => "identity",
            };
            Err(ApiError::bad_request(format!(
                "failed to decode {name} body: {error}"
            )))
        }
    }
}

enum Decode {
    TooLarge,
    Invalid(std::io::Error),
}

/// Reads a decoder to the end, failing once more than `limit` bytes come out.
fn read_capped(reader: impl Read, limit: usize) -> Result<Vec<u8>, Decode> {
    let mut out = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    reader
        .take(cap)
        .read_to_end(&mut out)
        .map_err(Decode::Invalid)?;
    if out.len() > limit {
        return Err(Decode::TooLarge);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn decodes_each_encoding() {
        let data = b"{\"hello\":\"world\"}";
        assert_eq!(&decode(Encoding::Gzip, &gzip(data), 100).unwrap()[..], data);
        let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        zlib.write_all(data).unwrap();
        assert_eq!(
            &decode(Encoding::Deflate, &zlib.finish().unwrap(), 100).unwrap()[..],
            data
        );
        let mut raw =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        raw.write_all(data).unwrap();
        assert_eq!(
            &decode(Encoding::Deflate, &raw.finish().unwrap(), 100).unwrap()[..],
            data
        );
        let zstd = zstd::encode_all(&data[..], 3).unwrap();
        assert_eq!(&decode(Encoding::Zstd, &zstd, 100).unwrap()[..], data);
    }

    #[test]
    fn caps_decoded_size() {
        let bomb = gzip(&vec![0u8; 1_000_000]);
        assert!(bomb.len() < 10_000);
        let error = decode(Encoding::Gzip, &bomb, 1000).unwrap_err();
        assert_eq!(error.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[test]
    fn truncated_gzip_is_a_bad_request() {
        let data = gzip(b"some longer text that compresses into several bytes");
        let error = decode(Encoding::Gzip, &data[..data.len() / 2], 1000).unwrap_err();
        assert_eq!(error.status(), StatusCode::BAD_REQUEST);
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
