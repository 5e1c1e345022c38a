//! A project's DSN keys in Sentry's web API: list, create, detail (each
//! with its DSNs and rate limit) and the rate limit's update.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sentry_core::protocol::Timestamp;
use sentry_core::store::{KeyRecord, MetadataStore, Project};
use sentry_core::{Dsn, ProjectKey};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::ApiAuth;
use crate::credentials::new_project_key;
use crate::error::ApiError;
use crate::ingest::rate_limits::{RateLimit, key_limits, set_key_limit};
use crate::routes::json_body;
use crate::routes::projects::visible_project;
use crate::state::AppState;

/// Longest key name.
const MAX_NAME_LENGTH: usize = 64;

/// A key as Sentry's key endpoints return it. Keys have no secret part:
/// `secret` is null, and so is the secret DSN's password.
fn key_json(
    state: &AppState,
    key: &KeyRecord,
    rate_limit: Option<&RateLimit>,
) -> Result<Value, ApiError> {
    let dsn = key_dsn(state, key)?;
    let endpoint = |path: &str| {
        format!(
            "{}/api/{}/{path}/?sentry_key={}",
            state.public_url, key.project_id, key.public_key
        )
    };
    Ok(json!({
        "id": key.public_key.as_str(),
        "name": key.label,
        "label": key.label,
        "public": key.public_key.as_str(),
        "secret": null,
        "projectId": key.project_id.0,
        "isActive": key.is_active,
        "dateCreated": key.date_created.to_rfc3339(),
        "rateLimit": rate_limit,
        "browserSdkVersion": "latest",
        "dsn": {
            "public": dsn,
            "secret": dsn,
            "csp": endpoint("csp-report"),
            "security": endpoint("security"),
            "minidump": endpoint("minidump"),
            "unreal": format!("{}/api/{}/unreal/{}/", state.public_url, key.project_id, key.public_key),
            "cdn": null,
        },
    }))
}

/// The DSN of a key, at the server's public URL.
///
/// # Errors
///
/// 500 when the public URL makes no DSN (it is checked at startup).
pub fn key_dsn(state: &AppState, key: &KeyRecord) -> Result<String, ApiError> {
    Ok(
        Dsn::new(&state.public_url, key.public_key.clone(), key.project_id)
            .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error"))?
            .to_string(),
    )
}

/// A key of a project by its id; 404 for a key the project does not have.
async fn project_key(
    state: &AppState,
    project: &Project,
    key_id: &str,
) -> Result<KeyRecord, ApiError> {
    let key_id: ProjectKey = key_id.parse().map_err(|_| ApiError::not_found())?;
    state
        .metadata
        .key(&key_id)
        .await?
        .filter(|key| key.project_id == project.id)
        .ok_or_else(ApiError::not_found)
}

/// A key's detail, with its rate limit.
async fn key_detail(state: &AppState, key: &KeyRecord) -> Result<Json<Value>, ApiError> {
    let limits = key_limits(&state.metadata, key.project_id).await?;
    Ok(Json(key_json(
        state,
        key,
        limits.get(key.public_key.as_str()),
    )?))
}

async fn keys_of(state: &AppState, project: &Project) -> Result<Vec<KeyRecord>, ApiError> {
    Ok(state.metadata.project_keys(project.id).await?)
}

/// `GET /api/0/projects/{org}/{project}/keys/`: oldest first.
pub async fn list_keys(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((org, project)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    auth.require_scope("project:read")?;
    let (_, project) = visible_project(&state, &auth, &org, &project).await?;
    let limits = key_limits(&state.metadata, project.id).await?;
    let mut body = Vec::new();
    for key in keys_of(&state, &project).await? {
        body.push(key_json(&state, &key, limits.get(key.public_key.as_str()))?);
    }
    Ok(Json(Value::Array(body)))
}

/// `GET /api/0/projects/{org}/{project}/keys/{key_id}/`: 404 for a key
/// the project does not have.
pub async fn get_key(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((org, project, key_id)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    auth.require_scope("project:read")?;
    let (_, project) = visible_project(&state, &auth, &org, &project).await?;
    let key = project_key(&state, &project, &key_id).await?;
    key_detail(&state, &key).await
}

/// `PUT /api/0/projects/{org}/{project}/keys/{key_id}/`: sets the key's
/// `rateLimit` (`{"window": seconds, "count": events}`, or `null` to
/// lift it); other fields are left as they are.
pub async fn update_key(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((org, project, key_id)): Path<(String, String, String)>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    auth.require_scope("project:write")?;
    let (_, project) = visible_project(&state, &auth, &org, &project).await?;
    let key = project_key(&state, &project, &key_id).await?;
    let fields: Value = json_body::parse(&body)?;
    if let Some(value) = fields.get("rateLimit") {
        let limit = match value {
            Value::Null => None,
            value => Some(
                RateLimit::parse(value)
                    .map_err(|e| ApiError::bad_request(format!("rateLimit: {e}")))?,
            ),
        };
        set_key_limit(&state.metadata, project.id, &key.public_key, limit).await?;
        state.rate_limits.invalidate(project.id);
    }
    key_detail(&state, &key).await
}

/// The body of a new key.
#[derive(Debug, Deserialize)]
pub struct NewKey {
    name: Option<String>,
}

/// `POST /api/0/projects/{org}/{project}/keys/`: 201 with a new key named
/// `name` (default `Default`).
pub async fn create_key(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((org, project)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    auth.require_scope("project:write")?;
    let (_, project) = visible_project(&state, &auth, &org, &project).await?;
    let new: NewKey = if body.is_empty() {
        NewKey { name: None }
    } else {
        json_body::parse(&body)?
    };
    let key = add_key(&state, &project, new.name).await?;
    Ok((StatusCode::CREATED, Json(key_json(&state, &key, None)?)).into_response())
}

/// Creates a key for a project, named `name` (default `Default`): the
/// API's and the web UI's one way to add a key.
///
/// # Errors
///
/// 400 for a name longer than 64 characters.
pub async fn add_key(
    state: &AppState,
    project: &Project,
    name: Option<String>,
) -> Result<KeyRecord, ApiError> {
    let label = name
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "Default".to_owned());
    if label.chars().count() > MAX_NAME_LENGTH {
        return Err(ApiError::bad_request(format!(
            "name: Ensure this field has no more than {MAX_NAME_LENGTH} characters."
        )));
    }
    let key = KeyRecord {
        public_key: new_project_key()?,
        project_id: project.id,
        label,
        is_active: true,
        date_created: Timestamp::now(),
    };
    state.metadata.insert_key(&key).await?;
    Ok(key)
}
