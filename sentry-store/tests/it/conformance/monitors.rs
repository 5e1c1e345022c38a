//! Behaviours of cron monitors and their check-ins.

use sentry_core::store::{
    CheckIn, CheckInStatus, CheckInUpdate, MetadataStore, Monitor, MonitorSettings, MonitorStatus,
    StoreErrorKind,
};
use sentry_core::{CheckInId, MonitorId, ProjectId};

use super::{Stores, project, seconds, sibling};

fn settings(name: &str, status: MonitorStatus) -> MonitorSettings {
    MonitorSettings {
        name: name.to_owned(),
        config: r#"{"schedule":{"type":"crontab","value":"0 * * * *"},"checkin_margin":5}"#
            .to_owned(),
        status,
    }
}

async fn monitor(stores: &Stores, project_id: ProjectId, slug: &str) -> Monitor {
    let metadata = &stores.metadata;
    metadata
        .upsert_monitor(project_id, slug, &settings(slug, MonitorStatus::Active))
        .await
        .unwrap()
}

fn checkin(monitor_id: MonitorId, status: CheckInStatus, opened: f64) -> CheckIn {
    CheckIn {
        id: CheckInId::new_random(),
        monitor_id,
        status,
        duration_ms: None,
        environment: Some("production".to_owned()),
        date_created: seconds(opened),
        date_updated: seconds(opened),
    }
}

pub async fn monitors_are_upserted_by_slug(stores: &Stores) {
    let metadata = &stores.metadata;
    let (org_id, project_id) = project(stores).await;
    let nightly = monitor(stores, project_id, "nightly").await;
    assert_eq!(nightly.status, MonitorStatus::Active);
    assert_eq!(
        (nightly.next_checkin_at, nightly.last_checkin_at),
        (None, None)
    );
    assert!(
        metadata
            .update_monitor_checkins(nightly.id, Some(seconds(100.0)), Some(seconds(3700.0)))
            .await
            .unwrap()
    );
    let changed = MonitorSettings {
        config: r#"{"schedule":"@daily"}"#.to_owned(),
        ..settings("Nightly job", MonitorStatus::Disabled)
    };
    let updated = metadata
        .upsert_monitor(project_id, "nightly", &changed)
        .await
        .unwrap();
    assert_eq!(updated.id, nightly.id);
    assert_eq!(
        (
            updated.name.as_str(),
            updated.config.as_str(),
            updated.status
        ),
        (
            "Nightly job",
            r#"{"schedule":"@daily"}"#,
            MonitorStatus::Disabled
        )
    );
    assert_eq!(updated.date_created, nightly.date_created);
    assert_eq!(
        updated.last_checkin_at,
        Some(seconds(100.0)),
        "check-in times are kept"
    );
    assert_eq!(updated.next_checkin_at, Some(seconds(3700.0)));
    assert_eq!(
        metadata
            .monitor_by_slug(project_id, "nightly")
            .await
            .unwrap(),
        Some(updated.clone())
    );
    assert_eq!(
        metadata.monitor(nightly.id).await.unwrap(),
        Some(updated.clone())
    );
    assert_eq!(
        metadata.monitor_by_slug(project_id, "nope").await.unwrap(),
        None
    );

    let hourly = monitor(stores, project_id, "hourly").await;
    let api = sibling(stores, org_id, "api").await;
    let on_api = monitor(stores, api, "hourly").await;
    assert_ne!(on_api.id, hourly.id, "slugs are unique per project");
    assert_eq!(
        metadata.project_monitors(project_id).await.unwrap(),
        [hourly.clone(), updated.clone()],
        "by slug"
    );
    let mut hourlies = vec![hourly, on_api];
    hourlies.sort_by_key(|monitor| monitor.project_id);
    hourlies.push(updated);
    assert_eq!(metadata.org_monitors(org_id).await.unwrap(), hourlies);

    // `None` keeps the last check-in time and clears the next.
    assert!(
        metadata
            .update_monitor_checkins(nightly.id, None, None)
            .await
            .unwrap()
    );
    let cleared = metadata.monitor(nightly.id).await.unwrap().unwrap();
    assert_eq!(cleared.last_checkin_at, Some(seconds(100.0)));
    assert_eq!(cleared.next_checkin_at, None);
    assert!(
        !metadata
            .update_monitor_checkins(MonitorId(i64::MAX), None, None)
            .await
            .unwrap()
    );
    let missing = metadata
        .upsert_monitor(
            ProjectId(i64::MAX as u64),
            "x",
            &settings("x", MonitorStatus::Active),
        )
        .await
        .unwrap_err();
    assert_eq!(
        missing.kind(),
        StoreErrorKind::Conflict,
        "a monitor needs its project"
    );
}

