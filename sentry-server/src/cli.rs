//! The command line: `serve` (the default), `init`, `cleanup`, `grouping
//! explain`, `user create`, `config check`, `config show`.
//!
//! Store locations and `--config` are global options, so every subcommand
//! opens the same stores the same way. Options that have a default are
//! `Option`s here, without clap defaults: a default would hide whether the
//! configuration file sets the option. [`crate::config::Config::resolve`]
//! applies the file and the defaults; the help text names the defaults.

use std::io::Read as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, FromArgMatches as _, Parser, Subcommand, ValueEnum};
use ipnet::IpNet;
use sentry_core::Event;
use sentry_core::grouping::{
    self, Enhancements, FingerprintingRules, GroupingConfig, HashAlgorithm,
};
use sentry_core::normalize::{NormalizeConfig, normalize};
use sentry_core::protocol::Timestamp;

use crate::alerts::delivery::Deliverer;
use crate::config::{
    AlertOptions, CleanupConfig, Config, IngestOptions, LimitOptions, Options, ServeConfig,
    ServeOptions, StoreConfig, redact_password,
};
use crate::logging::LogFormat;
use crate::server::{Server, open_metadata, open_stores};

/// A Sentry-compatible error tracking server.
#[derive(Debug, Parser)]
#[command(name = "sentry-server", version, about)]
pub struct Cli {
    /// TOML configuration file: `data_dir`, `metadata_url`, `events_url`,
    /// `blobs_url`, `blob_grace_period` and a `[serve]` table with `bind`,
    /// `public_url`, `cleanup_interval`, `monitor_check_interval`, `max_spool_backlog`,
    /// and `[limits]`, `[ingest]` and `[alerts]` tables. The command line and the
    /// environment beat it.
    #[arg(long, global = true, env = "SENTRY_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Log lines as text for people, or as JSON objects (one per line)
    /// for a log collector. `RUST_LOG` filters them (default: info).
    #[arg(
        long,
        global = true,
        env = "SENTRY_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Text
    )]
    pub log_format: LogFormat,
    /// Where stores live.
    #[command(flatten)]
    pub stores: StoreArgs,
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Global store options.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Data directory for the embedded stores (default: data).
    #[arg(long, global = true, env = "SENTRY_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Metadata store URL: sqlite://PATH or postgres://USER@HOST/DB
    /// (default: sqlite://DATA_DIR/metadata.sqlite).
    #[arg(long, global = true, env = "SENTRY_METADATA_URL")]
    pub metadata_url: Option<String>,
    /// Event store URL: duckdb://PATH, clickhouse://HOST:HTTP_PORT/DB or
    /// sqlite://PATH (default: duckdb://DATA_DIR/events.duckdb).
    #[arg(long, global = true, env = "SENTRY_EVENTS_URL")]
    pub events_url: Option<String>,
    /// Blob store URL, for attachments: file://PATH or postgres://USER@HOST/DB
    /// (default: file://DATA_DIR/blobs, or the metadata database when it is
    /// Postgres).
    #[arg(long, global = true, env = "SENTRY_BLOBS_URL")]
    pub blobs_url: Option<String>,
    /// Seconds a blob that nothing references is kept before cleanup
    /// deletes it, so that uploads in progress are never swept (default:
    /// 3600).
    #[arg(
        long,
        global = true,
        env = "SENTRY_BLOB_GRACE_PERIOD",
        value_name = "SECONDS"
    )]
    pub blob_grace_period: Option<u64>,
}

impl StoreArgs {
    /// What the command line and the environment say, `serve` options aside.
    fn options(self) -> Options {
        Options {
            data_dir: self.data_dir,
            metadata_url: self.metadata_url,
            events_url: self.events_url,
            blobs_url: self.blobs_url,
            blob_grace_period: self.blob_grace_period,
            serve: ServeOptions::default(),
            limits: LimitOptions::default(),
            ingest: IngestOptions::default(),
            alerts: AlertOptions::default(),
        }
    }
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs the server.
    Serve(ServeArgs),
    /// Creates what is missing (organization, project, DSN key, admin token) and prints it.
    Init(InitArgs),
    /// Applies every project's retention (events and attachments) once,
    /// sweeps blobs nothing references, and prints what it deleted. With
    /// the embedded DuckDB event store, stop the server first (it holds the
    /// file and runs the same cleanup on its interval).
    Cleanup,
    /// Grouping tools.
    #[command(subcommand)]
    Grouping(GroupingCommand),
    /// Web UI accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// The configuration: check it, or print what is in effect.
    #[command(subcommand)]
    Config(ConfigCommand),
}

