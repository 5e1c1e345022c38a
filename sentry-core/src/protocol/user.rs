//! The user interface.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Other;

/// The user affected by an event.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// The application's id for the user; a string or a number.
    pub id: Option<Value>,
    /// Email address.
    pub email: Option<String>,
    /// IP address, or `{{auto}}` to use the client's.
    pub ip_address: Option<String>,
    /// Username.
    pub username: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// Geographical location.
    pub geo: Option<Value>,
    /// A segment the user belongs to.
    pub segment: Option<String>,
    /// Extra data about the user.
    pub data: Option<Value>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub other: Other,
}

impl User {
    /// Returns the value Sentry uses for the `user` tag and to count distinct
    /// users: `id:…`, else `email:…`, else `username:…`, else `ip:…`.
    pub fn tag_value(&self) -> Option<String> {
        let id = match &self.id {
            Some(Value::String(text)) if !text.is_empty() => Some(text.clone()),
            Some(Value::Number(number)) => Some(number.to_string()),
            _ => None,
        };
        if let Some(id) = id {
            return Some(format!("id:{id}"));
        }
        let non_empty = |field: &Option<String>| {
            field
                .as_deref()
                .filter(|text| !text.is_empty())
                .map(str::to_owned)
        };
        if let Some(email) = non_empty(&self.email) {
            return Some(format!("email:{email}"));
        }
        if let Some(username) = non_empty(&self.username) {
            return Some(format!("username:{username}"));
        }
        non_empty(&self.ip_address).map(|ip| format!("ip:{ip}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_value_prefers_id_then_email() {
        let user: User = serde_json::from_str(r#"{"id":42,"email":"a@b.c"}"#).unwrap();
        assert_eq!(user.tag_value().as_deref(), Some("id:42"));
        let user: User =
            serde_json::from_str(r#"{"email":"a@b.c","ip_address":"1.2.3.4"}"#).unwrap();
        assert_eq!(user.tag_value().as_deref(), Some("email:a@b.c"));
        assert_eq!(User::default().tag_value(), None);
    }
}
