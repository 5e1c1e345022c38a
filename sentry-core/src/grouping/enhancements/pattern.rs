//! Compiled patterns of glob-based matchers (spec 12.2), with fast paths,
//! and the literal "anchors" the rule index is built from.
//!
//! Globs are compiled into regular expressions by
//! [`crate::grouping::glob`]. Shortcuts with identical results keep the few
//! hundred built-in rules cheap on every frame:
//!
//! - globs whose only wildcards are `*` runs that may cross `/` (nearly
//!   every `function:`/`module:` pattern, and `**`-only path patterns such
//!   as `**/site-packages/**`) compare literal parts directly
//!   ([`Sequence`]); path values are compared case-folded;
//! - other path globs first check the folded value for the longest literal
//!   the glob requires, and only then run the regex.

use memchr::memmem::Finder;

use crate::grouping::glob::{Glob, GlobKind};

/// A literal that values are searched for, with its searcher built once:
/// values are short, where setting up a substring search on each test
/// costs more than the search itself.
#[derive(Debug, Clone)]
pub(crate) struct Literal {
    text: String,
    /// Boxed: a searcher is a few hundred bytes, and matchers are kept
    /// small.
    finder: Box<Finder<'static>>,
}

impl Literal {
    /// Builds the searcher of a literal.
    pub(crate) fn new(text: String) -> Self {
        let finder = Box::new(Finder::new(text.as_bytes()).into_owned());
        Self { text, finder }
    }

    /// The literal.
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// Where the literal first starts in `value`.
    pub(crate) fn find(&self, value: &str) -> Option<usize> {
        self.finder.find(value.as_bytes())
    }

    /// Whether `value` contains the literal.
    pub(crate) fn is_in(&self, value: &str) -> bool {
        self.find(value).is_some()
    }
}

/// Whether `function`, `module`, `category` and the exception keys ignore
/// letter case. Spec 12.2 says they compare it; ophio's glob translation
/// (the engine Sentry ran in 2024) compiled every glob case-insensitively.
/// The corpus does not tell the two apart; we follow the spec.
const TEXT_GLOBS_CASE_INSENSITIVE: bool = false;

/// A glob made of literal parts joined by wildcard runs that match
/// anything: `lit`, `lit*`, `*lit*`, `a*b*c`. The regex it stands for is
/// `^p0.*p1.* ... .*pn$`, so a leftmost search for each middle part is
/// exact. The common shapes have their own variants: a zero-length
/// comparison or a generic substring search costs more than the test.
#[derive(Debug, Clone)]
pub(crate) enum Sequence {
    /// `lit`.
    Exact(String),
    /// `lit*` (`*` alone is an empty prefix).
    Prefix(String),
    /// `*lit`.
    Suffix(String),
    /// `*lit*`.
    Contains(Literal),
    /// Anything else: the first part starts the value, the last ends it,
    /// the middle ones (never empty) follow each other in between.
    General {
        first: String,
        middle: Vec<Literal>,
        last: String,
    },
}

impl Sequence {
    /// Tests a value (already folded for path patterns).
    pub(crate) fn is_match(&self, value: &str) -> bool {
        match self {
            Self::Exact(literal) => value == literal,
            Self::Prefix(literal) => value.starts_with(literal.as_str()),
            Self::Suffix(literal) => value.ends_with(literal.as_str()),
            Self::Contains(literal) => literal.is_in(value),
            Self::General {
                first,
                middle,
                last,
            } => {
                let Some(rest) = value.strip_prefix(first.as_str()) else {
                    return false;
                };
                let Some(mut rest) = rest.strip_suffix(last.as_str()) else {
                    return false;
                };
                for part in middle {
                    let Some(found) = part.find(rest) else {
                        return false;
                    };
                    rest = rest.get(found + part.as_str().len()..).unwrap_or_default();
                }
                true
            }
        }
    }

