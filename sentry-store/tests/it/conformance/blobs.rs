//! Behaviours of blob stores, on a folder and on Postgres: [`blob_suite!`]
//! makes a test per behaviour and backend. Each behaviour puts content of
//! its own (random bytes), so tests share a database and run in parallel.

use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt as _, TryStreamExt as _, stream};
use sentry_core::EventId;
use sentry_core::protocol::Timestamp;
use sentry_core::store::{BlobChecksum, BlobEntry, BlobStore, PutBlobError, StoredBlob};
use sentry_store::{AnyBlobStore, open_blobs};
use tempfile::TempDir;

/// A blob store, and the folder of its files.
pub struct Blobs {
    pub store: AnyBlobStore,
    _dir: Option<TempDir>,
}

/// Files in a temporary folder.
async fn folder() -> Blobs {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().join("blobs").display());
    Blobs {
        store: open_blobs(&url).await.unwrap(),
        _dir: Some(dir),
    }
}

/// Chunk rows in the test database.
#[cfg(feature = "postgres")]
async fn postgres() -> Blobs {
    Blobs {
        store: open_blobs(&super::postgres_url()).await.unwrap(),
        _dir: None,
    }
}

/// Declares, for a blob backend, one test per behaviour.
macro_rules! blob_suite {
    ($backend:ident, $open:ident) => {
        mod $backend {
            blob_suite!(@cases $open;
                round_trips_a_large_blob_streamed_in_small_chunks,
                stores_identical_content_once,
                a_repeated_put_counts_as_created_anew,
                refuses_content_over_the_limit,
                a_failed_stream_stores_nothing,
                stores_empty_content,
                deletes_blobs,
                deletes_only_blobs_created_before_a_cutoff,
                lists_blobs_by_checksum_in_pages,
            );
        }
    };
    (@cases $open:ident; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let blobs = super::$open().await;
                super::$case(&blobs.store).await;
            }
        )*
    };
}

blob_suite!(folder_of_files, folder);
#[cfg(feature = "postgres")]
blob_suite!(postgres_rows, postgres);

/// Random bytes no other test puts.
fn random_content(length: usize) -> Vec<u8> {
    let mut content = Vec::with_capacity(length + 16);
    while content.len() < length {
        content.extend_from_slice(EventId::new_random().as_bytes());
    }
    content.truncate(length);
    content
}

/// Content as a stream of chunks of `chunk` bytes.
fn chunked(
    content: &[u8],
    chunk: usize,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    let chunks: Vec<_> = content
        .chunks(chunk)
        .map(|part| Ok(Bytes::copy_from_slice(part)))
        .collect();
    stream::iter(chunks)
}

async fn put(store: &AnyBlobStore, content: &[u8]) -> StoredBlob {
    store.put(chunked(content, 1000), None).await.unwrap()
}

/// Reads a blob whole; also returns how many chunks it came in.
async fn read(store: &AnyBlobStore, checksum: &BlobChecksum) -> Option<(Vec<u8>, usize)> {
    let blob = store.get(checksum).await.unwrap()?;
    let chunks: Vec<Bytes> = blob.stream.try_collect().await.unwrap();
    let content = chunks.concat();
    assert_eq!(content.len() as u64, blob.size);
    Some((content, chunks.len()))
}

/// Every blob, page by page.
async fn list_all(store: &AnyBlobStore, limit: u64) -> Vec<BlobEntry> {
    let mut entries: Vec<BlobEntry> = Vec::new();
    loop {
        let after = entries.last().map(|entry| entry.checksum);
        let page = store.list_blobs(after.as_ref(), limit).await.unwrap();
        assert!(page.items.len() as u64 <= limit);
        entries.extend(page.items);
        if !page.has_more {
            return entries;
        }
    }
}

pub async fn round_trips_a_large_blob_streamed_in_small_chunks(store: &AnyBlobStore) {
    let content = random_content(3 * 1024 * 1024 + 123);
    let stored = store.put(chunked(&content, 7919), None).await.unwrap();
    assert_eq!(stored.digest.checksum, BlobChecksum::of(&content));
    assert_eq!(stored.digest.size, content.len() as u64);
    assert!(!stored.already_stored);
    assert!(store.exists(&stored.digest.checksum).await.unwrap());
    let (read_back, chunks) = read(store, &stored.digest.checksum).await.unwrap();
    assert!(read_back == content, "the content read back differs");
    assert!(chunks > 1, "a large blob is read in chunks, not whole");
}

pub async fn stores_identical_content_once(store: &AnyBlobStore) {
    let content = random_content(5000);
    let first = put(store, &content).await;
    let second = store.put(chunked(&content, 7), None).await.unwrap();
    assert_eq!(second.digest, first.digest);
    assert!(!first.already_stored);
    assert!(second.already_stored);
    let copies = list_all(store, 1000)
        .await
        .into_iter()
        .filter(|entry| entry.checksum == first.digest.checksum)
        .count();
    assert_eq!(copies, 1);
    assert_eq!(
        read(store, &first.digest.checksum).await.unwrap().0,
        content
    );
}

