//! Rate limits of a project and of each of its DSN keys: at most `count`
//! events per `window` seconds, counted in fixed windows in the metadata
//! store ([`QuotaStore`]) so that every server of a cluster shares them.
//!
//! A project's limits are its settings `rateLimit` (the project's) and
//! `keyRateLimits` (a DSN key's, by public key), each
//! `{"window": SECONDS, "count": EVENTS}`. They count the items of the
//! categories `error`, `default` and `security` (an envelope's
//! attachments follow their event). A request over a limit is answered
//! 429 with `Retry-After` (the rest of the window) and
//! `X-Sentry-Rate-Limits`, in Sentry's format, which the SDKs obey; until
//! the window ends this server answers so without asking the store.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, PoisonError};

use sentry_core::protocol::Timestamp;
use sentry_core::store::{MetadataStore, QuotaStore, StoreError};
use sentry_core::{ProjectId, ProjectKey};
use sentry_store::AnyMetadataStore;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::project_cache::ProjectCache;

/// The project setting with the project's rate limit.
pub const RATE_LIMIT: &str = "rateLimit";
/// The project setting with its keys' rate limits, by public key.
pub const KEY_RATE_LIMITS: &str = "keyRateLimits";
/// The categories a rate limit counts.
pub const CATEGORIES: &str = "error;default;security";
/// The longest window: a day.
pub const MAX_WINDOW_SECS: u64 = 86_400;

/// A rate limit: at most `count` events per `window` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// The window, in seconds (1 to a day).
    pub window: u64,
    /// The events a window admits.
    pub count: u64,
}

impl RateLimit {
    /// Reads a limit from its JSON setting.
    ///
    /// # Errors
    ///
    /// A message for the API when it is not `{"window", "count"}` with a
    /// window of 1 second to a day.
    pub fn parse(value: &serde_json::Value) -> Result<Self, String> {
        let limit: RateLimit = serde_json::from_value(value.clone())
            .map_err(|e| format!("expected {{\"window\": seconds, \"count\": events}}: {e}"))?;
        if !(1..=MAX_WINDOW_SECS).contains(&limit.window) {
            return Err(format!("window must be 1 to {MAX_WINDOW_SECS} seconds"));
        }
        Ok(limit)
    }
}

/// A project's limits.
#[derive(Debug, Default)]
struct ProjectLimits {
    project: Option<RateLimit>,
    keys: HashMap<String, RateLimit>,
}

/// One limit that applies to a request.
struct Quota {
    /// The counter's key in the store.
    key: String,
    limit: RateLimit,
    scope: &'static str,
    reason: &'static str,
}

/// The rate limits of every project, and the windows known to be full.
#[derive(Default)]
pub struct RateLimiter {
    by_project: ProjectCache<ProjectLimits>,
    /// Quota key → the end of the window it is full for.
    full_until: Mutex<HashMap<String, i64>>,
}

impl RateLimiter {
    /// A limiter whose projects' limits are read again after `ttl`.
    pub fn with_ttl(ttl: std::time::Duration) -> Self {
        Self {
            by_project: ProjectCache::with_ttl(ttl),
            full_until: Mutex::default(),
        }
    }

    /// Counts `events` events of a request against its project's and key's
    /// limits; returns `None` when they admit it, else the outcome reason
    /// and the 429 to answer (with `Retry-After` and
    /// `X-Sentry-Rate-Limits`).
    ///
    /// # Errors
    ///
    /// When the store fails.
    pub async fn admit(
        &self,
        metadata: &AnyMetadataStore,
        project_id: ProjectId,
        key: &ProjectKey,
        events: u64,
    ) -> Result<Option<(&'static str, ApiError)>, StoreError> {
        if events == 0 {
            return Ok(None);
        }
        let limits = self
            .by_project
            .get_or_load(project_id, load(metadata, project_id))
            .await?;
        let quotas = [
            limits.project.map(|limit| Quota {
                key: format!("project:{project_id}"),
                limit,
                scope: "project",
                reason: "project_quota",
            }),
            limits.keys.get(key.as_str()).map(|limit| Quota {
                key: format!("key:{}", key.as_str()),
                limit: *limit,
                scope: "key",
                reason: "key_quota",
            }),
        ];
        let now = Timestamp::now().as_unix_micros();
        for quota in quotas.into_iter().flatten() {
            let window = i64::try_from(quota.limit.window).unwrap_or(1) * 1_000_000;
            let start = now - now.rem_euclid(window);
            let end = start + window;
            if self.known_full(&quota.key, now) {
                return Ok(Some((quota.reason, refusal(&quota, end, now))));
            }
            let window_start = Timestamp::from_unix_micros(start).unwrap_or_else(Timestamp::now);
            let used = metadata
                .consume_quota(&quota.key, window_start, events)
                .await?;
            if used > quota.limit.count {
                self.full_until
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(quota.key.clone(), end);
                return Ok(Some((quota.reason, refusal(&quota, end, now))));
            }
        }
        Ok(None)
    }

