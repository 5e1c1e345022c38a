//! Behaviours of the event store.

use sentry_core::protocol::Timestamp;
use sentry_core::store::{
    EventCursor, EventFilter, EventPick, EventStore, MetadataStore, SeriesBucket, StoredEvent,
    TagFilter,
};
use sentry_core::{IssueId, ProjectId};

use super::{Stores, issue_event, project, stored_event};

/// Makes a project with an issue of its own.
async fn project_and_issue(stores: &Stores) -> (ProjectId, IssueId) {
    let (_, project_id) = project(stores).await;
    let issue = stores
        .metadata
        .record_issue_event(&issue_event(project_id, "e", 1.0, None))
        .await
        .unwrap()
        .issue;
    (project_id, issue.id)
}

fn at(seconds: f64) -> Timestamp {
    Timestamp::from_unix_seconds(seconds).unwrap()
}

fn tag(key: &str, value: &str, negated: bool) -> TagFilter {
    TagFilter {
        key: key.to_owned(),
        value: Some(value.to_owned()),
        negated,
    }
}

fn ids<'a>(events: impl IntoIterator<Item = &'a StoredEvent>) -> Vec<sentry_core::EventId> {
    events.into_iter().map(|event| event.event_id).collect()
}

pub async fn stores_events_once_and_picks_latest_and_oldest(stores: &Stores) {
    let (project_id, issue_id) = project_and_issue(stores).await;
    let events = [
        stored_event(project_id, issue_id, 20.0, &[("level", "error")]),
        stored_event(project_id, issue_id, 10.0, &[]),
        stored_event(project_id, issue_id, 30.0, &[("b", "2"), ("a", "1")]),
    ];
    assert_eq!(stores.events.insert_events(&events).await.unwrap(), 3);
    assert_eq!(
        stores.events.insert_events(&events[..1]).await.unwrap(),
        0,
        "duplicates are skipped"
    );
    for event in &events {
        let fetched = stores
            .events
            .event(project_id, event.event_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&fetched, event, "stored as given, tags in order");
    }
    assert!(
        stores
            .events
            .has_event(project_id, events[1].event_id)
            .await
            .unwrap()
    );
    let (_, other_project) = project(stores).await;
    assert_eq!(
        stores
            .events
            .event(other_project, events[0].event_id)
            .await
            .unwrap(),
        None
    );
    assert!(
        !stores
            .events
            .has_event(other_project, events[0].event_id)
            .await
            .unwrap()
    );
    // The issue was first and last seen at 1.0, before every stored event:
    // the latest lies past its last seen, the oldest past its first seen.
    let issue = stores.metadata.issue(issue_id).await.unwrap().unwrap();
    let pick = async |issue: &sentry_core::store::Issue, pick: EventPick| {
        stores
            .events
            .issue_event(issue, pick)
            .await
            .unwrap()
            .unwrap()
            .event_id
    };
    assert_eq!(pick(&issue, EventPick::Latest).await, events[2].event_id);
    assert_eq!(pick(&issue, EventPick::Oldest).await, events[1].event_id);
    // Seen again at 10 and 30 (the events stored), then at 40, whose event
    // never reached the event store: its last seen is past every event.
    for seconds in [10.0, 30.0, 40.0] {
        stores
            .metadata
            .record_issue_event(&issue_event(project_id, "e", seconds, None))
            .await
            .unwrap();
    }
    let issue = stores.metadata.issue(issue_id).await.unwrap().unwrap();
    assert_eq!(pick(&issue, EventPick::Latest).await, events[2].event_id);
    assert_eq!(pick(&issue, EventPick::Oldest).await, events[1].event_id);
    let at_bounds = sentry_core::store::Issue {
        first_seen: at(10.0),
        last_seen: at(30.0),
        ..issue
    };
    assert_eq!(
        pick(&at_bounds, EventPick::Latest).await,
        events[2].event_id
    );
    assert_eq!(
        pick(&at_bounds, EventPick::Oldest).await,
        events[1].event_id
    );
}

