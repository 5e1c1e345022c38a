//! Tests: Sentry's conformance cases (`fixtures/grouping/enhancements`),
//! the built-in rules, and unit tests per matcher and action.

use serde_json::{Value, json};

use super::matchers::{FoldedPaths, MatchException, match_frames};
use super::rule::{Field, parse_bool};
use super::*;

fn frames(value: Value) -> Vec<Frame> {
    serde_json::from_value(value).unwrap()
}

fn rule(text: &str) -> Rule {
    let enhancements = Enhancements::parse(text).unwrap();
    assert_eq!(enhancements.len(), 1, "{text}");
    enhancements.rules().next().unwrap().clone()
}

/// The indices of the frames a rule matches (exception matchers included).
fn matching(
    rule: &Rule,
    frames: &[Frame],
    platform: &str,
    exception: Option<&ExceptionData<'_>>,
) -> Vec<usize> {
    let folded = FoldedPaths::new(frames);
    let views = match_frames(frames, &folded, Some(platform));
    let exception = MatchException::new(exception);
    if !rule.matches_exception(&exception) {
        return Vec::new();
    }
    (0..views.len())
        .filter(|&i| rule.matches_frame(&views, i))
        .collect()
}

fn matches_one(text: &str, frame: Value, platform: &str) -> bool {
    !matching(&rule(text), &frames(json!([frame])), platform, None).is_empty()
}

fn exception<'a>(
    ty: Option<&'a str>,
    value: Option<&'a str>,
    mechanism: Option<&'a str>,
) -> ExceptionData<'a> {
    ExceptionData {
        ty,
        value,
        mechanism,
    }
}

/// A frame's state after phase two, with the rule hint rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Contribution {
    contributes: bool,
    hint: Option<String>,
}

/// The stack trace's outcome, with the hint rendered.
#[derive(Debug, Default, PartialEq, Eq)]
struct Outcome {
    discarded: bool,
    hint: Option<String>,
}

fn contributions(flags: &[bool]) -> Vec<Contribution> {
    flags
        .iter()
        .map(|&contributes| Contribution {
            contributes,
            hint: None,
        })
        .collect()
}

fn contributing(contributions: &[Contribution]) -> Vec<bool> {
    contributions.iter().map(|c| c.contributes).collect()
}

/// Phase two through `updates` and `apply`, as `stacktrace_variants` runs
/// it: rule hints replace the caller's.
fn run_phase_two(
    enhancements: &Enhancements,
    frames: &[Frame],
    platform: Option<&str>,
    exception: Option<&ExceptionData<'_>>,
    flags: &mut [Contribution],
) -> Outcome {
    let updates = enhancements.updates(frames, platform, exception);
    let mut states: Vec<FrameContribution<'_>> = flags
        .iter()
        .map(|flag| FrameContribution::new(flag.contributes))
        .collect();
    let outcome = updates.apply(&mut states);
    for (flag, state) in flags.iter_mut().zip(states) {
        flag.contributes = state.contributes;
        if let Some(hint) = state.hint {
            flag.hint = Some(hint.into());
        }
    }
    Outcome {
        discarded: outcome.discarded,
        hint: outcome.hint.map(String::from),
    }
}

fn functions(names: &[&str]) -> Vec<Frame> {
    names
        .iter()
        .map(|name| Frame {
            function: Some((*name).to_owned()),
            ..Frame::default()
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Conformance corpus

fn corpus() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/grouping/enhancements/cases.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn cases<'a>(corpus: &'a Value, category: &str) -> &'a Vec<Value> {
    corpus[category].as_array().unwrap()
}

fn case_exception(case: &Value) -> Option<ExceptionData<'_>> {
    let data = case.get("exception_data").filter(|d| !d.is_null())?;
    Some(ExceptionData {
        ty: data["type"].as_str(),
        value: data["value"].as_str(),
        mechanism: data["mechanism"]["type"].as_str(),
    })
}

/// A rule in the shape of Sentry's dumped structure.
fn structure(rule: &Rule) -> Value {
    let matchers: Vec<Value> = rule
        .matchers()
        .map(|(_, m)| json!({"key": m.key().as_str(), "negated": m.is_negated(), "pattern": m.pattern()}))
        .collect();
    let actions: Vec<Value> = rule
        .actions()
        .iter()
        .map(|action| match action {
            Action::Flag { range, value, kind } => json!({
                "flag": value,
                "key": kind.as_str(),
                "range": range.map(|r| if r == Range::Up { "up" } else { "down" }),
            }),
            Action::MaxFrames(n) => json!({"var": "max-frames", "value": n}),
            Action::MinFrames(n) => json!({"var": "min-frames", "value": n}),
            Action::Category(c) => json!({"var": "category", "value": c}),
            Action::InvertStacktrace(b) => json!({"var": "invert-stacktrace", "value": b}),
        })
        .collect();
    json!({"matchers": matchers, "actions": actions})
}

fn report(category: &str, total: usize, failures: &[String]) {
    println!("{category}: {}/{total} passed", total - failures.len());
    for failure in failures {
        println!("  FAILED {failure}");
    }
}

#[test]
fn corpus_parse_cases() {
    let corpus = corpus();
    let cases = cases(&corpus, "parse_cases");
    let mut failures = Vec::new();
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let parsed = Enhancements::parse(case["rules"].as_str().unwrap());
        let ok = match (case["expected"].as_str().unwrap(), &parsed) {
            ("ok", Ok(enhancements)) => match case.get("expected_structure") {
                Some(expected) => {
                    let actual: Vec<Value> = enhancements.rules().map(structure).collect();
                    let expected: Vec<Value> = expected["rules"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|r| json!({"matchers": r["matchers"], "actions": r["actions"]}))
                        .collect();
                    actual == expected
                }
                None => true,
            },
            ("error", Err(error)) => {
                println!("  {id}: {error}");
                true
            }
            _ => false,
        };
        if !ok {
            failures.push(format!("{id}: got {parsed:?}"));
        }
    }
    report("parse_cases", cases.len(), &failures);
    assert!(failures.is_empty());
}

