//! Identifier newtypes, so that no bare integer or string crosses an API.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An identifier that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind}: `{value}`")]
pub struct ParseIdError {
    kind: &'static str,
    value: String,
}

impl ParseIdError {
    pub(crate) fn new(kind: &'static str, value: &str) -> Self {
        let value = value.chars().take(64).collect();
        Self { kind, value }
    }
}

/// The constructors and accessors of an id that wraps a UUID.
macro_rules! uuid_id_methods {
    ($name:ident) => {
        impl $name {
            /// Creates a new random id.
            pub fn new_random() -> Self {
                Self(::uuid::Uuid::new_v4())
            }

            /// Creates an id from its 16 bytes.
            pub fn from_bytes(bytes: [u8; 16]) -> Self {
                Self(::uuid::Uuid::from_bytes(bytes))
            }

            /// Derives an id from a seed: the same seed gives the same id
            /// wherever and whenever it is made (the first 16 bytes of the
            /// seed's SHA-256), so that work done twice files once.
            pub fn derived(seed: &[u8]) -> Self {
                let digest = <::sha2::Sha256 as ::sha2::Digest>::digest(seed);
                let mut bytes = [0; 16];
                bytes.copy_from_slice(&digest[..16]);
                Self::from_bytes(bytes)
            }

            /// Returns the 16 bytes of the id.
            pub fn as_bytes(&self) -> &[u8; 16] {
                self.0.as_bytes()
            }

            /// Returns the id as a UUID.
            pub fn as_uuid(&self) -> &Uuid {
                &self.0
            }

            /// The nil id, all zeros.
            pub fn nil() -> Self {
                Self(::uuid::Uuid::nil())
            }

            /// Returns whether this is the nil id.
            pub fn is_nil(&self) -> bool {
                self.0.is_nil()
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }
    };
}

/// The id of an event: a UUID written as 32 lowercase hex digits.
///
/// SDKs send it either as 32 hex digits or hyphenated; both parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(Uuid);

uuid_id_methods!(EventId);

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.simple())
    }
}

impl FromStr for EventId {
    type Err = ParseIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let is_simple = s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit());
        let is_hyphenated = s.len() == 36;
        if !is_simple && !is_hyphenated {
            return Err(ParseIdError::new("event id", s));
        }
        Uuid::parse_str(s)
            .map(Self)
            .map_err(|_| ParseIdError::new("event id", s))
    }
}

/// Serializes an id as its text, read back through its `FromStr`.
macro_rules! serde_as_text {
    ($name:ident) => {
        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> Result<Self, D::Error> {
                let text = <::std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                text.parse().map_err(::serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use {serde_as_text, uuid_id_methods};

serde_as_text!(EventId);

macro_rules! integer_id {
    ($(#[$doc:meta])* $name:ident($int:ty), $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub $int);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = ParseIdError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map(Self).map_err(|_| ParseIdError::new($kind, s))
            }
        }
    };
}

integer_id!(
    /// The numeric id of a project, as it appears in a DSN and in `/api/<id>/envelope/`.
    ProjectId(u64),
    "project id"
);
integer_id!(
    /// The numeric id of an issue (what Sentry calls a group).
    IssueId(i64),
    "issue id"
);
integer_id!(
    /// The numeric id of an organization.
    OrgId(i64),
    "organization id"
);
integer_id!(
    /// The numeric id of a team.
    TeamId(i64),
    "team id"
);
integer_id!(
    /// The numeric id of a user account.
    UserId(i64),
    "user id"
);
integer_id!(
    /// The numeric id of a release.
    ReleaseId(i64),
    "release id"
);
integer_id!(
    /// The numeric id of a deploy of a release.
    DeployId(i64),
    "deploy id"
);
integer_id!(
    /// The numeric id of a cron monitor.
    MonitorId(i64),
    "monitor id"
);
integer_id!(
    /// The numeric id of an alert rule.
    RuleId(i64),
    "rule id"
);

/// The id of a cron check-in: a UUID, chosen by the SDK (or the server) when
/// the check-in opens, so that a later check-in can close it. Written
/// hyphenated, as Sentry's API and SDKs write it; any UUID form parses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CheckInId(Uuid);

uuid_id_methods!(CheckInId);

impl fmt::Display for CheckInId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.hyphenated())
    }
}

impl FromStr for CheckInId {
    type Err = ParseIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s)
            .map(Self)
            .map_err(|_| ParseIdError::new("check-in id", s))
    }
}

/// The public key of a DSN: 32 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProjectKey(String);

impl ProjectKey {
    /// Creates a key from 16 random bytes.
    pub fn from_random_bytes(bytes: [u8; 16]) -> Self {
        Self(Uuid::from_bytes(bytes).simple().to_string())
    }

    /// Returns the key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ProjectKey {
    type Err = ParseIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let valid = !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric());
        if valid {
            Ok(Self(s.to_ascii_lowercase()))
        } else {
            Err(ParseIdError::new("project key", s))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_follow_their_seed() {
        assert_eq!(EventId::derived(b"a"), EventId::derived(b"a"));
        assert_ne!(EventId::derived(b"a"), EventId::derived(b"b"));
        // The first 16 bytes of SHA-256("a").
        assert_eq!(
            EventId::derived(b"a").to_string(),
            "ca978112ca1bbdcafac231b39a23dc4d"
        );
    }

    #[test]
    fn event_id_accepts_simple_and_hyphenated_forms() {
        let simple: EventId = "9ec79c33ec9942ab8353589fcb2e04dc".parse().unwrap();
        let hyphenated: EventId = "9ec79c33-ec99-42ab-8353-589fcb2e04dc".parse().unwrap();
        assert_eq!(simple, hyphenated);
        assert_eq!(simple.to_string(), "9ec79c33ec9942ab8353589fcb2e04dc");
    }

    #[test]
    fn event_id_rejects_other_forms() {
        assert!("9ec79c33".parse::<EventId>().is_err());
        assert!(
            "{9ec79c33-ec99-42ab-8353-589fcb2e04dc}"
                .parse::<EventId>()
                .is_err()
        );
        assert!(
            "zzc79c33ec9942ab8353589fcb2e04dc"
                .parse::<EventId>()
                .is_err()
        );
    }

    #[test]
    fn check_in_id_is_written_hyphenated() {
        let id: CheckInId = "9ec79c33ec9942ab8353589fcb2e04dc".parse().unwrap();
        assert_eq!(id.to_string(), "9ec79c33-ec99-42ab-8353-589fcb2e04dc");
        assert!("9ec79c33".parse::<CheckInId>().is_err());
    }

    #[test]
    fn project_key_rejects_punctuation() {
        assert!("abc123".parse::<ProjectKey>().is_ok());
        assert!("abc 123".parse::<ProjectKey>().is_err());
        assert!("".parse::<ProjectKey>().is_err());
    }
}