    /// Forgets a project's limits after its settings changed.
    pub fn invalidate(&self, project_id: ProjectId) {
        self.by_project.invalidate(project_id);
        // Rare: forget every full window rather than work out whose they are.
        self.full_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    fn known_full(&self, key: &str, now: i64) -> bool {
        let mut full = self
            .full_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        full.retain(|_, end| *end > now);
        full.contains_key(key)
    }
}

/// The 429 of a full quota.
fn refusal(quota: &Quota, end: i64, now: i64) -> ApiError {
    let seconds = u64::try_from((end - now + 999_999) / 1_000_000)
        .unwrap_or(1)
        .max(1);
    ApiError::too_many_requests(format!("{} rate limit reached", quota.scope), seconds)
        .with_rate_limits(format!(
            "{seconds}:{CATEGORIES}:{}:{}",
            quota.scope, quota.reason
        ))
}

/// Reads a project's key limits, by public key, as stored.
///
/// # Errors
///
/// When the store fails.
pub async fn key_limits(
    metadata: &AnyMetadataStore,
    project_id: ProjectId,
) -> Result<BTreeMap<String, RateLimit>, StoreError> {
    let text = metadata.project_option(project_id, KEY_RATE_LIMITS).await?;
    Ok(text
        .and_then(|text| serde_json::from_str::<BTreeMap<String, serde_json::Value>>(&text).ok())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(key, value)| Some((key, RateLimit::parse(&value).ok()?)))
        .collect())
}

/// Sets (or with `None` lifts) a key's limit.
///
/// # Errors
///
/// When the store fails.
pub async fn set_key_limit(
    metadata: &AnyMetadataStore,
    project_id: ProjectId,
    key: &ProjectKey,
    limit: Option<RateLimit>,
) -> Result<(), StoreError> {
    let mut limits = key_limits(metadata, project_id).await?;
    match limit {
        Some(limit) => limits.insert(key.as_str().to_owned(), limit),
        None => limits.remove(key.as_str()),
    };
    let text = (!limits.is_empty()).then(|| serde_json::to_string(&limits).unwrap_or_default());
    metadata
        .set_project_option(project_id, KEY_RATE_LIMITS, text.as_deref())
        .await
}

async fn load(
    metadata: &AnyMetadataStore,
    project_id: ProjectId,
) -> Result<ProjectLimits, StoreError> {
    let project = metadata
        .project_option(project_id, RATE_LIMIT)
        .await?
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|value| RateLimit::parse(&value).ok());
    let keys = key_limits(metadata, project_id)
        .await?
        .into_iter()
        .collect();
    Ok(ProjectLimits { project, keys })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn limits_are_validated() {
        assert_eq!(
            RateLimit::parse(&json!({"window": 60, "count": 10})),
            Ok(RateLimit {
                window: 60,
                count: 10
            })
        );
        assert!(RateLimit::parse(&json!({"window": 0, "count": 10})).is_err());
        assert!(RateLimit::parse(&json!({"window": 86_401, "count": 10})).is_err());
        assert!(RateLimit::parse(&json!({"window": 60})).is_err());
        assert!(RateLimit::parse(&json!({"window": 60, "count": 1, "x": 1})).is_err());
    }

    #[tokio::test]
    async fn a_full_window_refuses_with_sentrys_headers() {
        let store = sentry_store::open_metadata("sqlite::memory:")
            .await
            .unwrap();
        let org = store.ensure_organization("org").await.unwrap();
        let project = store.ensure_project(org.id, "p").await.unwrap();
        store
            .set_project_option(project.id, RATE_LIMIT, Some(r#"{"window":3600,"count":2}"#))
            .await
            .unwrap();
        let key: ProjectKey = "0123456789abcdef0123456789abcdef".parse().unwrap();
        let limiter = RateLimiter::default();
        assert!(
            limiter
                .admit(&store, project.id, &key, 1)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            limiter
                .admit(&store, project.id, &key, 1)
                .await
                .unwrap()
                .is_none()
        );
        let (reason, refused) = limiter
            .admit(&store, project.id, &key, 1)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(reason, "project_quota");
        assert_eq!(refused.status(), axum::http::StatusCode::TOO_MANY_REQUESTS);
        let response = axum::response::IntoResponse::into_response(refused);
        let header = response.headers()["x-sentry-rate-limits"].to_str().unwrap();
        assert!(
            header.ends_with(":error;default;security:project:project_quota"),
            "{header}"
        );
        let retry_after: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=3600).contains(&retry_after));
        assert!(
            limiter
                .admit(&store, project.id, &key, 0)
                .await
                .unwrap()
                .is_none(),
            "no events, no limit"
        );
    }
}
