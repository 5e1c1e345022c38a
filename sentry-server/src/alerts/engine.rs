//! Evaluating alert rules. After the worker stores a batch, it hands the
//! engine one signal per event: the issue the event was filed under and
//! what the event did to it. The engine runs in a task of its own behind a
//! bounded queue, so that ingest never waits for it: when the queue is
//! full, the batch's signals are dropped and counted.
//!
//! For each project with signals, each enabled rule is checked against the
//! batch's issues. A rule that holds for one of them claims its firing in
//! the metadata store, which lets it fire at most once per its
//! `frequency`, across every server of a cluster: a storm of events sends
//! one message per rule, not thousands.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use sentry_core::protocol::Timestamp;
use sentry_core::store::{
    AlertRule, EventFilter, EventStore, Issue, IssueChange, IssueSubstatus, MetadataStore,
    TagFilter,
};
use sentry_core::{EventId, IssueId, ProjectId};
use sentry_store::{AnyEventStore, AnyMetadataStore};
use tokio::sync::mpsc;

use super::delivery::{Deliverer, Message};
use super::message::{Notification, Reason};
use super::rules::{Action, Condition, EmailTarget, Match, RuleConfig, WebhookFormat};
use crate::routes::model::short_id;

/// What the worker tells the engine about one event it stored.
#[derive(Debug, Clone)]
pub struct IssueSignal {
    /// The issue the event was filed under, after the event.
    pub issue: Issue,
    /// What the event did to the issue.
    pub change: IssueChange,
    /// The event.
    pub event_id: EventId,
    /// The event's environment.
    pub environment: Option<String>,
}

/// Batches of signals the queue holds before it drops new ones.
const QUEUE_BATCHES: usize = 1024;

/// The way into the alert engine; cheap to clone.
#[derive(Clone)]
pub struct Alerts {
    sender: mpsc::Sender<Vec<IssueSignal>>,
}

impl Alerts {
    /// Starts the engine's task.
    pub fn start(
        metadata: AnyMetadataStore,
        events: AnyEventStore,
        deliverer: Arc<Deliverer>,
        public_url: String,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (sender, receiver) = mpsc::channel(QUEUE_BATCHES);
        let engine = Engine {
            metadata,
            events,
            deliverer,
            public_url,
        };
        (Self { sender }, tokio::spawn(engine.run(receiver)))
    }

    /// Hands over the signals of a stored batch without waiting.
    pub fn submit(&self, signals: Vec<IssueSignal>) {
        if signals.is_empty() {
            return;
        }
        let count = signals.len() as u64;
        if let Err(error) = self.sender.try_send(signals) {
            tracing::warn!(%error, count, "alert queue unavailable; dropping signals");
            metrics::counter!("sentry_alert_signals_dropped_total").increment(count);
        }
    }
}

/// The signals of one issue (and environment) in a batch, merged.
#[derive(Debug, Clone)]
struct IssueActivity {
    issue: Issue,
    created: bool,
    regressed: bool,
    reappeared: bool,
    /// The first event of the batch for the issue.
    event_id: EventId,
    environment: Option<String>,
}

struct Engine {
    metadata: AnyMetadataStore,
    events: AnyEventStore,
    deliverer: Arc<Deliverer>,
    public_url: String,
}

impl Engine {
    async fn run(self, mut receiver: mpsc::Receiver<Vec<IssueSignal>>) {
        while let Some(signals) = receiver.recv().await {
            self.evaluate(signals).await;
        }
    }

    async fn evaluate(&self, signals: Vec<IssueSignal>) {
        let mut projects: BTreeMap<ProjectId, BTreeMap<(IssueId, Option<String>), IssueActivity>> =
            BTreeMap::new();
        for signal in signals {
            let key = (signal.issue.id, signal.environment.clone());
            let activity = projects
                .entry(signal.issue.project_id)
                .or_default()
                .entry(key)
                .or_insert_with(|| IssueActivity {
                    issue: signal.issue.clone(),
                    created: false,
                    regressed: false,
                    reappeared: false,
                    event_id: signal.event_id,
                    environment: signal.environment.clone(),
                });
            match signal.change {
                IssueChange::Created => activity.created = true,
                IssueChange::Reopened(IssueSubstatus::Regressed) => activity.regressed = true,
                IssueChange::Reopened(_) => activity.reappeared = true,
                IssueChange::Counted => {}
            }
            if signal.issue.times_seen >= activity.issue.times_seen {
                activity.issue = signal.issue;
            }
        }
        for (project_id, activities) in projects {
            if let Err(error) = self.evaluate_project(project_id, &activities).await {
                tracing::warn!(%error, %project_id, "cannot evaluate alert rules");
            }
        }
    }

