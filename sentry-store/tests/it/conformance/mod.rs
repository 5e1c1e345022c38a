//! One suite of storage behaviours, written once and run on every backend:
//! [`suite!`] turns each behaviour into a test per backend, so a failure
//! names both. Each behaviour makes its own organization and project, so
//! tests share a database (Postgres, ClickHouse) and run in parallel.

mod alert_rules;
mod artifacts;
mod attachments;
mod blobs;
mod concurrency;
mod events;
mod locations;
mod metadata;
mod monitors;
mod outcomes;
mod quotas;
mod raw_items;
mod releases;
mod sessions;
mod teams;
mod triage;
mod user_reports;
mod users;

use sentry_core::protocol::{Level, Timestamp};
use sentry_core::store::{IssueEvent, MetadataStore, StoredEvent};
use sentry_core::summary::EventMetadata;
use sentry_core::{EventId, GroupingHash, IssueId, OrgId, ProjectId};
use sentry_store::{AnyEventStore, AnyMetadataStore, open_events, open_metadata};
use tempfile::TempDir;

/// A metadata store and an event store, and the folder of their files.
pub struct Stores {
    pub metadata: AnyMetadataStore,
    pub events: AnyEventStore,
    _dir: Option<TempDir>,
}

impl Stores {
    async fn open(metadata_url: &str, events_url: &str, dir: Option<TempDir>) -> Self {
        Self {
            metadata: open_metadata(metadata_url).await.unwrap(),
            events: open_events(events_url).await.unwrap(),
            _dir: dir,
        }
    }
}

/// SQLite in memory for both.
async fn sqlite_memory() -> Stores {
    Stores::open("sqlite::memory:", "sqlite::memory:", None).await
}

/// SQLite files for both.
async fn sqlite_files() -> Stores {
    let dir = tempfile::tempdir().unwrap();
    let metadata = format!("sqlite://{}", dir.path().join("metadata.sqlite").display());
    let events = format!("sqlite://{}", dir.path().join("events.sqlite").display());
    Stores::open(&metadata, &events, Some(dir)).await
}

/// The embedded default: SQLite metadata and DuckDB events, in files.
#[cfg(feature = "duckdb")]
async fn embedded() -> Stores {
    let dir = tempfile::tempdir().unwrap();
    let metadata = format!("sqlite://{}", dir.path().join("metadata.sqlite").display());
    let events = format!("duckdb://{}", dir.path().join("events.duckdb").display());
    Stores::open(&metadata, &events, Some(dir)).await
}

/// The scale-out pair: Postgres metadata and ClickHouse events.
#[cfg(all(feature = "postgres", feature = "clickhouse"))]
async fn scale_out() -> Stores {
    Stores::open(&postgres_url(), &clickhouse_url(), None).await
}

/// Postgres metadata with SQLite events, when ClickHouse is not compiled in.
#[cfg(all(feature = "postgres", not(feature = "clickhouse")))]
async fn postgres() -> Stores {
    Stores::open(&postgres_url(), "sqlite::memory:", None).await
}

#[cfg(any(feature = "postgres", feature = "clickhouse"))]
fn service_url(variable: &str, service: &str) -> String {
    std::env::var(variable).unwrap_or_else(|_| {
        panic!(
            "{variable} is not set; run the tests through scripts/test-services, \
             e.g. `scripts/test-services -- cargo test -p sentry-store --all-features`, \
             which starts a throwaway {service} server and sets it"
        )
    })
}

#[cfg(feature = "postgres")]
fn postgres_url() -> String {
    service_url("TEST_POSTGRES_URL", "PostgreSQL")
}

#[cfg(feature = "clickhouse")]
fn clickhouse_url() -> String {
    service_url("TEST_CLICKHOUSE_URL", "ClickHouse")
}

