//! Behaviours of rate limit counters in the metadata store.

use std::sync::Arc;

use sentry_core::store::QuotaStore;

use super::{Stores, seconds, unique};

pub async fn quota_counters_add_up_per_window(stores: &Stores) {
    let key = unique("key");
    let other = unique("key");
    let store = &stores.metadata;
    assert_eq!(
        store.consume_quota(&key, seconds(60.0), 1).await.unwrap(),
        1
    );
    assert_eq!(
        store.consume_quota(&key, seconds(60.0), 2).await.unwrap(),
        3
    );
    assert_eq!(
        store.consume_quota(&key, seconds(120.0), 1).await.unwrap(),
        1,
        "a new window"
    );
    assert_eq!(
        store.consume_quota(&other, seconds(60.0), 1).await.unwrap(),
        1,
        "another quota"
    );
    let hostile = format!("{key}'; DELETE FROM quota_windows; --");
    assert_eq!(
        store
            .consume_quota(&hostile, seconds(60.0), 1)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store.consume_quota(&key, seconds(60.0), 0).await.unwrap(),
        3
    );
}

pub async fn concurrent_consumers_each_see_a_distinct_total(stores: &Stores) {
    let key = Arc::new(unique("key"));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let store = stores.metadata.clone();
        let key = Arc::clone(&key);
        tasks.push(tokio::spawn(async move {
            store.consume_quota(&key, seconds(600.0), 1).await.unwrap()
        }));
    }
    let mut totals = Vec::new();
    for task in tasks {
        totals.push(task.await.unwrap());
    }
    totals.sort_unstable();
    assert_eq!(totals, (1..=20).collect::<Vec<u64>>());
}

pub async fn old_quota_windows_are_deleted(stores: &Stores) {
    let key = unique("key");
    let store = &stores.metadata;
    store.consume_quota(&key, seconds(10.0), 5).await.unwrap();
    assert!(
        store
            .delete_quota_windows_before(seconds(11.0))
            .await
            .unwrap()
            >= 1
    );
    assert_eq!(
        store.consume_quota(&key, seconds(10.0), 1).await.unwrap(),
        1,
        "counted afresh"
    );
}
