//! Each project's grouping config: the default one plus the project's
//! fingerprint rules and stack trace rules (project settings
//! `fingerprintingRules` and `groupingEnhancements`), parsed once and
//! cached until the project's rules change.

use std::sync::Arc;

use sentry_core::ProjectId;
use sentry_core::grouping::{Enhancements, FingerprintingRules, GroupingConfig};
use sentry_core::store::MetadataStore;
use sentry_store::AnyMetadataStore;

use crate::error::ApiError;
use crate::project_cache::ProjectCache;

/// The project setting holding fingerprint rules, in Sentry's name.
pub const FINGERPRINTING_RULES: &str = "fingerprintingRules";
/// The project setting holding stack trace rules, in Sentry's name.
pub const GROUPING_ENHANCEMENTS: &str = "groupingEnhancements";

/// A cache of grouping configs by project.
#[derive(Default)]
pub struct GroupingConfigs {
    by_project: ProjectCache<GroupingConfig>,
}

impl GroupingConfigs {
    /// A cache whose values are read again after `ttl`.
    pub fn with_ttl(ttl: std::time::Duration) -> Self {
        Self {
            by_project: ProjectCache::with_ttl(ttl),
        }
    }

    /// Returns a project's config, building it from its settings on first use.
    ///
    /// # Errors
    ///
    /// 500 when the metadata store fails.
    pub async fn for_project(
        &self,
        metadata: &AnyMetadataStore,
        project_id: ProjectId,
    ) -> Result<Arc<GroupingConfig>, ApiError> {
        self.by_project
            .get_or_load(project_id, async {
                let fingerprinting = metadata
                    .project_option(project_id, FINGERPRINTING_RULES)
                    .await?;
                let enhancements = metadata
                    .project_option(project_id, GROUPING_ENHANCEMENTS)
                    .await?;
                Ok::<_, ApiError>(build(
                    project_id,
                    fingerprinting.as_deref(),
                    enhancements.as_deref(),
                ))
            })
            .await
    }

    /// Forgets a project's config after its rules changed.
    pub fn invalidate(&self, project_id: ProjectId) {
        self.by_project.invalidate(project_id);
    }
}

/// Builds a config from stored rules. Rules are validated when they are
/// saved; should stored text still not parse, that part is ignored.
fn build(
    project_id: ProjectId,
    fingerprinting: Option<&str>,
    enhancements: Option<&str>,
) -> GroupingConfig {
    let fingerprinting = match fingerprinting.map(FingerprintingRules::parse) {
        Some(Ok(rules)) => rules,
        Some(Err(error)) => {
            tracing::warn!(%project_id, %error, "ignoring stored fingerprint rules that do not parse");
            FingerprintingRules::default()
        }
        None => FingerprintingRules::default(),
    };
    match enhancements.map(Enhancements::parse) {
        Some(Ok(rules)) => GroupingConfig::with_project_rules(&rules, fingerprinting),
        Some(Err(error)) => {
            tracing::warn!(%project_id, %error, "ignoring stored stack trace rules that do not parse");
            GroupingConfig {
                fingerprinting: Arc::new(fingerprinting),
                ..GroupingConfig::default()
            }
        }
        None => GroupingConfig {
            fingerprinting: Arc::new(fingerprinting),
            ..GroupingConfig::default()
        },
    }
}