pub async fn a_repeated_put_counts_as_created_anew(store: &AnyBlobStore) {
    let content = random_content(100);
    let first = put(store, &content).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let between = Timestamp::now();
    tokio::time::sleep(Duration::from_millis(20)).await;
    put(store, &content).await;
    let checksum = first.digest.checksum;
    assert!(
        !store
            .delete_if_created_before(&checksum, between)
            .await
            .unwrap(),
        "the second put made the blob new again"
    );
    assert!(store.exists(&checksum).await.unwrap());
}

pub async fn refuses_content_over_the_limit(store: &AnyBlobStore) {
    let content = random_content(10_000);
    let checksum = BlobChecksum::of(&content);
    let error = store
        .put(chunked(&content, 1000), Some(9_999))
        .await
        .unwrap_err();
    assert!(
        matches!(error, PutBlobError::TooLarge { limit: 9_999 }),
        "{error:?}"
    );
    assert!(!store.exists(&checksum).await.unwrap());
    // The limit itself is allowed.
    let stored = store
        .put(chunked(&content, 1000), Some(10_000))
        .await
        .unwrap();
    assert_eq!(stored.digest.checksum, checksum);
}

pub async fn a_failed_stream_stores_nothing(store: &AnyBlobStore) {
    let content = random_content(2 * 1024 * 1024 + 5);
    let broken = chunked(&content, 64 * 1024).chain(stream::iter([Err(std::io::Error::other(
        "connection reset",
    ))]));
    let error = store.put(broken, None).await.unwrap_err();
    assert!(matches!(error, PutBlobError::Content(_)), "{error:?}");
    assert!(!store.exists(&BlobChecksum::of(&content)).await.unwrap());
    let listed = list_all(store, 1000).await;
    assert!(
        !listed
            .iter()
            .any(|entry| entry.checksum == BlobChecksum::of(&content))
    );
}

pub async fn stores_empty_content(store: &AnyBlobStore) {
    let stored = store
        .put(stream::empty::<Result<Bytes, std::io::Error>>(), None)
        .await
        .unwrap();
    assert_eq!(stored.digest.size, 0);
    assert_eq!(stored.digest.checksum, BlobChecksum::of(b""));
    let (content, _) = read(store, &stored.digest.checksum).await.unwrap();
    assert!(content.is_empty());
}

pub async fn deletes_blobs(store: &AnyBlobStore) {
    let content = random_content(3000);
    let checksum = put(store, &content).await.digest.checksum;
    assert!(store.delete(&checksum).await.unwrap());
    assert!(!store.exists(&checksum).await.unwrap());
    assert!(read(store, &checksum).await.is_none());
    assert!(!store.delete(&checksum).await.unwrap(), "already gone");
    // Content can come back after a delete.
    assert!(!put(store, &content).await.already_stored);
    assert_eq!(read(store, &checksum).await.unwrap().0, content);
}

pub async fn deletes_only_blobs_created_before_a_cutoff(store: &AnyBlobStore) {
    let before_put =
        Timestamp::from_unix_seconds(Timestamp::now().as_unix_seconds() - 60.0).unwrap();
    let checksum = put(store, &random_content(10)).await.digest.checksum;
    assert!(
        !store
            .delete_if_created_before(&checksum, before_put)
            .await
            .unwrap()
    );
    assert!(store.exists(&checksum).await.unwrap());
    let later = Timestamp::from_unix_seconds(Timestamp::now().as_unix_seconds() + 60.0).unwrap();
    assert!(
        store
            .delete_if_created_before(&checksum, later)
            .await
            .unwrap()
    );
    assert!(!store.exists(&checksum).await.unwrap());
    assert!(
        !store
            .delete_if_created_before(&checksum, later)
            .await
            .unwrap()
    );
}

pub async fn lists_blobs_by_checksum_in_pages(store: &AnyBlobStore) {
    let started = Timestamp::from_unix_seconds(Timestamp::now().as_unix_seconds() - 1.0).unwrap();
    let mut ours = Vec::new();
    for length in 1..=5 {
        let stored = put(store, &random_content(length * 100)).await;
        ours.push((stored.digest.checksum, stored.digest.size));
    }
    let finished = Timestamp::from_unix_seconds(Timestamp::now().as_unix_seconds() + 1.0).unwrap();
    let listed = list_all(store, 2).await;
    assert!(
        listed
            .windows(2)
            .all(|pair| pair[0].checksum < pair[1].checksum),
        "pages follow each other in checksum order, without repeats"
    );
    ours.sort();
    let found: Vec<(BlobChecksum, u64)> = listed
        .iter()
        .filter(|entry| ours.iter().any(|(checksum, _)| *checksum == entry.checksum))
        .map(|entry| (entry.checksum, entry.size))
        .collect();
    assert_eq!(found, ours);
    for entry in listed
        .iter()
        .filter(|entry| ours.iter().any(|(c, _)| *c == entry.checksum))
    {
        assert!(
            started <= entry.created && entry.created <= finished,
            "{entry:?}"
        );
    }
    let after_all = BlobChecksum::from_bytes([0xff; 32]);
    let page = store.list_blobs(Some(&after_all), 10).await.unwrap();
    assert!(page.items.is_empty() && !page.has_more);
}
