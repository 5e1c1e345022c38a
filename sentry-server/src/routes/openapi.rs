//! `GET /api/0/openapi.json`: an OpenAPI 3.0 description of the web API
//! (`docs/api.md`), built here from one table of operations so that it
//! reads like the route list. Examples name what `sentry-server init`
//! makes by default: the organization `sentry` and the project `internal`.

use axum::Json;
use axum::extract::State;
use serde_json::{Map, Value, json};

use crate::state::AppState;

/// `GET /api/0/openapi.json`, without a token.
pub async fn openapi(State(state): State<AppState>) -> Json<Value> {
    Json(description(&state.public_url))
}

/// A path parameter.
fn path(name: &str) -> Value {
    let (schema, example) = match name {
        "org" => (json!({"type": "string"}), json!("sentry")),
        "project" => (json!({"type": "string"}), json!("internal")),
        "team" => (json!({"type": "string"}), json!("core")),
        "issue_id" => (json!({"type": "string", "pattern": "^[0-9]+$"}), json!("1")),
        "version" => (json!({"type": "string"}), json!("app@1.0.0")),
        "key_id" => (
            json!({"type": "string"}),
            json!("0123456789abcdef0123456789abcdef"),
        ),
        "event_id" => (
            json!({"type": "string"}),
            json!("9ec79c33ec9942ab8353589fcb2e04dc"),
        ),
        "slug" => (json!({"type": "string"}), json!("nightly")),
        "rule_id" => (json!({"type": "string", "pattern": "^[0-9]+$"}), json!("1")),
        "attachment_id" => (
            json!({"type": "string"}),
            json!("9ec79c33ec9942ab8353589fcb2e04dc"),
        ),
        "pick" => (
            json!({"type": "string", "enum": ["latest", "oldest", "recommended"]}),
            json!("latest"),
        ),
        _ => (json!({"type": "string"}), json!("environment")),
    };
    json!({"name": name, "in": "path", "required": true, "schema": schema, "example": example})
}

/// A query parameter.
fn query(name: &str) -> Value {
    let schema = match name {
        "limit" | "per_page" => json!({"type": "integer", "minimum": 1, "maximum": 100}),
        "sort" => json!({"type": "string", "enum": ["date", "new", "freq", "user"]}),
        "statsPeriod" => json!({"type": "string", "enum": ["", "24h", "14d"]}),
        "full" => json!({"type": "boolean"}),
        "id" | "project" | "groupBy" => json!({"type": "array", "items": {"type": "string"}}),
        _ => json!({"type": "string"}),
    };
    let mut parameter = json!({"name": name, "in": "query", "required": false, "schema": schema});
    if matches!(name, "id" | "project" | "groupBy") {
        parameter["style"] = json!("form");
        parameter["explode"] = json!(true);
    }
    parameter
}

/// The parameters of a path template, in order.
fn path_parameters(template: &str) -> Vec<Value> {
    template
        .split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(path)
        .collect()
}

fn object(properties: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": properties, "required": required})
}

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn list_of(name: &str) -> Value {
    json!({"type": "array", "items": schema_ref(name)})
}

/// One operation: what it does, its scope, query parameters, body and
/// success answer.
struct Operation {
    method: &'static str,
    summary: &'static str,
    scope: &'static str,
    queries: &'static [&'static str],
    body: Option<Value>,
    success: u16,
    answer: Option<Value>,
}

fn operation(
    method: &'static str,
    summary: &'static str,
    scope: &'static str,
    success: u16,
    answer: Option<Value>,
) -> Operation {
    Operation {
        method,
        summary,
        scope,
        queries: &[],
        body: None,
        success,
        answer,
    }
}

