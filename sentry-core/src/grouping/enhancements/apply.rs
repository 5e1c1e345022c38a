//! Running rules: phase one (modifiers, during normalization) and phase two
//! (updaters, while assembling a stack trace component), spec 12.3.

use serde_json::{Map, Value};

use crate::protocol::Frame;

use super::matchers::{MatchException, MatchFrame, match_frames, stack_families};
use super::rule::{Action, FlagKind, Range, Rule};
use super::{ExceptionData, FrameContribution, StacktraceOutcome};

/// Key in `frame.data` remembering `in_app` before rules changed it.
const ORIG_IN_APP: &str = "orig_in_app";
/// Key in `frame.data` holding the label of a `category=` action.
const CATEGORY: &str = "category";

/// What phase one decided for one frame.
struct Modification<'r> {
    in_app: Option<bool>,
    category: Option<&'r str>,
}

/// Runs phase one on a stack trace; see `Enhancements::apply_modifications`.
pub(crate) fn apply_modifications<'r>(
    rules: impl Iterator<Item = &'r Rule>,
    frames: &mut [Frame],
    event_platform: Option<&str>,
    exception: Option<&ExceptionData>,
) {
    restore_original_in_app(frames);
    let modifications = compute_modifications(rules, frames, event_platform, exception);
    for (frame, modification) in frames.iter_mut().zip(modifications) {
        if let Some(in_app) = modification.in_app {
            set_in_app(frame, in_app);
        }
        if let Some(category) = modification.category {
            data_mut(frame).insert(CATEGORY.to_owned(), Value::from(category));
        }
    }
    default_in_app(frames);
}

/// Undoes an earlier run (spec section 1, step 2.1), so that re-running the
/// rules (e.g. under another grouping config) starts from the SDK's values.
fn restore_original_in_app(frames: &mut [Frame]) {
    for frame in frames {
        let original = frame.data.as_ref().and_then(|d| d.get(ORIG_IN_APP));
        match original {
            Some(Value::Number(n)) if n.as_i64() == Some(-1) => frame.in_app = None,
            Some(Value::Number(n)) => frame.in_app = Some(n.as_i64() != Some(0)),
            Some(Value::Bool(b)) => frame.in_app = Some(*b),
            _ => {}
        }
    }
}

/// Every frame still without `in_app` is not in-app (spec section 1, step 2.4).
fn default_in_app(frames: &mut [Frame]) {
    for frame in frames.iter_mut().filter(|f| f.in_app.is_none()) {
        set_in_app(frame, false);
    }
}

/// Sets `in_app`, remembering the first original value in
/// `data.orig_in_app` (`1`, `0`, or `-1` for unset) when it changes.
fn set_in_app(frame: &mut Frame, in_app: bool) {
    if frame.in_app == Some(in_app) {
        return;
    }
    let original = frame.in_app.map_or(-1, i64::from);
    data_mut(frame)
        .entry(ORIG_IN_APP)
        .or_insert_with(|| Value::from(original));
    frame.in_app = Some(in_app);
}

fn data_mut(frame: &mut Frame) -> &mut Map<String, Value> {
    frame.data.get_or_insert_with(Map::new)
}

/// Applies the modifier rules to views of the frames, rule by rule: each
/// rule first finds all its matching frames, then acts on them, so later
/// rules (and not the same rule) see its changes.
fn compute_modifications<'r>(
    rules: impl Iterator<Item = &'r Rule>,
    frames: &[Frame],
    event_platform: Option<&str>,
    exception: Option<&ExceptionData>,
) -> Vec<Modification<'r>> {
    let mut views: Vec<MatchFrame<'_, 'r>> = match_frames(frames, event_platform);
    let exception = MatchException::new(exception);
    let families = stack_families(&views);
    let mut matching = Vec::new();
    for rule in rules.filter(|rule| rule.applies_to_stack(families, &exception)) {
        matching.clear();
        matching.extend((0..views.len()).filter(|&index| rule.matches_frame(&views, index)));
        for &index in &matching {
            modify_frames(rule, &mut views, index);
        }
    }
    views
        .into_iter()
        .map(|view| Modification {
            in_app: view.in_app,
            category: view.new_category,
        })
        .collect()
}

/// Runs a rule's phase-one actions for a match at `index`.
fn modify_frames<'r>(rule: &'r Rule, views: &mut [MatchFrame<'_, 'r>], index: usize) {
    for action in rule.actions() {
        match action {
            Action::Flag {
                range,
                value,
                kind: FlagKind::App,
            } => {
                let affected = Range::indices(*range, index, views.len());
                for view in views.get_mut(affected).unwrap_or_default() {
                    view.in_app = Some(*value);
                }
            }
            Action::Category(category) => {
                if let Some(view) = views.get_mut(index) {
                    view.new_category = Some(category);
                }
            }
            _ => {}
        }
    }
}

/// A stack-level variable (`max-frames`, `min-frames`) and the last rule
/// that set it.
#[derive(Default)]
struct Setting<'r> {
    value: usize,
    rule: Option<&'r Rule>,
}

impl Setting<'_> {
    /// `" by stack trace rule (<rule>)"` for hints.
    fn source(&self) -> String {
        self.rule
            .map(|rule| format!(" by stack trace rule ({rule})"))
            .unwrap_or_default()
    }
}

