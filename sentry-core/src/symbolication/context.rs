//! The lines around a frame's line, as Sentry shows them: five before,
//! the line, five after, long lines cut to a window around the column.

/// Lines of context on each side.
const CONTEXT: usize = 5;
/// The longest line kept whole, in characters.
const MAX_LINE: usize = 140;
/// What marks a cut.
const SNIP: &str = "{snip}";

/// The lines before, the line, and the lines after line `line` (1-based);
/// `None` when there is no such line. `line_at` gives the line at a
/// 0-based index, with or without its line break, so that a source map's
/// line index is read rather than the whole source scanned for each frame.
pub fn context_lines<'a>(
    line_at: impl Fn(usize) -> Option<&'a str>,
    line: u64,
    column: u64,
) -> Option<(Vec<String>, String, Vec<String>)> {
    let index = usize::try_from(line.checked_sub(1)?).ok()?;
    let current = line_at(index)?;
    let column = usize::try_from(column).unwrap_or(usize::MAX);
    let trim = |text: &str| trim_line(text, column);
    let pre = (index.saturating_sub(CONTEXT)..index)
        .map_while(&line_at)
        .map(trim)
        .collect();
    let post = (index.saturating_add(1)..index.saturating_add(1 + CONTEXT))
        .map_while(&line_at)
        .map(trim)
        .collect();
    Some((pre, trim(current), post))
}

/// A line cut to about [`MAX_LINE`] characters around `column` (1-based),
/// with [`SNIP`] where something was cut.
fn trim_line(line: &str, column: usize) -> String {
    let line = line.trim_end_matches(['\r', '\n']);
    let length = line.chars().count();
    if length <= MAX_LINE {
        return line.to_owned();
    }
    let column = column.min(length);
    let mut start = column.saturating_sub(MAX_LINE / 2 + 10);
    let end = (start + MAX_LINE).min(length);
    if end == length {
        start = end.saturating_sub(MAX_LINE);
    }
    let mut trimmed: String = line.chars().skip(start).take(end - start).collect();
    if start > 0 {
        trimmed.insert_str(0, SNIP);
    }
    if end < length {
        trimmed.push_str(SNIP);
    }
    trimmed
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `context_lines` over the lines of a whole source.
    fn context_of(
        source: &str,
        line: u64,
        column: u64,
    ) -> Option<(Vec<String>, String, Vec<String>)> {
        let lines: Vec<&str> = source.lines().collect();
        context_lines(|index| lines.get(index).copied(), line, column)
    }

    #[test]
    fn takes_five_lines_each_side() {
        let source: String = (1..=20).map(|n| format!("line {n}\n")).collect();
        let (pre, line, post) = context_of(&source, 10, 1).unwrap();
        assert_eq!(pre, ["line 5", "line 6", "line 7", "line 8", "line 9"]);
        assert_eq!(line, "line 10");
        assert_eq!(
            post,
            ["line 11", "line 12", "line 13", "line 14", "line 15"]
        );
        let (pre, line, post) = context_of(&source, 1, 1).unwrap();
        assert!(pre.is_empty());
        assert_eq!(line, "line 1");
        assert_eq!(post.len(), 5);
        assert_eq!(context_of(&source, 21, 1), None);
        assert_eq!(context_of(&source, 0, 1), None);
    }

    #[test]
    fn cuts_long_lines_around_the_column() {
        let long: String = (0..1000)
            .map(|n| char::from(b'a' + (n % 26) as u8))
            .collect();
        let (_, line, _) = context_of(&long, 1, 500).unwrap();
        assert!(line.starts_with(SNIP) && line.ends_with(SNIP), "{line}");
        assert_eq!(line.chars().count(), MAX_LINE + 2 * SNIP.len());
        let (_, line, _) = context_of(&long, 1, 1).unwrap();
        assert!(!line.starts_with(SNIP) && line.ends_with(SNIP));
        let (_, line, _) = context_of(&long, 1, 1000).unwrap();
        assert!(line.starts_with(SNIP) && !line.ends_with(SNIP));
    }
}
