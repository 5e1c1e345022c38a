//! The `sentry-server` binary: parses the command line and runs a command.

use clap::Parser;
use sentry_server::cli::Cli;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    sentry_server::logging::init(cli.log_format);
    sentry_server::cli::run(cli).await
}
