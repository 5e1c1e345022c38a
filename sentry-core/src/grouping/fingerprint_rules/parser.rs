//! The text syntax of fingerprint rules (spec section 11.1), read with a
//! small hand-written parser that follows Sentry's grammar and reports the
//! line and column of the first problem.

use super::matcher::{Matcher, MatcherError};
use super::variables::{match_placeholder, parse_variable};
use super::{DEFAULT_ENTRY, FingerprintRule, ParseError};

/// Characters of a plain matcher key or attribute name.
pub(super) fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// Characters of a quoted matcher key (`"tags.a:b"`).
fn is_quoted_key_char(c: char) -> bool {
    is_key_char(c) || c == ':'
}

fn is_newline(c: char) -> bool {
    matches!(c, '\n' | '\r')
}

/// Quotes text so that [`Cursor::quoted`] reads it back unchanged.
pub(super) fn quote(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '\\' => quoted.push_str("\\\\"),
            '"' => quoted.push_str("\\\""),
            '\n' => quoted.push_str("\\n"),
            '\r' => quoted.push_str("\\r"),
            '\t' => quoted.push_str("\\t"),
            other => quoted.push(other),
        }
    }
    quoted.push('"');
    quoted
}

/// Parses a whole rules text.
pub(super) fn parse_rules(text: &str) -> Result<Vec<FingerprintRule>, ParseError> {
    let mut cursor = Cursor { text, pos: 0 };
    let mut rules = Vec::new();
    loop {
        cursor.skip_blanks();
        match cursor.peek() {
            None => break,
            Some('#') => cursor.skip_to_line_end(),
            Some(c) if is_newline(c) => {}
            Some(_) => rules.push(cursor.rule()?),
        }
        cursor.end_line()?;
    }
    Ok(rules)
}

/// One fingerprint entry after `->`.
enum FingerprintItem {
    Value(String),
    Attribute(String, String),
}

/// A position in the rules text (a byte offset on a char boundary).
struct Cursor<'t> {
    text: &'t str,
    pos: usize,
}

