//! The tags an event is indexed by: the ones the SDK sent, plus the ones
//! Sentry derives from the event's fields and contexts (`level`,
//! `environment`, `release`, `user`, `os.name`, `browser`, ...), so that
//! issue search and tag facets see the same keys as in Sentry.

use serde_json::Value;

use crate::protocol::Event;

/// Longest tag value kept, in characters, as in Sentry; longer values are dropped.
pub const MAX_TAG_VALUE_CHARS: usize = 200;
/// Longest tag key kept, in characters, as in Sentry; longer keys are dropped.
pub const MAX_TAG_KEY_CHARS: usize = 200;

/// Returns an event's tags, each key once: sent tags first, in their order,
/// then derived ones whose key the SDK did not send. Empty values, values
/// with line breaks or NUL (which Sentry rejects too) and overlong keys or
/// values are left out.
pub fn event_tags(event: &Event) -> Vec<(String, String)> {
    let mut tags: Vec<(String, String)> = Vec::new();
    let mut push = |key: &str, value: &str| {
        if value.is_empty()
            || value.contains(['\n', '\r', '\0'])
            || value.chars().count() > MAX_TAG_VALUE_CHARS
            || key.is_empty()
            || key.chars().count() > MAX_TAG_KEY_CHARS
            || tags.iter().any(|(existing, _)| existing == key)
        {
            return;
        }
        tags.push((key.to_owned(), value.to_owned()));
    };
    for (key, value) in event.tags.iter().flat_map(|tags| tags.0.iter()) {
        push(key, value);
    }
    if let Some(level) = event.level {
        push("level", level.as_str());
    }
    for (key, value) in [
        ("environment", &event.environment),
        ("release", &event.release),
        ("dist", &event.dist),
        ("logger", &event.logger),
        ("server_name", &event.server_name),
        ("transaction", &event.transaction),
    ] {
        if let Some(value) = value {
            push(key, value);
        }
    }
    if let Some(user) = event.user.as_ref().and_then(|user| user.tag_value()) {
        push("user", &user);
    }
    if let Some(url) = event
        .request
        .as_ref()
        .and_then(|request| request.url.as_deref())
    {
        push("url", url);
    }
    if let Some(contexts) = &event.contexts {
        for (context, name_tag, combined_tag) in [
            ("os", "os.name", "os"),
            ("browser", "browser.name", "browser"),
            ("runtime", "runtime.name", "runtime"),
            ("device", "device.family", "device"),
            ("client_os", "client_os.name", "client_os"),
        ] {
            let Some(Value::Object(fields)) = contexts.get(context) else {
                continue;
            };
            let text = |field: &str| fields.get(field).and_then(Value::as_str);
            let name = if context == "device" {
                text("family").or_else(|| text("model"))
            } else {
                text("name")
            };
            let Some(name) = name else { continue };
            push(name_tag, name);
            match text("version").filter(|_| context != "device") {
                Some(version) => push(combined_tag, &format!("{name} {version}")),
                None => push(combined_tag, name),
            }
        }
    }
    let exceptions = event.exceptions();
    if let Some(mechanism) = exceptions.last().and_then(|e| e.mechanism.as_ref()) {
        if let Some(ty) = mechanism.ty.as_deref() {
            push("mechanism", ty);
        }
    }
    let handled = exceptions
        .iter()
        .filter_map(|exception| exception.mechanism.as_ref()?.handled)
        .collect::<Vec<_>>();
    if !handled.is_empty() {
        push(
            "handled",
            if handled.iter().all(|h| *h) {
                "yes"
            } else {
                "no"
            },
        );
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags_of(json: &str) -> Vec<(String, String)> {
        let event: Event = serde_json::from_str(json).unwrap();
        event_tags(&event)
    }

    fn get<'a>(tags: &'a [(String, String)], key: &str) -> Option<&'a str> {
        tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    #[test]
    fn sent_tags_win_over_derived_ones() {
        let tags = tags_of(
            r#"{"tags":{"environment":"from-tag","color":"red"},"environment":"prod","level":"warning"}"#,
        );
        assert_eq!(get(&tags, "environment"), Some("from-tag"));
        assert_eq!(get(&tags, "color"), Some("red"));
        assert_eq!(get(&tags, "level"), Some("warning"));
        assert_eq!(tags.iter().filter(|(k, _)| k == "environment").count(), 1);
    }

    #[test]
    fn derives_user_contexts_and_exception_tags() {
        let tags = tags_of(
            r#"{"user":{"id":7},"release":"app@1.0","request":{"url":"https://x.test/a"},
                "contexts":{"os":{"name":"Linux","version":"6.1"},"browser":{"name":"Chrome"},
                            "device":{"family":"Pixel"}},
                "exception":{"values":[{"type":"E","mechanism":{"type":"generic","handled":false}}]}}"#,
        );
        assert_eq!(get(&tags, "user"), Some("id:7"));
        assert_eq!(get(&tags, "release"), Some("app@1.0"));
        assert_eq!(get(&tags, "url"), Some("https://x.test/a"));
        assert_eq!(get(&tags, "os.name"), Some("Linux"));
        assert_eq!(get(&tags, "os"), Some("Linux 6.1"));
        assert_eq!(get(&tags, "browser"), Some("Chrome"));
        assert_eq!(get(&tags, "device.family"), Some("Pixel"));
        assert_eq!(get(&tags, "mechanism"), Some("generic"));
        assert_eq!(get(&tags, "handled"), Some("no"));
    }

    #[test]
    fn drops_empty_and_overlong_values() {
        let long = "x".repeat(MAX_TAG_VALUE_CHARS + 1);
        let tags = tags_of(&format!(
            r#"{{"tags":{{"a":"","b":"{long}","c":"ok","d":"two\nlines"}}}}"#
        ));
        assert_eq!(tags, vec![("c".to_owned(), "ok".to_owned())]);
    }
}
