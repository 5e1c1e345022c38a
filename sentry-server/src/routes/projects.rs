//! Projects in Sentry's web API: detail, update (name, slug, platform) and
//! deletion; the update includes the grouping
//! settings `fingerprintingRules` and `groupingEnhancements`, the
//! retention settings `retentionDays` and `maxEvents`, and the data
//! scrubbing settings `dataScrubber`, `dataScrubberDefaults`,
//! `sensitiveFields`, `safeFields` and `scrubIPAddresses`, the browser
//! origins ingest allows, `allowedDomains`, and the project's rate limit,
//! `rateLimit` (`{"window": seconds, "count": events}`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use sentry_core::grouping::{Enhancements, FingerprintingRules};
use sentry_core::protocol::Timestamp;
use sentry_core::scrub::{self, ScrubbingSettings};
use sentry_core::store::{
    EventStore, MetadataStore, Organization, Project, ProjectUpdate as StoreProjectUpdate,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::ApiAuth;
use crate::cleanup::{MAX_EVENTS, MAX_RETENTION_DAYS, RETENTION_DAYS, Retention};
use crate::error::ApiError;
use crate::grouping_configs::{FINGERPRINTING_RULES, GROUPING_ENHANCEMENTS};
use crate::ingest::origins::{self, ALLOWED_DOMAINS};
use crate::ingest::rate_limits::{RATE_LIMIT, RateLimit};
use crate::ingest::scrubbing;
use crate::routes::json_body;
use crate::routes::model::project_summary_json;
use crate::routes::slugs::check_slug;
use crate::state::AppState;

/// Loads a project the token may see.
pub async fn visible_project(
    state: &AppState,
    auth: &ApiAuth,
    org: &str,
    project: &str,
) -> Result<(Organization, Project), ApiError> {
    let org = auth.organization(state, org).await?;
    let project = state
        .metadata
        .project_by_slug(org.id, project)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok((org, project))
}

/// A project as Sentry's project detail returns it, with its settings.
pub async fn project_detail_json(
    state: &AppState,
    org: &Organization,
    project: &Project,
) -> Result<Value, ApiError> {
    let teams = state.metadata.project_teams(project.id).await?;
    let option = |key| state.metadata.project_option(project.id, key);
    let fingerprinting = option(FINGERPRINTING_RULES).await?.unwrap_or_default();
    let enhancements = option(GROUPING_ENHANCEMENTS).await?.unwrap_or_default();
    let retention = Retention::of_project(&state.metadata, project.id).await?;
    let scrubbing = scrubbing::load(&state.metadata, project.id).await?;
    let origins = origins::allowed_origins(&state.metadata, project.id).await?;
    let rate_limit = option(RATE_LIMIT)
        .await?
        .and_then(|text| serde_json::from_str::<Value>(&text).ok());
    let summary = project_summary_json(project, &teams);
    let mut detail = json!({
        "id": project.id.to_string(),
        "slug": project.slug,
        "name": project.name,
        "platform": project.platform,
        "dateCreated": project.date_created.to_rfc3339(),
        "organization": { "id": org.id.to_string(), "slug": org.slug, "name": org.name },
        "team": summary["team"].clone(),
        "teams": summary["teams"].clone(),
        "groupingConfig": sentry_core::grouping::NEWSTYLE_2023_01_11,
        "fingerprintingRules": fingerprinting,
        "groupingEnhancements": enhancements,
        "retentionDays": retention.days,
        "maxEvents": retention.max_events,
        "allowedDomains": origins.patterns(),
        "rateLimit": rate_limit,
    });
    for (option, value) in scrubbing.options() {
        detail[option] = value;
    }
    Ok(detail)
}

/// `GET /api/0/projects/{org}/{project}/`.
pub async fn get_project(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((org, project)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    auth.require_scope("project:read")?;
    let (org, project) = visible_project(&state, &auth, &org, &project).await?;
    Ok(Json(project_detail_json(&state, &org, &project).await?))
}

/// The fields of a project update this server applies.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectChanges {
    name: Option<String>,
    slug: Option<String>,
    #[serde(default, deserialize_with = "present")]
    platform: Option<Value>,
    fingerprinting_rules: Option<String>,
    grouping_enhancements: Option<String>,
    #[serde(default, deserialize_with = "present")]
    retention_days: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    max_events: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    allowed_domains: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    rate_limit: Option<Value>,
}

/// Reads a field that is there, `null` included (serde reads a `null`
/// `Option` as absent): `null` means back to the default.
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// A field-level validation error, as Sentry answers: the message under the
/// field's name, and in `detail`.
fn invalid(field: &str, message: String) -> ApiError {
    ApiError::with_body(
        StatusCode::BAD_REQUEST,
        json!({ "detail": format!("{field}: {message}"), field: [message] }),
    )
}

/// `PUT /api/0/projects/{org}/{project}/`: validates and saves the name,
/// slug and platform, and the grouping, retention and data scrubbing
/// settings; 409 when the new slug is taken.
pub async fn update_project(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((org, project)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    auth.require_scope("project:write")?;
    let (org, project) = visible_project(&state, &auth, &org, &project).await?;
    let fields: Value = json_body::parse(&body)?;
    let project = change_project(&state, project, &fields).await?;
    Ok(Json(project_detail_json(&state, &org, &project).await?))
}

/// Validates and saves the changes of a project update (the fields of
/// [`update_project`]'s JSON body), the API's and the web UI's one way to
/// change a project's settings; returns the project as it is now.
///
/// # Errors
///
/// 400 with the message under the field's name for an invalid field (see
/// [`ApiError::field_message`]), 409 for a slug another project has.
pub async fn change_project(
    state: &AppState,
    project: Project,
    fields: &Value,
) -> Result<Project, ApiError> {
    let update = ProjectChanges::deserialize(fields)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))?;
    if let Some(rules) = &update.fingerprinting_rules {
        FingerprintingRules::parse(rules)
            .map_err(|e| invalid(FINGERPRINTING_RULES, e.to_string()))?;
    }
    if let Some(rules) = &update.grouping_enhancements {
        Enhancements::parse(rules).map_err(|e| invalid(GROUPING_ENHANCEMENTS, e.to_string()))?;
    }
    // `null` (or 0 events) goes back to the default; anything else must be in range.
    let retention_days = update
        .retention_days
        .as_ref()
        .map(|value| match value {
            Value::Null => Ok(String::new()),
            value => value
                .as_u64()
                .filter(|days| (1..=u64::from(MAX_RETENTION_DAYS)).contains(days))
                .map(|days| days.to_string())
                .ok_or_else(|| {
                    invalid(
                        RETENTION_DAYS,
                        format!("must be a whole number of days from 1 to {MAX_RETENTION_DAYS}"),
                    )
                }),
        })
        .transpose()?;
    let max_events = update
        .max_events
        .as_ref()
        .map(|value| match value {
            Value::Null => Ok(String::new()),
            value => value
                .as_u64()
                .map(|max| {
                    if max == 0 {
                        String::new()
                    } else {
                        max.to_string()
                    }
                })
                .ok_or_else(|| invalid(MAX_EVENTS, "must be a whole number or null".to_owned())),
        })
        .transpose()?;
    let renamed = project_update(&update)?;
    let mut options = scrubbing_update(fields)?;
    if let Some(value) = &update.allowed_domains {
        options.push((ALLOWED_DOMAINS, allowed_domains_update(value)?));
    }
    if let Some(value) = &update.rate_limit {
        let limit = match value {
            Value::Null => None,
            value => Some(RateLimit::parse(value).map_err(|e| invalid(RATE_LIMIT, e))?),
        };
        options.push((RATE_LIMIT, limit.map(|limit| json!(limit).to_string())));
    }
    for (key, value) in [
        (FINGERPRINTING_RULES, &update.fingerprinting_rules),
        (GROUPING_ENHANCEMENTS, &update.grouping_enhancements),
        (RETENTION_DAYS, &retention_days),
        (MAX_EVENTS, &max_events),
    ] {
        if let Some(value) = value {
            let value = Some(value.as_str()).filter(|text| !text.trim().is_empty());
            state
                .metadata
                .set_project_option(project.id, key, value)
                .await?;
        }
    }
    for (key, value) in &options {
        state
            .metadata
            .set_project_option(project.id, key, value.as_deref())
            .await?;
    }
    let project = if renamed == StoreProjectUpdate::default() {
        project
    } else {
        state
            .metadata
            .update_project(project.id, &renamed)
            .await
            .map_err(|e| {
                ApiError::from_store_conflict(e, "Another project is already using that slug.")
            })?
            .ok_or_else(ApiError::not_found)?
    };
    state.grouping.invalidate(project.id);
    state.scrubbing.invalidate(project.id);
    state.origins.invalidate(project.id);
    state.rate_limits.invalidate(project.id);
    Ok(project)
}

