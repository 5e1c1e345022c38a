//! User feedback from `user_report` items (the legacy form, naming the
//! event it is about) and `feedback` items (an event-shaped payload whose
//! `contexts.feedback` holds the message).

use serde::Deserialize;

use super::{ItemError, json};
use crate::ids::{EventId, ProjectId};
use crate::protocol::Timestamp;
use crate::store::UserReport;

/// The most characters kept of a name or email.
const MAX_NAME: usize = 128;
/// The most characters kept of the comments (Sentry's limit).
const MAX_COMMENTS: usize = 4_096;

#[derive(Deserialize)]
struct LegacyReport {
    event_id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    comments: Option<String>,
}

#[derive(Deserialize)]
struct FeedbackEvent {
    #[serde(default)]
    event_id: Option<String>,
    #[serde(default)]
    environment: Option<String>,
    #[serde(default)]
    contexts: Contexts,
}

#[derive(Deserialize, Default)]
struct Contexts {
    #[serde(default)]
    feedback: Option<FeedbackContext>,
}

#[derive(Deserialize)]
struct FeedbackContext {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    contact_email: Option<String>,
    #[serde(default)]
    associated_event_id: Option<String>,
}

fn cut(text: Option<String>, max: usize) -> String {
    text.map(|text| text.chars().take(max).collect())
        .unwrap_or_default()
}

fn event_id(text: Option<&str>) -> Option<EventId> {
    text.and_then(|text| text.parse::<EventId>().ok())
        .filter(|id| !id.is_nil())
}

/// Reads a `user_report` payload: its id is the event it names, so that a
/// second report on the same event replaces the first.
///
/// # Errors
///
/// When it is not JSON of a user report or names no valid event id.
pub fn from_user_report(
    project_id: ProjectId,
    payload: &[u8],
    received: Timestamp,
) -> Result<UserReport, ItemError> {
    const ITEM: &str = "user_report";
    let report: LegacyReport = json(ITEM, payload)?;
    let event = event_id(report.event_id.as_deref()).ok_or(ItemError::Missing {
        item: ITEM,
        field: "event_id",
    })?;
    Ok(UserReport {
        id: event,
        project_id,
        event_id: Some(event),
        issue_id: None,
        name: cut(report.name, MAX_NAME),
        email: cut(report.email, MAX_NAME),
        comments: cut(report.comments, MAX_COMMENTS),
        environment: None,
        date_created: received,
    })
}

/// Reads a `feedback` payload; `fallback_id` (the envelope's event id) is
/// its id when the payload has none.
///
/// # Errors
///
/// When it is not JSON of an event, has no `contexts.feedback.message`,
/// or has no id at all.
pub fn from_feedback(
    project_id: ProjectId,
    payload: &[u8],
    fallback_id: Option<EventId>,
    received: Timestamp,
) -> Result<UserReport, ItemError> {
    const ITEM: &str = "feedback";
    let event: FeedbackEvent = json(ITEM, payload)?;
    let feedback = event.contexts.feedback.ok_or(ItemError::Missing {
        item: ITEM,
        field: "contexts.feedback",
    })?;
    let message = feedback
        .message
        .filter(|message| !message.trim().is_empty())
        .ok_or(ItemError::Missing {
            item: ITEM,
            field: "message",
        })?;
    let id = event_id(event.event_id.as_deref())
        .or(fallback_id)
        .ok_or(ItemError::Missing {
            item: ITEM,
            field: "event_id",
        })?;
    Ok(UserReport {
        id,
        project_id,
        event_id: event_id(feedback.associated_event_id.as_deref()),
        issue_id: None,
        name: cut(feedback.name, MAX_NAME),
        email: cut(feedback.contact_email, MAX_NAME),
        comments: cut(Some(message), MAX_COMMENTS),
        environment: event
            .environment
            .map(|env| env.chars().take(MAX_NAME).collect()),
        date_created: received,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn a_user_report_is_keyed_by_its_event() {
        let payload = format!(
            r#"{{"event_id":"{EVENT}","name":"Jane","email":"jane@example.com","comments":"It broke"}}"#
        );
        let report = from_user_report(ProjectId(2), payload.as_bytes(), Timestamp::now()).unwrap();
        let event: EventId = EVENT.parse().unwrap();
        assert_eq!(report.id, event);
        assert_eq!(report.event_id, Some(event));
        assert_eq!(report.comments, "It broke");
        assert!(from_user_report(ProjectId(2), br#"{"comments":"x"}"#, Timestamp::now()).is_err());
    }

    #[test]
    fn feedback_reads_its_context() {
        let payload = format!(
            r#"{{"type":"feedback","event_id":"fedcba9876543210fedcba9876543210",
            "environment":"production","contexts":{{"feedback":{{"message":"Checkout hangs",
            "name":"Joe","contact_email":"joe@example.com","associated_event_id":"{EVENT}"}}}}}}"#
        );
        let report =
            from_feedback(ProjectId(2), payload.as_bytes(), None, Timestamp::now()).unwrap();
        assert_eq!(report.id.to_string(), "fedcba9876543210fedcba9876543210");
        assert_eq!(report.event_id, Some(EVENT.parse().unwrap()));
        assert_eq!(report.comments, "Checkout hangs");
        assert_eq!(report.email, "joe@example.com");
        assert_eq!(report.environment.as_deref(), Some("production"));
    }

    #[test]
    fn feedback_without_a_message_is_invalid() {
        let payload = br#"{"contexts":{"feedback":{"message":"  "}}}"#;
        assert!(
            from_feedback(
                ProjectId(2),
                payload,
                Some(EventId::new_random()),
                Timestamp::now()
            )
            .is_err()
        );
    }
}