impl Operation {
    fn queries(self, queries: &'static [&'static str]) -> Self {
        Self { queries, ..self }
    }

    fn body(self, body: Value) -> Self {
        Self {
            body: Some(body),
            ..self
        }
    }

    fn to_json(&self, template: &str) -> Value {
        let mut parameters = path_parameters(template);
        parameters.extend(self.queries.iter().map(|name| query(name)));
        let error = json!({"description": "error", "content": {"application/json": {"schema": schema_ref("Error")}}});
        let mut responses = Map::new();
        let success = match &self.answer {
            Some(schema) => {
                json!({"description": "success", "content": {"application/json": {"schema": schema}}})
            }
            None => json!({"description": "success"}),
        };
        responses.insert(self.success.to_string(), success);
        if self.method == "post" && self.summary.starts_with("Create a release") {
            // Both the organization's and the project's endpoint.
            responses.insert(
                "208".to_owned(),
                json!({"description": "the version exists", "content": {"application/json": {"schema": schema_ref("Release")}}}),
            );
        }
        if self.method == "put" && self.summary.starts_with("Update issues") {
            responses.insert("204".to_owned(), json!({"description": "no issue matched"}));
        }
        for status in ["400", "401", "403", "404", "409"] {
            responses.insert(status.to_owned(), error.clone());
        }
        let mut operation = json!({
            "summary": self.summary,
            "description": format!("Needs the scope `{}`.", self.scope),
            "parameters": parameters,
            "responses": responses,
        });
        if let Some(body) = &self.body {
            operation["requestBody"] =
                json!({"required": true, "content": {"application/json": {"schema": body}}});
        }
        operation
    }
}

/// The issue paths, each in its plain and its organization form.
fn issue_paths() -> Vec<(String, Vec<Operation>)> {
    let forms = |rest: &str| {
        [
            format!("/api/0/issues/{{issue_id}}/{rest}"),
            format!("/api/0/organizations/{{org}}/issues/{{issue_id}}/{rest}"),
        ]
    };
    let mut paths = Vec::new();
    for template in forms("") {
        paths.push((
            template,
            vec![
                operation(
                    "get",
                    "Retrieve an issue",
                    "event:read",
                    200,
                    Some(schema_ref("Issue")),
                ),
                operation(
                    "put",
                    "Update an issue",
                    "event:write",
                    200,
                    Some(schema_ref("Issue")),
                )
                .body(schema_ref("IssueUpdate")),
                operation("delete", "Delete an issue", "event:admin", 202, None),
            ],
        ));
    }
    let reads: [(&str, &str, Value, &'static [&'static str]); 6] = [
        (
            "user-feedback/",
            "List an issue's user feedback",
            json!({"type": "array", "items": {"type": "object"}}),
            &["limit", "cursor"],
        ),
        (
            "events/",
            "List an issue's events",
            list_of("Event"),
            &["query", "environment", "full", "limit", "cursor"],
        ),
        (
            "events/{pick}/",
            "Retrieve an issue's latest, oldest or recommended event",
            schema_ref("Event"),
            &[],
        ),
        (
            "tags/",
            "List an issue's tags",
            json!({"type": "array", "items": {"type": "object"}}),
            &["key", "environment", "limit"],
        ),
        (
            "tags/{key}/",
            "Retrieve an issue's tag",
            json!({"type": "object"}),
            &["limit"],
        ),
        (
            "tags/{key}/values/",
            "List an issue's tag values",
            json!({"type": "array", "items": {"type": "object"}}),
            &["limit"],
        ),
    ];
    for (rest, summary, answer, queries) in reads {
        for template in forms(rest) {
            paths.push((
                template,
                vec![
                    operation("get", summary, "event:read", 200, Some(answer.clone()))
                        .queries(queries),
                ],
            ));
        }
    }
    paths
}

