//! Content encodings of request bodies (`Content-Encoding`), decoded in
//! memory with a cap on the decoded size, so that a compression bomb stops
//! at the cap.

use std::io::Read;

use bytes::Bytes;

/// A supported `Content-Encoding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentEncoding {
    /// No encoding.
    Identity,
    /// gzip, possibly several members.
    Gzip,
    /// HTTP's `deflate`: zlib-wrapped, or raw deflate as some clients send.
    Deflate,
    /// Brotli (`br`).
    Brotli,
    /// Zstandard.
    Zstd,
}

/// Why a body does not decode.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// More than the cap came out.
    #[error("decoded body exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The cap.
        limit: usize,
    },
    /// The bytes are not valid in their encoding.
    #[error("failed to decode {} body: {source}", encoding.name())]
    Invalid {
        /// The encoding.
        encoding: ContentEncoding,
        /// What the decoder said.
        #[source]
        source: std::io::Error,
    },
}

impl ContentEncoding {
    /// Reads a `Content-Encoding` value (case and surrounding space do not
    /// matter); `None` for an encoding this server does not decode.
    pub fn from_name(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "" | "identity" => Some(Self::Identity),
            "gzip" | "x-gzip" => Some(Self::Gzip),
            "deflate" => Some(Self::Deflate),
            "br" => Some(Self::Brotli),
            "zstd" => Some(Self::Zstd),
            _ => None,
        }
    }

    /// The encoding's name in `Content-Encoding`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Identity => "identity",
            Self::Gzip => "gzip",
            Self::Deflate => "deflate",
            Self::Brotli => "br",
            Self::Zstd => "zstd",
        }
    }

    /// Decodes a body, failing once more than `limit` bytes come out.
    ///
    /// # Errors
    ///
    /// [`DecodeError::TooLarge`] past the limit, [`DecodeError::Invalid`]
    /// for bytes the decoder refuses.
    pub fn decode(self, raw: &[u8], limit: usize) -> Result<Bytes, DecodeError> {
        let invalid = |source| DecodeError::Invalid {
            encoding: self,
            source,
        };
        let decoded = match self {
            Self::Identity => return capped(raw.to_vec(), limit).map(Bytes::from),
            Self::Gzip => read_capped(flate2::read::MultiGzDecoder::new(raw), limit),
            Self::Deflate => read_capped(flate2::read::ZlibDecoder::new(raw), limit)
                .or_else(|_| read_capped(flate2::read::DeflateDecoder::new(raw), limit)),
            Self::Brotli => read_capped(
                brotli_decompressor::Decompressor::new(raw, 64 * 1024),
                limit,
            ),
            Self::Zstd => zstd::stream::read::Decoder::new(raw)
                .map_err(Some)
                .and_then(|decoder| read_capped(decoder, limit)),
        };
        match decoded {
            Ok(decoded) => Ok(Bytes::from(decoded)),
            Err(Some(source)) => Err(invalid(source)),
            Err(None) => Err(DecodeError::TooLarge { limit }),
        }
    }
}

fn capped(bytes: Vec<u8>, limit: usize) -> Result<Vec<u8>, DecodeError> {
    if bytes.len() > limit {
        return Err(DecodeError::TooLarge { limit });
    }
    Ok(bytes)
}

/// Reads a decoder to the end: `Err(None)` once more than `limit` bytes
/// come out, `Err(Some(_))` when the decoder fails.
fn read_capped(reader: impl Read, limit: usize) -> Result<Vec<u8>, Option<std::io::Error>> {
    let mut out = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    reader.take(cap).read_to_end(&mut out).map_err(Some)?;
    if out.len() > limit {
        return Err(None);
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
        let decode = |encoding: ContentEncoding, raw: &[u8]| encoding.decode(raw, 100).unwrap();
        assert_eq!(&decode(ContentEncoding::Gzip, &gzip(data))[..], data);
        let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        zlib.write_all(data).unwrap();
        assert_eq!(
            &decode(ContentEncoding::Deflate, &zlib.finish().unwrap())[..],
            data
        );
        let mut raw =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        raw.write_all(data).unwrap();
        assert_eq!(
            &decode(ContentEncoding::Deflate, &raw.finish().unwrap())[..],
            data
        );
        let zstd = zstd::encode_all(&data[..], 3).unwrap();
        assert_eq!(&decode(ContentEncoding::Zstd, &zstd)[..], data);
        assert_eq!(&decode(ContentEncoding::Identity, data)[..], data);
    }

    #[test]
    fn caps_decoded_size() {
        let bomb = gzip(&vec![0u8; 1_000_000]);
        assert!(bomb.len() < 10_000);
        assert!(matches!(
            ContentEncoding::Gzip.decode(&bomb, 1000),
            Err(DecodeError::TooLarge { limit: 1000 })
        ));
        assert!(matches!(
            ContentEncoding::Identity.decode(&[0; 1001], 1000),
            Err(DecodeError::TooLarge { limit: 1000 })
        ));
    }

    #[test]
    fn truncated_gzip_is_invalid() {
        let data = gzip(b"some longer text that compresses into several bytes");
        let error = ContentEncoding::Gzip
            .decode(&data[..data.len() / 2], 1000)
            .unwrap_err();
        assert!(matches!(
            error,
            DecodeError::Invalid {
                encoding: ContentEncoding::Gzip,
                ..
            }
        ));
        assert!(error.to_string().starts_with("failed to decode gzip body"));
    }

    #[test]
    fn names_round_trip() {
        for encoding in [
            ContentEncoding::Identity,
            ContentEncoding::Gzip,
            ContentEncoding::Deflate,
            ContentEncoding::Brotli,
            ContentEncoding::Zstd,
        ] {
            assert_eq!(ContentEncoding::from_name(encoding.name()), Some(encoding));
        }
        assert_eq!(
            ContentEncoding::from_name(" X-GZIP "),
            Some(ContentEncoding::Gzip)
        );
        assert_eq!(ContentEncoding::from_name("compress"), None);
    }
}
