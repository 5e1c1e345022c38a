//! The rule index: which rules can match which frames of a stack trace,
//! found with a few table lookups per frame instead of testing every rule.
//!
//! Most rules have a positive `function:`, `module:`, `path:` or
//! `package:` matcher with a literal every matching value starts with
//! (`module:java.*`) or, for paths, a literal that starts a path segment
//! (`path:**/site-packages/**`). Such a rule is filed under the key of that
//! literal (`rule::Rule::anchor`, `pattern::key`). A frame looks up the key
//! of its function and module and of every path and package segment, and
//! only the rules found there are tested on it.
//!
//! The other rules are tried on every frame of their families, except
//! that:
//!
//! - a rule whose path, package, function or module must contain some
//!   literal (`path:**/*newrelic*/**`, `function:*sentrycrash_*`) is
//!   skipped at once when no frame of the stack trace has it;
//! - a rule that needs a category (`category:throw ^-group`, most of the
//!   native categorization) is only tried on the frames with that category,
//!   tracked while phase one labels frames ([`CategoryFrames`]).
//!
//! Keys and literals are pre-filters: the full matchers still decide, so
//! the index never changes a result. Families split the index: a frame
//! only sees rules that can match its platform family (most built-in rules
//! are `family:native`).

use std::sync::Arc;

use crate::grouping::platform::Family;

use super::buffers::Buffers;
use super::matchers::{FoldedPaths, MatchFrame};
use super::pattern::{Literal, common_prefix_len, key, segments};
use super::rule::{FamilySet, Field, Rule};

/// The families, in the order of [`RuleIndex::families`].
const FAMILIES: [Family; 3] = [Family::Native, Family::Javascript, Family::Other];

/// The index over an ordered list of rules.
#[derive(Debug, Clone, Default)]
pub(crate) struct RuleIndex {
    rule_count: usize,
    /// By family, in the order of [`FAMILIES`].
    families: [FamilyIndex; 3],
    /// The categories of rules tried only on frames of one category
    /// (`rule::Rule::category`).
    categories: Categories,
    /// Per rule number, the id of that category, if any.
    rule_categories: Vec<Option<u16>>,
}

/// The part of the index for frames of one family.
#[derive(Debug, Clone, Default)]
struct FamilyIndex {
    /// Rules without an anchor or required literal, as a bit set over rule
    /// numbers: tried on every frame, or on every frame of their category.
    unanchored: Vec<u64>,
    /// Rules without an anchor but with a required literal.
    literal: Vec<(u32, Field, Literal)>,
    /// Anchored rules, by [`Field::slot`].
    fields: [KeyTable; 4],
}

impl RuleIndex {
    /// Indexes rules; positions in `rules` are the rule numbers used by
    /// [`Candidates`].
    pub(crate) fn new(rules: &[Arc<Rule>]) -> Self {
        let categories = Categories::new(rules.iter().filter_map(|rule| rule.category()));
        let rule_categories = rules
            .iter()
            .map(|rule| rule.category().and_then(|name| categories.id(name)))
            .collect();
        let families = FAMILIES.map(|family| {
            let family = FamilySet::of(family);
            let mut index = FamilyIndex {
                unanchored: vec![0; rules.len().div_ceil(64)],
                ..FamilyIndex::default()
            };
            let mut anchored: [Vec<(u32, u32)>; 4] = Default::default();
            for (number, rule) in (0u32..).zip(rules) {
                if !rule.families().intersects(family) {
                    continue;
                }
                match (rule.anchor(), rule.required_literal()) {
                    (Some((field, anchor)), _) => {
                        if let Some(entries) = anchored.get_mut(field.slot()) {
                            entries.push((anchor.key, number));
                        }
                    }
                    (None, Some((field, literal))) => {
                        let literal = Literal::new(literal.to_owned());
                        index.literal.push((number, field, literal));
                    }
                    (None, None) => set_bit(&mut index.unanchored, number as usize),
                }
            }
            for (table, entries) in index.fields.iter_mut().zip(anchored) {
                *table = KeyTable::new(entries);
            }
            index
        });
        Self {
            rule_count: rules.len(),
            families,
            categories,
            rule_categories,
        }
    }

    /// The category id of a rule tried only on frames of that category.
    pub(crate) fn category_of(&self, rule: usize) -> Option<u16> {
        self.rule_categories.get(rule).copied().flatten()
    }

