//! Security report and template strategies (spec section 8): CSP, HPKP,
//! Expect-CT and Expect-Staple reports group by what was violated and where;
//! template errors by file and line.

use serde_json::Value;

use super::component::{Component, ComponentValue};

fn text(report: &Value, key: &str) -> Option<String> {
    report.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn salt(value: &str) -> ComponentValue {
    let mut component = Component::text("salt", value);
    component.hint = Some("a static salt".to_owned());
    ComponentValue::Component(component)
}

/// A CSP report: the effective directive, then the local violation or the
/// normalized blocked URI.
pub(super) fn csp(report: &Value) -> Component {
    let directive = text(report, "effective_directive").unwrap_or_default();
    let blocked_uri =
        normalize_blocked_uri(text(report, "blocked_uri").as_deref().unwrap_or_default());
    let violated = text(report, "violated_directive").unwrap_or_default();
    let mut violation = Component::empty("violation");
    let mut uri = Component::text("uri", blocked_uri.clone());
    let local_script = directive == "script-src" && blocked_uri == "'self'";
    let local_violation = if local_script && violated.contains("'unsafe-inline'") {
        Some("'unsafe-inline'")
    } else if local_script && violated.contains("'unsafe-eval'") {
        Some("'unsafe-eval'")
    } else {
        None
    };
    match local_violation {
        Some(kind) => {
            violation.set_values(vec![ComponentValue::Text(kind.to_owned())]);
            uri.disable("violation takes precedence");
        }
        None => violation.hint = Some("not a local script violation".to_owned()),
    }
    Component::new(
        "csp",
        vec![
            salt(&directive),
            ComponentValue::Component(violation),
            ComponentValue::Component(uri),
        ],
    )
}

/// Reduces a blocked URI to what identifies its origin.
fn normalize_blocked_uri(uri: &str) -> String {
    if uri.is_empty() || uri == "'self'" || uri == "self" {
        return "'self'".to_owned();
    }
    let Some((scheme, rest)) = uri.split_once(':') else {
        return format!("{uri}:");
    };
    let netloc = rest
        .strip_prefix("//")
        .map(|after| after.split(['/', '?', '#']).next().unwrap_or_default())
        .unwrap_or_default();
    if scheme == "http" || scheme == "https" {
        return netloc.to_owned();
    }
    if netloc.is_empty() {
        format!("{scheme}:")
    } else {
        format!("{scheme}://{netloc}")
    }
}

/// HPKP, Expect-CT or Expect-Staple: a fixed salt and the host name.
pub(super) fn hostname_report(id: &'static str, salt_value: &str, report: &Value) -> Component {
    let hostname = match text(report, "hostname") {
        Some(host) => Component::text("hostname", host),
        None => Component::empty("hostname"),
    };
    Component::new(
        id,
        vec![salt(salt_value), ComponentValue::Component(hostname)],
    )
}

/// A template error: the file name and the source line, as sent.
pub(super) fn template(report: &Value) -> Component {
    let field = |id: &'static str, key: &str| match text(report, key) {
        Some(value) => Component::text(id, value),
        None => Component::empty(id),
    };
    Component::new(
        "template",
        vec![
            ComponentValue::Component(field("filename", "filename")),
            ComponentValue::Component(field("context-line", "context_line")),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocked_uris_reduce_to_origin() {
        assert_eq!(normalize_blocked_uri(""), "'self'");
        assert_eq!(normalize_blocked_uri("data"), "data:");
        assert_eq!(normalize_blocked_uri("https://YYY"), "YYY");
        assert_eq!(
            normalize_blocked_uri("http://example.com:8080/a.js"),
            "example.com:8080"
        );
        assert_eq!(normalize_blocked_uri("data:foo"), "data:");
        assert_eq!(
            normalize_blocked_uri("ftp://example.com/foo"),
            "ftp://example.com"
        );
    }
}