impl<'t> Cursor<'t> {
    fn rest(&self) -> &'t str {
        self.text.get(self.pos..).unwrap_or_default()
    }

    /// The rest of the current line.
    fn rest_of_line(&self) -> &'t str {
        let rest = self.rest();
        rest.find(is_newline).map_or(rest, |end| &rest[..end])
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn eat(&mut self, expected: char) -> bool {
        if self.peek() == Some(expected) {
            self.pos += expected.len_utf8();
            return true;
        }
        false
    }

    /// Consumes the longest prefix whose characters satisfy `accept`.
    fn take_while(&mut self, accept: impl Fn(char) -> bool) -> &'t str {
        let rest = self.rest();
        let len = rest.find(|c| !accept(c)).unwrap_or(rest.len());
        self.pos += len;
        &rest[..len]
    }

    /// Skips spaces and tabs (Sentry allows only spaces; tabs are harmless).
    fn skip_blanks(&mut self) {
        self.take_while(|c| c == ' ' || c == '\t');
    }

    fn skip_to_line_end(&mut self) {
        self.take_while(|c| !is_newline(c));
    }

    /// Expects the end of a line (or of the text) and moves past it.
    fn end_line(&mut self) -> Result<(), ParseError> {
        match self.peek() {
            None => Ok(()),
            Some('\r') => {
                self.bump();
                self.eat('\n');
                Ok(())
            }
            Some('\n') => {
                self.bump();
                Ok(())
            }
            Some('{') => Err(self.error_at(
                self.pos,
                "unexpected `{`: braces are only allowed in `{{ variable }}` or quoted values",
            )),
            Some(c) => Err(self.error_at(self.pos, format!("unexpected `{c}`"))),
        }
    }

    /// An error at a byte offset, located by line and character column.
    fn error_at(&self, pos: usize, message: impl Into<String>) -> ParseError {
        let before = self.text.get(..pos).unwrap_or(self.text);
        let mut line = 1;
        let mut column = 1;
        let mut previous = None;
        for c in before.chars() {
            match c {
                // `\r\n` is one line break.
                '\n' if previous == Some('\r') => {}
                '\n' | '\r' => {
                    line += 1;
                    column = 1;
                }
                _ => column += 1,
            }
            previous = Some(c);
        }
        ParseError::Syntax {
            line,
            column,
            message: message.into(),
        }
    }

    /// `matcher+ -> fingerprint`.
    fn rule(&mut self) -> Result<FingerprintRule, ParseError> {
        let mut matchers = Vec::new();
        loop {
            self.skip_blanks();
            if self.rest().starts_with("->") {
                break;
            }
            match self.peek() {
                Some(c) if !is_newline(c) => matchers.push(self.matcher()?),
                _ if matchers.is_empty() => {
                    return Err(self.error_at(self.pos, "expected a matcher"));
                }
                _ => return Err(self.error_at(self.pos, "expected `->`")),
            }
        }
        if matchers.is_empty() {
            return Err(self.error_at(self.pos, "expected a matcher before `->`"));
        }
        self.pos += "->".len();
        let (fingerprint, title) = self.fingerprint()?;
        Ok(FingerprintRule {
            matchers,
            fingerprint,
            title,
            is_builtin: false,
        })
    }

    /// `[!]key:argument`.
    fn matcher(&mut self) -> Result<Matcher, ParseError> {
        let negated = self.eat('!');
        let key_pos = self.pos;
        let key = if self.peek() == Some('"') {
            self.quoted_key()?
        } else {
            self.take_while(is_key_char)
        };
        if key.is_empty() {
            return Err(self.error_at(key_pos, "expected a matcher (`key:value`) or `->`"));
        }
        if !self.eat(':') {
            return Err(self.error_at(self.pos, format!("expected `:` after `{key}`")));
        }
        let pattern_pos = self.pos;
        let pattern = self.argument(key)?;
        Matcher::new(key, &pattern, negated).map_err(|error| {
            let pos = match error {
                MatcherError::UnknownKey(_) => key_pos,
                MatcherError::InvalidPattern(_) => pattern_pos,
            };
            self.error_at(pos, error.to_string())
        })
    }

    /// `"key"` with the characters of a key plus `:`.
    fn quoted_key(&mut self) -> Result<&'t str, ParseError> {
        let start = self.pos;
        self.bump();
        let key = self.take_while(is_quoted_key_char);
        if key.is_empty() || !self.eat('"') {
            return Err(self.error_at(start, "invalid quoted matcher key"));
        }
        Ok(key)
    }

    /// A matcher argument: a quoted string or a run of non-whitespace.
    fn argument(&mut self, key: &str) -> Result<String, ParseError> {
        if self.peek() == Some('"') {
            return self.quoted();
        }
        let text = self.take_while(|c| !c.is_whitespace());
        if text.is_empty() {
            return Err(self.error_at(self.pos, format!("expected a value after `{key}:`")));
        }
        Ok(text.to_owned())
    }

    /// A double-quoted string, unescaped (see [`unescape`]). It must end on
    /// the line it starts on.
    fn quoted(&mut self) -> Result<String, ParseError> {
        let start = self.pos;
        self.bump();
        let mut raw = String::new();
        loop {
            match self.bump() {
                Some('"') => return Ok(unescape(&raw)),
                Some('\\') => match self.bump() {
                    Some(c) if !is_newline(c) => {
                        raw.push('\\');
                        raw.push(c);
                    }
                    _ => break,
                },
                Some(c) if !is_newline(c) => raw.push(c),
                _ => break,
            }
        }
        Err(self.error_at(start, "unterminated string"))
    }

    /// The values (and `title` attribute) after `->`.
    fn fingerprint(&mut self) -> Result<(Vec<String>, Option<String>), ParseError> {
        let mut values = Vec::new();
        let mut title = None;
        loop {
            self.skip_blanks();
            let item_pos = self.pos;
            match self.fingerprint_item()? {
                None => break,
                Some(FingerprintItem::Value(value)) => values.push(normalize_default(value)),
                Some(FingerprintItem::Attribute(name, value)) if name == "title" => {
                    title = Some(value);
                }
                Some(FingerprintItem::Attribute(name, _)) => {
                    return Err(self.error_at(
                        item_pos,
                        format!("unknown attribute `{name}` (only `title` is allowed)"),
                    ));
                }
            }
            self.skip_blanks();
            self.eat(',');
        }
        if values.is_empty() {
            return Err(self.error_at(self.pos, "expected a fingerprint value"));
        }
        Ok((values, title))
    }

    /// One of `name="value"`, `"quoted"`, `{{ variable }}` or a run without
    /// whitespace, `{` and `,`; `None` when none starts here.
    fn fingerprint_item(&mut self) -> Result<Option<FingerprintItem>, ParseError> {
        let start = self.pos;
        let name = self.take_while(is_key_char);
        if !name.is_empty() && self.rest().starts_with("=\"") {
            self.bump();
            let value = self.quoted()?;
            return Ok(Some(FingerprintItem::Attribute(name.to_owned(), value)));
        }
        self.pos = start;
        if self.peek() == Some('"') {
            return self
                .quoted()
                .map(|value| Some(FingerprintItem::Value(value)));
        }
        let line = self.rest_of_line();
        let len = match match_placeholder(line) {
            Some((len, _)) => len,
            None => line
                .find(|c: char| c.is_whitespace() || c == '{' || c == ',')
                .unwrap_or(line.len()),
        };
        if len == 0 {
            return Ok(None);
        }
        let value = line.get(..len).unwrap_or_default().to_owned();
        self.pos += len;
        Ok(Some(FingerprintItem::Value(value)))
    }
}

