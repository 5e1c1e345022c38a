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
use sentry_core::ProjectId;
use sentry_core::protocol::Timestamp;
use sentry_core::store::{MetadataStore, OutcomeCount, OutcomeQuery, OutcomeStore, hour_of};
use serde_json::{Map, Value, json};

use crate::auth::{ApiAuth, form_pairs};
use crate::error::ApiError;
use crate::state::AppState;

const HOUR_SECS: i64 = 3_600;
/// The most intervals one answer has.
const MAX_INTERVALS: i64 = 1_000;
/// The field this API sums.
const FIELD: &str = "sum(quantity)";

/// Reads a duration such as `90m`, `24h`, `14d` or `2w` in seconds.
fn duration_secs(text: &str) -> Option<i64> {
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let number: i64 = number.parse().ok()?;
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => HOUR_SECS,
        "d" => 24 * HOUR_SECS,
        "w" => 7 * 24 * HOUR_SECS,
        _ => return None,
    };
    number.checked_mul(unit).filter(|secs| *secs > 0)
}

fn seconds(time: i64) -> Result<Timestamp, ApiError> {
    Timestamp::from_unix_seconds(time as f64)
        .ok_or_else(|| ApiError::bad_request("time out of range"))
}

/// `GET /api/0/organizations/{org}/stats_v2/`.
pub async fn stats_v2(
    State(state): State<AppState>,
    auth: ApiAuth,
    Path(org): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    auth.require_scope("org:read")?;
    let org = auth.organization(&state, &org).await?;
    let params = form_pairs(query.as_deref().unwrap_or(""));
    let all = |name: &str| -> Vec<&str> {
        params
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .collect()
    };
    let one = |name: &str| all(name).first().copied();
    match one("field") {
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
    let group_by = all("groupBy");
    if let Some(bad) = group_by
        .iter()
        .find(|key| !matches!(**key, "outcome" | "category" | "reason" | "project"))
    {
        return Err(ApiError::bad_request(format!("cannot group by `{bad}`")));
    }
    let interval = match one("interval") {
        Some(text) => duration_secs(text)
            .filter(|secs| secs % HOUR_SECS == 0)
            .ok_or_else(|| ApiError::bad_request("`interval` must be whole hours or days"))?,
        None => HOUR_SECS,
    };
    let now = Timestamp::now().0.timestamp();
    let (start, end) = match (one("start"), one("end"), one("statsPeriod")) {
        (Some(start), Some(end), _) => {
            let parse = |text| {
                Timestamp::parse_rfc3339(text)
                    .map(|time| time.0.timestamp())
                    .ok_or_else(|| ApiError::bad_request(format!("invalid time `{text}`")))
            };
            (parse(start)?, parse(end)?)
        }
        (None, None, period) => {
            let period = duration_secs(period.unwrap_or("24h"))
                .ok_or_else(|| ApiError::bad_request("invalid `statsPeriod`"))?;
            (now.saturating_sub(period), now)
        }
        _ => return Err(ApiError::bad_request("give both `start` and `end`")),
    };
    // Intervals are aligned to their length, as Sentry aligns them.
    let start = start - start.rem_euclid(interval);
    let count = (end - start + interval - 1) / interval;
    if count <= 0 || count > MAX_INTERVALS {
        return Err(ApiError::bad_request(format!(
            "the range must hold between 1 and {MAX_INTERVALS} intervals"
        )));
    }
    let end = start + count * interval;
    let projects = state.metadata.projects(org.id).await?;
    let wanted: Vec<&str> = all("project")
        .into_iter()
        .filter(|id| *id != "-1")
        .collect();
    let project_ids: Vec<ProjectId> = projects
        .iter()
        .map(|project| project.id)
        .filter(|id| wanted.is_empty() || wanted.contains(&id.to_string().as_str()))
        .collect();
    let counts = state
        .metadata
        .outcomes(&OutcomeQuery {
            project_ids,
            since: hour_of(seconds(start)?),
            until: seconds(end)?,
        })
        .await?;
    let filters = [
        ("category", all("category")),
        ("outcome", all("outcome")),
        ("reason", all("reason")),
    ];
    let slots = usize::try_from(count).unwrap_or(0);
    let mut groups: BTreeMap<Vec<(String, String)>, Vec<u64>> = BTreeMap::new();
    for count in &counts {
        if filters.iter().any(|(key, values)| {
            !values.is_empty() && !values.contains(&label(count, key).as_str())
        }) {
            continue;
        }
        let index = (count.hour.0.timestamp() - start) / interval;
        let Ok(index) = usize::try_from(index) else {
            continue;
        };
        let key: Vec<(String, String)> = group_by
            .iter()
            .map(|name| ((*name).to_owned(), label(count, name)))
            .collect();
        let series = groups.entry(key).or_insert_with(|| vec![0; slots]);
        if let Some(slot) = series.get_mut(index) {
            *slot = slot.saturating_add(count.quantity);
        }
    }
    let intervals: Vec<String> = (0..count)
        .filter_map(|n| Timestamp::from_unix_seconds((start + n * interval) as f64))
        .map(|time| time.0.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .collect();
    let groups: Vec<Value> = groups
        .into_iter()
        .map(|(by, series)| {
            let by: Map<String, Value> =
                by.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
            let total: u64 = series.iter().sum();
            json!({"by": by, "totals": {FIELD: total}, "series": {FIELD: series}})
        })
        .collect();
    let time = |secs: i64| {
        Timestamp::from_unix_seconds(secs as f64)
            .map(|time| time.0.format("%Y-%m-%dT%H:%M:%SZ").to_string())
    };
    Ok(Json(json!({
        "start": time(start),
        "end": time(end),
        "intervals": intervals,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_sentrys_units() {
        assert_eq!(duration_secs("24h"), Some(86_400));
        assert_eq!(duration_secs("14d"), Some(14 * 86_400));
        assert_eq!(duration_secs("90m"), Some(5_400));
        assert_eq!(duration_secs("2w"), Some(14 * 86_400));
        for bad in ["", "h", "24", "0h", "24y", "-1h", "99999999999999999999h"] {
            assert_eq!(duration_secs(bad), None, "{bad}");
        }
    }
}