/// Subcommands of `config`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Reads the configuration (file, environment, command line) and checks
    /// every value: store URLs, the SMTP URL, the data directory; prints
    /// `configuration OK` or each problem, and fails if there is one.
    Check,
    /// Prints the configuration in effect, every key with its value, in the
    /// file's TOML layout; passwords are masked.
    Show,
}

/// Subcommands of `user`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Creates an account for the web UI, owner of an organization; the
    /// password is read from the first line of standard input.
    Create(UserCreateArgs),
}

/// Options of `user create`.
#[derive(Debug, Clone, Args)]
pub struct UserCreateArgs {
    /// The email address, which is also the login.
    #[arg(long)]
    pub email: String,
    /// Read the password from standard input (the only way: it never
    /// appears in the process list or the shell history).
    #[arg(long, required = true)]
    pub password_stdin: bool,
    /// Let the user see and change every organization.
    #[arg(long)]
    pub superuser: bool,
    /// The organization the user becomes an owner of (created if missing).
    #[arg(long, default_value = "sentry")]
    pub org: String,
}

/// Subcommands of `grouping`.
#[derive(Debug, Subcommand)]
pub enum GroupingCommand {
    /// Groups one event and prints its hashes and variants as JSON.
    Explain(ExplainArgs),
}

/// The hash function of `grouping explain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HashChoice {
    /// SHA-256, as this server stores issues.
    Sha256,
    /// MD5, as Sentry computes its hashes.
    Md5,
}

/// Options of `grouping explain`.
#[derive(Debug, Clone, Args)]
pub struct ExplainArgs {
    /// The grouping config (`--config` names the configuration file).
    #[arg(long, default_value = grouping::NEWSTYLE_2023_01_11)]
    pub grouping_config: String,
    /// A file of project fingerprint rules.
    #[arg(long)]
    pub fingerprint_rules: Option<PathBuf>,
    /// A file of project stack trace rules.
    #[arg(long)]
    pub enhancements: Option<PathBuf>,
    /// The hash function.
    #[arg(long, value_enum, default_value = "sha256")]
    pub hash: HashChoice,
    /// Print a readable tree instead of JSON.
    #[arg(long)]
    pub text: bool,
    /// The event JSON file, or `-` for standard input.
    pub event: PathBuf,
}

/// Options of `serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on (default: 127.0.0.1:9000).
    #[arg(long, env = "SENTRY_BIND")]
    pub bind: Option<SocketAddr>,
    /// URL clients use to reach the server (default: http://BIND).
    #[arg(long, env = "SENTRY_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Seconds between retention cleanups (default: 3600); 0 turns them
    /// off (then run `sentry-server cleanup` from cron).
    #[arg(long, env = "SENTRY_CLEANUP_INTERVAL")]
    pub cleanup_interval: Option<u64>,
    /// Seconds between checks for missed and timed-out cron check-ins
    /// (default: 10); 0 turns them off.
    #[arg(long, env = "SENTRY_MONITOR_CHECK_INTERVAL")]
    pub monitor_check_interval: Option<u64>,
    /// Bytes of accepted requests waiting for processing past which ingest
    /// answers 429 with Retry-After (default: 1 GiB).
    #[arg(long, env = "SENTRY_MAX_SPOOL_BACKLOG", value_name = "BYTES")]
    pub max_spool_backlog: Option<u64>,
    /// Seconds a project's settings (grouping and scrubbing rules, allowed
    /// origins, rate limits) are cached; changes made through another
    /// server of a cluster are seen within this time (default: 30).
    #[arg(long, env = "SENTRY_SETTINGS_TTL", value_name = "SECONDS")]
    pub settings_ttl: Option<u64>,
    /// Networks of the proxies in front of the server, comma-separated
    /// (e.g. 10.0.0.0/8,127.0.0.1/32): a request from one of them is the
    /// client's that `X-Forwarded-For` names (default: none, the TCP peer
    /// is the client).
    #[arg(
        long,
        env = "SENTRY_TRUSTED_PROXIES",
        value_name = "CIDR,...",
        value_delimiter = ','
    )]
    pub trusted_proxies: Option<Vec<IpNet>>,
    /// The SMTP server alert emails go through, as `smtp://HOST:PORT`,
    /// `smtp://HOST:PORT?tls=required` or `smtps://USER:PASSWORD@HOST:PORT`
    /// (default: none, no email).
    #[arg(long, env = "SENTRY_SMTP_URL", value_name = "URL")]
    pub smtp_url: Option<String>,
}