/// Every documented path with its operations.
fn operations() -> Vec<(String, Vec<Operation>)> {
    const LIST: &[&str] = &["limit", "cursor"];
    const ISSUE_LIST: &[&str] = &["query", "sort", "statsPeriod", "limit", "cursor"];
    const ORG_ISSUE_LIST: &[&str] = &["query", "sort", "statsPeriod", "limit", "cursor", "project"];
    const BULK: &[&str] = &["id", "status", "query"];
    const ORG_BULK: &[&str] = &["id", "status", "query", "project"];
    let named = object(
        json!({"name": {"type": "string"}, "slug": {"type": "string"}, "platform": {"type": "string", "nullable": true}}),
        &[],
    );
    let mut paths: Vec<(String, Vec<Operation>)> = vec![
        ("/api/0/".to_owned(), vec![operation("get", "What the token is", "none", 200, Some(json!({"type": "object"})))]),
        ("/api/0/organizations/".to_owned(), vec![operation("get", "List the token's organization", "org:read", 200, Some(list_of("Organization"))).queries(LIST)]),
        ("/api/0/organizations/{org}/".to_owned(), vec![operation("get", "Retrieve an organization", "org:read", 200, Some(schema_ref("Organization")))]),
        ("/api/0/organizations/{org}/projects/".to_owned(), vec![operation("get", "List an organization's projects", "project:read", 200, Some(list_of("Project"))).queries(LIST)]),
        ("/api/0/projects/".to_owned(), vec![operation("get", "List the token's projects", "project:read", 200, Some(list_of("Project"))).queries(LIST)]),
        ("/api/0/organizations/{org}/teams/".to_owned(), vec![
            operation("get", "List an organization's teams", "team:read", 200, Some(list_of("Team"))),
            operation("post", "Create a team", "team:write", 201, Some(schema_ref("Team"))).body(named.clone()),
        ]),
        ("/api/0/teams/{org}/{team}/".to_owned(), vec![operation("get", "Retrieve a team", "team:read", 200, Some(schema_ref("Team")))]),
        ("/api/0/teams/{org}/{team}/projects/".to_owned(), vec![
            operation("get", "List a team's projects", "project:read", 200, Some(list_of("Project"))),
            operation("post", "Create a project under a team", "project:write", 201, Some(schema_ref("Project"))).body(named.clone()),
        ]),
        ("/api/0/projects/{org}/{project}/".to_owned(), vec![
            operation("get", "Retrieve a project", "project:read", 200, Some(schema_ref("Project"))),
            operation("put", "Update a project", "project:write", 200, Some(schema_ref("Project"))).body(json!({"type": "object"})),
            operation("delete", "Delete a project", "project:admin", 204, None),
        ]),
        ("/api/0/projects/{org}/{project}/keys/".to_owned(), vec![
            operation("get", "List a project's keys", "project:read", 200, Some(list_of("Key"))),
            operation("post", "Create a key", "project:write", 201, Some(schema_ref("Key"))).body(object(json!({"name": {"type": "string"}}), &[])),
        ]),
        ("/api/0/projects/{org}/{project}/keys/{key_id}/".to_owned(), vec![
            operation("get", "Retrieve a key", "project:read", 200, Some(schema_ref("Key"))),
            operation("put", "Set a key's rate limit", "project:write", 200, Some(schema_ref("Key"))).body(object(json!({"rateLimit": {"type": ["object", "null"], "properties": {"window": {"type": "integer"}, "count": {"type": "integer"}}}}), &[])),
        ]),
        ("/api/0/projects/{org}/{project}/rules/".to_owned(), vec![
            operation("get", "List a project's alert rules", "project:read", 200, Some(list_of("Rule"))),
            operation("post", "Create an alert rule", "project:write", 201, Some(schema_ref("Rule"))).body(schema_ref("RuleBody")),
        ]),
        ("/api/0/projects/{org}/{project}/rules/{rule_id}/".to_owned(), vec![
            operation("get", "Retrieve an alert rule", "project:read", 200, Some(schema_ref("Rule"))),
            operation("put", "Replace an alert rule", "project:write", 200, Some(schema_ref("Rule"))).body(schema_ref("RuleBody")),
            operation("delete", "Delete an alert rule", "project:write", 202, None),
        ]),
        ("/api/0/projects/{org}/{project}/issues/".to_owned(), vec![
            operation("get", "List a project's issues", "event:read", 200, Some(list_of("Issue"))).queries(ISSUE_LIST),
            operation("put", "Update issues in bulk", "event:write", 200, Some(json!({"type": "object"}))).queries(BULK).body(schema_ref("IssueUpdate")),
            operation("delete", "Delete issues in bulk", "event:admin", 204, None).queries(BULK),
        ]),
        ("/api/0/organizations/{org}/issues/".to_owned(), vec![
            operation("get", "List an organization's issues", "event:read", 200, Some(list_of("Issue"))).queries(ORG_ISSUE_LIST),
            operation("put", "Update issues in bulk", "event:write", 200, Some(json!({"type": "object"}))).queries(ORG_BULK).body(schema_ref("IssueUpdate")),
            operation("delete", "Delete issues in bulk", "event:admin", 204, None).queries(ORG_BULK),
        ]),
        ("/api/0/projects/{org}/{project}/events/{event_id}/".to_owned(), vec![operation("get", "Retrieve an event", "event:read", 200, Some(schema_ref("Event")))]),
        ("/api/0/projects/{org}/{project}/events/{event_id}/grouping-info/".to_owned(), vec![operation("get", "Retrieve an event's grouping", "event:read", 200, Some(json!({"type": "object"})))]),
        ("/api/0/organizations/{org}/releases/".to_owned(), vec![
            operation("get", "List an organization's releases", "project:releases", 200, Some(list_of("Release"))).queries(&["query", "project", "limit", "cursor"]),
            operation("post", "Create a release", "project:releases", 201, Some(schema_ref("Release"))).body(object(
                json!({
                    "version": {"type": "string"},
                    "projects": {"type": "array", "items": {"type": "string"}},
                    "ref": {"type": "string"},
                    "url": {"type": "string"},
                    "dateReleased": {"type": "string", "format": "date-time"},
                }),
                &["version", "projects"],
            )),
        ]),
        ("/api/0/organizations/{org}/chunk-upload/".to_owned(), vec![
            operation("get", "Tell sentry-cli how to upload chunks", "project:releases", 200, Some(json!({"type": "object"}))),
        ]),
        ("/api/0/projects/{org}/{project}/files/difs/assemble/".to_owned(), vec![
            operation("post", "Assemble debug files from uploaded chunks", "project:releases", 200, Some(json!({"type": "object"}))).body(json!({
                "type": "object",
                "additionalProperties": object(
                    json!({
                        "name": {"type": "string"},
                        "debug_id": {"type": "string"},
                        "chunks": {"type": "array", "items": {"type": "string", "pattern": "^[0-9a-f]{40}$"}},
                    }),
                    &["name", "chunks"],
                ),
            })),
        ]),
        ("/api/0/organizations/{org}/artifactbundle/assemble/".to_owned(), vec![
            operation("post", "Assemble an artifact bundle from uploaded chunks", "project:releases", 200, Some(json!({"type": "object"}))).body(object(
                json!({
                    "checksum": {"type": "string", "pattern": "^[0-9a-f]{40}$"},
                    "chunks": {"type": "array", "items": {"type": "string", "pattern": "^[0-9a-f]{40}$"}},
                    "projects": {"type": "array", "items": {"type": "string"}},
                    "version": {"type": "string"},
                    "dist": {"type": "string"},
                }),
                &["checksum", "chunks", "projects"],
            )),
        ]),
        ("/api/0/projects/{org}/{project}/releases/".to_owned(), vec![
            operation("get", "List a project's releases", "project:releases", 200, Some(list_of("Release"))).queries(&["query", "limit", "cursor"]),
            operation("post", "Create a release of the project", "project:releases", 201, Some(schema_ref("Release"))).body(object(
                json!({
                    "version": {"type": "string"},
                    "ref": {"type": "string"},
                    "url": {"type": "string"},
                    "dateReleased": {"type": "string", "format": "date-time"},
                }),
                &["version"],
            )),
        ]),
        ("/api/0/projects/{org}/{project}/releases/{version}/".to_owned(), vec![
            operation("get", "Retrieve a release of the project", "project:releases", 200, Some(schema_ref("Release"))),
            operation("put", "Update or finalize a release of the project", "project:releases", 200, Some(schema_ref("Release"))).body(object(
                json!({
                    "ref": {"type": "string"},
                    "url": {"type": "string"},
                    "dateReleased": {"type": "string", "format": "date-time"},
                }),
                &[],
            )),
            operation("delete", "Delete a release of the project", "project:releases", 204, None),
        ]),
        ("/api/0/organizations/{org}/releases/{version}/".to_owned(), vec![
            operation("get", "Retrieve a release", "project:releases", 200, Some(schema_ref("Release"))),
            operation("put", "Update or finalize a release", "project:releases", 200, Some(schema_ref("Release"))).body(object(
                json!({
                    "projects": {"type": "array", "items": {"type": "string"}},
                    "ref": {"type": "string"},
                    "url": {"type": "string"},
                    "dateReleased": {"type": "string", "format": "date-time"},
                }),
                &[],
            )),
            operation("delete", "Delete a release", "project:releases", 204, None),
        ]),
        ("/api/0/organizations/{org}/releases/{version}/deploys/".to_owned(), vec![
            operation("get", "List a release's deploys", "project:releases", 200, Some(list_of("Deploy"))),
            operation("post", "Create a deploy", "project:releases", 201, Some(schema_ref("Deploy"))).body(object(
                json!({
                    "environment": {"type": "string"},
                    "name": {"type": "string"},
                    "url": {"type": "string"},
                    "dateStarted": {"type": "string", "format": "date-time"},
                    "dateFinished": {"type": "string", "format": "date-time"},
                }),
                &["environment"],
            )),
        ]),
        ("/api/0/projects/{org}/{project}/events/{event_id}/attachments/".to_owned(), vec![operation("get", "List an event's attachments", "event:read", 200, Some(json!({"type": "array", "items": {"type": "object"}})))]),
        ("/api/0/projects/{org}/{project}/events/{event_id}/attachments/{attachment_id}/".to_owned(), vec![operation("get", "Retrieve an attachment, or its content with download=1", "event:read", 200, None).queries(&["download"])]),
        ("/api/0/projects/{org}/{project}/user-feedback/".to_owned(), vec![operation("get", "List a project's user feedback", "project:read", 200, Some(json!({"type": "array", "items": {"type": "object"}}))).queries(LIST)]),
        ("/api/0/organizations/{org}/stats_v2/".to_owned(), vec![operation("get", "Count outcomes", "org:read", 200, Some(json!({"type": "object"}))).queries(&["field", "groupBy", "interval", "statsPeriod", "start", "end"])]),
        ("/api/0/organizations/{org}/sessions/".to_owned(), vec![operation("get", "Count sessions and users (release health)", "org:read", 200, Some(json!({"type": "object"}))).queries(&["field", "groupBy", "interval", "statsPeriod", "start", "end", "project", "environment", "query"])]),
        ("/api/0/organizations/{org}/monitors/".to_owned(), vec![operation("get", "List an organization's monitors", "org:read", 200, Some(json!({"type": "array", "items": {"type": "object"}})))]),
        ("/api/0/projects/{org}/{project}/monitors/{slug}/checkins/".to_owned(), vec![operation("get", "List a monitor's check-ins", "project:read", 200, Some(json!({"type": "array", "items": {"type": "object"}})))]),
        ("/api/0/api-tokens/".to_owned(), vec![
            operation("get", "List the organization's API tokens", "org:admin", 200, Some(list_of("Token"))),
            operation("post", "Create an API token", "org:admin", 201, Some(schema_ref("Token"))).body(object(
                json!({"name": {"type": "string"}, "scopes": {"type": "array", "items": {"type": "string"}}}),
                &["scopes"],
            )),
        ]),
    ];
    paths.extend(issue_paths());
    paths
}

