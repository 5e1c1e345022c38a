//! Settings: where the data lives, how `serve` runs, and the limits of
//! ingest.
//!
//! Each setting comes from the first source that has it: the command line,
//! the environment, the configuration file named by `--config` (or
//! `SENTRY_CONFIG`), the built-in default. Clap merges the first two into
//! an [`Options`]; the file parses into the same type
//! ([`Options::from_file`]); [`Config::resolve`] layers them and fills in
//! the defaults, in one place. Without `--config` there is no file.
//!
//! The file is TOML, with the names of the long options:
//!
//! ```toml
//! data_dir = "/var/lib/sentry"                        # default: data
//! metadata_url = "postgres://sentry@127.0.0.1/sentry" # default: sqlite://DATA_DIR/metadata.sqlite
//! events_url = "clickhouse://127.0.0.1:8123/sentry"   # default: duckdb://DATA_DIR/events.duckdb
//! blobs_url = "file:///var/lib/sentry/blobs"          # default: file://DATA_DIR/blobs, or metadata_url if Postgres
//! blob_grace_period = 3600                            # seconds an unreferenced blob is kept
//!
//! [serve]
//! bind = "0.0.0.0:9000"                      # default: 127.0.0.1:9000
//! public_url = "https://sentry.example.com"  # default: http://BIND
//! cleanup_interval = 3600                    # seconds; 0 turns cleanups off
//! monitor_check_interval = 10               # seconds between checks for missed cron check-ins; 0: none
//! max_spool_backlog = 1073741824             # bytes spooled but not processed before 429s
//! settings_ttl = 30                          # seconds a project's settings are cached (other nodes' changes)
//! trusted_proxies = ["10.0.0.0/8"]           # peers whose X-Forwarded-For names the client; default: none
//!
//! [limits]                                   # Relay's defaults; see docs/ingest.md
//! max_envelope_size = 209715200              # bytes of a request body, decompressed
//! max_event_size = 1048576                   # bytes of an event, transaction or feedback
//! max_attachment_size = 209715200            # bytes of one attachment
//! max_attachments_size = 209715200           # bytes of an envelope's attachments
//! max_attachments_per_envelope = 30
//! max_session_count = 100                    # session(s) items per envelope
//! max_check_in_size = 102400                 # bytes of a check-in
//! max_item_size = 52428800                   # bytes of any other item
//! max_request_memory = 536870912             # bytes of request bodies held at once; 429 past it
//! max_upload_chunk_size = 8388608             # bytes of one chunk of a sentry-cli upload
//! max_artifact_bundle_size = 268435456       # bytes of an artifact bundle (held in memory while read)
//! max_source_file_size = 67108864             # bytes of a minified file or source map read from a bundle
//! max_debug_file_size = 536870912             # bytes of a debug file (held in memory while read)
//! max_symbolication_cache_memory = 268435456  # bytes of symbolication caches kept in memory
//! max_symbolication_cache_disk = 2147483648   # bytes of them kept on disk (DATA_DIR/symbolication-cache); 0: none
//! max_login_attempts = 10                     # web UI logins per account in 5 minutes; 429 past it
//! max_login_attempts_per_ip = 30              # web UI logins per client address in 5 minutes
//!
//! [ingest]
//! store_items = ["transaction", "log"]       # kept as they came; default: none (dropped, counted)
//!
//! [alerts]                                   # see docs/alerts.md
//! smtp_url = "smtp://mail.example.com:587?tls=required"  # default: none (no email); also SENTRY_SMTP_URL
//! email_from = "sentry@example.com"          # default: sentry@localhost
//! delivery_attempts = 5                      # tries of each message
//! retry_delay = 2                            # seconds before the first retry; doubles after each
//! delivery_timeout = 10                      # seconds one try may take
//! ```
//!
//! Every key is optional, and an unknown key is an error, so a misspelt
//! key cannot silently leave a default in place. A relative `data_dir` is
//! relative to the working directory, as on the command line.
//!
//! Per key, not per source: a `metadata_url` in the file beats the
//! default derived from a `--data-dir` on the command line.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;
use serde::Deserialize;

use crate::alerts::delivery::DeliveryConfig;
use crate::spool::SpoolOptions;

/// The data directory when none is given.
pub const DEFAULT_DATA_DIR: &str = "data";

/// The address `serve` listens on when none is given.
pub const DEFAULT_BIND: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 9000));

/// Seconds between retention cleanups when none is given.
pub const DEFAULT_CLEANUP_INTERVAL_SECS: u64 = 3600;

/// Seconds between checks of cron monitors when none is given.
pub const DEFAULT_MONITOR_CHECK_INTERVAL_SECS: u64 = 10;
/// Seconds a project's settings are cached, by default.
pub const DEFAULT_SETTINGS_TTL_SECS: u64 = 30;

