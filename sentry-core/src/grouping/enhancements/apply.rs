//! Running rules: phase one (modifiers, during normalization) and phase two
//! (updaters, while assembling a stack trace component), spec 12.3.
//!
//! Both phases look at a stack trace the same way: build the matcher views
//! of its frames once, ask the index for the candidate frames of each rule,
//! and test only those, rule by rule in order. The index covers the rules
//! of both phases, so that a stack trace prepared and grouped in one go
//! ([`modify_and_update`]) is looked up once for both.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::protocol::Frame;

use super::buffers::{Buffers, with_buffers};
use super::index::{Candidates, CategoryFrames, RuleIndex, has_bit};
use super::matchers::{CATEGORY, FoldedPaths, MatchException, MatchFrame, data_get, match_frames};
use super::rule::{Action, FlagKind, Range, Rule};
use super::{ExceptionData, FrameContribution, Hint, StackUpdates, StacktraceOutcome};

/// Key in `frame.data` remembering `in_app` before rules changed it.
const ORIG_IN_APP: &str = "orig_in_app";

/// The rules that act in either phase, in order, their index, and which
/// phase runs each.
#[derive(Debug, Clone, Default)]
pub(crate) struct Phases {
    pub(super) rules: Vec<Arc<Rule>>,
    pub(super) index: RuleIndex,
    /// Bit sets over rule numbers: the rules of phase one, of phase two,
    /// and the rules of both that do not read what phase one changes
    /// (`Rule::reads_frame_state`), which therefore match the same frames
    /// in both.
    modifiers: Vec<u64>,
    updaters: Vec<u64>,
    reusable: Vec<u64>,
}

