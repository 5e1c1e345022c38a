//! Issues: filing events under them, reading and listing them.
//!
//! [`record`] stays exact when many tasks and processes file events with
//! the same hashes at once. In one `READ COMMITTED` transaction it looks the
//! hashes up; if one names an issue, an `UPDATE` (which locks the issue row,
//! so concurrent updates queue up) bumps its counters in place. If none
//! does, it reserves an issue id and claims every hash for it with
//! `INSERT ... ON CONFLICT DO NOTHING` inside a savepoint: the unique key of
//! `issue_hashes` makes a second claimer wait for the first to commit and
//! then find nothing to insert, so it rolls back to the savepoint and looks
//! again, now seeing the winner's issue. Hashes are always inserted in
//! sorted order so that two writers never wait on each other in a cycle.
//!
//! The same transaction records the filing under the event's id; an event
//! filed again finds that record first and counts nothing. Two writers
//! filing one event at once (an SDK's retry that reached another node)
//! meet on the record's key: the second waits for the first to commit,
//! inserts nothing, rolls back and looks again.

use deadpool_postgres::{GenericClient, Object, Transaction};
use sentry_core::protocol::{Level, Timestamp};
use sentry_core::store::{
    FiledEvent, Issue, IssueChange, IssueEvent, IssueQuery, IssueSort, IssueStatus,
    IssueStatusChange, IssueSubstatus, Page, StatusDetails, status_after_event,
};
use sentry_core::{EventId, IssueId, ProjectId};
use tokio_postgres::{IsolationLevel, Row};

use super::error::PgError;
use super::metadata::{project_key, required_project_key, timestamp, unsigned};
use super::sql;

/// The columns [`issue_row`] reads, in its order.
macro_rules! issue_columns {
    () => {
        "id, project_id, short_number, title, culprit, level, type, metadata, status, \
         first_seen, last_seen, times_seen, user_count, grouping_config, platform, substatus, \
         ignore_until, ignore_until_times_seen, ignore_until_user_count, resolved_in_release"
    };
}

const SELECT_ISSUE: &str = concat!("SELECT ", issue_columns!(), " FROM issues WHERE id = $1");

/// The first of the hashes, in their order, that names an issue.
const FIND_ISSUE: &str = "SELECT known.issue_id \
     FROM unnest($2::text[]) WITH ORDINALITY AS wanted (hash, position) \
     JOIN issue_hashes AS known ON known.project_id = $1 AND known.hash = wanted.hash \
     ORDER BY wanted.position LIMIT 1";

/// Files hashes under an issue unless they name one already; in sorted order.
const ATTACH_HASHES: &str = "INSERT INTO issue_hashes (project_id, hash, issue_id) \
     SELECT $1::bigint, hash, $3::bigint FROM unnest($2::text[]) AS hash ORDER BY hash \
     ON CONFLICT DO NOTHING";

const NEXT_ISSUE_ID: &str = "SELECT nextval(pg_get_serial_sequence('issues', 'id'))";

/// Counts an event; title, culprit, level and metadata follow the latest event.
const UPDATE_ISSUE: &str = "UPDATE issues SET times_seen = times_seen + 1, \
     first_seen = LEAST(first_seen, $2), \
     last_seen = GREATEST(last_seen, $2), \
     level = CASE WHEN $2 >= last_seen THEN $3 ELSE level END, \
     culprit = CASE WHEN $2 >= last_seen THEN $4 ELSE culprit END, \
     title = CASE WHEN $2 >= last_seen THEN $5 ELSE title END, \
     metadata = CASE WHEN $2 >= last_seen THEN $6 ELSE metadata END \
     WHERE id = $1";

/// Creates an issue with the project's next short number.
const INSERT_ISSUE: &str = "WITH number AS ( \
         UPDATE projects SET next_short_number = next_short_number + 1 WHERE id = $2 \
         RETURNING next_short_number - 1 AS short_number) \
     INSERT INTO issues (id, project_id, short_number, title, culprit, level, type, metadata, \
         status, first_seen, last_seen, times_seen, user_count, grouping_config, platform) \
     SELECT $1::bigint, $2::bigint, short_number, $3::text, $4::text, $5::text, $6::text, \
         $7::text, 'unresolved', $8::bigint, $8::bigint, 1, 0, $9::text, $10::text FROM number";

