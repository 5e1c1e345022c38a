//! Alert rules in Sentry's shape: conditions on what an event did to its
//! issue, an optional environment, how often the rule may fire, and the
//! actions it takes. Read from the API's JSON, kept in the metadata store
//! as that JSON, and read again when rules are evaluated.
//!
//! | condition `id` | holds when |
//! | --- | --- |
//! | `sentry.rules.conditions.first_seen_event.FirstSeenEventCondition` | the event created its issue |
//! | `sentry.rules.conditions.regression_event.RegressionEventCondition` | the event reopened a resolved issue |
//! | `sentry.rules.conditions.reappeared_event.ReappearedEventCondition` | the event reopened an ignored issue |
//! | `sentry.rules.conditions.event_frequency.EventFrequencyCondition` | the issue has more than `value` events in `interval` |
//!
//! | action `id` | does |
//! | --- | --- |
//! | `sentry.rules.actions.notify_event_service.NotifyEventServiceAction` | posts to `url`: Sentry's webhook JSON (`service: "webhooks"`) or a Slack message (`service: "slack"`) |
//! | `sentry.mail.actions.NotifyEmailAction` | mails the organization's members (`targetType` `IssueOwners` or `Team`), one member (`Member`, a user id) or addresses (`Email`, comma-separated) |

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Condition ids.
pub const FIRST_SEEN: &str = "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition";
/// Condition id of a regression.
pub const REGRESSION: &str = "sentry.rules.conditions.regression_event.RegressionEventCondition";
/// Condition id of an ignored issue that came back.
pub const REAPPEARED: &str = "sentry.rules.conditions.reappeared_event.ReappearedEventCondition";
/// Condition id of a number of events in a while.
pub const EVENT_FREQUENCY: &str = "sentry.rules.conditions.event_frequency.EventFrequencyCondition";
/// Action id of a webhook or Slack message.
pub const NOTIFY_SERVICE: &str =
    "sentry.rules.actions.notify_event_service.NotifyEventServiceAction";
/// Action id of an email.
pub const NOTIFY_EMAIL: &str = "sentry.mail.actions.NotifyEmailAction";

/// How often a rule may fire when its body does not say: Sentry's default.
pub const DEFAULT_FREQUENCY_MINUTES: u64 = 30;
/// The longest interval between firings: 30 days, Sentry's longest.
pub const MAX_FREQUENCY_MINUTES: u64 = 43_200;
/// The longest window of an event frequency condition: 30 days.
const MAX_INTERVAL_MINUTES: u64 = 43_200;
/// The most conditions or actions of a rule.
const MAX_PARTS: usize = 20;
/// The longest rule name.
const MAX_NAME: usize = 256;

/// A rule that cannot be used, naming the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct RuleError {
    /// The field, as the API names it.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> RuleError {
    RuleError {
        field: field.into(),
        message: message.into(),
    }
}

/// Which conditions must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Match {
    /// Any one.
    #[default]
    Any,
    /// All of them.
    All,
}

/// A condition of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// The event created its issue.
    FirstSeen,
    /// The event reopened a resolved issue.
    Regression,
    /// The event reopened an ignored issue.
    Reappeared,
    /// The issue has more than `count` events in the last `minutes`.
    EventFrequency {
        /// The number of events to exceed.
        count: u64,
        /// The window, in minutes.
        minutes: u64,
    },
}

/// What a webhook action posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookFormat {
    /// Sentry's webhook JSON.
    Sentry,
    /// A Slack incoming-webhook message.
    Slack,
}

/// Whom an email action mails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailTarget {
    /// Every member of the project's organization.
    Members,
    /// One member, by user id.
    Member(u64),
    /// These addresses.
    Addresses(Vec<String>),
}

/// An action of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Posts to a URL.
    Webhook {
        /// Where.
        url: String,
        /// What.
        format: WebhookFormat,
    },
    /// Sends an email.
    Email(EmailTarget),
}