/// One of the two phases, with the matches of the rules of both.
enum Pass<'m> {
    /// Phase one: `+app`/`-app` and `category=`; records the matches of
    /// the reusable rules when phase two follows.
    Modify(Option<&'m mut ReusableMatches>),
    /// Phase two: `+group`/`-group`, `+app`/`-app` hints, frame limits;
    /// takes the reusable rules' matches from phase one when it ran.
    Update(Option<&'m ReusableMatches>),
}

/// Phase one's matches of the reusable rules (see `Phases::reusable`),
/// for phase two: the rules with matches, in rule order.
#[derive(Debug, Default)]
struct ReusableMatches {
    /// Per rule: its number and the range of its frames in `frames`.
    rules: Vec<(usize, std::ops::Range<usize>)>,
    frames: Vec<usize>,
}

impl ReusableMatches {
    /// Empty matches in buffers from `buffers`.
    fn new_in(buffers: &mut Buffers) -> Self {
        let mut matches = Self {
            rules: std::mem::take(&mut buffers.reusable_rules),
            frames: std::mem::take(&mut buffers.reusable_frames),
        };
        matches.clear();
        matches
    }

    fn clear(&mut self) {
        self.rules.clear();
        self.frames.clear();
    }

    /// Gives the buffers back.
    fn recycle(self, buffers: &mut Buffers) {
        buffers.reusable_rules = self.rules;
        buffers.reusable_frames = self.frames;
    }

    fn record(&mut self, rule: usize, matching: &[usize]) {
        let start = self.frames.len();
        self.frames.extend_from_slice(matching);
        self.rules.push((rule, start..self.frames.len()));
    }

    /// The frames `rule` matched. Rules must be asked for in rule order,
    /// `cursor` (from 0) keeping the place.
    fn frames_of(&self, cursor: &mut usize, rule: usize) -> &[usize] {
        while self
            .rules
            .get(*cursor)
            .is_some_and(|(number, _)| *number < rule)
        {
            *cursor += 1;
        }
        match self.rules.get(*cursor) {
            Some((number, frames)) if *number == rule => {
                self.frames.get(frames.clone()).unwrap_or_default()
            }
            _ => &[],
        }
    }
}

impl Phases {
    /// Keeps the rules that act in some phase (see
    /// `Rule::has_modifier_actions`, `Rule::updates_something`).
    pub(crate) fn new(rules: &[Arc<Rule>]) -> Self {
        let rules: Vec<Arc<Rule>> = rules
            .iter()
            .filter(|rule| rule.has_modifier_actions() || rule.updates_something())
            .cloned()
            .collect();
        let bits = |keep: fn(&Rule) -> bool| {
            let mut words = vec![0u64; rules.len().div_ceil(64)];
            for (number, rule) in rules.iter().enumerate() {
                if let (true, Some(word)) = (keep(rule), words.get_mut(number / 64)) {
                    *word |= 1 << (number % 64);
                }
            }
            words
        };
        Self {
            modifiers: bits(Rule::has_modifier_actions),
            updaters: bits(Rule::updates_something),
            reusable: bits(|rule| {
                rule.has_modifier_actions() && rule.updates_something() && !rule.reads_frame_state()
            }),
            index: RuleIndex::new(&rules),
            rules,
        }
    }

    /// Calls `on_match` for every rule of `pass`, in order, that applies
    /// to the stack trace, with its frames that match, in frame order.
    /// Matches of a rule are all found before `on_match` acts on them, so
    /// that it affects later rules only. `on_match` returns whether it gave
    /// a frame a category.
    fn run<'a, 'r>(
        &'r self,
        mut pass: Pass<'_>,
        views: &mut [MatchFrame<'a, 'r>],
        candidates: &Candidates,
        exception: &MatchException<'_>,
        matching: &mut Vec<usize>,
        mut on_match: impl FnMut(&'r Rule, &[usize], &mut [MatchFrame<'a, 'r>]) -> bool,
    ) {
        let in_pass = match pass {
            Pass::Modify(_) => &self.modifiers,
            Pass::Update(_) => &self.updaters,
        };
        let mut reused_cursor = 0;
        // Rules needing a category are common (the whole native
        // categorization) and skipped at once for stacks without any.
        let mut any_category = views.iter().any(|view| view.category().is_some());
        // Built when first needed: the frames of each category.
        let mut categories: Option<CategoryFrames> = None;
        for number in candidates.rules_in(in_pass) {
            let Some(rule) = self.rules.get(number) else {
                continue;
            };
            if (rule.needs_category() && !any_category) || !rule.matches_exception(exception) {
                continue;
            }
            matching.clear();
            let reusable = has_bit(&self.reusable, number);
            let matches = |&index: &usize| rule.matches_frame(views, index);
            match (&mut pass, self.index.category_of(number)) {
                (Pass::Update(Some(reused)), _) if reusable => {
                    matching.extend_from_slice(reused.frames_of(&mut reused_cursor, number));
                }
                (_, Some(category)) => {
                    let categories =
                        categories.get_or_insert_with(|| CategoryFrames::new(&self.index, views));
                    matching.extend(categories.frames(category).filter(matches));
                }
                (_, None) => matching.extend(candidates.frames(number).filter(matches)),
            }
            if let (Pass::Modify(Some(record)), true) = (&mut pass, reusable) {
                if !matching.is_empty() {
                    record.record(number, matching);
                }
            }
            if matching.is_empty() || !on_match(rule, matching, views) {
                continue;
            }
            any_category = true;
            if let Some(categories) = &mut categories {
                for &index in matching.iter() {
                    let category = views.get(index).and_then(MatchFrame::category);
                    categories.update(&self.index, index, category);
                }
            }
        }
    }
}

/// Which phase [`StackMatch::run`] runs.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// Phase one; with `for_updates`, phase two follows on the same views.
    Modify { for_updates: bool },
    /// Phase two.
    Update,
}

/// A stack trace's frames as the rules see them, and the rules that may
/// match them.
struct StackMatch<'a, 'r> {
    views: Vec<MatchFrame<'a, 'r>>,
    candidates: Candidates,
    exception: MatchException<'a>,
    /// Filled by phase one when phase two follows ([`StackMatch::modify`]).
    reusable: ReusableMatches,
    /// Whether `reusable` was filled.
    recorded: bool,
    /// The frames a rule matches, while a pass finds them.
    matching: Vec<usize>,
}

impl<'a, 'r> StackMatch<'a, 'r> {
    /// The views and candidates of a stack trace, in buffers from
    /// `buffers` that [`StackMatch::recycle`] gives back.
    fn new(
        phases: &Phases,
        frames: &'a [Frame],
        folded: &'a FoldedPaths,
        event_platform: Option<&'a str>,
        exception: Option<&ExceptionData<'a>>,
        buffers: &mut Buffers,
    ) -> Self {
        let views = match_frames(frames, folded, event_platform);
        let candidates = phases.index.candidates_in(&views, folded, buffers);
        let mut matching = std::mem::take(&mut buffers.matching);
        matching.clear();
        Self {
            views,
            candidates,
            exception: MatchException::new(exception),
            reusable: ReusableMatches::new_in(buffers),
            recorded: false,
            matching,
        }
    }

    /// Gives the buffers back.
    fn recycle(self, buffers: &mut Buffers) {
        (buffers.candidate_words, buffers.candidate_pairs) = self.candidates.into_buffers();
        self.reusable.recycle(buffers);
        buffers.matching = self.matching;
    }

    /// Runs one phase on the views (see `Phases::run`), keeping or taking
    /// the matches the phases share.
    fn run(
        &mut self,
        phases: &'r Phases,
        step: Step,
        on_match: impl FnMut(&'r Rule, &[usize], &mut [MatchFrame<'a, 'r>]) -> bool,
    ) {
        let Self {
            views,
            candidates,
            exception,
            reusable,
            recorded,
            matching,
        } = self;
        let pass = match step {
            Step::Modify { for_updates } => {
                reusable.clear();
                *recorded = for_updates;
                Pass::Modify(for_updates.then_some(reusable))
            }
            Step::Update => Pass::Update(recorded.then_some(&*reusable)),
        };
        phases.run(pass, views, candidates, exception, matching, on_match);
    }

    /// Runs phase one on the views, rule by rule: each rule first finds
    /// all its matching frames, then acts on them, so later rules (and not
    /// the same rule) see its changes. Returns the frames that changed.
    /// With `for_updates`, keeps the matches phase two can reuse.
    fn modify(
        &mut self,
        phases: &'r Phases,
        frames: &[Frame],
        for_updates: bool,
    ) -> Vec<Modification<'r>> {
        self.run(
            phases,
            Step::Modify { for_updates },
            |rule, matching, views| {
                let mut categorized = false;
                for &index in matching {
                    categorized |= modify_frames(rule, views, index);
                }
                categorized
            },
        );
        self.views
            .iter()
            .zip(frames)
            .enumerate()
            .filter(|(_, (view, frame))| view.in_app != frame.in_app || view.new_category.is_some())
            .map(|(index, (view, _))| Modification {
                index,
                in_app: view.in_app,
                category: view.new_category,
            })
            .collect()
    }

    /// Runs phase two's matching on the views. The `in_app` hints still
    /// need the frames as phase one left them
    /// ([`StackUpdates::record_in_app_changes`]).
    fn update(&mut self, phases: &'r Phases) -> StackUpdates<'r> {
        let mut updates = StackUpdates {
            len: self.views.len(),
            matches: Vec::with_capacity(self.views.len()),
            ..StackUpdates::default()
        };
        self.run(phases, Step::Update, |rule, matching, _| {
            for &index in matching {
                updates.record(rule, index);
            }
            false
        });
        updates
    }
}

/// What phase one decided for one frame.
struct Modification<'r> {
    index: usize,
    in_app: Option<bool>,
    category: Option<&'r str>,
}

/// Runs phase one on a stack trace; see `Enhancements::apply_modifications`.
pub(crate) fn apply_modifications(
    phases: &Phases,
    frames: &mut [Frame],
    event_platform: Option<&str>,
    exception: Option<&ExceptionData<'_>>,
) {
    restore_original_in_app(frames);
    let modifications = with_buffers(|buffers| {
        let folded = FoldedPaths::new_in(frames, std::mem::take(&mut buffers.folded));
        let mut stack =
            StackMatch::new(phases, frames, &folded, event_platform, exception, buffers);
        let modifications = stack.modify(phases, frames, false);
        stack.recycle(buffers);
        buffers.folded = folded.into_buffer();
        modifications
    });
    write_modifications(frames, modifications);
}

/// Runs phase one on a stack trace, then phase two's matching on the
/// result, matching each frame once for both; see
/// `Enhancements::apply_modifications_and_updates`.
pub(crate) fn modify_and_update<'r>(
    phases: &'r Phases,
    frames: &mut [Frame],
    event_platform: Option<&str>,
    exception: Option<&ExceptionData<'_>>,
) -> StackUpdates<'r> {
    restore_original_in_app(frames);
    let (modifications, mut updates) = with_buffers(|buffers| {
        let folded = FoldedPaths::new_in(frames, std::mem::take(&mut buffers.folded));
        let mut stack =
            StackMatch::new(phases, frames, &folded, event_platform, exception, buffers);
        // Phase two sees the views as phase one left them, as it would see
        // the changed frames.
        let modifications = stack.modify(phases, frames, true);
        let updates = stack.update(phases);
        stack.recycle(buffers);
        buffers.folded = folded.into_buffer();
        (modifications, updates)
    });
    write_modifications(frames, modifications);
    updates.record_in_app_changes(frames);
    updates
}

