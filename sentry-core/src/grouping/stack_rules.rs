//! Where the stack trace strategy gets what the stack trace rules match in
//! a stack trace (phase two, spec 12.3): found while the event was
//! prepared, when it is prepared and grouped in one go
//! ([`super::prepare_and_group`]), or matched now.
//!
//! Preparing runs phase one on every stack trace; the frames it looks up
//! in the rule index are the ones phase two looks up again while grouping.
//! Done in one go, both phases share one lookup per stack trace
//! (`Enhancements::apply_modifications_and_updates`), and the matches wait
//! here until the strategies ask for them.

use std::borrow::Cow;

use super::enhancements::{Enhancements, ExceptionData, StackUpdates};
use crate::protocol::Frame;

/// Phase-two matches of an event's stack traces, found while preparing it.
///
/// A stack trace is known by the address and length of its frames: the
/// event is borrowed from preparing to grouping, so neither changes.
#[derive(Debug, Default)]
pub(super) struct PreparedStacks<'r> {
    stacks: Vec<(*const Frame, usize, StackUpdates<'r>)>,
}

impl<'r> PreparedStacks<'r> {
    /// Records the matches of a stack trace as prepared.
    pub(super) fn insert(&mut self, frames: &[Frame], updates: StackUpdates<'r>) {
        // Empty frame lists may share an address; they match nothing.
        if !frames.is_empty() {
            self.stacks.push((frames.as_ptr(), frames.len(), updates));
        }
    }

    fn get(&self, frames: &[Frame]) -> Option<&StackUpdates<'r>> {
        self.stacks
            .iter()
            .find(|(address, len, _)| {
                std::ptr::eq(*address, frames.as_ptr()) && *len == frames.len()
            })
            .map(|(_, _, updates)| updates)
    }
}

/// The stack trace rules as the strategies use them.
#[derive(Debug, Clone, Copy)]
pub(super) struct StackRules<'r> {
    enhancements: &'r Enhancements,
    prepared: Option<&'r PreparedStacks<'r>>,
}

impl<'r> StackRules<'r> {
    /// Rules matched while grouping.
    pub(super) fn new(enhancements: &'r Enhancements) -> Self {
        Self {
            enhancements,
            prepared: None,
        }
    }

    /// Rules matched while preparing, for the stack traces prepared.
    pub(super) fn prepared(
        enhancements: &'r Enhancements,
        prepared: &'r PreparedStacks<'r>,
    ) -> Self {
        Self {
            enhancements,
            prepared: Some(prepared),
        }
    }

    /// What phase two matches in a stack trace (see
    /// `Enhancements::updates`).
    pub(super) fn updates(
        &self,
        frames: &[Frame],
        event_platform: &str,
        exception: Option<&ExceptionData<'_>>,
    ) -> Cow<'r, StackUpdates<'r>> {
        match self.prepared.and_then(|prepared| prepared.get(frames)) {
            Some(updates) => Cow::Borrowed(updates),
            None => Cow::Owned(
                self.enhancements
                    .updates(frames, Some(event_platform), exception),
            ),
        }
    }
}
