//! The parsed form of stack trace rules: matchers, actions and rules, and
//! their canonical text (spec 12.1, 12.4).
//!
//! Matchers keep the pattern as written (after unescaping) next to the
//! compiled one (`pattern`), so that a rule prints back in canonical form
//! for hints and for the API that returns a project's rules.

use std::fmt;

use crate::grouping::platform::Family;

use super::pattern::{Anchor, PathPattern, PathValue, TextPattern};

/// What a matcher tests, by its canonical (short) key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatcherKey {
    /// `path` / `stack.abs_path`: the frame's `abs_path`, else `filename`.
    Path,
    /// `package` / `stack.package`: the frame's package.
    Package,
    /// `module` / `stack.module`: the frame's module.
    Module,
    /// `function` / `stack.function`: the (trimmed) function name.
    Function,
    /// `category`: the label set by an earlier `category=` action.
    Category,
    /// `family`: the platform family (`native`, `javascript`, `other`, `all`).
    Family,
    /// `app`: the frame's `in_app` flag.
    App,
    /// `type` / `error.type`: the type of the exception owning the stack.
    Type,
    /// `value` / `error.value`: the value of that exception.
    Value,
    /// `mechanism` / `error.mechanism`: its `mechanism.type`.
    Mechanism,
}

impl MatcherKey {
    /// Looks a key up by any of its accepted spellings.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "path" | "stack.abs_path" => Self::Path,
            "package" | "stack.package" => Self::Package,
            "module" | "stack.module" => Self::Module,
            "function" | "stack.function" => Self::Function,
            "category" => Self::Category,
            "family" => Self::Family,
            "app" => Self::App,
            "type" | "error.type" => Self::Type,
            "value" | "error.value" => Self::Value,
            "mechanism" | "error.mechanism" => Self::Mechanism,
            _ => return None,
        })
    }

    /// Returns the canonical key, as rules print back.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Path => "path",
            Self::Package => "package",
            Self::Module => "module",
            Self::Function => "function",
            Self::Category => "category",
            Self::Family => "family",
            Self::App => "app",
            Self::Type => "type",
            Self::Value => "value",
            Self::Mechanism => "mechanism",
        }
    }

    /// Whether the key looks at the exception rather than at a frame.
    pub fn is_exception(self) -> bool {
        matches!(self, Self::Type | Self::Value | Self::Mechanism)
    }

    /// Relative cost of testing the key on a frame, cheapest first; rules
    /// test their frame matchers in this order so globs run last.
    fn cost(self) -> u8 {
        match self {
            Self::Family | Self::App => 0,
            Self::Category => 1,
            Self::Function | Self::Module => 2,
            Self::Path | Self::Package => 3,
            Self::Type | Self::Value | Self::Mechanism => 4,
        }
    }
}

impl fmt::Display for MatcherKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of platform families, as a bit mask.
///
/// Rules pre-compute the families they can match so that whole rules are
/// skipped for stack traces of other families (most built-in rules are
/// `family:native`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FamilySet(u8);

impl FamilySet {
    pub(crate) const NONE: Self = Self(0);
    pub(crate) const ALL: Self = Self(0b111);

    /// The set holding one family.
    pub(crate) fn of(family: Family) -> Self {
        Self(match family {
            Family::Native => 0b001,
            Family::Javascript => 0b010,
            Family::Other => 0b100,
        })
    }

    /// Parses a `family:` argument: a comma list; `all` means every family
    /// and unknown names are ignored (so `family:foo` never matches).
    fn parse(list: &str) -> Self {
        list.split(',').fold(Self::NONE, |set, name| {
            set.union(match name {
                "native" => Self::of(Family::Native),
                "javascript" => Self::of(Family::Javascript),
                "other" => Self::of(Family::Other),
                "all" => Self::ALL,
                _ => Self::NONE,
            })
        })
    }

    pub(crate) fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    fn intersection(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }

