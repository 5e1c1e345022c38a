//! Release health in Sentry's web API:
//! `GET /api/0/organizations/{org}/sessions/`, the sessions and users of
//! the organization's projects per interval, from the counts ingest keeps
//! of `session` and `sessions` items.
//!
//! Parameters, as Sentry takes them: `field` (repeated: `sum(session)`,
//! `count_unique(user)`, `crash_free_rate(session)`,
//! `crash_free_rate(user)`, `crash_rate(session)`, `crash_rate(user)`),
//! `groupBy` (repeated: `project`, `release`, `environment`,
//! `session.status`), `statsPeriod` or `start` and `end`, `interval`,
//! `project`, `environment` (repeated) and `query` (`release:VERSION`
//! terms). Users are counted distinct within each group and interval;
//! without `groupBy=project` the projects' counts are added, so a user of
//! two projects counts twice.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use sentry_core::ProjectId;
use sentry_core::protocol::Timestamp;
use sentry_core::store::{SessionMetric, SessionQuery, SessionStore, SessionTotal, hour_of};
use serde_json::{Map, Value, json};

use crate::auth::ApiAuth;
use crate::error::ApiError;
use crate::routes::series::{Params, TimeWindow, project_ids};
use crate::state::AppState;

/// The fields this API computes.
const FIELDS: [&str; 6] = [
    "sum(session)",
    "count_unique(user)",
    "crash_free_rate(session)",
    "crash_free_rate(user)",
    "crash_rate(session)",
    "crash_rate(user)",
];

/// The statuses of `groupBy=session.status`.
const STATUSES: [&str; 4] = ["healthy", "errored", "crashed", "abnormal"];

/// The counts of one group in one interval.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    sessions: [u64; 4],
    users: [u64; 4],
}

/// Indexes of [`Counts`]: all, errored (with crashed and abnormal),
/// crashed, abnormal.
fn slot(metric: SessionMetric) -> (bool, usize) {
    match metric {
        SessionMetric::Session => (false, 0),
        SessionMetric::Errored => (false, 1),
        SessionMetric::Crashed => (false, 2),
        SessionMetric::Abnormal => (false, 3),
        SessionMetric::User => (true, 0),
        SessionMetric::ErroredUser => (true, 1),
        SessionMetric::CrashedUser => (true, 2),
        SessionMetric::AbnormalUser => (true, 3),
    }
}

impl Counts {
    fn add(&mut self, total: &SessionTotal) {
        let (users, index) = slot(total.metric);
        let counts = if users {
            &mut self.users
        } else {
            &mut self.sessions
        };
        counts[index] = counts[index].saturating_add(total.quantity);
    }

    /// The counts of one status: `[all, errored, crashed, abnormal]` split
    /// into healthy, errored only, crashed and abnormal.
    fn of_status(counts: [u64; 4], status: &str) -> u64 {
        let [all, errored, crashed, abnormal] = counts;
        match status {
            "healthy" => all.saturating_sub(errored),
            "errored" => errored.saturating_sub(crashed).saturating_sub(abnormal),
            "crashed" => crashed,
            "abnormal" => abnormal,
            _ => all,
        }
    }

    /// A field's value, for one status or (`None`) all.
    fn field(&self, field: &str, status: Option<&str>) -> Value {
        let count = |counts: [u64; 4]| match status {
            Some(status) => Self::of_status(counts, status),
            None => counts[0],
        };
        let rate = |counts: [u64; 4], free: bool| {
            (counts[0] > 0).then(|| {
                let crashed = counts[2] as f64 / counts[0] as f64;
                if free { 1.0 - crashed } else { crashed }
            })
        };
        match field {
            "sum(session)" => json!(count(self.sessions)),
            "count_unique(user)" => json!(count(self.users)),
            "crash_free_rate(session)" => json!(rate(self.sessions, true)),
            "crash_free_rate(user)" => json!(rate(self.users, true)),
            "crash_rate(session)" => json!(rate(self.sessions, false)),
            "crash_rate(user)" => json!(rate(self.users, false)),
            _ => Value::Null,
        }
    }
}