/// Writes phase one's changes to the frames, then makes every `in_app`
/// still unset `false`.
fn write_modifications(frames: &mut [Frame], modifications: Vec<Modification<'_>>) {
    for modification in modifications {
        let Some(frame) = frames.get_mut(modification.index) else {
            continue;
        };
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
        let original = frame.data.as_ref().and_then(|d| data_get(d, ORIG_IN_APP));
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

/// Runs a rule's phase-one actions for a match at `index`; returns whether
/// it set a category.
fn modify_frames<'r>(rule: &'r Rule, views: &mut [MatchFrame<'_, 'r>], index: usize) -> bool {
    let mut categorized = false;
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
                    categorized = true;
                }
            }
            _ => {}
        }
    }
    categorized
}

/// Runs phase two's matching on a stack trace; see `Enhancements::updates`.
pub(crate) fn updates<'r>(
    phases: &'r Phases,
    frames: &[Frame],
    event_platform: Option<&str>,
    exception: Option<&ExceptionData<'_>>,
) -> StackUpdates<'r> {
    let mut updates = with_buffers(|buffers| {
        let folded = FoldedPaths::new_in(frames, std::mem::take(&mut buffers.folded));
        let mut stack =
            StackMatch::new(phases, frames, &folded, event_platform, exception, buffers);
        let updates = stack.update(phases);
        stack.recycle(buffers);
        buffers.folded = folded.into_buffer();
        updates
    });
    updates.record_in_app_changes(frames);
    updates
}