    fn complement(self) -> Self {
        Self(!self.0 & Self::ALL.0)
    }

    /// Whether the two sets share a family.
    pub(crate) fn intersects(self, other: Self) -> bool {
        self.0 & other.0 != 0
    }
}

/// What a matcher compares, compiled.
///
/// A pattern that is not a valid glob (e.g. an unclosed `[`) compiles to
/// `None` and never matches: ophio ignored broken globs the same way
/// instead of rejecting the rule.
#[derive(Debug, Clone)]
enum Test {
    /// `function`, `module`, `category` and the exception keys.
    Text(Option<TextPattern>),
    /// `path` and `package`.
    Path(Option<PathPattern>),
    /// Family membership.
    Family(FamilySet),
    /// The expected `in_app`; `None` for a value that is not a boolean word,
    /// which parses but never matches (spec 12.1).
    App(Option<bool>),
}

/// One `[!]key:pattern` matcher.
#[derive(Debug, Clone)]
pub struct Matcher {
    key: MatcherKey,
    negated: bool,
    pattern: String,
    test: Test,
}

impl Matcher {
    /// Compiles a matcher; never fails (see [`Test`] for invalid patterns).
    pub(crate) fn new(key: MatcherKey, negated: bool, pattern: String) -> Self {
        let test = match key {
            MatcherKey::Family => Test::Family(FamilySet::parse(&pattern)),
            MatcherKey::App => Test::App(parse_bool(&pattern)),
            MatcherKey::Path | MatcherKey::Package => Test::Path(PathPattern::new(&pattern)),
            _ => Test::Text(TextPattern::new(&pattern)),
        };
        Self {
            key,
            negated,
            pattern,
            test,
        }
    }

    /// Returns the canonical key.
    pub fn key(&self) -> MatcherKey {
        self.key
    }

    /// Returns the pattern as written, after unescaping.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Whether the matcher is negated (`!key:pattern`).
    pub fn is_negated(&self) -> bool {
        self.negated
    }

    /// The families a frame may have for this (frame-position) matcher to
    /// match; only `family:` narrows it.
    fn families(&self) -> FamilySet {
        match self.test {
            Test::Family(set) if self.negated => set.complement(),
            Test::Family(set) => set,
            _ => FamilySet::ALL,
        }
    }

    /// The index key every frame this (frame-position) matcher matches
    /// has, with the field it is taken from; `None` for negated matchers and
    /// patterns without a usable literal.
    pub(crate) fn anchor(&self) -> Option<(Field, Anchor)> {
        if self.negated {
            return None;
        }
        let field = match self.key {
            MatcherKey::Function => Field::Function,
            MatcherKey::Module => Field::Module,
            MatcherKey::Path => Field::Path,
            MatcherKey::Package => Field::Package,
            _ => return None,
        };
        let anchor = match &self.test {
            Test::Text(Some(pattern)) => pattern.anchor(),
            Test::Path(Some(pattern)) => pattern.anchor(),
            _ => None,
        }?;
        Some((field, anchor))
    }

    /// A literal that the value of every frame this (frame-position)
    /// matcher matches contains (folded for paths and packages), with the
    /// field; `None` for other matchers.
    fn required_literal(&self) -> Option<(Field, &str)> {
        if self.negated {
            return None;
        }
        match (&self.test, self.key) {
            (Test::Path(Some(pattern)), MatcherKey::Path) => {
                Some((Field::Path, pattern.required()))
            }
            (Test::Path(Some(pattern)), MatcherKey::Package) => {
                Some((Field::Package, pattern.required()))
            }
            (Test::Text(Some(pattern)), MatcherKey::Function) => {
                Some((Field::Function, pattern.required()))
            }
            (Test::Text(Some(pattern)), MatcherKey::Module) => {
                Some((Field::Module, pattern.required()))
            }
            _ => None,
        }
    }