pub async fn checkins_open_and_close(stores: &Stores) {
    let metadata = &stores.metadata;
    let (_, project_id) = project(stores).await;
    let job = monitor(stores, project_id, "job").await;
    let other = monitor(stores, project_id, "other").await;
    let first = checkin(job.id, CheckInStatus::Ok, 10.0);
    let running = checkin(job.id, CheckInStatus::InProgress, 20.0);
    metadata.insert_checkin(&first).await.unwrap();
    metadata.insert_checkin(&running).await.unwrap();
    let again = metadata.insert_checkin(&running).await.unwrap_err();
    assert_eq!(again.kind(), StoreErrorKind::Conflict);

    let close = CheckInUpdate {
        status: CheckInStatus::Ok,
        duration_ms: Some(1500),
        date_updated: seconds(21.5),
    };
    assert_eq!(
        metadata
            .update_checkin(other.id, running.id, &close)
            .await
            .unwrap(),
        None,
        "a check-in is changed through its own monitor only"
    );
    let closed = metadata
        .update_checkin(job.id, running.id, &close)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(closed.status, CheckInStatus::Ok);
    assert_eq!(closed.duration_ms, Some(1500));
    assert_eq!(closed.date_created, seconds(20.0));
    assert_eq!(closed.date_updated, seconds(21.5));
    assert_eq!(closed.environment.as_deref(), Some("production"));
    let late = CheckInUpdate {
        status: CheckInStatus::Timeout,
        duration_ms: None,
        date_updated: seconds(30.0),
    };
    let timed_out = metadata
        .update_checkin(job.id, running.id, &late)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        timed_out.duration_ms,
        Some(1500),
        "no duration keeps the stored one"
    );
    assert_eq!(
        metadata
            .update_checkin(job.id, CheckInId::new_random(), &close)
            .await
            .unwrap(),
        None
    );

    let newest = checkin(job.id, CheckInStatus::Error, 30.0);
    metadata.insert_checkin(&newest).await.unwrap();
    let latest = metadata.monitor_checkins(job.id, 2).await.unwrap();
    assert_eq!(
        latest,
        [newest, timed_out],
        "newest first, at most the limit"
    );
    assert_eq!(
        metadata.monitor_checkins(job.id, 10).await.unwrap().len(),
        3
    );
    assert!(
        metadata
            .monitor_checkins(other.id, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn active_monitors_come_due(stores: &Stores) {
    let metadata = &stores.metadata;
    let (_, project_id) = project(stores).await;
    let overdue = monitor(stores, project_id, "overdue").await;
    let later = monitor(stores, project_id, "later").await;
    let paused = metadata
        .upsert_monitor(
            project_id,
            "paused",
            &settings("paused", MonitorStatus::Disabled),
        )
        .await
        .unwrap();
    let unscheduled = monitor(stores, project_id, "unscheduled").await;
    let due_at = [
        (overdue.id, 100.0),
        (later.id, 10_000.0),
        (paused.id, 100.0),
    ];
    for (id, at) in due_at {
        metadata
            .update_monitor_checkins(id, None, Some(seconds(at)))
            .await
            .unwrap();
    }
    let due = metadata.monitors_due(seconds(5000.0)).await.unwrap();
    let due: Vec<MonitorId> = due.iter().map(|monitor| monitor.id).collect();
    assert!(due.contains(&overdue.id));
    assert!(!due.contains(&later.id), "not due yet");
    assert!(!due.contains(&paused.id), "disabled");
    assert!(!due.contains(&unscheduled.id), "nothing expected");
}

pub async fn runs_in_progress_are_listed_for_active_monitors(stores: &Stores) {
    let metadata = &stores.metadata;
    let (_, project_id) = project(stores).await;
    let job = monitor(stores, project_id, "running").await;
    let paused = metadata
        .upsert_monitor(
            project_id,
            "paused-running",
            &settings("paused-running", MonitorStatus::Disabled),
        )
        .await
        .unwrap();
    let running = checkin(job.id, CheckInStatus::InProgress, 20.0);
    let older = checkin(job.id, CheckInStatus::InProgress, 10.0);
    for checkin in [
        &running,
        &older,
        &checkin(job.id, CheckInStatus::Ok, 5.0),
        &checkin(paused.id, CheckInStatus::InProgress, 5.0),
    ] {
        metadata.insert_checkin(checkin).await.unwrap();
    }
    // Other tests' monitors share the database: look at this test's only.
    let ours: Vec<CheckIn> = metadata
        .checkins_in_progress(10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|checkin| checkin.monitor_id == job.id || checkin.monitor_id == paused.id)
        .collect();
    assert_eq!(
        ours,
        [older, running],
        "in progress, of active monitors, oldest first"
    );
    assert_eq!(metadata.checkins_in_progress(1).await.unwrap().len(), 1);
}

pub async fn deleting_a_monitor_deletes_its_checkins(stores: &Stores) {
    let metadata = &stores.metadata;
    let (_, project_id) = project(stores).await;
    let job = monitor(stores, project_id, "job").await;
    let run = checkin(job.id, CheckInStatus::Ok, 1.0);
    metadata.insert_checkin(&run).await.unwrap();
    assert!(metadata.delete_monitor(job.id).await.unwrap());
    assert!(!metadata.delete_monitor(job.id).await.unwrap());
    assert_eq!(metadata.monitor(job.id).await.unwrap(), None);
    assert!(
        metadata
            .monitor_checkins(job.id, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let orphan = metadata.insert_checkin(&run).await.unwrap_err();
    assert_eq!(
        orphan.kind(),
        StoreErrorKind::Conflict,
        "a check-in needs its monitor"
    );
    let recreated = monitor(stores, project_id, "job").await;
    assert!(
        metadata
            .monitor_checkins(recreated.id, 10)
            .await
            .unwrap()
            .is_empty()
    );
}
