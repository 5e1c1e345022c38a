//! Security report and template strategies (spec section 8): CSP, HPKP,
//! Expect-CT and Expect-Staple reports group by what was violated and where;
//! template errors by file and line.

use serde_json::Value;

use super::component::{NodeId, Slot, Tree};

fn text<'a>(report: &'a Value, key: &str) -> Option<&'a str> {
    report.get(key).and_then(Value::as_str)
}

fn salt(tree: &mut Tree, value: &str) -> NodeId {
    let component = tree.add_text("salt", value);
    tree.set_hint(component, Some("a static salt".into()));
    component
}

/// A CSP report: the effective directive, then the local violation or the
/// normalized blocked URI.
pub(super) fn csp(tree: &mut Tree, report: &Value) -> NodeId {
    let directive = text(report, "effective_directive").unwrap_or_default();
    let blocked_uri = normalize_blocked_uri(text(report, "blocked_uri").unwrap_or_default());
    let violated = text(report, "violated_directive").unwrap_or_default();
    let salt = salt(tree, directive);
    let violation = tree.add_empty("violation");
    let uri = tree.add_text("uri", &blocked_uri);
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
            tree.set_values(violation, [Slot::Static(kind)]);
            tree.disable(uri, "violation takes precedence");
        }
        None => tree.set_hint(violation, Some("not a local script violation".into())),
    }
    tree.add_parent("csp", &[salt, violation, uri])
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
pub(super) fn hostname_report(
    tree: &mut Tree,
    id: &'static str,
    salt_value: &str,
    report: &Value,
) -> NodeId {
    let salt = salt(tree, salt_value);
    let hostname = match text(report, "hostname") {
        Some(host) => tree.add_text("hostname", host),
        None => tree.add_empty("hostname"),
    };
    tree.add_parent(id, &[salt, hostname])
}

/// A template error: the file name and the source line, as sent.
pub(super) fn template(tree: &mut Tree, report: &Value) -> NodeId {
    let mut field = |id: &'static str, key: &str| match text(report, key) {
        Some(value) => tree.add_text(id, value),
        None => tree.add_empty(id),
    };
    let filename = field("filename", "filename");
    let context_line = field("context-line", "context_line");
    tree.add_parent("template", &[filename, context_line])
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