/// The spool's folder in the data directory.
pub const SPOOL_DIR: &str = "spool";

/// The folder of built symbolication caches in the data directory.
pub const SYMBOLICATION_CACHE_DIR: &str = "symbolication-cache";

/// Seconds an unreferenced blob is kept when none is given: longer than
/// any upload takes, so that cleanup never sweeps a blob whose attachment
/// record is about to be written.
pub const DEFAULT_BLOB_GRACE_PERIOD_SECS: u64 = 3600;

/// The settings one source gives, each of them optional: the
/// configuration file, or the command line together with the environment.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Options {
    /// Data directory for the embedded stores.
    pub data_dir: Option<PathBuf>,
    /// URL of the metadata store.
    pub metadata_url: Option<String>,
    /// URL of the event store.
    pub events_url: Option<String>,
    /// URL of the blob store.
    pub blobs_url: Option<String>,
    /// Seconds an unreferenced blob is kept before cleanup deletes it.
    pub blob_grace_period: Option<u64>,
    /// The options of `serve`: the `[serve]` table of the file.
    #[serde(default)]
    pub serve: ServeOptions,
    /// The limits of ingest: the `[limits]` table of the file.
    #[serde(default)]
    pub limits: LimitOptions,
    /// What ingest keeps: the `[ingest]` table of the file.
    #[serde(default)]
    pub ingest: IngestOptions,
    /// How alerts are sent: the `[alerts]` table of the file.
    #[serde(default)]
    pub alerts: AlertOptions,
}

/// The `[alerts]` table of the file.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertOptions {
    /// The SMTP server alert emails go through.
    pub smtp_url: Option<String>,
    /// The sender of alert emails.
    pub email_from: Option<String>,
    /// How many times an alert message is tried.
    pub delivery_attempts: Option<u32>,
    /// Seconds before the first retry of an alert message.
    pub retry_delay: Option<u64>,
    /// Seconds one try may take.
    pub delivery_timeout: Option<u64>,
}

impl AlertOptions {
    fn or(self, fallback: Self) -> Self {
        Self {
            smtp_url: self.smtp_url.or(fallback.smtp_url),
            email_from: self.email_from.or(fallback.email_from),
            delivery_attempts: self.delivery_attempts.or(fallback.delivery_attempts),
            retry_delay: self.retry_delay.or(fallback.retry_delay),
            delivery_timeout: self.delivery_timeout.or(fallback.delivery_timeout),
        }
    }

    fn resolve(self) -> DeliveryConfig {
        let default = DeliveryConfig::default();
        DeliveryConfig {
            smtp_url: self.smtp_url.filter(|url| !url.is_empty()),
            email_from: self.email_from.unwrap_or(default.email_from),
            attempts: self.delivery_attempts.unwrap_or(default.attempts).max(1),
            retry_delay: self
                .retry_delay
                .map_or(default.retry_delay, Duration::from_secs),
            timeout: self
                .delivery_timeout
                .map_or(default.timeout, Duration::from_secs),
        }
    }
}

/// The item types this server does not process, which it stores as they
/// came when configured to (and otherwise drops, counting them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeptItemType {
    /// `transaction`.
    Transaction,
    /// `log`.
    Log,
    /// `span`.
    Span,
    /// `trace_metric`.
    TraceMetric,
    /// `profile`.
    Profile,
    /// `profile_chunk`.
    ProfileChunk,
    /// `replay_event`.
    ReplayEvent,
    /// `replay_recording`.
    ReplayRecording,
    /// `replay_video`.
    ReplayVideo,
}

impl KeptItemType {
    /// Returns the item type it names.
    pub fn item_type(&self) -> sentry_core::envelope::ItemType {
        use sentry_core::envelope::ItemType;
        match self {
            KeptItemType::Transaction => ItemType::Transaction,
            KeptItemType::Log => ItemType::Log,
            KeptItemType::Span => ItemType::Span,
            KeptItemType::TraceMetric => ItemType::TraceMetric,
            KeptItemType::Profile => ItemType::Profile,
            KeptItemType::ProfileChunk => ItemType::ProfileChunk,
            KeptItemType::ReplayEvent => ItemType::ReplayEvent,
            KeptItemType::ReplayRecording => ItemType::ReplayRecording,
            KeptItemType::ReplayVideo => ItemType::ReplayVideo,
        }
    }
}

/// The `[ingest]` table of the file.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestOptions {
    /// Item types to store as they came instead of dropping them.
    pub store_items: Option<Vec<KeptItemType>>,
}

