//! Project settings, `/settings/{org}/projects/{project}/`: DSN keys, the
//! project's rate limit, data scrubbing, fingerprint rules and stack trace
//! rules. Forms save through the web API's own functions
//! ([`change_project`], [`add_key`]), so they validate alike; a refused
//! value shows its error beside the field, with what was typed kept.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use sentry_core::scrub::{
    DATA_SCRUBBER, DATA_SCRUBBER_DEFAULTS, SAFE_FIELDS, SCRUB_IP_ADDRESSES, SENSITIVE_FIELDS,
};
use sentry_core::store::{MetadataStore, OrgRole, Organization, Project};
use serde_json::{Map, Value, json};

use crate::auth::{form_pairs, param};
use crate::grouping_configs::{FINGERPRINTING_RULES, GROUPING_ENHANCEMENTS};
use crate::ingest::rate_limits::{RATE_LIMIT, key_limits};
use crate::routes::project_keys::{add_key, key_dsn};
use crate::routes::projects::{change_project, project_detail_json};
use crate::state::AppState;
use crate::ui::error_page::UiError;
use crate::ui::format::date_time;
use crate::ui::page::{Chrome, render_with, see_other};
use crate::ui::session::WebUser;

/// A DSN key as listed.
#[derive(Debug, Clone)]
pub struct KeyRow {
    /// Its name.
    pub label: String,
    /// Its DSN.
    pub dsn: String,
    /// Whether ingest accepts it.
    pub active: bool,
    /// When it was made.
    pub created: String,
    /// Its own rate limit, as text, or empty.
    pub rate_limit: String,
}

/// The values of the settings forms, as stored or as typed.
#[derive(Debug, Clone, Default)]
pub struct SettingsValues {
    /// Rate limit window in seconds, or empty for none.
    pub rate_window: String,
    /// Events per window, or empty for none.
    pub rate_count: String,
    /// Whether the data scrubber runs.
    pub data_scrubber: bool,
    /// Whether it uses its default list of sensitive fields.
    pub data_scrubber_defaults: bool,
    /// Whether IP addresses are removed.
    pub scrub_ip_addresses: bool,
    /// More sensitive field names, one a line.
    pub sensitive_fields: String,
    /// Field names never scrubbed, one a line.
    pub safe_fields: String,
    /// Fingerprint rules.
    pub fingerprint_rules: String,
    /// Stack trace rules.
    pub enhancements: String,
    /// The name of a new key.
    pub key_name: String,
}

#[derive(Template)]
#[template(path = "ui/settings.html")]
struct SettingsPage {
    chrome: Chrome,
    project: String,
    projects: Vec<(String, bool)>,
    action: String,
    keys: Vec<KeyRow>,
    values: SettingsValues,
    errors: BTreeMap<String, String>,
    saved: String,
    can_edit: bool,
}

impl SettingsPage {
    /// The error of a field, or empty.
    fn error(&self, field: &str) -> &str {
        self.errors.get(field).map_or("", String::as_str)
    }
}

