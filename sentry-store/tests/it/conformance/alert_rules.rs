//! Behaviours of alert rules and their rate limit.

use std::time::Duration;

use sentry_core::store::{AlertRuleSettings, MetadataStore, StoreErrorKind};
use sentry_core::{ProjectId, RuleId};
use sentry_store::AnyMetadataStore;

use super::{Stores, project, seconds};

fn settings(name: &str) -> AlertRuleSettings {
    AlertRuleSettings {
        name: name.to_owned(),
        config: r#"{"conditions":[{"id":"FirstSeenEventCondition"}],"actions":[]}"#.to_owned(),
        enabled: true,
    }
}

pub async fn alert_rules_are_kept(stores: &Stores) {
    let metadata = &stores.metadata;
    let (_, project_id) = project(stores).await;
    let first = metadata
        .create_alert_rule(project_id, &settings("first"))
        .await
        .unwrap();
    assert_eq!((first.project_id, first.enabled), (project_id, true));
    assert_eq!(first.last_fired_at, None);
    let second = metadata
        .create_alert_rule(project_id, &settings("second"))
        .await
        .unwrap();
    assert_eq!(
        metadata.alert_rules(project_id).await.unwrap(),
        [first.clone(), second.clone()],
        "oldest first"
    );
    let disabled = AlertRuleSettings {
        enabled: false,
        config: "{}".to_owned(),
        ..settings("renamed")
    };
    let updated = metadata
        .update_alert_rule(first.id, &disabled)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            updated.name.as_str(),
            updated.config.as_str(),
            updated.enabled
        ),
        ("renamed", "{}", false)
    );
    assert_eq!(updated.date_created, first.date_created);
    assert_eq!(metadata.alert_rule(first.id).await.unwrap(), Some(updated));
    assert!(metadata.delete_alert_rule(second.id).await.unwrap());
    assert!(!metadata.delete_alert_rule(second.id).await.unwrap());
    assert_eq!(metadata.alert_rule(second.id).await.unwrap(), None);
    assert_eq!(metadata.alert_rules(project_id).await.unwrap().len(), 1);
    let missing = RuleId(i64::MAX);
    assert_eq!(
        metadata
            .update_alert_rule(missing, &settings("x"))
            .await
            .unwrap(),
        None
    );
    let orphan = metadata
        .create_alert_rule(ProjectId(i64::MAX as u64), &settings("x"))
        .await
        .unwrap_err();
    assert_eq!(
        orphan.kind(),
        StoreErrorKind::Conflict,
        "a rule needs its project"
    );
}

pub async fn a_rule_fires_once_per_interval(stores: &Stores) {
    let metadata = &stores.metadata;
    let (_, project_id) = project(stores).await;
    let rule = metadata
        .create_alert_rule(project_id, &settings("rate limited"))
        .await
        .unwrap();
    let minute = Duration::from_secs(60);
    let claim = |at: f64| metadata.claim_rule_fire(rule.id, seconds(at), minute);
    assert!(
        claim(1000.0).await.unwrap(),
        "a rule that never fired may fire"
    );
    assert!(!claim(1000.0).await.unwrap(), "not twice at once");
    assert!(!claim(1059.9).await.unwrap(), "not within the interval");
    let fired = metadata.alert_rule(rule.id).await.unwrap().unwrap();
    assert_eq!(
        fired.last_fired_at,
        Some(seconds(1000.0)),
        "a lost claim writes nothing"
    );
    assert!(
        claim(1060.0).await.unwrap(),
        "again once the interval has passed"
    );
    assert!(!claim(1000.0).await.unwrap(), "not at an earlier time");
    let fired = metadata.alert_rule(rule.id).await.unwrap().unwrap();
    assert_eq!(fired.last_fired_at, Some(seconds(1060.0)));
    assert!(
        !metadata
            .claim_rule_fire(RuleId(i64::MAX), seconds(1.0), minute)
            .await
            .unwrap(),
        "a missing rule never fires"
    );
}

/// Claims a new rule's first firing from 16 tasks at once, spread over
/// store handles; exactly one claim may win.
pub async fn concurrent_claims_win_once(handles: &[AnyMetadataStore], project_id: ProjectId) {
    let rule = handles[0]
        .create_alert_rule(project_id, &settings("contended"))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|task| {
            let metadata = handles[task % handles.len()].clone();
            tokio::spawn(async move {
                metadata
                    .claim_rule_fire(rule.id, seconds(5000.0), Duration::from_secs(300))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut wins = 0;
    for task in tasks {
        wins += usize::from(task.await.unwrap());
    }
    assert_eq!(wins, 1, "exactly one of the racing claims wins");
}

pub async fn one_of_concurrent_claims_wins(stores: &Stores) {
    let (_, project_id) = project(stores).await;
    concurrent_claims_win_once(std::slice::from_ref(&stores.metadata), project_id).await;
}
