use super::*;

const MINIFIED: &str = include_str!("../../../../fixtures/sourcemaps/dist/app.min.js");
const SOURCE_MAP: &str = include_str!("../../../../fixtures/sourcemaps/dist/app.min.js.map");
const DIST: &str = "/srv/shop/dist/app.min.js";

/// The event `@sentry/node` sends for the fixture's error, its frames
/// oldest first.
fn node_event(debug_id: Option<&str>) -> Event {
    let frame = |function: Option<&str>, abs_path: &str, line: u64, column: u64| {
        let mut frame = json!({
            "abs_path": abs_path,
            "filename": abs_path,
            "lineno": line,
            "colno": column,
            "in_app": true,
        });
        if let Some(function) = function {
            frame["function"] = json!(function);
        }
        frame
    };
    let mut event = json!({
        "platform": "node",
        "exception": {"values": [{
            "type": "Error",
            "value": "Negative price for pear",
            "stacktrace": {"frames": [
                frame(Some("Module._compile"), "node:internal/modules/cjs/loader", 1521, 14),
                frame(Some("Object.<anonymous>"), DIST, 1, 239),
                frame(Some("c"), DIST, 1, 231),
                frame(Some("e.total"), DIST, 1, 147),
                frame(Some("o"), DIST, 1, 17),
                frame(Some("Array.forEach"), "<anonymous>", 1, 1),
                frame(None, DIST, 1, 48),
            ]}
        }]}
    });
    if let Some(id) = debug_id {
        event["debug_meta"] = json!({"images": [
            {"type": "sourcemap", "code_file": DIST, "debug_id": id}
        ]});
    }
    serde_json::from_value(event).unwrap()
}

fn found() -> ModuleLookup {
    let cache = SourceMapModule::build(MINIFIED, SOURCE_MAP).unwrap();
    ModuleLookup::Found(
        SourceMapModule::from_cache(
            cache.into(),
            urls::join(DIST, "app.min.js.map"),
            ResolvedWith::DebugId,
        )
        .unwrap(),
    )
}

fn frames(event: &Event) -> &[Frame] {
    &event.exceptions()[0].stacktrace.as_ref().unwrap().frames
}

#[test]
fn lists_each_minified_file_once_with_its_debug_id() {
    let id = "8b4f3c3e-1f0a-4c1e-9d55-2c7b2e0f9a11";
    assert_eq!(
        prepare(&mut node_event(Some(id))),
        [ModuleRef {
            abs_path: DIST.to_owned(),
            debug_id: Uuid::try_parse(id).ok(),
        }]
    );
    assert_eq!(prepare(&mut node_event(None))[0].debug_id, None);
    let mut python = node_event(None);
    python.platform = Some("python".to_owned());
    assert!(prepare(&mut python).is_empty());
}

#[test]
fn frames_with_only_a_file_name_are_handled() {
    // `@sentry/node` sends `filename` without `abs_path`.
    let mut event = node_event(None);
    for frame in &mut event.exception.as_mut().unwrap().values[0]
        .stacktrace
        .as_mut()
        .unwrap()
        .frames
    {
        frame.abs_path = None;
    }
    let modules = prepare(&mut event);
    assert_eq!(modules[0].abs_path, DIST);
    let lookups = HashMap::from([(DIST.to_owned(), found())]);
    assert_eq!(symbolicate(&mut event, &lookups).symbolicated, 5);
}

#[test]
fn rewrites_frames_to_the_original_source() {
    let mut event = node_event(None);
    let lookups = HashMap::from([(DIST.to_owned(), found())]);
    let outcome = symbolicate(&mut event, &lookups);
    assert_eq!(
        outcome,
        Outcome {
            symbolicated: 5,
            unsymbolicated: 0
        }
    );
    let frames = frames(&event);
    let summary: Vec<(Option<&str>, Option<&str>, Option<u64>)> = frames
        .iter()
        .map(|frame| {
            (
                frame.filename.as_deref(),
                frame.function.as_deref(),
                frame.lineno,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                Some("node:internal/modules/cjs/loader"),
                Some("Module._compile"),
                Some(1521)
            ),
            (Some("../src/main.js"), Some("Object.<anonymous>"), Some(3)),
            (Some("../src/checkout.js"), Some("runCheckout"), Some(17)),
            (Some("../src/checkout.js"), Some("Checkout.total"), Some(10)),
            (Some("../src/validate.js"), Some("validateCart"), Some(3)),
            (Some("<anonymous>"), Some("Array.forEach"), Some(1)),
            (Some("../src/validate.js"), Some("<anonymous>"), Some(5)),
        ]
    );
    let thrown = &frames[6];
    assert_eq!(
        thrown.abs_path.as_deref(),
        Some("/srv/shop/src/validate.js")
    );
    assert_eq!(
        thrown.context_line.as_deref(),
        Some("      throw new Error(`Negative price for ${item.name}`);")
    );
    assert_eq!(
        thrown
            .pre_context
            .as_ref()
            .unwrap()
            .last()
            .unwrap()
            .as_deref(),
        Some("    if (item.price < 0) {")
    );
    assert_eq!(thrown.post_context.as_ref().unwrap().len(), 3);
    let data = thrown.data.as_ref().unwrap();
    assert_eq!(data["sourcemap"], "/srv/shop/dist/app.min.js.map");
    assert_eq!(data["resolved_with"], "debug-id");
    assert_eq!(data["symbolicated"], true);
    // Node's own code is never the app's.
    assert_eq!(frames[0].in_app, Some(false));
    assert_eq!(frames[1].in_app, Some(true));
    // The frames as they came are kept.
    let raw = event.exceptions()[0].raw_stacktrace.as_ref().unwrap();
    assert_eq!(raw.frames[6].abs_path.as_deref(), Some(DIST));
    assert_eq!(raw.frames[6].colno, Some(48));
    assert!(event.errors.is_none());
}