    /// Parses a text glob (`*` crosses everything, `\` escapes); `None`
    /// when it has other wildcards or a dangling escape.
    fn text(pattern: &str) -> Option<Self> {
        let mut builder = SequenceBuilder::default();
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            match c {
                '*' => builder.star(),
                '\\' => builder.push(chars.next()?),
                // A class of one member (`[[]`) is that character. As the
                // glob reads it, the first character is always a member.
                '[' => {
                    let member = chars.next()?;
                    if chars.next()? != ']' || matches!(member, '!' | '^') {
                        return None;
                    }
                    builder.push(member);
                }
                '?' | '{' => return None,
                other => builder.push(other),
            }
        }
        Some(builder.finish())
    }

    /// Parses a path glob into folded form (`\` is `/`, ASCII lowercase);
    /// `None` when it has a single `*` (which stops at `/`), other
    /// wildcards, or non-ASCII text (whose case folding is Unicode's).
    fn path(pattern: &str) -> Option<Self> {
        if !pattern.is_ascii() {
            return None;
        }
        let mut builder = SequenceBuilder::default();
        let mut chars = pattern.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                // As the glob reads it: `**` pairs up, a lone `*` is a
                // segment wildcard.
                '*' if chars.next_if_eq(&'*').is_some() => builder.star(),
                '*' | '?' | '[' | '{' => return None,
                other => builder.push(fold(other)),
            }
        }
        Some(builder.finish())
    }

    /// Sorts the parts into a variant.
    fn from_parts(mut parts: Vec<String>) -> Self {
        let last = parts.pop().unwrap_or_default();
        if parts.is_empty() {
            return Self::Exact(last);
        }
        let first = parts.remove(0);
        match (first.is_empty(), parts.len(), last.is_empty()) {
            (_, 0, true) => Self::Prefix(first),
            (true, 0, false) => Self::Suffix(last),
            (true, 1, true) => Self::Contains(Literal::new(parts.pop().unwrap_or_default())),
            _ => Self::General {
                first,
                middle: parts.into_iter().map(Literal::new).collect(),
                last,
            },
        }
    }

    /// The longest literal part, which every matching value contains.
    fn required(&self) -> &str {
        match self {
            Self::Exact(literal) | Self::Prefix(literal) | Self::Suffix(literal) => literal,
            Self::Contains(literal) => literal.as_str(),
            Self::General {
                first,
                middle,
                last,
            } => std::iter::once(first.as_str())
                .chain(middle.iter().map(Literal::as_str))
                .chain(std::iter::once(last.as_str()))
                .fold(
                    "",
                    |best, part| if part.len() > best.len() { part } else { best },
                ),
        }
    }

    /// The literal the value must start with, and whether it must also be
    /// the whole value.
    fn prefix(&self) -> (&str, bool) {
        match self {
            Self::Exact(literal) => (literal, true),
            Self::Prefix(literal) | Self::General { first: literal, .. } => (literal, false),
            Self::Suffix(_) | Self::Contains(_) => ("", false),
        }
    }
}

/// Collects the parts of a [`Sequence`], merging runs of wildcards.
#[derive(Default)]
struct SequenceBuilder {
    parts: Vec<String>,
    current: String,
    after_star: bool,
}

impl SequenceBuilder {
    fn star(&mut self) {
        if !self.after_star {
            self.parts.push(std::mem::take(&mut self.current));
            self.after_star = true;
        }
    }

    fn push(&mut self, c: char) {
        self.current.push(c);
        self.after_star = false;
    }

    fn finish(mut self) -> Sequence {
        self.parts.push(self.current);
        Sequence::from_parts(self.parts)
    }
}

/// How path values are compared: `\` is `/`, ASCII letters lowercase.
pub(crate) fn fold(c: char) -> char {
    if c == '\\' {
        '/'
    } else {
        c.to_ascii_lowercase()
    }
}

/// A compiled text glob.
#[derive(Debug, Clone)]
pub(crate) enum TextPattern {
    /// A [`Sequence`] after `skip` leading `?` (any one character each),
    /// as in `?[[]KSCrash*`.
    Sequence { skip: usize, sequence: Sequence },
    /// Anything else.
    Glob(Glob),
}

impl TextPattern {
    /// Compiles a text glob; `None` when it is invalid.
    pub(crate) fn new(pattern: &str) -> Option<Self> {
        if !TEXT_GLOBS_CASE_INSENSITIVE {
            let rest = pattern.trim_start_matches('?');
            let skip = pattern.len() - rest.len();
            if let Some(sequence) = Sequence::text(rest) {
                return Some(Self::Sequence { skip, sequence });
            }
        }
        let kind = GlobKind::Text {
            case_insensitive: TEXT_GLOBS_CASE_INSENSITIVE,
        };
        Glob::new(pattern, kind).ok().map(Self::Glob)
    }

