//! What the worker does with each item of a spooled request, gathered
//! into a [`Batch`] that is stored in a few calls at its end.
//!
//! | item | becomes |
//! | --- | --- |
//! | `event` (and a bare `/store/` event) | an event filed under its issue |
//! | `attachment` | a blob and an attachment record of the request's event |
//! | `session`, `sessions` | release health counts |
//! | `user_report`, `feedback` | user feedback, linked to its event's issue |
//! | `check_in` | a check-in of a cron monitor, created from its config |
//! | `client_report` | `client_discard` outcomes |
//! | `transaction`, `log`, `span`, `trace_metric`, `profile`, `profile_chunk`, replays | kept as they came when `[ingest] store_items` names the type, else dropped, counted as `filtered` (`feature_disabled`) |
//! | anything else | skipped |
//!
//! Every item that is counted in a data category meets one outcome:
//! accepted once stored, or invalid, filtered or a duplicate (not counted).

use std::collections::{HashMap, HashSet};

use bytes::Bytes;
use sentry_core::envelope::{Item, ItemType};
use sentry_core::grouping;
use sentry_core::items::{self, ItemError, check_in, client_report, feedback, sessions};
use sentry_core::minidump_upload;
use sentry_core::normalize::{NormalizeConfig, normalize};
use sentry_core::protocol::Timestamp;
use sentry_core::store::{
    Attachment, AttachmentId, AttachmentStore, BlobChecksum, BlobStore, CheckIn, CheckInStatus,
    CheckInUpdate, EVENT_ATTACHMENT, EVENT_MINIDUMP, EventStore, IssueEvent, MetadataStore,
    MonitorSettings, MonitorStatus, Outcome, PutBlobError, RawItem, RawItemStore, SessionCount,
    SessionStore, StoreErrorKind, StoredEvent, UserReport, UserReportStore,
};
use sentry_core::{CheckInId, Envelope, Event, EventId, IssueId, ProjectId};

use super::client::{self, ClientIp};
use super::worker::retry;
use crate::alerts::IssueSignal;
use crate::monitors::failure::{self, Failure};
use crate::monitors::schedule::MonitorConfig;
use crate::spool::{Kind, Spooled, Submission};
use crate::state::AppState;

/// Bytes of an attachment handed to the blob store at a time.
const BLOB_CHUNK: usize = 1024 * 1024;

/// An event normalized, scrubbed and grouped, waiting to be filed.
struct PreparedEvent {
    project_id: ProjectId,
    event_id: EventId,
    event: Event,
    grouping: grouping::Grouping,
    received: Timestamp,
}

/// The items of a batch of requests, ready to store.
#[derive(Default)]
pub struct Batch {
    /// Events prepared, not yet filed under their issues.
    prepared: Vec<PreparedEvent>,
    events: Vec<StoredEvent>,
    /// The events filed under their issues, whose filing records the
    /// metadata store keeps until the events are stored.
    filed: Vec<(ProjectId, EventId)>,
    event_ids: HashSet<(ProjectId, EventId)>,
    /// The issue of each event of the batch, for its feedback.
    issues: HashMap<(ProjectId, EventId), IssueId>,
    attachments: Vec<Attachment>,
    reports: Vec<UserReport>,
    sessions: Vec<SessionCount>,
    /// Accepted session items, per project.
    session_items: HashMap<ProjectId, u64>,
    /// Items kept as they came, with their category and record count.
    raw_items: Vec<(&'static str, u64, RawItem)>,
    /// What each event did to its issue, for the alert rules.
    signals: Vec<IssueSignal>,
}

impl Batch {
    /// Handles the items of one spooled request.
    pub async fn add_request(&mut self, state: &AppState, spooled: &Spooled) {
        let submission = &spooled.submission;
        match submission.kind {
            Kind::Event => {
                let config = event_config(submission, None);
                self.add_event(
                    state,
                    submission.project_id,
                    &submission.payload,
                    config,
                    None,
                )
                .await;
            }
            Kind::Envelope => match Envelope::parse(submission.payload.clone()) {
                Ok(envelope) => {
                    let minidump = envelope.items.iter().find(|item| {
                        item.headers.ty == ItemType::Attachment
                            && item.headers.attachment_type.as_deref() == Some(EVENT_MINIDUMP)
                    });
                    for (index, item) in envelope.items.iter().enumerate() {
                        let request = Request {
                            spooled,
                            envelope: &envelope,
                            index,
                            minidump: minidump.map(|item| &item.payload),
                        };
                        self.add_item(state, &request, item).await;
                    }
                    // A crash reported by its minidump alone: the event is
                    // the placeholder the minidump endpoint makes.
                    if let Some(minidump) = minidump
                        && envelope.item(&ItemType::Event).is_none()
                    {
                        let config = event_config(submission, Some(&envelope));
                        let placeholder = minidump_upload::event_from_fields(&[])
                            .map(|event| event.to_string())
                            .unwrap_or_default();
                        self.add_event(
                            state,
                            submission.project_id,
                            placeholder.as_bytes(),
                            config,
                            Some(minidump.payload.clone()),
                        )
                        .await;
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "dropping a spooled envelope that does not parse");
                }
            },
        }
    }