/// Writes any `{{ default }}` variant (`{{default}}`) the one way.
fn normalize_default(value: String) -> String {
    if parse_variable(&value) == Some("default") {
        return DEFAULT_ENTRY.to_owned();
    }
    value
}

/// Resolves `\\`, `\"`, `\'`, `\n`, `\r` and `\t`; keeps every other
/// backslash with the character after it, so that glob escapes (`\*`)
/// reach the glob.
fn unescape(raw: &str) -> String {
    let mut text = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            text.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => text.push('\\'),
            Some('"') => text.push('"'),
            Some('\'') => text.push('\''),
            Some('n') => text.push('\n'),
            Some('r') => text.push('\r'),
            Some('t') => text.push('\t'),
            Some(other) => {
                text.push('\\');
                text.push(other);
            }
            None => text.push('\\'),
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::super::FingerprintingRules;

    fn parse(text: &str) -> FingerprintingRules {
        FingerprintingRules::parse(text).unwrap()
    }

    fn error(text: &str) -> String {
        FingerprintingRules::parse(text).unwrap_err().to_string()
    }

    fn json(text: &str) -> serde_json::Value {
        parse(text).to_json()["rules"].clone()
    }

    #[test]
    fn docs_examples() {
        // From Sentry's fingerprint rules documentation.
        let rules = parse(
            "# force all errors with the same exception type and value to group together\n\
             error.type:DatabaseUnavailable -> system-down\n\
             \n\
             error.value:\"connection timed out\" -> connection-timeout\n\
             stack.function:\"database.query\" -> db-query-error, {{ error.type }}\n\
             message:\"*love*\" -> what-is-love\n\
             logger:\"sentry.*\" !level:debug -> logs-{{ logger }} title=\"Log from {{ logger }}\"\n\
             stack.abs_path:\"**/my-app/**\" stack.module:\"my.module.*\" -> my-app\n\
             tags.server_name:\"canary-*\" sdk:sentry.python,sentry.java -> canary\n",
        );
        assert_eq!(rules.len(), 7);
        assert_eq!(
            json("error.type:DatabaseUnavailable -> system-down"),
            serde_json::json!([{"matchers": [["type", "DatabaseUnavailable"]],
                "fingerprint": ["system-down"], "attributes": {}}])
        );
        let logs = &rules.rules()[4];
        assert_eq!(logs.fingerprint(), ["logs-", "{{ logger }}"]);
        assert_eq!(logs.title(), Some("Log from {{ logger }}"));
        assert!(logs.matchers()[1].is_negated());
        assert_eq!(
            rules.rules()[2].fingerprint(),
            ["db-query-error", "{{ error.type }}"]
        );
    }

    #[test]
    fn fingerprint_value_splitting() {
        let rule =
            &parse("type:a -> log-{{ logger }}-{{level}},x , \"q v\" {{ default }}{{default}}")
                .rules()[0]
                .clone();
        assert_eq!(
            rule.fingerprint(),
            [
                "log-",
                "{{ logger }}",
                "-",
                "{{level}}",
                "x",
                "q v",
                "{{ default }}",
                "{{ default }}"
            ]
        );
        // `#` after `->` is a value, as in Sentry.
        assert_eq!(
            parse("type:a -> b # c").rules()[0].fingerprint(),
            ["b", "#", "c"]
        );
    }

    #[test]
    fn quoted_keys_and_escapes() {
        let rules = parse(
            "\"tags.a:b\":\"x\\\"y\\\\z\" !\"error.type\":\"\\{\\*\\}\" -> \"a\\tb\" title=\"T \\\"q\\\"\"",
        );
        let rule = &rules.rules()[0];
        assert_eq!(rule.matchers()[0].key().to_string(), "tags.a:b");
        assert_eq!(rule.matchers()[0].pattern(), "x\"y\\z");
        assert_eq!(rule.matchers()[1].key().to_string(), "type");
        assert_eq!(rule.matchers()[1].pattern(), "\\{\\*\\}");
        assert!(rule.matchers()[1].is_negated());
        assert_eq!(rule.fingerprint(), ["a\tb"]);
        assert_eq!(rule.title(), Some("T \"q\""));
    }

    #[test]
    fn comments_blank_lines_and_line_endings() {
        let rules = parse("  # comment\r\n\r\n\ttype:a   ->   b  \r\n#x\nvalue:c -> d");
        assert_eq!(rules.len(), 2);
        assert!(parse("").is_empty());
        assert!(parse("# only\n\n").is_empty());
    }

    #[test]
    fn errors_have_line_and_column() {
        assert_eq!(
            error("type:a -> b\ntype:a"),
            "line 2, column 7: expected `->`"
        );
        assert_eq!(
            error("type:a -> b\r\n\r\nfoo:x -> y"),
            "line 3, column 1: unknown matcher `foo`"
        );
        assert_eq!(
            error("-> x"),
            "line 1, column 1: expected a matcher before `->`"
        );
        assert_eq!(
            error("type a -> x"),
            "line 1, column 5: expected `:` after `type`"
        );
        assert_eq!(
            error("type: -> x"),
            "line 1, column 6: expected a value after `type:`"
        );
        assert_eq!(
            error("type:a ->"),
            "line 1, column 10: expected a fingerprint value"
        );
        assert_eq!(
            error("type:a -> x bad=\"y\""),
            "line 1, column 13: unknown attribute `bad` (only `title` is allowed)"
        );
        assert_eq!(
            error("message:\"abc -> x"),
            "line 1, column 9: unterminated string"
        );
        assert_eq!(
            error("type:a -> x {y"),
            "line 1, column 13: unexpected `{`: braces are only allowed in `{{ variable }}` or quoted values"
        );
        assert_eq!(error("type:a -> x,,y"), "line 1, column 13: unexpected `,`");
        assert_eq!(
            error("type:[x -> y"),
            "line 1, column 6: invalid pattern `[x` (unclosed `[` or `{`)"
        );
        assert_eq!(
            error("é:a -> b"),
            "line 1, column 1: expected a matcher (`key:value`) or `->`"
        );
        assert_eq!(
            error("\"a b\":x -> y"),
            "line 1, column 1: invalid quoted matcher key"
        );
        let parsed = FingerprintingRules::parse("x\ntype:a").unwrap_err();
        assert_eq!((parsed.line(), parsed.column()), (Some(1), Some(2)));
    }

    #[test]
    fn round_trips() {
        let text = "error.type:\"A B\" !stack.abs_path:**/x.js tags.q:\"a\\\\b\\\"c\\n\" app:yes \
                    sdk:sentry.python,all -> v1, {{ type }} \"with space\" log-{{ logger }} \
                    title=\"T {{ message }} \\\"x\\\"\"\n\
                    message:\"\\{\\[\\*\\?\\]\\}\" -> escaped {{ message }}\n\
                    \"tags.a:b\":x -> y";
        let rules = parse(text);
        assert_eq!(rules.len(), 3);
        assert_eq!(parse(&rules.to_text()), rules);
        for rule in rules.rules() {
            assert_eq!(&parse(&rule.to_text()).rules()[0], rule);
        }
        // Sentry's display form round-trips when there is one value and no
        // escaping is needed.
        for text in [
            "type:\"A\" module:\"io.sentry.*\" -> \"database-unavailable\" title=\"DB ({{ transaction }})\"",
            "message:\"\\{\\[\\*\\?\\]\\}\" -> \"escaped\"",
            "!tags.foo:\"*stuff*\" -> \"{{ tags.bar }}\"",
        ] {
            let rule = parse(text).rules()[0].clone();
            assert_eq!(rule.to_string(), text);
            assert_eq!(parse(&rule.to_string()).rules()[0], rule);
        }
    }
}