/// The `release:` terms of `query`.
fn releases_of(query: &str) -> Result<Option<Vec<String>>, ApiError> {
    let mut releases = Vec::new();
    for term in query.split_whitespace() {
        match term.split_once(':') {
            Some(("release", value)) if !value.is_empty() => {
                releases.push(value.trim_matches('"').to_owned());
            }
            _ => {
                return Err(ApiError::bad_request(format!(
                    "unsupported query term `{term}`; use release:VERSION"
                )));
            }
        }
    }
    Ok((!releases.is_empty()).then_some(releases))
}

/// What identifies a group, before `session.status`.
type GroupKey = (Option<ProjectId>, Option<String>, Option<String>);

fn group_key(total: &SessionTotal, by_project: bool) -> GroupKey {
    (
        by_project.then_some(total.project_id),
        total.release.clone(),
        total.environment.clone(),
    )
}

/// How far back a release's health reaches: the longest retention.
const HEALTH_DAYS: u64 = 90;

/// The health of a release in each of its projects, as Sentry's release
/// details show it in `projects[].healthData`: sessions and users in all,
/// crashed and errored sessions, crash-free rates in percent (`null`
/// without sessions), over the last 90 days.
///
/// # Errors
///
/// When the metadata store fails.
pub async fn release_health(
    state: &AppState,
    project_ids: Vec<ProjectId>,
    version: &str,
) -> Result<BTreeMap<ProjectId, Value>, ApiError> {
    const HOUR: Duration = Duration::from_secs(3600);
    let window = Duration::from_secs(HEALTH_DAYS * 24 * 3600) + HOUR;
    // Whole hours, up to the end of the current one.
    let until = hour_of(Timestamp::now()).checked_add(HOUR);
    let Some((since, until)) = until.and_then(|until| Some((until.checked_sub(window)?, until)))
    else {
        return Ok(BTreeMap::new());
    };
    let query = SessionQuery {
        project_ids: project_ids.clone(),
        since,
        until,
        interval_secs: window.as_secs(),
        releases: Some(vec![version.to_owned()]),
        environments: None,
        by_release: false,
        by_environment: false,
    };
    let mut counts: BTreeMap<ProjectId, Counts> = BTreeMap::new();
    for total in state.metadata.session_totals(&query).await? {
        counts.entry(total.project_id).or_default().add(&total);
    }
    let percent = |rate: Value| rate.as_f64().map(|rate| (rate * 10_000.0).round() / 100.0);
    Ok(project_ids
        .into_iter()
        .map(|project_id| {
            let counts = counts.get(&project_id).copied().unwrap_or_default();
            let health = json!({
                "hasHealthData": counts.sessions[0] > 0,
                "totalSessions": counts.sessions[0],
                "totalUsers": counts.users[0],
                "sessionsCrashed": counts.sessions[2],
                "sessionsErrored": Counts::of_status(counts.sessions, "errored"),
                "crashFreeSessions": percent(counts.field("crash_free_rate(session)", None)),
                "crashFreeUsers": percent(counts.field("crash_free_rate(user)", None)),
                "durationP50": null,
                "durationP90": null,
                "adoption": null,
                "sessionsAdoption": null,
                "stats": {},
            });
            (project_id, health)
        })
        .collect())
}

