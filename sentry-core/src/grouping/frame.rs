//! The `frame:v1` strategy: what one stack frame contributes (spec section 5).
//!
//! A frame contributes its module, file name, function and, for platforms
//! whose source lines are stable (`context-line`), the source line; never
//! line numbers, so a frame groups by where the code is. The many special
//! cases undo what compilers, code generators and minifiers vary between
//! builds.

use std::sync::LazyLock;

use regex::Regex;

use super::component::{Hint, NodeId, Slot, Tree};
use super::platform::Family;
use crate::protocol::Frame;

/// Longest source line, in characters, that still counts.
const MAX_CONTEXT_LINE: usize = 120;

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("invariant: the constant pattern compiles")
}

static JAVASSIST: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(\$\$_javassist)(?:_seam)?(?:_[0-9]+)?"));

/// Java module clean-ups: each keeps the marker (group 1) and replaces the
/// generated part with `<auto>`.
static JAVA_MODULE_CLEANUPS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r"(sun\.reflect\.Generated(?:Serialization)?ConstructorAccessor)\d+",
        r"(\$\$[\w_]+?CGLIB\$\$)[a-fA-F0-9]+(_[0-9]+)?",
        r"(\$\$_javassist)(?:_seam)?(?:_[0-9]+)?",
        r"(\$fn__)\d+",
        r"(\$\$?EnhancerBy[\w_]+?\$?\$)[a-fA-F0-9]+(_[0-9]+)?",
        r"(\$\$?FastClassBy[\w_]+?\$?\$)[a-fA-F0-9]+(_[0-9]+)?",
        r"(\$\$?HibernateProxy\$?\$)\w+(_[0-9]+)?",
    ]
    .into_iter()
    .map(regex)
    .collect()
});

static RUBY_ERB_SUFFIX: LazyLock<Regex> = LazyLock::new(|| regex(r"__\d{4,}_\d{4,}$"));

/// Whether a path is a URL in the sense of the file-name check.
fn is_url_origin(abs_path: &str) -> bool {
    ["http:", "https:", "applewebdata:", "blob:"]
        .iter()
        .any(|scheme| abs_path.starts_with(scheme))
}

/// Whether a path is a URL in the sense of the context-line and single-frame checks.
pub(super) fn is_url(abs_path: &str) -> bool {
    is_url_origin(abs_path) || abs_path.starts_with("file:")
}

/// The platform a frame is grouped as: its own, else the event's.
pub(super) fn frame_platform<'a>(frame: &'a Frame, event_platform: &'a str) -> &'a str {
    own_platform(frame).unwrap_or(event_platform)
}

/// A frame's own platform, when it names one.
fn own_platform(frame: &Frame) -> Option<&str> {
    frame.platform.as_deref().filter(|p| !p.is_empty())
}

/// The platforms with frame rules of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PlatformName {
    Java,
    Ruby,
    Php,
    Csharp,
    /// Any other.
    Other,
}

/// What frame rules need of the platform a frame is grouped as, decided
/// once per platform name rather than once per frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Platform {
    name: PlatformName,
    family: Family,
    /// Whether source lines take part in grouping (`javascript`, `node`,
    /// `python`, `php`, `ruby`).
    context_lines: bool,
}

impl Platform {
    /// The platform of that name.
    pub(super) fn named(name: &str) -> Self {
        let platform_name = match name {
            "java" => PlatformName::Java,
            "ruby" => PlatformName::Ruby,
            "php" => PlatformName::Php,
            "csharp" => PlatformName::Csharp,
            _ => PlatformName::Other,
        };
        Self {
            name: platform_name,
            family: Family::of(name),
            context_lines: matches!(name, "javascript" | "node" | "python" | "php" | "ruby"),
        }
    }

    /// The platform a frame is grouped as: its own, else the event's.
    pub(super) fn of_frame(frame: &Frame, event: Platform) -> Self {
        own_platform(frame).map_or(event, Self::named)
    }

    /// The platform's family.
    pub(super) fn family(&self) -> Family {
        self.family
    }
}

fn replace_auto(regex: &Regex, text: &str) -> String {
    regex.replace_all(text, "${1}<auto>").into_owned()
}

