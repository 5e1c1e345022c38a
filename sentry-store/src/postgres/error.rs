//! The failures of the Postgres backend and their [`StoreErrorKind`].

use deadpool_postgres::{BuildError, PoolError};
use sentry_core::store::{StoreError, StoreErrorKind};
use tokio_postgres::error::SqlState;

use crate::records::RowError;

/// What went wrong talking to Postgres.
#[derive(Debug, thiserror::Error)]
pub(super) enum PgError {
    /// The URL is not a valid connection string.
    #[error("invalid postgres url")]
    Url(#[source] tokio_postgres::Error),
    /// The pool could not be built.
    #[error("cannot build the postgres connection pool")]
    Build(#[from] BuildError),
    /// No connection could be had from the pool.
    #[error("cannot get a postgres connection")]
    Pool(#[from] PoolError),
    /// A statement failed.
    #[error("postgres statement failed")]
    Query(#[from] tokio_postgres::Error),
    /// A column holds a value this version cannot read.
    #[error("column `{column}` holds an unexpected value `{value}`")]
    Value {
        /// The column.
        column: &'static str,
        /// The value, as text.
        value: String,
    },
    /// Issue metadata could not be serialized.
    #[error("cannot serialize issue metadata")]
    Json(#[from] serde_json::Error),
    /// An id is beyond what the schema can hold.
    #[error("{0} id {1} is out of range")]
    IdOutOfRange(&'static str, u64),
    /// An event names a project that does not exist.
    #[error("project {0} does not exist")]
    MissingProject(i64),
    /// A row that was just written or found is gone; rows are never deleted.
    #[error("the {0} just written is missing")]
    Vanished(&'static str),
    /// A hash names an issue that does not exist.
    #[error("grouping hash names issue {0}, which does not exist")]
    MissingIssue(i64),
    /// Concurrent writers kept taking the hashes of a new issue.
    #[error("grouping hashes stayed contended after {0} attempts")]
    Contended(usize),
    /// A row holds a value this version cannot read.
    #[error("cannot read a row")]
    Row(#[from] RowError),
    /// The schema is at a version this build cannot read.
    #[error("schema version {0} is invalid")]
    SchemaVersion(i64),
}

impl PgError {
    /// Whether running the whole transaction again may succeed: a
    /// serialization failure or a deadlock.
    pub(super) fn is_transient(&self) -> bool {
        matches!(
            self,
            PgError::Query(error)
                if error.code() == Some(&SqlState::T_R_SERIALIZATION_FAILURE)
                    || error.code() == Some(&SqlState::T_R_DEADLOCK_DETECTED)
        )
    }

    fn kind(&self) -> StoreErrorKind {
        match self {
            PgError::Url(_) => StoreErrorKind::InvalidLocation,
            // Class 23: integrity constraint violations.
            PgError::Query(error)
                if error
                    .code()
                    .is_some_and(|code| code.code().starts_with("23")) =>
            {
                StoreErrorKind::Conflict
            }
            // The trait's rule: writing under a missing project is a conflict.
            PgError::MissingProject(_) => StoreErrorKind::Conflict,
            PgError::Value { .. }
            | PgError::Json(_)
            | PgError::IdOutOfRange(..)
            | PgError::MissingIssue(_)
            | PgError::Vanished(_)
            | PgError::Row(_)
            | PgError::SchemaVersion(_) => StoreErrorKind::Corrupt,
            PgError::Build(_) | PgError::Pool(_) | PgError::Query(_) | PgError::Contended(_) => {
                StoreErrorKind::Unavailable
            }
        }
    }
}

impl From<PgError> for StoreError {
    fn from(error: PgError) -> Self {
        StoreError::new(error.kind(), error)
    }
}