#[test]
fn records_what_could_not_be_found_or_read() {
    let mut event = node_event(None);
    let lookups = HashMap::from([(DIST.to_owned(), ModuleLookup::MissingSource)]);
    let outcome = symbolicate(&mut event, &lookups);
    assert_eq!(outcome.unsymbolicated, 5);
    assert_eq!(
        event.errors.as_deref().unwrap(),
        [json!({"type": "js_no_source", "url": DIST})]
    );
    assert_eq!(frames(&event)[6].colno, Some(48));
    assert!(event.exceptions()[0].raw_stacktrace.is_none());

    let mut event = node_event(None);
    let map_url = "/srv/shop/dist/app.min.js.map".to_owned();
    let lookups = HashMap::from([(
        DIST.to_owned(),
        ModuleLookup::MalformedSourceMap { url: map_url },
    )]);
    symbolicate(&mut event, &lookups);
    assert_eq!(
        event.errors.as_deref().unwrap(),
        [json!({"type": "js_invalid_source", "url": "/srv/shop/dist/app.min.js.map"})]
    );

    // A file nothing was looked up for is left alone, without an error.
    let mut event = node_event(None);
    symbolicate(&mut event, &HashMap::new());
    assert!(event.errors.is_none());
    assert_eq!(frames(&event)[4].function.as_deref(), Some("o"));
}

#[test]
fn a_position_outside_the_map_is_an_invalid_location() {
    let mut event = node_event(None);
    event.exception.as_mut().unwrap().values[0]
        .stacktrace
        .as_mut()
        .unwrap()
        .frames[6]
        .lineno = Some(40);
    let lookups = HashMap::from([(DIST.to_owned(), found())]);
    let outcome = symbolicate(&mut event, &lookups);
    assert_eq!(outcome.unsymbolicated, 1);
    let errors = event.errors.as_deref().unwrap();
    assert_eq!(errors[0]["type"], "js_invalid_sourcemap_location");
    assert_eq!(errors[0]["row"], 40);
}

#[test]
fn a_broken_source_map_does_not_build() {
    assert!(SourceMapModule::build(MINIFIED, "{not json").is_err());
    assert!(
        SourceMapModule::from_cache(
            Arc::from(&b"junk"[..]),
            String::new(),
            ResolvedWith::Release
        )
        .is_err()
    );
}

#[test]
fn folds_repeated_names() {
    assert_eq!(fold_function_name("foo"), "foo");
    assert_eq!(fold_function_name("foo.foo"), "foo.foo");
    assert_eq!(fold_function_name("foo.foo.foo"), "{foo#2}.foo");
    assert_eq!(
        fold_function_name("bar.foo.foo.onError"),
        "bar.{foo#2}.onError"
    );
    assert_eq!(
        fold_function_name("bar.bar.bar.foo.foo.onError"),
        "{bar#3}.{foo#2}.onError"
    );
}

#[test]
fn in_app_follows_where_the_source_lives() {
    assert_eq!(in_app("webpack:///./src/a.js", "./src/a.js"), Some(true));
    assert_eq!(
        in_app("webpack:///./node_modules/x/a.js", "./node_modules/x/a.js"),
        Some(false)
    );
    assert_eq!(
        in_app("app:///node_modules/x/a.js", "node_modules/x/a.js"),
        Some(false)
    );
    assert_eq!(in_app("/srv/app/node_modules/x/a.js", "x"), Some(false));
    assert_eq!(in_app("/srv/app/src/a.js", "../src/a.js"), None);
}
