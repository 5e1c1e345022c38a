//! Blobs as files in a folder: `ROOT/ab/cdef…`, named by the 64 hex
//! digits of their SHA-256, the first two a subfolder so that none holds
//! more than a 256th of the blobs.
//!
//! A put writes to a new file in `ROOT/tmp/` (the same file system, so a
//! rename is atomic), syncs it to disk, renames it into place and syncs
//! the subfolder: a crash leaves at most a stray temporary file, never a
//! partial blob under its final name. A put that fails or is dropped
//! removes its temporary file; what a crash leaves there is removed when a
//! store next opens the folder, once it is [`STALE_TEMP_AGE`] old.
//!
//! A blob's created time is its file's modification time, which a put of
//! the same content again refreshes. Several processes may share the
//! folder; two puts of the same content at once both rename their copy
//! into place, and either copy is the blob.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use futures_util::Stream;
use sentry_core::protocol::Timestamp;
use sentry_core::store::{
    BlobChecksum, BlobContent, BlobEntry, BlobStore, Page, PutBlobError, StoreError,
    StoreErrorKind, StoredBlob,
};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _, BufWriter};

use super::content::Content;

/// Age past which a temporary file is taken for a crash's leftover.
pub const STALE_TEMP_AGE: Duration = Duration::from_secs(24 * 3600);

/// The subfolder of temporary files.
const TEMP_DIR: &str = "tmp";
/// How much a put buffers before writing to its file.
const WRITE_BUFFER: usize = 256 * 1024;
/// How much a read takes from the file at a time.
const READ_CHUNK: usize = 64 * 1024;

/// A file system operation that failed, and on what.
#[derive(Debug, thiserror::Error)]
#[error("cannot {action} {}", path.display())]
struct FsError {
    action: &'static str,
    path: PathBuf,
    #[source]
    source: std::io::Error,
}

/// Turns an I/O error on a path into a store error.
fn failed(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StoreError {
    let path = path.to_owned();
    move |source| {
        StoreError::new(
            StoreErrorKind::Unavailable,
            FsError {
                action,
                path,
                source,
            },
        )
    }
}

fn is_not_found(error: &std::io::Error) -> bool {
    error.kind() == std::io::ErrorKind::NotFound
}

/// Runs file system work on the blocking pool.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::new(StoreErrorKind::Unavailable, e))?
}

/// A folder of blobs.
#[derive(Debug, Clone)]
pub struct FsBlobStore {
    root: Arc<Path>,
}

impl FsBlobStore {
    /// Opens a folder of blobs, creating it if missing, and removes the
    /// temporary files a crash left in it.
    ///
    /// # Errors
    ///
    /// Fails when the folder cannot be created or read.
    pub async fn open(root: &Path) -> Result<Self, StoreError> {
        let root: Arc<Path> = Arc::from(root);
        let temp_dir = root.join(TEMP_DIR);
        blocking(move || {
            std::fs::create_dir_all(&temp_dir).map_err(failed("create", &temp_dir))?;
            remove_stale_temp_files(&temp_dir)
        })
        .await?;
        Ok(Self { root })
    }

    /// The folder the store keeps its blobs in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where a blob's file is.
    fn blob_path(&self, checksum: &BlobChecksum) -> PathBuf {
        let hex = checksum.to_string();
        let (folder, name) = hex.split_at(2);
        self.root.join(folder).join(name)
    }

    /// A temporary file name no other put, in this process or another, uses.
    fn temp_path(&self) -> PathBuf {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let count = NEXT.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos());
        let name = format!("{}-{count}-{nanos}.part", std::process::id());
        self.root.join(TEMP_DIR).join(name)
    }
}

/// Removes the temporary files older than [`STALE_TEMP_AGE`].
fn remove_stale_temp_files(temp_dir: &Path) -> Result<(), StoreError> {
    let entries = std::fs::read_dir(temp_dir).map_err(failed("read", temp_dir))?;
    let mut removed = 0u64;
    for entry in entries.flatten() {
        let age = entry
            .metadata()
            .and_then(|metadata| metadata.modified())
            .ok()
            .and_then(|modified| modified.elapsed().ok());
        if age.is_some_and(|age| age > STALE_TEMP_AGE) && std::fs::remove_file(entry.path()).is_ok()
        {
            removed += 1;
        }
    }
    if removed > 0 {
        tracing::info!(removed, dir = %temp_dir.display(), "removed stale temporary blob files");
    }
    Ok(())
}