/// The options of `serve` one source gives, each of them optional.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeOptions {
    /// Address to listen on.
    pub bind: Option<SocketAddr>,
    /// URL clients use to reach the server.
    pub public_url: Option<String>,
    /// Seconds between retention cleanups; 0 turns them off.
    pub cleanup_interval: Option<u64>,
    /// Seconds between checks of cron monitors; 0 turns them off.
    pub monitor_check_interval: Option<u64>,
    /// Bytes spooled but not yet processed past which ingest answers 429.
    pub max_spool_backlog: Option<u64>,
    /// Seconds a project's settings are cached before they are read again.
    pub settings_ttl: Option<u64>,
    /// Networks of the proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Option<Vec<IpNet>>,
}

/// Why a configuration file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read: it is missing, unreadable or not UTF-8.
    #[error("cannot read config file {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What reading it said.
        #[source]
        source: std::io::Error,
    },
    /// The file is not TOML, or has an unknown key or a bad value; the
    /// source names the key and its line.
    #[error("invalid config file {}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What parsing it said.
        #[source]
        source: toml::de::Error,
    },
}

impl Options {
    /// Reads a configuration file.
    ///
    /// # Errors
    ///
    /// Fails when the file cannot be read, or as [`Options::from_toml`].
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text, path)
    }

    /// Parses the text of a configuration file; `path` only names it in
    /// errors.
    ///
    /// # Errors
    ///
    /// Fails on invalid TOML, an unknown key or a value of the wrong type.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|source| ConfigError::Parse {
            path: path.to_owned(),
            source,
        })
    }

    /// Takes each setting from `self`, else from `fallback`.
    fn or(self, fallback: Self) -> Self {
        Self {
            data_dir: self.data_dir.or(fallback.data_dir),
            metadata_url: self.metadata_url.or(fallback.metadata_url),
            events_url: self.events_url.or(fallback.events_url),
            blobs_url: self.blobs_url.or(fallback.blobs_url),
            blob_grace_period: self.blob_grace_period.or(fallback.blob_grace_period),
            serve: ServeOptions {
                bind: self.serve.bind.or(fallback.serve.bind),
                public_url: self.serve.public_url.or(fallback.serve.public_url),
                cleanup_interval: self
                    .serve
                    .cleanup_interval
                    .or(fallback.serve.cleanup_interval),
                monitor_check_interval: self
                    .serve
                    .monitor_check_interval
                    .or(fallback.serve.monitor_check_interval),
                max_spool_backlog: self
                    .serve
                    .max_spool_backlog
                    .or(fallback.serve.max_spool_backlog),
                settings_ttl: self.serve.settings_ttl.or(fallback.serve.settings_ttl),
                trusted_proxies: self
                    .serve
                    .trusted_proxies
                    .or(fallback.serve.trusted_proxies),
            },
            limits: self.limits.or(fallback.limits),
            ingest: IngestOptions {
                store_items: self.ingest.store_items.or(fallback.ingest.store_items),
            },
            alerts: self.alerts.or(fallback.alerts),
        }
    }
}

/// Every setting, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The data directory of the embedded stores, the spool and the caches.
    pub data_dir: PathBuf,
    /// Where the stores are.
    pub stores: StoreConfig,
    /// How `serve` runs.
    pub serve: ServeConfig,
    /// How cleanups run.
    pub cleanup: CleanupConfig,
}

impl Config {
    /// Resolves every setting: from `command_line` (the command line, else
    /// the environment, as clap merged them), else from `file`, else the
    /// default.
    pub fn resolve(command_line: Options, file: Options) -> Self {
        let options = command_line.or(file);

        let data_dir = options
            .data_dir
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let cleanup_interval = options
            .serve
            .cleanup_interval
            .unwrap_or(DEFAULT_CLEANUP_INTERVAL_SECS);
        let blob_grace_period = options
            .blob_grace_period
            .unwrap_or(DEFAULT_BLOB_GRACE_PERIOD_SECS);
        Self {
            data_dir: data_dir.clone(),
            stores: StoreConfig::resolve(
                &data_dir,
                options.metadata_url,
                options.events_url,
                options.blobs_url,
            ),
            serve: ServeConfig {
                bind: options.serve.bind.unwrap_or(DEFAULT_BIND),
                public_url: options.serve.public_url,
                cleanup_interval: (cleanup_interval > 0)
                    .then(|| Duration::from_secs(cleanup_interval)),
                monitor_check_interval: match options.serve.monitor_check_interval {
                    None => Some(Duration::from_secs(DEFAULT_MONITOR_CHECK_INTERVAL_SECS)),
                    Some(0) => None,
                    Some(seconds) => Some(Duration::from_secs(seconds)),
                },
                symbolication_cache_dir: data_dir.join(SYMBOLICATION_CACHE_DIR),
                spool: SpoolOptions {
                    dir: data_dir.join(SPOOL_DIR),
                    segment_size: SpoolOptions::DEFAULT_SEGMENT_SIZE,
                    max_backlog: options
                        .serve
                        .max_spool_backlog
                        .unwrap_or(SpoolOptions::DEFAULT_MAX_BACKLOG),
                },
                limits: options.limits.resolve(),
                store_items: options.ingest.store_items.unwrap_or_default(),
                alerts: options.alerts.resolve(),
                settings_ttl: Duration::from_secs(
                    options
                        .serve
                        .settings_ttl
                        .unwrap_or(DEFAULT_SETTINGS_TTL_SECS),
                ),
                trusted_proxies: options.serve.trusted_proxies.unwrap_or_default(),
            },
            cleanup: CleanupConfig {
                blob_grace_period: Duration::from_secs(blob_grace_period),
            },
        }
    }

