//! Replays the kept corpus of every fuzz target through its properties, on
//! the stable toolchain: what the fuzzer once found interesting keeps being
//! checked by the regular tests.

use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    let mut inputs = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| check(&data));
        assert!(outcome.is_ok(), "{} fails its properties", path.display());
        inputs += 1;
    }
    assert!(
        inputs > 100,
        "{target}: only {inputs} inputs in {}",
        dir.display()
    );
}

#[test]
fn envelope_parse_corpus_holds() {
    replay("envelope_parse", sentry_fuzz::envelope_parse);
}

#[test]
fn event_json_corpus_holds() {
    replay("event_json", sentry_fuzz::event_json);
}

#[test]
fn decompression_corpus_holds() {
    replay("decompression", sentry_fuzz::decompression);
}