#[test]
fn corpus_match_cases() {
    let corpus = corpus();
    let cases = cases(&corpus, "match_cases");
    let mut failures = Vec::new();
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let rule = rule(case["rules"].as_str().unwrap());
        let frames = frames(case["frames"].clone());
        let exception = case_exception(case);
        let platform = case["platform"].as_str().unwrap();
        let matched = !matching(&rule, &frames, platform, exception.as_ref()).is_empty();
        if matched != case["expected_any_frame_matches"].as_bool().unwrap() {
            failures.push(format!("{id}: matched = {matched}"));
        }
    }
    report("match_cases", cases.len(), &failures);
    assert!(failures.is_empty());
}

#[test]
fn corpus_mechanism_matcher_matches_without_frames() {
    // Sentry's test also asserts the exception matcher alone matches.
    let rule = rule("error.mechanism:NSError -app");
    let exception = exception(None, None, Some("NSError"));
    assert!(rule.matches_exception(&MatchException::new(Some(&exception))));
}

#[test]
fn corpus_range_cases() {
    let corpus = corpus();
    let cases = cases(&corpus, "range_cases");
    let mut failures = Vec::new();
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let rule = rule(case["rules"].as_str().unwrap());
        let frames = frames(case["frames"].clone());
        let actual = matching(&rule, &frames, case["platform"].as_str().unwrap(), None);
        let expected: Vec<usize> =
            serde_json::from_value(case["expected_matching_frame_indices"].clone()).unwrap();
        if actual != expected {
            failures.push(format!("{id}: matched {actual:?}"));
        }
    }
    report("range_cases", cases.len(), &failures);
    assert!(failures.is_empty());
}

#[test]
fn corpus_modification_cases() {
    let corpus = corpus();
    let cases = cases(&corpus, "modification_cases");
    let mut failures = Vec::new();
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let enhancements = Enhancements::parse(case["rules"].as_str().unwrap()).unwrap();
        let mut frames = frames(case["frames_in"].clone());
        enhancements.apply_modifications(&mut frames, case["platform"].as_str(), None);
        let expected = frames_out(case);
        // Some cases say Sentry's test only asserts `in_app`.
        let only_in_app = case["note"]
            .as_str()
            .is_some_and(|n| n.contains("only in_app"));
        let actual: Vec<Value> = frames
            .iter()
            .zip(&expected)
            .map(|(frame, expected)| {
                let mut actual = serde_json::to_value(frame).unwrap();
                if only_in_app && expected.get("data").is_none() {
                    actual.as_object_mut().unwrap().remove("data");
                }
                actual
            })
            .collect();
        if actual != expected {
            failures.push(format!("{id}: got {actual:?}"));
        }
    }
    report("modification_cases", cases.len(), &failures);
    assert!(failures.is_empty());
}

fn frames_out(case: &Value) -> Vec<Value> {
    case["expected_frames_out"].as_array().unwrap().clone()
}

// ---------------------------------------------------------------------------
// Built-in rules

#[test]
fn base_rules_parse_and_print_back() {
    let base = Enhancements::base();
    let rule_lines = BASE_RULES
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.trim().starts_with('#'))
        .count();
    assert_eq!(base.len(), rule_lines);
    for rule in base.rules() {
        let reparsed = Enhancements::parse(&rule.to_string()).unwrap();
        let reparsed = reparsed.rules().next().unwrap();
        assert_eq!(reparsed, rule, "{rule}");
        assert_eq!(reparsed.to_string(), rule.to_string());
    }
    let all = Enhancements::parse(&base.to_string()).unwrap();
    assert!(all.rules().eq(base.rules()));
}

#[test]
fn base_rules_canonical_text() {
    let texts: Vec<String> = Enhancements::base().rules().map(Rule::to_string).collect();
    for expected in [
        "family:native function:std::panicking::begin_panic ^-group -group ^-app -app",
        "mechanism:ANR invert-stacktrace=1",
        "family:native function:?[[]KSCrash* -app -group",
        "family:native function:*::\\\\{dtor\\\\} category=dtor",
        "[ category:gl ] | category:gl category=internals",
        "category:driver | [ category:driver ] category=internals",
        "[ !category:system ] | category:system | [ !category:system ] category=indirection",
        "category:threadbase -group v-group",
        "family:native package:\"C:/Program Files/NVIDIA Corporation/**\" category=driver",
        "path:package:sentry/** -app -group",
    ] {
        assert!(texts.iter().any(|t| t == expected), "missing {expected}");
    }
}

#[test]
fn base_rules_mark_rust_std_out_of_app_and_ignore_thread_bases() {
    let mut frames = frames(json!([
        {"function": "_pthread_start", "package": "/usr/lib/system/libsystem_pthread.dylib"},
        {"function": "my_app::main", "package": "/Users/me/app"},
        {"function": "std::rt::lang_start"},
        {"function": "std::panicking::begin_panic"},
        {"function": "abort"},
    ]));
    let base = Enhancements::base();
    base.apply_modifications(&mut frames, Some("native"), None);
    let in_app: Vec<Option<bool>> = frames.iter().map(|f| f.in_app).collect();
    assert_eq!(
        in_app,
        [
            Some(false),
            Some(true),
            Some(false),
            Some(false),
            Some(false)
        ]
    );
    assert_eq!(frames[0].data.as_ref().unwrap()["category"], "threadbase");
    assert_eq!(frames[4].data.as_ref().unwrap()["category"], "throw");
    let mut flags = contributions(&[true; 5]);
    let outcome = run_phase_two(base, &frames, Some("native"), None, &mut flags);
    assert!(!outcome.discarded);
    // Thread base (and callers) off; begin_panic and everything after off.
    assert_eq!(contributing(&flags), [false, true, true, false, false]);
}

#[test]
fn base_rules_skip_other_families_cheaply() {
    let mut frames = frames(json!([
        {"function": "memcpy", "abs_path": "/app/node_modules/x/index.js"},
        {"function": "handler", "abs_path": "/app/src/index.js"},
    ]));
    Enhancements::base().apply_modifications(&mut frames, Some("node"), None);
    assert_eq!(frames[0].in_app, Some(false));
    // `family:native function:memcpy category=system` does not apply.
    assert!(frames[0].data.as_ref().unwrap().get("category").is_none());
    assert_eq!(frames[1].in_app, Some(false));
}

// ---------------------------------------------------------------------------
// Parsing

