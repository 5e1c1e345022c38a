//! Statements over ClickHouse's HTTP interface.
//!
//! Every request is a `POST` with a body, so it carries `Content-Length`
//! (18.16 answers 411 without one). Statements go in the body, except for
//! `INSERT`, whose statement goes in the `query` parameter and whose rows
//! (`RowBinary`) go in the body. Selects ask for `wait_end_of_query=1`, so
//! that an error midway comes back as an error status rather than a cut
//! answer with a 200. Credentials go in a basic `Authorization` header,
//! never in the URL.

use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode, Url};

use super::endpoint::Endpoint;
use super::error::ChError;

/// How long to wait for a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one statement may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);
/// How long an idle connection is kept: less than 18.16's `keep_alive_timeout`
/// (3 s), so that we never reuse one the server is closing.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(2);
/// Statements longer than this raise `max_query_size` (256 KiB by default)
/// for themselves.
const LONG_QUERY_BYTES: usize = 200_000;

/// A client for one server and user.
#[derive(Clone)]
pub(super) struct Http {
    client: Client,
    base: Url,
    address: String,
    user: Option<String>,
    password: Option<String>,
}

impl Http {
    /// Builds a client for an endpoint; connects lazily.
    pub(super) fn new(endpoint: &Endpoint) -> Result<Self, ChError> {
        let client = Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .tcp_nodelay(true)
            .no_proxy()
            .build()
            .map_err(ChError::Client)?;
        Ok(Self {
            client,
            base: endpoint.base.clone(),
            address: endpoint.address.clone(),
            user: endpoint.user.clone(),
            password: endpoint.password.clone(),
        })
    }

    /// A client that sends these settings with every statement, for tests
    /// that limit what a statement may read.
    #[cfg(test)]
    pub(super) fn with_settings(&self, settings: &[(&str, &str)]) -> Self {
        let mut client = self.clone();
        client.base.query_pairs_mut().extend_pairs(settings);
        client
    }

    /// Runs a statement that returns nothing (DDL, `ALTER`).
    pub(super) async fn execute(&self, sql: &str) -> Result<(), ChError> {
        self.post(&[], sql.as_bytes().to_vec(), sql).await?;
        Ok(())
    }

    /// Runs a `SELECT … FORMAT RowBinary`; returns the answer's bytes.
    pub(super) async fn select(&self, sql: &str) -> Result<Vec<u8>, ChError> {
        self.post(&[("wait_end_of_query", "1")], sql.as_bytes().to_vec(), sql)
            .await
    }

    /// Runs `INSERT INTO … FORMAT RowBinary` with rows in the body.
    pub(super) async fn insert(&self, statement: &str, rows: Vec<u8>) -> Result<(), ChError> {
        self.post(&[("query", statement)], rows, statement).await?;
        Ok(())
    }

    async fn post(
        &self,
        params: &[(&str, &str)],
        body: Vec<u8>,
        statement: &str,
    ) -> Result<Vec<u8>, ChError> {
        let started = Instant::now();
        let body_bytes = body.len();
        let mut url = self.base.clone();
        {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in params {
                pairs.append_pair(name, value);
            }
            if statement.len() > LONG_QUERY_BYTES {
                pairs.append_pair("max_query_size", &(statement.len() * 2).to_string());
            }
        }
        let mut request = self.client.post(url).body(body);
        if let Some(user) = &self.user {
            request = request.basic_auth(user, self.password.as_deref());
        }
        let response = request.send().await.map_err(|e| self.unreachable(e))?;
        let status = response.status();
        let answer: Vec<u8> = response
            .bytes()
            .await
            .map_err(|e| self.unreachable(e))?
            .into();
        tracing::trace!(
            statement = %statement_head(statement),
            status = status.as_u16(),
            sent = body_bytes,
            received = answer.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "clickhouse statement"
        );
        if status != StatusCode::OK {
            return Err(ChError::server(status.as_u16(), &answer));
        }
        Ok(answer)
    }

    fn unreachable(&self, error: reqwest::Error) -> ChError {
        ChError::Request {
            address: self.address.clone(),
            source: error.without_url(),
        }
    }
}

/// The start of a statement, for logs: statements may hold event data.
fn statement_head(statement: &str) -> &str {
    let mut end = statement.len().min(120);
    while !statement.is_char_boundary(end) {
        end -= 1;
    }
    &statement[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_only_the_head_of_a_statement() {
        assert_eq!(statement_head("SELECT 1"), "SELECT 1");
        let long = format!("SELECT '{}'", "é".repeat(200));
        let head = statement_head(&long);
        assert!(head.len() <= 120 && long.starts_with(head));
    }
}
