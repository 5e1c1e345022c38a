//! Parser for stack trace rule text (spec 12.1).
//!
//! The grammar is Sentry's (a PEG), one rule per line:
//!
//! ```text
//! rule     = caller? matcher+ callee? action+ comment?
//! caller   = "[" matcher "]" "|"
//! callee   = "|" "[" matcher "]"
//! matcher  = "!"? key ":" argument
//! key      = [a-zA-Z0-9_.-]+ | '"' [a-zA-Z0-9_.:-]+ '"'
//! argument = '"' quoted '"' | non-whitespace run
//! action   = ("^" | "v")? ("+" | "-") ("app" | "group" | "prefix" | "sentinel")
//!          | ("max-frames" | "min-frames" | "invert-stacktrace" | "category") "=" value
//! ```
//!
//! Blanks (spaces, tabs) may separate everything; lines whose first
//! non-blank character is `#` are comments, and a `#` after the actions
//! starts a trailing comment. In arguments `\\` stands for `\` (and `\"`
//! for `"` inside quotes). Instead of a generic PEG failure, the hand-written
//! parser reports what was expected, with 1-based line and column.

use super::rule::{Action, FlagKind, Matcher, MatcherKey, Range, Rule, parse_bool};

/// A syntax error in stack trace rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct ParseError {
    line: usize,
    column: usize,
    message: String,
}

impl ParseError {
    /// The 1-based line of the error.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The 1-based column (in characters) of the error.
    pub fn column(&self) -> usize {
        self.column
    }

    /// What is wrong, without the position.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Parses all rules of a text, skipping blank and comment lines.
pub(crate) fn parse_rules(text: &str) -> Result<Vec<Rule>, ParseError> {
    let mut rules = Vec::new();
    // `split('\n')` plus stripping `\r` is `str::lines` without dropping a
    // final empty line, so line numbers stay right.
    for (index, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let content = line.trim_start_matches(is_blank);
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        rules.push(LineParser::new(line, index + 1).rule()?);
    }
    Ok(rules)
}

/// Whitespace between tokens. Sentry only allows spaces; tabs are accepted
/// too because nothing else could mean.
fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r')
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

fn is_quoted_ident_char(c: char) -> bool {
    is_ident_char(c) || c == ':'
}

/// Recursive-descent parser over one line.
struct LineParser<'t> {
    line: &'t str,
    line_number: usize,
    /// Byte offset of the next character.
    pos: usize,
}

impl<'t> LineParser<'t> {
    fn new(line: &'t str, line_number: usize) -> Self {
        Self {
            line,
            line_number,
            pos: 0,
        }
    }

    /// `rule = caller? matcher+ callee? action+ comment?`
    fn rule(mut self) -> Result<Rule, ParseError> {
        self.skip_blanks();
        let caller = if self.peek() == Some('[') {
            Some(self.caller()?)
        } else {
            None
        };
        let (matchers, callee) = self.frame_matchers(caller.is_some())?;
        let actions = self.actions(callee.is_some())?;
        Ok(Rule::new(caller, matchers, callee, actions))
    }

    /// `matcher+ callee?`
    fn frame_matchers(
        &mut self,
        has_caller: bool,
    ) -> Result<(Vec<Matcher>, Option<Matcher>), ParseError> {
        let mut matchers = Vec::new();
        loop {
            self.skip_blanks();
            match self.peek() {
                Some('[') if has_caller => {
                    return Err(
                        self.error_here("a rule can have only one caller matcher `[ ... ] |`")
                    );
                }
                Some('[') => {
                    return Err(self.error_here(
                        "a caller matcher `[ ... ] |` must come before the frame matchers",
                    ));
                }
                Some('|') if !matchers.is_empty() => return Ok((matchers, Some(self.callee()?))),
                _ if self.at_matcher() => matchers.push(self.matcher()?),
                _ if matchers.is_empty() => {
                    return Err(self.error_here("expected a matcher such as `function:foo`"));
                }
                _ => return Ok((matchers, None)),
            }
        }
    }

    /// `action+ comment?`
    fn actions(&mut self, has_callee: bool) -> Result<Vec<Action>, ParseError> {
        let mut actions = Vec::new();
        loop {
            self.skip_blanks();
            match self.peek() {
                None | Some('#') => break,
                Some('|') if has_callee => {
                    return Err(
                        self.error_here("a rule can have only one callee matcher `| [ ... ]`")
                    );
                }
                Some('|' | '[') => {
                    return Err(
                        self.error_here("caller and callee matchers must come before the actions")
                    );
                }
                _ if self.at_matcher() => {
                    return Err(self.error_here("matchers must come before the actions"));
                }
                _ => actions.push(self.action()?),
            }
        }
        if actions.is_empty() {
            return Err(self.error_here(
                "expected an action such as `+app`, `-group`, `max-frames=3` or `category=foo`",
            ));
        }
        Ok(actions)
    }

