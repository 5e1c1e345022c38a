//! The content of a put as backends read it: chunk by chunk, digested on
//! the way, and cut off past the size limit.

use std::error::Error;
use std::pin::Pin;

use bytes::Bytes;
use futures_util::{Stream, StreamExt as _};
use sentry_core::store::{BlobDigest, BlobHasher, PutBlobError};

/// The stream of a put, digested and limited.
pub(crate) struct Content<S> {
    stream: Pin<Box<S>>,
    hasher: BlobHasher,
    max_size: Option<u64>,
}

impl<S, E> Content<S>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: Into<Box<dyn Error + Send + Sync>>,
{
    /// Reads a stream, refusing content past `max_size` bytes.
    pub(crate) fn new(stream: S, max_size: Option<u64>) -> Self {
        Self {
            stream: Box::pin(stream),
            hasher: BlobHasher::new(),
            max_size,
        }
    }

    /// Returns the next chunk, or `None` at the end of the content.
    ///
    /// # Errors
    ///
    /// Fails when the stream fails or the content grows past the limit.
    pub(crate) async fn next_chunk(&mut self) -> Result<Option<Bytes>, PutBlobError> {
        let Some(item) = self.stream.next().await else {
            return Ok(None);
        };
        let chunk = item.map_err(|error| PutBlobError::Content(error.into()))?;
        let size = self.hasher.size().saturating_add(chunk.len() as u64);
        if let Some(limit) = self.max_size.filter(|limit| size > *limit) {
            return Err(PutBlobError::TooLarge { limit });
        }
        self.hasher.update(&chunk);
        Ok(Some(chunk))
    }

    /// The digests of the content read so far: all of it, after the last chunk.
    pub(crate) fn finish(self) -> BlobDigest {
        self.hasher.finish()
    }
}
