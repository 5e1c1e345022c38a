//! The buffers of a rule pass over a stack trace (folded paths, candidate
//! sets, segment memos, matches), kept per thread and reused from one
//! stack trace to the next instead of allocated and freed every time.
//!
//! A pass takes a buffer out ([`std::mem::take`]), fills it, and puts it
//! back when done; one not put back is simply allocated again next time. Buffers that grew past [`MAX_KEPT`]
//! elements for an unusually large stack trace are freed rather than
//! kept.

use std::cell::Cell;
use std::ops::Range;

/// The most elements a buffer keeps between passes.
const MAX_KEPT: usize = 1 << 16;

/// Reusable buffers of one thread's rule passes.
#[derive(Debug, Default)]
pub(super) struct Buffers {
    /// `FoldedPaths`'s text.
    pub(super) folded: Vec<u8>,
    /// `Candidates`' rule sets.
    pub(super) candidate_words: Vec<u64>,
    /// `Candidates`' (rule, frame) pairs.
    pub(super) candidate_pairs: Vec<(usize, usize)>,
    /// The segment memos of paths and packages: segment ends and rules.
    pub(super) memo_segments: [Vec<(usize, usize)>; 2],
    pub(super) memo_rules: [Vec<u32>; 2],
    /// The frames a rule matches, while a pass finds them.
    pub(super) matching: Vec<usize>,
    /// Phase one's matches kept for phase two: rules, then frames.
    pub(super) reusable_rules: Vec<(usize, Range<usize>)>,
    pub(super) reusable_frames: Vec<usize>,
}

thread_local! {
    static BUFFERS: Cell<Buffers> = Cell::new(Buffers::default());
}

/// Calls `pass` with this thread's buffers. A pass within a pass, or one
/// while the thread ends, gets empty ones.
pub(super) fn with_buffers<T>(pass: impl FnOnce(&mut Buffers) -> T) -> T {
    let mut buffers = BUFFERS.try_with(Cell::take).unwrap_or_default();
    let result = pass(&mut buffers);
    buffers.trim();
    // Fails only while the thread ends: the buffers are then freed.
    let _ = BUFFERS.try_with(|kept| kept.set(buffers));
    result
}

impl Buffers {
    /// Frees the buffers that grew too large to keep.
    fn trim(&mut self) {
        fn trim<T>(buffer: &mut Vec<T>) {
            if buffer.capacity() > MAX_KEPT {
                *buffer = Vec::new();
            }
        }
        trim(&mut self.folded);
        trim(&mut self.candidate_words);
        trim(&mut self.candidate_pairs);
        self.memo_segments.iter_mut().for_each(trim);
        self.memo_rules.iter_mut().for_each(trim);
        trim(&mut self.matching);
        trim(&mut self.reusable_rules);
        trim(&mut self.reusable_frames);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_reused_and_nested_passes_get_fresh_ones() {
        with_buffers(|buffers| buffers.matching.reserve(10));
        let (outer, inner) = with_buffers(|buffers| {
            let inner = with_buffers(|nested| nested.matching.capacity());
            (buffers.matching.capacity(), inner)
        });
        assert!(outer >= 10);
        assert_eq!(inner, 0);
    }

    #[test]
    fn large_buffers_are_not_kept() {
        with_buffers(|buffers| buffers.folded.reserve(MAX_KEPT + 1));
        assert_eq!(with_buffers(|buffers| buffers.folded.capacity()), 0);
    }
}
