//! Mounts the server's routes (ingest, web API, web UI) under `/errors`
//! in an application's own axum router, on the embedded stores: the
//! application keeps its routes, SDKs use a DSN whose path has the
//! prefix, and events become issues as on a standalone server.
//!
//! Run with `cargo run -p examples --example mounted`.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context as _, ensure};
use axum::Router;
use axum::routing::get;
use sentry_server::config::Config;
use sentry_server::server::Server;
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let config = Config::with_data_dir(dir.path());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let public_url = format!("http://{}/errors", listener.local_addr()?);
    let server = Server::start(&config.stores, &config.serve, config.cleanup, &public_url).await?;
    let project =
        sentry_server::init::init(&server.state().metadata, &public_url, "acme", "shop").await?;
    println!("DSN for the SDKs: {}", project.dsn);

    let app = Router::new()
        .route("/", get(|| async { "the application's own page" }))
        .nest("/errors", server.router());
    let serving = tokio::spawn(
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .into_future(),
    );

    // What an SDK configured with the DSN sends.
    let http = reqwest::Client::new();
    let key = project
        .dsn
        .split("//")
        .nth(1)
        .and_then(|rest| rest.split('@').next())
        .context("a DSN has a key")?;
    let event = json!({"exception": {"values": [{"type": "ValueError", "value": "bad cart"}]}});
    let envelope = format!("{{}}\n{{\"type\":\"event\"}}\n{event}\n");
    let answer = http
        .post(format!("{public_url}/api/{}/envelope/", project.project_id))
        .header(
            "X-Sentry-Auth",
            format!("Sentry sentry_version=7, sentry_key={key}"),
        )
        .body(envelope)
        .send()
        .await?;
    ensure!(answer.status().is_success(), "ingest: {}", answer.status());

    // The issue, through the web API, once the spool's worker filed it.
    let issues_url = format!("{public_url}/api/0/projects/acme/shop/issues/");
    let mut issues = Vec::new();
    for _ in 0..100 {
        issues = http
            .get(&issues_url)
            .bearer_auth(&project.token)
            .send()
            .await?
            .json::<Vec<Value>>()
            .await?;
        if !issues.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let issue = issues.first().context("no issue after 5 s")?;
    println!("issue {}: {}", issue["shortId"], issue["title"]);
    ensure!(issue["title"] == "ValueError: bad cart");

    let own = http
        .get(public_url.trim_end_matches("/errors"))
        .send()
        .await?
        .text()
        .await?;
    ensure!(own == "the application's own page");

    serving.abort();
    server.stop().await;
    Ok(())
}
