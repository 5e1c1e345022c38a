//! Client authentication as SDKs send it: the `X-Sentry-Auth` header
//! (`Sentry sentry_key=<key>, sentry_version=7, ...`), the same text in
//! `Authorization: Sentry ...`, or `sentry_key` in the query string.

use crate::ids::ProjectKey;

/// Authentication that could not be read from a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The auth header does not start with `Sentry `.
    #[error("auth header must start with `Sentry `")]
    NotSentryScheme,
    /// No `sentry_key` was present.
    #[error("missing sentry_key")]
    MissingKey,
    /// The `sentry_key` is not a plain alphanumeric string.
    #[error("invalid sentry_key")]
    InvalidKey,
}

/// What a client sent to authenticate an ingest request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAuth {
    /// The public key of the DSN.
    pub key: ProjectKey,
    /// The `sentry_client` value, e.g. `sentry.python/2.75.0`, if sent.
    pub client: Option<String>,
    /// The `sentry_version` value, if sent.
    pub version: Option<String>,
}

impl ClientAuth {
    /// Parses an `X-Sentry-Auth` (or `Authorization: Sentry`) header value.
    ///
    /// # Errors
    ///
    /// Fails when the value is not a `Sentry` header or has no valid key.
    pub fn from_header(value: &str) -> Result<Self, AuthError> {
        let value = value.trim_start();
        let params = value
            .strip_prefix("Sentry ")
            .or_else(|| value.strip_prefix("sentry "))
            .ok_or(AuthError::NotSentryScheme)?;
        Self::from_pairs(params.split(',').filter_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            Some((name.trim(), value.trim()))
        }))
    }

    /// Reads authentication from an already-decoded query string.
    ///
    /// # Errors
    ///
    /// Fails when there is no valid `sentry_key`.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, AuthError> {
        let mut key = None;
        let mut client = None;
        let mut version = None;
        for (name, value) in pairs {
            match name {
                "sentry_key" => key = Some(value),
                "sentry_client" => client = Some(value.to_owned()),
                "sentry_version" => version = Some(value.to_owned()),
                _ => {}
            }
        }
        let key = key.ok_or(AuthError::MissingKey)?;
        let key = key.parse().map_err(|_| AuthError::InvalidKey)?;
        Ok(Self {
            key,
            client,
            version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_python_header() {
        let auth = ClientAuth::from_header(
            "Sentry sentry_key=e2b7a4c0d1f34a5b9c8d7e6f5a4b3c2d, sentry_version=7, sentry_client=sentry.python/2.75.0",
        )
        .unwrap();
        assert_eq!(auth.key.as_str(), "e2b7a4c0d1f34a5b9c8d7e6f5a4b3c2d");
        assert_eq!(auth.client.as_deref(), Some("sentry.python/2.75.0"));
        assert_eq!(auth.version.as_deref(), Some("7"));
    }

    #[test]
    fn rejects_other_schemes_and_missing_keys() {
        assert_eq!(
            ClientAuth::from_header("Bearer abc"),
            Err(AuthError::NotSentryScheme)
        );
        assert_eq!(
            ClientAuth::from_header("Sentry sentry_version=7"),
            Err(AuthError::MissingKey)
        );
        assert_eq!(
            ClientAuth::from_header("Sentry sentry_key=a b"),
            Err(AuthError::InvalidKey)
        );
    }
}
