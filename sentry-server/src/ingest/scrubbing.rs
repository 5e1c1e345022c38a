//! Each project's data scrubbing settings (Sentry's project options
//! `dataScrubber`, `dataScrubberDefaults`, `sensitiveFields`, `safeFields`
//! and `scrubIPAddresses`, stored as JSON text), cached until they change,
//! and the scrubbing step of ingest.

use std::sync::Arc;

use sentry_core::ProjectId;
use sentry_core::scrub::{self, Scrubber, ScrubbingSettings};
use sentry_core::store::MetadataStore;
use sentry_store::AnyMetadataStore;

use crate::error::ApiError;
use crate::project_cache::ProjectCache;

/// A cache of compiled scrubbing rules by project.
#[derive(Default)]
pub struct ScrubbingConfigs {
    by_project: ProjectCache<Scrubber>,
}

impl ScrubbingConfigs {
    /// A cache whose values are read again after `ttl`.
    pub fn with_ttl(ttl: std::time::Duration) -> Self {
        Self {
            by_project: ProjectCache::with_ttl(ttl),
        }
    }

    /// Returns a project's scrubber, reading its settings on first use.
    ///
    /// # Errors
    ///
    /// 500 when the metadata store fails.
    pub async fn for_project(
        &self,
        metadata: &AnyMetadataStore,
        project_id: ProjectId,
    ) -> Result<Arc<Scrubber>, ApiError> {
        self.by_project
            .get_or_load(project_id, async {
                Ok::<_, ApiError>(Scrubber::new(&load(metadata, project_id).await?))
            })
            .await
    }

    /// Forgets a project's settings after they changed.
    pub fn invalidate(&self, project_id: ProjectId) {
        self.by_project.invalidate(project_id);
    }
}

/// Reads a project's settings from its options. Options are validated
/// when they are saved; should a stored one still not read, it keeps its
/// default.
///
/// # Errors
///
/// 500 when the metadata store fails.
pub async fn load(
    metadata: &AnyMetadataStore,
    project_id: ProjectId,
) -> Result<ScrubbingSettings, ApiError> {
    let mut stored = Vec::new();
    for option in scrub::OPTIONS {
        if let Some(text) = metadata.project_option(project_id, option).await? {
            stored.push((option, text));
        }
    }
    let (settings, errors) = ScrubbingSettings::from_project_options(
        stored.iter().map(|(option, text)| (*option, text.as_str())),
    );
    for (option, error) in errors {
        tracing::warn!(%project_id, option, %error, "ignoring a stored scrubbing option");
    }
    Ok(settings)
}
