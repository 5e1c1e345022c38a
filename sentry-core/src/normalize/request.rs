//! The request interface: query strings and cookies become lists of
//! `[name, value]` pairs, as Relay stores them, so that the API shows them
//! as Sentry does and scrubbing sees each name beside its value.

use serde_json::Value;

use crate::protocol::Request;

/// Parses a text query string and text cookies into pairs, and takes the
/// cookies from the `Cookie` header when the SDK sent none.
pub(crate) fn normalize_request(request: &mut Request) {
    if let Some(Value::String(query)) = &request.query_string {
        let query = query.strip_prefix('?').unwrap_or(query);
        request.query_string = Some(pairs(query.split('&'), '=', decode_form));
    }
    if request.cookies.as_ref().is_none_or(is_empty) {
        if let Some(header) = header_value(request.headers.as_ref(), "cookie") {
            request.cookies = Some(Value::String(header));
        }
    }
    if let Some(Value::String(cookies)) = &request.cookies {
        request.cookies = Some(pairs(cookies.split(';'), '=', |text| {
            text.trim().to_owned()
        }));
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(text) => text.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        _ => false,
    }
}

/// Splits `name=value` parts into a JSON list of pairs, skipping empty parts.
fn pairs<'a>(
    parts: impl Iterator<Item = &'a str>,
    separator: char,
    decode: impl Fn(&str) -> String,
) -> Value {
    parts
        .filter(|part| !part.trim().is_empty())
        .map(|part| {
            let (name, value) = part.split_once(separator).unwrap_or((part, ""));
            Value::Array(vec![decode(name).into(), decode(value).into()])
        })
        .collect()
}

/// Finds a header by name, case-insensitively, in an object or a pair list.
pub(crate) fn header_value(headers: Option<&Value>, name: &str) -> Option<String> {
    match headers? {
        Value::Object(map) => map
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .and_then(|(_, value)| value.as_str().map(str::to_owned)),
        Value::Array(items) => items.iter().find_map(|item| {
            let [key, value] = item.as_array()?.as_slice() else {
                return None;
            };
            if key.as_str()?.eq_ignore_ascii_case(name) {
                value.as_str().map(str::to_owned)
            } else {
                None
            }
        }),
        _ => None,
    }
}

/// Decodes `application/x-www-form-urlencoded` text: `+` is a space and
/// `%XX` a byte; invalid UTF-8 is replaced.
fn decode_form(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        match byte {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(index + 1..index + 3)
                    .and_then(|hex| std::str::from_utf8(hex).ok())
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok());
                if let Some(decoded) = hex {
                    out.push(decoded);
                    index += 2;
                } else {
                    out.push(b'%');
                }
            }
            other => out.push(other),
        }
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn request(value: Value) -> Request {
        let mut request: Request = serde_json::from_value(value).unwrap();
        normalize_request(&mut request);
        request
    }

    #[test]
    fn query_string_becomes_decoded_pairs() {
        let request = request(json!({"query_string": "?a=1&b=x+y%21&flag&&c=%zz"}));
        assert_eq!(
            request.query_string,
            Some(json!([
                ["a", "1"],
                ["b", "x y!"],
                ["flag", ""],
                ["c", "%zz"]
            ]))
        );
    }

    #[test]
    fn cookies_come_from_the_cookie_header() {
        let request = request(json!({"headers": [["Cookie", "sessionid=abc; theme=dark"]]}));
        assert_eq!(
            request.cookies,
            Some(json!([["sessionid", "abc"], ["theme", "dark"]]))
        );
    }

    #[test]
    fn object_cookies_stay_as_they_are() {
        let request = request(json!({"cookies": {"a": "b"}, "headers": {"Cookie": "c=d"}}));
        assert_eq!(request.cookies, Some(json!({"a": "b"})));
    }
}