fn has_app_flag(rule: &Rule) -> bool {
    rule.actions().iter().any(|action| {
        matches!(
            action,
            Action::Flag {
                kind: FlagKind::App,
                ..
            }
        )
    })
}

/// For `+app`/`-app` hints: whether phase one changed the frame's `in_app`,
/// when it recorded the original; `None` when it did not.
fn in_app_changed(frame: &Frame) -> Option<bool> {
    let original = frame
        .data
        .as_ref()
        .and_then(|d| data_get(d, ORIG_IN_APP))
        .and_then(Value::as_i64)?;
    let original = (original != -1).then_some(original != 0);
    Some(original != frame.in_app)
}

impl<'r> StackUpdates<'r> {
    /// For `+app`/`-app` hints, when such a rule matched: records which
    /// frames phase one changed. `frames` are as phase one left them.
    fn record_in_app_changes(&mut self, frames: &[Frame]) {
        if self.matches.iter().any(|&(_, rule)| has_app_flag(rule)) {
            self.in_app_changed = frames.iter().map(in_app_changed).collect();
        }
    }

    /// Records a match of an updater rule at frame `index`.
    fn record(&mut self, rule: &'r Rule, index: usize) {
        let mut flags = false;
        for action in rule.actions() {
            match action {
                Action::Flag {
                    kind: FlagKind::App | FlagKind::Group,
                    ..
                } => flags = true,
                // The last matching rule wins.
                Action::MaxFrames(n) => self.max_frames = Some((*n, rule)),
                Action::MinFrames(n) => self.min_frames = Some((*n, rule)),
                _ => {}
            }
        }
        if flags {
            self.matches.push((index, rule));
        }
    }

