//! API tokens in Sentry's web API: list the organization's tokens and
//! create one with some of the caller's scopes. A token belongs to one
//! organization and sees nothing of another; its text is shown once, when
//! it is created.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sentry_core::protocol::Timestamp;
use sentry_core::store::{ApiToken, MetadataStore};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::ApiAuth;
use crate::credentials::new_api_token;
use crate::error::ApiError;
use crate::init::ADMIN_SCOPES;
use crate::routes::json_body;
use crate::state::AppState;

/// Longest token name.
const MAX_NAME_LENGTH: usize = 255;

/// A token without its text: its last four characters say which it is.
fn token_json(token: &ApiToken) -> Value {
    let last: String = token
        .token
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    json!({
        "id": last,
        "name": token.name,
        "scopes": token.scopes,
        "tokenLastCharacters": last,
        "dateCreated": token.date_created.to_rfc3339(),
        "expiresAt": null,
    })
}

/// `GET /api/0/api-tokens/`: the organization's tokens, oldest first.
pub async fn list_tokens(
    State(state): State<AppState>,
    auth: ApiAuth,
) -> Result<Json<Value>, ApiError> {
    auth.require_scope("org:admin")?;
    let tokens = state.metadata.org_tokens(auth.token.org_id).await?;
    Ok(Json(Value::Array(tokens.iter().map(token_json).collect())))
}

/// The body of a new token.
#[derive(Debug, Deserialize)]
pub struct NewToken {
    name: Option<String>,
    scopes: Vec<String>,
}

/// `POST /api/0/api-tokens/`: 201 with the new token and its text; its
/// scopes must be known and granted to the caller.
pub async fn create_token(
    State(state): State<AppState>,
    auth: ApiAuth,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    auth.require_scope("org:admin")?;
    let new: NewToken = json_body::parse(&body)?;
    if new.scopes.is_empty() {
        return Err(ApiError::bad_request(
            "scopes: at least one scope is required",
        ));
    }
    for scope in &new.scopes {
        if !ADMIN_SCOPES.contains(&scope.as_str()) {
            return Err(ApiError::bad_request(format!(
                "scopes: unknown scope `{scope}`"
            )));
        }
        if !auth.token.has_scope(scope) {
            return Err(ApiError::forbidden(format!(
                "scopes: `{scope}` is not granted to the token making the request"
            )));
        }
    }
    let name = new.name.unwrap_or_default();
    if name.chars().count() > MAX_NAME_LENGTH {
        return Err(ApiError::bad_request(format!(
            "name: Ensure this field has no more than {MAX_NAME_LENGTH} characters."
        )));
    }
    let mut scopes = new.scopes;
    scopes.sort();
    scopes.dedup();
    let token = ApiToken {
        token: new_api_token()?,
        org_id: auth.token.org_id,
        scopes,
        name,
        date_created: Timestamp::now(),
    };
    state.metadata.insert_token(&token).await?;
    let mut body = token_json(&token);
    body["token"] = json!(token.token);
    Ok((StatusCode::CREATED, Json(body)).into_response())
}