/// A temporary file, removed when dropped unless it was renamed into place.
struct TempFile {
    path: PathBuf,
    placed: bool,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.placed {
            // A quick unlink; a failure leaves a file `open` removes later.
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Moves a written temporary file into place as a blob, unless the blob
/// is already stored, in which case it is touched as created now; returns
/// whether it was already stored.
fn place(mut temp: TempFile, blob: &Path) -> Result<bool, StoreError> {
    match std::fs::File::open(blob).and_then(|file| file.set_modified(SystemTime::now())) {
        Ok(()) => return Ok(true),
        // Gone, or deleted by a sweep just now: store this copy.
        Err(error) if is_not_found(&error) => {}
        Err(error) => return Err(failed("touch", blob)(error)),
    }
    let folder = blob.parent().unwrap_or(blob);
    std::fs::create_dir_all(folder).map_err(failed("create", folder))?;
    std::fs::rename(&temp.path, blob).map_err(failed("rename into place", blob))?;
    temp.placed = true;
    // Makes the rename itself durable.
    std::fs::File::open(folder)
        .and_then(|dir| dir.sync_all())
        .map_err(failed("sync", folder))?;
    Ok(false)
}

/// Reads a file's modification time as a timestamp.
fn modified(metadata: &std::fs::Metadata, path: &Path) -> Result<Timestamp, StoreError> {
    let time = metadata
        .modified()
        .map_err(failed("read the time of", path))?;
    let micros = match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_micros()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_micros()).unwrap_or(i64::MAX),
    };
    Timestamp::from_unix_micros(micros).ok_or_else(|| {
        StoreError::new(
            StoreErrorKind::Corrupt,
            format!("{} has an unreadable modification time", path.display()),
        )
    })
}

/// Whether a file name is lowercase hex digits only, as this store writes them.
fn is_lower_hex(name: &str) -> bool {
    name.bytes()
        .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
}

/// The names of the entries of a folder that pass a test, sorted.
fn sorted_names(folder: &Path, keep: impl Fn(&str) -> bool) -> Result<Vec<String>, StoreError> {
    let entries = std::fs::read_dir(folder).map_err(failed("read", folder))?;
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| keep(name))
        .collect();
    names.sort_unstable();
    Ok(names)
}

/// Lists the blobs of a folder in checksum order, after `after`.
fn list(
    root: &Path,
    after: Option<BlobChecksum>,
    limit: u64,
) -> Result<Page<BlobEntry>, StoreError> {
    let after = after.map(|checksum| checksum.to_string());
    let wanted = usize::try_from(limit.saturating_add(1)).unwrap_or(usize::MAX);
    let mut items = Vec::new();
    let folders = sorted_names(root, |name| name.len() == 2 && is_lower_hex(name))?;
    'folders: for folder in folders {
        if after
            .as_ref()
            .is_some_and(|after| folder.as_str() < &after[..2])
        {
            continue;
        }
        let path = root.join(&folder);
        let names = sorted_names(&path, |name| name.len() == 62 && is_lower_hex(name))?;
        for name in names {
            let hex = format!("{folder}{name}");
            if after.as_ref().is_some_and(|after| hex <= *after) {
                continue;
            }
            let Ok(checksum) = hex.parse::<BlobChecksum>() else {
                continue;
            };
            let file = path.join(&name);
            let metadata = match std::fs::metadata(&file) {
                Ok(metadata) => metadata,
                // Deleted since the folder was read.
                Err(error) if is_not_found(&error) => continue,
                Err(error) => return Err(failed("read", &file)(error)),
            };
            items.push(BlobEntry {
                checksum,
                size: metadata.len(),
                created: modified(&metadata, &file)?,
            });
            if items.len() >= wanted {
                break 'folders;
            }
        }
    }
    let has_more = items.len() >= wanted;
    items.truncate(wanted.saturating_sub(1));
    Ok(Page { items, has_more })
}

