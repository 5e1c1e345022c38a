//! Blobs: the content of attachments, debug files and source maps, kept
//! once per content and named by its SHA-256 ([`BlobChecksum`]).
//!
//! Content streams both ways: [`BlobStore::put`] takes a [`Stream`] of
//! [`Bytes`] (an axum request body's `into_data_stream()` is one) and
//! digests it while writing, and [`BlobStore::get`] hands back a
//! [`BlobStream`], so that no blob is ever held whole in memory. A put
//! of content that is already stored keeps the one copy.
//!
//! Besides the SHA-256 a put reports the SHA-1 of the content
//! ([`Sha1Checksum`]): sentry-cli's chunk upload names chunks and whole
//! files by SHA-1, so the symbolication work can map sentry-cli's names
//! to blobs from what `put` returns, without reading the blob again.
//!
//! Blobs are referenced by records elsewhere (attachments, later debug
//! files); the cleanup job deletes blobs nothing references once they are
//! older than a grace period. A put of content that is already stored
//! counts as creating it anew ([`BlobEntry::created`]), so that a sweep
//! never takes content that an upload has just been deduplicated against.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;

use bytes::Bytes;
use futures_core::Stream;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha1::Sha1;
use sha2::{Digest as _, Sha256};

use super::{Page, StoreError};
use crate::protocol::Timestamp;

/// A digest written as lowercase hex that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind}: expected {digits} hex digits, got `{value}`")]
pub struct ParseChecksumError {
    kind: &'static str,
    digits: usize,
    value: String,
}

/// Reads `N` bytes from `2 * N` hex digits (either case).
fn parse_hex<const N: usize>(
    kind: &'static str,
    text: &str,
) -> Result<[u8; N], ParseChecksumError> {
    let error = || ParseChecksumError {
        kind,
        digits: 2 * N,
        value: text.chars().take(2 * N + 8).collect(),
    };
    // `from_str_radix` alone would also take a sign.
    if text.len() != 2 * N || !text.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return Err(error());
    }
    let mut bytes = [0u8; N];
    for (byte, pair) in bytes.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
        let pair = std::str::from_utf8(pair).map_err(|_| error())?;
        *byte = u8::from_str_radix(pair, 16).map_err(|_| error())?;
    }
    Ok(bytes)
}

/// Declares a digest newtype written as lowercase hex, in text and in serde.
macro_rules! hex_digest {
    ($(#[$doc:meta])* $name:ident, $len:literal, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name([u8; $len]);

        impl $name {
            /// Creates the digest from its bytes.
            pub fn from_bytes(bytes: [u8; $len]) -> Self {
                Self(bytes)
            }

            /// Returns the bytes of the digest.
            pub fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({self})", stringify!($name))
            }
        }

        impl FromStr for $name {
            type Err = ParseChecksumError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                parse_hex($kind, text).map(Self)
            }
        }

        impl TryFrom<&[u8]> for $name {
            type Error = ParseChecksumError;

            /// Reads the digest from exactly its number of bytes, as stored.
            fn try_from(bytes: &[u8]) -> Result<Self, Self::Error> {
                <[u8; $len]>::try_from(bytes)
                    .map(Self)
                    .map_err(|_| ParseChecksumError {
                        kind: $kind,
                        digits: 2 * $len,
                        value: format!("{} bytes", bytes.len()),
                    })
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

hex_digest!(
    /// The SHA-256 of a blob's content: its name in a blob store, written
    /// as 64 lowercase hex digits.
    BlobChecksum,
    32,
    "blob checksum"
);

hex_digest!(
    /// The SHA-1 of a blob's content, written as 40 lowercase hex digits:
    /// how sentry-cli names uploaded chunks and files.
    Sha1Checksum,
    20,
    "sha1 checksum"
);

impl BlobChecksum {
    /// Returns the checksum of some content held in memory.
    pub fn of(content: &[u8]) -> Self {
        let mut hasher = BlobHasher::new();
        hasher.update(content);
        hasher.finish().checksum
    }
}

/// What digesting some content found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobDigest {
    /// The SHA-256, the blob's name.
    pub checksum: BlobChecksum,
    /// The SHA-1, for sentry-cli's chunk upload.
    pub sha1: Sha1Checksum,
    /// The length of the content in bytes.
    pub size: u64,
}

/// Digests content chunk by chunk while it streams past: SHA-256, SHA-1
/// and length at once.
#[derive(Clone, Default)]
pub struct BlobHasher {
    sha256: Sha256,
    sha1: Sha1,
    size: u64,
}

impl BlobHasher {
    /// Starts digesting empty content.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the next chunk of the content.
    pub fn update(&mut self, chunk: &[u8]) {
        self.sha256.update(chunk);
        self.sha1.update(chunk);
        self.size = self.size.saturating_add(chunk.len() as u64);
    }

    /// Returns how many bytes were added so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Finishes digesting.
    pub fn finish(self) -> BlobDigest {
        BlobDigest {
            checksum: BlobChecksum(self.sha256.finalize().into()),
            sha1: Sha1Checksum(self.sha1.finalize().into()),
            size: self.size,
        }
    }
}

impl fmt::Debug for BlobHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobHasher")
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// What a [`BlobStore::put`] stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredBlob {
    /// The digests and length of the content.
    pub digest: BlobDigest,
    /// Whether the store held this content already, so that nothing new
    /// was written.
    pub already_stored: bool,
}

/// A blob, as [`BlobStore::list_blobs`] lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobEntry {
    /// Its name.
    pub checksum: BlobChecksum,
    /// Its length in bytes.
    pub size: u64,
    /// When it was stored, or put again since, whichever is later.
    pub created: Timestamp,
}

