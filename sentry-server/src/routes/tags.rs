//! An issue's tags in Sentry's web API: each key with its most frequent
//! values, one key, and one key's values.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use sentry_core::store::{EventStore, TagFacet, TagValueCount};
use serde_json::{Value, json};

use crate::auth::{ApiAuth, form_pairs};
use crate::error::ApiError;
use crate::routes::events::{issue_event_filter, issue_in};
use crate::state::AppState;

/// Values per key in the tag list when `limit` is not given.
const DEFAULT_TOP_VALUES: u64 = 10;
/// Most values a listing returns.
const MAX_VALUES: u64 = 1000;

/// The label Sentry shows for a tag key.
fn key_label(key: &str) -> String {
    match key {
        "os" => "OS".to_owned(),
        "url" => "URL".to_owned(),
        "server_name" => "Server".to_owned(),
        "dist" => "Distribution".to_owned(),
        _ => {
            let mut label = String::with_capacity(key.len());
            let mut word_start = true;
            for c in key.chars() {
                if c == '_' || c == '.' {
                    label.push(if c == '_' { ' ' } else { '.' });
                    word_start = true;
                } else if word_start {
                    label.extend(c.to_uppercase());
                    word_start = false;
                } else {
                    label.push(c);
                }
            }
            label
        }
    }
}

fn value_json(key: &str, value: &TagValueCount) -> Value {
    json!({
        "key": key,
        "name": value.value,
        "value": value.value,
        "count": value.count,
        "firstSeen": value.first_seen.to_rfc3339(),
        "lastSeen": value.last_seen.to_rfc3339(),
    })
}

fn facet_json(facet: &TagFacet) -> Value {
    json!({
        "key": facet.key,
        "name": key_label(&facet.key),
        "totalValues": facet.total,
        "uniqueValues": facet.distinct,
        "topValues": facet.top.iter().map(|value| value_json(&facet.key, value)).collect::<Vec<_>>(),
    })
}

/// Reads `limit` (values per key), capped at [`MAX_VALUES`].
fn value_limit(params: &[(String, String)], default: u64) -> Result<u64, ApiError> {
    match params.iter().find(|(name, _)| name == "limit") {
        Some((_, text)) => Ok(text
            .parse::<u64>()
            .map_err(|_| ApiError::bad_request("limit must be a number"))?
            .clamp(1, MAX_VALUES)),
        None => Ok(default),
    }
}

/// The facets of an issue's events: `keys` (all when empty), `top` values each.
async fn facets(
    state: &AppState,
    auth: &ApiAuth,
    org: Option<&str>,
    issue_id: &str,
    keys: &[String],
    params: &[(String, String)],
    top: u64,
) -> Result<Vec<TagFacet>, ApiError> {
    let (issue, _, _) = issue_in(state, auth, org, issue_id).await?;
    let filter = issue_event_filter(&issue, params)?;
    Ok(state.events.tag_facets(&filter, keys, top).await?)
}

async fn list_tags(
    state: &AppState,
    auth: &ApiAuth,
    org: Option<&str>,
    issue_id: &str,
    query: Option<&str>,
) -> Result<Json<Value>, ApiError> {
    let params = form_pairs(query.unwrap_or_default());
    let keys: Vec<String> = params
        .iter()
        .filter(|(name, _)| name == "key")
        .map(|(_, value)| value.clone())
        .collect();
    let top = value_limit(&params, DEFAULT_TOP_VALUES)?;
    let found = facets(state, auth, org, issue_id, &keys, &params, top).await?;
    Ok(Json(Value::Array(found.iter().map(facet_json).collect())))
}

async fn one_tag(
    state: &AppState,
    auth: &ApiAuth,
    org: Option<&str>,
    issue_id: &str,
    key: String,
    query: Option<&str>,
    values_only: bool,
) -> Result<Json<Value>, ApiError> {
    let params = form_pairs(query.unwrap_or_default());
    let default = if values_only {
        MAX_VALUES
    } else {
        DEFAULT_TOP_VALUES
    };
    let top = value_limit(&params, default)?;
    let found = facets(state, auth, org, issue_id, &[key], &params, top).await?;
    let facet = found.first().ok_or_else(ApiError::not_found)?;
    Ok(Json(if values_only {
        Value::Array(
            facet
                .top
                .iter()
                .map(|value| value_json(&facet.key, value))
                .collect(),
        )
    } else {
        facet_json(facet)
    }))
}

/// `GET /api/0/issues/{id}/tags/`: every key with its `limit` (10) most
/// frequent values; `key` (repeatable), `environment`, `query` narrow it.
pub async fn issue_tags(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(issue_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    list_tags(&state, &auth, None, &issue_id, query.as_deref()).await
}

/// `GET /api/0/organizations/{org}/issues/{id}/tags/`, as [`issue_tags`].
pub async fn org_issue_tags(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((org, issue_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    list_tags(&state, &auth, Some(&org), &issue_id, query.as_deref()).await
}

/// `GET /api/0/issues/{id}/tags/{key}/`: one key; 404 when no event has it.
pub async fn issue_tag(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((issue_id, key)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    one_tag(&state, &auth, None, &issue_id, key, query.as_deref(), false).await
}

/// `GET /api/0/organizations/{org}/issues/{id}/tags/{key}/`, as [`issue_tag`].
pub async fn org_issue_tag(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((org, issue_id, key)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    one_tag(
        &state,
        &auth,
        Some(&org),
        &issue_id,
        key,
        query.as_deref(),
        false,
    )
    .await
}

/// `GET /api/0/issues/{id}/tags/{key}/values/`: the key's values, most
/// frequent first, up to `limit` (1000).
pub async fn issue_tag_values(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((issue_id, key)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    one_tag(&state, &auth, None, &issue_id, key, query.as_deref(), true).await
}

/// `GET /api/0/organizations/{org}/issues/{id}/tags/{key}/values/`, as [`issue_tag_values`].
pub async fn org_issue_tag_values(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((org, issue_id, key)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    one_tag(
        &state,
        &auth,
        Some(&org),
        &issue_id,
        key,
        query.as_deref(),
        true,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_keys_as_sentry_does() {
        assert_eq!(key_label("browser"), "Browser");
        assert_eq!(key_label("os"), "OS");
        assert_eq!(key_label("browser.name"), "Browser.Name");
        assert_eq!(key_label("server_name"), "Server");
        assert_eq!(key_label("my_custom_tag"), "My Custom Tag");
    }
}