    /// The candidate frames of each rule; `folded` holds the frames'
    /// folded paths.
    #[cfg(test)]
    pub(crate) fn candidates(
        &self,
        frames: &[MatchFrame<'_, '_>],
        folded: &FoldedPaths,
    ) -> Candidates {
        self.candidates_in(frames, folded, &mut Buffers::default())
    }

    /// [`RuleIndex::candidates`] in buffers from `buffers`, which
    /// [`Candidates::into_buffers`] gives back.
    pub(crate) fn candidates_in(
        &self,
        frames: &[MatchFrame<'_, '_>],
        folded: &FoldedPaths,
        buffers: &mut Buffers,
    ) -> Candidates {
        let mut candidates = Candidates::new_in(
            self.rule_count,
            frames.len(),
            std::mem::take(&mut buffers.candidate_words),
            std::mem::take(&mut buffers.candidate_pairs),
        );
        let mut families = FamilySet::NONE;
        let [path_segments, package_segments] = &mut buffers.memo_segments;
        let [path_rules, package_rules] = &mut buffers.memo_rules;
        let mut memos = [
            SegmentMemo::new_in(path_segments, path_rules),
            SegmentMemo::new_in(package_segments, package_rules),
        ];
        for (number, frame) in frames.iter().enumerate() {
            families = families.union(frame.family);
            if let Some(index) = self.family_index(frame.family) {
                index.lookup(frame, &mut memos, |rule| candidates.insert(rule, number));
            }
        }
        candidates.finish();
        // Built when first needed.
        let mut texts: Option<FrameTexts> = None;
        for (family, index) in FAMILIES.into_iter().zip(&self.families) {
            if !families.intersects(FamilySet::of(family)) {
                continue;
            }
            candidates.insert_everywhere(&index.unanchored);
            for (rule, field, literal) in &index.literal {
                let found = match field {
                    Field::Path | Field::Package => folded.may_contain(literal),
                    Field::Function | Field::Module => texts
                        .get_or_insert_with(|| FrameTexts::new(frames))
                        .contain(*field, literal),
                };
                if found {
                    candidates.insert_everywhere_one(*rule);
                }
            }
        }
        candidates
    }

    fn family_index(&self, family: FamilySet) -> Option<&FamilyIndex> {
        let position = FAMILIES
            .into_iter()
            .position(|f| FamilySet::of(f) == family)?;
        self.families.get(position)
    }
}

impl FamilyIndex {
    /// Calls `found` with the anchored rules filed under the keys of a
    /// frame (possibly more than once). `memos` remember the last path
    /// and package looked up.
    fn lookup<'a>(
        &'a self,
        frame: &MatchFrame<'a, '_>,
        memos: &mut [SegmentMemo<'a, '_>; 2],
        mut found: impl FnMut(u32),
    ) {
        let [function, module, path, package] = &self.fields;
        if !function.is_empty() {
            function
                .get(key(frame.function.as_bytes()))
                .iter()
                .for_each(|&rule| found(rule));
        }
        if let Some(value) = frame.module.filter(|_| !module.is_empty()) {
            module
                .get(key(value.as_bytes()))
                .iter()
                .for_each(|&rule| found(rule));
        }
        let [path_memo, package_memo] = memos;
        for (table, value, memo) in [
            (path, frame.path, path_memo),
            (package, frame.package, package_memo),
        ] {
            match value.filter(|_| !table.is_empty()) {
                Some(value) if value.has_keys() => {
                    let rules = memo.rules(table, value.plain().as_bytes());
                    rules.iter().for_each(|&rule| found(rule));
                }
                // Without trustworthy keys every rule anchored on the field
                // is a candidate.
                Some(_) => table.all.iter().for_each(|&rule| found(rule)),
                None => {}
            }
        }
    }
}

/// The rules found for the segments of the last path (or package) looked
/// up. Frames of a stack trace share directories, so for the next value
/// only the segments after the common prefix are looked up.
struct SegmentMemo<'a, 'b> {
    /// The table and the folded value of the last lookup.
    last: Option<(&'a KeyTable, &'a [u8])>,
    /// Per non-empty segment looked up: where it ends, and the length of
    /// `rules` after its rules were added.
    segments: &'b mut Vec<(usize, usize)>,
    rules: &'b mut Vec<u32>,
}

impl<'a, 'b> SegmentMemo<'a, 'b> {
    /// A memo in two buffers, emptied first.
    fn new_in(segments: &'b mut Vec<(usize, usize)>, rules: &'b mut Vec<u32>) -> Self {
        segments.clear();
        rules.clear();
        Self {
            last: None,
            segments,
            rules,
        }
    }

