//! Triage beyond the three statuses: why an issue has its status
//! (Sentry's substatus) and the conditions that end it, and how a new event
//! changes it.
//!
//! As in Sentry: a resolved issue that receives an event is unresolved
//! again and marked as a regression, unless it was resolved "in the next
//! release" and the event still comes from the release current at the
//! time; an issue ignored for a while, until a number of events or until a
//! number of users comes back (unresolved, escalating) once the condition
//! is met. Time alone also ends an ignore: see
//! [`super::MetadataStore::unignore_expired`].

use serde::{Deserialize, Serialize};

use super::{Issue, IssueStatus};
use crate::protocol::Timestamp;

/// Why an issue has its status, as Sentry's `substatus` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueSubstatus {
    /// Unresolved: a resolved issue that received an event.
    Regressed,
    /// Unresolved: an ignored issue whose ignore condition was met.
    Escalating,
    /// Ignored until a time, a number of events or of users.
    ArchivedUntilConditionMet,
    /// Ignored with no end.
    ArchivedForever,
}

impl IssueSubstatus {
    /// Returns the API name.
    pub fn as_str(&self) -> &'static str {
        match self {
            IssueSubstatus::Regressed => "regressed",
            IssueSubstatus::Escalating => "escalating",
            IssueSubstatus::ArchivedUntilConditionMet => "archived_until_condition_met",
            IssueSubstatus::ArchivedForever => "archived_forever",
        }
    }

    /// Reads an API name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "regressed" => Some(IssueSubstatus::Regressed),
            "escalating" => Some(IssueSubstatus::Escalating),
            "archived_until_condition_met" => Some(IssueSubstatus::ArchivedUntilConditionMet),
            "archived_forever" => Some(IssueSubstatus::ArchivedForever),
            _ => None,
        }
    }
}

/// The conditions that end an issue's status; all `None` for none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusDetails {
    /// Ignored: until this time.
    pub ignore_until: Option<Timestamp>,
    /// Ignored: until the issue has this many events in all.
    pub ignore_until_times_seen: Option<u64>,
    /// Ignored: until this many distinct users are affected in all.
    pub ignore_until_user_count: Option<u64>,
    /// Resolved in the next release: events of this release (the one
    /// current when the issue was resolved) leave it resolved.
    pub resolved_in_release: Option<String>,
}

/// What filing an event did to its issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueChange {
    /// The event created the issue.
    Created,
    /// The event reopened a resolved or ignored issue, for this reason
    /// ([`IssueSubstatus::Regressed`] or [`IssueSubstatus::Escalating`]).
    Reopened(IssueSubstatus),
    /// The event was counted on an issue that keeps its status.
    Counted,
}

impl IssueChange {
    /// Returns the name the stores record a filing's change under.
    pub fn as_str(&self) -> &'static str {
        match self {
            IssueChange::Created => "created",
            IssueChange::Reopened(substatus) => substatus.as_str(),
            IssueChange::Counted => "counted",
        }
    }

    /// Reads a name written by [`IssueChange::as_str`].
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "created" => Some(IssueChange::Created),
            "counted" => Some(IssueChange::Counted),
            other => IssueSubstatus::parse(other).map(IssueChange::Reopened),
        }
    }
}

/// An event filed under its issue: the issue after the update, and what
/// the event did to it.
#[derive(Debug, Clone, PartialEq)]
pub struct FiledEvent {
    /// The issue, with the event counted.
    pub issue: Issue,
    /// What the event did to it.
    pub change: IssueChange,
}

impl FiledEvent {
    /// Describes the filing of an event: `created` when the event made the
    /// issue, else the status change it caused, if any.
    pub fn new(issue: Issue, created: bool, status_change: Option<&IssueStatusChange>) -> Self {
        let change = if created {
            IssueChange::Created
        } else {
            match status_change.and_then(|change| change.substatus) {
                Some(substatus) => IssueChange::Reopened(substatus),
                None => IssueChange::Counted,
            }
        };
        Self { issue, change }
    }
}

/// A change of an issue's status, with its reason and end conditions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueStatusChange {
    /// The new status.
    pub status: IssueStatus,
    /// Why.
    pub substatus: Option<IssueSubstatus>,
    /// What ends it.
    pub details: StatusDetails,
}

impl IssueStatusChange {
    /// A plain change: unresolved, resolved, or ignored forever.
    pub fn to(status: IssueStatus) -> Self {
        Self {
            status,
            substatus: match status {
                IssueStatus::Ignored => Some(IssueSubstatus::ArchivedForever),
                IssueStatus::Unresolved | IssueStatus::Resolved => None,
            },
            details: StatusDetails::default(),
        }
    }