    /// The defaults, with the embedded stores, the spool and the caches in
    /// `data_dir`: what an application that embeds the server starts from.
    pub fn with_data_dir(data_dir: &Path) -> Self {
        Self::resolve(
            Options {
                data_dir: Some(data_dir.to_owned()),
                ..Options::default()
            },
            Options::default(),
        )
    }
}

impl Config {
    /// The configuration in the file's TOML layout, every key with the
    /// value in effect; passwords in URLs are masked.
    pub fn to_toml(&self) -> String {
        fn text(value: &str) -> String {
            // A JSON string is a TOML basic string.
            serde_json::Value::from(value).to_string()
        }
        let serve = &self.serve;
        let seconds = |duration: Option<Duration>| duration.map_or(0, |d| d.as_secs());
        let mut out = String::from(
            "# The configuration in effect: the command line, then the environment, then\n\
             # the configuration file, then the defaults. Passwords are masked.\n",
        );
        let mut line = |key: &str, value: String| out.push_str(&format!("{key} = {value}\n"));
        line("data_dir", text(&self.data_dir.display().to_string()));
        line(
            "metadata_url",
            text(&redact_password(&self.stores.metadata_url)),
        );
        line(
            "events_url",
            text(&redact_password(&self.stores.events_url)),
        );
        line("blobs_url", text(&redact_password(&self.stores.blobs_url)));
        line(
            "blob_grace_period",
            self.cleanup.blob_grace_period.as_secs().to_string(),
        );
        out.push_str("\n[serve]\n");
        let mut line = |key: &str, value: String| out.push_str(&format!("{key} = {value}\n"));
        line("bind", text(&serve.bind.to_string()));
        let public_url = serve
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", serve.bind));
        line("public_url", text(&public_url));
        line(
            "cleanup_interval",
            seconds(serve.cleanup_interval).to_string(),
        );
        line(
            "monitor_check_interval",
            seconds(serve.monitor_check_interval).to_string(),
        );
        line("max_spool_backlog", serve.spool.max_backlog.to_string());
        line("settings_ttl", serve.settings_ttl.as_secs().to_string());
        let proxies: Vec<String> = serve
            .trusted_proxies
            .iter()
            .map(|network| text(&network.to_string()))
            .collect();
        line("trusted_proxies", format!("[{}]", proxies.join(", ")));
        out.push_str("\n[limits]\n");
        for (key, value) in serve.limits.entries() {
            out.push_str(&format!("{key} = {value}\n"));
        }
        out.push_str("\n[ingest]\n");
        let kept: Vec<String> = serve
            .store_items
            .iter()
            .map(|kept| text(kept.item_type().as_str()))
            .collect();
        out.push_str(&format!("store_items = [{}]\n", kept.join(", ")));
        out.push_str("\n[alerts]\n");
        let alerts = &serve.alerts;
        if let Some(url) = &alerts.smtp_url {
            out.push_str(&format!("smtp_url = {}\n", text(&redact_password(url))));
        } else {
            out.push_str("# smtp_url: none, alert emails are not sent\n");
        }
        out.push_str(&format!("email_from = {}\n", text(&alerts.email_from)));
        out.push_str(&format!("delivery_attempts = {}\n", alerts.attempts));
        out.push_str(&format!("retry_delay = {}\n", alerts.retry_delay.as_secs()));
        out.push_str(&format!(
            "delivery_timeout = {}\n",
            alerts.timeout.as_secs()
        ));
        out
    }
}

/// A URL with the password of its user info replaced by `***`.
pub fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, location)) = rest.rsplit_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{location}"),
        None => url.to_owned(),
    }
}

/// Where the stores are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// URL of the metadata store.
    pub metadata_url: String,
    /// URL of the event store.
    pub events_url: String,
    /// URL of the blob store.
    pub blobs_url: String,
}