/// Runs phase two on one stack trace variant; see `Enhancements::assemble`.
pub(crate) fn assemble<'r>(
    rules: impl Iterator<Item = &'r Rule>,
    frames: &[Frame],
    event_platform: Option<&str>,
    exception: Option<&ExceptionData>,
    contributions: &mut [FrameContribution],
) -> StacktraceOutcome {
    // Both slices describe the same frames; never index past the shorter.
    let len = frames.len().min(contributions.len());
    let (frames, contributions) = (
        frames.get(..len).unwrap_or_default(),
        contributions.get_mut(..len).unwrap_or_default(),
    );
    let views = match_frames(frames, event_platform);
    let exception = MatchException::new(exception);
    let families = stack_families(&views);
    let mut max_frames = Setting::default();
    let mut min_frames = Setting::default();
    for rule in rules.filter(|rule| rule.applies_to_stack(families, &exception)) {
        for index in 0..views.len() {
            if rule.matches_frame(&views, index) {
                update_frames(rule, frames, contributions, index);
                update_settings(rule, &mut max_frames, &mut min_frames);
            }
        }
    }
    apply_max_frames(contributions, &max_frames);
    min_frames_outcome(contributions, &min_frames)
}

/// Runs a rule's phase-two flag actions for a match at `index`.
fn update_frames(
    rule: &Rule,
    frames: &[Frame],
    contributions: &mut [FrameContribution],
    index: usize,
) {
    for action in rule.actions() {
        let Action::Flag { range, value, kind } = action else {
            continue;
        };
        let affected = Range::indices(*range, index, contributions.len());
        let frames = frames.get(affected.clone()).unwrap_or_default();
        let contributions = contributions.get_mut(affected).unwrap_or_default();
        for (frame, contribution) in frames.iter().zip(contributions) {
            match kind {
                FlagKind::Group => set_contributes(contribution, *value, rule),
                FlagKind::App => hint_in_app(contribution, frame, *value, rule),
                // No effect in this config (used to mark prefix/sentinel
                // frames for the removed hierarchical grouping).
                FlagKind::Prefix | FlagKind::Sentinel => {}
            }
        }
    }
}

/// `+group`/`-group`: may also re-enable a frame switched off earlier.
fn set_contributes(contribution: &mut FrameContribution, value: bool, rule: &Rule) {
    if contribution.contributes != value {
        contribution.contributes = value;
        let state = if value { "un-ignored" } else { "ignored" };
        contribution.hint = Some(format!("{state} by stack trace rule ({rule})"));
    }
}

/// `+app`/`-app` changed `in_app` in phase one; here they only explain it.
/// Sentry's condition, kept as is: with `orig_in_app` recorded, whether the
/// value differs from it; otherwise whether the flag equals `contributes`.
fn hint_in_app(contribution: &mut FrameContribution, frame: &Frame, value: bool, rule: &Rule) {
    let original = frame
        .data
        .as_ref()
        .and_then(|d| d.get(ORIG_IN_APP))
        .and_then(Value::as_i64);
    let changed = match original {
        Some(original) => {
            let original = (original != -1).then_some(original != 0);
            original != frame.in_app
        }
        None => value == contribution.contributes,
    };
    if changed {
        let state = if value { "in-app" } else { "out of app" };
        contribution.hint = Some(format!("marked {state} by stack trace rule ({rule})"));
    }
}

/// `max-frames=`/`min-frames=`: the last matching rule wins.
fn update_settings<'r>(rule: &'r Rule, max_frames: &mut Setting<'r>, min_frames: &mut Setting<'r>) {
    for action in rule.actions() {
        let (target, value) = match action {
            Action::MaxFrames(n) => (&mut *max_frames, *n),
            Action::MinFrames(n) => (&mut *min_frames, *n),
            _ => continue,
        };
        *target = Setting {
            value,
            rule: Some(rule),
        };
    }
}

/// Keeps only the last N contributing frames (nearest the crash).
fn apply_max_frames(contributions: &mut [FrameContribution], max_frames: &Setting<'_>) {
    let limit = max_frames.value;
    if limit == 0 {
        return;
    }
    let noun = if limit == 1 { "frame is" } else { "frames are" };
    let hint = format!(
        "ignored because only {limit} {noun} considered{}",
        max_frames.source()
    );
    let contributing = contributions.iter_mut().rev().filter(|c| c.contributes);
    for contribution in contributing.skip(limit) {
        contribution.contributes = false;
        contribution.hint = Some(hint.clone());
    }
}

/// Discards the whole stack when 0 < contributing frames < N.
fn min_frames_outcome(
    contributions: &[FrameContribution],
    min_frames: &Setting<'_>,
) -> StacktraceOutcome {
    let contributing = contributions.iter().filter(|c| c.contributes).count();
    if min_frames.value == 0 || contributing == 0 || contributing >= min_frames.value {
        return StacktraceOutcome::default();
    }
    let plural = if contributing == 1 { "" } else { "s" };
    StacktraceOutcome {
        discarded: true,
        hint: Some(format!(
            "discarded because stack trace only contains {contributing} frame{plural} which is under the configured threshold{}",
            min_frames.source()
        )),
    }
}
