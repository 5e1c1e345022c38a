//! A project's issue alert rules in Sentry's web API: list, create,
//! detail, update and delete. The body is Sentry's (`name`,
//! `actionMatch`, `conditions`, `actions`, `frequency`, `environment`,
//! `status`); [`crate::alerts::rules`] lists what it may hold.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sentry_core::RuleId;
use sentry_core::store::{AlertRule, AlertRuleSettings, MetadataStore, Project};
use serde_json::{Value, json};

use crate::alerts::rules::{RuleConfig, rule_name};
use crate::auth::ApiAuth;
use crate::error::ApiError;
use crate::routes::json_body;
use crate::routes::projects::visible_project;
use crate::state::AppState;

/// A rule as Sentry's rule endpoints return it.
fn rule_json(rule: &AlertRule, project: &Project) -> Value {
    let config: Value = serde_json::from_str(&rule.config).unwrap_or_else(|_| json!({}));
    let field = |name: &str| config.get(name).cloned().unwrap_or(Value::Null);
    json!({
        "id": rule.id.to_string(),
        "name": rule.name,
        "actionMatch": field("actionMatch"),
        "filterMatch": "all",
        "conditions": field("conditions"),
        "filters": field("filters"),
        "actions": field("actions"),
        "frequency": field("frequency"),
        "environment": field("environment"),
        "status": if rule.enabled { "active" } else { "disabled" },
        "dateCreated": rule.date_created.to_rfc3339(),
        "lastTriggered": rule.last_fired_at.map(|time| time.to_rfc3339()),
        "projects": [project.slug],
        "createdBy": null,
    })
}

/// Reads a rule body into the settings the store keeps; 400 naming the
/// field at fault.
fn settings(body: &[u8]) -> Result<AlertRuleSettings, ApiError> {
    let body: Value = json_body::parse(body)?;
    let name = rule_name(body.get("name").and_then(Value::as_str).unwrap_or_default())
        .map_err(|error| ApiError::bad_request(error.to_string()))?;
    let config =
        RuleConfig::from_json(&body).map_err(|error| ApiError::bad_request(error.to_string()))?;
    let enabled = match body.get("status").and_then(Value::as_str) {
        None | Some("active") => true,
        Some("disabled") => false,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "status: must be \"active\" or \"disabled\", not {other:?}"
            )));
        }
    };
    Ok(AlertRuleSettings {
        name,
        config: config.to_json().to_string(),
        enabled,
    })
}

/// A rule of a project by its id; 404 for a rule the project does not have.
async fn project_rule(
    state: &AppState,
    project: &Project,
    rule_id: &str,
) -> Result<AlertRule, ApiError> {
    let id: RuleId = rule_id.parse().map_err(|_| ApiError::not_found())?;
    state
        .metadata
        .alert_rule(id)
        .await?
        .filter(|rule| rule.project_id == project.id)
        .ok_or_else(ApiError::not_found)
}

/// `GET /api/0/projects/{org}/{project}/rules/`: oldest first.
pub async fn list_rules(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((org, project)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    auth.require_scope("project:read")?;
    let (_, project) = visible_project(&state, &auth, &org, &project).await?;
    let rules = state.metadata.alert_rules(project.id).await?;
    Ok(Json(
        rules.iter().map(|rule| rule_json(rule, &project)).collect(),
    ))
}

/// `POST /api/0/projects/{org}/{project}/rules/`: 201 with the new rule.
pub async fn create_rule(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((org, project)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    auth.require_scope("project:write")?;
    let (_, project) = visible_project(&state, &auth, &org, &project).await?;
    let settings = settings(&body)?;
    let rule = state
        .metadata
        .create_alert_rule(project.id, &settings)
        .await?;
    Ok((StatusCode::CREATED, Json(rule_json(&rule, &project))).into_response())
}

/// `GET /api/0/projects/{org}/{project}/rules/{rule_id}/`.
pub async fn get_rule(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((org, project, rule_id)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    auth.require_scope("project:read")?;
    let (_, project) = visible_project(&state, &auth, &org, &project).await?;
    let rule = project_rule(&state, &project, &rule_id).await?;
    Ok(Json(rule_json(&rule, &project)))
}

/// `PUT /api/0/projects/{org}/{project}/rules/{rule_id}/`: replaces the
/// rule's name, conditions, actions and status, as Sentry does.
pub async fn update_rule(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((org, project, rule_id)): Path<(String, String, String)>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    auth.require_scope("project:write")?;
    let (_, project) = visible_project(&state, &auth, &org, &project).await?;
    let rule = project_rule(&state, &project, &rule_id).await?;
    let settings = settings(&body)?;
    let rule = state
        .metadata
        .update_alert_rule(rule.id, &settings)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(rule_json(&rule, &project)))
}

/// `DELETE /api/0/projects/{org}/{project}/rules/{rule_id}/`: 202, as Sentry.
pub async fn delete_rule(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path((org, project, rule_id)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    auth.require_scope("project:write")?;
    let (_, project) = visible_project(&state, &auth, &org, &project).await?;
    let rule = project_rule(&state, &project, &rule_id).await?;
    state.metadata.delete_alert_rule(rule.id).await?;
    Ok(StatusCode::ACCEPTED)
}