/// A leaf of a frame's child component, before it is written to the tree.
enum Leaf<'a> {
    /// As sent.
    Text(&'a str),
    /// ASCII text, lowercased when written.
    AsciiLowercase(&'a str),
    /// A source line, its words separated by single spaces when written.
    Collapsed(&'a str),
    /// A cleaned-up value.
    Owned(String),
}

impl Leaf<'_> {
    #[inline]
    fn write(&self, out: &mut String) {
        match self {
            Leaf::Text(text) => out.push_str(text),
            Leaf::AsciiLowercase(text) => {
                let start = out.len();
                out.push_str(text);
                if let Some(added) = out.get_mut(start..) {
                    added.make_ascii_lowercase();
                }
            }
            Leaf::Collapsed(line) => push_collapsed_whitespace(out, line),
            Leaf::Owned(text) => out.push_str(text),
        }
    }
}

/// A child component of a frame (module, file name, function, source
/// line) before it is added to the tree: all of them are decided first,
/// then written at once (see [`frame_component`]).
struct Part<'a> {
    id: &'static str,
    leaf: Option<Leaf<'a>>,
    contributes: bool,
    hint: Option<&'static str>,
}

impl<'a> Part<'a> {
    /// A component without values: it does not contribute.
    fn empty(id: &'static str) -> Self {
        Self {
            id,
            leaf: None,
            contributes: false,
            hint: None,
        }
    }

    /// A component with one leaf: it contributes.
    fn new(id: &'static str, leaf: Leaf<'a>) -> Self {
        Self {
            id,
            leaf: Some(leaf),
            contributes: true,
            hint: None,
        }
    }

    fn disable(&mut self, hint: &'static str) {
        self.contributes = false;
        self.hint = Some(hint);
    }

    /// Replaces the value, which contributes again, and explains why.
    fn replace(&mut self, leaf: Leaf<'a>, hint: &'static str) {
        self.leaf = Some(leaf);
        self.contributes = true;
        self.hint = Some(hint);
    }
}

fn module_part<'a>(frame: &'a Frame, platform: Platform) -> Part<'a> {
    let Some(module) = frame.module.as_deref().filter(|m| !m.is_empty()) else {
        return Part::empty("module");
    };
    let mut part = Part::new("module", Leaf::Text(module));
    if platform.family == Family::Javascript {
        let bad = module.contains('/')
            && frame
                .abs_path
                .as_deref()
                .is_some_and(|path| path.ends_with(module));
        if bad {
            part.disable("ignored bad javascript module");
        }
    } else if platform.name == PlatformName::Java {
        if module.contains("$$Lambda$") {
            part.disable("ignored java lambda");
        }
        let accessor = [
            "sun.reflect.GeneratedMethodAccessor",
            "jdk.internal.reflect.GeneratedMethodAccessor",
        ]
        .into_iter()
        .find(|prefix| module.starts_with(prefix));
        if let Some(prefix) = accessor {
            part.replace(Leaf::Text(prefix), "removed reflection marker");
        } else {
            let cleaned = JAVA_MODULE_CLEANUPS
                .iter()
                .fold(module.to_owned(), |text, regex| replace_auto(regex, &text));
            if cleaned != module {
                part.replace(Leaf::Owned(cleaned), "removed codegen marker");
            }
        }
    }
    part
}

/// The text after the last `/` or `\`, or all of it.
fn basename(path: &str) -> &str {
    match memchr::memrchr2(b'/', b'\\', path.as_bytes()) {
        Some(separator) => path.get(separator + 1..).unwrap_or_default(),
        None => path,
    }
}

fn filename_part<'a>(frame: &'a Frame, platform: Platform) -> Part<'a> {
    let Some(filename) = frame.filename.as_deref().filter(|f| !f.is_empty()) else {
        return Part::empty("filename");
    };
    let basename = basename(filename);
    // Lowercased as `str::to_lowercase` does: when written for ASCII
    // (nearly always), without a copy.
    let leaf = if basename.is_ascii() {
        Leaf::AsciiLowercase(basename)
    } else {
        Leaf::Owned(basename.to_lowercase())
    };
    let lowered = match &leaf {
        Leaf::Owned(text) => Some(text.as_str()),
        _ => None,
    };
    let equals = |name: &str| match lowered {
        Some(text) => text == name,
        None => basename.eq_ignore_ascii_case(name),
    };
    let not_useful = equals("<anonymous>") || equals("[native code]");
    let javassist = if platform.name == PlatformName::Java && !not_useful {
        let lowercase = match lowered {
            Some(text) => text.to_owned(),
            None => basename.to_ascii_lowercase(),
        };
        let cleaned = replace_auto(&JAVASSIST, &lowercase);
        (cleaned != lowercase).then_some(cleaned)
    } else {
        None
    };
    let mut part = Part::new("filename", leaf);
    if frame.abs_path.as_deref().is_some_and(is_url_origin) {
        part.disable("ignored because frame points to a URL");
    } else if not_useful {
        part.disable("ignored because file name is not useful");
    } else if let Some(cleaned) = javassist {
        part.replace(Leaf::Owned(cleaned), "cleaned javassist parts");
    }
    part
}