    /// The category every frame this (frame-position) matcher matches
    /// has: the pattern of a positive `category:` matcher without
    /// wildcards.
    fn exact_category(&self) -> Option<&str> {
        match &self.test {
            Test::Text(Some(pattern)) if self.key == MatcherKey::Category && !self.negated => {
                pattern.exact()
            }
            _ => None,
        }
    }

    /// Whether only frames with a category can match (a positive
    /// `category:` matcher; a missing category never matches one).
    fn needs_category(&self) -> bool {
        self.key == MatcherKey::Category && !self.negated
    }

    /// Tests a value of the matcher's field (`None` = field missing, which
    /// counts as no match before negation, as in Sentry).
    pub(crate) fn matches_value(&self, value: Option<&str>) -> bool {
        let positive = match (&self.test, value) {
            (Test::Text(Some(pattern)), Some(value)) => pattern.is_match(value),
            _ => false,
        };
        self.negated ^ positive
    }

    /// Tests a path or package (`None` = missing, as above).
    pub(crate) fn matches_path(&self, value: Option<&PathValue<'_>>) -> bool {
        let positive = match (&self.test, value) {
            (Test::Path(Some(pattern)), Some(value)) => pattern.is_match(value),
            _ => false,
        };
        self.negated ^ positive
    }

    /// Tests a frame's family.
    pub(crate) fn matches_family(&self, family: FamilySet) -> bool {
        self.families().intersects(family)
    }

    /// Tests a frame's `in_app` (unset counts as false).
    pub(crate) fn matches_in_app(&self, in_app: Option<bool>) -> bool {
        let positive = match self.test {
            Test::App(Some(expected)) => in_app.unwrap_or(false) == expected,
            _ => false,
        };
        self.negated ^ positive
    }
}

/// Equality is by key, negation and pattern: the compiled test follows
/// from them.
impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key && self.negated == other.negated && self.pattern == other.pattern
    }
}

impl Eq for Matcher {}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negated {
            f.write_str("!")?;
        }
        write!(f, "{}:", self.key)?;
        write_pattern(f, &self.pattern)
    }
}

/// Prints a pattern so that it parses back to the same string: quoted when
/// it is empty, has whitespace or starts with `"`; backslashes doubled
/// because the parser turns `\\` into `\`.
fn write_pattern(f: &mut fmt::Formatter<'_>, pattern: &str) -> fmt::Result {
    let quote =
        pattern.is_empty() || pattern.starts_with('"') || pattern.contains(char::is_whitespace);
    if quote {
        f.write_str("\"")?;
    }
    for c in pattern.chars() {
        match c {
            '\\' => f.write_str("\\\\")?,
            '"' if quote => f.write_str("\\\"")?,
            other => write!(f, "{other}")?,
        }
    }
    if quote {
        f.write_str("\"")?;
    }
    Ok(())
}

/// The shortest required literal worth a search over a whole stack trace.
const MIN_REQUIRED_LITERAL: usize = 3;

/// A frame field the rule index looks values up by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Field {
    /// The (trimmed) function name.
    Function,
    /// The module.
    Module,
    /// `abs_path`, else `filename`.
    Path,
    /// The package.
    Package,
}

impl Field {
    /// The field's position in per-field arrays.
    pub(crate) fn slot(self) -> usize {
        self as usize
    }
}

/// Reads Sentry's boolean words.
pub(crate) fn parse_bool(word: &str) -> Option<bool> {
    match word {
        "1" | "yes" | "true" => Some(true),
        "0" | "no" | "false" => Some(false),
        _ => None,
    }
}

/// Which frames a flag action affects, relative to the matching frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    /// `^`: every frame after it, towards the crash.
    Up,
    /// `v`: every frame before it, towards the outermost caller.
    Down,
}

