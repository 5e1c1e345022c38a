//! Blob stores: where the content of attachments, debug files and source
//! maps lives, by SHA-256 (see [`sentry_core::store::BlobStore`]).
//!
//! | URL | backend | feature |
//! | --- | --- | --- |
//! | `file:///PATH`, `file://RELATIVE/PATH`, or a plain path | [`FsBlobStore`]: files in a folder | none |
//! | `postgres://…`, `postgresql://…` | `postgres::PostgresStore`: chunk rows in the metadata database | `postgres` |
//!
//! The folder is the embedded default; Postgres lets several server
//! processes share blobs without a shared file system.

pub(crate) mod content;
mod fs;

use std::error::Error;
use std::path::PathBuf;

use bytes::Bytes;
use futures_util::Stream;
use sentry_core::protocol::Timestamp;
use sentry_core::store::{
    BlobChecksum, BlobContent, BlobEntry, BlobStore, Page, PutBlobError, StoreError,
    StoreErrorKind, StoredBlob,
};

pub use self::fs::{FsBlobStore, STALE_TEMP_AGE};
use crate::location::ParseLocationError;
#[cfg(feature = "postgres")]
use crate::postgres::PostgresStore;

/// A parsed blob store URL.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BlobLocation {
    /// A folder.
    Folder(PathBuf),
    /// A PostgreSQL database, by its URL as given.
    Postgres(String),
}

impl BlobLocation {
    /// Parses `file://PATH` (relative, or absolute as `file:///abs/path`),
    /// a plain path, or a `postgres://` or `postgresql://` URL.
    ///
    /// # Errors
    ///
    /// Fails for another scheme, a missing path, or Postgres when the
    /// `postgres` feature is not compiled in.
    pub fn parse(url: &str) -> Result<Self, ParseLocationError> {
        let Some((scheme, rest)) = url.split_once(':').filter(|(scheme, _)| is_scheme(scheme))
        else {
            if url.is_empty() {
                return Err(ParseLocationError::MissingPath(url.to_owned()));
            }
            return Ok(Self::Folder(PathBuf::from(url)));
        };
        let path = rest.strip_prefix("//").unwrap_or(rest);
        if path.is_empty() {
            return Err(ParseLocationError::MissingPath(url.to_owned()));
        }
        match scheme {
            "file" => Ok(Self::Folder(PathBuf::from(path))),
            "postgres" | "postgresql" if cfg!(feature = "postgres") => {
                Ok(Self::Postgres(url.to_owned()))
            }
            "postgres" | "postgresql" => Err(ParseLocationError::NotCompiled("postgres")),
            other => Err(ParseLocationError::UnknownScheme(other.to_owned())),
        }
    }
}

/// Whether text before a colon is a URL scheme rather than part of a path:
/// a letter, then letters, digits, `+`, `-` or `.`; one letter alone is a
/// Windows drive.
fn is_scheme(text: &str) -> bool {
    let mut bytes = text.bytes();
    text.len() > 1
        && bytes
            .next()
            .is_some_and(|first| first.is_ascii_alphabetic())
        && bytes.all(|byte| byte.is_ascii_alphanumeric() || b"+-.".contains(&byte))
}

/// Any blob backend.
#[derive(Clone)]
#[non_exhaustive]
pub enum AnyBlobStore {
    /// Files in a folder.
    Folder(FsBlobStore),
    /// Chunk rows in PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(PostgresStore),
}

/// Opens the blob store at a URL, creating (and for Postgres migrating) it
/// as needed.
///
/// # Errors
///
/// Fails for an invalid URL or when the backend cannot be opened.
pub async fn open_blobs(url: &str) -> Result<AnyBlobStore, StoreError> {
    let location = BlobLocation::parse(url)
        .map_err(|error| StoreError::new(StoreErrorKind::InvalidLocation, error))?;
    match location {
        BlobLocation::Folder(path) => Ok(AnyBlobStore::Folder(FsBlobStore::open(&path).await?)),
        #[cfg(feature = "postgres")]
        BlobLocation::Postgres(url) => Ok(AnyBlobStore::Postgres(PostgresStore::open(&url).await?)),
        #[allow(unreachable_patterns)]
        _ => Err(StoreError::from_kind(StoreErrorKind::InvalidLocation)),
    }
}

/// Forwards a call to whichever blob backend the enum holds.
macro_rules! dispatch_blobs {
    ($self:ident, $store:ident => $call:expr) => {
        match *$self {
            Self::Folder(ref $store) => $call.await,
            #[cfg(feature = "postgres")]
            Self::Postgres(ref $store) => $call.await,
        }
    };
}

impl BlobStore for AnyBlobStore {
    async fn put<S, E>(&self, content: S, max_size: Option<u64>) -> Result<StoredBlob, PutBlobError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: Into<Box<dyn Error + Send + Sync>> + Send,
    {
        dispatch_blobs!(self, s => s.put(content, max_size))
    }

    async fn get(&self, checksum: &BlobChecksum) -> Result<Option<BlobContent>, StoreError> {
        dispatch_blobs!(self, s => s.get(checksum))
    }

    async fn exists(&self, checksum: &BlobChecksum) -> Result<bool, StoreError> {
        dispatch_blobs!(self, s => s.exists(checksum))
    }

    async fn delete(&self, checksum: &BlobChecksum) -> Result<bool, StoreError> {
        dispatch_blobs!(self, s => s.delete(checksum))
    }

    async fn delete_if_created_before(
        &self,
        checksum: &BlobChecksum,
        cutoff: Timestamp,
    ) -> Result<bool, StoreError> {
        dispatch_blobs!(self, s => s.delete_if_created_before(checksum, cutoff))
    }

    async fn list_blobs(
        &self,
        after: Option<&BlobChecksum>,
        limit: u64,
    ) -> Result<Page<BlobEntry>, StoreError> {
        dispatch_blobs!(self, s => s.list_blobs(after, limit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_folders_and_plain_paths() {
        for (url, path) in [
            ("file:///var/lib/sentry/blobs", "/var/lib/sentry/blobs"),
            ("file://data/blobs", "data/blobs"),
            ("/srv/blobs", "/srv/blobs"),
            ("data/blobs", "data/blobs"),
            ("C:\\sentry\\blobs", "C:\\sentry\\blobs"),
        ] {
            assert_eq!(
                BlobLocation::parse(url),
                Ok(BlobLocation::Folder(PathBuf::from(path))),
                "{url}"
            );
        }
    }

    #[test]
    fn refuses_other_schemes_and_empty_paths() {
        assert_eq!(
            BlobLocation::parse("sqlite::memory:"),
            Err(ParseLocationError::UnknownScheme("sqlite".to_owned()))
        );
        assert_eq!(
            BlobLocation::parse("s3://bucket/blobs"),
            Err(ParseLocationError::UnknownScheme("s3".to_owned()))
        );
        for url in ["", "file://", "postgres://"] {
            assert!(
                matches!(
                    BlobLocation::parse(url),
                    Err(ParseLocationError::MissingPath(_))
                ),
                "{url}"
            );
        }
    }

    #[test]
    fn reads_postgres_urls_when_compiled_in() {
        let url = "postgres://sentry@127.0.0.1:5432/sentry";
        let expected = if cfg!(feature = "postgres") {
            Ok(BlobLocation::Postgres(url.to_owned()))
        } else {
            Err(ParseLocationError::NotCompiled("postgres"))
        };
        assert_eq!(BlobLocation::parse(url), expected);
    }
}