    /// Unresolved again for a reason.
    fn reopened(substatus: IssueSubstatus) -> Self {
        Self {
            status: IssueStatus::Unresolved,
            substatus: Some(substatus),
            details: StatusDetails::default(),
        }
    }
}

/// Returns whether an ignored issue's condition is met: its time has
/// come by `now`, or it reached its event or user count.
pub fn ignore_expired(issue: &Issue, now: Timestamp) -> bool {
    let details = &issue.status_details;
    details.ignore_until.is_some_and(|until| until <= now)
        || details
            .ignore_until_times_seen
            .is_some_and(|count| issue.times_seen >= count)
        || details
            .ignore_until_user_count
            .is_some_and(|count| issue.user_count >= count)
}

/// The change an event makes to an issue's status, given the issue with
/// the event already counted, when the server received it and the event's
/// release; `None` when the status stays.
pub fn status_after_event(
    issue: &Issue,
    received: Timestamp,
    release: Option<&str>,
) -> Option<IssueStatusChange> {
    match issue.status {
        IssueStatus::Unresolved => None,
        IssueStatus::Resolved => {
            let same_release = issue
                .status_details
                .resolved_in_release
                .as_deref()
                .is_some_and(|resolved_in| release == Some(resolved_in));
            (!same_release).then(|| IssueStatusChange::reopened(IssueSubstatus::Regressed))
        }
        IssueStatus::Ignored => ignore_expired(issue, received)
            .then(|| IssueStatusChange::reopened(IssueSubstatus::Escalating)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{IssueId, ProjectId};
    use crate::protocol::Level;
    use crate::summary::EventMetadata;

    fn issue(status: IssueStatus, details: StatusDetails, times_seen: u64) -> Issue {
        Issue {
            id: IssueId(1),
            project_id: ProjectId(1),
            short_number: 1,
            title: "t".to_owned(),
            culprit: String::new(),
            level: Level::Error,
            ty: "error".to_owned(),
            platform: "python".to_owned(),
            metadata: EventMetadata::default(),
            status,
            substatus: None,
            status_details: details,
            first_seen: at(0),
            last_seen: at(0),
            times_seen,
            user_count: 1,
            grouping_config: "test".to_owned(),
        }
    }

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_unix_micros(seconds * 1_000_000).unwrap()
    }

    #[test]
    fn an_event_regresses_a_resolved_issue() {
        let resolved = issue(IssueStatus::Resolved, StatusDetails::default(), 2);
        let change = status_after_event(&resolved, at(10), None).unwrap();
        assert_eq!(change.status, IssueStatus::Unresolved);
        assert_eq!(change.substatus, Some(IssueSubstatus::Regressed));
        let open = issue(IssueStatus::Unresolved, StatusDetails::default(), 2);
        assert_eq!(status_after_event(&open, at(10), None), None);
    }

    #[test]
    fn resolved_in_next_release_waits_for_another_release() {
        let details = StatusDetails {
            resolved_in_release: Some("1.0".to_owned()),
            ..StatusDetails::default()
        };
        let resolved = issue(IssueStatus::Resolved, details, 2);
        assert_eq!(status_after_event(&resolved, at(10), Some("1.0")), None);
        let change = status_after_event(&resolved, at(10), Some("1.1")).unwrap();
        assert_eq!(change.substatus, Some(IssueSubstatus::Regressed));
        assert!(status_after_event(&resolved, at(10), None).is_some());
    }

    #[test]
    fn ignores_end_at_their_time_count_or_users() {
        let until_time = StatusDetails {
            ignore_until: Some(at(100)),
            ..StatusDetails::default()
        };
        let ignored = issue(IssueStatus::Ignored, until_time, 5);
        assert_eq!(status_after_event(&ignored, at(99), None), None);
        let change = status_after_event(&ignored, at(100), None).unwrap();
        assert_eq!(
            change,
            IssueStatusChange::reopened(IssueSubstatus::Escalating)
        );

        let until_count = StatusDetails {
            ignore_until_times_seen: Some(6),
            ..StatusDetails::default()
        };
        assert_eq!(
            status_after_event(
                &issue(IssueStatus::Ignored, until_count.clone(), 5),
                at(1),
                None
            ),
            None
        );
        assert!(
            status_after_event(&issue(IssueStatus::Ignored, until_count, 6), at(1), None).is_some()
        );

        let until_users = StatusDetails {
            ignore_until_user_count: Some(2),
            ..StatusDetails::default()
        };
        let mut ignored = issue(IssueStatus::Ignored, until_users, 5);
        assert_eq!(status_after_event(&ignored, at(1), None), None);
        ignored.user_count = 2;
        assert!(status_after_event(&ignored, at(1), None).is_some());

        let forever = issue(IssueStatus::Ignored, StatusDetails::default(), 1000);
        assert_eq!(status_after_event(&forever, at(1_000_000), None), None);
    }
}
