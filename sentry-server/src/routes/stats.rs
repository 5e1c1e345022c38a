//! Outcomes in Sentry's web API: `GET /api/0/organizations/{org}/stats_v2/`,
//! what the organization's projects sent and what became of it, per
//! interval and grouped by outcome, category, reason or project.
//!
//! Parameters, as Sentry takes them: `field` (`sum(quantity)`),
//! `groupBy` (repeated), `statsPeriod` (`24h`, `14d`, ...) or `start` and
//! `end`, `interval` (a whole number of hours or days, default `1h`),
//! `project` (repeated ids; none or `-1` for all), and the filters
//! `category`, `outcome` and `reason` (repeated).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use sentry_core::store::{OutcomeCount, OutcomeQuery, OutcomeStore, hour_of};
use serde_json::{Map, Value, json};

use crate::auth::ApiAuth;
use crate::error::ApiError;
use crate::routes::series::{Params, TimeWindow, project_ids};
use crate::state::AppState;

/// The field this API sums.
const FIELD: &str = "sum(quantity)";

/// `GET /api/0/organizations/{org}/stats_v2/`.
pub async fn stats_v2(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(org): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    auth.require_scope("org:read")?;
    let org = auth.organization(&state, &org).await?;
    let params = Params::parse(query.as_deref());
    match params.one("field") {
        Some(FIELD) => {}
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "unsupported field `{other}`; use `{FIELD}`"
            )));
        }
        None => {
            return Err(ApiError::bad_request(format!(
                "`field` is required: `{FIELD}`"
            )));
        }
    }
    let group_by = params.all("groupBy");
    if let Some(bad) = group_by
        .iter()
        .find(|key| !matches!(**key, "outcome" | "category" | "reason" | "project"))
    {
        return Err(ApiError::bad_request(format!("cannot group by `{bad}`")));
    }
    let window = TimeWindow::from_params(&params, "24h")?;
    let (since, until) = window.bounds()?;
    let counts = state
        .metadata
        .outcomes(&OutcomeQuery {
            project_ids: project_ids(&state, &org, &params).await?,
            since: hour_of(since),
            until,
        })
        .await?;
    let filters = [
        ("category", params.all("category")),
        ("outcome", params.all("outcome")),
        ("reason", params.all("reason")),
    ];
    let mut groups: BTreeMap<Vec<(String, String)>, Vec<u64>> = BTreeMap::new();
    for count in &counts {
        if filters.iter().any(|(key, values)| {
            !values.is_empty() && !values.contains(&label(count, key).as_str())
        }) {
            continue;
        }
        let Some(index) = window.index(count.hour) else {
            continue;
        };
        let key: Vec<(String, String)> = group_by
            .iter()
            .map(|name| ((*name).to_owned(), label(count, name)))
            .collect();
        let series = groups.entry(key).or_insert_with(|| vec![0; window.count()]);
        if let Some(slot) = series.get_mut(index) {
            *slot = slot.saturating_add(count.quantity);
        }
    }
    let groups: Vec<Value> = groups
        .into_iter()
        .map(|(by, series)| {
            let by: Map<String, Value> =
                by.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
            let total: u64 = series.iter().sum();
            json!({"by": by, "totals": {FIELD: total}, "series": {FIELD: series}})
        })
        .collect();
    let (start, end) = window.start_end();
    Ok(Json(json!({
        "start": start,
        "end": end,
        "intervals": window.intervals(),
        "groups": groups,
    })))
}

/// A count's value of a `groupBy` key or filter.
fn label(count: &OutcomeCount, key: &str) -> String {
    match key {
        "outcome" => count.outcome.as_str().to_owned(),
        "category" => count.category.clone(),
        "reason" => count.reason.clone(),
        "project" => count.project_id.to_string(),
        _ => String::new(),
    }
}
