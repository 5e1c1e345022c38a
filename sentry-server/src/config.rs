//! Settings shared by every command: where the data lives, and the limits
//! of ingest.

use std::path::{Path, PathBuf};

/// Where the stores are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// URL of the metadata store.
    pub metadata_url: String,
    /// URL of the event store.
    pub events_url: String,
}

impl StoreConfig {
    /// Resolves store URLs: given ones win, else files in the data
    /// directory: SQLite for metadata, and DuckDB for events (SQLite when
    /// built without the `duckdb` feature).
    pub fn resolve(
        data_dir: &Path,
        metadata_url: Option<String>,
        events_url: Option<String>,
    ) -> Self {
        let in_data_dir =
            |scheme: &str, file: &str| format!("{scheme}://{}", data_dir.join(file).display());
        Self {
            metadata_url: metadata_url.unwrap_or_else(|| in_data_dir("sqlite", "metadata.sqlite")),
            events_url: events_url.unwrap_or_else(|| {
                if cfg!(feature = "duckdb") {
                    in_data_dir("duckdb", "events.duckdb")
                } else {
                    in_data_dir("sqlite", "events.sqlite")
                }
            }),
        }
    }
}

/// The default data directory.
pub fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}

/// Size limits of ingest, in bytes. The defaults are Relay's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IngestLimits {
    /// Largest request body, before and after decompression.
    pub max_envelope_size: usize,
    /// Largest event payload.
    pub max_event_size: usize,
}

impl Default for IngestLimits {
    fn default() -> Self {
        Self {
            max_envelope_size: 200 * 1024 * 1024,
            max_event_size: 1024 * 1024,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_to_files_in_the_data_dir() {
        let config = StoreConfig::resolve(
            Path::new("/srv/data"),
            None,
            Some("sqlite::memory:".to_owned()),
        );
        assert_eq!(config.metadata_url, "sqlite:///srv/data/metadata.sqlite");
        assert_eq!(config.events_url, "sqlite::memory:");
        let config = StoreConfig::resolve(Path::new("/srv/data"), None, None);
        let expected = if cfg!(feature = "duckdb") {
            "duckdb:///srv/data/events.duckdb"
        } else {
            "sqlite:///srv/data/events.sqlite"
        };
        assert_eq!(config.events_url, expected);
    }
}
