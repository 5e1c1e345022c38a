//! Stack trace rules ("grouping enhancements") of `newstyle:2023-01-11`
//! (spec section 12).
//!
//! Stack trace rules decide which frames are in-app and which frames count
//! for grouping. Sentry ships a few hundred built-in rules ([`Enhancements::base`])
//! and projects may add their own, which run after the built-in ones and so
//! override them ([`Enhancements::with_project_rules`]).
//!
//! A rule is one line, `[caller] matcher+ [callee] action+`, for example
//! `family:native function:std::* -app` or `category:threadbase -group v-group`.
//! Rules run in two phases:
//!
//! 1. [`Enhancements::apply_modifications`], during normalization: `+app`/
//!    `-app` (with ranges) change `in_app`, `category=` labels frames. The
//!    changed frames are stored with the event.
//! 2. [`Enhancements::assemble`], for each stack trace variant while
//!    grouping: `+group`/`-group` (with ranges) switch frames on or off,
//!    `max-frames`/`min-frames` limit the stack.
//!
//! Matching is built for volume: globs are compiled at parse time, a rule
//! whose `family:` excludes every frame of a stack is skipped whole (most
//! built-in rules are `family:native`), exception matchers are checked once
//! per stack, cheap matchers run before globs, and the matcher view of a
//! frame only borrows from it.
//!
//! Module layout: `rule` (the parsed form and canonical text), `parse`
//! (rule text), `pattern` (compiled globs), `matchers` (what a matcher
//! sees), `apply` (the two phases).

mod apply;
mod matchers;
mod parse;
mod pattern;
mod rule;

use std::fmt;
use std::sync::{Arc, OnceLock};

use crate::protocol::{Exception, Frame};

pub use self::parse::ParseError;
pub use self::rule::{Action, FlagKind, Matcher, MatcherKey, Position, Range, Rule};

/// The built-in rules of `newstyle:2023-01-11`.
const BASE_RULES: &str = include_str!("../rules/enhancements/newstyle@2023-01-11.txt");

/// An ordered list of stack trace rules.
#[derive(Debug, Clone, Default)]
pub struct Enhancements {
    rules: Vec<Arc<Rule>>,
    /// The rules phase one runs, in order.
    modifiers: Vec<Arc<Rule>>,
    /// The rules phase two runs, in order.
    updaters: Vec<Arc<Rule>>,
}