#[test]
fn parse_errors_have_line_column_and_message() {
    let error =
        Enhancements::parse("# comment\n\nfunction:foo +app\nfunction:x foo:bar +app").unwrap_err();
    assert_eq!((error.line(), error.column()), (4, 12));
    assert_eq!(error.to_string(), "line 4, column 12: unknown key `foo`");

    let cases = [
        ("function:foo", 1, 13, "expected an action"),
        ("+app", 1, 1, "expected a matcher"),
        (
            "function: +app",
            1,
            10,
            "expected a pattern after `function:`",
        ),
        ("function:foo +apple", 1, 14, "unknown flag action `+apple`"),
        (
            "function:foo max-frames=x",
            1,
            25,
            "`max-frames` needs a number",
        ),
        ("function:foo max-frames=", 1, 25, "expected a value"),
        (
            "function:foo invert-stacktrace=maybe",
            1,
            32,
            "needs a boolean",
        ),
        (
            "function:foo frobnicate",
            1,
            14,
            "unknown action `frobnicate`",
        ),
        (
            "function:foo +app module:bar",
            1,
            19,
            "matchers must come before the actions",
        ),
        ("[ function:foo] | function:bar +app", 1, 17, "put a blank"),
        ("[ function:foo ] function:bar +app", 1, 18, "expected `|`"),
        ("function:foo | function:bar +app", 1, 16, "expected `[`"),
        (
            "[ category:foo ] | [ category:bar ] | category:baz +app",
            1,
            20,
            "only one caller",
        ),
        (
            "category:foo | [ category:bar ] | [ category:baz ] +app",
            1,
            33,
            "only one callee",
        ),
        (
            "function:a +app | [ function:b ]",
            1,
            17,
            "must come before the actions",
        ),
    ];
    for (text, line, column, message) in cases {
        let error = Enhancements::parse(text).unwrap_err();
        assert_eq!(
            (error.line(), error.column()),
            (line, column),
            "{text}: {error}"
        );
        assert!(error.message().contains(message), "{text}: {error}");
    }
}

#[test]
fn parse_accepts_sentry_syntax_variants() {
    let text = "  stack.function:foo   +app   # trailing comment\n\
                \"error.type\":Foo function:bar +app-group\n\
                function:x max-frames = 3 min-frames=2\n\
                function:y +app#glued comment\n\
                function:z ^+prefix v-sentinel\r\n";
    let enhancements = Enhancements::parse(text).unwrap();
    let texts: Vec<String> = enhancements.rules().map(Rule::to_string).collect();
    assert_eq!(
        texts,
        [
            "function:foo +app",
            "type:Foo function:bar +app -group",
            "function:x max-frames=3 min-frames=2",
            "function:y +app",
            "function:z ^+prefix v-sentinel",
        ]
    );
}

