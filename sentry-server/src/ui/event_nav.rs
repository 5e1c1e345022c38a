//! Moving between an issue's events, newest first as the web API lists
//! them: the older neighbour is the next entry of the listing; the newer
//! one is found in windows after the event that grow until one holds it.

use sentry_core::protocol::Timestamp;
use sentry_core::store::{EventCursor, EventFilter, EventStore, Issue, StoredEvent};

use crate::error::ApiError;
use crate::state::AppState;

/// Events read per page while looking for the newer neighbour.
const PAGE: u64 = 100;
/// Pages read at most per window; past them the newer link is left out
/// rather than the page being slow.
const MAX_PAGES: usize = 20;
/// The first window after the event, in microseconds.
const FIRST_WINDOW_MICROS: i64 = 1_000_000;

/// The event listed after this one (older), if any.
///
/// # Errors
///
/// Fails when the event store fails.
pub async fn older_event(
    state: &AppState,
    issue: &Issue,
    event: &StoredEvent,
) -> Result<Option<StoredEvent>, ApiError> {
    // The cursor alone says "older", but as an OR of two conditions that
    // SQLite cannot seek with; the end bound (the same events) lets the
    // engines start their index scan at the event instead of the newest.
    let filter = EventFilter {
        end: Timestamp::from_unix_micros(event.timestamp.as_unix_micros().saturating_add(1)),
        ..EventFilter::issue(issue.project_id, issue.id)
    };
    let page = state
        .events
        .list_events(&filter, Some(EventCursor::after(event)), 1)
        .await?;
    Ok(page.items.into_iter().next())
}

/// Whether `a` is listed before `b` (newer, or as new with a greater id).
fn listed_before(a: &StoredEvent, b: &StoredEvent) -> bool {
    (a.timestamp, a.event_id) > (b.timestamp, b.event_id)
}

/// The event listed just before this one (newer), if any.
///
/// # Errors
///
/// Fails when the event store fails.
pub async fn newer_event(
    state: &AppState,
    issue: &Issue,
    event: &StoredEvent,
) -> Result<Option<StoredEvent>, ApiError> {
    let start = event.timestamp.as_unix_micros();
    let last = issue.last_seen.as_unix_micros().max(start);
    let mut window = FIRST_WINDOW_MICROS;
    loop {
        let end = start.saturating_add(window);
        let filter = EventFilter {
            start: Some(event.timestamp),
            // The end is exclusive; past the issue's last event, take all.
            end: if end > last {
                None
            } else {
                Timestamp::from_unix_micros(end)
            },
            ..EventFilter::issue(issue.project_id, issue.id)
        };
        let whole_rest = filter.end.is_none();
        let mut after = None;
        let mut nearest: Option<StoredEvent> = None;
        let mut pages = 0;
        'scan: loop {
            let page = state.events.list_events(&filter, after, PAGE).await?;
            for candidate in page.items {
                if !listed_before(&candidate, event) {
                    // The listing reached the event: the last newer one is its neighbour.
                    if nearest.is_some() || whole_rest {
                        return Ok(nearest);
                    }
                    break 'scan;
                }
                after = Some(EventCursor::after(&candidate));
                nearest = Some(candidate);
            }
            if !page.has_more {
                if nearest.is_some() || whole_rest {
                    return Ok(nearest);
                }
                break 'scan;
            }
            pages += 1;
            if pages >= MAX_PAGES {
                // Too many events this close: leave the link out rather than be slow.
                return Ok(None);
            }
        }
        window = window.saturating_mul(8);
    }
}