    async fn add_item(&mut self, state: &AppState, request: &Request<'_>, item: &Item) {
        let project_id = request.spooled.submission.project_id;
        let received = request.spooled.submission.received;
        let ty = &item.headers.ty;
        let Some(category) = items::data_category(ty) else {
            if *ty == ItemType::ClientReport {
                match client_report::outcomes(project_id, &item.payload, received) {
                    Ok(counts) => state.outcomes.add(counts),
                    Err(error) => tracing::debug!(%error, "dropping a client report"),
                }
            }
            return;
        };
        let invalid = |error: ItemError| {
            tracing::debug!(%error, %project_id, "dropping an invalid item");
            state
                .outcomes
                .record(project_id, category, Outcome::Invalid, error.reason(), 1);
        };
        match ty {
            ItemType::Event => {
                let config = event_config(&request.spooled.submission, Some(request.envelope));
                let minidump = request.minidump.cloned();
                self.add_event(state, project_id, &item.payload, config, minidump)
                    .await;
            }
            ItemType::Attachment => self.add_attachment(state, request, item).await,
            ItemType::Session | ItemType::Sessions => {
                let counts = if *ty == ItemType::Session {
                    sessions::from_update(project_id, &item.payload, received)
                } else {
                    sessions::from_aggregates(project_id, &item.payload, received)
                };
                match counts {
                    Ok(counts) => {
                        self.sessions.extend(counts);
                        *self.session_items.entry(project_id).or_default() += 1;
                    }
                    Err(error) => invalid(error),
                }
            }
            ItemType::UserReport | ItemType::Feedback => {
                let report = if *ty == ItemType::UserReport {
                    feedback::from_user_report(project_id, &item.payload, received)
                } else {
                    feedback::from_feedback(
                        project_id,
                        &item.payload,
                        request.envelope.headers.event_id,
                        received,
                    )
                };
                match report {
                    Ok(report) => self.reports.push(report),
                    Err(error) => invalid(error),
                }
            }
            ItemType::CheckIn => match check_in::read(&item.payload) {
                Ok(report) => {
                    let new_id = request.check_in_id();
                    record_check_in(state, project_id, report, received, new_id).await;
                }
                Err(error) => invalid(error),
            },
            _ => {
                let quantity = items::quantity(item);
                if state.store_items.contains(ty) {
                    self.raw_items.push((
                        category,
                        quantity,
                        RawItem {
                            project_id,
                            item_type: ty.as_str().to_owned(),
                            received,
                            headers: serde_json::to_string(&item.headers).unwrap_or_default(),
                            payload: item.payload.to_vec(),
                        },
                    ));
                } else {
                    state.outcomes.record(
                        project_id,
                        category,
                        Outcome::Filtered,
                        "feature_disabled",
                        quantity,
                    );
                }
            }
        }
    }