    /// Replays the recorded matches on one variant; see
    /// [`StackUpdates::apply`].
    pub(crate) fn replay(&self, contributions: &mut [FrameContribution<'r>]) {
        for &(index, rule) in &self.matches {
            for action in rule.actions() {
                let Action::Flag { range, value, kind } = *action else {
                    continue;
                };
                let affected = Range::indices(range, index, contributions.len());
                let first = affected.start;
                let affected = contributions.get_mut(affected).unwrap_or_default();
                for (offset, contribution) in affected.iter_mut().enumerate() {
                    match kind {
                        FlagKind::Group => set_contributes(contribution, value, rule),
                        FlagKind::App => {
                            let changed = self.in_app_changed.get(first + offset).copied();
                            hint_in_app(contribution, changed.flatten(), value, rule);
                        }
                        // No effect in this config (used to mark prefix/sentinel
                        // frames for the removed hierarchical grouping).
                        FlagKind::Prefix | FlagKind::Sentinel => {}
                    }
                }
            }
        }
    }

    /// `max-frames`, then `min-frames`, after the replay.
    pub(crate) fn limit(
        &self,
        contributions: &mut [FrameContribution<'r>],
    ) -> StacktraceOutcome<'r> {
        if let Some((limit, rule)) = self.max_frames {
            apply_max_frames(contributions, limit, rule);
        }
        match self.min_frames {
            Some((limit, rule)) => min_frames_outcome(contributions, limit, rule),
            None => StacktraceOutcome::default(),
        }
    }
}

/// `+group`/`-group`: may also re-enable a frame switched off earlier.
fn set_contributes<'r>(contribution: &mut FrameContribution<'r>, value: bool, rule: &'r Rule) {
    if contribution.contributes != value {
        contribution.contributes = value;
        contribution.hint = Some(Hint::Group {
            contributes: value,
            rule,
        });
    }
}

/// `+app`/`-app` changed `in_app` in phase one; here they only explain it.
/// Sentry's condition, kept as is: with `orig_in_app` recorded, whether the
/// value differs from it (`changed`); otherwise whether the flag equals
/// `contributes`.
fn hint_in_app<'r>(
    contribution: &mut FrameContribution<'r>,
    changed: Option<bool>,
    value: bool,
    rule: &'r Rule,
) {
    if changed.unwrap_or(value == contribution.contributes) {
        contribution.hint = Some(Hint::App {
            in_app: value,
            rule,
        });
    }
}

/// Keeps only the last `limit` contributing frames (nearest the crash);
/// 0 keeps all.
fn apply_max_frames<'r>(contributions: &mut [FrameContribution<'r>], limit: usize, rule: &'r Rule) {
    if limit == 0 {
        return;
    }
    let contributing = contributions.iter_mut().rev().filter(|c| c.contributes);
    for contribution in contributing.skip(limit) {
        contribution.contributes = false;
        contribution.hint = Some(Hint::MaxFrames { limit, rule });
    }
}

/// Discards the whole stack when 0 < contributing frames < `limit`.
fn min_frames_outcome<'r>(
    contributions: &[FrameContribution<'r>],
    limit: usize,
    rule: &'r Rule,
) -> StacktraceOutcome<'r> {
    let contributing = contributions.iter().filter(|c| c.contributes).count();
    if limit == 0 || contributing == 0 || contributing >= limit {
        return StacktraceOutcome::default();
    }
    StacktraceOutcome {
        discarded: true,
        hint: Some(Hint::MinFrames { contributing, rule }),
    }
}
