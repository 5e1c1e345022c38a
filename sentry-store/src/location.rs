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
    /// A `?name=value` option of the URL is unknown or invalid.
    #[error("store url option `{0}` is unknown or invalid")]
    InvalidOption(String),
}

/// Settings of a DuckDB database, from its URL's query
/// (`duckdb://PATH?memory_limit=1GB&threads=2&checkpoint_threshold=256MB`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DuckdbOptions {
    /// Most memory DuckDB may use before spilling to disk, e.g. `512MB`
    /// or `2GiB` (default [`DuckdbOptions::DEFAULT_MEMORY_LIMIT`]).
    pub memory_limit: Option<String>,
    /// Threads for queries (default: one per core).
    pub threads: Option<u32>,
    /// Size of the write-ahead log past which DuckDB checkpoints it into
    /// the database file (default [`DuckdbOptions::DEFAULT_CHECKPOINT_THRESHOLD`]).
    pub checkpoint_threshold: Option<String>,
}

impl DuckdbOptions {
    /// The memory limit when the URL sets none: far below DuckDB's own
    /// default of 80% of the machine, since it shares the machine with the
    /// rest of the server.
    pub const DEFAULT_MEMORY_LIMIT: &'static str = "1GB";

    /// The checkpoint threshold when the URL sets none. DuckDB's own 16 MB
    /// checkpoints a stream of event batches every few batches, each time
    /// rewriting the row groups and index they touch; 256 MB inserts about
    /// twice as fast at a million events (`docs/performance.md`), and a
    /// restart replays at most that much log.
    pub const DEFAULT_CHECKPOINT_THRESHOLD: &'static str = "256MB";

    fn parse(query: &str) -> Result<Self, ParseLocationError> {
        let mut options = Self::default();
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let invalid = || ParseLocationError::InvalidOption(pair.to_owned());
            let (name, value) = pair.split_once('=').ok_or_else(invalid)?;
            match name {
                "memory_limit" if is_memory_size(value) => {
                    options.memory_limit = Some(value.to_owned());
                }
                "checkpoint_threshold" if is_memory_size(value) => {
                    options.checkpoint_threshold = Some(value.to_owned());
                }
                "threads" => {
                    let threads: u32 = value.parse().map_err(|_| invalid())?;
                    if !(1..=1024).contains(&threads) {
                        return Err(invalid());
                    }
                    options.threads = Some(threads);
                }
                _ => return Err(invalid()),
            }
        }
        Ok(options)
    }
}

/// Whether a text is a size DuckDB reads: digits and a unit (`KB`, `MiB`, ...).
fn is_memory_size(text: &str) -> bool {
    let digits = text.chars().take_while(char::is_ascii_digit).count();
    let unit = &text[digits..];
    digits > 0
        && ["B", "KB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "TiB"]
            .iter()
            .any(|known| unit.eq_ignore_ascii_case(known))
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
    /// A DuckDB database file and its settings.
    DuckdbFile(PathBuf, DuckdbOptions),
    /// A private in-memory DuckDB database.
    DuckdbMemory,
    /// A ClickHouse database over HTTP: `clickhouse://[USER[:PASSWORD]@]HOST:HTTP_PORT/DB`, as given.
    Clickhouse(String),
}

impl Location {
    /// Parses `sqlite://PATH` (relative or absolute: `sqlite:///abs/path`),
    /// `sqlite::memory:`, `duckdb://PATH`, `duckdb::memory:`, or a
    /// `postgres://`, `postgresql://` or `clickhouse://` URL (kept whole; the
    /// backend reads it when it connects).
    ///
    /// # Errors
    ///
    /// Fails for an unknown scheme, a backend that is not compiled in, or a
    /// missing path.
    pub fn parse(url: &str) -> Result<Self, ParseLocationError> {
        if url == "sqlite::memory:" {
            return Self::require("sqlite", Location::SqliteMemory);
        }
        if url == "duckdb::memory:" {
            return Self::require("duckdb", Location::DuckdbMemory);
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
                Self::require("sqlite", Location::SqliteFile(PathBuf::from(path)))
            }
            "duckdb" => {
                let (path, query) = path.split_once('?').unwrap_or((path, ""));
                if path.is_empty() {
                    return Err(ParseLocationError::MissingPath(url.to_owned()));
                }
                let options = DuckdbOptions::parse(query)?;
                Self::require("duckdb", Location::DuckdbFile(PathBuf::from(path), options))
            }
            "postgres" | "postgresql" => {
                if path.is_empty() {
                    return Err(ParseLocationError::MissingPath(url.to_owned()));
                }
                Self::require("postgres", Location::Postgres(url.to_owned()))
            }
            "clickhouse" => {
                if path.is_empty() {
                    return Err(ParseLocationError::MissingPath(url.to_owned()));
                }
                Self::require("clickhouse", Location::Clickhouse(url.to_owned()))
            }
            other => Err(ParseLocationError::UnknownScheme(other.to_owned())),
        }
    }

    /// Returns the location if the backend's feature is compiled in.
    fn require(feature: &'static str, location: Location) -> Result<Self, ParseLocationError> {
        const COMPILED: [(&str, bool); 4] = [
            ("sqlite", cfg!(feature = "sqlite")),
            ("duckdb", cfg!(feature = "duckdb")),
            ("postgres", cfg!(feature = "postgres")),
            ("clickhouse", cfg!(feature = "clickhouse")),
        ];
        if COMPILED.contains(&(feature, true)) {
            Ok(location)
        } else {
            Err(ParseLocationError::NotCompiled(feature))
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
            Location::parse("nothing"),
            Err(ParseLocationError::MissingScheme(_))
        ));
    }

    #[test]
    fn reads_duckdb_and_clickhouse_urls_when_compiled_in() {
        let duckdb = Location::parse("duckdb://data/events.duckdb");
        let clickhouse = Location::parse("clickhouse://127.0.0.1:8123/sentry");
        if cfg!(feature = "duckdb") {
            assert_eq!(
                duckdb,
                Ok(Location::DuckdbFile(
                    PathBuf::from("data/events.duckdb"),
                    DuckdbOptions::default()
                ))
            );
            assert_eq!(
                Location::parse(
                    "duckdb:///srv/e.duckdb?memory_limit=512MiB&threads=2&checkpoint_threshold=1GB"
                ),
                Ok(Location::DuckdbFile(
                    PathBuf::from("/srv/e.duckdb"),
                    DuckdbOptions {
                        memory_limit: Some("512MiB".to_owned()),
                        threads: Some(2),
                        checkpoint_threshold: Some("1GB".to_owned()),
                    }
                ))
            );
            for bad in [
                "duckdb://e.duckdb?memory_limit=lots",
                "duckdb://e.duckdb?memory_limit=1GB';DROP",
                "duckdb://e.duckdb?threads=0",
                "duckdb://e.duckdb?checkpoint_threshold=often",
                "duckdb://e.duckdb?color=blue",
            ] {
                assert!(
                    matches!(
                        Location::parse(bad),
                        Err(ParseLocationError::InvalidOption(_))
                    ),
                    "{bad}"
                );
            }
        } else {
            assert_eq!(duckdb, Err(ParseLocationError::NotCompiled("duckdb")));
        }
        if cfg!(feature = "clickhouse") {
            assert_eq!(
                clickhouse,
                Ok(Location::Clickhouse(
                    "clickhouse://127.0.0.1:8123/sentry".to_owned()
                ))
            );
        } else {
            assert_eq!(
                clickhouse,
                Err(ParseLocationError::NotCompiled("clickhouse"))
            );
        }
    }
}
