//! Behaviours of sentry-cli's upload chunks and artifact bundles in the
//! metadata store.

use sentry_core::store::{
    ArtifactBundleRecord, ArtifactFileRecord, ArtifactLookup, ArtifactStore, AttachmentStore,
    BlobChecksum, DebugFileRecord, Sha1Checksum, UploadChunk,
};
use sentry_core::symbolication::artifact_bundle::ArtifactKind;
use sentry_core::{EventId, OrgId, ProjectId};
use uuid::Uuid;

use super::{Stores, project, seconds};

/// A chunk of random content.
fn chunk() -> UploadChunk {
    let content = EventId::new_random();
    UploadChunk {
        sha1: Sha1Checksum::from_bytes(content.as_bytes()[..].repeat(2)[..20].try_into().unwrap()),
        blob: BlobChecksum::of(content.as_bytes()),
        size: 16,
    }
}

fn file(path: &str, url: &str, kind: ArtifactKind, debug_id: Option<Uuid>) -> ArtifactFileRecord {
    ArtifactFileRecord {
        path: path.to_owned(),
        url: url.to_owned(),
        kind,
        debug_id,
        source_map: (kind == ArtifactKind::MinifiedSource).then(|| "app.js.map".to_owned()),
    }
}

fn bundle(
    org_id: OrgId,
    projects: &[ProjectId],
    release: Option<&str>,
    dist: Option<&str>,
    at: f64,
    debug_id: Uuid,
) -> ArtifactBundleRecord {
    let content = EventId::new_random();
    ArtifactBundleRecord {
        org_id,
        checksum: chunk().sha1,
        blob: BlobChecksum::of(content.as_bytes()),
        project_ids: projects.to_vec(),
        bundle_id: Some(Uuid::new_v4()),
        release: release.map(str::to_owned),
        dist: dist.map(str::to_owned),
        files: vec![
            file(
                "files/_/_/app.js",
                "~/static/app.js",
                ArtifactKind::MinifiedSource,
                Some(debug_id),
            ),
            file(
                "files/_/_/app.js.map",
                "~/static/app.js.map",
                ArtifactKind::SourceMap,
                Some(debug_id),
            ),
        ],
        date_uploaded: seconds(at),
    }
}

pub async fn upload_chunks_are_kept_per_organization(stores: &Stores) {
    let (org, _) = project(stores).await;
    let (other_org, _) = project(stores).await;
    let store = &stores.metadata;
    let (first, second, missing) = (chunk(), chunk(), chunk());
    store
        .put_upload_chunks(org, &[first, second], seconds(1_000.0))
        .await
        .unwrap();
    let mut found = store
        .upload_chunks(org, &[first.sha1, missing.sha1, second.sha1])
        .await
        .unwrap();
    found.sort_by_key(|chunk| chunk.sha1);
    let mut expected = vec![first, second];
    expected.sort_by_key(|chunk| chunk.sha1);
    assert_eq!(found, expected);
    assert!(
        store
            .upload_chunks(other_org, &[first.sha1])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.upload_chunks(org, &[]).await.unwrap().is_empty());
    // Uploading a chunk again makes it new: only the other one is old.
    store
        .put_upload_chunks(org, &[second], seconds(3_000.0))
        .await
        .unwrap();
    assert!(
        store
            .delete_upload_chunks_before(seconds(2_000.0))
            .await
            .unwrap()
            >= 1
    );
    assert_eq!(
        store
            .upload_chunks(org, &[first.sha1, second.sha1])
            .await
            .unwrap(),
        vec![second]
    );
}

pub async fn artifacts_are_found_by_debug_id(stores: &Stores) {
    let (org, project_id) = project(stores).await;
    let (_, other_project) = project(stores).await;
    let store = &stores.metadata;
    let debug_id = Uuid::new_v4();
    let older = bundle(org, &[project_id], None, None, 100.0, debug_id);
    let newer = bundle(org, &[project_id], None, None, 200.0, debug_id);
    assert!(store.put_artifact_bundle(&newer).await.unwrap());
    assert!(store.put_artifact_bundle(&older).await.unwrap());
    let lookup = |kind| ArtifactLookup::DebugId { debug_id, kind };
    let map = store
        .find_artifact(project_id, &lookup(ArtifactKind::SourceMap))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(map.bundle_blob, newer.blob, "the newest bundle wins");
    assert_eq!(map.file, newer.files[1]);
    let minified = store
        .find_artifact(project_id, &lookup(ArtifactKind::MinifiedSource))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(minified.file, newer.files[0]);
    assert_eq!(minified.file.source_map.as_deref(), Some("app.js.map"));
    assert_eq!(
        store
            .find_artifact(other_project, &lookup(ArtifactKind::SourceMap))
            .await
            .unwrap(),
        None
    );
    let unknown = ArtifactLookup::DebugId {
        debug_id: Uuid::new_v4(),
        kind: ArtifactKind::SourceMap,
    };
    assert_eq!(
        store.find_artifact(project_id, &unknown).await.unwrap(),
        None
    );
}