    /// Normalizes, scrubs, symbolicates (with its minidump, if it came
    /// with one) and groups an event, and keeps it for the end of the
    /// batch, unless the batch already has its id.
    async fn add_event(
        &mut self,
        state: &AppState,
        project_id: ProjectId,
        payload: &[u8],
        config: NormalizeConfig,
        minidump: Option<Bytes>,
    ) {
        let mut event = match serde_json::from_slice::<Event>(payload) {
            Ok(event) => event,
            Err(error) => {
                tracing::warn!(%error, %project_id, "dropping an event that does not deserialize");
                state
                    .outcomes
                    .record(project_id, "error", Outcome::Invalid, "invalid_json", 1);
                return;
            }
        };
        normalize(&mut event, &config);
        let event_id = event.event_id.unwrap_or_else(EventId::new_random);
        event.event_id = Some(event_id);
        if !self.event_ids.insert((project_id, event_id)) {
            return;
        }
        let scrubber = retry("read the scrubbing settings", || {
            state.scrubbing.for_project(&state.metadata, project_id)
        })
        .await;
        scrubber.scrub(&mut event);
        crate::symbolication::symbolicate(state, project_id, &mut event, minidump).await;
        let grouping_config = retry("read the grouping config", || {
            state.grouping.for_project(&state.metadata, project_id)
        })
        .await;
        let grouping = grouping::prepare_and_group(&mut event, &grouping_config);
        if let Some(main) = grouping.main_exception_id {
            event
                .other
                .insert("main_exception_id".to_owned(), main.into());
        }
        self.prepared.push(PreparedEvent {
            project_id,
            event_id,
            event,
            grouping,
            received: config.received,
        });
    }

    /// Files the batch's prepared events under their issues, but those
    /// whose project already has their id (processed before a crash, or
    /// sent twice): one lookup per project for the whole batch.
    async fn file_events(&mut self, state: &AppState) {
        let prepared = std::mem::take(&mut self.prepared);
        let mut by_project: HashMap<ProjectId, Vec<EventId>> = HashMap::new();
        for event in &prepared {
            by_project
                .entry(event.project_id)
                .or_default()
                .push(event.event_id);
        }
        let mut stored: HashSet<(ProjectId, EventId)> = HashSet::new();
        for (project_id, ids) in &by_project {
            let found = retry("look up events", || {
                state.events.stored_event_ids(*project_id, ids)
            })
            .await;
            stored.extend(found.into_iter().map(|id| (*project_id, id)));
        }
        for prepared in prepared {
            if !stored.contains(&(prepared.project_id, prepared.event_id)) {
                self.file_event(state, prepared).await;
            }
        }
    }

    /// Files one event under its issue and adds it to the events to store.
    async fn file_event(&mut self, state: &AppState, prepared: PreparedEvent) {
        let PreparedEvent {
            project_id,
            event_id,
            event,
            grouping,
            received,
        } = prepared;
        let issue_event = IssueEvent::new(project_id, event_id, &event, &grouping, received);
        // A project deleted after its events were spooled takes them along.
        let filed_issue = retry("file an event", || async {
            match state.metadata.record_issue_event(&issue_event).await {
                Err(error) if error.kind() == StoreErrorKind::Conflict => Ok(None),
                result => result.map(Some),
            }
        })
        .await;
        let Some(filed) = filed_issue else {
            tracing::warn!(%event_id, %project_id, "dropping an event of a deleted project");
            state
                .outcomes
                .record(project_id, "error", Outcome::Invalid, "project_id", 1);
            return;
        };
        self.filed.push((project_id, event_id));
        let issue_id = filed.issue.id;
        match StoredEvent::new(project_id, issue_id, &event, &grouping, received) {
            Ok(stored) => {
                self.issues.insert((project_id, event_id), issue_id);
                self.events.push(stored);
                self.signals.push(IssueSignal {
                    issue: filed.issue,
                    change: filed.change,
                    event_id,
                    environment: event.environment.clone(),
                });
            }
            Err(error) => {
                tracing::warn!(%error, %event_id, "dropping an event that does not serialize");
                state
                    .outcomes
                    .record(project_id, "error", Outcome::Invalid, "internal", 1);
            }
        }
    }

