//! User accounts, their membership of organizations, and their web sessions.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::{OrgId, UserId};
use crate::protocol::Timestamp;

use super::Organization;

/// The form of an email address that lookups and the uniqueness rule
/// compare: lowercase, so that `Jane@Example.com` and `jane@example.com`
/// are one account. The address itself is kept as given.
pub fn email_key(email: &str) -> String {
    email.to_lowercase()
}

/// A user account, for the web UI and the API.
///
/// `Debug` leaves the password hash out, and serialization skips it, so that
/// neither a log line nor an API response carries it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Its id.
    pub id: UserId,
    /// The email address, as given; unique regardless of case (see [`email_key`]).
    pub email: String,
    /// The display name.
    pub name: String,
    /// The password hash (a PHC string the server computes and checks; the
    /// store keeps it as opaque text), or `None` when the account cannot log
    /// in with a password.
    #[serde(skip)]
    pub password_hash: Option<String>,
    /// Whether the user may do everything in every organization.
    pub is_superuser: bool,
    /// When the account was created.
    pub date_joined: Timestamp,
    /// When the user last logged in, if ever.
    pub last_login: Option<Timestamp>,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let password_hash = self.password_hash.as_ref().map(|_| "<redacted>");
        f.debug_struct("User")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("name", &self.name)
            .field("password_hash", &password_hash)
            .field("is_superuser", &self.is_superuser)
            .field("date_joined", &self.date_joined)
            .field("last_login", &self.last_login)
            .finish()
    }
}

/// What it takes to create a [`User`]; the store sets the id and the join date.
#[derive(Clone, PartialEq, Eq)]
pub struct NewUser {
    /// The email address.
    pub email: String,
    /// The display name.
    pub name: String,
    /// The password hash, if the account has a password.
    pub password_hash: Option<String>,
    /// Whether the user may do everything in every organization.
    pub is_superuser: bool,
}

impl fmt::Debug for NewUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let password_hash = self.password_hash.as_ref().map(|_| "<redacted>");
        f.debug_struct("NewUser")
            .field("email", &self.email)
            .field("name", &self.name)
            .field("password_hash", &password_hash)
            .field("is_superuser", &self.is_superuser)
            .finish()
    }
}

/// What a member may do in an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrgRole {
    /// Everything, including removing the organization and its owners.
    Owner,
    /// Manages members, teams and projects.
    Manager,
    /// Works with the organization's projects.
    Member,
}

impl OrgRole {
    /// Returns the API name.
    pub fn as_str(&self) -> &'static str {
        match self {
            OrgRole::Owner => "owner",
            OrgRole::Manager => "manager",
            OrgRole::Member => "member",
        }
    }

    /// Reads an API name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "owner" => Some(OrgRole::Owner),
            "manager" => Some(OrgRole::Manager),
            "member" => Some(OrgRole::Member),
            _ => None,
        }
    }
}

/// A user as a member of an organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgMember {
    /// The organization.
    pub org_id: OrgId,
    /// The user.
    pub user: User,
    /// The user's role there.
    pub role: OrgRole,
    /// When the user joined it.
    pub date_added: Timestamp,
}

/// An organization a user belongs to, and the user's role there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgMembership {
    /// The organization.
    pub organization: Organization,
    /// The user's role there.
    pub role: OrgRole,
}

/// A logged-in browser: the session cookie holds a random token, the store
/// only its hash, so that a copy of the database opens no session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebSession {
    /// The hash of the cookie's token, as the server computes it.
    pub token_hash: String,
    /// The user it is logged in as.
    pub user_id: UserId,
    /// When it was opened.
    pub date_created: Timestamp,
    /// When it stops being valid.
    pub expires: Timestamp,
}
