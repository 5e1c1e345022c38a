//! Store URLs: reopening keeps data, and URLs for the wrong role or an
//! unreachable server fail with the right kind of error.

use sentry_core::store::{MetadataStore, StoreErrorKind};
use sentry_store::open_metadata;

#[tokio::test]
async fn reopening_sqlite_files_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("metadata.sqlite").display());
    let org_id = {
        let metadata = open_metadata(&url).await.unwrap();
        metadata.ensure_organization("kept").await.unwrap().id
    };
    // Reopening runs no migration twice and keeps the data.
    let metadata = open_metadata(&url).await.unwrap();
    assert!(metadata.organization(org_id).await.unwrap().is_some());
}

#[tokio::test]
async fn event_backends_refuse_metadata() {
    for url in ["duckdb::memory:", "clickhouse://127.0.0.1:1/db"] {
        let error = open_metadata(url).await.err().unwrap();
        assert_eq!(error.kind(), StoreErrorKind::InvalidLocation, "{url}");
    }
}

#[cfg(feature = "postgres")]
#[tokio::test]
async fn postgres_urls_are_checked() {
    let error = sentry_store::open_events("postgres://u@127.0.0.1:1/db")
        .await
        .err()
        .unwrap();
    assert_eq!(error.kind(), StoreErrorKind::InvalidLocation);
    let cause = std::error::Error::source(&error).unwrap().to_string();
    assert!(cause.contains("metadata only"), "{cause}");
    let error = open_metadata("postgres://u@127.0.0.1:notaport/db")
        .await
        .err()
        .unwrap();
    assert_eq!(error.kind(), StoreErrorKind::InvalidLocation);
    // Nothing listens on port 1.
    let error = open_metadata("postgres://u@127.0.0.1:1/db")
        .await
        .err()
        .unwrap();
    assert_eq!(error.kind(), StoreErrorKind::Unavailable);
}