    /// The rules filed in `table` under the segments of `value`.
    fn rules(&mut self, table: &'a KeyTable, value: &'a [u8]) -> &[u32] {
        let common = match self.last {
            Some((last_table, last)) if std::ptr::eq(last_table, table) => {
                let common = common_prefix_len(last, value);
                if common == value.len() && common == last.len() {
                    return self.rules.as_slice();
                }
                common
            }
            _ => 0,
        };
        // A segment ending before the common prefix does (its `/`
        // included) is the same in both values. Usually only the last
        // one or two differ.
        while self.segments.last().is_some_and(|&(end, _)| end >= common) {
            self.segments.pop();
        }
        let (from, rules) = match self.segments.last() {
            Some(&(end, rules)) => (end + 1, rules),
            None => (0, 0),
        };
        self.rules.truncate(rules);
        if self.segments.capacity() == 0 {
            // Enough for most paths without growing.
            self.segments.reserve(16);
        }
        segments(value, from, |end, segment| {
            self.rules.extend_from_slice(table.get(segment));
            self.segments.push((end, self.rules.len()));
        });
        self.last = Some((table, value));
        self.rules.as_slice()
    }
}

fn set_bit(words: &mut [u64], bit: usize) {
    if let Some(word) = words.get_mut(bit / 64) {
        *word |= 1 << (bit % 64);
    }
}

/// Whether a bit set over `u64` words has `bit`.
pub(super) fn has_bit(words: &[u64], bit: usize) -> bool {
    words
        .get(bit / 64)
        .is_some_and(|word| word & (1 << (bit % 64)) != 0)
}

/// The functions and modules of a stack trace's frames, each concatenated,
/// to search for the literal of a rule once per stack trace instead of once
/// per frame.
struct FrameTexts {
    functions: String,
    modules: String,
}

impl FrameTexts {
    fn new(frames: &[MatchFrame<'_, '_>]) -> Self {
        let functions = frames.iter().map(|frame| frame.function);
        let modules = frames.iter().filter_map(|frame| frame.module);
        Self {
            functions: functions.collect(),
            modules: modules.collect(),
        }
    }

    /// Whether the function or module of some frame may contain
    /// `literal` (a match across two values is a harmless false alarm).
    fn contain(&self, field: Field, literal: &Literal) -> bool {
        match field {
            Field::Function => literal.is_in(&self.functions),
            Field::Module => literal.is_in(&self.modules),
            Field::Path | Field::Package => true,
        }
    }
}

/// Category names with ids (their positions), looked up by key.
#[derive(Debug, Clone, Default)]
struct Categories {
    names: Vec<String>,
    /// Ids by the key of their name.
    table: KeyTable,
}

impl Categories {
    fn new<'a>(names: impl Iterator<Item = &'a str>) -> Self {
        let mut unique: Vec<String> = Vec::new();
        for name in names {
            if !unique.iter().any(|known| known == name) {
                unique.push(name.to_owned());
            }
        }
        // Ids are `u16`; names beyond that simply get no id.
        unique.truncate(usize::from(u16::MAX));
        let entries = (0u32..)
            .zip(&unique)
            .map(|(id, name)| (key(name.as_bytes()), id))
            .collect();
        Self {
            table: KeyTable::new(entries),
            names: unique,
        }
    }

    /// The id of a category name.
    fn id(&self, name: &str) -> Option<u16> {
        let ids = self.table.get(key(name.as_bytes()));
        let id = ids.iter().find(|&&id| {
            self.names
                .get(id as usize)
                .is_some_and(|known| known == name)
        })?;
        u16::try_from(*id).ok()
    }

    fn len(&self) -> usize {
        self.names.len()
    }
}

/// Which frames of a stack trace have each category of the index, kept up
/// to date while phase one labels frames.
pub(crate) struct CategoryFrames {
    frame_words: usize,
    /// Per frame, the id of its category.
    ids: Vec<Option<u16>>,
    /// Per category id, `frame_words` words: its frames.
    frames: Vec<u64>,
}

impl CategoryFrames {
    pub(crate) fn new(index: &RuleIndex, views: &[MatchFrame<'_, '_>]) -> Self {
        let frame_words = views.len().div_ceil(64);
        let mut state = Self {
            frame_words,
            ids: vec![None; views.len()],
            frames: vec![0; index.categories.len() * frame_words],
        };
        for (frame, view) in views.iter().enumerate() {
            state.update(index, frame, view.category());
        }
        state
    }

