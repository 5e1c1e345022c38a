//! Conformance with Sentry's corpus (`fixtures/grouping/fingerprinting`) and
//! behaviour of the public API.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::*;
use crate::normalize::{NormalizeConfig, normalize};
use crate::protocol::Timestamp;

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../fixtures/grouping/fingerprinting"
);

fn read_json(path: &str) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The corpus inputs are raw SDK events; normalize them as ingest does.
fn normalized_event(input: &Value) -> Event {
    let mut event: Event = serde_json::from_value(input.clone()).unwrap();
    let config = NormalizeConfig::new(Timestamp::from_unix_seconds(1_700_000_000.0).unwrap());
    normalize(&mut event, &config);
    event
}

/// Resolves a fingerprint as a custom-fingerprint variant does.
fn resolve_all(fingerprint: &[String], event: &Event) -> Vec<String> {
    fingerprint
        .iter()
        .map(|entry| {
            resolve_entry(entry, event)
                .into_value(entry)
                .unwrap_or_else(|| entry.clone())
        })
        .collect()
}

/// The fingerprint after rules: the rule's, else the SDK's, else default.
fn final_fingerprint(matched: Option<&RuleMatch<'_>>, event: &Event) -> Vec<String> {
    match (matched, &event.fingerprint) {
        (Some(matched), _) => matched.fingerprint.clone(),
        (None, Some(sdk)) if !sdk.is_empty() => sdk.clone(),
        _ => vec![DEFAULT_ENTRY.to_owned()],
    }
}

/// The `client_values` Sentry reports: the SDK fingerprint unless it is
/// absent or just `{{ default }}`.
fn client_values(event: &Event) -> Option<Vec<String>> {
    let sdk = event.fingerprint.as_ref().filter(|sdk| !sdk.is_empty())?;
    let default_only = sdk.len() == 1 && parse_variable(&sdk[0]) == Some("default");
    (!default_only).then(|| sdk.clone())
}

fn strings(value: &Value) -> Vec<String> {
    serde_json::from_value(value.clone()).unwrap()
}

/// Checks one corpus case; returns failures and title notes.
fn check_case(case: &Value) -> (Vec<String>, Vec<String>) {
    let input = &case["input"];
    let expected = &case["expected"];
    let mut failures = Vec::new();
    let mut notes = Vec::new();
    let rules = match FingerprintingRules::from_json(&input["_fingerprinting_rules"]) {
        Ok(rules) => rules,
        Err(error) => return (vec![format!("rules do not parse: {error}")], notes),
    };
    if rules.to_json() != expected["rules_as_parsed"] {
        failures.push(format!("rules_as_parsed: got {}", rules.to_json()));
    }
    let event = normalized_event(input);
    let matched = rules.first_match(&event);
    let fingerprint = final_fingerprint(matched.as_ref(), &event);
    if fingerprint != strings(&expected["fingerprint"]) {
        failures.push(format!("fingerprint: got {fingerprint:?}"));
    }
    let expected_title = expected["title"].as_str().unwrap_or_default();
    match matched.as_ref().and_then(|m| m.title.as_deref()) {
        Some(title) if title != expected_title => {
            failures.push(format!("rule title: got {title:?}"))
        }
        Some(_) => {}
        None => {
            let title = crate::summary::summarize(&event).title;
            if title != expected_title {
                notes.push(format!(
                    "summary title {title:?} != expected {expected_title:?}"
                ));
            }
        }
    }
    let variant = &expected["variants"]["custom-fingerprint"];
    match (&matched, variant.is_null()) {
        (Some(matched), false) => failures.extend(check_variant(matched, variant, &event)),
        (None, true) => {}
        (Some(_), true) => failures.push("matched, but Sentry did not".to_owned()),
        (None, false) => failures.push("no rule matched".to_owned()),
    }
    (failures, notes)
}

/// Checks a `custom-fingerprint` / `built-in-fingerprint` variant.
fn check_variant(matched: &RuleMatch<'_>, variant: &Value, event: &Event) -> Vec<String> {
    let mut failures = Vec::new();
    let values = resolve_all(&matched.fingerprint, event);
    if !variant["values"].is_null() && values != strings(&variant["values"]) {
        failures.push(format!("values: got {values:?}"));
    }
    let rule_text = matched.rule.to_string();
    if !variant["matched_rule"].is_null() && variant["matched_rule"] != rule_text.as_str() {
        failures.push(format!("matched_rule: got {rule_text}"));
    }
    let expected_client =
        (!variant["client_values"].is_null()).then(|| strings(&variant["client_values"]));
    if client_values(event) != expected_client {
        failures.push(format!("client_values: got {:?}", client_values(event)));
    }
    failures
}