    /// Stores an attachment's content in the blob store and keeps its
    /// record for the end of the batch.
    async fn add_attachment(&mut self, state: &AppState, request: &Request<'_>, item: &Item) {
        let submission = &request.spooled.submission;
        let project_id = submission.project_id;
        let size = item.payload.len() as u64;
        let Some(event_id) = submission.event_id else {
            state.outcomes.record(
                project_id,
                "attachment",
                Outcome::Invalid,
                "no_event_id",
                size,
            );
            return;
        };
        let payload = item.payload.clone();
        let stored = retry("store an attachment", || {
            let chunks = chunks(&payload);
            async move {
                match state
                    .blobs
                    .put(futures_util::stream::iter(chunks), None)
                    .await
                {
                    Ok(stored) => Ok(stored),
                    Err(PutBlobError::Store(error)) => Err(error),
                    Err(error) => Err(sentry_core::store::StoreError::new(
                        StoreErrorKind::Unavailable,
                        error,
                    )),
                }
            }
        })
        .await;
        let headers = &item.headers;
        self.attachments.push(Attachment {
            id: request.attachment_id(&stored.digest.checksum),
            project_id,
            event_id,
            name: headers
                .filename
                .clone()
                .filter(|name| !name.is_empty())
                .unwrap_or_else(|| "attachment".to_owned()),
            content_type: headers.content_type.clone(),
            attachment_type: headers
                .attachment_type
                .clone()
                .unwrap_or_else(|| EVENT_ATTACHMENT.to_owned()),
            size,
            checksum: stored.digest.checksum,
            date_created: submission.received,
        });
    }

    /// Files the batch's events, stores what it gathered and counts it
    /// as accepted.
    pub async fn store(mut self, state: &AppState) {
        self.file_events(state).await;
        if !self.events.is_empty() {
            retry("store events", || state.events.insert_events(&self.events)).await;
            // The event store recognizes them from now on.
            retry("forget filed events", || {
                state.metadata.forget_filed_events(&self.filed)
            })
            .await;
            // One count per project, not per event: the batch may hold a thousand.
            let mut accepted: HashMap<ProjectId, u64> = HashMap::new();
            for event in &self.events {
                *accepted.entry(event.project_id).or_default() += 1;
            }
            for (project_id, quantity) in accepted {
                state
                    .outcomes
                    .record(project_id, "error", Outcome::Accepted, "", quantity);
            }
            // Feedback that came before its event.
            let links: Vec<_> = self
                .events
                .iter()
                .map(|event| (event.project_id, event.event_id, event.issue_id))
                .collect();
            retry("link user feedback", || {
                state.metadata.link_user_reports(&links)
            })
            .await;
            // Only once the events are stored, so that a message's link
            // finds them.
            state.alerts.submit(std::mem::take(&mut self.signals));
        }
        for attachment in &self.attachments {
            let inserted = retry("record an attachment", || async {
                match state.metadata.insert_attachment(attachment).await {
                    // Recorded before a crash, by the same request.
                    Err(error) if error.kind() == StoreErrorKind::Conflict => Ok(false),
                    other => other.map(|()| true),
                }
            })
            .await;
            if inserted {
                state.outcomes.record(
                    attachment.project_id,
                    "attachment",
                    Outcome::Accepted,
                    "",
                    attachment.size,
                );
            }
        }
        for report in &mut self.reports {
            report.issue_id = match report.event_id {
                Some(event_id) => issue_of(state, &self.issues, report.project_id, event_id).await,
                None => None,
            };
            retry("store user feedback", || {
                state.metadata.upsert_user_report(report)
            })
            .await;
            state.outcomes.record(
                report.project_id,
                "user_report_v2",
                Outcome::Accepted,
                "",
                1,
            );
        }
        if !self.sessions.is_empty() {
            retry("record sessions", || {
                state.metadata.record_sessions(&self.sessions)
            })
            .await;
        }
        if !self.raw_items.is_empty() {
            let items: Vec<RawItem> = self
                .raw_items
                .iter()
                .map(|(.., item)| item.clone())
                .collect();
            retry("store raw items", || {
                state.metadata.insert_raw_items(&items)
            })
            .await;
            for (category, quantity, item) in &self.raw_items {
                state
                    .outcomes
                    .record(item.project_id, category, Outcome::Accepted, "", *quantity);
            }
        }
        for (project_id, quantity) in self.session_items {
            state
                .outcomes
                .record(project_id, "session", Outcome::Accepted, "", quantity);
        }
    }
}

/// An item's place: its request and its index in the envelope.
struct Request<'a> {
    spooled: &'a Spooled,
    envelope: &'a Envelope,
    index: usize,
    /// The envelope's `event.minidump` attachment, for its event.
    minidump: Option<&'a Bytes>,
}