    /// Records the (new) category of a frame.
    pub(crate) fn update(&mut self, index: &RuleIndex, frame: usize, category: Option<&str>) {
        let id = category.and_then(|name| index.categories.id(name));
        let Some(slot) = self.ids.get_mut(frame) else {
            return;
        };
        let old = std::mem::replace(slot, id);
        if old == id {
            return;
        }
        if let Some(words) = old.and_then(|old| self.words_mut(old)) {
            if let Some(word) = words.get_mut(frame / 64) {
                *word &= !(1 << (frame % 64));
            }
        }
        if let Some(words) = id.and_then(|id| self.words_mut(id)) {
            set_bit(words, frame);
        }
    }

    fn words_mut(&mut self, id: u16) -> Option<&mut [u64]> {
        let start = usize::from(id) * self.frame_words;
        self.frames.get_mut(start..start + self.frame_words)
    }

    /// The frames with a category, in frame order.
    pub(crate) fn frames(&self, id: u16) -> impl Iterator<Item = usize> + '_ {
        let start = usize::from(id) * self.frame_words;
        let words = self.frames.get(start..start + self.frame_words);
        bits(words.unwrap_or_default().iter().copied())
    }
}

/// Rule numbers by key, in an open-addressing hash table.
#[derive(Debug, Clone, Default)]
struct KeyTable {
    /// Power-of-two sized; a slot is a key and a range of `rules`, empty
    /// when the range is.
    slots: Vec<Slot>,
    /// `32 - log2(slots.len())`: the hash keeps the top bits.
    shift: u32,
    /// A Bloom filter over the top [`BLOOM_BITS`] bits of the keys'
    /// hashes. Most keys looked up are in no table: the filter answers for
    /// them without a branch on a probed slot that the CPU cannot predict.
    bloom: [u64; BLOOM_WORDS],
    /// Rule numbers, grouped by key, ascending within a key.
    rules: Vec<u32>,
    /// Every rule in the table, ascending.
    all: Vec<u32>,
}

/// log2 of the number of bits of [`KeyTable::bloom`].
const BLOOM_BITS: u32 = 9;
const BLOOM_WORDS: usize = (1 << BLOOM_BITS) / 64;

#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    key: u32,
    start: u32,
    end: u32,
}

impl KeyTable {
    fn new(mut entries: Vec<(u32, u32)>) -> Self {
        if entries.is_empty() {
            return Self::default();
        }
        let mut all: Vec<u32> = entries.iter().map(|&(_, rule)| rule).collect();
        all.sort_unstable();
        all.dedup();
        entries.sort_unstable();
        let keys = entries.chunk_by(|a, b| a.0 == b.0).count();
        // At most half full, so probe runs stay short.
        let size = (keys * 2).next_power_of_two().max(2);
        let mut table = Self {
            slots: vec![Slot::default(); size],
            shift: 32 - size.trailing_zeros(),
            bloom: [0; BLOOM_WORDS],
            rules: Vec::with_capacity(entries.len()),
            all,
        };
        for group in entries.chunk_by(|a, b| a.0 == b.0) {
            let Some(&(key, _)) = group.first() else {
                continue;
            };
            let start = table.rules.len();
            table.rules.extend(group.iter().map(|&(_, rule)| rule));
            let (Ok(start), Ok(end)) = (u32::try_from(start), u32::try_from(table.rules.len()))
            else {
                continue;
            };
            let bit = bloom_bit(key);
            if let Some(word) = table.bloom.get_mut(bit / 64) {
                *word |= 1 << (bit % 64);
            }
            let mut position = table.home(key);
            while let Some(slot) = table.slots.get_mut(position) {
                if slot.start == slot.end {
                    *slot = Slot { key, start, end };
                    break;
                }
                position = (position + 1) % size;
            }
        }
        table
    }

    fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The slot where the probe for `key` starts.
    fn home(&self, key: u32) -> usize {
        // Fibonacci hashing: the top bits of the product mix all key bytes.
        (key.wrapping_mul(0x9E37_79B9) >> self.shift) as usize
    }

    /// The rules filed under `key`.
    fn get(&self, key: u32) -> &[u32] {
        let bit = bloom_bit(key);
        let maybe = self
            .bloom
            .get(bit / 64)
            .is_some_and(|word| word & (1 << (bit % 64)) != 0);
        if !maybe {
            return &[];
        }
        let size = self.slots.len();
        let mut position = self.home(key);
        while let Some(slot) = self.slots.get(position) {
            if slot.start == slot.end {
                break;
            }
            if slot.key == key {
                return self
                    .rules
                    .get(slot.start as usize..slot.end as usize)
                    .unwrap_or_default();
            }
            position = (position + 1) % size;
        }
        &[]
    }
}