    /// Tests a value.
    pub(crate) fn is_match(&self, value: &str) -> bool {
        match self {
            Self::Sequence { skip, sequence } => {
                let mut chars = value.chars();
                for _ in 0..*skip {
                    if chars.next().is_none() {
                        return false;
                    }
                }
                sequence.is_match(chars.as_str())
            }
            Self::Glob(glob) => glob.is_match(value),
        }
    }

    /// The only value the glob matches, if it has no wildcards.
    pub(crate) fn exact(&self) -> Option<&str> {
        match self {
            Self::Sequence {
                skip: 0,
                sequence: Sequence::Exact(literal),
            } => Some(literal),
            _ => None,
        }
    }

    /// A literal every matching value contains (possibly empty).
    pub(crate) fn required(&self) -> &str {
        match self {
            Self::Sequence { sequence, .. } => sequence.required(),
            Self::Glob(_) => "",
        }
    }

    /// The index key every matching value has (see [`key`]), when the
    /// glob has a usable literal prefix.
    pub(crate) fn anchor(&self) -> Option<Anchor> {
        let Self::Sequence { skip: 0, sequence } = self else {
            return None;
        };
        let (prefix, exact) = sequence.prefix();
        // A prefix shorter than a key would need one lookup per length.
        (exact || prefix.len() >= KEY_LEN).then(|| Anchor {
            key: key(prefix.as_bytes()),
            strength: prefix.len(),
        })
    }
}

/// A path glob: a folded [`Sequence`] when it is one, else the regex with
/// a literal that every matching value contains, so that most values are
/// rejected by a substring search instead of a regex.
#[derive(Debug, Clone)]
pub(crate) struct PathPattern {
    glob: Glob,
    sequence: Option<Sequence>,
    /// ASCII-lowercased, `/`-separated; empty when there is none.
    required: Literal,
    anchor: Option<Anchor>,
}

impl PathPattern {
    /// Compiles a path glob; `None` when it is invalid.
    pub(crate) fn new(pattern: &str) -> Option<Self> {
        let glob = Glob::new(pattern, GlobKind::Path).ok()?;
        let runs = literal_runs(pattern);
        Some(Self {
            glob,
            sequence: Sequence::path(pattern),
            required: Literal::new(required_literal(&runs)),
            anchor: path_anchor(&runs),
        })
    }

    /// Tests a path or package.
    pub(crate) fn is_match(&self, value: &PathValue<'_>) -> bool {
        let Some(folded) = value.folded else {
            // Non-ASCII: only the regex folds case as Sentry does.
            return self.glob.is_match(value.raw);
        };
        let plain = value.plain();
        if let Some(sequence) = &self.sequence {
            // As the glob: a value not starting with `/` is tried again
            // with one in front.
            return sequence.is_match(plain) || (value.slash_added && sequence.is_match(folded));
        }
        self.required.is_in(plain) && self.glob.is_match(value.raw)
    }

    /// A literal every matching value contains once folded (possibly
    /// empty).
    pub(crate) fn required(&self) -> &str {
        self.required.as_str()
    }

    /// The key of a segment every matching value has (see [`segments`]).
    pub(crate) fn anchor(&self) -> Option<Anchor> {
        self.anchor
    }
}

/// A literal run of a path glob (outside wildcards, classes and
/// alternations), folded.
struct Run {
    text: String,
    /// Whether the run starts the pattern.
    at_start: bool,
    /// Whether the run ends the pattern.
    at_end: bool,
}