/// The content of a blob, chunk by chunk. A trait object, so that every
/// backend hands back the same type and an HTTP body can be made of it.
pub type BlobStream = Pin<Box<dyn Stream<Item = Result<Bytes, StoreError>> + Send>>;

/// A blob being read.
pub struct BlobContent {
    /// Its length in bytes.
    pub size: u64,
    /// Its content.
    pub stream: BlobStream,
}

impl fmt::Debug for BlobContent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobContent")
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// Why a [`BlobStore::put`] failed. Whatever the reason, nothing of the
/// content is left in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PutBlobError {
    /// The content is longer than the limit the put was given.
    #[error("blob is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// The stream of content failed, e.g. a client's body was cut off.
    #[error("reading the blob's content failed")]
    Content(#[source] Box<dyn Error + Send + Sync>),
    /// The store failed.
    #[error("storing the blob failed")]
    Store(#[from] StoreError),
}

/// Content-addressed, deduplicated storage of large binary content.
pub trait BlobStore: Send + Sync {
    /// Stores the content of a stream, digesting it on the way; content
    /// that is already stored is kept once (and counts as created now).
    /// With a `max_size`, content longer than that many bytes is refused.
    ///
    /// Nothing is visible under the blob's name before the whole content is
    /// durably written, and a put that fails or is dropped midway leaves
    /// nothing behind.
    ///
    /// # Errors
    ///
    /// Fails when the content is too large or its stream fails, or when the
    /// store fails.
    fn put<S, E>(
        &self,
        content: S,
        max_size: Option<u64>,
    ) -> impl Future<Output = Result<StoredBlob, PutBlobError>> + Send
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: Into<Box<dyn Error + Send + Sync>> + Send;

    /// Opens a blob for reading; `None` when it is not stored.
    fn get(
        &self,
        checksum: &BlobChecksum,
    ) -> impl Future<Output = Result<Option<BlobContent>, StoreError>> + Send;

    /// Returns whether a blob is stored.
    fn exists(
        &self,
        checksum: &BlobChecksum,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deletes a blob; returns whether it was stored.
    fn delete(
        &self,
        checksum: &BlobChecksum,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deletes a blob unless it was created (or put again) at or after
    /// `cutoff`; returns whether it was deleted. The sweep of unreferenced
    /// blobs deletes through this, so that a put racing with it wins.
    fn delete_if_created_before(
        &self,
        checksum: &BlobChecksum,
        cutoff: Timestamp,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Lists blobs by checksum, starting after `after`; at most `limit`.
    fn list_blobs(
        &self,
        after: Option<&BlobChecksum>,
        limit: u64,
    ) -> impl Future<Output = Result<Page<BlobEntry>, StoreError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_known_content() {
        let mut hasher = BlobHasher::new();
        hasher.update(b"a");
        hasher.update(b"bc");
        let digest = hasher.finish();
        assert_eq!(
            digest.checksum.to_string(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            digest.sha1.to_string(),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(digest.size, 3);
        assert_eq!(BlobChecksum::of(b"abc"), digest.checksum);
    }

    #[test]
    fn checksums_read_back_from_text_bytes_and_json() {
        let checksum = BlobChecksum::of(b"content");
        let text = checksum.to_string();
        assert_eq!(text.parse::<BlobChecksum>(), Ok(checksum));
        assert_eq!(text.to_uppercase().parse::<BlobChecksum>(), Ok(checksum));
        assert_eq!(
            BlobChecksum::try_from(&checksum.as_bytes()[..]),
            Ok(checksum)
        );
        let json = serde_json::to_string(&checksum).unwrap_or_default();
        assert_eq!(json, format!("\"{text}\""));
        assert_eq!(
            serde_json::from_str::<BlobChecksum>(&json).ok(),
            Some(checksum)
        );
    }

    #[test]
    fn rejects_malformed_checksums() {
        for bad in [
            "",
            "abc",
            &"g".repeat(64),
            &"a".repeat(63),
            &"é".repeat(32),
            &"+f".repeat(32),
        ] {
            assert!(bad.parse::<BlobChecksum>().is_err(), "{bad}");
        }
        assert!(BlobChecksum::try_from(&[0u8; 31][..]).is_err());
        assert!("a".repeat(40).parse::<Sha1Checksum>().is_ok());
    }
}