impl Range {
    /// The index range of affected frames for a match at `index` in a
    /// stack of `len` frames (`None` = the frame itself). Never out of
    /// bounds.
    pub(crate) fn indices(range: Option<Self>, index: usize, len: usize) -> std::ops::Range<usize> {
        match range {
            Some(Self::Up) => index.saturating_add(1).min(len)..len,
            Some(Self::Down) => 0..index.min(len),
            None => index.min(len)..index.saturating_add(1).min(len),
        }
    }
}

/// The flag a flag action sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagKind {
    /// `app`: in-app (phase one) and its hint (phase two).
    App,
    /// `group`: whether the frame contributes to grouping (phase two).
    Group,
    /// `prefix`: parsed for compatibility; no effect in this config.
    Prefix,
    /// `sentinel`: parsed for compatibility; no effect in this config.
    Sentinel,
}

impl FlagKind {
    /// Returns the name as written after `+`/`-`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::App => "app",
            Self::Group => "group",
            Self::Prefix => "prefix",
            Self::Sentinel => "sentinel",
        }
    }
}

/// One action of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `[range](+|-)(app|group|prefix|sentinel)`.
    Flag {
        /// Which frames besides (or instead of) the matching one.
        range: Option<Range>,
        /// `+` (true) or `-` (false).
        value: bool,
        /// The flag.
        kind: FlagKind,
    },
    /// `max-frames=N`: only the N contributing frames nearest the crash count.
    MaxFrames(usize),
    /// `min-frames=N`: fewer than N contributing frames discard the stack.
    MinFrames(usize),
    /// `category=NAME`: labels the frame for later `category:` matchers.
    Category(String),
    /// `invert-stacktrace=BOOL`: parsed for compatibility (mobile configs
    /// only); no effect here.
    InvertStacktrace(bool),
}

impl Action {
    /// Whether phase one (normalization) runs it: `+app`/`-app`, `category=`.
    pub fn is_modifier(&self) -> bool {
        matches!(
            self,
            Self::Flag {
                kind: FlagKind::App,
                ..
            } | Self::Category(_)
        )
    }

    /// Whether phase two (stack trace assembly) runs it: all but `category=`.
    pub fn is_updater(&self) -> bool {
        !matches!(self, Self::Category(_))
    }

    /// Whether running it in phase two changes anything: `prefix`,
    /// `sentinel` and `invert-stacktrace` have no effect in this config.
    fn updates_something(&self) -> bool {
        match self {
            Self::Flag { kind, .. } => matches!(kind, FlagKind::App | FlagKind::Group),
            Self::MaxFrames(_) | Self::MinFrames(_) => true,
            Self::Category(_) | Self::InvertStacktrace(_) => false,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Flag { range, value, kind } => {
                match range {
                    Some(Range::Up) => f.write_str("^")?,
                    Some(Range::Down) => f.write_str("v")?,
                    None => {}
                }
                let sign = if *value { "+" } else { "-" };
                write!(f, "{sign}{}", kind.as_str())
            }
            Self::MaxFrames(n) => write!(f, "max-frames={n}"),
            Self::MinFrames(n) => write!(f, "min-frames={n}"),
            Self::Category(name) => write!(f, "category={name}"),
            Self::InvertStacktrace(on) => write!(f, "invert-stacktrace={}", u8::from(*on)),
        }
    }
}

/// Where a matcher looks, relative to the frame a rule is tested on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// `[ m ] |`: the frame just before (the caller).
    Caller,
    /// The exception owning the stack trace (exception keys).
    Exception,
    /// The frame itself.
    Frame,
    /// `| [ m ]`: the frame just after (the callee, towards the crash).
    Callee,
}