pub async fn skips_duplicates_within_a_batch(stores: &Stores) {
    let (project_id, issue_id) = project_and_issue(stores).await;
    let event = stored_event(project_id, issue_id, 5.0, &[("k", "v")]);
    let mut retry = event.clone();
    retry.payload = b"{\"retry\":true}".to_vec();
    let other = stored_event(project_id, issue_id, 6.0, &[]);
    let inserted = stores
        .events
        .insert_events(&[event.clone(), other.clone(), retry])
        .await
        .unwrap();
    assert_eq!(inserted, 2);
    let fetched = stores
        .events
        .event(project_id, event.event_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fetched, event, "the first copy wins");
    let counts = stores
        .events
        .count_events(&EventFilter::projects([project_id]))
        .await
        .unwrap();
    assert_eq!(counts.events, 2);
    // The same id in another project is another event.
    let (other_project, other_issue) = project_and_issue(stores).await;
    let mut elsewhere = event.clone();
    elsewhere.project_id = other_project;
    elsewhere.issue_id = other_issue;
    assert_eq!(stores.events.insert_events(&[elsewhere]).await.unwrap(), 1);
}

pub async fn finds_which_ids_of_a_batch_are_stored(stores: &Stores) {
    let (project_id, issue_id) = project_and_issue(stores).await;
    let stored: Vec<StoredEvent> = (0..3)
        .map(|n| stored_event(project_id, issue_id, f64::from(n), &[]))
        .collect();
    stores.events.insert_events(&stored).await.unwrap();
    let (other_project, other_issue) = project_and_issue(stores).await;
    let elsewhere = stored_event(other_project, other_issue, 1.0, &[]);
    stores
        .events
        .insert_events(std::slice::from_ref(&elsewhere))
        .await
        .unwrap();
    let new = sentry_core::EventId::new_random();
    let mut asked = ids(&stored);
    asked.push(new);
    asked.push(elsewhere.event_id);
    let mut found = stores
        .events
        .stored_event_ids(project_id, &asked)
        .await
        .unwrap();
    found.sort();
    let mut expected = ids(&stored);
    expected.sort();
    assert_eq!(found, expected, "only the project's stored ids");
    assert!(
        stores
            .events
            .stored_event_ids(project_id, &[])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        stores
            .events
            .has_event(project_id, stored[0].event_id)
            .await
            .unwrap()
    );
    assert!(!stores.events.has_event(project_id, new).await.unwrap());
}

pub async fn lists_events_newest_first_with_cursors(stores: &Stores) {
    let (project_id, issue_id) = project_and_issue(stores).await;
    // Two share a timestamp: the event id orders them, descending.
    let mut events: Vec<StoredEvent> = [3.0, 1.0, 2.0, 2.0, 5.0, 4.0]
        .into_iter()
        .map(|seconds| stored_event(project_id, issue_id, seconds, &[]))
        .collect();
    stores.events.insert_events(&events).await.unwrap();
    events.sort_by_key(|event| std::cmp::Reverse((event.timestamp, event.event_id)));
    let filter = EventFilter::issue(project_id, issue_id);
    let mut listed = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = stores.events.list_events(&filter, cursor, 4).await.unwrap();
        pages += 1;
        assert!(page.items.len() <= 4);
        cursor = page.items.last().map(EventCursor::after);
        listed.extend(page.items);
        if !page.has_more {
            break;
        }
    }
    assert_eq!(pages, 2);
    assert_eq!(ids(&listed), ids(&events));
    assert_eq!(listed[0], events[0], "listed events are whole");
    let empty = stores
        .events
        .list_events(&filter, Some(EventCursor::after(&events[5])), 4)
        .await
        .unwrap();
    assert!(empty.items.is_empty() && !empty.has_more);
}

