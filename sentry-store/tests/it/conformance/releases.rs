//! Behaviours of releases, deploys and environments.

use sentry_core::store::{
    MetadataStore, NewDeploy, Page, Release, ReleaseQuery, ReleaseUpdate, StoreErrorKind,
};
use sentry_core::{ProjectId, ReleaseId};

use super::{Stores, project, seconds, sibling};

fn listed(page: &Page<Release>) -> Vec<ReleaseId> {
    page.items.iter().map(|release| release.id).collect()
}

pub async fn releases_are_listed_newest_first_and_filtered(stores: &Stores) {
    let metadata = &stores.metadata;
    let (org_id, web) = project(stores).await;
    let api = sibling(stores, org_id, "api").await;
    let mut ids = Vec::new();
    for (version, projects) in [
        ("web@1.0.0", vec![web]),
        ("api@2.0.0", vec![api]),
        ("Web@3.0.0", vec![web, api]),
    ] {
        let release = metadata
            .ensure_release(org_id, version, &projects)
            .await
            .unwrap();
        ids.push(release.id);
    }
    let list = |project_ids: Vec<ProjectId>, query: Option<&str>, offset, limit| ReleaseQuery {
        org_id,
        project_ids,
        query: query.map(str::to_owned),
        offset,
        limit,
    };
    let all = metadata
        .releases(&ReleaseQuery::org(org_id, 10))
        .await
        .unwrap();
    assert_eq!(listed(&all), [ids[2], ids[1], ids[0]], "newest first");
    assert!(!all.has_more);
    assert_eq!(all.items[0].projects, {
        let mut both = vec![web, api];
        both.sort_unstable();
        both
    });
    let of_web = metadata
        .releases(&list(vec![web], None, 0, 10))
        .await
        .unwrap();
    assert_eq!(listed(&of_web), [ids[2], ids[0]], "only the web project's");
    let of_either = metadata
        .releases(&list(vec![web, api], None, 0, 10))
        .await
        .unwrap();
    assert_eq!(of_either.items.len(), 3);
    let matching = metadata
        .releases(&list(Vec::new(), Some("WEB@"), 0, 10))
        .await
        .unwrap();
    assert_eq!(
        listed(&matching),
        [ids[2], ids[0]],
        "version contains, any case"
    );
    let literal = metadata
        .releases(&list(Vec::new(), Some("%"), 0, 10))
        .await
        .unwrap();
    assert!(literal.items.is_empty(), "wildcards are literal");
    let first = metadata
        .releases(&list(Vec::new(), None, 0, 2))
        .await
        .unwrap();
    assert_eq!(listed(&first), [ids[2], ids[1]]);
    assert!(first.has_more);
    let second = metadata
        .releases(&list(Vec::new(), None, 2, 2))
        .await
        .unwrap();
    assert_eq!(listed(&second), [ids[0]]);
    assert!(!second.has_more);
    let (other_org_id, _) = project(stores).await;
    let elsewhere = metadata
        .releases(&ReleaseQuery::org(other_org_id, 10))
        .await
        .unwrap();
    assert!(
        elsewhere.items.is_empty(),
        "releases belong to their organization"
    );
}