#[test]
fn quoted_patterns_unescape_and_print_back() {
    let cases = [
        (r#"function:"a b" +app"#, "a b", r#"function:"a b" +app"#),
        (
            r#"function:"*::\\{dtor\\}" +app"#,
            r"*::\{dtor\}",
            r"function:*::\\{dtor\\} +app",
        ),
        (r#"function:"-\[NS*" +app"#, r"-\[NS*", r"function:-\\[NS*"),
        (
            r#"function:"say \"hi\"" +app"#,
            r#"say "hi""#,
            r#"function:"say \"hi\"" +app"#,
        ),
        (r"function:a\\b +app", r"a\b", r"function:a\\b +app"),
        (r#"function:"" +app"#, "", r#"function:"" +app"#),
        // An unterminated quote is part of an unquoted pattern.
        (
            r#"function:"abc +app"#,
            r#""abc"#,
            r#"function:"\"abc" +app"#,
        ),
    ];
    for (text, pattern, printed) in cases {
        let rule = rule(text);
        let (_, matcher) = rule.matchers().next().unwrap();
        assert_eq!(matcher.pattern(), pattern, "{text}");
        assert!(rule.to_string().starts_with(printed), "{text}: {rule}");
        assert_eq!(self::rule(&rule.to_string()), rule, "{text}");
    }
}

#[test]
fn display_orders_exception_caller_frame_callee_actions() {
    let rule = rule(
        "[ function:a ] | family:native error.type:E !function:b | [ category:c ] -group ^+app category=x",
    );
    assert_eq!(
        rule.to_string(),
        "[ function:a ] | type:E family:native !function:b | [ category:c ] -group ^+app category=x"
    );
    let positions: Vec<Position> = rule.matchers().map(|(p, _)| p).collect();
    assert_eq!(
        positions,
        [
            Position::Caller,
            Position::Exception,
            Position::Frame,
            Position::Frame,
            Position::Callee
        ]
    );
    assert_eq!(self::rule(&rule.to_string()), rule);
}

#[test]
fn rules_split_into_phases() {
    let enhancements = Enhancements::parse(
        "function:a -app\nfunction:b -group\nfunction:c category=x\nfunction:d -app -group",
    )
    .unwrap();
    let modifiers: Vec<bool> = enhancements
        .rules()
        .map(Rule::has_modifier_actions)
        .collect();
    let updaters: Vec<bool> = enhancements
        .rules()
        .map(Rule::has_updater_actions)
        .collect();
    assert_eq!(modifiers, [true, false, true, true]);
    assert_eq!(updaters, [true, true, false, true]);
}

// ---------------------------------------------------------------------------
// Matchers

#[test]
fn path_matcher_uses_abs_path_else_filename() {
    let text = "path:**/src/*.js +app";
    assert!(matches_one(
        text,
        json!({"abs_path": "/app/SRC/a.js"}),
        "other"
    ));
    assert!(matches_one(
        text,
        json!({"abs_path": "", "filename": "src/a.js"}),
        "other"
    ));
    assert!(matches_one(
        text,
        json!({"abs_path": "C:\\app\\src\\a.js"}),
        "other"
    ));
    assert!(!matches_one(
        text,
        json!({"abs_path": "/app/lib/a.js", "filename": "src/a.js"}),
        "other"
    ));
    assert!(!matches_one(
        text,
        json!({"abs_path": "/app/src/x/a.js"}),
        "other"
    ));
    assert!(!matches_one(text, json!({}), "other"));
    assert!(matches_one("!path:**/src/*.js +app", json!({}), "other"));
}

#[test]
fn package_matcher_is_a_path_glob() {
    let text = "package:/usr/lib/** -app";
    assert!(matches_one(
        text,
        json!({"package": "/USR/LIB/libc.so"}),
        "native"
    ));
    assert!(!matches_one(
        text,
        json!({"package": "/usr/local/lib/libc.so"}),
        "native"
    ));
    assert!(matches_one(
        "package:libc.so -app",
        json!({"package": "libc.so"}),
        "native"
    ));
}

#[test]
fn function_matcher_sees_unknown_for_missing_names() {
    assert!(matches_one(
        "function:<unknown> -group",
        json!({}),
        "native"
    ));
    assert!(matches_one(
        "function:<unknown> -group",
        json!({"function": ""}),
        "native"
    ));
    assert!(matches_one(
        "function:std::* -app",
        json!({"function": "std::a/b"}),
        "native"
    ));
    // Text globs are case-sensitive (spec 12.2).
    assert!(!matches_one(
        "function:Std::* -app",
        json!({"function": "std::x"}),
        "native"
    ));
}

#[test]
fn module_and_category_matchers() {
    assert!(matches_one(
        "module:io.sentry.* -app",
        json!({"module": "io.sentry.Hub"}),
        "java"
    ));
    assert!(!matches_one("module:io.sentry.* -app", json!({}), "java"));
    assert!(matches_one(
        "category:thread* -group",
        json!({"data": {"category": "threadbase"}}),
        "native"
    ));
    assert!(!matches_one("category:thread* -group", json!({}), "native"));
}

#[test]
fn family_matcher() {
    let frame = json!({"function": "f"});
    assert!(matches_one(
        "family:native,javascript -app",
        frame.clone(),
        "cocoa"
    ));
    assert!(matches_one(
        "family:native,javascript -app",
        frame.clone(),
        "node"
    ));
    assert!(!matches_one(
        "family:native,javascript -app",
        frame.clone(),
        "python"
    ));
    assert!(matches_one("family:other -app", frame.clone(), "python"));
    assert!(matches_one("family:other -app", frame.clone(), ""));
    assert!(matches_one("family:all -app", frame.clone(), "python"));
    assert!(!matches_one("family:unknown -app", frame.clone(), "python"));
    assert!(matches_one("!family:native -app", frame.clone(), "python"));
    assert!(!matches_one("!family:native -app", frame, "c"));
    // The frame's own platform wins over the event's.
    assert!(matches_one(
        "family:javascript -app",
        json!({"platform": "node"}),
        "native"
    ));
}

#[test]
fn app_matcher() {
    assert!(matches_one(
        "app:yes -app",
        json!({"in_app": true}),
        "other"
    ));
    assert!(matches_one("app:0 -app", json!({}), "other"));
    assert!(!matches_one("app:true -app", json!({}), "other"));
    assert!(!matches_one(
        "app:maybe -app",
        json!({"in_app": true}),
        "other"
    ));
    assert!(!matches_one(
        "app:maybe -app",
        json!({"in_app": false}),
        "other"
    ));
    assert!(matches_one(
        "!app:no -app",
        json!({"in_app": true}),
        "other"
    ));
}

#[test]
fn exception_matchers() {
    let frames = functions(&["f"]);
    let check = |text: &str, exception: Option<&ExceptionData<'_>>| {
        !matching(&rule(text), &frames, "python", exception).is_empty()
    };
    let error = exception(Some("ValueError"), Some("bad input"), Some("excepthook"));
    assert!(check("error.type:*Error -app", Some(&error)));
    assert!(check(
        "type:ValueError value:bad* mechanism:excepthook -app",
        Some(&error)
    ));
    assert!(!check("error.value:good* -app", Some(&error)));
    assert!(check("!error.value:good* -app", Some(&error)));
    assert!(check("error.type:<unknown> -app", None));
    assert!(check(
        "error.type:<unknown> -app",
        Some(&exception(Some(""), None, None))
    ));
    assert!(check(
        "error.mechanism:* -app",
        Some(&exception(None, None, None))
    ));
}

#[test]
fn text_fast_path_agrees_with_globs() {
    use crate::grouping::glob::{Glob, GlobKind};
    let mut patterns: Vec<String> = Enhancements::base()
        .rules()
        .flat_map(|rule| rule.matchers().map(|(_, m)| m.clone()).collect::<Vec<_>>())
        .filter(|m| matches!(m.key(), MatcherKey::Function | MatcherKey::Module))
        .map(|m| m.pattern().to_owned())
        .collect();
    patterns.extend(
        [
            "std::*",
            "*::new",
            "*lambda*",
            "malloc",
            "*",
            "**",
            "",
            "a*b",
            "x?y",
            "*.cold.1",
            "a*b*c",
            "*a*b*",
            "ab*b",
            "a*ab",
            "??",
            "?",
            "?*",
            "?a*",
            "[]]x",
            "[!a]x",
            "[^a]x",
            "[ab]x",
            "[a]x",
            "[[]",
            "\\*x",
            "x\\",
            "{a,b}",
            "a}b,c]",
            "?[[]KSCrash*",
        ]
        .map(str::to_owned),
    );
    let values = [
        "std::vec::Vec",
        "Foo::new",
        "a<lambda>b",
        "malloc",
        "",
        "ab",
        "abab",
        "axb",
        "axbyc",
        "abc",
        "xzy",
        "f.cold.1",
        "STD::x",
        "ü",
        "üa",
        "]x",
        "ax",
        "bx",
        "*x",
        "[",
        "a}b,c]",
        "-[KSCrash foo]",
        "+[SentrySDK start]",
        "__47-[SentryCrash install]_block_invoke",
        "Foo::~Foo::{dtor}",
        "std::__1::allocator_traits<x>::deallocate",
        "io.sentry.Hub",
        "node_modules/@babel/runtime",
    ];
    for pattern in &patterns {
        let fast = Matcher::new(MatcherKey::Function, false, pattern.clone());
        let kind = GlobKind::Text {
            case_insensitive: false,
        };
        let Ok(glob) = Glob::new(pattern, kind) else {
            // Invalid globs never match (see `broken_globs_never_match`).
            assert!(
                values.iter().all(|v| !fast.matches_value(Some(v))),
                "{pattern}"
            );
            continue;
        };
        for value in values {
            assert_eq!(
                fast.matches_value(Some(value)),
                glob.is_match(value),
                "{pattern} / {value}"
            );
        }
    }
}

#[test]
fn path_literal_pre_check_agrees_with_globs() {
    use super::pattern::{PathValue, fold_into};
    use crate::grouping::glob::{Glob, GlobKind};
    let mut patterns: Vec<String> = Enhancements::base()
        .rules()
        .flat_map(|rule| rule.matchers().map(|(_, m)| m.clone()).collect::<Vec<_>>())
        .filter(|m| matches!(m.key(), MatcherKey::Path | MatcherKey::Package))
        .map(|m| m.pattern().to_owned())
        .collect();
    patterns.extend(
        [
            "{a,b}/x/*.js",
            "[ab]c/Lib*",
            "?:/Windows/**",
            "C:\\Program Files\\**",
        ]
        .map(str::to_owned),
    );
    let values = [
        "/usr/lib/libc.so",
        "usr/lib/libc.so",
        "/USR/LIB/system/libsystem_pthread.dylib",
        "C:\\Windows\\System32\\kernel32.dll",
        "c:/program files/nvidia corporation/x.dll",
        "https://UNPKG.com/react@18/index.js",
        "/app/node_modules/@babel/x.js",
        "org-dartlang-sdk:///sdk/lib/core.dart",
        "package:sentry/src/hub.dart",
        "/Applications/My.app/Contents/MacOS/My",
        "libsystem_malloc.dylib",
        "a/x/f.js",
        "bc/library",
        "/var/containers/Bundle/Application/X/My.app/My",
        "/srv/vendor/ünïcode/x.php",
        "",
    ];
    for pattern in &patterns {
        let matcher = Matcher::new(MatcherKey::Path, false, pattern.clone());
        let glob = Glob::new(pattern, GlobKind::Path).unwrap();
        for value in values {
            let mut folded = Vec::new();
            let _ = fold_into(&mut folded, value);
            let folded = String::from_utf8(folded).unwrap();
            let path = PathValue::new(value, value.is_ascii().then_some(folded.as_str()));
            let fast = matcher.matches_path(Some(&path));
            assert_eq!(fast, glob.is_match(value), "{pattern} / {value}");
        }
    }
}

// ---------------------------------------------------------------------------
// The rule index

/// A value for a glob: `**` becomes `a/b`, `*` `x`, `?` `q`, a class its
/// first member, an alternation its first alternative.
fn value_for(pattern: &str, text: bool) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::new();
    let mut index = 0;
    while let Some(&c) = chars.get(index) {
        match c {
            '\\' if text => out.extend(chars.get(index + 1).inspect(|_| index += 1)),
            '*' if chars.get(index + 1) == Some(&'*') => {
                out.push_str("a/b");
                index += 1;
            }
            '*' => out.push('x'),
            '?' => out.push('q'),
            '[' => {
                let end = (index + 2..chars.len()).find(|&e| chars[e] == ']');
                let first = chars.get(index + 1).copied().unwrap_or('#');
                out.push(if matches!(first, '!' | '^') {
                    '#'
                } else {
                    first
                });
                index = end.unwrap_or(chars.len());
            }
            '{' => {
                let end = (index..chars.len()).find(|&e| chars[e] == '}');
                let end = end.unwrap_or(chars.len());
                let inner: String = chars[index + 1..end].iter().collect();
                out.push_str(inner.split(',').next().unwrap_or(""));
                index = end;
            }
            other => out.push(other),
        }
        index += 1;
    }
    out
}

/// Makes `frame` match a (positive) matcher.
fn satisfy(matcher: &Matcher, frame: &mut Value) {
    if matcher.is_negated() {
        return;
    }
    let pattern = matcher.pattern();
    let value = |text| json!(value_for(pattern, text));
    match matcher.key() {
        MatcherKey::Function => frame["function"] = value(true),
        MatcherKey::Module => frame["module"] = value(true),
        MatcherKey::Path => frame["abs_path"] = value(false),
        MatcherKey::Package => frame["package"] = value(false),
        MatcherKey::Category => frame["data"] = json!({"category": value_for(pattern, true)}),
        MatcherKey::App => frame["in_app"] = json!(parse_bool(pattern) == Some(true)),
        MatcherKey::Family => {
            let platform = match pattern.split(',').next() {
                Some("native") => "native",
                Some("javascript") => "javascript",
                _ => "python",
            };
            frame["platform"] = json!(platform);
        }
        MatcherKey::Type | MatcherKey::Value | MatcherKey::Mechanism => {}
    }
}

/// Stacks of frames made to match each built-in rule (with caller and
/// callee), also with paths upper-cased with `\\`, relative, or not ASCII.
fn stacks_for_base_rules() -> Vec<Vec<Frame>> {
    let mut frames = Vec::new();
    for rule in Enhancements::base().rules() {
        let mut slots = [
            json!({"function": "caller"}),
            json!({}),
            json!({"function": "callee"}),
        ];
        for (position, matcher) in rule.matchers() {
            let slot = match position {
                Position::Caller => 0,
                Position::Frame => 1,
                Position::Callee => 2,
                Position::Exception => continue,
            };
            satisfy(matcher, &mut slots[slot]);
        }
        frames.extend(slots);
    }
    let mutations: [fn(&str) -> String; 3] = [
        |path| path.to_uppercase().replace('/', "\\\\"),
        |path| path.trim_start_matches('/').to_owned(),
        |path| format!("ü/{path}"),
    ];
    let mut stacks: Vec<Vec<Value>> = frames.chunks(9).map(<[Value]>::to_vec).collect();
    for mutation in mutations {
        for chunk in frames.chunks(9) {
            let mutated = chunk.iter().cloned().map(|mut frame| {
                for key in ["abs_path", "package"] {
                    if let Some(path) = frame.get(key).and_then(Value::as_str) {
                        frame[key] = json!(mutation(path));
                    }
                }
                frame
            });
            stacks.push(mutated.collect());
        }
    }
    stacks
        .into_iter()
        .map(|stack| self::frames(json!(stack)))
        .collect()
}

/// The stack traces of the grouping corpus, prepared as for grouping.
fn corpus_stacks() -> Vec<Vec<Frame>> {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/grouping/variants/newstyle-2023-01-11"
    );
    let config = crate::grouping::GroupingConfig::default();
    let mut stacks = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let case: Value =
            serde_json::from_slice(&std::fs::read(entry.unwrap().path()).unwrap()).unwrap();
        let Ok(mut event) = serde_json::from_value::<crate::protocol::Event>(case["input"].clone())
        else {
            continue;
        };
        crate::grouping::prepare(&mut event, &config);
        let exceptions = event.exception.iter().flat_map(|e| &e.values);
        let threads = event.threads.iter().flat_map(|t| &t.values);
        stacks.extend(
            exceptions
                .filter_map(|e| e.stacktrace.as_ref())
                .chain(event.stacktrace.as_ref())
                .chain(threads.filter_map(|t| t.stacktrace.as_ref()))
                .map(|stacktrace| stacktrace.frames.clone()),
        );
    }
    stacks
}