pub async fn filters_events_by_issue_time_and_tags(stores: &Stores) {
    let (project_id, first_issue) = project_and_issue(stores).await;
    let second_issue = stores
        .metadata
        .record_issue_event(&issue_event(project_id, "other", 1.0, None))
        .await
        .unwrap()
        .issue
        .id;
    let a = stored_event(
        project_id,
        first_issue,
        10.0,
        &[("environment", "prod"), ("browser", "Chrome")],
    );
    let b = stored_event(project_id, first_issue, 20.0, &[("environment", "dev")]);
    let c = stored_event(project_id, second_issue, 30.0, &[("environment", "prod")]);
    let d = stored_event(project_id, second_issue, 40.0, &[]);
    stores
        .events
        .insert_events(&[a.clone(), b.clone(), c.clone(), d.clone()])
        .await
        .unwrap();
    let list = |filter: EventFilter| async move {
        ids(&stores
            .events
            .list_events(&filter, None, 100)
            .await
            .unwrap()
            .items)
    };
    let all = EventFilter::projects([project_id]);
    assert_eq!(list(all.clone()).await, ids([&d, &c, &b, &a]));
    assert_eq!(
        list(EventFilter::issue(project_id, second_issue)).await,
        ids([&d, &c])
    );
    assert_eq!(
        list(EventFilter {
            issue_ids: vec![first_issue, second_issue],
            ..all.clone()
        })
        .await
        .len(),
        4
    );
    assert_eq!(
        list(EventFilter {
            start: Some(at(20.0)),
            end: Some(at(40.0)),
            ..all.clone()
        })
        .await,
        ids([&c, &b]),
        "start is inclusive, end exclusive"
    );
    assert_eq!(
        list(EventFilter {
            tags: vec![tag("environment", "prod", false)],
            ..all.clone()
        })
        .await,
        ids([&c, &a])
    );
    assert_eq!(
        list(EventFilter {
            tags: vec![tag("environment", "prod", true)],
            ..all.clone()
        })
        .await,
        ids([&d, &b]),
        "a negated tag also matches events without the tag"
    );
    assert_eq!(
        list(EventFilter {
            tags: vec![
                tag("environment", "prod", false),
                tag("browser", "Chrome", false)
            ],
            ..all.clone()
        })
        .await,
        ids([&a]),
        "all tag conditions hold at once"
    );
    assert_eq!(
        list(EventFilter {
            tags: vec![
                tag("environment", "prod", false),
                tag("browser", "Chrome", true)
            ],
            ..all.clone()
        })
        .await,
        ids([&c])
    );
    assert!(
        list(EventFilter {
            tags: vec![tag("environment", "Prod", false)],
            ..all.clone()
        })
        .await
        .is_empty(),
        "values match exactly"
    );
    let present = |key: &str, negated| TagFilter {
        key: key.to_owned(),
        value: None,
        negated,
    };
    assert_eq!(
        list(EventFilter {
            tags: vec![present("environment", false)],
            ..all.clone()
        })
        .await,
        ids([&c, &b, &a]),
        "a condition without a value matches any value"
    );
    assert_eq!(
        list(EventFilter {
            tags: vec![present("environment", true)],
            ..all.clone()
        })
        .await,
        ids([&d]),
        "negated, it matches events without the tag"
    );
    let (other_project, _) = project_and_issue(stores).await;
    assert!(
        list(EventFilter::projects([other_project]))
            .await
            .is_empty(),
        "projects never share events"
    );
    assert_eq!(
        list(EventFilter::projects([other_project, project_id]))
            .await
            .len(),
        4
    );
}

pub async fn counts_events_users_and_issues(stores: &Stores) {
    let (project_id, first_issue) = project_and_issue(stores).await;
    let second_issue = stores
        .metadata
        .record_issue_event(&issue_event(project_id, "other", 1.0, None))
        .await
        .unwrap()
        .issue
        .id;
    let events = [
        stored_event(project_id, first_issue, 10.0, &[("user", "id:1")]),
        stored_event(project_id, first_issue, 11.0, &[("user", "id:1")]),
        stored_event(project_id, first_issue, 12.0, &[("user", "id:2")]),
        stored_event(project_id, first_issue, 13.0, &[]),
        stored_event(project_id, second_issue, 50.0, &[("user", "id:1")]),
    ];
    stores.events.insert_events(&events).await.unwrap();
    let counts = stores
        .events
        .count_events(&EventFilter::projects([project_id]))
        .await
        .unwrap();
    assert_eq!(counts.events, 5);
    assert_eq!(counts.users, 2);
    assert_eq!(counts.first_seen, Some(at(10.0)));
    assert_eq!(counts.last_seen, Some(at(50.0)));
    let mut by_issue = stores
        .events
        .count_by_issue(&EventFilter::projects([project_id]))
        .await
        .unwrap();
    by_issue.sort_by_key(|counts| counts.issue_id);
    let mut expected = vec![
        (first_issue, 4, 2, 10.0, 13.0),
        (second_issue, 1, 1, 50.0, 50.0),
    ];
    expected.sort_by_key(|row| row.0);
    let got: Vec<_> = by_issue
        .iter()
        .map(|row| {
            (
                row.issue_id,
                row.counts.events,
                row.counts.users,
                row.counts.first_seen.unwrap().as_unix_seconds(),
                row.counts.last_seen.unwrap().as_unix_seconds(),
            )
        })
        .collect();
    assert_eq!(got, expected);
    let filtered = stores
        .events
        .count_by_issue(&EventFilter {
            tags: vec![tag("user", "id:2", false)],
            ..EventFilter::projects([project_id])
        })
        .await
        .unwrap();
    assert_eq!(filtered.len(), 1);
    assert_eq!(filtered[0].issue_id, first_issue);
    assert_eq!(filtered[0].counts.events, 1);
    let (empty_project, _) = project_and_issue(stores).await;
    let none = stores
        .events
        .count_events(&EventFilter::projects([empty_project]))
        .await
        .unwrap();
    assert_eq!(none.events, 0);
    assert_eq!(none.first_seen, None);
}

