//! Matchers and what they see of an event (spec section 11.2).
//!
//! Matchers are grouped by the part of the event they look at. A rule
//! matches when, for each group, one single element (one exception, one
//! frame, ...) satisfies every matcher of that group. A group with no
//! elements fails the rule, even for negated matchers: `!type:A` needs an
//! exception that is not `A`.

use std::cell::OnceCell;
use std::fmt;

use super::parser;
use super::sdk::normalize_sdk_name;
use crate::grouping::glob::{Glob, GlobKind};
use crate::grouping::platform::Family;
use crate::protocol::{Event, Frame, Message, Tags, Thread};

/// What a matcher tests, by Sentry's internal key name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MatcherKey {
    /// `type`, `error.type`: each exception's type.
    Type,
    /// `value`, `error.value`: each exception's value.
    Value,
    /// `message`: the formatted message and each exception's value.
    Message,
    /// `logger`: the logger name.
    Logger,
    /// `level`: the event level.
    Level,
    /// `function`, `stack.function`: each frame's function.
    Function,
    /// `module`, `stack.module`: each frame's module.
    Module,
    /// `path`, `stack.abs_path`: each frame's `abs_path`, else `filename`.
    Path,
    /// `package`, `stack.package`: each frame's package.
    Package,
    /// `app`: each frame's `in_app`.
    App,
    /// `family`: the platform family of the event.
    Family,
    /// `sdk`: the normalized SDK name ([`normalize_sdk_name`]).
    Sdk,
    /// `release`: the release.
    Release,
    /// `tags.<name>`: the value of a tag.
    Tag(String),
}

impl MatcherKey {
    /// Reads a key or one of its aliases.
    pub fn from_name(name: &str) -> Option<Self> {
        if let Some(tag) = name.strip_prefix("tags.") {
            return Some(MatcherKey::Tag(tag.to_owned()));
        }
        Some(match name {
            "type" | "error.type" => MatcherKey::Type,
            "value" | "error.value" => MatcherKey::Value,
            "message" => MatcherKey::Message,
            "logger" => MatcherKey::Logger,
            "level" => MatcherKey::Level,
            "function" | "stack.function" => MatcherKey::Function,
            "module" | "stack.module" => MatcherKey::Module,
            "path" | "stack.abs_path" => MatcherKey::Path,
            "package" | "stack.package" => MatcherKey::Package,
            "app" => MatcherKey::App,
            "family" => MatcherKey::Family,
            "sdk" => MatcherKey::Sdk,
            "release" => MatcherKey::Release,
            _ => return None,
        })
    }

    /// Returns the internal name of a non-tag key.
    fn fixed_name(&self) -> Option<&'static str> {
        Some(match self {
            MatcherKey::Type => "type",
            MatcherKey::Value => "value",
            MatcherKey::Message => "message",
            MatcherKey::Logger => "logger",
            MatcherKey::Level => "level",
            MatcherKey::Function => "function",
            MatcherKey::Module => "module",
            MatcherKey::Path => "path",
            MatcherKey::Package => "package",
            MatcherKey::App => "app",
            MatcherKey::Family => "family",
            MatcherKey::Sdk => "sdk",
            MatcherKey::Release => "release",
            MatcherKey::Tag(_) => return None,
        })
    }

    /// Which part of the event the key looks at.
    fn group(&self) -> Group {
        match self {
            MatcherKey::Type | MatcherKey::Value => Group::Exceptions,
            MatcherKey::Message => Group::TopLevel,
            MatcherKey::Logger | MatcherKey::Level => Group::LogInfo,
            MatcherKey::Function
            | MatcherKey::Module
            | MatcherKey::Path
            | MatcherKey::Package
            | MatcherKey::App => Group::Frames,
            MatcherKey::Family => Group::Family,
            MatcherKey::Sdk => Group::Sdk,
            MatcherKey::Release => Group::Release,
            MatcherKey::Tag(_) => Group::Tags,
        }
    }

    /// The glob flavour of the key (spec 11.1), or `None` when the pattern
    /// is not a glob.
    fn glob_kind(&self) -> Option<GlobKind> {
        match self {
            MatcherKey::Type
            | MatcherKey::Logger
            | MatcherKey::Function
            | MatcherKey::Module
            | MatcherKey::Tag(_) => Some(GlobKind::Text {
                case_insensitive: false,
            }),
            MatcherKey::Value | MatcherKey::Message | MatcherKey::Level => Some(GlobKind::Text {
                case_insensitive: true,
            }),
            MatcherKey::Path | MatcherKey::Package | MatcherKey::Release => Some(GlobKind::Path),
            MatcherKey::App | MatcherKey::Family | MatcherKey::Sdk => None,
        }
    }
}