/// The literal runs of a path glob, in order. Runs with non-ASCII text are
/// left out: Unicode case folding could match them against ASCII values.
fn literal_runs(pattern: &str) -> Vec<Run> {
    let chars: Vec<char> = pattern.chars().map(fold).collect();
    let mut runs = Vec::new();
    let mut run = String::new();
    let mut run_start = 0;
    let mut flush = |run: &mut String, start: usize, end: usize| {
        if !run.is_empty() && run.is_ascii() {
            runs.push(Run {
                text: std::mem::take(run),
                at_start: start == 0,
                at_end: end == chars.len(),
            });
        }
        run.clear();
    };
    let (mut index, mut braces) = (0, 0usize);
    while let Some(&c) = chars.get(index) {
        match c {
            '[' => {
                flush(&mut run, run_start, index);
                // Same class end as the glob: the first `]` after one member.
                let end = (index + 2..chars.len()).find(|&end| chars.get(end) == Some(&']'));
                index = end.unwrap_or(chars.len());
            }
            '{' => {
                flush(&mut run, run_start, index);
                braces += 1;
            }
            '}' if braces > 0 => braces -= 1,
            '*' | '?' => flush(&mut run, run_start, index),
            // Alternatives are not required.
            _ if braces > 0 => {}
            other => {
                if run.is_empty() {
                    run_start = index;
                }
                run.push(other);
            }
        }
        index += 1;
    }
    flush(&mut run, run_start, chars.len());
    runs
}

/// The longest literal run, without a leading `/` (the glob also tries the
/// value with `/` in front).
fn required_literal(runs: &[Run]) -> String {
    let longest = runs
        .iter()
        .map(|run| run.text.as_str())
        .fold(
            "",
            |best, text| {
                if text.len() > best.len() { text } else { best }
            },
        );
    longest.strip_prefix('/').unwrap_or(longest).to_owned()
}

/// The most selective segment anchor of a path glob.
///
/// A literal run places the text after each of its `/` at the start of a
/// value segment (in the value or in `/` + value, which have the same
/// segment starts), and so does a run at the pattern start (the value must
/// start with it). That text is the whole segment when a `/` follows it in
/// the run or the run ends the pattern; otherwise only its first
/// [`KEY_LEN`] bytes are known, if it has that many.
fn path_anchor(runs: &[Run]) -> Option<Anchor> {
    let mut best: Option<Anchor> = None;
    for run in runs {
        let mut starts: Vec<usize> = run.text.match_indices('/').map(|(i, _)| i + 1).collect();
        if run.at_start && !run.text.starts_with('/') {
            starts.push(0);
        }
        for start in starts {
            let text = run.text.get(start..).unwrap_or_default();
            let (segment, whole) = match text.split_once('/') {
                Some((segment, _)) => (segment, true),
                None => (text, run.at_end),
            };
            let usable = !segment.is_empty() && (whole || segment.len() >= KEY_LEN);
            if usable && best.is_none_or(|best| segment.len() > best.strength) {
                best = Some(Anchor {
                    key: key(segment.as_bytes()),
                    strength: segment.len(),
                });
            }
        }
    }
    best
}

/// How many leading bytes of a value (or path segment) the index keys on.
pub(crate) const KEY_LEN: usize = 4;

/// The index key of a text: its first [`KEY_LEN`] bytes, zero-padded.
/// Different texts may share a key; a key is only a pre-filter.
pub(crate) fn key(text: &[u8]) -> u32 {
    match text.first_chunk::<KEY_LEN>() {
        Some(bytes) => u32::from_le_bytes(*bytes),
        // Built in a register: bytes written to memory and read back as
        // one word would stall the load.
        None => text
            .iter()
            .rev()
            .fold(0, |key, &byte| (key << 8) | u32::from(byte)),
    }
}

/// Calls `found` with the end (the index of the `/` after it, or the
/// length) and the key of each non-empty `/`-separated segment of `value`
/// that starts at or after `from`, which must be a segment start.
///
/// Looks for `/` eight bytes at a time: paths have many short segments,
/// where a `memchr` call per segment costs more than the search.
pub(crate) fn segments(value: &[u8], from: usize, mut found: impl FnMut(usize, u32)) {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const LOW7: u64 = 0x7f * ONES;
    const SLASHES: u64 = b'/' as u64 * ONES;
    let mut start = from;
    let mut segment_end = |end: usize| {
        if let Some(segment) = value.get(start..end).filter(|s| !s.is_empty()) {
            found(end, key(segment));
        }
        start = end + 1;
    };
    let rest = value.get(from..).unwrap_or_default();
    let chunks = rest.chunks_exact(8);
    let tail = chunks.remainder();
    for (index, chunk) in chunks.enumerate() {
        let Some(bytes) = chunk.first_chunk::<8>() else {
            continue;
        };
        let x = u64::from_le_bytes(*bytes) ^ SLASHES;
        // The high bit of each zero byte of `x` (a `/`), exactly: the
        // additions cannot carry from one byte into the next.
        let mut slashes = !(((x & LOW7) + LOW7) | x | LOW7);
        while slashes != 0 {
            segment_end(from + index * 8 + (slashes.trailing_zeros() / 8) as usize);
            slashes &= slashes - 1;
        }
    }
    let tail_start = value.len() - tail.len();
    for (offset, &byte) in tail.iter().enumerate() {
        if byte == b'/' {
            segment_end(tail_start + offset);
        }
    }
    segment_end(value.len());
}