#[test]
fn index_keys_and_segments() {
    use super::pattern::{common_prefix_len, key, segments};
    assert_eq!(key(b"site-packages"), key(b"site"));
    assert_eq!(key(b"go"), u32::from_le_bytes(*b"go\0\0"));
    assert_ne!(key(b"go"), key(b"gox"));
    assert_eq!(key(b""), 0);
    let path = b"/usr//lib/python3.12/site-packages/x.py";
    let mut found = Vec::new();
    segments(path, 0, |end, key| found.push((end, key)));
    let expected: Vec<(usize, u32)> = [(4, "usr"), (9, "lib"), (20, "python3.12")]
        .into_iter()
        .chain([(34, "site-packages"), (39, "x.py")])
        .map(|(end, segment)| (end, key(segment.as_bytes())))
        .collect();
    assert_eq!(found, expected);
    found.clear();
    segments(path, 21, |end, key| found.push((end, key)));
    assert_eq!(found, expected[3..]);
    for (a, b, len) in [
        ("", "", 0),
        ("abc", "abd", 2),
        ("/usr/local/lib/python", "/usr/local/lib/perl", 16),
        (
            "/usr/local/lib/python3.12/a",
            "/usr/local/lib/python3.12/a",
            27,
        ),
        ("/usr/local/lib", "/usr/local/lib/python", 14),
    ] {
        assert_eq!(
            common_prefix_len(a.as_bytes(), b.as_bytes()),
            len,
            "{a} / {b}"
        );
    }
}