/// The internal name: `type`, `path`, `tags.<name>`, ...
impl fmt::Display for MatcherKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self, self.fixed_name()) {
            (MatcherKey::Tag(tag), _) => write!(f, "tags.{tag}"),
            (_, Some(name)) => f.write_str(name),
            (_, None) => Ok(()),
        }
    }
}

/// The parts of an event matchers look at; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    Exceptions,
    Frames,
    TopLevel,
    LogInfo,
    Tags,
    Sdk,
    Family,
    Release,
}

/// How a pattern is compared.
#[derive(Debug, Clone)]
enum Test {
    Glob(Glob),
    /// `app:`: the expected `in_app`, `None` for a pattern that is not a
    /// boolean (it never matches, as in Sentry once `in_app` is set).
    Bool(Option<bool>),
    /// `family:`, `sdk:`: a comma list of names, `all` matching anything.
    Names(Vec<String>),
}

/// One `[!]key:pattern` condition.
#[derive(Debug, Clone)]
pub struct Matcher {
    key: MatcherKey,
    pattern: String,
    negated: bool,
    test: Test,
}

/// Matchers are equal when key, pattern and negation are.
impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key && self.pattern == other.pattern && self.negated == other.negated
    }
}

/// Why a matcher could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum MatcherError {
    /// The key is not a known matcher name.
    UnknownKey(String),
    /// The pattern is not a valid glob.
    InvalidPattern(String),
}

impl fmt::Display for MatcherError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MatcherError::UnknownKey(key) => write!(f, "unknown matcher `{key}`"),
            MatcherError::InvalidPattern(pattern) => {
                write!(f, "invalid pattern `{pattern}` (unclosed `[` or `{{`)")
            }
        }
    }
}

impl Matcher {
    /// Builds a matcher from a key (or alias) and its pattern.
    pub(super) fn new(key: &str, pattern: &str, negated: bool) -> Result<Self, MatcherError> {
        let key =
            MatcherKey::from_name(key).ok_or_else(|| MatcherError::UnknownKey(key.to_owned()))?;
        let test = match (key.glob_kind(), &key) {
            (Some(kind), _) => Test::Glob(
                Glob::new(pattern, kind)
                    .map_err(|_| MatcherError::InvalidPattern(pattern.to_owned()))?,
            ),
            (None, MatcherKey::App) => Test::Bool(bool_from_string(pattern)),
            (None, _) => Test::Names(pattern.split(',').map(str::to_owned).collect()),
        };
        Ok(Self {
            key,
            pattern: pattern.to_owned(),
            negated,
            test,
        })
    }

    /// Returns the key (aliases resolved).
    pub fn key(&self) -> &MatcherKey {
        &self.key
    }

    /// Returns the pattern as written (unescaped).
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Whether the matcher is negated (`!key:pattern`).
    pub fn is_negated(&self) -> bool {
        self.negated
    }

    /// Returns the matcher as text that parses back: `[!]key:"pattern"`.
    pub(super) fn to_text(&self) -> String {
        let negation = if self.negated { "!" } else { "" };
        let key = self.key.to_string();
        let plain_key = !key.is_empty() && key.chars().all(parser::is_key_char);
        let key = if plain_key { key } else { format!("\"{key}\"") };
        format!("{negation}{key}:{}", parser::quote(&self.pattern))
    }

    fn matches(&self, fields: &Fields<'_>) -> bool {
        self.positive_match(fields) != self.negated
    }

    fn positive_match(&self, fields: &Fields<'_>) -> bool {
        match &self.test {
            Test::Glob(glob) => match &self.key {
                // A message pattern also tests exception values, as users expect.
                MatcherKey::Message => [fields.message, fields.value]
                    .into_iter()
                    .flatten()
                    .any(|value| glob.is_match(value)),
                MatcherKey::Tag(tag) => fields
                    .tags
                    .and_then(|tags| tags.get(tag))
                    .is_some_and(|value| glob.is_match(value)),
                key => field(fields, key).is_some_and(|value| glob.is_match(value)),
            },
            Test::Bool(expected) => expected.is_some() && fields.app == *expected,
            Test::Names(names) => field(fields, &self.key)
                .is_some_and(|value| names.iter().any(|name| name == "all" || name == value)),
        }
    }
}

