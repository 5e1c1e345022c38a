//! Behaviours of issue triage and search in the metadata store:
//! regressions, ignores that run out, deletion, filters by range and
//! orders, and project updates.

use sentry_core::protocol::Timestamp;
use sentry_core::store::{
    CountRange, IssueChange, IssueEvent, IssueQuery, IssueSort, IssueStatus, IssueStatusChange,
    IssueSubstatus, MetadataStore, ProjectUpdate, StatusDetails, StoreErrorKind, TimeRange,
};
use sentry_core::{IssueId, ProjectId};

use super::{Stores, issue_event, project, seconds, unique};

fn ignored(details: StatusDetails) -> IssueStatusChange {
    IssueStatusChange {
        status: IssueStatus::Ignored,
        substatus: Some(IssueSubstatus::ArchivedUntilConditionMet),
        details,
    }
}

async fn record(stores: &Stores, event: &IssueEvent) -> sentry_core::store::Issue {
    stores
        .metadata
        .record_issue_event(event)
        .await
        .unwrap()
        .issue
}

pub async fn a_resolved_issue_regresses_on_a_new_event(stores: &Stores) {
    let (_, project_id) = project(stores).await;
    let file = |seconds| issue_event(project_id, "r", seconds, None);
    let first = stores
        .metadata
        .record_issue_event(&file(1.0))
        .await
        .unwrap();
    assert_eq!(first.change, IssueChange::Created);
    let issue = first.issue;
    stores
        .metadata
        .set_issue_status(issue.id, &IssueStatusChange::to(IssueStatus::Resolved))
        .await
        .unwrap();
    let regressed = stores
        .metadata
        .record_issue_event(&file(2.0))
        .await
        .unwrap();
    assert_eq!(
        regressed.change,
        IssueChange::Reopened(IssueSubstatus::Regressed),
        "the event that reopens the issue says so"
    );
    let again = regressed.issue;
    assert_eq!(again.status, IssueStatus::Unresolved);
    assert_eq!(again.substatus, Some(IssueSubstatus::Regressed));
    assert_eq!(stores.metadata.issue(issue.id).await.unwrap(), Some(again));
    let later = stores
        .metadata
        .record_issue_event(&file(3.0))
        .await
        .unwrap();
    assert_eq!(
        later.change,
        IssueChange::Counted,
        "only the first event reopens"
    );
}

pub async fn resolved_in_next_release_keeps_events_of_the_current_one(stores: &Stores) {
    let (_, project_id) = project(stores).await;
    let of_release = |seconds: f64, release: &str| IssueEvent {
        release: Some(release.to_owned()),
        ..issue_event(project_id, "n", seconds, None)
    };
    let issue = record(stores, &of_release(1.0, "1.0")).await;
    let change = IssueStatusChange {
        status: IssueStatus::Resolved,
        substatus: None,
        details: StatusDetails {
            resolved_in_release: Some("1.0".to_owned()),
            ..StatusDetails::default()
        },
    };
    let resolved = stores
        .metadata
        .set_issue_status(issue.id, &change)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(resolved.status_details, change.details);
    let same = record(stores, &of_release(2.0, "1.0")).await;
    assert_eq!(same.status, IssueStatus::Resolved);
    assert_eq!(same.times_seen, 2);
    let next = record(stores, &of_release(3.0, "1.1")).await;
    assert_eq!(next.status, IssueStatus::Unresolved);
    assert_eq!(next.substatus, Some(IssueSubstatus::Regressed));
    assert_eq!(next.status_details, StatusDetails::default());
}

pub async fn ignore_until_a_count_ends_at_the_count(stores: &Stores) {
    let (_, project_id) = project(stores).await;
    let issue = record(stores, &issue_event(project_id, "c", 1.0, None)).await;
    let details = StatusDetails {
        ignore_until_times_seen: Some(3),
        ..StatusDetails::default()
    };
    stores
        .metadata
        .set_issue_status(issue.id, &ignored(details))
        .await
        .unwrap();
    let second = record(stores, &issue_event(project_id, "c", 2.0, None)).await;
    assert_eq!(second.status, IssueStatus::Ignored);
    assert_eq!(second.status_details.ignore_until_times_seen, Some(3));
    let third = record(stores, &issue_event(project_id, "c", 3.0, None)).await;
    assert_eq!(third.status, IssueStatus::Unresolved);
    assert_eq!(third.substatus, Some(IssueSubstatus::Escalating));
}

