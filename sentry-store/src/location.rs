//! Store URLs: which backend, and where.

use std::path::PathBuf;

/// A store URL that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseLocationError {
    /// The URL has no `scheme:` prefix.
    #[error("store url `{0}` has no scheme; expected e.g. sqlite://PATH")]
    MissingScheme(String),
    /// The scheme names no known backend.
    #[error("unknown store scheme `{0}`")]
    UnknownScheme(String),
    /// The backend is known but was not compiled in.
    #[error("backend `{0}` is not compiled in; rebuild with `--features {0}`")]
    NotCompiled(&'static str),
    /// The URL has no path.
    #[error("store url `{0}` has no path")]
    MissingPath(String),
}

/// A parsed store URL.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Location {
    /// A SQLite database file.
    SqliteFile(PathBuf),
    /// A private in-memory SQLite database.
    SqliteMemory,
    /// A PostgreSQL database, by its `postgres://` or `postgresql://` URL as given.
    Postgres(String),
}

impl Location {
    /// Parses `sqlite://PATH` (relative or absolute: `sqlite:///abs/path`),
    /// `sqlite::memory:`, or a `postgres://` or `postgresql://` URL (kept
    /// whole; the backend reads it when it connects).
    ///
    /// # Errors
    ///
    /// Fails for an unknown scheme, a backend that is not compiled in, or a
    /// missing path.
    pub fn parse(url: &str) -> Result<Self, ParseLocationError> {
        if url == "sqlite::memory:" {
            return Self::require_sqlite(Location::SqliteMemory);
        }
        let (scheme, rest) = url
            .split_once(':')
            .ok_or_else(|| ParseLocationError::MissingScheme(url.to_owned()))?;
        let path = rest.strip_prefix("//").unwrap_or(rest);
        match scheme {
            "sqlite" => {
                if path.is_empty() {
                    return Err(ParseLocationError::MissingPath(url.to_owned()));
                }
                Self::require_sqlite(Location::SqliteFile(PathBuf::from(path)))
            }
            "duckdb" => Err(ParseLocationError::NotCompiled("duckdb")),
            "postgres" | "postgresql" => {
                if path.is_empty() {
                    return Err(ParseLocationError::MissingPath(url.to_owned()));
                }
                Self::require_postgres(Location::Postgres(url.to_owned()))
            }
            "clickhouse" => Err(ParseLocationError::NotCompiled("clickhouse")),
            other => Err(ParseLocationError::UnknownScheme(other.to_owned())),
        }
    }

    fn require_sqlite(location: Location) -> Result<Self, ParseLocationError> {
        if cfg!(feature = "sqlite") {
            Ok(location)
        } else {
            Err(ParseLocationError::NotCompiled("sqlite"))
        }
    }

    fn require_postgres(location: Location) -> Result<Self, ParseLocationError> {
        if cfg!(feature = "postgres") {
            Ok(location)
        } else {
            Err(ParseLocationError::NotCompiled("postgres"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sqlite_paths() {
        assert_eq!(
            Location::parse("sqlite://data/metadata.sqlite"),
            Ok(Location::SqliteFile(PathBuf::from("data/metadata.sqlite")))
        );
        assert_eq!(
            Location::parse("sqlite:///var/lib/x.sqlite"),
            Ok(Location::SqliteFile(PathBuf::from("/var/lib/x.sqlite")))
        );
        assert_eq!(
            Location::parse("sqlite::memory:"),
            Ok(Location::SqliteMemory)
        );
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn reads_postgres_urls() {
        for url in ["postgres://u@127.0.0.1:5432/db", "postgresql://u:p@h/db"] {
            assert_eq!(Location::parse(url), Ok(Location::Postgres(url.to_owned())));
        }
        assert!(matches!(
            Location::parse("postgres://"),
            Err(ParseLocationError::MissingPath(_))
        ));
    }

    #[cfg(not(feature = "postgres"))]
    #[test]
    fn explains_postgres_is_not_compiled_in() {
        assert_eq!(
            Location::parse("postgres://u@h:1/db"),
            Err(ParseLocationError::NotCompiled("postgres"))
        );
    }

    #[test]
    fn explains_unknown_and_missing_backends() {
        assert_eq!(
            Location::parse("mysql://x"),
            Err(ParseLocationError::UnknownScheme("mysql".to_owned()))
        );
        assert!(matches!(
            Location::parse("clickhouse://h:1/db"),
            Err(ParseLocationError::NotCompiled("clickhouse"))
        ));
        assert!(matches!(
            Location::parse("nothing"),
            Err(ParseLocationError::MissingScheme(_))
        ));
    }
}
