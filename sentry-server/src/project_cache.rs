//! Per-project values built from project settings, kept until the
//! project's settings change through this server, or for a time at most
//! (`[serve] settings_ttl`, 30 s by default): another server of a cluster
//! may have changed them, and this one then sees the change within that
//! time.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sentry_core::ProjectId;

/// A cache of one value per project.
pub struct ProjectCache<T> {
    by_project: RwLock<HashMap<ProjectId, (Instant, Arc<T>)>>,
    ttl: Duration,
}

impl<T> Default for ProjectCache<T> {
    fn default() -> Self {
        Self::with_ttl(Duration::from_secs(
            crate::config::DEFAULT_SETTINGS_TTL_SECS,
        ))
    }
}

impl<T> ProjectCache<T> {
    /// A cache whose values are read again after `ttl`.
    pub fn with_ttl(ttl: Duration) -> Self {
        Self {
            by_project: RwLock::new(HashMap::new()),
            ttl,
        }
    }

    /// Returns the cached value of a project, unless it is too old.
    fn get(&self, project_id: ProjectId) -> Option<Arc<T>> {
        let map = self.by_project.read().ok()?;
        let (loaded, value) = map.get(&project_id)?;
        (loaded.elapsed() < self.ttl).then(|| Arc::clone(value))
    }

    /// Returns a project's value, loading and keeping it on first use and
    /// once it is too old.
    ///
    /// # Errors
    ///
    /// What `load` fails with.
    pub async fn get_or_load<E, F>(&self, project_id: ProjectId, load: F) -> Result<Arc<T>, E>
    where
        F: Future<Output = Result<T, E>>,
    {
        if let Some(value) = self.get(project_id) {
            return Ok(value);
        }
        let value = Arc::new(load.await?);
        self.insert(project_id, Arc::clone(&value));
        Ok(value)
    }

    /// Keeps a project's value.
    fn insert(&self, project_id: ProjectId, value: Arc<T>) {
        if let Ok(mut map) = self.by_project.write() {
            map.insert(project_id, (Instant::now(), value));
        }
    }

    /// Forgets a project's value after its settings changed.
    pub fn invalidate(&self, project_id: ProjectId) {
        if let Ok(mut map) = self.by_project.write() {
            map.remove(&project_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn load(cache: &ProjectCache<u32>, value: u32) -> u32 {
        *cache
            .get_or_load(ProjectId(1), async { Ok::<_, ()>(value) })
            .await
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn values_are_kept_until_invalidated_or_too_old() {
        let cache = ProjectCache::with_ttl(Duration::from_millis(50));
        assert_eq!(load(&cache, 1).await, 1);
        assert_eq!(load(&cache, 2).await, 1, "kept");
        cache.invalidate(ProjectId(1));
        assert_eq!(load(&cache, 3).await, 3, "read again once invalidated");
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(load(&cache, 4).await, 4, "read again once too old");
    }
}