pub async fn ignore_until_a_user_count_ends_at_the_count(stores: &Stores) {
    let (_, project_id) = project(stores).await;
    let issue = record(stores, &issue_event(project_id, "u", 1.0, Some("a"))).await;
    let details = StatusDetails {
        ignore_until_user_count: Some(2),
        ..StatusDetails::default()
    };
    stores
        .metadata
        .set_issue_status(issue.id, &ignored(details))
        .await
        .unwrap();
    let same_user = record(stores, &issue_event(project_id, "u", 2.0, Some("a"))).await;
    assert_eq!(same_user.status, IssueStatus::Ignored);
    let new_user = record(stores, &issue_event(project_id, "u", 3.0, Some("b"))).await;
    assert_eq!(new_user.status, IssueStatus::Unresolved);
}

pub async fn ignore_for_a_while_ends_by_event_or_by_time(stores: &Stores) {
    // Tests share databases and any of them may run `unignore_expired`
    // with the current time: the ignore that must hold ends in 2096.
    let until = |at: f64| StatusDetails {
        ignore_until: Some(seconds(at)),
        ..StatusDetails::default()
    };
    let (_, project_id) = project(stores).await;
    let by_event = record(stores, &issue_event(project_id, "t1", 1.0, None)).await;
    stores
        .metadata
        .set_issue_status(by_event.id, &ignored(until(4_000_000_000.0)))
        .await
        .unwrap();
    let received_at = |at: f64| IssueEvent {
        received: seconds(at),
        ..issue_event(project_id, "t1", 2.0, None)
    };
    assert_eq!(
        record(stores, &received_at(3_999_999_999.0)).await.status,
        IssueStatus::Ignored
    );
    let after = record(stores, &received_at(4_000_000_000.0)).await;
    assert_eq!(after.status, IssueStatus::Unresolved);
    assert_eq!(after.substatus, Some(IssueSubstatus::Escalating));

    // Without events, `unignore_expired` ends an ignore whose time has come.
    let by_time = record(stores, &issue_event(project_id, "t2", 1.0, None)).await;
    let forever = record(stores, &issue_event(project_id, "t3", 1.0, None)).await;
    stores
        .metadata
        .set_issue_status(by_time.id, &ignored(until(1_000.0)))
        .await
        .unwrap();
    stores
        .metadata
        .set_issue_status(forever.id, &IssueStatusChange::to(IssueStatus::Ignored))
        .await
        .unwrap();
    let ended = stores
        .metadata
        .unignore_expired(Timestamp::now())
        .await
        .unwrap();
    // Other tests' issues may end as well.
    assert!(ended >= 1, "{ended}");
    let expired = stores.metadata.issue(by_time.id).await.unwrap().unwrap();
    assert_eq!(expired.status, IssueStatus::Unresolved);
    assert_eq!(expired.substatus, Some(IssueSubstatus::Escalating));
    assert_eq!(expired.status_details.ignore_until, None);
    let kept = stores.metadata.issue(forever.id).await.unwrap().unwrap();
    assert_eq!(kept.status, IssueStatus::Ignored);
    assert_eq!(kept.substatus, Some(IssueSubstatus::ArchivedForever));
}