/// The length of the common prefix of two byte strings.
pub(crate) fn common_prefix_len(a: &[u8], b: &[u8]) -> usize {
    let chunks = a.chunks_exact(8).zip(b.chunks_exact(8));
    let mut same = 0;
    // Eight bytes at a time: the first differing byte is the lowest
    // non-zero byte of the XOR.
    for (x, y) in chunks {
        let (Some(x), Some(y)) = (x.first_chunk::<8>(), y.first_chunk::<8>()) else {
            break;
        };
        let difference = u64::from_le_bytes(*x) ^ u64::from_le_bytes(*y);
        if difference != 0 {
            return same + (difference.trailing_zeros() / 8) as usize;
        }
        same += 8;
    }
    let rest = a.get(same..).unwrap_or_default().iter();
    same + rest
        .zip(b.get(same..).unwrap_or_default())
        .take_while(|(x, y)| x == y)
        .count()
}

/// A key that every value matching a glob has, for the rule index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Anchor {
    /// See [`key`].
    pub(crate) key: u32,
    /// The length of the literal behind the key; longer is more selective.
    pub(crate) strength: usize,
}

/// A frame's path or package as path matchers see it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PathValue<'a> {
    raw: &'a str,
    /// The value folded (see [`fold`]), with a `/` in front when it did
    /// not start with one; `None` for non-ASCII values.
    folded: Option<&'a str>,
    /// Whether `folded` starts with an added `/`.
    slash_added: bool,
}

impl<'a> PathValue<'a> {
    /// A value and its folded form (see [`fold_into`]).
    pub(crate) fn new(raw: &'a str, folded: Option<&'a str>) -> Self {
        Self {
            raw,
            folded,
            slash_added: folded.is_some() && !raw.starts_with(['/', '\\']),
        }
    }

    /// The folded value as it is, without an added `/` (empty for
    /// non-ASCII values).
    pub(crate) fn plain(&self) -> &'a str {
        let folded = self.folded.unwrap_or_default();
        if self.slash_added {
            folded.get(1..).unwrap_or_default()
        } else {
            folded
        }
    }

    /// Whether index keys can be trusted for this value (it is ASCII).
    pub(crate) fn has_keys(&self) -> bool {
        self.folded.is_some()
    }
}

/// Appends the folded form of an ASCII value to `buffer` (see
/// [`folded_len`]); appends nothing for a non-ASCII value and returns
/// `false`.
pub(crate) fn fold_into(buffer: &mut Vec<u8>, raw: &str) -> bool {
    if !raw.is_ascii() {
        return false;
    }
    if !raw.starts_with(['/', '\\']) {
        buffer.push(b'/');
    }
    let start = buffer.len();
    buffer.extend_from_slice(raw.as_bytes());
    fold_ascii(buffer.get_mut(start..).unwrap_or_default());
    true
}

/// Folds ASCII text in place (see [`fold`]).
pub(crate) fn fold_ascii(text: &mut [u8]) {
    // Branch-free, so that it runs on whole vectors.
    for byte in text {
        *byte = fold_byte(*byte);
    }
}

/// The length of the folded form of a value: ASCII values are folded with
/// a `/` in front when they do not start with one; `None` for non-ASCII
/// values, which are not folded.
pub(crate) fn folded_len(raw: &str) -> Option<usize> {
    raw.is_ascii()
        .then(|| raw.len() + usize::from(!raw.starts_with(['/', '\\'])))
}

/// [`fold`] for one ASCII byte.
fn fold_byte(byte: u8) -> u8 {
    let lower = byte | (u8::from(byte.is_ascii_uppercase()) << 5);
    if byte == b'\\' { b'/' } else { lower }
}
