//! Sentry's JSON structure for fingerprint rules, as stored in project
//! options and shown in the corpus (`rules_as_parsed`, `matched_rule`).

use serde_json::{Map, Value};

use super::matcher::Matcher;
use super::{FingerprintRule, ParseError};

/// The only structure version Sentry writes.
const VERSION: u64 = 1;

fn error(path: &str, message: impl Into<String>) -> ParseError {
    ParseError::Json {
        path: path.to_owned(),
        message: message.into(),
    }
}

/// Reads `{"version": 1, "rules": [...]}` or a bare list of rules.
pub(super) fn rules_from_json(value: &Value) -> Result<Vec<FingerprintRule>, ParseError> {
    let rules = match value {
        Value::Array(rules) => rules,
        Value::Object(map) => {
            if let Some(version) = map.get("version").filter(|v| !v.is_null()) {
                if version.as_u64() != Some(VERSION) {
                    return Err(error("version", format!("unknown version {version}")));
                }
            }
            map.get("rules")
                .and_then(Value::as_array)
                .ok_or_else(|| error("rules", "expected a list of rules"))?
        }
        _ => {
            return Err(error(
                "",
                "expected a list of rules or an object with `rules`",
            ));
        }
    };
    rules
        .iter()
        .enumerate()
        .map(|(index, rule)| rule_from_json(rule, &format!("rules[{index}]")))
        .collect()
}

fn rule_from_json(value: &Value, path: &str) -> Result<FingerprintRule, ParseError> {
    let rule = value
        .as_object()
        .ok_or_else(|| error(path, "expected an object"))?;
    let matchers = matchers_from_json(rule, path)?;
    let fingerprint = fingerprint_from_json(rule, path)?;
    let title = title_from_json(rule, path)?;
    let is_builtin = match rule.get("is_builtin") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(flag)) => *flag,
        Some(_) => return Err(error(&format!("{path}.is_builtin"), "expected a boolean")),
    };
    Ok(FingerprintRule {
        matchers,
        fingerprint,
        title,
        is_builtin,
    })
}

/// `"matchers": [[key, pattern], ...]`, a key prefixed with `!` negated.
fn matchers_from_json(rule: &Map<String, Value>, path: &str) -> Result<Vec<Matcher>, ParseError> {
    let path = format!("{path}.matchers");
    let list = rule
        .get("matchers")
        .and_then(Value::as_array)
        .ok_or_else(|| error(&path, "expected a list of [key, pattern] pairs"))?;
    if list.is_empty() {
        return Err(error(&path, "a rule needs at least one matcher"));
    }
    list.iter()
        .enumerate()
        .map(|(index, pair)| {
            let path = format!("{path}[{index}]");
            let Some([Value::String(key), Value::String(pattern)]) =
                pair.as_array().map(Vec::as_slice)
            else {
                return Err(error(&path, "expected a [key, pattern] pair of strings"));
            };
            let name = key.trim_start_matches('!');
            let negated = name.len() != key.len();
            Matcher::new(name, pattern, negated).map_err(|e| error(&path, e.to_string()))
        })
        .collect()
}

fn fingerprint_from_json(rule: &Map<String, Value>, path: &str) -> Result<Vec<String>, ParseError> {
    let path = format!("{path}.fingerprint");
    let values = rule
        .get("fingerprint")
        .and_then(Value::as_array)
        .ok_or_else(|| error(&path, "expected a list of strings"))?;
    if values.is_empty() {
        return Err(error(&path, "a rule needs at least one fingerprint value"));
    }
    values
        .iter()
        .map(|value| {
            value
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| error(&path, "expected a list of strings"))
        })
        .collect()
}

/// `"attributes": {"title": "..."}`; no other attribute exists.
fn title_from_json(rule: &Map<String, Value>, path: &str) -> Result<Option<String>, ParseError> {
    let path = format!("{path}.attributes");
    let attributes = match rule.get("attributes") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(attributes)) => attributes,
        Some(_) => return Err(error(&path, "expected an object")),
    };
    let mut title = None;
    for (name, value) in attributes {
        match (name.as_str(), value) {
            ("title", Value::String(text)) => title = Some(text.clone()),
            ("title", _) => return Err(error(&path, "`title` must be a string")),
            (other, _) => {
                return Err(error(
                    &path,
                    format!("unknown attribute `{other}` (only `title` is allowed)"),
                ));
            }
        }
    }
    Ok(title)
}

