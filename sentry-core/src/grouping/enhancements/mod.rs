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
//! 2. [`Enhancements::updates`], once per stack trace while grouping, finds
//!    what the `+group`/`-group` (with ranges), `+app`/`-app` (hints only),
//!    `max-frames` and `min-frames` rules match; [`StackUpdates::apply`]
//!    then runs them on each variant (`system`, `app`) of the stack trace.
//!
//! When an event is prepared and grouped in one go
//! (`grouping::prepare_and_group`), both phases run on a stack trace back
//! to back (`Enhancements::apply_modifications_and_updates`): one index,
//! covering the rules of both, is looked up once per frame, and phase two
//! takes phase one's matches of the rules that act in both and do not read
//! `app:` or `category:` (they match the same frames) instead of testing
//! them again.
//!
//! Matching is built for volume (a few hundred rules on every frame of
//! every event): globs are compiled at parse time, most of them into plain
//! string comparisons; an index (`index`) files rules under a literal key
//! of one of their matchers, so that a frame is only tested against the
//! rules found under its function, module and path segments, the rules of
//! its category and the few rules without a key (the full matchers still
//! decide, so spec 12.2 holds as written); exception matchers are checked
//! once per stack; a pass over a stack trace allocates a fixed few times;
//! and hints are rendered only when a caller keeps them ([`Hint`]).
//!
//! Module layout: `rule` (the parsed form and canonical text), `parse`
//! (rule text), `pattern` (compiled globs and index keys), `matchers`
//! (what a matcher sees), `index` (candidate rules per frame), `apply`
//! (the two phases), `buffers` (a pass's buffers, reused per thread).

mod apply;
mod buffers;
mod index;
mod matchers;
mod parse;
mod pattern;
mod rule;

use std::fmt::{self, Write as _};
use std::sync::{Arc, OnceLock};

use crate::protocol::{Exception, Frame};

use self::apply::Phases;

pub use self::parse::ParseError;
pub use self::rule::{Action, FlagKind, Matcher, MatcherKey, Position, Range, Rule};

/// The built-in rules of `newstyle:2023-01-11`.
const BASE_RULES: &str = include_str!("../rules/enhancements/newstyle@2023-01-11.txt");

/// An ordered list of stack trace rules.
#[derive(Debug, Clone, Default)]
pub struct Enhancements {
    rules: Vec<Arc<Rule>>,
    /// The rules either phase runs (without those that could only run
    /// actions without effect), indexed once for both.
    phases: Phases,
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
        Self {
            phases: Phases::new(&rules),
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
        exception: Option<&ExceptionData<'_>>,
    ) {
        apply::apply_modifications(&self.phases, frames, event_platform, exception);
    }

    /// [`Enhancements::apply_modifications`], then [`Enhancements::updates`]
    /// on the changed frames, with the same result, but each frame is
    /// looked up in the rule index once for both phases.
    pub(crate) fn apply_modifications_and_updates(
        &self,
        frames: &mut [Frame],
        event_platform: Option<&str>,
        exception: Option<&ExceptionData<'_>>,
    ) -> StackUpdates<'_> {
        apply::modify_and_update(&self.phases, frames, event_platform, exception)
    }

    /// Phase two for one stack trace (spec 4 step 4, 12.3): finds what the
    /// `+group`/`-group`, `+app`/`-app`, `max-frames` and `min-frames`
    /// rules match. Matching does not depend on the variant, so it runs
    /// once per stack trace; [`StackUpdates::apply`] then acts on each
    /// variant's frame components.
    ///
    /// `frames` are the stack trace's frames after phase one; `exception`
    /// is as for [`Enhancements::apply_modifications`].
    pub fn updates(
        &self,
        frames: &[Frame],
        event_platform: Option<&str>,
        exception: Option<&ExceptionData<'_>>,
    ) -> StackUpdates<'_> {
        apply::updates(&self.phases, frames, event_platform, exception)
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExceptionData<'a> {
    /// The exception type.
    pub ty: Option<&'a str>,
    /// The exception value (message).
    pub value: Option<&'a str>,
    /// `mechanism.type`.
    pub mechanism: Option<&'a str>,
}

