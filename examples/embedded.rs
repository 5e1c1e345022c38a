//! Embeds the libraries without HTTP: parses an envelope, normalizes and
//! groups its event, stores it in SQLite and lists the issues.
//!
//! Run with `cargo run -p examples --example embedded`.

use anyhow::Context as _;
use bytes::Bytes;
use sentry_core::envelope::ItemType;
use sentry_core::grouping::{GroupingConfig, prepare_and_group};
use sentry_core::normalize::{NormalizeConfig, normalize};
use sentry_core::protocol::Timestamp;
use sentry_core::store::{EventStore, IssueEvent, IssueQuery, MetadataStore, StoredEvent};
use sentry_core::{Envelope, Event, EventId};

const ENVELOPE: &[u8] = include_bytes!("../fixtures/envelopes/envelope-error-7k.bin");

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("example.sqlite").display());
    let metadata = sentry_store::open_metadata(&url).await?;
    let events = sentry_store::open_events(&url).await?;
    let org = metadata.ensure_organization("example").await?;
    let project = metadata.ensure_project(org.id, "backend").await?;

    let envelope = Envelope::parse(Bytes::from_static(ENVELOPE))?;
    let item = envelope
        .item(&ItemType::Event)
        .context("the envelope has no event")?;
    let mut event: Event = serde_json::from_slice(&item.payload)?;
    let received = Timestamp::now();
    normalize(
        &mut event,
        &NormalizeConfig {
            envelope_event_id: envelope.headers.event_id,
            ..NormalizeConfig::new(received)
        },
    );
    let config = GroupingConfig::default();
    let grouping = prepare_and_group(&mut event, &config);
    let event_id = *event.event_id.get_or_insert_with(EventId::new_random);
    let issue = metadata
        .record_issue_event(&IssueEvent::new(
            project.id, event_id, &event, &grouping, received,
        ))
        .await?
        .issue;
    let stored = StoredEvent::new(project.id, issue.id, &event, &grouping, received)?;
    events.insert_events(&[stored]).await?;
    println!("{}", grouping.explain());

    let page = metadata
        .list_issues(&IssueQuery {
            project_ids: vec![project.id],
            limit: 10,
            ..IssueQuery::default()
        })
        .await?;
    for issue in page.items {
        println!(
            "#{} {} ({}) seen {} time(s)",
            issue.id, issue.title, issue.culprit, issue.times_seen
        );
    }
    Ok(())
}