#[test]
fn corpus_cases() {
    let mut paths: Vec<_> = std::fs::read_dir(format!("{FIXTURES}/cases"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    paths.sort();
    let mut failed = Vec::new();
    let mut noted = Vec::new();
    for path in &paths {
        let case = read_json(path.to_str().unwrap());
        let id = case["id"].as_str().unwrap_or_default().to_owned();
        let (failures, notes) = check_case(&case);
        if !failures.is_empty() {
            failed.push(format!("{id}: {}", failures.join("; ")));
        }
        noted.extend(notes.into_iter().map(|note| format!("{id}: {note}")));
    }
    println!(
        "fingerprinting corpus: {}/{} cases pass, {} title notes",
        paths.len() - failed.len(),
        paths.len(),
        noted.len()
    );
    for line in noted.iter().chain(&failed) {
        println!("  {line}");
    }
    assert_eq!(paths.len(), 29);
    assert!(failed.is_empty(), "{failed:#?}");
}

#[test]
fn builtin_cases() {
    let corpus = read_json(&format!("{FIXTURES}/builtin_cases.json"));
    let cases = corpus["cases"].as_array().unwrap();
    let mut failed = Vec::new();
    let mut resolved = BTreeMap::new();
    let no_project_rules = FingerprintingRules::default();
    for case in cases {
        let id = case["id"].as_str().unwrap().to_owned();
        let expected = &case["expected"];
        let event = normalized_event(&case["input"]);
        let matched = no_project_rules.first_match_with_builtin(&event);
        let mut failures = Vec::new();
        let fingerprint = final_fingerprint(matched.as_ref(), &event);
        if fingerprint != strings(&expected["fingerprint"]) {
            failures.push(format!("fingerprint: got {fingerprint:?}"));
        }
        let rule_json = matched.as_ref().map_or(Value::Null, |m| m.rule.to_json());
        if rule_json != expected["matched_rule"] {
            failures.push(format!("matched_rule: got {rule_json}"));
        }
        if let Some(matched) = &matched {
            if !matched.is_builtin {
                failures.push("not marked built-in".to_owned());
            }
            let variant = &expected["variants_subset"]["built-in-fingerprint"];
            if !variant.is_null() {
                failures.extend(check_variant(matched, variant, &event));
            }
        }
        resolved.insert(id.clone(), resolve_all(&fingerprint, &event));
        if !failures.is_empty() {
            failed.push(format!("{id}: {}", failures.join("; ")));
        }
    }
    for case in cases {
        let id = case["id"].as_str().unwrap();
        for (key, same) in [("same_group_as", true), ("different_group_from", false)] {
            if let Some(other) = case["expected"][key].as_str() {
                if (resolved[id] == resolved[other]) != same {
                    failed.push(format!("{id}: {key} {other} does not hold"));
                }
            }
        }
    }
    println!(
        "built-in fingerprinting: {}/{} cases pass",
        cases.len() - failed.len(),
        cases.len()
    );
    assert_eq!(cases.len(), 7);
    assert!(failed.is_empty(), "{failed:#?}");
}

#[test]
fn builtin_rules_load() {
    let builtin = FingerprintingRules::builtin();
    assert_eq!(builtin.len(), 7);
    assert!(builtin.rules().iter().all(FingerprintRule::is_builtin));
    assert_eq!(
        builtin.rules()[0].to_string(),
        "family:\"javascript\" type:\"ChunkLoadError\" -> \"chunkloaderror\""
    );
    assert_eq!(
        builtin.rules()[2].fingerprint(),
        ["hydrationerror", "{{tags.transaction}}"]
    );
}

#[test]
fn first_rule_wins_and_title_expands() {
    let rules = FingerprintingRules::parse(
        "type:Other -> never\n\
         message:\"*timed out*\" -> timeout {{ transaction }} title=\"Timeout in {{ transaction }}\"\n\
         message:* -> any",
    )
    .unwrap();
    let event: Event = serde_json::from_value(json!({
        "transaction": "/api", "logentry": {"formatted": "Request TIMED OUT"}
    }))
    .unwrap();
    let matched = rules.first_match(&event).unwrap();
    assert_eq!(matched.fingerprint, ["timeout", "{{ transaction }}"]);
    assert_eq!(matched.title.as_deref(), Some("Timeout in /api"));
    assert!(!matched.is_builtin);
    assert_eq!(matched.rule, &rules.rules()[1]);
    assert_eq!(
        resolve_all(&matched.fingerprint, &event),
        ["timeout", "/api"]
    );
}

#[test]
fn project_rules_come_before_builtin_rules() {
    let event: Event = serde_json::from_value(json!({
        "platform": "javascript",
        "exception": [{"type": "ChunkLoadError", "value": "x"}]
    }))
    .unwrap();
    let none = FingerprintingRules::default();
    let builtin = none.first_match_with_builtin(&event).unwrap();
    assert!(builtin.is_builtin);
    assert_eq!(builtin.fingerprint, ["chunkloaderror"]);
    let project = FingerprintingRules::parse("type:Chunk* -> mine").unwrap();
    let matched = project.first_match_with_builtin(&event).unwrap();
    assert_eq!(matched.fingerprint, ["mine"]);
    assert!(!matched.is_builtin);
    assert!(none.first_match(&event).is_none());
}
