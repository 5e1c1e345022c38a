//! A string being redacted: plain text pieces and redacted pieces, so that
//! later rules only look at text no earlier rule replaced, and the final
//! remarks know where each replacement sits.

use regex::Regex;

use crate::meta::Remark;

/// One piece of a string under redaction.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Chunk {
    /// Original text.
    Text(String),
    /// A replacement, and the rule that made it.
    Redaction {
        text: &'static str,
        rule: &'static str,
    },
}

/// A string split into original and redacted pieces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Chunks(Vec<Chunk>);

impl Chunks {
    /// Starts from an untouched string.
    pub(crate) fn new(text: &str) -> Self {
        Self(vec![Chunk::Text(text.to_owned())])
    }

    /// Starts from a string replaced as a whole.
    pub(crate) fn replaced(text: &'static str, rule: &'static str) -> Self {
        Self(vec![Chunk::Redaction { text, rule }])
    }

    /// Whether anything was redacted.
    pub(crate) fn is_redacted(&self) -> bool {
        self.0
            .iter()
            .any(|chunk| matches!(chunk, Chunk::Redaction { .. }))
    }

    /// Whether any original text matches `regex`.
    pub(crate) fn text_matches(&self, regex: &Regex) -> bool {
        self.0.iter().any(|chunk| match chunk {
            Chunk::Text(text) => regex.is_match(text),
            Chunk::Redaction { .. } => false,
        })
    }

    /// Replaces capture `group` of every match of `regex` in the original
    /// text with `replacement`, where `accept` agrees with the matched text.
    pub(crate) fn redact(
        &mut self,
        regex: &Regex,
        group: usize,
        accept: impl Fn(&str) -> bool,
        replacement: &'static str,
        rule: &'static str,
    ) {
        let mut out = Vec::with_capacity(self.0.len());
        for chunk in self.0.drain(..) {
            let Chunk::Text(text) = chunk else {
                out.push(chunk);
                continue;
            };
            let mut done = 0;
            for captures in regex.captures_iter(&text) {
                let Some(found) = captures.get(group) else {
                    continue;
                };
                if found.start() < done || !accept(found.as_str()) {
                    continue;
                }
                if found.start() > done {
                    out.push(Chunk::Text(text[done..found.start()].to_owned()));
                }
                out.push(Chunk::Redaction {
                    text: replacement,
                    rule,
                });
                done = found.end();
            }
            if done < text.len() {
                out.push(Chunk::Text(text[done..].to_owned()));
            }
        }
        self.0 = out;
    }

    /// Joins the pieces; returns the new string and a remark per redaction,
    /// with ranges in characters.
    pub(crate) fn join(self) -> (String, Vec<Remark>) {
        let mut text = String::new();
        let mut remarks = Vec::new();
        let mut position = 0;
        for chunk in self.0 {
            match chunk {
                Chunk::Text(piece) => {
                    position += piece.chars().count();
                    text.push_str(&piece);
                }
                Chunk::Redaction { text: piece, rule } => {
                    let length = piece.chars().count();
                    remarks.push(Remark::Substituted {
                        rule,
                        start: position,
                        end: position + length,
                    });
                    position += length;
                    text.push_str(piece);
                }
            }
        }
        (text, remarks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_matches_and_reports_ranges() {
        let digits = Regex::new(r"\d+").unwrap();
        let mut chunks = Chunks::new("é 12 and 345");
        chunks.redact(&digits, 0, |found| found.len() > 2, "[X]", "@digits");
        assert!(chunks.is_redacted());
        let (text, remarks) = chunks.join();
        assert_eq!(text, "é 12 and [X]");
        assert_eq!(
            remarks,
            vec![Remark::Substituted {
                rule: "@digits",
                start: 9,
                end: 12
            }]
        );
    }

    #[test]
    fn later_rules_skip_redacted_text() {
        let any = Regex::new(".+").unwrap();
        let mut chunks = Chunks::replaced("[Filtered]", "@a");
        chunks.redact(&any, 0, |_| true, "[Y]", "@b");
        assert_eq!(chunks.join().0, "[Filtered]");
    }
}