/// The Bloom filter bit of a key: the top bits of another hash than the
/// one placing the key in the table.
fn bloom_bit(key: u32) -> usize {
    (key.wrapping_mul(0x85EB_CA6B) >> (32 - BLOOM_BITS)) as usize
}

/// Per rule, the frames of a stack trace it may match.
#[derive(Debug)]
pub(crate) struct Candidates {
    frame_count: usize,
    /// Words per rule set.
    rule_words: usize,
    /// In one allocation: a bit set over rule numbers of the rules to try
    /// on every frame, then one of the anchored rules with candidate
    /// frames.
    words: Vec<u64>,
    /// The candidate frames of the anchored rules, as (rule, frame) pairs,
    /// sorted once all are found ([`Candidates::finish`]). A frame finds
    /// a handful of rules, so pairs take less room and setting up than a
    /// frame set per rule.
    pairs: Vec<(usize, usize)>,
}

impl Candidates {
    /// Empty candidates in two buffers (emptied first), which
    /// [`Candidates::into_buffers`] gives back.
    fn new_in(
        rule_count: usize,
        frame_count: usize,
        mut words: Vec<u64>,
        mut pairs: Vec<(usize, usize)>,
    ) -> Self {
        let rule_words = rule_count.div_ceil(64);
        words.clear();
        words.resize(2 * rule_words, 0);
        pairs.clear();
        pairs.reserve(frame_count * 4);
        Self {
            frame_count,
            rule_words,
            words,
            pairs,
        }
    }

    /// The buffers, for the next stack trace.
    pub(crate) fn into_buffers(self) -> (Vec<u64>, Vec<(usize, usize)>) {
        (self.words, self.pairs)
    }

    /// The two parts of `words`.
    fn parts(&self) -> (&[u64], &[u64]) {
        self.words.split_at(self.rule_words.min(self.words.len()))
    }

    fn parts_mut(&mut self) -> (&mut [u64], &mut [u64]) {
        let rule_words = self.rule_words.min(self.words.len());
        self.words.split_at_mut(rule_words)
    }

    fn insert(&mut self, rule: u32, frame: usize) {
        let (_, anchored) = self.parts_mut();
        set_bit(anchored, rule as usize);
        self.pairs.push((rule as usize, frame));
    }

    /// Sorts the pairs by rule, then frame, once every frame is looked up.
    fn finish(&mut self) {
        self.pairs.sort_unstable();
        self.pairs.dedup();
    }

    fn insert_everywhere(&mut self, rules: &[u64]) {
        let (everywhere, _) = self.parts_mut();
        for (word, rules) in everywhere.iter_mut().zip(rules) {
            *word |= rules;
        }
    }

    fn insert_everywhere_one(&mut self, rule: u32) {
        let (everywhere, _) = self.parts_mut();
        set_bit(everywhere, rule as usize);
    }

    /// The rules of a set (a bit set over rule numbers) that may match
    /// some frame, in rule order.
    pub(crate) fn rules_in<'a>(&'a self, set: &'a [u64]) -> impl Iterator<Item = usize> + 'a {
        let (everywhere, anchored) = self.parts();
        let words = everywhere.iter().zip(anchored).zip(set);
        bits(words.map(|((everywhere, anchored), set)| (everywhere | anchored) & set))
    }

    /// The candidate frames of a rule, in frame order.
    pub(crate) fn frames(&self, rule: usize) -> impl Iterator<Item = usize> + '_ {
        let (everywhere, _) = self.parts();
        let everywhere = has_bit(everywhere, rule);
        let pairs = if everywhere {
            &[]
        } else {
            let start = self.pairs.partition_point(|&(other, _)| other < rule);
            self.pairs.get(start..).unwrap_or_default()
        };
        let anchored = pairs
            .iter()
            .take_while(move |&&(other, _)| other == rule)
            .map(|&(_, frame)| frame);
        (0..if everywhere { self.frame_count } else { 0 }).chain(anchored)
    }
}

/// The positions of the set bits, ascending.
fn bits(words: impl Iterator<Item = u64>) -> impl Iterator<Item = usize> {
    words.enumerate().flat_map(|(index, word)| {
        let mut word = word;
        std::iter::from_fn(move || {
            if word == 0 {
                return None;
            }
            let bit = word.trailing_zeros() as usize;
            word &= word - 1;
            Some(index * 64 + bit)
        })
    })
}