impl StoreConfig {
    /// Resolves store URLs: given ones win, else files in the data
    /// directory: SQLite for metadata, DuckDB for events (SQLite when
    /// built without the `duckdb` feature) and a folder for blobs. Blobs
    /// default to the metadata database when that is Postgres, so that
    /// the servers sharing it share blobs too.
    fn resolve(
        data_dir: &Path,
        metadata_url: Option<String>,
        events_url: Option<String>,
        blobs_url: Option<String>,
    ) -> Self {
        let in_data_dir =
            |scheme: &str, file: &str| format!("{scheme}://{}", data_dir.join(file).display());
        let metadata_url = metadata_url.unwrap_or_else(|| in_data_dir("sqlite", "metadata.sqlite"));
        let blobs_url = blobs_url.unwrap_or_else(|| {
            if is_postgres(&metadata_url) {
                metadata_url.clone()
            } else {
                in_data_dir("file", "blobs")
            }
        });
        Self {
            metadata_url,
            events_url: events_url.unwrap_or_else(|| {
                if cfg!(feature = "duckdb") {
                    in_data_dir("duckdb", "events.duckdb")
                } else {
                    in_data_dir("sqlite", "events.sqlite")
                }
            }),
            blobs_url,
        }
    }
}

/// Whether a store URL names a Postgres database.
fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// How cleanups run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CleanupConfig {
    /// How long a blob that nothing references is kept before a cleanup
    /// deletes it.
    pub blob_grace_period: Duration,
}

impl Default for CleanupConfig {
    fn default() -> Self {
        Self {
            blob_grace_period: Duration::from_secs(DEFAULT_BLOB_GRACE_PERIOD_SECS),
        }
    }
}

/// How `serve` runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeConfig {
    /// Address to listen on.
    pub bind: SocketAddr,
    /// URL clients use to reach the server; `None` means `http://` and the
    /// address the server listens on.
    pub public_url: Option<String>,
    /// Time between retention cleanups; `None` when they are turned off.
    pub cleanup_interval: Option<Duration>,
    /// Time between checks of cron monitors; `None` when they are turned off.
    pub monitor_check_interval: Option<Duration>,
    /// Where accepted requests wait for processing, and how many bytes may.
    pub spool: SpoolOptions,
    /// Where built symbolication caches are kept on disk.
    pub symbolication_cache_dir: PathBuf,
    /// The limits of ingest.
    pub limits: IngestLimits,
    /// Item types stored as they came instead of dropped.
    pub store_items: Vec<KeptItemType>,
    /// How alert messages are sent.
    pub alerts: DeliveryConfig,
    /// How long a project's settings (grouping and scrubbing rules,
    /// allowed origins, rate limits) are cached before they are read again.
    pub settings_ttl: Duration,
    /// The networks of the proxies in front of the server: a request from
    /// one of them is the client's named in `X-Forwarded-For`.
    pub trusted_proxies: Vec<IpNet>,
}

