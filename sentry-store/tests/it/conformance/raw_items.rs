//! Behaviours of items kept as they came, in the metadata store.

use sentry_core::ProjectId;
use sentry_core::store::{RawItem, RawItemStore};

use super::{Stores, project, seconds};

fn item(project_id: ProjectId, item_type: &str, at: f64, payload: &[u8]) -> RawItem {
    RawItem {
        project_id,
        item_type: item_type.to_owned(),
        received: seconds(at),
        headers: format!(r#"{{"type":"{item_type}"}}"#),
        payload: payload.to_vec(),
    }
}

pub async fn raw_items_are_kept_by_project_and_type(stores: &Stores) {
    let (_, project_id) = project(stores).await;
    let (_, other_project) = project(stores).await;
    let store = &stores.metadata;
    let big = vec![b'x'; 100_000];
    let items = [
        item(project_id, "log", 200.0, b"{\"items\":[2]}"),
        item(project_id, "log", 100.0, &big),
        item(project_id, "transaction", 150.0, b"{}"),
        item(other_project, "log", 100.0, b"{}"),
    ];
    store.insert_raw_items(&items).await.unwrap();
    let logs = store
        .raw_items(project_id, "log", seconds(0.0), 10)
        .await
        .unwrap();
    assert_eq!(
        logs,
        vec![items[1].clone(), items[0].clone()],
        "oldest first"
    );
    let later = store
        .raw_items(project_id, "log", seconds(150.0), 10)
        .await
        .unwrap();
    assert_eq!(later, vec![items[0].clone()]);
    let one = store
        .raw_items(project_id, "log", seconds(0.0), 1)
        .await
        .unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(
        store
            .delete_raw_items_before(project_id, seconds(160.0))
            .await
            .unwrap(),
        2
    );
    let left = store
        .raw_items(project_id, "log", seconds(0.0), 10)
        .await
        .unwrap();
    assert_eq!(left, vec![items[0].clone()]);
    let elsewhere = store
        .raw_items(other_project, "log", seconds(0.0), 10)
        .await
        .unwrap();
    assert_eq!(elsewhere.len(), 1);
}