/// Whether an ASCII byte is whitespace for `str::split_whitespace`.
fn is_ascii_space(byte: u8) -> bool {
    matches!(byte, b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r' | b' ')
}

/// Whether a line has no words, as `split_whitespace` splits them.
fn is_blank(line: &str) -> bool {
    match line.bytes().find(|&byte| !is_ascii_space(byte)) {
        None => true,
        Some(byte) if byte.is_ascii() => false,
        // Some non-ASCII characters are whitespace too.
        Some(_) => line.trim_start().is_empty(),
    }
}

/// Appends the words of `line` separated by single spaces, as
/// `split_whitespace` and `join(" ")` do.
fn push_collapsed_whitespace(out: &mut String, line: &str) {
    let bytes = line.as_bytes();
    // Most lines are ASCII, indented, with single spaces between words:
    // copy them past the indentation.
    if line.is_ascii() {
        let start = bytes.iter().position(|&b| !is_ascii_space(b));
        let end = bytes.iter().rposition(|&b| !is_ascii_space(b));
        let (Some(start), Some(end)) = (start, end) else {
            return;
        };
        let words = line.get(start..=end).unwrap_or_default();
        // Single spaces only: no other whitespace byte and no two spaces
        // in a row. Branch-free, so that it runs on whole vectors.
        let bytes = words.as_bytes();
        let other_space = bytes
            .iter()
            .fold(false, |found, &b| found | (b.wrapping_sub(b'\t') < 5));
        let double_space = bytes
            .iter()
            .zip(bytes.iter().skip(1))
            .fold(false, |found, (&a, &b)| found | ((a == b' ') & (b == b' ')));
        if !other_space && !double_space {
            out.push_str(words);
            return;
        }
    }
    for (index, word) in line.split_whitespace().enumerate() {
        if index > 0 {
            out.push(' ');
        }
        out.push_str(word);
    }
}

fn context_line_part<'a>(frame: &'a Frame, platform: Platform) -> Option<Part<'a>> {
    if !platform.context_lines {
        return None;
    }
    let raw = frame.context_line.as_deref()?;
    // Nothing is left of a line of whitespace.
    if is_blank(raw) {
        return None;
    }
    let mut part = Part::new("context-line", Leaf::Collapsed(raw));
    if raw.len() > MAX_CONTEXT_LINE && raw.chars().count() > MAX_CONTEXT_LINE {
        part.disable("discarded because line too long");
    } else if platform.family == Family::Javascript
        && frame.function.as_deref().is_none_or(str::is_empty)
        && frame.abs_path.as_deref().is_some_and(is_url)
    {
        part.disable("discarded because from URL origin");
    }
    Some(part)
}

fn function_part<'a>(
    frame: &'a Frame,
    platform: Platform,
    context_line_contributes: bool,
) -> Part<'a> {
    let name = if platform.name == PlatformName::Csharp {
        frame.raw_function.as_deref().or(frame.function.as_deref())
    } else {
        frame.function.as_deref().or(frame.raw_function.as_deref())
    };
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        return Part::empty("function");
    };
    let mut part = Part::new("function", Leaf::Text(name));
    match (platform.name, platform.family) {
        (PlatformName::Ruby, _) => {
            if name.starts_with("block ") {
                part.replace(Leaf::Text("block"), "ruby block");
            } else {
                let cleaned = RUBY_ERB_SUFFIX.replace(name, "");
                if cleaned != name {
                    part.replace(
                        Leaf::Owned(cleaned.into_owned()),
                        "removed generated erb template suffix",
                    );
                }
            }
        }
        (PlatformName::Php, _) => {
            if name.starts_with("[Anonymous") || name.starts_with("class@anonymous\0") {
                part.disable("ignored anonymous function");
            }
            if name.starts_with("class@anonymous") {
                let method = name.rsplit("::").next().unwrap_or(name);
                part.replace(Leaf::Text(method), "anonymous class method");
            }
        }
        (PlatformName::Java, _) if name.starts_with("lambda$") => {
            part.disable("ignored java lambda");
        }
        (_, Family::Native) if name == "<redacted>" || name == "<unknown>" => {
            part.disable("ignored unknown function");
        }
        (_, Family::Javascript) => {
            let trimmed = name.rsplit('.').next().unwrap_or(name);
            if trimmed != name {
                part.replace(Leaf::Text(trimmed), "trimmed javascript function");
            }
            let sourcemapped = frame
                .data
                .as_ref()
                .is_some_and(|data| data.contains_key("sourcemap"));
            if sourcemapped && context_line_contributes {
                part.disable("ignored because sourcemap used and context line available");
            }
        }
        _ => {}
    }
    part
}