fn schemas() -> Value {
    let id = json!({"type": "string"});
    let text = json!({"type": "string"});
    let time = json!({"type": "string", "format": "date-time"});
    json!({
        "Error": object(json!({"detail": text}), &["detail"]),
        "Organization": object(json!({"id": id, "slug": text, "name": text, "dateCreated": time}), &["id", "slug", "name"]),
        "Team": object(json!({"id": id, "slug": text, "name": text}), &["id", "slug", "name"]),
        "Project": object(json!({"id": id, "slug": text, "name": text, "platform": {"type": "string", "nullable": true}}), &["id", "slug", "name"]),
        "Key": object(json!({"id": id, "name": text, "public": text, "isActive": {"type": "boolean"}, "dsn": {"type": "object"}}), &["id", "public", "dsn"]),
        "Rule": object(json!({
            "id": id, "name": text, "actionMatch": text, "conditions": {"type": "array", "items": {"type": "object"}},
            "actions": {"type": "array", "items": {"type": "object"}}, "frequency": {"type": "integer"},
            "environment": {"type": "string", "nullable": true}, "status": {"type": "string", "enum": ["active", "disabled"]},
            "dateCreated": time, "lastTriggered": {"type": "string", "format": "date-time", "nullable": true},
        }), &["id", "name", "conditions", "actions", "frequency", "status"]),
        "RuleBody": object(json!({
            "name": text,
            "actionMatch": {"type": "string", "enum": ["any", "all"]},
            "conditions": {"type": "array", "items": object(json!({"id": text, "value": {"type": "integer"}, "interval": text}), &["id"])},
            "actions": {"type": "array", "items": object(json!({"id": text, "service": text, "url": text, "targetType": text, "targetIdentifier": text}), &["id"])},
            "frequency": {"type": "integer", "minimum": 0, "maximum": 43200},
            "environment": {"type": "string", "nullable": true},
            "status": {"type": "string", "enum": ["active", "disabled"]},
        }), &["name", "conditions", "actions"]),
        "Token": object(json!({"name": text, "scopes": {"type": "array", "items": text}, "token": text}), &["scopes"]),
        "Issue": object(json!({
            "id": id, "shortId": text, "title": text, "culprit": text, "level": text,
            "status": {"type": "string", "enum": ["unresolved", "resolved", "ignored"]},
            "substatus": {"type": "string", "nullable": true},
            "statusDetails": {"type": "object"}, "count": text, "userCount": {"type": "integer"},
            "firstSeen": time, "lastSeen": time,
        }), &["id", "shortId", "title", "status", "level", "lastSeen"]),
        "IssueUpdate": object(json!({
            "status": {"type": "string", "enum": ["resolved", "resolvedInNextRelease", "unresolved", "ignored", "muted"]},
            "statusDetails": object(json!({
                "inNextRelease": {"type": "boolean"},
                "ignoreDuration": {"type": "integer", "minimum": 1},
                "ignoreCount": {"type": "integer", "minimum": 1},
                "ignoreUserCount": {"type": "integer", "minimum": 1},
                "ignoreWindow": {"type": "integer"},
                "ignoreUserWindow": {"type": "integer"},
            }), &[]),
        }), &[]),
        "Event": object(json!({"id": id, "eventID": text, "groupID": text, "title": text, "dateCreated": time}), &["id", "eventID"]),
        "Release": object(json!({"version": text, "dateCreated": time, "dateReleased": {"type": "string", "format": "date-time", "nullable": true}}), &["version", "dateCreated"]),
        "Deploy": object(json!({"id": id, "environment": text, "name": {"type": "string", "nullable": true}, "dateFinished": time}), &["environment"]),
    })
}