/// A rule's conditions, environment, frequency and actions, read and
/// checked; [`RuleConfig::to_json`] gives the JSON the store keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleConfig {
    /// Which conditions must hold.
    pub action_match: Match,
    /// The conditions.
    pub conditions: Vec<Condition>,
    /// Only events of this environment, when set.
    pub environment: Option<String>,
    /// The least time between two firings (0: no limit).
    pub frequency: Duration,
    /// What firing does.
    pub actions: Vec<Action>,
    /// The conditions and actions as the body gave them, which the API
    /// returns.
    conditions_json: Vec<Value>,
    actions_json: Vec<Value>,
}

/// The fields of a rule body this module reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    #[serde(default)]
    action_match: Option<String>,
    #[serde(default)]
    conditions: Vec<Value>,
    #[serde(default)]
    filters: Vec<Value>,
    #[serde(default)]
    environment: Option<String>,
    #[serde(default)]
    frequency: Option<Value>,
    #[serde(default)]
    actions: Vec<Value>,
}

impl RuleConfig {
    /// Reads a rule's body (the API's JSON, or what the store keeps).
    ///
    /// # Errors
    ///
    /// A [`RuleError`] naming the first field that is missing, unknown or
    /// out of range.
    pub fn from_json(body: &Value) -> Result<Self, RuleError> {
        let body = Body::deserialize(body).map_err(|error| invalid("rule", error.to_string()))?;
        let action_match = match body.action_match.as_deref() {
            None | Some("any") => Match::Any,
            Some("all") => Match::All,
            Some(other) => {
                return Err(invalid(
                    "actionMatch",
                    format!("must be \"any\" or \"all\", not {other:?}"),
                ));
            }
        };
        if !body.filters.is_empty() {
            return Err(invalid("filters", "filters are not supported"));
        }
        if body.conditions.is_empty() {
            return Err(invalid("conditions", "a rule needs a condition"));
        }
        if body.actions.is_empty() {
            return Err(invalid("actions", "a rule needs an action"));
        }
        if body.conditions.len() > MAX_PARTS || body.actions.len() > MAX_PARTS {
            return Err(invalid(
                "rule",
                format!("at most {MAX_PARTS} conditions and actions"),
            ));
        }
        let conditions = body
            .conditions
            .iter()
            .enumerate()
            .map(|(index, value)| condition(index, value))
            .collect::<Result<Vec<_>, _>>()?;
        let actions = body
            .actions
            .iter()
            .enumerate()
            .map(|(index, value)| action(index, value))
            .collect::<Result<Vec<_>, _>>()?;
        let minutes = match &body.frequency {
            None | Some(Value::Null) => DEFAULT_FREQUENCY_MINUTES,
            Some(value) => whole_number(value)
                .filter(|minutes| *minutes <= MAX_FREQUENCY_MINUTES)
                .ok_or_else(|| {
                    invalid(
                        "frequency",
                        format!("must be minutes from 0 to {MAX_FREQUENCY_MINUTES}"),
                    )
                })?,
        };
        let environment = body
            .environment
            .map(|environment| environment.trim().to_owned())
            .filter(|environment| !environment.is_empty());
        Ok(Self {
            action_match,
            conditions,
            environment,
            frequency: Duration::from_secs(minutes * 60),
            actions,
            conditions_json: body.conditions,
            actions_json: body.actions,
        })
    }

    /// The JSON the store keeps and [`RuleConfig::from_json`] reads back.
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "actionMatch": self.action_match,
            "conditions": self.conditions_json,
            "filters": [],
            "environment": self.environment,
            "frequency": self.frequency.as_secs() / 60,
            "actions": self.actions_json,
        })
    }
}

/// A JSON number or numeric string that is a whole number.
fn whole_number(value: &Value) -> Option<u64> {
    match value {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

fn field<'a>(value: &'a Value, name: &str) -> Option<&'a str> {
    value.get(name).and_then(Value::as_str)
}