/// `{"matchers": [...], "fingerprint": [...], "attributes": {...}}` plus
/// `"is_builtin": true` for built-in rules (Sentry leaves it out otherwise).
pub(super) fn rule_to_json(rule: &FingerprintRule) -> Value {
    let matchers = rule
        .matchers
        .iter()
        .map(|matcher| {
            let negation = if matcher.is_negated() { "!" } else { "" };
            Value::from(vec![
                format!("{negation}{}", matcher.key()),
                matcher.pattern().to_owned(),
            ])
        })
        .collect::<Vec<Value>>();
    let mut attributes = Map::new();
    if let Some(title) = &rule.title {
        attributes.insert("title".to_owned(), Value::from(title.as_str()));
    }
    let mut object = Map::new();
    object.insert("matchers".to_owned(), Value::Array(matchers));
    object.insert(
        "fingerprint".to_owned(),
        Value::from(rule.fingerprint.clone()),
    );
    object.insert("attributes".to_owned(), Value::Object(attributes));
    if rule.is_builtin {
        object.insert("is_builtin".to_owned(), Value::Bool(true));
    }
    Value::Object(object)
}

/// `{"version": 1, "rules": [...]}`.
pub(super) fn rules_to_json(rules: &[FingerprintRule]) -> Value {
    let mut object = Map::new();
    object.insert("version".to_owned(), Value::from(VERSION));
    object.insert(
        "rules".to_owned(),
        Value::Array(rules.iter().map(rule_to_json).collect()),
    );
    Value::Object(object)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::FingerprintingRules;

    fn error(value: serde_json::Value) -> String {
        FingerprintingRules::from_json(&value)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn reads_both_shapes_and_round_trips() {
        let rules = json!([
            {"matchers": [["error.type", "A"], ["!stack.module", "m*"]], "fingerprint": ["x", "{{ type }}"],
             "attributes": {"title": "T"}, "text": "ignored", "__test_description": "ignored"},
            {"matchers": [["tags.a", "*"]], "fingerprint": ["y"], "is_builtin": true}
        ]);
        let parsed = FingerprintingRules::from_json(&rules).unwrap();
        let expected = json!({"version": 1, "rules": [
            {"matchers": [["type", "A"], ["!module", "m*"]], "fingerprint": ["x", "{{ type }}"],
             "attributes": {"title": "T"}},
            {"matchers": [["tags.a", "*"]], "fingerprint": ["y"], "attributes": {}, "is_builtin": true}
        ]});
        assert_eq!(parsed.to_json(), expected);
        assert_eq!(FingerprintingRules::from_json(&expected).unwrap(), parsed);
        assert!(parsed.rules()[1].is_builtin());
    }

    #[test]
    fn errors_name_the_part() {
        assert_eq!(
            error(json!({"version": 2, "rules": []})),
            "version: unknown version 2"
        );
        assert_eq!(
            error(json!("x")),
            ": expected a list of rules or an object with `rules`"
        );
        assert_eq!(
            error(json!([{"matchers": [["nope", "x"]], "fingerprint": ["a"]}])),
            "rules[0].matchers[0]: unknown matcher `nope`"
        );
        assert_eq!(
            error(json!([{"matchers": [["type"]], "fingerprint": ["a"]}])),
            "rules[0].matchers[0]: expected a [key, pattern] pair of strings"
        );
        assert_eq!(
            error(json!([{"matchers": [], "fingerprint": ["a"]}])),
            "rules[0].matchers: a rule needs at least one matcher"
        );
        assert_eq!(
            error(json!([{"matchers": [["type", "a"]], "fingerprint": []}])),
            "rules[0].fingerprint: a rule needs at least one fingerprint value"
        );
        assert_eq!(
            error(
                json!([{"matchers": [["type", "a"]], "fingerprint": ["a"], "attributes": {"x": "y"}}])
            ),
            "rules[0].attributes: unknown attribute `x` (only `title` is allowed)"
        );
    }
}
