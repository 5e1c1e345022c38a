//! Logging in and out: `/auth/login/` checks an email and password
//! against the account's Argon2 hash and opens a session;
//! `/auth/logout/` closes it. `/` sends a logged-in user to the issues of
//! their first organization.

use std::sync::OnceLock;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::header::{RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use sentry_core::protocol::Timestamp;
use sentry_core::store::{MetadataStore, QuotaStore, User, WebSession};

use crate::auth::{form_pairs, param};
use crate::credentials::new_secret;
use crate::ingest::client::ClientIp;
use crate::state::AppState;
use crate::ui::csrf;
use crate::ui::error_page::UiError;
use crate::ui::page::{local_path, render_with, see_other};
use crate::ui::password::{hash_password, verify_password};
use crate::ui::session::{
    SESSION_COOKIE, SESSION_SECONDS, WebUser, cookie, secure_cookies, set_cookie, token_hash,
};

/// The cookie that carries the login form's token (double submit).
pub const LOGIN_CSRF_COOKIE: &str = "sentry_login_csrf";

#[derive(Template)]
#[template(path = "ui/login.html")]
struct LoginPage<'a> {
    csrf: &'a str,
    next: &'a str,
    email: &'a str,
    error: &'a str,
}

fn login_page(
    status: StatusCode,
    csrf: &str,
    next: &str,
    email: &str,
    error: &str,
    secure: bool,
) -> Result<Response, UiError> {
    let mut response = render_with(
        status,
        &LoginPage {
            csrf,
            next,
            email,
            error,
        },
    )?;
    if let Ok(value) = set_cookie(LOGIN_CSRF_COOKIE, csrf, 3600, secure).parse() {
        response.headers_mut().append(SET_COOKIE, value);
    }
    Ok(response)
}

/// `GET /auth/login/`: the login form; `next` is where to go after.
pub async fn login_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, UiError> {
    let params = form_pairs(query.as_deref().unwrap_or_default());
    let next = local_path(param(&params, "next")).unwrap_or("/");
    let token = match cookie(&headers, LOGIN_CSRF_COOKIE) {
        Some(token) => token.to_owned(),
        None => new_secret()?,
    };
    login_page(StatusCode::OK, &token, next, "", "", secure_cookies(&state))
}

/// A hash to check passwords of unknown emails against, so that a wrong
/// email takes as long as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password").unwrap_or_default())
}

/// Checks a password off the async runtime (Argon2 takes tens of milliseconds).
async fn password_matches(password: String, user: Option<&User>) -> bool {
    let hash = user
        .and_then(|user| user.password_hash.clone())
        .unwrap_or_else(|| decoy_hash().to_owned());
    let known = user.is_some_and(|user| user.password_hash.is_some());
    let matches = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    known && matches
}

/// The window login attempts are counted in.
const LOGIN_WINDOW_SECS: i64 = 300;

/// Counts a login attempt for an account and for the address it came
/// from, in the store's quota counters (so the bound holds across
/// servers); returns whether either is past its bound
/// (`max_login_attempts`, `max_login_attempts_per_ip`, per five minutes).
async fn too_many_attempts(
    state: &AppState,
    email: &str,
    client_ip: Option<std::net::IpAddr>,
) -> Result<bool, UiError> {
    let now = Timestamp::now().as_unix_micros();
    let window = LOGIN_WINDOW_SECS * 1_000_000;
    let window_start =
        Timestamp::from_unix_micros(now - now.rem_euclid(window)).unwrap_or_else(Timestamp::now);
    let mut counters = vec![(
        format!("login:email:{}", email.to_lowercase()),
        state.limits.max_login_attempts,
    )];
    if let Some(ip) = client_ip {
        counters.push((
            format!("login:ip:{ip}"),
            state.limits.max_login_attempts_per_ip,
        ));
    }
    let mut over = false;
    for (key, limit) in counters {
        let used = state.metadata.consume_quota(&key, window_start, 1).await?;
        over |= used > limit as u64;
    }
    Ok(over)
}