/// Sentry's text form: `[!]key:"pattern"`, the pattern printed raw.
impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let negation = if self.negated { "!" } else { "" };
        write!(f, "{negation}{}:\"{}\"", self.key, self.pattern)
    }
}

/// `true`/`yes`/`1` or `false`/`no`/`0`, any case.
fn bool_from_string(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "1" | "yes" | "true" => Some(true),
        "0" | "no" | "false" => Some(false),
        _ => None,
    }
}

/// What one element of a group shows to matchers; fields of other groups
/// stay `None`.
#[derive(Debug, Clone, Copy, Default)]
struct Fields<'e> {
    ty: Option<&'e str>,
    value: Option<&'e str>,
    message: Option<&'e str>,
    logger: Option<&'e str>,
    level: Option<&'static str>,
    function: Option<&'e str>,
    module: Option<&'e str>,
    path: Option<&'e str>,
    package: Option<&'e str>,
    app: Option<bool>,
    tags: Option<&'e Tags>,
    sdk: Option<&'static str>,
    family: Option<&'static str>,
    release: Option<&'e str>,
}

/// The field a non-message, non-tag key compares.
fn field<'e>(fields: &Fields<'e>, key: &MatcherKey) -> Option<&'e str> {
    match key {
        MatcherKey::Type => fields.ty,
        MatcherKey::Value => fields.value,
        MatcherKey::Message => fields.message,
        MatcherKey::Logger => fields.logger,
        MatcherKey::Level => fields.level,
        MatcherKey::Function => fields.function,
        MatcherKey::Module => fields.module,
        MatcherKey::Path => fields.path,
        MatcherKey::Package => fields.package,
        MatcherKey::Sdk => fields.sdk,
        MatcherKey::Family => fields.family,
        MatcherKey::Release => fields.release,
        MatcherKey::App | MatcherKey::Tag(_) => None,
    }
}

/// An event as matchers see it. Each group's elements are computed on
/// first use and shared by all rules tested against the event.
pub(super) struct EventView<'e> {
    event: &'e Event,
    exceptions: OnceCell<Vec<Fields<'e>>>,
    frames: OnceCell<Vec<Fields<'e>>>,
    toplevel: OnceCell<Vec<Fields<'e>>>,
    log_info: OnceCell<Vec<Fields<'e>>>,
    sdk: OnceCell<Vec<Fields<'e>>>,
}

impl<'e> EventView<'e> {
    pub(super) fn new(event: &'e Event) -> Self {
        Self {
            event,
            exceptions: OnceCell::new(),
            frames: OnceCell::new(),
            toplevel: OnceCell::new(),
            log_info: OnceCell::new(),
            sdk: OnceCell::new(),
        }
    }

    /// Whether, for every group among the matchers, one element satisfies
    /// all of that group's matchers.
    pub(super) fn satisfies(&self, matchers: &[Matcher]) -> bool {
        // Groups in the order they first appear, each tested once; rules
        // have a few matchers, so finding them again beats collecting.
        matchers.iter().enumerate().all(|(index, first)| {
            let group = first.key.group();
            let seen = matchers
                .get(..index)
                .unwrap_or_default()
                .iter()
                .any(|earlier| earlier.key.group() == group);
            seen || self.with_elements(group, |elements| {
                elements.iter().any(|fields| {
                    matchers
                        .iter()
                        .filter(|matcher| matcher.key.group() == group)
                        .all(|matcher| matcher.matches(fields))
                })
            })
        })
    }

    /// Runs `test` on the elements of a group.
    fn with_elements(&self, group: Group, test: impl Fn(&[Fields<'e>]) -> bool) -> bool {
        match group {
            Group::Exceptions => test(self.exceptions.get_or_init(|| exception_fields(self.event))),
            Group::Frames => test(self.frames.get_or_init(|| frame_fields(self.event))),
            Group::TopLevel => test(self.toplevel.get_or_init(|| {
                let mut elements = message_fields(self.event);
                elements.extend(exception_fields(self.event));
                elements
            })),
            Group::LogInfo => test(self.log_info.get_or_init(|| log_info_fields(self.event))),
            Group::Sdk => test(self.sdk.get_or_init(|| {
                let name = self.event.sdk.as_ref().and_then(|sdk| sdk.name.as_deref());
                vec![Fields {
                    sdk: Some(normalize_sdk_name(name.unwrap_or("other"))),
                    ..Fields::default()
                }]
            })),
            Group::Tags => test(&[Fields {
                tags: self.event.tags.as_ref(),
                ..Fields::default()
            }]),
            Group::Family => {
                let platform = self.event.platform.as_deref().unwrap_or_default();
                test(&[Fields {
                    family: Some(Family::of(platform).as_str()),
                    ..Fields::default()
                }])
            }
            Group::Release => test(&[Fields {
                release: self.event.release.as_deref(),
                ..Fields::default()
            }]),
        }
    }
}

fn exception_fields(event: &Event) -> Vec<Fields<'_>> {
    event
        .exceptions()
        .iter()
        .map(|exception| Fields {
            ty: exception.ty.as_deref(),
            value: exception.value.as_deref(),
            ..Fields::default()
        })
        .collect()
}

/// The formatted message, when not empty.
fn message_fields(event: &Event) -> Vec<Fields<'_>> {
    formatted_message(event)
        .filter(|message| !message.is_empty())
        .map(|message| Fields {
            message: Some(message),
            ..Fields::default()
        })
        .into_iter()
        .collect()
}

