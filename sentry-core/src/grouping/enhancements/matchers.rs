//! What matchers see of a frame and of the exception (spec 12.2), and rule
//! matching.
//!
//! A [`MatchFrame`] is built once per frame and stack trace pass. It
//! borrows from the frame and only adds a case-folded copy of the path and
//! package (for the literal pre-check of path globs), so testing a few
//! hundred rules against every frame allocates nothing more here.

use crate::grouping::platform::Family;
use crate::protocol::Frame;

use super::ExceptionData;
use super::pattern::PathValue;
use super::rule::{FamilySet, Matcher, MatcherKey, Rule};

/// Stand-in for missing function names and exception fields.
const UNKNOWN: &str = "<unknown>";

/// The matcher view of one frame.
#[derive(Debug, Clone)]
pub(crate) struct MatchFrame<'f, 'r> {
    /// The family of the frame's platform, else the event's.
    family: FamilySet,
    /// The (already trimmed) function, `<unknown>` when missing or empty.
    function: &'f str,
    module: Option<&'f str>,
    package: Option<PathValue<'f>>,
    /// `abs_path`, else `filename`.
    path: Option<PathValue<'f>>,
    /// `data.category` as the frame came in.
    original_category: Option<&'f str>,
    /// A category set by a `category=` action in this pass.
    pub(crate) new_category: Option<&'r str>,
    /// The frame's `in_app`, updated by `+app`/`-app` in phase one.
    pub(crate) in_app: Option<bool>,
}

impl<'f> MatchFrame<'f, '_> {
    /// Builds the view of a frame.
    pub(crate) fn new(frame: &'f Frame, event_platform: Option<&'f str>) -> Self {
        let platform = non_empty(frame.platform.as_deref()).or(event_platform);
        let family = Family::of(platform.unwrap_or(""));
        let data = frame.data.as_ref();
        Self {
            family: FamilySet::of(family),
            function: non_empty(frame.function.as_deref()).unwrap_or(UNKNOWN),
            module: frame.module.as_deref(),
            package: frame.package.as_deref().map(PathValue::new),
            // As Sentry: an empty `abs_path` falls back to `filename`.
            path: non_empty(frame.abs_path.as_deref())
                .or(frame.filename.as_deref())
                .map(PathValue::new),
            original_category: data
                .and_then(|d| d.get("category"))
                .and_then(|v| v.as_str()),
            new_category: None,
            in_app: frame.in_app,
        }
    }

    /// The category, including one set earlier in this pass.
    fn category(&self) -> Option<&str> {
        self.new_category.or(self.original_category)
    }
}

/// Builds the views of a stack trace's frames.
pub(crate) fn match_frames<'f, 'r>(
    frames: &'f [Frame],
    event_platform: Option<&'f str>,
) -> Vec<MatchFrame<'f, 'r>> {
    let event_platform = non_empty(event_platform);
    frames
        .iter()
        .map(|frame| MatchFrame::new(frame, event_platform))
        .collect()
}

/// The families present in a stack trace, to skip rules for other families.
pub(crate) fn stack_families(frames: &[MatchFrame<'_, '_>]) -> FamilySet {
    frames
        .iter()
        .fold(FamilySet::NONE, |set, frame| set.union(frame.family))
}

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.is_empty())
}

/// The matcher view of the exception owning a stack trace; every field is
/// `<unknown>` when missing or empty (and for stacks without exception).
#[derive(Debug, Clone, Copy)]
pub(crate) struct MatchException<'e> {
    ty: &'e str,
    value: &'e str,
    mechanism: &'e str,
}

impl<'e> MatchException<'e> {
    pub(crate) fn new(exception: Option<&'e ExceptionData>) -> Self {
        let field = |get: fn(&'e ExceptionData) -> Option<&'e str>| {
            exception
                .and_then(get)
                .filter(|v| !v.is_empty())
                .unwrap_or(UNKNOWN)
        };
        Self {
            ty: field(|e| e.ty.as_deref()),
            value: field(|e| e.value.as_deref()),
            mechanism: field(|e| e.mechanism.as_deref()),
        }
    }
}

impl Matcher {
    /// Tests an exception matcher.
    fn matches_exception(&self, exception: &MatchException<'_>) -> bool {
        let value = match self.key() {
            MatcherKey::Type => exception.ty,
            MatcherKey::Value => exception.value,
            MatcherKey::Mechanism => exception.mechanism,
            // Frame keys never sit among the exception matchers.
            _ => return false,
        };
        self.matches_value(Some(value))
    }

    /// Tests a frame matcher on one frame.
    fn matches_frame(&self, frame: &MatchFrame<'_, '_>) -> bool {
        match self.key() {
            MatcherKey::Family => self.matches_family(frame.family),
            MatcherKey::App => self.matches_in_app(frame.in_app),
            MatcherKey::Function => self.matches_value(Some(frame.function)),
            MatcherKey::Module => self.matches_value(frame.module),
            MatcherKey::Package => self.matches_path(frame.package.as_ref()),
            MatcherKey::Path => self.matches_path(frame.path.as_ref()),
            MatcherKey::Category => self.matches_value(frame.category()),
            // Exception keys never sit among the frame matchers.
            MatcherKey::Type | MatcherKey::Value | MatcherKey::Mechanism => false,
        }
    }
}

impl Rule {
    /// Whether the rule can match anything in this stack trace: its
    /// families occur and all exception matchers match. Checked once per
    /// rule and stack trace.
    pub(crate) fn applies_to_stack(
        &self,
        families: FamilySet,
        exception: &MatchException<'_>,
    ) -> bool {
        self.families().intersects(families)
            && self
                .exception_matchers()
                .iter()
                .all(|m| m.matches_exception(exception))
    }

    /// Whether the frame matchers match the frame at `index` (caller and
    /// callee matchers look at its neighbours; a missing neighbour is no
    /// match, whatever the negation).
    pub(crate) fn matches_frame(&self, frames: &[MatchFrame<'_, '_>], index: usize) -> bool {
        let Some(frame) = frames.get(index) else {
            return false;
        };
        if !self.families().intersects(frame.family) {
            return false;
        }
        let neighbour_matches = |matcher: Option<&Matcher>, neighbour: Option<usize>| {
            matcher.is_none_or(|m| {
                neighbour
                    .and_then(|i| frames.get(i))
                    .is_some_and(|f| m.matches_frame(f))
            })
        };
        self.checked_frame_matchers()
            .all(|m| m.matches_frame(frame))
            && neighbour_matches(self.caller(), index.checked_sub(1))
            && neighbour_matches(self.callee(), index.checked_add(1))
    }
}
