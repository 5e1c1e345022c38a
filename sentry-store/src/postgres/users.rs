//! Users, their memberships of organizations and their web sessions.

use deadpool_postgres::GenericClient;
use sentry_core::protocol::Timestamp;
use sentry_core::store::{NewUser, OrgMember, OrgMembership, OrgRole, User, WebSession, email_key};
use sentry_core::{OrgId, UserId};

use super::error::PgError;
use super::sql;
use crate::records::{self, MEMBER_COLUMNS, MEMBERSHIP_COLUMNS, SESSION_COLUMNS, USER_COLUMNS};

pub(super) async fn create<C: GenericClient>(client: &C, user: &NewUser) -> Result<User, PgError> {
    let sql = format!(
        "INSERT INTO users (email, email_key, name, password_hash, is_superuser, date_joined) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {USER_COLUMNS}"
    );
    let params: sql::Params<'_> = &[
        &user.email,
        &email_key(&user.email),
        &user.name,
        &user.password_hash,
        &user.is_superuser,
        &Timestamp::now().as_unix_micros(),
    ];
    sql::read_one(client, &sql, params, records::user).await
}

pub(super) async fn by_id<C: GenericClient>(
    client: &C,
    id: UserId,
) -> Result<Option<User>, PgError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    sql::read_opt(client, &sql, &[&id.0], records::user).await
}

pub(super) async fn by_email<C: GenericClient>(
    client: &C,
    email: &str,
) -> Result<Option<User>, PgError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email_key = $1");
    sql::read_opt(client, &sql, &[&email_key(email)], records::user).await
}

pub(super) async fn all<C: GenericClient>(client: &C) -> Result<Vec<User>, PgError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY email_key");
    sql::read_all(client, &sql, &[], records::user).await
}

pub(super) async fn set_password<C: GenericClient>(
    client: &C,
    id: UserId,
    password_hash: &str,
) -> Result<bool, PgError> {
    let changed = sql::execute(
        client,
        "UPDATE users SET password_hash = $2 WHERE id = $1",
        &[&id.0, &password_hash],
    )
    .await?;
    Ok(changed > 0)
}

pub(super) async fn record_login<C: GenericClient>(
    client: &C,
    id: UserId,
    at: Timestamp,
) -> Result<bool, PgError> {
    let changed = sql::execute(
        client,
        "UPDATE users SET last_login = $2 WHERE id = $1",
        &[&id.0, &at.as_unix_micros()],
    )
    .await?;
    Ok(changed > 0)
}

pub(super) async fn add_member<C: GenericClient>(
    client: &C,
    org_id: OrgId,
    user_id: UserId,
    role: OrgRole,
) -> Result<(), PgError> {
    sql::execute(
        client,
        "INSERT INTO org_members (org_id, user_id, role, date_added) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (org_id, user_id) DO UPDATE SET role = excluded.role",
        &[
            &org_id.0,
            &user_id.0,
            &role.as_str(),
            &Timestamp::now().as_unix_micros(),
        ],
    )
    .await?;
    Ok(())
}

pub(super) async fn remove_member<C: GenericClient>(
    client: &C,
    org_id: OrgId,
    user_id: UserId,
) -> Result<bool, PgError> {
    let removed = sql::execute(
        client,
        "DELETE FROM org_members WHERE org_id = $1 AND user_id = $2",
        &[&org_id.0, &user_id.0],
    )
    .await?;
    Ok(removed > 0)
}

pub(super) async fn member<C: GenericClient>(
    client: &C,
    org_id: OrgId,
    user_id: UserId,
) -> Result<Option<OrgMember>, PgError> {
    let sql = format!(
        "SELECT {MEMBER_COLUMNS} FROM org_members JOIN users ON users.id = org_members.user_id \
         WHERE org_id = $1 AND user_id = $2"
    );
    sql::read_opt(client, &sql, &[&org_id.0, &user_id.0], records::member).await
}

pub(super) async fn members<C: GenericClient>(
    client: &C,
    org_id: OrgId,
) -> Result<Vec<OrgMember>, PgError> {
    let sql = format!(
        "SELECT {MEMBER_COLUMNS} FROM org_members JOIN users ON users.id = org_members.user_id \
         WHERE org_id = $1 ORDER BY email_key"
    );
    sql::read_all(client, &sql, &[&org_id.0], records::member).await
}

pub(super) async fn memberships<C: GenericClient>(
    client: &C,
    user_id: UserId,
) -> Result<Vec<OrgMembership>, PgError> {
    let sql = format!(
        "SELECT {MEMBERSHIP_COLUMNS} FROM org_members \
         JOIN organizations ON organizations.id = org_members.org_id \
         WHERE user_id = $1 ORDER BY slug"
    );
    sql::read_all(client, &sql, &[&user_id.0], records::membership).await
}

pub(super) async fn create_session<C: GenericClient>(
    client: &C,
    session: &WebSession,
) -> Result<(), PgError> {
    sql::execute(
        client,
        "INSERT INTO user_sessions (token_hash, user_id, date_created, expires) \
         VALUES ($1, $2, $3, $4)",
        &[
            &session.token_hash,
            &session.user_id.0,
            &session.date_created.as_unix_micros(),
            &session.expires.as_unix_micros(),
        ],
    )
    .await?;
    Ok(())
}

pub(super) async fn session<C: GenericClient>(
    client: &C,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<WebSession>, PgError> {
    let sql = format!(
        "SELECT {SESSION_COLUMNS} FROM user_sessions WHERE token_hash = $1 AND expires > $2"
    );
    let params: sql::Params<'_> = &[&token_hash, &now.as_unix_micros()];
    sql::read_opt(client, &sql, params, records::session).await
}

pub(super) async fn delete_session<C: GenericClient>(
    client: &C,
    token_hash: &str,
) -> Result<bool, PgError> {
    let deleted = sql::execute(
        client,
        "DELETE FROM user_sessions WHERE token_hash = $1",
        &[&token_hash],
    )
    .await?;
    Ok(deleted > 0)
}

pub(super) async fn delete_expired_sessions<C: GenericClient>(
    client: &C,
    now: Timestamp,
) -> Result<u64, PgError> {
    sql::execute(
        client,
        "DELETE FROM user_sessions WHERE expires <= $1",
        &[&now.as_unix_micros()],
    )
    .await
}