#[test]
fn rule_anchors() {
    let anchor = |text: &str| {
        rule(text)
            .anchor()
            .map(|(field, anchor)| (field, anchor.strength))
    };
    assert_eq!(anchor("module:java.* -app"), Some((Field::Module, 5)));
    assert_eq!(anchor("function:abc -app"), Some((Field::Function, 3)));
    // A prefix shorter than a key is no anchor; neither is a negated matcher.
    assert_eq!(anchor("function:abc* -app"), None);
    assert_eq!(anchor("!module:java.* -app"), None);
    assert_eq!(
        anchor("path:**/site-packages/** -app"),
        Some((Field::Path, 13))
    );
    assert_eq!(anchor("path:**/go/pkg/mod/** -app"), Some((Field::Path, 3)));
    assert_eq!(anchor("path:linux-gate.so* -app"), Some((Field::Path, 13)));
    assert_eq!(anchor("path:**/*newrelic*/** -app"), None);
    // The longest literal wins.
    assert_eq!(
        anchor("package:/usr/lib/** function:pthread_start -app"),
        Some((Field::Function, 13))
    );
    let literal = |text: &str| {
        rule(text)
            .required_literal()
            .map(|(f, l)| (f, l.to_owned()))
    };
    assert_eq!(
        literal("path:**/*newrelic*/** -app"),
        Some((Field::Path, "newrelic".to_owned()))
    );
    assert_eq!(
        literal("function:?[[]KSCrash* -app"),
        Some((Field::Function, "[KSCrash".to_owned()))
    );
    assert_eq!(rule("category:throw ^-group").category(), Some("throw"));
    assert_eq!(rule("category:thr* ^-group").category(), None);
}

#[test]
fn hints_render_as_sentry_words_them() {
    let rule = rule("function:a -group");
    let hints = [
        (
            Hint::Group {
                contributes: false,
                rule: &rule,
            },
            "ignored by stack trace rule (function:a -group)",
        ),
        (
            Hint::Group {
                contributes: true,
                rule: &rule,
            },
            "un-ignored by stack trace rule (function:a -group)",
        ),
        (
            Hint::App {
                in_app: false,
                rule: &rule,
            },
            "marked out of app by stack trace rule (function:a -group)",
        ),
        (
            Hint::MaxFrames {
                limit: 1,
                rule: &rule,
            },
            "ignored because only 1 frame is considered by stack trace rule (function:a -group)",
        ),
        (
            Hint::MinFrames {
                contributing: 2,
                rule: &rule,
            },
            "discarded because stack trace only contains 2 frames which is under the configured threshold by stack trace rule (function:a -group)",
        ),
    ];
    for (hint, text) in hints {
        assert_eq!(hint.to_string(), text);
        assert_eq!(String::from(hint), text);
    }
}

/// The index may only leave out frames a rule does not match: then
/// testing the candidates gives the same matches as testing everything.
#[test]
fn index_finds_every_match() {
    let base = Enhancements::base();
    let mut checked = 0;
    for frames in stacks_for_base_rules().into_iter().chain(corpus_stacks()) {
        for platform in ["native", "cocoa", "javascript", "python", ""] {
            let folded = FoldedPaths::new(&frames);
            let views = match_frames(&frames, &folded, Some(platform));
            let phases = &base.phases;
            let candidates = phases.index.candidates(&views, &folded);
            let every_rule = vec![u64::MAX; phases.rules.len().div_ceil(64)];
            let listed: Vec<usize> = candidates.rules_in(&every_rule).collect();
            for (number, rule) in phases.rules.iter().enumerate() {
                for index in (0..views.len()).filter(|&i| rule.matches_frame(&views, i)) {
                    checked += 1;
                    let found = listed.contains(&number)
                        && match phases.index.category_of(number) {
                            Some(_) => views[index].category() == rule.category(),
                            None => candidates.frames(number).any(|f| f == index),
                        };
                    assert!(found, "{rule} misses {:?} ({platform})", frames[index]);
                }
            }
        }
    }
    assert!(checked > 10_000, "only {checked} matches checked");
}

