//! The failures of the ClickHouse backend and their [`StoreErrorKind`].

use std::time::Duration;

use sentry_core::store::{StoreError, StoreErrorKind};

/// The longest server message kept in an error, in bytes.
const MAX_MESSAGE_BYTES: usize = 2000;

/// What went wrong talking to ClickHouse.
#[derive(Debug, thiserror::Error)]
pub(super) enum ChError {
    /// The URL cannot be read; `url` has its password masked.
    #[error("invalid clickhouse url `{url}`: {reason}")]
    Url {
        /// The URL, password masked.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The HTTP client could not be built.
    #[error("cannot build the http client")]
    Client(#[source] reqwest::Error),
    /// The server could not be reached, or the answer was cut.
    #[error("cannot reach clickhouse at {address}")]
    Request {
        /// `host:port`.
        address: String,
        /// The cause, without the request URL.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with an error.
    #[error("clickhouse answered {status}{}: {message}", code.map(|c| format!(" (code {c})")).unwrap_or_default())]
    Server {
        /// The HTTP status.
        status: u16,
        /// ClickHouse's error code, when the message has one.
        code: Option<u32>,
        /// The message, cut to a reasonable length.
        message: String,
    },
    /// An answer does not have the expected shape.
    #[error("cannot decode clickhouse's answer: {0}")]
    Decode(&'static str),
    /// A column holds a value this version cannot read.
    #[error("column `{column}` holds an unexpected value")]
    Value {
        /// The column.
        column: &'static str,
    },
    /// The table exists with other columns than this version writes.
    #[error("table `{table}` has an unknown layout: {detail}")]
    Schema {
        /// The table.
        table: &'static str,
        /// What differs.
        detail: String,
    },
    /// A mutation (`ALTER TABLE … DELETE`) did not finish in time.
    #[error("mutation on `{table}` did not finish within {waited:?}")]
    MutationTimeout {
        /// The table.
        table: &'static str,
        /// How long we waited.
        waited: Duration,
    },
}

impl ChError {
    /// Reads an error answer: `Code: 60, e.displayText() = DB::Exception: …`.
    pub(super) fn server(status: u16, body: &[u8]) -> Self {
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        let code = text
            .strip_prefix("Code: ")
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|digits| digits.parse().ok());
        let mut end = text.len().min(MAX_MESSAGE_BYTES);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        ChError::Server {
            status,
            code,
            message: text[..end].to_owned(),
        }
    }

    fn kind(&self) -> StoreErrorKind {
        match self {
            ChError::Url { .. } => StoreErrorKind::InvalidLocation,
            ChError::Decode(_) | ChError::Value { .. } | ChError::Schema { .. } => {
                StoreErrorKind::Corrupt
            }
            ChError::Client(_)
            | ChError::Request { .. }
            | ChError::Server { .. }
            | ChError::MutationTimeout { .. } => StoreErrorKind::Unavailable,
        }
    }
}

impl From<ChError> for StoreError {
    fn from(error: ChError) -> Self {
        StoreError::new(error.kind(), error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_code_of_a_server_error() {
        let error = ChError::server(
            404,
            b"Code: 60, e.displayText() = DB::Exception: Table x.y doesn't exist\n",
        );
        let ChError::Server { code, message, .. } = &error else {
            panic!("not a server error: {error:?}");
        };
        assert_eq!(*code, Some(60));
        assert!(message.ends_with("doesn't exist"), "{message}");
        assert_eq!(StoreError::from(error).kind(), StoreErrorKind::Unavailable);
    }

    #[test]
    fn cuts_long_messages_on_a_char_boundary() {
        let body = "é".repeat(MAX_MESSAGE_BYTES);
        let ChError::Server { code, message, .. } = ChError::server(500, body.as_bytes()) else {
            panic!("not a server error");
        };
        assert_eq!(code, None);
        assert!(message.len() <= MAX_MESSAGE_BYTES);
        assert!(message.chars().all(|c| c == 'é'));
    }
}
