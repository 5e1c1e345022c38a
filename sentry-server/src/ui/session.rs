//! Web sessions: after a login the browser holds a random secret in the
//! `sentry_session` cookie (`HttpOnly`, `SameSite=Lax`, `Secure` when the
//! server's public URL is https); the store keeps only its SHA-256, so a
//! copy of the database opens no session. [`WebUser`] is the extractor of
//! every page that needs a login.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use axum::http::request::Parts;
use sentry_core::protocol::Timestamp;
use sentry_core::store::{MetadataStore, Organization, User};
use sha2::{Digest as _, Sha256};

use crate::state::AppState;
use crate::ui::csrf;
use crate::ui::error_page::UiError;

/// The cookie of a logged-in browser.
pub const SESSION_COOKIE: &str = "sentry_session";
/// How long a session lasts: two weeks, as Sentry's.
pub const SESSION_SECONDS: i64 = 14 * 24 * 3600;

/// The hash of a session secret, as the store keeps it.
pub fn token_hash(secret: &str) -> String {
    csrf::hex(&Sha256::digest(secret.as_bytes()))
}

/// The value of a cookie of a request, if it has one.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

/// A `Set-Cookie` value for a cookie that only this server's pages read.
pub fn set_cookie(name: &str, value: &str, max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

/// Whether cookies should be `Secure`: when people reach the server over https.
pub fn secure_cookies(state: &AppState) -> bool {
    state.public_url.starts_with("https://")
}

/// The logged-in user of a page request.
#[derive(Debug, Clone)]
pub struct WebUser {
    /// The account.
    pub user: User,
    /// The session's secret, from which its form token derives.
    secret: String,
}

impl WebUser {
    /// The token the session's forms carry.
    pub fn csrf_token(&self) -> String {
        csrf::session_token(&self.secret)
    }

    /// The hash the store keeps for this session.
    pub fn session_hash(&self) -> String {
        token_hash(&self.secret)
    }

    /// Checks the form token of a `POST`.
    ///
    /// # Errors
    ///
    /// 403 when the form carries no token or another one.
    pub fn check_csrf(&self, form: &[(String, String)]) -> Result<(), UiError> {
        let submitted = crate::auth::param(form, csrf::FIELD);
        if csrf::tokens_match(&self.csrf_token(), submitted) {
            Ok(())
        } else {
            Err(UiError::forbidden(
                "The form has expired or did not come from this site (CSRF check failed). Go back, reload the page and try again.",
            ))
        }
    }

    /// Returns an organization the user may see: a member's, or any for a
    /// superuser.
    ///
    /// # Errors
    ///
    /// 404 for a missing organization and for one the user is not a member of.
    pub async fn organization(
        &self,
        state: &AppState,
        slug: &str,
    ) -> Result<Organization, UiError> {
        let org = state
            .metadata
            .organization_by_slug(slug)
            .await?
            .ok_or_else(UiError::not_found)?;
        if self.user.is_superuser
            || state
                .metadata
                .org_member(org.id, self.user.id)
                .await?
                .is_some()
        {
            Ok(org)
        } else {
            Err(UiError::not_found())
        }
    }
}

impl FromRequestParts<AppState> for WebUser {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, UiError> {
        let here = parts
            .uri
            .path_and_query()
            .map_or("/", |path| path.as_str())
            .to_owned();
        let Some(secret) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(UiError::login_required(here));
        };
        let Some(session) = state
            .metadata
            .session(&token_hash(secret), Timestamp::now())
            .await?
        else {
            return Err(UiError::login_required(here));
        };
        let Some(user) = state.metadata.user(session.user_id).await? else {
            return Err(UiError::login_required(here));
        };
        Ok(Self {
            user,
            secret: secret.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn finds_a_cookie_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_static("a=1; sentry_session=abc; b=2"),
        );
        headers.append(COOKIE, HeaderValue::from_static("c=3"));
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, "c"), Some("3"));
        assert_eq!(cookie(&headers, "sentry"), None);
        headers.insert(COOKIE, HeaderValue::from_static("sentry_session="));
        assert_eq!(cookie(&headers, SESSION_COOKIE), None);
    }

    #[test]
    fn session_cookies_are_http_only_and_lax() {
        let cookie = set_cookie(SESSION_COOKIE, "abc", 60, false);
        assert_eq!(
            cookie,
            "sentry_session=abc; Path=/; HttpOnly; SameSite=Lax; Max-Age=60"
        );
        assert!(set_cookie(SESSION_COOKIE, "abc", 60, true).ends_with("; Secure"));
    }

    #[test]
    fn the_store_sees_only_a_hash() {
        let hash = token_hash("secret");
        assert_eq!(hash.len(), 64);
        assert_ne!(hash, "secret");
        assert_ne!(hash, csrf::session_token("secret"));
    }
}
