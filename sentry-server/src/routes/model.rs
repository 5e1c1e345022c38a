//! The JSON shapes of Sentry's web API, built from stored data.
//!
//! Field names are Sentry's (`shortId`, `firstSeen`, `eventID`, ...), and so
//! are their quirks: `count` is a string, ids are strings, and an event's
//! interfaces are listed as `entries` with camelCase frame fields.

use sentry_core::protocol::{Breadcrumb, Exception, Frame, Stacktrace, Thread, Timestamp};
use sentry_core::store::{Issue, Project, StoredEvent, Team};
use sentry_core::summary::summarize;
use sentry_core::{Event, EventId};

use crate::routes::issue_update::{status_details_json, substatus_json};
use serde_json::{Map, Value, json};

/// Formats a short id: the project slug in capitals and the issue's number in base 36.
pub fn short_id(project_slug: &str, number: u64) -> String {
    let mut digits = Vec::new();
    let mut rest = number;
    loop {
        let digit = u8::try_from(rest % 36).unwrap_or(0);
        digits.push(char::from(if digit < 10 {
            b'0' + digit
        } else {
            b'A' + digit - 10
        }));
        rest /= 36;
        if rest == 0 {
            break;
        }
    }
    let number: String = digits.into_iter().rev().collect();
    format!("{}-{number}", project_slug.to_ascii_uppercase())
}

fn project_json(project: &Project) -> Value {
    json!({
        "id": project.id.to_string(),
        "name": project.name,
        "slug": project.slug,
        "platform": project.platform,
    })
}

/// A team as Sentry's team endpoints return it.
pub fn team_json(team: &Team) -> Value {
    json!({
        "id": team.id.to_string(),
        "slug": team.slug,
        "name": team.name,
        "dateCreated": team.date_created.to_rfc3339(),
        "isMember": false,
        "hasAccess": true,
    })
}

/// A project as Sentry's project lists return it: with its teams, the
/// first also as `team`.
pub fn project_summary_json(project: &Project, teams: &[Team]) -> Value {
    let team_ref =
        |team: &Team| json!({ "id": team.id.to_string(), "slug": team.slug, "name": team.name });
    json!({
        "id": project.id.to_string(),
        "slug": project.slug,
        "name": project.name,
        "platform": project.platform,
        "dateCreated": project.date_created.to_rfc3339(),
        "isBookmarked": false,
        "isMember": true,
        "hasAccess": true,
        "features": [],
        "team": teams.first().map(team_ref),
        "teams": teams.iter().map(team_ref).collect::<Vec<_>>(),
    })
}

/// An issue as Sentry's issue list and issue detail return it.
pub fn issue_json(issue: &Issue, project: &Project, org_slug: &str, public_url: &str) -> Value {
    json!({
        "id": issue.id.to_string(),
        "shortId": short_id(&project.slug, issue.short_number),
        "title": issue.title,
        "culprit": issue.culprit,
        "permalink": format!("{public_url}/organizations/{org_slug}/issues/{}/", issue.id),
        "logger": null,
        "level": issue.level.as_str(),
        "status": issue.status.as_str(),
        "statusDetails": status_details_json(issue),
        "substatus": substatus_json(issue),
        "isPublic": false,
        "platform": issue.platform,
        "project": project_json(project),
        "type": issue.ty,
        "issueType": if issue.ty == "error" { "error" } else { "default" },
        "issueCategory": "error",
        "metadata": issue.metadata,
        "numComments": 0,
        "assignedTo": null,
        "isBookmarked": false,
        "isSubscribed": false,
        "hasSeen": false,
        "annotations": [],
        "count": issue.times_seen.to_string(),
        "userCount": issue.user_count,
        "firstSeen": issue.first_seen.to_rfc3339(),
        "lastSeen": issue.last_seen.to_rfc3339(),
        "groupingConfig": issue.grouping_config,
    })
}

