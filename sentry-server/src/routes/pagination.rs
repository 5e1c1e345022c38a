//! Sentry's pagination: a `Link` header with `previous` and `next` URLs,
//! each carrying a `cursor` parameter and whether it has `results`.

use axum::http::HeaderMap;
use axum::http::header::LINK;
use sentry_core::EventId;
use sentry_core::protocol::Timestamp;
use sentry_core::store::{EventCursor, StoredEvent};

use crate::error::ApiError;

/// Sentry's `value:offset:is_prev` cursor, of which the offset is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetCursor {
    /// How many entries come before the page.
    pub offset: u64,
}

impl OffsetCursor {
    /// Reads a cursor; empty means the first page.
    ///
    /// # Errors
    ///
    /// 400 for a cursor that is not `value:offset[:is_prev]`.
    pub fn parse(text: &str) -> Result<Self, ApiError> {
        if text.is_empty() {
            return Ok(Self { offset: 0 });
        }
        let mut parts = text.split(':');
        let (Some(_value), Some(offset)) = (parts.next(), parts.next()) else {
            return Err(ApiError::bad_request("invalid cursor"));
        };
        let offset = offset
            .parse()
            .map_err(|_| ApiError::bad_request("invalid cursor"))?;
        Ok(Self { offset })
    }
}

/// The page of an offset-paginated listing a request asks for: its
/// `cursor` and `limit` (or `per_page`) parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetPage {
    /// Where the page starts.
    pub cursor: OffsetCursor,
    /// How many entries it has at most.
    pub limit: u64,
}

impl OffsetPage {
    /// Reads `cursor` and `limit` from a request's parameters; `limit` is
    /// clamped to `1..=max`.
    ///
    /// # Errors
    ///
    /// 400 for a bad cursor or a limit that is not a number.
    pub fn from_params(
        params: &[(String, String)],
        default_limit: u64,
        max_limit: u64,
    ) -> Result<Self, ApiError> {
        let param = |name: &str| {
            params
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.as_str())
        };
        let limit = match param("limit").or(param("per_page")) {
            Some(text) => text
                .parse::<u64>()
                .map_err(|_| ApiError::bad_request("limit must be a number"))?
                .clamp(1, max_limit),
            None => default_limit,
        };
        let cursor = OffsetCursor::parse(param("cursor").unwrap_or_default())?;
        Ok(Self { cursor, limit })
    }

    /// The `Link` header of this page, given whether more entries follow.
    pub fn links(&self, base: &str, params: &[(String, String)], has_more: bool) -> HeaderMap {
        let offset = self.cursor.offset;
        let previous = format!("0:{}:1", offset.saturating_sub(self.limit));
        let next = format!("0:{}:0", offset.saturating_add(self.limit));
        link_header(base, params, (&previous, offset > 0), (&next, has_more))
    }

    /// Cuts this page out of a whole listing; returns it and whether more follow.
    pub fn slice<T>(&self, items: Vec<T>) -> (Vec<T>, bool) {
        let start = usize::try_from(self.cursor.offset).unwrap_or(usize::MAX);
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        let has_more = items.len() > start.saturating_add(limit);
        let page = items.into_iter().skip(start).take(limit).collect();
        (page, has_more)
    }
}

/// Reads the cursor of an event listing, `MICROS:EVENT_ID:0` (the event
/// the previous page ended with); empty means the first page.
///
/// # Errors
///
/// 400 for anything else.
pub fn parse_event_cursor(text: &str) -> Result<Option<EventCursor>, ApiError> {
    if text.is_empty() {
        return Ok(None);
    }
    let invalid = || ApiError::bad_request("invalid cursor");
    let mut parts = text.split(':');
    let micros: i64 = parts
        .next()
        .and_then(|micros| micros.parse().ok())
        .ok_or_else(invalid)?;
    let event_id: EventId = parts
        .next()
        .and_then(|id| id.parse().ok())
        .ok_or_else(invalid)?;
    Ok(Some(EventCursor {
        timestamp: Timestamp::from_unix_micros(micros).ok_or_else(invalid)?,
        event_id,
    }))
}

