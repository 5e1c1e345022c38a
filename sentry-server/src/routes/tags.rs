//! An issue's tags in Sentry's web API: each key with its most frequent
//! values, one key, and one key's values.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use sentry_core::store::{EventStore, TagFacet, TagValueCount};
use serde_json::{Value, json};

use crate::auth::{ApiAuth, form_pairs};
use crate::error::ApiError;
use crate::routes::events::issue_event_filter;
use crate::routes::issues::{IssuePath, visible_issue};
use crate::state::AppState;

/// Values per key in the tag list when `limit` is not given.
const DEFAULT_TOP_VALUES: u64 = 10;
/// Most values a listing returns.
const MAX_VALUES: u64 = 1000;

/// The label Sentry shows for a tag key.
pub fn key_label(key: &str) -> String {
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
    path: &IssuePath,
    keys: &[String],
    params: &[(String, String)],
    top: u64,
) -> Result<Vec<TagFacet>, ApiError> {
    auth.require_scope("event:read")?;
    let (issue, _, _) = visible_issue(state, auth, path).await?;
    let filter = issue_event_filter(&issue, params)?;
    Ok(state.events.tag_facets(&filter, keys, top).await?)
}

/// `GET /api/0/issues/{id}/tags/` (or the organization path): every key
/// with its `limit` (10) most frequent values; `key` (repeatable),
/// `environment`, `query` narrow it.
pub async fn issue_tags(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(path): Path<IssuePath>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params = form_pairs(query.as_deref().unwrap_or_default());
    let keys: Vec<String> = params
        .iter()
        .filter(|(name, _)| name == "key")
        .map(|(_, value)| value.clone())
        .collect();
    let top = value_limit(&params, DEFAULT_TOP_VALUES)?;
    let found = facets(&state, &auth, &path, &keys, &params, top).await?;
    Ok(Json(Value::Array(found.iter().map(facet_json).collect())))
}

/// The facet of the path's tag key; 404 when no event has it.
async fn path_facet(
    state: &AppState,
    auth: &ApiAuth,
    path: &IssuePath,
    query: Option<&str>,
    default_top: u64,
) -> Result<TagFacet, ApiError> {
    let params = form_pairs(query.unwrap_or_default());
    let key = path.key.clone().ok_or_else(ApiError::not_found)?;
    let top = value_limit(&params, default_top)?;
    let found = facets(state, auth, path, &[key], &params, top).await?;
    found.into_iter().next().ok_or_else(ApiError::not_found)
}

/// `GET /api/0/issues/{id}/tags/{key}/` (or the organization path): one
/// key with its `limit` (10) most frequent values.
pub async fn issue_tag(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(path): Path<IssuePath>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let facet = path_facet(&state, &auth, &path, query.as_deref(), DEFAULT_TOP_VALUES).await?;
    Ok(Json(facet_json(&facet)))
}

/// `GET /api/0/issues/{id}/tags/{key}/values/` (or the organization
/// path): the key's values, most frequent first, up to `limit` (1000).
pub async fn issue_tag_values(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(path): Path<IssuePath>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let facet = path_facet(&state, &auth, &path, query.as_deref(), MAX_VALUES).await?;
    Ok(Json(Value::Array(
        facet
            .top
            .iter()
            .map(|value| value_json(&facet.key, value))
            .collect(),
    )))
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