/// The whole description, with the server at `public_url`.
pub fn description(public_url: &str) -> Value {
    let mut paths = Map::new();
    for (template, operations) in operations() {
        let mut item = Map::new();
        for operation in &operations {
            item.insert(operation.method.to_owned(), operation.to_json(&template));
        }
        paths.insert(template, Value::Object(item));
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "sentry-server web API",
            "version": "0",
            "description": "The part of Sentry's web API that tools use; see docs/api.md.",
        },
        "servers": [{"url": public_url}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas(),
        },
        "paths": paths,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_parameter_is_declared_and_every_operation_answers_errors() {
        let description = description("http://127.0.0.1:9000");
        let paths = description["paths"].as_object().unwrap();
        assert!(paths.len() > 30, "{}", paths.len());
        for (template, item) in paths {
            let names: Vec<&str> = template
                .split('/')
                .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
                .collect();
            for (method, operation) in item.as_object().unwrap() {
                let declared: Vec<&str> = operation["parameters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|parameter| parameter["in"] == "path")
                    .filter_map(|parameter| parameter["name"].as_str())
                    .collect();
                assert_eq!(declared, names, "{method} {template}");
                assert!(
                    operation["responses"]["404"].is_object(),
                    "{method} {template}"
                );
            }
        }
    }
}