#[test]
fn broken_globs_never_match() {
    assert!(!matches_one(
        "function:foo[ -app",
        json!({"function": "foo["}),
        "other"
    ));
    assert!(matches_one(
        "!function:foo[ -app",
        json!({"function": "foo["}),
        "other"
    ));
}

#[test]
fn caller_and_callee_matchers() {
    let frames = functions(&["main", "a", "b", "a", "c"]);
    let indices = |text: &str| matching(&rule(text), &frames, "native", None);
    assert_eq!(indices("[ function:a ] | function:* -group"), [2, 4]);
    assert_eq!(indices("function:* | [ function:a ] -group"), [0, 2]);
    assert_eq!(
        indices("[ function:a ] | function:b | [ function:a ] -group"),
        [2]
    );
    // Negated neighbours need the neighbour to exist.
    assert_eq!(indices("[ !function:a ] | function:* -group"), [1, 3]);
    assert_eq!(indices("function:* | [ !function:a ] -group"), [1, 3]);
}

// ---------------------------------------------------------------------------
// Phase one

#[test]
fn app_actions_with_ranges() {
    let run = |text: &str| {
        let mut frames = functions(&["a", "b", "c", "d"]);
        Enhancements::parse(text)
            .unwrap()
            .apply_modifications(&mut frames, Some("native"), None);
        frames.iter().map(|f| f.in_app.unwrap()).collect::<Vec<_>>()
    };
    assert_eq!(run("function:b +app"), [false, true, false, false]);
    assert_eq!(run("function:b ^+app"), [false, false, true, true]);
    assert_eq!(run("function:b v+app"), [true, false, false, false]);
    assert_eq!(run("function:b v+app ^+app +app"), [true, true, true, true]);
    assert_eq!(
        run("function:* +app\nfunction:c ^-app"),
        [true, true, true, false]
    );
    // Later rules win.
    assert_eq!(run("function:* +app\nfunction:* -app"), [false; 4]);
}

#[test]
fn a_rule_matches_before_it_acts() {
    // `^-app` on `a` must not stop `b` (in-app before this rule) from
    // matching `app:yes` within the same rule.
    let mut frames = frames(json!([
        {"function": "a", "in_app": true},
        {"function": "b", "in_app": true},
        {"function": "c", "in_app": false},
    ]));
    let enhancements = Enhancements::parse("app:yes ^-app category=seen").unwrap();
    enhancements.apply_modifications(&mut frames, None, None);
    let categories: Vec<Option<&str>> = frames
        .iter()
        .map(|f| {
            f.data
                .as_ref()
                .and_then(|d| d.get("category"))
                .and_then(Value::as_str)
        })
        .collect();
    assert_eq!(categories, [Some("seen"), Some("seen"), None]);
}

#[test]
fn category_action_feeds_later_rules() {
    let mut frames = functions(&["malloc", "malloc_zone", "work"]);
    let rules = "function:malloc* category=malloc\n\
                 [ category:malloc ] | category:malloc category=internals\n\
                 category:internals -app";
    Enhancements::parse(rules)
        .unwrap()
        .apply_modifications(&mut frames, Some("native"), None);
    let data = |i: usize| frames[i].data.clone().unwrap_or_default();
    assert_eq!(data(0)["category"], "malloc");
    assert_eq!(data(1)["category"], "internals");
    assert!(data(2).get("category").is_none());
}

#[test]
fn orig_in_app_bookkeeping_is_idempotent() {
    let mut frames = frames(
        json!([{"function": "a", "in_app": true}, {"function": "b"}, {"function": "c", "in_app": false}]),
    );
    let enhancements = Enhancements::parse("function:a -app\nfunction:c +app").unwrap();
    enhancements.apply_modifications(&mut frames, Some("python"), None);
    let once = frames.clone();
    let orig: Vec<Value> = once
        .iter()
        .map(|f| f.data.as_ref().unwrap()["orig_in_app"].clone())
        .collect();
    assert_eq!(orig, [json!(1), json!(-1), json!(0)]);
    let in_app: Vec<Option<bool>> = once.iter().map(|f| f.in_app).collect();
    assert_eq!(in_app, [Some(false), Some(false), Some(true)]);
    enhancements.apply_modifications(&mut frames, Some("python"), None);
    assert_eq!(frames, once);
    // Without the rules the original values come back (unset as false).
    Enhancements::default().apply_modifications(&mut frames, Some("python"), None);
    let in_app: Vec<Option<bool>> = frames.iter().map(|f| f.in_app).collect();
    assert_eq!(in_app, [Some(true), Some(false), Some(false)]);
}

#[test]
fn project_rules_run_after_base_rules() {
    let project = Enhancements::parse("path:**/node_modules/my-lib/** +app").unwrap();
    let combined = Enhancements::base().with_project_rules(&project);
    assert_eq!(combined.len(), Enhancements::base().len() + 1);
    assert_eq!(combined.rules().last(), project.rules().next());
    let mut frames = frames(
        json!([{"abs_path": "/srv/node_modules/my-lib/x.js"}, {"abs_path": "/srv/node_modules/other/x.js"}]),
    );
    combined.apply_modifications(&mut frames, Some("javascript"), None);
    assert_eq!(frames[0].in_app, Some(true));
    assert_eq!(frames[1].in_app, Some(false));
}

// ---------------------------------------------------------------------------
// Phase two

fn assemble(text: &str, names: &[&str], flags: &[bool]) -> (Vec<Contribution>, Outcome) {
    let frames = functions(names);
    let mut flags = contributions(flags);
    let enhancements = Enhancements::parse(text).unwrap();
    let outcome = run_phase_two(&enhancements, &frames, Some("native"), None, &mut flags);
    (flags, outcome)
}

#[test]
fn group_actions_with_ranges() {
    let names = ["a", "b", "c", "d"];
    let on = [true; 4];
    assert_eq!(
        contributing(&assemble("function:b -group", &names, &on).0),
        [true, false, true, true]
    );
    assert_eq!(
        contributing(&assemble("function:b ^-group", &names, &on).0),
        [true, true, false, false]
    );
    assert_eq!(
        contributing(&assemble("function:b v-group", &names, &on).0),
        [false, true, true, true]
    );
    let (flags, outcome) = assemble("function:c v-group -group", &names, &on);
    assert_eq!(contributing(&flags), [false, false, false, true]);
    assert_eq!(
        flags[0].hint.as_deref(),
        Some("ignored by stack trace rule (function:c v-group -group)")
    );
    assert_eq!(flags[3].hint, None);
    assert_eq!(outcome, Outcome::default());
}