/// Builds the component of one frame, before any stack-level rule.
///
/// The child components are decided first, then written: the leaves that
/// count first, in hashing order, so that they form one run of text that
/// seals the frame (see [`Tree::seal_text`]), then the others.
pub(super) fn frame_component(tree: &mut Tree, frame: &Frame, event_platform: Platform) -> NodeId {
    let platform = Platform::of_frame(frame, event_platform);
    let module = module_part(frame, platform);
    let mut filename = filename_part(frame, platform);
    if module.contributes {
        filename.disable("module takes precedence");
    }
    let context_line = context_line_part(frame, platform);
    let context_line_contributes = context_line.as_ref().is_some_and(|line| line.contributes);
    let mut function = function_part(frame, platform, context_line_contributes);

    let mut low_quality = false;
    if platform.family == Family::Javascript {
        let raw = frame
            .raw_function
            .as_deref()
            .or(frame.function.as_deref())
            .unwrap_or_default();
        let name = raw.rsplit('.').next().unwrap_or(raw);
        if name.is_empty() {
            function.contributes = false;
        } else if matches!(
            name,
            "?" | "<anonymous function>" | "<anonymous>" | "Anonymous function"
        ) || name.ends_with("/<")
        {
            function.disable("ignored unknown function name");
        }
        let low_quality_path = frame.abs_path.as_deref().is_some_and(|path| {
            matches!(
                path,
                "[native code]" | "native code" | "eval code" | "<anonymous>"
            )
        });
        low_quality = name == "eval" || low_quality_path;
    }

    // In hashing order; the leaves that count first.
    let parts = [Some(module), Some(filename), Some(function), context_line];
    let mut leaves: [Option<Slot>; 4] = [None; 4];
    let start = tree.text_len();
    for (part, slot) in parts.iter().zip(&mut leaves) {
        if let Some(Part {
            leaf: Some(leaf),
            contributes: true,
            ..
        }) = part
        {
            *slot = Some(tree.text_with(|out| leaf.write(out)));
        }
    }
    let sealed = tree.text_since(start);
    // Then the leaves that do not count.
    for (part, slot) in parts.iter().zip(&mut leaves) {
        if let (
            Some(Part {
                leaf: Some(leaf), ..
            }),
            true,
        ) = (part, slot.is_none())
        {
            *slot = Some(tree.text_with(|out| leaf.write(out)));
        }
    }
    let mut children: [Option<NodeId>; 4] = [None; 4];
    for ((part, leaf), child) in parts.iter().zip(leaves).zip(&mut children) {
        if let Some(part) = part {
            *child =
                Some(tree.add_raw(part.id, part.contributes, part.hint.map(Hint::Static), leaf));
        }
    }
    let component = match children {
        [
            Some(module),
            Some(filename),
            Some(function),
            Some(context_line),
        ] => tree.add_parent("frame", &[module, filename, function, context_line]),
        [Some(module), Some(filename), Some(function), None] => {
            tree.add_parent("frame", &[module, filename, function])
        }
        _ => tree.add_empty("frame"),
    };
    if low_quality {
        tree.disable(component, "ignored low quality javascript frame");
    }
    // Later steps only switch the frame itself on or off.
    tree.seal_text(component, sealed);
    debug_assert_eq!(
        tree.view(component)
            .children()
            .flat_map(|child| child.contributing_values())
            .collect::<String>(),
        tree.slot_text(Slot::Text(sealed)),
        "a frame's seal is the text its children contribute"
    );
    component
}

