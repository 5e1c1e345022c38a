//! What a fired rule says, in each form it is sent: Sentry's webhook
//! JSON, a Slack message, and an email. Each links to the issue.

use sentry_core::EventId;
use sentry_core::store::Issue;
use serde_json::{Value, json};

/// Why a rule fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// A new issue.
    NewIssue,
    /// A resolved issue received an event.
    Regression,
    /// An ignored issue came back.
    Reappeared,
    /// An issue had more events than the rule allows in its window.
    Frequency,
}

impl Reason {
    /// A short phrase for the message.
    pub fn as_str(&self) -> &'static str {
        match self {
            Reason::NewIssue => "new issue",
            Reason::Regression => "regression",
            Reason::Reappeared => "reappeared",
            Reason::Frequency => "event frequency",
        }
    }
}

/// One firing of a rule for one issue, with everything its messages show.
#[derive(Debug, Clone)]
pub struct Notification {
    /// The rule's name.
    pub rule_name: String,
    /// Why it fired.
    pub reason: Reason,
    /// The organization's slug.
    pub org_slug: String,
    /// The project's slug.
    pub project_slug: String,
    /// The project's name.
    pub project_name: String,
    /// The issue, as the event left it.
    pub issue: Issue,
    /// The issue's short id, e.g. `BACKEND-3`.
    pub short_id: String,
    /// The issue's page.
    pub url: String,
    /// The event that made the rule fire.
    pub event_id: EventId,
    /// The event's environment.
    pub environment: Option<String>,
}

impl Notification {
    /// The body of Sentry's webhook: the issue's fields at the top, the
    /// triggering rule, and the event.
    pub fn webhook_json(&self) -> Value {
        let issue = &self.issue;
        json!({
            "id": issue.id.to_string(),
            "project": self.project_slug,
            "project_name": self.project_name,
            "project_slug": self.project_slug,
            "logger": null,
            "level": issue.level.as_str(),
            "culprit": issue.culprit,
            "message": issue.title,
            "url": self.url,
            "triggering_rules": [self.rule_name],
            "reason": self.reason.as_str(),
            "short_id": self.short_id,
            "event": {
                "event_id": self.event_id.to_string(),
                "title": issue.title,
                "level": issue.level.as_str(),
                "environment": self.environment,
                "timestamp": issue.last_seen.to_rfc3339(),
            },
        })
    }

    /// A Slack incoming-webhook message (also read by Mattermost and
    /// Rocket.Chat): a line linking the issue and an attachment with its
    /// details.
    pub fn slack_json(&self) -> Value {
        let issue = &self.issue;
        let escape = |text: &str| {
            text.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        };
        json!({
            "text": format!(
                "<{}|{}: {}> ({})",
                self.url,
                self.short_id,
                escape(&issue.title),
                self.reason.as_str()
            ),
            "attachments": [{
                "title": issue.title,
                "title_link": self.url,
                "text": issue.culprit,
                "color": level_color(issue.level.as_str()),
                "fields": [
                    {"title": "Project", "value": self.project_slug, "short": true},
                    {"title": "Level", "value": issue.level.as_str(), "short": true},
                    {"title": "Environment", "value": self.environment.as_deref().unwrap_or("-"), "short": true},
                    {"title": "Events", "value": issue.times_seen.to_string(), "short": true},
                ],
                "footer": format!("Alert rule: {}", self.rule_name),
            }],
        })
    }

    /// An email's subject.
    pub fn email_subject(&self) -> String {
        format!(
            "[Sentry] {} - {} ({})",
            self.short_id,
            self.issue.title,
            self.reason.as_str()
        )
    }

    /// An email's text.
    pub fn email_text(&self) -> String {
        let issue = &self.issue;
        format!(
            "{title}\n{culprit}\n\nProject: {project}\nLevel: {level}\nEnvironment: {environment}\n\
             Events: {events}\nUsers: {users}\nFirst seen: {first}\nLast seen: {last}\n\n\
             View the issue: {url}\n\nAlert rule \"{rule}\" fired: {reason}.\n",
            title = issue.title,
            culprit = issue.culprit,
            project = self.project_slug,
            level = issue.level.as_str(),
            environment = self.environment.as_deref().unwrap_or("-"),
            events = issue.times_seen,
            users = issue.user_count,
            first = issue.first_seen.to_rfc3339(),
            last = issue.last_seen.to_rfc3339(),
            url = self.url,
            rule = self.rule_name,
            reason = self.reason.as_str(),
        )
    }
}

/// Slack's attachment colour for a level, as Sentry uses them.
fn level_color(level: &str) -> &'static str {
    match level {
        "fatal" | "error" => "#E03E2F",
        "warning" => "#FFC227",
        "info" => "#2788CE",
        _ => "#95A5A6",
    }
}