pub async fn deleted_issues_are_gone_and_their_hashes_free(stores: &Stores) {
    let (_, project_id) = project(stores).await;
    use sentry_core::store::{UserReport, UserReportQuery, UserReportStore};

    let gone = record(stores, &issue_event(project_id, "d1", 1.0, None)).await;
    let kept = record(stores, &issue_event(project_id, "d2", 1.0, None)).await;
    let report = |issue_id| UserReport {
        id: sentry_core::EventId::new_random(),
        project_id,
        event_id: None,
        issue_id: Some(issue_id),
        name: String::new(),
        email: String::new(),
        comments: "broken".to_owned(),
        environment: None,
        date_created: seconds(1.0),
    };
    let kept_report = report(kept.id);
    stores
        .metadata
        .upsert_user_report(&report(gone.id))
        .await
        .unwrap();
    stores
        .metadata
        .upsert_user_report(&kept_report)
        .await
        .unwrap();
    let deleted = stores
        .metadata
        .delete_issues(&[gone.id, IssueId(i64::MAX)])
        .await
        .unwrap();
    assert_eq!(deleted, 1);
    assert_eq!(stores.metadata.issue(gone.id).await.unwrap(), None);
    assert!(stores.metadata.issue(kept.id).await.unwrap().is_some());
    let reports = stores
        .metadata
        .user_reports(&UserReportQuery {
            project_id,
            issue_id: None,
            before: None,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(
        reports,
        [kept_report],
        "the deleted issue's reports go with it"
    );
    // The hash now makes a new issue.
    let again = record(stores, &issue_event(project_id, "d1", 2.0, None)).await;
    assert_ne!(again.id, gone.id);
    assert_eq!(again.times_seen, 1);
}

/// Issues seen at 10 (1 event), 20 (3 events, 2 users) and 30 (2 events);
/// first seen at 10, 5 and 15.
async fn three_issues(stores: &Stores) -> (ProjectId, [IssueId; 3]) {
    let (_, project_id) = project(stores).await;
    let a = record(stores, &issue_event(project_id, "a", 10.0, None)).await;
    record(stores, &issue_event(project_id, "b", 5.0, Some("u1"))).await;
    record(stores, &issue_event(project_id, "b", 6.0, Some("u2"))).await;
    let b = record(stores, &issue_event(project_id, "b", 20.0, None)).await;
    record(stores, &issue_event(project_id, "c", 15.0, None)).await;
    let c = record(stores, &issue_event(project_id, "c", 30.0, None)).await;
    (project_id, [a.id, b.id, c.id])
}

async fn listed(stores: &Stores, query: IssueQuery) -> Vec<IssueId> {
    let page = stores.metadata.list_issues(&query).await.unwrap();
    page.items.iter().map(|issue| issue.id).collect()
}

pub async fn issues_sort_by_each_order(stores: &Stores) {
    let (project_id, [a, b, c]) = three_issues(stores).await;
    let sorted = |sort| IssueQuery {
        project_ids: vec![project_id],
        sort,
        limit: 10,
        ..IssueQuery::default()
    };
    assert_eq!(listed(stores, sorted(IssueSort::LastSeen)).await, [c, b, a]);
    assert_eq!(
        listed(stores, sorted(IssueSort::FirstSeen)).await,
        [c, a, b]
    );
    assert_eq!(
        listed(stores, sorted(IssueSort::TimesSeen)).await,
        [b, c, a]
    );
    assert_eq!(listed(stores, sorted(IssueSort::UserCount)).await[0], b);
}

pub async fn issues_filter_by_seen_times_and_counts(stores: &Stores) {
    let (project_id, [a, b, c]) = three_issues(stores).await;
    let base = IssueQuery {
        project_ids: vec![project_id],
        limit: 10,
        ..IssueQuery::default()
    };
    let last_seen = IssueQuery {
        last_seen: TimeRange {
            start: Some(seconds(20.0)),
            end: None,
        },
        ..base.clone()
    };
    assert_eq!(listed(stores, last_seen).await, [c, b]);
    let first_seen = IssueQuery {
        first_seen: TimeRange {
            start: Some(seconds(6.0)),
            end: Some(seconds(10.0)),
        },
        ..base.clone()
    };
    assert_eq!(listed(stores, first_seen).await, [a]);
    let at_least_two = IssueQuery {
        times_seen: CountRange {
            min: Some(2),
            max: None,
        },
        ..base.clone()
    };
    assert_eq!(listed(stores, at_least_two).await, [c, b]);
    let exactly_one = IssueQuery {
        times_seen: CountRange {
            min: Some(1),
            max: Some(1),
        },
        ..base
    };
    assert_eq!(listed(stores, exactly_one).await, [a]);
}

pub async fn projects_are_renamed_and_slugs_stay_unique(stores: &Stores) {
    let (org_id, project_id) = project(stores).await;
    let other_slug = unique("other");
    stores
        .metadata
        .ensure_project(org_id, &other_slug)
        .await
        .unwrap();
    let new_slug = unique("renamed");
    let update = ProjectUpdate {
        name: Some("Renamed".to_owned()),
        slug: Some(new_slug.clone()),
        platform: Some(Some("python".to_owned())),
    };
    let renamed = stores
        .metadata
        .update_project(project_id, &update)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(renamed.name, "Renamed");
    assert_eq!(renamed.slug, new_slug);
    assert_eq!(renamed.platform.as_deref(), Some("python"));
    let cleared = stores
        .metadata
        .update_project(
            project_id,
            &ProjectUpdate {
                platform: Some(None),
                ..ProjectUpdate::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cleared.platform, None);
    assert_eq!(cleared.name, "Renamed", "a field not given stays");
    let taken = ProjectUpdate {
        slug: Some(other_slug),
        ..ProjectUpdate::default()
    };
    let error = stores
        .metadata
        .update_project(project_id, &taken)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), StoreErrorKind::Conflict);
    assert_eq!(
        stores
            .metadata
            .update_project(ProjectId(u64::MAX), &update)
            .await
            .unwrap(),
        None
    );
}

pub async fn a_deleted_project_takes_its_records_along(stores: &Stores) {
    use sentry_core::store::{
        AlertRuleSettings, CheckIn, CheckInStatus, KeyRecord, MonitorSettings, MonitorStatus,
        RawItem, RawItemStore, UserReport, UserReportQuery, UserReportStore,
    };
    use sentry_core::{CheckInId, ProjectKey};

    let metadata = &stores.metadata;
    let (org_id, project_id) = project(stores).await;
    let kept_project = metadata
        .ensure_project(org_id, &unique("kept"))
        .await
        .unwrap()
        .id;
    let key = KeyRecord {
        public_key: ProjectKey::from_random_bytes(
            *sentry_core::EventId::new_random().as_uuid().as_bytes(),
        ),
        project_id,
        label: "Default".to_owned(),
        is_active: true,
        date_created: Timestamp::now(),
    };
    metadata.insert_key(&key).await.unwrap();
    metadata
        .set_project_option(project_id, "retentionDays", Some("30"))
        .await
        .unwrap();
    let issue = record(stores, &issue_event(project_id, "gone", 1.0, Some("u"))).await;
    let kept_issue = record(stores, &issue_event(kept_project, "gone", 1.0, None)).await;
    let team = metadata
        .create_team(org_id, &unique("team"), "Team")
        .await
        .unwrap();
    metadata
        .add_project_team(project_id, team.id)
        .await
        .unwrap();
    metadata
        .ensure_release(org_id, "1.0", &[project_id, kept_project])
        .await
        .unwrap();
    metadata
        .ensure_environment(project_id, "prod")
        .await
        .unwrap();
    let monitor = metadata
        .upsert_monitor(
            project_id,
            "nightly",
            &MonitorSettings {
                name: "nightly".to_owned(),
                config: "{}".to_owned(),
                status: MonitorStatus::Active,
            },
        )
        .await
        .unwrap();
    metadata
        .insert_checkin(&CheckIn {
            id: CheckInId::new_random(),
            monitor_id: monitor.id,
            status: CheckInStatus::Ok,
            duration_ms: None,
            environment: None,
            date_created: seconds(1.0),
            date_updated: seconds(1.0),
        })
        .await
        .unwrap();
    metadata
        .create_alert_rule(
            project_id,
            &AlertRuleSettings {
                name: "rule".to_owned(),
                config: "{}".to_owned(),
                enabled: true,
            },
        )
        .await
        .unwrap();

    let report = UserReport {
        id: sentry_core::EventId::new_random(),
        project_id,
        event_id: None,
        issue_id: Some(issue.id),
        name: String::new(),
        email: String::new(),
        comments: "broken".to_owned(),
        environment: None,
        date_created: seconds(1.0),
    };
    metadata.upsert_user_report(&report).await.unwrap();
    let raw = RawItem {
        project_id,
        item_type: "log".to_owned(),
        received: seconds(1.0),
        headers: "{}".to_owned(),
        payload: b"x".to_vec(),
    };
    metadata.insert_raw_items(&[raw]).await.unwrap();

    assert!(metadata.delete_project(project_id).await.unwrap());
    assert_eq!(metadata.project(project_id).await.unwrap(), None);
    let reports = metadata
        .user_reports(&UserReportQuery {
            project_id,
            issue_id: None,
            before: None,
            limit: 10,
        })
        .await
        .unwrap();
    assert!(reports.is_empty(), "{reports:?}");
    let items = metadata
        .raw_items(project_id, "log", seconds(0.0), 10)
        .await
        .unwrap();
    assert!(items.is_empty());
    assert_eq!(metadata.key(&key.public_key).await.unwrap(), None);
    assert_eq!(metadata.issue(issue.id).await.unwrap(), None);
    assert!(metadata.team_projects(team.id).await.unwrap().is_empty());
    assert!(metadata.monitor(monitor.id).await.unwrap().is_none());
    assert!(metadata.alert_rules(project_id).await.unwrap().is_empty());
    let release = metadata
        .release_by_version(org_id, "1.0")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(release.projects, [kept_project]);
    assert!(metadata.issue(kept_issue.id).await.unwrap().is_some());
    assert!(!metadata.delete_project(project_id).await.unwrap());
    assert!(!metadata.delete_project(ProjectId(u64::MAX)).await.unwrap());
    // Events spooled before the deletion have no project to go to.
    let late = metadata
        .record_issue_event(&issue_event(project_id, "late", 2.0, None))
        .await
        .unwrap_err();
    assert_eq!(late.kind(), StoreErrorKind::Conflict);
}