impl<'a> From<&'a Exception> for ExceptionData<'a> {
    fn from(exception: &'a Exception) -> Self {
        Self {
            ty: exception.ty.as_deref(),
            value: exception.value.as_deref(),
            mechanism: exception.mechanism.as_ref().and_then(|m| m.ty.as_deref()),
        }
    }
}

/// What phase-two rules match in one stack trace, from
/// [`Enhancements::updates`]; [`StackUpdates::apply`] runs it on a variant.
#[derive(Debug, Clone, Default)]
pub struct StackUpdates<'r> {
    /// The number of frames.
    len: usize,
    /// The matches of rules with `+/-group` or `+/-app`, in the order they
    /// act: by rule, then by frame.
    matches: Vec<(usize, &'r Rule)>,
    /// Per frame, for `+app`/`-app` hints (see `apply::in_app_changed`);
    /// empty when no such rule matched.
    in_app_changed: Vec<Option<bool>>,
    /// The last matching `max-frames` value and its rule.
    max_frames: Option<(usize, &'r Rule)>,
    /// The last matching `min-frames` value and its rule.
    min_frames: Option<(usize, &'r Rule)>,
}

impl<'r> StackUpdates<'r> {
    /// Runs the rules on one variant of the stack trace.
    ///
    /// `contributions` holds, per frame and in the same order, whether the
    /// frame component contributes after the frame-level checks (recursion,
    /// `non app frame`, JavaScript rules). They are updated in place:
    /// `+group`/`-group` switch frames (a `+group` also re-enables a frame
    /// switched off before), `+app`/`-app` only set hints, and
    /// `max-frames=N` then keeps the N contributing frames nearest the
    /// crash. A frame's hint is set when a rule explains it and left alone
    /// otherwise. With `min-frames=N` and between 1 and N-1 contributing
    /// frames, the outcome says the whole stack trace is discarded.
    ///
    /// `contributions` must have one entry per frame; otherwise nothing is
    /// changed.
    pub fn apply(&self, contributions: &mut [FrameContribution<'r>]) -> StacktraceOutcome<'r> {
        if contributions.len() != self.len {
            return StacktraceOutcome::default();
        }
        self.replay(contributions);
        self.limit(contributions)
    }
}

/// The grouping state of one frame component during phase two.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrameContribution<'r> {
    /// Whether the frame counts for grouping.
    pub contributes: bool,
    /// Why, when a rule switched or explained it; the last rule to act
    /// wins. `None` when no rule did, so the caller's own hint stands.
    pub hint: Option<Hint<'r>>,
}

impl FrameContribution<'_> {
    /// A frame that does or does not contribute, without a rule hint.
    pub fn new(contributes: bool) -> Self {
        Self {
            contributes,
            hint: None,
        }
    }
}

/// What phase two decided for the whole stack trace.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StacktraceOutcome<'r> {
    /// Whether `min-frames` switched the whole stack trace off.
    pub discarded: bool,
    /// The hint for the stack trace component when discarded.
    pub hint: Option<Hint<'r>>,
}

/// Why a stack trace rule switched or marked a frame or stack trace.
///
/// Hints are kept as the rule and the facts, and only rendered into text
/// (`Display`, or `String::from`) when a caller keeps them.
#[derive(Debug, Clone, Copy)]
pub enum Hint<'r> {
    /// `+group`/`-group`: `un-ignored`/`ignored by stack trace rule (...)`.
    Group {
        /// The new contribution.
        contributes: bool,
        /// The rule.
        rule: &'r Rule,
    },
    /// `+app`/`-app`: `marked in-app`/`out of app by stack trace rule (...)`.
    App {
        /// The flag the rule set.
        in_app: bool,
        /// The rule.
        rule: &'r Rule,
    },
    /// `max-frames`: `ignored because only N frames are considered ...`.
    MaxFrames {
        /// The number of frames kept.
        limit: usize,
        /// The rule.
        rule: &'r Rule,
    },
    /// `min-frames`: `discarded because stack trace only contains ...`.
    MinFrames {
        /// The number of contributing frames.
        contributing: usize,
        /// The rule.
        rule: &'r Rule,
    },
}

