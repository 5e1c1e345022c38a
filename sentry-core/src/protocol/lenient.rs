//! Types for fields that SDKs send in more than one shape.

use std::fmt;

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

use super::Other;

/// A point in time, read from unix seconds (float or integer) or an RFC 3339
/// string with up to nanosecond precision, and written as float seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub DateTime<Utc>);

impl Timestamp {
    /// Returns the current time.
    pub fn now() -> Self {
        Self(Utc::now())
    }

    /// Converts unix seconds, if they are in chrono's range.
    pub fn from_unix_seconds(seconds: f64) -> Option<Self> {
        if !seconds.is_finite() {
            return None;
        }
        let whole = seconds.floor();
        let nanos = ((seconds - whole) * 1e9).round().min(999_999_999.0) as u32;
        Utc.timestamp_opt(whole as i64, nanos).single().map(Self)
    }

    /// Converts unix microseconds, if they are in chrono's range.
    pub fn from_unix_micros(micros: i64) -> Option<Self> {
        DateTime::from_timestamp_micros(micros).map(Self)
    }

    /// Returns unix microseconds.
    pub fn as_unix_micros(&self) -> i64 {
        self.0.timestamp_micros()
    }

    /// The time a duration later; `None` past the range of timestamps.
    pub fn checked_add(&self, duration: std::time::Duration) -> Option<Self> {
        let micros = i64::try_from(duration.as_micros()).ok()?;
        Self::from_unix_micros(self.as_unix_micros().checked_add(micros)?)
    }

    /// The time a duration earlier; `None` past the range of timestamps.
    pub fn checked_sub(&self, duration: std::time::Duration) -> Option<Self> {
        let micros = i64::try_from(duration.as_micros()).ok()?;
        Self::from_unix_micros(self.as_unix_micros().checked_sub(micros)?)
    }

    /// Returns unix seconds as a float, at microsecond precision.
    pub fn as_unix_seconds(&self) -> f64 {
        self.0.timestamp() as f64 + f64::from(self.0.timestamp_subsec_micros()) / 1e6
    }

    /// Returns the RFC 3339 form with microseconds and `Z`, as Sentry's API writes it.
    pub fn to_rfc3339(&self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::Micros, true)
    }

    /// Parses RFC 3339 text; a missing offset is read as UTC, as Relay does.
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        if let Ok(time) = DateTime::parse_from_rfc3339(text) {
            return Some(Self(time.with_timezone(&Utc)));
        }
        chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
            .ok()
            .map(|naive| Self(naive.and_utc()))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.as_unix_seconds())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TimestampVisitor;

        impl Visitor<'_> for TimestampVisitor {
            type Value = Timestamp;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("unix seconds or an RFC 3339 timestamp")
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Timestamp, E> {
                Timestamp::from_unix_seconds(v).ok_or_else(|| E::custom("timestamp out of range"))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Timestamp, E> {
                self.visit_f64(v as f64)
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Timestamp, E> {
                self.visit_f64(v as f64)
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Timestamp, E> {
                if let Ok(seconds) = v.parse::<f64>() {
                    return self.visit_f64(seconds);
                }
                Timestamp::parse_rfc3339(v).ok_or_else(|| E::custom("invalid timestamp"))
            }
        }

        deserializer.deserialize_any(TimestampVisitor)
    }
}

/// A list that SDKs send bare (`[...]`), wrapped (`{"values": [...]}`) or, for
/// `exception`, as a single object. It is written wrapped.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Values<T> {
    /// The entries, in the order the SDK sent them.
    pub values: Vec<T>,
    /// Fields beside `values`.
    #[serde(flatten)]
    pub other: Other,
}

impl<T> Default for Values<T> {
    fn default() -> Self {
        Self {
            values: Vec::new(),
            other: Other::new(),
        }
    }
}

