//! Built symbolication caches kept on disk, so that a restarted server (or
//! one whose memory cache let a cache go) does not parse a source map or
//! debug file again.
//!
//! One file per cache in `DATA_DIR/symbolication-cache`, named by the
//! SHA-256 of its key; written to a temporary file and renamed into place,
//! so a reader never sees half a cache. Reading a file marks it used (its
//! modification time); once the files add up to more than the bound
//! (`max_symbolication_cache_disk`), the least recently used go until
//! they take three quarters of it. Caches are checked by their readers
//! (each format has its own header), so a damaged or outdated file is
//! only a miss. Failures of the disk are logged and count as misses: the
//! caches are an optimization, never a reason to drop an event.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use sha2::{Digest, Sha256};

/// The version of the files' naming; changing how a cache is built means
/// changing this, so that old files are never read.
const LAYOUT: &str = "v1";

/// Caches on disk, bounded in bytes.
#[derive(Debug)]
pub struct DiskCache {
    dir: PathBuf,
    max_bytes: u64,
    used: AtomicU64,
}

impl DiskCache {
    /// Uses `dir` (created when missing) for up to `max_bytes`; with
    /// `max_bytes` 0 nothing is kept on disk.
    pub fn open(dir: PathBuf, max_bytes: u64) -> Self {
        let cache = Self {
            dir,
            max_bytes,
            used: AtomicU64::new(0),
        };
        if max_bytes > 0 {
            if let Err(error) = std::fs::create_dir_all(&cache.dir) {
                tracing::warn!(%error, dir = %cache.dir.display(), "cannot create the symbolication cache folder");
            }
            let used = cache.files().iter().map(|file| file.size).sum();
            cache.used.store(used, Ordering::Relaxed);
        }
        cache
    }

    fn path(&self, key: &str) -> PathBuf {
        let digest = Sha256::digest(format!("{LAYOUT}\n{key}").as_bytes());
        let name: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
        self.dir.join(format!("{name}.cache"))
    }

    /// The cache stored under `key`, if any.
    pub async fn get(self: &Arc<Self>, key: &str) -> Option<Arc<[u8]>> {
        if self.max_bytes == 0 {
            return None;
        }
        let path = self.path(key);
        tokio::task::spawn_blocking(move || {
            let bytes = std::fs::read(&path).ok()?;
            // Marks it used, for the eviction order.
            if let Ok(file) = std::fs::File::options().append(true).open(&path) {
                let _ = file.set_modified(SystemTime::now());
            }
            Some(Arc::from(bytes))
        })
        .await
        .ok()
        .flatten()
    }

    /// Stores a cache under `key`, then evicts the least recently used
    /// files if the bound is passed.
    pub async fn put(self: &Arc<Self>, key: &str, bytes: Arc<[u8]>) {
        if self.max_bytes == 0 || bytes.len() as u64 > self.max_bytes / 4 {
            return;
        }
        let path = self.path(key);
        let this = Arc::clone(self);
        let written = tokio::task::spawn_blocking(move || this.write(&path, &bytes)).await;
        match written {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%error, "cannot write a symbolication cache"),
            Err(error) => tracing::warn!(%error, "cannot write a symbolication cache"),
        }
    }

    fn write(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        let previous = std::fs::metadata(path).map(|meta| meta.len()).unwrap_or(0);
        let mut temporary = tempfile::NamedTempFile::new_in(&self.dir)?;
        std::io::Write::write_all(&mut temporary, bytes)?;
        temporary.persist(path).map_err(|error| error.error)?;
        let added = (bytes.len() as u64).saturating_sub(previous);
        let used = self.used.fetch_add(added, Ordering::Relaxed) + added;
        if used > self.max_bytes {
            self.evict();
        }
        Ok(())
    }

    /// The cache files, with their sizes and last use.
    fn files(&self) -> Vec<CacheFile> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        entries
            .filter_map(Result::ok)
            .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "cache"))
            .filter_map(|entry| {
                let meta = entry.metadata().ok()?;
                Some(CacheFile {
                    path: entry.path(),
                    size: meta.len(),
                    used: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                })
            })
            .collect()
    }

    /// Deletes the least recently used files until the rest take three
    /// quarters of the bound.
    fn evict(&self) {
        let mut files = self.files();
        files.sort_by_key(|file| file.used);
        let mut total: u64 = files.iter().map(|file| file.size).sum();
        let target = self.max_bytes / 4 * 3;
        for file in files {
            if total <= target {
                break;
            }
            if std::fs::remove_file(&file.path).is_ok() {
                total -= file.size;
            }
        }
        self.used.store(total, Ordering::Relaxed);
    }

    /// The bytes the files take, as last counted.
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }
}

struct CacheFile {
    path: PathBuf,
    size: u64,
    used: SystemTime,
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn keeps_caches_across_opens() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Arc::new(DiskCache::open(dir.path().join("c"), 1 << 20));
        assert_eq!(cache.get("a").await, None);
        cache.put("a", Arc::from(&b"first"[..])).await;
        assert_eq!(cache.get("a").await.as_deref(), Some(&b"first"[..]));
        let reopened = Arc::new(DiskCache::open(dir.path().join("c"), 1 << 20));
        assert_eq!(reopened.used(), 5);
        assert_eq!(reopened.get("a").await.as_deref(), Some(&b"first"[..]));
        assert_eq!(reopened.get("b").await, None);
    }

    #[tokio::test]
    async fn the_least_recently_used_go_past_the_bound() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Arc::new(DiskCache::open(dir.path().to_path_buf(), 4000));
        let kilobyte = || Arc::from(vec![7u8; 1000]);
        for key in ["a", "b", "c"] {
            cache.put(key, kilobyte()).await;
            std::thread::sleep(Duration::from_millis(20));
        }
        // `a` is read, so `b` is now the least recently used.
        assert!(cache.get("a").await.is_some());
        std::thread::sleep(Duration::from_millis(20));
        cache.put("d", kilobyte()).await;
        cache.put("e", kilobyte()).await;
        assert!(cache.used() <= 4000, "{}", cache.used());
        assert!(cache.get("b").await.is_none());
        assert!(cache.get("a").await.is_some());
        assert!(cache.get("e").await.is_some());
    }

    #[tokio::test]
    async fn a_zero_bound_keeps_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Arc::new(DiskCache::open(dir.path().join("none"), 0));
        cache.put("a", Arc::from(&b"x"[..])).await;
        assert_eq!(cache.get("a").await, None);
        assert!(!dir.path().join("none").exists());
    }
}