/// Counts a user once per issue.
const ADD_USER: &str = "WITH added AS ( \
         INSERT INTO issue_users (issue_id, \"user\") VALUES ($1, $2) \
         ON CONFLICT DO NOTHING RETURNING issue_id) \
     UPDATE issues SET user_count = user_count + 1 WHERE id IN (SELECT issue_id FROM added)";

const SET_STATUS: &str = concat!(
    "UPDATE issues SET status = $2, substatus = $3, ignore_until = $4, \
     ignore_until_times_seen = $5, ignore_until_user_count = $6, resolved_in_release = $7 \
     WHERE id = $1 RETURNING ",
    issue_columns!()
);

/// Unresolves the issues ignored until a time at or before `$1`.
const UNIGNORE_EXPIRED: &str = "UPDATE issues SET status = 'unresolved', substatus = 'escalating', \
     ignore_until = NULL, ignore_until_times_seen = NULL, ignore_until_user_count = NULL \
     WHERE ignore_until <= $1 AND status = 'ignored'";

/// Issues of some projects, optionally of one status, whose title or
/// culprit contains every pattern, in some ranges; sorted by a column
/// (filled in from [`sort_column`], never from input).
const LIST_ISSUES: &str = concat!(
    "SELECT ",
    issue_columns!(),
    r" FROM issues
     WHERE project_id = ANY($1)
       AND ($2::text IS NULL OR status = $2::text)
       AND NOT EXISTS (
         SELECT 1 FROM unnest($3::text[]) AS pattern
         WHERE NOT (title ILIKE pattern ESCAPE E'\\' OR culprit ILIKE pattern ESCAPE E'\\'))
       AND ($6::bigint[] IS NULL OR id = ANY($6::bigint[]))
       AND ($7::bigint IS NULL OR first_seen >= $7)
       AND ($8::bigint IS NULL OR first_seen <= $8)
       AND ($9::bigint IS NULL OR last_seen >= $9)
       AND ($10::bigint IS NULL OR last_seen <= $10)
       AND ($11::bigint IS NULL OR times_seen >= $11)
       AND ($12::bigint IS NULL OR times_seen <= $12)
     ORDER BY {column} DESC, id DESC LIMIT $4 OFFSET $5"
);

/// The column an order sorts by.
fn sort_column(sort: IssueSort) -> &'static str {
    match sort {
        IssueSort::LastSeen => "last_seen",
        IssueSort::FirstSeen => "first_seen",
        IssueSort::TimesSeen => "times_seen",
        IssueSort::UserCount => "user_count",
    }
}

/// How often a transaction that hit a serialization failure or deadlock is run again.
const TRANSACTION_ATTEMPTS: usize = 3;
/// How often a new issue's hashes are claimed before giving up; the second
/// attempt always finds the winner's issue, more are for safety.
const CLAIM_ATTEMPTS: usize = 3;

fn issue_row(row: &Row) -> Result<Issue, PgError> {
    let level: String = row.try_get(5)?;
    let metadata: String = row.try_get(7)?;
    let status: String = row.try_get(8)?;
    let substatus: Option<String> = row.try_get(15)?;
    let substatus = substatus
        .map(|text| IssueSubstatus::parse(&text).ok_or_else(|| invalid("substatus", text.clone())))
        .transpose()?;
    let ignore_until: Option<i64> = row.try_get(16)?;
    let count = |column: &'static str, value: Option<i64>| {
        value.map(|value| unsigned(column, value)).transpose()
    };
    Ok(Issue {
        id: IssueId(row.try_get(0)?),
        project_id: ProjectId(unsigned("project_id", row.try_get(1)?)?),
        short_number: unsigned("short_number", row.try_get(2)?)?,
        title: row.try_get(3)?,
        culprit: row.try_get(4)?,
        level: Level::parse(&level).ok_or_else(|| invalid("level", level.clone()))?,
        ty: row.try_get(6)?,
        metadata: serde_json::from_str(&metadata).map_err(|_| invalid("metadata", metadata))?,
        status: IssueStatus::parse(&status).ok_or_else(|| invalid("status", status.clone()))?,
        substatus,
        status_details: StatusDetails {
            ignore_until: ignore_until
                .map(|micros| timestamp("ignore_until", micros))
                .transpose()?,
            ignore_until_times_seen: count("ignore_until_times_seen", row.try_get(17)?)?,
            ignore_until_user_count: count("ignore_until_user_count", row.try_get(18)?)?,
            resolved_in_release: row.try_get(19)?,
        },
        first_seen: timestamp("first_seen", row.try_get(9)?)?,
        last_seen: timestamp("last_seen", row.try_get(10)?)?,
        times_seen: unsigned("times_seen", row.try_get(11)?)?,
        user_count: unsigned("user_count", row.try_get(12)?)?,
        grouping_config: row.try_get(13)?,
        platform: row.try_get(14)?,
    })
}

