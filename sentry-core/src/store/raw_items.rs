//! Items kept as they came: the envelope items this server does not
//! process (transactions, logs, spans, metrics, profiles, replays), stored
//! when the configuration asks for them, so that nothing sent is lost to
//! a later version that reads them.

use std::future::Future;

use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::ids::ProjectId;
use crate::protocol::Timestamp;

/// An envelope item kept as it came.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawItem {
    /// The project.
    pub project_id: ProjectId,
    /// The item type (`transaction`, `log`, ...).
    pub item_type: String,
    /// When the server received it.
    pub received: Timestamp,
    /// The item's header line, as JSON.
    pub headers: String,
    /// The payload.
    pub payload: Vec<u8>,
}

/// Raw items. A trait of its own beside
/// [`MetadataStore`](super::MetadataStore), implemented by the same
/// backends.
pub trait RawItemStore: Send + Sync {
    /// Adds items.
    fn insert_raw_items(
        &self,
        items: &[RawItem],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Returns a project's items of a type received at or after `since`,
    /// oldest first; at most `limit`.
    fn raw_items(
        &self,
        project_id: ProjectId,
        item_type: &str,
        since: Timestamp,
        limit: u64,
    ) -> impl Future<Output = Result<Vec<RawItem>, StoreError>> + Send;

    /// Deletes a project's items received before `before`; returns how
    /// many went.
    fn delete_raw_items_before(
        &self,
        project_id: ProjectId,
        before: Timestamp,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}