#[test]
fn plus_group_re_enables_frames() {
    // Switched off by an earlier rule ...
    let (flags, _) = assemble(
        "function:* -group\nfunction:b +group",
        &["a", "b"],
        &[true, true],
    );
    assert_eq!(contributing(&flags), [false, true]);
    assert_eq!(
        flags[1].hint.as_deref(),
        Some("un-ignored by stack trace rule (function:b +group)")
    );
    // ... or by a frame-level check (e.g. `non app frame`).
    let (flags, _) = assemble("function:a +group", &["a", "b"], &[false, false]);
    assert_eq!(contributing(&flags), [true, false]);
}

#[test]
fn app_actions_only_hint_in_phase_two() {
    let mut frames = functions(&["a", "b"]);
    let enhancements = Enhancements::parse("function:a +app").unwrap();
    enhancements.apply_modifications(&mut frames, Some("native"), None);
    let mut flags = contributions(&[false, true]);
    run_phase_two(&enhancements, &frames, Some("native"), None, &mut flags);
    assert_eq!(contributing(&flags), [false, true]);
    assert_eq!(
        flags[0].hint.as_deref(),
        Some("marked in-app by stack trace rule (function:a +app)")
    );
    assert_eq!(flags[1].hint, None);
}

#[test]
fn max_frames_keeps_frames_nearest_the_crash() {
    let (flags, outcome) = assemble(
        "function:* max-frames=2",
        &["a", "b", "c", "d"],
        &[true, true, false, true],
    );
    assert_eq!(contributing(&flags), [false, true, false, true]);
    assert_eq!(
        flags[0].hint.as_deref(),
        Some(
            "ignored because only 2 frames are considered by stack trace rule (function:* max-frames=2)"
        )
    );
    assert!(!outcome.discarded);
    // The last matching rule wins; 0 switches it off.
    let (flags, _) = assemble(
        "function:* max-frames=1\nfunction:a max-frames=0",
        &["a", "b"],
        &[true, true],
    );
    assert_eq!(contributing(&flags), [true, true]);
    let (flags, _) = assemble("function:b max-frames=1", &["a", "b"], &[true, true]);
    assert_eq!(contributing(&flags), [false, true]);
}

#[test]
fn min_frames_discards_short_stacks() {
    let (_, outcome) = assemble(
        "function:* min-frames=3",
        &["a", "b", "c"],
        &[true, false, true],
    );
    assert!(outcome.discarded);
    assert_eq!(
        outcome.hint.as_deref(),
        Some(
            "discarded because stack trace only contains 2 frames which is under the configured threshold by stack trace rule (function:* min-frames=3)"
        )
    );
    let (_, outcome) = assemble("function:* min-frames=2", &["a", "b"], &[true, true]);
    assert!(!outcome.discarded);
    // No contributing frame at all is not "too few".
    let (_, outcome) = assemble("function:* min-frames=2", &["a"], &[false]);
    assert!(!outcome.discarded);
    // Counted after max-frames.
    let (_, outcome) = assemble(
        "function:* max-frames=1 min-frames=2",
        &["a", "b"],
        &[true, true],
    );
    assert!(outcome.discarded);
    assert!(
        outcome
            .hint
            .unwrap()
            .contains("only contains 1 frame which")
    );
}

#[test]
fn phase_two_sees_exception_and_phase_one_results() {
    let mut frames = functions(&["a", "b"]);
    let enhancements = Enhancements::parse(
        "function:a category=x\ncategory:x error.type:Boom -group\nfunction:b app:no -group",
    )
    .unwrap();
    let boom = exception(Some("Boom"), None, None);
    enhancements.apply_modifications(&mut frames, Some("python"), Some(&boom));
    let mut flags = contributions(&[true, true]);
    run_phase_two(
        &enhancements,
        &frames,
        Some("python"),
        Some(&boom),
        &mut flags,
    );
    assert_eq!(contributing(&flags), [false, false]);
    let mut flags = contributions(&[true, true]);
    run_phase_two(&enhancements, &frames, Some("python"), None, &mut flags);
    assert_eq!(contributing(&flags), [true, false]);
}

#[test]
fn prefix_sentinel_and_invert_stacktrace_have_no_effect() {
    let (flags, outcome) = assemble(
        "function:* +prefix ^+sentinel invert-stacktrace=1",
        &["a", "b"],
        &[true, false],
    );
    assert_eq!(flags, contributions(&[true, false]));
    assert_eq!(outcome, Outcome::default());
}

#[test]
fn mismatched_lengths_do_not_panic() {
    let frames = functions(&["a", "b", "c"]);
    let mut flags = contributions(&[true]);
    let enhancements = Enhancements::parse("function:* ^-group v-group max-frames=1").unwrap();
    run_phase_two(&enhancements, &frames, None, None, &mut flags);
    run_phase_two(&enhancements, &[], None, None, &mut flags);
    assert_eq!(contributing(&flags), [true]);
}

/// Both phases in one go (phase two reusing phase one's lookups and
/// matches) agree with phase one, then phase two on the changed frames.
#[test]
fn both_phases_at_once_agree_with_each_phase_alone() {
    let base = Enhancements::base();
    for frames in stacks_for_base_rules().into_iter().chain(corpus_stacks()) {
        for platform in ["native", "cocoa", "javascript", "python", ""] {
            let mut one_by_one = frames.clone();
            base.apply_modifications(&mut one_by_one, Some(platform), None);
            let separately = base.updates(&one_by_one, Some(platform), None);
            let mut at_once = frames.clone();
            let together = base.apply_modifications_and_updates(&mut at_once, Some(platform), None);
            assert_eq!(at_once, one_by_one, "phase one ({platform})");
            for contributes in [true, false] {
                let mut expected = vec![FrameContribution::new(contributes); frames.len()];
                let mut found = expected.clone();
                let expected_outcome = separately.apply(&mut expected);
                assert_eq!(together.apply(&mut found), expected_outcome, "{platform}");
                assert_eq!(found, expected, "phase two ({platform})");
            }
        }
    }
}