impl<T> Values<T> {
    /// Wraps a list.
    pub fn new(values: Vec<T>) -> Self {
        Self {
            values,
            other: Other::new(),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Values<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Wrapped<T> {
            values: Option<Vec<T>>,
            #[serde(flatten)]
            other: Other,
        }

        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Shape<T> {
            List(Vec<T>),
            Wrapped(Wrapped<T>),
            Single(T),
        }

        let value = serde_json::Value::deserialize(deserializer)?;
        let is_wrapped = value
            .as_object()
            .is_some_and(|map| map.contains_key("values"));
        let shape = if is_wrapped {
            Wrapped::deserialize(value).map(Shape::Wrapped)
        } else if value.is_array() {
            Vec::deserialize(value).map(Shape::List)
        } else if value.is_null() {
            return Ok(Self::default());
        } else {
            T::deserialize(value).map(Shape::Single)
        };
        Ok(match shape.map_err(de::Error::custom)? {
            Shape::List(values) => Self::new(values),
            Shape::Wrapped(wrapped) => Self {
                values: wrapped.values.unwrap_or_default(),
                other: wrapped.other,
            },
            Shape::Single(single) => Self::new(vec![single]),
        })
    }
}

/// Event tags, read from an object or a list of `[key, value]` pairs and
/// written as pairs, in the order given. Non-string values become strings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tags(pub Vec<(String, String)>);

impl Tags {
    /// Returns the value of a tag.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Sets a tag, replacing an earlier value.
    pub fn set(&mut self, key: &str, value: String) {
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = value,
            None => self.0.push((key.to_owned(), value)),
        }
    }
}

fn tag_text(value: serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::Null => None,
        serde_json::Value::String(text) => Some(text),
        other => Some(other.to_string()),
    }
}

impl Serialize for Tags {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            seq.serialize_element(&[key, value])?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for Tags {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TagsVisitor;

        impl<'de> Visitor<'de> for TagsVisitor {
            type Value = Tags;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object or a list of [key, value] pairs")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tags, A::Error> {
                let mut tags = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, serde_json::Value>()? {
                    if let Some(value) = tag_text(value) {
                        tags.push((key, value));
                    }
                }
                Ok(Tags(tags))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Tags, A::Error> {
                let mut tags = Vec::new();
                while let Some(pair) = seq.next_element::<Vec<serde_json::Value>>()? {
                    let mut pair = pair.into_iter();
                    let (Some(key), Some(value)) = (pair.next(), pair.next()) else {
                        continue;
                    };
                    if let (Some(key), Some(value)) = (tag_text(key), tag_text(value)) {
                        tags.push((key, value));
                    }
                }
                Ok(Tags(tags))
            }

            fn visit_unit<E: de::Error>(self) -> Result<Tags, E> {
                Ok(Tags::default())
            }
        }

        deserializer.deserialize_any(TagsVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_move_a_timestamp_within_its_range() {
        let at = Timestamp::from_unix_micros(5_000_000).unwrap();
        let second = std::time::Duration::from_secs(1);
        assert_eq!(at.checked_add(second).unwrap().as_unix_micros(), 6_000_000);
        assert_eq!(at.checked_sub(second).unwrap().as_unix_micros(), 4_000_000);
        assert_eq!(at.checked_add(std::time::Duration::MAX), None);
        assert_eq!(
            at.checked_sub(std::time::Duration::from_secs(u64::MAX / 2_000_000)),
            None
        );
    }

    #[test]
    fn timestamp_reads_float_and_rfc3339() {
        let float: Timestamp = serde_json::from_str("1764000000.5").unwrap();
        let text: Timestamp = serde_json::from_str("\"2025-11-24T16:00:00.500Z\"").unwrap();
        assert_eq!(float, text);
        let nanos: Timestamp =
            serde_json::from_str("\"2025-11-24T16:00:00.500000001+00:00\"").unwrap();
        assert_eq!(nanos.as_unix_seconds(), 1764000000.5);
        let naive: Timestamp = serde_json::from_str("\"2025-11-24T16:00:00\"").unwrap();
        assert_eq!(naive.as_unix_seconds(), 1764000000.0);
        assert!(serde_json::from_str::<Timestamp>("\"yesterday\"").is_err());
    }

    #[test]
    fn values_reads_three_shapes() {
        let list: Values<u32> = serde_json::from_str("[1,2]").unwrap();
        let wrapped: Values<u32> = serde_json::from_str(r#"{"values":[1,2]}"#).unwrap();
        let single: Values<u32> = serde_json::from_str("1").unwrap();
        assert_eq!(list, wrapped);
        assert_eq!(single.values, vec![1]);
        assert_eq!(serde_json::to_string(&list).unwrap(), r#"{"values":[1,2]}"#);
    }

    #[test]
    fn tags_read_object_and_pairs() {
        let object: Tags = serde_json::from_str(r#"{"a":"1","b":2,"c":null}"#).unwrap();
        let pairs: Tags = serde_json::from_str(r#"[["a","1"],["b","2"]]"#).unwrap();
        assert_eq!(object, pairs);
        assert_eq!(object.get("b"), Some("2"));
        assert_eq!(
            serde_json::to_string(&object).unwrap(),
            r#"[["a","1"],["b","2"]]"#
        );
    }
}