pub async fn ensuring_a_release_links_projects_once(stores: &Stores) {
    let metadata = &stores.metadata;
    let (org_id, web) = project(stores).await;
    let api = sibling(stores, org_id, "api").await;
    let (_, foreign) = project(stores).await;
    let created = metadata
        .ensure_release(org_id, "1.0", &[web, foreign])
        .await
        .unwrap();
    assert_eq!(created.version, "1.0");
    assert_eq!(
        created.projects,
        [web],
        "another organization's project is left out"
    );
    assert_eq!(
        (created.reference.as_deref(), created.date_released),
        (None, None)
    );
    let again = metadata
        .ensure_release(org_id, "1.0", &[api, web])
        .await
        .unwrap();
    assert_eq!(again.id, created.id);
    assert_eq!(again.date_created, created.date_created);
    let mut both = vec![web, api];
    both.sort_unstable();
    assert_eq!(again.projects, both);
    assert_eq!(
        metadata.release_by_version(org_id, "1.0").await.unwrap(),
        Some(again.clone())
    );
    assert_eq!(
        metadata.release_by_version(org_id, "2.0").await.unwrap(),
        None
    );

    let finalized = metadata
        .update_release(
            org_id,
            "1.0",
            &ReleaseUpdate {
                reference: Some("6ba09a7c53235ee8a8fa5ee4c1ca8ca886e7fdbb".to_owned()),
                url: Some("https://example.com/1.0".to_owned()),
                date_released: Some(seconds(2000.0)),
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(finalized.date_released, Some(seconds(2000.0)));
    assert_eq!(finalized.url.as_deref(), Some("https://example.com/1.0"));
    let kept = metadata
        .update_release(
            org_id,
            "1.0",
            &ReleaseUpdate {
                url: Some("https://example.com/v1".to_owned()),
                ..ReleaseUpdate::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.url.as_deref(), Some("https://example.com/v1"));
    assert_eq!(
        kept.reference, finalized.reference,
        "an absent field is kept"
    );
    assert_eq!(kept.date_released, finalized.date_released);
    assert_eq!(
        metadata
            .update_release(org_id, "9.9", &ReleaseUpdate::default())
            .await
            .unwrap(),
        None
    );
}

pub async fn deploys_are_listed_and_deleted_with_their_release(stores: &Stores) {
    let metadata = &stores.metadata;
    let (org_id, project_id) = project(stores).await;
    let release = metadata
        .ensure_release(org_id, "2.0", &[project_id])
        .await
        .unwrap();
    let deploy = |environment: &str, finished: f64| NewDeploy {
        environment: environment.to_owned(),
        name: Some(format!("deploy to {environment}")),
        url: None,
        date_started: Some(seconds(finished - 60.0)),
        date_finished: seconds(finished),
    };
    let staging = metadata
        .create_deploy(release.id, &deploy("staging", 100.0))
        .await
        .unwrap();
    let production = metadata
        .create_deploy(release.id, &deploy("production", 200.0))
        .await
        .unwrap();
    assert_eq!(production.release_id, release.id);
    assert_eq!(production.date_started, Some(seconds(140.0)));
    assert_eq!(
        metadata.deploys(release.id).await.unwrap(),
        [production, staging],
        "most recently finished first"
    );
    assert!(metadata.delete_release(org_id, "2.0").await.unwrap());
    assert!(!metadata.delete_release(org_id, "2.0").await.unwrap());
    assert_eq!(
        metadata.release_by_version(org_id, "2.0").await.unwrap(),
        None
    );
    assert!(metadata.deploys(release.id).await.unwrap().is_empty());
    let orphan = metadata
        .create_deploy(release.id, &deploy("production", 300.0))
        .await
        .unwrap_err();
    assert_eq!(
        orphan.kind(),
        StoreErrorKind::Conflict,
        "a deploy needs its release"
    );
    let recreated = metadata
        .ensure_release(org_id, "2.0", &[project_id])
        .await
        .unwrap();
    assert_eq!(recreated.projects, [project_id]);
}

pub async fn environments_are_recorded_once(stores: &Stores) {
    let metadata = &stores.metadata;
    let (org_id, web) = project(stores).await;
    let api = sibling(stores, org_id, "aaa-api").await;
    let production = metadata
        .ensure_environment(web, "production")
        .await
        .unwrap();
    assert_eq!(
        (production.project_id, production.name.as_str()),
        (web, "production")
    );
    let again = metadata
        .ensure_environment(web, "production")
        .await
        .unwrap();
    assert_eq!(again, production, "first seen stays");
    let staging = metadata.ensure_environment(web, "staging").await.unwrap();
    let api_production = metadata
        .ensure_environment(api, "production")
        .await
        .unwrap();
    assert_eq!(
        metadata.project_environments(web).await.unwrap(),
        [production.clone(), staging.clone()],
        "by name"
    );
    let mut by_project = vec![production, api_production];
    by_project.sort_by_key(|environment| environment.project_id);
    by_project.push(staging);
    assert_eq!(
        metadata.org_environments(org_id).await.unwrap(),
        by_project,
        "by name, then project"
    );
    let missing = metadata
        .ensure_environment(ProjectId(i64::MAX as u64), "production")
        .await
        .unwrap_err();
    assert_eq!(
        missing.kind(),
        StoreErrorKind::Conflict,
        "an environment needs its project"
    );
}
