//! What matchers see of a frame and of the exception (spec 12.2), and rule
//! matching.
//!
//! A [`MatchFrame`] is built once per frame and pass over a stack trace. It
//! borrows from the frame; the folded paths and packages that path
//! matchers and the rule index compare are written to one buffer per stack
//! trace ([`FoldedPaths`]), so a pass allocates a fixed few times whatever
//! the number of frames and rules.

use serde_json::{Map, Value};

use crate::grouping::platform::Family;
use crate::protocol::Frame;

use super::ExceptionData;
use super::pattern::{Literal, PathValue, fold_ascii, fold_into, folded_len};
use super::rule::{FamilySet, Matcher, MatcherKey, Rule};

/// Stand-in for missing function names and exception fields.
const UNKNOWN: &str = "<unknown>";

/// Key in `frame.data` holding the label of a `category=` action.
pub(crate) const CATEGORY: &str = "category";

/// The matcher view of one frame.
#[derive(Debug, Clone)]
pub(crate) struct MatchFrame<'a, 'r> {
    /// The family of the frame's platform, else the event's.
    pub(crate) family: FamilySet,
    /// The (already trimmed) function, `<unknown>` when missing or empty.
    pub(crate) function: &'a str,
    pub(crate) module: Option<&'a str>,
    pub(crate) package: Option<PathValue<'a>>,
    /// `abs_path`, else `filename`.
    pub(crate) path: Option<PathValue<'a>>,
    /// `data.category` as the frame came in.
    original_category: Option<&'a str>,
    /// A category set by a `category=` action in this pass.
    pub(crate) new_category: Option<&'r str>,
    /// The frame's `in_app`, updated by `+app`/`-app` in phase one.
    pub(crate) in_app: Option<bool>,
}

impl MatchFrame<'_, '_> {
    /// The category, including one set earlier in this pass.
    pub(crate) fn category(&self) -> Option<&str> {
        self.new_category.or(self.original_category)
    }
}

/// The folded paths and packages of a stack trace's frames, in frame
/// order (path, then package), for [`match_frames`].
pub(crate) struct FoldedPaths {
    text: String,
    /// Whether every value is ASCII (and so is in `text`).
    all_ascii: bool,
}

impl FoldedPaths {
    /// Folds the paths and packages of all frames into one buffer.
    #[cfg(test)]
    pub(crate) fn new(frames: &[Frame]) -> Self {
        Self::new_in(frames, Vec::new())
    }

    /// [`FoldedPaths::new`] in a buffer (emptied first) that
    /// [`FoldedPaths::into_buffer`] gives back.
    pub(crate) fn new_in(frames: &[Frame], mut buffer: Vec<u8>) -> Self {
        let values = || {
            frames
                .iter()
                .flat_map(|frame| [frame_path(frame), frame.package.as_deref()])
                .flatten()
        };
        let capacity = values().map(|value| value.len() + 1).sum();
        buffer.clear();
        buffer.reserve(capacity);
        // Paths are short: one copy and one fold over the whole buffer cost
        // less than a fold call per value.
        for value in values() {
            if !value.starts_with(['/', '\\']) {
                buffer.push(b'/');
            }
            buffer.extend_from_slice(value.as_bytes());
        }
        let all_ascii = buffer.is_ascii();
        if all_ascii {
            fold_ascii(&mut buffer);
        } else {
            buffer.clear();
            for value in values() {
                fold_into(&mut buffer, value);
            }
        }
        // Only ASCII was written, so this cannot fail; an empty buffer
        // would only send path matchers to their regex.
        let text = String::from_utf8(buffer).unwrap_or_default();
        Self { text, all_ascii }
    }

    /// The buffer, for the next stack trace.
    pub(crate) fn into_buffer(self) -> Vec<u8> {
        self.text.into_bytes()
    }

    /// Whether some folded path or package may contain `literal` (it does,
    /// or some value is not ASCII and so not folded).
    pub(crate) fn may_contain(&self, literal: &Literal) -> bool {
        !self.all_ascii || literal.is_in(&self.text)
    }
}

/// `abs_path`, else `filename`. As Sentry: an empty `abs_path` falls back
/// to `filename`.
fn frame_path(frame: &Frame) -> Option<&str> {
    non_empty(frame.abs_path.as_deref()).or(frame.filename.as_deref())
}

/// Builds the views of a stack trace's frames; `folded` must come from
/// the same frames.
pub(crate) fn match_frames<'a, 'r>(
    frames: &'a [Frame],
    folded: &'a FoldedPaths,
    event_platform: Option<&'a str>,
) -> Vec<MatchFrame<'a, 'r>> {
    let event_family = FamilySet::of(Family::of(event_platform.unwrap_or("")));
    // Walks the buffer in the order `FoldedPaths::new` filled it.
    let mut rest = folded.text.as_str();
    let mut path_value = |raw: &'a str| {
        let len = if folded.all_ascii {
            Some(raw.len() + usize::from(!raw.starts_with(['/', '\\'])))
        } else {
            folded_len(raw)
        };
        let folded = len.and_then(|len| {
            let (value, tail) = rest.split_at_checked(len)?;
            rest = tail;
            Some(value)
        });
        PathValue::new(raw, folded)
    };
    frames
        .iter()
        .map(|frame| {
            let family = match non_empty(frame.platform.as_deref()) {
                Some(platform) => FamilySet::of(Family::of(platform)),
                None => event_family,
            };
            let data = frame.data.as_ref();
            // Path before package: the order of the buffer.
            MatchFrame {
                family,
                function: non_empty(frame.function.as_deref()).unwrap_or(UNKNOWN),
                module: frame.module.as_deref(),
                path: frame_path(frame).map(&mut path_value),
                package: frame.package.as_deref().map(&mut path_value),
                original_category: data
                    .and_then(|data| data_get(data, CATEGORY))
                    .and_then(Value::as_str),
                new_category: None,
                in_app: frame.in_app,
            }
        })
        .collect()
}

/// Looks a key up in `frame.data`. The map is usually tiny, where a scan
/// beats hashing the key.
pub(crate) fn data_get<'d>(data: &'d Map<String, Value>, key: &str) -> Option<&'d Value> {
    if data.len() <= 8 {
        data.iter().find(|(k, _)| *k == key).map(|(_, value)| value)
    } else {
        data.get(key)
    }
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
    pub(crate) fn new(exception: Option<&ExceptionData<'e>>) -> Self {
        let field = |get: fn(&ExceptionData<'e>) -> Option<&'e str>| {
            exception
                .and_then(get)
                .filter(|v| !v.is_empty())
                .unwrap_or(UNKNOWN)
        };
        Self {
            ty: field(|e| e.ty),
            value: field(|e| e.value),
            mechanism: field(|e| e.mechanism),
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
    /// Whether all exception matchers match. Checked once per rule and
    /// stack trace.
    pub(crate) fn matches_exception(&self, exception: &MatchException<'_>) -> bool {
        self.exception_matchers()
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