/// An event as Sentry's event detail returns it.
pub fn event_json(stored: &StoredEvent, event: &Event, project: &Project) -> Value {
    let summary = summarize(event);
    let mut tags: Vec<&(String, String)> = stored.tags.iter().collect();
    tags.sort();
    let tags: Vec<Value> = tags
        .into_iter()
        .map(|(key, value)| json!({ "key": key, "value": value }))
        .collect();
    let event_id = stored.event_id.to_string();
    let entries = entries(event);
    let meta = api_meta(event, &entries);
    json!({
        "id": event_id,
        "eventID": event_id,
        "groupID": stored.issue_id.to_string(),
        "projectID": project.id.to_string(),
        "projectSlug": project.slug,
        "title": summary.title,
        "culprit": summary.culprit,
        "message": event.message_text().unwrap_or_default(),
        "location": summary.metadata.filename,
        "metadata": summary.metadata,
        "platform": event.platform,
        "type": event.ty,
        "level": event.level.map(|level| level.as_str()),
        "logger": event.logger,
        "environment": event.environment,
        "release": event.release.as_ref().map(|version| json!({ "version": version })),
        "dist": event.dist,
        "dateCreated": stored.timestamp.to_rfc3339(),
        "dateReceived": stored.received.to_rfc3339(),
        "size": stored.payload.len(),
        "tags": tags,
        "user": event.user,
        "contexts": event.contexts.clone().unwrap_or_default(),
        "sdk": event.sdk,
        "context": event.extra.clone().unwrap_or_default(),
        "packages": event.modules.clone().unwrap_or_default(),
        "fingerprints": [stored.hash.as_str()],
        "groupingConfig": { "id": stored.grouping_config },
        "errors": event.errors.clone().unwrap_or_default(),
        "entries": entries,
        "_meta": meta,
    })
}

/// The event's `_meta` (what normalization and scrubbing changed) nested
/// as Sentry's event API nests it: under the API's field names, and for
/// entries under their index.
fn api_meta(event: &Event, entries: &[Value]) -> Value {
    let Some(Value::Object(meta)) = event.other.get("_meta") else {
        return json!({});
    };
    let mut api = serde_json::Map::new();
    for (api_field, event_field) in [
        ("context", "extra"),
        ("contexts", "contexts"),
        ("user", "user"),
        ("sdk", "sdk"),
        ("tags", "tags"),
        ("packages", "modules"),
    ] {
        if let Some(field_meta) = meta.get(event_field) {
            api.insert(api_field.to_owned(), field_meta.clone());
        }
    }
    let mut entry_meta = serde_json::Map::new();
    for (index, entry) in entries.iter().enumerate() {
        let event_field = match entry["type"].as_str() {
            Some("message") => "logentry",
            Some(other) => other,
            None => continue,
        };
        if let Some(field_meta) = meta.get(event_field) {
            entry_meta.insert(index.to_string(), json!({ "data": field_meta }));
        }
    }
    if !entry_meta.is_empty() {
        api.insert("entries".to_owned(), Value::Object(entry_meta));
    }
    Value::Object(api)
}

/// The interfaces of an event, in the order Sentry lists them.
fn entries(event: &Event) -> Vec<Value> {
    let mut entries = Vec::new();
    if let Some(logentry) = &event.logentry {
        entries.push(json!({
            "type": "message",
            "data": {
                "formatted": logentry.formatted,
                "message": logentry.message,
                "params": logentry.params,
            },
        }));
    }
    if !event.exceptions().is_empty() {
        let has_system_frames = event
            .exceptions()
            .iter()
            .filter_map(|exception| exception.stacktrace.as_ref())
            .flat_map(|stacktrace| &stacktrace.frames)
            .any(|frame| frame.in_app != Some(true));
        let values: Vec<Value> = event.exceptions().iter().map(exception_json).collect();
        entries.push(json!({
            "type": "exception",
            "data": { "values": values, "hasSystemFrames": has_system_frames, "excOmitted": null },
        }));
    }
    if let Some(stacktrace) = &event.stacktrace {
        entries.push(json!({ "type": "stacktrace", "data": stacktrace_json(stacktrace) }));
    }
    if let Some(threads) = &event.threads {
        let values: Vec<Value> = threads.values.iter().map(thread_json).collect();
        entries.push(json!({ "type": "threads", "data": { "values": values } }));
    }
    if let Some(debug_meta) = &event.debug_meta {
        entries.push(json!({
            "type": "debugmeta",
            "data": { "images": debug_meta.images, "sdk_info": debug_meta.sdk_info },
        }));
    }
    if let Some(breadcrumbs) = &event.breadcrumbs {
        let values: Vec<Value> = breadcrumbs.values.iter().map(breadcrumb_json).collect();
        entries.push(json!({ "type": "breadcrumbs", "data": { "values": values } }));
    }
    if let Some(request) = &event.request {
        entries.push(json!({
            "type": "request",
            "data": {
                "url": request.url,
                "method": request.method,
                "data": request.data,
                "query": request.query_string,
                "fragment": request.fragment,
                "cookies": request.cookies,
                "headers": request.headers,
                "env": request.env,
                "inferredContentType": request.inferred_content_type,
                "apiTarget": request.api_target,
            },
        }));
    }
    entries
}

