//! The DSN: the URL an SDK is configured with, naming the server, the project
//! and the public key, e.g. `http://<key>@127.0.0.1:9000/42`.

use std::fmt;
use std::str::FromStr;

use crate::ids::{ProjectId, ProjectKey};

/// A DSN that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseDsnError {
    /// The scheme is neither `http` nor `https`.
    #[error("dsn scheme must be http or https")]
    Scheme,
    /// There is no public key before the `@`.
    #[error("dsn has no public key")]
    MissingKey,
    /// The public key is not a plain alphanumeric string.
    #[error("dsn public key is invalid")]
    InvalidKey,
    /// There is no host.
    #[error("dsn has no host")]
    MissingHost,
    /// The last path segment is not a numeric project id.
    #[error("dsn has no numeric project id")]
    InvalidProjectId,
}

/// A parsed DSN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dsn {
    scheme: String,
    public_key: ProjectKey,
    host: String,
    path: String,
    project_id: ProjectId,
}

impl Dsn {
    /// Builds a DSN from its parts; `base_url` is `scheme://host[:port][/path]`.
    ///
    /// # Errors
    ///
    /// Fails when `base_url` has no `http` or `https` scheme or no host.
    pub fn new(
        base_url: &str,
        public_key: ProjectKey,
        project_id: ProjectId,
    ) -> Result<Self, ParseDsnError> {
        let (scheme, rest) = split_scheme(base_url)?;
        let rest = rest.trim_end_matches('/');
        let (host, path) = match rest.find('/') {
            Some(slash) => (&rest[..slash], &rest[slash..]),
            None => (rest, ""),
        };
        if host.is_empty() {
            return Err(ParseDsnError::MissingHost);
        }
        Ok(Self {
            scheme: scheme.to_owned(),
            public_key,
            host: host.to_owned(),
            path: path.to_owned(),
            project_id,
        })
    }

    /// Returns the public key.
    pub fn public_key(&self) -> &ProjectKey {
        &self.public_key
    }

    /// Returns the project id.
    pub fn project_id(&self) -> ProjectId {
        self.project_id
    }

    /// Returns the host with its port, if any.
    pub fn host(&self) -> &str {
        &self.host
    }
}

fn split_scheme(text: &str) -> Result<(&str, &str), ParseDsnError> {
    let (scheme, rest) = text.split_once("://").ok_or(ParseDsnError::Scheme)?;
    if scheme != "http" && scheme != "https" {
        return Err(ParseDsnError::Scheme);
    }
    Ok((scheme, rest))
}

impl FromStr for Dsn {
    type Err = ParseDsnError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (scheme, rest) = split_scheme(s.trim())?;
        let (userinfo, location) = rest.split_once('@').ok_or(ParseDsnError::MissingKey)?;
        let public_key = userinfo.split(':').next().unwrap_or_default();
        if public_key.is_empty() {
            return Err(ParseDsnError::MissingKey);
        }
        let public_key: ProjectKey = public_key.parse().map_err(|_| ParseDsnError::InvalidKey)?;
        let location = location.trim_end_matches('/');
        let (before_id, project_id) = location
            .rsplit_once('/')
            .ok_or(ParseDsnError::InvalidProjectId)?;
        let project_id: ProjectId = project_id
            .parse()
            .map_err(|_| ParseDsnError::InvalidProjectId)?;
        let (host, path) = match before_id.find('/') {
            Some(slash) => (&before_id[..slash], &before_id[slash..]),
            None => (before_id, ""),
        };
        if host.is_empty() {
            return Err(ParseDsnError::MissingHost);
        }
        Ok(Self {
            scheme: scheme.to_owned(),
            public_key,
            host: host.to_owned(),
            path: path.to_owned(),
            project_id,
        })
    }
}

impl fmt::Display for Dsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}://{}@{}{}/{}",
            self.scheme, self.public_key, self.host, self.path, self.project_id
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_writes_back() {
        let text = "http://e2b7a4c0d1f34a5b9c8d7e6f5a4b3c2d@127.0.0.1:38999/42";
        let dsn: Dsn = text.parse().unwrap();
        assert_eq!(
            dsn.public_key().as_str(),
            "e2b7a4c0d1f34a5b9c8d7e6f5a4b3c2d"
        );
        assert_eq!(dsn.project_id(), ProjectId(42));
        assert_eq!(dsn.host(), "127.0.0.1:38999");
        assert_eq!(dsn.to_string(), text);
    }

    #[test]
    fn keeps_path_prefix_and_ignores_secret() {
        let dsn: Dsn = "https://abc:secret@example.com/sentry/7".parse().unwrap();
        assert_eq!(dsn.to_string(), "https://abc@example.com/sentry/7");
    }

    #[test]
    fn rejects_missing_parts() {
        assert_eq!("ftp://a@b/1".parse::<Dsn>(), Err(ParseDsnError::Scheme));
        assert_eq!("http://b/1".parse::<Dsn>(), Err(ParseDsnError::MissingKey));
        assert_eq!(
            "http://a@b/x".parse::<Dsn>(),
            Err(ParseDsnError::InvalidProjectId)
        );
    }

    #[test]
    fn builds_from_base_url() {
        let key: ProjectKey = "abc".parse().unwrap();
        let dsn = Dsn::new("http://127.0.0.1:9000/", key, ProjectId(3)).unwrap();
        assert_eq!(dsn.to_string(), "http://abc@127.0.0.1:9000/3");
    }
}
