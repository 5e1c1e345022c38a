//! Users, their memberships of organizations and their web sessions.

use rusqlite::{Connection, params};
use sentry_core::protocol::Timestamp;
use sentry_core::store::{
    NewUser, OrgMember, OrgMembership, OrgRole, StoreError, User, WebSession, email_key,
};
use sentry_core::{OrgId, UserId};

use super::{query_all, query_one, query_opt, unavailable};
use crate::records::{self, MEMBER_COLUMNS, MEMBERSHIP_COLUMNS, SESSION_COLUMNS, USER_COLUMNS};

pub(super) fn create(connection: &Connection, user: &NewUser) -> Result<User, StoreError> {
    let sql = format!(
        "INSERT INTO users (email, email_key, name, password_hash, is_superuser, date_joined) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING {USER_COLUMNS}"
    );
    let params = params![
        user.email,
        email_key(&user.email),
        user.name,
        user.password_hash,
        user.is_superuser,
        Timestamp::now().as_unix_micros()
    ];
    query_one(connection, &sql, params, records::user)
}

pub(super) fn by_id(connection: &Connection, id: UserId) -> Result<Option<User>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1");
    query_opt(connection, &sql, [id.0], records::user)
}

pub(super) fn by_email(connection: &Connection, email: &str) -> Result<Option<User>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email_key = ?1");
    query_opt(connection, &sql, [email_key(email)], records::user)
}

pub(super) fn all(connection: &Connection) -> Result<Vec<User>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY email_key");
    query_all(connection, &sql, [], records::user)
}

pub(super) fn set_password(
    connection: &Connection,
    id: UserId,
    password_hash: &str,
) -> Result<bool, StoreError> {
    let changed = connection
        .execute(
            "UPDATE users SET password_hash = ?2 WHERE id = ?1",
            params![id.0, password_hash],
        )
        .map_err(unavailable)?;
    Ok(changed > 0)
}

pub(super) fn record_login(
    connection: &Connection,
    id: UserId,
    at: Timestamp,
) -> Result<bool, StoreError> {
    let changed = connection
        .execute(
            "UPDATE users SET last_login = ?2 WHERE id = ?1",
            params![id.0, at.as_unix_micros()],
        )
        .map_err(unavailable)?;
    Ok(changed > 0)
}

pub(super) fn add_member(
    connection: &Connection,
    org_id: OrgId,
    user_id: UserId,
    role: OrgRole,
) -> Result<(), StoreError> {
    connection
        .execute(
            "INSERT INTO org_members (org_id, user_id, role, date_added) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (org_id, user_id) DO UPDATE SET role = excluded.role",
            params![
                org_id.0,
                user_id.0,
                role.as_str(),
                Timestamp::now().as_unix_micros()
            ],
        )
        .map_err(unavailable)?;
    Ok(())
}

pub(super) fn remove_member(
    connection: &Connection,
    org_id: OrgId,
    user_id: UserId,
) -> Result<bool, StoreError> {
    let removed = connection
        .execute(
            "DELETE FROM org_members WHERE org_id = ?1 AND user_id = ?2",
            params![org_id.0, user_id.0],
        )
        .map_err(unavailable)?;
    Ok(removed > 0)
}

pub(super) fn member(
    connection: &Connection,
    org_id: OrgId,
    user_id: UserId,
) -> Result<Option<OrgMember>, StoreError> {
    let sql = format!(
        "SELECT {MEMBER_COLUMNS} FROM org_members JOIN users ON users.id = org_members.user_id \
         WHERE org_id = ?1 AND user_id = ?2"
    );
    query_opt(
        connection,
        &sql,
        params![org_id.0, user_id.0],
        records::member,
    )
}

pub(super) fn members(
    connection: &Connection,
    org_id: OrgId,
) -> Result<Vec<OrgMember>, StoreError> {
    let sql = format!(
        "SELECT {MEMBER_COLUMNS} FROM org_members JOIN users ON users.id = org_members.user_id \
         WHERE org_id = ?1 ORDER BY email_key"
    );
    query_all(connection, &sql, [org_id.0], records::member)
}

pub(super) fn memberships(
    connection: &Connection,
    user_id: UserId,
) -> Result<Vec<OrgMembership>, StoreError> {
    let sql = format!(
        "SELECT {MEMBERSHIP_COLUMNS} FROM org_members \
         JOIN organizations ON organizations.id = org_members.org_id \
         WHERE user_id = ?1 ORDER BY slug"
    );
    query_all(connection, &sql, [user_id.0], records::membership)
}

pub(super) fn create_session(
    connection: &Connection,
    session: &WebSession,
) -> Result<(), StoreError> {
    connection
        .execute(
            "INSERT INTO user_sessions (token_hash, user_id, date_created, expires) \
             VALUES (?1, ?2, ?3, ?4)",
            params![
                session.token_hash,
                session.user_id.0,
                session.date_created.as_unix_micros(),
                session.expires.as_unix_micros()
            ],
        )
        .map_err(unavailable)?;
    Ok(())
}

pub(super) fn session(
    connection: &Connection,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<WebSession>, StoreError> {
    let sql = format!(
        "SELECT {SESSION_COLUMNS} FROM user_sessions WHERE token_hash = ?1 AND expires > ?2"
    );
    let params = params![token_hash, now.as_unix_micros()];
    query_opt(connection, &sql, params, records::session)
}

pub(super) fn delete_session(
    connection: &Connection,
    token_hash: &str,
) -> Result<bool, StoreError> {
    let deleted = connection
        .execute(
            "DELETE FROM user_sessions WHERE token_hash = ?1",
            [token_hash],
        )
        .map_err(unavailable)?;
    Ok(deleted > 0)
}

pub(super) fn delete_expired_sessions(
    connection: &Connection,
    now: Timestamp,
) -> Result<u64, StoreError> {
    let deleted = connection
        .execute(
            "DELETE FROM user_sessions WHERE expires <= ?1",
            [now.as_unix_micros()],
        )
        .map_err(unavailable)?;
    Ok(deleted as u64)
}