fn invalid(column: &'static str, value: String) -> PgError {
    PgError::Value { column, value }
}

/// Returns an issue by id.
pub(super) async fn select<C: GenericClient>(
    client: &C,
    id: i64,
) -> Result<Option<Issue>, PgError> {
    let row = sql::query_opt(client, SELECT_ISSUE, &[&id]).await?;
    row.as_ref().map(issue_row).transpose()
}

/// Sets the status of an issue, its reason and end conditions; returns
/// it, or `None` if missing.
pub(super) async fn set_status<C: GenericClient>(
    client: &C,
    id: i64,
    change: &IssueStatusChange,
) -> Result<Option<Issue>, PgError> {
    let details = &change.details;
    let count = |value: Option<u64>| value.map(crate::records::signed);
    let row = sql::query_opt(
        client,
        SET_STATUS,
        &[
            &id,
            &change.status.as_str(),
            &change.substatus.map(|substatus| substatus.as_str()),
            &details.ignore_until.map(|until| until.as_unix_micros()),
            &count(details.ignore_until_times_seen),
            &count(details.ignore_until_user_count),
            &details.resolved_in_release,
        ],
    )
    .await?;
    row.as_ref().map(issue_row).transpose()
}

/// Records that an event was filed, unless another writer did.
const RECORD_FILING: &str = "INSERT INTO filed_events (project_id, event_id, issue_id, change) \
     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";

/// Unresolves the issues ignored until a time at or before `now`.
pub(super) async fn unignore_expired<C: GenericClient>(
    client: &C,
    now: Timestamp,
) -> Result<u64, PgError> {
    sql::execute(client, UNIGNORE_EXPIRED, &[&now.as_unix_micros()]).await
}

/// Deletes issues, their hashes, users, user reports and filing records,
/// in one transaction.
pub(super) async fn delete(client: &mut Object, ids: &[IssueId]) -> Result<u64, PgError> {
    let ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
    let transaction = client.transaction().await?;
    for statement in [
        "DELETE FROM issue_hashes WHERE issue_id = ANY($1)",
        "DELETE FROM issue_users WHERE issue_id = ANY($1)",
        "DELETE FROM user_reports WHERE issue_id = ANY($1)",
        "DELETE FROM filed_events WHERE issue_id = ANY($1)",
    ] {
        sql::execute(&transaction, statement, &[&ids]).await?;
    }
    let deleted = sql::execute(
        &transaction,
        "DELETE FROM issues WHERE id = ANY($1)",
        &[&ids],
    )
    .await?;
    transaction.commit().await?;
    Ok(deleted)
}

/// Lists the issues that match a query, in its order.
pub(super) async fn list<C: GenericClient>(
    client: &C,
    query: &IssueQuery,
) -> Result<Page<Issue>, PgError> {
    // Ids beyond i64 name no project, so they select nothing.
    let project_ids: Vec<i64> = query
        .project_ids
        .iter()
        .filter_map(|id| project_key(*id))
        .collect();
    if project_ids.is_empty() {
        return Ok(Page {
            items: Vec::new(),
            has_more: false,
        });
    }
    let status = query.status.map(|status| status.as_str());
    let patterns: Vec<String> = query
        .text
        .iter()
        .map(|word| crate::text_search::contains_pattern(word))
        .collect();
    let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
    let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
    let ids: Option<Vec<i64>> = query
        .ids
        .as_ref()
        .map(|ids| ids.iter().map(|id| id.0).collect());
    let micros = |time: Option<Timestamp>| time.map(|time| time.as_unix_micros());
    let count = |value: Option<u64>| value.map(crate::records::signed);
    let statement = LIST_ISSUES.replace("{column}", sort_column(query.sort));
    let rows = sql::query(
        client,
        &statement,
        &[
            &project_ids,
            &status,
            &patterns,
            &limit.saturating_add(1),
            &offset,
            &ids,
            &micros(query.first_seen.start),
            &micros(query.first_seen.end),
            &micros(query.last_seen.start),
            &micros(query.last_seen.end),
            &count(query.times_seen.min),
            &count(query.times_seen.max),
        ],
    )
    .await?;
    let items = rows.iter().map(issue_row).collect::<Result<Vec<_>, _>>()?;
    Ok(crate::records::page(items, query.limit))
}

