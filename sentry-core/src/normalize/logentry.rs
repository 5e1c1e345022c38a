//! Log entries: a plain `message` moves to `logentry.formatted`, and a
//! templated message is formatted from its `params`.

use crate::protocol::{Event, LogEntry, Message};

/// Moves a legacy `message` into `logentry` and formats the template.
pub(crate) fn normalize_logentry(event: &mut Event) {
    let mut entry = event.logentry.take().unwrap_or_default();
    match event.message.take() {
        Some(Message::Text(text)) if entry.message.is_none() && entry.formatted.is_none() => {
            entry.formatted = Some(text);
        }
        Some(Message::Entry(legacy)) if entry.message.is_none() && entry.formatted.is_none() => {
            entry = legacy;
        }
        _ => {}
    }
    if entry.formatted.is_none() {
        entry.formatted = entry
            .message
            .as_deref()
            .map(|template| format_params(template, entry.params.as_ref()));
    }
    if entry != LogEntry::default() {
        event.logentry = Some(entry);
    }
}

/// Fills `%s`-style placeholders from a list of parameters, in order.
fn format_params(template: &str, params: Option<&serde_json::Value>) -> String {
    let Some(serde_json::Value::Array(params)) = params else {
        return template.to_owned();
    };
    let mut params = params.iter();
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(pos) = rest.find('%') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        match after.chars().next() {
            Some('%') => {
                out.push('%');
                rest = &after[1..];
            }
            Some(spec @ ('s' | 'd' | 'i' | 'f' | 'r')) => {
                match params.next() {
                    Some(serde_json::Value::String(text)) => out.push_str(text),
                    Some(other) => out.push_str(&other.to_string()),
                    None => {
                        out.push('%');
                        out.push(spec);
                    }
                }
                rest = &after[1..];
            }
            _ => {
                out.push('%');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}