impl Request<'_> {
    /// An attachment id that is the same each time this item is
    /// processed: from the request's place in the spool, the item's index
    /// and its content.
    fn attachment_id(&self, checksum: &BlobChecksum) -> AttachmentId {
        let mut seed = self.item_seed();
        seed.extend_from_slice(checksum.as_bytes());
        AttachmentId::derived(&seed)
    }

    /// The id of a new check-in this item makes: the same each time this
    /// item is processed, so that a check-in recorded before a crash is
    /// not recorded twice.
    fn check_in_id(&self) -> CheckInId {
        let mut seed = self.item_seed();
        seed.extend_from_slice(b"check-in");
        CheckInId::derived(&seed)
    }

    /// The request's place in the spool and the item's index.
    fn item_seed(&self) -> Vec<u8> {
        let mut seed = Vec::with_capacity(64);
        seed.extend_from_slice(&self.spooled.next.segment.to_le_bytes());
        seed.extend_from_slice(&self.spooled.next.offset.to_le_bytes());
        seed.extend_from_slice(&(self.index as u64).to_le_bytes());
        seed
    }
}

/// How to normalize an event of a request.
fn event_config(submission: &Submission, envelope: Option<&Envelope>) -> NormalizeConfig {
    NormalizeConfig {
        // The id the client was answered with.
        envelope_event_id: submission.event_id,
        ..client::normalize_config(
            submission.received,
            envelope.map(|envelope| &envelope.headers),
            ClientIp(submission.client_ip),
        )
    }
}

/// An attachment's content in chunks, for the blob store's stream.
fn chunks(payload: &Bytes) -> Vec<Result<Bytes, std::convert::Infallible>> {
    (0..payload.len())
        .step_by(BLOB_CHUNK)
        .map(|start| Ok(payload.slice(start..(start + BLOB_CHUNK).min(payload.len()))))
        .collect()
}

/// The issue of an event: from the batch, else from the event store.
async fn issue_of(
    state: &AppState,
    batch: &HashMap<(ProjectId, EventId), IssueId>,
    project_id: ProjectId,
    event_id: EventId,
) -> Option<IssueId> {
    if let Some(issue_id) = batch.get(&(project_id, event_id)) {
        return Some(*issue_id);
    }
    retry("look up an event", || {
        state.events.event(project_id, event_id)
    })
    .await
    .map(|event| event.issue_id)
}

/// Records a check-in: creates or updates its monitor from the
/// check-in's config, then opens the check-in, or updates the one of the
/// same run. A check-in of a monitor that does not exist and comes
/// without a config is dropped.
async fn record_check_in(
    state: &AppState,
    project_id: ProjectId,
    report: check_in::CheckInReport,
    received: Timestamp,
    new_id: CheckInId,
) {
    let monitor = match &report.monitor_config {
        Some(config) => {
            let settings = MonitorSettings {
                name: report.monitor_slug.clone(),
                config: config.clone(),
                status: MonitorStatus::Active,
            };
            Some(
                retry("create a monitor", || {
                    state
                        .metadata
                        .upsert_monitor(project_id, &report.monitor_slug, &settings)
                })
                .await,
            )
        }
        None => {
            retry("find a monitor", || {
                state
                    .metadata
                    .monitor_by_slug(project_id, &report.monitor_slug)
            })
            .await
        }
    };
    let Some(monitor) = monitor else {
        state.outcomes.record(
            project_id,
            "monitor",
            Outcome::Invalid,
            "monitor_not_found",
            1,
        );
        return;
    };
    let update = CheckInUpdate {
        status: report.status,
        duration_ms: report.duration_ms,
        date_updated: received,
    };
    let check_in_id = if report.check_in_id.is_nil() {
        // The latest check-in if it is still open, else a new one. Processed
        // again after a crash, the item finds what it did the first time:
        // the check-in it made (its id), or the one it closed (updated at
        // its own receipt time to its status).
        let latest = retry("read check-ins", || {
            state.metadata.monitor_checkins(monitor.id, 1)
        })
        .await;
        latest
            .first()
            .filter(|checkin| {
                checkin.status == CheckInStatus::InProgress
                    || checkin.id == new_id
                    || (checkin.date_updated.as_unix_micros() == received.as_unix_micros()
                        && checkin.status == report.status)
            })
            .map_or(new_id, |checkin| checkin.id)
    } else {
        report.check_in_id
    };
    let updated = retry("update a check-in", || {
        state
            .metadata
            .update_checkin(monitor.id, check_in_id, &update)
    })
    .await;
    if updated.is_none() {
        let checkin = CheckIn {
            id: check_in_id,
            monitor_id: monitor.id,
            status: report.status,
            duration_ms: report.duration_ms,
            environment: report.environment.clone(),
            date_created: received,
            date_updated: received,
        };
        retry("record a check-in", || async {
            match state.metadata.insert_checkin(&checkin).await {
                // The same check-in, recorded before a crash.
                Err(error) if error.kind() == StoreErrorKind::Conflict => Ok(()),
                other => other,
            }
        })
        .await;
    }
    // The next check-in is due by the schedule, from this one.
    let next_checkin_at = match MonitorConfig::from_json(&monitor.config) {
        Ok(config) => config.next_after(received),
        Err(error) => {
            tracing::debug!(monitor = %monitor.slug, %error, "a monitor without a usable schedule");
            None
        }
    };
    retry("mark a monitor checked in", || {
        state
            .metadata
            .update_monitor_checkins(monitor.id, Some(received), next_checkin_at)
    })
    .await;
    if report.status == CheckInStatus::Error {
        failure::raise(
            state,
            &monitor,
            Failure::Error(check_in_id),
            report.environment.as_deref(),
        )
        .await;
    }
    state
        .outcomes
        .record(project_id, "monitor", Outcome::Accepted, "", 1);
}