/// An event to file, in the form the statements take.
struct Filing<'a> {
    event: &'a IssueEvent,
    project_id: i64,
    event_id: &'a [u8],
    metadata: String,
    /// The event's hashes in order, each once.
    hashes: Vec<&'a str>,
}

impl<'a> Filing<'a> {
    fn new(event: &'a IssueEvent) -> Result<Self, PgError> {
        let mut hashes: Vec<&str> = Vec::with_capacity(event.hashes.len());
        for hash in &event.hashes {
            if !hashes.contains(&hash.as_str()) {
                hashes.push(hash.as_str());
            }
        }
        Ok(Self {
            event,
            project_id: required_project_key(event.project_id)?,
            event_id: &event.event_id.as_bytes()[..],
            metadata: serde_json::to_string(&event.metadata)?,
            hashes,
        })
    }
}

/// Files an event under its issue, creating the issue if needed, in one
/// transaction; runs it again after a serialization failure or deadlock.
pub(super) async fn record(client: &mut Object, event: &IssueEvent) -> Result<FiledEvent, PgError> {
    let filing = Filing::new(event)?;
    let mut attempt = 1;
    loop {
        match record_once(client, &filing).await {
            Ok(Some(filed)) => return Ok(filed),
            Ok(None) if attempt < TRANSACTION_ATTEMPTS => {
                tracing::debug!(attempt, "event filed by another writer meanwhile");
                attempt += 1;
            }
            Ok(None) => return Err(PgError::Contended(attempt)),
            Err(error) if error.is_transient() && attempt < TRANSACTION_ATTEMPTS => {
                tracing::debug!(attempt, %error, "retrying issue transaction");
                attempt += 1;
            }
            Err(error) => return Err(error),
        }
    }
}

/// Returns the filing of an event filed before and not forgotten since,
/// with its issue as it is now; `None` if there is none, or if its issue
/// was deleted since (the record is dropped and the event filed anew).
async fn filed_before(
    transaction: &Transaction<'_>,
    filing: &Filing<'_>,
) -> Result<Option<FiledEvent>, PgError> {
    let Some(row) = sql::query_opt(
        transaction,
        "SELECT issue_id, change FROM filed_events WHERE project_id = $1 AND event_id = $2",
        &[&filing.project_id, &filing.event_id],
    )
    .await?
    else {
        return Ok(None);
    };
    let issue_id: i64 = row.try_get(0)?;
    let change: String = row.try_get(1)?;
    let change = IssueChange::parse(&change).ok_or_else(|| invalid("change", change))?;
    match select(transaction, issue_id).await? {
        Some(issue) => Ok(Some(FiledEvent { issue, change })),
        None => {
            sql::execute(
                transaction,
                "DELETE FROM filed_events WHERE project_id = $1 AND event_id = $2",
                &[&filing.project_id, &filing.event_id],
            )
            .await?;
            Ok(None)
        }
    }
}

/// Files an event in one transaction; `None` when another writer filed
/// it meanwhile.
async fn record_once(
    client: &mut Object,
    filing: &Filing<'_>,
) -> Result<Option<FiledEvent>, PgError> {
    let mut transaction = client
        .build_transaction()
        .isolation_level(IsolationLevel::ReadCommitted)
        .start()
        .await?;
    if let Some(filed) = filed_before(&transaction, filing).await? {
        transaction.commit().await?;
        return Ok(Some(filed));
    }
    let (issue_id, created) = file(&mut transaction, filing).await?;
    if let Some(user) = &filing.event.user {
        sql::execute(&transaction, ADD_USER, &[&issue_id, user]).await?;
    }
    let mut issue = select(&transaction, issue_id)
        .await?
        .ok_or(PgError::Vanished("issue"))?;
    let event = filing.event;
    let change = status_after_event(&issue, event.received, event.release.as_deref());
    if let Some(change) = &change {
        issue = set_status(&transaction, issue_id, change)
            .await?
            .ok_or(PgError::Vanished("issue"))?;
    }
    let filed = FiledEvent::new(issue, created, change.as_ref());
    let params: sql::Params<'_> = &[
        &filing.project_id,
        &filing.event_id,
        &issue_id,
        &filed.change.as_str(),
    ];
    if sql::execute(&transaction, RECORD_FILING, params).await? == 0 {
        transaction.rollback().await?;
        return Ok(None);
    }
    transaction.commit().await?;
    Ok(Some(filed))
}