/// Whether two consecutive frames are the same call (recursion): equal in
/// every field that identifies a call site.
pub(super) fn is_recursion(frame: &Frame, previous: &Frame) -> bool {
    // Line numbers first: they differ most often and compare cheapest.
    frame.lineno == previous.lineno
        && frame.colno == previous.colno
        && frame.function == previous.function
        && frame.abs_path == previous.abs_path
        && frame.package == previous.package
        && frame.module == previous.module
        && frame.filename == previous.filename
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(json: &str) -> Frame {
        serde_json::from_str(json).unwrap()
    }

    fn values(json: &str, platform: &str) -> Vec<String> {
        let mut tree = Tree::default();
        let component = frame_component(&mut tree, &frame(json), Platform::named(platform));
        tree.view(component).contributing_values()
    }

    fn contributes(json: &str, platform: &str) -> bool {
        let mut tree = Tree::default();
        let component = frame_component(&mut tree, &frame(json), Platform::named(platform));
        tree.contributes(component)
    }

    #[test]
    fn module_wins_over_filename_and_lines_do_not_count() {
        let json = r#"{"module":"app.views","filename":"app/views.py","function":"index","lineno":3,"context_line":"  return  x"}"#;
        assert_eq!(
            values(json, "python"),
            vec!["app.views", "index", "return x"]
        );
    }

    #[test]
    fn filename_is_lowercased_basename_unless_url() {
        let json = r#"{"filename":"C:\\App\\Main.CS","function":"Run"}"#;
        assert_eq!(values(json, "csharp"), vec!["main.cs", "Run"]);
        let json = r#"{"filename":"app.js","abs_path":"https://x.io/app.js","function":"a.b.go"}"#;
        assert_eq!(values(json, "javascript"), vec!["go"]);
    }

    #[test]
    fn java_generated_code_is_cleaned() {
        let json =
            r#"{"module":"com.x.Foo$$EnhancerBySpringCGLIB$$abc123","function":"lambda$run$0"}"#;
        assert_eq!(
            values(json, "java"),
            vec!["com.x.Foo$$EnhancerBySpringCGLIB$$<auto>"]
        );
    }

    #[test]
    fn low_quality_javascript_frames_are_off() {
        let json = r#"{"function":"eval","filename":"x.js"}"#;
        assert!(!contributes(json, "javascript"));
    }

    #[test]
    fn long_context_lines_do_not_count() {
        let line = "x".repeat(121);
        let json = format!(r#"{{"function":"f","context_line":"{line}"}}"#);
        assert_eq!(values(&json, "python"), vec!["f"]);
    }

    #[test]
    fn blank_lines_are_what_split_whitespace_finds_no_word_in() {
        for line in [
            "",
            "   ",
            "\t\x0b\x0c\r\n",
            " \u{a0}\u{3000} ",
            " x",
            "\u{a0}x",
            "\u{1c}",
        ] {
            assert_eq!(
                is_blank(line),
                line.split_whitespace().next().is_none(),
                "{line:?}"
            );
        }
    }

    #[test]
    fn whitespace_collapses_as_split_whitespace_does() {
        for line in [
            "  return  x",
            "a\tb",
            "a \x0b b",
            "plain line",
            "\u{a0}x\u{2003} y ",
            "",
            "   ",
            "caf\u{e9}  bar",
        ] {
            let mut out = String::new();
            push_collapsed_whitespace(&mut out, line);
            let expected = line.split_whitespace().collect::<Vec<_>>().join(" ");
            assert_eq!(out, expected, "{line:?}");
        }
    }

    #[test]
    fn file_names_are_lowercased_as_std_does() {
        for name in ["Main.CS", "\u{130}stanbul.PY", "\u{3a3}A\u{3a3}", "x"] {
            let json = format!(r#"{{"filename":"dir/{name}","function":"f"}}"#);
            assert_eq!(
                values(&json, "csharp"),
                vec![name.to_lowercase(), "f".to_owned()]
            );
        }
        for name in ["[Native Code]", "<Anonymous>"] {
            let json = format!(r#"{{"filename":"{name}","function":"f"}}"#);
            assert_eq!(values(&json, "csharp"), vec!["f"]);
        }
    }
}