/// Validates the name, slug and platform of an update.
fn project_update(changes: &ProjectChanges) -> Result<StoreProjectUpdate, ApiError> {
    let name = changes.name.as_ref().map(|name| name.trim().to_owned());
    if name
        .as_ref()
        .is_some_and(|name| name.is_empty() || name.chars().count() > 64)
    {
        return Err(invalid("name", "must be 1 to 64 characters".to_owned()));
    }
    if let Some(slug) = &changes.slug {
        check_slug("slug", slug)?;
    }
    let platform = match &changes.platform {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(platform)) if platform.len() <= 64 => {
            Some(Some(platform.clone()).filter(|platform| !platform.is_empty()))
        }
        Some(_) => {
            return Err(invalid(
                "platform",
                "must be a platform name such as python, or null".to_owned(),
            ));
        }
    };
    Ok(StoreProjectUpdate {
        name,
        slug: changes.slug.clone(),
        platform,
    })
}

/// `DELETE /api/0/projects/{org}/{project}/`: deletes the project with its
/// issues and events; 204.
pub async fn delete_project(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((org, project)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    auth.require_scope("project:admin")?;
    let (_, project) = visible_project(&state, &auth, &org, &project).await?;
    state.metadata.delete_project(project.id).await?;
    let end_of_time =
        Timestamp::parse_rfc3339("9999-12-31T23:59:59Z").ok_or_else(ApiError::not_found)?;
    state
        .events
        .delete_events_before(project.id, end_of_time)
        .await?;
    state.grouping.invalidate(project.id);
    state.scrubbing.invalidate(project.id);
    state.origins.invalidate(project.id);
    Ok(StatusCode::NO_CONTENT)
}

/// Validates `allowedDomains`: a list of patterns, or `null` for the
/// default (`["*"]`); returns the JSON text to store.
fn allowed_domains_update(value: &Value) -> Result<Option<String>, ApiError> {
    match value {
        Value::Null => Ok(None),
        Value::Array(items) if items.iter().all(Value::is_string) => Ok(Some(value.to_string())),
        _ => Err(invalid(
            ALLOWED_DOMAINS,
            "must be a list of domains, such as [\"*\"] or [\"*.example.com\"]".to_owned(),
        )),
    }
}

/// Validates the data scrubbing options of an update; returns each option
/// given with the JSON text to store, `None` for `null` (the default).
fn scrubbing_update(fields: &Value) -> Result<Vec<(&'static str, Option<String>)>, ApiError> {
    let mut updates = Vec::new();
    for option in scrub::OPTIONS {
        let Some(value) = fields.get(option) else {
            continue;
        };
        ScrubbingSettings::default()
            .set(option, value)
            .map_err(|e| invalid(option, e.to_string()))?;
        updates.push((option, (!value.is_null()).then(|| value.to_string())));
    }
    Ok(updates)
}