pub async fn artifacts_are_found_by_release_and_url(stores: &Stores) {
    let (org, project_id) = project(stores).await;
    let store = &stores.metadata;
    let plain = bundle(
        org,
        &[project_id],
        Some("web@1"),
        None,
        100.0,
        Uuid::new_v4(),
    );
    let with_dist = bundle(
        org,
        &[project_id],
        Some("web@1"),
        Some("ios"),
        100.0,
        Uuid::new_v4(),
    );
    for record in [&plain, &with_dist] {
        store.put_artifact_bundle(record).await.unwrap();
    }
    let lookup = |release: &str, dist: Option<&str>, urls: &[&str]| ArtifactLookup::Url {
        release: release.to_owned(),
        dist: dist.map(str::to_owned),
        urls: urls.iter().map(|url| (*url).to_owned()).collect(),
    };
    let urls = ["https://shop.example/static/app.js", "~/static/app.js"];
    let found = store
        .find_artifact(project_id, &lookup("web@1", None, &urls))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.bundle_blob, plain.blob);
    assert_eq!(found.file.kind, ArtifactKind::MinifiedSource);
    let found = store
        .find_artifact(project_id, &lookup("web@1", Some("ios"), &urls))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.bundle_blob, with_dist.blob);
    for (release, dist) in [("web@2", None), ("web@1", Some("android"))] {
        assert_eq!(
            store
                .find_artifact(project_id, &lookup(release, dist, &urls))
                .await
                .unwrap(),
            None
        );
    }
}

pub async fn a_bundle_uploaded_again_is_kept_once(stores: &Stores) {
    let (org, project_id) = project(stores).await;
    let (_, second_project) = project(stores).await;
    let store = &stores.metadata;
    let debug_id = Uuid::new_v4();
    let first = bundle(org, &[project_id], None, None, 100.0, debug_id);
    assert!(
        !store
            .has_artifact_bundle(org, &first.checksum)
            .await
            .unwrap()
    );
    assert!(store.put_artifact_bundle(&first).await.unwrap());
    assert!(
        store
            .has_artifact_bundle(org, &first.checksum)
            .await
            .unwrap()
    );
    // The same upload for another project adds the project, not a bundle.
    let again = ArtifactBundleRecord {
        project_ids: vec![second_project],
        ..first.clone()
    };
    assert!(!store.put_artifact_bundle(&again).await.unwrap());
    let lookup = ArtifactLookup::DebugId {
        debug_id,
        kind: ArtifactKind::SourceMap,
    };
    for project_id in [project_id, second_project] {
        let found = store.find_artifact(project_id, &lookup).await.unwrap();
        assert_eq!(found.map(|found| found.bundle_blob), Some(first.blob));
    }
}

pub async fn chunks_and_bundles_reference_their_blobs(stores: &Stores) {
    let (org, project_id) = project(stores).await;
    let store = &stores.metadata;
    let uploaded = chunk();
    store
        .put_upload_chunks(org, &[uploaded], seconds(1_000_000.0))
        .await
        .unwrap();
    let assembled = bundle(org, &[project_id], None, None, 100.0, Uuid::new_v4());
    store.put_artifact_bundle(&assembled).await.unwrap();
    let unreferenced = chunk().blob;
    let mut referenced = store
        .referenced_blobs(&[uploaded.blob, unreferenced, assembled.blob])
        .await
        .unwrap();
    referenced.sort();
    let mut expected = vec![uploaded.blob, assembled.blob];
    expected.sort();
    assert_eq!(referenced, expected);
}

fn debug_file(
    project_id: ProjectId,
    debug_id: &str,
    features: &[&str],
    at: f64,
) -> DebugFileRecord {
    let upload = chunk();
    DebugFileRecord {
        project_id,
        debug_id: debug_id.to_owned(),
        code_id: Some("2a448808b6f744defe0fea75248855057b7030b7".to_owned()),
        object_name: "crash".to_owned(),
        format: "elf".to_owned(),
        arch: "x86_64".to_owned(),
        kind: "lib".to_owned(),
        features: features
            .iter()
            .map(|feature| (*feature).to_owned())
            .collect(),
        checksum: upload.sha1,
        blob: upload.blob,
        size: 18_360,
        date_uploaded: seconds(at),
    }
}

pub async fn debug_files_are_found_by_debug_id_best_first(stores: &Stores) {
    let (_, project_id) = project(stores).await;
    let (_, other_project) = project(stores).await;
    let store = &stores.metadata;
    let debug_id = Uuid::new_v4().to_string();
    let symbols_only = debug_file(project_id, &debug_id, &["symtab"], 300.0);
    let with_debug_info = debug_file(project_id, &debug_id, &["symtab", "debug", "unwind"], 100.0);
    let older_debug_info = debug_file(project_id, &debug_id, &["debug"], 50.0);
    for file in [&symbols_only, &with_debug_info, &older_debug_info] {
        assert!(store.put_debug_file(file).await.unwrap());
    }
    assert!(
        !store.put_debug_file(&with_debug_info).await.unwrap(),
        "kept once"
    );
    let found = store.find_debug_file(project_id, &debug_id).await.unwrap();
    assert_eq!(found, Some(with_debug_info.clone()));
    assert_eq!(
        store
            .find_debug_file(other_project, &debug_id)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .debug_files_by_checksum(project_id, &symbols_only.checksum)
            .await
            .unwrap(),
        vec![symbols_only.clone()]
    );
    let referenced = store.referenced_blobs(&[symbols_only.blob]).await.unwrap();
    assert_eq!(referenced, vec![symbols_only.blob]);
}
