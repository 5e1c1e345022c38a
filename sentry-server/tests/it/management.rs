//! Organizations, teams, projects, DSN keys and API tokens through the
//! web API, and the rule that a token sees nothing of another organization.

use anyhow::Result;
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Init, TestServer};

async fn call(
    server: &TestServer,
    method: Method,
    token: &str,
    path: &str,
    body: Option<Value>,
) -> Result<(u16, Value)> {
    server.call(method, token, path, body).await
}

#[tokio::test]
async fn teams_projects_and_keys_are_managed() -> Result<()> {
    let server = TestServer::start()?;
    let init = server.init("first")?;
    let token = init.token.as_str();
    let org = init.org.as_str();

    let teams = format!("/api/0/organizations/{org}/teams/");
    let (status, team) = call(
        &server,
        Method::POST,
        token,
        &teams,
        Some(json!({"name": "Backend Team"})),
    )
    .await?;
    assert_eq!(status, 201, "{team}");
    assert_eq!(team["slug"], "backend-team");
    let (status, _) = call(
        &server,
        Method::POST,
        token,
        &teams,
        Some(json!({"slug": "backend-team"})),
    )
    .await?;
    assert_eq!(status, 409);
    let (status, _) = call(
        &server,
        Method::POST,
        token,
        &teams,
        Some(json!({"slug": "Not A Slug"})),
    )
    .await?;
    assert_eq!(status, 400);
    let (status, answer) = call(&server, Method::PATCH, token, &teams, None).await?;
    assert_eq!(status, 405);
    assert!(answer["detail"].is_string(), "{answer}");
    let nul = Some(json!({"name": "a\u{0}b"}));
    let (status, answer) = call(&server, Method::POST, token, &teams, nul).await?;
    assert_eq!(status, 400, "a NUL: {answer}");

    let team_projects = format!("/api/0/teams/{org}/backend-team/projects/");
    let new_project = json!({"name": "Payments API", "platform": "python"});
    let (status, project) = call(
        &server,
        Method::POST,
        token,
        &team_projects,
        Some(new_project.clone()),
    )
    .await?;
    assert_eq!(status, 201, "{project}");
    assert_eq!(project["slug"], "payments-api");
    assert_eq!(project["name"], "Payments API");
    assert_eq!(project["platform"], "python");
    assert_eq!(project["team"]["slug"], "backend-team");
    let (status, _) = call(
        &server,
        Method::POST,
        token,
        &team_projects,
        Some(new_project),
    )
    .await?;
    assert_eq!(status, 409);
    let (status, _) = call(
        &server,
        Method::POST,
        token,
        "/api/0/teams/first-missing/backend-team/projects/",
        Some(json!({"name": "x"})),
    )
    .await?;
    assert_eq!(status, 404);
    let (_, listed) = server.get(token, &team_projects).await?;
    assert_eq!(listed[0]["slug"], "payments-api");
    let (_, teams_listed) = server.get(token, &teams).await?;
    assert_eq!(teams_listed[0]["projects"][0]["slug"], "payments-api");

    // The organization's projects, a page at a time.
    let projects = server
        .all_pages(
            token,
            format!("{}/api/0/organizations/{org}/projects/?limit=1", server.url),
        )
        .await?;
    let slugs: Vec<&str> = projects.iter().filter_map(|p| p["slug"].as_str()).collect();
    assert_eq!(slugs, ["first", "payments-api"]);

    // Renamed, with a new slug; the old one is gone.
    let detail = format!("/api/0/projects/{org}/payments-api/");
    let (status, renamed) = call(
        &server,
        Method::PUT,
        token,
        &detail,
        Some(json!({"name": "Payments", "slug": "payments", "platform": null})),
    )
    .await?;
    assert_eq!(status, 200, "{renamed}");
    assert_eq!(
        (&renamed["slug"], &renamed["platform"]),
        (&json!("payments"), &Value::Null)
    );
    assert_eq!(server.get(token, &detail).await?.0, 404);
    let detail = format!("/api/0/projects/{org}/payments/");
    let (status, _) = call(
        &server,
        Method::PUT,
        token,
        &detail,
        Some(json!({"slug": "first"})),
    )
    .await?;
    assert_eq!(status, 409, "the slug of another project");

    // Keys: a project made through the API has none until one is made.
    let keys = format!("/api/0/projects/{org}/payments/keys/");
    assert_eq!(server.get(token, &keys).await?.1, json!([]));
    let (status, key) = call(
        &server,
        Method::POST,
        token,
        &keys,
        Some(json!({"name": "CI"})),
    )
    .await?;
    assert_eq!(status, 201, "{key}");
    assert_eq!(key["name"], "CI");
    let dsn = key["dsn"]["public"].as_str().unwrap_or_default().to_owned();
    assert!(
        dsn.starts_with("http://") && dsn.ends_with(&format!("/{}", key["projectId"])),
        "{dsn}"
    );
    let key_id = key["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(server.get(token, &format!("{keys}{key_id}/")).await?.0, 200);
    let other_keys = format!("/api/0/projects/{org}/{}/keys/", init.project);
    assert_eq!(
        server
            .get(token, &format!("{other_keys}{key_id}/"))
            .await?
            .0,
        404,
        "another project's key"
    );
    assert_eq!(
        server
            .get(token, &format!("{keys}00000000000000000000000000000000/"))
            .await?
            .0,
        404
    );
    assert_eq!(
        server.get(token, &format!("{keys}not-a-key/")).await?.0,
        404
    );

    // The key takes events.
    let payments = Init {
        project: "payments".to_owned(),
        project_id: key["projectId"].as_u64().unwrap_or_default(),
        dsn,
        ..init.clone()
    };
    server
        .send_event(&payments, &json!({"message": "paid"}))
        .await?;
    assert_eq!(server.all_issues(&payments).await?.len(), 1);

    // Deleted: gone with its issues, and its key no longer takes events.
    let (status, _) = call(&server, Method::DELETE, token, &detail, None).await?;
    assert_eq!(status, 204);
    assert_eq!(server.get(token, &detail).await?.0, 404);
    let store = format!("/api/{}/store/?sentry_key={key_id}", payments.project_id);
    let (status, _) = server
        .post(&store, &[], json!({"message": "late"}).to_string())
        .await?;
    assert!((400..500).contains(&status), "{status}");
    Ok(())
}

#[tokio::test]
async fn tokens_have_scopes_and_never_cross_organizations() -> Result<()> {
    let server = TestServer::start()?;
    let ours = server.init_in("ours", "app")?;
    let theirs = server.init_in("theirs", "app")?;
    server
        .send_event(&ours, &json!({"message": "private"}))
        .await?;
    let issue_id = server.all_issues(&ours).await?[0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (status, _) = call(
        &server,
        Method::POST,
        &ours.token,
        "/api/0/organizations/ours/releases/",
        Some(json!({"version": "1.0", "projects": ["app"]})),
    )
    .await?;
    assert_eq!(status, 201);
    let (status, _) = call(
        &server,
        Method::POST,
        &ours.token,
        "/api/0/organizations/ours/teams/",
        Some(json!({"slug": "core"})),
    )
    .await?;
    assert_eq!(status, 201);

    // A token with one scope.
    let (status, created) = call(
        &server,
        Method::POST,
        &ours.token,
        "/api/0/api-tokens/",
        Some(json!({"name": "reader", "scopes": ["event:read"]})),
    )
    .await?;
    assert_eq!(status, 201, "{created}");
    let reader = created["token"].as_str().unwrap_or_default().to_owned();
    assert!(
        reader.starts_with("sntryu_") && reader.len() == 71,
        "{reader}"
    );
    assert_eq!(
        server
            .get(&reader, "/api/0/projects/ours/app/issues/")
            .await?
            .0,
        200
    );
    assert_eq!(
        server
            .get(&reader, &format!("/api/0/issues/{issue_id}/"))
            .await?
            .0,
        200
    );
    for (method, path, body) in [
        (
            Method::PUT,
            format!("/api/0/issues/{issue_id}/"),
            Some(json!({"status": "resolved"})),
        ),
        (Method::DELETE, format!("/api/0/issues/{issue_id}/"), None),
        (
            Method::POST,
            "/api/0/organizations/ours/releases/".to_owned(),
            Some(json!({"version": "2.0", "projects": ["app"]})),
        ),
        (Method::GET, "/api/0/projects/ours/app/".to_owned(), None),
        (Method::GET, "/api/0/api-tokens/".to_owned(), None),
        (
            Method::POST,
            "/api/0/api-tokens/".to_owned(),
            Some(json!({"scopes": ["event:read"]})),
        ),
    ] {
        let (status, answer) = call(&server, method.clone(), &reader, &path, body).await?;
        assert_eq!(status, 403, "{method} {path}: {answer}");
        assert!(answer["detail"].is_string());
    }
    let (status, _) = call(
        &server,
        Method::POST,
        &ours.token,
        "/api/0/api-tokens/",
        Some(json!({"scopes": ["god:mode"]})),
    )
    .await?;
    assert_eq!(status, 400);
    let (_, listed) = server.get(&ours.token, "/api/0/api-tokens/").await?;
    assert_eq!(listed.as_array().map(Vec::len), Some(2));
    assert!(
        listed.to_string().find(&reader).is_none(),
        "token texts are never listed"
    );

    // Their token sees nothing of ours, whatever the path.
    let (_, orgs) = server.get(&theirs.token, "/api/0/organizations/").await?;
    assert_eq!(orgs.as_array().map(Vec::len), Some(1));
    assert_eq!(orgs[0]["slug"], "theirs");
    let (_, their_tokens) = server.get(&theirs.token, "/api/0/api-tokens/").await?;
    assert_eq!(their_tokens.as_array().map(Vec::len), Some(1));
    let (_, their_projects) = server.get(&theirs.token, "/api/0/projects/").await?;
    assert_eq!(their_projects.as_array().map(Vec::len), Some(1));
    for (method, path, body) in [
        (Method::GET, "/api/0/organizations/ours/".to_owned(), None),
        (
            Method::GET,
            "/api/0/organizations/ours/projects/".to_owned(),
            None,
        ),
        (
            Method::GET,
            "/api/0/organizations/ours/issues/".to_owned(),
            None,
        ),
        (
            Method::PUT,
            "/api/0/organizations/ours/issues/".to_owned(),
            Some(json!({"status": "resolved"})),
        ),
        (
            Method::DELETE,
            "/api/0/organizations/ours/issues/".to_owned(),
            None,
        ),
        (
            Method::GET,
            "/api/0/organizations/ours/releases/".to_owned(),
            None,
        ),
        (
            Method::GET,
            "/api/0/organizations/ours/releases/1.0/".to_owned(),
            None,
        ),
        (
            Method::DELETE,
            "/api/0/organizations/ours/releases/1.0/".to_owned(),
            None,
        ),
        (
            Method::POST,
            "/api/0/organizations/ours/releases/".to_owned(),
            Some(json!({"version": "x", "projects": ["app"]})),
        ),
        (
            Method::POST,
            "/api/0/organizations/ours/releases/1.0/deploys/".to_owned(),
            Some(json!({"environment": "prod"})),
        ),
        (
            Method::GET,
            "/api/0/organizations/ours/teams/".to_owned(),
            None,
        ),
        (
            Method::POST,
            "/api/0/teams/ours/core/projects/".to_owned(),
            Some(json!({"name": "stolen"})),
        ),
        (Method::GET, "/api/0/projects/ours/app/".to_owned(), None),
        (
            Method::PUT,
            "/api/0/projects/ours/app/".to_owned(),
            Some(json!({"name": "mine"})),
        ),
        (Method::DELETE, "/api/0/projects/ours/app/".to_owned(), None),
        (
            Method::GET,
            "/api/0/projects/ours/app/keys/".to_owned(),
            None,
        ),
        (
            Method::GET,
            "/api/0/projects/ours/app/issues/".to_owned(),
            None,
        ),
        (
            Method::PUT,
            "/api/0/projects/ours/app/issues/".to_owned(),
            Some(json!({"status": "resolved"})),
        ),
        (
            Method::GET,
            "/api/0/projects/ours/app/releases/".to_owned(),
            None,
        ),
        (Method::GET, format!("/api/0/issues/{issue_id}/"), None),
        (Method::DELETE, format!("/api/0/issues/{issue_id}/"), None),
        (
            Method::GET,
            format!("/api/0/issues/{issue_id}/events/latest/"),
            None,
        ),
        (
            Method::GET,
            format!("/api/0/organizations/theirs/issues/{issue_id}/"),
            None,
        ),
        (Method::GET, format!("/api/0/issues/{issue_id}/tags/"), None),
    ] {
        let (status, answer) = call(&server, method.clone(), &theirs.token, &path, body).await?;
        assert_eq!(status, 404, "{method} {path}: {answer}");
    }
    // Bulk changes across organizations by id leave ours alone.
    let (status, _) = call(
        &server,
        Method::PUT,
        &theirs.token,
        &format!("/api/0/projects/theirs/app/issues/?id={issue_id}"),
        Some(json!({"status": "resolved"})),
    )
    .await?;
    assert_eq!(status, 204);
    let (_, issue) = server
        .get(&ours.token, &format!("/api/0/issues/{issue_id}/"))
        .await?;
    assert_eq!(issue["status"], "unresolved");
    assert_eq!(
        server
            .get(&ours.token, "/api/0/organizations/ours/releases/1.0/")
            .await?
            .0,
        200
    );
    Ok(())
}
