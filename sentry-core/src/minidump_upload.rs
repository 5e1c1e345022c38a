//! The form of a minidump upload (`POST /api/<id>/minidump/`, as Breakpad,
//! Crashpad and Electron send it) turned into an event: the fields named
//! `sentry` (JSON), `sentry__1`, `sentry__2`, ... (the same JSON cut into
//! pieces) and `sentry[key][sub]` (one value at a path) become the event;
//! any other field goes to its `extra`. Until the dump is processed the
//! event carries a placeholder exception, as Relay writes it.

use serde_json::{Map, Value, json};

/// The form field that holds the minidump.
pub const MINIDUMP_FIELD: &str = "upload_file_minidump";

/// Why a form cannot become an event.
#[derive(Debug, thiserror::Error)]
pub enum FormError {
    /// The `sentry` JSON (whole or in pieces) does not parse to an object.
    #[error("invalid sentry field: {0}")]
    InvalidJson(String),
}

/// Returns whether content starts as a minidump does (`MDMP`, or `PMDM`
/// from a big-endian writer).
pub fn is_minidump(content: &[u8]) -> bool {
    content.starts_with(b"MDMP") || content.starts_with(b"PMDM")
}

/// Builds the event of an upload from its text fields, in order.
///
/// # Errors
///
/// When the `sentry` JSON is not an object.
pub fn event_from_fields(fields: &[(String, String)]) -> Result<Value, FormError> {
    let mut event = Map::new();
    let mut pieces: Vec<(u32, &str)> = Vec::new();
    let mut extra = Map::new();
    for (name, value) in fields {
        if name == "sentry" {
            merge(&mut event, parse_object(value)?);
        } else if let Some(index) = name.strip_prefix("sentry__") {
            if let Ok(index) = index.parse::<u32>() {
                pieces.push((index, value));
            }
        } else if let Some(path) = bracket_path(name) {
            set_path(&mut event, &path, Value::String(value.clone()));
        } else if name != MINIDUMP_FIELD {
            extra.insert(name.clone(), Value::String(value.clone()));
        }
    }
    if !pieces.is_empty() {
        pieces.sort_by_key(|(index, _)| *index);
        let joined: String = pieces.iter().map(|(_, piece)| *piece).collect();
        merge(&mut event, parse_object(&joined)?);
    }
    if !extra.is_empty() {
        let entry = event
            .entry("extra")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(existing) = entry {
            for (key, value) in extra {
                existing.entry(key).or_insert(value);
            }
        }
    }
    event.insert("platform".to_owned(), json!("native"));
    event.entry("level").or_insert_with(|| json!("fatal"));
    event.insert(
        "exception".to_owned(),
        json!({"values": [{
            "type": "Minidump",
            "mechanism": {"type": "minidump", "handled": false, "synthetic": true},
        }]}),
    );
    Ok(Value::Object(event))
}

fn parse_object(text: &str) -> Result<Map<String, Value>, FormError> {
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(FormError::InvalidJson("not a JSON object".to_owned())),
        Err(error) => Err(FormError::InvalidJson(error.to_string())),
    }
}

/// Adds the keys of `from` to `into`, merging objects key by key.
fn merge(into: &mut Map<String, Value>, from: Map<String, Value>) {
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(Value::Object(existing)), Value::Object(more)) => merge(existing, more),
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}

/// The keys of `sentry[a][b]`: `["a", "b"]`; `None` for other names.
fn bracket_path(name: &str) -> Option<Vec<String>> {
    let mut rest = name.strip_prefix("sentry")?;
    let mut path = Vec::new();
    while let Some(after) = rest.strip_prefix('[') {
        let end = after.find(']')?;
        let key = &after[..end];
        if key.is_empty() {
            return None;
        }
        path.push(key.to_owned());
        rest = &after[end + 1..];
    }
    (rest.is_empty() && !path.is_empty()).then_some(path)
}

fn set_path(event: &mut Map<String, Value>, path: &[String], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut map = event;
    for key in parents {
        let entry = map
            .entry(key.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        let Value::Object(next) = entry else {
            return;
        };
        map = next;
    }
    map.insert(last.clone(), value);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn sentry_fields_build_the_event_and_others_go_to_extra() {
        let event = event_from_fields(&fields(&[
            ("sentry", r#"{"release":"app@1.2","tags":{"a":"1"}}"#),
            ("sentry[tags][b]", "2"),
            ("sentry[environment]", "production"),
            ("prod", "Electron"),
            ("ver", "30.0.1"),
        ]))
        .unwrap();
        assert_eq!(event["release"], "app@1.2");
        assert_eq!(event["tags"], json!({"a": "1", "b": "2"}));
        assert_eq!(event["environment"], "production");
        assert_eq!(event["extra"], json!({"prod": "Electron", "ver": "30.0.1"}));
        assert_eq!(event["platform"], "native");
        assert_eq!(event["level"], "fatal");
        assert_eq!(event["exception"]["values"][0]["type"], "Minidump");
    }

    #[test]
    fn pieces_are_joined_in_order() {
        let event = event_from_fields(&fields(&[
            ("sentry__2", r#"lease":"2.0"}"#),
            ("sentry__1", r#"{"re"#),
        ]))
        .unwrap();
        assert_eq!(event["release"], "2.0");
    }

    #[test]
    fn bad_json_and_odd_names() {
        assert!(event_from_fields(&fields(&[("sentry", "[1]")])).is_err());
        assert!(event_from_fields(&fields(&[("sentry", "{")])).is_err());
        let event = event_from_fields(&fields(&[("sentry[]", "x"), ("sentry[a", "y")])).unwrap();
        assert_eq!(event["extra"], json!({"sentry[]": "x", "sentry[a": "y"}));
    }

    #[test]
    fn minidumps_are_known_by_their_magic() {
        assert!(is_minidump(b"MDMP\x93\xa7"));
        assert!(is_minidump(b"PMDM"));
        assert!(!is_minidump(b"MZ\x90\x00"));
    }
}
