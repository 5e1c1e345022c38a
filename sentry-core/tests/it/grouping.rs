//! Sentry's grouping conformance corpus (`fixtures/grouping`): every case is
//! grouped with MD5 hashes and compared with Sentry's expected variants.
//! The tally per category is printed; every case must pass.

use std::path::{Path, PathBuf};

use sentry_core::Event;
use sentry_core::grouping::{
    Enhancements, FingerprintingRules, Grouping, GroupingConfig, HashAlgorithm, group, prepare,
    prepare_and_group,
};
use sentry_core::normalize::{NormalizeConfig, normalize};
use sentry_core::protocol::Timestamp;
use serde_json::Value;

fn corpus(path: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/grouping")
        .join(path);
    assert!(path.exists(), "missing fixture {}", path.display());
    path
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Groups a raw corpus input the way ingest does, with Sentry's hashes.
fn group_input(input: &Value) -> Result<Grouping, String> {
    group_input_with(input, FingerprintingRules::default())
}

fn group_input_with(
    input: &Value,
    fingerprinting: FingerprintingRules,
) -> Result<Grouping, String> {
    let mut event: Event =
        serde_json::from_value(input.clone()).map_err(|e| format!("does not deserialize: {e}"))?;
    normalize(
        &mut event,
        &NormalizeConfig::new(Timestamp::from_unix_seconds(1_700_000_000.0).unwrap()),
    );
    let project_rules = match input
        .pointer("/_grouping/enhancements")
        .and_then(Value::as_str)
    {
        Some(text) => Enhancements::parse(text).map_err(|e| format!("project rules: {e}"))?,
        None => Enhancements::parse("").unwrap(),
    };
    let mut config = GroupingConfig::with_project_rules(&project_rules, fingerprinting);
    config.hash_algorithm = HashAlgorithm::Md5;
    let mut in_one_go = event.clone();
    prepare(&mut event, &config);
    let grouping = group(&event, &config);
    // Both ways of preparing and grouping agree, on the event and the grouping.
    let grouped_in_one_go = prepare_and_group(&mut in_one_go, &config);
    if in_one_go != event || grouped_in_one_go != grouping {
        return Err("prepare_and_group differs from prepare then group".to_owned());
    }
    Ok(grouping)
}

/// Compares a grouping with a case's `expected` (variant set, values, hashes).
fn compare(grouping: &Grouping, expected: &Value) -> Result<(), String> {
    let ours = grouping.to_json();
    let mut problems = Vec::new();
    let empty = serde_json::Map::new();
    let expected_variants = expected["variants"].as_object().unwrap_or(&empty);
    let our_variants = ours["variants"].as_object().unwrap_or(&empty);
    let hashed = |variants: &serde_json::Map<String, Value>| {
        let mut names: Vec<String> = variants
            .iter()
            .filter(|(_, v)| !v["hash"].is_null())
            .map(|(k, _)| k.clone())
            .collect();
        names.sort();
        names
    };
    if hashed(expected_variants) != hashed(our_variants) {
        problems.push(format!(
            "variants with a hash: expected {:?}, got {:?}",
            hashed(expected_variants),
            hashed(our_variants)
        ));
    }
    for (name, variant) in expected_variants {
        if variant["hash"].is_null() {
            continue;
        }
        let Some(ours) = our_variants.get(name) else {
            continue;
        };
        if ours["values"] != variant["values"] {
            problems.push(format!(
                "{name} values: expected {}, got {}",
                variant["values"], ours["values"]
            ));
        } else if ours["hash"] != variant["hash"] {
            problems.push(format!(
                "{name} hash: expected {}, got {}",
                variant["hash"], ours["hash"]
            ));
        }
    }
    if problems.is_empty() && ours["hashes"] != expected["hashes"] {
        problems.push(format!(
            "hashes: expected {}, got {}",
            expected["hashes"], ours["hashes"]
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

#[test]
fn grouping_variant_cases_match_sentry() {
    let dir = corpus("variants/newstyle-2023-01-11");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    let mut failures = Vec::new();
    for path in &paths {
        let case = read_json(path);
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let outcome =
            group_input(&case["input"]).and_then(|grouping| compare(&grouping, &case["expected"]));
        if let Err(problem) = outcome {
            failures.push(format!("{name}: {problem}"));
        }
    }
    println!(
        "variant cases: {} of {} pass",
        paths.len() - failures.len(),
        paths.len()
    );
    assert_eq!(paths.len(), 161);
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Checks the variants of a fingerprinting case: each expected variant's
/// type, whether a component variant counts, and a fingerprint variant's
/// values, rule and client values.
fn compare_fingerprint_variants(grouping: &Grouping, expected: &Value) -> Result<(), String> {
    let ours = grouping.to_json();
    let mut problems = Vec::new();
    for (name, variant) in expected.as_object().into_iter().flatten() {
        let Some(our) = ours["variants"].get(name) else {
            problems.push(format!("missing variant {name}"));
            continue;
        };
        if our["type"] != variant["type"] {
            problems.push(format!(
                "{name} type: expected {}, got {}",
                variant["type"], our["type"]
            ));
        }
        if let Some(contributes) = variant.pointer("/component/contributes") {
            if &our["contributes"] != contributes {
                problems.push(format!(
                    "{name} contributes: expected {contributes}, got {}",
                    our["contributes"]
                ));
            }
        }
        for key in ["values", "matched_rule", "client_values"] {
            if let Some(expected_value) = variant.get(key) {
                let ours = &our[key];
                // Salted variants report the fingerprint as given; ours is resolved but equal here.
                if ours != expected_value {
                    problems.push(format!(
                        "{name} {key}: expected {expected_value}, got {ours}"
                    ));
                }
            }
        }
        if let Some(hash) = variant.get("derived_hash") {
            if &our["hash"] != hash {
                problems.push(format!("{name} hash: expected {hash}, got {}", our["hash"]));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

#[test]
fn fingerprinting_cases_match_sentry() {
    let dir = corpus("fingerprinting/cases");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    let mut failures = Vec::new();
    for path in &paths {
        let case = read_json(path);
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let outcome = FingerprintingRules::from_json(&case["input"]["_fingerprinting_rules"])
            .map_err(|e| e.to_string())
            .and_then(|rules| group_input_with(&case["input"], rules))
            .and_then(|grouping| {
                compare_fingerprint_variants(&grouping, &case["expected"]["variants"])
            });
        if let Err(problem) = outcome {
            failures.push(format!("{name}: {problem}"));
        }
    }
    println!(
        "fingerprinting cases: {} of {} pass",
        paths.len() - failures.len(),
        paths.len()
    );
    assert_eq!(paths.len(), 29);
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn builtin_fingerprinting_cases_match_sentry() {
    let cases = read_json(&corpus("fingerprinting/builtin_cases.json"));
    let cases = cases["cases"].as_array().unwrap();
    let mut hashes = std::collections::HashMap::new();
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in cases {
        let id = case["id"].as_str().unwrap().to_owned();
        let grouping = match group_input(&case["input"]) {
            Ok(grouping) => grouping,
            Err(problem) => {
                failures.push(format!("{id}: {problem}"));
                continue;
            }
        };
        if let Some(subset) = case["expected"].get("variants_subset") {
            if let Err(problem) = compare_fingerprint_variants(&grouping, subset) {
                failures.push(format!("{id}: {problem}"));
            }
        }
        hashes.insert(id, grouping.hash.clone());
    }
    for case in cases {
        let id = case["id"].as_str().unwrap();
        for (key, same) in [("same_group_as", true), ("different_group_from", false)] {
            let others: Vec<&str> = match case["expected"].get(key) {
                Some(Value::String(other)) => vec![other.as_str()],
                Some(Value::Array(others)) => others.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            for other in others {
                checked += 1;
                if (hashes.get(id) == hashes.get(other)) != same {
                    failures.push(format!("{id}: expected {key} {other}"));
                }
            }
        }
    }
    assert_eq!(
        checked, 3,
        "every group comparison of the corpus is checked"
    );
    println!(
        "built-in fingerprinting cases: {} of {} pass",
        cases.len() - failures.len(),
        cases.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Readable explanations of a few events per platform, reviewed as
/// snapshots: a grouping change shows up here as a diff.
#[test]
fn explanations_per_platform() {
    for case in [
        "python_exception_base",
        "javascript_xbrowser_chrome",
        "node_exception_weird",
        "java_chained",
        "stacktrace_rust",
        "native_with_function_name",
        "stacktrace_cocoa",
        "unity",
        "frame_sanitizes_erb_templates",
        "laravel_anonymous",
        "go_pkg_mod",
        "csp",
        "exception_groups_two_types",
    ] {
        let path = corpus(&format!("variants/newstyle-2023-01-11/{case}.json"));
        let grouping = group_input(&read_json(&path)["input"]).unwrap();
        insta::assert_snapshot!(case, grouping.explain());
    }
}
