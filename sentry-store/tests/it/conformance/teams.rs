//! Behaviours of teams and the projects they own.

use sentry_core::TeamId;
use sentry_core::store::{MetadataStore, StoreErrorKind};

use super::{Stores, project, sibling};

pub async fn team_slugs_are_unique_per_organization(stores: &Stores) {
    let metadata = &stores.metadata;
    let (org_id, _) = project(stores).await;
    let (other_org_id, _) = project(stores).await;
    let backend = metadata
        .create_team(org_id, "backend", "Backend")
        .await
        .unwrap();
    assert_eq!(
        (backend.slug.as_str(), backend.name.as_str()),
        ("backend", "Backend")
    );
    let duplicate = metadata
        .create_team(org_id, "backend", "Another")
        .await
        .unwrap_err();
    assert_eq!(duplicate.kind(), StoreErrorKind::Conflict);
    let elsewhere = metadata
        .create_team(other_org_id, "backend", "Backend")
        .await
        .unwrap();
    assert_ne!(
        elsewhere.id, backend.id,
        "another organization may use the slug"
    );
    let frontend = metadata
        .create_team(org_id, "frontend", "Frontend")
        .await
        .unwrap();
    let alpha = metadata
        .create_team(org_id, "alpha", "Alpha")
        .await
        .unwrap();
    assert_eq!(
        metadata.teams(org_id).await.unwrap(),
        [alpha, backend.clone(), frontend],
        "by slug"
    );
    assert_eq!(
        metadata.team_by_slug(org_id, "backend").await.unwrap(),
        Some(backend)
    );
    assert_eq!(metadata.team_by_slug(org_id, "nope").await.unwrap(), None);
}

pub async fn projects_belong_to_teams(stores: &Stores) {
    let metadata = &stores.metadata;
    let (org_id, project_id) = project(stores).await;
    let second = sibling(stores, org_id, "aaa-second").await;
    let team = metadata
        .create_team(org_id, "owners", "Owners")
        .await
        .unwrap();
    let other_team = metadata
        .create_team(org_id, "others", "Others")
        .await
        .unwrap();
    assert!(metadata.project_teams(project_id).await.unwrap().is_empty());
    assert!(
        metadata
            .add_project_team(project_id, team.id)
            .await
            .unwrap()
    );
    assert!(
        metadata
            .add_project_team(project_id, team.id)
            .await
            .unwrap(),
        "adding again changes nothing"
    );
    assert!(
        metadata
            .add_project_team(project_id, other_team.id)
            .await
            .unwrap()
    );
    assert!(metadata.add_project_team(second, team.id).await.unwrap());
    assert_eq!(
        metadata.project_teams(project_id).await.unwrap(),
        [other_team.clone(), team.clone()],
        "by slug"
    );
    let projects = metadata.team_projects(team.id).await.unwrap();
    let ids: Vec<_> = projects.iter().map(|project| project.id).collect();
    assert_eq!(ids, [second, project_id], "by slug");

    // A team of another organization, or a missing one, cannot take the project.
    let (other_org_id, _) = project(stores).await;
    let foreign = metadata
        .create_team(other_org_id, "owners", "Owners")
        .await
        .unwrap();
    assert!(
        !metadata
            .add_project_team(project_id, foreign.id)
            .await
            .unwrap()
    );
    assert!(
        !metadata
            .add_project_team(project_id, TeamId(i64::MAX))
            .await
            .unwrap()
    );
    assert_eq!(metadata.project_teams(project_id).await.unwrap().len(), 2);

    assert!(
        metadata
            .remove_project_team(project_id, other_team.id)
            .await
            .unwrap()
    );
    assert!(
        !metadata
            .remove_project_team(project_id, other_team.id)
            .await
            .unwrap()
    );
    assert_eq!(metadata.project_teams(project_id).await.unwrap(), [team]);
    assert!(metadata.team_projects(foreign.id).await.unwrap().is_empty());
}
