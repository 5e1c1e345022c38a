//! Server-side fingerprint rules ("fingerprinting", spec section 11) and
//! fingerprint variables (spec section 3.6).
//!
//! A project can replace the fingerprint of matching events with rules such as
//!
//! ```text
//! # one rule per line, `#` starts a comment line
//! error.type:DatabaseUnavailable -> system-down
//! logger:"sentry.*" !level:debug -> log-{{ logger }} title="Log from {{ logger }}"
//! ```
//!
//! The first rule (in order) whose matchers all hold wins; after the
//! project's rules come the built-in rules of the grouping config
//! ([`FingerprintingRules::builtin`]). The chosen fingerprint keeps its
//! `{{ variable }}` placeholders: they are resolved when hashing
//! ([`resolve_entry`]), and `{{ default }}` is expanded by the caller. A
//! rule's `title` attribute replaces the event title ([`expand_template`]).
//!
//! Why a reimplementation matters to the byte: the resulting fingerprint is
//! hashed, so rules copied from Sentry must produce the same values here.
//! Deliberate differences from Sentry (all about rule text Sentry accepts
//! but that is almost certainly a mistake) are listed on
//! [`FingerprintingRules::parse`] and [`FingerprintingRules::from_json`].

mod json;
mod matcher;
mod parser;
mod sdk;
mod variables;

#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::OnceLock;

use crate::protocol::Event;

pub use self::matcher::{Matcher, MatcherKey};
pub use self::sdk::normalize_sdk_name;
pub use self::variables::{FingerprintValue, expand_template, parse_variable, resolve_entry};

/// The fingerprint entry that stands for the default grouping.
pub const DEFAULT_ENTRY: &str = "{{ default }}";

/// Rules that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// A problem in rules text, at a 1-based line and column (in characters).
    #[error("line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line number.
        line: usize,
        /// 1-based column, counted in characters.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A problem in Sentry's JSON rule structure, at a path such as
    /// `rules[0].matchers[1]`.
    #[error("{path}: {message}")]
    Json {
        /// Where in the structure.
        path: String,
        /// What is wrong.
        message: String,
    },
}

impl ParseError {
    /// Returns the 1-based line of a text error.
    pub fn line(&self) -> Option<usize> {
        match self {
            ParseError::Syntax { line, .. } => Some(*line),
            ParseError::Json { .. } => None,
        }
    }

    /// Returns the 1-based column of a text error.
    pub fn column(&self) -> Option<usize> {
        match self {
            ParseError::Syntax { column, .. } => Some(*column),
            ParseError::Json { .. } => None,
        }
    }
}

/// One rule: matchers, the fingerprint they assign and an optional title.
#[derive(Debug, Clone, PartialEq)]
pub struct FingerprintRule {
    matchers: Vec<Matcher>,
    fingerprint: Vec<String>,
    title: Option<String>,
    is_builtin: bool,
}

impl FingerprintRule {
    /// Returns the matchers, in rule order.
    pub fn matchers(&self) -> &[Matcher] {
        &self.matchers
    }

    /// Returns the fingerprint, placeholders unresolved.
    pub fn fingerprint(&self) -> &[String] {
        &self.fingerprint
    }

    /// Returns the `title` attribute, placeholders unresolved.
    pub fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }

    /// Whether the rule is one of the config's built-in rules.
    pub fn is_builtin(&self) -> bool {
        self.is_builtin
    }

    /// Returns Sentry's JSON form of the rule:
    /// `{"matchers": [[key, pattern], ...], "fingerprint": [...],
    /// "attributes": {...}}`, plus `"is_builtin": true` for built-in rules.
    pub fn to_json(&self) -> serde_json::Value {
        json::rule_to_json(self)
    }

    /// Returns the rule as text that [`FingerprintingRules::parse`] reads
    /// back into an equal rule: every pattern and value quoted and escaped.
    ///
    /// [`Display`](fmt::Display) gives Sentry's text form instead, which
    /// does not round-trip in general (it glues fingerprint values together).
    pub fn to_text(&self) -> String {
        let matchers: Vec<String> = self.matchers.iter().map(Matcher::to_text).collect();
        let values: Vec<String> = self
            .fingerprint
            .iter()
            .map(|value| parser::quote(value))
            .collect();
        let mut text = format!("{} -> {}", matchers.join(" "), values.join(" "));
        if let Some(title) = &self.title {
            text.push_str(" title=");
            text.push_str(&parser::quote(title));
        }
        text
    }

    /// Whether every matcher group of the rule is satisfied by the event.
    fn matches(&self, event: &matcher::EventView<'_>) -> bool {
        event.satisfies(&self.matchers)
    }
}

/// Sentry's text form, as Sentry shows it for a matched rule (`matched_rule`
/// in variant info): `type:"A" module:"b*" -> "ab{{ transaction }}" title="T"`.
///
/// Patterns are printed raw and the fingerprint values are concatenated into
/// one quoted string, exactly as Sentry does; use
/// [`FingerprintRule::to_text`] for text that parses back.
impl fmt::Display for FingerprintRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, matcher) in self.matchers.iter().enumerate() {
            if index > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{matcher}")?;
        }
        write!(f, " -> \"{}\"", self.fingerprint.concat())?;
        if let Some(title) = &self.title {
            write!(f, " title=\"{title}\"")?;
        }
        Ok(())
    }
}