#[cfg(test)]
mod tests {
    use sentry_core::store::MetadataStore;

    use super::*;
    use crate::config::Config;
    use crate::server::Server;
    use crate::spool::Position;

    /// A spooled envelope at a place in the spool, with the event id its
    /// client was answered with.
    fn spooled(
        project_id: ProjectId,
        payload: String,
        event_id: Option<EventId>,
        offset: u64,
    ) -> Spooled {
        Spooled {
            submission: Submission {
                kind: Kind::Envelope,
                project_id,
                received: Timestamp::now(),
                event_id,
                client_ip: None,
                payload: Bytes::from(payload),
            },
            next: Position { segment: 1, offset },
        }
    }

    /// A request processed again, as the spool replays it after a crash
    /// that came before its batch's checkpoint, records nothing twice: its
    /// event is counted once, the check-in it opened and the one it closed
    /// (neither with a `check_in_id`) are one check-in.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_request_processed_again_records_nothing_twice() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let config = Config::with_data_dir(dir.path());
        let server = Server::start(
            &config.stores,
            &config.serve,
            config.cleanup,
            "http://127.0.0.1:9000",
        )
        .await?;
        let state = server.state();
        let created = crate::init::init(&state.metadata, &state.public_url, "acme", "cron").await?;
        let project_id = ProjectId(created.project_id);
        let check_in = |status: &str| {
            format!(
                "{{}}\n{{\"type\":\"check_in\"}}\n{{\"monitor_slug\":\"nightly\",\"status\":\"{status}\",\
                 \"monitor_config\":{{\"schedule\":{{\"type\":\"crontab\",\"value\":\"0 3 * * *\"}}}}}}\n"
            )
        };
        let event = "{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\"}\n{\"type\":\"event\"}\n\
                     {\"message\":\"replayed\"}\n"
            .to_owned();
        let requests = [
            spooled(
                project_id,
                event,
                "9ec79c33ec9942ab8353589fcb2e04dc".parse().ok(),
                100,
            ),
            spooled(project_id, check_in("in_progress"), None, 200),
            spooled(project_id, check_in("ok"), None, 300),
        ];
        for request in &requests {
            // Processed, then processed again.
            for _ in 0..2 {
                let mut batch = Batch::default();
                batch.add_request(state, request).await;
                batch.store(state).await;
            }
        }
        let issues = state
            .metadata
            .list_issues(&sentry_core::store::IssueQuery {
                project_ids: vec![project_id],
                limit: 10,
                ..Default::default()
            })
            .await?;
        assert_eq!(issues.items.len(), 1);
        assert_eq!(issues.items[0].times_seen, 1, "the event is counted once");
        let monitor = state
            .metadata
            .monitor_by_slug(project_id, "nightly")
            .await?
            .ok_or_else(|| anyhow::anyhow!("no monitor"))?;
        let check_ins = state.metadata.monitor_checkins(monitor.id, 10).await?;
        assert_eq!(check_ins.len(), 1, "{check_ins:?}");
        assert_eq!(check_ins[0].status, CheckInStatus::Ok);
        server.stop().await;
        Ok(())
    }
}