impl ServeArgs {
    /// The options of `serve` run as the default command: no flags were
    /// given, so only the environment counts.
    fn from_env() -> anyhow::Result<Self> {
        let command = Self::augment_args(clap::Command::new("serve"));
        let matches = command.try_get_matches_from(["serve"])?;
        Ok(Self::from_arg_matches(&matches)?)
    }

    /// What the command line and the environment say.
    fn options(&self) -> ServeOptions {
        ServeOptions {
            bind: self.bind,
            public_url: self.public_url.clone(),
            cleanup_interval: self.cleanup_interval,
            monitor_check_interval: self.monitor_check_interval,
            max_spool_backlog: self.max_spool_backlog,
            settings_ttl: self.settings_ttl,
            trusted_proxies: self.trusted_proxies.clone(),
        }
    }
}

/// Options of `init`.
#[derive(Debug, Clone, Args)]
pub struct InitArgs {
    /// Organization slug.
    #[arg(long, default_value = "sentry")]
    pub org: String,
    /// Project slug.
    #[arg(long, default_value = "internal")]
    pub project: String,
    /// URL clients use to reach the server, for the DSN (default: the
    /// configuration file's `[serve] public_url`, else http://BIND, as
    /// `serve` uses).
    #[arg(long, env = "SENTRY_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Print one line of JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs a parsed command line.
///
/// # Errors
///
/// Fails when the configuration file cannot be used, the stores cannot be
/// opened or the server cannot listen.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let file = match &cli.config {
        Some(path) => Options::from_file(path)?,
        None => Options::default(),
    };
    let command = match cli.command {
        Some(command) => command,
        None => Command::Serve(ServeArgs::from_env()?),
    };
    let mut command_line = cli.stores.options();
    // `config` reads the serve options from the environment as `serve` would.
    let from_env;
    let serve_args = match &command {
        Command::Serve(args) => Some(args),
        Command::Config(_) => {
            from_env = ServeArgs::from_env()?;
            Some(&from_env)
        }
        _ => None,
    };
    if let Some(args) = serve_args {
        command_line.serve = args.options();
        command_line.alerts.smtp_url = args.smtp_url.clone();
    }
    let config = Config::resolve(command_line, file);
    let stores = config.stores.clone();
    match command {
        Command::Config(action) => config_command(&action, &config),
        Command::Serve(_) => serve(&stores, &config.serve, config.cleanup).await,
        Command::Grouping(GroupingCommand::Explain(args)) => {
            let output = explain(&args)?;
            #[allow(clippy::print_stdout, reason = "explain prints its result")]
            {
                println!("{output}");
            }
            Ok(())
        }
        Command::Cleanup => {
            let opened = open_stores(&stores).await?;
            let report = crate::cleanup::cleanup(
                &opened.metadata,
                &opened.events,
                &opened.blobs,
                Timestamp::now(),
                &config.cleanup,
            )
            .await?;
            #[allow(clippy::print_stdout, reason = "cleanup prints its report for scripts")]
            {
                println!("{}", serde_json::to_string(&report)?);
            }
            Ok(())
        }
        Command::User(UserCommand::Create(args)) => {
            let password = crate::ui::accounts::read_password(&mut std::io::stdin().lock())?;
            let metadata = open_metadata(&stores).await?;
            let user = crate::ui::accounts::create_user(
                &metadata,
                &args.email,
                &password,
                args.superuser,
                &args.org,
            )
            .await?;
            #[allow(
                clippy::print_stdout,
                reason = "user create prints its result for scripts"
            )]
            {
                println!(
                    "created user {} (id {}), owner of {}",
                    user.email, user.id, args.org
                );
            }
            Ok(())
        }
        Command::Init(args) => {
            // Only the metadata: an embedded event store (DuckDB) is held
            // by a running server, and init must work beside it.
            let metadata = open_metadata(&stores).await?;
            let public_url = args
                .public_url
                .or_else(|| config.serve.public_url.clone())
                .unwrap_or_else(|| format!("http://{}", config.serve.bind));
            let created =
                crate::init::init(&metadata, &public_url, &args.org, &args.project).await?;
            let line = if args.json {
                serde_json::to_string(&created)?
            } else {
                format!(
                    "organization: {}\nproject: {} (id {})\nDSN: {}\nAPI token: {}",
                    created.org, created.project, created.project_id, created.dsn, created.token
                )
            };
            #[allow(clippy::print_stdout, reason = "init prints its result for scripts")]
            {
                println!("{line}");
            }
            Ok(())
        }
    }
}

