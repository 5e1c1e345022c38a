//! Who is calling: DSN keys for ingest, bearer tokens for the web API.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use sentry_core::store::{ApiToken, MetadataStore, Organization};
use sentry_core::{ClientAuth, Dsn};

use crate::error::ApiError;
use crate::state::AppState;

const SENTRY_AUTH: &str = "x-sentry-auth";

/// Reads the DSN key of an ingest request from its headers, its query
/// string, or the `dsn` of the envelope header, in that order.
///
/// # Errors
///
/// 400 when both `X-Sentry-Auth` and `Authorization: Sentry` are present
/// (as Relay answers) or a header is malformed; 401 when no key is found.
pub fn client_auth(
    headers: &HeaderMap,
    query: Option<&str>,
    envelope_dsn: Option<&str>,
) -> Result<ClientAuth, ApiError> {
    let sentry_header = headers.get(SENTRY_AUTH);
    let authorization = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .filter(|value| {
            value
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("sentry ")
        });
    let header = match (sentry_header, authorization) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "multiple authorization payloads requested",
            ));
        }
        (Some(value), None) => Some(
            value
                .to_str()
                .map_err(|_| ApiError::bad_request("invalid X-Sentry-Auth header"))?,
        ),
        (None, authorization) => authorization,
    };
    if let Some(header) = header {
        return ClientAuth::from_header(header)
            .map_err(|e| ApiError::bad_request(format!("bad authorization header: {e}")));
    }
    if let Some(query) = query {
        let pairs: Vec<(String, String)> = form_pairs(query);
        if pairs.iter().any(|(name, _)| name == "sentry_key") {
            return ClientAuth::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .map_err(|e| ApiError::bad_request(format!("bad sentry_key: {e}")));
        }
    }
    if let Some(dsn) = envelope_dsn {
        let dsn: Dsn = dsn
            .parse()
            .map_err(|e| ApiError::bad_request(format!("invalid dsn in envelope header: {e}")))?;
        return Ok(ClientAuth {
            key: dsn.public_key().clone(),
            client: None,
            version: None,
        });
    }
    Err(ApiError::unauthorized("missing authorization information"))
}

/// Decodes `application/x-www-form-urlencoded` pairs; a malformed query yields none.
pub fn form_pairs(query: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str(query).unwrap_or_default()
}

/// Returns the first value of a parameter among decoded pairs.
pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// A web API caller, authenticated by `Authorization: Bearer <token>`.
#[derive(Debug, Clone)]
pub struct ApiAuth {
    /// The token presented.
    pub token: ApiToken,
}

impl ApiAuth {
    /// Checks that the token grants a scope.
    ///
    /// # Errors
    ///
    /// 403 when it does not.
    pub fn require_scope(&self, scope: &str) -> Result<(), ApiError> {
        if self.token.has_scope(scope) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "You do not have permission to perform this action (needs {scope})"
            )))
        }
    }

    /// Checks that the token grants one of some scopes.
    ///
    /// # Errors
    ///
    /// 403 when it grants none.
    pub fn require_any_scope(&self, scopes: &[&str]) -> Result<(), ApiError> {
        if scopes.iter().any(|scope| self.token.has_scope(scope)) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "You do not have permission to perform this action (needs one of {})",
                scopes.join(", ")
            )))
        }
    }

    /// Returns the organization with a slug if the token belongs to it.
    ///
    /// # Errors
    ///
    /// 404 for another organization's slug, as for a missing one, so that
    /// tokens learn nothing about other organizations.
    pub async fn organization(
        &self,
        state: &AppState,
        slug: &str,
    ) -> Result<Organization, ApiError> {
        match state.metadata.organization_by_slug(slug).await? {
            Some(org) if org.id == self.token.org_id => Ok(org),
            _ => Err(ApiError::not_found()),
        }
    }
}

impl FromRequestParts<AppState> for ApiAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .ok_or_else(|| {
                ApiError::unauthorized("Authentication credentials were not provided.")
            })?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .ok_or_else(|| {
                ApiError::unauthorized("Invalid token header. Expected `Bearer <token>`.")
            })?;
        let token = state
            .metadata
            .token(token)
            .await?
            .ok_or_else(|| ApiError::unauthorized("Invalid token"))?;
        Ok(Self { token })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn query_key_is_decoded() {
        let auth = client_auth(
            &HeaderMap::new(),
            Some(
                "sentry_version=7&sentry_key=abc123&sentry_client=sentry.javascript.node%2F11.12.0",
            ),
            None,
        )
        .unwrap();
        assert_eq!(auth.key.as_str(), "abc123");
        assert_eq!(
            auth.client.as_deref(),
            Some("sentry.javascript.node/11.12.0")
        );
    }

    #[test]
    fn both_auth_headers_are_rejected() {
        let mut headers = HeaderMap::new();
        headers.insert(
            SENTRY_AUTH,
            HeaderValue::from_static("Sentry sentry_key=abc"),
        );
        headers.insert(
            AUTHORIZATION,
            HeaderValue::from_static("Sentry sentry_key=abc"),
        );
        assert_eq!(client_auth(&headers, None, None).unwrap_err().status(), 400);
    }

    #[test]
    fn envelope_dsn_is_the_last_resort() {
        let auth = client_auth(
            &HeaderMap::new(),
            Some("x=1"),
            Some("http://abc@127.0.0.1/1"),
        )
        .unwrap();
        assert_eq!(auth.key.as_str(), "abc");
        assert_eq!(
            client_auth(&HeaderMap::new(), None, None)
                .unwrap_err()
                .status(),
            401
        );
    }
}