    async fn evaluate_project(
        &self,
        project_id: ProjectId,
        activities: &BTreeMap<(IssueId, Option<String>), IssueActivity>,
    ) -> Result<(), sentry_core::store::StoreError> {
        let rules = self.metadata.alert_rules(project_id).await?;
        for rule in rules.iter().filter(|rule| rule.enabled) {
            let config = match serde_json::from_str(&rule.config)
                .map_err(|error| error.to_string())
                .and_then(|json| RuleConfig::from_json(&json).map_err(|error| error.to_string()))
            {
                Ok(config) => config,
                Err(error) => {
                    tracing::warn!(rule = %rule.id, %error, "skipping an alert rule that does not read");
                    continue;
                }
            };
            for activity in activities.values() {
                if config
                    .environment
                    .as_ref()
                    .is_some_and(|environment| activity.environment.as_ref() != Some(environment))
                {
                    continue;
                }
                let Some(reason) = self.holds(&config, activity).await? else {
                    continue;
                };
                let now = Timestamp::now();
                if !self
                    .metadata
                    .claim_rule_fire(rule.id, now, config.frequency)
                    .await?
                {
                    // Rate-limited: so it is for the batch's other issues.
                    break;
                }
                metrics::counter!("sentry_alert_rules_fired_total").increment(1);
                tracing::info!(rule = %rule.id, issue = %activity.issue.id, reason = reason.as_str(), "alert rule fired");
                self.notify(rule, &config, activity, reason).await?;
                if !config.frequency.is_zero() {
                    // The claim holds for the rule's frequency.
                    break;
                }
            }
        }
        Ok(())
    }

    /// Whether a rule's conditions hold for an issue's activity, and why.
    async fn holds(
        &self,
        config: &RuleConfig,
        activity: &IssueActivity,
    ) -> Result<Option<Reason>, sentry_core::store::StoreError> {
        let mut first_reason = None;
        for condition in &config.conditions {
            let reason = match *condition {
                Condition::FirstSeen => activity.created.then_some(Reason::NewIssue),
                Condition::Regression => activity.regressed.then_some(Reason::Regression),
                Condition::Reappeared => activity.reappeared.then_some(Reason::Reappeared),
                Condition::EventFrequency { count, minutes } => {
                    let events = self
                        .recent_events(activity, Duration::from_secs(minutes * 60))
                        .await?;
                    (events > count).then_some(Reason::Frequency)
                }
            };
            match (config.action_match, reason) {
                (Match::Any, Some(reason)) => return Ok(Some(reason)),
                (Match::All, None) => return Ok(None),
                (Match::All, Some(reason)) => {
                    first_reason.get_or_insert(reason);
                }
                (Match::Any, None) => {}
            }
        }
        Ok(first_reason)
    }

    /// The issue's events (of the activity's environment, when it has one)
    /// in the last `window`.
    async fn recent_events(
        &self,
        activity: &IssueActivity,
        window: Duration,
    ) -> Result<u64, sentry_core::store::StoreError> {
        let mut filter = EventFilter::issue(activity.issue.project_id, activity.issue.id);
        filter.start = Timestamp::now().checked_sub(window);
        if let Some(environment) = &activity.environment {
            filter.tags.push(TagFilter {
                key: "environment".to_owned(),
                value: Some(environment.clone()),
                negated: false,
            });
        }
        Ok(self.events.count_events(&filter).await?.events)
    }

    /// Sends what a fired rule says, through each of its actions.
    async fn notify(
        &self,
        rule: &AlertRule,
        config: &RuleConfig,
        activity: &IssueActivity,
        reason: Reason,
    ) -> Result<(), sentry_core::store::StoreError> {
        let issue = &activity.issue;
        let Some(project) = self.metadata.project(issue.project_id).await? else {
            return Ok(());
        };
        let Some(org) = self.metadata.organization(project.org_id).await? else {
            return Ok(());
        };
        let notification = Notification {
            rule_name: rule.name.clone(),
            reason,
            url: format!(
                "{}/organizations/{}/issues/{}/",
                self.public_url, org.slug, issue.id
            ),
            short_id: short_id(&project.slug, issue.short_number),
            org_slug: org.slug,
            project_slug: project.slug,
            project_name: project.name,
            issue: issue.clone(),
            event_id: activity.event_id,
            environment: activity.environment.clone(),
        };
        for action in &config.actions {
            let message = match action {
                Action::Webhook { url, format } => Message::Webhook {
                    url: url.clone(),
                    body: match format {
                        WebhookFormat::Sentry => notification.webhook_json(),
                        WebhookFormat::Slack => notification.slack_json(),
                    },
                },
                Action::Email(target) => {
                    let to = self.recipients(project.org_id, target).await?;
                    if to.is_empty() {
                        tracing::warn!(rule = %rule.id, "an email alert has no recipient");
                        continue;
                    }
                    Message::Email {
                        to,
                        subject: notification.email_subject(),
                        text: notification.email_text(),
                    }
                }
            };
            self.deliverer.send(message);
        }
        Ok(())
    }

    async fn recipients(
        &self,
        org_id: sentry_core::OrgId,
        target: &EmailTarget,
    ) -> Result<Vec<String>, sentry_core::store::StoreError> {
        Ok(match target {
            EmailTarget::Addresses(addresses) => addresses.clone(),
            EmailTarget::Members => self
                .metadata
                .org_members(org_id)
                .await?
                .into_iter()
                .map(|member| member.user.email)
                .collect(),
            EmailTarget::Member(user_id) => self
                .metadata
                .org_members(org_id)
                .await?
                .into_iter()
                .filter(|member| u64::try_from(member.user.id.0).ok() == Some(*user_id))
                .map(|member| member.user.email)
                .collect(),
        })
    }
}