fn exception_json(exception: &Exception) -> Value {
    json!({
        "type": exception.ty,
        "value": exception.value,
        "module": exception.module,
        "mechanism": exception.mechanism,
        "threadId": exception.thread_id,
        "stacktrace": exception.stacktrace.as_ref().map(stacktrace_json),
        "rawStacktrace": exception.raw_stacktrace.as_ref().map(stacktrace_json),
    })
}

fn thread_json(thread: &Thread) -> Value {
    json!({
        "id": thread.id,
        "name": thread.name,
        "crashed": thread.crashed.unwrap_or(false),
        "current": thread.current.unwrap_or(false),
        "main": thread.main,
        "state": thread.state,
        "stacktrace": thread.stacktrace.as_ref().map(stacktrace_json),
        "rawStacktrace": thread.raw_stacktrace.as_ref().map(stacktrace_json),
    })
}

fn stacktrace_json(stacktrace: &Stacktrace) -> Value {
    let frames: Vec<Value> = stacktrace.frames.iter().map(frame_json).collect();
    json!({
        "frames": frames,
        "framesOmitted": stacktrace.frames_omitted,
        "registers": stacktrace.registers,
        "hasSystemFrames": stacktrace.frames.iter().any(|frame| frame.in_app != Some(true)),
    })
}

/// A frame with Sentry's camelCase names; source lines become `context`,
/// a list of `[line number, text]` pairs around `lineNo`.
fn frame_json(frame: &Frame) -> Value {
    let mut context = Vec::new();
    if let (Some(line), Some(current)) = (frame.lineno, &frame.context_line) {
        let pre = frame.pre_context.as_deref().unwrap_or_default();
        let first = line.saturating_sub(pre.len() as u64);
        for (offset, text) in pre.iter().enumerate() {
            context.push(json!([
                first + offset as u64,
                text.as_deref().unwrap_or_default()
            ]));
        }
        context.push(json!([line, current]));
        for (offset, text) in frame.post_context.iter().flatten().enumerate() {
            context.push(json!([
                line + 1 + offset as u64,
                text.as_deref().unwrap_or_default()
            ]));
        }
    }
    json!({
        "filename": frame.filename,
        "absPath": frame.abs_path,
        "module": frame.module,
        "package": frame.package,
        "platform": frame.platform,
        "function": frame.function,
        "rawFunction": frame.raw_function,
        "symbol": frame.symbol,
        "lineNo": frame.lineno,
        "colNo": frame.colno,
        "inApp": frame.in_app.unwrap_or(false),
        "context": context,
        "vars": frame.vars,
        "instructionAddr": frame.instruction_addr,
        "symbolAddr": frame.symbol_addr,
        "imageAddr": frame.image_addr,
        "addrMode": frame.addr_mode,
        "trust": frame.trust,
        "lock": frame.lock,
        "data": frame.data,
    })
}

fn breadcrumb_json(breadcrumb: &Breadcrumb) -> Value {
    json!({
        "timestamp": breadcrumb.timestamp.as_ref().map(Timestamp::to_rfc3339),
        "type": breadcrumb.ty.as_deref().unwrap_or("default"),
        "category": breadcrumb.category,
        "level": breadcrumb.level.map(|level| level.as_str()).unwrap_or("info"),
        "message": breadcrumb.message,
        "data": breadcrumb.data,
        "event_id": breadcrumb.event_id,
    })
}

/// The short answer of the ingest endpoints: the event id, or `{}` when the
/// envelope carried none (as Relay answers).
pub fn ingest_answer(event_id: Option<EventId>) -> Value {
    match event_id {
        Some(id) => json!({ "id": id.to_string() }),
        None => Value::Object(Map::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_ids_are_base36() {
        assert_eq!(short_id("backend", 1), "BACKEND-1");
        assert_eq!(short_id("web", 35), "WEB-Z");
        assert_eq!(short_id("web", 36), "WEB-10");
    }

    #[test]
    fn frame_context_lines_are_numbered() {
        let frame: Frame = serde_json::from_str(
            r#"{"lineno":10,"pre_context":["a","b"],"context_line":"c","post_context":["d"]}"#,
        )
        .unwrap();
        assert_eq!(
            frame_json(&frame)["context"],
            json!([[8, "a"], [9, "b"], [10, "c"], [11, "d"]])
        );
    }
}