/// A JSON list of strings as lines.
fn lines(value: &Value) -> String {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

fn stored_values(detail: &Value) -> SettingsValues {
    let text = |key: &str| detail[key].as_str().unwrap_or_default().to_owned();
    let number = |value: &Value| value.as_u64().map(|n| n.to_string()).unwrap_or_default();
    SettingsValues {
        rate_window: number(&detail["rateLimit"]["window"]),
        rate_count: number(&detail["rateLimit"]["count"]),
        data_scrubber: detail[DATA_SCRUBBER].as_bool().unwrap_or(true),
        data_scrubber_defaults: detail[DATA_SCRUBBER_DEFAULTS].as_bool().unwrap_or(true),
        scrub_ip_addresses: detail[SCRUB_IP_ADDRESSES].as_bool().unwrap_or(false),
        sensitive_fields: lines(&detail[SENSITIVE_FIELDS]),
        safe_fields: lines(&detail[SAFE_FIELDS]),
        fingerprint_rules: text(FINGERPRINTING_RULES),
        enhancements: text(GROUPING_ENHANCEMENTS),
        key_name: String::new(),
    }
}

/// Reads one form of the page into the web API's project update fields,
/// and into the values to show again if they are refused.
///
/// # Errors
///
/// The field and message of a value that is not even of the right kind.
pub fn form_fields(
    section: &str,
    form: &[(String, String)],
    values: &mut SettingsValues,
) -> Result<Value, (String, String)> {
    let text = |name: &str| param(form, name).unwrap_or_default().to_owned();
    let list = |name: &str| -> Vec<String> {
        text(name)
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let mut fields = Map::new();
    match section {
        "rate-limit" => {
            values.rate_window = text("window").trim().to_owned();
            values.rate_count = text("count").trim().to_owned();
            let limit = if values.rate_window.is_empty() && values.rate_count.is_empty() {
                Value::Null
            } else {
                let number = |text: &str| {
                    text.parse::<u64>().map_err(|_| {
                        (
                            RATE_LIMIT.to_owned(),
                            "The window and the count must be whole numbers.".to_owned(),
                        )
                    })
                };
                json!({"window": number(&values.rate_window)?, "count": number(&values.rate_count)?})
            };
            fields.insert(RATE_LIMIT.to_owned(), limit);
        }
        "scrubbing" => {
            values.data_scrubber = param(form, DATA_SCRUBBER).is_some();
            values.data_scrubber_defaults = param(form, DATA_SCRUBBER_DEFAULTS).is_some();
            values.scrub_ip_addresses = param(form, SCRUB_IP_ADDRESSES).is_some();
            values.sensitive_fields = text(SENSITIVE_FIELDS);
            values.safe_fields = text(SAFE_FIELDS);
            fields.insert(DATA_SCRUBBER.to_owned(), values.data_scrubber.into());
            fields.insert(
                DATA_SCRUBBER_DEFAULTS.to_owned(),
                values.data_scrubber_defaults.into(),
            );
            fields.insert(
                SCRUB_IP_ADDRESSES.to_owned(),
                values.scrub_ip_addresses.into(),
            );
            fields.insert(SENSITIVE_FIELDS.to_owned(), json!(list(SENSITIVE_FIELDS)));
            fields.insert(SAFE_FIELDS.to_owned(), json!(list(SAFE_FIELDS)));
        }
        "grouping" => {
            values.fingerprint_rules = text(FINGERPRINTING_RULES);
            values.enhancements = text(GROUPING_ENHANCEMENTS);
            fields.insert(
                FINGERPRINTING_RULES.to_owned(),
                values.fingerprint_rules.clone().into(),
            );
            fields.insert(
                GROUPING_ENHANCEMENTS.to_owned(),
                values.enhancements.clone().into(),
            );
        }
        other => {
            return Err((
                "section".to_owned(),
                format!("Unknown settings section `{other}`."),
            ));
        }
    }
    Ok(Value::Object(fields))
}

/// The organization and project of a settings path the user may see.
async fn settings_project(
    state: &AppState,
    user: &WebUser,
    org_slug: &str,
    project_slug: &str,
) -> Result<(Organization, Project), UiError> {
    let org = user.organization(state, org_slug).await?;
    let project = state
        .metadata
        .project_by_slug(org.id, project_slug)
        .await?
        .ok_or_else(UiError::not_found)?;
    Ok((org, project))
}

/// Whether the user may change an organization's settings: owners,
/// managers and superusers.
async fn can_edit(state: &AppState, user: &WebUser, org: &Organization) -> Result<bool, UiError> {
    if user.user.is_superuser {
        return Ok(true);
    }
    let member = state.metadata.org_member(org.id, user.user.id).await?;
    Ok(member.is_some_and(|member| matches!(member.role, OrgRole::Owner | OrgRole::Manager)))
}

async fn key_rows(state: &AppState, project: &Project) -> Result<Vec<KeyRow>, UiError> {
    let limits = key_limits(&state.metadata, project.id).await?;
    let mut rows = Vec::new();
    for key in state.metadata.project_keys(project.id).await? {
        rows.push(KeyRow {
            dsn: key_dsn(state, &key)?,
            active: key.is_active,
            created: date_time(key.date_created),
            rate_limit: limits
                .get(key.public_key.as_str())
                .map(|limit| format!("{} events per {} seconds", limit.count, limit.window))
                .unwrap_or_default(),
            label: key.label,
        });
    }
    Ok(rows)
}

/// Renders the page with some values and errors.
async fn page(
    state: &AppState,
    user: &WebUser,
    org: &Organization,
    project: &Project,
    values: Option<SettingsValues>,
    errors: BTreeMap<String, String>,
    saved: String,
) -> Result<Response, UiError> {
    let values = match values {
        Some(values) => values,
        None => stored_values(&project_detail_json(state, org, project).await?),
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let projects = state
        .metadata
        .projects(org.id)
        .await?
        .into_iter()
        .map(|other| {
            let current = other.id == project.id;
            (other.slug, current)
        })
        .collect();
    render_with(
        status,
        &SettingsPage {
            chrome: Chrome::new(user, org, "settings"),
            project: project.slug.clone(),
            projects,
            action: settings_path(org, project),
            keys: key_rows(state, project).await?,
            values,
            errors,
            saved,
            can_edit: can_edit(state, user, org).await?,
        },
    )
}

fn settings_path(org: &Organization, project: &Project) -> String {
    format!("/settings/{}/projects/{}/", org.slug, project.slug)
}

/// `GET /settings/{org}/projects/`: the settings of the first project.
pub async fn first_project(
    State(state): State<AppState>,
    user: WebUser,
    Path(org_slug): Path<String>,
) -> Result<Response, UiError> {
    let org = user.organization(&state, &org_slug).await?;
    let projects = state.metadata.projects(org.id).await?;
    let project = projects.first().ok_or_else(UiError::not_found)?;
    Ok(see_other(&settings_path(&org, project)))
}

/// `GET /settings/{org}/projects/{project}/`; `saved` names the form just saved.
pub async fn settings_page(
    State(state): State<AppState>,
    user: WebUser,
    Path((org_slug, project_slug)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, UiError> {
    let (org, project) = settings_project(&state, &user, &org_slug, &project_slug).await?;
    let params = form_pairs(query.as_deref().unwrap_or_default());
    let saved = param(&params, "saved").unwrap_or_default().to_owned();
    page(&state, &user, &org, &project, None, BTreeMap::new(), saved).await
}

/// `POST /settings/{org}/projects/{project}/`: saves one form (`section`:
/// `rate-limit`, `scrubbing`, `grouping` or `keys`), then back to the page;
/// refused values come back with their errors, 400.
pub async fn save_settings(
    State(state): State<AppState>,
    user: WebUser,
    Path((org_slug, project_slug)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Response, UiError> {
    let form = form_pairs(std::str::from_utf8(&body).unwrap_or_default());
    user.check_csrf(&form)?;
    let (org, project) = settings_project(&state, &user, &org_slug, &project_slug).await?;
    if !can_edit(&state, &user, &org).await? {
        return Err(UiError::forbidden(
            "Only owners and managers of the organization change project settings.",
        ));
    }
    let section = param(&form, "section").unwrap_or_default().to_owned();
    let mut values = stored_values(&project_detail_json(&state, &org, &project).await?);
    let mut errors = BTreeMap::new();
    if section == "keys" {
        let name = param(&form, "name").unwrap_or_default().to_owned();
        match add_key(&state, &project, Some(name.clone())).await {
            Ok(_) => {}
            Err(error) if error.status() == StatusCode::BAD_REQUEST => {
                values.key_name = name;
                errors.insert("name".to_owned(), error.detail().to_owned());
            }
            Err(error) => return Err(error.into()),
        }
    } else {
        match form_fields(&section, &form, &mut values) {
            Ok(fields) => match change_project(&state, project.clone(), &fields).await {
                Ok(_) => {}
                Err(error) if error.status() == StatusCode::BAD_REQUEST => {
                    let field = fields
                        .as_object()
                        .into_iter()
                        .flat_map(|fields| fields.keys())
                        .find(|field| error.field_message(field).is_some())
                        .cloned()
                        .unwrap_or_else(|| "section".to_owned());
                    let message = error.field_message(&field).unwrap_or(error.detail());
                    errors.insert(field, message.to_owned());
                }
                Err(error) => return Err(error.into()),
            },
            Err((field, message)) => {
                errors.insert(field, message);
            }
        }
    }
    if errors.is_empty() {
        return Ok(see_other(&format!(
            "{}?saved={section}#{section}",
            settings_path(&org, &project)
        )));
    }
    page(
        &state,
        &user,
        &org,
        &project,
        Some(values),
        errors,
        String::new(),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn reads_each_form_into_api_fields() {
        let mut values = SettingsValues::default();
        let fields = form_fields(
            "rate-limit",
            &form(&[("window", "60"), ("count", "100")]),
            &mut values,
        );
        assert_eq!(
            fields.unwrap(),
            json!({"rateLimit": {"window": 60, "count": 100}})
        );
        let cleared = form_fields(
            "rate-limit",
            &form(&[("window", ""), ("count", "")]),
            &mut values,
        );
        assert_eq!(cleared.unwrap(), json!({"rateLimit": null}));
        let bad = form_fields(
            "rate-limit",
            &form(&[("window", "a minute"), ("count", "1")]),
            &mut values,
        );
        assert_eq!(bad.unwrap_err().0, RATE_LIMIT);
        assert_eq!(values.rate_window, "a minute", "what was typed is kept");

        let fields = form_fields(
            "scrubbing",
            &form(&[
                (DATA_SCRUBBER, "on"),
                (SENSITIVE_FIELDS, "card\n\n  pin \n"),
            ]),
            &mut values,
        )
        .unwrap();
        assert_eq!(fields[DATA_SCRUBBER], true);
        assert_eq!(fields[DATA_SCRUBBER_DEFAULTS], false);
        assert_eq!(fields[SENSITIVE_FIELDS], json!(["card", "pin"]));
        assert!(form_fields("everything", &[], &mut values).is_err());
    }
}