/// Declares, for a backend, one test per behaviour of the suite.
macro_rules! suite {
    ($backend:ident, $open:ident) => {
        mod $backend {
            suite!(@cases $open;
                artifacts::upload_chunks_are_kept_per_organization,
                artifacts::artifacts_are_found_by_debug_id,
                artifacts::artifacts_are_found_by_release_and_url,
                artifacts::a_bundle_uploaded_again_is_kept_once,
                artifacts::chunks_and_bundles_reference_their_blobs,
                artifacts::debug_files_are_found_by_debug_id_best_first,
                attachments::attachments_are_listed_by_event_and_found_by_id,
                attachments::deletes_attachments_created_before_a_time,
                attachments::reports_which_blobs_attachments_reference,
                metadata::ensure_is_idempotent,
                metadata::same_hash_joins_existing_issue,
                metadata::counts_distinct_users,
                metadata::projects_never_share_issues,
                metadata::lists_issues_by_last_seen_with_pages,
                metadata::filters_by_status_and_text,
                metadata::new_event_reopens_resolved_issue,
                metadata::keys_and_tokens_are_found,
                metadata::secondary_hashes_find_the_issue,
                metadata::project_options_are_kept,
                metadata::restricts_the_list_to_given_issues,
                metadata::filing_an_event_again_counts_nothing,
                metadata::an_event_filed_under_a_deleted_issue_is_filed_anew,
                metadata::periodic_jobs_run_once_per_interval,
                triage::a_resolved_issue_regresses_on_a_new_event,
                triage::resolved_in_next_release_keeps_events_of_the_current_one,
                triage::ignore_until_a_count_ends_at_the_count,
                triage::ignore_until_a_user_count_ends_at_the_count,
                triage::ignore_for_a_while_ends_by_event_or_by_time,
                triage::deleted_issues_are_gone_and_their_hashes_free,
                triage::issues_sort_by_each_order,
                triage::issues_filter_by_seen_times_and_counts,
                triage::projects_are_renamed_and_slugs_stay_unique,
                triage::a_deleted_project_takes_its_records_along,
                teams::team_slugs_are_unique_per_organization,
                teams::projects_belong_to_teams,
                users::emails_are_unique_whatever_their_case,
                users::passwords_and_logins_are_recorded,
                users::members_have_roles,
                users::sessions_open_expire_and_close,
                releases::releases_are_listed_newest_first_and_filtered,
                releases::ensuring_a_release_links_projects_once,
                releases::deploys_are_listed_and_deleted_with_their_release,
                releases::environments_are_recorded_once,
                monitors::monitors_are_upserted_by_slug,
                monitors::checkins_open_and_close,
                monitors::active_monitors_come_due,
                monitors::runs_in_progress_are_listed_for_active_monitors,
                monitors::deleting_a_monitor_deletes_its_checkins,
                outcomes::outcome_counts_add_up_per_hour,
                outcomes::old_outcome_counts_are_deleted,
                raw_items::raw_items_are_kept_by_project_and_type,
                quotas::quota_counters_add_up_per_window,
                quotas::concurrent_consumers_each_see_a_distinct_total,
                quotas::old_quota_windows_are_deleted,
                sessions::session_subjects_count_once_and_aggregates_add_up,
                sessions::session_totals_group_and_filter_by_release_and_environment,
                sessions::old_session_counts_are_deleted,
                user_reports::user_reports_are_listed_newest_first_in_pages,
                user_reports::a_second_report_with_the_same_id_replaces_the_first,
                user_reports::old_user_reports_are_deleted,
                user_reports::reports_before_their_event_are_linked_to_its_issue,
                alert_rules::alert_rules_are_kept,
                alert_rules::a_rule_fires_once_per_interval,
                alert_rules::one_of_concurrent_claims_wins,
                events::stores_events_once_and_picks_latest_and_oldest,
                events::skips_duplicates_within_a_batch,
                events::finds_which_ids_of_a_batch_are_stored,
                events::lists_events_newest_first_with_cursors,
                events::filters_events_by_issue_time_and_tags,
                events::counts_events_users_and_issues,
                events::buckets_events_into_a_series,
                events::ranks_tag_facets,
                events::keeps_hostile_strings_intact,
                events::deletes_events_before_a_time,
                events::trims_to_the_newest_events,
            );
        }
    };
    (@cases $open:ident; $($group:ident :: $case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let stores = super::$open().await;
                super::$group::$case(&stores).await;
            }
        )*
    };
}

suite!(sqlite_in_memory, sqlite_memory);
suite!(sqlite_in_files, sqlite_files);
#[cfg(feature = "duckdb")]
suite!(sqlite_and_duckdb, embedded);
#[cfg(all(feature = "postgres", feature = "clickhouse"))]
suite!(postgres_and_clickhouse, scale_out);
#[cfg(all(feature = "postgres", not(feature = "clickhouse")))]
suite!(postgres_and_sqlite, postgres);

/// A name no other test uses.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", EventId::new_random())
}

/// Makes an organization and a project of their own.
pub async fn project(stores: &Stores) -> (OrgId, ProjectId) {
    let org = stores
        .metadata
        .ensure_organization(&unique("org"))
        .await
        .unwrap();
    let project = stores
        .metadata
        .ensure_project(org.id, &unique("project"))
        .await
        .unwrap();
    (org.id, project.id)
}

/// Makes another project in an organization.
pub async fn sibling(stores: &Stores, org_id: OrgId, slug: &str) -> ProjectId {
    stores
        .metadata
        .ensure_project(org_id, slug)
        .await
        .unwrap()
        .id
}

/// A time given in unix seconds.
pub fn seconds(seconds: f64) -> Timestamp {
    Timestamp::from_unix_seconds(seconds).unwrap()
}

/// An event of one hash at a time given in seconds, as the metadata store sees it.
pub fn issue_event(
    project_id: ProjectId,
    hash: &str,
    seconds: f64,
    user: Option<&str>,
) -> IssueEvent {
    IssueEvent {
        project_id,
        event_id: EventId::new_random(),
        hashes: vec![GroupingHash::from_values([hash])],
        grouping_config: "test".to_owned(),
        title: format!("Error {hash}"),
        culprit: format!("culprit {seconds}"),
        level: Level::Error,
        ty: "error".to_owned(),
        platform: "python".to_owned(),
        metadata: EventMetadata::default(),
        timestamp: Timestamp::from_unix_seconds(seconds).unwrap(),
        user: user.map(str::to_owned),
        release: None,
        received: Timestamp::from_unix_seconds(seconds).unwrap(),
    }
}

/// An event of an issue at a time given in seconds, with tags, as the event store sees it.
pub fn stored_event(
    project_id: ProjectId,
    issue_id: IssueId,
    seconds: f64,
    tags: &[(&str, &str)],
) -> StoredEvent {
    StoredEvent {
        project_id,
        event_id: EventId::new_random(),
        issue_id,
        timestamp: Timestamp::from_unix_seconds(seconds).unwrap(),
        received: Timestamp::from_unix_seconds(seconds + 1.0).unwrap(),
        hash: GroupingHash::from_values(["x"]),
        grouping_config: "test".to_owned(),
        tags: tags
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect(),
        payload: format!("{{\"seconds\":{seconds}}}").into_bytes(),
    }
}