/// `POST /auth/login/`: opens a session and goes to `next`, or shows the
/// form again (401) with an error; past the bound of attempts, 429.
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientIp(client_ip): ClientIp,
    body: axum::body::Bytes,
) -> Result<Response, UiError> {
    let form = form_pairs(std::str::from_utf8(&body).unwrap_or_default());
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if !csrf::tokens_match(expected, param(&form, csrf::FIELD)) {
        return Err(UiError::forbidden(
            "The login form has expired or did not come from this site (CSRF check failed). Reload the login page and try again.",
        ));
    }
    let email = param(&form, "email").unwrap_or_default().trim();
    let password = param(&form, "password").unwrap_or_default();
    let next = local_path(param(&form, "next")).unwrap_or("/");
    let secure = secure_cookies(&state);
    if too_many_attempts(&state, email, client_ip).await? {
        tracing::warn!(?client_ip, "too many web login attempts");
        let mut response = login_page(
            StatusCode::TOO_MANY_REQUESTS,
            expected,
            next,
            email,
            "Too many login attempts. Wait a few minutes and try again.",
            secure,
        )?;
        if let Ok(value) = LOGIN_WINDOW_SECS.to_string().parse() {
            response.headers_mut().insert(RETRY_AFTER, value);
        }
        return Ok(response);
    }
    let user = if email.is_empty() {
        None
    } else {
        state.metadata.user_by_email(email).await?
    };
    if !password_matches(password.to_owned(), user.as_ref()).await {
        tracing::info!("failed web login");
        return login_page(
            StatusCode::UNAUTHORIZED,
            expected,
            next,
            email,
            "The email or password is not correct.",
            secure,
        );
    }
    let Some(user) = user else {
        return Err(UiError::internal());
    };
    let secret = new_secret()?;
    let now = Timestamp::now();
    let expires = u64::try_from(SESSION_SECONDS)
        .ok()
        .and_then(|seconds| now.checked_add(std::time::Duration::from_secs(seconds)))
        .ok_or_else(UiError::internal)?;
    state
        .metadata
        .create_session(&WebSession {
            token_hash: token_hash(&secret),
            user_id: user.id,
            date_created: now,
            expires,
        })
        .await?;
    state.metadata.record_user_login(user.id, now).await?;
    tracing::info!(user_id = %user.id, "web login");
    let mut response = see_other(next);
    let cookies = [
        set_cookie(SESSION_COOKIE, &secret, SESSION_SECONDS, secure),
        set_cookie(LOGIN_CSRF_COOKIE, "", 0, secure),
    ];
    for value in cookies {
        if let Ok(value) = value.parse() {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    Ok(response)
}

/// `POST /auth/logout/`: closes the session and goes to the login form.
pub async fn logout(
    State(state): State<AppState>,
    user: WebUser,
    body: axum::body::Bytes,
) -> Result<Response, UiError> {
    let form = form_pairs(std::str::from_utf8(&body).unwrap_or_default());
    user.check_csrf(&form)?;
    state.metadata.delete_session(&user.session_hash()).await?;
    let mut response = see_other("/auth/login/");
    if let Ok(value) = set_cookie(SESSION_COOKIE, "", 0, secure_cookies(&state)).parse() {
        response.headers_mut().append(SET_COOKIE, value);
    }
    Ok(response)
}

/// `GET /`: the issues of the user's first organization.
pub async fn home(State(state): State<AppState>, user: WebUser) -> Result<Response, UiError> {
    let memberships = state.metadata.user_orgs(user.user.id).await?;
    let org = match memberships.into_iter().next() {
        Some(membership) => Some(membership.organization),
        None if user.user.is_superuser => state.metadata.organizations().await?.into_iter().next(),
        None => None,
    };
    match org {
        Some(org) => Ok(see_other(&format!("/organizations/{}/issues/", org.slug))),
        None => Err(UiError::new(
            StatusCode::NOT_FOUND,
            "Your account belongs to no organization yet. Ask an owner to add you.",
        )),
    }
}