pub async fn buckets_events_into_a_series(stores: &Stores) {
    let (project_id, issue_id) = project_and_issue(stores).await;
    let hour = 3600.0;
    let base = 1_700_000_000.0 - 1_700_000_000.0 % hour;
    let events: Vec<StoredEvent> = [0.0, 10.0, hour - 0.5, hour, 3.0 * hour + 1.0]
        .into_iter()
        .map(|offset| stored_event(project_id, issue_id, base + offset, &[]))
        .collect();
    stores.events.insert_events(&events).await.unwrap();
    let series = stores
        .events
        .event_series(&EventFilter::issue(project_id, issue_id), 3600)
        .await
        .unwrap();
    assert_eq!(
        series,
        vec![
            SeriesBucket {
                start: at(base),
                events: 3
            },
            SeriesBucket {
                start: at(base + hour),
                events: 1
            },
            SeriesBucket {
                start: at(base + 3.0 * hour),
                events: 1
            },
        ]
    );
    let daily = stores
        .events
        .event_series(&EventFilter::issue(project_id, issue_id), 86_400)
        .await
        .unwrap();
    assert_eq!(daily.iter().map(|bucket| bucket.events).sum::<u64>(), 5);
    assert!(
        daily
            .iter()
            .all(|bucket| bucket.start.as_unix_micros() % 86_400_000_000 == 0)
    );
}

pub async fn ranks_tag_facets(stores: &Stores) {
    let (project_id, issue_id) = project_and_issue(stores).await;
    let events = [
        stored_event(
            project_id,
            issue_id,
            1.0,
            &[("browser", "Chrome"), ("os", "Linux")],
        ),
        stored_event(
            project_id,
            issue_id,
            2.0,
            &[("browser", "Chrome"), ("os", "Mac")],
        ),
        stored_event(
            project_id,
            issue_id,
            3.0,
            &[("browser", "Firefox"), ("os", "Linux")],
        ),
        stored_event(
            project_id,
            issue_id,
            4.0,
            &[("browser", "Safari"), ("os", "Linux")],
        ),
        stored_event(project_id, issue_id, 5.0, &[("browser", "Chrome")]),
        stored_event(project_id, issue_id, 6.0, &[("rare", "x")]),
    ];
    stores.events.insert_events(&events).await.unwrap();
    let filter = EventFilter::issue(project_id, issue_id);
    let facets = stores.events.tag_facets(&filter, &[], 2).await.unwrap();
    let keys: Vec<&str> = facets.iter().map(|facet| facet.key.as_str()).collect();
    assert_eq!(keys, ["browser", "os", "rare"], "by total, then key");
    let browser = &facets[0];
    assert_eq!((browser.total, browser.distinct), (5, 3));
    let top: Vec<(&str, u64)> = browser
        .top
        .iter()
        .map(|value| (value.value.as_str(), value.count))
        .collect();
    assert_eq!(top, [("Chrome", 3), ("Firefox", 1)], "by count, then value");
    assert_eq!(browser.top[0].first_seen, at(1.0));
    assert_eq!(browser.top[0].last_seen, at(5.0));
    let os = &facets[1];
    assert_eq!((os.total, os.distinct), (4, 2));
    let only = stores
        .events
        .tag_facets(&filter, &["os".to_owned(), "missing".to_owned()], 10)
        .await
        .unwrap();
    assert_eq!(only.len(), 1);
    assert_eq!(only[0].key, "os");
    assert_eq!(only[0].top.len(), 2);
    let narrowed = stores
        .events
        .tag_facets(
            &EventFilter {
                tags: vec![tag("os", "Linux", false)],
                ..filter.clone()
            },
            &["browser".to_owned()],
            10,
        )
        .await
        .unwrap();
    assert_eq!(narrowed[0].total, 3);
    assert_eq!(narrowed[0].distinct, 3);
}