fn condition(index: usize, value: &Value) -> Result<Condition, RuleError> {
    let at = |name: &str| format!("conditions[{index}].{name}");
    match field(value, "id") {
        Some(FIRST_SEEN) => Ok(Condition::FirstSeen),
        Some(REGRESSION) => Ok(Condition::Regression),
        Some(REAPPEARED) => Ok(Condition::Reappeared),
        Some(EVENT_FREQUENCY) => {
            if field(value, "comparisonType").is_some_and(|kind| kind != "count") {
                return Err(invalid(at("comparisonType"), "only \"count\" is supported"));
            }
            let count = value
                .get("value")
                .and_then(whole_number)
                .ok_or_else(|| invalid(at("value"), "must be a whole number of events"))?;
            let minutes = field(value, "interval")
                .and_then(interval_minutes)
                .filter(|minutes| (1..=MAX_INTERVAL_MINUTES).contains(minutes))
                .ok_or_else(|| {
                    invalid(
                        at("interval"),
                        "must be minutes, hours, days or weeks such as \"5m\", \"1h\", \"1d\", \"1w\", at most 30 days",
                    )
                })?;
            Ok(Condition::EventFrequency { count, minutes })
        }
        Some(other) => Err(invalid(at("id"), format!("unknown condition {other:?}"))),
        None => Err(invalid(at("id"), "missing")),
    }
}

/// Reads Sentry's intervals (`1m`, `5m`, `15m`, `1h`, `1d`, `1w`, `30d`)
/// and any other count of minutes, hours, days or weeks.
fn interval_minutes(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (count, unit) = text.split_at(split);
    let count: u64 = count.parse().ok()?;
    let per_unit = match unit {
        "m" => 1,
        "h" => 60,
        "d" => 24 * 60,
        "w" => 7 * 24 * 60,
        _ => return None,
    };
    count.checked_mul(per_unit)
}

fn action(index: usize, value: &Value) -> Result<Action, RuleError> {
    let at = |name: &str| format!("actions[{index}].{name}");
    match field(value, "id") {
        Some(NOTIFY_SERVICE) => {
            let format = match field(value, "service") {
                Some("webhooks") => WebhookFormat::Sentry,
                Some("slack") => WebhookFormat::Slack,
                _ => return Err(invalid(at("service"), "must be \"webhooks\" or \"slack\"")),
            };
            let url = field(value, "url")
                .map(str::trim)
                .filter(|url| url.starts_with("http://") || url.starts_with("https://"))
                .filter(|url| reqwest::Url::parse(url).is_ok())
                .ok_or_else(|| invalid(at("url"), "must be an http:// or https:// URL"))?;
            Ok(Action::Webhook {
                url: url.to_owned(),
                format,
            })
        }
        Some(NOTIFY_EMAIL) => {
            let target = match field(value, "targetType") {
                None | Some("IssueOwners") | Some("Team") => EmailTarget::Members,
                Some("Member") => EmailTarget::Member(
                    value
                        .get("targetIdentifier")
                        .and_then(whole_number)
                        .ok_or_else(|| invalid(at("targetIdentifier"), "must be a user id"))?,
                ),
                Some("Email") => {
                    let addresses: Vec<String> = field(value, "targetIdentifier")
                        .unwrap_or_default()
                        .split(',')
                        .map(str::trim)
                        .filter(|address| !address.is_empty())
                        .map(str::to_owned)
                        .collect();
                    if addresses.is_empty()
                        || addresses
                            .iter()
                            .any(|address| address.parse::<lettre::Address>().is_err())
                    {
                        return Err(invalid(
                            at("targetIdentifier"),
                            "must be email addresses, separated by commas",
                        ));
                    }
                    EmailTarget::Addresses(addresses)
                }
                Some(other) => {
                    return Err(invalid(
                        at("targetType"),
                        format!("unknown target type {other:?}"),
                    ));
                }
            };
            Ok(Action::Email(target))
        }
        Some(other) => Err(invalid(at("id"), format!("unknown action {other:?}"))),
        None => Err(invalid(at("id"), "missing")),
    }
}