/// Groups one event file as ingest would and renders the result.
fn explain(args: &ExplainArgs) -> anyhow::Result<String> {
    if args.grouping_config != grouping::NEWSTYLE_2023_01_11 {
        anyhow::bail!(
            "unknown grouping config `{}`; supported: {}",
            args.grouping_config,
            grouping::NEWSTYLE_2023_01_11
        );
    }
    let text = if args.event.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        text
    } else {
        std::fs::read_to_string(&args.event)
            .with_context(|| format!("reading {}", args.event.display()))?
    };
    let mut event: Event = serde_json::from_str(&text).context("the input is not an event")?;
    let read_rules = |path: &Option<PathBuf>| -> anyhow::Result<Option<String>> {
        path.as_ref()
            .map(|path| {
                std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
            })
            .transpose()
    };
    let fingerprinting = match read_rules(&args.fingerprint_rules)? {
        Some(text) => FingerprintingRules::parse(&text).context("fingerprint rules")?,
        None => FingerprintingRules::default(),
    };
    let enhancements = match read_rules(&args.enhancements)? {
        Some(text) => Enhancements::parse(&text).context("stack trace rules")?,
        None => Enhancements::parse("").context("empty rules")?,
    };
    let mut config = GroupingConfig::with_project_rules(&enhancements, fingerprinting);
    config.hash_algorithm = match args.hash {
        HashChoice::Sha256 => HashAlgorithm::Sha256,
        HashChoice::Md5 => HashAlgorithm::Md5,
    };
    normalize(&mut event, &NormalizeConfig::new(Timestamp::now()));
    let grouping = grouping::prepare_and_group(&mut event, &config);
    if args.text {
        return Ok(grouping.explain());
    }
    Ok(serde_json::to_string_pretty(&grouping.to_json())?)
}

async fn serve(
    stores: &StoreConfig,
    config: &ServeConfig,
    cleanup_config: CleanupConfig,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("binding {}", config.bind))?;
    let address = listener.local_addr()?;
    let public_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{address}"));
    let server = Server::start(stores, config, cleanup_config, &public_url).await?;
    tracing::info!(
        %address,
        metadata = %redact_password(&stores.metadata_url),
        events = %redact_password(&stores.events_url),
        blobs = %redact_password(&stores.blobs_url),
        "listening"
    );
    let app = server
        .router()
        .into_make_service_with_connect_info::<SocketAddr>();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving");
    server.stop().await;
    served?;
    tracing::info!("stopped");
    Ok(())
}

/// `config check` and `config show`.
fn config_command(action: &ConfigCommand, config: &Config) -> anyhow::Result<()> {
    #[allow(clippy::print_stdout, reason = "config prints its result")]
    match action {
        ConfigCommand::Show => {
            print!("{}", config.to_toml());
            Ok(())
        }
        ConfigCommand::Check => {
            let problems = config_problems(config);
            if problems.is_empty() {
                println!("configuration OK");
                return Ok(());
            }
            for problem in &problems {
                println!("{problem}");
            }
            anyhow::bail!("the configuration has {} problem(s)", problems.len())
        }
    }
}