/// `GET /api/0/organizations/{org}/sessions/`.
pub async fn sessions(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(org): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    auth.require_scope("org:read")?;
    let org = auth.organization(&state, &org).await?;
    let params = Params::parse(query.as_deref());
    let fields = params.all("field");
    if fields.is_empty() {
        return Err(ApiError::bad_request(
            "`field` is required, e.g. sum(session)",
        ));
    }
    if let Some(bad) = fields.iter().find(|field| !FIELDS.contains(field)) {
        return Err(ApiError::bad_request(format!("unsupported field `{bad}`")));
    }
    let group_by = params.all("groupBy");
    if let Some(bad) = group_by.iter().find(|key| {
        !matches!(
            **key,
            "project" | "release" | "environment" | "session.status"
        )
    }) {
        return Err(ApiError::bad_request(format!("cannot group by `{bad}`")));
    }
    let by_project = group_by.contains(&"project");
    let by_status = group_by.contains(&"session.status");
    let window = TimeWindow::from_params(&params, "24h")?;
    let (since, until) = window.bounds()?;
    let environments = params.all("environment");
    let search = params.one("query").unwrap_or("");
    let query = SessionQuery {
        project_ids: project_ids(&state, &org, &params).await?,
        since,
        until,
        interval_secs: u64::try_from(window.interval).unwrap_or(3_600),
        releases: releases_of(search)?,
        environments: (!environments.is_empty())
            .then(|| environments.iter().map(|env| (*env).to_owned()).collect()),
        by_release: group_by.contains(&"release"),
        by_environment: group_by.contains(&"environment"),
    };
    let series_totals = state.metadata.session_totals(&query).await?;
    // Users are distinct over the whole range, not summed over intervals.
    let whole = SessionQuery {
        interval_secs: u64::try_from(window.end - window.start).unwrap_or(u64::MAX),
        ..query
    };
    let range_totals = state.metadata.session_totals(&whole).await?;
    let mut series: BTreeMap<GroupKey, Vec<Counts>> = BTreeMap::new();
    for total in &series_totals {
        let Some(index) = window.index(total.bucket) else {
            continue;
        };
        let buckets = series
            .entry(group_key(total, by_project))
            .or_insert_with(|| vec![Counts::default(); window.count()]);
        if let Some(bucket) = buckets.get_mut(index) {
            bucket.add(total);
        }
    }
    let mut totals: BTreeMap<GroupKey, Counts> = BTreeMap::new();
    for total in &range_totals {
        totals
            .entry(group_key(total, by_project))
            .or_default()
            .add(total);
    }
    let statuses: Vec<Option<&str>> = if by_status {
        STATUSES.iter().map(|status| Some(*status)).collect()
    } else {
        vec![None]
    };
    let mut groups = Vec::new();
    for (key, buckets) in &series {
        let total = totals.get(key).copied().unwrap_or_default();
        for status in &statuses {
            let mut by = Map::new();
            if let Some(project_id) = key.0 {
                by.insert("project".to_owned(), json!(project_id.0));
            }
            if let Some(release) = &key.1 {
                by.insert("release".to_owned(), json!(release));
            }
            if let Some(environment) = &key.2 {
                by.insert("environment".to_owned(), json!(environment));
            }
            if let Some(status) = status {
                by.insert("session.status".to_owned(), json!(status));
            }
            let mut group_totals = Map::new();
            let mut group_series = Map::new();
            for field in &fields {
                group_totals.insert((*field).to_owned(), total.field(field, *status));
                group_series.insert(
                    (*field).to_owned(),
                    Value::Array(
                        buckets
                            .iter()
                            .map(|bucket| bucket.field(field, *status))
                            .collect(),
                    ),
                );
            }
            groups.push(json!({"by": by, "totals": group_totals, "series": group_series}));
        }
    }
    let (start, end) = window.start_end();
    Ok(Json(json!({
        "start": start,
        "end": end,
        "intervals": window.intervals(),
        "groups": groups,
        "query": search,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_split_the_sessions() {
        let counts = Counts {
            sessions: [10, 4, 2, 1],
            users: [5, 2, 1, 0],
        };
        assert_eq!(counts.field("sum(session)", Some("healthy")), json!(6));
        assert_eq!(counts.field("sum(session)", Some("errored")), json!(1));
        assert_eq!(counts.field("sum(session)", Some("crashed")), json!(2));
        assert_eq!(counts.field("sum(session)", None), json!(10));
        assert_eq!(counts.field("crash_free_rate(session)", None), json!(0.8));
        assert_eq!(counts.field("crash_rate(user)", None), json!(0.2));
        assert_eq!(
            Counts::default().field("crash_free_rate(user)", None),
            Value::Null
        );
    }

    #[test]
    fn queries_take_release_terms() {
        assert_eq!(
            releases_of("release:1.0 release:\"2.0\"").unwrap(),
            Some(vec!["1.0".to_owned(), "2.0".to_owned()])
        );
        assert_eq!(releases_of("").unwrap(), None);
        assert!(releases_of("os:linux").is_err());
    }
}