/// The cursor of the page after an event.
pub fn event_cursor_after(event: &StoredEvent) -> String {
    time_id_cursor(event.timestamp, event.event_id)
}

/// The cursor of the page after an entry ordered by time, then id, that
/// [`parse_event_cursor`] reads back.
pub fn time_id_cursor(time: Timestamp, id: EventId) -> String {
    format!("{}:{}:0", time.as_unix_micros(), id.as_uuid().simple())
}

/// Builds the `Link` header: the request's parameters with `cursor`
/// replaced, for `(cursor, has results)` of the previous and next page.
pub fn link_header(
    base: &str,
    params: &[(String, String)],
    previous: (&str, bool),
    next: (&str, bool),
) -> HeaderMap {
    let link = |(cursor, results): (&str, bool), rel: &str| {
        let mut pairs: Vec<(&str, &str)> = params
            .iter()
            .filter(|(name, _)| name != "cursor")
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        pairs.push(("cursor", cursor));
        let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        format!("<{base}?{query}>; rel=\"{rel}\"; results=\"{results}\"; cursor=\"{cursor}\"")
    };
    let mut headers = HeaderMap::new();
    let value = format!("{}, {}", link(previous, "previous"), link(next, "next"));
    if let Ok(value) = value.parse() {
        headers.insert(LINK, value);
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_header_has_both_cursors() {
        let params = vec![
            ("query".to_owned(), "is:resolved".to_owned()),
            ("cursor".to_owned(), "0:25:0".to_owned()),
        ];
        let headers = link_header(
            "http://h/api/0/projects/o/p/issues/",
            &params,
            ("0:0:1", true),
            ("0:50:0", false),
        );
        assert_eq!(
            headers.get(LINK).unwrap().to_str().unwrap(),
            "<http://h/api/0/projects/o/p/issues/?query=is%3Aresolved&cursor=0%3A0%3A1>; rel=\"previous\"; results=\"true\"; cursor=\"0:0:1\", \
             <http://h/api/0/projects/o/p/issues/?query=is%3Aresolved&cursor=0%3A50%3A0>; rel=\"next\"; results=\"false\"; cursor=\"0:50:0\""
        );
    }

    #[test]
    fn offset_cursor_reads_offset() {
        assert_eq!(OffsetCursor::parse("0:50:0").unwrap().offset, 50);
        assert_eq!(OffsetCursor::parse("").unwrap().offset, 0);
        assert!(OffsetCursor::parse("x").is_err());
    }

    #[test]
    fn offset_pages_slice_and_link() {
        let params = vec![("cursor".to_owned(), "0:2:0".to_owned())];
        let page = OffsetPage::from_params(&params, 2, 100).unwrap();
        assert_eq!(page.slice(vec![1, 2, 3, 4, 5]), (vec![3, 4], true));
        assert_eq!(page.slice(vec![1, 2, 3, 4]), (vec![3, 4], false));
        let links = page.links("http://h/x/", &params, false);
        let value = links.get(LINK).unwrap().to_str().unwrap();
        assert!(value.contains("cursor=\"0:0:1\""), "{value}");
        assert!(value.contains("rel=\"next\"; results=\"false\""), "{value}");
        let big = vec![("limit".to_owned(), "5000".to_owned())];
        assert_eq!(OffsetPage::from_params(&big, 2, 100).unwrap().limit, 100);
        let bad = vec![("limit".to_owned(), "x".to_owned())];
        assert!(OffsetPage::from_params(&bad, 2, 100).is_err());
    }

    #[test]
    fn event_cursors_round_trip_and_bad_ones_are_refused() {
        let event_id = EventId::new_random();
        let text = format!("1700000000123456:{}:0", event_id.as_uuid().simple());
        let cursor = parse_event_cursor(&text).unwrap().unwrap();
        assert_eq!(cursor.timestamp.as_unix_micros(), 1_700_000_000_123_456);
        assert_eq!(cursor.event_id, event_id);
        assert_eq!(parse_event_cursor("").unwrap(), None);
        for bad in ["x", "12", "12:nothex:0", "0:1:0"] {
            assert!(parse_event_cursor(bad).is_err(), "{bad}");
        }
    }
}
