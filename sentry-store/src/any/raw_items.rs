//! [`RawItemStore`] for [`AnyMetadataStore`]: raw items live in the
//! metadata backend.

use sentry_core::ProjectId;
use sentry_core::protocol::Timestamp;
use sentry_core::store::{RawItem, RawItemStore, StoreError};

use super::AnyMetadataStore;

// Without a metadata backend the enum is empty and the arguments go unused.
#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres")),
    allow(unused_variables)
)]
impl RawItemStore for AnyMetadataStore {
    async fn insert_raw_items(&self, items: &[RawItem]) -> Result<(), StoreError> {
        dispatch!(self, s => s.insert_raw_items(items))
    }

    async fn raw_items(
        &self,
        project_id: ProjectId,
        item_type: &str,
        since: Timestamp,
        limit: u64,
    ) -> Result<Vec<RawItem>, StoreError> {
        dispatch!(self, s => s.raw_items(project_id, item_type, since, limit))
    }

    async fn delete_raw_items_before(
        &self,
        project_id: ProjectId,
        before: Timestamp,
    ) -> Result<u64, StoreError> {
        dispatch!(self, s => s.delete_raw_items_before(project_id, before))
    }
}
