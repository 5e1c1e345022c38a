//! Per-project values built from project settings, kept until the
//! project's settings change.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, RwLock};

use sentry_core::ProjectId;

/// A cache of one value per project.
pub struct ProjectCache<T> {
    by_project: RwLock<HashMap<ProjectId, Arc<T>>>,
}

impl<T> Default for ProjectCache<T> {
    fn default() -> Self {
        Self {
            by_project: RwLock::new(HashMap::new()),
        }
    }
}

impl<T> ProjectCache<T> {
    /// Returns the cached value of a project.
    fn get(&self, project_id: ProjectId) -> Option<Arc<T>> {
        self.by_project
            .read()
            .ok()
            .and_then(|map| map.get(&project_id).cloned())
    }

    /// Returns a project's value, loading and keeping it on first use.
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
            map.insert(project_id, value);
        }
    }

    /// Forgets a project's value after its settings changed.
    pub fn invalidate(&self, project_id: ProjectId) {
        if let Ok(mut map) = self.by_project.write() {
            map.remove(&project_id);
        }
    }
}