/// Forgets the filing records of events kept in the event store.
pub(super) async fn forget_filed<C: GenericClient>(
    client: &C,
    events: &[(ProjectId, EventId)],
) -> Result<(), PgError> {
    let mut projects = Vec::with_capacity(events.len());
    let mut ids = Vec::with_capacity(events.len());
    for (project_id, event_id) in events {
        if let Some(project_id) = project_key(*project_id) {
            projects.push(project_id);
            ids.push(event_id.as_bytes().to_vec());
        }
    }
    if projects.is_empty() {
        return Ok(());
    }
    sql::execute(
        client,
        "DELETE FROM filed_events WHERE (project_id, event_id) IN \
         (SELECT * FROM unnest($1::bigint[], $2::bytea[]))",
        &[&projects, &ids],
    )
    .await?;
    Ok(())
}

/// Counts the event on the issue its hashes name, or on a new issue;
/// returns the issue's id and whether it is new.
async fn file(
    transaction: &mut Transaction<'_>,
    filing: &Filing<'_>,
) -> Result<(i64, bool), PgError> {
    for _ in 0..CLAIM_ATTEMPTS {
        if let Some(issue_id) = find(transaction, filing).await? {
            update(transaction, issue_id, filing).await?;
            return Ok((issue_id, false));
        }
        if let Some(issue_id) = claim(transaction, filing).await? {
            insert(transaction, issue_id, filing).await?;
            return Ok((issue_id, true));
        }
    }
    Err(PgError::Contended(CLAIM_ATTEMPTS))
}

async fn find(transaction: &Transaction<'_>, filing: &Filing<'_>) -> Result<Option<i64>, PgError> {
    let row = sql::query_opt(
        transaction,
        FIND_ISSUE,
        &[&filing.project_id, &filing.hashes],
    )
    .await?;
    Ok(row.map(|row| row.try_get(0)).transpose()?)
}

/// Counts the event on an existing issue and attaches its other hashes.
async fn update(
    transaction: &Transaction<'_>,
    issue_id: i64,
    filing: &Filing<'_>,
) -> Result<(), PgError> {
    let event = filing.event;
    let updated = sql::execute(
        transaction,
        UPDATE_ISSUE,
        &[
            &issue_id,
            &event.timestamp.as_unix_micros(),
            &event.level.as_str(),
            &event.culprit,
            &event.title,
            &filing.metadata,
        ],
    )
    .await?;
    if updated == 0 {
        return Err(PgError::MissingIssue(issue_id));
    }
    if filing.hashes.len() > 1 {
        let params: sql::Params<'_> = &[&filing.project_id, &filing.hashes, &issue_id];
        sql::execute(transaction, ATTACH_HASHES, params).await?;
    }
    Ok(())
}

/// Reserves an issue id and files all the hashes under it; returns `None`,
/// having undone the claim, when another writer got one of them first.
async fn claim(
    transaction: &mut Transaction<'_>,
    filing: &Filing<'_>,
) -> Result<Option<i64>, PgError> {
    let issue_id: i64 = sql::query_one(&*transaction, NEXT_ISSUE_ID, &[])
        .await?
        .try_get(0)?;
    let savepoint = transaction.savepoint("claim_hashes").await?;
    let params: sql::Params<'_> = &[&filing.project_id, &filing.hashes, &issue_id];
    let claimed = sql::execute(&savepoint, ATTACH_HASHES, params).await?;
    if usize::try_from(claimed).is_ok_and(|claimed| claimed == filing.hashes.len()) {
        savepoint.commit().await?;
        Ok(Some(issue_id))
    } else {
        savepoint.rollback().await?;
        Ok(None)
    }
}

/// Creates the issue whose hashes were just claimed.
async fn insert(
    transaction: &Transaction<'_>,
    issue_id: i64,
    filing: &Filing<'_>,
) -> Result<(), PgError> {
    let event = filing.event;
    let seen = event.timestamp.as_unix_micros();
    let inserted = sql::execute(
        transaction,
        INSERT_ISSUE,
        &[
            &issue_id,
            &filing.project_id,
            &event.title,
            &event.culprit,
            &event.level.as_str(),
            &event.ty,
            &filing.metadata,
            &seen,
            &event.grouping_config,
            &event.platform,
        ],
    )
    .await?;
    if inserted == 0 {
        return Err(PgError::MissingProject(filing.project_id));
    }
    Ok(())
}