/// One stack trace rule: matchers and actions.
#[derive(Debug, Clone)]
pub struct Rule {
    exception_matchers: Vec<Matcher>,
    caller: Option<Matcher>,
    frame_matchers: Vec<Matcher>,
    callee: Option<Matcher>,
    actions: Vec<Action>,
    /// Families a matching frame can have (from its `family:` matchers).
    families: FamilySet,
    /// Indices into `frame_matchers` to test, cheapest first, without the
    /// `family:` ones (covered by `families`).
    check_order: Vec<usize>,
    /// The most selective index key of the frame matchers (see
    /// `index::RuleIndex`); `None` when the rule must be tried on every
    /// frame of its families.
    anchor: Option<(Field, Anchor)>,
    /// Without an anchor: a literal that a field of a matching frame
    /// contains (folded for paths and packages), so that the rule can be
    /// skipped for stack traces without it.
    required_literal: Option<(Field, String)>,
    /// Without an anchor: the category every matching frame has, so that
    /// the rule is only tried on frames with that category.
    category: Option<String>,
    /// Whether the rule can only match in a stack trace where some frame
    /// has a category.
    needs_category: bool,
    /// The canonical text, kept for hints.
    text: String,
}

impl Rule {
    /// Builds a rule. Exception keys in a caller/callee slot act as plain
    /// exception matchers, as in ophio.
    pub(crate) fn new(
        caller: Option<Matcher>,
        matchers: Vec<Matcher>,
        callee: Option<Matcher>,
        actions: Vec<Action>,
    ) -> Self {
        let mut exception_matchers = Vec::new();
        let mut frame_matchers = Vec::new();
        let (caller, callee) = (
            caller.and_then(|m| keep_frame_matcher(m, &mut exception_matchers)),
            callee.and_then(|m| keep_frame_matcher(m, &mut exception_matchers)),
        );
        for matcher in matchers {
            if matcher.key.is_exception() {
                exception_matchers.push(matcher);
            } else {
                frame_matchers.push(matcher);
            }
        }
        let families = frame_matchers
            .iter()
            .fold(FamilySet::ALL, |set, m| set.intersection(m.families()));
        let mut check_order: Vec<usize> = (0..frame_matchers.len())
            .filter(|&i| {
                frame_matchers
                    .get(i)
                    .is_some_and(|m| m.key != MatcherKey::Family)
            })
            .collect();
        check_order.sort_by_key(|&i| frame_matchers.get(i).map_or(u8::MAX, |m| m.key.cost()));
        // Longest literal wins; on a tie, function and module (one lookup
        // per frame) before path and package (one per segment).
        let anchor = frame_matchers
            .iter()
            .filter_map(Matcher::anchor)
            .min_by_key(|(field, anchor)| (std::cmp::Reverse(anchor.strength), *field));
        let required_literal = frame_matchers
            .iter()
            .filter(|_| anchor.is_none())
            .filter_map(Matcher::required_literal)
            .max_by_key(|(_, literal)| literal.len())
            .filter(|(_, literal)| literal.len() >= MIN_REQUIRED_LITERAL)
            .map(|(field, literal)| (field, literal.to_owned()));
        let category = frame_matchers
            .iter()
            .filter(|_| anchor.is_none())
            .find_map(Matcher::exact_category)
            .map(str::to_owned);
        let needs_category = frame_matchers
            .iter()
            .chain(&caller)
            .chain(&callee)
            .any(Matcher::needs_category);
        let mut rule = Self {
            exception_matchers,
            caller,
            frame_matchers,
            callee,
            actions,
            families,
            check_order,
            anchor,
            required_literal,
            category,
            needs_category,
            text: String::new(),
        };
        rule.text = rule.canonical_text();
        rule
    }

    /// All matchers in canonical order (caller, exception, frame, callee),
    /// with where they look.
    pub fn matchers(&self) -> impl Iterator<Item = (Position, &Matcher)> {
        let caller = self.caller.iter().map(|m| (Position::Caller, m));
        let exception = self
            .exception_matchers
            .iter()
            .map(|m| (Position::Exception, m));
        let frame = self.frame_matchers.iter().map(|m| (Position::Frame, m));
        let callee = self.callee.iter().map(|m| (Position::Callee, m));
        caller.chain(exception).chain(frame).chain(callee)
    }