macro_rules! ingest_limits {
    ($($(#[$doc:meta])* $name:ident: $default:expr,)*) => {
        /// The limits of ingest: sizes in bytes, counts per envelope, and
        /// the memory request bodies may hold. The sizes and counts are
        /// Relay's defaults; an envelope over any of them is refused whole
        /// with 413.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct IngestLimits {
            $($(#[$doc])* pub $name: usize,)*
        }

        impl Default for IngestLimits {
            fn default() -> Self {
                Self { $($name: $default,)* }
            }
        }

        impl IngestLimits {
            /// Each limit with its key in the `[limits]` table.
            pub fn entries(&self) -> Vec<(&'static str, usize)> {
                vec![$((stringify!($name), self.$name),)*]
            }
        }

        /// The `[limits]` table of the file: each key optional.
        #[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct LimitOptions {
            $($(#[$doc])* pub $name: Option<usize>,)*
        }

        impl LimitOptions {
            fn or(self, fallback: Self) -> Self {
                Self { $($name: self.$name.or(fallback.$name),)* }
            }

            fn resolve(self) -> IngestLimits {
                let defaults = IngestLimits::default();
                IngestLimits { $($name: self.$name.unwrap_or(defaults.$name),)* }
            }
        }
    };
}

const MIB: usize = 1024 * 1024;

ingest_limits! {
    /// Largest request body, before and after decompression.
    max_envelope_size: 200 * MIB,
    /// Largest event, transaction, user report or feedback payload.
    max_event_size: MIB,
    /// Largest attachment.
    max_attachment_size: 200 * MIB,
    /// Largest sum of the attachments of one envelope.
    max_attachments_size: 200 * MIB,
    /// Most attachments in one envelope.
    max_attachments_per_envelope: 30,
    /// Most `session` and `sessions` items in one envelope.
    max_session_count: 100,
    /// Largest check-in payload.
    max_check_in_size: 100 * 1024,
    /// Largest payload of any other item (client reports, logs, spans,
    /// metrics, profiles, replays).
    max_item_size: 50 * MIB,
    /// Bytes of request bodies held in memory at once (raw and decoded),
    /// past which ingest answers 429.
    max_request_memory: 512 * MIB,
    /// Largest chunk of a `sentry-cli` upload (its `chunkSize`).
    max_upload_chunk_size: 8 * MIB,
    /// Largest artifact bundle `sentry-cli` may assemble; a bundle is
    /// held in memory while it is read.
    max_artifact_bundle_size: 256 * MIB,
    /// Largest file read out of an artifact bundle (a minified file or a
    /// source map).
    max_source_file_size: 64 * MIB,
    /// Largest debug file `sentry-cli` may assemble; a file is held in
    /// memory while it is read.
    max_debug_file_size: 512 * MIB,
    /// Bytes of symbolication caches (source maps, debug files) kept in
    /// memory.
    max_symbolication_cache_memory: 256 * MIB,
    /// Web UI login attempts per account in five minutes; past it the
    /// login form answers 429.
    max_login_attempts: 10,
    /// Web UI login attempts per client address in five minutes.
    max_login_attempts_per_ip: 30,
    /// Bytes of symbolication caches kept on disk, in
    /// `DATA_DIR/symbolication-cache`; 0 keeps none.
    max_symbolication_cache_disk: 2048 * MIB,
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "/etc/sentry/config.toml";

    fn parse(text: &str) -> Result<Options, ConfigError> {
        Options::from_toml(text, Path::new(FILE))
    }

    /// The error and its causes, as `main` prints them.
    fn message(error: &ConfigError) -> String {
        let mut message = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            message.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        message
    }

    fn address(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    #[test]
    fn store_passwords_are_masked() {
        assert_eq!(
            redact_password("postgres://sentry:hunter2@db:5432/sentry"),
            "postgres://sentry:***@db:5432/sentry"
        );
        assert_eq!(
            redact_password("smtp://mailer:p@ss@mail.example.com:587"),
            "smtp://mailer:***@mail.example.com:587"
        );
        assert_eq!(
            redact_password("postgres://sentry@db/sentry"),
            "postgres://sentry@db/sentry"
        );
        assert_eq!(
            redact_password("sqlite://data/metadata.sqlite"),
            "sqlite://data/metadata.sqlite"
        );
    }

    #[test]
    fn the_toml_shown_reads_back_as_the_same_configuration() {
        let file = parse(
            r#"
            data_dir = "/srv/sentry"
            metadata_url = "postgres://sentry:hunter2@db/sentry"
            [serve]
            bind = "0.0.0.0:80"
            [limits]
            max_event_size = 2048
            [ingest]
            store_items = ["log"]
            [alerts]
            smtp_url = "smtp://mailer:secret@mail.test:25"
            "#,
        )
        .unwrap();
        let config = Config::resolve(Options::default(), file);
        let shown = config.to_toml();
        assert!(
            !shown.contains("hunter2") && !shown.contains("secret"),
            "{shown}"
        );
        assert!(shown.contains("max_event_size = 2048"), "{shown}");
        assert!(
            shown.contains("max_symbolication_cache_disk = 2147483648"),
            "{shown}"
        );
        // Every key shown is one the file takes, with the value in effect.
        let again = Config::resolve(Options::default(), parse(&shown).unwrap());
        assert_eq!(again.serve.limits, config.serve.limits);
        assert_eq!(again.serve.bind, config.serve.bind);
        assert_eq!(again.serve.store_items, config.serve.store_items);
        assert_eq!(again.serve.alerts.attempts, config.serve.alerts.attempts);
        assert_eq!(again.data_dir, config.data_dir);
    }

    #[test]
    fn defaults_to_files_in_the_data_dir() {
        let config = StoreConfig::resolve(
            Path::new("/srv/data"),
            None,
            Some("sqlite::memory:".to_owned()),
            None,
        );
        assert_eq!(config.metadata_url, "sqlite:///srv/data/metadata.sqlite");
        assert_eq!(config.events_url, "sqlite::memory:");
        assert_eq!(config.blobs_url, "file:///srv/data/blobs");
        let config = StoreConfig::resolve(Path::new("/srv/data"), None, None, None);
        let expected = if cfg!(feature = "duckdb") {
            "duckdb:///srv/data/events.duckdb"
        } else {
            "sqlite:///srv/data/events.sqlite"
        };
        assert_eq!(config.events_url, expected);
    }

    #[test]
    fn nothing_given_means_the_defaults() {
        let config = Config::resolve(Options::default(), Options::default());
        assert_eq!(
            config.stores,
            StoreConfig::resolve(Path::new(DEFAULT_DATA_DIR), None, None, None)
        );
        assert_eq!(config.stores.metadata_url, "sqlite://data/metadata.sqlite");
        assert_eq!(config.stores.blobs_url, "file://data/blobs");
        assert_eq!(config.cleanup.blob_grace_period, Duration::from_secs(3600));
        assert_eq!(
            config.serve,
            ServeConfig {
                bind: address("127.0.0.1:9000"),
                public_url: None,
                cleanup_interval: Some(Duration::from_secs(3600)),
                monitor_check_interval: Some(Duration::from_secs(10)),
                symbolication_cache_dir: PathBuf::from("data/symbolication-cache"),
                spool: SpoolOptions {
                    dir: PathBuf::from("data/spool"),
                    segment_size: SpoolOptions::DEFAULT_SEGMENT_SIZE,
                    max_backlog: SpoolOptions::DEFAULT_MAX_BACKLOG,
                },
                limits: IngestLimits::default(),
                store_items: Vec::new(),
                alerts: DeliveryConfig::default(),
                settings_ttl: Duration::from_secs(30),
                trusted_proxies: Vec::new(),
            }
        );
        assert_eq!(config.serve.limits.max_event_size, 1024 * 1024);
        assert_eq!(config.serve.limits.max_attachments_per_envelope, 30);
    }

    #[test]
    fn the_file_beats_the_defaults() {
        let file = parse(
            r#"
            data_dir = "/srv/sentry"
            events_url = "sqlite::memory:"

            [serve]
            bind = "0.0.0.0:80"
            public_url = "https://sentry.example.com"
            cleanup_interval = 60
            monitor_check_interval = 0
            max_spool_backlog = 1000
            settings_ttl = 5
            trusted_proxies = ["10.0.0.0/8", "::1/128"]

            [limits]
            max_event_size = 2048
            max_attachments_per_envelope = 2

            [ingest]
            store_items = ["log"]

            [alerts]
            smtp_url = "smtp://mail.test:25"
            email_from = "alerts@example.com"
            delivery_attempts = 3
            retry_delay = 1
            delivery_timeout = 4
            "#,
        )
        .unwrap();
        let config = Config::resolve(Options::default(), file);
        assert_eq!(
            config.stores,
            StoreConfig {
                metadata_url: "sqlite:///srv/sentry/metadata.sqlite".to_owned(),
                events_url: "sqlite::memory:".to_owned(),
                blobs_url: "file:///srv/sentry/blobs".to_owned(),
            }
        );
        assert_eq!(
            config.serve,
            ServeConfig {
                bind: address("0.0.0.0:80"),
                public_url: Some("https://sentry.example.com".to_owned()),
                cleanup_interval: Some(Duration::from_secs(60)),
                monitor_check_interval: None,
                symbolication_cache_dir: PathBuf::from("/srv/sentry/symbolication-cache"),
                spool: SpoolOptions {
                    dir: PathBuf::from("/srv/sentry/spool"),
                    segment_size: SpoolOptions::DEFAULT_SEGMENT_SIZE,
                    max_backlog: 1000,
                },
                limits: IngestLimits {
                    max_event_size: 2048,
                    max_attachments_per_envelope: 2,
                    ..IngestLimits::default()
                },
                store_items: vec![KeptItemType::Log],
                alerts: DeliveryConfig {
                    smtp_url: Some("smtp://mail.test:25".to_owned()),
                    email_from: "alerts@example.com".to_owned(),
                    attempts: 3,
                    retry_delay: Duration::from_secs(1),
                    timeout: Duration::from_secs(4),
                },
                settings_ttl: Duration::from_secs(5),
                trusted_proxies: vec!["10.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()],
            }
        );
    }

    #[test]
    fn the_command_line_beats_the_file_key_by_key() {
        let file = parse(
            r#"
            data_dir = "/srv/sentry"
            metadata_url = "postgres://sentry@db/sentry"

            [serve]
            bind = "0.0.0.0:80"
            cleanup_interval = 60
            "#,
        )
        .unwrap();
        let command_line = Options {
            data_dir: Some(PathBuf::from("/tmp/elsewhere")),
            serve: ServeOptions {
                bind: Some(address("127.0.0.1:9100")),
                ..ServeOptions::default()
            },
            ..Options::default()
        };
        let config = Config::resolve(command_line, file);
        // The file's metadata URL is explicit, so it beats the default
        // derived from the command line's data directory; the event store
        // has no URL anywhere and follows that directory.
        assert_eq!(config.stores.metadata_url, "postgres://sentry@db/sentry");
        assert!(
            config.stores.events_url.contains("/tmp/elsewhere/events."),
            "{}",
            config.stores.events_url
        );
        assert_eq!(config.serve.bind, address("127.0.0.1:9100"));
        assert_eq!(config.serve.cleanup_interval, Some(Duration::from_secs(60)));
        assert_eq!(config.serve.public_url, None);
        // Blobs follow the metadata to Postgres, whatever the data directory.
        assert_eq!(config.stores.blobs_url, "postgres://sentry@db/sentry");
    }

    #[test]
    fn blobs_default_to_postgres_metadata_and_given_urls_win() {
        for metadata in [
            "postgres://sentry@db/sentry",
            "postgresql://sentry@db/sentry",
        ] {
            let config = StoreConfig::resolve(
                Path::new("/srv/data"),
                Some(metadata.to_owned()),
                None,
                None,
            );
            assert_eq!(config.blobs_url, metadata);
        }
        let file = parse(
            "metadata_url = 'postgres://sentry@db/sentry'\n\
             blobs_url = 'file:///mnt/shared/blobs'\n\
             blob_grace_period = 7200\n",
        )
        .unwrap();
        let config = Config::resolve(Options::default(), file);
        assert_eq!(config.stores.blobs_url, "file:///mnt/shared/blobs");
        assert_eq!(config.cleanup.blob_grace_period, Duration::from_secs(7200));
        let command_line = Options {
            blob_grace_period: Some(60),
            ..Options::default()
        };
        let file = parse("blob_grace_period = 7200\n").unwrap();
        let config = Config::resolve(command_line, file);
        assert_eq!(config.cleanup.blob_grace_period, Duration::from_secs(60));
    }

    #[test]
    fn a_zero_cleanup_interval_on_the_command_line_turns_cleanups_off() {
        let file = parse("[serve]\ncleanup_interval = 60\n").unwrap();
        let command_line = Options {
            serve: ServeOptions {
                cleanup_interval: Some(0),
                ..ServeOptions::default()
            },
            ..Options::default()
        };
        let config = Config::resolve(command_line, file);
        assert_eq!(config.serve.cleanup_interval, None);
    }

    #[test]
    fn an_empty_file_sets_nothing() {
        assert_eq!(parse("").unwrap(), Options::default());
        assert_eq!(parse("[serve]\n").unwrap(), Options::default());
    }

    #[test]
    fn unknown_keys_are_errors_naming_the_key_and_the_file() {
        for (text, key) in [
            ("data_dri = \"/srv\"\n", "data_dri"),
            ("bind = \"0.0.0.0:80\"\n", "bind"),
            ("[serve]\nport = 9000\n", "port"),
            ("[server]\nbind = \"0.0.0.0:80\"\n", "server"),
        ] {
            let error = parse(text).unwrap_err();
            assert!(matches!(error, ConfigError::Parse { .. }), "{error:?}");
            let message = message(&error);
            assert!(message.contains(FILE), "{message}");
            assert!(
                message.contains(&format!("unknown field `{key}`")),
                "{message}"
            );
        }
    }

    #[test]
    fn bad_values_are_errors_naming_the_key_and_the_file() {
        for (text, key) in [
            ("[serve]\nbind = \"localhost\"\n", "bind"),
            ("[serve]\nbind = 9000\n", "bind"),
            ("[serve]\ncleanup_interval = -1\n", "cleanup_interval"),
            ("[serve]\ncleanup_interval = \"1h\"\n", "cleanup_interval"),
            ("data_dir = 3\n", "data_dir"),
            ("serve = 1\n", "serve"),
            ("metadata_url = \n", "metadata_url"),
            ("blob_grace_period = \"1h\"\n", "blob_grace_period"),
            ("blobs_url = 1\n", "blobs_url"),
        ] {
            let error = parse(text).unwrap_err();
            assert!(matches!(error, ConfigError::Parse { .. }), "{error:?}");
            let message = message(&error);
            assert!(message.contains(FILE), "{message}");
            assert!(message.contains(key), "{message}");
        }
    }

    #[test]
    fn a_missing_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing.toml");
        let error = Options::from_file(&path).unwrap_err();
        assert!(
            matches!(&error, ConfigError::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound),
            "{error:?}"
        );
        assert!(message(&error).contains(&path.display().to_string()));
    }

    #[test]
    fn reads_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sentry.toml");
        std::fs::write(&path, "[serve]\nbind = \"127.0.0.1:9100\"\n").unwrap();
        let options = Options::from_file(&path).unwrap();
        assert_eq!(options.serve.bind, Some(address("127.0.0.1:9100")));
    }

    #[test]
    fn the_readme_example_is_valid() {
        let readme = include_str!("../../README.md");
        let section = readme
            .split_once("## Configuration")
            .expect("README has a Configuration section")
            .1;
        let example = section
            .split_once("```toml\n")
            .and_then(|(_, rest)| rest.split_once("```"))
            .expect("the Configuration section has a TOML example")
            .0;
        let options = parse(example).unwrap();
        assert!(options.data_dir.is_some());
        assert!(options.serve.bind.is_some());
    }
}