impl Enhancements {
    /// Parses rules text: one rule per line, blank lines and `#` comments
    /// ignored.
    ///
    /// A pattern that is not a valid glob (e.g. an unclosed `[`) is
    /// accepted, as in Sentry, but never matches; `app:` with a word other
    /// than `1/yes/true/0/no/false` likewise.
    ///
    /// # Errors
    ///
    /// A [`ParseError`] with the line and column of the first syntax error,
    /// e.g. ``line 3, column 12: unknown key `foo` ``.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let rules = parse::parse_rules(text)?;
        Ok(Self::from_rules(rules.into_iter().map(Arc::new)))
    }

    /// The base rules of `newstyle:2023-01-11`, parsed once.
    ///
    /// # Panics
    ///
    /// Never: the embedded file is constant and a unit test parses it.
    pub fn base() -> &'static Enhancements {
        static BASE: OnceLock<Enhancements> = OnceLock::new();
        BASE.get_or_init(|| {
            Self::parse(BASE_RULES).expect("invariant: the built-in rules parse (unit-tested)")
        })
    }

    /// These rules followed by a project's rules, which therefore win.
    /// Rules are shared, not copied.
    pub fn with_project_rules(&self, project: &Enhancements) -> Enhancements {
        Self::from_rules(self.rules.iter().chain(&project.rules).cloned())
    }

    fn from_rules(rules: impl Iterator<Item = Arc<Rule>>) -> Self {
        let rules: Vec<Arc<Rule>> = rules.collect();
        let select =
            |keep: fn(&Rule) -> bool| rules.iter().filter(|rule| keep(rule)).cloned().collect();
        Self {
            modifiers: select(Rule::has_modifier_actions),
            updaters: select(Rule::has_updater_actions),
            rules,
        }
    }

    /// The rules, in order.
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().map(|rule| &**rule)
    }

    /// The number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Phase one for the frames of one stack trace (spec section 1, steps
    /// 2.1, 2.3 and 2.4; section 12.3):
    ///
    /// 1. restores `in_app` from `data.orig_in_app` left by an earlier run,
    ///    so running twice gives the same result;
    /// 2. applies the `+app`/`-app` (with ranges) and `category=` rules,
    ///    rule by rule over all frames; the category goes to
    ///    `data.category`, and a changed `in_app` records the original in
    ///    `data.orig_in_app` (`1`, `0`, `-1` for unset);
    /// 3. sets every `in_app` still unset to `false` (recording
    ///    `orig_in_app: -1`), so callers need not do it.
    ///
    /// `exception` is the exception owning the stack trace, `None` for
    /// top-level and thread stack traces. Frames must already carry the
    /// trimmed function name.
    pub fn apply_modifications(
        &self,
        frames: &mut [Frame],
        event_platform: Option<&str>,
        exception: Option<&ExceptionData>,
    ) {
        let rules = self.modifiers.iter().map(|rule| &**rule);
        apply::apply_modifications(rules, frames, event_platform, exception);
    }

    /// Phase two for one stack trace variant (spec 4 step 4, 12.3).
    ///
    /// `frames` are the stack trace's frames after phase one;
    /// `contributions` holds, per frame and in the same order, whether the
    /// frame component contributes after the frame-level checks (recursion,
    /// `non app frame`, JavaScript rules) and its hint. They are updated in
    /// place: `+group`/`-group` switch frames (a `+group` also re-enables a
    /// frame switched off before), `+app`/`-app` only set hints, and
    /// `max-frames=N` then keeps the N contributing frames nearest the
    /// crash. With `min-frames=N` and between 1 and N-1 contributing
    /// frames, the outcome says the whole stack trace is discarded.
    ///
    /// The two slices should have the same length; extra entries of the
    /// longer one are ignored.
    pub fn assemble(
        &self,
        frames: &[Frame],
        event_platform: Option<&str>,
        exception: Option<&ExceptionData>,
        contributions: &mut [FrameContribution],
    ) -> StacktraceOutcome {
        let rules = self.updaters.iter().map(|rule| &**rule);
        apply::assemble(rules, frames, event_platform, exception, contributions)
    }
}

/// One rule per line, in canonical form; parses back to equal rules.
impl fmt::Display for Enhancements {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, rule) in self.rules.iter().enumerate() {
            if index > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{rule}")?;
        }
        Ok(())
    }
}

/// What exception matchers (`error.type`, `error.value`,
/// `error.mechanism`) see: the exception owning the stack trace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExceptionData {
    /// The exception type.
    pub ty: Option<String>,
    /// The exception value (message).
    pub value: Option<String>,
    /// `mechanism.type`.
    pub mechanism: Option<String>,
}

impl From<&Exception> for ExceptionData {
    fn from(exception: &Exception) -> Self {
        Self {
            ty: exception.ty.clone(),
            value: exception.value.clone(),
            mechanism: exception.mechanism.as_ref().and_then(|m| m.ty.clone()),
        }
    }
}

/// The grouping state of one frame component during phase two.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FrameContribution {
    /// Whether the frame counts for grouping.
    pub contributes: bool,
    /// Why, when something switched it; rules overwrite it when they act.
    pub hint: Option<String>,
}

/// What phase two decided for the whole stack trace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StacktraceOutcome {
    /// Whether `min-frames` switched the whole stack trace off.
    pub discarded: bool,
    /// The hint for the stack trace component when discarded.
    pub hint: Option<String>,
}

#[cfg(test)]
mod tests;