/// What is wrong with a configuration, each as a sentence naming its key.
fn config_problems(config: &Config) -> Vec<String> {
    let mut problems = Vec::new();
    for (key, url) in [
        ("metadata_url", &config.stores.metadata_url),
        ("events_url", &config.stores.events_url),
    ] {
        if let Err(error) = sentry_store::Location::parse(url) {
            problems.push(format!("{key}: {error} ({})", redact_password(url)));
        }
    }
    if let Err(error) = sentry_store::BlobLocation::parse(&config.stores.blobs_url) {
        problems.push(format!(
            "blobs_url: {error} ({})",
            redact_password(&config.stores.blobs_url)
        ));
    }
    if let Err(error) = Deliverer::new(&config.serve.alerts) {
        problems.push(format!("[alerts]: {error}"));
    }
    if let Some(url) = &config.serve.public_url {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            problems.push(format!("[serve] public_url: `{url}` is not an http(s) URL"));
        }
    }
    if config.data_dir.exists() && !config.data_dir.is_dir() {
        problems.push(format!(
            "data_dir: {} is not a directory",
            config.data_dir.display()
        ));
    }
    for (key, value) in config.serve.limits.entries() {
        if value == 0 && key != "max_symbolication_cache_disk" {
            problems.push(format!("[limits] {key}: must be more than 0"));
        }
    }
    problems
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut terminate) = signal(SignalKind::terminate()) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::*;
    use crate::config::{
        DEFAULT_BIND, DEFAULT_BLOB_GRACE_PERIOD_SECS, DEFAULT_CLEANUP_INTERVAL_SECS,
        DEFAULT_DATA_DIR,
    };

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_subcommand_takes_a_config_file() {
        for args in [
            &["sentry-server", "--config", "sentry.toml"][..],
            &["sentry-server", "--config", "sentry.toml", "serve"],
            &["sentry-server", "serve", "--config", "sentry.toml"],
            &["sentry-server", "init", "--config", "sentry.toml"],
            &["sentry-server", "cleanup", "--config", "sentry.toml"],
            &[
                "sentry-server",
                "user",
                "create",
                "--email",
                "a@example.com",
                "--password-stdin",
                "--config",
                "sentry.toml",
            ],
            &[
                "sentry-server",
                "grouping",
                "explain",
                "--config",
                "sentry.toml",
                "-",
            ],
        ] {
            let cli = Cli::try_parse_from(args).unwrap();
            assert_eq!(cli.config, Some(PathBuf::from("sentry.toml")), "{args:?}");
            // Clap would fill a subcommand's own `--config` with the same
            // value, so `grouping explain` names its option differently.
            if let Some(Command::Grouping(GroupingCommand::Explain(explain))) = cli.command {
                assert_eq!(explain.grouping_config, grouping::NEWSTYLE_2023_01_11);
            }
        }
    }

    #[test]
    fn given_flags_reach_the_options() {
        let cli = Cli::try_parse_from([
            "sentry-server",
            "serve",
            "--data-dir",
            "/srv/sentry",
            "--bind",
            "0.0.0.0:80",
            "--cleanup-interval",
            "0",
        ])
        .unwrap();
        let Some(Command::Serve(serve)) = &cli.command else {
            panic!("not serve: {cli:?}");
        };
        assert_eq!(serve.bind, Some("0.0.0.0:80".parse().unwrap()));
        assert_eq!(serve.cleanup_interval, Some(0));
        assert_eq!(
            cli.stores.options().data_dir,
            Some(PathBuf::from("/srv/sentry"))
        );
    }

    #[test]
    fn the_help_names_the_defaults() {
        let command = Cli::command();
        let help = |command: &clap::Command, id: &str| {
            command
                .get_arguments()
                .find(|arg| arg.get_id() == id)
                .and_then(|arg| arg.get_help())
                .map(ToString::to_string)
                .unwrap_or_default()
        };
        let serve = command.find_subcommand("serve").unwrap();
        assert!(help(&command, "data_dir").contains(&format!("(default: {DEFAULT_DATA_DIR})")));
        assert!(help(serve, "bind").contains(&format!("(default: {DEFAULT_BIND})")));
        assert!(
            help(serve, "cleanup_interval")
                .contains(&format!("(default: {DEFAULT_CLEANUP_INTERVAL_SECS})"))
        );
        assert!(
            help(&command, "blob_grace_period")
                .contains(&format!("(default: {DEFAULT_BLOB_GRACE_PERIOD_SECS})"))
        );
        assert!(help(&command, "blobs_url").contains("(default: file://DATA_DIR/blobs"));
    }
}