impl<'r> Hint<'r> {
    /// The text before and after the number (if any), and the rule.
    fn parts(&self) -> (&'static str, Option<usize>, &'static str, &'r Rule) {
        match *self {
            Self::Group {
                contributes: true,
                rule,
            } => ("un-ignored", None, "", rule),
            Self::Group {
                contributes: false,
                rule,
            } => ("ignored", None, "", rule),
            Self::App { in_app: true, rule } => ("marked in-app", None, "", rule),
            Self::App {
                in_app: false,
                rule,
            } => ("marked out of app", None, "", rule),
            Self::MaxFrames { limit, rule } => (
                "ignored because only ",
                Some(limit),
                if limit == 1 {
                    " frame is considered"
                } else {
                    " frames are considered"
                },
                rule,
            ),
            Self::MinFrames { contributing, rule } => (
                "discarded because stack trace only contains ",
                Some(contributing),
                if contributing == 1 {
                    " frame which is under the configured threshold"
                } else {
                    " frames which is under the configured threshold"
                },
                rule,
            ),
        }
    }
}

impl fmt::Display for Hint<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (before, number, after, rule) = self.parts();
        f.write_str(before)?;
        if let Some(number) = number {
            write!(f, "{number}")?;
        }
        write!(f, "{after} by stack trace rule ({})", rule.as_str())
    }
}

impl Hint<'_> {
    /// Appends the hint's text to `out`, as `Display` renders it but
    /// without the formatting machinery (hints of kept components are
    /// rendered for every event).
    pub fn push_to(&self, out: &mut String) {
        const BY_RULE: &str = " by stack trace rule (";
        let (before, number, after, rule) = self.parts();
        let rule = rule.as_str();
        out.reserve(before.len() + 20 + after.len() + BY_RULE.len() + rule.len() + 1);
        out.push_str(before);
        if let Some(number) = number {
            // Writing to a `String` cannot fail.
            let _ = write!(out, "{number}");
        }
        for part in [after, BY_RULE, rule, ")"] {
            out.push_str(part);
        }
    }
}

/// Renders the hint with one allocation.
impl From<Hint<'_>> for String {
    fn from(hint: Hint<'_>) -> Self {
        let mut text = String::new();
        hint.push_to(&mut text);
        text
    }
}

/// Hints are equal when they render the same: the same kind with the same
/// flag or number, and the same rule text. (Different kinds or flags never
/// render the same.)
impl PartialEq for Hint<'_> {
    fn eq(&self, other: &Self) -> bool {
        let same_rule = |a: &Rule, b: &Rule| std::ptr::eq(a, b) || a.as_str() == b.as_str();
        match (*self, *other) {
            (
                Self::Group { contributes, rule },
                Self::Group {
                    contributes: other_contributes,
                    rule: other_rule,
                },
            ) => contributes == other_contributes && same_rule(rule, other_rule),
            (
                Self::App { in_app, rule },
                Self::App {
                    in_app: other_in_app,
                    rule: other_rule,
                },
            ) => in_app == other_in_app && same_rule(rule, other_rule),
            (
                Self::MaxFrames { limit, rule },
                Self::MaxFrames {
                    limit: other_limit,
                    rule: other_rule,
                },
            ) => limit == other_limit && same_rule(rule, other_rule),
            (
                Self::MinFrames { contributing, rule },
                Self::MinFrames {
                    contributing: other_contributing,
                    rule: other_rule,
                },
            ) => contributing == other_contributing && same_rule(rule, other_rule),
            _ => false,
        }
    }
}

impl Eq for Hint<'_> {}

#[cfg(test)]
mod tests;