/// The rule that matched an event and what it assigns.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleMatch<'a> {
    /// The matching rule.
    pub rule: &'a FingerprintRule,
    /// The new fingerprint, with `{{ ... }}` placeholders kept.
    pub fingerprint: Vec<String>,
    /// The new event title with placeholders expanded, if the rule sets one.
    pub title: Option<String>,
    /// Whether the rule is built-in (the variant is then
    /// `built-in-fingerprint` instead of `custom-fingerprint`).
    pub is_builtin: bool,
}

/// An ordered list of fingerprint rules.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FingerprintingRules {
    rules: Vec<FingerprintRule>,
}

/// The built-in rule files of `javascript@2024-02-02`, in file name order.
const BUILTIN_FILES: [&str; 2] = [
    include_str!("../rules/fingerprinting/javascript@2024-02-02/001_chunkload_errors.txt"),
    include_str!("../rules/fingerprinting/javascript@2024-02-02/002_hydration_errors.txt"),
];

impl FingerprintingRules {
    /// Parses rules text (spec section 11.1): one `matcher+ -> fingerprint
    /// [title="..."]` rule per line; lines starting with `#` are comments.
    ///
    /// - matcher: `[!]key:argument`, the key plain (`[a-zA-Z0-9_.-]+`) or
    ///   quoted (`"tags.a:b"`), the argument a double-quoted string or a run
    ///   of non-whitespace; aliases (`error.type`) become Sentry's internal
    ///   names (`type`).
    /// - fingerprint: values separated by spaces and/or one comma; a value
    ///   is a quoted string, a `{{ variable }}`, or a run without
    ///   whitespace, `{` or `,` (so `log-{{ logger }}` is two values).
    ///   Variants of `{{default}}` are written as [`DEFAULT_ENTRY`].
    /// - attribute `title="..."`; any other attribute is an error.
    /// - quoted strings understand `\\`, `\"`, `\'`, `\n`, `\r` and `\t`;
    ///   any other backslash is kept, so glob escapes such as `\*` work.
    ///
    /// As in Sentry, a `#` after `->` is a fingerprint value, not a comment.
    /// Stricter than Sentry: tabs count as spaces; an unterminated quoted
    /// string (also one running past the end of the line) is an error rather
    /// than a literal `"`; a rule needs at least one fingerprint value; glob
    /// patterns that cannot compile (an unclosed `[` or `{`) are errors.
    ///
    /// # Errors
    ///
    /// [`ParseError::Syntax`] with the line and column of the first problem.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        parser::parse_rules(text).map(|rules| Self { rules })
    }

    /// Reads Sentry's JSON rule structure: `{"version": 1, "rules": [...]}`
    /// or just the list of rules, each
    /// `{"matchers": [["!type", "A*"], ...], "fingerprint": [...],
    /// "attributes": {"title": "..."}, "is_builtin": false}`.
    ///
    /// Keys such as `text` are ignored. Stricter than Sentry: a rule needs at
    /// least one matcher and one fingerprint value, and only the `title`
    /// attribute is accepted.
    ///
    /// # Errors
    ///
    /// [`ParseError::Json`] naming the offending part.
    pub fn from_json(value: &serde_json::Value) -> Result<Self, ParseError> {
        json::rules_from_json(value).map(|rules| Self { rules })
    }

    /// Returns Sentry's JSON structure, `{"version": 1, "rules": [...]}`.
    pub fn to_json(&self) -> serde_json::Value {
        json::rules_to_json(&self.rules)
    }

    /// Returns the rules as text that [`FingerprintingRules::parse`] reads
    /// back, one [`FingerprintRule::to_text`] per line.
    pub fn to_text(&self) -> String {
        let mut text = String::new();
        for rule in &self.rules {
            text.push_str(&rule.to_text());
            text.push('\n');
        }
        text
    }

    /// The built-in rules of the grouping config (`javascript@2024-02-02`:
    /// ChunkLoadError and React hydration errors), marked built-in.
    pub fn builtin() -> &'static FingerprintingRules {
        static BUILTIN: OnceLock<FingerprintingRules> = OnceLock::new();
        BUILTIN.get_or_init(|| {
            // Each file is parsed on its own, as Sentry does. The files are
            // embedded and covered by tests, so a parse failure cannot reach
            // production; should it happen anyway, fail closed with no rules
            // rather than panic at ingest.
            let mut rules = Vec::new();
            for file in BUILTIN_FILES {
                if let Ok(parsed) = parser::parse_rules(file) {
                    rules.extend(parsed);
                }
            }
            for rule in &mut rules {
                rule.is_builtin = true;
            }
            FingerprintingRules { rules }
        })
    }

    /// Returns the rules, in order.
    pub fn rules(&self) -> &[FingerprintRule] {
        &self.rules
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Returns the number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Returns the first rule, in order, that matches the event.
    ///
    /// The event should be normalized (trimmed function names); frames
    /// whose `in_app` is unset count as not in-app, as they do in Sentry
    /// after stack trace normalization.
    pub fn first_match(&self, event: &Event) -> Option<RuleMatch<'_>> {
        let view = matcher::EventView::new(event);
        let rule = self.rules.iter().find(|rule| rule.matches(&view))?;
        Some(RuleMatch {
            rule,
            fingerprint: rule.fingerprint.clone(),
            title: rule
                .title
                .as_deref()
                .map(|title| expand_template(title, event)),
            is_builtin: rule.is_builtin,
        })
    }

    /// Returns the first match among these (project) rules, else among the
    /// built-in rules: the order Sentry applies them in.
    pub fn first_match_with_builtin(&self, event: &Event) -> Option<RuleMatch<'_>> {
        self.first_match(event)
            .or_else(|| Self::builtin().first_match(event))
    }
}