pub async fn keeps_hostile_strings_intact(stores: &Stores) {
    let (project_id, issue_id) = project_and_issue(stores).await;
    let hostile = [
        "it's",
        "say \"hi\"",
        "back\\slash",
        "\\N",
        "\\",
        "'; DROP TABLE events; --",
        "100%_done",
        "tab\there",
        "line\nbreak",
        "ünïcødé 🦀 中文",
        "{\"json\": [1, 2]}",
        "",
    ];
    let long = "x".repeat(5000);
    let events: Vec<StoredEvent> = hostile
        .iter()
        .chain([&long.as_str()])
        .enumerate()
        .map(|(index, value)| {
            let value: &str = value;
            let mut event = stored_event(project_id, issue_id, index as f64, &[(value, value)]);
            event.grouping_config = value.to_owned();
            event.payload = (0..=255u8).chain(value.bytes()).collect();
            event
        })
        .collect();
    assert_eq!(
        stores.events.insert_events(&events).await.unwrap(),
        events.len() as u64
    );
    for event in &events {
        let fetched = stores
            .events
            .event(project_id, event.event_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&fetched, event);
        let (key, value) = &event.tags[0];
        let matched = stores
            .events
            .list_events(
                &EventFilter {
                    tags: vec![tag(key, value, false)],
                    ..EventFilter::projects([project_id])
                },
                None,
                10,
            )
            .await
            .unwrap();
        assert_eq!(ids(&matched.items), ids([event]), "{key:?}");
    }
    let facets = stores
        .events
        .tag_facets(&EventFilter::projects([project_id]), &[], 1)
        .await
        .unwrap();
    assert_eq!(facets.len(), events.len());
}

pub async fn deletes_events_before_a_time(stores: &Stores) {
    let (project_id, issue_id) = project_and_issue(stores).await;
    let (other_project, other_issue) = project_and_issue(stores).await;
    let day = 86_400.0;
    let now = 1_750_000_000.0;
    let events: Vec<StoredEvent> = [now - 100.0 * day, now - 91.0 * day, now - 89.0 * day, now]
        .into_iter()
        .map(|seconds| stored_event(project_id, issue_id, seconds, &[("k", "v")]))
        .collect();
    let others: Vec<StoredEvent> = [now - 100.0 * day, now]
        .into_iter()
        .map(|seconds| stored_event(other_project, other_issue, seconds, &[("k", "v")]))
        .collect();
    stores.events.insert_events(&events).await.unwrap();
    stores.events.insert_events(&others).await.unwrap();
    let deleted = stores
        .events
        .delete_events_before(project_id, at(now - 90.0 * day))
        .await
        .unwrap();
    assert_eq!(deleted, 2);
    let left = stores
        .events
        .list_events(&EventFilter::projects([project_id]), None, 10)
        .await
        .unwrap();
    assert_eq!(ids(&left.items), ids([&events[3], &events[2]]));
    assert!(
        !stores
            .events
            .has_event(project_id, events[0].event_id)
            .await
            .unwrap()
    );
    let facets = stores
        .events
        .tag_facets(&EventFilter::projects([project_id]), &[], 10)
        .await
        .unwrap();
    assert_eq!(facets[0].total, 2, "the tags of deleted events go too");
    let untouched = stores
        .events
        .count_events(&EventFilter::projects([other_project]))
        .await
        .unwrap();
    assert_eq!(untouched.events, 2, "other projects keep their events");
    assert_eq!(
        stores
            .events
            .delete_events_before(project_id, at(now - 90.0 * day))
            .await
            .unwrap(),
        0
    );
}

pub async fn trims_to_the_newest_events(stores: &Stores) {
    let (project_id, issue_id) = project_and_issue(stores).await;
    let (other_project, other_issue) = project_and_issue(stores).await;
    let events: Vec<StoredEvent> = (0..10)
        .map(|index| stored_event(project_id, issue_id, f64::from(index), &[("n", "v")]))
        .collect();
    stores.events.insert_events(&events).await.unwrap();
    stores
        .events
        .insert_events(&[stored_event(other_project, other_issue, 0.0, &[])])
        .await
        .unwrap();
    assert_eq!(stores.events.trim_events(project_id, 4).await.unwrap(), 6);
    let left = stores
        .events
        .list_events(&EventFilter::projects([project_id]), None, 100)
        .await
        .unwrap();
    let mut newest: Vec<StoredEvent> = events[6..].to_vec();
    newest.reverse();
    assert_eq!(ids(&left.items), ids(&newest));
    assert_eq!(stores.events.trim_events(project_id, 4).await.unwrap(), 0);
    assert_eq!(
        stores
            .events
            .count_events(&EventFilter::projects([other_project]))
            .await
            .unwrap()
            .events,
        1
    );
}