/// Checks a rule name: trimmed, not empty, at most 256 characters.
///
/// # Errors
///
/// When it is empty or too long.
pub fn rule_name(name: &str) -> Result<String, RuleError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(invalid(
            "name",
            format!("must have 1 to {MAX_NAME} characters"),
        ));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn webhook() -> Value {
        json!({"id": NOTIFY_SERVICE, "service": "webhooks", "url": "http://127.0.0.1:9/hook"})
    }

    #[test]
    fn reads_sentrys_conditions_and_actions() {
        let body = json!({
            "name": "ignored here",
            "actionMatch": "all",
            "frequency": 5,
            "environment": "production",
            "conditions": [
                {"id": FIRST_SEEN},
                {"id": EVENT_FREQUENCY, "value": 100, "interval": "1h", "comparisonType": "count"},
            ],
            "actions": [
                webhook(),
                {"id": NOTIFY_SERVICE, "service": "slack", "url": "https://hooks.slack.test/x"},
                {"id": NOTIFY_EMAIL, "targetType": "Email", "targetIdentifier": "a@x.test, b@x.test"},
                {"id": NOTIFY_EMAIL, "targetType": "Member", "targetIdentifier": "7"},
            ],
        });
        let rule = RuleConfig::from_json(&body).unwrap();
        assert_eq!(rule.action_match, Match::All);
        assert_eq!(
            rule.conditions,
            [
                Condition::FirstSeen,
                Condition::EventFrequency {
                    count: 100,
                    minutes: 60
                }
            ]
        );
        assert_eq!(rule.frequency, Duration::from_secs(300));
        assert_eq!(rule.environment.as_deref(), Some("production"));
        assert_eq!(
            rule.actions[2],
            Action::Email(EmailTarget::Addresses(vec![
                "a@x.test".to_owned(),
                "b@x.test".to_owned()
            ]))
        );
        assert_eq!(rule.actions[3], Action::Email(EmailTarget::Member(7)));
        assert_eq!(
            RuleConfig::from_json(&rule.to_json()).unwrap(),
            rule,
            "what the store keeps reads back the same"
        );
    }

    #[test]
    fn frequency_defaults_to_thirty_minutes() {
        let body = json!({"conditions": [{"id": REGRESSION}], "actions": [webhook()]});
        let rule = RuleConfig::from_json(&body).unwrap();
        assert_eq!(rule.frequency, Duration::from_secs(30 * 60));
        assert_eq!(rule.action_match, Match::Any);
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (
                json!({"conditions": [], "actions": [webhook()]}),
                "conditions",
            ),
            (
                json!({"conditions": [{"id": FIRST_SEEN}], "actions": []}),
                "actions",
            ),
            (
                json!({"conditions": [{"id": "nope"}], "actions": [webhook()]}),
                "conditions[0].id",
            ),
            (
                json!({"conditions": [{"id": EVENT_FREQUENCY, "value": 3, "interval": "5x"}], "actions": [webhook()]}),
                "conditions[0].interval",
            ),
            (
                json!({"conditions": [{"id": FIRST_SEEN}], "actions": [webhook(), {"id": NOTIFY_SERVICE, "service": "webhooks", "url": "ftp://x"}]}),
                "actions[1].url",
            ),
            (
                json!({"conditions": [{"id": FIRST_SEEN}], "actions": [{"id": NOTIFY_EMAIL, "targetType": "Email", "targetIdentifier": "not an address"}]}),
                "actions[0].targetIdentifier",
            ),
            (
                json!({"conditions": [{"id": FIRST_SEEN}], "actions": [webhook()], "frequency": 99999}),
                "frequency",
            ),
            (
                json!({"conditions": [{"id": FIRST_SEEN}], "actions": [webhook()], "actionMatch": "some"}),
                "actionMatch",
            ),
            (
                json!({"conditions": [{"id": FIRST_SEEN}], "actions": [webhook()], "filters": [{"id": "x"}]}),
                "filters",
            ),
        ];
        for (body, field) in cases {
            let error = RuleConfig::from_json(&body).unwrap_err();
            assert_eq!(error.field, field, "{body}");
        }
    }

    #[test]
    fn intervals_read_as_minutes() {
        assert_eq!(interval_minutes("1m"), Some(1));
        assert_eq!(interval_minutes("15m"), Some(15));
        assert_eq!(interval_minutes("1h"), Some(60));
        assert_eq!(interval_minutes("30d"), Some(43_200));
        assert_eq!(interval_minutes("1w"), Some(10_080));
        assert_eq!(interval_minutes("h"), None);
        assert_eq!(interval_minutes("10"), None);
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(rule_name("  New issues ").unwrap(), "New issues");
        assert_eq!(rule_name(" ").unwrap_err().field, "name");
        assert!(rule_name(&"x".repeat(257)).is_err());
    }
}
