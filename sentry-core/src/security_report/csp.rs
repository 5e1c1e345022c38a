//! Content Security Policy violation reports, in their two shapes: the
//! legacy `report-uri` body (`{"csp-report": {"blocked-uri": ...}}`) and
//! the Reporting API's `csp-violation` body (`{"blockedURL": ...}`).

use std::fmt::Write as _;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::{EventParts, uri};

/// The directives a report may name; others make the report invalid.
const DIRECTIVES: &[&str] = &[
    "base-uri",
    "child-src",
    "connect-src",
    "default-src",
    "fenced-frame-src",
    "font-src",
    "form-action",
    "frame-ancestors",
    "frame-src",
    "img-src",
    "manifest-src",
    "media-src",
    "object-src",
    "plugin-types",
    "prefetch-src",
    "referrer",
    "script-src",
    "script-src-attr",
    "script-src-elem",
    "style-src",
    "style-src-elem",
    "style-src-attr",
    "upgrade-insecure-requests",
    "worker-src",
    "sandbox",
    "navigate-to",
    "report-uri",
    "report-to",
    "block-all-mixed-content",
    "require-sri-for",
    "require-trusted-types-for",
    "trusted-types",
];

/// A CSP report body as browsers send it, in any of their spellings; this
/// is also the `csp` interface it becomes, with Relay's field names.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub(super) struct Csp {
    #[serde(alias = "effective-directive", alias = "effectiveDirective")]
    effective_directive: Option<String>,
    #[serde(
        default = "local_uri",
        alias = "blocked-uri",
        alias = "blockedURL",
        alias = "blockedURI"
    )]
    blocked_uri: String,
    #[serde(alias = "document-uri", alias = "documentURL", alias = "documentURI")]
    document_uri: Option<String>,
    #[serde(alias = "original-policy", alias = "originalPolicy")]
    original_policy: Option<String>,
    referrer: Option<String>,
    #[serde(
        default,
        alias = "status-code",
        alias = "statusCode",
        deserialize_with = "number"
    )]
    status_code: Option<u64>,
    #[serde(default, alias = "violated-directive", alias = "violatedDirective")]
    violated_directive: String,
    #[serde(alias = "source-file", alias = "sourceFile")]
    source_file: Option<String>,
    #[serde(
        default,
        alias = "line-number",
        alias = "lineNumber",
        deserialize_with = "number"
    )]
    line_number: Option<u64>,
    #[serde(
        default,
        alias = "column-number",
        alias = "columnNumber",
        deserialize_with = "number"
    )]
    column_number: Option<u64>,
    #[serde(alias = "script-sample", alias = "scriptSample", alias = "sample")]
    script_sample: Option<String>,
    disposition: Option<String>,
    /// Fields of newer browsers, kept as sent.
    #[serde(flatten)]
    other: serde_json::Map<String, Value>,
}

/// A missing blocked URI means the document itself, as Relay reads it.
fn local_uri() -> String {
    "self".to_owned()
}

/// Reads a number that may come as a string (`"200"`), as browsers differ.
fn number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumberOrText {
        Number(u64),
        Text(String),
    }
    match Option::<NumberOrText>::deserialize(deserializer)? {
        None => Ok(None),
        Some(NumberOrText::Number(number)) => Ok(Some(number)),
        Some(NumberOrText::Text(text)) => text
            .trim()
            .parse()
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

/// The first word of a directive field, if it is a known directive.
fn directive_of(text: &str) -> Option<&'static str> {
    let first = text.split(' ').next().unwrap_or_default();
    DIRECTIVES.iter().copied().find(|known| *known == first)
}

/// What a fetch directive loads, as a title names it.
fn resource(directive: &str) -> Option<&'static str> {
    Some(match directive {
        "child-src" => "child",
        "connect-src" => "connect",
        "font-src" => "font",
        "img-src" => "image",
        "manifest-src" => "manifest",
        "media-src" => "media",
        "object-src" => "object",
        "script-src" | "script-src-elem" => "script",
        "style-src" | "style-src-elem" => "style",
        _ => return None,
    })
}