    /// `"[" matcher "]" "|"`
    fn caller(&mut self) -> Result<Matcher, ParseError> {
        self.expect('[', "expected `[`")?;
        let matcher = self.bracketed_matcher()?;
        self.skip_blanks();
        self.expect('|', "expected `|` after the caller matcher `[ ... ]`")?;
        Ok(matcher)
    }

    /// `"|" "[" matcher "]"`
    fn callee(&mut self) -> Result<Matcher, ParseError> {
        self.expect('|', "expected `|`")?;
        self.skip_blanks();
        self.expect('[', "expected `[` after `|` of a callee matcher")?;
        self.bracketed_matcher()
    }

    /// The matcher between `[` and `]`, and the `]`.
    fn bracketed_matcher(&mut self) -> Result<Matcher, ParseError> {
        self.skip_blanks();
        if !self.at_matcher() {
            return Err(self.error_here("expected a matcher inside `[ ... ]`"));
        }
        let matcher = self.matcher()?;
        self.skip_blanks();
        if self.peek() == Some(']') {
            self.bump();
            return Ok(matcher);
        }
        // An unquoted pattern runs to the next blank, so `[ a:b]` swallows
        // the bracket; say so.
        let message = if matcher.pattern().ends_with(']') {
            "expected `]`; put a blank between the pattern and `]`"
        } else {
            "expected `]`"
        };
        Err(self.error_here(message))
    }

    /// Whether a matcher (`!`? key `:`) starts here. Decides between
    /// matchers and actions without backtracking.
    fn at_matcher(&self) -> bool {
        let rest = self.rest();
        let rest = rest.strip_prefix('!').unwrap_or(rest);
        let after_key = match rest.strip_prefix('"') {
            Some(quoted) => {
                let len = quoted
                    .find(|c| !is_quoted_ident_char(c))
                    .unwrap_or(quoted.len());
                quoted
                    .get(len..)
                    .filter(|_| len > 0)
                    .and_then(|r| r.strip_prefix('"'))
            }
            None => {
                let len = rest.find(|c| !is_ident_char(c)).unwrap_or(rest.len());
                rest.get(len..).filter(|_| len > 0)
            }
        };
        after_key.is_some_and(|r| r.starts_with(':'))
    }

    /// `"!"? key ":" argument`
    fn matcher(&mut self) -> Result<Matcher, ParseError> {
        let negated = self.eat('!');
        let key_start = self.pos;
        let name = if self.eat('"') {
            let name = self.take_while(is_quoted_ident_char);
            self.expect('"', "expected `\"` after the quoted key")?;
            name
        } else {
            self.take_while(is_ident_char)
        };
        let key = MatcherKey::from_name(name)
            .ok_or_else(|| self.error_at(key_start, format!("unknown key `{name}`")))?;
        self.expect(':', "expected `:` after the key")?;
        let pattern = self.argument(key)?;
        Ok(Matcher::new(key, negated, pattern))
    }

    /// `'"' quoted '"' | non-whitespace run`, unescaped. As in the PEG, an
    /// unterminated quote falls back to the unquoted form.
    fn argument(&mut self, key: MatcherKey) -> Result<String, ParseError> {
        if let Some(pattern) = self.quoted() {
            return Ok(pattern);
        }
        let raw = self.take_while(|c| !c.is_whitespace());
        if raw.is_empty() {
            return Err(self.error_here(format!("expected a pattern after `{key}:`")));
        }
        Ok(raw.replace("\\\\", "\\"))
    }

    /// A quoted argument: `\\` is `\`, `\"` is `"`, other escapes stay as
    /// written (so glob escapes like `\[` survive). `None` when no complete
    /// quoted string starts here; the position is then unchanged.
    fn quoted(&mut self) -> Option<String> {
        let body = self.rest().strip_prefix('"')?;
        let mut value = String::new();
        let mut chars = body.char_indices();
        while let Some((offset, c)) = chars.next() {
            match c {
                '"' => {
                    // Skip the opening quote, the body and the closing one.
                    self.pos += offset + 2;
                    return Some(value);
                }
                '\\' => match chars.next() {
                    Some((_, escaped @ ('\\' | '"'))) => value.push(escaped),
                    Some((_, other)) => {
                        value.push('\\');
                        value.push(other);
                    }
                    None => return None,
                },
                other => value.push(other),
            }
        }
        None
    }