/// `logentry.formatted`; for an event that was not normalized (no
/// `logentry`), the legacy `message` it would have been moved from.
pub(super) fn formatted_message(event: &Event) -> Option<&str> {
    if let Some(entry) = &event.logentry {
        return entry.formatted.as_deref();
    }
    match &event.message {
        Some(Message::Text(text)) => Some(text),
        Some(Message::Entry(entry)) => entry.formatted.as_deref(),
        None => None,
    }
}

/// One element with logger and level, unless the event has neither.
fn log_info_fields(event: &Event) -> Vec<Fields<'_>> {
    let fields = Fields {
        logger: event.logger.as_deref().filter(|logger| !logger.is_empty()),
        level: event.level.map(|level| level.as_str()),
        ..Fields::default()
    };
    if fields.logger.is_none() && fields.level.is_none() {
        return Vec::new();
    }
    vec![fields]
}

fn frame_fields(event: &Event) -> Vec<Fields<'_>> {
    stack_frames(event)
        .into_iter()
        .map(|frame| Fields {
            function: Some(
                frame
                    .function
                    .as_deref()
                    .filter(|function| !function.is_empty())
                    .unwrap_or("<unknown>"),
            ),
            module: frame.module.as_deref(),
            path: frame
                .abs_path
                .as_deref()
                .filter(|path| !path.is_empty())
                .or(frame.filename.as_deref()),
            package: frame.package.as_deref(),
            // Sentry sets unset `in_app` to false before fingerprinting.
            app: Some(frame.in_app.unwrap_or(false)),
            ..Fields::default()
        })
        .collect()
}

/// The frames rules search (Sentry's `find_stack_frames`): those of all
/// exceptions; without any, the top-level stack trace's; without those, the
/// crashing thread's.
fn stack_frames(event: &Event) -> Vec<&Frame> {
    let from_exceptions: Vec<&Frame> = event
        .exceptions()
        .iter()
        .filter_map(|exception| exception.stacktrace.as_ref())
        .flat_map(|stacktrace| &stacktrace.frames)
        .collect();
    if !from_exceptions.is_empty() {
        return from_exceptions;
    }
    if let Some(stacktrace) = event.stacktrace.as_ref().filter(|s| !s.frames.is_empty()) {
        return stacktrace.frames.iter().collect();
    }
    let threads = event.threads.as_ref().map_or(&[][..], |t| &t.values[..]);
    crashing_thread(threads)
        .and_then(|thread| thread.stacktrace.as_ref())
        .map(|stacktrace| stacktrace.frames.iter().collect())
        .unwrap_or_default()
}