impl Csp {
    /// The directive that was enforced: the effective directive, else the
    /// violated one (Firefox sends no effective directive).
    pub(super) fn directive(&self) -> Option<&'static str> {
        self.effective_directive
            .as_deref()
            .and_then(directive_of)
            .or_else(|| directive_of(&self.violated_directive))
    }

    /// The URIs the noise filter looks at.
    pub(super) fn filtered_uris(&self) -> (Option<&str>, Option<&str>) {
        (Some(&self.blocked_uri), self.source_file.as_deref())
    }

    /// The title, as Relay words it.
    fn message(&self, directive: &str) -> String {
        let blocked = self.blocked_uri.as_str();
        if directive == "script-src" {
            match blocked {
                "inline" => return "Blocked unsafe inline 'script'".to_owned(),
                "eval" => return "Blocked unsafe eval() 'script'".to_owned(),
                _ => {}
            }
        }
        if uri::is_local(blocked) {
            return match directive {
                "script-src" => "Blocked unsafe (eval() or inline) 'script'".to_owned(),
                "script-src-attr" => "Blocked unsafe 'script' element".to_owned(),
                "script-src-elem" => "Blocked inline script attribute".to_owned(),
                "style-src-elem" => "Blocked 'style' or 'link' element".to_owned(),
                "style-src-attr" => "Blocked style attribute".to_owned(),
                _ => match resource(directive) {
                    Some(resource) => format!("Blocked inline '{resource}'"),
                    None => format!("Blocked inline '{directive}'"),
                },
            };
        }
        let from = uri::normalize(blocked);
        match directive {
            "form-action" => format!("Blocked 'form' action to '{from}'"),
            "script-src-attr" => format!("Blocked inline script attribute from '{from}'"),
            "style-src-attr" => format!("Blocked style attribute from '{from}'"),
            _ => format!(
                "Blocked '{}' from '{from}'",
                resource(directive).unwrap_or(directive)
            ),
        }
    }

    /// The culprit: the violated directive, with the sources that mean the
    /// document itself written `'self'`.
    fn culprit(&self) -> String {
        let mut words = self.violated_directive.split_ascii_whitespace();
        let Some(first) = words.next() else {
            return String::new();
        };
        let document = uri::normalize(self.document_uri.as_deref().unwrap_or_default());
        let mut culprit = first.to_owned();
        for word in words {
            // Writing to a String cannot fail.
            let _ = write!(culprit, " {}", self.source_value(word, &document));
        }
        culprit
    }

    /// A policy source as the culprit shows it; `document` is the reduced
    /// document URI (Firefox spells `'self'` out as the document's origin).
    fn source_value(&self, value: &str, document: &str) -> String {
        const KEYWORDS: &[&str] = &["'none'", "'self'", "'unsafe-inline'", "'unsafe-eval'"];
        const SCHEMES: &[&str] = &[
            "data:",
            "mediastream:",
            "blob:",
            "filesystem:",
            "http:",
            "https:",
            "file:",
        ];
        if KEYWORDS.contains(&value) {
            return value.to_owned();
        }
        if SCHEMES.iter().any(|scheme| value.starts_with(scheme)) {
            return if uri::normalize(value) == document {
                "'self'".to_owned()
            } else {
                value.to_owned()
            };
        }
        if value == document {
            return "'self'".to_owned();
        }
        // A source without a scheme takes the document's; the web ones are
        // left implicit.
        let original = self.document_uri.as_deref().unwrap_or_default();
        match original.split_once(':').map(|(scheme, _)| scheme) {
            None | Some("http" | "https") => value.to_owned(),
            Some(scheme) => uri::unsplit(scheme, value),
        }
    }

    /// The blocked URI for a tag, without the query of Stripe API calls,
    /// which carries secrets.
    fn blocked_uri_tag(&self) -> String {
        let uri = &self.blocked_uri;
        if uri.starts_with("https://api.stripe.com/")
            && let Some(end) = uri.find(['#', '?'])
        {
            return uri[..end].to_owned();
        }
        uri.clone()
    }

    fn tags(&self, directive: &str) -> Vec<(String, String)> {
        let mut tags = vec![
            ("effective-directive".to_owned(), directive.to_owned()),
            ("blocked-uri".to_owned(), self.blocked_uri_tag()),
        ];
        if let Some(origin) = uri::origin(&self.blocked_uri)
            && matches!(origin.scheme.as_str(), "http" | "https")
        {
            tags.push(("blocked-host".to_owned(), origin.host));
        }
        tags
    }

    /// Turns the report into an event's parts, with `directive` from
    /// [`Csp::directive`].
    pub(super) fn into_parts(mut self, directive: &'static str) -> EventParts {
        let message = self.message(directive);
        let culprit = self.culprit();
        let tags = self.tags(directive);
        let mut headers = Vec::new();
        if let Some(referrer) = self.referrer.as_deref().filter(|r| !r.is_empty()) {
            headers.push(("Referer".to_owned(), referrer.to_owned()));
        }
        let url = self.document_uri.clone();
        self.effective_directive = Some(directive.to_owned());
        EventParts {
            message,
            culprit,
            tags,
            url,
            headers,
            interface: serde_json::to_value(&self).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn csp(body: Value) -> Csp {
        serde_json::from_value(body).unwrap()
    }

    fn message(directive: &str, blocked: &str) -> String {
        let report = csp(json!({"effective-directive": directive, "blocked-uri": blocked}));
        report.message(report.directive().unwrap())
    }

    #[test]
    fn messages_name_the_resource_and_origin() {
        assert_eq!(
            message("script-src", "https://evil.example.com/x.js?a=1"),
            "Blocked 'script' from 'evil.example.com'"
        );
        assert_eq!(
            message("style-src", "http://example.com/lol.css"),
            "Blocked 'style' from 'example.com'"
        );
        assert_eq!(message("img-src", "data"), "Blocked 'image' from 'data:'");
        assert_eq!(
            message("form-action", "https://a.example/post"),
            "Blocked 'form' action to 'a.example'"
        );
        assert_eq!(
            message("default-src", "http://evilhackerscripts.com"),
            "Blocked 'default-src' from 'evilhackerscripts.com'"
        );
        assert_eq!(
            message("script-src", "inline"),
            "Blocked unsafe inline 'script'"
        );
        assert_eq!(
            message("script-src", "eval"),
            "Blocked unsafe eval() 'script'"
        );
        assert_eq!(
            message("script-src", ""),
            "Blocked unsafe (eval() or inline) 'script'"
        );
        assert_eq!(message("img-src", "self"), "Blocked inline 'image'");
        assert_eq!(message("frame-src", "'self'"), "Blocked inline 'frame-src'");
        assert_eq!(
            message("style-src-attr", "https://cdn.example/a.css"),
            "Blocked style attribute from 'cdn.example'"
        );
    }

    #[test]
    fn directive_falls_back_to_the_violated_one() {
        let report = csp(json!({"violated-directive": "script-src 'self' https://cdn.example"}));
        assert_eq!(report.directive(), Some("script-src"));
        let report =
            csp(json!({"effective-directive": "nonsense", "violated-directive": "img-src"}));
        assert_eq!(report.directive(), Some("img-src"));
        assert_eq!(
            csp(json!({"effective-directive": "nonsense"})).directive(),
            None
        );
    }

    #[test]
    fn culprit_writes_the_document_origin_as_self() {
        let report = csp(json!({
            "document-uri": "https://example.com/page",
            "violated-directive": "script-src https://example.com 'unsafe-eval' cdn.example.com",
        }));
        assert_eq!(
            report.culprit(),
            "script-src 'self' 'unsafe-eval' cdn.example.com"
        );
        let report = csp(json!({
            "document-uri": "chrome-extension://abc/page",
            "violated-directive": "img-src cdn.example.com",
        }));
        assert_eq!(
            report.culprit(),
            "img-src chrome-extension://cdn.example.com"
        );
        assert_eq!(csp(json!({})).culprit(), "");
    }

    #[test]
    fn tags_drop_stripe_queries_and_name_the_host() {
        let report = csp(json!({
            "effective-directive": "connect-src",
            "blocked-uri": "https://api.stripe.com/v1/tokens?card=4242",
        }));
        assert_eq!(
            report.tags("connect-src"),
            vec![
                ("effective-directive".to_owned(), "connect-src".to_owned()),
                (
                    "blocked-uri".to_owned(),
                    "https://api.stripe.com/v1/tokens".to_owned()
                ),
                ("blocked-host".to_owned(), "api.stripe.com".to_owned()),
            ]
        );
    }

    #[test]
    fn numbers_may_be_text_but_not_words() {
        let report = csp(json!({"status-code": "200", "lineNumber": 3}));
        assert_eq!(report.status_code, Some(200));
        assert_eq!(report.line_number, Some(3));
        assert!(serde_json::from_value::<Csp>(json!({"status-code": "ok"})).is_err());
    }
}