impl BlobStore for FsBlobStore {
    async fn put<S, E>(&self, content: S, max_size: Option<u64>) -> Result<StoredBlob, PutBlobError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: Into<Box<dyn Error + Send + Sync>> + Send,
    {
        let mut content = Content::new(content, max_size);
        // Declared before the file, so dropped after it.
        let temp = TempFile {
            path: self.temp_path(),
            placed: false,
        };
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp.path)
            .await
            .map_err(failed("create", &temp.path))?;
        let mut writer = BufWriter::with_capacity(WRITE_BUFFER, file);
        while let Some(chunk) = content.next_chunk().await? {
            writer
                .write_all(&chunk)
                .await
                .map_err(failed("write", &temp.path))?;
        }
        writer.flush().await.map_err(failed("write", &temp.path))?;
        let file = writer.into_inner();
        file.sync_all().await.map_err(failed("sync", &temp.path))?;
        drop(file);
        let digest = content.finish();
        let blob = self.blob_path(&digest.checksum);
        let already_stored = blocking(move || place(temp, &blob)).await?;
        Ok(StoredBlob {
            digest,
            already_stored,
        })
    }

    async fn get(&self, checksum: &BlobChecksum) -> Result<Option<BlobContent>, StoreError> {
        let path = self.blob_path(checksum);
        let file = match tokio::fs::File::open(&path).await {
            Ok(file) => file,
            Err(error) if is_not_found(&error) => return Ok(None),
            Err(error) => return Err(failed("open", &path)(error)),
        };
        let size = file.metadata().await.map_err(failed("read", &path))?.len();
        let stream = futures_util::stream::try_unfold(file, move |mut file| {
            let path = path.clone();
            async move {
                let mut buffer = BytesMut::with_capacity(READ_CHUNK);
                let read = file
                    .read_buf(&mut buffer)
                    .await
                    .map_err(failed("read", &path))?;
                Ok((read > 0).then(|| (buffer.freeze(), file)))
            }
        });
        Ok(Some(BlobContent {
            size,
            stream: Box::pin(stream),
        }))
    }

    async fn exists(&self, checksum: &BlobChecksum) -> Result<bool, StoreError> {
        let path = self.blob_path(checksum);
        tokio::fs::try_exists(&path)
            .await
            .map_err(failed("look for", &path))
    }

    async fn delete(&self, checksum: &BlobChecksum) -> Result<bool, StoreError> {
        let path = self.blob_path(checksum);
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(true),
            Err(error) if is_not_found(&error) => Ok(false),
            Err(error) => Err(failed("delete", &path)(error)),
        }
    }

    async fn delete_if_created_before(
        &self,
        checksum: &BlobChecksum,
        cutoff: Timestamp,
    ) -> Result<bool, StoreError> {
        let path = self.blob_path(checksum);
        blocking(move || {
            let metadata = match std::fs::metadata(&path) {
                Ok(metadata) => metadata,
                Err(error) if is_not_found(&error) => return Ok(false),
                Err(error) => return Err(failed("read", &path)(error)),
            };
            if modified(&metadata, &path)? >= cutoff {
                return Ok(false);
            }
            match std::fs::remove_file(&path) {
                Ok(()) => Ok(true),
                Err(error) if is_not_found(&error) => Ok(false),
                Err(error) => Err(failed("delete", &path)(error)),
            }
        })
        .await
    }

    async fn list_blobs(
        &self,
        after: Option<&BlobChecksum>,
        limit: u64,
    ) -> Result<Page<BlobEntry>, StoreError> {
        let root = Arc::clone(&self.root);
        let after = after.copied();
        blocking(move || list(&root, after, limit)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(
        parts: Vec<Result<Bytes, std::io::Error>>,
    ) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
        futures_util::stream::iter(parts)
    }

    /// Every file under a folder, temporary ones included.
    fn files(root: &Path) -> Vec<PathBuf> {
        let mut found = Vec::new();
        let mut folders = vec![root.to_owned()];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    folders.push(path);
                } else {
                    found.push(path);
                }
            }
        }
        found
    }

    #[tokio::test]
    async fn a_failed_put_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path()).await.unwrap();
        let broken = chunks(vec![
            Ok(Bytes::from(vec![7u8; 100_000])),
            Err(std::io::Error::other("connection reset")),
        ]);
        let error = store.put(broken, None).await.unwrap_err();
        assert!(matches!(error, PutBlobError::Content(_)), "{error:?}");
        let too_large = chunks((0..20).map(|_| Ok(Bytes::from(vec![7u8; 10]))).collect());
        let error = store.put(too_large, Some(150)).await.unwrap_err();
        assert!(
            matches!(error, PutBlobError::TooLarge { limit: 150 }),
            "{error:?}"
        );
        assert_eq!(files(dir.path()), Vec::<PathBuf>::new());
    }

    #[tokio::test]
    async fn a_dropped_put_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path()).await.unwrap();
        let endless = futures_util::stream::pending::<Result<Bytes, std::io::Error>>();
        let first = futures_util::stream::iter([Ok(Bytes::from_static(b"partial"))]);
        let put = store.put(futures_util::StreamExt::chain(first, endless), None);
        let timed_out = tokio::time::timeout(Duration::from_millis(200), put).await;
        assert!(timed_out.is_err());
        assert_eq!(files(dir.path()), Vec::<PathBuf>::new());
    }

    #[tokio::test]
    async fn open_removes_stale_temporary_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let temp_dir = dir.path().join(TEMP_DIR);
        std::fs::create_dir_all(&temp_dir).unwrap();
        let stale = temp_dir.join("1-0-0.part");
        let fresh = temp_dir.join("1-1-0.part");
        std::fs::write(&stale, b"left by a crash").unwrap();
        std::fs::write(&fresh, b"being written").unwrap();
        let long_ago = SystemTime::now() - STALE_TEMP_AGE - Duration::from_secs(60);
        std::fs::File::options()
            .write(true)
            .open(&stale)
            .unwrap()
            .set_modified(long_ago)
            .unwrap();
        FsBlobStore::open(dir.path()).await.unwrap();
        assert!(!stale.exists());
        assert!(fresh.exists());
    }

    #[tokio::test]
    async fn blobs_are_files_named_by_checksum() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path()).await.unwrap();
        let stored = store
            .put(chunks(vec![Ok(Bytes::from_static(b"abc"))]), None)
            .await
            .unwrap();
        let hex = stored.digest.checksum.to_string();
        let path = dir.path().join(&hex[..2]).join(&hex[2..]);
        assert_eq!(std::fs::read(path).unwrap(), b"abc");
        assert_eq!(files(dir.path()).len(), 1);
    }
}