    /// One action.
    fn action(&mut self) -> Result<Action, ParseError> {
        let start = self.pos;
        let rest = self.rest();
        let ranged = rest.starts_with(['^', 'v'])
            && rest.get(1..).is_some_and(|r| r.starts_with(['+', '-']));
        if ranged || rest.starts_with(['+', '-']) {
            return self.flag_action(start);
        }
        for name in ["max-frames", "min-frames", "invert-stacktrace", "category"] {
            if rest.starts_with(name) {
                self.pos += name.len();
                return self.var_action(name);
            }
        }
        let word = self.take_while(|c| !c.is_whitespace());
        Err(self.error_at(
            start,
            format!(
                "unknown action `{word}`; expected e.g. `+app`, `^-group`, `max-frames=3` or `category=foo`"
            ),
        ))
    }

    /// `("^" | "v")? ("+" | "-") flag-name`
    fn flag_action(&mut self, start: usize) -> Result<Action, ParseError> {
        let range = if self.eat('^') {
            Some(Range::Up)
        } else if self.eat('v') {
            Some(Range::Down)
        } else {
            None
        };
        let value = self.eat('+');
        if !value {
            self.expect('-', "expected `+` or `-`")?;
        }
        let kinds = [
            FlagKind::App,
            FlagKind::Group,
            FlagKind::Prefix,
            FlagKind::Sentinel,
        ];
        let kind = kinds
            .into_iter()
            .find(|kind| self.rest().starts_with(kind.as_str()));
        let Some(kind) = kind.filter(|kind| self.flag_name_ends(kind.as_str().len())) else {
            let word = self.take_while(|c| !c.is_whitespace());
            return Err(self.error_at(
                start,
                format!(
                    "unknown flag action `{}{word}`; expected app or group",
                    sign(value)
                ),
            ));
        };
        self.pos += kind.as_str().len();
        Ok(Action::Flag { range, value, kind })
    }

    /// Whether the flag name of `len` bytes ends a word: `+application` is
    /// an error rather than `+app` followed by garbage. The PEG accepts an
    /// action glued to the next one (`+app-group`, `+appv-group`), so those
    /// still parse.
    fn flag_name_ends(&self, len: usize) -> bool {
        let after = self.rest().get(len..).unwrap_or("");
        let mut chars = after.chars();
        match chars.next() {
            Some('v') => chars.next().is_some_and(|c| matches!(c, '+' | '-')),
            Some(c) => !(c.is_alphanumeric() || c == '_'),
            None => true,
        }
    }

    /// `"=" value` after a variable name.
    fn var_action(&mut self, name: &str) -> Result<Action, ParseError> {
        self.skip_blanks();
        self.expect('=', format!("expected `=` after `{name}`"))?;
        self.skip_blanks();
        let value_start = self.pos;
        let value = self.take_while(is_ident_char);
        if value.is_empty() {
            return Err(self.error_here(format!("expected a value after `{name}=`")));
        }
        let invalid = |what: &str| {
            self.error_at(value_start, format!("`{name}` needs {what}, not `{value}`"))
        };
        match name {
            "max-frames" => value
                .parse()
                .map(Action::MaxFrames)
                .map_err(|_| invalid("a number")),
            "min-frames" => value
                .parse()
                .map(Action::MinFrames)
                .map_err(|_| invalid("a number")),
            "invert-stacktrace" => parse_bool(value)
                .map(Action::InvertStacktrace)
                .ok_or_else(|| invalid("a boolean (1/yes/true, 0/no/false)")),
            _ => Ok(Action::Category(value.to_owned())),
        }
    }

    fn rest(&self) -> &'t str {
        self.line.get(self.pos..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) {
        if let Some(c) = self.peek() {
            self.pos += c.len_utf8();
        }
    }

    fn eat(&mut self, expected: char) -> bool {
        let found = self.peek() == Some(expected);
        if found {
            self.bump();
        }
        found
    }

    fn expect(&mut self, expected: char, message: impl Into<String>) -> Result<(), ParseError> {
        if self.eat(expected) {
            Ok(())
        } else {
            Err(self.error_here(message))
        }
    }

    fn take_while(&mut self, predicate: impl Fn(char) -> bool) -> &'t str {
        let rest = self.rest();
        let len = rest.find(|c| !predicate(c)).unwrap_or(rest.len());
        self.pos += len;
        rest.get(..len).unwrap_or("")
    }

    fn skip_blanks(&mut self) {
        self.take_while(is_blank);
    }

    fn error_here(&self, message: impl Into<String>) -> ParseError {
        self.error_at(self.pos, message)
    }

    fn error_at(&self, pos: usize, message: impl Into<String>) -> ParseError {
        let column = self
            .line
            .get(..pos)
            .map_or(1, |before| before.chars().count() + 1);
        ParseError {
            line: self.line_number,
            column,
            message: message.into(),
        }
    }
}

fn sign(value: bool) -> char {
    if value { '+' } else { '-' }
}
