//! The command line: `serve` (the default), `init`.
//!
//! Store locations are global options, so every subcommand opens the same
//! stores the same way.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use sentry_core::grouping::GroupingConfig;

use crate::config::{IngestLimits, StoreConfig, default_data_dir};
use crate::state::AppState;

/// A Sentry-compatible error tracking server.
#[derive(Debug, Parser)]
#[command(name = "sentry-server", version, about)]
pub struct Cli {
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
    /// Data directory for the embedded stores.
    #[arg(long, global = true, env = "SENTRY_DATA_DIR", default_value_os_t = default_data_dir())]
    pub data_dir: PathBuf,
    /// Metadata store URL (default: sqlite://DATA_DIR/metadata.sqlite).
    #[arg(long, global = true, env = "SENTRY_METADATA_URL")]
    pub metadata_url: Option<String>,
    /// Event store URL (default: sqlite://DATA_DIR/events.sqlite).
    #[arg(long, global = true, env = "SENTRY_EVENTS_URL")]
    pub events_url: Option<String>,
}

impl StoreArgs {
    fn config(&self) -> StoreConfig {
        StoreConfig::resolve(
            &self.data_dir,
            self.metadata_url.clone(),
            self.events_url.clone(),
        )
    }
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs the server.
    Serve(ServeArgs),
    /// Creates what is missing (organization, project, DSN key, admin token) and prints it.
    Init(InitArgs),
}

/// Options of `serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "SENTRY_BIND", default_value = "127.0.0.1:9000")]
    pub bind: SocketAddr,
    /// URL clients use to reach the server (default: http://BIND).
    #[arg(long, env = "SENTRY_PUBLIC_URL")]
    pub public_url: Option<String>,
}

impl Default for ServeArgs {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 9000)),
            public_url: None,
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
    /// URL clients use to reach the server, for the DSN.
    #[arg(
        long,
        env = "SENTRY_PUBLIC_URL",
        default_value = "http://127.0.0.1:9000"
    )]
    pub public_url: String,
    /// Print one line of JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs a parsed command line.
///
/// # Errors
///
/// Fails when the stores cannot be opened or the server cannot listen.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let stores = cli.stores.config();
    match cli.command.unwrap_or(Command::Serve(ServeArgs::default())) {
        Command::Serve(args) => serve(&stores, &args).await,
        Command::Init(args) => {
            let state = open_state(&stores, &args.public_url).await?;
            let created = crate::init::init(&state, &args.org, &args.project).await?;
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

async fn open_state(stores: &StoreConfig, public_url: &str) -> anyhow::Result<AppState> {
    let metadata = sentry_store::open_metadata(&stores.metadata_url)
        .await
        .with_context(|| format!("opening metadata store {}", stores.metadata_url))?;
    let events = sentry_store::open_events(&stores.events_url)
        .await
        .with_context(|| format!("opening event store {}", stores.events_url))?;
    Ok(AppState {
        metadata,
        events,
        limits: IngestLimits::default(),
        grouping: GroupingConfig::default(),
        public_url: public_url.trim_end_matches('/').to_owned(),
    })
}

async fn serve(stores: &StoreConfig, args: &ServeArgs) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("binding {}", args.bind))?;
    let address = listener.local_addr()?;
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{address}"));
    let state = open_state(stores, &public_url).await?;
    tracing::info!(%address, metadata = %stores.metadata_url, events = %stores.events_url, "listening");
    axum::serve(listener, crate::app(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving")?;
    tracing::info!("stopped");
    Ok(())
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