/// The only thread; else the only crashed one; else the only current one.
fn crashing_thread(threads: &[Thread]) -> Option<&Thread> {
    if let [only] = threads {
        return Some(only);
    }
    let only_one = |flag: fn(&Thread) -> bool| {
        let mut flagged = threads.iter().filter(|thread| flag(thread));
        match (flagged.next(), flagged.next()) {
            (Some(thread), None) => Some(thread),
            _ => None,
        }
    };
    only_one(|thread| thread.crashed == Some(true))
        .or_else(|| only_one(|thread| thread.current == Some(true)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: &str) -> Event {
        serde_json::from_str(json).unwrap()
    }

    fn matches(rule: &[(&str, &str)], event: &Event) -> bool {
        let matchers: Vec<Matcher> = rule
            .iter()
            .map(|(key, pattern)| {
                let negated = key.starts_with('!');
                Matcher::new(key.trim_start_matches('!'), pattern, negated).unwrap()
            })
            .collect();
        EventView::new(event).satisfies(&matchers)
    }

    const TWO_EXCEPTIONS: &str = r#"{"exception":{"values":[
        {"type":"A","value":"first","stacktrace":{"frames":[{"function":"f","module":"m1","in_app":true}]}},
        {"type":"B","value":"second","stacktrace":{"frames":[{"function":"g","module":"m2"}]}}]}}"#;

    #[test]
    fn one_element_must_satisfy_its_whole_group() {
        let event = event(TWO_EXCEPTIONS);
        assert!(matches(&[("type", "A"), ("value", "first")], &event));
        assert!(!matches(&[("type", "A"), ("value", "second")], &event));
        assert!(matches(&[("function", "f"), ("module", "m1")], &event));
        assert!(!matches(&[("function", "f"), ("module", "m2")], &event));
        // Different groups need not be related.
        assert!(matches(&[("type", "B"), ("function", "f")], &event));
    }

    #[test]
    fn negation_needs_an_element() {
        let with = event(TWO_EXCEPTIONS);
        assert!(matches(&[("!type", "A")], &with));
        assert!(!matches(&[("!type", "*")], &with));
        let without = event(r#"{"message":"hi"}"#);
        assert!(!matches(&[("!type", "A")], &without));
        // Tags always have one element: a missing tag satisfies a negation.
        assert!(matches(&[("!tags.foo", "*")], &without));
        assert!(!matches(&[("tags.foo", "*")], &without));
    }

    #[test]
    fn app_counts_unset_as_false() {
        let event = event(TWO_EXCEPTIONS);
        assert!(matches(&[("function", "g"), ("app", "no")], &event));
        assert!(matches(&[("function", "f"), ("app", "YES")], &event));
        assert!(!matches(&[("function", "g"), ("app", "1")], &event));
        assert!(!matches(&[("app", "maybe")], &event));
    }

    #[test]
    fn case_sensitivity_follows_the_key() {
        let event = event(
            r#"{"logger":"Sentry.x","level":"warning","exception":[{"type":"Err","value":"Boom"}]}"#,
        );
        assert!(matches(&[("value", "boom")], &event));
        assert!(matches(&[("message", "BOOM")], &event));
        assert!(!matches(&[("type", "err")], &event));
        assert!(!matches(&[("logger", "sentry.*")], &event));
        assert!(matches(
            &[("logger", "Sentry.*"), ("level", "WARN*")],
            &event
        ));
    }

    #[test]
    fn path_globs_and_frame_sources() {
        let top = event(
            r#"{"stacktrace":{"frames":[{"filename":"src\\App.js","package":"/usr/lib/Foo.dylib"}]}}"#,
        );
        assert!(matches(&[("path", "src/*.js")], &top));
        assert!(!matches(&[("path", "*.js")], &top));
        assert!(matches(&[("path", "**/app.js")], &top));
        assert!(matches(&[("package", "**/foo.dylib")], &top));
        assert!(matches(&[("function", "<unknown>")], &top));
        let threads = event(
            r#"{"threads":[{"crashed":false,"stacktrace":{"frames":[{"function":"a"}]}},
                           {"crashed":true,"stacktrace":{"frames":[{"function":"b"}]}}]}"#,
        );
        assert!(matches(&[("function", "b")], &threads));
        assert!(!matches(&[("function", "a")], &threads));
    }

    #[test]
    fn family_sdk_and_release() {
        let event = event(
            r#"{"platform":"node","release":"Foo.Bar@1.2","sdk":{"name":"sentry.python.django"}}"#,
        );
        assert!(matches(&[("family", "native,javascript")], &event));
        assert!(matches(&[("family", "all")], &event));
        assert!(!matches(&[("family", "other")], &event));
        assert!(matches(&[("sdk", "sentry.python")], &event));
        assert!(!matches(&[("sdk", "sentry.python.django")], &event));
        assert!(matches(&[("release", "foo.bar@*")], &event));
        assert!(!matches(&[("release", "foo@*")], &event));
    }

    #[test]
    fn unknown_keys_and_bad_globs_fail() {
        assert_eq!(
            Matcher::new("nope", "x", false).unwrap_err(),
            MatcherError::UnknownKey("nope".to_owned())
        );
        assert!(matches!(
            Matcher::new("type", "[x", false),
            Err(MatcherError::InvalidPattern(_))
        ));
        assert_eq!(
            Matcher::new("error.type", "x", false).unwrap().key(),
            &MatcherKey::Type
        );
    }
}