    /// The actions, in written order.
    pub fn actions(&self) -> &[Action] {
        &self.actions
    }

    /// Whether phase one runs this rule (it has `+/-app` or `category=`).
    pub fn has_modifier_actions(&self) -> bool {
        self.actions.iter().any(Action::is_modifier)
    }

    /// Whether phase two runs this rule (it has any action but `category=`).
    pub fn has_updater_actions(&self) -> bool {
        self.actions.iter().any(Action::is_updater)
    }

    /// Whether phase two has anything to do for this rule: an action other
    /// than `category=`, `+/-prefix`, `+/-sentinel`, `invert-stacktrace`.
    pub(crate) fn updates_something(&self) -> bool {
        self.actions.iter().any(Action::updates_something)
    }

    /// See the field.
    pub(crate) fn anchor(&self) -> Option<(Field, Anchor)> {
        self.anchor
    }

    /// See the field.
    pub(crate) fn required_literal(&self) -> Option<(Field, &str)> {
        let (field, literal) = self.required_literal.as_ref()?;
        Some((*field, literal))
    }

    /// See the field.
    pub(crate) fn category(&self) -> Option<&str> {
        self.category.as_deref()
    }

    /// See the field.
    pub(crate) fn needs_category(&self) -> bool {
        self.needs_category
    }

    /// Whether some frame matcher (caller and callee included) reads what
    /// phase one changes: `app:` or `category:`. A rule that does not
    /// matches the same frames whenever it runs on a stack trace.
    pub(crate) fn reads_frame_state(&self) -> bool {
        self.frame_matchers
            .iter()
            .chain(&self.caller)
            .chain(&self.callee)
            .any(|matcher| matches!(matcher.key, MatcherKey::App | MatcherKey::Category))
    }

    /// Returns the canonical text (the same as `Display`).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub(crate) fn families(&self) -> FamilySet {
        self.families
    }

    pub(crate) fn exception_matchers(&self) -> &[Matcher] {
        &self.exception_matchers
    }

    pub(crate) fn caller(&self) -> Option<&Matcher> {
        self.caller.as_ref()
    }

    pub(crate) fn callee(&self) -> Option<&Matcher> {
        self.callee.as_ref()
    }

    /// The frame matchers to test, cheapest first, `family:` excluded.
    pub(crate) fn checked_frame_matchers(&self) -> impl Iterator<Item = &Matcher> {
        self.check_order
            .iter()
            .filter_map(|&i| self.frame_matchers.get(i))
    }

    /// Canonical order (spec 12.4, plus the neighbours where the grammar
    /// wants them): caller, exception matchers, frame matchers, callee,
    /// actions. Unlike ophio, which prints the caller after the frame
    /// matchers, this text parses back.
    fn canonical_text(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        for (position, matcher) in self.matchers() {
            parts.push(match position {
                Position::Caller => format!("[ {matcher} ] |"),
                Position::Callee => format!("| [ {matcher} ]"),
                Position::Exception | Position::Frame => matcher.to_string(),
            });
        }
        parts.extend(self.actions.iter().map(Action::to_string));
        parts.join(" ")
    }
}

/// Moves an exception matcher found in a caller/callee slot to the
/// exception matchers; keeps frame matchers.
fn keep_frame_matcher(matcher: Matcher, exception_matchers: &mut Vec<Matcher>) -> Option<Matcher> {
    if matcher.key.is_exception() {
        exception_matchers.push(matcher);
        None
    } else {
        Some(matcher)
    }
}

/// Equality is structural: matchers (key, negation, pattern) per position,
/// and actions.
impl PartialEq for Rule {
    fn eq(&self, other: &Self) -> bool {
        self.exception_matchers == other.exception_matchers
            && self.caller == other.caller
            && self.frame_matchers == other.frame_matchers
            && self.callee == other.callee
            && self.actions == other.actions
    }
}

impl Eq for Rule {}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}
