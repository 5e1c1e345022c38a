//! Behaviours of attachment records in the metadata store.

use sentry_core::protocol::Timestamp;
use sentry_core::store::{
    Attachment, AttachmentId, AttachmentStore, BlobChecksum, EVENT_ATTACHMENT, EVENT_MINIDUMP,
};
use sentry_core::{EventId, ProjectId};

use super::{Stores, project};

/// An attachment of an event created at a time given in seconds, with
/// content no other test has.
fn attachment(project_id: ProjectId, event_id: EventId, name: &str, seconds: f64) -> Attachment {
    Attachment {
        id: AttachmentId::new_random(),
        project_id,
        event_id,
        name: name.to_owned(),
        content_type: Some("text/plain".to_owned()),
        attachment_type: EVENT_ATTACHMENT.to_owned(),
        size: 42,
        checksum: BlobChecksum::of(EventId::new_random().as_bytes()),
        date_created: Timestamp::from_unix_seconds(seconds).unwrap(),
    }
}

/// Adds attachment records.
async fn insert(stores: &Stores, records: &[&Attachment]) {
    for record in records {
        stores.metadata.insert_attachment(record).await.unwrap();
    }
}

/// The attachments of an event.
async fn listed(stores: &Stores, project_id: ProjectId, event_id: EventId) -> Vec<Attachment> {
    stores
        .metadata
        .event_attachments(project_id, event_id)
        .await
        .unwrap()
}

pub async fn attachments_are_listed_by_event_and_found_by_id(stores: &Stores) {
    let (_, project_id) = project(stores).await;
    let (_, other_project) = project(stores).await;
    let event_id = EventId::new_random();
    let log = attachment(project_id, event_id, "log.txt", 200.0);
    let minidump = Attachment {
        content_type: None,
        attachment_type: EVENT_MINIDUMP.to_owned(),
        size: 0,
        ..attachment(project_id, event_id, "crash.dmp", 100.0)
    };
    let unrelated = attachment(project_id, EventId::new_random(), "other.txt", 100.0);
    insert(stores, &[&log, &minidump, &unrelated]).await;
    assert_eq!(
        listed(stores, project_id, event_id).await,
        vec![minidump.clone(), log.clone()],
        "oldest first"
    );
    assert_eq!(
        stores
            .metadata
            .attachment(project_id, log.id)
            .await
            .unwrap(),
        Some(log.clone())
    );
    assert_eq!(
        stores
            .metadata
            .attachment(other_project, log.id)
            .await
            .unwrap(),
        None,
        "another project's attachment is not found"
    );
    assert!(listed(stores, other_project, event_id).await.is_empty());
    let duplicate = stores.metadata.insert_attachment(&log).await;
    assert!(duplicate.is_err(), "ids are unique");
}

pub async fn deletes_attachments_created_before_a_time(stores: &Stores) {
    let (_, project_id) = project(stores).await;
    let (_, other_project) = project(stores).await;
    let event_id = EventId::new_random();
    let old = attachment(project_id, event_id, "old.txt", 100.0);
    let new = attachment(project_id, event_id, "new.txt", 300.0);
    let elsewhere = attachment(other_project, event_id, "old.txt", 100.0);
    insert(stores, &[&old, &new, &elsewhere]).await;
    let cutoff = Timestamp::from_unix_seconds(200.0).unwrap();
    let deleted = stores
        .metadata
        .delete_attachments_before(project_id, cutoff)
        .await
        .unwrap();
    assert_eq!(deleted, 1);
    assert_eq!(listed(stores, project_id, event_id).await, vec![new]);
    assert_eq!(
        listed(stores, other_project, event_id).await,
        vec![elsewhere],
        "other projects keep theirs"
    );
}

pub async fn reports_which_blobs_attachments_reference(stores: &Stores) {
    let (_, project_id) = project(stores).await;
    let (_, other_project) = project(stores).await;
    let shared = attachment(project_id, EventId::new_random(), "a.txt", 100.0);
    let copy = Attachment {
        id: AttachmentId::new_random(),
        project_id: other_project,
        ..shared.clone()
    };
    let single = attachment(project_id, EventId::new_random(), "b.txt", 100.0);
    insert(stores, &[&shared, &copy, &single]).await;
    let unreferenced = BlobChecksum::of(EventId::new_random().as_bytes());
    let asked = [shared.checksum, unreferenced, single.checksum];
    let mut referenced = stores.metadata.referenced_blobs(&asked).await.unwrap();
    referenced.sort();
    let mut expected = vec![shared.checksum, single.checksum];
    expected.sort();
    assert_eq!(referenced, expected);
    assert!(
        stores
            .metadata
            .referenced_blobs(&[])
            .await
            .unwrap()
            .is_empty()
    );
    // Once every record of a blob is gone, nothing references it.
    let cutoff = Timestamp::from_unix_seconds(200.0).unwrap();
    for project_id in [project_id, other_project] {
        stores
            .metadata
            .delete_attachments_before(project_id, cutoff)
            .await
            .unwrap();
    }
    assert!(
        stores
            .metadata
            .referenced_blobs(&asked)
            .await
            .unwrap()
            .is_empty()
    );
}
